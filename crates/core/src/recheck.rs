//! `recheck`: fetch again only what failed in a crawl (and, if asked, the
//! pages that linked to it, to see whether the links are gone), store the
//! answers as a new crawl linked to the old one (`recheck_of` in its
//! configuration), and compare: fixed, still failing, changed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;
use url::Url;

use crate::checks::SiteData;
use crate::crawl::{CrawlError, Fetched, Target, fetch_page};
use crate::fetch::Fetcher;
use crate::model::{FailureKind, Outcome};
use crate::report::CrawlReport;
use crate::store::{CrawlId, LinkRow, NewUrl, Store, UrlId, UrlResult, UrlScope, WriteOp};
use crate::url::fingerprint;

/// One re-checked URL.
#[derive(Debug, Clone, Serialize)]
pub struct RecheckRow {
    /// The URL.
    pub url: String,
    /// `fixed`, `still-failing` or `changed` (failing differently).
    pub verdict: &'static str,
    /// The problem before (`http-502`, `connect-refused`, …).
    pub before: String,
    /// The outcome now (`200`, `http-502`, `read-timeout`, …).
    pub after: String,
}

/// A page that linked to a failing URL, fetched again.
#[derive(Debug, Clone, Serialize)]
pub struct ReferrerRow {
    /// The linking page.
    pub page: String,
    /// The failing URL it linked to.
    pub target: String,
    /// Whether it still links to it (`None`: the page itself could not be read).
    pub still_links: Option<bool>,
}

/// What a recheck found.
#[derive(Debug, Clone, Serialize)]
pub struct RecheckSummary {
    /// The new crawl holding the answers.
    pub crawl_id: CrawlId,
    /// The crawl re-checked.
    pub recheck_of: CrawlId,
    /// Each URL that failed, fetched again.
    pub results: Vec<RecheckRow>,
    /// With referrers: each linking page and whether it still links.
    pub referrers: Vec<ReferrerRow>,
}

impl RecheckSummary {
    /// Counts by verdict.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.results {
            *m.entry(r.verdict).or_default() += 1;
        }
        m
    }
}

/// The problem key of an outcome, as the report names it (`None`: it works).
fn problem_of(outcome: &Outcome) -> Option<String> {
    match (&outcome.failure, outcome.status()) {
        (Some(f), _) if f.is_error() => Some(f.id().to_string()),
        (_, Some(s)) if s >= 400 => Some(format!("http-{s}")),
        _ => None,
    }
}

/// Re-checks crawl `of` into a new crawl of `store`.
pub async fn recheck(
    store: Arc<dyn Store>,
    of: CrawlId,
    with_referrers: bool,
) -> Result<RecheckSummary, CrawlError> {
    let site = SiteData::load(store.as_ref(), of)?;
    let report = CrawlReport::from_site(&site, None);
    let mut config = site.info.config.clone();
    config.recheck_of = Some(of);
    let fetcher = Arc::new(Fetcher::new(&config)?);
    let crawl = store.create_crawl(&config)?;
    let failing: Vec<_> = report.problems.iter().filter(|p| p.is_error()).collect();

    // The URLs of the new crawl: failing ones first, then their referrers.
    let mut ids: HashMap<String, UrlId> = HashMap::new();
    let mut new = Vec::new();
    let mut add = |url: &str, scope: UrlScope, found_by: &'static str, new: &mut Vec<NewUrl>| {
        let next = ids.len() as UrlId + 1;
        *ids.entry(url.to_string()).or_insert_with(|| {
            new.push(NewUrl {
                id: next,
                url: url.to_string(),
                fingerprint: Url::parse(url).map_or(u64::from(next), |u| fingerprint(&u)),
                depth: 0,
                scope,
                found_by,
                in_sitemap: false,
            });
            next
        })
    };
    for p in &failing {
        add(&p.url, p.scope, crate::crawl::FOUND_START, &mut new);
    }
    let mut referrers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if with_referrers {
        for p in &failing {
            for l in &p.linked_from {
                let internal = site
                    .by_url(&l.url)
                    .is_some_and(|r| r.scope == UrlScope::Internal && r.found_by != "sitemap-file");
                if internal && matches!(l.kind, "a" | "img" | "script" | "css" | "iframe" | "media")
                {
                    referrers
                        .entry(l.url.clone())
                        .or_default()
                        .push(p.url.clone());
                }
            }
        }
        for page in referrers.keys() {
            add(page, UrlScope::Internal, "a", &mut new);
        }
    }
    store.write(crawl, WriteOp::Queue(new))?;

    let limit = Arc::new(tokio::sync::Semaphore::new(config.per_host.max(1)));
    let mut tasks: JoinSet<(String, Option<Vec<u64>>, UrlResult)> = JoinSet::new();
    for p in &failing {
        let (url, id) = (p.url.clone(), ids[&p.url]);
        let (fetcher, limit) = (fetcher.clone(), limit.clone());
        tasks.spawn(async move {
            let _slot = limit.acquire_owned().await;
            let Ok(u) = Url::parse(&url) else {
                let result = failed(
                    id,
                    FailureKind::InvalidUrl {
                        reason: "not a URL".into(),
                    },
                );
                return (url, None, result);
            };
            let (hops, outcome) = fetcher.follow(&u, false).await;
            let hops = if hops.len() > 1 { hops } else { Vec::new() };
            (
                url,
                None,
                UrlResult {
                    id,
                    outcome,
                    robots_disallowed: false,
                    facts: None,
                    body_snippet: None,
                    hops,
                },
            )
        });
    }
    for page in referrers.keys() {
        let (url, id) = (page.clone(), ids[page]);
        let (fetcher, limit) = (fetcher.clone(), limit.clone());
        tasks.spawn(async move {
            let _slot = limit.acquire_owned().await;
            let Ok(u) = Url::parse(&url) else {
                return (
                    url,
                    None,
                    failed(
                        id,
                        FailureKind::InvalidUrl {
                            reason: "not a URL".into(),
                        },
                    ),
                );
            };
            match fetch_page(&fetcher, &u, true).await {
                Fetched::Page {
                    outcome,
                    links,
                    facts,
                    snippet,
                } => {
                    let fps: Vec<u64> = links
                        .iter()
                        .filter_map(|l| match &l.target {
                            Target::Url(t) => Some(fingerprint(t)),
                            Target::Invalid { .. } => None,
                        })
                        .collect();
                    let readable =
                        outcome.failure.is_none() && outcome.status().is_some_and(|s| s < 300);
                    let result = UrlResult {
                        id,
                        outcome,
                        robots_disallowed: false,
                        facts,
                        body_snippet: snippet,
                        hops: Vec::new(),
                    };
                    (url, readable.then_some(fps), result)
                }
                _ => (
                    url,
                    None,
                    failed(
                        id,
                        FailureKind::InvalidResponse {
                            reason: "not a page".into(),
                        },
                    ),
                ),
            }
        });
    }
    let mut results = Vec::new();
    let mut referrer_rows = Vec::new();
    let before: HashMap<&str, &str> = failing
        .iter()
        .map(|p| (p.url.as_str(), p.problem.as_str()))
        .collect();
    while let Some(joined) = tasks.join_next().await {
        let (url, links, result) = match joined {
            Ok(v) => v,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => continue,
        };
        let mut link_rows = Vec::new();
        if let Some(targets) = referrers.get(&url) {
            for t in targets {
                let fp = Url::parse(t).map(|u| fingerprint(&u)).ok();
                let still = links
                    .as_ref()
                    .map(|fps| fp.is_some_and(|fp| fps.contains(&fp)));
                if still == Some(true) {
                    link_rows.push(LinkRow {
                        from: result.id,
                        to: ids[t],
                        kind: "a".into(),
                        text: None,
                        rel: None,
                    });
                }
                referrer_rows.push(ReferrerRow {
                    page: url.clone(),
                    target: t.clone(),
                    still_links: still,
                });
            }
        }
        if let Some(was) = before.get(url.as_str()) {
            let now = problem_of(&result.outcome);
            let (verdict, after) = match &now {
                None => (
                    "fixed",
                    result
                        .outcome
                        .status()
                        .map_or("ok".into(), |s| s.to_string()),
                ),
                Some(k) if k == was => ("still-failing", k.clone()),
                Some(k) => ("changed", k.clone()),
            };
            results.push(RecheckRow {
                url: url.clone(),
                verdict,
                before: (*was).to_string(),
                after,
            });
        }
        store.write(
            crawl,
            WriteOp::Done {
                result: Box::new(result),
                new_urls: Vec::new(),
                links: link_rows,
            },
        )?;
    }
    store.flush()?;
    store.set_state(crawl, "finished")?;
    results.sort_by(|a, b| a.url.cmp(&b.url));
    referrer_rows.sort_by(|a, b| (&a.page, &a.target).cmp(&(&b.page, &b.target)));
    Ok(RecheckSummary {
        crawl_id: crawl,
        recheck_of: of,
        results,
        referrers: referrer_rows,
    })
}

fn failed(id: UrlId, kind: FailureKind) -> UrlResult {
    UrlResult {
        id,
        outcome: Outcome::failed(kind),
        robots_disallowed: false,
        facts: None,
        body_snippet: None,
        hops: Vec::new(),
    }
}
