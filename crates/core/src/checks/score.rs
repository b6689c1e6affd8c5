//! The health score: 0–100 for the crawl and for each category.
//!
//! Over the N internal URLs that were fetched, each URL costs 1 if it has an error
//! finding, 0.5 if its worst finding is a warning, 0 otherwise; site-wide findings (no
//! URL) cost 1 each for errors and 0.5 for warnings as if they were one more URL each.
//! `score = round(100 × (1 − cost / (N + site findings)))`. Notices never count. A
//! category's score is the same formula over that category's findings only.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use serde::Serialize;

use super::SiteData;
use crate::model::{AuditFinding, Severity};
use crate::store::UrlScope;

/// The score of one category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryScore {
    /// The category number.
    pub category: u8,
    /// Its name.
    pub name: &'static str,
    /// 0–100.
    pub score: u8,
    /// Findings by severity id.
    pub findings: BTreeMap<&'static str, u64>,
}

/// The health score of a crawl.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// 0–100.
    pub score: u8,
    /// Per category with findings or checks run (ascending).
    pub categories: Vec<CategoryScore>,
}

/// What one category's (or the whole crawl's) score is computed from.
#[derive(Debug, Default)]
struct Cost {
    /// The worst warning or error of each URL (notices cost nothing).
    worst: Worst,
    /// Site-wide warnings and errors.
    site_count: usize,
    site_cost: f64,
}

/// The worst warning or error of each URL: of the crawl's URLs, by position, a byte each
/// (0 for none, then [`Worst::code`]); of URLs given by name, in a table. A hash table
/// of every URL with a warning took ~18 bytes a URL in each category and the whole
/// (85 MB for a million-page crawl's findings).
#[derive(Debug, Default)]
struct Worst {
    at: Vec<u8>,
    named: FxHashMap<u32, Severity>,
}

impl Worst {
    /// A warning or error as a byte (what it costs, in halves of a page).
    fn code(severity: Severity) -> u8 {
        match severity {
            Severity::Notice => 0,
            Severity::Warning => 1,
            Severity::Error => 2,
        }
    }

    /// Records `severity` (a warning or error) for URL `id`, where it is worse.
    fn add(&mut self, id: u32, severity: Severity) {
        if id & NAMED != 0 {
            let w = self.named.entry(id).or_insert(severity);
            *w = (*w).max(severity);
            return;
        }
        let at = id as usize;
        if at >= self.at.len() {
            self.at.resize(at + 1, 0);
        }
        self.at[at] = self.at[at].max(Self::code(severity));
    }

    /// What the URLs cost, in pages: an error one, a warning half.
    fn cost(&self) -> f64 {
        let halves: u64 = self.at.iter().map(|&c| u64::from(c)).sum::<u64>()
            + self
                .named
                .values()
                .map(|&s| u64::from(Self::code(s)))
                .sum::<u64>();
        halves as f64 / 2.0
    }
}

impl Cost {
    fn add(&mut self, url: Option<u32>, severity: Severity) {
        if severity == Severity::Notice {
            return;
        }
        match url {
            Some(u) => self.worst.add(u, severity),
            None => {
                self.site_count += 1;
                self.site_cost += if severity == Severity::Error {
                    1.0
                } else {
                    0.5
                };
            }
        }
    }

    fn score(&self, urls: usize) -> u8 {
        let cost = self.worst.cost() + self.site_cost;
        let total = (urls + self.site_count).max(1) as f64;
        (100.0 * (1.0 - (cost / total).min(1.0))).round() as u8
    }
}

/// The high bit of the ids of URLs given by name, apart from positions ([`ScoreTally::add_at`]).
const NAMED: u32 = 1 << 31;

/// The health score, added up one finding at a time (in any order), so a crawl's
/// findings can be scored as they are read from the store without being held.
#[derive(Debug, Default)]
pub struct ScoreTally {
    /// URL ids, by URL, for the cost tables.
    ids: FxHashMap<String, u32>,
    all: Cost,
    /// Per category: its cost and its findings by severity id.
    categories: BTreeMap<u8, (Cost, BTreeMap<&'static str, u64>)>,
}

impl ScoreTally {
    /// Counts one finding of a check in `category`.
    pub fn add(&mut self, category: u8, severity: Severity, url: Option<&str>) {
        // Notices cost nothing: their URLs need no id (most findings are notices).
        let id = url
            .filter(|_| severity != Severity::Notice)
            .map(|u| match self.ids.get(u) {
                Some(&id) => id,
                None => {
                    let id = self.ids.len() as u32 | NAMED;
                    self.ids.insert(u.to_string(), id);
                    id
                }
            });
        self.count(category, severity, id);
    }

    /// Counts one finding about the crawl's URL at `position` (one of the crawl's URLs,
    /// in order): what [`ScoreTally::add`] does with its URL, without keeping the URL.
    pub fn add_at(&mut self, category: u8, severity: Severity, position: usize) {
        debug_assert!(position < NAMED as usize);
        self.count(category, severity, Some(position as u32));
    }

    fn count(&mut self, category: u8, severity: Severity, id: Option<u32>) {
        self.all.add(id, severity);
        let (cost, counts) = self.categories.entry(category).or_default();
        cost.add(id, severity);
        *counts.entry(severity.id()).or_default() += 1;
    }

    /// The score over `urls` internal URLs fetched.
    pub fn finish(self, urls: usize) -> Score {
        Score {
            score: self.all.score(urls),
            categories: self
                .categories
                .into_iter()
                .map(|(category, (cost, findings))| CategoryScore {
                    category,
                    name: super::category_name(category),
                    score: cost.score(urls),
                    findings,
                })
                .collect(),
        }
    }
}

/// The internal URLs of a crawl that were fetched: what the score is over.
pub fn scored_urls(site: &SiteData) -> usize {
    site.urls
        .iter()
        .filter(|u| u.scope == UrlScope::Internal && u.state == "done")
        .count()
}

/// Scores the findings of a crawl.
pub fn score(site: &SiteData, findings: &[AuditFinding]) -> Score {
    let mut tally = ScoreTally::default();
    for f in findings {
        tally.add(f.category, f.severity, f.url.as_deref());
    }
    tally.finish(scored_urls(site))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::TestSite;
    use crate::checks::{AuditConfig, audit, info};

    /// Each URL, given by position or by name, costs its worst finding once, in its
    /// category and in the whole; notices cost nothing; site-wide findings count apart.
    #[test]
    fn each_url_costs_its_worst_finding() {
        let mut t = ScoreTally::default();
        t.add_at(1, Severity::Warning, 5);
        t.add_at(1, Severity::Error, 5);
        t.add_at(1, Severity::Warning, 5);
        t.add_at(1, Severity::Warning, 0);
        t.add(1, Severity::Warning, Some("http://x.example/"));
        t.add(1, Severity::Error, Some("http://x.example/"));
        t.add(1, Severity::Notice, Some("http://y.example/"));
        t.add_at(1, Severity::Notice, 7);
        t.add(1, Severity::Warning, None);
        t.add_at(2, Severity::Warning, 5);
        let s = t.finish(10);
        // (1 + 0.5 + 1 + 0.5) of 10 + 1 → 72.7.
        assert_eq!(s.score, 73);
        assert_eq!(s.categories[0].score, 73);
        assert_eq!(s.categories[0].findings["warning"], 5);
        // One warning of 10 pages → 95.
        assert_eq!(s.categories[1].score, 95);
    }

    #[test]
    fn errors_cost_a_page_warnings_half_notices_nothing() {
        // 4 internal pages: start, one 404 (error), one 410 (warning), one fine.
        let t = TestSite::new()
            .page("/gone", Some(404), None, |_| {})
            .page("/removed", Some(410), None, |_| {})
            .page("/ok", Some(200), None, |_| {});
        // Status checks only: the start page's links would add link findings.
        let mut findings = audit(t.site(), &AuditConfig::default());
        findings.retain(|f| info(f.check).is_some_and(|i| i.category == 2));
        let s = score(t.site(), &findings);
        assert_eq!(s.score, 63, "100 × (1 − 1.5/4) = 62.5 → 63");
        let status = s.categories.iter().find(|c| c.category == 2).unwrap();
        assert_eq!(status.score, 63);
        assert_eq!(status.findings["error"], 1);
        let clean = TestSite::new()
            .page("/ok", Some(200), None, |_| {})
            .texts(&[("/ok", "A page")]);
        let mut clean_findings = audit(clean.site(), &AuditConfig::default());
        clean_findings.retain(|f| info(f.check).is_some_and(|i| i.category == 2));
        assert_eq!(score(clean.site(), &clean_findings).score, 100);
        // Disabled checks do not run.
        let mut cfg = AuditConfig::default();
        cfg.disabled.insert("http-404".into());
        assert!(audit(t.site(), &cfg).iter().all(|f| f.check != "http-404"));
        assert!(cfg.validate().is_ok());
        cfg.disabled.insert("no-such-check".into());
        assert!(cfg.validate().is_err());
    }
}
