//! CSV: one row per URL, with its problem key when it has one.

use std::collections::HashMap;
use std::io::Write;

use super::{CrawlReport, ReportError, status_class};

/// The columns, in order.
pub(super) const COLUMNS: &[&str] = &[
    "url",
    "scope",
    "depth",
    "found_by",
    "in_sitemap",
    "state",
    "status",
    "status_class",
    "problem",
    "failure",
    "failure_detail",
    "location",
    "content_type",
    "ttfb_ms",
    "total_ms",
    "wire_bytes",
    "body_bytes",
    "attempts",
    "robots_disallowed",
    "inlinks",
    "findings",
];

pub(super) fn render(r: &CrawlReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let problems: HashMap<&str, &str> = r
        .problems
        .iter()
        .map(|p| (p.url.as_str(), p.problem.as_str()))
        .collect();
    let mut findings: HashMap<&str, Vec<&str>> = HashMap::new();
    for f in r.audit.iter().flat_map(|a| &a.findings) {
        if let Some(u) = &f.url {
            findings.entry(u.as_str()).or_default().push(f.check);
        }
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for row in &r.urls {
        let u = &row.record;
        w.write_record([
            u.url.clone(),
            format!("{:?}", u.scope).to_lowercase(),
            u.depth.to_string(),
            u.found_by.clone(),
            u.in_sitemap.to_string(),
            u.state.clone(),
            opt(u.status.map(|s| s.to_string())),
            opt(u.status.map(status_class)),
            problems
                .get(u.url.as_str())
                .copied()
                .unwrap_or_default()
                .to_string(),
            opt(u.failure.as_ref().map(|f| f.id().to_string())),
            opt(u.failure.as_ref().and_then(|f| f.detail())),
            opt(u.location.clone()),
            opt(u.content_type.clone()),
            opt(u.ttfb_ms.map(|v| v.to_string())),
            opt(u.total_ms.map(|v| v.to_string())),
            opt(u.wire_bytes.map(|v| v.to_string())),
            opt(u.body_bytes.map(|v| v.to_string())),
            u.attempts.to_string(),
            u.robots_disallowed.to_string(),
            row.inlinks.to_string(),
            findings
                .get(u.url.as_str())
                .map(|f| f.join(";"))
                .unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
