//! Category 6: redirects. Internal redirects are stored one hop per URL, so chains are
//! rebuilt from the stored `location`s ([`SiteData::chain`]).

use std::collections::BTreeSet;

use serde_json::json;

use super::{Check, CheckInfo, Evidence, PageView, SiteData};
use crate::model::{Finding, RedirectHop, Severity};
use crate::store::UrlScope;

fn is_redirect(s: u16) -> bool {
    matches!(s, 301 | 302 | 303 | 307 | 308)
}

/// Fires on internal URLs answering one of `codes`, with the redirect's evidence.
fn answers(p: &PageView<'_>, codes: &[u16]) -> Evidence {
    let fires = p.internal() && p.status().is_some_and(|s| codes.contains(&s));
    fires.then(|| {
        let mut v = p.evidence();
        v["location"] = json!(p.record.location());
        (None, v)
    })
}

fn hops_json(chain: &[RedirectHop]) -> serde_json::Value {
    json!(
        chain
            .iter()
            .map(|h| json!({ "url": h.url, "status": h.status }))
            .collect::<Vec<_>>()
    )
}

/// A check over every internal redirecting URL's chain.
struct ChainCheck {
    info: CheckInfo,
    eval: fn(&SiteData, &PageView<'_>, &[RedirectHop]) -> Evidence,
}

impl Check for ChainCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site.pages() {
            if !p.internal() || p.record.location().is_none() {
                continue;
            }
            let chain = site.chain(p.record);
            if let Some((sev, details)) = (self.eval)(site, &p, &chain) {
                out.push(Finding {
                    check_id: self.info.id,
                    severity: sev.unwrap_or(self.info.severity),
                    url: Some(p.record.url.clone()),
                    details,
                });
            }
        }
    }
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
        category: 6,
        severity,
        title,
        why,
        fix,
    }
}

/// Whether the chain comes back to a URL it visited.
fn loops(chain: &[RedirectHop]) -> bool {
    chain
        .last()
        .is_some_and(|last| chain[..chain.len() - 1].iter().any(|h| h.url == last.url))
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "redirect-permanent",
            6,
            Notice,
            "Internal URL redirects permanently (301/308)",
            "Every link to it costs a round trip; links should point straight at the destination.",
            "Update the links to point at the redirect's destination.",
            |p| answers(p, &[301, 308]),
        ),
        page_check!(
            "redirect-temporary",
            6,
            Warning,
            "Internal URL redirects temporarily (302/303/307)",
            "Search engines keep the source URL indexed and may not pass signals to the target.",
            "Use 301/308 if the move is permanent, or link to the destination directly.",
            |p| answers(p, &[302, 303, 307]),
        ),
        Box::new(ChainCheck {
            info: info(
                "redirect-chain",
                Severity::Warning,
                "Redirect chain of 2 or more hops",
                "Each hop costs time and crawl budget; Google stops after 10 hops.",
                "Redirect the first URL straight to the final destination and update links.",
            ),
            eval: |_, _, chain| {
                let hops = chain
                    .iter()
                    .filter(|h| h.status.is_some_and(is_redirect))
                    .count();
                (hops >= 2 && !loops(chain)).then(|| {
                    let sev = (hops > 5).then_some(Severity::Error);
                    (sev, json!({ "hops": hops, "chain": hops_json(chain) }))
                })
            },
        }),
        Box::new(ChainCheck {
            info: info(
                "redirect-loop",
                Severity::Error,
                "Redirect loop",
                "The URL never resolves: browsers show an error and crawlers give up.",
                "Break the loop: make one URL in the chain answer 200 (or 404/410).",
            ),
            eval: |_, _, chain| loops(chain).then(|| (None, json!({ "chain": hops_json(chain) }))),
        }),
        Box::new(ChainCheck {
            info: info(
                "redirect-broken",
                Severity::Error,
                "Redirect chain ends in an error",
                "Visitors following the link end on an error page.",
                "Point the redirect at a working URL, or remove it and fix the links.",
            ),
            eval: |site, _, chain| {
                if loops(chain) {
                    return None;
                }
                let last = site.by_url(&chain.last()?.url)?;
                let broken = last.status.is_some_and(|s| s >= 400)
                    || last.failure().is_some_and(|f| f.is_error());
                broken.then(|| {
                    (
                        None,
                        json!({
                            "final_url": last.url,
                            "final_status": last.status,
                            "final_failure": last.failure().map(|f| f.id()),
                            "chain": hops_json(chain),
                        }),
                    )
                })
            },
        }),
        Box::new(ChainCheck {
            info: info(
                "redirect-to-non-indexable",
                Severity::Warning,
                "Redirect chain ends on a non-indexable page",
                "Signals are passed to a page search engines will not index.",
                "Redirect to the indexable version of the page.",
            ),
            eval: |site, _, chain| {
                if loops(chain) {
                    return None;
                }
                let last = site.by_url(&chain.last()?.url)?;
                if !last.status.is_some_and(|s| (200..300).contains(&s)) {
                    return None;
                }
                let reason = site.view(last).non_indexable_reason()?;
                Some((None, json!({ "final_url": last.url, "reason": reason })))
            },
        }),
        page_check!(
            "redirect-location-missing",
            6,
            Error,
            "Redirect without a Location header",
            "Clients do not know where to go: the URL is a dead end.",
            "Send a Location header with every 3xx redirect.",
            |p| {
                let fires = p.internal()
                    && p.status().is_some_and(is_redirect)
                    && p.record.location().is_none_or(|l| l.trim().is_empty());
                fires.then(|| (None, p.evidence()))
            },
        ),
        page_check!(
            "redirect-location-invalid",
            6,
            Error,
            "Redirect Location is not a valid http(s) URL",
            "Clients cannot follow the redirect.",
            "Send an absolute http(s) URL (or a valid relative reference) in Location.",
            |p| {
                let loc = p.record.location()?;
                let bad = p.internal() && crate::url::normalize(loc).is_err();
                bad.then(|| (None, json!({ "status": p.status(), "location": loc })))
            },
        ),
        Box::new(ChainCheck {
            info: info(
                "redirect-offsite",
                Severity::Notice,
                "Internal URL redirects to another site",
                "Visitors and signals leave the site.",
                "Check the redirect is intended; link to the other site directly if it is.",
            ),
            eval: |site, p, _| {
                let target = crate::url::normalize(p.record.location()?).ok()?;
                let rec = site.by_url(target.as_str())?;
                (rec.scope == UrlScope::External).then(|| (None, json!({ "location": rec.url })))
            },
        }),
        Box::new(HomepageBulk),
        page_check!(
            "redirect-unlinked",
            6,
            Notice,
            "Redirecting URL that no page links to",
            "It is only known from a sitemap or elsewhere; sitemaps should list final URLs.",
            "List the destination in the sitemap instead, or drop the old URL.",
            |p| {
                let linked = p
                    .inlinks
                    .iter()
                    .any(|l| !matches!(l.kind.as_str(), "sitemap" | "sitemap-file" | "redirect"));
                let fires = p.internal() && p.status().is_some_and(is_redirect) && !linked;
                fires.then(|| {
                    (
                        None,
                        json!({ "location": p.record.location(), "in_sitemap": p.record.in_sitemap }),
                    )
                })
            },
        ),
        Box::new(MetaRefresh),
        page_check!(
            "refresh-header-redirect",
            6,
            Warning,
            "A Refresh header sends visitors elsewhere",
            "A Refresh header is a slow, non-standard redirect that search engines may not follow.",
            "Use an HTTP 301/308 redirect instead.",
            |p| {
                let v = p.header("refresh")?;
                let target = v.split_once(';').map(|(_, t)| t.trim())?;
                let fires = p.internal() && target.to_ascii_lowercase().starts_with("url=");
                fires.then(|| (None, json!({ "refresh": v })))
            },
        ),
    ]
}

/// `redirect-to-homepage-bulk`: many internal URLs redirect to the start page.
struct HomepageBulk;

const BULK: CheckInfo = info(
    "redirect-to-homepage-bulk",
    Severity::Warning,
    "Many URLs redirect to the homepage",
    "Google treats irrelevant redirects to the homepage as soft 404s.",
    "Redirect each old URL to its closest replacement, or answer 404/410.",
);

impl Check for HomepageBulk {
    fn info(&self) -> &CheckInfo {
        &BULK
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let homes: BTreeSet<&str> = site
            .urls
            .iter()
            .filter(|u| u.found_by == crate::crawl::FOUND_START)
            .map(|u| u.url.as_str())
            .collect();
        let mut sources = Vec::new();
        for p in site
            .pages()
            .filter(|p| p.internal() && p.record.location().is_some())
        {
            let chain = site.chain(p.record);
            if let Some(last) = chain.last()
                && chain.len() > 1
                && homes.contains(last.url.as_str())
                && !homes.contains(p.record.url.as_str())
            {
                sources.push(p.record.url.clone());
            }
        }
        if sources.len() > site.thresholds.homepage_redirects {
            out.push(Finding {
                check_id: BULK.id,
                severity: BULK.severity,
                url: None,
                details: json!({ "count": sources.len(), "examples": &sources[..site.thresholds.homepage_redirects] }),
            });
        }
    }
}

/// `meta-refresh-redirect`: a page whose meta refresh points at another URL.
struct MetaRefresh;

const META_REFRESH: CheckInfo = info(
    "meta-refresh-redirect",
    Severity::Warning,
    "Meta refresh redirect",
    "A meta refresh is slower than an HTTP redirect, bad for accessibility, and not always treated as a redirect.",
    "Replace it with an HTTP 301/308 redirect.",
);

impl Check for MetaRefresh {
    fn info(&self) -> &CheckInfo {
        &META_REFRESH
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for l in site
            .links
            .iter()
            .filter(|l| l.kind == "meta-refresh" && l.from != l.to)
        {
            let (Some(from), Some(to)) = (site.get(l.from), site.get(l.to)) else {
                continue;
            };
            if from.scope == UrlScope::Internal {
                out.push(Finding {
                    check_id: META_REFRESH.id,
                    severity: META_REFRESH.severity,
                    url: Some(from.url.clone()),
                    details: json!({ "target": to.url }),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::TestSite;
    use crate::model::FailureKind;

    fn to(path: &str) -> Option<Box<str>> {
        Some(format!("http://site.example{path}").into())
    }

    #[test]
    fn permanent_temporary_chains_loops_and_broken_ends() {
        let site = TestSite::new()
            .page("/p301", Some(301), None, |r| {
                r.set_location(to("/ok").as_deref())
            })
            .page("/p302", Some(302), None, |r| {
                r.set_location(to("/ok").as_deref())
            })
            .page("/ok", Some(200), None, |_| {})
            .page("/c1", Some(301), None, |r| {
                r.set_location(to("/c2").as_deref())
            })
            .page("/c2", Some(308), None, |r| {
                r.set_location(to("/ok").as_deref())
            })
            .page("/l1", Some(301), None, |r| {
                r.set_location(to("/l2").as_deref())
            })
            .page("/l2", Some(301), None, |r| {
                r.set_location(to("/l1").as_deref())
            })
            .page("/b", Some(301), None, |r| {
                r.set_location(to("/dead").as_deref())
            })
            .page("/dead", Some(404), None, |_| {})
            .page("/n", Some(307), None, |r| {
                r.set_location(to("/down").as_deref())
            })
            .page("/down", None, Some(FailureKind::ConnectRefused), |_| {});
        assert_eq!(
            site.fired("redirect-permanent"),
            ["/p301", "/c1", "/c2", "/l1", "/l2", "/b"]
        );
        assert_eq!(site.fired("redirect-temporary"), ["/p302", "/n"]);
        assert_eq!(site.fired("redirect-chain"), ["/c1"]);
        assert_eq!(site.fired("redirect-loop"), ["/l1", "/l2"]);
        assert_eq!(site.fired("redirect-broken"), ["/b", "/n"]);
    }

    #[test]
    fn long_chains_escalate_to_error() {
        let mut site = TestSite::new();
        for i in 0..7 {
            site = site.page(&format!("/h{i}"), Some(301), None, |r| {
                r.set_location(to(&format!("/h{}", i + 1)).as_deref())
            });
        }
        site = site.page("/h7", Some(200), None, |_| {});
        let out = site.findings("redirect-chain");
        let first = out
            .iter()
            .find(|f| f.url.as_deref() == Some("http://site.example/h0"))
            .unwrap();
        assert_eq!(first.severity, crate::model::Severity::Error);
        assert_eq!(first.details["hops"], 7);
        let short = out
            .iter()
            .find(|f| f.url.as_deref() == Some("http://site.example/h5"))
            .unwrap();
        assert_eq!(short.severity, crate::model::Severity::Warning);
    }

    #[test]
    fn location_problems_offsite_and_unlinked() {
        let site = TestSite::new()
            .page("/noloc", Some(301), None, |_| {})
            .page("/badloc", Some(302), None, |r| {
                r.set_location(Some("http://[bad"))
            })
            .page("/away", Some(301), None, |r| {
                r.set_location(Some("http://other.test/"))
            })
            .page("/x", Some(200), None, |r| {
                r.url = "http://other.test/".into();
                r.scope = crate::store::UrlScope::External;
            })
            .unlinked("/old", Some(301), |r| {
                r.set_location(to("/").as_deref());
                r.in_sitemap = true;
            })
            .page("/ok", Some(200), None, |_| {});
        assert_eq!(site.fired("redirect-location-missing"), ["/noloc"]);
        assert_eq!(site.fired("redirect-location-invalid"), ["/badloc"]);
        assert_eq!(site.fired("redirect-offsite"), ["/away"]);
        assert_eq!(site.fired("redirect-unlinked"), ["/old"]);
    }

    #[test]
    fn non_indexable_targets_bulk_homepage_and_refresh() {
        let mut site = TestSite::new()
            .page("/to-noindex", Some(301), None, |r| {
                r.set_location(to("/noindex").as_deref())
            })
            .page("/noindex", Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &serde_json::json!({ "meta_robots": ["noindex, follow"] }),
                )))
            })
            .page("/to-canon", Some(301), None, |r| {
                r.set_location(to("/canon").as_deref())
            })
            .page("/canon", Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &serde_json::json!({ "canonicals": ["http://site.example/ok"] }),
                )))
            })
            .page("/to-ok", Some(301), None, |r| {
                r.set_location(to("/ok").as_deref())
            })
            .page("/ok", Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &serde_json::json!({ "canonicals": ["http://site.example/ok"] }),
                )))
            })
            .page("/refresh", Some(200), None, |r| {
                r.headers.push(("refresh".into(), "0; url=/ok".into()))
            })
            .page("/reload", Some(200), None, |r| {
                r.headers.push(("refresh".into(), "30".into()))
            })
            .page("/meta", Some(200), None, |_| {})
            .link("/meta", "/ok", "meta-refresh");
        assert_eq!(
            site.fired("redirect-to-non-indexable"),
            ["/to-noindex", "/to-canon"]
        );
        assert_eq!(site.fired("refresh-header-redirect"), ["/refresh"]);
        assert_eq!(site.fired("meta-refresh-redirect"), ["/meta"]);
        assert!(site.fired("redirect-to-homepage-bulk").is_empty());
        for i in 0..11 {
            site = site.page(&format!("/gone{i}"), Some(301), None, |r| {
                r.set_location(to("/").as_deref())
            });
        }
        assert_eq!(site.fired("redirect-to-homepage-bulk"), [""]);
    }
}
