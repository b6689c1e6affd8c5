//! JSON Lines: one record per line, each an object with a `type` field, in
//! this order: `crawl`, `summary`, `score` (with the audit), every `url`,
//! `link`, `redirect`, `problem` and `finding`. The records carry the same
//! fields as the JSON report's arrays, so one documentation serves both.

use std::io::Write;

use serde::Serialize;
use serde_json::json;

use super::{CrawlReport, ReportError};

fn line(out: &mut dyn Write, kind: &str, value: &impl Serialize) -> Result<(), ReportError> {
    let mut v = serde_json::to_value(value)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("type".into(), json!(kind));
    }
    serde_json::to_writer(&mut *out, &v)?;
    out.write_all(b"\n")?;
    Ok(())
}

pub(super) fn render(r: &CrawlReport, out: &mut dyn Write) -> Result<(), ReportError> {
    line(
        out,
        "crawl",
        &json!({ "schema_version": r.schema_version, "tool": r.tool, "crawl": r.crawl }),
    )?;
    line(out, "summary", &r.summary)?;
    if let Some(a) = &r.audit {
        line(
            out,
            "score",
            &json!({ "score": a.score, "by_severity": a.by_severity }),
        )?;
    }
    for u in &r.urls {
        line(out, "url", u)?;
    }
    for l in &r.links {
        line(out, "link", l)?;
    }
    for red in &r.redirects {
        line(out, "redirect", red)?;
    }
    for p in &r.problems {
        line(out, "problem", p)?;
    }
    for f in r.audit.iter().flat_map(|a| &a.findings) {
        line(out, "finding", f)?;
    }
    Ok(())
}
