//! `siteaudit`: crawl a website and report, page by page, what is broken and why.
//!
//! The binary is thin: flags and config files in, the library's reports out, exit codes
//! from `--fail-on`. Everything else lives in the `siteaudit` library.

mod commands;
mod exit;
mod output;
mod progress;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Exit, FailOn};
use crate::settings::Settings;

// mimalloc instead of glibc's malloc: the crawl allocates and frees small buffers on both
// cores all the time (bodies, URLs, facts, SQLite rows), where glibc's arenas cost CPU
// and hold freed memory. Measured back to back on the 100,000-page bench crawl:
// CPU 41-44 s -> 32-34 s, peak RSS 440-447 MB -> 381-399 MB, same report. Its v2 line
// (Cargo feature) returns freed pages to the OS after 10 ms where v3 waits a second: peak
// RSS 266-271 -> 242-247 MB on the same crawl, CPU the same within the noise. Built
// without transparent huge pages (Cargo feature `no_thp`: it does not ask the kernel for
// them; a kernel set to use them always still does): a huge page is resident whole
// however little of it is used. Whole bench crawls, three pairs: peak RSS 182-187 ->
// 170-174 MB, time within the noise (9.8-10.8 s either way).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options this binary runs with, unless the environment sets them already (a
/// user's own value is kept): a freed page is returned to the OS after mimalloc's
/// default 10 ms, but all of an ending thread's free pages at once
/// (`ABANDONED_PAGE_PURGE`) and a freed segment at once (`ARENA_PURGE_MULT=0`; by default
/// 10 times the page delay, done as the arena is used). A crawl frees its fetch buffers,
/// frontier and seen-set on the runtime's worker threads, which end before the audit;
/// their segments were then held beside it (RSS ~96-117 MB after a million-page crawl
/// against ~38 MB), and the crawl's audit peaked at 612,760 KB with mimalloc's defaults,
/// 583,864-623,264 KB with segments returned after 10 ms, 581,968-584,604 KB with these
/// options. It used to return every freed page at once (`PURGE_DELAY=0`, 577,372 KB),
/// but pages the crawl frees and soon uses again were then returned and faulted back
/// in: ~245,000 minor faults on the 100,000-page bench crawl against ~40,000, system
/// time 2.5-2.9 s against 1.8-2.1 s, and the run 7.9-10.9 s against 7.5-8.1 s (three
/// alternated pairs). mimalloc reads its options from the environment as the process
/// starts (setting one from code takes `unsafe`, which this workspace forbids), so the
/// process runs itself again once with them set.
const ALLOCATOR_OPTIONS: [(&str, &str); 2] = [
    ("MIMALLOC_ABANDONED_PAGE_PURGE", "1"),
    ("MIMALLOC_ARENA_PURGE_MULT", "0"),
];

/// Runs the process again with [`ALLOCATOR_OPTIONS`] set where the environment does not
/// set them; returns when they all are (or the exec failed: then with mimalloc's
/// defaults).
#[cfg(unix)]
fn allocator_options() {
    use std::os::unix::process::CommandExt;
    let unset: Vec<_> = ALLOCATOR_OPTIONS
        .into_iter()
        .filter(|(var, _)| std::env::var_os(var).is_none())
        .collect();
    if unset.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    // Returns only when the exec failed: run on with mimalloc's defaults.
    let _ = cmd.args(args).envs(unset).exec();
}

/// Elsewhere the process runs with mimalloc's defaults.
#[cfg(not(unix))]
fn allocator_options() {}

/// Crawl a website and report every broken page, with the pages that link to it.
#[derive(Debug, Parser)]
#[command(name = "siteaudit", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Crawl a site from a start URL and report every URL's status.
    Crawl(CrawlArgs),
    /// Check single URLs: status, redirect chain, timings, failure kind.
    Check(CheckArgs),
    /// List the crawls kept in the database.
    Crawls(CrawlsArgs),
    /// Render the report of a stored crawl again (checks re-run, nothing fetched).
    Report(ReportArgs),
    /// Re-run the audit checks on a stored crawl without fetching (same as `report`).
    Audit(ReportArgs),
    /// List the implemented audit checks.
    Checks(ChecksArgs),
    /// Compare two crawls: URLs added and removed, status changes, broken URLs and
    /// findings new and resolved, score change (default: the last two of one site).
    Diff(DiffArgs),
    /// Fetch again only the URLs that failed in a crawl (default: the latest), store the
    /// answers as a new crawl linked to it, and say what is fixed and what still fails.
    Recheck(RecheckArgs),
    /// Read the server's own access and error logs (nginx; plain or .gz) and explain every 5xx.
    Logs(LogsArgs),
}

#[derive(Debug, clap::Args)]
struct LogsArgs {
    /// Access and error log files, plain or .gz (each auto-detected): nginx/Apache
    /// access (combined, upstream fields, JSON), HAProxy httplog (raw or syslog),
    /// nginx/Apache/php-fpm error logs, HAProxy stderr.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The access-log format as an nginx `log_format` string (or `combined`),
    /// for access logs auto-detection does not read.
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Compare with a stored crawl (an id, or `latest`): which failing URLs the
    /// logs explain and which log errors the crawl never saw.
    #[arg(long, value_name = "CRAWL")]
    crawl: Option<String>,
    /// Example requests kept per cause in the report (0: every failing request).
    #[arg(long, default_value_t = 50, value_name = "N")]
    examples: usize,
    /// Output format: text, json, csv (one row per failing request) or markdown.
    #[arg(long, short = 'f', default_value = "text", value_name = "FORMAT")]
    format: siteaudit::report::Format,
    /// Write the result to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when the logs hold: `5xx` (default: 5xx answers and bodies cut short
    /// behind a 2xx), `any` (4xx too) or `none`.
    #[arg(long, default_value = "5xx", value_name = "WHAT")]
    fail_on: String,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, clap::Args)]
struct RecheckArgs {
    /// The crawl to re-check (default: the latest that is not itself a recheck).
    #[arg(value_name = "CRAWL")]
    id: Option<i64>,
    /// Also fetch the pages that linked to the failing URLs, to see whether the links are gone.
    #[arg(long)]
    with_referrers: bool,
    /// Output format: text or json.
    #[arg(long, short = 'f', default_value = "text", value_name = "FORMAT")]
    format: siteaudit::report::Format,
    /// Write the result to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a URL that still fails matches these selectors (as for `report`).
    #[arg(
        long,
        env = "SITEAUDIT_FAIL_ON",
        default_value = "internal",
        value_name = "SELECTORS"
    )]
    fail_on: FailOn,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// The earlier crawl (default: the newest finished crawl of B's start URL before B).
    #[arg(value_name = "A")]
    a: Option<i64>,
    /// The later crawl (default: the latest crawl).
    #[arg(value_name = "B")]
    b: Option<i64>,
    /// Output format: text, json or markdown.
    #[arg(long, short = 'f', default_value = "text", value_name = "FORMAT")]
    format: siteaudit::report::Format,
    /// Write the diff to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when something new in B matches these selectors (as for `report`).
    #[arg(
        long,
        env = "SITEAUDIT_FAIL_ON",
        default_value = "internal",
        value_name = "SELECTORS"
    )]
    fail_on: FailOn,
    /// Do not run this check (repeatable; adds to `disable_checks` in siteaudit.toml).
    #[arg(long = "disable-check", value_name = "ID")]
    disable_checks: Vec<String>,
    /// Config file (default: ./siteaudit.toml when it exists).
    #[arg(long, env = "SITEAUDIT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, clap::Args)]
struct ChecksArgs {
    /// Output format: text, json or csv.
    #[arg(long, short = 'f', default_value = "text", value_name = "FORMAT")]
    format: siteaudit::report::Format,
}

/// Where the report goes and what fails the run.
#[derive(Debug, clap::Args)]
struct OutputArgs {
    /// Report format: text, json, jsonl, csv, html, junit, sarif or markdown.
    #[arg(
        long,
        short = 'f',
        env = "SITEAUDIT_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    format: siteaudit::report::Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// With --format csv: write urls.csv, links.csv, redirects.csv and findings.csv into DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    output_dir: Option<PathBuf>,
    /// Exit 1 when a problem matches: none, any, internal, external, 4xx, 5xx, a status
    /// code, or a failure kind (comma-separated).
    #[arg(
        long,
        env = "SITEAUDIT_FAIL_ON",
        default_value = "internal",
        value_name = "SELECTORS"
    )]
    fail_on: FailOn,
    /// Only problems and findings that are not in this earlier crawl (an id in the
    /// database, or a JSON report file) count for --fail-on.
    #[arg(long, env = "SITEAUDIT_BASELINE", value_name = "CRAWL_OR_JSON")]
    baseline: Option<String>,
    /// No progress bar and no notes on stderr; only the report and errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

impl OutputArgs {
    /// What the report must hold: every URL, link and redirect for the formats that list
    /// them; every finding for those and whenever a baseline compares them one by one.
    fn detail(&self) -> siteaudit::report::Detail {
        let mut detail = siteaudit::report::Detail::of(self.format);
        if self.output_dir.is_some() {
            detail = siteaudit::report::Detail::FULL;
        }
        detail.every_finding |= self.baseline.is_some();
        detail
    }
}

/// The database.
#[derive(Debug, clap::Args)]
struct DbArgs {
    /// The SQLite database file (default: $XDG_DATA_HOME/siteaudit/siteaudit.db).
    #[arg(long, env = "SITEAUDIT_DB", value_name = "PATH")]
    db: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CrawlArgs {
    /// The start URL (not needed with --resume).
    #[arg(value_name = "URL", required_unless_present = "resume")]
    url: Option<String>,
    /// Resume an interrupted crawl: the given id, or the latest unfinished one.
    #[arg(long, num_args = 0..=1, value_name = "ID")]
    resume: Option<Option<i64>>,
    /// Config file (default: ./siteaudit.toml when it exists).
    #[arg(long, env = "SITEAUDIT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not run the audit checks (status report only).
    #[arg(long)]
    no_audit: bool,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// URLs to check; read from standard input (one per line) when none or "-" is given.
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// Config file (default: ./siteaudit.toml when it exists).
    #[arg(long, env = "SITEAUDIT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Debug, clap::Args)]
struct CrawlsArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Output format: text or json.
    #[arg(long, short = 'f', default_value = "text", value_name = "FORMAT")]
    format: siteaudit::report::Format,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The crawl id (default: the latest).
    #[arg(value_name = "ID")]
    id: Option<i64>,
    /// Do not run the audit checks.
    #[arg(long)]
    no_audit: bool,
    /// Do not run this check (repeatable; adds to `disable_checks` in siteaudit.toml).
    #[arg(long = "disable-check", value_name = "ID")]
    disable_checks: Vec<String>,
    /// Config file (default: ./siteaudit.toml when it exists).
    #[arg(long, env = "SITEAUDIT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    out: OutputArgs,
}

fn main() -> ExitCode {
    allocator_options();
    let cli = Cli::parse();
    let quiet = match &cli.command {
        Command::Crawl(a) => a.out.quiet,
        Command::Check(a) => a.out.quiet,
        Command::Report(a) | Command::Audit(a) => a.out.quiet,
        Command::Crawls(_)
        | Command::Checks(_)
        | Command::Diff(_)
        | Command::Recheck(_)
        | Command::Logs(_) => false,
    };
    init_logging(quiet);
    tracing::debug!(
        abandoned_page_purge = ?std::env::var_os("MIMALLOC_ABANDONED_PAGE_PURGE"),
        arena_purge_mult = ?std::env::var_os("MIMALLOC_ARENA_PURGE_MULT"),
        purge_delay = ?std::env::var_os("MIMALLOC_PURGE_DELAY"),
        "allocator options"
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("siteaudit: cannot start the async runtime: {e}");
            return Exit::NoStart.into();
        }
    };
    let result = match cli.command {
        Command::Crawl(a) => {
            let crawled = runtime.block_on(commands::crawl::run(a));
            // The workers exit before the audit, so it reuses what they held.
            drop(runtime);
            crawled.and_then(commands::crawl::finish)
        }
        Command::Check(a) => runtime.block_on(commands::check::run(a)),
        Command::Crawls(a) => runtime.block_on(async { commands::crawls::run(a) }),
        Command::Report(a) | Command::Audit(a) => {
            runtime.block_on(async { commands::report::run(a) })
        }
        Command::Checks(a) => runtime.block_on(async { commands::checks::run(a) }),
        Command::Diff(a) => runtime.block_on(async { commands::diff::run(a) }),
        Command::Recheck(a) => runtime.block_on(commands::recheck::run(a)),
        Command::Logs(a) => runtime.block_on(async { commands::logs::run(a) }),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(f) if output::is_broken_pipe(&f.error) => Exit::Clean.into(),
        Err(f) => {
            eprintln!("siteaudit: {:#}", f.error);
            f.exit.into()
        }
    }
}

fn init_logging(quiet: bool) {
    let default = if quiet { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SITEAUDIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
