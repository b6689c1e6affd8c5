//! Stage 5: the audit. Checks read what the store holds and produce [`Finding`]s; they
//! never fetch. Each check is a value with its catalogue entry ([`CheckInfo`], ids from
//! ../shared/checks.md) and an evaluation over one page ([`PageCheck`]) or the whole
//! crawl. [`registry`] lists them all; [`audit`] runs them and [`score`] turns the
//! findings into the health score.

/// A [`PageCheck`] as a boxed [`Check`], from its catalogue entry and evaluation.
macro_rules! page_check {
    ($id:literal, $cat:literal, $sev:ident, $title:literal, $why:literal, $fix:literal, $eval:expr $(,)?) => {
        Box::new($crate::checks::PageCheck {
            info: $crate::checks::CheckInfo {
                id: $id,
                category: $cat,
                severity: $crate::model::Severity::$sev,
                title: $title,
                why: $why,
                fix: $fix,
            },
            eval: $eval,
        }) as Box<dyn $crate::checks::Check>
    };
}

mod a11y_data;
mod architecture;
mod canonicals;
mod changes;
mod content;
mod data;
mod descriptions;
mod document;
mod fetch;
mod headings;
mod hreflang;
mod indexability;
mod link_table;
mod links;
mod mobile_social;
mod redirects;
mod resources;
mod robots_txt;
mod score;
mod security;
mod site_structure;
mod sitemaps;
mod status;
mod thresholds;
mod titles;
mod tls;
mod urls;

use std::collections::HashSet;

use serde::Serialize;

pub use data::{PageView, SiteData};
pub use link_table::{LinkIter, LinkRef, LinkTable, Links};
pub use score::{CategoryScore, Score, ScoreTally, score, scored_urls};
pub use thresholds::Thresholds;

use crate::model::{self, Finding, Severity};

/// A check's catalogue entry.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckInfo {
    /// Stable kebab-case id from ../shared/checks.md.
    pub id: &'static str,
    /// The catalogue category number (1–31).
    pub category: u8,
    /// Default severity.
    pub severity: Severity,
    /// One line: what is wrong.
    pub title: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

impl CheckInfo {
    /// An entry from its id, category, severity and `[title, why, fix]`.
    pub fn new(
        id: &'static str,
        category: u8,
        severity: Severity,
        [title, why, fix]: [&'static str; 3],
    ) -> Self {
        Self {
            id,
            category,
            severity,
            title,
            why,
            fix,
        }
    }

    /// The category's name.
    pub fn category_name(&self) -> &'static str {
        category_name(self.category)
    }
}

/// The name of a catalogue category.
pub fn category_name(n: u8) -> &'static str {
    match n {
        1 => "Network and fetch failures",
        2 => "HTTP status codes",
        3 => "TLS certificates and HTTPS adoption",
        4 => "Mixed content and insecure references",
        5 => "Security headers and hygiene",
        6 => "Redirects",
        7 => "robots.txt",
        8 => "XML sitemaps",
        9 => "Indexability and robots directives",
        10 => "Canonicalisation",
        11 => "Hreflang and internationalisation",
        12 => "Page titles",
        13 => "Meta descriptions",
        14 => "Headings",
        15 => "Content and duplication",
        16 => "URL structure",
        17 => "Internal linking and site architecture",
        18 => "Links",
        19 => "Images",
        20 => "CSS, JavaScript and other page resources",
        21 => "Performance and Core Web Vitals",
        22 => "Mobile",
        23 => "Accessibility basics",
        24 => "Structured data",
        25 => "Social sharing metadata",
        26 => "AMP",
        27 => "Pagination",
        28 => "JavaScript rendering",
        29 => "HTML document structure and validity",
        30 => "Site-wide configuration and crawl budget",
        31 => "Change detection between crawls",
        _ => "Other",
    }
}

/// One check.
pub trait Check: Send + Sync {
    /// Its catalogue entry.
    fn info(&self) -> &CheckInfo;
    /// Evaluates it over the crawl, pushing findings. A check that looks at each page on
    /// its own implements [`Check::per_page`] instead and keeps this default.
    fn run(&self, site: &SiteData, out: &mut Findings) {
        if let Some(each) = self.per_page() {
            for page in site.pages() {
                each.eval_page(site, &page, out);
            }
        }
    }
    /// The per-page evaluation, when the check looks at each page on its own (with the
    /// crawl at hand): [`audit`] then runs all of those in one pass over the pages
    /// instead of one pass each.
    fn per_page(&self) -> Option<&dyn PerPage> {
        None
    }
}

/// A check's evaluation of one page (see [`Check::per_page`]); `run` must equal this
/// over every page of `site.pages()`, in order.
pub trait PerPage: Send + Sync {
    /// Evaluates one page, pushing its findings.
    fn eval_page(&self, site: &SiteData, page: &PageView<'_>, out: &mut Findings);
}

/// Where checks put what they find. The audit keeps each finding as JSON text from the
/// moment it is pushed (a check over a large site may push one per page); check tests
/// keep the JSON trees to look into.
pub struct Findings<'s> {
    trees: Option<Vec<Finding>>,
    kept: Vec<model::AuditFinding>,
    /// Where kept findings go once there are [`SINK_BATCH`] of them (else they stay).
    sink: Option<&'s FindingSink<'s>>,
    /// What is being evaluated (a page's position, or a site-wide check's), and how
    /// many findings it gave so far: each finding's [`model::AuditFinding::order`].
    rank: u64,
    n: u64,
}

impl std::fmt::Debug for Findings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Findings")
            .field("trees", &self.trees)
            .field("kept", &self.kept)
            .finish_non_exhaustive()
    }
}

impl<'s> Findings<'s> {
    /// Keeps findings as JSON text.
    pub fn text() -> Self {
        Self {
            trees: None,
            kept: Vec::new(),
            sink: None,
            rank: 0,
            n: 0,
        }
    }

    /// Keeps findings as JSON text, handing them to `sink` a batch at a time (a check
    /// that fires on every page of a large site never holds all its findings); call
    /// [`Findings::drain`] at the end for the rest.
    fn streaming(sink: &'s FindingSink<'s>) -> Self {
        Self {
            sink: Some(sink),
            ..Self::text()
        }
    }

    /// Hands what is kept to the sink.
    fn drain(&mut self) {
        if let Some(sink) = self.sink
            && !self.kept.is_empty()
        {
            sink(std::mem::take(&mut self.kept));
        }
    }

    /// Keeps findings as they are pushed.
    pub fn trees() -> Self {
        Self {
            trees: Some(Vec::new()),
            ..Self::text()
        }
    }

    /// Findings pushed from now on come from evaluation number `rank` (page positions
    /// first, then the site-wide checks), and sort after those of lower ranks.
    fn set_rank(&mut self, rank: u64) {
        self.rank = rank;
        self.n = 0;
    }

    /// Adds one.
    pub fn push(&mut self, f: Finding) {
        match &mut self.trees {
            Some(t) => t.push(f),
            None => {
                let i = info(f.check_id).expect("findings come from registered checks");
                self.keep(model::AuditFinding::new(f, i.category, i.title, i.fix));
            }
        }
    }

    /// Adds one whose evidence is already JSON text: a check that gives many findings
    /// the same evidence builds and serializes it once (the text is copied per finding).
    pub fn push_raw(
        &mut self,
        info: &CheckInfo,
        url: Option<String>,
        details: &serde_json::value::RawValue,
    ) {
        if self.trees.is_some() {
            let details = serde_json::from_str(details.get()).expect("JSON text parses");
            return self.push(Finding {
                check_id: info.id,
                severity: info.severity,
                url,
                details,
            });
        }
        self.keep(model::AuditFinding {
            check: info.id,
            category: info.category,
            severity: info.severity,
            title: info.title,
            url,
            details: details.to_owned(),
            fix: info.fix,
            order: 0,
        });
    }

    /// Keeps `kept` in the order pushed, handing a full batch to the sink.
    fn keep(&mut self, mut kept: model::AuditFinding) {
        kept.order = (self.rank << 32) | self.n;
        self.n += 1;
        if self.sink.is_some() && self.kept.capacity() == 0 {
            // A batch is sized once: grown push by push it was copied a dozen times,
            // into fresh pages each time (~4% of an audit's CPU samples).
            self.kept.reserve_exact(SINK_BATCH);
        }
        self.kept.push(kept);
        if self.kept.len() >= SINK_BATCH {
            self.drain();
        }
    }

    /// The findings pushed to a [`Findings::trees`] sink.
    pub fn into_trees(self) -> Vec<Finding> {
        self.trees.unwrap_or_default()
    }
}

/// What a page check returns when it fires: a graded severity (or `None` for the
/// check's own) and the evidence.
pub type Evidence = Option<(Option<Severity>, serde_json::Value)>;

/// A check evaluated on each URL on its own: `eval` returns the evidence when it fires,
/// with the severity when the check grades it.
#[derive(Debug)]
pub struct PageCheck {
    /// The catalogue entry.
    pub info: CheckInfo,
    /// The evaluation.
    pub eval: fn(&PageView<'_>) -> Evidence,
}

impl Check for PageCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn PerPage> {
        Some(self)
    }
}

impl PerPage for PageCheck {
    fn eval_page(&self, _: &SiteData, page: &PageView<'_>, out: &mut Findings) {
        if let Some((severity, details)) = (self.eval)(page) {
            out.push(Finding {
                check_id: self.info.id,
                severity: severity.unwrap_or(self.info.severity),
                url: Some(page.record.url.clone()),
                details,
            });
        }
    }
}

/// Trims, collapses inner whitespace and case-folds text for comparisons.
pub(crate) fn normalize_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// What the duplicate checks compare pages by, each by its position here (see
/// [`DuplicateCheck`]): the crawl's load hashes each page's keys while it still holds
/// the page's full facts, and holds the hashes of pages sharing one instead of the texts.
pub(crate) const DUPLICATE_KEYS: [fn(&model::PageFacts) -> Option<&str>; 3] =
    [titles::title, descriptions::description, headings::first_h1];

/// Reports every indexable HTML page whose key ([`DUPLICATE_KEYS`]`[key]`, normalized,
/// non-empty) is shared with another indexable page, naming the others as evidence (up
/// to 10). Pages are grouped by a 128-bit hash of the normalized key
/// ([`SiteData::duplicates`]), so each page is evaluated on its own, with its full facts,
/// and no page's text is held for the others'.
pub(crate) struct DuplicateCheck {
    pub(crate) info: CheckInfo,
    pub(crate) key: usize,
}

impl Check for DuplicateCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn PerPage> {
        Some(self)
    }
}

impl PerPage for DuplicateCheck {
    fn eval_page(&self, site: &SiteData, page: &PageView<'_>, out: &mut Findings) {
        let groups = site.duplicates(self.key);
        if groups.is_empty() {
            return;
        }
        let Some(text) = page.html().and_then(DUPLICATE_KEYS[self.key]) else {
            return;
        };
        let Some(members) = normalized_hash(text).and_then(|h| groups.get(&h)) else {
            return;
        };
        // A page whose key hashes like a group's is one of its members only if it was
        // counted (indexable): the positions are in crawl order.
        let Some(pos) = site.position(page.record.id) else {
            return;
        };
        if members.binary_search(&(pos as u32)).is_err() {
            return;
        }
        let others: Vec<&str> = members
            .iter()
            .filter(|&&m| m as usize != pos)
            .take(10)
            .map(|&m| site.url_at(m))
            .collect();
        out.push(Finding {
            check_id: self.info.id,
            severity: self.info.severity,
            url: Some(page.record.url.clone()),
            details: serde_json::json!({ "value": normalize_text(text), "shared_with": others, "pages": members.len() }),
        });
    }
}

/// The authority (`user@host:port`) of an absolute URL and the URL up to its end
/// (`scheme://authority`), read off the string: checks ask it of every page or link,
/// where parsing each URL would cost more than the check.
pub(crate) fn authority(u: &str) -> Option<(&str, &str)> {
    let start = u.find("://")? + 3;
    let end = u[start..]
        .find(['/', '?', '#'])
        .map_or(u.len(), |e| start + e);
    Some((&u[start..end], &u[..end]))
}

/// The authority, path and what follows the path (query, fragment) of `url`, a URL as
/// the crawl stores it, when its path is one the parser keeps as written: an http(s) URL
/// whose path is printable ASCII the parser does not escape, with no dot segment (also
/// `%2e`). Nearly every stored URL is so, and its parts are read off the string where
/// parsing it would cost ~6,000 instructions; `None`: ask the parser. The authority is
/// not checked.
pub(crate) fn plain_path(url: &str) -> Option<(&str, &str, &str)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    // The authority ends at the first of these; the path must start there.
    let (authority, after) = rest.split_at(rest.find(['/', '?', '#', '\\'])?);
    let (path, tail) = after.split_at(after.find(['?', '#']).unwrap_or(after.len()));
    let kept = |b: u8| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b);
    let dotted = path.contains("/.") || path.to_ascii_lowercase().contains("%2e");
    (path.starts_with('/') && !dotted && path.bytes().all(kept)).then_some((authority, path, tail))
}

/// A 128-bit hash of [`normalize_text`] of `s` without building the text (`None` when it
/// is empty): the same words, lower-cased, joined by one space. Duplicate checks group
/// pages by it without comparing texts: two different texts of a million pages collide
/// with odds of about 1 in 10^27.
pub(crate) fn normalized_hash(s: &str) -> Option<u128> {
    thread_local! {
        static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    // The normalized text built in a reused buffer and hashed at once: fed to a streaming
    // hasher word by word (two updates a word) it took ~3,600 instructions a text, ~2% of
    // an audit's, where the load hashes three texts a page.
    TEXT.with_borrow_mut(|text| {
        text.clear();
        if s.is_ascii() {
            // ASCII whitespace as `split_whitespace` has it (vertical tab included).
            let space = |b: &u8| crate::extract::is_ascii_space(*b);
            for w in s.as_bytes().split(space).filter(|w| !w.is_empty()) {
                if !text.is_empty() {
                    text.push(b' ');
                }
                let at = text.len();
                text.extend_from_slice(w);
                text[at..].make_ascii_lowercase();
            }
        } else {
            // Lower-cased word by word as `str::to_lowercase` does the whole text: a
            // word-final sigma is final either way, whitespace ends a word's context.
            for w in s.split_whitespace() {
                if !text.is_empty() {
                    text.push(b' ');
                }
                text.extend_from_slice(w.to_lowercase().as_bytes());
            }
        }
        let hash = (!text.is_empty()).then(|| xxhash_rust::xxh3::xxh3_128(text));
        if text.capacity() > 64 * 1024 {
            // A huge text once does not keep its buffer.
            *text = Vec::new();
        }
        hash
    })
}

/// Whether [`normalize_text`] of `a` and of `b` are equal, without building either: the
/// same words, lower-cased word by word (as [`normalized_hash`] does; per-page title
/// checks compare every page's title this way).
pub(crate) fn normalized_eq(a: &str, b: &str) -> bool {
    let (mut x, mut y) = (a.split_whitespace(), b.split_whitespace());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(v), Some(w)) if v.is_ascii() && w.is_ascii() => {
                if !v.eq_ignore_ascii_case(w) {
                    return false;
                }
            }
            (Some(v), Some(w)) => {
                if v.to_lowercase() != w.to_lowercase() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Runs `eval` on the facts of an internal 2xx HTML page; its evidence is the finding's.
pub(crate) fn on_html(
    p: &PageView<'_>,
    eval: impl FnOnce(&model::PageFacts) -> Option<serde_json::Value>,
) -> Evidence {
    p.html().and_then(eval).map(|v| (None, v))
}

/// A boxed [`PageCheck`] from its catalogue entry (`text`: title, why, fix).
pub(crate) fn page(
    id: &'static str,
    category: u8,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&PageView<'_>) -> Evidence,
) -> Box<dyn Check> {
    Box::new(PageCheck {
        info: CheckInfo::new(id, category, severity, text),
        eval,
    })
}

/// What a check over HTML pages may return: [`Evidence`], or just the details.
pub(crate) trait IntoEvidence {
    /// As evidence with the check's own severity unless graded.
    fn into_evidence(self) -> Evidence;
}

impl IntoEvidence for Evidence {
    fn into_evidence(self) -> Evidence {
        self
    }
}

impl IntoEvidence for Option<serde_json::Value> {
    fn into_evidence(self) -> Evidence {
        self.map(|v| (None, v))
    }
}

/// A check over the crawl's internal 2xx HTML pages, each evaluated with the whole
/// crawl at hand (targets, graph, other pages).
pub(crate) struct HtmlCheck<E> {
    pub(crate) info: CheckInfo,
    pub(crate) eval: fn(&SiteData, &PageView<'_>) -> E,
}

impl<E: IntoEvidence + 'static> Check for HtmlCheck<E> {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn PerPage> {
        Some(self)
    }
}

impl<E: IntoEvidence + 'static> PerPage for HtmlCheck<E> {
    fn eval_page(&self, site: &SiteData, p: &PageView<'_>, out: &mut Findings) {
        if p.html().is_none() {
            return;
        }
        if let Some((severity, details)) = (self.eval)(site, p).into_evidence() {
            out.push(Finding {
                check_id: self.info.id,
                severity: severity.unwrap_or(self.info.severity),
                url: Some(p.record.url.clone()),
                details,
            });
        }
    }
}

/// Every implemented check, in catalogue order.
pub fn registry() -> Vec<Box<dyn Check>> {
    let mut all: Vec<Box<dyn Check>> = Vec::new();
    all.extend(fetch::checks());
    all.extend(status::checks());
    all.extend(security::checks());
    all.extend(tls::checks());
    all.extend(redirects::checks());
    all.extend(robots_txt::checks());
    all.extend(sitemaps::checks());
    all.extend(indexability::checks());
    all.extend(canonicals::checks());
    all.extend(hreflang::checks());
    all.extend(titles::checks());
    all.extend(descriptions::checks());
    all.extend(headings::checks());
    all.extend(content::checks());
    all.extend(urls::checks());
    all.extend(architecture::checks());
    all.extend(links::checks());
    all.extend(resources::checks());
    all.extend(mobile_social::checks());
    all.extend(site_structure::checks());
    all.extend(document::checks());
    all.extend(a11y_data::checks());
    all.extend(changes::checks());
    all
}

/// Which checks run, and what they compare against.
#[derive(Debug, Clone, Default)]
pub struct AuditConfig {
    /// Check ids not to run.
    pub disabled: HashSet<String>,
    /// Thresholds (siteaudit.toml `[thresholds]`).
    pub thresholds: Thresholds,
}

/// Why an audit setting is wrong.
#[derive(Debug, thiserror::Error)]
#[error("unknown check id {0:?} (see `siteaudit checks`)")]
pub struct UnknownCheck(pub String);

impl AuditConfig {
    /// Fails on ids that name no implemented check.
    pub fn validate(&self) -> Result<(), UnknownCheck> {
        let known: HashSet<&str> = registry().iter().map(|c| c.info().id).collect();
        match self.disabled.iter().find(|d| !known.contains(d.as_str())) {
            Some(d) => Err(UnknownCheck(d.clone())),
            None => Ok(()),
        }
    }
}

/// Runs every enabled check over the crawl, comparing against `site.thresholds` (set
/// them from [`AuditConfig::thresholds`] when loading). Findings are ordered by severity
/// (errors first), then check id, then URL, then as found (see [`audit_into`]).
pub fn audit(site: &SiteData, config: &AuditConfig) -> Vec<model::AuditFinding> {
    let all = std::sync::Mutex::new(Vec::new());
    audit_into(site, config, &|mut batch| {
        all.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .append(&mut batch)
    });
    let mut kept = all
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    sort_findings(&mut kept);
    kept
}

/// Orders findings as reports list them: by severity (errors first), check id, URL,
/// then as found. The store reads them back in the same order.
pub(crate) fn sort_findings(findings: &mut [model::AuditFinding]) {
    findings.sort_unstable_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(b.check))
            .then_with(|| a.url.cmp(&b.url))
            .then_with(|| a.order.cmp(&b.order))
    });
}

/// Where [`audit_into`] hands findings, a batch at a time, from several threads.
pub type FindingSink<'a> = dyn Fn(Vec<model::AuditFinding>) + Sync + 'a;

/// Findings a worker holds before handing them to the sink.
const SINK_BATCH: usize = 4096;

/// Runs every enabled check over the crawl like [`audit`], handing the findings to
/// `sink` in batches as they are found, in no particular order: each carries its
/// [`model::AuditFinding::order`] (pages in crawl order, each page's checks in registry
/// order, then the site-wide checks), which breaks ties when they are sorted. The
/// audit never holds more than a few batches, however many findings a crawl has.
pub fn audit_into(site: &SiteData, config: &AuditConfig, sink: &FindingSink<'_>) {
    // Nothing streamed: every page is checked with the facts the crawl holds.
    let none =
        |_: &mut dyn FnMut(crate::store::UrlId, &str)| Ok::<(), std::convert::Infallible>(());
    let Ok(()) = audit_streaming(site, config, none, sink);
}

/// The checks `config` leaves on, in registry order.
fn enabled<'c>(checks: &'c [Box<dyn Check>], config: &AuditConfig) -> Vec<&'c dyn Check> {
    checks
        .iter()
        .map(|c| c.as_ref())
        .filter(|c| !config.disabled.contains(c.info().id))
        .collect()
}

/// Pages handed to the checks' workers at a time.
const PAGE_BATCH: usize = 64;

/// Runs every enabled check like [`audit_into`] over a crawl loaded with
/// [`SiteData::load_shared`], which holds of each page only what checks read across
/// pages. `facts` streams every page's stored facts JSON (e.g.
/// [`crate::store::Store::for_each_facts`]); each page is evaluated by the per-page
/// checks with its full facts as it arrives, parsed on the worker threads and dropped
/// after; pages not streamed are evaluated with what the crawl holds of them. The
/// site-wide checks run once every page is handed out, over the shared parts, each on
/// the first thread free (this one or a worker done with its pages). The findings and
/// their order are those of [`audit_into`] over the fully loaded crawl.
pub fn audit_streaming<E>(
    site: &SiteData,
    config: &AuditConfig,
    facts: impl FnOnce(&mut dyn FnMut(crate::store::UrlId, &str)) -> Result<(), E>,
    sink: &FindingSink<'_>,
) -> Result<(), E> {
    let checks = registry();
    let enabled = enabled(&checks, config);
    // Per-page checks share one pass: each page's view is assembled once, not once per
    // check. A page's findings sort by its position among the crawl's URLs.
    let page_checks: Vec<&dyn PerPage> = enabled.iter().filter_map(|c| c.per_page()).collect();
    let evaluate = |pos: usize, raw: Option<String>, found: &mut Findings| {
        let record = &site.urls[pos];
        // Facts that parsed when the crawl was loaded parse again; else what it holds.
        let full = raw.and_then(|r| serde_json::from_str::<model::PageFacts>(&r).ok());
        let page = match &full {
            Some(f) => site.view_with(record, Some(f)),
            None => site.view(record),
        };
        found.set_rank(pos as u64);
        for check in &page_checks {
            check.eval_page(site, &page, found);
        }
    };
    // The pages are split between the cores (the crawl is over, they are free).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Option<String>)>>(threads * 2);
    let rx = std::sync::Mutex::new(rx);
    // Then the site-wide checks, over what the crawl holds, each taken by the first
    // thread free once every page is handed out (not from the start: their tables would
    // be held beside every page in flight). Run on this thread alone, they were the last
    // quarter of a 100,000-page audit, the other cores mostly idle.
    let site_wide: Vec<&dyn Check> = enabled
        .iter()
        .copied()
        .filter(|c| c.per_page().is_none())
        .collect();
    let next_check = std::sync::atomic::AtomicUsize::new(0);
    let run_site_wide = |found: &mut Findings| {
        loop {
            let k = next_check.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(check) = site_wide.get(k) else {
                break;
            };
            found.set_rank((site.urls.len() + k) as u64);
            let started = std::time::Instant::now();
            check.run(site, found);
            tracing::debug!(check = check.info().id, took = ?started.elapsed(), "site-wide check");
        }
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (rx, evaluate, run_site_wide) = (&rx, &evaluate, &run_site_wide);
                scope.spawn(move || {
                    take_batches(rx, |next| {
                        let mut found = Findings::streaming(sink);
                        while let Some(batch) = next() {
                            for (pos, raw) in batch {
                                evaluate(pos, raw, &mut found);
                            }
                        }
                        run_site_wide(&mut found);
                        found.drain();
                    });
                })
            })
            .collect();
        let mut batch = Vec::with_capacity(PAGE_BATCH);
        let mut send = |page: (usize, Option<String>)| {
            batch.push(page);
            if batch.len() == PAGE_BATCH {
                // The workers only stop when the channel closes, below.
                let _ = tx.send(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(PAGE_BATCH),
                ));
            }
        };
        let mut streamed = vec![false; site.urls.len()];
        let result = facts(&mut |id, raw| {
            let Some(pos) = site.position(id) else { return };
            if site.has_facts(id) && site.urls[pos].state == "done" && !streamed[pos] {
                streamed[pos] = true;
                send((pos, Some(raw.to_owned())));
            }
        });
        for (pos, record) in site.urls.iter().enumerate() {
            if record.state == "done" && !streamed[pos] {
                send((pos, None));
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let mut found = Findings::streaming(sink);
        run_site_wide(&mut found);
        found.drain();
        for w in workers {
            w.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        tracing::debug!("per-page checks done");
        result
    })
}

/// The body of a thread taking batches from a channel it shares with others: `run`
/// takes them with the `next` it is given (`None` once the channel closes). If `run`
/// panics, the thread keeps taking batches, so the feeder is not left waiting on a full
/// channel, then passes the panic on.
fn take_batches<T>(
    rx: &std::sync::Mutex<std::sync::mpsc::Receiver<Vec<T>>>,
    run: impl FnOnce(&dyn Fn() -> Option<Vec<T>>),
) {
    let next = || {
        rx.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv()
            .ok()
    };
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&next)));
    if let Err(panic) = ran {
        while next().is_some() {}
        std::panic::resume_unwind(panic);
    }
}

/// Items [`in_parallel`] hands a thread at a time.
const PARALLEL_BATCH: usize = 256;

/// Runs `work` on every item `feed` hands in, on every core (at most 8) while `feed`
/// runs on this thread, a batch at a time to the first free thread; what it returns
/// comes back to `gather` on this thread, in no particular order. `feed`'s result is
/// returned once every item is gathered; a panic in `work` is passed on.
pub(crate) fn in_parallel<T: Send, R: Send, E>(
    work: impl Fn(T) -> Option<R> + Sync,
    gather: &mut dyn FnMut(Vec<R>),
    feed: impl FnOnce(&mut dyn FnMut(T)) -> Result<(), E>,
) -> Result<(), E> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(threads * 2);
    let rx = std::sync::Mutex::new(rx);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Vec<R>>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (rx, work, done_tx) = (&rx, &work, done_tx.clone());
                scope.spawn(move || {
                    take_batches(rx, |next| {
                        while let Some(batch) = next() {
                            // The receiver lives until every batch is gathered.
                            let _ = done_tx.send(batch.into_iter().filter_map(work).collect());
                        }
                    });
                })
            })
            .collect();
        drop(done_tx);
        let mut batch = Vec::with_capacity(PARALLEL_BATCH);
        let result = feed(&mut |item| {
            batch.push(item);
            if batch.len() == PARALLEL_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(PARALLEL_BATCH));
                // The threads only stop when the channel closes, below.
                let _ = tx.send(full);
                while let Ok(done) = done_rx.try_recv() {
                    gather(done);
                }
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        // Dropped here, the sender is owned by this closure: a panic while feeding or
        // gathering drops it too, and the threads end instead of the scope waiting.
        drop(tx);
        // Ends once every thread is done (each holds a sender).
        for done in done_rx {
            gather(done);
        }
        for w in workers {
            w.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        result
    })
}

/// The catalogue entry of an implemented check.
pub fn info(id: &str) -> Option<CheckInfo> {
    // Built once: the audit and reports look up every finding's entry (with the
    // default SipHash, ~300 instructions a lookup; the keys are the catalogue's own).
    static CATALOGUE: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, CheckInfo>> =
        std::sync::OnceLock::new();
    CATALOGUE
        .get_or_init(|| {
            registry()
                .iter()
                .map(|c| (c.info().id, *c.info()))
                .collect()
        })
        .get(id)
        .copied()
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item fed is worked on once and what work returns is gathered once, however
    /// the items fall into batches; the feeder's error comes back after.
    #[test]
    fn in_parallel_gathers_every_result_once() {
        for n in [0usize, 1, PARALLEL_BATCH, 3 * PARALLEL_BATCH + 7] {
            let mut got = Vec::new();
            let fed = in_parallel(
                |x: usize| (!x.is_multiple_of(3)).then_some(x * 2),
                &mut |done| got.extend(done),
                |send| {
                    (0..n).for_each(&mut *send);
                    Err::<(), _>("fed")
                },
            );
            assert_eq!(fed, Err("fed"));
            got.sort_unstable();
            let want: Vec<usize> = (0..n)
                .filter(|x| !x.is_multiple_of(3))
                .map(|x| x * 2)
                .collect();
            assert_eq!(got, want, "{n} items");
        }
    }

    /// A panic while gathering reaches the caller instead of leaving the threads
    /// waiting for more items.
    #[test]
    fn in_parallel_passes_a_gathering_panic_on() {
        let run = std::panic::catch_unwind(|| {
            let _ = in_parallel(Some, &mut |_: Vec<usize>| panic!("gathered"), |send| {
                (0..20 * PARALLEL_BATCH).for_each(&mut *send);
                Ok::<(), ()>(())
            });
        });
        let panic = run.expect_err("the panic is passed on");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"gathered"));
    }

    /// A panic in the work reaches the caller instead of leaving the feeder waiting.
    #[test]
    fn in_parallel_passes_a_panic_on() {
        let run = std::panic::catch_unwind(|| {
            let _ = in_parallel(
                |x: usize| {
                    assert!(x != 5, "item five");
                    Some(x)
                },
                &mut |_| {},
                |send| {
                    (0..20 * PARALLEL_BATCH).for_each(&mut *send);
                    Ok::<(), ()>(())
                },
            );
        });
        let panic = run.expect_err("the panic is passed on");
        let text = (panic.downcast_ref::<&str>().copied())
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
        assert_eq!(text, Some("item five"));
    }

    /// Evidence pushed as JSON text is kept as the same evidence pushed as a tree is,
    /// in push order, and a check test reading trees gets the tree back.
    #[test]
    fn evidence_pushed_as_text_is_kept_like_a_tree() {
        let info = registry()
            .iter()
            .map(|c| *c.info())
            .find(|i| i.id == "duplicate-near")
            .unwrap();
        let details = serde_json::json!({ "pages": 3, "similar": [{ "url": "u", "distance": 1 }] });
        let raw = serde_json::value::to_raw_value(&details).unwrap();
        let url = Some("http://site.example/a".to_string());
        let tree = Finding {
            check_id: info.id,
            severity: info.severity,
            url: url.clone(),
            details: details.clone(),
        };
        let mut text = Findings::text();
        text.push(tree.clone());
        text.push_raw(&info, url.clone(), &raw);
        let [a, b] = [&text.kept[0], &text.kept[1]];
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap()
        );
        assert_eq!(a.details.get(), b.details.get());
        assert!(a.order < b.order);
        let mut trees = Findings::trees();
        trees.push_raw(&info, url, &raw);
        assert_eq!(trees.into_trees(), vec![tree]);
    }

    /// Comparing normalized texts in place agrees with comparing the texts normalized,
    /// for case, whitespace of every kind (vertical tab and Unicode spaces too), word
    /// counts, and case-folding that changes length or depends on the word's end.
    #[test]
    fn normalized_eq_is_equality_of_the_normalized_texts() {
        let texts = [
            "Title",
            "title",
            "TITLE ",
            " Some \t Title\n with   SPACES ",
            "some title with spaces",
            "some title with",
            "some\u{0B}title\u{2003}with spaces",
            "sometitle with spaces",
            "",
            "   ",
            "ΟΔΟΣ Σ ΣΑΣ",
            "οδος σ σας",
            "οδοσ σ σασ",
            "İstanbul",
            "i\u{307}stanbul",
            "istanbul",
            "Straße",
            "STRASSE",
            "mixed ÀÉÎ and ascii",
            "MIXED àéî AND ASCII",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(
                    normalized_eq(a, b),
                    normalize_text(a) == normalize_text(b),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    /// The hash a duplicate check groups by is the hash of the normalized text, for
    /// ASCII, long words, mixed whitespace and case-folding that changes length or
    /// depends on the word's end (Greek final sigma); empty text has none.
    #[test]
    fn normalized_hash_is_the_hash_of_the_normalized_text() {
        let long = format!("{}  Tail", "AbCd".repeat(40));
        for s in [
            "Title",
            "  Some \t Title\n with   SPACES ",
            long.as_str(),
            "ΟΔΟΣ Σ ΣΑΣ",
            "İstanbul Straße ǅ",
            "mixed ÀÉÎ and ascii",
            "\x0BVertical\x0Ctab\r\nand feed",
            "\x1Cnot\x1Fspace",
            "no\u{a0}break\u{85}next \u{2003}em",
        ] {
            let expected = xxhash_rust::xxh3::xxh3_128(normalize_text(s).as_bytes());
            assert_eq!(normalized_hash(s), Some(expected), "{s:?}");
        }
        assert_eq!(normalized_hash(" \t\n "), None);
        assert_eq!(normalized_hash(""), None);
        assert_eq!(normalized_hash("A  b"), normalized_hash("a B"));
    }

    /// The registry matches the catalogue: ids unique, each one present in
    /// ../shared/checks.md with the category and severity given there.
    #[test]
    fn registry_matches_the_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/checks.md");
        let catalogue =
            std::fs::read_to_string(path).expect("../shared/checks.md beside the repository");
        let mut category = 0u8;
        let mut rows = std::collections::HashMap::new();
        for line in catalogue.lines() {
            if let Some(rest) = line.strip_prefix("## ")
                && let Some((n, name)) = rest.split_once(' ')
                && let Ok(n) = n.parse()
            {
                category = n;
                assert_eq!(category_name(n), name, "name of category {n}");
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() > 3 && cells[1].starts_with('`') && category > 0 {
                rows.insert(
                    cells[1].trim_matches('`').to_string(),
                    (category, cells[2].to_string()),
                );
            }
        }
        let reg = registry();
        let mut seen = HashSet::new();
        for c in &reg {
            let i = c.info();
            assert!(seen.insert(i.id), "{} registered twice", i.id);
            let (cat, sev) = rows
                .get(i.id)
                .unwrap_or_else(|| panic!("{} is not in checks.md", i.id));
            assert_eq!(*cat, i.category, "{}", i.id);
            assert_eq!(sev, i.severity.id(), "{}", i.id);
        }
        assert_eq!(reg.len(), IMPLEMENTED.len());
        let ids: HashSet<&str> = reg.iter().map(|c| c.info().id).collect();
        assert_eq!(ids, IMPLEMENTED.iter().copied().collect());
    }

    /// The ids this build implements (kept by hand so a change to the registry is seen).
    const IMPLEMENTED: &[&str] = &[
        "tls-cert-expired",
        "tls-cert-expiring-soon",
        "tls-cert-not-yet-valid",
        "tls-cert-name-mismatch",
        "tls-cert-untrusted",
        "tls-chain-incomplete",
        "tls-cert-weak-signature",
        "tls-cert-weak-key",
        "tls-legacy-protocol-accepted",
        "tls-modern-protocol-missing",
        "tls13-unsupported",
        "tls-weak-cipher",
        "https-unavailable",
        "http2-not-supported",
        "dns-lookup-failed",
        "connect-refused",
        "connect-timeout",
        "connection-reset",
        "response-timeout",
        "body-download-timeout",
        "tls-handshake-failed",
        "http-protocol-error",
        "content-decoding-failed",
        "body-truncated",
        "body-over-download-limit",
        "empty-html-response",
        "content-type-missing",
        "rate-limited-429",
        "http-500",
        "http-502",
        "http-503",
        "http-503-no-retry-after",
        "http-504",
        "http-5xx-other",
        "http-5xx-intermittent",
        "start-url-unreachable",
        "http-404",
        "http-410",
        "http-401",
        "http-4xx-other",
        "http-status-nonstandard",
        "http-not-redirected",
        "https-to-http-redirect",
        "internal-http-url",
        "mixed-content-blockable",
        "mixed-content-upgradable",
        "form-action-insecure",
        "form-on-http-page",
        "password-on-http-page",
        "https-links-to-http",
        "insecure-download-link",
        "external-links-http",
        "hsts-missing",
        "hsts-invalid",
        "hsts-max-age-short",
        "hsts-no-subdomains",
        "hsts-on-http",
        "csp-missing",
        "csp-weak",
        "nosniff-missing",
        "clickjacking-unprotected",
        "referrer-policy-unsafe",
        "permissions-policy-missing",
        "server-version-disclosed",
        "cookie-flags-insecure",
        "redirect-permanent",
        "redirect-temporary",
        "redirect-chain",
        "redirect-loop",
        "redirect-broken",
        "redirect-to-non-indexable",
        "redirect-location-missing",
        "redirect-location-invalid",
        "redirect-offsite",
        "redirect-to-homepage-bulk",
        "redirect-unlinked",
        "meta-refresh-redirect",
        "refresh-header-redirect",
        "robots-txt-missing",
        "robots-txt-unavailable",
        "robots-txt-redirect-problem",
        "robots-txt-too-large",
        "robots-txt-syntax-error",
        "robots-txt-rule-before-group",
        "robots-txt-invalid-pattern",
        "robots-txt-blocks-all",
        "robots-txt-specific-group-drops-rules",
        "robots-txt-no-sitemap",
        "robots-txt-sitemap-invalid",
        "robots-txt-unsupported-rules",
        "robots-txt-not-plain-text",
        "url-blocked-by-robots",
        "blocked-url-linked",
        "robots-txt-blocks-resources",
        "sitemap-not-found",
        "sitemap-fetch-failed",
        "sitemap-redirected",
        "sitemap-parse-error",
        "sitemap-format-invalid",
        "sitemap-too-many-urls",
        "sitemap-too-large",
        "sitemap-index-too-many",
        "sitemap-index-nested",
        "sitemap-empty",
        "sitemap-entry-out-of-scope",
        "sitemap-entry-invalid-url",
        "sitemap-duplicate-entry",
        "sitemap-http-on-https",
        "sitemap-url-not-200",
        "sitemap-url-noindex",
        "sitemap-url-canonicalised",
        "sitemap-url-blocked",
        "sitemap-url-in-multiple",
        "indexable-not-in-sitemap",
        "noindex-page",
        "nofollow-page",
        "directives-conflict",
        "directives-duplicated",
        "robots-meta-outside-head",
        "robots-meta-invalid-token",
        "snippet-restricted",
        "image-indexing-restricted",
        "googlebot-directives-differ",
        "noindex-linked-heavily",
        "canonical-missing",
        "canonical-conflicting",
        "canonical-duplicated",
        "canonical-relative",
        "canonical-invalid",
        "canonical-has-fragment",
        "canonical-outside-head",
        "canonical-extra-attributes",
        "canonical-target-not-200",
        "canonical-to-noindex",
        "canonical-to-blocked",
        "canonical-chain",
        "canonical-loop",
        "canonical-cross-domain",
        "canonical-https-to-http",
        "canonical-to-root",
        "canonicalised-page",
        "canonical-target-unlinked",
        "canonical-with-tracking-params",
        "canonical-with-noindex",
        "hreflang-invalid-code",
        "hreflang-relative-url",
        "hreflang-target-not-200",
        "hreflang-to-noindex",
        "hreflang-to-non-canonical",
        "hreflang-to-blocked",
        "hreflang-no-return-link",
        "hreflang-return-code-mismatch",
        "hreflang-no-self-reference",
        "hreflang-duplicate-code",
        "hreflang-url-multiple-codes",
        "hreflang-no-x-default",
        "hreflang-on-non-canonical",
        "hreflang-outside-head",
        "hreflang-unlinked",
        "hreflang-cluster-incomplete",
        "hreflang-html-lang-mismatch",
        "hreflang-without-html-lang",
        "html-lang-missing",
        "html-lang-invalid",
        "html-xml-lang-mismatch",
        "content-language-header-conflict",
        "title-missing",
        "title-multiple",
        "title-outside-head",
        "title-too-long",
        "title-too-short",
        "title-duplicate",
        "title-same-as-h1",
        "title-same-as-description",
        "title-placeholder",
        "title-keyword-repetition",
        "title-markup-noise",
        "description-missing",
        "description-multiple",
        "description-outside-head",
        "description-too-long",
        "description-too-short",
        "description-duplicate",
        "h1-missing",
        "h1-multiple",
        "h1-duplicate",
        "h1-too-long",
        "h1-image-alt-only",
        "heading-level-skipped",
        "heading-empty",
        "h2-missing",
        "duplicate-exact",
        "duplicate-near",
        "thin-content",
        "low-text-ratio",
        "soft-404",
        "lorem-ipsum",
        "template-placeholder-text",
        "url-too-long",
        "url-uppercase",
        "url-underscore",
        "url-space",
        "url-non-ascii",
        "url-multiple-slashes",
        "url-repetitive-path",
        "url-many-parameters",
        "url-repeated-parameter",
        "url-session-id",
        "url-internal-search",
        "url-default-port-or-index",
        "orphan-page",
        "crawl-depth-high",
        "single-inlink",
        "nofollow-inlinks-only",
        "mixed-follow-inlinks",
        "inlinks-only-from-non-indexable",
        "no-outlinks",
        "no-internal-outlinks",
        "too-many-links",
        "many-external-links",
        "links-to-canonicalised",
        "link-empty-href",
        "link-not-crawlable",
        "link-unsupported-scheme",
        "link-invalid-mailto-tel",
        "link-internal-broken",
        "link-internal-error",
        "link-internal-redirect",
        "link-external-broken",
        "link-external-error",
        "link-external-blocked",
        "link-external-redirect",
        "link-malformed",
        "link-localhost",
        "link-nofollow-internal",
        "link-no-anchor-text",
        "link-generic-anchor",
        "link-to-resource-file",
        "image-broken",
        "image-alt-missing",
        "image-alt-empty",
        "image-alt-too-long",
        "image-alt-filename",
        "image-file-large",
        "image-dimensions-missing",
        "image-empty-src",
        "picture-without-img",
        "image-map-used",
        "resource-broken",
        "subresource-redirect",
        "text-not-compressed",
        "resource-cache-short",
        "resource-too-large",
        "resources-total-heavy",
        "resources-too-many",
        "duplicate-resource-include",
        "render-blocking-resource",
        "viewport-missing",
        "viewport-not-device-width",
        "viewport-initial-scale",
        "viewport-zoom-disabled",
        "viewport-multiple",
        "plugins-used",
        "og-missing",
        "og-incomplete",
        "og-invalid-url",
        "og-url-not-canonical",
        "twitter-card-missing",
        "twitter-card-invalid",
        "pagination-target-error",
        "pagination-target-non-indexable",
        "pagination-not-in-anchor",
        "pagination-unlinked",
        "pagination-multiple",
        "pagination-loop",
        "pagination-sequence-error",
        "ttfb-slow",
        "html-no-validators",
        "page-weight-heavy",
        "html-size-over-2mb",
        "crawl-trap-suspected",
        "parameter-explosion",
        "doctype-missing",
        "charset-missing",
        "charset-late",
        "charset-conflict",
        "head-invalid-element",
        "head-not-first",
        "html-skeleton-missing",
        "html-skeleton-duplicated",
        "body-before-html",
        "base-href-invalid",
        "frames-used",
        "nested-anchor",
        "dom-too-large",
        "inline-script-heavy",
        "form-field-no-label",
        "input-image-no-alt",
        "iframe-no-title",
        "duplicate-id",
        "aria-hidden-body",
        "tabindex-positive",
        "main-landmark-missing",
        "video-no-captions",
        "jsonld-parse-error",
        "jsonld-context-missing",
        "microdata-invalid",
        "structured-data-missing",
        "became-non-indexable",
        "became-indexable",
        "became-broken",
        "metadata-changed",
        "canonical-changed",
        "redirect-target-changed",
        "word-count-dropped",
        "robots-txt-changed",
        "sitemap-urls-dropped",
    ];
}
