//! From a request and its error-log lines to a cause of ../shared/DIAGNOSIS.md
//! §1, per server: nginx error messages, Apache AH codes with their APR errno,
//! HAProxy termination states. Where a log cannot tell two causes apart (HAProxy
//! writes `SH--` for a FIN and an RST alike) the verdict names both.

use super::access::{AccessEntry, Origin};
use super::error_log::ErrorEntry;
use super::lines::LogKind;

/// The cause of one request, and the causes the log cannot rule out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// DIAGNOSIS.md §1 id, `ok`, or `client_error` for a plain 4xx.
    pub cause: &'static str,
    /// Causes that leave the same trace in this log.
    pub also: &'static [&'static str],
}

impl Verdict {
    const fn sure(cause: &'static str) -> Self {
        Verdict { cause, also: &[] }
    }
}

/// nginx error messages and the cause each names, first match wins. Order
/// matters: a TLS handshake that timed out is a TLS failure, not a timeout.
const NGINX_RULES: &[(&[&str], &str)] = &[
    (&["limiting requests"], "rate_limited"),
    (&["limiting connections"], "rate_limited"),
    (&["could not be resolved"], "dns_failure"),
    (&["no resolver defined"], "dns_failure"),
    (&["no live upstreams"], "no_live_upstreams"),
    (&["while SSL handshaking"], "upstream_tls_failure"),
    (&["SSL_do_handshake()"], "upstream_tls_failure"),
    (&["upstream SSL certificate"], "upstream_tls_failure"),
    (
        &["(2: No such file or directory) while connecting"],
        "upstream_socket_missing",
    ),
    (
        &["(13: Permission denied) while connecting"],
        "upstream_socket_permission",
    ),
    (
        &["(11: Resource temporarily unavailable) while connecting"],
        "upstream_overloaded",
    ),
    (
        &["upstream timed out", "while connecting to upstream"],
        "upstream_connect_timeout",
    ),
    (&["(113: No route to host)"], "upstream_connect_timeout"),
    (
        &["(101: Network is unreachable)"],
        "upstream_connect_timeout",
    ),
    (
        &["upstream timed out", "while reading response header"],
        "upstream_timeout",
    ),
    (
        &["upstream timed out", "while sending request"],
        "upstream_timeout",
    ),
    (
        &["upstream timed out", "while reading upstream"],
        "upstream_body_timeout",
    ),
    (
        &["prematurely closed", "while reading response header"],
        "upstream_closed_early",
    ),
    (
        &["upstream prematurely closed FastCGI stdout"],
        "upstream_closed_early",
    ),
    (
        &["prematurely closed", "while reading upstream"],
        "upstream_truncated_body",
    ),
    (
        &["(104: Connection reset by peer)", "while reading upstream"],
        "upstream_truncated_body",
    ),
    (
        &[
            "(104: Connection reset by peer)",
            "while reading response header",
        ],
        "upstream_reset",
    ),
    (&["too big header"], "header_too_large"),
    (&["sent no valid HTTP"], "invalid_upstream_response"),
    (&["sent invalid"], "invalid_upstream_response"),
    (&["sent duplicate header"], "invalid_upstream_response"),
    (&["upstream sent more data"], "invalid_upstream_response"),
    (
        &["\"Content-Length\" and \"Transfer-Encoding\""],
        "invalid_upstream_response",
    ),
    (&["Primary script unknown"], "app_not_found"),
    (&["(111: Connection refused)"], "upstream_refused"),
    (&["FastCGI sent in stderr"], "app_error"),
];

/// Apache AH codes (with the APR errno where it decides), first match wins.
const APACHE_RULES: &[(&[&str], &str)] = &[
    (&["AH02039"], "upstream_tls_failure"),
    (&["SSL Handshake"], "upstream_tls_failure"),
    (&["AH10124"], "header_too_large"),
    (&["AH10404"], "invalid_upstream_response"),
    (&["AH01106"], "invalid_upstream_response"),
    (&["Corrupt status line"], "invalid_upstream_response"),
    (&["AH01071", "Primary script unknown"], "app_not_found"),
    (&["AH01071"], "app_error"),
    (&["AH01075", "(70007)"], "upstream_timeout"),
    (&["AH01075", "(104)"], "upstream_reset"),
    (&["AH01067"], "upstream_reset"),
    (&["AH01075"], "upstream_closed_early"),
    (&["AH01110", "(70007)"], "upstream_body_timeout"),
    (&["AH01110"], "upstream_truncated_body"),
    (&["AH01102", "(70007)"], "upstream_timeout"),
    (&["AH01102", "(104)"], "upstream_reset"),
    (&["AH01102"], "upstream_closed_early"),
    (&["AH01097", "(70007)"], "upstream_timeout"),
    (&["AH00940"], "no_live_upstreams"),
    (&["AH00959"], "no_live_upstreams"),
    (&["(2)No such file or directory"], "upstream_socket_missing"),
    (&["(13)Permission denied"], "upstream_socket_permission"),
    (
        &["(11)Resource temporarily unavailable"],
        "upstream_overloaded",
    ),
    (&["AH00957", "(70007)"], "upstream_connect_timeout"),
    (&["(113)"], "upstream_connect_timeout"),
    (&["(101)"], "upstream_connect_timeout"),
    (&["AH00957"], "upstream_refused"),
    (&["AH02454"], "upstream_refused"),
    (&["AH01114"], "upstream_refused"),
];

fn first_rule(rules: &[(&[&str], &'static str)], messages: &[&str]) -> Option<&'static str> {
    rules
        .iter()
        .find(|(needles, _)| {
            needles
                .iter()
                .all(|n| messages.iter().any(|m| m.contains(n)))
        })
        .map(|(_, cause)| *cause)
}

/// Connect failures that a retry on another server can hide.
fn is_connect_failure(cause: &str) -> bool {
    matches!(
        cause,
        "upstream_refused"
            | "upstream_connect_timeout"
            | "upstream_socket_missing"
            | "upstream_socket_permission"
            | "upstream_overloaded"
            | "no_live_upstreams"
    )
}

/// Without any error-log line: a 5xx the proxy passed on is the application's.
fn plain(status: u16) -> Verdict {
    match status {
        499 => Verdict::sure("client_aborted"),
        429 => Verdict::sure("rate_limited"),
        500..=599 => Verdict::sure("app_error"),
        400..=499 => Verdict::sure("client_error"),
        _ => Verdict::sure("ok"),
    }
}

/// The cause of one request from its status and error-log lines.
pub fn classify(a: &AccessEntry, errors: &[ErrorEntry]) -> Verdict {
    if a.origin == Origin::Haproxy {
        return haproxy(a);
    }
    let status = a.status;
    if status == 499 {
        return Verdict::sure("client_aborted");
    }
    let server = errors
        .iter()
        .map(|e| e.kind)
        .find(|k| matches!(k, LogKind::NginxError | LogKind::ApacheError));
    let messages: Vec<&str> = errors
        .iter()
        .filter(|e| e.kind == server.unwrap_or(e.kind))
        .map(|e| e.message.as_str())
        .collect();
    let (rules, apache) = match server {
        Some(LogKind::ApacheError) => (APACHE_RULES, true),
        Some(_) => (NGINX_RULES, false),
        None => return plain(status),
    };
    match first_rule(rules, &messages) {
        // A server that failed and another that answered: the client got an answer.
        Some(c) if is_connect_failure(c) && status < 400 => Verdict::sure("retried_ok"),
        // Apache logs no 499: a client that left is logged when Apache's own timeout ends.
        Some("upstream_timeout") if apache => Verdict {
            cause: "upstream_timeout",
            also: &["client_aborted"],
        },
        Some(c) => Verdict::sure(c),
        None => plain(status),
    }
}

/// A HAProxy request from its termination state, server and retries fields.
fn haproxy(a: &AccessEntry) -> Verdict {
    let state = a.termination.as_deref().unwrap_or("----").as_bytes();
    let (who, phase) = (state[0], state.get(1).copied().unwrap_or(b'-'));
    let nosrv = a
        .upstream_addr
        .as_deref()
        .is_some_and(|s| s.ends_with("<NOSRV>"));
    let bc_err = a.backend_error.as_deref();
    match (who, phase) {
        (b'C' | b'c', _) => Verdict::sure("client_aborted"),
        (b'S', b'C') if nosrv => Verdict::sure("no_live_upstreams"),
        (b'S', b'C') => match bc_err {
            Some(e) if e.contains("SSL") || e.contains("TLS") => {
                Verdict::sure("upstream_tls_failure")
            }
            Some(_) => Verdict::sure("upstream_refused"),
            None => Verdict {
                cause: "upstream_refused",
                also: &["upstream_tls_failure"],
            },
        },
        (b's', b'C') => Verdict::sure("upstream_connect_timeout"),
        (b'S', b'H') => Verdict {
            cause: "upstream_closed_early",
            also: &["upstream_reset"],
        },
        (b's', b'H') => Verdict {
            cause: "upstream_timeout",
            also: &["client_aborted"],
        },
        (b'P', b'H') => Verdict {
            cause: "invalid_upstream_response",
            also: &["header_too_large"],
        },
        (b'S', b'D' | b'L') => Verdict::sure("upstream_truncated_body"),
        (b's', b'D' | b'L') => Verdict::sure("upstream_body_timeout"),
        (b's' | b'S', b'Q') | (b'R' | b'P', b'C' | b'Q') => Verdict::sure("upstream_overloaded"),
        (b'P' | b'R', b'R' | b'T') if a.status == 429 || a.status == 503 => {
            Verdict::sure("rate_limited")
        }
        (b'D' | b'K' | b'U', _) => Verdict::sure("upstream_closed_early"),
        (b'L', _) => Verdict::sure("ok"),
        _ => {
            let redispatched = a.retries.as_deref().is_some_and(|r| r.starts_with('+'));
            let retried = a
                .retries
                .as_deref()
                .and_then(|r| r.trim_start_matches('+').parse::<u32>().ok())
                .is_some_and(|n| n > 0);
            if (redispatched || retried) && a.status < 400 {
                Verdict::sure("retried_ok")
            } else {
                plain(a.status)
            }
        }
    }
}

/// What a client (a siteaudit crawl) saw of the same request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSaw {
    /// An answer the client accepted, with this status.
    Status(u16),
    /// The client gave up waiting.
    Timeout,
    /// The answer was not valid HTTP.
    InvalidResponse,
    /// The body ended early or the connection was reset.
    Cut,
}

/// Refines a verdict with what the client saw: the client's view settles
/// causes the server's log cannot (a departed client, an invalid answer the
/// proxy passed on as 200).
pub fn refine(v: Verdict, status: u16, client: ClientSaw) -> Verdict {
    match client {
        ClientSaw::Timeout
            if v.cause == "upstream_timeout" || v.also.contains(&"client_aborted") =>
        {
            Verdict::sure("client_aborted")
        }
        ClientSaw::InvalidResponse if v.cause == "ok" => Verdict::sure("invalid_upstream_response"),
        ClientSaw::Cut if v.cause == "ok" && status < 400 => {
            Verdict::sure("upstream_truncated_body")
        }
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hap(state: &str, server: &str, retries: &str, status: u16) -> AccessEntry {
        AccessEntry {
            status,
            termination: Some(state.into()),
            upstream_addr: Some(server.into()),
            retries: Some(retries.into()),
            origin: Origin::Haproxy,
            ..AccessEntry::default()
        }
    }

    #[test]
    fn haproxy_states() {
        let c = |s, srv, r, st| classify(&hap(s, srv, r, st), &[]);
        assert_eq!(c("SC--", "be/<NOSRV>", "0", 503).cause, "no_live_upstreams");
        assert_eq!(
            c("SC--", "be/app", "3", 503).also,
            &["upstream_tls_failure"]
        );
        assert_eq!(
            c("sQ--", "be/<NOSRV>", "0", 503).cause,
            "upstream_overloaded"
        );
        assert_eq!(c("----", "be/s2", "+1", 200).cause, "retried_ok");
        assert_eq!(c("----", "be/s2", "0", 502).cause, "app_error");
        assert_eq!(c("CD--", "be/s2", "0", 200).cause, "client_aborted");
        let mut tls = hap("SC--", "be/app", "3", 503);
        tls.backend_error = Some("SSL handshake failure".into());
        assert_eq!(classify(&tls, &[]), Verdict::sure("upstream_tls_failure"));
    }

    #[test]
    fn client_view_settles() {
        let timeout = Verdict {
            cause: "upstream_timeout",
            also: &["client_aborted"],
        };
        assert_eq!(
            refine(timeout, 504, ClientSaw::Timeout).cause,
            "client_aborted"
        );
        assert_eq!(refine(timeout, 504, ClientSaw::Status(504)), timeout);
        assert_eq!(
            refine(Verdict::sure("ok"), 200, ClientSaw::InvalidResponse).cause,
            "invalid_upstream_response"
        );
        assert_eq!(
            refine(Verdict::sure("ok"), 200, ClientSaw::Cut).cause,
            "upstream_truncated_body"
        );
    }
}
