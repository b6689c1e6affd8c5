//! The health score: 0–100 for the crawl and for each category.
//!
//! Over the N internal URLs that were fetched, each URL costs 1 if it has an error
//! finding, 0.5 if its worst finding is a warning, 0 otherwise; site-wide findings (no
//! URL) cost 1 each for errors and 0.5 for warnings as if they were one more URL each.
//! `score = round(100 × (1 − cost / (N + site findings)))`. Notices never count. A
//! category's score is the same formula over that category's findings only.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{SiteData, info};
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

fn formula(findings: &[&AuditFinding], urls: usize) -> u8 {
    let mut worst: HashMap<&str, Severity> = HashMap::new();
    let mut site_cost = 0.0;
    let mut site_count = 0usize;
    for f in findings {
        match &f.url {
            Some(u) => {
                let w = worst.entry(u.as_str()).or_insert(Severity::Notice);
                *w = (*w).max(f.severity);
            }
            None if f.severity != Severity::Notice => {
                site_count += 1;
                site_cost += if f.severity == Severity::Error {
                    1.0
                } else {
                    0.5
                };
            }
            None => {}
        }
    }
    let cost: f64 = worst
        .values()
        .map(|s| match s {
            Severity::Error => 1.0,
            Severity::Warning => 0.5,
            Severity::Notice => 0.0,
        })
        .sum::<f64>()
        + site_cost;
    let total = (urls + site_count).max(1) as f64;
    (100.0 * (1.0 - (cost / total).min(1.0))).round() as u8
}

/// Scores the findings of a crawl.
pub fn score(site: &SiteData, findings: &[AuditFinding]) -> Score {
    let urls = site
        .urls
        .iter()
        .filter(|u| u.scope == UrlScope::Internal && u.state == "done")
        .count();
    let all: Vec<&AuditFinding> = findings.iter().collect();
    let mut by_cat: BTreeMap<u8, Vec<&AuditFinding>> = BTreeMap::new();
    for f in findings {
        if let Some(i) = info(f.check) {
            by_cat.entry(i.category).or_default().push(f);
        }
    }
    let categories = by_cat
        .into_iter()
        .map(|(category, fs)| {
            let mut counts = BTreeMap::new();
            for f in &fs {
                *counts.entry(f.severity.id()).or_default() += 1;
            }
            CategoryScore {
                category,
                name: super::category_name(category),
                score: formula(&fs, urls),
                findings: counts,
            }
        })
        .collect();
    Score {
        score: formula(&all, urls),
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::TestSite;
    use crate::checks::{AuditConfig, audit};

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
