//! Markdown: a summary for a pull-request comment. Headline figures, the
//! failing URLs with who links to them, and findings grouped by check; long
//! lists are cut (the JSON report has everything) and folded in `<details>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::{CrawlReport, FindingRow, ReportError};
use crate::model::Severity;

/// Rows shown per list before "… and N more".
const MAX_ROWS: usize = 20;

/// Escapes what would break a table cell or start markup.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

fn more(out: &mut String, total: usize) {
    if total > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more (see the JSON report).",
            total - MAX_ROWS
        );
    }
}

pub(super) fn render(r: &CrawlReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut md = String::new();
    let _ = writeln!(md, "## siteaudit: {}\n", cell(&r.crawl.start_url));
    let s = &r.summary;
    let class = |k: &str| s.by_class.get(k).copied().unwrap_or(0);
    if let Some(a) = &r.audit {
        let sev = |k: &str| a.by_severity.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            md,
            "**Health score {}/100** · {} errors · {} warnings · {} notices\n",
            a.score.score,
            sev("error"),
            sev("warning"),
            sev("notice")
        );
    }
    let _ = writeln!(
        md,
        "| URLs | internal | external | 2xx | 3xx | 4xx | 5xx | failed | problems |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.urls,
        s.internal,
        s.external,
        class("2xx"),
        class("3xx"),
        class("4xx"),
        class("5xx"),
        class("failed"),
        s.problems
    );
    if r.problems.is_empty() {
        md.push_str("No broken URLs.\n\n");
    } else {
        let _ = writeln!(md, "### Broken URLs ({})\n", r.problems.len());
        md.push_str("| URL | problem | linked from |\n|---|---|---|\n");
        for p in r.problems.iter().take(MAX_ROWS) {
            let from: Vec<String> = p.linked_from.iter().take(3).map(|l| cell(&l.url)).collect();
            let extra = p.linked_from.len().saturating_sub(3);
            let _ = writeln!(
                md,
                "| {} | {} | {}{} |",
                cell(&p.url),
                cell(&p.description),
                from.join("<br>"),
                if extra > 0 {
                    format!(" (+{extra})")
                } else {
                    String::new()
                }
            );
        }
        more(&mut md, r.problems.len());
        md.push('\n');
    }
    if let Some(a) = &r.audit {
        // (severity, check) -> (how many, the first few)
        type Groups<'a> =
            BTreeMap<(std::cmp::Reverse<Severity>, &'a str), (u64, Vec<&'a FindingRow>)>;
        let mut by_check: Groups<'_> = BTreeMap::new();
        for g in &a.groups {
            by_check.insert(
                (std::cmp::Reverse(g.severity), g.check),
                (g.count, Vec::new()),
            );
        }
        // A summary holds the first few findings of each group; the counts are whole.
        for f in &a.findings {
            if let Some((_, list)) = by_check.get_mut(&(std::cmp::Reverse(f.severity), f.check)) {
                list.push(f);
            }
        }
        by_check.retain(|_, (_, list)| !list.is_empty());
        if !by_check.is_empty() {
            let _ = writeln!(md, "### Findings by check ({})\n", by_check.len());
            md.push_str("| severity | check | URLs |\n|---|---|---:|\n");
            for ((sev, id), (count, list)) in by_check.iter().take(MAX_ROWS * 2) {
                let _ = writeln!(
                    md,
                    "| {} | `{id}` {} | {count} |",
                    sev.0.id(),
                    cell(list[0].title),
                );
            }
            more(&mut md, by_check.len().saturating_sub(MAX_ROWS));
            md.push('\n');
            for ((sev, id), (count, list)) in
                by_check.iter().filter(|((s, _), _)| s.0 == Severity::Error)
            {
                let _ = writeln!(
                    md,
                    "<details><summary>{} <code>{id}</code>: {} ({count})</summary>\n",
                    sev.0.id(),
                    cell(list[0].title),
                );
                let _ = writeln!(md, "Fix: {}\n", cell(list[0].fix));
                for f in list.iter().take(MAX_ROWS) {
                    let _ = writeln!(md, "- {}", cell(f.url.as_deref().unwrap_or("(site-wide)")));
                }
                more(&mut md, *count as usize);
                md.push_str("\n</details>\n\n");
            }
        }
    }
    let _ = writeln!(md, "<sub>{} · crawl #{}</sub>", r.tool, r.crawl.id);
    out.write_all(md.as_bytes())?;
    Ok(())
}
