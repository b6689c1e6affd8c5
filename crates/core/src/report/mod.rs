//! Stage 6: what a crawl found, read from the store and rendered as text, JSON, JSON
//! Lines, CSV, HTML, JUnit XML, SARIF or Markdown.
//!
//! [`CrawlReport::build`] reads the store once and derives everything a renderer needs:
//! counts by status class (502, 503 and 504 always apart), every problem URL with its
//! attempts, redirect chain and the pages that link to it. Renderers only format it.
//!
//! # JSON format (`schema_version` 1)
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "tool": "siteaudit 0.1.0",
//!   "crawl": { "id": 1, "start_url": "https://example.com/", "state": "finished",
//!              "started_at": "…", "finished_at": "…" },
//!   "summary": {
//!     "urls": 120, "internal": 100, "external": 20, "pending": 0,
//!     "by_class": { "2xx": 100, "3xx": 8, "4xx": 5, "5xx": 3, "failed": 3, "blocked": 1 },
//!     "by_status": { "200": 100, "301": 8, "404": 5, "502": 1, "503": 1, "504": 1 },
//!     "by_failure": { "read-timeout": 2, "connect-refused": 1 },
//!     "problems": 11
//!   },
//!   "problems": [ {
//!     "url": "https://example.com/api", "scope": "internal", "problem": "http-502",
//!     "status": 502, "failure": null, "description": "502 Bad Gateway",
//!     "attempts": [ { "status": 502, "failure": null, "ttfb_ms": 3.1, "total_ms": 3.4 } ],
//!     "redirect_chain": [],
//!     "linked_from": [ { "url": "https://example.com/", "kind": "a", "text": "API" } ],
//!     "answered_by": { "layers": ["cloudflare", "nginx"], "generated_by": "nginx",
//!                      "generated": "gateway", "cause": null,
//!                      "request_ids": [["cf-ray", "8a1b2c3d4e5f-AMS"]],
//!                      "evidence": ["nginx's own error page"] }
//!   } ],
//!   "audit": {
//!     "score": { "score": 87, "categories": [ { "category": 2, "name": "HTTP status codes",
//!                "score": 97, "findings": { "error": 3 } } ] },
//!     "by_severity": { "error": 3, "warning": 12, "notice": 40 },
//!     "findings": [ { "check": "http-502", "category": 2, "severity": "error",
//!                     "title": "502 Bad Gateway", "url": "https://example.com/api",
//!                     "details": { "status": 502, "server": "nginx/1.22.1", "inlinks": 1 },
//!                     "fix": "Check that the upstream behind the proxy is running …" } ]
//!   },
//!   "urls": [ { "id": 1, "url": "…", "scope": "internal", "depth": 0, "found_by": "start",
//!               "in_sitemap": false, "state": "done", "status": 200, "failure": null,
//!               "location": null, "content_type": "text/html", "ttfb_ms": 2.0,
//!               "total_ms": 2.5, "wire_bytes": 1024, "body_bytes": 1024, "attempts": 1,
//!               "robots_disallowed": false, "inlinks": 0 } ],
//!   "links": [ { "from": 1, "to": 2, "kind": "a", "text": "API", "rel": null } ],
//!   "redirects": [ { "url_id": 7, "url": "http://example.com/old",
//!                    "hops": [ { "url": "http://example.com/old", "status": 301,
//!                                "location": "https://example.com/new" },
//!                              { "url": "https://example.com/new", "status": 200,
//!                                "location": null } ] } ]
//! }
//! ```
//!
//! - `problem` is the group key: `http-NNN` for an error status, else the failure kind id
//!   (`dns`, `connect-refused`, `connect-timeout`, `tls`, `read-timeout`,
//!   `connection-reset`, `invalid-response`, `too-many-redirects`, `redirect-loop`,
//!   `body-too-large`, `decode`, `blocked-by-robots`, `invalid-url`).
//! - `failure` is `null` or `{ "kind": id, … detail fields }`.
//! - `attempts` lists every try, the final one last (more than one when retried).
//! - `reprobe` (URLs that ended in a 5xx, a timeout or a connection failure, re-probed
//!   after the crawl `--reprobe N` times): `{ "verdict": "persistent" | "intermittent" |
//!   "recovered", "attempts": [ … ] }` — persistent when every probe failed,
//!   intermittent when some did, recovered when none did.
//! - `diagnosis` (5xx, 429, and failures with no HTTP answer): the probable cause as
//!   `{ "cause": id, "article_cause": "server down" | "overload" | "network error" |
//!   "software error" | "proxy problem", "confidence": "high" | "medium" | "low",
//!   "because": [ … ], "fix": "…" }`, from the failure kind, status, who made the error
//!   page, the timing (a timeout right at a common proxy timeout) and the re-probes.
//! - `answered_by` (5xx only) fingerprints the layers that answered, outermost first
//!   (`cloudflare`, `cloudfront`, `akamai`, `fastly-varnish`, `google-lb`, `aws-alb`,
//!   `heroku`, `envoy`, `haproxy`, `apache`, `nginx`), which one generated the error
//!   page (`generated`: `gateway`, `origin` — the application's own 5xx passed on — or
//!   `unknown`), the cause category the page names (ids of ../shared/DIAGNOSIS.md §1),
//!   and provider request ids.
//! - `redirect_chain` lists each hop `{ url, status, location }` from the URL to where
//!   it ends; `too-many-redirects` and `redirect-loop` problems are found from it.
//! - For external URLs `status` is that of the end of their redirect chain.
//! - `summary.throttled` (present when adaptive throttling engaged) lists each host it
//!   slowed down: `{ "host", "per_host", "lowest", "backoffs" }`.
//! - `summary.by_class.failed` counts URLs with no usable answer; `blocked` those
//!   robots.txt kept us from fetching.
//! - `audit` is absent when checks were not run (`--no-audit`). Findings are ordered by
//!   severity, then check id, then URL; `url` is `null` for site-wide findings;
//!   `details` is the check's evidence (its keys depend on the check).
//!
//! - `links` are between URL ids (`urls[].id`), ordered by source then target; `kind` is
//!   the link kind id (`a`, `img`, `script`, `css`, `canonical`, `hreflang`, `sitemap`,
//!   `redirect`, …).
//! - `redirects` lists every URL that redirects with its whole chain, the URL first; the
//!   last hop is where it ends (or the repeated URL of a loop).
//! - The `jsonl` format writes the same records one per line with a `type` field:
//!   `crawl` (`schema_version`, `tool`, `crawl`), `summary`, `score` (`score`,
//!   `by_severity`), then `url`, `link`, `redirect`, `problem` and `finding` records.
//!
//! Fields may be added in later versions of schema 1; none will be removed or change
//! meaning without a new `schema_version`.

mod audit;
mod check;
mod csv;
mod diff;
mod html;
mod jsonl;
mod junit;
mod markdown;
mod sarif;
mod svg;
#[cfg(test)]
mod tests;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

pub use audit::{AuditSection, FindingGroup, SAMPLE};
pub use check::{CheckReport, CheckResult};
pub use diff::{CrawlDiff, FindingChange, ProblemChange, ScoreChange, StatusChange};

use crate::checks::{AuditConfig, SiteData};
use crate::crawl::{FOUND_ROBOTS, FOUND_SITEMAP_PROBE};
use crate::model::{Attempt, FailureKind, RedirectHop};
use crate::store::{CrawlId, LinkRow, Store, StoreError, UrlId, UrlRecord, UrlScope};

/// The version of the JSON report format.
pub const SCHEMA_VERSION: u32 = 1;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a terminal.
    Text,
    /// The versioned JSON document described in this module.
    Json,
    /// One row per URL (or, with an output directory, one file per table).
    Csv,
    /// One JSON record per line, each with a `type`, for streaming tools.
    Jsonl,
    /// One self-contained HTML page with charts and tables.
    Html,
    /// JUnit XML: one testsuite per check category.
    Junit,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// A Markdown summary fit for a pull-request comment.
    Markdown,
}

impl Format {
    /// Every format name, for messages and docs.
    pub const NAMES: &'static str = "text, json, jsonl, csv, html, junit, sarif or markdown";

    /// Whether it lists every URL, link and redirect (JSON, JSON Lines, CSV, HTML), not
    /// only the summary, problems and findings (text, Markdown, JUnit, SARIF).
    pub fn needs_tables(self) -> bool {
        matches!(self, Self::Json | Self::Jsonl | Self::Csv | Self::Html)
    }

    /// Whether it lists every finding (all but text and Markdown, which show the first
    /// few of each check with counts).
    pub fn needs_every_finding(self) -> bool {
        !matches!(self, Self::Text | Self::Markdown)
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            "jsonl" => Ok(Self::Jsonl),
            "html" => Ok(Self::Html),
            "junit" => Ok(Self::Junit),
            "sarif" => Ok(Self::Sarif),
            "markdown" | "md" => Ok(Self::Markdown),
            other => Err(format!(
                "unknown format {other:?} (expected {})",
                Self::NAMES
            )),
        }
    }
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    /// Serializing failed.
    #[error("cannot serialize the report: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing CSV failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
    /// The format does not apply to this output.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// The crawl a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlMeta {
    /// Its id in the store.
    pub id: CrawlId,
    /// The start URL.
    pub start_url: String,
    /// running, finished or interrupted.
    pub state: String,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

/// Counts over all URLs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// URLs known.
    pub urls: u64,
    /// Of which internal.
    pub internal: u64,
    /// Of which external.
    pub external: u64,
    /// Not fetched yet (an interrupted crawl).
    pub pending: u64,
    /// By class: `2xx` … `5xx`, `failed`, `blocked`.
    pub by_class: BTreeMap<String, u64>,
    /// By exact status code.
    pub by_status: BTreeMap<u16, u64>,
    /// By failure kind id.
    pub by_failure: BTreeMap<String, u64>,
    /// Problem URLs.
    pub problems: u64,
    /// Hosts adaptive throttling slowed down (absent when it never engaged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub throttled: Vec<Throttle>,
}

/// A host adaptive throttling slowed down during the crawl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Throttle {
    /// `scheme://host[:port]`.
    pub host: String,
    /// The configured requests in flight per host.
    pub per_host: usize,
    /// The lowest it went.
    pub lowest: usize,
    /// How many times it was halved.
    pub backoffs: u32,
}

/// A page linking to a problem URL.
#[derive(Debug, Clone, Serialize)]
pub struct Inlink {
    /// The linking page (or sitemap, or redirecting URL).
    pub url: String,
    /// The link kind id.
    pub kind: &'static str,
    /// Anchor text or alt.
    pub text: Option<String>,
}

/// A URL that is broken: error status, failure, or a bad redirect chain.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// The URL.
    pub url: String,
    /// Internal or external.
    pub scope: UrlScope,
    /// The group key: `http-NNN` or a failure kind id.
    pub problem: String,
    /// Its status, if it answered.
    pub status: Option<u16>,
    /// Its failure.
    pub failure: Option<FailureKind>,
    /// One line for humans.
    pub description: String,
    /// Every attempt, the final one last.
    pub attempts: Vec<Attempt>,
    /// Where its redirects lead, hop by hop (empty when it does not redirect).
    pub redirect_chain: Vec<RedirectHop>,
    /// Who links to it.
    pub linked_from: Vec<Inlink>,
    /// Re-probed after the crawl: each probe and the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reprobe: Option<Reprobe>,
    /// The probable cause and fix (5xx, 429 and server or network failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<crate::diagnose::Diagnosis>,
    /// For 5xx answers: which gateway or CDN layers answered and who made the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<crate::diagnose::Fingerprint>,
}

impl Problem {
    /// Whether it counts as an error (blocked by robots.txt does not).
    pub fn is_error(&self) -> bool {
        self.failure.as_ref().is_none_or(FailureKind::is_error)
    }
}

/// A failed URL's re-probes after the crawl.
#[derive(Debug, Clone, Serialize)]
pub struct Reprobe {
    /// `persistent` (every probe failed), `intermittent` (some did) or `recovered`
    /// (none did).
    pub verdict: &'static str,
    /// Each probe, in order.
    pub attempts: Vec<Attempt>,
}

impl Reprobe {
    fn judge(attempts: &[Attempt]) -> Option<Self> {
        if attempts.is_empty() {
            return None;
        }
        let failed = attempts
            .iter()
            .filter(|a| {
                a.status.is_some_and(|s| s >= 500)
                    || (a.status.is_none() && a.failure.as_ref().is_some_and(FailureKind::is_error))
            })
            .count();
        let verdict = match failed {
            0 => "recovered",
            n if n == attempts.len() => "persistent",
            _ => "intermittent",
        };
        Some(Self {
            verdict,
            attempts: attempts.to_vec(),
        })
    }
}

/// One URL in the report's full list.
#[derive(Debug, Clone, Serialize)]
pub struct UrlRow {
    /// The stored record.
    #[serde(flatten)]
    pub record: UrlRecord,
    /// How many links point at it.
    pub inlinks: u64,
}

/// A finding with its check's catalogue entry, for output.
pub type FindingRow = crate::model::AuditFinding;

/// Everything a crawl found, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `siteaudit <version>`.
    pub tool: String,
    /// The crawl.
    pub crawl: CrawlMeta,
    /// Counts.
    pub summary: Summary,
    /// Problem URLs, grouped by problem key then URL.
    pub problems: Vec<Problem>,
    /// The audit (absent when checks were not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSection>,
    /// Every URL.
    pub urls: Vec<UrlRow>,
    /// Every link, between URL ids (`urls[].id`), by source then target.
    pub links: Vec<LinkRow>,
    /// Every URL that redirects, with its chain hop by hop.
    pub redirects: Vec<RedirectRow>,
    /// The start URL's row (kept when the tables are left out).
    #[serde(skip)]
    start: Option<UrlRow>,
}

/// A redirecting URL and where its redirects lead.
#[derive(Debug, Clone, Serialize)]
pub struct RedirectRow {
    /// The URL's id.
    pub url_id: UrlId,
    /// The URL.
    pub url: String,
    /// Each hop `{ url, status, location }`, this URL first.
    pub hops: Vec<RedirectHop>,
}

/// The class of a status code: `2xx`, `3xx`, ...
pub fn status_class(status: u16) -> String {
    format!("{}xx", status / 100)
}

/// The standard reason phrase of a status code, for humans ("" when unknown).
pub fn http_reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// How much of a crawl a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    /// Every URL, link and redirect (else those lists stay empty).
    pub tables: bool,
    /// Every finding (else the first [`SAMPLE`] of each check and severity, with counts).
    pub every_finding: bool,
}

impl Detail {
    /// Everything.
    pub const FULL: Self = Self {
        tables: true,
        every_finding: true,
    };

    /// What a format renders (see [`Format::needs_tables`], [`Format::needs_every_finding`]).
    pub fn of(format: Format) -> Self {
        Self {
            tables: format.needs_tables(),
            every_finding: format.needs_every_finding(),
        }
    }
}

impl CrawlReport {
    /// Reads crawl `id` from the store with its findings (unless `audit` is `None`),
    /// auditing it first when the store holds none made with these settings.
    pub fn build(
        store: &dyn Store,
        id: CrawlId,
        audit: Option<&AuditConfig>,
    ) -> Result<Self, ReportError> {
        Self::build_with(store, id, audit, Detail::FULL)
    }

    /// Like [`CrawlReport::build`], holding only what `detail` asks for: a large crawl's
    /// summary report holds neither every row nor every finding. The crawl's rows move
    /// into the report rather than being copied.
    pub fn build_with(
        store: &dyn Store,
        id: CrawlId,
        audit: Option<&AuditConfig>,
        detail: Detail,
    ) -> Result<Self, ReportError> {
        let mut audited = None;
        // A summary of findings just stored, added up as they were found.
        let mut fresh = None;
        if let Some(cfg) = audit {
            let previous = SiteData::previous_crawl(store, id)?;
            let key = AuditSection::key(cfg, previous);
            if store.audit_key(id)?.as_deref() != Some(key.as_str()) {
                // Page facts are parsed row by row, their JSON not kept, and only what
                // checks compare across pages is held (the per-page checks read each
                // page's facts as the store streams them again); once the audit is
                // stored they are dropped, and the crawl is reported without them.
                let started = std::time::Instant::now();
                let mut site = SiteData::load_for_audit(store, id, previous)?;
                site.thresholds = cfg.thresholds.clone();
                let loaded = started.elapsed();
                fresh = AuditSection::store(store, &site, cfg, key, !detail.every_finding)?;
                tracing::debug!(?loaded, audited = ?started.elapsed() - loaded, "crawl {id} audited");
                // The tables list each page's stored facts, which a lean load left out.
                if !detail.tables {
                    site.drop_facts();
                    audited = Some(site);
                }
            }
        }
        let site = match (audited, detail.tables) {
            (Some(site), _) => site,
            (None, true) => SiteData::load_without_facts(store, id)?,
            (None, false) => SiteData::load_summary(store, id)?,
        };
        let mut report = Self::summarize(&site);
        if let Some(section) = fresh {
            report.audit = Some(section);
        } else if let Some(cfg) = audit {
            let started = std::time::Instant::now();
            let urls = crate::checks::scored_urls(&site);
            report.audit = Some(AuditSection::read(
                store,
                id,
                cfg,
                urls,
                !detail.every_finding,
            )?);
            tracing::debug!(read = ?started.elapsed(), "findings of crawl {id} read");
        }
        if detail.tables {
            report.add_tables(site, SiteData::into_rows);
        }
        Ok(report)
    }

    /// Builds the report of a loaded crawl, running the checks in memory. Redirect
    /// chains are judged by the crawl's own `max_redirects`.
    pub fn from_site(site: &SiteData, audit: Option<&AuditConfig>) -> Self {
        let mut report = Self::summarize(site);
        report.audit = audit.map(|cfg| AuditSection::run(site, cfg));
        report.add_tables(site, |site| {
            let links = site.links.rows();
            (site.urls.clone(), links)
        });
        report
    }

    /// Everything but the tables and the audit: summary, problems.
    fn summarize(site: &SiteData) -> Self {
        let max_redirects = site.info.config.max_redirects as usize;
        let urls = &site.urls;

        let mut summary = Summary::default();
        let mut problems = Vec::new();
        for u in urls {
            summary.urls += 1;
            match u.scope {
                UrlScope::Internal => summary.internal += 1,
                UrlScope::External => summary.external += 1,
            }
            if u.state != "done" {
                summary.pending += 1;
                continue;
            }
            if let Some(s) = u.status {
                *summary.by_status.entry(s).or_default() += 1;
            }
            let class = match (u.failure(), u.status) {
                (Some(FailureKind::BlockedByRobots), _) => "blocked".to_string(),
                (Some(f), _) if f.is_error() && u.status.is_none() => "failed".to_string(),
                (_, Some(s)) => status_class(s),
                _ => "failed".to_string(),
            };
            *summary.by_class.entry(class).or_default() += 1;
            if let Some(f) = u.failure() {
                *summary.by_failure.entry(f.id().to_string()).or_default() += 1;
            }
            // Chains are stored inline for external URLs and rebuilt for internal ones.
            let chain = site.chain(u);
            let chain_failure = if u.failure().is_none() {
                chain_problem(&chain, max_redirects)
            } else {
                None
            };
            let failure = u.failure().cloned().or(chain_failure);
            let problem = match (&failure, u.status) {
                (Some(f), _) => Some(f.id().to_string()),
                (None, Some(s)) if s >= 400 && !expected_missing(u, s) => Some(format!("http-{s}")),
                _ => None,
            };
            let Some(problem) = problem else {
                continue;
            };
            let description = match (&failure, u.status) {
                (Some(f), _) => f.describe(),
                (None, Some(s)) => format!("{s} {}", http_reason(s)).trim().to_string(),
                _ => String::new(),
            };
            let reprobe = site.reprobes.get(&u.id).and_then(|a| Reprobe::judge(a));
            let answered_by = u.status.filter(|s| *s >= 500).map(|s| {
                crate::diagnose::fingerprint(s, &u.headers, u.body_snippet().unwrap_or(""))
            });
            let diagnosis = crate::diagnose::diagnose(&crate::diagnose::Evidence {
                status: u.status,
                failure: failure.as_ref(),
                fingerprint: answered_by.as_ref(),
                total_ms: u.total_ms.get(),
                persistence: reprobe.as_ref().map(|r| r.verdict),
                retry_after: u.headers.iter().any(|(n, _)| n == "retry-after"),
            });
            problems.push(Problem {
                url: u.url.clone(),
                scope: u.scope,
                problem,
                status: u.status,
                failure,
                description,
                attempts: site.attempts.get(&u.id).cloned().unwrap_or_default(),
                redirect_chain: chain,
                linked_from: inlinks_of(site, u.id),
                reprobe,
                diagnosis,
                answered_by,
            });
        }
        problems.sort_by(|a, b| a.problem.cmp(&b.problem).then_with(|| a.url.cmp(&b.url)));
        summary.throttled = site.throttled.clone();
        summary.problems = problems.len() as u64;
        let start = urls
            .iter()
            .find(|u| u.found_by == crate::crawl::FOUND_START)
            .map(|record| UrlRow {
                inlinks: site.inlinks(record.id).len() as u64,
                record: record.clone(),
            });
        Self {
            schema_version: SCHEMA_VERSION,
            tool: concat!("siteaudit ", env!("CARGO_PKG_VERSION")).to_string(),
            crawl: CrawlMeta {
                id: site.info.id,
                start_url: site.info.start_url.clone(),
                state: site.info.state.clone(),
                started_at: site.info.started_at.clone(),
                finished_at: site.info.finished_at.clone(),
            },
            summary,
            problems,
            audit: None,
            urls: Vec::new(),
            links: Vec::new(),
            redirects: Vec::new(),
            start,
        }
    }

    /// Fills the URL, link and redirect lists; `rows` gives the crawl's URLs and links
    /// (moved out of an owned crawl, or copied from a borrowed one).
    fn add_tables<S: std::borrow::Borrow<SiteData>>(
        &mut self,
        site: S,
        rows: impl FnOnce(S) -> (Vec<UrlRecord>, Vec<LinkRow>),
    ) {
        let s = site.borrow();
        self.redirects = s
            .urls
            .iter()
            .filter(|u| u.location().is_some() || s.hops.contains_key(&u.id))
            .map(|u| RedirectRow {
                url_id: u.id,
                url: u.url.clone(),
                hops: s.chain(u),
            })
            .filter(|r| !r.hops.is_empty())
            .collect();
        let inlinks: Vec<u64> = s
            .urls
            .iter()
            .map(|u| s.inlinks(u.id).len() as u64)
            .collect();
        let (urls, mut links) = rows(site);
        links.sort_by_key(|l| (l.from, l.to));
        self.links = links;
        self.urls = urls
            .into_iter()
            .zip(inlinks)
            .map(|(record, inlinks)| UrlRow { record, inlinks })
            .collect();
    }

    /// The start URL's record when the crawl could not reach it at all (no HTTP answer):
    /// the crawl effectively did not start.
    pub fn unreachable_start(&self) -> Option<&UrlRow> {
        self.start.as_ref().filter(|u| {
            u.record.status.is_none() && u.record.failure().is_some_and(FailureKind::is_error)
        })
    }

    /// Writes the CSV tables (urls, links, redirects, findings) into `dir`, one
    /// file each; returns the paths.
    pub fn write_csv_dir(
        &self,
        dir: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>, ReportError> {
        csv::write_tables(self, dir)
    }

    /// Renders the report.
    pub fn render(&self, format: Format, out: &mut dyn std::io::Write) -> Result<(), ReportError> {
        match format {
            Format::Text => text::render(self, out)?,
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)?;
            }
            Format::Csv => csv::render(self, out)?,
            Format::Jsonl => jsonl::render(self, out)?,
            Format::Html => html::render(self, out)?,
            Format::Junit => junit::render(self, out)?,
            Format::Sarif => {
                serde_json::to_writer_pretty(&mut *out, &sarif::log(self))?;
                writeln!(out)?;
            }
            Format::Markdown => markdown::render(self, out)?,
        }
        Ok(())
    }
}

/// The pages linking to `id`, each page and kind once.
fn inlinks_of(site: &SiteData, id: UrlId) -> Vec<Inlink> {
    let mut out: Vec<Inlink> = Vec::new();
    for l in site.inlinks(id) {
        let Some(src) = site.get(l.from) else {
            continue;
        };
        if !out
            .iter()
            .any(|o| o.url == src.url && o.kind == l.kind.as_str())
        {
            out.push(Inlink {
                url: src.url.clone(),
                kind: l.kind.as_str(),
                text: l.text.map(str::to_string),
            });
        }
    }
    out
}

/// A 404/410 where absence is normal: robots.txt and the guessed `/sitemap.xml`.
fn expected_missing(u: &UrlRecord, status: u16) -> bool {
    matches!(status, 404 | 410) && matches!(u.found_by.as_str(), FOUND_ROBOTS | FOUND_SITEMAP_PROBE)
}

/// A loop or an over-long chain.
pub(crate) fn chain_problem(chain: &[RedirectHop], max_redirects: usize) -> Option<FailureKind> {
    let last = chain.last()?;
    if chain.len() > 1 && chain[..chain.len() - 1].iter().any(|h| h.url == last.url) {
        return Some(FailureKind::RedirectLoop);
    }
    let redirects = chain.iter().filter(|h| h.location.is_some()).count();
    (redirects > max_redirects).then_some(FailureKind::TooManyRedirects {
        hops: redirects as u32,
    })
}
