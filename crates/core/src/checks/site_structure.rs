//! Category 27 (pagination, from `rel=next/prev` links), the server-timing and weight
//! checks of 21 (performance), the size check of 29 and the URL-pattern checks of 30
//! (crawl traps, parameter explosion).

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{Check, CheckInfo, LinkRef, PageCheck, SiteData};
use crate::model::{Finding, Severity};
use crate::store::{UrlId, UrlScope};

fn rel_is(l: &LinkRef, r: &str) -> bool {
    l.kind == "pagination"
        && l.rel.is_some_and(|x| {
            x.split_ascii_whitespace()
                .any(|t| t == r || (r == "prev" && t == "previous"))
        })
}

/// A page's rel=next / rel=prev targets.
fn pagination<'a>(site: &'a SiteData, id: UrlId, rel: &str) -> Vec<LinkRef<'a>> {
    site.outlinks_of(id, crate::model::LinkKind::Pagination)
        .filter(|l| rel_is(l, rel))
        .collect()
}

/// A check over internal HTML pages with the whole crawl at hand.
struct SiteCheck {
    info: CheckInfo,
    eval: fn(&SiteData, UrlId) -> Option<serde_json::Value>,
}

impl Check for SiteCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn super::PerPage> {
        Some(self)
    }
}

impl super::PerPage for SiteCheck {
    fn eval_page(&self, site: &SiteData, p: &super::PageView<'_>, out: &mut super::Findings) {
        if p.html().is_none() {
            return;
        }
        if let Some(details) = (self.eval)(site, p.record.id) {
            out.push(Finding {
                check_id: self.info.id,
                severity: self.info.severity,
                url: Some(p.record.url.clone()),
                details,
            });
        }
    }
}

fn check(
    id: &'static str,
    category: u8,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&SiteData, UrlId) -> Option<serde_json::Value>,
) -> Box<dyn Check> {
    Box::new(SiteCheck {
        info: CheckInfo::new(id, category, severity, text),
        eval,
    })
}

/// Pagination targets of `id` (next and prev) whose record satisfies `pred`.
fn targets(
    site: &SiteData,
    id: UrlId,
    pred: impl Fn(&SiteData, UrlId) -> bool,
) -> Option<serde_json::Value> {
    let hits: Vec<&str> = ["next", "prev"]
        .iter()
        .flat_map(|r| pagination(site, id, r))
        .filter(|l| pred(site, l.to))
        .filter_map(|l| site.get(l.to).map(|t| t.url.as_str()))
        .collect();
    (!hits.is_empty()).then(|| json!({ "targets": hits }))
}

/// The path of `url`, a URL as the crawl stores it (the parser's own serialization), as
/// `Url::parse(url)` gives it (`None`: it does not parse): read off the string where
/// [`super::plain_path`] can (nearly every stored URL), parsed otherwise. Parsing every
/// URL of a crawl was ~2% of an audit's instructions. The authority is not checked: a
/// string that is no stored URL may give a path where it does not parse.
fn url_path(url: &str) -> Option<std::borrow::Cow<'_, str>> {
    match super::plain_path(url) {
        Some((_, path, _)) => Some(path.into()),
        None => Some(url::Url::parse(url).ok()?.path().to_string().into()),
    }
}

/// The path of a URL with every run of digits replaced by `#`.
fn template(url: &str) -> Option<String> {
    let path = url_path(url)?;
    let mut out = String::new();
    let mut in_digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out.contains('#').then_some(out)
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        check(
            "pagination-target-error",
            27,
            Severity::Warning,
            [
                "rel=next/prev points to a broken or blocked URL",
                "Broken pagination hides the rest of the series.",
                "Fix the pagination URLs.",
            ],
            |site, id| {
                targets(site, id, |s, t| {
                    s.get(t).is_some_and(|r| {
                        r.state == "done"
                            && !(r.status.is_some_and(|x| (200..300).contains(&x))
                                && r.failure().is_none())
                    })
                })
            },
        ),
        check(
            "pagination-target-non-indexable",
            27,
            Severity::Warning,
            [
                "rel=next/prev points to a non-indexable page",
                "The series continues on pages search engines will not index.",
                "Make paginated pages indexable and self-canonical.",
            ],
            |site, id| {
                targets(site, id, |s, t| {
                    s.get(t).is_some_and(|r| {
                        r.status.is_some_and(|x| (200..300).contains(&x))
                            && s.view(r).non_indexable_reason().is_some()
                    })
                })
            },
        ),
        check(
            "pagination-not-in-anchor",
            27,
            Severity::Warning,
            [
                "rel=next/prev URL not linked with <a> on the page",
                "Google ignores rel=next/prev; without a real link the next page may never be found.",
                "Add visible <a href> pagination links.",
            ],
            |site, id| {
                if !site.has_outlinks(id) {
                    return None;
                }
                // A page has a target or two at most, and most none: its anchors are
                // looked through per target, not gathered into a set for every page.
                targets(site, id, |s, t| {
                    !s.outlinks_of(id, crate::model::LinkKind::Anchor)
                        .any(|l| l.to == t)
                })
            },
        ),
        check(
            "pagination-unlinked",
            27,
            Severity::Warning,
            [
                "Paginated page reached only through rel=next/prev",
                "No <a> link anywhere leads to it.",
                "Link paginated pages with <a href>.",
            ],
            |site, id| {
                let r = site.get(id)?;
                let view = site.view(r);
                let via_pagination = view.inlinks.iter().any(|l| l.kind == "pagination");
                (via_pagination && !view.inlinks.iter().any(|l| l.kind == "a")).then(|| json!({}))
            },
        ),
        check(
            "pagination-multiple",
            27,
            Severity::Warning,
            [
                "More than one rel=next or rel=prev",
                "Crawlers cannot tell which is the sequence.",
                "Declare one next and one prev.",
            ],
            |site, id| {
                let (n, p) = (
                    pagination(site, id, "next").len(),
                    pagination(site, id, "prev").len(),
                );
                (n > 1 || p > 1).then(|| json!({ "next": n, "prev": p }))
            },
        ),
        check(
            "pagination-loop",
            27,
            Severity::Warning,
            [
                "rel=next sequence loops",
                "Following next comes back to a page already in the series.",
                "Make the last page declare no rel=next.",
            ],
            |site, id| {
                let mut seen = HashSet::from([id]);
                let mut current = id;
                while let Some(next) = pagination(site, current, "next").first().map(|l| l.to) {
                    if !seen.insert(next) {
                        return Some(json!({ "back_to": site.get(next).map(|r| r.url.clone()) }));
                    }
                    current = next;
                }
                None
            },
        ),
        check(
            "pagination-sequence-error",
            27,
            Severity::Warning,
            [
                "rel=next target does not point back with rel=prev",
                "The series is inconsistent.",
                "Make page B name page A as prev when A names B as next.",
            ],
            |site, id| {
                let bad: Vec<&str> = pagination(site, id, "next")
                    .into_iter()
                    .filter(|l| {
                        site.get(l.to)
                            .is_some_and(|t| t.state == "done" && site.view(t).html().is_some())
                    })
                    .filter(|l| !pagination(site, l.to, "prev").iter().any(|b| b.to == id))
                    .filter_map(|l| site.get(l.to).map(|t| t.url.as_str()))
                    .collect();
                (!bad.is_empty()).then(|| json!({ "next": bad }))
            },
        ),
        Box::new(PageCheck {
            info: CheckInfo {
                id: "ttfb-slow",
                category: 21,
                severity: Severity::Warning,
                title: "Slow server response (time to first byte)",
                why: "Slow responses delay every page view and slow crawling down.",
                fix: "Cache pages, speed up the backend, or serve from a CDN.",
            },
            eval: |p| {
                p.html()?;
                let ttfb = p.record.ttfb_ms.get()?;
                let l = p.limits;
                (ttfb > l.ttfb_slow_ms).then(|| {
                    (
                        (ttfb > l.ttfb_error_ms).then_some(Severity::Error),
                        json!({ "ttfb_ms": ttfb }),
                    )
                })
            },
        }),
        Box::new(PageCheck {
            info: CheckInfo {
                id: "html-no-validators",
                category: 21,
                severity: Severity::Notice,
                title: "HTML without ETag or Last-Modified",
                why: "Crawlers cannot make cheap conditional requests; every visit re-downloads the page.",
                fix: "Send ETag or Last-Modified with HTML responses.",
            },
            eval: |p| {
                p.html()?;
                (p.header("etag").is_none() && p.header("last-modified").is_none())
                    .then(|| (None, json!({})))
            },
        }),
        check(
            "page-weight-heavy",
            21,
            Severity::Warning,
            [
                "Page weighs more than 4 MB with its resources",
                "Heavy pages are slow on mobile networks.",
                "Compress images, drop unused scripts, lazy-load below the fold.",
            ],
            |site, id| {
                let own = site.get(id)?.wire_bytes.get().unwrap_or(0);
                // Each resource once: a few a page, sorted rather than hashed.
                let mut res: Vec<UrlId> = site
                    .outlinks(id)
                    .filter(|l| {
                        matches!(
                            l.kind.as_str(),
                            "img" | "script" | "css" | "media" | "preload" | "icon"
                        )
                    })
                    .map(|l| l.to)
                    .collect();
                res.sort_unstable();
                res.dedup();
                let total = own
                    + res
                        .iter()
                        .filter_map(|r| site.get(*r)?.wire_bytes.get())
                        .sum::<u64>();
                (total > site.thresholds.page_weight_max_bytes)
                    .then(|| json!({ "bytes": total, "resources": res.len() }))
            },
        ),
        Box::new(PageCheck {
            info: CheckInfo {
                id: "html-size-over-2mb",
                category: 29,
                severity: Severity::Error,
                title: "HTML larger than 2 MB",
                why: "Googlebot may stop reading before the end.",
                fix: "Move inline data and scripts out of the HTML; paginate long content.",
            },
            eval: |p| {
                p.html()?;
                let b = p.record.body_bytes.get()?;
                (b > p.limits.html_max_bytes).then(|| (None, json!({ "bytes": b })))
            },
        }),
        Box::new(UrlPatterns { trap: true }),
        Box::new(UrlPatterns { trap: false }),
    ]
}

/// `crawl-trap-suspected` and `parameter-explosion`: URL patterns across the crawl.
struct UrlPatterns {
    trap: bool,
}

const TRAP: CheckInfo = CheckInfo {
    id: "crawl-trap-suspected",
    category: 30,
    severity: Severity::Warning,
    title: "Crawl trap suspected",
    why: "An endless numbered URL space (calendars, pages) eats crawl budget.",
    fix: "Stop linking the endless sequence, or disallow it in robots.txt.",
};
const PARAMS: CheckInfo = CheckInfo {
    id: "parameter-explosion",
    category: 30,
    severity: Severity::Notice,
    title: "Many query-string variants of one path",
    why: "Facets, sorting and filters multiply URLs for the same content.",
    fix: "Canonicalise the variants, or keep the parameters out of crawlable links.",
};

impl Check for UrlPatterns {
    fn info(&self) -> &CheckInfo {
        if self.trap { &TRAP } else { &PARAMS }
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let mut groups: HashMap<String, usize> = HashMap::new();
        for u in site
            .urls
            .iter()
            .filter(|u| u.scope == UrlScope::Internal && u.found_by != crate::crawl::FOUND_INVALID)
        {
            let key = if self.trap {
                template(&u.url)
            } else if !u.url.contains('?') {
                // No query without a `?`: most URLs need not be parsed.
                None
            } else {
                url::Url::parse(&u.url)
                    .ok()
                    .filter(|x| x.query().is_some())
                    .map(|x| format!("{}{}", x.origin().ascii_serialization(), x.path()))
            };
            if let Some(k) = key {
                *groups.entry(k).or_default() += 1;
            }
        }
        let limit = if self.trap {
            site.thresholds.trap_urls
        } else {
            site.thresholds.parameter_variants
        };
        let mut hits: Vec<(String, usize)> =
            groups.into_iter().filter(|(_, n)| *n > limit).collect();
        hits.sort();
        for (pattern, n) in hits {
            let info = self.info();
            out.push(Finding {
                check_id: info.id,
                severity: info.severity,
                url: None,
                details: json!({ "pattern": pattern, "urls": n }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn html(t: TestSite, path: &str) -> TestSite {
        t.page(path, Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))))
        })
    }

    fn rel(t: TestSite, from: &str, to: &str, rel: &str) -> TestSite {
        let t = t.link(from, to, "pagination");
        t.rel_of(from, to, rel)
    }

    /// A URL's path read off the string is the parsed URL's path, for stored URLs and
    /// for strings the parser would change (dot segments, spaces, backslashes, case,
    /// non-ASCII, no path); none for a string that is no http(s) URL and does not parse.
    #[test]
    fn url_path_is_the_parsed_path() {
        for u in [
            "http://example.com/a/b.html",
            "https://example.com:8443/p/1?x=1#f",
            "http://example.com",
            "http://example.com?q",
            "http://example.com#f",
            "http://user:pw@example.com/x",
            "http://example.com/a/./b",
            "http://example.com/a/../b",
            "http://example.com/a/.",
            "http://example.com/a/%2E%2e/b",
            "http://example.com/a/%2e",
            "http://example.com/a/%2E/b",
            "http://example.com/a b",
            "http://example.com/a\\b",
            "http://example.com\\a",
            "http://example.com/a\"b<c>^`{|}",
            "http://example.com/é/ü",
            "http://example.com/%C3%A9",
            "http://example.com/A/B;p=1",
            "HTTP://example.com/a/../b",
            "http://example.com/a\tb",
            "ftp://example.com/a/../b",
            "mailto:x@example.com",
        ] {
            let parsed = url::Url::parse(u).ok().map(|x| x.path().to_string());
            assert_eq!(super::url_path(u).map(|p| p.into_owned()), parsed, "{u:?}");
        }
        assert_eq!(super::url_path("not a url"), None);
    }

    #[test]
    fn pagination() {
        let mut t = TestSite::new();
        for p in ["/p1", "/p2", "/p3", "/gone", "/x1", "/x2"] {
            t = html(t, p);
        }
        t = t.page("/dead", Some(404), None, |_| {});
        // p1 ⇄ p2 is consistent and linked with <a>; p2 → p3 has no prev back.
        t = rel(t, "/p1", "/p2", "next");
        t = rel(t, "/p2", "/p1", "prev");
        t = t.link("/p1", "/p2", "a");
        t = rel(t, "/p2", "/p3", "next");
        t = rel(t, "/p3", "/dead", "next");
        t = rel(t, "/p3", "/gone", "next");
        // x1 → x2 → x1 loops.
        t = rel(t, "/x1", "/x2", "next");
        t = rel(t, "/x2", "/x1", "next");
        assert_eq!(t.fired("pagination-target-error"), ["/p3"]);
        assert_eq!(t.fired("pagination-multiple"), ["/p3"]);
        assert_eq!(
            t.fired("pagination-sequence-error"),
            ["/p2", "/p3", "/x1", "/x2"]
        );
        assert!(
            t.fired("pagination-not-in-anchor")
                .contains(&"/p2".to_string())
        );
        assert!(
            !t.fired("pagination-not-in-anchor")
                .contains(&"/p1".to_string())
        );
        assert_eq!(t.fired("pagination-loop"), ["/x1", "/x2"]);
        assert!(t.fired("pagination-target-non-indexable").is_empty());
    }

    #[test]
    fn performance_size_and_patterns() {
        let mut t = TestSite::new();
        t = t.page("/slow", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))));
            r.ttfb_ms = Some(1200.0).into();
            r.headers.push(("etag".into(), "\"x\"".into()));
        });
        t = t.page("/big", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))));
            r.body_bytes = Some(3 << 20).into();
            r.wire_bytes = Some(5 << 20).into();
            r.headers.push(("last-modified".into(), "x".into()));
        });
        assert_eq!(t.fired("ttfb-slow"), ["/slow"]);
        assert_eq!(t.fired("html-size-over-2mb"), ["/big"]);
        assert_eq!(t.fired("page-weight-heavy"), ["/big"]);
        assert!(t.fired("html-no-validators").is_empty());
        let mut many = TestSite::new();
        for i in 0..501 {
            many = many.page(&format!("/cal/{i}"), Some(200), None, |_| {});
        }
        for i in 0..101 {
            many = many.page(&format!("/shop?sort={i}"), Some(200), None, |_| {});
        }
        assert_eq!(many.fired("crawl-trap-suspected"), [""]);
        assert_eq!(many.fired("parameter-explosion"), [""]);
        assert_eq!(
            many.fired("html-no-validators").len(),
            0,
            "no facts: not HTML pages here"
        );
    }
}
