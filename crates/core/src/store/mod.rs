//! Stage 4: the only way the engine and the reports touch persistence.
//!
//! Writes are fire-and-forget [`WriteOp`]s handed to a writer that batches them into
//! transactions, so the crawl never waits on a write per URL. Reads are plain queries.

mod checkpoint;
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

/// A commit asked for with [`Store::commit_later`].
#[derive(Debug)]
pub struct Commit(std::sync::mpsc::Receiver<Result<(), String>>);

impl Commit {
    /// A commit answered on `reply` (the writer's result, or its end).
    pub(crate) fn new(reply: std::sync::mpsc::Receiver<Result<(), String>>) -> Self {
        Self(reply)
    }

    /// Waits until the writes queued before it are committed.
    pub fn wait(self) -> Result<(), StoreError> {
        match self.0.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::WriterGone(e)),
            Err(_) => Err(StoreError::WriterGone("writer thread ended".into())),
        }
    }
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
#[derive(Debug, Clone)]
pub struct UrlRecord {
    /// Its id.
    pub id: UrlId,
    /// The URL.
    pub url: String,
    /// Link depth.
    pub depth: u32,
    /// Internal or external.
    pub scope: UrlScope,
    /// How it was first found (a link kind's id or one of a few words).
    pub found_by: Word,
    /// Listed in a sitemap.
    pub in_sitemap: bool,
    /// queued or done.
    pub state: Word,
    /// Status code.
    pub status: Option<u16>,
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
    /// A load for an audit holds less of them: see [`Store::urls_for_audit`].
    pub headers: Headers,
    /// What a record read for an audit rarely has: see [`Extra`].
    extra: Option<Box<Extra>>,
    /// The deduplication fingerprint.
    pub fingerprint: u64,
}

/// What few URLs of a loaded crawl have (a failure, a redirect target, an error body),
/// and the page facts, which a load for an audit leaves out: one box, held only by the
/// records with one of them, where the four fields inline would add 56 bytes to every
/// record. Never all empty (the box is dropped then).
#[derive(Debug, Clone, Default)]
struct Extra {
    failure: Option<FailureKind>,
    location: Option<Box<str>>,
    facts: Option<RawJson>,
    body_snippet: Option<Box<str>>,
}

impl Default for UrlRecord {
    /// An internal URL at depth 0 found by a link, queued, with nothing known of it.
    fn default() -> Self {
        Self {
            id: 0,
            url: String::new(),
            depth: 0,
            scope: UrlScope::Internal,
            found_by: Word::known("a"),
            in_sitemap: false,
            state: Word::known("queued"),
            status: None,
            content_type: None,
            ttfb_ms: None.into(),
            total_ms: None.into(),
            wire_bytes: None.into(),
            body_bytes: None.into(),
            charset: None,
            attempts: 0,
            robots_disallowed: false,
            headers: Headers::default(),
            extra: None,
            fingerprint: 0,
        }
    }
}

impl UrlRecord {
    /// Failure.
    pub fn failure(&self) -> Option<&FailureKind> {
        self.extra.as_ref()?.failure.as_ref()
    }

    /// Redirect target.
    pub fn location(&self) -> Option<&str> {
        self.extra.as_ref()?.location.as_deref()
    }

    /// Page facts (JSON), for HTML pages, when the load kept them; written out with
    /// every field (see `full_facts`).
    pub fn facts(&self) -> Option<&RawJson> {
        self.extra.as_ref()?.facts.as_ref()
    }

    /// Start of an error body.
    pub fn body_snippet(&self) -> Option<&str> {
        self.extra.as_ref()?.body_snippet.as_deref()
    }

    /// Sets the failure.
    pub fn set_failure(&mut self, failure: Option<FailureKind>) {
        self.edit(|e| e.failure = failure);
    }

    /// Sets the redirect target.
    pub fn set_location(&mut self, location: Option<&str>) {
        self.edit(|e| e.location = location.map(Box::from));
    }

    /// Sets the page facts.
    pub fn set_facts(&mut self, facts: Option<RawJson>) {
        self.edit(|e| e.facts = facts);
    }

    /// Sets the start of an error body.
    pub fn set_body_snippet(&mut self, snippet: Option<&str>) {
        self.edit(|e| e.body_snippet = snippet.map(Box::from));
    }

    /// Changes [`Extra`], keeping no box when nothing is left in it.
    fn edit(&mut self, f: impl FnOnce(&mut Extra)) {
        let mut extra = self.extra.take().unwrap_or_default();
        f(&mut extra);
        let Extra {
            failure,
            location,
            facts,
            body_snippet,
        } = &*extra;
        if failure.is_some() || location.is_some() || facts.is_some() || body_snippet.is_some() {
            self.extra = Some(extra);
        }
    }
}

impl Serialize for UrlRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The record as reports write it, field by field in the order they always had.
        #[derive(Serialize)]
        struct Out<'a> {
            id: UrlId,
            url: &'a str,
            depth: u32,
            scope: UrlScope,
            found_by: Word,
            in_sitemap: bool,
            state: Word,
            status: Option<u16>,
            failure: Option<&'a FailureKind>,
            location: Option<&'a str>,
            content_type: &'a Option<arcstr::ArcStr>,
            ttfb_ms: Measure<f64>,
            total_ms: Measure<f64>,
            wire_bytes: Measure<u64>,
            body_bytes: Measure<u64>,
            charset: &'a Option<arcstr::ArcStr>,
            attempts: u32,
            robots_disallowed: bool,
            headers: &'a [Header],
            #[serde(serialize_with = "full_facts")]
            facts: Option<&'a RawJson>,
            body_snippet: Option<&'a str>,
        }
        Out {
            id: self.id,
            url: &self.url,
            depth: self.depth,
            scope: self.scope,
            found_by: self.found_by,
            in_sitemap: self.in_sitemap,
            state: self.state,
            status: self.status,
            failure: self.failure(),
            location: self.location(),
            content_type: &self.content_type,
            ttfb_ms: self.ttfb_ms,
            total_ms: self.total_ms,
            wire_bytes: self.wire_bytes,
            body_bytes: self.body_bytes,
            charset: &self.charset,
            attempts: self.attempts,
            robots_disallowed: self.robots_disallowed,
            headers: &self.headers,
            facts: self.facts(),
            body_snippet: self.body_snippet(),
        }
        .serialize(s)
    }
}

/// A kept response header: name and value.
pub type Header = (arcstr::ArcStr, arcstr::ArcStr);

/// A URL's kept response headers: a list that records with the same headers can share
/// (a load for an audit shares them, see [`Store::urls_for_audit`]), none without an
/// allocation. Reads as a slice; changed by copying.
#[derive(Clone, Default)]
pub struct Headers(Option<std::sync::Arc<[Header]>>);

// Compared and hashed as the slice they read as (a pool of lists finds one by slice).
impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Headers {}

impl std::hash::Hash for Headers {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h);
    }
}

impl Headers {
    /// Adds a header.
    pub fn push(&mut self, header: Header) {
        let mut v = self.to_vec();
        v.push(header);
        *self = v.into();
    }

    /// Keeps only the headers `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        let mut v = self.to_vec();
        v.retain(keep);
        *self = v.into();
    }
}

impl std::ops::Deref for Headers {
    type Target = [Header];
    fn deref(&self) -> &[Header] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl From<Vec<Header>> for Headers {
    fn from(v: Vec<Header>) -> Self {
        Self((!v.is_empty()).then(|| v.into()))
    }
}

impl std::borrow::Borrow<[Header]> for Headers {
    fn borrow(&self) -> &[Header] {
        self
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
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

/// A stored word (a URL's `found_by` or `state`) in two bytes: its number in a table of
/// the words read so far. A loaded crawl holds two for every URL, where a `&str` takes
/// 16 bytes each. The engine's words are numbered in a constant table; anything else (a
/// file written by another version) is added to a shared table once per distinct value.
/// Reads, compares, prints and serializes as the word.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Word(u16);

/// The words the engine writes: the states, the ways a URL is found that no link kind
/// names, and every link kind's id (see `every_link_kind_is_known` below).
const KNOWN: [&str; 23] = [
    "done",
    "queued",
    crate::crawl::FOUND_START,
    crate::crawl::FOUND_ROBOTS,
    crate::crawl::FOUND_SITEMAP_FILE,
    crate::crawl::FOUND_SITEMAP_PROBE,
    crate::crawl::FOUND_SITEMAP,
    crate::crawl::FOUND_REDIRECT,
    crate::crawl::FOUND_INVALID,
    "a",
    "img",
    "script",
    "css",
    "canonical",
    "hreflang",
    "alternate",
    "icon",
    "preload",
    "pagination",
    "iframe",
    "media",
    "object",
    "meta-refresh",
];

/// Words beyond [`KNOWN`], each leaked once: numbered from `KNOWN.len()`.
static OTHERS: std::sync::RwLock<Vec<&'static str>> = std::sync::RwLock::new(Vec::new());

impl Word {
    /// `word`'s number, adding it to the table if it is new; `None` once the table is
    /// full (65,536 distinct words: no file this engine wrote holds more than 23).
    pub fn new(word: &str) -> Option<Self> {
        if let Some(i) = KNOWN.iter().position(|k| *k == word) {
            return Some(Self(i as u16));
        }
        let find = |others: &[&str]| others.iter().position(|o| *o == word);
        if let Some(i) = find(
            &OTHERS
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ) {
            return Some(Self((KNOWN.len() + i) as u16));
        }
        let mut others = OTHERS
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = find(&others) {
            return Some(Self((KNOWN.len() + i) as u16));
        }
        // A full table takes no more (nothing leaked for a word it cannot number).
        let number = u16::try_from(KNOWN.len() + others.len()).ok()?;
        others.push(Box::leak(word.to_owned().into_boxed_str()));
        Some(Self(number))
    }

    /// One of the engine's words (in [`KNOWN`]).
    fn known(word: &str) -> Self {
        let i = KNOWN.iter().position(|k| *k == word);
        Self(i.expect("one of the engine's words") as u16)
    }

    /// The word.
    pub fn as_str(self) -> &'static str {
        let i = self.0 as usize;
        match KNOWN.get(i) {
            Some(k) => k,
            None => OTHERS
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)[i - KNOWN.len()],
        }
    }
}

impl std::ops::Deref for Word {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl std::fmt::Display for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
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
fn full_facts<S: serde::Serializer>(facts: &Option<&RawJson>, s: S) -> Result<S::Ok, S::Error> {
    /// Page facts written in full.
    struct Full(crate::model::PageFacts);
    impl Serialize for Full {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize_full(s)
        }
    }
    let page = facts
        .map(|raw| raw.get())
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
    /// Asks for every write queued so far to be committed, without waiting: the
    /// [`Commit`] it returns waits. A producer keeps one commit in flight this way and
    /// goes on while the writer catches up, where [`Store::flush`] would stop it.
    fn commit_later(&self) -> Result<Commit, StoreError>;
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
    /// Every URL of a crawl, by id, as an audit reads them: no page facts, and of
    /// responses below 400 (of which checks read only whether they have an `etag` or a
    /// `last-modified`, and no `content-length`) those two headers with empty values and
    /// no `content-length`, so that records with the same other headers share one list.
    /// Error responses keep every header: the diagnosis reads them.
    fn urls_for_audit(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError>;
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
mod word_tests {
    use super::Word;

    /// The engine's words read back as themselves from the constant table; another
    /// word is added once, and every later read of it has the same number.
    #[test]
    fn words_are_numbered_once() {
        let start = Word::new("start").unwrap();
        assert_eq!(start, crate::crawl::FOUND_START);
        assert_eq!(
            (start.as_str(), &*Word::new("done").unwrap()),
            ("start", "done")
        );
        assert!(usize::from(start.0) < super::KNOWN.len());
        let first = Word::new(&String::from("found-by-a-later-version")).unwrap();
        let again = Word::new("found-by-a-later-version").unwrap();
        assert_eq!(first, again);
        assert!(usize::from(first.0) >= super::KNOWN.len());
        assert_eq!(first.as_str(), "found-by-a-later-version");
        assert_ne!(first, Word::new("found-by-another-version").unwrap());
        let json = serde_json::to_string(&(start, first)).unwrap();
        assert_eq!(json, r#"["start","found-by-a-later-version"]"#);
        assert_eq!(
            format!("{start} {first:?}"),
            r#"start "found-by-a-later-version""#
        );
    }

    /// Every link kind's id (a URL is found by one) is in the constant table.
    #[test]
    fn every_link_kind_is_known() {
        for kind in crate::model::LinkKind::ALL {
            let word = Word::new(kind.id()).unwrap();
            assert!(usize::from(word.0) < super::KNOWN.len(), "{kind:?}");
        }
    }
}

#[cfg(test)]
mod record_tests {
    /// A loaded crawl holds a record per URL: what few URLs have (a failure, a redirect
    /// target, an error body) and the page facts an audit's load leaves out share one
    /// box, content types and charsets are shared, times and sizes take 8 bytes each,
    /// stored words 2 and the headers a shared list, so a record takes 128 bytes (216
    /// with the words as `&str`s, the four fields inline and the headers a `Vec`; 320
    /// with all of it inline and owned).
    #[test]
    fn a_record_stays_small() {
        assert_eq!(std::mem::size_of::<super::UrlRecord>(), 128);
    }

    /// Headers read as the list they were made from (an empty one holds nothing), change
    /// by copying, and compare and serialize as their list.
    #[test]
    fn headers_read_as_their_list() {
        use super::Headers;
        let pair = |n: &str, v: &str| (arcstr::ArcStr::from(n), arcstr::ArcStr::from(v));
        let mut h = Headers::from(vec![pair("server", "nginx")]);
        let shared = h.clone();
        h.push(pair("etag", "\"x\""));
        assert_eq!((shared.len(), h.len()), (1, 2));
        h.retain(|(n, _)| n != "server");
        assert_eq!(&*h, &[pair("etag", "\"x\"")]);
        h.retain(|_| false);
        assert!(h.0.is_none());
        assert_eq!(h, Headers::default());
        assert_eq!(Headers::from(Vec::new()), Headers::default());
        assert_eq!(
            serde_json::to_string(&shared).unwrap(),
            r#"[["server","nginx"]]"#
        );
    }

    /// A record's rarely set fields read back as set, and the record holds their box
    /// only while one of them is set.
    #[test]
    fn rare_fields_share_a_box() {
        use crate::model::FailureKind;
        let mut r = super::UrlRecord::default();
        assert!(r.extra.is_none());
        r.set_location(Some("/next"));
        r.set_failure(Some(FailureKind::RedirectLoop));
        r.set_body_snippet(Some("Bad Gateway"));
        r.set_facts(serde_json::value::RawValue::from_string("{}".into()).ok());
        assert_eq!(r.location(), Some("/next"));
        assert_eq!(r.failure(), Some(&FailureKind::RedirectLoop));
        assert_eq!(r.body_snippet(), Some("Bad Gateway"));
        assert_eq!(r.facts().map(|f| f.get()), Some("{}"));
        r.set_facts(None);
        assert_eq!(r.facts().map(|f| f.get()), None);
        r.set_location(None);
        r.set_failure(None);
        assert!(r.extra.is_some());
        r.set_body_snippet(None);
        assert!(r.extra.is_none());
        let json = serde_json::to_value(&r).unwrap();
        for field in ["failure", "location", "facts", "body_snippet"] {
            assert!(json[field].is_null(), "{field}");
        }
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
