//! The terminal report: summary counts by status class, then every problem grouped by
//! kind, each with the pages that link to it.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use super::{CrawlReport, Problem, http_reason};
use crate::store::UrlScope;

/// Inlinks shown per URL before "and N more" (JSON and CSV have them all).
const SHOWN_INLINKS: usize = 5;

pub(super) fn render(r: &CrawlReport, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &r.summary;
    writeln!(
        out,
        "siteaudit crawl #{} of {} ({})",
        r.crawl.id, r.crawl.start_url, r.crawl.state
    )?;
    writeln!(
        out,
        "{} URLs: {} internal, {} external{}",
        s.urls,
        s.internal,
        s.external,
        if s.pending > 0 {
            format!(", {} not fetched yet (resume with --resume)", s.pending)
        } else {
            String::new()
        }
    )?;
    writeln!(out)?;
    for (class, n) in &s.by_class {
        let detail = match class.as_str() {
            "failed" => s
                .by_failure
                .iter()
                .filter(|(k, _)| k.as_str() != "blocked-by-robots")
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>(),
            "blocked" => Vec::new(),
            c => s
                .by_status
                .iter()
                .filter(|(code, _)| super::status_class(**code) == c)
                .map(|(code, v)| format!("{code}: {v}"))
                .collect(),
        };
        let label = match class.as_str() {
            "blocked" => "blocked by robots.txt",
            c => c,
        };
        if detail.is_empty() {
            writeln!(out, "  {label:<22} {n:>7}")?;
        } else {
            writeln!(out, "  {label:<22} {n:>7}   ({})", detail.join(", "))?;
        }
    }
    if r.problems.is_empty() {
        writeln!(out, "\nNo broken URLs found.")?;
    } else {
        problems(r, out)?;
    }
    if let Some(a) = &r.audit {
        audit(a, out)?;
    }
    Ok(())
}

/// Findings shown per check before "and N more" (JSON has them all).
const SHOWN_FINDINGS: usize = 10;

fn audit(a: &super::AuditSection, out: &mut dyn Write) -> std::io::Result<()> {
    let count = |s: &str| a.by_severity.get(s).copied().unwrap_or(0);
    writeln!(
        out,
        "\nAudit: health score {}/100  ({} errors, {} warnings, {} notices)",
        a.score.score,
        count("error"),
        count("warning"),
        count("notice")
    )?;
    for c in &a.score.categories {
        writeln!(
            out,
            "  {:>3}  {:<40} {:>3}/100",
            c.category, c.name, c.score
        )?;
    }
    // Findings of a check in order (a summary holds only the first of each severity);
    // how many each check has, from the counts.
    let mut shown: HashMap<&str, Vec<&super::FindingRow>> = HashMap::new();
    for f in &a.findings {
        shown.entry(f.check).or_default().push(f);
    }
    let mut by_check: Vec<(&str, u64)> = Vec::new();
    for g in &a.groups {
        match by_check.iter_mut().find(|(id, _)| *id == g.check) {
            Some((_, n)) => *n += g.count,
            None => by_check.push((g.check, g.count)),
        }
    }
    for (id, count) in by_check {
        let Some(list) = shown.get(id) else {
            continue;
        };
        let first = list[0];
        writeln!(
            out,
            "\n[{}] {id}: {} ({count})",
            first.severity.id(),
            first.title,
        )?;
        for f in list.iter().take(SHOWN_FINDINGS) {
            let url = f.url.as_deref().unwrap_or("(site)");
            // Link findings name the page to edit and the link's target.
            let details: serde_json::Value =
                serde_json::from_str(f.details.get()).unwrap_or_default();
            match details.get("target").and_then(|t| t.as_str()) {
                Some(target) => writeln!(out, "  {url} → {target}")?,
                None => writeln!(out, "  {url}")?,
            }
        }
        if count > SHOWN_FINDINGS as u64 {
            writeln!(out, "  … and {} more", count - SHOWN_FINDINGS as u64)?;
        }
        writeln!(out, "  fix: {}", first.fix)?;
    }
    Ok(())
}

fn problems(r: &CrawlReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut groups: BTreeMap<&str, Vec<&Problem>> = BTreeMap::new();
    for p in &r.problems {
        groups.entry(p.problem.as_str()).or_default().push(p);
    }
    for t in &r.summary.throttled {
        writeln!(
            out,
            "\nAdaptive throttling engaged for {}: requests in flight lowered from {} to {} ({} times) after 5xx/429 answers, timeouts or slow answers",
            t.host, t.per_host, t.lowest, t.backoffs
        )?;
    }
    writeln!(out, "\nProblems: {}", r.problems.len())?;
    for (key, list) in groups {
        let title = match key
            .strip_prefix("http-")
            .and_then(|c| c.parse::<u16>().ok())
        {
            Some(code) => format!("{code} {}", http_reason(code)).trim().to_string(),
            None => key.to_string(),
        };
        writeln!(out, "\n{title} ({})", list.len())?;
        for p in list {
            let mut line = format!("  {}", p.url);
            if p.scope == UrlScope::External {
                line.push_str("  [external]");
            }
            if p.failure.is_some() {
                line.push_str(&format!("  — {}", p.description));
            }
            if let Some(tries) = tries(p) {
                line.push_str(&format!("  ({tries})"));
            }
            writeln!(out, "{line}")?;
            if let Some(r) = &p.reprobe {
                let labels: Vec<String> = r.attempts.iter().map(|a| a.label()).collect();
                writeln!(
                    out,
                    "      re-probed after the crawl: {} ({})",
                    labels.join(", "),
                    r.verdict
                )?;
            }
            if let Some(fp) = &p.answered_by
                && let Some(words) = answered(fp)
            {
                writeln!(out, "      {words}")?;
            }
            if let Some(d) = &p.diagnosis {
                writeln!(
                    out,
                    "      probable cause: {} ({}, {} confidence): {}",
                    d.cause,
                    d.article_cause,
                    d.confidence,
                    d.because.join("; ")
                )?;
                writeln!(out, "      fix: {}", d.fix)?;
            }
            if p.redirect_chain.len() > 1 {
                let hops: Vec<String> = p
                    .redirect_chain
                    .iter()
                    .map(|h| match h.status {
                        Some(s) => format!("{} [{s}]", h.url),
                        None => h.url.clone(),
                    })
                    .collect();
                writeln!(out, "      chain: {}", hops.join(" → "))?;
            }
            for l in p.linked_from.iter().take(SHOWN_INLINKS) {
                match &l.text {
                    Some(t) => writeln!(out, "      linked from {} ({} \"{t}\")", l.url, l.kind)?,
                    None => writeln!(out, "      linked from {} ({})", l.url, l.kind)?,
                }
            }
            if p.linked_from.len() > SHOWN_INLINKS {
                writeln!(
                    out,
                    "      … and {} more",
                    p.linked_from.len() - SHOWN_INLINKS
                )?;
            }
        }
    }
    Ok(())
}

/// "made by nginx (its own error page), behind Cloudflare; page names: upstream_timeout".
fn answered(fp: &crate::diagnose::Fingerprint) -> Option<String> {
    use crate::diagnose::Generated;
    let mut s = match (fp.generated, fp.generated_by) {
        (Generated::Gateway, Some(l)) => format!("made by {}", l.name()),
        (Generated::Origin, _) => "the application's own error, passed on by the proxy".into(),
        _ => return None,
    };
    let outer: Vec<&str> = fp
        .layers
        .iter()
        .take_while(|l| Some(**l) != fp.generated_by)
        .map(|l| l.name())
        .collect();
    if !outer.is_empty() && fp.generated == Generated::Gateway {
        s.push_str(&format!(", behind {}", outer.join(", ")));
    }
    if let Some(c) = fp.cause {
        s.push_str(&format!("; the page says: {c}"));
    }
    for (k, v) in &fp.request_ids {
        s.push_str(&format!("; {k} {v}"));
    }
    Some(s)
}

/// "502 on 3 of 3 tries", "502, then 200": how the attempts went, when there were several.
fn tries(p: &Problem) -> Option<String> {
    if p.attempts.len() < 2 {
        return None;
    }
    let all: Vec<String> = p
        .attempts
        .iter()
        .map(crate::model::Attempt::label)
        .collect();
    let n = all.len();
    if all.iter().all(|a| *a == all[0]) {
        Some(format!("{} on {n} of {n} tries", all[0]))
    } else {
        Some(format!("tries: {}", all.join(", ")))
    }
}
