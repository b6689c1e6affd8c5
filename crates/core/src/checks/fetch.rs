//! Category 1: failures below the HTTP status line, on internal URLs.

use super::{Check, Evidence, PageView};
use crate::model::FailureKind;

/// Fires with the page's evidence when `pred` holds for an internal URL.
fn when(p: &PageView<'_>, pred: bool) -> Evidence {
    (pred && p.internal()).then(|| (None, p.evidence()))
}

fn failure<'a>(p: &PageView<'a>) -> Option<&'a FailureKind> {
    p.record.failure()
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "dns-lookup-failed",
            1,
            Error,
            "The host name could not be resolved",
            "Nothing on this host can be reached while its name does not resolve.",
            "Check the DNS records of the host (A/AAAA), or fix the links that point to a mistyped host.",
            |p| when(p, matches!(failure(p), Some(FailureKind::Dns { .. }))),
        ),
        page_check!(
            "connect-refused",
            1,
            Error,
            "The server refused the connection",
            "Nothing listens on the port: the site or service is down for every visitor.",
            "Start the web server (or fix the port in the links); check firewalls and load balancer health.",
            |p| when(p, matches!(failure(p), Some(FailureKind::ConnectRefused))),
        ),
        page_check!(
            "connect-timeout",
            1,
            Error,
            "The connection could not be made in time",
            "The host does not answer at the TCP level: overloaded, firewalled or unreachable.",
            "Check the server's reachability, firewall rules and capacity.",
            |p| when(p, matches!(failure(p), Some(FailureKind::ConnectTimeout))),
        ),
        page_check!(
            "connection-reset",
            1,
            Error,
            "The connection was closed before the response headers arrived",
            "Crawlers and browsers get no answer at all; often a crashing backend or a proxy limit.",
            "Look at the server's error log for crashes or connection limits at that time.",
            |p| when(
                p,
                matches!(failure(p), Some(FailureKind::ConnectionReset)) && p.status().is_none()
            ),
        ),
        page_check!(
            "response-timeout",
            1,
            Error,
            "No response within the time limit",
            "A page that does not answer is a page search engines drop and visitors leave.",
            "Find what makes the server slow on this URL (backend, database, upstream); add caching.",
            |p| when(
                p,
                matches!(failure(p), Some(FailureKind::ReadTimeout)) && p.status().is_none()
            ),
        ),
        page_check!(
            "body-download-timeout",
            1,
            Warning,
            "The headers arrived but the body did not finish in time",
            "Content that cannot be downloaded in time is not indexed.",
            "Check streaming responses and slow upstreams; reduce the page's size.",
            |p| when(
                p,
                matches!(failure(p), Some(FailureKind::ReadTimeout)) && p.status().is_some()
            ),
        ),
        page_check!(
            "tls-handshake-failed",
            1,
            Error,
            "The TLS handshake failed",
            "Browsers show an error page instead of the site.",
            "Fix the certificate or the TLS configuration (protocol versions, ciphers, SNI).",
            |p| when(p, matches!(failure(p), Some(FailureKind::Tls { .. }))),
        ),
        page_check!(
            "http-protocol-error",
            1,
            Error,
            "The response is not valid HTTP",
            "Clients cannot read the answer at all; often a misconfigured proxy or a non-HTTP service on the port.",
            "Check what listens on the port and any proxy between it and the client.",
            |p| when(
                p,
                matches!(failure(p), Some(FailureKind::InvalidResponse { .. }))
            ),
        ),
        page_check!(
            "content-decoding-failed",
            1,
            Error,
            "The compressed body could not be decoded",
            "Browsers show a decoding error; search engines cannot read the page.",
            "Fix the compression layer: the Content-Encoding header must match the body.",
            |p| when(p, matches!(failure(p), Some(FailureKind::Decode { .. }))),
        ),
        page_check!(
            "body-truncated",
            1,
            Warning,
            "The body ended before it was complete",
            "Part of the page is lost: links and content after the cut are not seen.",
            "Look for crashes or timeouts while the response streams (error log, proxy buffers).",
            |p| when(
                p,
                matches!(failure(p), Some(FailureKind::ConnectionReset)) && p.status().is_some()
            ),
        ),
        page_check!(
            "body-over-download-limit",
            1,
            Notice,
            "The body is larger than the download cap",
            "Only the first part was read and audited; search engines stop reading large pages too.",
            "Make the page smaller, or raise --max-body-bytes / --max-decoded-bytes if it is intended.",
            |p| when(
                p,
                matches!(failure(p), Some(FailureKind::BodyTooLarge { .. }))
            ),
        ),
        page_check!(
            "empty-html-response",
            1,
            Error,
            "A page answered 2xx with an empty body",
            "An empty page has nothing to index and looks broken to visitors.",
            "Check the application for errors that produce empty output.",
            |p| {
                let r = p.record;
                let empty = r.status.is_some_and(|s| (200..300).contains(&s))
                    && r.failure().is_none()
                    && r.body_bytes.get() == Some(0)
                    && p.is_page_target();
                when(p, empty)
            },
        ),
        page_check!(
            "content-type-missing",
            1,
            Warning,
            "A 2xx response has no Content-Type header",
            "Clients must guess the type; browsers may refuse scripts and styles, and pages may not be indexed as HTML.",
            "Send a Content-Type header with every response.",
            |p| when(
                p,
                p.status().is_some_and(|s| (200..300).contains(&s))
                    && p.record.content_type.as_deref().is_none_or(str::is_empty),
            ),
        ),
        page_check!(
            "rate-limited-429",
            1,
            Warning,
            "The server answered 429 Too Many Requests",
            "Search engines slow their crawl on 429 as on 5xx; pages may not be refreshed.",
            "Raise the rate limit for crawlers you want, or crawl slower (--rate, --per-host).",
            |p| when(
                p,
                p.status() == Some(429) || p.attempts.iter().any(|a| a.status == Some(429)),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::TestSite;
    use crate::model::FailureKind as F;

    fn fails(path: &str, status: Option<u16>, f: F) -> TestSite {
        TestSite::new().page(path, status, Some(f), |_| {})
    }

    #[test]
    fn each_failure_kind_fires_its_own_check_only() {
        let site = TestSite::new()
            .page("/ok", Some(200), None, |_| {})
            .page(
                "/dns",
                None,
                Some(F::Dns {
                    reason: "nx".into(),
                }),
                |_| {},
            )
            .page("/refused", None, Some(F::ConnectRefused), |_| {})
            .page("/ctimeout", None, Some(F::ConnectTimeout), |_| {})
            .page("/reset", None, Some(F::ConnectionReset), |_| {})
            .page("/truncated", Some(200), Some(F::ConnectionReset), |_| {})
            .page("/rtimeout", None, Some(F::ReadTimeout), |_| {})
            .page("/btimeout", Some(200), Some(F::ReadTimeout), |_| {})
            .page(
                "/tls",
                None,
                Some(F::Tls {
                    reason: "alert".into(),
                }),
                |_| {},
            )
            .page(
                "/garbage",
                None,
                Some(F::InvalidResponse { reason: "x".into() }),
                |_| {},
            )
            .page(
                "/gz",
                Some(200),
                Some(F::Decode { reason: "x".into() }),
                |_| {},
            )
            .page(
                "/big",
                Some(200),
                Some(F::BodyTooLarge { limit: 10 }),
                |_| {},
            );
        for (id, path) in [
            ("dns-lookup-failed", "/dns"),
            ("connect-refused", "/refused"),
            ("connect-timeout", "/ctimeout"),
            ("connection-reset", "/reset"),
            ("body-truncated", "/truncated"),
            ("response-timeout", "/rtimeout"),
            ("body-download-timeout", "/btimeout"),
            ("tls-handshake-failed", "/tls"),
            ("http-protocol-error", "/garbage"),
            ("content-decoding-failed", "/gz"),
            ("body-over-download-limit", "/big"),
        ] {
            assert_eq!(site.fired(id), vec![path], "{id}");
        }
    }

    #[test]
    fn external_failures_are_not_category_1() {
        let site = fails("/x", None, F::ConnectRefused);
        assert_eq!(site.fired("connect-refused"), vec!["/x"]);
        let ext = TestSite::new().page("/x", None, Some(F::ConnectRefused), |r| {
            r.scope = crate::store::UrlScope::External;
        });
        assert!(ext.fired("connect-refused").is_empty());
    }

    #[test]
    fn empty_pages_missing_content_type_and_429() {
        let site = TestSite::new()
            .page("/empty", Some(200), None, |r| r.body_bytes = Some(0).into())
            .page("/full", Some(200), None, |_| {})
            .page("/untyped", Some(200), None, |r| r.content_type = None)
            .page("/404-untyped", Some(404), None, |r| r.content_type = None)
            .page("/limited", Some(429), None, |_| {})
            .page("/recovered", Some(200), None, |_| {})
            .attempts("/recovered", &[Some(429), Some(200)]);
        assert_eq!(site.fired("empty-html-response"), vec!["/empty"]);
        assert_eq!(site.fired("content-type-missing"), vec!["/untyped"]);
        assert_eq!(
            site.fired("rate-limited-429"),
            vec!["/limited", "/recovered"]
        );
    }
}
