//! `siteaudit report [ID]`: renders a stored crawl again, in any format.

use anyhow::anyhow;
use siteaudit::report::CrawlReport;

use super::{Baseline, crawl_exit, open_store};
use crate::exit::{self, Exit, Failure};
use crate::{ReportArgs, output, settings};

pub(crate) fn run(a: ReportArgs) -> Result<Exit, Failure> {
    let store = open_store(a.db.db)?;
    let id = match a.id {
        Some(id) => id,
        None => store
            .crawls()
            .map_err(exit::no_start)?
            .first()
            .map(|c| c.id)
            .ok_or_else(|| exit::usage(anyhow!("the database holds no crawls yet")))?,
    };
    let file = settings::load_file(a.config.as_deref()).map_err(exit::usage)?;
    let mut s = file;
    s.disable_checks.extend(a.disable_checks);
    let audit = if a.no_audit {
        None
    } else {
        Some(s.audit_config().map_err(exit::usage)?)
    };
    let baseline = Baseline::from_flag(&a.out, store.as_ref(), audit.as_ref())?;
    let report = CrawlReport::build_with(store.as_ref(), id, audit.as_ref(), a.out.detail())
        .map_err(exit::usage)?;
    output::write_report(&a.out, &report).map_err(exit::usage)?;
    Ok(crawl_exit(
        &report,
        &a.out.fail_on.0,
        baseline.as_ref(),
        a.out.quiet,
    ))
}
