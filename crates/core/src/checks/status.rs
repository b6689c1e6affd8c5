//! Category 2: HTTP status codes of internal URLs that are pages (link, sitemap,
//! canonical, hreflang or pagination targets). 500, 502, 503 and 504 are separate checks
//! because they point at different layers.

use super::{Check, Evidence, PageView, SiteData};
use crate::model::{Finding, Severity};

/// Fires when the final status satisfies `pred` on an internal page target.
fn status_is(p: &PageView<'_>, pred: impl Fn(u16) -> bool) -> Evidence {
    let fires = p.internal() && p.is_page_target() && p.status().is_some_and(pred);
    fires.then(|| (None, p.evidence()))
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "http-500",
            2,
            Error,
            "500 Internal Server Error",
            "The application failed on this URL; search engines drop pages that keep failing.",
            "Find the exception in the application's error log for this URL.",
            |p| status_is(p, |s| s == 500),
        ),
        page_check!(
            "http-502",
            2,
            Error,
            "502 Bad Gateway",
            "A proxy, CDN or load balancer got an invalid answer (or none) from the origin.",
            "Check that the upstream behind the proxy is running and answering valid HTTP; the Server/Via headers in the evidence tell which layer answered.",
            |p| status_is(p, |s| s == 502),
        ),
        page_check!(
            "http-503",
            2,
            Error,
            "503 Service Unavailable",
            "Maintenance or overload: search engines slow down and drop URLs that keep answering 503.",
            "End the maintenance window or add capacity; answer 503 only while it is temporary.",
            |p| status_is(p, |s| s == 503),
        ),
        page_check!(
            "http-503-no-retry-after",
            2,
            Notice,
            "A 503 without Retry-After",
            "Crawlers get no hint about when to come back.",
            "Send Retry-After with 503 responses.",
            |p| {
                let fires =
                    p.internal() && p.status() == Some(503) && p.header("retry-after").is_none();
                fires.then(|| (None, p.evidence()))
            },
        ),
        page_check!(
            "http-504",
            2,
            Error,
            "504 Gateway Timeout",
            "The edge stopped waiting for the origin: the backend is too slow for the proxy's timeout.",
            "Find why the origin is slow on this URL, or raise the proxy's upstream timeout.",
            |p| status_is(p, |s| s == 504),
        ),
        page_check!(
            "http-5xx-other",
            2,
            Error,
            "Another 5xx server error",
            "The server failed on this URL (CDN codes 520–530 mean the origin failed).",
            "Check the server and CDN logs for this URL.",
            |p| status_is(p, |s| (500..600).contains(&s)
                && !matches!(s, 500 | 502 | 503 | 504)),
        ),
        page_check!(
            "http-5xx-intermittent",
            2,
            Warning,
            "5xx on one attempt, 2xx on another",
            "The server fails some of the time: visitors and crawlers see errors at random.",
            "Look for capacity limits, flapping upstreams or deploys at the time of the errors.",
            |p| {
                let some_5xx = p
                    .attempts
                    .iter()
                    .any(|a| a.status.is_some_and(|s| s >= 500));
                let some_ok = p
                    .attempts
                    .iter()
                    .any(|a| a.status.is_some_and(|s| (200..300).contains(&s)));
                (p.internal() && some_5xx && some_ok).then(|| (None, p.evidence()))
            },
        ),
        Box::new(StartUrlUnreachable),
        page_check!(
            "http-404",
            2,
            Error,
            "404 Not Found",
            "A link, sitemap or canonical points at a page that does not exist.",
            "Fix or remove the links (see the linking pages), or redirect the URL to its replacement.",
            |p| status_is(p, |s| s == 404),
        ),
        page_check!(
            "http-410",
            2,
            Warning,
            "410 Gone",
            "The removal is deliberate, but something still links to or lists the URL.",
            "Remove the links and sitemap entries that still point here.",
            |p| status_is(p, |s| s == 410),
        ),
        page_check!(
            "http-401",
            2,
            Warning,
            "401 Unauthorized",
            "Public pages link to a page behind a login; crawlers cannot see it.",
            "Remove public links to the protected page, or make it public if it should be.",
            |p| status_is(p, |s| s == 401),
        ),
        page_check!(
            "http-4xx-other",
            2,
            Error,
            "Another 4xx client error",
            "The server rejects the request for this URL.",
            "Check what the server expects (method, URL form, headers) and fix the links.",
            |p| status_is(p, |s| (400..500).contains(&s)
                && !matches!(s, 401 | 403 | 404 | 410 | 429)),
        ),
        page_check!(
            "http-status-nonstandard",
            2,
            Warning,
            "A non-standard status code",
            "Clients cannot interpret codes outside the standard ranges (999 is used to turn bots away).",
            "Answer with a standard status code.",
            |p| {
                // Outside 100–599 (999 and the like), or a final 1xx.
                let odd = p.status().is_some_and(|s| !(200..600).contains(&s));
                (p.internal() && odd).then(|| (None, p.evidence()))
            },
        ),
    ]
}

/// `start-url-unreachable`: the start URL ends in 4xx, 5xx or a network failure.
struct StartUrlUnreachable;

const START_INFO: super::CheckInfo = super::CheckInfo {
    id: "start-url-unreachable",
    category: 2,
    severity: Severity::Error,
    title: "The start URL could not be crawled",
    why: "Nothing beyond it can be audited.",
    fix: "Make the start URL answer 2xx (or start from the URL it should redirect to).",
};

impl Check for StartUrlUnreachable {
    fn info(&self) -> &super::CheckInfo {
        &START_INFO
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site
            .pages()
            .filter(|p| p.record.found_by == crate::crawl::FOUND_START)
        {
            let bad = p.status().is_none_or(|s| s >= 400)
                && p.record.failure().is_none_or(|f| f.is_error());
            if bad {
                out.push(Finding {
                    check_id: START_INFO.id,
                    severity: START_INFO.severity,
                    url: Some(p.record.url.clone()),
                    details: p.evidence(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::TestSite;
    use crate::model::FailureKind;

    #[test]
    fn each_status_fires_its_own_check_only() {
        let mut site = TestSite::new().page("/ok", Some(200), None, |_| {});
        for s in [
            500u16, 501, 502, 503, 504, 520, 401, 403, 404, 405, 410, 429, 999, 199,
        ] {
            site = site.page(&format!("/s{s}"), Some(s), None, |_| {});
        }
        site = site.page("/s503ra", Some(503), None, |r| {
            r.headers.push(("retry-after".into(), "30".into()))
        });
        for (id, paths) in [
            ("http-500", vec!["/s500"]),
            ("http-502", vec!["/s502"]),
            ("http-503", vec!["/s503", "/s503ra"]),
            ("http-503-no-retry-after", vec!["/s503"]),
            ("http-504", vec!["/s504"]),
            ("http-5xx-other", vec!["/s501", "/s520"]),
            ("http-404", vec!["/s404"]),
            ("http-410", vec!["/s410"]),
            ("http-401", vec!["/s401"]),
            ("http-4xx-other", vec!["/s405"]),
            ("http-status-nonstandard", vec!["/s999", "/s199"]),
        ] {
            assert_eq!(site.fired(id), paths, "{id}");
        }
    }

    #[test]
    fn only_page_targets_count() {
        // A missing image is an image problem (category 19), not http-404.
        let img = TestSite::new()
            .page("/i.png", Some(404), None, |_| {})
            .linked_as("/i.png", "img");
        assert!(img.fired("http-404").is_empty());
        // Unless a sitemap lists it as a page.
        let listed = TestSite::new()
            .page("/i.png", Some(404), None, |r| r.in_sitemap = true)
            .linked_as("/i.png", "img");
        assert_eq!(listed.fired("http-404"), vec!["/i.png"]);
        // robots.txt is nobody's page.
        let robots = TestSite::new()
            .page("/robots.txt", Some(404), None, |r| {
                r.found_by = crate::checks::test_support::word("robots")
            })
            .linked_as("/robots.txt", "robots");
        assert!(robots.fired("http-404").is_empty());
    }

    #[test]
    fn intermittent_and_start_url() {
        let site = TestSite::new()
            .page("/flaky", Some(200), None, |_| {})
            .attempts("/flaky", &[Some(502), Some(200)])
            .page("/down", Some(502), None, |_| {})
            .attempts("/down", &[Some(502), Some(502)]);
        assert_eq!(site.fired("http-5xx-intermittent"), vec!["/flaky"]);
        assert!(site.fired("start-url-unreachable").is_empty());
        let dead = TestSite::new().start(|r| {
            r.status = None;
            r.set_failure(Some(FailureKind::ConnectRefused));
        });
        assert_eq!(dead.fired("start-url-unreachable"), vec!["/"]);
        let missing = TestSite::new().start(|r| r.status = Some(404));
        assert_eq!(missing.fired("start-url-unreachable"), vec!["/"]);
    }
}
