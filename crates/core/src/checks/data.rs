//! What the checks read: one crawl, loaded from the store once.

use rustc_hash::FxHashMap;

use crate::crawl::FOUND_START;
use crate::model::{Attempt, LinkKind, PageFacts, RedirectHop};
use crate::store::{
    CrawlId, CrawlInfo, LinkRow, Store, StoreError, UrlId, UrlRecord, UrlScope, is_sitemap_json,
};

/// A stored crawl, indexed for the checks and the reports.
#[derive(Debug, Clone)]
pub struct SiteData {
    /// The crawl.
    pub info: CrawlInfo,
    /// Every URL, by id order.
    pub urls: Vec<UrlRecord>,
    /// Position in `urls` by id.
    index: IdIndex,
    /// Every attempt of URLs tried more than once.
    pub attempts: FxHashMap<UrlId, Vec<Attempt>>,
    /// Redirect chains recorded inline (external checks, robots.txt, sitemaps).
    pub hops: FxHashMap<UrlId, Vec<RedirectHop>>,
    /// The links, by target in discovery order (and by source once indexed).
    pub links: super::LinkTable,
    /// Position in `urls` by URL string.
    by_url: UrlIndex,
    /// Position in `urls` of the start URL.
    start: Option<usize>,
    /// Page facts of HTML pages, parsed once, by position in `urls`.
    facts: FactsTable,
    /// robots.txt bodies by host key, as fetched.
    pub robots: Vec<crate::store::StoredRobots>,
    /// What the checks compare against.
    pub thresholds: super::Thresholds,
    /// The previous finished crawl of the same start URL, for change detection (loaded
    /// for an audit with what change detection reads of its pages, without its links).
    pub previous: Option<Box<SiteData>>,
    /// What the TLS probe found, per host.
    pub tls: Vec<crate::tls::TlsFacts>,
    /// Re-probes made after the crawl of URLs that failed, by URL.
    pub reprobes: FxHashMap<UrlId, Vec<Attempt>>,
    /// Hosts adaptive throttling slowed down.
    pub throttled: Vec<crate::report::Throttle>,
    /// For each of [`super::DUPLICATE_KEYS`], the indexable pages sharing a key: their
    /// positions in `urls`, in crawl order, by the key's normalized hash (see
    /// [`SiteData::duplicates`]).
    duplicates: [Duplicates; 3],
    /// What the content duplicate checks compare of each indexable HTML page with enough
    /// words, in crawl order (see [`SiteData::texts`]).
    texts: Vec<PageText>,
    /// Of a crawl loaded to be compared with (as a previous crawl), what change
    /// detection compares of each page's detail, which its facts leave out (see
    /// [`SiteData::prior`]); `None` when the facts hold it.
    priors: Option<FxHashMap<UrlId, Prior>>,
}

/// Pages sharing one key, by its normalized hash (only hashes two pages or more share).
type Duplicates = FxHashMap<u128, Box<[u32]>>;

/// What the content duplicate checks compare of a page (see [`SiteData::texts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageText {
    /// The page's position in [`SiteData::urls`].
    pub(crate) pos: u32,
    /// Its text, numbered (by the position of the first page with it): pages with the
    /// same number have the same stored text hash.
    pub(crate) text: u32,
    /// Its SimHash, when it has one that reads.
    pub(crate) simhash: Option<u64>,
}

/// Pages with fewer words are not compared for duplication.
pub(crate) const MIN_WORDS_COMPARED: u32 = 20;

/// A 128-bit hash as four 32-bit words: held for every page while a crawl is loaded,
/// where a `u128`'s 16-byte alignment would pad each (hash, position) pair to 32 bytes
/// instead of 20 (a million-page crawl's three keys: 96 MB against 60).
type Words = [u32; 4];

/// `h` as [`Words`] (any fixed split: only equality and grouping are asked of it).
fn words(h: u128) -> Words {
    [
        (h >> 96) as u32,
        (h >> 64) as u32,
        (h >> 32) as u32,
        h as u32,
    ]
}

/// The hash [`words`] split.
fn joined(w: Words) -> u128 {
    w.iter().fold(0, |acc, &x| (acc << 32) | u128::from(x))
}

/// What checks compare across pages of the parts of their facts a streamed audit does
/// not hold (the detail): taken from each page's full facts as the crawl is loaded.
#[derive(Default)]
struct Projections {
    /// Each counted page's key hashes with its position.
    keys: [Vec<(Words, u32)>; 3],
    texts: Vec<PageText>,
    /// Each text's stored hash as a number ([`text_number`]), with the text's index in
    /// `texts`: numbered once every page is in (a list, where a hash table by text took
    /// twice the room).
    text_hashes: Vec<([u32; 2], u32)>,
}

/// A stored text hash as a number, in two words (a pair with a position takes 12 bytes,
/// where a `u64` would pad it to 16): the 64-bit value the extractor writes as 16
/// lowercase hex digits, read back (equal strings give equal numbers, and different ones
/// different numbers), or for anything else (another version's) a 64-bit hash of it.
fn text_number(stored: &str) -> [u32; 2] {
    let hex = stored.len() == 16
        && stored
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let v = match hex {
        true => u64::from_str_radix(stored, 16).unwrap_or_default(),
        false => xxhash_rust::xxh3::xxh3_64(stored.as_bytes()),
    };
    [(v >> 32) as u32, v as u32]
}

/// What [`Projections`] takes of one page: worked out from its full facts where they
/// are parsed, added where the crawl is gathered.
#[derive(Debug)]
struct Projected {
    keys: [Option<Words>; 3],
    /// The stored text hash as a number and the SimHash, when the page has enough words.
    text: Option<([u32; 2], Option<u64>)>,
}

impl Projected {
    /// Of `page` (viewed with its full facts), if it counts: an indexable HTML page,
    /// fetched.
    fn of(page: &PageView<'_>) -> Option<Self> {
        let f = page.html()?;
        if page.record.state != "done" || page.non_indexable_reason().is_some() {
            return None;
        }
        let keys =
            super::DUPLICATE_KEYS.map(|key| key(f).and_then(super::normalized_hash).map(words));
        let text = (f.text.words >= MIN_WORDS_COMPARED).then(|| {
            (
                text_number(&f.text.text_hash),
                u64::from_str_radix(&f.text.simhash, 16).ok(),
            )
        });
        Some(Self { keys, text })
    }
}

/// What a load takes of a page's full facts besides what it keeps of them.
enum Taken {
    /// For checks across pages of the crawl checked.
    Projected(Option<Projected>),
    /// For change detection, of the crawl compared with.
    Prior(UrlId, Prior),
}

impl Projections {
    /// Adds what was taken of the page at `pos`. Pages may come in any order: `finish`
    /// sorts what it groups.
    fn add(&mut self, p: Projected, pos: usize) {
        for (hashes, key) in self.keys.iter_mut().zip(p.keys) {
            if let Some(h) = key {
                hashes.push((h, pos as u32));
            }
        }
        if let Some((text, simhash)) = p.text {
            self.text_hashes.push((text, self.texts.len() as u32));
            self.texts.push(PageText {
                pos: pos as u32,
                // Numbered in `finish`.
                text: 0,
                simhash,
            });
        }
    }

    /// Hands `site` the groups of pages sharing each key and the pages' texts in crawl
    /// order.
    fn finish(self, site: &mut SiteData) {
        site.duplicates = self.keys.map(|mut hashes| {
            shared_runs(&mut hashes)
                .map(|run| (joined(run[0].0), run.iter().map(|&(_, pos)| pos).collect()))
                .collect()
        });
        let mut texts = self.texts;
        // Each text is numbered by the position of its first page.
        let mut hashes = self.text_hashes;
        for run in runs(&mut hashes) {
            let first = run.iter().map(|&(_, i)| texts[i as usize].pos).min();
            for &(_, i) in run {
                texts[i as usize].text = first.unwrap_or_default();
            }
        }
        drop(hashes);
        // Facts are read in id order, which is crawl order only for a dense crawl.
        texts.sort_unstable_by_key(|t| t.pos);
        texts.shrink_to_fit();
        site.texts = texts;
    }
}

/// The runs of `pairs` (value, position) sharing a value with another pair, each in
/// position order: what the duplicate checks group pages by.
pub(crate) fn shared_runs<K: Ord>(pairs: &mut [(K, u32)]) -> impl Iterator<Item = &[(K, u32)]> {
    runs(pairs).filter(|run| run.len() > 1)
}

/// The runs of `pairs` (value, position) sharing a value, each in position order, in
/// value order.
fn runs<K: Ord>(pairs: &mut [(K, u32)]) -> impl Iterator<Item = &[(K, u32)]> {
    pairs.sort_unstable();
    pairs.chunk_by(|a, b| a.0 == b.0)
}

/// Positions in a crawl's URL list by id. The engine numbers URLs densely from 1, so a
/// crawl read in id order needs no table (a million-URL crawl saves one); any other list
/// gets a hash table.
#[derive(Debug, Clone, Default)]
struct IdIndex {
    sparse: Option<FxHashMap<UrlId, usize>>,
}

impl IdIndex {
    fn new(urls: &[UrlRecord]) -> Self {
        let dense = urls.iter().enumerate().all(|(i, u)| u.id as usize == i + 1);
        Self {
            sparse: (!dense).then(|| urls.iter().enumerate().map(|(i, u)| (u.id, i)).collect()),
        }
    }

    /// The position of `id` in `urls` (the list the index was built from).
    fn get(&self, urls: &[UrlRecord], id: UrlId) -> Option<usize> {
        match &self.sparse {
            Some(map) => map.get(&id).copied(),
            None => (id as usize).checked_sub(1).filter(|&i| i < urls.len()),
        }
    }
}

/// Positions in a crawl's URL list by URL string. The table holds only positions (4
/// bytes a slot), hashed by the string each names, and a lookup compares the strings
/// found: a million-URL crawl holds neither a second copy of its URLs nor a key beside
/// each position. Of two records with the same URL, the first is found.
#[derive(Debug, Clone, Default)]
struct UrlIndex(hashbrown::HashTable<u32>);

impl UrlIndex {
    fn hash(url: &str) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(url)
    }

    fn new(urls: &[UrlRecord]) -> Self {
        let mut table = hashbrown::HashTable::with_capacity(urls.len());
        for (i, u) in urls.iter().enumerate() {
            let hash = Self::hash(&u.url);
            if table
                .find(hash, |&j| urls[j as usize].url == u.url)
                .is_none()
            {
                table.insert_unique(hash, i as u32, |&j| Self::hash(&urls[j as usize].url));
            }
        }
        Self(table)
    }

    /// The position of `url` in `urls` (the list the index was built from).
    fn get(&self, urls: &[UrlRecord], url: &str) -> Option<usize> {
        self.0
            .find(Self::hash(url), |&j| urls[j as usize].url == url)
            .map(|&j| j as usize)
    }
}

/// Where the start URL's record is.
fn start_of(urls: &[UrlRecord]) -> Option<usize> {
    urls.iter().position(|u| u.found_by == FOUND_START)
}

/// A page's facts as the crawl holds them: `None` for facts with every field at its
/// default, which most pages' shared facts are (see [`shared_facts`]); they read as
/// [`NO_FACTS`].
type Held = Option<Box<PageFacts>>;

/// Page facts by position in a crawl's URL list: whether each URL has facts (an HTML
/// page) and what is held of them, 9 bytes a URL (a hash table by id took about 35 at a
/// million URLs: 16-byte entries, half its slots empty after growing).
#[derive(Debug, Clone, Default)]
struct FactsTable {
    has: Vec<bool>,
    held: Vec<Held>,
}

impl FactsTable {
    /// A table for `len` URLs, none with facts yet.
    fn new(len: usize) -> Self {
        Self {
            has: vec![false; len],
            held: std::iter::repeat_with(|| None).take(len).collect(),
        }
    }

    /// Gives the URL at `pos` facts, of which `held` is kept.
    fn set(&mut self, pos: usize, held: Held) {
        self.has[pos] = true;
        self.held[pos] = held;
    }

    /// What is held of the facts of the URL at `pos`, if it has facts.
    fn get(&self, pos: usize) -> Option<&Held> {
        self.has.get(pos)?.then(|| &self.held[pos])
    }

    /// Each URL with facts: its position and what is held.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = (usize, &Held)> {
        (0..self.has.len()).filter_map(|pos| Some((pos, self.get(pos)?)))
    }
}

/// Facts with every field at its default: what a page whose held facts are `None` has.
static NO_FACTS: PageFacts = PageFacts {
    meta_robots: Vec::new(),
    canonicals: Vec::new(),
    canonical_tags: Vec::new(),
    directives: Vec::new(),
    hreflang: Vec::new(),
    detail: None,
};

/// `f`, held for the whole audit: `None` when every field is at its default, else with
/// its lists shrunk to fit (deserialized lists start with room for four).
fn held(mut f: Box<PageFacts>) -> Held {
    if *f == NO_FACTS {
        return None;
    }
    f.meta_robots.shrink_to_fit();
    f.canonicals.shrink_to_fit();
    f.canonical_tags.shrink_to_fit();
    f.directives.shrink_to_fit();
    f.hreflang.shrink_to_fit();
    Some(f)
}

/// Whether canonical `c` of the page at `url` names another URL (not the page itself,
/// as written or normalized): what makes a page canonicalised.
fn canonicalises_elsewhere(c: &str, url: &str) -> bool {
    // A canonical spelled as the (normalized) URL itself needs no normalizing: most do.
    c != url && crate::url::normalize(c).is_ok_and(|c| c.as_str() != url)
}

/// What of a page's facts the checks read when they look past the page itself (other
/// pages' facts, site-wide comparisons): the facts without their
/// [`crate::model::PageDetail`], which holds what only checks of the page itself read:
/// among them its titles, descriptions, headings and text statistics, which the
/// duplicate checks compare as hashes taken as the crawl is loaded (see
/// [`SiteData::duplicates`] and [`SiteData::texts`]). Of its canonicals, only those
/// naming another URL (what [`PageView::non_indexable_reason`] reads of another page),
/// and its canonical tags only when it declares a canonical other than itself (what the
/// canonical chain and loop checks read of another page, see
/// `canonicals::declares_only_itself`). Most pages then hold nothing (`None`).
///
/// A streamed audit holds only this of each page, and gives each per-page evaluation
/// the page's full facts (see [`SiteData::load_shared`]). A field left out here that a
/// check reads of another page would read empty: every check test runs both ways and
/// compares (`test_support`).
pub(crate) fn shared_facts(site: &SiteData, record: &UrlRecord, mut f: Box<PageFacts>) -> Held {
    let self_only = super::canonicals::declares_only_itself(&site.view_with(record, Some(&f)));
    f.detail = None;
    f.canonicals
        .retain(|c| canonicalises_elsewhere(c, &record.url));
    if self_only {
        f.canonical_tags = Vec::new();
    }
    held(f)
}

/// What the previous crawl's pages keep: the facts without their detail, canonicals
/// whole (change detection compares the first). What it compares of the detail (title,
/// description, first H1, word count) is held apart, see [`SiteData::prior`].
pub(crate) fn previous_facts(_: &SiteData, _: &UrlRecord, mut f: Box<PageFacts>) -> Held {
    f.detail = None;
    held(f)
}

/// What change detection compares of a previous crawl's page beyond the facts it
/// holds (see [`SiteData::prior`]): a few strings instead of an 800-byte detail a page.
#[derive(Debug, Clone)]
pub(crate) struct Prior {
    title: Option<Box<str>>,
    description: Option<Box<str>>,
    h1: Option<Box<str>>,
    words: u32,
}

impl Prior {
    fn of(f: &PageFacts) -> Self {
        let p = PriorRef::of(f);
        Self {
            title: p.title.map(Box::from),
            description: p.description.map(Box::from),
            h1: p.h1.map(Box::from),
            words: p.words,
        }
    }

    fn borrowed(&self) -> PriorRef<'_> {
        PriorRef {
            title: self.title.as_deref(),
            description: self.description.as_deref(),
            h1: self.h1.as_deref(),
            words: self.words,
        }
    }
}

/// A page's first title, first description, first H1 and word count, as change
/// detection compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PriorRef<'a> {
    /// The first `<title>`.
    pub(crate) title: Option<&'a str>,
    /// The first meta description.
    pub(crate) description: Option<&'a str>,
    /// The first H1's text.
    pub(crate) h1: Option<&'a str>,
    /// Words of main text.
    pub(crate) words: u32,
}

impl<'a> PriorRef<'a> {
    /// Of a page's full facts.
    pub(crate) fn of(f: &'a PageFacts) -> Self {
        Self {
            title: f.titles.first().map(String::as_str),
            description: f.descriptions.first().map(String::as_str),
            h1: f
                .headings
                .iter()
                .find(|h| h.level == 1)
                .map(|h| h.text.as_str()),
            words: f.text.words,
        }
    }
}

/// What a load keeps of a page's facts: given the crawl (its URLs and links loaded),
/// the page's record and its full facts.
type Keep = fn(&SiteData, &UrlRecord, Box<PageFacts>) -> Held;

/// Parses the stored facts of every HTML page.
fn parse_facts(urls: &[UrlRecord]) -> FactsTable {
    let mut table = FactsTable::new(urls.len());
    for (pos, u) in urls.iter().enumerate() {
        let Some(f) = u.facts().map(|f| f.get()) else {
            continue;
        };
        // Sitemaps store their own facts (`{"sitemap":…}`); only page facts parse as PageFacts.
        if !is_sitemap_json(f)
            && let Ok(f) = serde_json::from_str(f)
        {
            table.set(pos, Some(f));
        }
    }
    table
}

impl SiteData {
    /// Loads crawl `id`.
    pub fn load(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        Ok(Self::load_without_facts(store, id)?.with_facts())
    }

    /// Loads crawl `id` without parsing page facts or indexing links by source: what a
    /// report needs when no check runs.
    pub fn load_without_facts(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        Self::load_parts(store, id, |s, id| s.urls(id), true)
    }

    /// Loads crawl `id` for checks whose report lists no URLs: page facts are parsed
    /// row by row as they are read and their JSON is not kept (sitemaps keep theirs),
    /// so the crawl is never held both as JSON text and parsed.
    pub fn load_lean(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        Self::load_parsed(store, id, |_, _, f| Some(f), true)
    }

    /// [`SiteData::load_lean`], keeping `keep` of each page's parsed facts. The links
    /// are read and indexed on a thread of their own meanwhile (the store has a read
    /// connection for each).
    ///
    /// `checked`: whether checks run over this crawl (not only compare with it), which
    /// then need its links and the projections of what its pages' facts leave out
    /// ([`SiteData::duplicates`], [`SiteData::texts`]).
    fn load_parsed(
        store: &dyn Store,
        id: CrawlId,
        keep: Keep,
        checked: bool,
    ) -> Result<Self, StoreError> {
        std::thread::scope(|scope| {
            // A crawl only compared with has no check reading its links.
            let links = scope.spawn(move || match checked {
                true => super::LinkTable::load(store, id),
                false => Ok(super::LinkTable::default()),
            });
            let mut site = Self::load_parts(store, id, |s, id| s.urls_for_audit(id), false)?;
            let mut facts = FactsTable::new(site.urls.len());
            let mut sitemaps = Vec::new();
            let mut cross = Projections::default();
            let mut priors = FxHashMap::default();
            let site_ref = &site;
            // The facts are parsed on every core while this thread reads them: parsing
            // is most of a load's work, reading a fraction.
            let parse = |(uid, raw): (UrlId, String)| {
                let f = Box::new(
                    serde_json::from_str::<crate::model::LeanFacts>(&raw)
                        .ok()?
                        .0,
                );
                // Facts of no URL of the crawl are of no page a check looks at.
                let pos = site_ref.index.get(&site_ref.urls, uid)?;
                let record = &site_ref.urls[pos];
                let taken = match checked {
                    true => Taken::Projected(Projected::of(&site_ref.view_with(record, Some(&f)))),
                    false => Taken::Prior(uid, Prior::of(&f)),
                };
                Some((pos, keep(site_ref, record, f), taken))
            };
            let mut gather = |parsed: Vec<_>| {
                for (pos, held, taken) in parsed {
                    match taken {
                        Taken::Projected(Some(p)) => cross.add(p, pos),
                        Taken::Projected(None) => {}
                        Taken::Prior(uid, prior) => {
                            priors.insert(uid, prior);
                        }
                    }
                    facts.set(pos, held);
                }
            };
            super::in_parallel(parse, &mut gather, |send| {
                store.for_each_facts(id, &mut |uid, raw| {
                    if is_sitemap_json(raw) {
                        sitemaps.push((uid, raw.to_string()));
                    } else {
                        send((uid, raw.to_string()));
                    }
                })
            })?;
            cross.finish(&mut site);
            site.priors = (!checked).then_some(priors);
            for (uid, raw) in sitemaps {
                if let Some(i) = site.index.get(&site.urls, uid) {
                    site.urls[i].set_facts(serde_json::value::RawValue::from_string(raw).ok());
                }
            }
            site.facts = facts;
            site.links = links
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            site.index_outlinks();
            Ok(site)
        })
    }

    /// Loads crawl `id` for a streamed audit ([`crate::checks::audit_streaming`]): like
    /// [`SiteData::load_lean`], but each page keeps only what checks read across pages
    /// (`shared_facts`: its facts without their [`crate::model::PageDetail`], often
    /// nothing); the per-page checks are handed each page's full facts as the store
    /// streams them again. A large crawl's audit holds a fraction of its facts.
    pub fn load_shared(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        Self::load_parsed(store, id, shared_facts, true)
    }

    /// Loads crawl `id` for a streamed audit ([`SiteData::load_shared`]) and, for change
    /// detection, the crawl `previous` (see [`SiteData::previous_crawl`]): its pages'
    /// facts without their detail, what change detection compares of that held apart
    /// (see `SiteData::prior`), and not its links (no check reads them).
    pub fn load_for_audit(
        store: &dyn Store,
        id: CrawlId,
        previous: Option<CrawlId>,
    ) -> Result<Self, StoreError> {
        let mut site = Self::load_shared(store, id)?;
        if let Some(earlier) = previous {
            // Change detection reads the previous crawl's pages one by one; no check runs
            // over it.
            site.previous = Some(Box::new(Self::load_parsed(
                store,
                earlier,
                previous_facts,
                false,
            )?));
        }
        Ok(site)
    }

    /// Keeps of each page's facts only what checks read across pages: of this crawl's
    /// pages [`shared_facts`], of the previous crawl's [`previous_facts`].
    #[cfg(test)]
    pub(crate) fn share_facts(&mut self) {
        self.keep_facts(shared_facts);
        if let Some(p) = &mut self.previous {
            let priors = p
                .facts
                .iter()
                .filter_map(|(pos, f)| Some((p.urls[pos].id, Prior::of(f.as_deref()?))))
                .collect();
            p.priors = Some(priors);
            p.keep_facts(previous_facts);
            // As SiteData::load_for_audit loads it.
            p.links = super::LinkTable::default();
        }
    }

    /// Keeps `keep` of each page's facts.
    #[cfg(test)]
    fn keep_facts(&mut self, keep: Keep) {
        let mut facts = std::mem::take(&mut self.facts);
        for pos in 0..self.urls.len() {
            if facts.get(pos).is_some() {
                let f = facts.held[pos].take();
                facts.held[pos] = f.and_then(|f| keep(self, &self.urls[pos], f));
            }
        }
        self.facts = facts;
    }

    /// Loads what a summary report of crawl `id` reads when no check runs: URL rows
    /// without page facts (see [`Store::url_summaries`]), and only the links to URLs that
    /// can be problems (error statuses, failures, redirects), read through the store's
    /// index by target. A crawl of a million pages is summarised without holding its
    /// links or every response's headers.
    pub fn load_summary(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        let mut site = Self::load_parts(store, id, |s, id| s.url_summaries(id), false)?;
        let candidates: Vec<UrlId> = site
            .urls
            .iter()
            .filter(|u| {
                u.failure().is_some()
                    || u.location().is_some()
                    || u.status.is_some_and(|s| s >= 400)
            })
            .map(|u| u.id)
            .collect();
        site.links = super::LinkTable::from_links(store.links_to(id, &candidates)?);
        Ok(site)
    }

    fn load_parts(
        store: &dyn Store,
        id: CrawlId,
        rows: fn(&dyn Store, CrawlId) -> Result<Vec<UrlRecord>, StoreError>,
        links: bool,
    ) -> Result<Self, StoreError> {
        let info = store.crawl(id)?;
        let urls = rows(store, id)?;
        let index = IdIndex::new(&urls);
        let by_url = UrlIndex::new(&urls);
        let start = start_of(&urls);
        let links = if links {
            super::LinkTable::load(store, id)?
        } else {
            super::LinkTable::default()
        };
        Ok(Self {
            info,
            urls,
            index,
            attempts: store.retried_attempts(id)?.into_iter().collect(),
            hops: store.hops(id)?.into_iter().collect(),
            robots: store.robots(id)?,
            thresholds: super::Thresholds::default(),
            previous: None,
            // A record that does not parse (written by another version) is skipped.
            reprobes: store.reprobes(id)?.into_iter().collect(),
            throttled: store
                .host_probes(id, "throttle")?
                .into_iter()
                .filter_map(|(_, json)| serde_json::from_str(&json).ok())
                .collect(),
            tls: store
                .host_probes(id, "tls")?
                .into_iter()
                .filter_map(|(_, json)| serde_json::from_str(&json).ok())
                .collect(),
            links,
            start,
            by_url,
            facts: FactsTable::default(),
            duplicates: Default::default(),
            texts: Vec::new(),
            priors: None,
        })
    }

    /// Frees the stored JSON of every page whose facts were parsed (sitemaps keep theirs,
    /// the checks read it), here and in the previous crawl: what [`SiteData::load_lean`]
    /// holds, for tests that build a crawl in memory.
    #[cfg(test)]
    pub(crate) fn drop_page_json(&mut self) {
        for (pos, u) in self.urls.iter_mut().enumerate() {
            if self.facts.get(pos).is_some() {
                u.set_facts(None);
            }
        }
        if let Some(p) = &mut self.previous {
            p.drop_page_json();
        }
    }

    /// The crawl's URL records, moved out, and its links as the store holds them (in no
    /// particular order).
    pub fn into_rows(self) -> (Vec<UrlRecord>, Vec<LinkRow>) {
        let Self { urls, links, .. } = self;
        (urls, links.rows())
    }

    /// The crawl change detection compares crawl `id` against: the newest finished
    /// crawl before it with the same start URL (not a re-check).
    pub fn previous_crawl(store: &dyn Store, id: CrawlId) -> Result<Option<CrawlId>, StoreError> {
        let start_url = store.crawl(id)?.start_url;
        Ok(store
            .crawls()?
            .into_iter()
            .find(|c| {
                c.id < id
                    && c.state == "finished"
                    && c.start_url == start_url
                    && c.config.recheck_of.is_none()
            })
            .map(|c| c.id))
    }

    /// Frees the page facts, links by source and the previous crawl: what only the
    /// checks read, once they have run.
    pub fn drop_facts(&mut self) {
        self.facts = FactsTable::default();
        self.duplicates = Default::default();
        self.texts = Vec::new();
        self.links.drop_source_index();
        self.previous = None;
        for u in &mut self.urls {
            u.set_facts(None);
        }
    }

    /// Derives what is computed once per crawl: parsed facts, links by source.
    fn with_facts(mut self) -> Self {
        self.facts = parse_facts(&self.urls);
        let mut cross = Projections::default();
        for (pos, record) in self.urls.iter().enumerate() {
            if let Some(p) = Projected::of(&self.view(record)) {
                cross.add(p, pos);
            }
        }
        cross.finish(&mut self);
        self.index_outlinks();
        self
    }

    /// The indexable pages sharing key `key` of [`super::DUPLICATE_KEYS`] with another:
    /// by the key's normalized hash ([`super::normalized_hash`]), their positions in
    /// [`SiteData::urls`] in crawl order. Worked out as the crawl is loaded, from each
    /// page's full facts: a streamed audit's shared facts leave the texts out.
    pub(crate) fn duplicates(&self, key: usize) -> &Duplicates {
        &self.duplicates[key]
    }

    /// What change detection compares of page `id` of a crawl it compares with: held
    /// apart when the crawl was loaded as a previous crawl, else read off its facts.
    pub(crate) fn prior(&self, id: UrlId) -> Option<PriorRef<'_>> {
        match &self.priors {
            Some(priors) => priors.get(&id).map(Prior::borrowed),
            None => self.facts_of(id).map(PriorRef::of),
        }
    }

    /// The URL at position `pos` of [`SiteData::urls`] (the checks' projections name
    /// pages by position).
    pub(crate) fn url_at(&self, pos: u32) -> &str {
        &self.urls[pos as usize].url
    }

    /// What the content duplicate checks compare of each indexable internal HTML page
    /// with at least [`MIN_WORDS_COMPARED`] words, in crawl order: worked out as the
    /// crawl is loaded, from each page's full facts (a streamed audit's shared facts
    /// leave the text statistics out).
    pub(crate) fn texts(&self) -> &[PageText] {
        &self.texts
    }

    /// Indexes the links by source (what [`SiteData::outlinks`] reads).
    pub(crate) fn index_outlinks(&mut self) {
        self.links.index_sources();
    }

    /// The links on page `id`, by target (in discovery order for one target).
    pub fn outlinks(&self, id: UrlId) -> impl Iterator<Item = super::LinkRef<'_>> + Clone {
        self.links.from(id)
    }

    /// The links of kind `kind` on page `id`, in [`SiteData::outlinks`]' order.
    pub fn outlinks_of(
        &self,
        id: UrlId,
        kind: crate::model::LinkKind,
    ) -> impl Iterator<Item = super::LinkRef<'_>> + Clone {
        self.links.from_kind(id, kind)
    }

    /// Whether page `id` has any link.
    pub fn has_outlinks(&self, id: UrlId) -> bool {
        self.links.has_from(id)
    }

    /// The links pointing at `id`, in discovery order.
    pub fn inlinks(&self, id: UrlId) -> super::Links<'_> {
        self.links.to(id)
    }

    /// Assembles a crawl from parts (tests, other stores).
    pub fn from_parts(info: CrawlInfo, urls: Vec<UrlRecord>) -> Self {
        let index = IdIndex::new(&urls);
        let by_url = UrlIndex::new(&urls);
        let start = start_of(&urls);
        Self {
            info,
            urls,
            index,
            attempts: FxHashMap::default(),
            hops: FxHashMap::default(),
            links: super::LinkTable::default(),
            start,
            by_url,
            facts: FactsTable::default(),
            robots: Vec::new(),
            thresholds: super::Thresholds::default(),
            previous: None,
            tls: Vec::new(),
            reprobes: FxHashMap::default(),
            throttled: Vec::new(),
            duplicates: Default::default(),
            texts: Vec::new(),
            priors: None,
        }
        .with_facts()
    }

    /// The record of a URL, by its normalized spelling.
    pub fn by_url(&self, url: &str) -> Option<&UrlRecord> {
        self.by_url.get(&self.urls, url).map(|i| &self.urls[i])
    }

    /// Where `start`'s redirects lead, hop by hop: the chain recorded inline (external
    /// checks) or rebuilt by following `location` through the crawled URLs, stopping at
    /// a URL seen before (the repeated URL is the last hop), one not crawled, or one
    /// that does not redirect. Empty when `start` does not redirect.
    pub fn chain(&self, start: &UrlRecord) -> Vec<RedirectHop> {
        if let Some(h) = self.hops.get(&start.id) {
            return h.clone();
        }
        if start.location().is_none() {
            return Vec::new();
        }
        let hop = |u: &UrlRecord| RedirectHop {
            url: u.url.clone(),
            status: u.status,
            location: u.location().map(str::to_string),
        };
        let mut chain = vec![hop(start)];
        let mut current = start;
        // Bounded: a chain longer than this is over every hop limit anyway.
        while chain.len() <= 64 {
            let next = current
                .location()
                .and_then(|l| crate::url::normalize(l).ok())
                .and_then(|l| self.by_url(l.as_str()));
            let Some(next) = next else {
                break;
            };
            let repeated = chain.iter().any(|h| h.url == next.url);
            chain.push(hop(next));
            if repeated {
                break;
            }
            current = next;
        }
        chain
    }

    /// The start URL's record.
    pub fn start(&self) -> Option<&UrlRecord> {
        self.start.map(|i| &self.urls[i])
    }

    /// The position in [`SiteData::urls`] of this URL.
    pub fn position_of_url(&self, url: &str) -> Option<usize> {
        self.by_url.get(&self.urls, url)
    }

    /// The record with this id.
    pub fn get(&self, id: UrlId) -> Option<&UrlRecord> {
        self.index.get(&self.urls, id).map(|i| &self.urls[i])
    }

    /// Every fetched URL, with what the checks need about it.
    pub fn pages(&self) -> impl Iterator<Item = PageView<'_>> {
        self.urls
            .iter()
            .filter(|u| u.state == "done")
            .map(|record| self.view(record))
    }

    /// The position in [`SiteData::urls`] of the URL with this id.
    pub(crate) fn position(&self, id: UrlId) -> Option<usize> {
        self.index.get(&self.urls, id)
    }

    /// Whether page `id` has parsed facts (an HTML page).
    pub fn has_facts(&self, id: UrlId) -> bool {
        self.position(id)
            .is_some_and(|pos| self.facts.get(pos).is_some())
    }

    /// The parsed facts of page `id` (what the crawl holds: after a load for an audit,
    /// what checks read of other pages, `shared_facts`).
    pub fn facts_of(&self, id: UrlId) -> Option<&PageFacts> {
        let f = self.facts.get(self.position(id)?)?;
        Some(f.as_deref().unwrap_or(&NO_FACTS))
    }

    /// One URL as a check sees it.
    pub fn view<'a>(&'a self, record: &'a UrlRecord) -> PageView<'a> {
        self.view_with(record, self.facts_of(record.id))
    }

    /// One URL as a check sees it, with these facts (a streamed audit's full facts of
    /// the page, where the crawl holds only the shared part).
    pub fn view_with<'a>(
        &'a self,
        record: &'a UrlRecord,
        facts: Option<&'a PageFacts>,
    ) -> PageView<'a> {
        let html_ok = || {
            record.scope == UrlScope::Internal
                && record.status.is_some_and(|s| (200..300).contains(&s))
                && crate::extract::is_html(record.content_type.as_deref())
        };
        PageView {
            record,
            attempts: self.attempts.get(&record.id).map_or(&[], Vec::as_slice),
            inlinks: self.links.to(record.id),
            facts,
            limits: &self.thresholds,
            html: facts.filter(|_| html_ok()),
            url: std::cell::OnceCell::new(),
        }
    }
}

/// One fetched URL as a check sees it.
#[derive(Debug, Clone)]
pub struct PageView<'a> {
    /// The stored record.
    pub record: &'a UrlRecord,
    /// Every attempt when there was more than one (else empty).
    pub attempts: &'a [Attempt],
    /// The links pointing at it.
    pub inlinks: super::Links<'a>,
    /// Its facts, when it is an HTML page that was parsed.
    pub facts: Option<&'a PageFacts>,
    /// The crawl's check thresholds.
    pub limits: &'a super::Thresholds,
    /// `facts` when it is an internal HTML page that answered 2xx (worked out once: most
    /// checks ask).
    html: Option<&'a PageFacts>,
    /// The URL parsed, once for all the checks that read its parts.
    url: std::cell::OnceCell<Option<url::Url>>,
}

impl<'a> PageView<'a> {
    /// The URL parsed (`None` for the records of links that are not valid URLs).
    pub fn url(&self) -> Option<&url::Url> {
        self.url
            .get_or_init(|| url::Url::parse(&self.record.url).ok())
            .as_ref()
    }

    /// The final status.
    pub fn status(&self) -> Option<u16> {
        self.record.status
    }

    /// A kept response header (lower-case name), borrowed from the crawl.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.record
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The facts of an internal HTML page that answered 2xx (what content checks look at).
    pub fn html(&self) -> Option<&'a PageFacts> {
        self.html
    }

    /// Whether the URL is internal.
    pub fn internal(&self) -> bool {
        self.record.scope == UrlScope::Internal
    }

    /// Whether it is expected to be a page: the start URL, listed in a sitemap, or the
    /// target of a link that leads to pages (`a`, canonical, hreflang, pagination, …).
    pub fn is_page_target(&self) -> bool {
        self.record.found_by == FOUND_START
            || self.record.in_sitemap
            || self
                .inlinks
                .iter()
                .any(|l| l.kind.kind().is_some_and(LinkKind::leads_to_page))
    }

    /// Why an HTML page is not indexable, if it is not: blocked by robots.txt, `noindex`
    /// (meta robots or X-Robots-Tag), or canonicalised to another URL.
    pub fn non_indexable_reason(&self) -> Option<&'static str> {
        let r = self.record;
        if r.robots_disallowed
            || matches!(
                r.failure(),
                Some(crate::model::FailureKind::BlockedByRobots)
            )
        {
            return Some("blocked by robots.txt");
        }
        // Asked for every page and link target, many times: compared in place.
        let noindex = |v: &str| {
            v.split(',').map(str::trim).any(|t| {
                // `crawler: noindex`, for one crawler.
                let scoped = b": noindex";
                let b = t.as_bytes();
                t.eq_ignore_ascii_case("noindex")
                    || t.eq_ignore_ascii_case("none")
                    || b.len() >= scoped.len()
                        && b[b.len() - scoped.len()..].eq_ignore_ascii_case(scoped)
            })
        };
        if self.header("x-robots-tag").is_some_and(noindex) {
            return Some("noindex (X-Robots-Tag)");
        }
        let (robots, canonicals) = self.facts.map_or((&[][..], &[][..]), |f| {
            (&f.meta_robots[..], &f.canonicals[..])
        });
        if robots.iter().any(|m| noindex(m)) {
            return Some("noindex (meta robots)");
        }
        if canonicals
            .iter()
            .any(|c| canonicalises_elsewhere(c, &r.url))
        {
            return Some("canonicalised to another URL");
        }
        None
    }

    /// Evidence every finding about a response carries: status, identifying headers,
    /// attempts, and how many links point here.
    pub fn evidence(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "status": self.record.status,
            "inlinks": self.inlinks.len(),
        });
        let obj = v.as_object_mut().expect("object");
        if let Some(f) = self.record.failure() {
            obj.insert("failure".into(), serde_json::json!(f.describe()));
        }
        for h in [
            "server",
            "via",
            "x-served-by",
            "x-cache",
            "cf-ray",
            "x-amz-cf-id",
            "retry-after",
        ] {
            if let Some(value) = self.header(h) {
                obj.insert(h.into(), value.into());
            }
        }
        if self.attempts.len() > 1 {
            let tries: Vec<String> = self.attempts.iter().map(Attempt::label).collect();
            obj.insert("attempts".into(), tries.into());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// noindex and none count in any case, in meta robots and in X-Robots-Tag (for
    /// everyone or one crawler); tokens that only contain them do not.
    #[test]
    fn noindex_tokens_in_any_case() {
        // (path, X-Robots-Tag, meta robots, reason)
        type Case = (
            &'static str,
            Option<&'static str>,
            &'static [&'static str],
            Option<&'static str>,
        );
        let cases: [Case; 6] = [
            (
                "/h",
                Some("GoogleBot: NoIndex"),
                &[],
                Some("noindex (X-Robots-Tag)"),
            ),
            (
                "/u",
                Some("bäckerbot: noindex"),
                &[],
                Some("noindex (X-Robots-Tag)"),
            ),
            ("/m", None, &["index, None"], Some("noindex (meta robots)")),
            ("/w", None, &["NOINDEX"], Some("noindex (meta robots)")),
            ("/x", Some("noindexed, nonex"), &["follow,noindexx"], None),
            ("/y", Some("ä"), &["é: noindexé"], None),
        ];
        let mut t = crate::checks::test_support::TestSite::new();
        for (path, header, meta, _) in cases {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &serde_json::json!({ "meta_robots": meta }),
                )));
                if let Some(h) = header {
                    r.headers.push(("x-robots-tag".into(), h.into()));
                }
            });
        }
        let site = t.site();
        for (path, _, _, reason) in cases {
            let r = site.by_url(&format!("http://site.example{path}")).unwrap();
            assert_eq!(site.view(r).non_indexable_reason(), reason, "{path}");
        }
    }

    /// A hash split into words joins back to itself, and a (hash, position) pair held
    /// while loading takes 20 bytes.
    #[test]
    fn hash_words_join_back() {
        for h in [
            0,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
            1 << 127,
        ] {
            assert_eq!(joined(words(h)), h);
        }
        assert_ne!(words(1), words(1 << 64));
        assert_eq!(std::mem::size_of::<(Words, u32)>(), 20);
    }

    /// A stored text hash reads back as the number the extractor wrote; anything else
    /// is hashed, and a pair with a position takes 12 bytes.
    #[test]
    fn text_hashes_read_as_numbers() {
        assert_eq!(text_number("5d1062a6d63a9892"), [0x5d10_62a6, 0xd63a_9892]);
        assert_eq!(text_number("0000000000000001"), [0, 1]);
        assert_ne!(
            text_number("0000000000000001"),
            text_number("0000000000000002")
        );
        for other in ["5D1062A6D63A9892", "1", "", "not a hash at all"] {
            let v = xxhash_rust::xxh3::xxh3_64(other.as_bytes());
            assert_eq!(text_number(other), [(v >> 32) as u32, v as u32], "{other}");
        }
        assert_eq!(std::mem::size_of::<([u32; 2], u32)>(), 12);
    }

    /// A URL whose facts hold nothing still has facts; one never given any has none,
    /// nor has a position past the end.
    #[test]
    fn facts_table_tells_empty_facts_from_none() {
        let mut t = FactsTable::new(3);
        t.set(0, None);
        t.set(2, Some(Box::new(PageFacts::default())));
        assert!(matches!(t.get(0), Some(None)));
        assert!(t.get(1).is_none() && t.get(3).is_none());
        assert!(matches!(t.get(2), Some(Some(_))));
        assert_eq!(t.iter().map(|(pos, _)| pos).collect::<Vec<_>>(), [0, 2]);
    }

    /// Every URL is found at its position; unknown ones are not; of two records with
    /// the same URL, the first.
    #[test]
    fn url_index_finds_each_url() {
        let mut urls: Vec<UrlRecord> = crate::checks::test_support::TestSite::new()
            .page("/a", Some(200), None, |_| {})
            .page("/b", Some(404), None, |_| {})
            .built()
            .urls;
        let index = UrlIndex::new(&urls);
        for (i, u) in urls.iter().enumerate() {
            assert_eq!(index.get(&urls, &u.url), Some(i));
        }
        assert_eq!(index.get(&urls, "http://site.example/none"), None);
        let b = urls.iter().position(|u| u.url.ends_with("/b")).unwrap();
        urls.push(urls[b].clone());
        let index = UrlIndex::new(&urls);
        assert_eq!(index.get(&urls, &urls[b].url), Some(b));
        assert_eq!(index.0.len(), urls.len() - 1);
    }

    /// Ids dense from 1 in order need no table; others get one; both find every id.
    #[test]
    fn id_index_finds_each_id() {
        let mut urls: Vec<UrlRecord> = crate::checks::test_support::TestSite::new()
            .page("/a", Some(200), None, |_| {})
            .page("/b", Some(404), None, |_| {})
            .built()
            .urls;
        for (i, u) in urls.iter_mut().enumerate() {
            u.id = i as UrlId + 1;
        }
        let dense = IdIndex::new(&urls);
        assert!(dense.sparse.is_none());
        for (i, u) in urls.iter().enumerate() {
            assert_eq!(dense.get(&urls, u.id), Some(i));
        }
        assert_eq!(dense.get(&urls, 0), None);
        assert_eq!(dense.get(&urls, urls.len() as UrlId + 1), None);
        urls[0].id = 40;
        let sparse = IdIndex::new(&urls);
        assert!(sparse.sparse.is_some());
        assert_eq!(sparse.get(&urls, 40), Some(0));
        assert_eq!(sparse.get(&urls, 1), None);
        assert_eq!(sparse.get(&urls, 2), Some(1));
    }

    /// A crawl loaded from a store with its facts parsed on several threads (batches
    /// gathered in any order) holds the same duplicate groups, texts and priors as one
    /// parsed page by page in crawl order.
    #[test]
    fn facts_parsed_in_parallel_load_as_in_order() {
        use crate::model::{Outcome, ResponseMeta};
        use crate::store::{NewUrl, SqliteStore, UrlResult, UrlScope, WriteOp};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let crawl = store
            .create_crawl(&crate::config::CrawlConfig::default())
            .unwrap();
        // Enough pages for several batches: titles shared in groups of seven, texts in
        // groups of eleven.
        let pages = 3 * super::super::PARALLEL_BATCH as u32 + 41;
        for id in 1..=pages {
            let new = NewUrl {
                id,
                url: format!("http://e.com/{id}"),
                fingerprint: u64::from(id),
                depth: 1,
                scope: UrlScope::Internal,
                found_by: "a",
                in_sitemap: false,
            };
            store.write(crawl, WriteOp::Queue(vec![new])).unwrap();
            let facts = serde_json::json!({
                "titles": [format!("Title {}", id % 7)],
                "headings": [{ "level": 1, "text": format!("Page {id}") }],
                "text": {
                    "words": 300,
                    "text_hash": format!("{:016x}", id % 11),
                    "simhash": format!("{:016x}", u64::from(id % 11) << 8),
                },
            });
            let result = UrlResult {
                id,
                outcome: Outcome {
                    response: Some(ResponseMeta {
                        status: 200,
                        content_type: Some("text/html".into()),
                        ..ResponseMeta::default()
                    }),
                    ..Outcome::default()
                },
                robots_disallowed: false,
                facts: Some(facts.to_string()),
                body_snippet: None,
                hops: vec![],
            };
            let done = WriteOp::Done {
                result: Box::new(result),
                new_urls: vec![],
                links: vec![],
            };
            store.write(crawl, done).unwrap();
        }
        store.flush().unwrap();
        let parallel = SiteData::load_shared(&store, crawl).unwrap();
        let in_order = SiteData::load(&store, crawl).unwrap();
        assert_eq!(parallel.texts, in_order.texts);
        assert_eq!(parallel.texts.len(), pages as usize);
        assert_eq!(parallel.duplicates, in_order.duplicates);
        assert_eq!(parallel.duplicates[0].len(), 7, "one group per title");
        let previous = SiteData::load_for_audit(&store, crawl, Some(crawl)).unwrap();
        let priors = previous.previous.unwrap().priors.unwrap();
        assert_eq!(priors.len(), pages as usize);
        for (pos, u) in in_order.urls.iter().enumerate() {
            let page = in_order.view(u);
            let want = PriorRef::of(page.facts.unwrap());
            let got = &priors[&u.id];
            assert_eq!(got.title.as_deref(), want.title, "{pos}");
            assert_eq!(got.h1.as_deref(), want.h1, "{pos}");
            assert_eq!(got.words, want.words);
        }
    }
}
