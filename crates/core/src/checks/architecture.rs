//! Category 17: internal linking and site architecture, from the link graph. Edges are
//! followed `<a>`/`<area>` links (no `nofollow`); depth is the shortest number of such
//! clicks from a start URL.

use std::collections::{HashSet, VecDeque};

use serde_json::json;

use super::{Check, CheckInfo, LinkRef, PageView, PerPage, SiteData};
use crate::model::{Finding, Severity};
use crate::store::{UrlId, UrlScope};

fn nofollow(l: &LinkRef) -> bool {
    l.rel.is_some_and(|r| {
        r.split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case("nofollow"))
    })
}

/// Whether the page asks crawlers not to follow any of its links.
fn page_nofollow(site: &SiteData, id: UrlId) -> bool {
    // Asked once per link: the facts alone, not a whole view of the page.
    site.facts_of(id).is_some_and(|f| {
        f.meta_robots
            .iter()
            .chain(f.directives.iter().map(|d| &d.value))
            .any(|v| {
                // Asked per link: compared in place, not lowercased into a new string.
                v.split(',')
                    .map(str::trim)
                    .any(|t| t.eq_ignore_ascii_case("nofollow") || t.eq_ignore_ascii_case("none"))
            })
    })
}

fn followed(site: &SiteData, l: &LinkRef) -> bool {
    l.kind == "a" && !nofollow(l) && !page_nofollow(site, l.from)
}

/// Depth of a URL no followed link from a start URL reaches.
const UNREACHED: u32 = u32::MAX;

/// Shortest click depth of every URL reachable by followed links from a start URL, by
/// position in the crawl's URL list ([`UNREACHED`] for the others): 4 bytes a URL, where
/// a hash table by id took ~35 (a million-URL crawl: 4 MB against 36).
fn click_depths(site: &SiteData) -> Vec<u32> {
    let mut depth = vec![UNREACHED; site.urls.len()];
    let mut queue = VecDeque::new();
    for (pos, u) in site.urls.iter().enumerate() {
        if u.found_by == crate::crawl::FOUND_START {
            depth[pos] = 0;
            queue.push_back(pos);
        }
    }
    while let Some(pos) = queue.pop_front() {
        let d = depth[pos];
        for l in site.outlinks(site.urls[pos].id) {
            // Redirects do not add a click.
            let step = if l.kind == "redirect" { 0 } else { 1 };
            let Some(to) = site.position(l.to) else {
                continue;
            };
            if (l.kind == "redirect" || followed(site, &l)) && depth[to] == UNREACHED {
                depth[to] = d + step;
                if step == 0 {
                    queue.push_front(to);
                } else {
                    queue.push_back(to);
                }
            }
        }
    }
    depth
}

const fn info(
    id: &'static str,
    severity: Severity,
    title: &'static str,
    why: &'static str,
    fix: &'static str,
) -> CheckInfo {
    CheckInfo {
        id,
        category: 17,
        severity,
        title,
        why,
        fix,
    }
}

/// A check that evaluates each indexable-or-not internal HTML page with graph context.
/// Only the click depth needs the whole graph walked first; the others look at the
/// page's own links and run with the per-page checks, on every core.
struct GraphCheck {
    info: CheckInfo,
    eval: fn(&SiteData, &Graph, UrlId) -> Option<serde_json::Value>,
}

/// What graph checks share, computed once per run.
#[derive(Default)]
struct Graph {
    /// Click depths by position (see [`click_depths`]).
    depth: Vec<u32>,
}

impl GraphCheck {
    fn needs_depth(&self) -> bool {
        self.info.id == "crawl-depth-high"
    }

    fn eval(&self, site: &SiteData, graph: &Graph, p: &PageView<'_>, out: &mut super::Findings) {
        if p.html().is_none() {
            return;
        }
        if let Some(details) = (self.eval)(site, graph, p.record.id) {
            out.push(Finding {
                check_id: self.info.id,
                severity: self.info.severity,
                url: Some(p.record.url.clone()),
                details,
            });
        }
    }
}

impl PerPage for GraphCheck {
    fn eval_page(&self, site: &SiteData, p: &PageView<'_>, out: &mut super::Findings) {
        self.eval(site, &Graph::default(), p, out);
    }
}

impl Check for GraphCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn PerPage> {
        (!self.needs_depth()).then_some(self)
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        // Called for the click-depth check (the others are per page), or by a caller
        // that runs any check whole: only the depth needs the walk.
        let graph = if self.needs_depth() {
            Graph {
                depth: click_depths(site),
            }
        } else {
            Graph::default()
        };
        for p in site.pages() {
            self.eval(site, &graph, &p, out);
        }
    }
}

/// Internal links to `id` from other pages.
fn inlinks(site: &SiteData, id: UrlId) -> impl Iterator<Item = LinkRef<'_>> {
    site.inlinks(id).iter().filter(move |l| {
        l.from != id
            && l.kind == "a"
            && site
                .get(l.from)
                .is_some_and(|f| f.scope == UrlScope::Internal)
    })
}

fn indexable(site: &SiteData, id: UrlId) -> bool {
    site.get(id)
        .is_some_and(|r| site.view(r).non_indexable_reason().is_none())
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    let graph = |info: CheckInfo,
                 eval: fn(&SiteData, &Graph, UrlId) -> Option<serde_json::Value>|
     -> Box<dyn Check> { Box::new(GraphCheck { info, eval }) };
    vec![
        graph(
            info(
                "orphan-page",
                Severity::Warning,
                "Indexable page no crawled page links to",
                "Known only from a sitemap: search engines see it as unimportant and visitors never find it.",
                "Link to it from relevant pages, or drop it from the sitemap if it is obsolete.",
            ),
            |site, _, id| {
                let r = site.get(id)?;
                let known_elsewhere = r.in_sitemap && r.found_by != crate::crawl::FOUND_START;
                (known_elsewhere && indexable(site, id) && inlinks(site, id).next().is_none())
                    .then(|| json!({ "found_by": r.found_by }))
            },
        ),
        graph(
            info(
                "crawl-depth-high",
                Severity::Notice,
                "Page more than 3 clicks from the start",
                "Deep pages are crawled less often and seen as less important.",
                "Link to it from higher up (navigation, hubs, related links).",
            ),
            |site, g, id| {
                let d = *g.depth.get(site.position(id)?)?;
                let d = (d != UNREACHED).then_some(d)?;
                (d > site.thresholds.max_click_depth).then(|| json!({ "depth": d }))
            },
        ),
        graph(
            info(
                "single-inlink",
                Severity::Notice,
                "Indexable page linked from only one page",
                "One link is a thin path for crawlers and visitors.",
                "Add links from related pages.",
            ),
            |site, _, id| {
                // One page or more is all this asks: no set of every page linking here
                // (the navigation's targets have a link from every page).
                let mut from = inlinks(site, id)
                    .filter(|l| followed(site, l))
                    .map(|l| l.from);
                let first = from.next()?;
                if from.any(|f| f != first) || !indexable(site, id) {
                    return None;
                }
                let source = site.get(first)?;
                Some(json!({ "from": source.url }))
            },
        ),
        graph(
            info(
                "nofollow-inlinks-only",
                Severity::Warning,
                "Every internal link to the page is nofollow",
                "Crawlers are told not to follow any path to this page.",
                "Remove nofollow from internal links to it.",
            ),
            |site, _, id| {
                let mut n = 0;
                for l in inlinks(site, id) {
                    if followed(site, &l) {
                        return None;
                    }
                    n += 1;
                }
                (n > 0).then(|| json!({ "inlinks": n }))
            },
        ),
        graph(
            info(
                "mixed-follow-inlinks",
                Severity::Notice,
                "Page linked both with and without nofollow",
                "Inconsistent signals about whether the page matters.",
                "Use one policy for links to this page.",
            ),
            |site, _, id| {
                let (mut f, mut n) = (0, 0);
                for l in inlinks(site, id) {
                    if followed(site, &l) {
                        f += 1;
                    } else {
                        n += 1;
                    }
                }
                (f > 0 && n > 0).then(|| json!({ "followed": f, "nofollow": n }))
            },
        ),
        graph(
            info(
                "inlinks-only-from-non-indexable",
                Severity::Notice,
                "Linked only from non-indexable pages",
                "Links from noindex or canonicalised pages count for little.",
                "Link to it from indexable pages.",
            ),
            |site, _, id| {
                // The first indexable page linking here settles it; the pages are
                // gathered only for a finding. A page's links to one target come one
                // after the other: each page is asked once.
                let mut last = None;
                for l in inlinks(site, id) {
                    if last != Some(l.from) {
                        if indexable(site, l.from) {
                            return None;
                        }
                        last = Some(l.from);
                    }
                }
                last?;
                let from: HashSet<UrlId> = inlinks(site, id).map(|l| l.from).collect();
                Some(json!({ "linking_pages": from.len() }))
            },
        ),
        graph(
            info(
                "no-outlinks",
                Severity::Warning,
                "Page without any links",
                "A dead end for visitors and crawlers.",
                "Add navigation and related links.",
            ),
            |site, _, id| {
                let any = site.outlinks(id).any(|l| l.kind == "a");
                (!any).then(|| json!({}))
            },
        ),
        graph(
            info(
                "no-internal-outlinks",
                Severity::Warning,
                "Page links only to other sites",
                "Visitors and crawlers leave the site from here.",
                "Link to related pages of your own site.",
            ),
            |site, _, id| {
                if !site.has_outlinks(id) {
                    return None;
                }
                let anchors: Vec<LinkRef> = site.outlinks(id).filter(|l| l.kind == "a").collect();
                let internal = anchors.iter().any(|l| {
                    !nofollow(l)
                        && site
                            .get(l.to)
                            .is_some_and(|t| t.scope == UrlScope::Internal)
                });
                (!anchors.is_empty() && !internal).then(|| json!({ "links": anchors.len() }))
            },
        ),
        graph(
            info(
                "too-many-links",
                Severity::Warning,
                "More than 3,000 links on the page",
                "Crawlers may not follow them all, and each passes little weight.",
                "Split the page or trim the navigation.",
            ),
            |site, _, id| {
                let n = site.outlinks(id).filter(|l| l.kind == "a").count();
                (n > site.thresholds.max_links).then(|| json!({ "links": n }))
            },
        ),
        graph(
            info(
                "many-external-links",
                Severity::Notice,
                "More than 100 external links on the page",
                "Often link spam or an unmaintained link list.",
                "Review the outbound links.",
            ),
            |site, _, id| {
                let ext: HashSet<UrlId> = site
                    .outlinks(id)
                    .filter(|l| {
                        l.kind == "a"
                            && site
                                .get(l.to)
                                .is_some_and(|t| t.scope == UrlScope::External)
                    })
                    .map(|l| l.to)
                    .collect();
                (ext.len() > site.thresholds.max_external_links)
                    .then(|| json!({ "external": ext.len() }))
            },
        ),
        Box::new(LinksToCanonicalised),
    ]
}

/// `links-to-canonicalised`: followed internal links to URLs that name another canonical.
struct LinksToCanonicalised;

const TO_CANON: CheckInfo = info(
    "links-to-canonicalised",
    Severity::Notice,
    "Link to a URL that names another canonical",
    "Linking the canonical URL directly is clearer for crawlers.",
    "Point the link at the canonical URL.",
);

impl Check for LinksToCanonicalised {
    fn info(&self) -> &CheckInfo {
        &TO_CANON
    }

    // Per target page: its findings (by linking page) list in the order a walk of the
    // pages would give, as the per-page pass ranks them by the target's position.
    fn per_page(&self) -> Option<&dyn PerPage> {
        Some(self)
    }
}

impl PerPage for LinksToCanonicalised {
    fn eval_page(&self, site: &SiteData, p: &PageView<'_>, out: &mut super::Findings) {
        if p.non_indexable_reason() != Some("canonicalised to another URL") {
            return;
        }
        for l in p
            .inlinks
            .iter()
            .filter(|l| followed(site, l) && l.from != l.to)
        {
            let Some(from) = site.get(l.from).filter(|f| f.scope == UrlScope::Internal) else {
                continue;
            };
            out.push(Finding {
                check_id: TO_CANON.id,
                severity: TO_CANON.severity,
                url: Some(from.url.clone()),
                details: json!({ "target": p.record.url, "canonical": p.facts.and_then(|f| f.canonicals.first()) }),
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

    #[test]
    fn depth_orphans_and_inlinks() {
        let mut t =
            TestSite::new().start(|r| r.set_facts(Some(crate::store::raw_json(&json!({})))));
        for p in ["/d1", "/d2", "/d3", "/d4"] {
            t = html(t, p);
        }
        // "/" links to all of them (fixture); make /d4 reachable only through the chain.
        t = t
            .linked_as("/d2", "img")
            .linked_as("/d3", "img")
            .linked_as("/d4", "img")
            .link("/d1", "/d2", "a")
            .link("/d2", "/d3", "a")
            .link("/d3", "/d4", "a");
        t = t.unlinked("/orphan", Some(200), |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))));
            r.in_sitemap = true;
        });
        assert_eq!(t.fired("crawl-depth-high"), ["/d4"]);
        assert_eq!(t.fired("orphan-page"), ["/orphan"]);
        assert!(t.fired("single-inlink").contains(&"/d4".to_string()));
        assert!(!t.fired("single-inlink").contains(&"/".to_string()));
        assert_eq!(t.fired("no-outlinks"), ["/d4", "/orphan"]);
    }

    #[test]
    fn follow_flags_and_outlinks() {
        let mut t =
            TestSite::new().start(|r| r.set_facts(Some(crate::store::raw_json(&json!({})))));
        t = html(t, "/nf");
        t = html(t, "/mixed");
        t = html(t, "/other");
        t = t.rel("/nf", "nofollow").rel("/mixed", "nofollow");
        t = t.link("/other", "/mixed", "a");
        // /other links /mixed with follow; / links it nofollow.
        assert_eq!(t.fired("nofollow-inlinks-only"), ["/nf"]);
        assert_eq!(t.fired("mixed-follow-inlinks"), ["/mixed"]);
        let mut ext =
            TestSite::new().start(|r| r.set_facts(Some(crate::store::raw_json(&json!({})))));
        ext = ext.page("/x", Some(200), None, |r| {
            r.url = "http://elsewhere.example/x".into();
            r.scope = crate::store::UrlScope::External;
        });
        assert_eq!(ext.fired("no-internal-outlinks"), ["/"]);
    }

    /// A page's own robots meta or crawler directive saying nofollow (or none), in any
    /// case and among other tokens, makes its links unfollowed; other tokens do not.
    #[test]
    fn page_level_nofollow_in_any_case() {
        let facts = |v: serde_json::Value| Some(crate::store::raw_json(&v));
        let mut t = TestSite::new().start(|r| r.set_facts(facts(json!({}))));
        t = t.page("/meta", Some(200), None, |r| {
            r.set_facts(facts(json!({ "meta_robots": ["Index, NoFollow"] })))
        });
        t = t.page("/directive", Some(200), None, |r| {
            r.set_facts(facts(json!({ "directives": [{ "name": "googlebot", "value": " NONE ", "in_body": false }] })))
        });
        t = t.page("/plain", Some(200), None, |r| {
            r.set_facts(facts(
                json!({ "meta_robots": ["index,follow,nofollowers"] }),
            ))
        });
        for target in ["/x", "/y", "/z"] {
            t = html(t, target);
        }
        t = t
            .link("/meta", "/x", "a")
            .link("/directive", "/y", "a")
            .link("/plain", "/z", "a");
        // Each target is also linked, followed, from the start page.
        assert_eq!(t.fired("mixed-follow-inlinks"), ["/x", "/y"]);
    }

    /// Pages are counted once however many links they give (a page linking twice is
    /// still a single inlink), and links once each.
    #[test]
    fn repeated_links_count_pages_once_and_links_each() {
        let mut t =
            TestSite::new().start(|r| r.set_facts(Some(crate::store::raw_json(&json!({})))));
        for p in ["/a", "/twice", "/y", "/z", "/nf"] {
            t = html(t, p);
        }
        // "/" links every page once (fixture).
        t = t
            .link("/", "/twice", "a")
            .link("/a", "/y", "a")
            .link("/a", "/z", "a")
            .link("/a", "/z", "a")
            .rel_of("/", "/z", "nofollow")
            .link("/", "/nf", "a")
            .rel("/nf", "nofollow");
        let single = t.fired("single-inlink");
        assert!(single.contains(&"/twice".to_string()), "{single:?}");
        assert!(!single.contains(&"/y".to_string()), "{single:?}");
        let details = |id: &str| -> Vec<(String, serde_json::Value)> {
            t.findings(id)
                .into_iter()
                .map(|f| (f.url.unwrap_or_default(), f.details))
                .collect()
        };
        let url = |p: &str| format!("http://site.example{p}");
        assert_eq!(
            details("single-inlink")
                .into_iter()
                .find(|(u, _)| *u == url("/twice"))
                .map(|(_, d)| d),
            Some(json!({ "from": url("/") }))
        );
        assert_eq!(
            details("mixed-follow-inlinks"),
            [(url("/z"), json!({ "followed": 2, "nofollow": 1 }))]
        );
        assert_eq!(
            details("nofollow-inlinks-only"),
            [(url("/nf"), json!({ "inlinks": 2 }))]
        );
        let noindex = || {
            Some(crate::store::raw_json(
                &json!({ "meta_robots": ["noindex"] }),
            ))
        };
        let mut n = TestSite::new().start(|r| r.set_facts(noindex()));
        n = n.page("/n2", Some(200), None, |r| r.set_facts(noindex()));
        n = html(n, "/main");
        n = n
            .link("/", "/main", "a")
            .link("/n2", "/main", "a")
            .link("/n2", "/main", "a");
        let found: Vec<_> = n
            .findings("inlinks-only-from-non-indexable")
            .into_iter()
            .map(|f| (f.url.unwrap_or_default(), f.details))
            .collect();
        assert!(
            found.contains(&(url("/main"), json!({ "linking_pages": 2 }))),
            "{found:?}"
        );
        // An indexable page among them ends it.
        n = html(n, "/ok").link("/ok", "/main", "a");
        assert!(
            !n.fired("inlinks-only-from-non-indexable")
                .contains(&"/main".to_string())
        );
    }

    #[test]
    fn non_indexable_sources_and_canonicalised_targets() {
        let mut t = TestSite::new().start(|r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "meta_robots": ["noindex"] }),
            )))
        });
        t = t.page("/dup", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "canonicals": ["http://site.example/main"] }),
            )))
        });
        t = html(t, "/main");
        assert!(
            t.fired("inlinks-only-from-non-indexable")
                .contains(&"/main".to_string())
        );
        let t2 = TestSite::new()
            .start(|r| r.set_facts(Some(crate::store::raw_json(&json!({})))))
            .page("/dup", Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &json!({ "canonicals": ["http://site.example/main"] }),
                )))
            });
        assert_eq!(t2.fired("links-to-canonicalised"), ["/"]);
    }
}
