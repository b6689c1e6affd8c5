//! `siteaudit logs`: stream access and error logs (plain or gzip) in one pass,
//! classify every failing request, and summarise by status, URL, minute (with
//! spikes), upstream and cause; search-engine crawlers that hit errors apart.
//! Memory stays flat: error lines live only in the join window, tables are
//! capped, and only the first examples of each cause are kept.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use super::access::{self, AccessEntry};
use super::classify::{self, ClientSaw, Verdict};
use super::error_log::{self, ErrorEntry};
use super::haproxy;
use super::join::Joiner;
use super::lines::{self, LineReader, LogKind};
use super::log_format::LogFormat;

/// Why the logs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No line of the file looks like a log siteaudit reads.
    #[error(
        "{path}: not a log siteaudit recognises (nginx/Apache access or error log, JSON lines, HAProxy httplog, php-fpm); give the access format with --log-format"
    )]
    Unknown {
        /// The file.
        path: String,
    },
}

/// Crawlers recognised by user agent (claimed, not verified by reverse DNS).
const CRAWLERS: &[(&str, &str)] = &[
    ("Googlebot", "Googlebot"),
    ("bingbot", "Bingbot"),
    ("YandexBot", "YandexBot"),
    ("Baiduspider", "Baiduspider"),
    ("DuckDuckBot", "DuckDuckBot"),
    ("Applebot", "Applebot"),
    ("AhrefsBot", "AhrefsBot"),
    ("SemrushBot", "SemrushBot"),
];

/// The crawler a user agent claims to be. Every name holds `bot`/`Bot` or
/// `spider`, which rules most browsers out with one or two scans.
fn crawler_of(ua: &str) -> Option<&'static str> {
    if !(ua.contains("bot") || ua.contains("Bot") || ua.contains("spider")) {
        return None;
    }
    CRAWLERS
        .iter()
        .find(|(k, _)| ua.contains(k))
        .map(|(_, n)| *n)
}

/// Examples kept per cause, crawler requests kept, and rows kept per table.
const EXAMPLES_PER_CAUSE: usize = 50;
const CRAWLER_ROWS: usize = 500;
const TABLE_ROWS: usize = 100_000;

/// How to read the logs.
#[derive(Debug, Default)]
pub struct Options {
    /// The access format as an nginx `log_format` string, instead of auto-detection.
    pub log_format: Option<LogFormat>,
    /// What a client saw of each request target, to settle causes the logs cannot.
    pub client: Option<ClientViews>,
    /// Example requests kept per cause (default 50; 0 keeps every failing request).
    pub examples_per_cause: Option<usize>,
}

/// What clients saw, by request target (path and query).
#[derive(Debug, Default)]
pub struct ClientViews {
    /// Observations per target.
    pub by_target: HashMap<String, Vec<ClientSaw>>,
    /// `true`: the n-th request to a target in the logs is the n-th observation
    /// (a client's own request log); `false`: the one observation applies to
    /// every request to the target within `span_ms` (a crawl).
    pub sequential: bool,
    /// The time span (Unix ms) the observations cover.
    pub span_ms: Option<(i64, i64)>,
}

/// One failing request.
#[derive(Debug, Clone, Serialize)]
pub struct LogProblem {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The client address.
    pub client: String,
    /// The request line.
    pub request: String,
    /// The status as logged.
    pub status: String,
    /// DIAGNOSIS.md cause id.
    pub cause: &'static str,
    /// Other causes that leave the same trace in this log.
    pub also_possible: Vec<&'static str>,
    /// In everyday words.
    pub article_cause: &'static str,
    /// What to do.
    pub fix: &'static str,
    /// The upstream, when logged.
    pub upstream: Option<String>,
    /// HAProxy termination state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination: Option<String>,
    /// The error-log lines of the request.
    pub error_lines: Vec<String>,
    /// The crawler its user agent claims to be (unverified).
    pub crawler: Option<&'static str>,
}

/// A minute with unusually many 5xx.
#[derive(Debug, Clone, Serialize)]
pub struct Spike {
    /// `YYYY-MM-DDTHH:MM`.
    pub minute: String,
    /// 5xx in that minute.
    pub count: u64,
    /// The threshold it crossed (mean + 3 standard deviations over the log's minutes, at least 3).
    pub threshold: f64,
}

/// One minute of the per-minute series.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Minute {
    /// Requests.
    pub requests: u64,
    /// 4xx.
    pub client_errors: u64,
    /// 5xx.
    pub server_errors: u64,
}

/// A server event (startup, health checks, pool warnings).
#[derive(Debug, Clone, Serialize)]
pub struct ServerEvent {
    /// When, if the line says.
    pub time: Option<String>,
    /// Which log.
    pub source: LogKind,
    /// Level as logged.
    pub level: String,
    /// The message.
    pub message: String,
}

/// What the logs say.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogReport {
    /// The files read, with the kind each was taken for.
    pub files: Vec<(String, LogKind)>,
    /// Access entries read.
    pub requests: u64,
    /// Lines that are neither requests nor error entries.
    pub unparsed: u64,
    /// First and last request time (RFC 3339).
    pub span: Option<(String, String)>,
    /// Requests by status.
    pub by_status: BTreeMap<String, u64>,
    /// Failing requests (4xx, 5xx, and broken 2xx the error log reveals) by cause.
    pub by_cause: BTreeMap<&'static str, u64>,
    /// 5xx by URL (request target).
    pub by_url: BTreeMap<String, u64>,
    /// 4xx by URL.
    pub client_errors_by_url: BTreeMap<String, u64>,
    /// Per-minute series (`YYYY-MM-DDTHH:MM`), minutes with requests only.
    pub by_minute: BTreeMap<String, Minute>,
    /// Minutes whose 5xx count stands out.
    pub spikes: Vec<Spike>,
    /// 5xx by upstream address.
    pub by_upstream: BTreeMap<String, u64>,
    /// Failing requests, the first examples of each cause, in log order.
    pub problems: Vec<LogProblem>,
    /// Failing requests not listed in `problems` (over the per-cause cap).
    pub problems_omitted: u64,
    /// Failing requests from search-engine crawlers (by user agent, unverified).
    pub crawler_problems: Vec<LogProblem>,
    /// Error-log incidents no request in the access logs accounts for.
    pub unmatched_errors: Vec<Vec<String>>,
    /// How many in all.
    pub unmatched_error_count: u64,
    /// Server events (startup, health checks, php-fpm pool warnings).
    pub events: Vec<ServerEvent>,
    /// How many in all.
    pub event_count: u64,
    /// Which log errors a stored crawl saw, and which it did not (`--crawl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crawl: Option<super::correlate::Correlation>,
    /// Failing targets with their last cause and status, for `--crawl` (not serialised).
    #[serde(skip)]
    pub failing_targets: HashMap<String, (u64, &'static str, u16), Fast>,
    /// Every target seen in the logs within the client views' span (not serialised).
    #[serde(skip)]
    pub seen_targets: std::collections::HashSet<String>,
}

fn rfc3339_ms(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// An error log read entry by entry (joining continuation lines).
struct ErrorSource {
    kind: LogKind,
    reader: LineReader,
    carry: Option<String>,
    done: bool,
}

impl ErrorSource {
    fn next(&mut self, unparsed: &mut u64) -> Result<Option<ErrorEntry>, LogError> {
        loop {
            let mut text = match self.carry.take() {
                Some(t) => t,
                None => {
                    if self.done {
                        return Ok(None);
                    }
                    match self.reader.next_line()? {
                        Some(l) => l.to_string(),
                        None => return Ok(None),
                    }
                }
            };
            // Continuation lines (nginx quotes FastCGI stderr over several lines).
            loop {
                match self.reader.next_line()? {
                    None => {
                        self.done = true;
                        break;
                    }
                    Some(l) if error_log::starts_entry(self.kind, l) => {
                        self.carry = Some(l.to_string());
                        break;
                    }
                    Some(l) => {
                        text.push('\n');
                        text.push_str(l);
                    }
                }
            }
            if text.trim().is_empty() {
                continue;
            }
            match error_log::parse_entry(self.kind, &text) {
                Some(e) => return Ok(Some(e)),
                None => *unparsed += 1,
            }
        }
    }
}

/// An access log read request by request; HAProxy events go to `events`.
struct AccessSource {
    kind: LogKind,
    reader: LineReader,
    year: i64,
}

impl AccessSource {
    fn next(
        &mut self,
        format: Option<&LogFormat>,
        report: &mut LogReport,
    ) -> Result<Option<AccessEntry>, LogError> {
        loop {
            let Some(line) = self.reader.next_line()? else {
                return Ok(None);
            };
            if line.trim().is_empty() {
                continue;
            }
            let parsed = match (self.kind, format) {
                (LogKind::Haproxy, _) => haproxy::parse_line(line),
                (_, Some(f)) => f.parse_line(line),
                _ => access::parse_line(line),
            };
            if let Some(e) = parsed {
                self.year = 1970 + e.time_ms / 31_556_952_000;
                return Ok(Some(e));
            }
            let event = match self.kind {
                // In a HAProxy log every other line is one of its messages.
                LogKind::Haproxy => haproxy::event(line, self.year)
                    .or_else(|| Some((None, haproxy::strip_syslog(line).to_string()))),
                _ => haproxy::event(line, self.year),
            };
            if let Some((t, message)) = event {
                report.event_count += 1;
                if report.events.len() < 200 {
                    report.events.push(ServerEvent {
                        time: t.map(rfc3339_ms),
                        source: LogKind::Haproxy,
                        level: String::new(),
                        message,
                    });
                }
            } else {
                report.unparsed += 1;
            }
        }
    }
}

/// Opens and sorts the files into access and error sources.
fn open_sources(
    paths: &[&Path],
    opts: &Options,
    report: &mut LogReport,
) -> Result<(Vec<AccessSource>, Vec<ErrorSource>), LogError> {
    let mut access = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let detected = lines::detect(path)?;
        let kind = match (detected, &opts.log_format) {
            (Some(k), _) if k != LogKind::Access => k,
            (_, Some(_)) => LogKind::Access,
            (Some(k), None) => k,
            (None, None) => {
                return Err(LogError::Unknown {
                    path: path.display().to_string(),
                });
            }
        };
        report.files.push((path.display().to_string(), kind));
        let reader = LineReader::open(path)?;
        if kind.is_access() {
            access.push(AccessSource {
                kind,
                reader,
                // Syslog frames carry no year: the current one until a request dates the log.
                year: 1970
                    + std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64)
                        / 31_556_952,
            });
        } else {
            errors.push(ErrorSource {
                kind,
                reader,
                carry: None,
                done: false,
            });
        }
    }
    Ok((access, errors))
}

/// The aggregation of classified requests.
/// Counters kept in hash maps and arrays during the pass (the hot path), turned
/// into the report's sorted tables at the end.
#[derive(Default)]
struct Counters {
    status: Vec<u64>,
    minutes: HashMap<i64, Minute, Fast>,
    by_url: HashMap<String, u64, Fast>,
    client_errors_by_url: HashMap<String, u64, Fast>,
    by_upstream: HashMap<String, u64, Fast>,
}

/// XXH3 for the per-line tables: several times faster than SipHash on short keys,
/// and nothing here is exposed to untrusted key choice that matters (a log can
/// only slow its own report).
pub(crate) type Fast = xxhash_rust::xxh3::Xxh3DefaultBuilder;

struct Tally<'a> {
    report: &'a mut LogReport,
    observer: &'a mut dyn FnMut(&AccessEntry, Verdict, &[ErrorEntry]),
    examples: usize,
    per_cause: Vec<(&'static str, u64, usize)>,
    client_cursor: HashMap<String, usize>,
    first_ms: Option<i64>,
    last_ms: i64,
    counts: Counters,
}

/// Counts `key`; past `TABLE_ROWS` distinct keys new ones go to `overflow`.
fn bump(map: &mut HashMap<String, u64, Fast>, key: &str, overflow: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < TABLE_ROWS {
        map.insert(key.to_string(), 1);
    } else {
        *map.entry(overflow.to_string()).or_default() += 1;
    }
}

impl Tally<'_> {
    fn add(&mut self, a: AccessEntry, errors: Vec<ErrorEntry>, client: Option<&ClientViews>) {
        let r = &mut *self.report;
        r.requests += 1;
        self.first_ms = Some(self.first_ms.map_or(a.time_ms, |f| f.min(a.time_ms)));
        self.last_ms = self.last_ms.max(a.time_ms);
        let status = a.status;
        let c = &mut self.counts;
        if c.status.is_empty() {
            c.status = vec![0; 1000];
        }
        c.status[usize::from(status.min(999))] += 1;
        let m = c.minutes.entry(a.time_ms.div_euclid(60_000)).or_default();
        m.requests += 1;
        let mut verdict = classify::classify(&a, &errors);
        if let Some(views) = client {
            let target = a.target();
            let in_span = views
                .span_ms
                .is_none_or(|(lo, hi)| (lo - 60_000..=hi + 60_000).contains(&a.time_ms));
            if in_span && let Some(obs) = views.by_target.get(target) {
                r.seen_targets.insert(target.to_string());
                let saw = if views.sequential {
                    let n = self.client_cursor.entry(target.to_string()).or_default();
                    *n += 1;
                    obs.get(*n - 1).copied()
                } else {
                    obs.first().copied()
                };
                if let Some(saw) = saw {
                    verdict = classify::refine(verdict, status, saw);
                }
            } else if in_span {
                r.seen_targets.insert(target.to_string());
            }
        }
        (self.observer)(&a, verdict, &errors);
        let Verdict { cause, also } = verdict;
        if cause == "ok" {
            return;
        }
        if (500..600).contains(&status) {
            m.server_errors += 1;
            bump(&mut c.by_url, a.target(), "(other URLs)");
            if let Some(u) = &a.upstream_addr {
                bump(&mut c.by_upstream, u, "(other upstreams)");
            }
        } else if (400..500).contains(&status) {
            m.client_errors += 1;
            bump(&mut c.client_errors_by_url, a.target(), "(other URLs)");
        }
        // A handful of causes: a short list beats a map on the hot path.
        let at = match self.per_cause.iter().position(|(c, _, _)| *c == cause) {
            Some(i) => i,
            None => {
                self.per_cause.push((cause, 0, 0));
                self.per_cause.len() - 1
            }
        };
        self.per_cause[at].1 += 1;
        if let Some(e) = r.failing_targets.get_mut(a.target()) {
            *e = (e.0 + 1, cause, status);
        } else if r.failing_targets.len() < TABLE_ROWS {
            r.failing_targets
                .insert(a.target().to_string(), (1, cause, status));
        }
        let crawler = a.user_agent.as_deref().and_then(crawler_of);
        let kept = &mut self.per_cause[at].2;
        let want_example = self.examples == 0 || *kept < self.examples;
        let want_crawler = crawler.is_some() && r.crawler_problems.len() < CRAWLER_ROWS;
        if !want_example {
            r.problems_omitted += 1;
        }
        if !want_example && !want_crawler {
            return;
        }
        let (article, fix) = crate::diagnose::explain(cause).unwrap_or(("client error", ""));
        let problem = LogProblem {
            time: rfc3339_ms(a.time_ms),
            client: a.client,
            request: a.request,
            status: if status == 0 {
                "-".into()
            } else {
                format!("{status:03}")
            },
            cause,
            also_possible: also.to_vec(),
            article_cause: article,
            fix,
            upstream: a.upstream_addr,
            termination: a.termination,
            error_lines: errors.iter().map(|e| e.message.clone()).collect(),
            crawler,
        };
        if want_crawler {
            r.crawler_problems.push(problem.clone());
        }
        if want_example {
            *kept += 1;
            r.problems.push(problem);
        }
    }

    fn finish(self) {
        let r = self.report;
        for (cause, n, _) in &self.per_cause {
            *r.by_cause.entry(cause).or_default() += n;
        }
        let c = self.counts;
        for (code, n) in c.status.iter().enumerate().filter(|(_, n)| **n > 0) {
            let key = if code == 0 {
                "-".to_string()
            } else {
                format!("{code:03}")
            };
            r.by_status.insert(key, *n);
        }
        r.by_minute = c
            .minutes
            .into_iter()
            .map(|(m, v)| (rfc3339_ms(m * 60_000)[..16].to_string(), v))
            .collect();
        r.by_url = c.by_url.into_iter().collect();
        r.client_errors_by_url = c.client_errors_by_url.into_iter().collect();
        r.by_upstream = c.by_upstream.into_iter().collect();
        if let Some(first) = self.first_ms {
            r.span = Some((rfc3339_ms(first), rfc3339_ms(self.last_ms)));
            r.spikes = spikes(&r.by_minute, first, self.last_ms);
        }
    }
}

/// Minutes whose 5xx count is above mean + 3σ of every minute in the span
/// (minutes without requests count as zero), and at least 3.
fn spikes(by_minute: &BTreeMap<String, Minute>, first_ms: i64, last_ms: i64) -> Vec<Spike> {
    let minutes = ((last_ms.div_euclid(60_000) - first_ms.div_euclid(60_000)) + 1).max(1) as f64;
    let sum: f64 = by_minute.values().map(|m| m.server_errors as f64).sum();
    let mean = sum / minutes;
    let sq: f64 = by_minute
        .values()
        .map(|m| (m.server_errors as f64 - mean).powi(2))
        .sum::<f64>()
        + (minutes - by_minute.len() as f64).max(0.0) * mean * mean;
    let sd = (sq / minutes).sqrt();
    let threshold = (mean + 3.0 * sd).max(3.0);
    by_minute
        .iter()
        .filter(|(_, m)| m.server_errors as f64 > threshold)
        .map(|(k, m)| Spike {
            minute: k.clone(),
            count: m.server_errors,
            threshold: (threshold * 10.0).round() / 10.0,
        })
        .collect()
}

/// Reads the files (each auto-detected) in one streaming pass and reports.
pub fn analyze(paths: &[&Path], opts: &Options) -> Result<LogReport, LogError> {
    analyze_with(paths, opts, &mut |_, _, _| {})
}

/// As [`analyze`], calling `observer` with every request, its verdict and its error lines.
pub fn analyze_with(
    paths: &[&Path],
    opts: &Options,
    observer: &mut dyn FnMut(&AccessEntry, Verdict, &[ErrorEntry]),
) -> Result<LogReport, LogError> {
    let mut report = LogReport::default();
    let (mut access, mut errors) = open_sources(paths, opts, &mut report)?;
    let format = opts.log_format.as_ref();
    // Each source's next item, merged by time.
    let mut heads: Vec<Option<AccessEntry>> = Vec::with_capacity(access.len());
    for s in &mut access {
        heads.push(s.next(format, &mut report)?);
    }
    let mut err_heads: Vec<Option<ErrorEntry>> = Vec::with_capacity(errors.len());
    let mut unparsed = 0;
    for s in &mut errors {
        err_heads.push(s.next(&mut unparsed)?);
    }
    let mut joiner = Joiner::new(errors.iter().any(|e| e.kind == LogKind::ApacheError));
    let mut tally = Tally {
        report: &mut report,
        observer,
        examples: opts.examples_per_cause.unwrap_or(EXAMPLES_PER_CAUSE),
        per_cause: Vec::new(),
        client_cursor: HashMap::new(),
        first_ms: None,
        last_ms: i64::MIN,
        counts: Counters::default(),
    };
    let mut errors_to = i64::MIN;
    loop {
        let next = (0..heads.len())
            .filter(|i| heads[*i].is_some())
            .min_by_key(|i| heads[*i].as_ref().map(|e| e.time_ms));
        if let Some(i) = next {
            let a = heads[i].take().expect("filtered");
            heads[i] = access[i].next(format, tally.report)?;
            if errors.is_empty() {
                // Nothing to join: straight to the counters.
                tally.add(a, Vec::new(), opts.client.as_ref());
                continue;
            }
            joiner.push_access(a);
        }
        // Error entries up to the latest access time read.
        let want = if next.is_some() {
            joiner.read_to()
        } else {
            i64::MAX
        };
        while errors_to <= want {
            let Some(j) = (0..err_heads.len())
                .filter(|j| err_heads[*j].is_some())
                .min_by_key(|j| err_heads[*j].as_ref().map(|e| e.time_ms))
            else {
                errors_to = i64::MAX;
                break;
            };
            let e = err_heads[j].take().expect("filtered");
            err_heads[j] = errors[j].next(&mut unparsed)?;
            errors_to = errors_to.max(e.time_ms);
            joiner.push_error(e);
        }
        for (a, lines) in joiner.advance(errors_to, next.is_none()) {
            tally.add(a, lines, opts.client.as_ref());
        }
        if next.is_none() {
            break;
        }
    }
    tally.finish();
    report.unparsed += unparsed;
    report.unmatched_error_count = joiner.unmatched_count;
    report.unmatched_errors = joiner
        .unmatched
        .iter()
        .map(|i| i.lines.iter().map(|l| l.message.clone()).collect())
        .collect();
    report.event_count += joiner.events_count;
    report
        .events
        .extend(joiner.events.into_iter().map(|e| ServerEvent {
            time: (e.time_ms != 0).then(|| rfc3339_ms(e.time_ms)),
            source: e.kind,
            level: e.level,
            message: e.message,
        }));
    Ok(report)
}
