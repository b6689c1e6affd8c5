//! `siteaudit logs FILE...`: the server's own view of its errors.

use anyhow::anyhow;
use siteaudit::logs::correlate::CrawlView;
use siteaudit::logs::log_format::LogFormat;
use siteaudit::logs::{Options, analyze};
use siteaudit::report::Format;

use crate::exit::{self, Exit, Failure};
use crate::{LogsArgs, output};

/// Causes behind a 2xx that still mean the visitor got a broken page.
const BROKEN_2XX: &[&str] = &[
    "upstream_truncated_body",
    "upstream_body_timeout",
    "invalid_upstream_response",
];

pub(crate) fn run(a: LogsArgs) -> Result<Exit, Failure> {
    if !matches!(
        a.format,
        Format::Text | Format::Json | Format::Csv | Format::Markdown
    ) {
        return Err(exit::usage(anyhow!(
            "`logs` writes text, json, csv or markdown"
        )));
    }
    if !matches!(a.fail_on.as_str(), "5xx" | "any" | "none") {
        return Err(exit::usage(anyhow!(
            "--fail-on for logs is 5xx, any or none, not {:?}",
            a.fail_on
        )));
    }
    let log_format = a
        .log_format
        .as_deref()
        .map(LogFormat::parse)
        .transpose()
        .map_err(|e| exit::usage(anyhow!("--log-format: {e}")))?;
    let mut opts = Options {
        log_format,
        examples_per_cause: Some(a.examples),
        ..Options::default()
    };
    let crawl = match &a.crawl {
        None => None,
        Some(which) => {
            let store = super::open_store(a.db.db.clone())?;
            let id = match which.as_str() {
                "latest" => store
                    .crawls()
                    .map_err(exit::no_start)?
                    .first()
                    .map(|c| c.id)
                    .ok_or_else(|| exit::usage(anyhow!("--crawl latest: no crawls stored yet")))?,
                n => n.parse().map_err(|_| {
                    exit::usage(anyhow!("--crawl takes a crawl id or `latest`, not {n:?}"))
                })?,
            };
            let view = CrawlView::load(store.as_ref(), id).map_err(exit::usage)?;
            opts.client = Some(view.client_views(store.as_ref()).map_err(exit::usage)?);
            Some(view)
        }
    };
    let paths: Vec<&std::path::Path> = a.files.iter().map(|p| p.as_path()).collect();
    let mut report = analyze(&paths, &opts).map_err(exit::usage)?;
    if let Some(view) = &crawl {
        report.crawl = Some(view.correlate(&report));
    }
    output::write_to(a.output.as_deref(), |w| {
        match a.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, &report)?;
                writeln!(w)?;
            }
            Format::Csv => report.write_csv(w)?,
            Format::Markdown => w.write_all(report.markdown().as_bytes())?,
            _ => w.write_all(report.text().as_bytes())?,
        }
        Ok(())
    })
    .map_err(exit::usage)?;
    let has_5xx = report.by_status.keys().any(|s| s.starts_with('5'));
    let failing = match a.fail_on.as_str() {
        "none" => false,
        "any" => has_5xx || report.by_cause.keys().any(|c| *c != "client_aborted"),
        _ => has_5xx || report.by_cause.keys().any(|c| BROKEN_2XX.contains(c)),
    };
    Ok(if failing { Exit::Findings } else { Exit::Clean })
}
