//! The server's own logs: nginx and Apache access logs (combined, upstream
//! fields, JSON, `--log-format`), HAProxy httplog (raw or syslog), and the
//! error logs of nginx, Apache and php-fpm, read in one streaming pass; each
//! failing request joined to its error-log lines and classified into the cause
//! categories of ../shared/DIAGNOSIS.md.

pub mod access;
pub mod classify;
pub mod correlate;
pub mod error_log;
pub mod haproxy;
pub mod join;
pub mod lines;
pub mod log_format;
mod render;
mod report;

pub use report::{
    ClientViews, LogError, LogProblem, LogReport, Minute, Options, ServerEvent, Spike, analyze,
    analyze_with,
};

#[cfg(test)]
mod tests;
