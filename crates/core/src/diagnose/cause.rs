//! The probable cause of a failing URL from what the crawl saw: the failure
//! kind, the status, who made the error page (the fingerprint), the timing
//! and whether re-probes kept failing. Categories and fixes are those of
//! ../shared/DIAGNOSIS.md §1, mapped to the causes site owners know.

use serde::Serialize;

use super::{Fingerprint, Generated};
use crate::model::FailureKind;

/// A probable cause, with why we think so and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// DIAGNOSIS.md §1 id (`upstream_refused`, `upstream_timeout`, `app_error`, …).
    pub cause: &'static str,
    /// The cause in everyday words: server down, overload, network error, software
    /// error, proxy problem (or rate limiting).
    pub article_cause: &'static str,
    /// `high` when the response names it, `medium` when the evidence points to it,
    /// `low` when several causes fit (the server's logs decide: `siteaudit logs`).
    pub confidence: &'static str,
    /// The evidence, in words.
    pub because: Vec<String>,
    /// What to do.
    pub fix: &'static str,
}

/// `(id, article cause, fix)` for every category used here.
const CAUSES: &[(&str, &str, &str)] = &[
    (
        "upstream_refused",
        "server down",
        "Start or restart the backend; check the address and port the proxy uses and firewall REJECT rules.",
    ),
    (
        "upstream_connect_timeout",
        "network error",
        "The host is down or unreachable, or its accept queue is full: check routes, security groups, firewalls and the listen backlog.",
    ),
    (
        "upstream_overloaded",
        "overload",
        "Add capacity (workers, pm.max_children), raise the backlog, and find the slow requests holding workers.",
    ),
    (
        "upstream_timeout",
        "overload",
        "Find the slow endpoint (database, external calls); raise the proxy's read timeout only for requests that are legitimately long.",
    ),
    (
        "upstream_closed_early",
        "software error",
        "Look for crashes, OOM kills and worker recycling; make the backend's keep-alive timeout longer than the proxy's.",
    ),
    (
        "upstream_reset",
        "software error",
        "Look for crashes, OOM kills and killed workers (request_terminate_timeout) in the backend's logs.",
    ),
    (
        "invalid_upstream_response",
        "software error",
        "The backend answered something that is not valid HTTP: wrong protocol on the port, a broken app server, or a proxy pointing at the wrong service.",
    ),
    (
        "no_live_upstreams",
        "server down",
        "Every backend is failing its health checks: fix them; the group recovers once they pass.",
    ),
    (
        "dns_failure",
        "network error",
        "Fix the DNS record, or the resolver configured where the name is looked up.",
    ),
    (
        "upstream_tls_failure",
        "proxy problem",
        "Match http:// and https:// between proxy and backend; check the certificate chain, SNI and expiry.",
    ),
    (
        "app_error",
        "software error",
        "The application itself answered 5xx: read its logs at that time (exceptions, fatal errors, out of memory).",
    ),
    (
        "upstream_truncated_body",
        "software error",
        "The access log says 2xx but the body was cut: find the crash or reset mid-stream in the backend's log.",
    ),
    (
        "upstream_body_timeout",
        "overload",
        "The backend started answering, then stalled past the read timeout: find the slow producer.",
    ),
    (
        "upstream_socket_missing",
        "server down",
        "The backend's unix socket does not exist: start the backend, or point the proxy at the right path.",
    ),
    (
        "upstream_socket_permission",
        "proxy problem",
        "The proxy may not open the backend's unix socket: fix its owner, group and mode (listen.owner / listen.mode for php-fpm).",
    ),
    (
        "header_too_large",
        "proxy problem",
        "Raise the proxy's response-header buffer (proxy_buffer_size / fastcgi_buffer_size, ResponseFieldSize, tune.bufsize) or shrink cookies.",
    ),
    (
        "app_not_found",
        "proxy problem",
        "php-fpm cannot find the script: root / SCRIPT_FILENAME do not match the files.",
    ),
    (
        "client_aborted",
        "none",
        "The client went away before the answer (often its own timeout); not a server fault.",
    ),
    (
        "retried_ok",
        "overload",
        "A failure was hidden by a retry on another server: fix the failing server named in the log.",
    ),
    (
        "rate_limited",
        "overload",
        "The site limits request rates: crawl slower (--rate, --per-host) and honour Retry-After, or raise the limit for the crawler.",
    ),
];

/// The everyday name and the fix of a DIAGNOSIS.md cause id, when it is one.
pub fn explain(cause: &str) -> Option<(&'static str, &'static str)> {
    CAUSES
        .iter()
        .find(|(id, _, _)| *id == cause)
        .map(|(_, article, fix)| (*article, *fix))
}

fn entry(cause: &'static str) -> (&'static str, &'static str, &'static str) {
    CAUSES
        .iter()
        .find(|(id, _, _)| *id == cause)
        .copied()
        .unwrap_or((
            cause,
            "software error",
            "Read the server's error log at that time (siteaudit logs) to confirm the cause.",
        ))
}

/// Common proxy read timeouts in seconds (nginx, ALB 60; Cloudflare 100/120; 30 elsewhere).
const ROUND_TIMEOUTS: &[f64] = &[10.0, 15.0, 20.0, 30.0, 60.0, 90.0, 100.0, 120.0];

/// What the crawl saw of one failing URL.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The final status, if it answered.
    pub status: Option<u16>,
    /// The failure, if there was no usable answer.
    pub failure: Option<&'a FailureKind>,
    /// Who answered the 5xx.
    pub fingerprint: Option<&'a Fingerprint>,
    /// Total time of the final attempt, ms.
    pub total_ms: Option<f64>,
    /// The re-probe verdict (`persistent`, `intermittent`, `recovered`).
    pub persistence: Option<&'a str>,
    /// Whether a `Retry-After` header came with it.
    pub retry_after: bool,
}

/// The probable cause, or `None` when the URL did not fail in a way this covers.
pub fn diagnose(e: &Evidence<'_>) -> Option<Diagnosis> {
    let mut because = Vec::new();
    let (cause, confidence) = if let Some(f) = e.failure.filter(|_| e.status.is_none()) {
        because.push(format!("no HTTP answer: {}", f.describe()));
        match f {
            FailureKind::ConnectRefused => ("upstream_refused", "high"),
            FailureKind::ConnectTimeout => ("upstream_connect_timeout", "medium"),
            FailureKind::ReadTimeout => ("upstream_timeout", "medium"),
            FailureKind::ConnectionReset => ("upstream_reset", "medium"),
            FailureKind::InvalidResponse { .. } => ("invalid_upstream_response", "high"),
            FailureKind::Dns { .. } => ("dns_failure", "high"),
            FailureKind::Tls { .. } => ("upstream_tls_failure", "high"),
            _ => return None,
        }
    } else {
        let status = e.status?;
        if status == 429 {
            because.push("429 Too Many Requests".into());
            ("rate_limited", "high")
        } else if status < 500 {
            return None;
        } else if let Some(fp) = e.fingerprint {
            match (fp.generated, fp.generated_by, fp.cause) {
                (Generated::Gateway, Some(layer), Some(cause)) => {
                    because.push(format!(
                        "{} made the error page, and the page names the cause ({})",
                        layer.name(),
                        fp.evidence.join("; ")
                    ));
                    (cause, "high")
                }
                (Generated::Gateway, Some(layer), None) => {
                    because.push(format!(
                        "{} made the {status} itself: the upstream behind it did not answer properly",
                        layer.name()
                    ));
                    match status {
                        504 => ("upstream_timeout", "medium"),
                        503 if e.retry_after => ("upstream_overloaded", "medium"),
                        503 => ("no_live_upstreams", "low"),
                        _ => {
                            because.push(
                                "a gateway 502 is one of: upstream refused, closed early, or invalid answer; the server's error log tells which (siteaudit logs)".into(),
                            );
                            ("upstream_refused", "low")
                        }
                    }
                }
                (Generated::Origin, _, _) => {
                    because.push("the application's own error page, passed on by the proxy".into());
                    ("app_error", "medium")
                }
                _ => status_only(status, e.retry_after, &mut because),
            }
        } else {
            status_only(status, e.retry_after, &mut because)
        }
    };
    if let Some(ms) = e.total_ms
        && matches!(cause, "upstream_timeout" | "upstream_connect_timeout")
        && let Some(t) = ROUND_TIMEOUTS
            .iter()
            .find(|t| (ms / 1000.0 - **t).abs() < 0.5)
    {
        because.push(format!(
            "it took {:.1} s, right at a common {t:.0} s proxy timeout",
            ms / 1000.0
        ));
    }
    let (id, mut article, fix) = entry(cause);
    match e.persistence {
        Some("persistent") => because.push("every re-probe failed too: it is not a blip".into()),
        Some("intermittent") => {
            because.push(
                "some re-probes worked: intermittent (overload, or one bad server in a pool)"
                    .into(),
            );
            if article == "server down" {
                article = "overload";
            }
        }
        Some("recovered") => because.push("every re-probe worked: it was transient".into()),
        _ => {}
    }
    Some(Diagnosis {
        cause: id,
        article_cause: article,
        confidence,
        because,
        fix,
    })
}

fn status_only(
    status: u16,
    retry_after: bool,
    because: &mut Vec<String>,
) -> (&'static str, &'static str) {
    match status {
        503 if retry_after => {
            because.push("503 with Retry-After: overloaded or in maintenance".into());
            ("upstream_overloaded", "medium")
        }
        502 | 504 => {
            because.push(format!(
                "{status} without a recognisable gateway page: a proxy in front could not use the backend"
            ));
            if status == 504 {
                ("upstream_timeout", "low")
            } else {
                ("upstream_refused", "low")
            }
        }
        _ => {
            because.push(format!("the server answered {status} itself"));
            ("app_error", "medium")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fingerprint;
    use super::*;

    fn ev<'a>(
        status: Option<u16>,
        failure: Option<&'a FailureKind>,
        fp: Option<&'a Fingerprint>,
    ) -> Evidence<'a> {
        Evidence {
            status,
            failure,
            fingerprint: fp,
            total_ms: None,
            persistence: None,
            retry_after: false,
        }
    }

    #[test]
    fn failures_without_an_answer() {
        let d = diagnose(&ev(None, Some(&FailureKind::ConnectRefused), None)).unwrap();
        assert_eq!(
            (d.cause, d.article_cause, d.confidence),
            ("upstream_refused", "server down", "high")
        );
        let d = diagnose(&ev(None, Some(&FailureKind::ReadTimeout), None)).unwrap();
        assert_eq!(d.article_cause, "overload");
        assert!(diagnose(&ev(None, Some(&FailureKind::BlockedByRobots), None)).is_none());
        assert!(diagnose(&ev(Some(404), None, None)).is_none());
    }

    #[test]
    fn gateway_pages_and_timing() {
        let headers = vec![("server".to_string(), "nginx".to_string())];
        let fp = fingerprint(504, &headers, "<hr><center>nginx</center>");
        let mut e = ev(Some(504), None, Some(&fp));
        e.total_ms = Some(60_020.0);
        let d = diagnose(&e).unwrap();
        assert_eq!((d.cause, d.confidence), ("upstream_timeout", "high"));
        assert!(
            d.because.iter().any(|b| b.contains("60 s proxy timeout")),
            "{d:?}"
        );
        let fp = fingerprint(502, &headers, "<hr><center>nginx</center>");
        let d = diagnose(&ev(Some(502), None, Some(&fp))).unwrap();
        assert_eq!(d.confidence, "low");
        let fp = fingerprint(500, &headers, "Traceback (most recent call last)");
        let d = diagnose(&ev(Some(500), None, Some(&fp))).unwrap();
        assert_eq!((d.cause, d.article_cause), ("app_error", "software error"));
    }

    #[test]
    fn persistence_changes_the_story() {
        let mut e = ev(None, Some(&FailureKind::ConnectRefused), None);
        e.persistence = Some("intermittent");
        let d = diagnose(&e).unwrap();
        assert_eq!(d.article_cause, "overload");
        e.persistence = Some("persistent");
        assert_eq!(diagnose(&e).unwrap().article_cause, "server down");
    }
}
