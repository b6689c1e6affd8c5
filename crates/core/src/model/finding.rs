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

    /// 0 for notices, 1 for warnings, 2 for errors (how the store keeps it).
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The severity of a [`Severity::rank`] (`None` when out of range).
    pub fn from_rank(rank: u8) -> Option<Self> {
        match rank {
            0 => Some(Self::Notice),
            1 => Some(Self::Warning),
            2 => Some(Self::Error),
            _ => None,
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

/// A finding as an audit keeps it and reports show it: its check's catalogue entry, and
/// the evidence as compact JSON text. An audit of a large site holds every finding at
/// once, and a JSON tree costs several times its text.
#[derive(Debug, Clone, Serialize)]
pub struct AuditFinding {
    /// The check id.
    pub check: &'static str,
    /// The category number.
    pub category: u8,
    /// The severity of this finding.
    pub severity: Severity,
    /// The check's title.
    pub title: &'static str,
    /// The URL (absent for site-wide findings).
    pub url: Option<String>,
    /// The evidence (JSON text; written out as a JSON tree, so pretty output indents it).
    #[serde(serialize_with = "json_tree")]
    pub details: Box<serde_json::value::RawValue>,
    /// How to fix it.
    pub fix: &'static str,
    /// Where the checks produced it: orders findings that sort equal (same severity,
    /// check and URL) the way they were found.
    #[serde(skip)]
    pub order: u64,
}

impl AuditFinding {
    /// Keeps `f`, with its check's category, title and fix.
    pub fn new(f: Finding, category: u8, title: &'static str, fix: &'static str) -> Self {
        Self {
            check: f.check_id,
            category,
            severity: f.severity,
            title,
            url: f.url,
            details: serde_json::value::to_raw_value(&f.details)
                .expect("a JSON value always serialises"),
            fix,
            order: 0,
        }
    }
}

/// Serializes stored JSON text as the value it holds (one finding at a time).
fn json_tree<S: serde::Serializer>(
    raw: &serde_json::value::RawValue,
    s: S,
) -> Result<S::Ok, S::Error> {
    let v: serde_json::Value =
        serde_json::from_str(raw.get()).map_err(serde::ser::Error::custom)?;
    v.serialize(s)
}
