//! `siteaudit logs`: read access and error logs (plain or gzip, line by line),
//! classify every failing request, and summarise by status, URL, minute,
//! upstream and cause; search-engine crawlers that hit errors listed apart.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use super::access::{self, AccessEntry};
use super::error_log::{self, ErrorEntry};
use super::join;

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

/// One failing request.
#[derive(Debug, Clone, Serialize)]
pub struct LogProblem {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The request line.
    pub request: String,
    /// The status as logged.
    pub status: String,
    /// DIAGNOSIS.md cause id.
    pub cause: &'static str,
    /// In everyday words.
    pub article_cause: &'static str,
    /// What to do.
    pub fix: &'static str,
    /// The upstream, when logged.
    pub upstream: Option<String>,
    /// The error-log lines of the request.
    pub error_lines: Vec<String>,
    /// The crawler its user agent claims to be (unverified).
    pub crawler: Option<&'static str>,
}

/// What the logs say.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogReport {
    /// The files read.
    pub files: Vec<String>,
    /// Access entries read.
    pub requests: u64,
    /// Lines that are neither access nor error entries.
    pub unparsed: u64,
    /// Requests by status.
    pub by_status: BTreeMap<String, u64>,
    /// Failing requests (4xx, 5xx, and broken 2xx the error log reveals) by cause.
    pub by_cause: BTreeMap<&'static str, u64>,
    /// 5xx by URL (request target).
    pub by_url: BTreeMap<String, u64>,
    /// 5xx by minute (`YYYY-MM-DDTHH:MM`).
    pub by_minute: BTreeMap<String, u64>,
    /// 5xx by upstream address.
    pub by_upstream: BTreeMap<String, u64>,
    /// Every failing request, in log order.
    pub problems: Vec<LogProblem>,
    /// The failing requests from search-engine crawlers (by user agent, unverified).
    pub crawler_problems: Vec<LogProblem>,
}

fn rfc3339(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(secs.max(0)).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Reads a file line by line, gunzipping `.gz`; invalid UTF-8 is replaced, not fatal.
fn for_each_line(path: &Path, mut f: impl FnMut(&str)) -> Result<(), LogError> {
    let err = |source| LogError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(err)?;
    let raw: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(1 << 16, raw);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(err)? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&buf);
        f(line.trim_end_matches(['\n', '\r']));
    }
}

/// Reads the files (each auto-detected as an access or an error log) and reports.
pub fn analyze(paths: &[&Path]) -> Result<LogReport, LogError> {
    let mut report = LogReport::default();
    let mut entries: Vec<AccessEntry> = Vec::new();
    let mut error_text = String::new();
    for path in paths {
        report.files.push(path.display().to_string());
        let mut is_error_log: Option<bool> = None;
        for_each_line(path, |line| {
            if line.trim().is_empty() {
                return;
            }
            let error_like = error_log::parse_entry(line).is_some();
            let kind = *is_error_log.get_or_insert(error_like);
            if kind {
                error_text.push_str(line);
                error_text.push('\n');
            } else if let Some(e) = access::parse_line(line) {
                entries.push(e);
            } else {
                report.unparsed += 1;
            }
        })?;
    }
    let errors: Vec<ErrorEntry> = error_log::parse_all(&error_text);
    entries.sort_by_key(|e| e.time);
    report.requests = entries.len() as u64;
    for c in join(entries, &errors) {
        let a = &c.access;
        *report.by_status.entry(a.status.clone()).or_default() += 1;
        let status = a.status_code().unwrap_or(0);
        if c.cause == "ok" && status < 400 {
            continue;
        }
        let cause = if c.cause == "ok" {
            "client_error"
        } else {
            c.cause
        };
        *report.by_cause.entry(cause).or_default() += 1;
        if status >= 500 {
            *report.by_url.entry(a.target().to_string()).or_default() += 1;
            *report
                .by_minute
                .entry(rfc3339(a.time)[..16].to_string())
                .or_default() += 1;
            if let Some(u) = &a.upstream_addr {
                *report.by_upstream.entry(u.clone()).or_default() += 1;
            }
        }
        let (article, fix) = crate::diagnose::explain(cause).unwrap_or(("client error", ""));
        let problem = LogProblem {
            time: rfc3339(a.time),
            request: a.request.clone(),
            status: a.status.clone(),
            cause,
            article_cause: article,
            fix,
            upstream: a.upstream_addr.clone(),
            error_lines: c.errors.iter().map(|e| e.message.clone()).collect(),
            crawler: a.user_agent.as_deref().and_then(|ua| {
                CRAWLERS
                    .iter()
                    .find(|(k, _)| ua.contains(k))
                    .map(|(_, n)| *n)
            }),
        };
        if problem.crawler.is_some() {
            report.crawler_problems.push(problem.clone());
        }
        report.problems.push(problem);
    }
    Ok(report)
}

impl LogReport {
    /// Renders as text.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} requests in {} ({} lines not understood)",
            self.requests,
            self.files.join(", "),
            self.unparsed
        );
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(s, "by status: {}", statuses.join(", "));
        if !self.by_cause.is_empty() {
            let _ = writeln!(s, "\nFailing requests by cause");
            for (cause, n) in &self.by_cause {
                let (article, fix) =
                    crate::diagnose::explain(cause).unwrap_or(("client error", ""));
                let _ = writeln!(
                    s,
                    "  {n:>6}  {cause} ({article}){}",
                    if fix.is_empty() {
                        String::new()
                    } else {
                        format!("\n          fix: {fix}")
                    }
                );
            }
        }
        for (title, map) in [
            ("5xx by URL", &self.by_url),
            ("5xx by minute", &self.by_minute),
            ("5xx by upstream", &self.by_upstream),
        ] {
            if map.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\n{title}");
            let mut rows: Vec<(&String, &u64)> = map.iter().collect();
            if title != "5xx by minute" {
                rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            }
            for (k, v) in rows {
                let _ = writeln!(s, "  {v:>6}  {k}");
            }
        }
        if !self.crawler_problems.is_empty() {
            let _ = writeln!(
                s,
                "\nSearch-engine crawlers that hit errors (claimed by user agent, unverified)"
            );
            for p in &self.crawler_problems {
                let _ = writeln!(
                    s,
                    "  {} {} {} {} ({})",
                    p.time,
                    p.crawler.unwrap_or(""),
                    p.status,
                    p.request,
                    p.cause
                );
            }
        }
        s
    }
}
