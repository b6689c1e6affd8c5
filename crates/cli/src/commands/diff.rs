//! `siteaudit diff [A] [B]`: what changed between two stored crawls.

use anyhow::anyhow;
use siteaudit::report::{CrawlDiff, CrawlReport, Format};

use super::{Baseline, crawl_exit, open_store};
use crate::exit::{self, Exit, Failure};
use crate::{DiffArgs, output, settings};

pub(crate) fn run(a: DiffArgs) -> Result<Exit, Failure> {
    if !matches!(a.format, Format::Text | Format::Json | Format::Markdown) {
        return Err(exit::usage(anyhow!("`diff` writes text, json or markdown")));
    }
    let store = open_store(a.db.db)?;
    let crawls = store.crawls().map_err(exit::no_start)?;
    let b = match a.b {
        Some(id) => id,
        None => crawls
            .first()
            .map(|c| c.id)
            .ok_or_else(|| exit::usage(anyhow!("the database holds no crawls yet")))?,
    };
    let b_info = crawls
        .iter()
        .find(|c| c.id == b)
        .ok_or_else(|| exit::usage(anyhow!("no crawl #{b} in the database")))?;
    let a_id = match a.a {
        Some(id) => id,
        None => crawls
            .iter()
            .find(|c| {
                c.id < b
                    && c.state == "finished"
                    && c.start_url == b_info.start_url
                    && c.config.recheck_of.is_none()
            })
            .map(|c| c.id)
            .ok_or_else(|| {
                exit::usage(anyhow!(
                    "no earlier finished crawl of {} to compare #{b} with; name both crawls",
                    b_info.start_url
                ))
            })?,
    };
    let mut s = settings::load_file(a.config.as_deref()).map_err(exit::usage)?;
    s.disable_checks.extend(a.disable_checks);
    let audit = s.audit_config().map_err(exit::usage)?;
    let before = CrawlReport::build(store.as_ref(), a_id, Some(&audit)).map_err(exit::usage)?;
    let after = CrawlReport::build(store.as_ref(), b, Some(&audit)).map_err(exit::usage)?;
    let diff = CrawlDiff::between(&before, &after);
    output::write_to(a.output.as_deref(), |w| {
        diff.render(a.format, w)?;
        Ok(())
    })
    .map_err(exit::usage)?;
    Ok(crawl_exit(
        &after,
        &a.fail_on.0,
        Some(&Baseline::of(&before)),
        true,
    ))
}
