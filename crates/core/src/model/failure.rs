//! Why a URL could not be fetched, classified precisely.

use serde::{Deserialize, Serialize};

/// A classified failure. Never a bare string: each kind has a stable id
/// ([`FailureKind::id`]) used in reports, JSON and the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The host name could not be resolved.
    Dns {
        /// The resolver's message.
        reason: String,
    },
    /// Nothing listens on the port (TCP RST on connect).
    ConnectRefused,
    /// The TCP connection could not be made in time.
    ConnectTimeout,
    /// The TLS handshake failed (certificate, protocol, ...).
    Tls {
        /// What rustls reported.
        reason: String,
    },
    /// Connected, but the server did not answer (or stopped sending) in time.
    ReadTimeout,
    /// The server closed or reset the connection before the response was complete.
    ConnectionReset,
    /// The server answered with something that is not valid HTTP.
    InvalidResponse {
        /// What the HTTP parser rejected.
        reason: String,
    },
    /// The redirect chain is longer than the configured hop limit.
    TooManyRedirects {
        /// How many hops were followed.
        hops: u32,
    },
    /// The redirect chain comes back to a URL it already visited.
    RedirectLoop,
    /// The body (on the wire or decompressed) exceeded the configured cap.
    BodyTooLarge {
        /// The cap in bytes that was exceeded.
        limit: u64,
    },
    /// The body could not be decoded (bad gzip/brotli/zstd stream).
    Decode {
        /// What the decoder reported.
        reason: String,
    },
    /// robots.txt disallows this URL for our user agent; it was not fetched.
    BlockedByRobots,
    /// The URL is outside the crawl's scope.
    OutOfScope,
    /// The URL could not be parsed or is not http(s).
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
}

impl FailureKind {
    /// Whether a server or network fault: re-probed after the crawl to tell a down
    /// server from an intermittent one (timeouts, refused or reset connections,
    /// invalid answers).
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            Self::ConnectRefused
                | Self::ConnectTimeout
                | Self::ReadTimeout
                | Self::ConnectionReset
                | Self::InvalidResponse { .. }
        )
    }

    /// The stable id of this kind, as used in every output format.
    pub fn id(&self) -> &'static str {
        match self {
            Self::Dns { .. } => "dns",
            Self::ConnectRefused => "connect-refused",
            Self::ConnectTimeout => "connect-timeout",
            Self::Tls { .. } => "tls",
            Self::ReadTimeout => "read-timeout",
            Self::ConnectionReset => "connection-reset",
            Self::InvalidResponse { .. } => "invalid-response",
            Self::TooManyRedirects { .. } => "too-many-redirects",
            Self::RedirectLoop => "redirect-loop",
            Self::BodyTooLarge { .. } => "body-too-large",
            Self::Decode { .. } => "decode",
            Self::BlockedByRobots => "blocked-by-robots",
            Self::OutOfScope => "out-of-scope",
            Self::InvalidUrl { .. } => "invalid-url",
        }
    }

    /// A one-line human description, with the detail the kind carries.
    pub fn describe(&self) -> String {
        match self {
            Self::Dns { reason } => format!("DNS lookup failed: {reason}"),
            Self::ConnectRefused => "connection refused (nothing listens on that port)".into(),
            Self::ConnectTimeout => "connect timed out".into(),
            Self::Tls { reason } => format!("TLS handshake failed: {reason}"),
            Self::ReadTimeout => "timed out waiting for the server to answer".into(),
            Self::ConnectionReset => "connection reset or closed before the response ended".into(),
            Self::InvalidResponse { reason } => format!("invalid HTTP response: {reason}"),
            Self::TooManyRedirects { hops } => format!("too many redirects ({hops} hops)"),
            Self::RedirectLoop => "redirect loop".into(),
            Self::BodyTooLarge { limit } => format!("body larger than the {limit}-byte cap"),
            Self::Decode { reason } => format!("body could not be decoded: {reason}"),
            Self::BlockedByRobots => "disallowed by robots.txt (not fetched)".into(),
            Self::OutOfScope => "out of the crawl's scope".into(),
            Self::InvalidUrl { reason } => format!("invalid URL: {reason}"),
        }
    }

    /// The detail string of kinds that carry one (for the store's detail column).
    pub fn detail(&self) -> Option<String> {
        match self {
            Self::Dns { reason }
            | Self::Tls { reason }
            | Self::InvalidResponse { reason }
            | Self::Decode { reason }
            | Self::InvalidUrl { reason } => Some(reason.clone()),
            Self::TooManyRedirects { hops } => Some(hops.to_string()),
            Self::BodyTooLarge { limit } => Some(limit.to_string()),
            _ => None,
        }
    }

    /// Rebuilds a kind from its id and detail, as stored. Unknown ids give `None`.
    pub fn from_parts(id: &str, detail: Option<&str>) -> Option<Self> {
        let text = || detail.unwrap_or_default().to_string();
        let num = || detail.and_then(|d| d.parse().ok()).unwrap_or(0);
        Some(match id {
            "dns" => Self::Dns { reason: text() },
            "connect-refused" => Self::ConnectRefused,
            "connect-timeout" => Self::ConnectTimeout,
            "tls" => Self::Tls { reason: text() },
            "read-timeout" => Self::ReadTimeout,
            "connection-reset" => Self::ConnectionReset,
            "invalid-response" => Self::InvalidResponse { reason: text() },
            "too-many-redirects" => Self::TooManyRedirects { hops: num() as u32 },
            "redirect-loop" => Self::RedirectLoop,
            "body-too-large" => Self::BodyTooLarge { limit: num() },
            "decode" => Self::Decode { reason: text() },
            "blocked-by-robots" => Self::BlockedByRobots,
            "out-of-scope" => Self::OutOfScope,
            "invalid-url" => Self::InvalidUrl { reason: text() },
            _ => return None,
        })
    }

    /// Whether a retry may give a different answer (network trouble, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::ConnectRefused
                | Self::ConnectTimeout
                | Self::ReadTimeout
                | Self::ConnectionReset
                | Self::Dns { .. }
        )
    }

    /// Whether this is a real fetch failure (as opposed to a URL we chose not to fetch).
    pub fn is_error(&self) -> bool {
        !matches!(self, Self::BlockedByRobots | Self::OutOfScope)
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_parts() {
        let all = [
            FailureKind::Dns {
                reason: "nx".into(),
            },
            FailureKind::ConnectRefused,
            FailureKind::ConnectTimeout,
            FailureKind::Tls {
                reason: "bad cert".into(),
            },
            FailureKind::ReadTimeout,
            FailureKind::ConnectionReset,
            FailureKind::InvalidResponse { reason: "x".into() },
            FailureKind::TooManyRedirects { hops: 11 },
            FailureKind::RedirectLoop,
            FailureKind::BodyTooLarge { limit: 10 },
            FailureKind::Decode {
                reason: "gzip".into(),
            },
            FailureKind::BlockedByRobots,
            FailureKind::OutOfScope,
            FailureKind::InvalidUrl {
                reason: "no host".into(),
            },
        ];
        for kind in all {
            let back = FailureKind::from_parts(kind.id(), kind.detail().as_deref());
            assert_eq!(back.as_ref(), Some(&kind), "{}", kind.id());
        }
        assert_eq!(FailureKind::from_parts("nope", None), None);
    }
}
