//! What fetching one URL gave.

use serde::{Deserialize, Serialize};

use super::FailureKind;

/// How long the phases of one request took, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// From sending the request to receiving the response headers.
    pub ttfb_ms: f64,
    /// From sending the request to the end of the body (or the failure).
    pub total_ms: f64,
}

/// The parts of an HTTP response that the crawl keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMeta {
    /// The status code.
    pub status: u16,
    /// `Location`, resolved against the request URL, for 3xx answers.
    pub location: Option<String>,
    /// `Content-Type` as sent.
    pub content_type: Option<String>,
    /// `Content-Encoding` as sent.
    pub content_encoding: Option<String>,
    /// Bytes read off the wire for the body.
    pub wire_bytes: u64,
    /// Bytes of the body after decompression.
    pub body_bytes: u64,
    /// The character encoding the page was read with, for HTML.
    pub charset: Option<String>,
    /// `Retry-After` in seconds, when the server sent one.
    pub retry_after_s: Option<u64>,
    /// Response headers worth keeping (server, caching, gateway fingerprints).
    pub headers: Vec<(String, String)>,
}

/// One try at a URL. Every attempt is kept so a report can say "502 on 3 of 3 tries".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The status the server answered, if it answered.
    pub status: Option<u16>,
    /// The failure, if the attempt failed.
    pub failure: Option<FailureKind>,
    /// Timings of this attempt.
    pub timings: Timings,
}

impl Attempt {
    /// How the attempt ended, for people: the failure id, else the status code.
    pub fn label(&self) -> String {
        match (&self.failure, self.status) {
            (Some(f), _) => f.id().to_string(),
            (None, Some(s)) => s.to_string(),
            (None, None) => "?".into(),
        }
    }
}

/// The outcome of fetching one URL (after retries).
///
/// Unlike a plain `Result`, a response and a failure can coexist: a server can answer
/// `200` and then reset the connection mid-body, or send a gzip bomb.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The response, when headers were received.
    pub response: Option<ResponseMeta>,
    /// The failure, when the fetch did not complete.
    pub failure: Option<FailureKind>,
    /// Timings of the final attempt.
    pub timings: Timings,
    /// Every attempt, the final one last.
    pub attempts: Vec<Attempt>,
}

impl Outcome {
    /// An outcome that is only a failure (no response).
    pub fn failed(kind: FailureKind) -> Self {
        Self {
            failure: Some(kind),
            ..Self::default()
        }
    }

    /// The status code, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// Whether a retry may change the answer: network failures, 429, 502, 503, 504.
    pub fn is_transient(&self) -> bool {
        match (&self.failure, self.status()) {
            (Some(f), _) if f.is_transient() => true,
            (_, Some(429 | 502 | 503 | 504)) => true,
            _ => false,
        }
    }
}

/// One hop of a redirect chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectHop {
    /// The URL requested at this hop.
    pub url: String,
    /// The status it answered (3xx for all hops but the last).
    pub status: Option<u16>,
    /// Where it pointed to, for redirect answers.
    pub location: Option<String>,
}
