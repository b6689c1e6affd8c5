//! One module per subcommand.

pub(crate) mod check;
pub(crate) mod checks;
pub(crate) mod crawl;
pub(crate) mod crawls;
pub(crate) mod diff;
pub(crate) mod logs;
pub(crate) mod recheck;
pub(crate) mod report;

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context as _;

use siteaudit::report::CrawlReport;
use siteaudit::store::{SqliteStore, Store};

use crate::exit::{self, Exit, Failure, ProblemFacts, Selector};
use crate::output;

/// Opens the database; failure means nothing can start (exit 3).
pub(crate) fn open_store(db: Option<std::path::PathBuf>) -> Result<Arc<dyn Store>, Failure> {
    let path = output::db_path(db);
    SqliteStore::open(&path)
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(exit::no_start)
}

/// What a report holds, as comparable keys: `problem url` for broken URLs and
/// `check url` for findings (`check` alone for site-wide ones).
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    keys: HashSet<String>,
    label: String,
}

fn problem_key(problem: &str, url: &str) -> String {
    format!("problem {problem} {url}")
}

fn finding_key(check: &str, url: Option<&str>) -> String {
    format!("finding {check} {}", url.unwrap_or(""))
}

impl Baseline {
    /// `--baseline` of the output flags, if given; a bad one is a usage error.
    pub(crate) fn from_flag(
        out: &crate::OutputArgs,
        store: &dyn Store,
        audit: Option<&siteaudit::checks::AuditConfig>,
    ) -> Result<Option<Self>, Failure> {
        out.baseline
            .as_deref()
            .map(|b| Self::load(b, store, audit))
            .transpose()
            .map_err(exit::usage)
    }

    /// Reads `--baseline`: a JSON report file when a file by that name exists,
    /// else a crawl id in the database (its findings recomputed with `audit`).
    pub(crate) fn load(
        spec: &str,
        store: &dyn Store,
        audit: Option<&siteaudit::checks::AuditConfig>,
    ) -> anyhow::Result<Self> {
        let path = std::path::Path::new(spec);
        let mut keys = HashSet::new();
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read baseline {}", path.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
                format!("baseline {} is not a siteaudit JSON report", path.display())
            })?;
            if v.get("schema_version").is_none() {
                anyhow::bail!(
                    "baseline {} is not a siteaudit JSON report (no schema_version)",
                    path.display()
                );
            }
            for p in v["problems"].as_array().into_iter().flatten() {
                keys.insert(problem_key(
                    p["problem"].as_str().unwrap_or_default(),
                    p["url"].as_str().unwrap_or_default(),
                ));
            }
            for f in v["audit"]["findings"].as_array().into_iter().flatten() {
                keys.insert(finding_key(
                    f["check"].as_str().unwrap_or_default(),
                    f["url"].as_str(),
                ));
            }
            return Ok(Self {
                keys,
                label: path.display().to_string(),
            });
        }
        let id: i64 = spec
            .parse()
            .with_context(|| format!("--baseline {spec:?} is neither a file nor a crawl id"))?;
        let detail = siteaudit::report::Detail {
            tables: false,
            every_finding: true,
        };
        let report = CrawlReport::build_with(store, id, audit, detail)
            .with_context(|| format!("cannot read baseline crawl #{id}"))?;
        Ok(Self::of(&report))
    }

    /// What a report holds.
    pub(crate) fn of(report: &CrawlReport) -> Self {
        let mut keys: HashSet<String> = report
            .problems
            .iter()
            .map(|p| problem_key(&p.problem, &p.url))
            .collect();
        keys.extend(
            report
                .audit
                .iter()
                .flat_map(|a| &a.findings)
                .map(|f| finding_key(f.check, f.url.as_deref())),
        );
        Self {
            keys,
            label: format!("crawl #{}", report.crawl.id),
        }
    }
}

/// The exit code a crawl report earns under `--fail-on`; with a baseline only what is
/// new since it counts (and a note says how much is new).
pub(crate) fn crawl_exit(
    report: &CrawlReport,
    fail_on: &[Selector],
    baseline: Option<&Baseline>,
    quiet: bool,
) -> Exit {
    let is_new = |key: String| baseline.is_none_or(|b| !b.keys.contains(&key));
    let new_problems: Vec<_> = report
        .problems
        .iter()
        .filter(|p| is_new(problem_key(&p.problem, &p.url)))
        .collect();
    let new_findings: Vec<_> = report
        .audit
        .iter()
        .flat_map(|a| &a.findings)
        .filter(|f| is_new(finding_key(f.check, f.url.as_deref())))
        .collect();
    if let Some(b) = baseline
        && !quiet
    {
        eprintln!(
            "siteaudit: {} broken URLs and {} findings are new since the baseline ({})",
            new_problems.len(),
            new_findings.len(),
            b.label
        );
    }
    let failing = new_problems.iter().any(|p| {
        exit::fails(
            fail_on,
            &ProblemFacts {
                internal: p.scope == siteaudit::store::UrlScope::Internal,
                status: p.status,
                key: &p.problem,
                is_error: p.is_error(),
            },
        )
    }) || new_findings
        .iter()
        .any(|f| exit::finding_fails(fail_on, f.severity));
    if failing { Exit::Findings } else { Exit::Clean }
}
