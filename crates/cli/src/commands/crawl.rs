//! `siteaudit crawl URL` and `siteaudit crawl --resume`.

use std::sync::Arc;

use anyhow::anyhow;
use siteaudit::checks::AuditConfig;
use siteaudit::crawl::{CrawlError, CrawlSummary, Crawler};
use siteaudit::report::CrawlReport;
use siteaudit::store::Store;

use super::{Baseline, crawl_exit, open_store};
use crate::exit::{self, Exit, Failure};
use crate::{CrawlArgs, OutputArgs, output, progress, settings};

/// A crawl done, with what its report needs.
pub(crate) struct Crawled {
    out: OutputArgs,
    store: Arc<dyn Store>,
    audit: Option<AuditConfig>,
    baseline: Option<Baseline>,
    summary: CrawlSummary,
}

/// Runs the crawl (its engine as a task on the runtime's workers, where its fetches
/// run: they wake each other without crossing to this thread). The report is
/// [`finish`]ed once the runtime is gone.
pub(crate) async fn run(a: CrawlArgs) -> Result<Crawled, Failure> {
    let store = open_store(a.db.db)?;
    // Events feed only the progress bar: without one, the engine sends none.
    let (crawler, bar) = if progress::shown(a.out.quiet) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let bar = tokio::spawn(progress::drive(rx));
        (Crawler::new(store.clone()).with_events(tx), Some(bar))
    } else {
        (Crawler::new(store.clone()), None)
    };
    let cancel = crawler.cancel_token();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    let file = settings::load_file(a.config.as_deref()).map_err(exit::usage)?;
    let settings = file.merge(a.settings);
    let audit = if a.no_audit {
        None
    } else {
        Some(settings.audit_config().map_err(exit::usage)?)
    };
    let baseline = Baseline::from_flag(&a.out, store.as_ref(), audit.as_ref())?;
    let result = match a.resume {
        Some(id) => {
            let id = match id {
                Some(id) => id,
                None => store
                    .crawls()
                    .map_err(exit::no_start)?
                    .into_iter()
                    .find(|c| c.state != "finished")
                    .map(|c| c.id)
                    .ok_or_else(|| {
                        exit::usage(anyhow!("there is no unfinished crawl to resume"))
                    })?,
            };
            if !a.out.quiet {
                eprintln!("siteaudit: resuming crawl #{id}");
            }
            spawned(crawler.resume(id)).await
        }
        None => {
            let config = settings
                .resolve(a.url.into_iter().collect())
                .map_err(exit::usage)?;
            spawned(crawler.run(config)).await
        }
    };
    ctrl_c.abort();
    if let Some(bar) = bar {
        let _ = bar.await;
    }
    let summary = result.map_err(|e| match e {
        CrawlError::Store(_) => exit::no_start(e),
        CrawlError::Fetch(_) => exit::no_start(e),
        _ => exit::usage(e),
    })?;
    Ok(Crawled {
        out: a.out,
        store,
        audit,
        baseline,
        summary,
    })
}

/// Runs `f` as a task on the runtime's workers.
async fn spawned<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    match tokio::spawn(f).await {
        Ok(t) => t,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Audits the crawl and writes its report. Called after the runtime is shut down: its
/// worker threads have ended, and the allocator returned what they freed (frontier,
/// seen-set, buffers) to the OS as they did (see `ALLOCATOR_OPTIONS` in main.rs), so it
/// is not held beside the audit.
pub(crate) fn finish(c: Crawled) -> Result<Exit, Failure> {
    let Crawled {
        out,
        store,
        audit,
        baseline,
        summary,
    } = c;
    let report = CrawlReport::build_with(
        store.as_ref(),
        summary.crawl_id,
        audit.as_ref(),
        out.detail(),
    )
    .map_err(exit::no_start)?;
    output::write_report(&out, &report).map_err(|e| Failure {
        exit: Exit::Usage,
        error: e,
    })?;
    if let Some(path) = &out.output
        && !out.quiet
    {
        eprintln!(
            "siteaudit: crawl #{}: {} URLs, {} problems; report written to {}",
            summary.crawl_id,
            report.summary.urls,
            report.summary.problems,
            path.display()
        );
    }
    if summary.interrupted {
        eprintln!(
            "siteaudit: interrupted; resume with: siteaudit crawl --resume {}",
            summary.crawl_id
        );
        return Ok(Exit::Interrupted);
    }
    if let Some(start) = report.unreachable_start() {
        let why = start
            .record
            .failure()
            .map(|f| f.describe())
            .unwrap_or_default();
        eprintln!(
            "siteaudit: the start URL {} could not be fetched: {why}",
            start.record.url
        );
        return Ok(Exit::NoStart);
    }
    Ok(crawl_exit(
        &report,
        &out.fail_on.0,
        baseline.as_ref(),
        out.quiet,
    ))
}
