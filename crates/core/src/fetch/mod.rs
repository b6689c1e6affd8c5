//! Stage 2: one URL in, one [`Outcome`] out.
//!
//! Redirects are never followed by the HTTP client: the crawl engine follows them one hop
//! at a time so each hop goes through scope and robots, and [`Fetcher::follow`] does the
//! same for single-URL checks and external links. Bodies are decompressed here, not by
//! the client, so wire bytes and decoded bytes are both known and both capped.

mod body;
mod classify;
mod retry;

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

pub use body::BodyRead;
pub use classify::classify;
pub use retry::retry_delay;

use crate::config::CrawlConfig;
use crate::model::{Attempt, FailureKind, Outcome, RedirectHop, ResponseMeta, Timings};

/// Why the HTTP client could not be built (bad header in the config, TLS setup).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// A configured header name or value is not valid HTTP.
    #[error("invalid request header {name:?}: {reason}")]
    Header {
        /// The header name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A `--ca-cert` file cannot be read or holds no certificate.
    #[error("cannot use CA certificate file {path}: {reason}")]
    CaCert {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// The HTTP method of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: headers and body.
    Get,
    /// HEAD: headers only.
    Head,
}

/// Response headers kept with every URL: they identify servers, caches and gateways.
const KEPT_HEADERS: &[&str] = &[
    "refresh",
    "etag",
    "link",
    "content-language",
    "expires",
    "server",
    "via",
    "x-cache",
    "x-served-by",
    "x-powered-by",
    "cf-ray",
    "cf-cache-status",
    "cf-error-type",
    "cf-error-origin",
    "x-envoy-upstream-service-time",
    "x-timer",
    "x-amz-cf-id",
    "x-amz-cf-pop",
    "retry-after",
    "cache-control",
    "content-length",
    "last-modified",
    "x-robots-tag",
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "set-cookie",
    "x-aspnet-version",
    "x-generator",
];

/// Where each of [`KEPT_HEADERS`] is in it: a response's few header names are looked up
/// here, where looking each of the ~30 kept names up in the response cost ~8,700
/// instructions a response.
static KEPT_POSITION: std::sync::LazyLock<rustc_hash::FxHashMap<&'static str, usize>> =
    std::sync::LazyLock::new(|| {
        KEPT_HEADERS
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i))
            .collect()
    });

/// A response whose headers have arrived; the body is still on the wire.
#[derive(Debug)]
pub struct Started {
    response: reqwest::Response,
    meta: ResponseMeta,
    started: Instant,
    ttfb: Duration,
}

impl Started {
    /// What the headers said.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Reads the body under the caps, feeding decoded bytes to `sink`.
    pub async fn read_body(
        self,
        fetcher: &Fetcher,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> (ResponseMeta, Option<FailureKind>, Timings) {
        let Started {
            response,
            mut meta,
            started,
            ttfb,
        } = self;
        let read = body::read(
            response,
            meta.content_encoding.as_deref(),
            fetcher.max_body_bytes,
            fetcher.max_decoded_bytes,
            sink,
        )
        .await;
        meta.wire_bytes = read.wire_bytes;
        meta.body_bytes = read.decoded_bytes;
        let timings = Timings {
            ttfb_ms: ms(ttfb),
            total_ms: ms(started.elapsed()),
        };
        (meta, read.failure, timings)
    }

    /// Closes the response without reading the body.
    pub fn finish(self) -> (ResponseMeta, Timings) {
        let t = Timings {
            ttfb_ms: ms(self.ttfb),
            total_ms: ms(self.started.elapsed()),
        };
        (self.meta, t)
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// The HTTP client of one crawl, with its limits.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_body_bytes: u64,
    max_decoded_bytes: u64,
    max_redirects: u32,
    retries: u32,
    retry_backoff: Duration,
    max_wait: Duration,
}

impl Fetcher {
    /// Builds the client: no automatic redirects, no automatic decompression.
    pub fn new(config: &CrawlConfig) -> Result<Self, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br, zstd"),
        );
        for (name, value) in &config.headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| FetchError::Header {
                name: name.clone(),
                reason: e.to_string(),
            })?;
            let v = HeaderValue::from_str(value).map_err(|e| FetchError::Header {
                name: name.clone(),
                reason: e.to_string(),
            })?;
            headers.insert(n, v);
        }
        let mut builder = reqwest::Client::builder();
        for root in load_ca_certs(&config.ca_certs)? {
            let cert = reqwest::Certificate::from_der(&root).map_err(FetchError::Client)?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .user_agent(&config.user_agent)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .read_timeout(config.timeout)
            .pool_max_idle_per_host(config.per_host.max(1))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .http1_max_headers(config.max_headers.max(1))
            .build()
            .map_err(FetchError::Client)?;
        Ok(Self {
            client,
            timeout: config.timeout,
            max_body_bytes: config.max_body_bytes,
            max_decoded_bytes: config.max_decoded_bytes,
            max_redirects: config.max_redirects,
            retries: config.retries,
            retry_backoff: config.retry_backoff,
            max_wait: config.max_wait,
        })
    }

    /// Sends one request and waits for the response headers.
    pub async fn send(&self, url: &Url, method: Method) -> Result<Started, (FailureKind, Timings)> {
        let m = match method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
        };
        let started = Instant::now();
        let result = self
            .client
            .request(m, url.clone())
            .timeout(self.timeout)
            .send()
            .await;
        match result {
            Ok(response) => {
                let ttfb = started.elapsed();
                let meta = response_meta(url, &response);
                Ok(Started {
                    response,
                    meta,
                    started,
                    ttfb,
                })
            }
            Err(e) => {
                let t = ms(started.elapsed());
                Err((
                    classify(&e),
                    Timings {
                        ttfb_ms: t,
                        total_ms: t,
                    },
                ))
            }
        }
    }

    /// One attempt: send, then read (GET) or skip (HEAD) the body with no sink.
    pub async fn attempt(&self, url: &Url, method: Method) -> Outcome {
        match self.send(url, method).await {
            Err((kind, timings)) => Outcome {
                failure: Some(kind),
                timings,
                ..Outcome::default()
            },
            Ok(started) => {
                let is_redirect = started.meta.location.is_some();
                if method == Method::Head || is_redirect {
                    let (meta, timings) = started.finish();
                    Outcome {
                        response: Some(meta),
                        timings,
                        ..Outcome::default()
                    }
                } else {
                    let (meta, failure, timings) = started.read_body(self, &mut |_| {}).await;
                    Outcome {
                        response: Some(meta),
                        failure,
                        timings,
                        ..Outcome::default()
                    }
                }
            }
        }
    }

    /// Repeats [`Fetcher::attempt`] while the outcome is transient, waiting as
    /// [`retry_delay`] says. Every attempt is kept in the returned outcome.
    pub async fn attempt_with_retries(&self, url: &Url, method: Method) -> Outcome {
        let mut attempts = Vec::new();
        loop {
            let mut outcome = self.attempt(url, method).await;
            attempts.push(attempt_of(&outcome));
            let delay = retry_delay(
                &outcome,
                attempts.len() as u32,
                self.retries,
                self.retry_backoff,
                self.max_wait,
            );
            match delay {
                Some(d) => tokio::time::sleep(d).await,
                None => {
                    outcome.attempts = attempts;
                    return outcome;
                }
            }
        }
    }

    /// Checks a URL the way a link checker does: follows redirects hop by hop (each with
    /// retries), detects loops and over-long chains, and returns every hop and the final
    /// outcome. With `head_first`, HEAD is tried first and GET is used when the server
    /// refuses HEAD.
    pub async fn follow(&self, url: &Url, head_first: bool) -> (Vec<RedirectHop>, Outcome) {
        let mut hops: Vec<RedirectHop> = Vec::new();
        let mut current = url.clone();
        loop {
            let mut outcome = if head_first {
                let head = self.attempt_with_retries(&current, Method::Head).await;
                if head_refused(&head) {
                    let mut get = self.attempt_with_retries(&current, Method::Get).await;
                    let mut all = head.attempts;
                    all.append(&mut get.attempts);
                    get.attempts = all;
                    get
                } else {
                    head
                }
            } else {
                self.attempt_with_retries(&current, Method::Get).await
            };
            let location = outcome.response.as_ref().and_then(|r| r.location.clone());
            hops.push(RedirectHop {
                url: current.to_string(),
                status: outcome.status(),
                location: location.clone(),
            });
            let Some(next) = location else {
                return (hops, outcome);
            };
            let next = match crate::url::normalize(&next) {
                Ok(u) => u,
                Err(e) => {
                    outcome.failure = Some(FailureKind::InvalidUrl {
                        reason: format!("redirect target {next:?}: {e}"),
                    });
                    return (hops, outcome);
                }
            };
            if hops.iter().any(|h| h.url == next.as_str()) {
                outcome.failure = Some(FailureKind::RedirectLoop);
                return (hops, outcome);
            }
            if hops.len() as u32 > self.max_redirects {
                outcome.failure = Some(FailureKind::TooManyRedirects {
                    hops: hops.len() as u32,
                });
                return (hops, outcome);
            }
            current = next;
        }
    }
}

/// Whether a HEAD answer means "this server does not do HEAD": retry with GET.
fn head_refused(outcome: &Outcome) -> bool {
    matches!(
        (outcome.status(), &outcome.failure),
        (Some(400 | 403 | 405 | 406 | 501), _)
            | (
                None,
                Some(FailureKind::InvalidResponse { .. } | FailureKind::ConnectionReset)
            )
    )
}

/// The record of one attempt, for the attempts list.
pub fn attempt_of(outcome: &Outcome) -> Attempt {
    Attempt {
        status: outcome.status(),
        failure: outcome.failure.clone(),
        timings: outcome.timings,
    }
}

fn response_meta(url: &Url, response: &reqwest::Response) -> ResponseMeta {
    let h = response.headers();
    let text = |name: header::HeaderName| {
        h.get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
    };
    let status = response.status().as_u16();
    let location = if (300..400).contains(&status) {
        text(header::LOCATION).map(|loc| match url.join(&loc) {
            Ok(abs) => abs.to_string(),
            Err(_) => loc,
        })
    } else {
        None
    };
    let retry_after_s = text(header::RETRY_AFTER).and_then(|v| parse_retry_after(&v));
    // Repeated headers (Set-Cookie, a second Strict-Transport-Security) are kept, one
    // value per line.
    // In the order of KEPT_HEADERS.
    let mut kept: Vec<(usize, &header::HeaderName)> = h
        .keys()
        .filter_map(|name| Some((*KEPT_POSITION.get(name.as_str())?, name)))
        .collect();
    kept.sort_unstable_by_key(|&(i, _)| i);
    let headers = kept
        .into_iter()
        .map(|(_, name)| {
            let values: Vec<String> = h
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            (name.as_str().to_string(), values.join("\n"))
        })
        .collect();
    ResponseMeta {
        status,
        location,
        content_type: text(header::CONTENT_TYPE),
        content_encoding: text(header::CONTENT_ENCODING)
            .map(|e| e.to_ascii_lowercase())
            .filter(|e| e != "identity"),
        retry_after_s,
        headers,
        ..ResponseMeta::default()
    }
}

/// `Retry-After` as seconds: either delta-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<u64> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate_parse(value)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

fn httpdate_parse(value: &str) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(value).ok().or_else(|| {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        let parts: Vec<&str> = value.split_whitespace().collect();
        if parts.len() != 6 {
            return None;
        }
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|m| *m == parts[2])?
            + 1;
        let iso = format!("{}-{month:02}-{:0>2}T{}Z", parts[3], parts[1], parts[4]);
        humantime::parse_rfc3339(&iso).ok()
    })
}

/// Reads the DER certificates of PEM files (`--ca-cert`); a file without any
/// certificate is an error, so a wrong path is never silently ignored.
pub fn load_ca_certs(paths: &[String]) -> Result<Vec<Vec<u8>>, FetchError> {
    use rustls::pki_types::pem::PemObject as _;
    let mut out = Vec::new();
    for path in paths {
        let err = |reason: String| FetchError::CaCert {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let before = out.len();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            out.push(cert.map_err(|e| err(format!("{e:?}")))?.to_vec());
        }
        if out.len() == before {
            return Err(err("no PEM certificate in it".into()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept headers come in KEPT_HEADERS' order whatever the response's, repeated
    /// ones one value per line in the order sent, and no other header is kept.
    #[test]
    fn kept_headers_in_their_order() {
        let mut sent = reqwest::header::HeaderMap::new();
        for (name, value) in [
            ("x-generator", "Gen 1"),
            ("set-cookie", "a=1"),
            ("content-type", "text/html"),
            ("x-unknown", "dropped"),
            ("server", "nginx"),
            ("set-cookie", "b=2"),
            ("etag", "\"e\""),
            ("strict-transport-security", "max-age=1"),
            ("strict-transport-security", "max-age=2"),
        ] {
            sent.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let mut response = hyper::Response::new(String::new());
        *response.headers_mut() = sent;
        let response = reqwest::Response::from(response);
        let url = Url::parse("http://site.example/").unwrap();
        let meta = response_meta(&url, &response);
        let want: Vec<(String, String)> = KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let values: Vec<&str> = response
                    .headers()
                    .get_all(*name)
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect();
                (!values.is_empty()).then(|| (name.to_string(), values.join("\n")))
            })
            .collect();
        assert_eq!(meta.headers, want);
        let names: Vec<&str> = meta.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "etag",
                "server",
                "strict-transport-security",
                "set-cookie",
                "x-generator"
            ]
        );
        assert_eq!(meta.headers[3].1, "a=1\nb=2");
        assert_eq!(meta.headers[2].1, "max-age=1\nmax-age=2");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(120));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
