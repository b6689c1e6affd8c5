//! Stage 4: the only way the engine and the reports touch persistence.
//!
//! Writes are fire-and-forget [`WriteOp`]s handed to a writer that batches them into
//! transactions, so the crawl never waits on a write per URL. Reads are plain queries.

mod sqlite;

use serde::Serialize;

pub use sqlite::SqliteStore;

use crate::config::CrawlConfig;
use crate::model::{Attempt, AuditFinding, FailureKind, Outcome, Severity};

/// A crawl's id in the store.
pub type CrawlId = i64;
/// A URL's id within its crawl (assigned by the engine, dense from 1).
pub type UrlId = u32;

/// Why the store failed. Fatal for the crawl: data must not be lost silently.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database file cannot be opened or created.
    #[error("cannot open database {path}: {reason}")]
    Open {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No crawl with that id (or none at all).
    #[error("no crawl {0} in the database")]
    NoSuchCrawl(String),
    /// A stored value could not be read back.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The writer thread is gone (it failed earlier; that error was reported).
    #[error("the database writer stopped: {0}")]
    WriterGone(String),
}

/// Whether a URL belongs to the site or was only linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UrlScope {
    /// Part of the site: crawled.
    Internal,
    /// Another site: checked, not crawled.
    External,
}

impl UrlScope {
    fn id(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
        }
    }
}

/// A URL admitted to the frontier.
#[derive(Debug, Clone)]
pub struct NewUrl {
    /// Its id.
    pub id: UrlId,
    /// The normalized URL.
    pub url: String,
    /// Its 64-bit fingerprint.
    pub fingerprint: u64,
    /// Link depth from the start URL.
    pub depth: u32,
    /// Internal or external.
    pub scope: UrlScope,
    /// How it was first found (link kind id).
    pub found_by: &'static str,
    /// Listed in a sitemap.
    pub in_sitemap: bool,
}

/// A reference from one URL to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkRow {
    /// The referring URL (a page, sitemap, or redirecting URL).
    pub from: UrlId,
    /// The target.
    pub to: UrlId,
    /// The link kind (one byte; reads as its id).
    pub kind: crate::model::LinkKindId,
    /// Anchor text or alt. Shared, not owned: a crawl holds millions of links, most of
    /// whose text (navigation, footers) repeats from page to page, and links read
    /// together share each distinct text (see [`Store::links_to`]); the pointer is thin
    /// (8 bytes, `None` in the same 8).
    pub text: Option<arcstr::ArcStr>,
    /// The rel attribute (shared like `text`).
    pub rel: Option<arcstr::ArcStr>,
}

impl LinkRow {
    /// The link with its texts borrowed.
    pub fn borrowed(&self) -> LinkRowRef<'_> {
        LinkRowRef {
            from: self.from,
            to: self.to,
            kind: self.kind,
            text: self.text.as_deref(),
            rel: self.rel.as_deref(),
        }
    }
}

/// A link as [`Store::for_each_link`] reads it: its texts borrowed from the row, so a
/// loader copies only what it keeps (a crawl's link texts mostly repeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkRowRef<'a> {
    /// The referring URL.
    pub from: UrlId,
    /// The target.
    pub to: UrlId,
    /// The link kind.
    pub kind: crate::model::LinkKindId,
    /// Anchor text or alt.
    pub text: Option<&'a str>,
    /// The rel attribute.
    pub rel: Option<&'a str>,
}

/// Link texts and rels read from a store, each distinct string held once: a site's
/// navigation and footer repeat on every page, so most of a crawl's link text is a few
/// hundred strings.
#[derive(Debug, Default)]
pub(crate) struct TextPool(rustc_hash::FxHashSet<arcstr::ArcStr>);

impl TextPool {
    /// The pool's copy of `s`, added when new.
    pub(crate) fn get(&mut self, s: &str) -> arcstr::ArcStr {
        if let Some(t) = self.0.get(s) {
            return t.clone();
        }
        let t = arcstr::ArcStr::from(s);
        self.0.insert(t.clone());
        t
    }
}

/// What the engine learned about one URL.
#[derive(Debug, Clone)]
pub struct UrlResult {
    /// The URL.
    pub id: UrlId,
    /// The outcome (response and/or failure, every attempt).
    pub outcome: Outcome,
    /// robots.txt disallows it (in `report` mode it was fetched anyway).
    pub robots_disallowed: bool,
    /// Page facts as JSON, for HTML pages.
    pub facts: Option<String>,
    /// The first bytes of an error response's body (for diagnosis).
    pub body_snippet: Option<String>,
    /// The redirect chain, for URLs checked with inline redirect following (external).
    pub hops: Vec<crate::model::RedirectHop>,
}

/// One write for the store's writer.
#[derive(Debug)]
pub enum WriteOp {
    /// URLs admitted to the frontier (state queued).
    Queue(Vec<NewUrl>),
    /// A URL is done; its new URLs and its outgoing links are written in the same batch.
    Done {
        /// The result.
        result: Box<UrlResult>,
        /// URLs first found on it.
        new_urls: Vec<NewUrl>,
        /// Its outgoing links.
        links: Vec<LinkRow>,
    },
    /// Several writes applied in one transaction.
    Many(Vec<WriteOp>),
    /// Mark URLs as listed in a sitemap.
    MarkInSitemap(Vec<UrlId>),
    /// A host's robots.txt as fetched, so a resumed crawl need not fetch it again.
    Robots {
        /// `scheme://host[:port]`.
        host: String,
        /// The status (None: it failed).
        status: Option<u16>,
        /// The body.
        body: Vec<u8>,
    },
    /// A failed URL re-probed after the crawl.
    Reprobes {
        /// The URL.
        url_id: UrlId,
        /// Each re-probe, in order.
        attempts: Vec<Attempt>,
    },
    /// Forget the crawl's stored findings: an audit of it begins.
    ClearFindings,
    /// Findings of the audit under way (any order; they are read back sorted).
    Findings(Vec<AuditFinding>),
    /// The audit is complete: its findings are the crawl's until its data changes.
    Audited {
        /// What the audit depended on (see [`Store::audit_key`]).
        key: String,
        /// How many findings it stored.
        findings: u64,
    },
    /// What a per-host probe found (the TLS probe: kind `tls`).
    HostProbe {
        /// `host[:port]`.
        host: String,
        /// The probe.
        kind: String,
        /// Its facts, JSON.
        facts: String,
    },
}

/// A stored crawl.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlInfo {
    /// Its id.
    pub id: CrawlId,
    /// The first start URL.
    pub start_url: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended, if it did.
    pub finished_at: Option<String>,
    /// running, finished, interrupted.
    pub state: String,
    /// URLs known.
    pub urls: u64,
    /// URLs done.
    pub done: u64,
    /// The configuration it ran with.
    #[serde(skip)]
    pub config: CrawlConfig,
}

/// A URL as stored, for resume and for reports.
#[derive(Debug, Clone, Serialize)]
pub struct UrlRecord {
    /// Its id.
    pub id: UrlId,
    /// The URL.
    pub url: String,
    /// Link depth.
    pub depth: u32,
    /// Internal or external.
    pub scope: UrlScope,
    /// How it was first found (one of a few words: see [`intern`]).
    pub found_by: &'static str,
    /// Listed in a sitemap.
    pub in_sitemap: bool,
    /// queued or done.
    pub state: &'static str,
    /// Status code.
    pub status: Option<u16>,
    /// Failure (boxed: few URLs fail, and a record is held for every URL).
    pub failure: Option<Box<FailureKind>>,
    /// Redirect target.
    pub location: Option<Box<str>>,
    /// Content type (a loaded crawl holds each distinct one once).
    pub content_type: Option<arcstr::ArcStr>,
    /// Time to first byte, ms.
    pub ttfb_ms: Measure<f64>,
    /// Total time, ms.
    pub total_ms: Measure<f64>,
    /// Body bytes on the wire.
    pub wire_bytes: Measure<u64>,
    /// Body bytes decoded.
    pub body_bytes: Measure<u64>,
    /// Charset read with (shared like the content type).
    pub charset: Option<arcstr::ArcStr>,
    /// Number of attempts.
    pub attempts: u32,
    /// robots.txt disallows it.
    pub robots_disallowed: bool,
    /// Kept response headers, names and values shared like link texts: a loaded crawl
    /// holds each distinct one once (the names, `server`, most dates and lengths repeat).
    pub headers: Vec<(arcstr::ArcStr, arcstr::ArcStr)>,
    /// Page facts (JSON), for HTML pages; written out with every field (see `full_facts`).
    #[serde(serialize_with = "full_facts")]
    pub facts: Option<RawJson>,
    /// Start of an error body.
    pub body_snippet: Option<Box<str>>,
    /// The deduplication fingerprint.
    #[serde(skip)]
    pub fingerprint: u64,
}

/// A measurement a URL may lack (a time, a size), in its own 8 bytes: `Option` would pad
/// it to 16, and a loaded crawl holds four for every URL. A value no measurement takes
/// stands for none (NaN for a time, `u64::MAX` for a size). Reads and serializes as an
/// `Option`.
#[derive(Clone, Copy)]
pub struct Measure<T: Missing>(T);

/// A number type with a value that stands for a missing measurement.
pub trait Missing: Copy {
    /// The value that stands for none.
    const NONE: Self;
    /// Whether `self` stands for none.
    fn is_none(self) -> bool;
}

impl Missing for f64 {
    const NONE: Self = f64::NAN;
    fn is_none(self) -> bool {
        self.is_nan()
    }
}

impl Missing for u64 {
    const NONE: Self = u64::MAX;
    fn is_none(self) -> bool {
        self == u64::MAX
    }
}

impl<T: Missing> Measure<T> {
    /// The measurement, if there is one.
    pub fn get(self) -> Option<T> {
        (!self.0.is_none()).then_some(self.0)
    }
}

impl<T: Missing> From<Option<T>> for Measure<T> {
    /// `None`, and a value that would stand for none, become none.
    fn from(v: Option<T>) -> Self {
        Self(v.unwrap_or(T::NONE))
    }
}

impl<T: Missing + PartialEq> PartialEq for Measure<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Missing + std::fmt::Debug> std::fmt::Debug for Measure<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl<T: Missing + Serialize> Serialize for Measure<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

/// The one copy of a stored word (a URL's `found_by` or `state`): the few the engine
/// writes are constants, and anything else (a file written by another version) is
/// leaked once per distinct value. A million URL records hold no copies of them.
pub fn intern(word: &str) -> &'static str {
    use crate::crawl::*;
    const KNOWN: [&str; 9] = [
        "done",
        "queued",
        FOUND_START,
        FOUND_ROBOTS,
        FOUND_SITEMAP_FILE,
        FOUND_SITEMAP_PROBE,
        FOUND_SITEMAP,
        FOUND_REDIRECT,
        FOUND_INVALID,
    ];
    if let Some(k) = KNOWN.iter().find(|k| **k == word) {
        return k;
    }
    if let Some(kind) = crate::model::LinkKind::from_id(word) {
        return kind.id();
    }
    static OTHERS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut others = OTHERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(o) = others.iter().find(|o| **o == word) {
        return o;
    }
    let leaked: &'static str = Box::leak(word.to_owned().into_boxed_str());
    others.push(leaked);
    leaked
}

/// Stored JSON kept as text until something reads it: a crawl's page facts
/// cost their bytes, not a tree of values per page.
pub type RawJson = Box<serde_json::value::RawValue>;

/// Whether stored facts are a sitemap file's (`{"sitemap":…}`) rather than a page's.
pub(crate) fn is_sitemap_json(raw: &str) -> bool {
    raw.trim_start().starts_with("{\"sitemap\"")
}

/// Stored facts as reports write them: a page's with every field, defaults included
/// (the store leaves those out, see [`crate::model::PageFacts`]); a sitemap's, and
/// anything that does not read as page facts, as stored.
fn full_facts<S: serde::Serializer>(facts: &Option<RawJson>, s: S) -> Result<S::Ok, S::Error> {
    /// Page facts written in full.
    struct Full(crate::model::PageFacts);
    impl Serialize for Full {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize_full(s)
        }
    }
    let page = facts
        .as_deref()
        .map(serde_json::value::RawValue::get)
        .filter(|raw| !is_sitemap_json(raw))
        .and_then(|raw| serde_json::from_str(raw).ok());
    // As one line of text, like stored facts: a pretty report does not spread them out.
    let full = page.and_then(|f| serde_json::value::to_raw_value(&Full(f)).ok());
    match full {
        Some(f) => s.serialize_some(&f),
        None => facts.serialize(s),
    }
}

/// JSON text for a stored JSON column.
pub fn raw_json(v: &serde_json::Value) -> RawJson {
    serde_json::value::to_raw_value(v).expect("a JSON value always serialises")
}

impl WriteOp {
    /// Whether it writes an audit's findings rather than the crawl's data: every other
    /// write makes the crawl's stored findings stale.
    pub fn is_audit(&self) -> bool {
        matches!(
            self,
            Self::ClearFindings | Self::Findings(_) | Self::Audited { .. }
        )
    }

    /// URL `id` done with nothing learned but these outgoing links (store tests).
    #[cfg(test)]
    pub(crate) fn done_with_links(id: UrlId, links: Vec<LinkRow>) -> Self {
        let result = UrlResult {
            id,
            outcome: crate::model::Outcome::default(),
            robots_disallowed: false,
            facts: None,
            body_snippet: None,
            hops: vec![],
        };
        Self::Done {
            result: Box::new(result),
            new_urls: vec![],
            links,
        }
    }
}

/// A stored finding, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRecord {
    /// The check's id.
    pub check_id: String,
    /// Its severity.
    pub severity: Severity,
    /// The URL (absent for site-wide findings).
    pub url: Option<String>,
    /// The evidence, JSON text.
    pub details: String,
}

/// A host's robots.txt as stored: `(scheme://host[:port], status, body)`.
pub type StoredRobots = (String, Option<u16>, Vec<u8>);

/// The store. SQLite is the embedded default; PostgreSQL comes later behind the same trait.
pub trait Store: Send + Sync {
    /// Starts a new crawl and returns its id.
    fn create_crawl(&self, config: &CrawlConfig) -> Result<CrawlId, StoreError>;
    /// A crawl's info.
    fn crawl(&self, id: CrawlId) -> Result<CrawlInfo, StoreError>;
    /// All crawls, newest first.
    fn crawls(&self) -> Result<Vec<CrawlInfo>, StoreError>;
    /// Sets a crawl's state (`finished`, `interrupted`), stamping the end time.
    fn set_state(&self, id: CrawlId, state: &str) -> Result<(), StoreError>;
    /// Queues a write. Waits only when the writer is a few batches behind (bounded
    /// memory when the disk is slower than the crawl).
    fn write(&self, crawl: CrawlId, op: WriteOp) -> Result<(), StoreError>;
    /// Waits until every queued write is committed.
    fn flush(&self) -> Result<(), StoreError>;
    /// Every URL of a crawl, by id.
    fn urls(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError>;
    /// Calls `f` with the id and stored facts (JSON text) of every URL that has them.
    fn for_each_facts(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(UrlId, &str),
    ) -> Result<(), StoreError>;
    /// Every URL of a crawl, by id, without page facts (`facts` is `None`).
    fn urls_without_facts(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError>;
    /// Every URL of a crawl, by id, as a summary reads them: no page facts, content type
    /// or charset, and headers and body snippets only of error responses (status ≥ 400).
    fn url_summaries(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError>;
    /// The links pointing at the given URLs, each target's in the order written.
    fn links_to(&self, crawl: CrawlId, targets: &[UrlId]) -> Result<Vec<LinkRow>, StoreError>;
    /// How many links point at each URL that has any: lets a loader give each target's
    /// list its exact room before [`Store::for_each_link`] fills it.
    fn inlink_counts(&self, crawl: CrawlId) -> Result<Vec<(UrlId, u32)>, StoreError>;
    /// Calls `f` for every link of a crawl: the links to one target in the order they
    /// were written (their discovery order), links to different targets in any order.
    fn for_each_link(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(LinkRowRef<'_>),
    ) -> Result<(), StoreError>;
    /// Every attempt of the URLs that took more than one.
    fn retried_attempts(&self, crawl: CrawlId) -> Result<Vec<(UrlId, Vec<Attempt>)>, StoreError>;
    /// Stored robots.txt bodies by host, for resume.
    fn robots(&self, crawl: CrawlId) -> Result<Vec<StoredRobots>, StoreError>;
    /// The re-probes of URLs that failed (5xx, timeouts, connection failures), in order.
    fn reprobes(&self, crawl: CrawlId) -> Result<Vec<(UrlId, Vec<Attempt>)>, StoreError>;
    /// Per-host probe results of one kind (`tls`), as `(host, JSON facts)`.
    fn host_probes(&self, crawl: CrawlId, kind: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// The key of the audit whose findings are stored for the crawl, if a complete one
    /// is and nothing of the crawl changed since (see [`WriteOp::Audited`]).
    fn audit_key(&self, crawl: CrawlId) -> Result<Option<String>, StoreError>;
    /// Calls `f` for every stored finding of the crawl, ordered by severity (errors
    /// first), check id, URL (site-wide first), then as the checks produced them.
    fn for_each_finding(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(FindingRecord),
    ) -> Result<(), StoreError>;
    /// Redirect chains recorded for URLs checked with inline following.
    fn hops(
        &self,
        crawl: CrawlId,
    ) -> Result<Vec<(UrlId, Vec<crate::model::RedirectHop>)>, StoreError>;
}

#[cfg(test)]
mod intern_tests {
    /// The engine's words come back as themselves; another word is kept once, and
    /// every later read of it shares that copy.
    #[test]
    fn words_are_kept_once() {
        assert_eq!(super::intern("start"), crate::crawl::FOUND_START);
        assert_eq!(super::intern("done"), "done");
        assert_eq!(super::intern("img"), "img");
        let first = super::intern(&String::from("found-by-a-later-version"));
        let again = super::intern(&String::from("found-by-a-later-version"));
        assert_eq!(first, "found-by-a-later-version");
        assert!(std::ptr::eq(first, again));
    }
}

#[cfg(test)]
mod record_tests {
    /// A loaded crawl holds a record per URL: what few URLs have (a failure, a redirect
    /// target, an error body) is boxed, content types and charsets are shared, and
    /// times and sizes take 8 bytes each, so a record takes 216 bytes (248 with times
    /// and sizes as `Option`s, 288 with the rest inline, 320 with owned content types).
    #[test]
    fn a_record_stays_small() {
        assert!(std::mem::size_of::<super::UrlRecord>() <= 216);
    }

    /// A measurement reads, compares and serializes as the `Option` it was made from;
    /// a value that would stand for none is none.
    #[test]
    fn measures_read_as_options() {
        use super::Measure;
        let (none, some) = (Measure::<f64>::from(None), Measure::from(Some(1.5)));
        assert_eq!((none.get(), some.get()), (None, Some(1.5)));
        assert_eq!(none, Measure::from(None));
        assert_ne!(none, some);
        assert_eq!(Measure::from(Some(f64::NAN)).get(), None);
        assert_eq!(Measure::from(Some(7u64)).get(), Some(7));
        assert_eq!(Measure::<u64>::from(Some(u64::MAX)).get(), None);
        let json = serde_json::to_string(&(none, some, Measure::from(Some(0u64)))).unwrap();
        assert_eq!(json, "[null,1.5,0]");
        assert_eq!(format!("{none:?} {some:?}"), "None Some(1.5)");
        assert_eq!(std::mem::size_of::<Measure<f64>>(), 8);
    }
}
