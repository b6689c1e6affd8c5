//! The progress bar on stderr, driven by the engine's `CrawlEvent`s. Drawn only when
//! stderr is a terminal and `--quiet` is off.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use siteaudit::model::CrawlEvent;
use tokio::sync::mpsc::UnboundedReceiver;

/// Whether a crawl draws a progress bar: `--quiet` is off and stderr is a terminal.
pub(crate) fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Draws the bar from the crawl's events until the crawl ends.
pub(crate) async fn drive(mut rx: UnboundedReceiver<CrawlEvent>) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} URLs  {per_sec}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0u64;
    let mut errors = 0u64;
    while let Some(e) = rx.recv().await {
        match e {
            CrawlEvent::Started { urls, done, .. } => {
                bar.set_length(urls);
                bar.set_position(done);
            }
            CrawlEvent::Queued { .. } => bar.inc_length(1),
            CrawlEvent::Fetched { status, .. } => {
                if status >= 400 {
                    errors += 1;
                }
                bar.inc(1);
            }
            CrawlEvent::Failed { .. } => {
                failed += 1;
                bar.inc(1);
            }
            CrawlEvent::Done => break,
            _ => {}
        }
        if errors + failed > 0 {
            bar.set_message(format!("{errors} 4xx/5xx, {failed} failed"));
        }
    }
    bar.finish_and_clear();
}
