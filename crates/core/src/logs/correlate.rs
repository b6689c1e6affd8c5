//! `siteaudit logs --crawl CRAWL`: the crawl's view of the same requests.
//! Which failing URLs the logs explain, which the logs never saw (the request
//! never reached this server, or the logs cover another time), and which log
//! errors the crawl never saw. The crawl's view also settles causes the logs
//! alone cannot (a crawler that timed out first, an invalid answer logged as 200).

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::classify::ClientSaw;
use super::report::{ClientViews, LogReport};
use crate::model::FailureKind;
use crate::store::{CrawlId, Store, StoreError, UrlRecord, UrlScope};

/// A failing crawled URL the logs explain.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    /// The URL.
    pub url: String,
    /// What the crawl saw (status or failure id).
    pub crawl_saw: String,
    /// Failing requests to it in the logs.
    pub log_requests: u64,
    /// The status the server logged last.
    pub log_status: u16,
    /// The cause the logs give.
    pub cause: &'static str,
}

/// A failing crawled URL the logs have no failing request for.
#[derive(Debug, Clone, Serialize)]
pub struct NotInLogs {
    /// The URL.
    pub url: String,
    /// What the crawl saw.
    pub crawl_saw: String,
    /// Whether the logs hold a request to it at all (answered fine there).
    pub logged_ok: bool,
}

/// A target that failed in the logs but not in the crawl.
#[derive(Debug, Clone, Serialize)]
pub struct Unseen {
    /// Request target.
    pub target: String,
    /// Failing requests in the logs.
    pub log_requests: u64,
    /// Last status logged.
    pub log_status: u16,
    /// Cause.
    pub cause: &'static str,
    /// Whether the crawl fetched it (and it answered fine then).
    pub crawled: bool,
}

/// The comparison of a crawl with the logs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Correlation {
    /// The crawl.
    pub crawl: CrawlId,
    /// Failing crawled URLs the logs explain.
    pub explained: Vec<Explained>,
    /// Failing crawled URLs with no failing request in the logs.
    pub not_in_logs: Vec<NotInLogs>,
    /// Log failures the crawl never saw fail.
    pub unseen_by_crawl: Vec<Unseen>,
}

fn target_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    })
}

fn saw(r: &UrlRecord) -> Option<ClientSaw> {
    match (r.failure(), r.status) {
        (Some(FailureKind::ReadTimeout | FailureKind::ConnectTimeout), _) => {
            Some(ClientSaw::Timeout)
        }
        (Some(FailureKind::InvalidResponse { .. }), _) => Some(ClientSaw::InvalidResponse),
        (Some(FailureKind::ConnectionReset), _) => Some(ClientSaw::Cut),
        (Some(_), _) => None,
        (None, Some(s)) => Some(ClientSaw::Status(s)),
        (None, None) => None,
    }
}

fn label(r: &UrlRecord) -> String {
    match (r.failure(), r.status) {
        (Some(f), _) => f.id().to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => "?".into(),
    }
}

fn failed(r: &UrlRecord) -> bool {
    r.failure().is_some_and(|f| f.is_server_fault()) || r.status.is_some_and(|s| s >= 500)
}

fn ms(rfc: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(rfc.trim_end_matches('Z')).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// The internal URLs of a crawl, for correlation.
pub struct CrawlView {
    id: CrawlId,
    urls: Vec<UrlRecord>,
}

impl CrawlView {
    /// Loads a crawl's internal URLs (their status and failure: no page facts).
    pub fn load(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        let urls = store
            .url_summaries(id)?
            .into_iter()
            .filter(|u| u.scope == UrlScope::Internal && u.state == "done")
            .collect();
        let mut v = CrawlView { id, urls };
        v.urls
            .retain(|u| u.status.is_some() || u.failure().is_some());
        Ok(v)
    }

    /// What the crawl saw, per request target, over the crawl's time span.
    pub fn client_views(&self, store: &dyn Store) -> Result<ClientViews, StoreError> {
        let info = store.crawl(self.id)?;
        let lo = ms(&info.started_at);
        let hi = info.finished_at.as_deref().and_then(ms).or(lo);
        let mut by_target: HashMap<String, Vec<ClientSaw>> = HashMap::new();
        for u in &self.urls {
            if let (Some(t), Some(s)) = (target_of(&u.url), saw(u)) {
                by_target.entry(t).or_default().push(s);
            }
        }
        Ok(ClientViews {
            by_target,
            sequential: false,
            span_ms: lo.zip(hi),
        })
    }

    /// Compares the crawl with the analysed logs.
    pub fn correlate(&self, report: &LogReport) -> Correlation {
        let mut c = Correlation {
            crawl: self.id,
            ..Correlation::default()
        };
        let mut crawled: HashMap<String, &UrlRecord> = HashMap::new();
        for u in &self.urls {
            if let Some(t) = target_of(&u.url) {
                crawled.insert(t, u);
            }
        }
        for u in self.urls.iter().filter(|u| failed(u)) {
            let Some(t) = target_of(&u.url) else { continue };
            match report.failing_targets.get(&t) {
                Some(&(n, cause, status)) => c.explained.push(Explained {
                    url: u.url.clone(),
                    crawl_saw: label(u),
                    log_requests: n,
                    log_status: status,
                    cause,
                }),
                None => c.not_in_logs.push(NotInLogs {
                    url: u.url.clone(),
                    crawl_saw: label(u),
                    logged_ok: report.seen_targets.contains(&t),
                }),
            }
        }
        let mut unseen: Vec<Unseen> = report
            .failing_targets
            .iter()
            .filter(|(t, _)| crawled.get(*t).is_none_or(|u| !failed(u)))
            .map(|(t, &(n, cause, status))| Unseen {
                target: t.clone(),
                log_requests: n,
                log_status: status,
                cause,
                crawled: crawled.contains_key(t),
            })
            .collect();
        unseen.sort_by(|a, b| {
            b.log_requests
                .cmp(&a.log_requests)
                .then(a.target.cmp(&b.target))
        });
        c.unseen_by_crawl = unseen;
        c
    }
}

impl Correlation {
    /// Renders for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\nCrawl {} against the logs", self.crawl);
        let _ = writeln!(
            s,
            "  {} failing URLs the logs explain",
            self.explained.len()
        );
        for e in self.explained.iter().take(30) {
            let _ = writeln!(
                s,
                "    {} crawl saw {}, logged {} ×{}: {}",
                e.url, e.crawl_saw, e.log_status, e.log_requests, e.cause
            );
        }
        let _ = writeln!(
            s,
            "  {} failing URLs not failing in the logs",
            self.not_in_logs.len()
        );
        for e in self.not_in_logs.iter().take(30) {
            let why = if e.logged_ok {
                "logged as answered fine: the failure happened in front of this server (CDN, load balancer, network)"
            } else {
                "no request in the logs: it never reached this server, or the logs cover another time"
            };
            let _ = writeln!(s, "    {} crawl saw {}: {why}", e.url, e.crawl_saw);
        }
        let _ = writeln!(
            s,
            "  {} failing targets in the logs the crawl never saw fail",
            self.unseen_by_crawl.len()
        );
        for e in self.unseen_by_crawl.iter().take(30) {
            let how = if e.crawled {
                "crawled, answered fine then"
            } else {
                "not linked from the crawled site"
            };
            let _ = writeln!(
                s,
                "    {} logged {} ×{}: {} ({how})",
                e.target, e.log_status, e.log_requests, e.cause
            );
        }
        s
    }
}
