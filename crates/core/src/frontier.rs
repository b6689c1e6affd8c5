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
    pub(crate) queue: VecDeque<Job>,
    pub(crate) delayed: Vec<Job>,
    pub(crate) in_flight: usize,
    pub(crate) next_at: Instant,
    pub(crate) delay: Duration,
    pub(crate) robots: RobotsState,
}

impl Host {
    fn new(robots: RobotsState, delay: Duration) -> Self {
        Self {
            queue: VecDeque::new(),
            delayed: Vec::new(),
            in_flight: 0,
            next_at: Instant::now(),
            delay,
            robots,
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
}

impl Frontier {
    pub(crate) fn new(per_host: usize, base_delay: Duration) -> Self {
        Self {
            hosts: HashMap::new(),
            ready: VecDeque::new(),
            per_host: per_host.max(1),
            base_delay,
        }
    }

    /// The host's state, created on first sight.
    pub(crate) fn host(&mut self, key: &str, robots: impl FnOnce() -> RobotsState) -> &mut Host {
        let delay = self.base_delay;
        self.hosts
            .entry(key.to_string())
            .or_insert_with(|| Host::new(robots(), delay))
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
        if job.not_before.is_some() {
            host.delayed.push(job);
        } else if job.kind == JobKind::Robots {
            host.queue.push_front(job);
        } else {
            host.queue.push_back(job);
        }
        if !had_work {
            self.ready.push_back(key.to_string());
        }
    }

    /// The next job that may start now, round-robin over hosts.
    pub(crate) fn next(&mut self, now: Instant) -> Result<(String, Job), Idle> {
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
                host.queue.push_front(job);
            }
            let job_wait = host.delayed.iter().filter_map(|j| j.not_before).min();
            let robots_ready = !matches!(host.robots, RobotsState::Pending);
            let front_is_robots = host
                .queue
                .front()
                .is_some_and(|j| j.kind == JobKind::Robots);
            let can_start = !host.queue.is_empty()
                && host.in_flight < self.per_host
                && (robots_ready || (front_is_robots && host.in_flight == 0));
            if can_start && host.next_at <= now {
                let job = host.queue.pop_front().expect("queue is not empty");
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

    #[test]
    fn robots_first_then_per_host_limit_and_delay() {
        let mut f = Frontier::new(1, Duration::from_millis(50));
        f.host("h", || RobotsState::Pending);
        f.push("h", job(2, JobKind::Page));
        f.push("h", job(1, JobKind::Robots));
        let now = Instant::now();
        let (_, j) = f.next(now).unwrap();
        assert_eq!(j.kind, JobKind::Robots);
        // Robots in flight: pages wait.
        assert_eq!(f.next(now).unwrap_err(), Idle::Blocked);
        f.done("h");
        f.get_mut("h").unwrap().robots = RobotsState::NotNeeded;
        // The crawl delay holds the next request back.
        assert!(matches!(f.next(now), Err(Idle::Until(_))));
        let (_, j) = f.next(now + Duration::from_millis(60)).unwrap();
        assert_eq!(j.id, 2);
        f.done("h");
        assert_eq!(
            f.next(now + Duration::from_secs(1)).unwrap_err(),
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
            f.next(now).unwrap_err(),
            Idle::Until(now + Duration::from_secs(1))
        );
        assert_eq!(f.next(now + Duration::from_secs(2)).unwrap().1.id, 1);
    }
}
