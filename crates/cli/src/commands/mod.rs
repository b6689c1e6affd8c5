//! One module per subcommand.

pub(crate) mod check;
pub(crate) mod checks;
pub(crate) mod crawl;
pub(crate) mod crawls;
pub(crate) mod report;

use std::sync::Arc;

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

/// The exit code a crawl report earns under `--fail-on`.
pub(crate) fn crawl_exit(report: &CrawlReport, fail_on: &[Selector]) -> Exit {
    let failing = report.problems.iter().any(|p| {
        exit::fails(
            fail_on,
            &ProblemFacts {
                internal: p.scope == siteaudit::store::UrlScope::Internal,
                status: p.status,
                key: &p.problem,
                is_error: p.is_error(),
            },
        )
    }) || report
        .audit
        .iter()
        .flat_map(|a| &a.findings)
        .any(|f| exit::finding_fails(fail_on, f.severity));
    if failing { Exit::Findings } else { Exit::Clean }
}
