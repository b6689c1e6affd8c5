//! The crawl settings as the user gives them: one struct that is both the flags and the
//! `siteaudit.toml` schema. Every field is optional so layers can be merged:
//! defaults ← `siteaudit.toml` ← `SITEAUDIT_*` variables ← flags (clap reads the
//! variables and lets flags win over them; the file sits under both).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;
use siteaudit::{CrawlConfig, RobotsMode};

/// Crawl and request settings (flags, `siteaudit.toml`, `SITEAUDIT_*`).
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// Treat every subdomain of the start host's domain as part of the site.
    #[arg(long, env = "SITEAUDIT_SUBDOMAINS", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) subdomains: Option<bool>,
    /// Only crawl internal URLs matching this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    #[serde(default)]
    pub(crate) include: Vec<String>,
    /// Never fetch internal URLs matching this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    #[serde(default)]
    pub(crate) exclude: Vec<String>,
    /// Check links to other sites (one request each, never crawled). `--no-external` turns it off.
    #[arg(skip)]
    pub(crate) check_external: Option<bool>,
    /// Do not check links to other sites.
    #[arg(long, env = "SITEAUDIT_NO_EXTERNAL")]
    #[serde(skip)]
    pub(crate) no_external: bool,
    /// robots.txt: respect (default), ignore, or report (crawl disallowed URLs and flag them).
    #[arg(long, env = "SITEAUDIT_ROBOTS", value_name = "MODE")]
    pub(crate) robots: Option<RobotsMode>,
    /// Read sitemaps (robots.txt `Sitemap:` lines and /sitemap.xml). `--no-sitemaps` turns it off.
    #[arg(skip)]
    pub(crate) sitemaps: Option<bool>,
    /// Do not read sitemaps.
    #[arg(long, env = "SITEAUDIT_NO_SITEMAPS")]
    #[serde(skip)]
    pub(crate) no_sitemaps: bool,
    /// Stop admitting internal URLs after this many (0: no limit).
    #[arg(long, env = "SITEAUDIT_MAX_PAGES", value_name = "N")]
    pub(crate) max_pages: Option<u64>,
    /// Follow links at most this many clicks from the start URL.
    #[arg(long, env = "SITEAUDIT_DEPTH", value_name = "N")]
    pub(crate) depth: Option<u32>,
    /// Requests in flight at once, all hosts together.
    #[arg(long, env = "SITEAUDIT_CONCURRENCY", value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Requests in flight at once to one host.
    #[arg(long, env = "SITEAUDIT_PER_HOST", value_name = "N")]
    pub(crate) per_host: Option<usize>,
    /// Requests per second to one host (robots.txt crawl-delay can slow it further).
    #[arg(long, env = "SITEAUDIT_RATE", value_name = "PER_SECOND")]
    pub(crate) rate: Option<f64>,
    /// Time limit for one request, e.g. 30s, 1500ms.
    #[arg(long, env = "SITEAUDIT_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) timeout: Option<Duration>,
    /// Retries of transient failures (network errors, timeouts, 429, 502, 503, 504).
    #[arg(long, env = "SITEAUDIT_RETRIES", value_name = "N")]
    pub(crate) retries: Option<u32>,
    /// First wait before a retry; doubles each time. A Retry-After header replaces it.
    #[arg(long, env = "SITEAUDIT_RETRY_BACKOFF", value_parser = parse_duration, value_name = "DURATION")]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) retry_backoff: Option<Duration>,
    /// The longest wait honoured (Retry-After beyond it: not retried).
    #[arg(long, env = "SITEAUDIT_MAX_WAIT", value_parser = parse_duration, value_name = "DURATION")]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) max_wait: Option<Duration>,
    /// Cap on body bytes read from the wire, e.g. 20MiB.
    #[arg(long, env = "SITEAUDIT_MAX_BODY_BYTES", value_parser = parse_size, value_name = "SIZE")]
    #[serde(default, deserialize_with = "de_size")]
    pub(crate) max_body_bytes: Option<u64>,
    /// Cap on decompressed body bytes (gzip bombs), e.g. 50MiB.
    #[arg(long, env = "SITEAUDIT_MAX_DECODED_BYTES", value_parser = parse_size, value_name = "SIZE")]
    #[serde(default, deserialize_with = "de_size")]
    pub(crate) max_decoded_bytes: Option<u64>,
    /// Cap on response header lines.
    #[arg(long, env = "SITEAUDIT_MAX_HEADERS", value_name = "N")]
    pub(crate) max_headers: Option<usize>,
    /// Redirect hops followed before a chain counts as too long.
    #[arg(long, env = "SITEAUDIT_MAX_REDIRECTS", value_name = "N")]
    pub(crate) max_redirects: Option<u32>,
    /// Longest URL crawled, in bytes; longer links are reported as invalid.
    #[arg(long, env = "SITEAUDIT_MAX_URL_LENGTH", value_name = "BYTES")]
    pub(crate) max_url_length: Option<usize>,
    /// The User-Agent sent (and matched against robots.txt).
    #[arg(long, env = "SITEAUDIT_USER_AGENT", value_name = "UA")]
    pub(crate) user_agent: Option<String>,
    /// An extra request header, "Name: value" (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    #[serde(default, rename = "headers")]
    pub(crate) headers: Vec<String>,
    /// Re-probe every URL that ended in a 5xx, timeout or connection failure N times
    /// after the crawl (spaced by --retry-backoff, doubling) to tell persistent from
    /// intermittent failures (0: off).
    #[arg(long, env = "SITEAUDIT_REPROBE", value_name = "N")]
    pub(crate) reprobe: Option<u32>,
    /// Adaptive throttling (on by default). `--no-adaptive` turns it off.
    #[arg(skip)]
    pub(crate) adaptive: Option<bool>,
    /// Keep --per-host fixed even when a host answers 5xx/429, times out or slows down.
    #[arg(long, env = "SITEAUDIT_NO_ADAPTIVE")]
    #[serde(skip)]
    pub(crate) no_adaptive: bool,
    /// Probe each https host's TLS once (certificate chain, versions, weak suites). `--no-tls-probe` turns it off.
    #[arg(skip)]
    pub(crate) tls_probe: Option<bool>,
    /// Do not probe TLS (about ten extra connections per https host).
    #[arg(long, env = "SITEAUDIT_NO_TLS_PROBE")]
    #[serde(skip)]
    pub(crate) no_tls_probe: bool,
    /// Also trust the root certificates in this PEM file (a private CA; repeatable).
    #[arg(long = "ca-cert", value_name = "PEM")]
    #[serde(default)]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Do not run this audit check (id from `siteaudit checks`; repeatable).
    #[arg(long = "disable-check", value_name = "ID")]
    #[serde(default)]
    pub(crate) disable_checks: Vec<String>,
    /// Check thresholds (`[thresholds]` in siteaudit.toml only).
    #[arg(skip)]
    pub(crate) thresholds: Option<siteaudit::checks::Thresholds>,
}

impl Settings {
    /// `self` under `over`: options from `over` win; lists are concatenated.
    pub(crate) fn merge(self, over: Settings) -> Settings {
        let cat = |mut a: Vec<String>, b: Vec<String>| {
            a.extend(b);
            a
        };
        Settings {
            subdomains: over.subdomains.or(self.subdomains),
            include: cat(self.include, over.include),
            exclude: cat(self.exclude, over.exclude),
            check_external: if over.no_external {
                Some(false)
            } else {
                over.check_external.or(self.check_external)
            },
            no_external: false,
            robots: over.robots.or(self.robots),
            sitemaps: if over.no_sitemaps {
                Some(false)
            } else {
                over.sitemaps.or(self.sitemaps)
            },
            no_sitemaps: false,
            max_pages: over.max_pages.or(self.max_pages),
            depth: over.depth.or(self.depth),
            concurrency: over.concurrency.or(self.concurrency),
            per_host: over.per_host.or(self.per_host),
            rate: over.rate.or(self.rate),
            timeout: over.timeout.or(self.timeout),
            retries: over.retries.or(self.retries),
            retry_backoff: over.retry_backoff.or(self.retry_backoff),
            max_wait: over.max_wait.or(self.max_wait),
            max_body_bytes: over.max_body_bytes.or(self.max_body_bytes),
            max_decoded_bytes: over.max_decoded_bytes.or(self.max_decoded_bytes),
            max_headers: over.max_headers.or(self.max_headers),
            max_redirects: over.max_redirects.or(self.max_redirects),
            max_url_length: over.max_url_length.or(self.max_url_length),
            user_agent: over.user_agent.or(self.user_agent),
            headers: cat(self.headers, over.headers),
            reprobe: over.reprobe.or(self.reprobe),
            adaptive: if over.no_adaptive {
                Some(false)
            } else {
                over.adaptive.or(self.adaptive)
            },
            no_adaptive: false,
            tls_probe: if over.no_tls_probe {
                Some(false)
            } else {
                over.tls_probe.or(self.tls_probe)
            },
            no_tls_probe: false,
            ca_certs: [self.ca_certs, over.ca_certs].concat(),
            disable_checks: cat(self.disable_checks, over.disable_checks),
            thresholds: over.thresholds.or(self.thresholds),
        }
    }

    /// The audit settings; unknown check ids are a usage error.
    pub(crate) fn audit_config(&self) -> anyhow::Result<siteaudit::checks::AuditConfig> {
        let cfg = siteaudit::checks::AuditConfig {
            disabled: self.disable_checks.iter().cloned().collect(),
            thresholds: self.thresholds.clone().unwrap_or_default(),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Validates the merged settings into the engine's configuration.
    pub(crate) fn resolve(self, start_urls: Vec<String>) -> anyhow::Result<CrawlConfig> {
        let d = CrawlConfig::default();
        let positive = |name: &str, v: Option<usize>, default: usize| -> anyhow::Result<usize> {
            match v {
                Some(0) => bail!("--{name} must be at least 1"),
                Some(n) => Ok(n),
                None => Ok(default),
            }
        };
        if let Some(r) = self.rate
            && !(r.is_finite() && r > 0.0)
        {
            bail!("--rate must be a positive number of requests per second, not {r}");
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            bail!("--timeout must be longer than zero");
        }
        for (name, pats) in [("include", &self.include), ("exclude", &self.exclude)] {
            for p in pats {
                regex_syntax_check(p).with_context(|| format!("invalid --{name} pattern {p:?}"))?;
            }
        }
        let headers = self
            .headers
            .iter()
            .map(|h| {
                let (k, v) = h
                    .split_once(':')
                    .with_context(|| format!("invalid header {h:?}: expected \"Name: value\""))?;
                Ok((k.trim().to_string(), v.trim().to_string()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Absolute paths, so `crawl --resume` finds them from any directory.
        let ca_certs = self
            .ca_certs
            .iter()
            .map(|p| {
                std::fs::canonicalize(p)
                    .with_context(|| format!("cannot read --ca-cert {}", p.display()))
                    .map(|p| p.display().to_string())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        siteaudit::fetch::load_ca_certs(&ca_certs)?;
        Ok(CrawlConfig {
            start_urls,
            subdomains: self.subdomains.unwrap_or(d.subdomains),
            include: self.include,
            exclude: self.exclude,
            check_external: self.check_external.unwrap_or(d.check_external),
            robots: self.robots.unwrap_or(d.robots),
            sitemaps: self.sitemaps.unwrap_or(d.sitemaps),
            max_pages: self.max_pages.unwrap_or(d.max_pages),
            max_depth: self.depth.or(d.max_depth),
            concurrency: positive("concurrency", self.concurrency, d.concurrency)?,
            per_host: positive("per-host", self.per_host, d.per_host)?,
            rate: self.rate,
            timeout: self.timeout.unwrap_or(d.timeout),
            retries: self.retries.unwrap_or(d.retries),
            retry_backoff: self.retry_backoff.unwrap_or(d.retry_backoff),
            max_wait: self.max_wait.unwrap_or(d.max_wait),
            max_body_bytes: self.max_body_bytes.unwrap_or(d.max_body_bytes),
            max_decoded_bytes: self.max_decoded_bytes.unwrap_or(d.max_decoded_bytes),
            max_headers: positive("max-headers", self.max_headers, d.max_headers)?,
            max_redirects: self.max_redirects.unwrap_or(d.max_redirects),
            max_url_length: positive("max-url-length", self.max_url_length, d.max_url_length)?,
            user_agent: self.user_agent.unwrap_or(d.user_agent),
            headers,
            reprobe: self.reprobe.unwrap_or(d.reprobe),
            recheck_of: None,
            adaptive: self.adaptive.unwrap_or(d.adaptive),
            tls_probe: self.tls_probe.unwrap_or(d.tls_probe),
            ca_certs,
        })
    }
}

/// Compiles a pattern once to report a bad one as a usage error before the crawl starts.
fn regex_syntax_check(p: &str) -> anyhow::Result<()> {
    siteaudit::url::Scope::new(
        &CrawlConfig {
            include: vec![p.to_string()],
            ..CrawlConfig::default()
        },
        &[],
    )?;
    Ok(())
}

/// The config file: `--config PATH` (must exist), else `./siteaudit.toml` if present.
pub(crate) fn load_file(explicit: Option<&Path>) -> anyhow::Result<Settings> {
    let path: PathBuf = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from("siteaudit.toml");
            if !p.exists() {
                return Ok(Settings::default());
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 30s, 1500ms, 2m)"))
}

/// Sizes: plain bytes or with a unit (k, KB, KiB, M, MB, MiB, G, GB, GiB; binary multiples).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?} (examples: 1048576, 512KiB, 20MiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Num(u64),
    Text(String),
}

fn de_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match SizeValue::deserialize(d)? {
        SizeValue::Num(n) => Ok(Some(n)),
        SizeValue::Text(s) => parse_size(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_layers() {
        assert_eq!(parse_size("20MiB"), Ok(20 << 20));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("12 parsecs").is_err());
        let file: Settings = toml::from_str(
            "concurrency = 4\ntimeout = \"5s\"\nexclude = [\"/private\"]\nmax_body_bytes = \"1MiB\"",
        )
        .unwrap();
        let flags = Settings {
            concurrency: Some(9),
            exclude: vec!["/tmp".into()],
            no_external: true,
            ..Settings::default()
        };
        let c = file.merge(flags).resolve(vec![]).unwrap();
        assert_eq!(c.concurrency, 9);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.exclude, vec!["/private", "/tmp"]);
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert!(!c.check_external);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = toml::from_str::<Settings>("concurency = 4").unwrap_err();
        assert!(e.to_string().contains("unknown field `concurency`"), "{e}");
    }
}
