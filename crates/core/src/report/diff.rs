//! Two crawls compared: URLs added and removed, status changes, broken URLs
//! that appeared or were fixed, findings new and resolved, and the score
//! change. Built from two [`CrawlReport`]s, so it needs nothing but the store.
//!
//! URLs are compared by their normalized spelling; findings by check and URL
//! (check alone for site-wide ones); broken URLs by problem key and URL.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::{CrawlMeta, CrawlReport, FindingRow, Format, Problem, ReportError};

/// A URL whose outcome changed.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    /// The URL.
    pub url: String,
    /// Status or failure id before (`200`, `connect-refused`, `pending`).
    pub before: String,
    /// And after.
    pub after: String,
}

/// A broken URL that appeared or was fixed.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemChange {
    /// The URL.
    pub url: String,
    /// `http-NNN` or a failure id.
    pub problem: String,
    /// In words.
    pub description: String,
}

/// A finding that is new or resolved.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    /// The check id.
    pub check: &'static str,
    /// Its severity.
    pub severity: crate::model::Severity,
    /// The check's title.
    pub title: &'static str,
    /// The URL (`None`: site-wide).
    pub url: Option<String>,
}

/// The score before and after.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreChange {
    /// Before.
    pub before: u8,
    /// After.
    pub after: u8,
    /// Per category whose score moved: `(number, name, before, after)`.
    pub categories: Vec<(u8, &'static str, u8, u8)>,
}

/// What changed from crawl `a` to crawl `b`.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlDiff {
    /// Always [`super::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The earlier crawl.
    pub a: CrawlMeta,
    /// The later crawl.
    pub b: CrawlMeta,
    /// URLs only in `b`.
    pub added: Vec<String>,
    /// URLs only in `a`.
    pub removed: Vec<String>,
    /// URLs in both whose status or failure changed.
    pub status_changed: Vec<StatusChange>,
    /// Broken in `b`, not in `a`.
    pub problems_appeared: Vec<ProblemChange>,
    /// Broken in `a`, not in `b`.
    pub problems_resolved: Vec<ProblemChange>,
    /// Findings in `b` not in `a`.
    pub findings_new: Vec<FindingChange>,
    /// Findings in `a` not in `b`.
    pub findings_resolved: Vec<FindingChange>,
    /// The health score, when both crawls were audited.
    pub score: Option<ScoreChange>,
}

fn outcome(r: &crate::store::UrlRecord) -> String {
    if r.state != "done" {
        return "pending".into();
    }
    match (r.failure(), r.status) {
        (Some(f), None) => f.id().to_string(),
        (_, Some(s)) => s.to_string(),
        (None, None) => "none".into(),
    }
}

fn problem_changes(from: &[Problem], minus: &[Problem]) -> Vec<ProblemChange> {
    let other: BTreeSet<(&str, &str)> = minus
        .iter()
        .map(|p| (p.problem.as_str(), p.url.as_str()))
        .collect();
    from.iter()
        .filter(|p| !other.contains(&(p.problem.as_str(), p.url.as_str())))
        .map(|p| ProblemChange {
            url: p.url.clone(),
            problem: p.problem.clone(),
            description: p.description.clone(),
        })
        .collect()
}

fn finding_changes(from: &[FindingRow], minus: &[FindingRow]) -> Vec<FindingChange> {
    let other: BTreeSet<(&str, Option<&str>)> =
        minus.iter().map(|f| (f.check, f.url.as_deref())).collect();
    let mut seen = BTreeSet::new();
    from.iter()
        .filter(|f| !other.contains(&(f.check, f.url.as_deref())))
        .filter(|f| seen.insert((f.check, f.url.clone())))
        .map(|f| FindingChange {
            check: f.check,
            severity: f.severity,
            title: f.title,
            url: f.url.clone(),
        })
        .collect()
}

impl CrawlDiff {
    /// Compares crawl `a` (earlier) with crawl `b` (later).
    pub fn between(a: &CrawlReport, b: &CrawlReport) -> Self {
        let before: HashMap<&str, &crate::store::UrlRecord> = a
            .urls
            .iter()
            .map(|u| (u.record.url.as_str(), &u.record))
            .collect();
        let after: HashMap<&str, &crate::store::UrlRecord> = b
            .urls
            .iter()
            .map(|u| (u.record.url.as_str(), &u.record))
            .collect();
        let mut added: Vec<String> = after
            .keys()
            .filter(|u| !before.contains_key(*u))
            .map(|u| (*u).to_string())
            .collect();
        let mut removed: Vec<String> = before
            .keys()
            .filter(|u| !after.contains_key(*u))
            .map(|u| (*u).to_string())
            .collect();
        added.sort();
        removed.sort();
        let mut status_changed: Vec<StatusChange> = after
            .iter()
            .filter_map(|(url, rb)| {
                let ra = before.get(url)?;
                let (x, y) = (outcome(ra), outcome(rb));
                (x != y).then(|| StatusChange {
                    url: (*url).to_string(),
                    before: x,
                    after: y,
                })
            })
            .collect();
        status_changed.sort_by(|x, y| x.url.cmp(&y.url));
        let empty = Vec::new();
        let fa = a.audit.as_ref().map_or(&empty, |x| &x.findings);
        let fb = b.audit.as_ref().map_or(&empty, |x| &x.findings);
        let score = match (&a.audit, &b.audit) {
            (Some(x), Some(y)) => {
                let old: BTreeMap<u8, u8> = x
                    .score
                    .categories
                    .iter()
                    .map(|c| (c.category, c.score))
                    .collect();
                let new: BTreeMap<u8, u8> = y
                    .score
                    .categories
                    .iter()
                    .map(|c| (c.category, c.score))
                    .collect();
                let cats: BTreeSet<u8> = old.keys().chain(new.keys()).copied().collect();
                Some(ScoreChange {
                    before: x.score.score,
                    after: y.score.score,
                    categories: cats
                        .into_iter()
                        .filter_map(|c| {
                            let (p, q) = (
                                old.get(&c).copied().unwrap_or(100),
                                new.get(&c).copied().unwrap_or(100),
                            );
                            (p != q).then(|| (c, crate::checks::category_name(c), p, q))
                        })
                        .collect(),
                })
            }
            _ => None,
        };
        Self {
            schema_version: super::SCHEMA_VERSION,
            a: a.crawl.clone(),
            b: b.crawl.clone(),
            added,
            removed,
            status_changed,
            problems_appeared: problem_changes(&b.problems, &a.problems),
            problems_resolved: problem_changes(&a.problems, &b.problems),
            findings_new: finding_changes(fb, fa),
            findings_resolved: finding_changes(fa, fb),
            score,
        }
    }

    /// Renders it as text, JSON or Markdown.
    pub fn render(&self, format: Format, out: &mut dyn Write) -> Result<(), ReportError> {
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)?;
            }
            Format::Text => out.write_all(self.text(false).as_bytes())?,
            Format::Markdown => out.write_all(self.text(true).as_bytes())?,
            _ => {
                return Err(ReportError::Unsupported(
                    "`diff` writes text, json or markdown",
                ));
            }
        }
        Ok(())
    }

    fn text(&self, md: bool) -> String {
        let mut s = String::new();
        let h = if md { "### " } else { "" };
        let item = if md { "- " } else { "  " };
        let _ = writeln!(
            s,
            "{}Crawl #{} → #{}: {}\n",
            if md { "## " } else { "" },
            self.a.id,
            self.b.id,
            self.b.start_url
        );
        if let Some(sc) = &self.score {
            let delta = i16::from(sc.after) - i16::from(sc.before);
            let _ = writeln!(s, "Health score {} → {} ({delta:+})", sc.before, sc.after);
            for (n, name, p, q) in &sc.categories {
                let _ = writeln!(s, "{item}{n:02} {name}: {p} → {q}");
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "URLs: {} added, {} removed, {} changed status; broken: {} appeared, {} fixed; findings: {} new, {} resolved\n",
            self.added.len(),
            self.removed.len(),
            self.status_changed.len(),
            self.problems_appeared.len(),
            self.problems_resolved.len(),
            self.findings_new.len(),
            self.findings_resolved.len()
        );
        let section = |s: &mut String, title: &str, lines: Vec<String>| {
            if lines.is_empty() {
                return;
            }
            let _ = writeln!(s, "{h}{title} ({})", lines.len());
            for l in lines {
                let _ = writeln!(s, "{item}{l}");
            }
            s.push('\n');
        };
        let problem = |p: &ProblemChange| format!("{} {} ({})", p.url, p.description, p.problem);
        let finding = |f: &FindingChange| {
            format!(
                "[{}] {} {}: {}",
                f.severity.id(),
                f.check,
                f.title,
                f.url.as_deref().unwrap_or("(site-wide)")
            )
        };
        section(
            &mut s,
            "Broken URLs that appeared",
            self.problems_appeared.iter().map(problem).collect(),
        );
        section(
            &mut s,
            "Broken URLs fixed",
            self.problems_resolved.iter().map(problem).collect(),
        );
        section(
            &mut s,
            "Status changes",
            self.status_changed
                .iter()
                .map(|c| format!("{} {} → {}", c.url, c.before, c.after))
                .collect(),
        );
        section(
            &mut s,
            "New findings",
            self.findings_new.iter().map(finding).collect(),
        );
        section(
            &mut s,
            "Resolved findings",
            self.findings_resolved.iter().map(finding).collect(),
        );
        section(&mut s, "URLs added", self.added.clone());
        section(&mut s, "URLs removed", self.removed.clone());
        s
    }
}
