//! SARIF 2.1.0: one run whose rules are the checks that ran and whose results
//! are the findings (level error / warning / note). The "artifact" of a
//! finding is the URL it is about (the start URL for site-wide ones); the
//! evidence goes in `properties`. Validated against the OASIS schema in tests.

use serde_json::{Value, json};

use super::CrawlReport;
use crate::model::Severity;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "note",
    }
}

/// The SARIF log of a report.
pub(super) fn log(r: &CrawlReport) -> Value {
    let mut rules = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut results = Vec::new();
    match &r.audit {
        Some(audit) => {
            for info in &audit.checks_run {
                index.insert(info.id, rules.len());
                rules.push(json!({
                    "id": info.id,
                    "name": info.id,
                    "shortDescription": { "text": info.title },
                    "fullDescription": { "text": info.why },
                    "help": { "text": info.fix },
                    "defaultConfiguration": { "level": level(info.severity) },
                    "properties": {
                        "category": info.category,
                        "categoryName": info.category_name(),
                    },
                }));
            }
            for f in &audit.findings {
                let url = f.url.as_deref().unwrap_or(&r.crawl.start_url);
                let mut result = json!({
                    "ruleId": f.check,
                    "level": level(f.severity),
                    "message": { "text": format!("{}: {url}", f.title) },
                    "locations": [ { "physicalLocation": { "artifactLocation": { "uri": url } } } ],
                    "properties": { "details": f.details, "siteWide": f.url.is_none() },
                });
                if let Some(i) = index.get(f.check) {
                    result["ruleIndex"] = json!(i);
                }
                results.push(result);
            }
        }
        None => {
            for p in r.problems.iter().filter(|p| p.is_error()) {
                if !index.contains_key(p.problem.as_str()) {
                    index.insert(p.problem.as_str(), rules.len());
                    rules.push(json!({
                        "id": p.problem,
                        "shortDescription": { "text": p.description },
                        "defaultConfiguration": { "level": "error" },
                    }));
                }
                results.push(json!({
                    "ruleId": p.problem,
                    "ruleIndex": index[p.problem.as_str()],
                    "level": "error",
                    "message": { "text": format!("{}: {}", p.description, p.url) },
                    "locations": [ { "physicalLocation": { "artifactLocation": { "uri": p.url } } } ],
                    "properties": {
                        "linkedFrom": p.linked_from.iter().map(|l| &l.url).collect::<Vec<_>>(),
                    },
                }));
            }
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": "siteaudit",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/siteaudit",
                "rules": rules,
            } },
            "automationDetails": { "id": format!("siteaudit/crawl/{}", r.crawl.id) },
            "results": results,
            "properties": {
                "startUrl": r.crawl.start_url,
                "score": r.audit.as_ref().map(|a| a.score.score),
            },
        } ],
    })
}
