//! Integration tests: the real `siteaudit` binary against in-process servers on
#![allow(missing_docs)]
//! 127.0.0.1 (see `siteaudit-testkit`). One test binary, one module per feature.

mod audit;
mod browser;
mod check;
mod config;
mod crawl;
mod diagnose;
mod limits;
mod logs;
mod misbehaving;
mod nginx;
mod politeness;
mod reports;
mod resume;
mod robots_sitemaps;
mod tls;
mod util;
