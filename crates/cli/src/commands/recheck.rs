//! `siteaudit recheck [CRAWL]`: did the fix work?

use anyhow::anyhow;
use siteaudit::recheck::recheck;
use siteaudit::report::{CrawlReport, Format};

use super::{crawl_exit, open_store};
use crate::exit::{self, Exit, Failure};
use crate::{RecheckArgs, output};

pub(crate) async fn run(a: RecheckArgs) -> Result<Exit, Failure> {
    if !matches!(a.format, Format::Text | Format::Json) {
        return Err(exit::usage(anyhow!("`recheck` writes text or json")));
    }
    let store = open_store(a.db.db)?;
    let of = match a.id {
        Some(id) => id,
        None => store
            .crawls()
            .map_err(exit::no_start)?
            .iter()
            .find(|c| c.config.recheck_of.is_none())
            .map(|c| c.id)
            .ok_or_else(|| exit::usage(anyhow!("the database holds no crawls yet")))?,
    };
    store
        .crawl(of)
        .map_err(|_| exit::usage(anyhow!("no crawl #{of} in the database")))?;
    let summary = recheck(store.clone(), of, a.with_referrers)
        .await
        .map_err(exit::no_start)?;
    output::write_to(a.output.as_deref(), |w| {
        if a.format == Format::Json {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            writeln!(w)?;
            return Ok(());
        }
        let counts = summary.counts();
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        writeln!(
            w,
            "Recheck of crawl #{} (stored as crawl #{}): {} URLs: {} fixed, {} still failing, {} changed",
            summary.recheck_of,
            summary.crawl_id,
            summary.results.len(),
            n("fixed"),
            n("still-failing"),
            n("changed")
        )?;
        for r in &summary.results {
            writeln!(w, "  {:<14} {}  {} → {}", r.verdict, r.url, r.before, r.after)?;
        }
        if !summary.referrers.is_empty() {
            writeln!(w, "\nPages that linked to them:")?;
            for r in &summary.referrers {
                let state = match r.still_links {
                    Some(true) => "still links to",
                    Some(false) => "no longer links to",
                    None => "could not be read; linked to",
                };
                writeln!(w, "  {} {state} {}", r.page, r.target)?;
            }
        }
        Ok(())
    })
    .map_err(exit::usage)?;
    let report =
        CrawlReport::build(store.as_ref(), summary.crawl_id, None).map_err(exit::no_start)?;
    Ok(crawl_exit(&report, &a.fail_on.0, None, true))
}
