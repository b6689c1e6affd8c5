//! Category 8: XML sitemaps. Files are the URLs found as `sitemap-file` (robots.txt
//! lines, index children) or `sitemap-probe` (`/sitemap.xml`); entries are the
//! `sitemap` links from a file to the URLs it lists.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Check, CheckInfo, PageView, SiteData};
use crate::crawl::{FOUND_SITEMAP_FILE, FOUND_SITEMAP_PROBE};
use crate::model::{FailureKind, Finding, Severity};
use crate::store::UrlRecord;

fn is_file(r: &UrlRecord) -> bool {
    matches!(
        r.found_by.as_str(),
        FOUND_SITEMAP_FILE | FOUND_SITEMAP_PROBE
    ) && r.state == "done"
}

/// The parse facts of a fetched sitemap file (stored as JSON text; sitemap files are few).
fn facts(r: &UrlRecord) -> Option<Value> {
    let mut v: Value = serde_json::from_str(r.facts()?.get()).ok()?;
    Some(v.get_mut("sitemap")?.take())
}

/// A check over each sitemap file, reported once per file.
struct FileCheck {
    info: CheckInfo,
    eval: fn(&SiteData, &UrlRecord) -> Option<Value>,
}

impl Check for FileCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for r in site.urls.iter().filter(|r| is_file(r)) {
            if let Some(mut details) = (self.eval)(site, r) {
                details["sitemap"] = json!(r.url);
                out.push(Finding {
                    check_id: self.info.id,
                    severity: self.info.severity,
                    url: None,
                    details,
                });
            }
        }
    }
}

fn file(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&SiteData, &UrlRecord) -> Option<Value>,
) -> Box<dyn Check> {
    Box::new(FileCheck {
        info: CheckInfo {
            id,
            category: 8,
            severity,
            title: text[0],
            why: text[1],
            fix: text[2],
        },
        eval,
    })
}

/// The sitemap files listing a URL.
fn listed_in<'a>(site: &'a SiteData, p: &PageView<'_>) -> Vec<&'a str> {
    let mut v: Vec<&str> = p
        .inlinks
        .iter()
        .filter(|l| l.kind == "sitemap")
        .filter_map(|l| site.get(l.from).map(|f| f.url.as_str()))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A check over URLs listed in sitemaps.
struct EntryCheck {
    info: CheckInfo,
    eval: fn(&PageView<'_>) -> Option<Value>,
}

impl Check for EntryCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site.pages().filter(|p| p.record.in_sitemap) {
            if let Some(mut details) = (self.eval)(&p) {
                details["sitemaps"] = json!(listed_in(site, &p));
                out.push(Finding {
                    check_id: self.info.id,
                    severity: self.info.severity,
                    url: Some(p.record.url.clone()),
                    details,
                });
            }
        }
    }
}

fn entry(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&PageView<'_>) -> Option<Value>,
) -> Box<dyn Check> {
    Box::new(EntryCheck {
        info: CheckInfo {
            id,
            category: 8,
            severity,
            title: text[0],
            why: text[1],
            fix: text[2],
        },
        eval,
    })
}

fn ok(r: &UrlRecord) -> bool {
    r.status.is_some_and(|s| (200..300).contains(&s)) && r.failure().is_none()
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(NotFound),
        file(
            "sitemap-fetch-failed",
            Severity::Error,
            [
                "Sitemap cannot be fetched",
                "Search engines cannot read the URLs it lists.",
                "Make the sitemap URL answer 200, or fix the reference to it.",
            ],
            |_, r| {
                // A missing guessed /sitemap.xml is normal; a declared one is not.
                let declared = r.found_by == FOUND_SITEMAP_FILE;
                (declared && !ok(r))
                    .then(|| json!({ "status": r.status, "failure": r.failure().map(|f| f.id()) }))
            },
        ),
        file(
            "sitemap-redirected",
            Severity::Notice,
            [
                "Sitemap URL redirects",
                "Declare the final URL so crawlers need no extra hop.",
                "Update robots.txt or the index to the final sitemap URL.",
            ],
            |site, r| {
                site.hops
                    .get(&r.id)
                    .filter(|h| h.len() > 1)
                    .map(|h| json!({ "final_url": h.last().map(|x| &x.url) }))
            },
        ),
        file(
            "sitemap-parse-error",
            Severity::Error,
            [
                "Sitemap is not readable XML",
                "A malformed sitemap is ignored entirely.",
                "Fix the XML (escape &, close elements) or the gzip stream.",
            ],
            |_, r| {
                facts(r)
                    .filter(|f| f["error_kind"] == "parse")
                    .map(|f| json!({ "error": f["error"] }))
            },
        ),
        file(
            "sitemap-format-invalid",
            Severity::Warning,
            [
                "Not a sitemap",
                "The root element is neither <urlset> nor <sitemapindex>.",
                "Serve a sitemaps.org urlset or sitemapindex.",
            ],
            |_, r| {
                facts(r)
                    .filter(|f| f["error_kind"] == "format")
                    .map(|f| json!({ "error": f["error"] }))
            },
        ),
        file(
            "sitemap-too-many-urls",
            Severity::Error,
            [
                "Sitemap lists more than 50,000 URLs",
                "URLs past the limit are ignored.",
                "Split it into several sitemaps under an index.",
            ],
            |_, r| {
                facts(r)
                    .filter(|f| f["kind"] != "index" && f["truncated"].as_u64().unwrap_or(0) > 0)
                    .map(|f| json!({ "over_limit": f["truncated"] }))
            },
        ),
        file(
            "sitemap-too-large",
            Severity::Error,
            [
                "Sitemap larger than 50 MB uncompressed",
                "Search engines stop reading at 50 MB.",
                "Split it into several sitemaps.",
            ],
            |_, r| {
                let too_large = facts(r).is_some_and(|f| f["error_kind"] == "too-large")
                    || matches!(r.failure(), Some(FailureKind::BodyTooLarge { .. }));
                too_large.then(|| json!({ "bytes": r.body_bytes }))
            },
        ),
        file(
            "sitemap-index-too-many",
            Severity::Error,
            [
                "Sitemap index lists more than 50,000 sitemaps",
                "Sitemaps past the limit are ignored.",
                "Use several index files.",
            ],
            |_, r| {
                facts(r)
                    .filter(|f| f["kind"] == "index" && f["truncated"].as_u64().unwrap_or(0) > 0)
                    .map(|f| json!({ "over_limit": f["truncated"] }))
            },
        ),
        file(
            "sitemap-index-nested",
            Severity::Warning,
            [
                "Sitemap index lists another index",
                "The protocol does not allow nesting; the inner index may be ignored.",
                "List the child sitemaps directly in one index.",
            ],
            |site, r| {
                if facts(r).is_none_or(|f| f["kind"] != "index") {
                    return None;
                }
                let nested: Vec<&str> = site
                    .outlinks(r.id)
                    .filter(|l| l.kind == "sitemap-file")
                    .filter_map(|l| site.get(l.to))
                    .filter(|c| facts(c).is_some_and(|f| f["kind"] == "index"))
                    .map(|c| c.url.as_str())
                    .collect();
                (!nested.is_empty()).then(|| json!({ "indexes": nested }))
            },
        ),
        file(
            "sitemap-empty",
            Severity::Warning,
            [
                "Empty sitemap",
                "It lists nothing, so it helps nothing.",
                "List the site's URLs, or remove the sitemap.",
            ],
            |_, r| {
                facts(r)
                    .filter(|f| f.get("error").is_none() && f["urls"].as_u64() == Some(0))
                    .map(|_| json!({}))
            },
        ),
        file(
            "sitemap-entry-out-of-scope",
            Severity::Warning,
            [
                "Sitemap lists URLs of another host or scheme",
                "Entries must be on the sitemap's own site; others are ignored.",
                "List only URLs of the sitemap's host, or submit the sitemap through robots.txt of that host.",
            ],
            |site, r| {
                let own = url::Url::parse(&r.url).ok()?;
                let other: Vec<&str> = site
                    .outlinks(r.id)
                    .filter(|l| l.kind == "sitemap" || l.kind == "sitemap-file")
                    .filter_map(|l| site.get(l.to))
                    .filter(|t| {
                        url::Url::parse(&t.url).is_ok_and(|u| {
                            u.host_str() != own.host_str() || u.scheme() != own.scheme()
                        })
                    })
                    .map(|t| t.url.as_str())
                    .take(20)
                    .collect();
                (!other.is_empty()).then(|| json!({ "urls": other }))
            },
        ),
        file(
            "sitemap-entry-invalid-url",
            Severity::Error,
            [
                "Sitemap lists invalid URLs",
                "Invalid or relative <loc> values are skipped.",
                "Use absolute, escaped URLs.",
            ],
            |_, r| {
                facts(r)
                    .filter(|f| f["invalid"].as_u64().unwrap_or(0) > 0)
                    .map(|f| json!({ "invalid": f["invalid"] }))
            },
        ),
        file(
            "sitemap-duplicate-entry",
            Severity::Notice,
            [
                "Sitemap lists the same URL twice",
                "Duplicates waste the file's URL budget.",
                "Deduplicate the sitemap.",
            ],
            |site, r| {
                let mut count: HashMap<u32, usize> = HashMap::new();
                for l in site.outlinks(r.id).filter(|l| l.kind == "sitemap") {
                    *count.entry(l.to).or_default() += 1;
                }
                let dup: Vec<&str> = count
                    .iter()
                    .filter(|(_, n)| **n > 1)
                    .filter_map(|(id, _)| site.get(*id))
                    .map(|u| u.url.as_str())
                    .take(20)
                    .collect();
                (!dup.is_empty()).then(|| json!({ "urls": dup }))
            },
        ),
        file(
            "sitemap-http-on-https",
            Severity::Warning,
            [
                "Sitemap of an https site lists http:// URLs",
                "The listed URLs redirect or duplicate the https pages.",
                "List the https:// URLs.",
            ],
            |site, r| {
                if !site.start().is_some_and(|u| u.url.starts_with("https://")) {
                    return None;
                }
                let http: Vec<&str> = site
                    .outlinks(r.id)
                    .filter(|l| l.kind == "sitemap")
                    .filter_map(|l| site.get(l.to))
                    .filter(|t| t.url.starts_with("http://"))
                    .map(|t| t.url.as_str())
                    .take(20)
                    .collect();
                (!http.is_empty()).then(|| json!({ "urls": http }))
            },
        ),
        entry(
            "sitemap-url-not-200",
            Severity::Error,
            [
                "Sitemap lists a URL that does not answer 200",
                "Sitemaps should list final, working URLs only.",
                "Remove or update the entry.",
            ],
            |p| {
                (!ok(p.record) && !matches!(p.record.failure(), Some(FailureKind::BlockedByRobots))).then(|| json!({ "status": p.record.status, "failure": p.record.failure().map(|f| f.id()) }))
            },
        ),
        entry(
            "sitemap-url-noindex",
            Severity::Error,
            [
                "Sitemap lists a noindex page",
                "It asks search engines to crawl a page they must not index.",
                "Remove the page from the sitemap, or drop noindex.",
            ],
            |p| {
                p.non_indexable_reason()
                    .filter(|r| r.starts_with("noindex"))
                    .map(|r| json!({ "reason": r }))
            },
        ),
        entry(
            "sitemap-url-canonicalised",
            Severity::Error,
            [
                "Sitemap lists a page that names another canonical",
                "Sitemaps should list canonical URLs only.",
                "List the canonical URL instead.",
            ],
            |p| {
                (p.non_indexable_reason() == Some("canonicalised to another URL"))
                    .then(|| json!({ "canonical": p.facts.and_then(|f| f.canonicals.first()) }))
            },
        ),
        entry(
            "sitemap-url-blocked",
            Severity::Error,
            [
                "Sitemap lists a URL robots.txt blocks",
                "Search engines are invited to a URL they may not fetch.",
                "Remove the entry or allow the URL.",
            ],
            |p| {
                (p.record.robots_disallowed
                    || matches!(p.record.failure(), Some(FailureKind::BlockedByRobots)))
                .then(|| json!({}))
            },
        ),
        Box::new(InMultiple),
        Box::new(NotInSitemap),
    ]
}

/// `sitemap-not-found`: no sitemap at all.
struct NotFound;

const NOT_FOUND: CheckInfo = CheckInfo {
    id: "sitemap-not-found",
    category: 8,
    severity: Severity::Warning,
    title: "No sitemap found",
    why: "A sitemap tells search engines every URL you want indexed.",
    fix: "Publish /sitemap.xml and name it in robots.txt.",
};

impl Check for NotFound {
    fn info(&self) -> &CheckInfo {
        &NOT_FOUND
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let looked = site.urls.iter().any(is_file) || site.info.config.sitemaps;
        if looked && !site.urls.iter().any(|r| is_file(r) && ok(r)) {
            out.push(Finding {
                check_id: NOT_FOUND.id,
                severity: NOT_FOUND.severity,
                url: None,
                details: json!({}),
            });
        }
    }
}

/// `sitemap-url-in-multiple`: a URL listed by more than one file.
struct InMultiple;

const MULTIPLE: CheckInfo = CheckInfo {
    id: "sitemap-url-in-multiple",
    category: 8,
    severity: Severity::Notice,
    title: "URL listed in several sitemaps",
    why: "Harmless, but a sign the sitemaps overlap.",
    fix: "List each URL in one sitemap.",
};

impl Check for InMultiple {
    fn info(&self) -> &CheckInfo {
        &MULTIPLE
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site.pages().filter(|p| p.record.in_sitemap) {
            let files = listed_in(site, &p);
            if files.len() > 1 {
                out.push(Finding {
                    check_id: MULTIPLE.id,
                    severity: MULTIPLE.severity,
                    url: Some(p.record.url.clone()),
                    details: json!({ "sitemaps": files }),
                });
            }
        }
    }
}

/// `indexable-not-in-sitemap`: indexable pages no sitemap lists (when sitemaps exist).
struct NotInSitemap;

const NOT_IN: CheckInfo = CheckInfo {
    id: "indexable-not-in-sitemap",
    category: 8,
    severity: Severity::Notice,
    title: "Indexable page missing from the sitemaps",
    why: "Sitemaps that leave out pages are less useful to search engines.",
    fix: "Add the page to a sitemap.",
};

impl Check for NotInSitemap {
    fn info(&self) -> &CheckInfo {
        &NOT_IN
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let has_sitemap = site
            .urls
            .iter()
            .any(|r| is_file(r) && ok(r) && facts(r).is_some_and(|f| f.get("error").is_none()));
        if !has_sitemap {
            return;
        }
        for p in site.pages().filter(|p| {
            p.html().is_some() && !p.record.in_sitemap && p.non_indexable_reason().is_none()
        }) {
            out.push(Finding {
                check_id: NOT_IN.id,
                severity: NOT_IN.severity,
                url: Some(p.record.url.clone()),
                details: json!({}),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn sm(t: TestSite, path: &str, status: u16, facts: serde_json::Value) -> TestSite {
        t.unlinked(path, Some(status), |r| {
            r.found_by = crate::checks::test_support::word("sitemap-file");
            r.content_type = Some("application/xml".into());
            r.set_facts(Some(crate::store::raw_json(&json!({ "sitemap": facts }))));
        })
    }

    fn urlset(n: u64) -> serde_json::Value {
        json!({ "kind": "urlset", "urls": n, "truncated": 0, "invalid": 0 })
    }

    #[test]
    fn files() {
        let mut t = TestSite::new();
        t = sm(t, "/good.xml", 200, urlset(1));
        t = sm(t, "/gone.xml", 404, json!(null));
        t = sm(
            t,
            "/broken.xml",
            200,
            json!({ "error": "malformed", "error_kind": "parse" }),
        );
        t = sm(
            t,
            "/html.xml",
            200,
            json!({ "error": "not a sitemap", "error_kind": "format" }),
        );
        t = sm(
            t,
            "/huge.xml",
            200,
            json!({ "kind": "urlset", "urls": 50000, "truncated": 7, "invalid": 2 }),
        );
        t = sm(
            t,
            "/big.xml",
            200,
            json!({ "error": "too large", "error_kind": "too-large" }),
        );
        t = sm(
            t,
            "/index.xml",
            200,
            json!({ "kind": "index", "urls": 1, "truncated": 3, "invalid": 0 }),
        );
        t = sm(
            t,
            "/inner.xml",
            200,
            json!({ "kind": "index", "urls": 0, "truncated": 0, "invalid": 0 }),
        );
        t = t.link("/index.xml", "/inner.xml", "sitemap-file");
        t = sm(t, "/empty.xml", 200, urlset(0));
        let f = |id: &str| t.fired(id).len();
        assert_eq!(f("sitemap-fetch-failed"), 1);
        assert_eq!(f("sitemap-parse-error"), 1);
        assert_eq!(f("sitemap-format-invalid"), 1);
        assert_eq!(f("sitemap-too-many-urls"), 1);
        assert_eq!(f("sitemap-too-large"), 1);
        assert_eq!(f("sitemap-index-too-many"), 1);
        assert_eq!(f("sitemap-index-nested"), 1);
        assert_eq!(
            f("sitemap-empty"),
            2,
            "the empty urlset and the empty inner index"
        );
        assert_eq!(f("sitemap-entry-invalid-url"), 1);
        assert!(t.fired("sitemap-not-found").is_empty());
        let none = TestSite::new();
        assert_eq!(none.fired("sitemap-not-found"), [""]);
        assert!(none.fired("sitemap-fetch-failed").is_empty());
    }

    #[test]
    fn entries() {
        let mut t =
            TestSite::new().start(|r| r.set_facts(Some(crate::store::raw_json(&json!({})))));
        t = sm(t, "/a.xml", 200, urlset(5));
        t = sm(t, "/b.xml", 200, urlset(1));
        for (path, status, facts) in [
            ("/ok", 200, json!({})),
            ("/missing", 404, json!({})),
            ("/hidden", 200, json!({ "meta_robots": ["noindex"] })),
            (
                "/dup",
                200,
                json!({ "canonicals": ["http://site.example/ok"] }),
            ),
        ] {
            t = t.page(path, Some(status), None, |r| {
                r.in_sitemap = true;
                r.set_facts(Some(crate::store::raw_json(&facts)));
            });
            t = t.link("/a.xml", path, "sitemap");
        }
        t = t
            .link("/a.xml", "/ok", "sitemap")
            .link("/b.xml", "/ok", "sitemap");
        t = t.page("/unlisted", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))))
        });
        t = t.page("/other-host", Some(200), None, |r| {
            r.url = "http://elsewhere.example/other-host".into();
            r.scope = crate::store::UrlScope::External;
        });
        t = t.link("/a.xml", "/other-host", "sitemap");
        assert_eq!(t.fired("sitemap-url-not-200"), ["/missing"]);
        assert_eq!(t.fired("sitemap-url-noindex"), ["/hidden"]);
        assert_eq!(t.fired("sitemap-url-canonicalised"), ["/dup"]);
        assert_eq!(t.fired("sitemap-url-in-multiple"), ["/ok"]);
        assert_eq!(t.fired("sitemap-duplicate-entry").len(), 1);
        assert_eq!(t.fired("sitemap-entry-out-of-scope").len(), 1);
        assert!(
            t.fired("indexable-not-in-sitemap")
                .contains(&"/unlisted".to_string())
        );
        assert!(
            !t.fired("indexable-not-in-sitemap")
                .contains(&"/ok".to_string())
        );
        assert!(t.fired("sitemap-url-blocked").is_empty());
        let blocked = TestSite::new().page(
            "/b",
            None,
            Some(crate::model::FailureKind::BlockedByRobots),
            |r| r.in_sitemap = true,
        );
        assert_eq!(blocked.fired("sitemap-url-blocked"), ["/b"]);
        assert!(t.fired("sitemap-http-on-https").is_empty());
        assert!(t.fired("sitemap-redirected").is_empty());
    }
}
