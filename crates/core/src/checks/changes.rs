//! Category 31: changes since the previous finished crawl of the same start URL
//! ([`SiteData::previous`]). Without one, these checks report nothing.

use serde_json::json;

use super::data::PriorRef;
use super::{Check, CheckInfo, PageView, SiteData};
use crate::model::{Finding, Severity};

fn ok(p: &PageView<'_>) -> bool {
    p.status().is_some_and(|s| (200..300).contains(&s)) && p.record.failure().is_none()
}

/// Whether the URL is an indexable HTML page (2xx, no noindex, self-canonical).
fn indexable(p: &PageView<'_>) -> bool {
    ok(p) && p.html().is_some() && p.non_indexable_reason().is_none()
}

/// The index state in words, for evidence.
fn state(p: &PageView<'_>) -> String {
    match (p.status(), p.record.failure(), p.non_indexable_reason()) {
        (_, Some(f), _) => f.id().to_string(),
        (Some(s), None, _) if !(200..300).contains(&s) => format!("http-{s}"),
        (_, _, Some(r)) => r.to_string(),
        _ => "indexable".into(),
    }
}

/// A check comparing each URL with its record in the previous crawl.
struct ChangeCheck {
    info: CheckInfo,
    eval: fn(&SiteData, &PageView<'_>, &PageView<'_>) -> Option<serde_json::Value>,
}

impl Check for ChangeCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    // Per page: the page's own facts are then its full facts (the crawl holds only what
    // checks compare across pages; of the previous crawl's pages, SiteData::prior holds
    // what is compared of their detail).
    fn per_page(&self) -> Option<&dyn super::PerPage> {
        Some(self)
    }
}

impl super::PerPage for ChangeCheck {
    fn eval_page(&self, site: &SiteData, now: &PageView<'_>, out: &mut super::Findings) {
        let Some(prev) = site.previous.as_deref() else {
            return;
        };
        if !now.internal() {
            return;
        }
        let Some(before) = prev.by_url(&now.record.url).filter(|r| r.state == "done") else {
            return;
        };
        if let Some(details) = (self.eval)(site, &prev.view(before), now) {
            out.push(Finding {
                check_id: self.info.id,
                severity: self.info.severity,
                url: Some(now.record.url.clone()),
                details,
            });
        }
    }
}

fn change(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&SiteData, &PageView<'_>, &PageView<'_>) -> Option<serde_json::Value>,
) -> Box<dyn Check> {
    Box::new(ChangeCheck {
        info: CheckInfo {
            id,
            category: 31,
            severity,
            title: text[0],
            why: text[1],
            fix: text[2],
        },
        eval,
    })
}

/// The final URL of a redirect chain, if the URL redirects.
fn final_url(site: &SiteData, p: &PageView<'_>) -> Option<String> {
    p.record.location()?;
    site.chain(p.record).last().map(|h| h.url.clone())
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        change(
            "became-non-indexable",
            Severity::Warning,
            [
                "Page no longer indexable",
                "It was indexable in the previous crawl; it will drop out of search results.",
                "Check the change (status, noindex, canonical, robots.txt) was intended.",
            ],
            |_, before, now| {
                (indexable(before) && !indexable(now)).then(|| json!({ "now": state(now) }))
            },
        ),
        change(
            "became-indexable",
            Severity::Notice,
            [
                "Page became indexable",
                "It was not indexable in the previous crawl.",
                "Check the change was intended.",
            ],
            |_, before, now| {
                (!indexable(before) && indexable(now) && before.html().is_some())
                    .then(|| json!({ "before": state(before) }))
            },
        ),
        change(
            "became-broken",
            Severity::Error,
            [
                "Page broke since the previous crawl",
                "It answered 200 before and now fails.",
                "Find what changed (deploy, removal, server) and fix it.",
            ],
            |_, before, now| {
                let broken = now.status().is_some_and(|s| s >= 400)
                    || now.record.failure().is_some_and(|f| f.is_error());
                (before.status() == Some(200) && broken).then(|| json!({ "now": state(now) }))
            },
        ),
        change(
            "metadata-changed",
            Severity::Notice,
            [
                "Title, description or H1 changed",
                "Listed so changes to search snippets can be reviewed.",
                "Check the new values are intended.",
            ],
            |site, before, now| {
                before.html()?;
                let b = site.previous.as_deref()?.prior(before.record.id)?;
                let n = PriorRef::of(now.html()?);
                let mut changed = serde_json::Map::new();
                if b.title != n.title {
                    changed.insert("title".into(), json!({ "before": b.title, "now": n.title }));
                }
                if b.description != n.description {
                    changed.insert(
                        "description".into(),
                        json!({ "before": b.description, "now": n.description }),
                    );
                }
                if b.h1 != n.h1 {
                    changed.insert("h1".into(), json!({ "before": b.h1, "now": n.h1 }));
                }
                (!changed.is_empty()).then_some(serde_json::Value::Object(changed))
            },
        ),
        change(
            "canonical-changed",
            Severity::Notice,
            [
                "Canonical changed",
                "The page now points search engines at a different preferred URL.",
                "Check the new canonical is intended.",
            ],
            |_, before, now| {
                let (b, n) = (before.html()?, now.html()?);
                (b.canonicals.first() != n.canonicals.first())
                    .then(|| json!({ "before": b.canonicals.first(), "now": n.canonicals.first() }))
            },
        ),
        change(
            "redirect-target-changed",
            Severity::Notice,
            [
                "Redirect leads somewhere else now",
                "The redirect's final URL changed since the previous crawl.",
                "Check the new target is intended.",
            ],
            |site, before, now| {
                let prev = site.previous.as_deref()?;
                let (b, n) = (final_url(prev, before)?, final_url(site, now)?);
                (b != n).then(|| json!({ "before": b, "now": n }))
            },
        ),
        change(
            "word-count-dropped",
            Severity::Notice,
            [
                "Much less text than before",
                "The main content shrank by more than 30%.",
                "Check content was not lost in a template change.",
            ],
            |site, before, now| {
                before.html()?;
                let b = site.previous.as_deref()?.prior(before.record.id)?.words;
                let n = now.html()?.text.words;
                (b > 0 && f64::from(n) < f64::from(b) * (1.0 - site.thresholds.word_drop))
                    .then(|| json!({ "before": b, "now": n }))
            },
        ),
        Box::new(RobotsChanged),
        Box::new(SitemapDropped),
    ]
}

/// `robots-txt-changed`: a host's robots.txt differs from the previous crawl's.
struct RobotsChanged;

const ROBOTS: CheckInfo = CheckInfo {
    id: "robots-txt-changed",
    category: 31,
    severity: Severity::Warning,
    title: "robots.txt changed",
    why: "A rule change can open or close large parts of the site to crawlers.",
    fix: "Review the difference; the crawled URLs whose access changed are listed.",
};

impl Check for RobotsChanged {
    fn info(&self) -> &CheckInfo {
        &ROBOTS
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let Some(prev) = site.previous.as_deref() else {
            return;
        };
        let ua = &site.info.config.user_agent;
        for (host, _, body) in &site.robots {
            let Some((_, _, old)) = prev.robots.iter().find(|(h, _, _)| h == host) else {
                continue;
            };
            if old == body {
                continue;
            }
            let (before, now) = (
                crate::robots::Robots::parse(ua, old),
                crate::robots::Robots::parse(ua, body),
            );
            let flipped: Vec<&str> = site
                .urls
                .iter()
                .filter(|u| {
                    crate::url::normalize(&u.url).is_ok_and(|x| crate::url::host_key(&x) == *host)
                })
                .filter_map(|u| {
                    let url = url::Url::parse(&u.url).ok()?;
                    (before.allowed(&url) != now.allowed(&url)).then_some(u.url.as_str())
                })
                .take(50)
                .collect();
            out.push(Finding {
                check_id: ROBOTS.id,
                severity: ROBOTS.severity,
                url: None,
                details: json!({ "host": host, "access_changed": flipped }),
            });
        }
    }
}

/// `sitemap-urls-dropped`: the sitemaps list 10% fewer URLs than before.
struct SitemapDropped;

const DROPPED: CheckInfo = CheckInfo {
    id: "sitemap-urls-dropped",
    category: 31,
    severity: Severity::Notice,
    title: "Sitemaps list far fewer URLs than before",
    why: "Pages dropped from sitemaps are discovered and refreshed less.",
    fix: "Check the sitemap generator did not lose pages.",
};

fn sitemap_urls(site: &SiteData) -> u64 {
    site.urls
        .iter()
        .filter_map(|u| {
            // Only sitemap files store `{"sitemap":…}`; page facts are not parsed at all.
            let raw = u.facts()?.get();
            if !raw.trim_start().starts_with("{\"sitemap\"") {
                return None;
            }
            let facts: serde_json::Value = serde_json::from_str(raw).ok()?;
            let sm = facts.get("sitemap")?;
            // Index files count sitemaps, not URLs.
            (sm.get("kind")? != "index")
                .then(|| sm.get("urls")?.as_u64())
                .flatten()
        })
        .sum()
}

impl Check for SitemapDropped {
    fn info(&self) -> &CheckInfo {
        &DROPPED
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let Some(prev) = site.previous.as_deref() else {
            return;
        };
        let (before, now) = (sitemap_urls(prev), sitemap_urls(site));
        if before > 0 && (now as f64) < before as f64 * (1.0 - site.thresholds.sitemap_drop) {
            out.push(Finding {
                check_id: DROPPED.id,
                severity: DROPPED.severity,
                url: None,
                details: json!({ "before": before, "now": now }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn html(t: TestSite, path: &str, status: u16, facts: serde_json::Value) -> TestSite {
        t.page(path, Some(status), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&facts)))
        })
    }

    fn sitemap(t: TestSite, urls: u64) -> TestSite {
        t.unlinked("/sitemap.xml", Some(200), |r| {
            r.found_by = crate::checks::test_support::word("sitemap-file");
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "sitemap": { "kind": "urlset", "urls": urls } }),
            )));
        })
    }

    #[test]
    fn changes_since_the_previous_crawl() {
        let page =
            |title: &str, words: u32| json!({ "titles": [title], "text": { "words": words } });
        let mut before = TestSite::new();
        before = html(before, "/stay", 200, page("Same", 500));
        before = html(before, "/hide", 200, page("Hide", 500));
        before = html(before, "/open", 200, json!({ "meta_robots": ["noindex"] }));
        before = html(before, "/break", 200, page("Break", 500));
        before = html(before, "/retitle", 200, page("Old title", 500));
        before = html(before, "/shrink", 200, page("Shrink", 1000));
        before = before.page("/moved", Some(301), None, |r| {
            r.set_location(Some("http://site.example/stay"))
        });
        before = sitemap(
            before.robots_txt(Some(200), "User-agent: *\nDisallow:\n", |_| {}),
            100,
        );
        let mut now = TestSite::new();
        now = html(now, "/stay", 200, page("Same", 500));
        now = html(
            now,
            "/hide",
            200,
            json!({ "titles": ["Hide"], "meta_robots": ["noindex"], "text": { "words": 500 } }),
        );
        now = html(now, "/open", 200, page("Open", 500));
        now = now.page("/break", Some(500), None, |_| {});
        now = html(now, "/retitle", 200, page("New title", 500));
        now = html(now, "/shrink", 200, page("Shrink", 300));
        now = now.page("/moved", Some(301), None, |r| {
            r.set_location(Some("http://site.example/open"))
        });
        now = sitemap(
            now.robots_txt(Some(200), "User-agent: *\nDisallow: /hide\n", |_| {}),
            50,
        );
        let t = now.previous(before);
        assert_eq!(t.fired("became-non-indexable"), ["/hide", "/break"]);
        assert_eq!(t.fired("became-indexable"), ["/open"]);
        assert_eq!(t.fired("became-broken"), ["/break"]);
        assert!(
            t.fired("metadata-changed")
                .contains(&"/retitle".to_string())
        );
        assert!(!t.fired("metadata-changed").contains(&"/stay".to_string()));
        assert_eq!(t.fired("word-count-dropped"), ["/shrink"]);
        assert_eq!(t.fired("redirect-target-changed"), ["/moved"]);
        assert_eq!(t.fired("robots-txt-changed"), [""]);
        assert_eq!(t.fired("sitemap-urls-dropped"), [""]);
        assert!(t.fired("canonical-changed").is_empty());
        // Without a previous crawl, nothing to compare.
        assert!(TestSite::new().fired("became-broken").is_empty());
    }
}
