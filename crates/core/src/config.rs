//! The resolved crawl configuration the engine runs with.
//!
//! The binary merges defaults, `siteaudit.toml`, `SITEAUDIT_*` variables and flags, then
//! validates them into this struct. It is serialized and stored with every crawl so a
//! resumed crawl runs with exactly the settings it started with.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How robots.txt is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RobotsMode {
    /// Fetch robots.txt and do not fetch disallowed URLs (they are reported as blocked).
    #[default]
    Respect,
    /// Do not fetch robots.txt; crawl everything in scope.
    Ignore,
    /// Fetch robots.txt, crawl disallowed URLs anyway, and mark them as disallowed.
    Report,
}

impl std::str::FromStr for RobotsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "respect" => Ok(Self::Respect),
            "ignore" => Ok(Self::Ignore),
            "report" => Ok(Self::Report),
            other => Err(format!(
                "unknown robots mode {other:?} (expected respect, ignore or report)"
            )),
        }
    }
}

/// Everything the crawl engine needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlConfig {
    /// Where the crawl starts; the first one defines the site.
    pub start_urls: Vec<String>,
    /// Crawl subdomains of the start host's domain too.
    pub subdomains: bool,
    /// Only URLs matching at least one of these regexes are crawled (empty: all).
    pub include: Vec<String>,
    /// URLs matching any of these regexes are not crawled.
    pub exclude: Vec<String>,
    /// Check external links (one request each), without crawling them.
    pub check_external: bool,
    /// robots.txt handling.
    pub robots: RobotsMode,
    /// Read sitemaps (robots.txt `Sitemap:` lines and `/sitemap.xml`).
    pub sitemaps: bool,
    /// The most URLs of the site to fetch (0: no limit).
    pub max_pages: u64,
    /// The deepest link depth to follow from the start URL (`None`: no limit).
    pub max_depth: Option<u32>,
    /// Fetches in flight at once, all hosts together.
    pub concurrency: usize,
    /// Fetches in flight at once per host.
    pub per_host: usize,
    /// Requests per second per host (`None`: no limit beyond `per_host`).
    pub rate: Option<f64>,
    /// Total time allowed for one request, body included.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Retries after a transient failure (network error, 429, 502, 503, 504).
    pub retries: u32,
    /// The first retry waits this long; each later one twice as long.
    #[serde(with = "humantime_serde_compat")]
    pub retry_backoff: Duration,
    /// The longest `Retry-After` or crawl-delay the crawl will honour.
    #[serde(with = "humantime_serde_compat")]
    pub max_wait: Duration,
    /// The most bytes read off the wire for one body.
    pub max_body_bytes: u64,
    /// The most bytes one body may decompress to.
    pub max_decoded_bytes: u64,
    /// The most response headers accepted.
    pub max_headers: usize,
    /// The most redirect hops followed in one chain.
    pub max_redirects: u32,
    /// The longest URL admitted.
    pub max_url_length: usize,
    /// The `User-Agent` sent, also the agent robots.txt rules are matched for.
    pub user_agent: String,
    /// Extra request headers, `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// Re-probes of every URL that ended in a 5xx, a timeout or a connection failure,
    /// made after the crawl, spaced by `retry_backoff` doubling (0: none).
    #[serde(default = "three")]
    pub reprobe: u32,
    /// Adaptive throttling: lower a host's concurrency when it answers 5xx or 429,
    /// times out, or slows down, and raise it again slowly.
    #[serde(default = "yes")]
    pub adaptive: bool,
    /// The crawl this one re-checks (`siteaudit recheck`), if it is a recheck.
    #[serde(default)]
    pub recheck_of: Option<i64>,
    /// Probe each https host of the site once after the crawl: certificate
    /// chain, protocol versions, weak suites (about ten connections per host).
    #[serde(default = "yes")]
    pub tls_probe: bool,
    /// PEM files of extra trusted root certificates (a private CA), used by
    /// fetches and by the TLS probe's trust check.
    #[serde(default)]
    pub ca_certs: Vec<String>,
}

fn yes() -> bool {
    true
}

fn three() -> u32 {
    3
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            start_urls: Vec::new(),
            subdomains: false,
            include: Vec::new(),
            exclude: Vec::new(),
            check_external: true,
            robots: RobotsMode::Respect,
            sitemaps: true,
            max_pages: 0,
            max_depth: None,
            concurrency: 32,
            per_host: 8,
            rate: None,
            timeout: Duration::from_secs(30),
            retries: 2,
            retry_backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            max_body_bytes: 20 * 1024 * 1024,
            max_decoded_bytes: 50 * 1024 * 1024,
            max_headers: 100,
            max_redirects: 10,
            max_url_length: 2048,
            user_agent: concat!(
                "siteaudit/",
                env!("CARGO_PKG_VERSION"),
                " (+https://example.invalid/siteaudit)"
            )
            .to_string(),
            headers: Vec::new(),
            reprobe: 3,
            recheck_of: None,
            adaptive: true,
            tls_probe: true,
            ca_certs: Vec::new(),
        }
    }
}

/// Durations as human strings ("30s", "500ms") in stored configs.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}
