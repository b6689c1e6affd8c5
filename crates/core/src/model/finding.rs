//! What the checks report.

use serde::{Deserialize, Serialize};

/// How bad a finding is (see ../shared/checks.md, "Conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational or often intentional; never counted in the health score.
    Notice,
    /// Likely to hurt crawling, indexing or users; fix unless intentional.
    Warning,
    /// Broken, or a hard limit or specification violated.
    Error,
}

impl Severity {
    /// `error`, `warning` or `notice`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// One check firing on one URL (or once for the site).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The check's id, from the catalogue.
    pub check_id: &'static str,
    /// Its severity (a check may grade it).
    pub severity: Severity,
    /// The URL it is about (`None` for site-wide findings).
    pub url: Option<String>,
    /// The evidence, as a small JSON object.
    pub details: serde_json::Value,
}

/// A finding as an audit keeps it: the evidence as compact JSON text. An audit of a
/// large site holds every finding at once, and a JSON tree costs several times its text.
#[derive(Debug, Clone, Serialize)]
pub struct AuditFinding {
    /// The check's id, from the catalogue.
    pub check_id: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The URL it is about (`None` for site-wide findings).
    pub url: Option<String>,
    /// The evidence, as JSON text.
    pub details: Box<serde_json::value::RawValue>,
}

impl From<Finding> for AuditFinding {
    fn from(f: Finding) -> Self {
        Self {
            check_id: f.check_id,
            severity: f.severity,
            url: f.url,
            details: serde_json::value::to_raw_value(&f.details)
                .expect("a JSON value always serialises"),
        }
    }
}
