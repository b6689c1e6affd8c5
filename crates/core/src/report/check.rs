//! `siteaudit check`: the single-URL status checker. Each URL is fetched with GET and
//! its redirects followed hop by hop; the result is the whole chain and the final answer.

use std::io::Write;

use futures_util::StreamExt;
use serde::Serialize;

use super::{Format, ReportError, SCHEMA_VERSION, http_reason};
use crate::config::CrawlConfig;
use crate::fetch::{FetchError, Fetcher};
use crate::model::{Attempt, FailureKind, Outcome, RedirectHop, Timings};

/// What checking one URL gave.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The URL as given.
    pub url: String,
    /// Where the redirects ended.
    pub final_url: String,
    /// The final status, if the server answered.
    pub status: Option<u16>,
    /// The failure, if any (including `redirect-loop` and `too-many-redirects`).
    pub failure: Option<FailureKind>,
    /// One line for humans.
    pub description: String,
    /// Every hop, the final one last (one hop when there was no redirect).
    pub redirect_chain: Vec<RedirectHop>,
    /// Every attempt of the final hop (more than one when retried).
    pub attempts: Vec<Attempt>,
    /// Timings of the final hop.
    pub timings: Timings,
    /// The final content type.
    pub content_type: Option<String>,
}

impl CheckResult {
    fn new(url: String, hops: Vec<RedirectHop>, outcome: Outcome) -> Self {
        let description = match (&outcome.failure, outcome.status()) {
            (Some(f), _) => f.describe(),
            (None, Some(s)) => format!("{s} {}", http_reason(s)).trim().to_string(),
            (None, None) => String::new(),
        };
        Self {
            final_url: hops.last().map_or_else(|| url.clone(), |h| h.url.clone()),
            url,
            status: outcome.status(),
            failure: outcome.failure.clone(),
            description,
            redirect_chain: hops,
            timings: outcome.timings,
            content_type: outcome.response.and_then(|r| r.content_type),
            attempts: outcome.attempts,
        }
    }

    /// Whether it is broken: an error status or a failure.
    pub fn is_problem(&self) -> bool {
        self.failure.as_ref().is_some_and(FailureKind::is_error)
            || self.status.is_some_and(|s| s >= 400)
    }
}

/// The results of `siteaudit check`, in the order the URLs were given.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `siteaudit <version>`.
    pub tool: String,
    /// One per URL.
    pub results: Vec<CheckResult>,
}

impl CheckReport {
    /// Checks every URL, `config.concurrency` at a time, with the config's limits.
    pub async fn run(config: &CrawlConfig, urls: Vec<String>) -> Result<Self, FetchError> {
        let fetcher = Fetcher::new(config)?;
        let results = futures_util::stream::iter(urls)
            .map(|u| {
                let fetcher = &fetcher;
                async move {
                    match crate::url::normalize(&u) {
                        Ok(url) => {
                            let (hops, outcome) = fetcher.follow(&url, false).await;
                            CheckResult::new(u, hops, outcome)
                        }
                        Err(e) => CheckResult::new(
                            u,
                            Vec::new(),
                            Outcome::failed(FailureKind::InvalidUrl {
                                reason: e.to_string(),
                            }),
                        ),
                    }
                }
            })
            .buffered(config.concurrency.max(1))
            .collect()
            .await;
        Ok(Self {
            schema_version: SCHEMA_VERSION,
            tool: concat!("siteaudit ", env!("CARGO_PKG_VERSION")).to_string(),
            results,
        })
    }

    /// Renders the results.
    pub fn render(&self, format: Format, out: &mut dyn Write) -> Result<(), ReportError> {
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)?;
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record([
                    "url",
                    "final_url",
                    "status",
                    "failure",
                    "failure_detail",
                    "redirects",
                    "chain",
                    "attempts",
                    "ttfb_ms",
                    "total_ms",
                    "content_type",
                ])?;
                for r in &self.results {
                    w.write_record([
                        r.url.clone(),
                        r.final_url.clone(),
                        r.status.map(|s| s.to_string()).unwrap_or_default(),
                        r.failure
                            .as_ref()
                            .map(|f| f.id().to_string())
                            .unwrap_or_default(),
                        r.failure
                            .as_ref()
                            .and_then(FailureKind::detail)
                            .unwrap_or_default(),
                        r.redirect_chain.len().saturating_sub(1).to_string(),
                        chain_text(&r.redirect_chain),
                        r.attempts.len().to_string(),
                        r.timings.ttfb_ms.to_string(),
                        r.timings.total_ms.to_string(),
                        r.content_type.clone().unwrap_or_default(),
                    ])?;
                }
                w.flush()?;
            }
            Format::Jsonl => {
                for r in &self.results {
                    serde_json::to_writer(&mut *out, r)?;
                    writeln!(out)?;
                }
            }
            Format::Html | Format::Junit | Format::Sarif | Format::Markdown => {
                return Err(ReportError::Unsupported(
                    "`check` writes text, json, jsonl or csv; html, junit, sarif and markdown are crawl reports",
                ));
            }
            Format::Text => {
                for r in &self.results {
                    let head = match (&r.failure, r.status) {
                        (Some(f), Some(s)) => format!("{s} {}", f.id()),
                        (Some(f), None) => f.id().to_string(),
                        (None, Some(s)) => format!("{s} {}", http_reason(s)),
                        (None, None) => "?".into(),
                    };
                    writeln!(out, "{head:<24} {}", r.url)?;
                    if r.redirect_chain.len() > 1 {
                        for h in &r.redirect_chain {
                            let s = h
                                .status
                                .map(|s| s.to_string())
                                .unwrap_or_else(|| "---".into());
                            writeln!(out, "    {s} {}", h.url)?;
                        }
                    }
                    if r.failure.is_some() {
                        writeln!(out, "    {}", r.description)?;
                    }
                    if r.attempts.len() > 1 {
                        let tries: Vec<String> = r.attempts.iter().map(Attempt::label).collect();
                        writeln!(out, "    tries: {}", tries.join(", "))?;
                    }
                    writeln!(
                        out,
                        "    ttfb {:.1} ms, total {:.1} ms",
                        r.timings.ttfb_ms, r.timings.total_ms
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn chain_text(chain: &[RedirectHop]) -> String {
    chain
        .iter()
        .map(|h| match h.status {
            Some(s) => format!("{s} {}", h.url),
            None => h.url.clone(),
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}
