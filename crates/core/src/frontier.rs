//! Stage 1: what to fetch next. Per-host queues with politeness (concurrency per host,
//! delay between requests, `Retry-After` pauses) and the seen-set that makes
//! deduplication exact.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use crate::model::Attempt;
use crate::robots::Robots;
use crate::store::UrlId;

/// What kind of work a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// A URL of the site: fetched with GET, links extracted from HTML.
    Page,
    /// A URL of another site: checked (HEAD, then GET), redirects followed, not crawled.
    External,
    /// A host's robots.txt.
    Robots,
    /// A sitemap or sitemap index.
    Sitemap,
}

/// One URL waiting to be fetched.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: UrlId,
    pub(crate) url: Url,
    pub(crate) depth: u32,
    pub(crate) kind: JobKind,
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) not_before: Option<Instant>,
}

/// A job waiting in a host's queue: a fresh one without the attempts and delay it has
/// none of, a retried or delayed one whole. The URL stays parsed: a crawl of a million
/// pages has most of its URLs queued at once, and held as text each was parsed again as
/// it left the queue (~1 % of a crawl's instructions) to save ~64 bytes a queued URL
/// (~60 MB at a million, below the audit's peak).
#[derive(Debug)]
enum Queued {
    Fresh {
        id: UrlId,
        depth: u32,
        kind: JobKind,
        url: Url,
    },
    Whole(Box<Job>),
}

impl Queued {
    fn new(job: Job) -> Self {
        if job.attempts.is_empty() && job.not_before.is_none() {
            Self::Fresh {
                id: job.id,
                depth: job.depth,
                kind: job.kind,
                url: job.url,
            }
        } else {
            Self::Whole(Box::new(job))
        }
    }

    fn kind(&self) -> JobKind {
        match self {
            Self::Fresh { kind, .. } => *kind,
            Self::Whole(job) => job.kind,
        }
    }

    fn into_job(self) -> Job {
        match self {
            Self::Fresh {
                id,
                depth,
                kind,
                url,
            } => Job {
                id,
                url,
                depth,
                kind,
                attempts: Vec::new(),
                not_before: None,
            },
            Self::Whole(job) => *job,
        }
    }
}

/// Whether a host's robots.txt is known yet.
#[derive(Debug, Clone)]
pub(crate) enum RobotsState {
    /// Not consulted for this host (external, or robots ignored).
    NotNeeded,
    /// Its robots.txt job is queued or in flight; other jobs wait.
    Pending,
    /// Known.
    Ready(Arc<Robots>),
}

/// One host's queue and politeness state.
#[derive(Debug)]
pub(crate) struct Host {
    queue: VecDeque<Queued>,
    pub(crate) delayed: Vec<Job>,
    pub(crate) in_flight: usize,
    pub(crate) next_at: Instant,
    pub(crate) delay: Duration,
    pub(crate) robots: RobotsState,
    /// Requests allowed in flight now: `per_host`, lowered by adaptive throttling.
    pub(crate) limit: usize,
    /// The lowest `limit` reached.
    pub(crate) lowest: usize,
    /// How many times the limit was halved.
    pub(crate) backoffs: u32,
    /// Healthy answers since the last change of `limit`.
    ok_streak: u32,
    /// Answers since the last halving (one halving per window of `limit` answers,
    /// so a burst of failures already in flight counts once).
    since_backoff: u32,
    /// The fastest time to first byte seen, the reference for "latency rose".
    ttfb_floor: Option<f64>,
}

impl Host {
    fn new(robots: RobotsState, delay: Duration, limit: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            delayed: Vec::new(),
            in_flight: 0,
            next_at: Instant::now(),
            delay,
            robots,
            limit,
            lowest: limit,
            backoffs: 0,
            ok_streak: 0,
            since_backoff: u32::MAX,
            ttfb_floor: None,
        }
    }

    fn has_work(&self) -> bool {
        !self.queue.is_empty() || !self.delayed.is_empty()
    }
}

/// Why [`Frontier::next`] returned no job.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Idle {
    /// Work exists but must wait until this instant.
    Until(Instant),
    /// Work exists but waits on jobs in flight (robots.txt, per-host limit).
    Blocked,
    /// Nothing queued at all.
    Empty,
}

/// All hosts' queues.
#[derive(Debug)]
pub(crate) struct Frontier {
    hosts: HashMap<String, Host>,
    ready: VecDeque<String>,
    per_host: usize,
    base_delay: Duration,
    adaptive: bool,
    /// Jobs queued or waiting that are not external checks (see
    /// [`Frontier::holds_site_work`]): counted, as the crawl asks after every answer.
    site_jobs: usize,
}

impl Frontier {
    pub(crate) fn new(per_host: usize, base_delay: Duration) -> Self {
        Self {
            hosts: HashMap::new(),
            ready: VecDeque::new(),
            per_host: per_host.max(1),
            base_delay,
            adaptive: false,
            site_jobs: 0,
        }
    }

    /// Turns adaptive throttling on: [`Frontier::feedback`] lowers a host's limit.
    pub(crate) fn adaptive(mut self, on: bool) -> Self {
        self.adaptive = on;
        self
    }

    /// What one answer says about its host's load. An overloaded answer (5xx, 429,
    /// timeout, refused or reset connection) or one much slower than the host's
    /// fastest (4× and at least 1 s more) halves the host's concurrency, once per
    /// window of `limit` answers; healthy answers raise it by one after a streak of
    /// 4 × limit (at least 8), up to `per_host`: fall fast, recover slowly.
    pub(crate) fn feedback(&mut self, key: &str, overloaded: bool, ttfb_ms: Option<f64>) {
        if !self.adaptive {
            return;
        }
        let per_host = self.per_host;
        let Some(h) = self.hosts.get_mut(key) else {
            return;
        };
        let slow = match (ttfb_ms, h.ttfb_floor) {
            (Some(t), Some(floor)) => t > (floor * 4.0).max(floor + 1000.0),
            _ => false,
        };
        if let Some(t) = ttfb_ms {
            h.ttfb_floor = Some(h.ttfb_floor.map_or(t, |f| f.min(t)));
        }
        h.since_backoff = h.since_backoff.saturating_add(1);
        if overloaded || slow {
            h.ok_streak = 0;
            if h.since_backoff as usize >= h.limit && h.limit > 1 {
                h.limit = (h.limit / 2).max(1);
                h.lowest = h.lowest.min(h.limit);
                h.backoffs += 1;
                h.since_backoff = 0;
            }
        } else {
            h.ok_streak += 1;
            if h.limit < per_host && h.ok_streak as usize >= (4 * h.limit).max(8) {
                h.limit += 1;
                h.ok_streak = 0;
            }
        }
    }

    /// Hosts whose limit was lowered: `(key, lowest limit, halvings)`.
    pub(crate) fn throttled(&self) -> Vec<(String, usize, u32)> {
        let mut v: Vec<_> = self
            .hosts
            .iter()
            .filter(|(_, h)| h.backoffs > 0)
            .map(|(k, h)| (k.clone(), h.lowest, h.backoffs))
            .collect();
        v.sort();
        v
    }

    /// The host's state, created on first sight.
    pub(crate) fn host(&mut self, key: &str, robots: impl FnOnce() -> RobotsState) -> &mut Host {
        let (delay, limit) = (self.base_delay, self.per_host);
        self.hosts
            .entry(key.to_string())
            .or_insert_with(|| Host::new(robots(), delay, limit))
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Host> {
        self.hosts.get_mut(key)
    }

    /// Queues a job (robots.txt jumps the queue).
    pub(crate) fn push(&mut self, key: &str, job: Job) {
        let host = self
            .hosts
            .get_mut(key)
            .expect("host is created before its jobs are pushed");
        let had_work = host.has_work();
        if job.kind != JobKind::External {
            self.site_jobs += 1;
        }
        if job.not_before.is_some() {
            host.delayed.push(job);
        } else if job.kind == JobKind::Robots {
            host.queue.push_front(Queued::new(job));
        } else {
            host.queue.push_back(Queued::new(job));
        }
        if !had_work {
            self.ready.push_back(key.to_string());
        }
    }

    /// The next job that may start now, round-robin over hosts; external checks only
    /// when `external_ok` (the caller caps how many run at once).
    pub(crate) fn next(&mut self, now: Instant, external_ok: bool) -> Result<(String, Job), Idle> {
        let mut wake: Option<Instant> = None;
        let mut any = false;
        for _ in 0..self.ready.len() {
            let Some(key) = self.ready.pop_front() else {
                break;
            };
            let Some(host) = self.hosts.get_mut(&key) else {
                continue;
            };
            if !host.has_work() {
                continue;
            }
            any = true;
            // Delayed jobs (retries) whose time has come go first.
            if let Some(pos) = host
                .delayed
                .iter()
                .position(|j| j.not_before.is_none_or(|t| t <= now))
            {
                let mut job = host.delayed.swap_remove(pos);
                job.not_before = None;
                host.queue.push_front(Queued::new(job));
            }
            // Held back by the caller's cap: a check that ends frees a slot and asks again.
            if !external_ok
                && host
                    .queue
                    .front()
                    .is_some_and(|j| j.kind() == JobKind::External)
            {
                self.ready.push_back(key);
                continue;
            }
            let job_wait = host.delayed.iter().filter_map(|j| j.not_before).min();
            let robots_ready = !matches!(host.robots, RobotsState::Pending);
            let front_is_robots = host
                .queue
                .front()
                .is_some_and(|j| j.kind() == JobKind::Robots);
            let can_start = !host.queue.is_empty()
                && host.in_flight < host.limit
                && (robots_ready || (front_is_robots && host.in_flight == 0));
            if can_start && host.next_at <= now {
                let job = host
                    .queue
                    .pop_front()
                    .expect("queue is not empty")
                    .into_job();
                if job.kind != JobKind::External {
                    self.site_jobs -= 1;
                }
                host.in_flight += 1;
                host.next_at = now + host.delay;
                self.ready.push_back(key.clone());
                return Ok((key, job));
            }
            if can_start {
                wake = Some(wake.map_or(host.next_at, |w| w.min(host.next_at)));
            }
            if let Some(t) = job_wait {
                wake = Some(wake.map_or(t, |w| w.min(t)));
            }
            self.ready.push_back(key);
        }
        match (any, wake) {
            (false, _) => Err(Idle::Empty),
            (true, Some(t)) => Err(Idle::Until(t)),
            (true, None) => Err(Idle::Blocked),
        }
    }

    /// Whether any job other than an external check is queued or waiting: the site's
    /// own crawl is not over.
    pub(crate) fn holds_site_work(&self) -> bool {
        self.site_jobs > 0
    }

    /// A job of this host finished.
    pub(crate) fn done(&mut self, key: &str) {
        if let Some(h) = self.hosts.get_mut(key) {
            h.in_flight = h.in_flight.saturating_sub(1);
        }
    }

    /// Gives back a job's slot and delay: it was settled without a request (robots.txt
    /// disallows it), so it must not slow the host down.
    pub(crate) fn refund(&mut self, key: &str) {
        if let Some(h) = self.hosts.get_mut(key) {
            h.in_flight = h.in_flight.saturating_sub(1);
            h.next_at = h.next_at.checked_sub(h.delay).unwrap_or(h.next_at);
        }
    }

    /// The delay between requests to one host before robots.txt says otherwise.
    pub(crate) fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// Pauses a host (429/503 `Retry-After`).
    pub(crate) fn pause(&mut self, key: &str, until: Instant) {
        if let Some(h) = self.hosts.get_mut(key) {
            h.next_at = h.next_at.max(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: UrlId, kind: JobKind) -> Job {
        Job {
            id,
            url: Url::parse(&format!("http://h/{id}")).unwrap(),
            depth: 0,
            kind,
            attempts: vec![],
            not_before: None,
        }
    }

    /// A queued job comes back as it went in: fresh ones with their URL (odd spellings
    /// included) and without room for attempts, retried ones whole with their attempts.
    #[test]
    fn queued_jobs_come_back_unchanged() {
        for raw in [
            "http://h/1",
            "https://user:pw@Bücher.example:8443/a%20b/../c?q=1&r=%C3%A9#frag",
            "http://[::1]:8080/x?",
            "http://h/sp ace/ünï",
        ] {
            let mut j = job(7, JobKind::Sitemap);
            j.url = Url::parse(raw).unwrap();
            j.depth = 3;
            let back = Queued::new(j.clone()).into_job();
            assert_eq!(
                (back.id, back.url, back.depth, back.kind),
                (j.id, j.url, j.depth, j.kind)
            );
        }
        let mut retried = job(8, JobKind::Page);
        retried.attempts.push(Attempt {
            status: Some(503),
            failure: None,
            timings: crate::model::Timings::default(),
        });
        let q = Queued::new(retried);
        assert!(matches!(q, Queued::Whole(_)));
        assert_eq!(q.into_job().attempts.len(), 1);
        assert!(std::mem::size_of::<Queued>() <= std::mem::size_of::<Url>() + 16);
    }

    #[test]
    fn adaptive_limit_falls_fast_and_recovers_slowly() {
        let mut f = Frontier::new(8, Duration::ZERO).adaptive(true);
        f.host("h", || RobotsState::NotNeeded);
        // A burst of 8 failures in flight halves once per window: 8 → 4 → 2 → 1.
        for _ in 0..8 {
            f.feedback("h", true, Some(5.0));
        }
        assert_eq!(f.get_mut("h").unwrap().limit, 1);
        for _ in 0..7 {
            f.feedback("h", false, Some(5.0));
        }
        assert_eq!(f.get_mut("h").unwrap().limit, 1, "not yet");
        f.feedback("h", false, Some(5.0));
        assert_eq!(f.get_mut("h").unwrap().limit, 2);
        // Much slower answers count as overload.
        f.feedback("h", false, Some(5000.0));
        assert_eq!(f.get_mut("h").unwrap().limit, 1);
        assert_eq!(f.throttled(), [("h".to_string(), 1, 4)]);
        // Off: nothing changes.
        let mut off = Frontier::new(8, Duration::ZERO);
        off.host("h", || RobotsState::NotNeeded);
        off.feedback("h", true, None);
        assert_eq!(off.get_mut("h").unwrap().limit, 8);
    }

    #[test]
    fn robots_first_then_per_host_limit_and_delay() {
        let mut f = Frontier::new(1, Duration::from_millis(50));
        f.host("h", || RobotsState::Pending);
        f.push("h", job(2, JobKind::Page));
        f.push("h", job(1, JobKind::Robots));
        let now = Instant::now();
        let (_, j) = f.next(now, true).unwrap();
        assert_eq!(j.kind, JobKind::Robots);
        // Robots in flight: pages wait.
        assert_eq!(f.next(now, true).unwrap_err(), Idle::Blocked);
        f.done("h");
        f.get_mut("h").unwrap().robots = RobotsState::NotNeeded;
        // The crawl delay holds the next request back.
        assert!(matches!(f.next(now, true), Err(Idle::Until(_))));
        let (_, j) = f.next(now + Duration::from_millis(60), true).unwrap();
        assert_eq!(j.id, 2);
        f.done("h");
        assert_eq!(
            f.next(now + Duration::from_secs(1), true).unwrap_err(),
            Idle::Empty
        );
    }

    #[test]
    fn delayed_jobs_wait_their_turn() {
        let mut f = Frontier::new(4, Duration::ZERO);
        f.host("h", || RobotsState::NotNeeded);
        let now = Instant::now();
        let mut j = job(1, JobKind::Page);
        j.not_before = Some(now + Duration::from_secs(1));
        f.push("h", j);
        assert_eq!(
            f.next(now, true).unwrap_err(),
            Idle::Until(now + Duration::from_secs(1))
        );
        assert_eq!(f.next(now + Duration::from_secs(2), true).unwrap().1.id, 1);
    }

    /// With external checks held back, only the site's jobs start; the site's work is
    /// over once only external checks remain, and then they start too.
    #[test]
    fn external_checks_can_be_held_back() {
        let mut f = Frontier::new(4, Duration::ZERO);
        f.host("ext", || RobotsState::NotNeeded);
        f.host("site", || RobotsState::NotNeeded);
        f.push("ext", job(1, JobKind::External));
        f.push("site", job(2, JobKind::Page));
        let now = Instant::now();
        assert!(f.holds_site_work());
        assert_eq!(f.next(now, false).unwrap().1.id, 2);
        assert!(!f.holds_site_work());
        assert_eq!(f.next(now, false).unwrap_err(), Idle::Blocked);
        let (key, j) = f.next(now, true).unwrap();
        assert_eq!((key.as_str(), j.id), ("ext", 1));
        // A retried page waiting for its time is site work too.
        let mut retry = job(3, JobKind::Page);
        retry.not_before = Some(now + Duration::from_secs(5));
        f.push("site", retry);
        assert!(f.holds_site_work());
    }
}
