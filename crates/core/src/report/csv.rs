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
            u.found_by.to_string(),
            u.in_sitemap.to_string(),
            u.state.to_string(),
            opt(u.status.map(|s| s.to_string())),
            opt(u.status.map(status_class)),
            problems
                .get(u.url.as_str())
                .copied()
                .unwrap_or_default()
                .to_string(),
            opt(u.failure().map(|f| f.id().to_string())),
            opt(u.failure().and_then(|f| f.detail())),
            opt(u.location().map(str::to_string)),
            opt(u.content_type.as_deref().map(str::to_string)),
            opt(u.ttfb_ms.get().map(|v| v.to_string())),
            opt(u.total_ms.get().map(|v| v.to_string())),
            opt(u.wire_bytes.get().map(|v| v.to_string())),
            opt(u.body_bytes.get().map(|v| v.to_string())),
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

/// Writes one CSV file per table into `dir`: urls.csv (as [`render`]),
/// links.csv, redirects.csv and findings.csv. Returns the paths written.
pub(super) fn write_tables(
    r: &CrawlReport,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    std::fs::create_dir_all(dir)?;
    let urls: HashMap<u32, &str> = r
        .urls
        .iter()
        .map(|u| (u.record.id, u.record.url.as_str()))
        .collect();
    let url = |id: u32| urls.get(&id).copied().unwrap_or_default().to_string();
    let mut written = Vec::new();
    let mut open = |name: &str| -> Result<csv::Writer<std::fs::File>, ReportError> {
        let path = dir.join(name);
        let w = csv::Writer::from_path(&path)?;
        written.push(path);
        Ok(w)
    };
    let file = open("urls.csv")?;
    let mut buf = std::io::BufWriter::new(file.into_inner().map_err(|e| e.into_error())?);
    render(r, &mut buf)?;
    buf.flush()?;

    let mut w = open("links.csv")?;
    w.write_record(["from_url", "to_url", "kind", "text", "rel"])?;
    for l in &r.links {
        w.write_record([
            url(l.from),
            url(l.to),
            l.kind.to_string(),
            l.text.as_deref().unwrap_or_default().to_string(),
            l.rel.as_deref().unwrap_or_default().to_string(),
        ])?;
    }
    w.flush()?;

    let mut w = open("redirects.csv")?;
    w.write_record(["url", "hop", "hop_url", "status", "location"])?;
    for red in &r.redirects {
        for (i, h) in red.hops.iter().enumerate() {
            w.write_record([
                red.url.clone(),
                i.to_string(),
                h.url.clone(),
                h.status.map(|s| s.to_string()).unwrap_or_default(),
                h.location.clone().unwrap_or_default(),
            ])?;
        }
    }
    w.flush()?;

    let mut w = open("findings.csv")?;
    w.write_record([
        "check", "category", "severity", "title", "url", "details", "fix",
    ])?;
    for f in r.audit.iter().flat_map(|a| &a.findings) {
        w.write_record([
            f.check.to_string(),
            f.category.to_string(),
            f.severity.id().to_string(),
            f.title.to_string(),
            f.url.clone().unwrap_or_default(),
            f.details.to_string(),
            f.fix.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(written)
}
