//! The engine: ties frontier → fetch → extract → store together.
//!
//! One coordinator owns the frontier and the seen-set; fetches (with streaming
//! extraction) run as tasks and hand their results back, so deduplication needs no
//! locks and the store sees one ordered stream of writes. Every URL is written to the
//! store when it is admitted and again when it is done, in the same transaction as the
//! URLs and links found on it: a crawl killed at any moment resumes from the store with
//! nothing lost, and nothing that was already written is fetched again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{CrawlConfig, RobotsMode};
use crate::extract::{self, Extracted, HtmlExtractor};
use crate::fetch::{FetchError, Fetcher, Method, attempt_of, retry_delay};
use crate::frontier::{Frontier, Idle, Job, JobKind, RobotsState};
use crate::model::{CrawlEvent, FailureKind, LinkKind, Outcome, RedirectHop};
use crate::robots::{MAX_ROBOTS_BYTES, Robots, robots_url};
use crate::sitemap::{self, SitemapKind};
use crate::store::{
    CrawlId, LinkRow, NewUrl, Store, StoreError, UrlId, UrlResult, UrlScope, WriteOp,
};
use crate::url::{PatternError, Scope, ScopeVerdict, UrlError, fingerprint, host_key, normalize};

/// How much of an error response's body is kept for diagnosis.
const SNIPPET_BYTES: usize = 1024;
/// The longest robots.txt `Crawl-delay` honoured; longer ones would stall a crawl for days.
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);
/// Redirect hops followed when fetching robots.txt and sitemaps (as search engines do).
const FILE_REDIRECTS: usize = 5;

/// `found_by` of a start URL.
pub const FOUND_START: &str = "start";
/// `found_by` of a host's robots.txt.
pub const FOUND_ROBOTS: &str = "robots";
/// `found_by` of a sitemap named in robots.txt or in a sitemap index.
pub const FOUND_SITEMAP_FILE: &str = "sitemap-file";
/// `found_by` of the `/sitemap.xml` guess (a 404 there is not a broken link).
pub const FOUND_SITEMAP_PROBE: &str = "sitemap-probe";
/// `found_by` of a URL listed in a sitemap before any page linked to it.
pub const FOUND_SITEMAP: &str = "sitemap";
/// `found_by` of a redirect target.
pub const FOUND_REDIRECT: &str = "redirect";
/// `found_by` of a link that is not a valid URL (recorded with an `invalid-url` failure).
pub const FOUND_INVALID: &str = "invalid";

/// Why a crawl could not run. Per-URL failures are never errors: they are data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrawlError {
    /// No start URL was given.
    #[error("no start URL given")]
    NoStartUrl,
    /// A start URL is not a crawlable URL.
    #[error("invalid start URL {url:?}: {source}")]
    StartUrl {
        /// The URL as given.
        url: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// An include/exclude pattern is not a valid regex.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `--resume` of a crawl that already finished.
    #[error("crawl {0} already finished; there is nothing to resume")]
    AlreadyFinished(CrawlId),
}

/// What a finished (or interrupted) crawl did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlSummary {
    /// The crawl's id in the store.
    pub crawl_id: CrawlId,
    /// URLs known.
    pub urls: u64,
    /// URLs done in this run.
    pub done: u64,
    /// Stopped by cancellation before the frontier was empty (resumable).
    pub interrupted: bool,
}

/// Runs crawls. Cheap to build; [`Crawler::run`] and [`Crawler::resume`] do the work.
#[derive(Debug)]
pub struct Crawler {
    store: Arc<dyn Store>,
    events: Option<UnboundedSender<CrawlEvent>>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Crawler {
    /// A crawler writing to `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            events: None,
            cancel: CancellationToken::new(),
        }
    }

    /// Sends progress events to `tx`.
    pub fn with_events(mut self, tx: UnboundedSender<CrawlEvent>) -> Self {
        self.events = Some(tx);
        self
    }

    /// A token that stops the crawl (state `interrupted`, resumable) when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Starts a new crawl with `config`.
    pub async fn run(self, config: CrawlConfig) -> Result<CrawlSummary, CrawlError> {
        if config.start_urls.is_empty() {
            return Err(CrawlError::NoStartUrl);
        }
        let starts = config
            .start_urls
            .iter()
            .map(|s| {
                normalize(s).map_err(|source| CrawlError::StartUrl {
                    url: s.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scope = Scope::new(&config, &starts)?;
        let fetcher = Fetcher::new(&config)?;
        let crawl = self.store.create_crawl(&config)?;
        let mut engine = Engine::new(self, crawl, config, scope, fetcher);
        engine.event(|| CrawlEvent::Started {
            crawl_id: crawl,
            urls: 0,
            done: 0,
        });
        let mut new = Vec::new();
        for url in starts {
            let fp = fingerprint(&url);
            if let Some(id) = engine.admit(&url, fp, 0, FOUND_START, false, &mut new) {
                engine.start_ids.insert(id);
            }
        }
        if engine.cfg.robots == RobotsMode::Ignore {
            let hosts: Vec<Url> = engine.starts();
            for u in hosts {
                engine.discover_sitemaps(&u, &mut new);
            }
        }
        engine.write(WriteOp::Queue(new))?;
        engine.run().await
    }

    /// Resumes an interrupted crawl from the store, with the configuration it started with.
    pub async fn resume(self, crawl: CrawlId) -> Result<CrawlSummary, CrawlError> {
        let info = self.store.crawl(crawl)?;
        if info.state == "finished" {
            return Err(CrawlError::AlreadyFinished(crawl));
        }
        let config = info.config;
        let records = self.store.urls(crawl)?;
        let starts: Vec<Url> = records
            .iter()
            .filter(|r| r.found_by == FOUND_START)
            .filter_map(|r| Url::parse(&r.url).ok())
            .collect();
        let mut scope = Scope::new(&config, &starts)?;
        let fetcher = Fetcher::new(&config)?;
        let robots: HashMap<String, Option<Robots>> = self
            .store
            .robots(crawl)?
            .into_iter()
            .map(|(host, status, body)| {
                let r = robots_from(&config.user_agent, status, &body);
                (host, Some(r))
            })
            .collect();
        // Hosts the start URLs redirected to belong to the site, as in the first run.
        for r in &records {
            if r.found_by == FOUND_REDIRECT
                && r.depth == 0
                && let Ok(u) = Url::parse(&r.url)
            {
                scope.add_host(&u);
            }
        }
        self.store.set_state(crawl, "running")?;
        let mut engine = Engine::new(self, crawl, config, scope, fetcher);
        engine.stored_robots = robots;
        let done = records.iter().filter(|r| r.state == "done").count() as u64;
        // The URLs still queued are announced one by one as they are re-queued.
        engine.event(|| CrawlEvent::Started {
            crawl_id: crawl,
            urls: done,
            done,
        });
        for r in &records {
            engine.seen.insert(r.fingerprint, r.id);
            engine.next_id = engine.next_id.max(r.id + 1);
            if r.found_by == FOUND_START {
                engine.start_ids.insert(r.id);
            }
            if r.scope == UrlScope::Internal && counts_as_page(&r.found_by) {
                engine.pages += 1;
                if let Ok(u) = Url::parse(&r.url) {
                    engine.note_probe_host(&u);
                }
            }
            // Failures of the interrupted run are re-probed at the end of this one.
            let fault = r.status.is_some_and(|s| s >= 500)
                || r.failure().is_some_and(FailureKind::is_server_fault);
            if r.state == "done"
                && fault
                && engine.cfg.reprobe > 0
                && !matches!(
                    r.found_by.as_str(),
                    FOUND_ROBOTS | FOUND_SITEMAP_FILE | FOUND_SITEMAP_PROBE
                )
                && let Ok(u) = Url::parse(&r.url)
            {
                engine.reprobe.push((r.id, u));
            }
        }
        let mut new = Vec::new();
        for r in records.into_iter().filter(|r| r.state != "done") {
            let Ok(url) = Url::parse(&r.url) else {
                continue;
            };
            let kind = match (r.found_by.as_str(), r.scope) {
                (FOUND_ROBOTS, _) => JobKind::Robots,
                (FOUND_SITEMAP_FILE | FOUND_SITEMAP_PROBE, _) => JobKind::Sitemap,
                (_, UrlScope::External) => JobKind::External,
                _ => JobKind::Page,
            };
            engine.enqueue(url, r.id, r.depth, kind, &mut new);
        }
        engine.write(WriteOp::Queue(new))?;
        engine.run().await
    }
}

/// Whether a URL found this way counts against `--max-pages`.
fn counts_as_page(found_by: &str) -> bool {
    !matches!(
        found_by,
        FOUND_ROBOTS | FOUND_SITEMAP_FILE | FOUND_SITEMAP_PROBE | FOUND_INVALID
    )
}

/// Where a found reference points.
#[derive(Debug)]
pub(crate) enum Target {
    /// A crawlable URL.
    Url(Url),
    /// Not a valid URL: recorded as one with an `invalid-url` failure.
    Invalid {
        /// The reference as written.
        raw: String,
        /// Why it is invalid.
        reason: String,
    },
}

/// A link found on a page, parsed and fingerprinted inside the fetch task.
#[derive(Debug)]
pub(crate) struct FoundLink {
    pub(crate) target: Target,
    fp: u64,
    kind: LinkKind,
    text: Option<String>,
    rel: Option<String>,
}

impl FoundLink {
    fn new(target: Target, kind: LinkKind) -> Self {
        // Invalid references get a fingerprint of their own spelling, seeded apart from
        // real URLs, so each distinct one is recorded once.
        let fp = match &target {
            Target::Url(u) => fingerprint(u),
            Target::Invalid { raw, .. } => xxhash_rust::xxh3::xxh3_64_with_seed(raw.as_bytes(), 1),
        };
        Self {
            target,
            fp,
            kind,
            text: None,
            rel: None,
        }
    }
}

/// What a fetch task brings back.
#[derive(Debug)]
pub(crate) enum Fetched {
    Page {
        outcome: Outcome,
        links: Vec<FoundLink>,
        facts: Option<String>,
        snippet: Option<String>,
    },
    External {
        hops: Vec<RedirectHop>,
        outcome: Outcome,
    },
    File {
        hops: Vec<RedirectHop>,
        outcome: Outcome,
        body: Vec<u8>,
    },
    /// Not fetched: robots.txt disallows it.
    Blocked,
}

#[derive(Debug)]
struct TaskDone {
    key: String,
    job: Job,
    robots_disallowed: bool,
    fetched: Fetched,
}

struct Engine {
    crawl: CrawlId,
    cfg: Arc<CrawlConfig>,
    scope: Scope,
    store: Arc<dyn Store>,
    fetcher: Arc<Fetcher>,
    frontier: Frontier,
    seen: rustc_hash::FxHashMap<u64, UrlId>,
    next_id: UrlId,
    pages: u64,
    start_ids: HashSet<UrlId>,
    stored_robots: HashMap<String, Option<Robots>>,
    /// Internal `(host, port)`s to TLS-probe at the end: https hosts crawled,
    /// and port 443 of http hosts on port 80 (is https offered at all?).
    probe_hosts: std::collections::BTreeSet<(String, u16)>,
    /// URLs whose outcome was a server fault, to re-probe at the end.
    reprobe: Vec<(UrlId, Url)>,
    events: Option<UnboundedSender<CrawlEvent>>,
    cancel: CancellationToken,
    done: u64,
    /// External checks in flight (see [`Engine::external_ok`]).
    external_in_flight: usize,
}

impl Engine {
    fn new(
        crawler: Crawler,
        crawl: CrawlId,
        config: CrawlConfig,
        scope: Scope,
        fetcher: Fetcher,
    ) -> Self {
        let base_delay = config
            .rate
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r))
            .unwrap_or_default();
        Self {
            crawl,
            frontier: Frontier::new(config.per_host, base_delay).adaptive(config.adaptive),
            cfg: Arc::new(config),
            scope,
            store: crawler.store,
            fetcher: Arc::new(fetcher),
            seen: rustc_hash::FxHashMap::default(),
            next_id: 1,
            pages: 0,
            start_ids: HashSet::new(),
            stored_robots: HashMap::new(),
            probe_hosts: std::collections::BTreeSet::new(),
            reprobe: Vec::new(),
            events: crawler.events,
            cancel: crawler.cancel,
            done: 0,
            external_in_flight: 0,
        }
    }

    /// Whether another external check may start, with `in_flight` tasks running of
    /// `concurrency`. While the site's own pages are being crawled, external checks
    /// hold at most half the slots: a few hosts that never answer would otherwise take
    /// every slot, and the crawl would stand still until they time out. Once the site is
    /// done they may take them all.
    fn external_ok(&self, in_flight: usize, concurrency: usize) -> bool {
        self.external_in_flight < (concurrency / 2).max(1)
            || (in_flight == self.external_in_flight && !self.frontier.holds_site_work())
    }

    /// Sends an event built only when someone listens (most carry a URL string).
    fn event(&self, e: impl FnOnce() -> CrawlEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(e());
        }
    }

    fn write(&self, op: WriteOp) -> Result<(), StoreError> {
        self.store.write(self.crawl, op)
    }

    fn starts(&self) -> Vec<Url> {
        self.cfg
            .start_urls
            .iter()
            .filter_map(|s| normalize(s).ok())
            .collect()
    }

    /// Admits a URL to the frontier unless it was seen, is out of scope, or is over a
    /// limit. Returns its id when it is (or already was) known.
    fn admit(
        &mut self,
        url: &Url,
        fp: u64,
        depth: u32,
        found_by: &'static str,
        in_sitemap: bool,
        new: &mut Vec<NewUrl>,
    ) -> Option<UrlId> {
        if let Some(id) = self.seen.get(&fp) {
            return Some(*id);
        }
        let is_file = matches!(found_by, FOUND_SITEMAP_FILE | FOUND_SITEMAP_PROBE);
        let verdict = self.scope.classify(url);
        let kind = match verdict {
            _ if is_file => JobKind::Sitemap,
            ScopeVerdict::Excluded => return None,
            ScopeVerdict::External if !self.cfg.check_external => return None,
            ScopeVerdict::External => JobKind::External,
            ScopeVerdict::Internal => {
                let leads = LinkKind::from_id(found_by).is_none_or(LinkKind::leads_to_page);
                if leads && self.cfg.max_depth.is_some_and(|max| depth > max) {
                    return None;
                }
                if self.cfg.max_pages > 0 && self.pages >= self.cfg.max_pages {
                    return None;
                }
                JobKind::Page
            }
        };
        let scope = if verdict == ScopeVerdict::External {
            UrlScope::External
        } else {
            UrlScope::Internal
        };
        if kind == JobKind::Page {
            // Its host's robots.txt comes first (and may be this very URL).
            self.ensure_host(url, new);
            if let Some(id) = self.seen.get(&fp) {
                return Some(*id);
            }
            self.pages += 1;
        }
        let id = self.new_id(fp);
        new.push(NewUrl {
            id,
            url: url.to_string(),
            fingerprint: fp,
            depth,
            scope,
            found_by,
            in_sitemap,
        });
        self.enqueue(url.clone(), id, depth, kind, new);
        Some(id)
    }

    fn new_id(&mut self, fp: u64) -> UrlId {
        let id = self.next_id;
        self.next_id += 1;
        self.seen.insert(fp, id);
        id
    }

    /// Creates the host's queue on first sight; for site hosts whose robots.txt is
    /// respected, that means queueing robots.txt first.
    fn ensure_host(&mut self, url: &Url, new: &mut Vec<NewUrl>) -> String {
        let key = host_key(url);
        if self.frontier.get_mut(&key).is_some() {
            return key;
        }
        let internal = self.scope.is_site(url);
        if !internal || self.cfg.robots == RobotsMode::Ignore {
            self.frontier.host(&key, || RobotsState::NotNeeded);
            return key;
        }
        if let Some(Some(r)) = self.stored_robots.remove(&key) {
            let delay = self.crawl_delay(&r);
            let host = self.frontier.host(&key, || RobotsState::NotNeeded);
            host.delay = delay;
            host.robots = RobotsState::Ready(Arc::new(r));
            return key;
        }
        self.frontier.host(&key, || RobotsState::Pending);
        let robots = robots_url(url);
        let fp = fingerprint(&robots);
        if !self.seen.contains_key(&fp) {
            let id = self.new_id(fp);
            new.push(NewUrl {
                id,
                url: robots.to_string(),
                fingerprint: fp,
                depth: 0,
                scope: UrlScope::Internal,
                found_by: FOUND_ROBOTS,
                in_sitemap: false,
            });
            self.push_job(&key, robots, id, 0, JobKind::Robots);
        }
        key
    }

    fn enqueue(&mut self, url: Url, id: UrlId, depth: u32, kind: JobKind, new: &mut Vec<NewUrl>) {
        // Every job on a site host waits for that host's robots.txt (so do robots.txt
        // and sitemap jobs re-queued by a resume, which may be the first of their host).
        let key = if kind == JobKind::External {
            let key = host_key(&url);
            self.frontier.host(&key, || RobotsState::NotNeeded);
            key
        } else {
            self.ensure_host(&url, new)
        };
        self.push_job(&key, url, id, depth, kind);
    }

    fn push_job(&mut self, key: &str, url: Url, id: UrlId, depth: u32, kind: JobKind) {
        self.event(|| CrawlEvent::Queued {
            url: url.to_string(),
        });
        self.frontier.push(
            key,
            Job {
                id,
                url,
                depth,
                kind,
                attempts: Vec::new(),
                not_before: None,
            },
        );
    }

    fn crawl_delay(&self, robots: &Robots) -> Duration {
        let base = self.frontier.base_delay();
        robots
            .crawl_delay()
            .map_or(base, |d| d.min(MAX_CRAWL_DELAY).max(base))
    }

    async fn run(mut self) -> Result<CrawlSummary, CrawlError> {
        let mut tasks: JoinSet<TaskDone> = JoinSet::new();
        let concurrency = self.cfg.concurrency.max(1);
        let mut interrupted = false;
        loop {
            let mut idle = Idle::Empty;
            while tasks.len() < concurrency {
                let external_ok = self.external_ok(tasks.len(), concurrency);
                match self.frontier.next(Instant::now(), external_ok) {
                    Ok((key, job)) => self.dispatch(&mut tasks, key, job),
                    Err(i) => {
                        idle = i;
                        break;
                    }
                }
            }
            if tasks.is_empty() {
                match idle {
                    Idle::Until(t) => {
                        tokio::select! {
                            () = self.cancel.cancelled() => { interrupted = true; break; }
                            () = tokio::time::sleep_until(t) => {}
                        }
                        continue;
                    }
                    // Blocked with nothing in flight cannot clear itself; the queued URLs
                    // stay in the store for a resume rather than spinning here.
                    Idle::Blocked => {
                        tracing::warn!("frontier blocked with nothing in flight");
                        interrupted = true;
                        break;
                    }
                    Idle::Empty => break,
                }
            }
            let wake = match idle {
                Idle::Until(t) => t,
                _ => Instant::now() + Duration::from_secs(3600),
            };
            tokio::select! {
                () = self.cancel.cancelled() => { interrupted = true; break; }
                joined = tasks.join_next() => {
                    match joined {
                        Some(Ok(done)) => self.on_done(done)?,
                        Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        _ => {}
                    }
                }
                () = tokio::time::sleep_until(wake) => {}
            }
        }
        tasks.abort_all();
        for (host, lowest, backoffs) in self.frontier.throttled() {
            let facts = serde_json::json!({
                "host": host,
                "per_host": self.cfg.per_host,
                "lowest": lowest,
                "backoffs": backoffs,
            });
            self.write(WriteOp::HostProbe {
                host,
                kind: "throttle".into(),
                facts: facts.to_string(),
            })?;
        }
        if !interrupted {
            self.reprobe_failures().await?;
            self.probe_tls().await?;
        }
        self.store.flush()?;
        self.store.set_state(
            self.crawl,
            if interrupted {
                "interrupted"
            } else {
                "finished"
            },
        )?;
        self.event(|| CrawlEvent::Done);
        Ok(CrawlSummary {
            crawl_id: self.crawl,
            urls: u64::from(self.next_id - 1),
            done: self.done,
            interrupted,
        })
    }

    /// Runs the TLS probe on every host noted, all at once, unless it is off
    /// or the host was probed before an interruption.
    async fn probe_tls(&mut self) -> Result<(), CrawlError> {
        if !self.cfg.tls_probe || self.probe_hosts.is_empty() {
            return Ok(());
        }
        let done: HashSet<String> = self
            .store
            .host_probes(self.crawl, "tls")?
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        let opts = crate::tls::ProbeOptions {
            timeout: self.cfg.timeout.min(Duration::from_secs(10)),
            extra_roots: crate::fetch::load_ca_certs(&self.cfg.ca_certs)?,
            skip_legacy: false,
        };
        let probes = std::mem::take(&mut self.probe_hosts)
            .into_iter()
            .map(|(host, port)| {
                let opts = opts.clone();
                async move { crate::tls::probe_host(&host, port, &opts).await }
            });
        let cancel = self.cancel.clone();
        let results = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            r = futures_util::future::join_all(probes) => r,
        };
        for facts in results {
            let host = facts.authority();
            if done.contains(&host) {
                continue;
            }
            let json = serde_json::to_string(&facts).unwrap_or_default();
            self.write(WriteOp::HostProbe {
                host,
                kind: "tls".into(),
                facts: json,
            })?;
        }
        Ok(())
    }

    /// Notes a URL for re-probing when it ended in a 5xx or a server fault.
    fn note_reprobe(&mut self, id: UrlId, url: &Url, outcome: &Outcome) {
        let fault = outcome.status().is_some_and(|s| s >= 500)
            || outcome
                .failure
                .as_ref()
                .is_some_and(FailureKind::is_server_fault);
        if fault && self.cfg.reprobe > 0 {
            self.reprobe.push((id, url.clone()));
        }
    }

    /// Re-probes every noted URL `reprobe` times, spaced by the retry backoff
    /// doubling, at most `per_host` URLs at once; every probe is stored.
    async fn reprobe_failures(&mut self) -> Result<(), CrawlError> {
        let list = std::mem::take(&mut self.reprobe);
        if list.is_empty() {
            return Ok(());
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(self.cfg.per_host.max(1)));
        let mut tasks: JoinSet<(UrlId, Vec<crate::model::Attempt>)> = JoinSet::new();
        for (id, url) in list {
            let fetcher = self.fetcher.clone();
            let limit = limit.clone();
            let (n, base) = (self.cfg.reprobe, self.cfg.retry_backoff);
            tasks.spawn(async move {
                let _slot = limit.acquire_owned().await;
                let mut attempts = Vec::new();
                for i in 0..n {
                    tokio::time::sleep(base.saturating_mul(1 << i.min(16))).await;
                    let outcome = fetcher.attempt(&url, Method::Get).await;
                    attempts.push(crate::model::Attempt {
                        status: outcome.status(),
                        failure: outcome.failure.clone(),
                        timings: outcome.timings,
                    });
                }
                (id, attempts)
            });
        }
        loop {
            let joined = tokio::select! {
                () = self.cancel.cancelled() => { tasks.abort_all(); return Ok(()); }
                j = tasks.join_next() => j,
            };
            match joined {
                Some(Ok((url_id, attempts))) => {
                    self.write(WriteOp::Reprobes { url_id, attempts })?;
                }
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(Err(_)) => {}
                None => return Ok(()),
            }
        }
    }

    /// Notes the host of an internal page for the TLS probe.
    fn note_probe_host(&mut self, url: &Url) {
        let Some(host) = url.host_str() else {
            return;
        };
        match (url.scheme(), url.port_or_known_default()) {
            ("https", Some(port)) => {
                self.probe_hosts.insert((host.to_string(), port));
            }
            ("http", Some(80)) => {
                self.probe_hosts.insert((host.to_string(), 443));
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, tasks: &mut JoinSet<TaskDone>, key: String, job: Job) {
        if job.kind == JobKind::External {
            self.external_in_flight += 1;
        }
        if job.kind == JobKind::Page {
            self.note_probe_host(&job.url);
        }
        let mut robots_disallowed = false;
        if job.kind == JobKind::Page
            && let Some(host) = self.frontier.get_mut(&key)
            && let RobotsState::Ready(r) = &host.robots
            && !r.allowed(&job.url)
        {
            robots_disallowed = true;
            if self.cfg.robots == RobotsMode::Respect {
                self.frontier.refund(&key);
                let done = TaskDone {
                    key,
                    job,
                    robots_disallowed,
                    fetched: Fetched::Blocked,
                };
                tasks.spawn(async move { done });
                return;
            }
        }
        let fetcher = self.fetcher.clone();
        let extract_links = self.cfg.max_depth.is_none_or(|max| job.depth <= max);
        tasks.spawn(async move {
            let fetched = match job.kind {
                JobKind::Page => fetch_page(&fetcher, &job.url, extract_links).await,
                JobKind::External => {
                    let (hops, outcome) = fetcher.follow(&job.url, true).await;
                    Fetched::External { hops, outcome }
                }
                JobKind::Robots => fetch_file(&fetcher, &job.url, MAX_ROBOTS_BYTES).await,
                JobKind::Sitemap => {
                    fetch_file(&fetcher, &job.url, sitemap::MAX_BYTES as usize).await
                }
            };
            TaskDone {
                key,
                job,
                robots_disallowed,
                fetched,
            }
        });
    }

    fn on_done(&mut self, done: TaskDone) -> Result<(), StoreError> {
        let TaskDone {
            key,
            mut job,
            robots_disallowed,
            fetched,
        } = done;
        if !matches!(fetched, Fetched::Blocked) {
            self.frontier.done(&key);
        }
        if job.kind == JobKind::External {
            self.external_in_flight -= 1;
        }
        // Every answer tells adaptive throttling how the host is doing.
        let answered = match &fetched {
            Fetched::Page { outcome, .. }
            | Fetched::File { outcome, .. }
            | Fetched::External { outcome, .. } => Some(outcome),
            Fetched::Blocked => None,
        };
        if let Some(o) = answered {
            let overloaded = o.status().is_some_and(|s| s >= 500 || s == 429)
                || o.failure.as_ref().is_some_and(FailureKind::is_server_fault);
            let ttfb = o.response.as_ref().map(|_| o.timings.ttfb_ms);
            self.frontier.feedback(&key, overloaded, ttfb);
        }
        // Transient answers go back to the frontier with a delay; every attempt is kept.
        let retryable = match &fetched {
            Fetched::Page { outcome, .. } | Fetched::File { outcome, .. } => Some(outcome),
            _ => None,
        };
        if let Some(outcome) = retryable {
            let made = job.attempts.len() as u32 + 1;
            let c = &self.cfg;
            if let Some(wait) = retry_delay(outcome, made, c.retries, c.retry_backoff, c.max_wait) {
                let now = Instant::now();
                if outcome
                    .response
                    .as_ref()
                    .is_some_and(|r| r.retry_after_s.is_some())
                {
                    self.frontier.pause(&key, now + wait);
                }
                job.attempts.push(attempt_of(outcome));
                job.not_before = Some(now + wait);
                self.frontier.push(&key, job);
                return Ok(());
            }
        }
        let mut ops = Vec::new();
        let mut new = Vec::new();
        let mut links = Vec::new();
        let mut result = UrlResult {
            id: job.id,
            outcome: Outcome::default(),
            robots_disallowed,
            facts: None,
            body_snippet: None,
            hops: Vec::new(),
        };
        match fetched {
            Fetched::Blocked => {
                result.outcome = Outcome::failed(FailureKind::BlockedByRobots);
            }
            Fetched::External { hops, outcome } => {
                result.outcome = outcome;
                result.hops = hops;
            }
            Fetched::Page {
                mut outcome,
                links: found,
                facts,
                snippet,
            } => {
                finish_attempts(&mut job, &mut outcome);
                if let Some(loc) = outcome.response.as_ref().and_then(|r| r.location.clone()) {
                    self.on_redirect(&job, &loc, &mut new, &mut links, &mut ops);
                }
                for l in found {
                    self.on_link(job.id, job.depth + 1, l, &mut new, &mut links, &mut ops);
                }
                result.outcome = outcome;
                result.facts = facts;
                result.body_snippet = snippet;
            }
            Fetched::File {
                mut outcome,
                hops,
                body,
            } => {
                finish_attempts(&mut job, &mut outcome);
                if job.kind == JobKind::Robots {
                    let r = robots_from(&self.cfg.user_agent, outcome.status(), &body);
                    ops.push(WriteOp::Robots {
                        host: key.clone(),
                        status: outcome.status(),
                        body: if outcome.status().is_some_and(|s| (200..300).contains(&s)) {
                            body
                        } else {
                            Vec::new()
                        },
                    });
                    self.on_robots(&key, &job, r, &mut new, &mut links);
                } else {
                    result.facts =
                        self.on_sitemap(&job, &outcome, &body, &mut new, &mut links, &mut ops);
                }
                result.outcome = outcome;
                result.hops = hops;
            }
        }
        self.done += 1;
        if job.kind != JobKind::Robots && job.kind != JobKind::Sitemap {
            self.note_reprobe(job.id, &job.url, &result.outcome);
        }
        let url = || job.url.to_string();
        match (&result.outcome.failure, result.outcome.status()) {
            (Some(f), _) => self.event(|| CrawlEvent::Failed {
                url: url(),
                kind: f.id(),
            }),
            (None, Some(status)) => self.event(|| CrawlEvent::Fetched { url: url(), status }),
            (None, None) => {}
        }
        ops.insert(
            0,
            WriteOp::Done {
                result: Box::new(result),
                new_urls: new,
                links,
            },
        );
        // One op, one transaction: a URL's result, the URLs it found and their own
        // results (invalid links) land together or not at all.
        self.write(if ops.len() == 1 {
            ops.pop().expect("one op")
        } else {
            WriteOp::Many(ops)
        })
    }

    fn on_redirect(
        &mut self,
        job: &Job,
        location: &str,
        new: &mut Vec<NewUrl>,
        links: &mut Vec<LinkRow>,
        ops: &mut Vec<WriteOp>,
    ) {
        let link = match normalize(location) {
            Ok(t) => {
                if self.start_ids.contains(&job.id) {
                    // The site lives where its start URL redirects to.
                    self.scope.add_host(&t);
                }
                FoundLink::new(Target::Url(t), LinkKind::Redirect)
            }
            Err(e) => FoundLink::new(
                Target::Invalid {
                    raw: location.to_string(),
                    reason: format!("redirect target: {e}"),
                },
                LinkKind::Redirect,
            ),
        };
        // A redirect does not add depth: the target stands where the link pointed.
        self.on_link(job.id, job.depth, link, new, links, ops);
    }

    /// Admits a reference found on URL `from` at `depth`, and records the link.
    fn on_link(
        &mut self,
        from: UrlId,
        depth: u32,
        link: FoundLink,
        new: &mut Vec<NewUrl>,
        links: &mut Vec<LinkRow>,
        ops: &mut Vec<WriteOp>,
    ) {
        let found_by = if link.kind == LinkKind::Redirect {
            FOUND_REDIRECT
        } else {
            link.kind.id()
        };
        let max = self.cfg.max_url_length;
        let to = match link.target {
            Target::Url(url) if url.as_str().len() > max => {
                let reason = UrlError::TooLong {
                    len: url.as_str().len(),
                    max,
                }
                .to_string();
                Some(self.invalid(url.to_string(), link.fp, reason, new, ops))
            }
            Target::Url(url) => self.admit(&url, link.fp, depth, found_by, false, new),
            Target::Invalid { raw, reason } => Some(self.invalid(raw, link.fp, reason, new, ops)),
        };
        if let Some(to) = to {
            links.push(LinkRow {
                from,
                to,
                kind: link.kind.into(),
                text: link.text.map(Into::into),
                rel: link.rel.map(Into::into),
            });
        }
    }

    /// Records a reference that is not a valid URL as a URL of its own, done at once
    /// with an `invalid-url` failure, so it is reported with the pages that contain it.
    fn invalid(
        &mut self,
        raw: String,
        fp: u64,
        reason: String,
        new: &mut Vec<NewUrl>,
        ops: &mut Vec<WriteOp>,
    ) -> UrlId {
        if let Some(id) = self.seen.get(&fp) {
            return *id;
        }
        let id = self.new_id(fp);
        new.push(NewUrl {
            id,
            url: raw,
            fingerprint: fp,
            depth: 0,
            scope: UrlScope::Internal,
            found_by: FOUND_INVALID,
            in_sitemap: false,
        });
        ops.push(WriteOp::Done {
            result: Box::new(UrlResult {
                id,
                outcome: Outcome::failed(FailureKind::InvalidUrl { reason }),
                robots_disallowed: false,
                facts: None,
                body_snippet: None,
                hops: Vec::new(),
            }),
            new_urls: Vec::new(),
            links: Vec::new(),
        });
        id
    }

    fn on_robots(
        &mut self,
        key: &str,
        job: &Job,
        robots: Robots,
        new: &mut Vec<NewUrl>,
        links: &mut Vec<LinkRow>,
    ) {
        let delay = self.crawl_delay(&robots);
        let sitemaps: Vec<String> = robots.sitemaps().to_vec();
        if let Some(host) = self.frontier.get_mut(key) {
            host.delay = delay;
            host.robots = RobotsState::Ready(Arc::new(robots));
        }
        if !self.cfg.sitemaps {
            return;
        }
        for s in sitemaps {
            let Ok(u) = crate::url::resolve(&job.url, &s) else {
                continue;
            };
            let fp = fingerprint(&u);
            if let Some(to) = self.admit(&u, fp, 0, FOUND_SITEMAP_FILE, false, new) {
                links.push(LinkRow {
                    from: job.id,
                    to,
                    kind: LinkKind::SitemapFile.into(),
                    text: None,
                    rel: None,
                });
            }
        }
        self.discover_sitemaps(&job.url, new);
    }

    /// Guesses `/sitemap.xml` on the host of `url` (a site host).
    fn discover_sitemaps(&mut self, url: &Url, new: &mut Vec<NewUrl>) {
        if !self.cfg.sitemaps {
            return;
        }
        let Ok(guess) = url.join("/sitemap.xml") else {
            return;
        };
        let fp = fingerprint(&guess);
        self.admit(&guess, fp, 0, FOUND_SITEMAP_PROBE, false, new);
    }

    /// Parses a fetched sitemap and admits what it lists; returns its facts as JSON.
    fn on_sitemap(
        &mut self,
        job: &Job,
        outcome: &Outcome,
        body: &[u8],
        new: &mut Vec<NewUrl>,
        links: &mut Vec<LinkRow>,
        ops: &mut Vec<WriteOp>,
    ) -> Option<String> {
        if outcome.failure.is_some() || !outcome.status().is_some_and(|s| (200..300).contains(&s)) {
            return None;
        }
        let parsed = match sitemap::parse(body) {
            Ok(p) => p,
            Err(e) => {
                let kind = match e {
                    sitemap::SitemapError::TooLarge => "too-large",
                    sitemap::SitemapError::NotASitemap(_) => "format",
                    _ => "parse",
                };
                let facts = serde_json::json!({ "sitemap": { "error": e.to_string(), "error_kind": kind } });
                return Some(facts.to_string());
            }
        };
        let (found_by, link_kind) = match parsed.kind {
            SitemapKind::Index => (FOUND_SITEMAP_FILE, LinkKind::SitemapFile),
            _ => (FOUND_SITEMAP, LinkKind::Sitemap),
        };
        let mut marked = Vec::new();
        let mut invalid = 0u64;
        for loc in &parsed.locs {
            let Ok(u) = normalize(loc) else {
                invalid += 1;
                continue;
            };
            let fp = fingerprint(&u);
            let known = self.seen.get(&fp).copied();
            let in_sitemap = link_kind == LinkKind::Sitemap;
            let to = known.or_else(|| self.admit(&u, fp, 1, found_by, in_sitemap, new));
            if let Some(to) = to {
                if known.is_some() && in_sitemap {
                    marked.push(to);
                }
                links.push(LinkRow {
                    from: job.id,
                    to,
                    kind: link_kind.into(),
                    text: None,
                    rel: None,
                });
            }
        }
        if !marked.is_empty() {
            ops.push(WriteOp::MarkInSitemap(marked));
        }
        let kind = match parsed.kind {
            SitemapKind::UrlSet => "urlset",
            SitemapKind::Index => "index",
            SitemapKind::Text => "text",
        };
        Some(
            serde_json::json!({ "sitemap": {
                "kind": kind,
                "urls": parsed.locs.len(),
                "truncated": parsed.truncated,
                "invalid": invalid,
            }})
            .to_string(),
        )
    }
}

/// Puts the earlier attempts in front of the final one.
fn finish_attempts(job: &mut Job, outcome: &mut Outcome) {
    let mut all = std::mem::take(&mut job.attempts);
    all.push(attempt_of(outcome));
    outcome.attempts = all;
}

/// robots.txt as the crawl obeys it: a 2xx body is parsed; 4xx means no rules; a 5xx
/// or no answer is noted and, unlike a search engine that would stop, crawled anyway
/// (the failure itself is reported).
fn robots_from(user_agent: &str, status: Option<u16>, body: &[u8]) -> Robots {
    match status {
        Some(s) if (200..300).contains(&s) => Robots::parse(user_agent, body),
        Some(s) if (400..500).contains(&s) => {
            Robots::allow_all(Some(format!("robots.txt answered {s}: no rules")))
        }
        Some(s) => Robots::allow_all(Some(format!("robots.txt answered {s}: crawled anyway"))),
        None => Robots::allow_all(Some(
            "robots.txt could not be fetched: crawled anyway".into(),
        )),
    }
}

/// GETs a page: redirects are not followed (the engine does that), HTML is streamed
/// through the extractor, error bodies keep their first bytes.
pub(crate) async fn fetch_page(fetcher: &Fetcher, url: &Url, extract_links: bool) -> Fetched {
    let started = match fetcher.send(url, Method::Get).await {
        Ok(s) => s,
        Err((kind, timings)) => {
            return Fetched::Page {
                outcome: Outcome {
                    failure: Some(kind),
                    timings,
                    ..Outcome::default()
                },
                links: Vec::new(),
                facts: None,
                snippet: None,
            };
        }
    };
    let meta = started.meta();
    let status = meta.status;
    if meta.location.is_some() {
        let (meta, timings) = started.finish();
        return page(meta, None, timings, Vec::new(), None, None);
    }
    let content_type = meta.content_type.clone();
    if extract_links && (200..300).contains(&status) && extract::is_html(content_type.as_deref()) {
        let charset = extract::charset_from_content_type(content_type.as_deref());
        let mut ex = HtmlExtractor::new(url.clone(), charset);
        let (mut meta, failure, timings) = started
            .read_body(fetcher, &mut |chunk| ex.write(chunk))
            .await;
        let Extracted {
            links,
            invalid,
            facts,
            charset,
        } = ex.finish();
        meta.charset = Some(charset);
        let mut found: Vec<FoundLink> = links
            .into_iter()
            .map(|l| FoundLink {
                text: l.text,
                rel: l.rel,
                ..FoundLink::new(Target::Url(l.url), l.kind)
            })
            .collect();
        found.extend(invalid.into_iter().map(|i| {
            FoundLink::new(
                Target::Invalid {
                    raw: i.href,
                    reason: i.reason,
                },
                i.kind,
            )
        }));
        // Straight to text: no tree of JSON values per page.
        let facts = serde_json::to_string(&facts).unwrap_or_default();
        return page(meta, failure, timings, found, Some(facts), None);
    }
    let keep = if status >= 400 { SNIPPET_BYTES } else { 0 };
    let mut snippet = Vec::new();
    let (meta, failure, timings) = started
        .read_body(fetcher, &mut |chunk| {
            let room = keep - snippet.len();
            snippet.extend_from_slice(&chunk[..chunk.len().min(room)]);
        })
        .await;
    let snippet = (!snippet.is_empty()).then(|| String::from_utf8_lossy(&snippet).into_owned());
    page(meta, failure, timings, Vec::new(), None, snippet)
}

fn page(
    meta: crate::model::ResponseMeta,
    failure: Option<FailureKind>,
    timings: crate::model::Timings,
    links: Vec<FoundLink>,
    facts: Option<String>,
    snippet: Option<String>,
) -> Fetched {
    Fetched::Page {
        outcome: Outcome {
            response: Some(meta),
            failure,
            timings,
            attempts: Vec::new(),
        },
        links,
        facts,
        snippet,
    }
}

/// GETs robots.txt or a sitemap: redirects followed (a few hops), body kept up to `limit`.
async fn fetch_file(fetcher: &Fetcher, url: &Url, limit: usize) -> Fetched {
    let mut hops = Vec::new();
    let mut current = url.clone();
    loop {
        let started = match fetcher.send(&current, Method::Get).await {
            Ok(s) => s,
            Err((kind, timings)) => {
                let outcome = Outcome {
                    failure: Some(kind),
                    timings,
                    ..Outcome::default()
                };
                return Fetched::File {
                    hops,
                    outcome,
                    body: Vec::new(),
                };
            }
        };
        if let Some(loc) = started.meta().location.clone() {
            let (meta, timings) = started.finish();
            hops.push(RedirectHop {
                url: current.to_string(),
                status: Some(meta.status),
                location: Some(loc.clone()),
            });
            let next = normalize(&loc);
            let failure = match &next {
                Err(e) => Some(FailureKind::InvalidUrl {
                    reason: format!("redirect target {loc:?}: {e}"),
                }),
                Ok(n) if hops.iter().any(|h| h.url == n.as_str()) => {
                    Some(FailureKind::RedirectLoop)
                }
                Ok(_) if hops.len() > FILE_REDIRECTS => Some(FailureKind::TooManyRedirects {
                    hops: hops.len() as u32,
                }),
                Ok(_) => None,
            };
            match (failure, next) {
                (None, Ok(n)) => {
                    current = n;
                    continue;
                }
                (failure, _) => {
                    let outcome = Outcome {
                        response: Some(meta),
                        failure,
                        timings,
                        attempts: Vec::new(),
                    };
                    return Fetched::File {
                        hops,
                        outcome,
                        body: Vec::new(),
                    };
                }
            }
        }
        let mut body = Vec::new();
        let (meta, failure, timings) = started
            .read_body(fetcher, &mut |chunk| {
                let room = limit.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            })
            .await;
        if !hops.is_empty() {
            hops.push(RedirectHop {
                url: current.to_string(),
                status: Some(meta.status),
                location: None,
            });
        }
        let outcome = Outcome {
            response: Some(meta),
            failure,
            timings,
            attempts: Vec::new(),
        };
        return Fetched::File {
            hops,
            outcome,
            body,
        };
    }
}
