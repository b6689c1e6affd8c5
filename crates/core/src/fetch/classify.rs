//! Turns a client error into a [`FailureKind`] by walking its `source()` chain and
//! downcasting, never by matching message text.

use std::error::Error as StdError;
use std::io;

use crate::model::FailureKind;

/// Classifies an error of the HTTP client.
pub fn classify(err: &reqwest::Error) -> FailureKind {
    if err.is_timeout() {
        return if err.is_connect() {
            FailureKind::ConnectTimeout
        } else {
            FailureKind::ReadTimeout
        };
    }
    if err.is_dns() {
        return FailureKind::Dns {
            reason: innermost(err),
        };
    }
    let mut source: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(e) = source {
        if let Some(kind) = classify_one(e) {
            return kind;
        }
        source = e.source();
    }
    if err.is_connect() {
        return FailureKind::ConnectRefused;
    }
    FailureKind::InvalidResponse {
        reason: innermost(err),
    }
}

/// Classifies an I/O error raised while reading a body (it may wrap a client error).
pub(crate) fn classify_io(err: &io::Error) -> FailureKind {
    if let Some(inner) = err.get_ref()
        && let Some(re) = inner.downcast_ref::<reqwest::Error>()
    {
        return classify(re);
    }
    if let Some(kind) = classify_one(err) {
        return kind;
    }
    match err.kind() {
        // Decoders report a corrupt stream as invalid data.
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other => {
            FailureKind::Decode {
                reason: err.to_string(),
            }
        }
        _ => FailureKind::ConnectionReset,
    }
}

fn classify_one(e: &(dyn StdError + 'static)) -> Option<FailureKind> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(FailureKind::Tls {
            reason: tls.to_string(),
        });
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_timeout() {
            return Some(FailureKind::ReadTimeout);
        }
        if h.is_parse() || h.is_parse_status() {
            return Some(FailureKind::InvalidResponse {
                reason: h.to_string(),
            });
        }
        if h.is_incomplete_message() {
            return Some(FailureKind::ConnectionReset);
        }
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        // An io::Error's source() skips the error it wraps, and TLS failures arrive
        // wrapped twice (Other around InvalidData around rustls::Error): descend.
        if let Some(inner) = io.get_ref()
            && let Some(kind) = classify_one(inner)
        {
            return Some(kind);
        }
        return match io.kind() {
            io::ErrorKind::ConnectionRefused => Some(FailureKind::ConnectRefused),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Some(FailureKind::ConnectionReset),
            io::ErrorKind::TimedOut => Some(FailureKind::ReadTimeout),
            _ => None,
        };
    }
    None
}

fn innermost(err: &reqwest::Error) -> String {
    let mut last: &(dyn StdError + 'static) = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handshake failures must not pass for "connection refused" (they did, when
    /// the rustls error sat two io::Errors deep).
    #[tokio::test]
    async fn handshake_failures_are_tls() {
        use siteaudit_testkit::tls::{TlsServer, self_signed};
        let client = reqwest::Client::builder().build().unwrap();
        let old = TlsServer::start(
            &self_signed(&["localhost"], -1, 30),
            &[],
            &["-tls1", "-cipher", "ALL:@SECLEVEL=0"],
        );
        let e = client
            .get(old.url("127.0.0.1", "/"))
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(classify(&e), FailureKind::Tls { ref reason } if reason.contains("ProtocolVersion")),
            "{:?}",
            classify(&e)
        );
        let untrusted = TlsServer::start(&self_signed(&["localhost"], -1, 30), &[], &[]);
        let e = client
            .get(untrusted.url("localhost", "/"))
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(classify(&e), FailureKind::Tls { ref reason } if reason.contains("certificate")),
            "{:?}",
            classify(&e)
        );
    }

    #[test]
    fn io_errors_map_to_kinds() {
        let e = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify_io(&e), FailureKind::ConnectionReset);
        let e = io::Error::new(io::ErrorKind::InvalidData, "corrupt deflate stream");
        assert!(matches!(classify_io(&e), FailureKind::Decode { .. }));
        let e = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_io(&e), FailureKind::ConnectRefused);
    }
}
