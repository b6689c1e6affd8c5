//! URL normalization, fingerprints and the crawl's scope rules.

use regex::RegexSet;
use url::Url;

use crate::config::CrawlConfig;

/// Why a string is not a crawlable URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The WHATWG parser rejected it.
    #[error("cannot parse URL: {0}")]
    Parse(String),
    /// Not http or https.
    #[error("unsupported scheme {0:?} (only http and https are crawled)")]
    Scheme(String),
    /// No host.
    #[error("URL has no host")]
    NoHost,
    /// Longer than the configured maximum.
    #[error("URL is {len} bytes long, over the {max}-byte limit")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Parses and normalizes an absolute URL: WHATWG parsing (which lowercases the host,
/// drops default ports and normalizes percent-encoding and dot segments), fragment removed.
pub fn normalize(input: &str) -> Result<Url, UrlError> {
    let url = Url::parse(input.trim()).map_err(|e| UrlError::Parse(e.to_string()))?;
    finish(url)
}

/// Resolves `href` against `base` and normalizes the result.
pub fn resolve(base: &Url, href: &str) -> Result<Url, UrlError> {
    resolve_now(base, href.trim())
}

/// [`resolve`] for the links of crawled pages. The same navigation links are on every
/// page of a site: each thread remembers what the hrefs that do not depend on the
/// base's path resolved to (a clone, ~150 instructions, where resolving took ~1,700).
/// Not for hrefs seldom seen twice (a page's own canonical): remembering costs more.
pub fn resolve_link(base: &Url, href: &str) -> Result<Url, UrlError> {
    let href = href.trim();
    if !base_path_free(href) {
        return resolve_now(base, href);
    }
    RESOLVED.with_borrow_mut(|seen| {
        let origin = &base[..url::Position::BeforePath];
        if seen.origin != origin {
            seen.urls.clear();
            seen.origin.clear();
            seen.origin.push_str(origin);
        }
        if let Some(url) = seen.urls.get(href) {
            return Ok(url.clone());
        }
        let resolved = resolve_now(base, href);
        if let Ok(url) = &resolved {
            if seen.urls.len() >= RESOLVED_KEPT {
                seen.urls.clear();
            }
            seen.urls.insert(href.into(), url.clone());
        }
        resolved
    })
}

/// Hrefs a thread remembers at most before it starts again.
const RESOLVED_KEPT: usize = 4096;

/// What hrefs resolved to against bases of one origin (see [`resolve_link`]).
#[derive(Default)]
struct Resolved {
    /// The bases' scheme, credentials, host and port.
    origin: String,
    urls: rustc_hash::FxHashMap<Box<str>, Url>,
}

thread_local! {
    static RESOLVED: std::cell::RefCell<Resolved> = std::cell::RefCell::default();
}

/// Whether `href` (trimmed) resolves the same against every base of one origin: an
/// absolute http(s) URL, or a path from the root. Left to the parser: `//host` and
/// `/\\host` (another host, rare in links) and a tab or line break after the first
/// slash (the parser drops those, making it `//`).
fn base_path_free(href: &str) -> bool {
    match href.as_bytes() {
        [b'/'] => true,
        [b'/', next, ..] => !matches!(next, b'/' | b'\\' | b'\t' | b'\n' | b'\r'),
        _ => href.starts_with("http://") || href.starts_with("https://"),
    }
}

/// [`resolve`] of a trimmed `href`.
fn resolve_now(base: &Url, href: &str) -> Result<Url, UrlError> {
    let url = base
        .join(href)
        .map_err(|e| UrlError::Parse(e.to_string()))?;
    finish(url)
}

fn finish(mut url: Url) -> Result<Url, UrlError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlError::Scheme(other.to_string())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    url.set_fragment(None);
    // A lone trailing dot on the host names the same host.
    if let Some(host) = url.host_str()
        && host.ends_with('.')
        && host.len() > 1
    {
        let trimmed = host.trim_end_matches('.').to_string();
        let _ = url.set_host(Some(&trimmed));
    }
    Ok(url)
}

/// The stable 64-bit fingerprint (XXH3-64) of a normalized URL, used for deduplication.
pub fn fingerprint(url: &Url) -> u64 {
    xxhash_rust::xxh3::xxh3_64(url.as_str().as_bytes())
}

/// The `host[:port]` key politeness and robots are tracked by.
pub fn host_key(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or("")),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")),
    }
}

/// `host[:port]`, the port only when it is not the scheme's default: `http://h/` and
/// `https://h/` are one site, `h:8080` is another.
fn site_key(url: &Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

/// Where a URL stands relative to the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeVerdict {
    /// Part of the site: crawled.
    Internal,
    /// Another site: checked once, not crawled.
    External,
    /// Part of the site but excluded by include/exclude patterns: not fetched.
    Excluded,
}

/// The scope rules of one crawl.
#[derive(Debug, Clone)]
pub struct Scope {
    hosts: Vec<String>,
    domain: Option<String>,
    include: Option<RegexSet>,
    exclude: Option<RegexSet>,
}

/// A bad include/exclude pattern.
#[derive(Debug, thiserror::Error)]
#[error("invalid {which} pattern: {source}")]
pub struct PatternError {
    which: &'static str,
    #[source]
    source: regex::Error,
}

impl Scope {
    /// Builds the scope from the start URLs and the include/exclude patterns.
    pub fn new(config: &CrawlConfig, starts: &[Url]) -> Result<Self, PatternError> {
        let hosts: Vec<String> = starts.iter().map(site_key).collect();
        let domain = config.subdomains.then(|| {
            let first = starts
                .first()
                .and_then(|u| u.host_str())
                .unwrap_or_default();
            first.strip_prefix("www.").unwrap_or(first).to_string()
        });
        let set = |which, pats: &[String]| {
            if pats.is_empty() {
                Ok(None)
            } else {
                RegexSet::new(pats)
                    .map(Some)
                    .map_err(|source| PatternError { which, source })
            }
        };
        Ok(Self {
            hosts,
            domain,
            include: set("include", &config.include)?,
            exclude: set("exclude", &config.exclude)?,
        })
    }

    /// Adds the host of `url` to the site: the start URL redirected there (`http` →
    /// `https`, `example.com` → `www.example.com`), so the site lives on it.
    pub fn add_host(&mut self, url: &Url) {
        if !self.is_site(url) {
            self.hosts.push(site_key(url));
        }
    }

    /// Whether the URL's host (and port, when not the scheme's default) belongs to the
    /// site. With `subdomains`, any port of any host under the domain does.
    pub fn is_site(&self, url: &Url) -> bool {
        let key = site_key(url);
        if self.hosts.contains(&key) {
            return true;
        }
        let host = url.host_str().unwrap_or_default();
        match &self.domain {
            Some(d) => host == d || host.ends_with(&format!(".{d}")),
            None => false,
        }
    }

    /// Classifies a normalized URL.
    pub fn classify(&self, url: &Url) -> ScopeVerdict {
        if !self.is_site(url) {
            return ScopeVerdict::External;
        }
        let s = url.as_str();
        if let Some(inc) = &self.include
            && !inc.is_match(s)
        {
            return ScopeVerdict::Excluded;
        }
        if let Some(exc) = &self.exclude
            && exc.is_match(s)
        {
            return ScopeVerdict::Excluded;
        }
        ScopeVerdict::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_spellings_to_one_url() {
        let a = normalize("HTTP://Example.COM:80/a/./b/../c?q=1#frag").unwrap();
        let b = normalize("http://example.com/a/c?q=1").unwrap();
        assert_eq!(a, b);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(
            normalize("https://example.com:443/").unwrap().as_str(),
            "https://example.com/"
        );
        assert_eq!(
            normalize("http://example.com./x").unwrap().as_str(),
            "http://example.com/x"
        );
    }

    #[test]
    fn percent_encoding_is_normalized() {
        let a = normalize("http://example.com/caf\u{e9} x").unwrap();
        assert_eq!(a.as_str(), "http://example.com/caf%C3%A9%20x");
    }

    #[test]
    fn rejects_what_cannot_be_crawled() {
        assert!(matches!(
            normalize("mailto:a@b.c"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(normalize("not a url"), Err(UrlError::Parse(_))));
        let base = normalize("http://example.com/dir/page").unwrap();
        assert!(matches!(
            resolve(&base, "javascript:void(0)"),
            Err(UrlError::Scheme(_))
        ));
        assert_eq!(
            resolve(&base, "../other#x").unwrap().as_str(),
            "http://example.com/other"
        );
        assert_eq!(
            resolve(&base, "//cdn.example.net/a.js").unwrap().as_str(),
            "http://cdn.example.net/a.js"
        );
    }

    /// What a thread remembers resolves as resolving afresh would, whatever bases of
    /// which origins come in between.
    #[test]
    fn remembered_resolutions_are_what_resolving_gives() {
        let bases = [
            "http://example.com/dir/page?q",
            "http://example.com/other/",
            "https://example.com/dir/page",
            "http://user:pw@example.com/dir/",
            "http://example.com:8080/dir/",
            "http://www.example.com/",
            "ftp://example.com/dir/",
        ];
        let hrefs = [
            "/",
            "/a?b#c",
            " /spaced ",
            "/a b/caf\u{e9}",
            "/a\\b",
            "//cdn.example.net/x",
            "/\\evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example/x",
            "http://other.example/../x#f",
            "https://other.example.:443/x",
            "http:relative",
            "HTTP://UPPER.example/",
            "http://",
            "relative/path",
            "?query",
        ];
        let fresh = |base: &Url, href: &str| resolve_now(base, href.trim());
        for round in 0..3 {
            for i in 0..bases.len() {
                // Bases of other origins in between, each round in another order.
                let base = Url::parse(base_at(&bases, i, round)).unwrap();
                for href in hrefs {
                    assert_eq!(
                        resolve_link(&base, href),
                        fresh(&base, href),
                        "{base} + {href:?}"
                    );
                }
            }
        }
        let base = Url::parse(bases[0]).unwrap();
        assert_eq!(
            resolve_link(&base, "/x").unwrap().as_str(),
            "http://example.com/x"
        );
        let other = Url::parse(bases[3]).unwrap();
        assert_eq!(
            resolve_link(&other, "/x").unwrap().as_str(),
            "http://user:pw@example.com/x"
        );
        assert!(!base_path_free("//host/x") && !base_path_free("/\\host"));
        assert!(base_path_free("/x") && base_path_free("https://a/"));
    }

    /// The `i`th base of round `round`: each round visits them in another order.
    fn base_at<'a>(bases: &[&'a str], i: usize, round: usize) -> &'a str {
        bases[(i * (2 * round + 1) + round) % bases.len()]
    }

    #[test]
    fn scope_by_host_subdomain_and_patterns() {
        let start = normalize("https://www.example.com/").unwrap();
        let cfg = CrawlConfig {
            exclude: vec!["/private/".into()],
            ..CrawlConfig::default()
        };
        let scope = Scope::new(&cfg, std::slice::from_ref(&start)).unwrap();
        let c = |u: &str| scope.classify(&normalize(u).unwrap());
        assert_eq!(c("https://www.example.com/x"), ScopeVerdict::Internal);
        assert_eq!(c("https://blog.example.com/x"), ScopeVerdict::External);
        assert_eq!(
            c("https://www.example.com/private/x"),
            ScopeVerdict::Excluded
        );

        let cfg = CrawlConfig {
            subdomains: true,
            include: vec!["^https://[^/]+/docs".into()],
            ..CrawlConfig::default()
        };
        let scope = Scope::new(&cfg, &[start]).unwrap();
        let c = |u: &str| scope.classify(&normalize(u).unwrap());
        assert_eq!(c("https://blog.example.com/docs/a"), ScopeVerdict::Internal);
        assert_eq!(c("https://blog.example.com/other"), ScopeVerdict::Excluded);
        assert_eq!(c("https://example.org/docs"), ScopeVerdict::External);
    }

    #[test]
    fn bad_pattern_is_a_clear_error() {
        let cfg = CrawlConfig {
            include: vec!["(".into()],
            ..CrawlConfig::default()
        };
        let err = Scope::new(&cfg, &[]).unwrap_err();
        assert!(err.to_string().starts_with("invalid include pattern"));
    }
}
