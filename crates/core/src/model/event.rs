//! Progress events from the crawl engine.

use serde::Serialize;

/// What the engine tells its observers (progress bars, later live dashboards).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CrawlEvent {
    /// The crawl started (or resumed with `urls` known, `done` of them done).
    Started {
        /// The crawl's id in the store.
        crawl_id: i64,
        /// URLs already known.
        urls: u64,
        /// URLs already done.
        done: u64,
    },
    /// A new URL was admitted to the frontier.
    Queued {
        /// The URL.
        url: String,
    },
    /// A URL was fetched (whatever its status).
    Fetched {
        /// The URL.
        url: String,
        /// Its status.
        status: u16,
    },
    /// A URL failed to fetch.
    Failed {
        /// The URL.
        url: String,
        /// The failure kind id.
        kind: &'static str,
    },
    /// The crawl ended.
    Done,
}
