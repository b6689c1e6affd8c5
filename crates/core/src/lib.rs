//! siteaudit: crawl a website and tell its owner, page by page, what is broken and why.
//!
//! The library does all the work; the `siteaudit` binary only parses flags and prints.
//! Data flows one way:
//!
//! ```text
//! frontier → fetch → extract → store → report
//! ```
//!
//! - [`crawl::Crawler`] ties the stages together.
//! - [`fetch::Fetcher`] makes requests and classifies failures ([`model::FailureKind`]).
//! - [`extract`] streams HTML into links and [`model::PageFacts`].
//! - [`store::Store`] is the only way anything touches persistence.
//! - [`report`] reads the store and renders text, JSON and CSV.

pub mod checks;
pub mod config;
pub mod crawl;
pub mod diagnose;
pub mod extract;
pub mod fetch;
mod frontier;
pub mod logs;
pub mod model;
pub mod recheck;
pub mod report;
pub mod robots;
pub mod sitemap;
pub mod store;
pub mod tls;
pub mod url;

pub use config::{CrawlConfig, RobotsMode};
