//! A crawl's links as the checks read them: each link held once, in one list grouped
//! by target, with an index of positions by source.
//!
//! A 100,000-page crawl has over a million links; a list per target (and per source)
//! in hash tables cost a table entry, a list header and growth slack for each, about
//! as much again as the links themselves. Of each link the table holds its two ends
//! and the number of its label (kind, text and rel), 12 bytes: labels repeat, as a
//! site's navigation and footers are on every page (the 100,000-page bench has 200,031
//! labels for 1.3 million links). The labels' texts are kept end to end in one string,
//! copied from the store's rows only for a label not seen before.

use rustc_hash::FxHashMap;

use crate::model::{LinkKind, LinkKindId};
use crate::store::{CrawlId, LinkRow, LinkRowRef, Store, StoreError, UrlId};

/// A link as the table holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    from: UrlId,
    to: UrlId,
    /// Position in the table's labels.
    label: u32,
}

/// A slot of the load no link has filled yet.
const UNFILLED: u32 = u32::MAX;

/// Where a label's text is in the table's [`Texts`]: its start (40 bits) and length
/// (24 bits) in two 32-bit words, so a label takes 20 bytes, not 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span([u32; 2]);

/// No text (`None`, apart from an empty one).
const NO_TEXT: Span = Span([u32::MAX; 2]);

/// The longest text a label keeps (16 MiB; the extractor keeps 1 KB of a link's text).
const MAX_LABEL_TEXT: usize = (1 << 24) - 1;

/// The texts of a table's labels, end to end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Texts(String);

impl Texts {
    /// Keeps `text` (cut at a character boundary past [`MAX_LABEL_TEXT`] bytes).
    fn add(&mut self, text: Option<&str>) -> Span {
        let Some(mut text) = text else {
            return NO_TEXT;
        };
        if text.len() > MAX_LABEL_TEXT {
            let mut end = MAX_LABEL_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text = &text[..end];
        }
        let start = self.0.len() as u64;
        self.0.push_str(text);
        let packed = (start << 24) | text.len() as u64;
        Span([(packed >> 32) as u32, packed as u32])
    }

    /// The text at `span`.
    fn get(&self, span: Span) -> Option<&str> {
        if span == NO_TEXT {
            return None;
        }
        let packed = (u64::from(span.0[0]) << 32) | u64::from(span.0[1]);
        let start = (packed >> 24) as usize;
        self.0
            .get(start..start + (packed & MAX_LABEL_TEXT as u64) as usize)
    }
}

/// What links share: their kind, text and rel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label {
    kind: LinkKindId,
    text: Span,
    rel: Span,
}

/// Numbers distinct labels as links are added. The index holds only positions in the
/// list (4 bytes a slot), not a second copy of each label; a label's texts are compared
/// and copied from the link as read.
#[derive(Default)]
struct Labeler {
    labels: Vec<Label>,
    texts: Texts,
    index: hashbrown::HashTable<u32>,
}

impl Labeler {
    fn hash(kind: LinkKindId, text: Option<&str>, rel: Option<&str>) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one((kind, text, rel))
    }

    /// `link` as the table holds it, its label numbered.
    fn pack(&mut self, link: LinkRowRef<'_>) -> Packed {
        let hash = Self::hash(link.kind, link.text, link.rel);
        let (labels, texts) = (&mut self.labels, &mut self.texts);
        let same = |l: &Label| {
            l.kind == link.kind && texts.get(l.text) == link.text && texts.get(l.rel) == link.rel
        };
        let id = match self.index.find(hash, |&i| same(&labels[i as usize])) {
            Some(&i) => i,
            None => {
                let i = labels.len() as u32;
                labels.push(Label {
                    kind: link.kind,
                    text: texts.add(link.text),
                    rel: texts.add(link.rel),
                });
                self.index.insert_unique(hash, i, |&j| {
                    let l = &labels[j as usize];
                    Self::hash(l.kind, texts.get(l.text), texts.get(l.rel))
                });
                i
            }
        };
        Packed {
            from: link.from,
            to: link.to,
            label: id,
        }
    }

    /// The labels, numbered as packed, and their texts.
    fn into_labels(self) -> (Vec<Label>, Texts) {
        let (mut labels, mut texts) = (self.labels, self.texts);
        labels.shrink_to_fit();
        texts.0.shrink_to_fit();
        (labels, texts)
    }
}

/// One link as a check reads it: its ends, and its kind, text and rel borrowed from
/// the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkRef<'a> {
    /// The referring URL (a page, sitemap, or redirecting URL).
    pub from: UrlId,
    /// The target.
    pub to: UrlId,
    /// The link kind (reads as its id).
    pub kind: LinkKindId,
    /// Anchor text or alt.
    pub text: Option<&'a str>,
    /// The rel attribute.
    pub rel: Option<&'a str>,
}

/// Links of a table (those to one target, or all of them), in order.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    links: &'a [Packed],
    labels: &'a [Label],
    texts: &'a Texts,
}

impl<'a> Links<'a> {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Each link, in order.
    pub fn iter(&self) -> LinkIter<'a> {
        LinkIter {
            links: self.links.iter(),
            labels: self.labels,
            texts: self.texts,
        }
    }
}

impl<'a> IntoIterator for Links<'a> {
    type Item = LinkRef<'a>;
    type IntoIter = LinkIter<'a>;

    fn into_iter(self) -> LinkIter<'a> {
        self.iter()
    }
}

/// The links of a [`Links`], in order.
#[derive(Debug, Clone)]
pub struct LinkIter<'a> {
    links: std::slice::Iter<'a, Packed>,
    labels: &'a [Label],
    texts: &'a Texts,
}

/// Packed link `p` as a check reads it.
fn read<'a>(labels: &'a [Label], texts: &'a Texts, p: &Packed) -> LinkRef<'a> {
    let label = &labels[p.label as usize];
    LinkRef {
        from: p.from,
        to: p.to,
        kind: label.kind,
        text: texts.get(label.text),
        rel: texts.get(label.rel),
    }
}

impl<'a> Iterator for LinkIter<'a> {
    type Item = LinkRef<'a>;

    fn next(&mut self) -> Option<LinkRef<'a>> {
        self.links.next().map(|p| read(self.labels, self.texts, p))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.links.size_hint()
    }
}

impl ExactSizeIterator for LinkIter<'_> {}

/// The links of a crawl, by target and by source.
#[derive(Debug, Clone, Default)]
pub struct LinkTable {
    /// Every link, grouped by target in id order, in discovery order for one target.
    links: Vec<Packed>,
    /// The distinct labels links refer to.
    labels: Vec<Label>,
    /// Their texts.
    texts: Texts,
    /// (target, where its links start in `links`), in id order.
    targets: Vec<(UrlId, u32)>,
    /// Positions in `links` grouped by source in id order, ascending for one source
    /// (by target, then discovery order). Empty until [`LinkTable::index_sources`].
    by_source: Vec<u32>,
    /// (source, where its positions start in `by_source`), in id order.
    sources: Vec<(UrlId, u32)>,
}

/// The range of group `i` of `starts` (each group ends where the next starts).
fn range(starts: &[(UrlId, u32)], i: usize, end: usize) -> std::ops::Range<usize> {
    let next = starts.get(i + 1).map_or(end, |s| s.1 as usize);
    starts[i].1 as usize..next
}

/// Groups of the given sizes, (id, size), laid out one after another in id order:
/// (id, where it starts), and the total size.
fn starts(mut sizes: Vec<(UrlId, u32)>) -> (Vec<(UrlId, u32)>, u32) {
    sizes.sort_unstable();
    let mut total = 0u32;
    for s in &mut sizes {
        let n = s.1;
        s.1 = total;
        total += n;
    }
    (sizes, total)
}

/// Links per source page, (source, count), in id order. A crawl numbers its URLs from
/// 1, so they are counted in a vector by id (4 bytes an id) rather than a hash table
/// (~18 bytes a source, at the audit's peak as the crawl is loaded); ids far sparser
/// than the links fall back to the table.
fn source_sizes(links: &[Packed]) -> Vec<(UrlId, u32)> {
    let max = links.iter().map(|l| l.from as usize).max().unwrap_or(0);
    if max > 2 * links.len() + 1024 {
        let mut counts: FxHashMap<UrlId, u32> = FxHashMap::default();
        for l in links {
            *counts.entry(l.from).or_default() += 1;
        }
        return counts.into_iter().collect();
    }
    let mut counts = vec![0u32; max + 1];
    for l in links {
        counts[l.from as usize] += 1;
    }
    let mut sizes = Vec::with_capacity(counts.iter().filter(|&&n| n > 0).count());
    for (id, &n) in counts.iter().enumerate() {
        if n > 0 {
            sizes.push((id as UrlId, n));
        }
    }
    sizes
}

/// Where `id`'s group is in `starts`, as a range of the list it indexes.
fn group(starts: &[(UrlId, u32)], id: UrlId, end: usize) -> std::ops::Range<usize> {
    match starts.binary_search_by_key(&id, |s| s.0) {
        Ok(i) => range(starts, i, end),
        Err(_) => 0..0,
    }
}

/// The targets of `links` sorted by target: (target, where its links start).
fn targets_of(links: &[Packed]) -> Vec<(UrlId, u32)> {
    let mut targets: Vec<(UrlId, u32)> = Vec::new();
    for (i, l) in links.iter().enumerate() {
        if targets.last().is_none_or(|t| t.0 != l.to) {
            targets.push((l.to, i as u32));
        }
    }
    targets
}

impl LinkTable {
    /// The table of `links`, given in discovery order.
    pub fn from_links(links: Vec<LinkRow>) -> Self {
        let mut labeler = Labeler::default();
        let links = links.iter().map(|l| labeler.pack(l.borrowed())).collect();
        Self::sorted(links, labeler)
    }

    /// The table of packed `links` in discovery order, labelled by `labeler`.
    fn sorted(mut links: Vec<Packed>, labeler: Labeler) -> Self {
        // Stable: one target's links keep their discovery order.
        links.sort_by_key(|l| l.to);
        let (labels, texts) = labeler.into_labels();
        Self {
            targets: targets_of(&links),
            links,
            labels,
            texts,
            ..Self::default()
        }
    }

    /// Reads the links of crawl `crawl`. Each target's links are put straight in place
    /// (the store counts them first), so the crawl's links are never held twice.
    pub fn load(store: &dyn Store, crawl: CrawlId) -> Result<Self, StoreError> {
        Self::placed(store.inlink_counts(crawl)?, |f| {
            store.for_each_link(crawl, f)
        })
    }

    /// The table of the links `read` gives in discovery order, each put in place by
    /// `counts` (links per target); links the counts did not foresee (written between
    /// the two reads) are sorted in after.
    fn placed(
        counts: Vec<(UrlId, u32)>,
        read: impl FnOnce(&mut dyn FnMut(LinkRowRef<'_>)) -> Result<(), StoreError>,
    ) -> Result<Self, StoreError> {
        let (targets, total) = starts(counts);
        let unfilled = Packed {
            from: 0,
            to: 0,
            label: UNFILLED,
        };
        let mut links = vec![unfilled; total as usize];
        let mut next: Vec<u32> = targets.iter().map(|t| t.1).collect();
        let mut late = Vec::new();
        let mut labeler = Labeler::default();
        read(&mut |l| {
            let p = labeler.pack(l);
            let at = targets
                .binary_search_by_key(&p.to, |t| t.0)
                .ok()
                .filter(|&i| (next[i] as usize) < range(&targets, i, total as usize).end);
            match at {
                Some(i) => {
                    links[next[i] as usize] = p;
                    next[i] += 1;
                }
                None => late.push(p),
            }
        })?;
        let full =
            (0..targets.len()).all(|i| next[i] as usize == range(&targets, i, total as usize).end);
        if full && late.is_empty() {
            let (labels, texts) = labeler.into_labels();
            return Ok(Self {
                links,
                labels,
                texts,
                targets,
                ..Self::default()
            });
        }
        // Placed links precede later ones of the same target: a stable sort keeps order.
        links.retain(|l| l.label != UNFILLED);
        links.extend(late);
        Ok(Self::sorted(links, labeler))
    }

    /// Builds the index by source (what [`LinkTable::from`] reads).
    pub fn index_sources(&mut self) {
        let (sources, _) = starts(source_sizes(&self.links));
        let mut next: Vec<u32> = sources.iter().map(|s| s.1).collect();
        let mut by_source = vec![0u32; self.links.len()];
        for (i, l) in self.links.iter().enumerate() {
            if let Ok(s) = sources.binary_search_by_key(&l.from, |s| s.0) {
                by_source[next[s] as usize] = i as u32;
                next[s] += 1;
            }
        }
        self.by_source = by_source;
        self.sources = sources;
    }

    /// Frees the index by source.
    pub fn drop_source_index(&mut self) {
        self.by_source = Vec::new();
        self.sources = Vec::new();
    }

    /// The links pointing at `id`, in discovery order.
    pub fn to(&self, id: UrlId) -> Links<'_> {
        Links {
            links: &self.links[group(&self.targets, id, self.links.len())],
            labels: &self.labels,
            texts: &self.texts,
        }
    }

    /// The links on page `id`, by target (in discovery order for one target); none
    /// before [`LinkTable::index_sources`].
    pub fn from(&self, id: UrlId) -> impl Iterator<Item = LinkRef<'_>> + Clone {
        self.by_source[group(&self.sources, id, self.by_source.len())]
            .iter()
            .map(|&i| read(&self.labels, &self.texts, &self.links[i as usize]))
    }

    /// The links of kind `kind` on page `id`, as [`LinkTable::from`] gives them; the
    /// others are passed over without reading their texts (a page's few pagination
    /// links were read out of all its links, ten times a page).
    pub fn from_kind(
        &self,
        id: UrlId,
        kind: LinkKind,
    ) -> impl Iterator<Item = LinkRef<'_>> + Clone {
        let kind = LinkKindId::from(kind);
        self.by_source[group(&self.sources, id, self.by_source.len())]
            .iter()
            .map(|&i| &self.links[i as usize])
            .filter(move |p| self.labels[p.label as usize].kind == kind)
            .map(|p| read(&self.labels, &self.texts, p))
    }

    /// Whether page `id` has any link (indexed by source).
    pub fn has_from(&self, id: UrlId) -> bool {
        self.sources.binary_search_by_key(&id, |s| s.0).is_ok()
    }

    /// Every link, grouped by target.
    pub fn iter(&self) -> LinkIter<'_> {
        LinkIter {
            links: self.links.iter(),
            labels: &self.labels,
            texts: &self.texts,
        }
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The links as the store holds them (grouped by target).
    pub fn rows(&self) -> Vec<LinkRow> {
        self.iter()
            .map(|l| LinkRow {
                from: l.from,
                to: l.to,
                kind: l.kind,
                text: l.text.map(Into::into),
                rel: l.rel.map(Into::into),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(from: UrlId, to: UrlId, text: &str) -> LinkRow {
        LinkRow {
            from,
            to,
            kind: "a".into(),
            text: Some(text.into()),
            rel: None,
        }
    }

    /// Five links in discovery order: three to 3 (texts a, b, d), one to 2, one to 1.
    fn sample() -> Vec<LinkRow> {
        [
            (1, 3, "a"),
            (2, 3, "b"),
            (1, 2, "c"),
            (1, 3, "d"),
            (3, 1, "e"),
        ]
        .into_iter()
        .map(|(from, to, text)| link(from, to, text))
        .collect()
    }

    fn texts<'a>(links: impl Iterator<Item = LinkRef<'a>>) -> Vec<&'a str> {
        links.filter_map(|l| l.text).collect()
    }

    /// Links by target keep discovery order; by source, they come by target; unknown
    /// ids have none; nothing by source before the index is built.
    #[test]
    fn finds_links_by_target_and_by_source() {
        let mut t = LinkTable::from_links(sample());
        assert_eq!(texts(t.to(3).iter()), ["a", "b", "d"]);
        assert_eq!(texts(t.to(2).iter()), ["c"]);
        assert!(t.to(4).is_empty() && t.to(0).is_empty());
        assert_eq!(t.from(1).count(), 0);
        t.index_sources();
        assert_eq!(texts(t.from(1)), ["c", "a", "d"]);
        assert_eq!(texts(t.from(3)), ["e"]);
        assert!(t.has_from(2) && !t.has_from(4));
        assert_eq!(t.from(4).count(), 0);
        assert_eq!(t.len(), 5);
        t.drop_source_index();
        assert!(!t.has_from(1));
    }

    /// Links of one kind on a page: those [`LinkTable::from`] gives of that kind, in
    /// the same order.
    #[test]
    fn finds_links_of_one_kind_by_source() {
        let kinds = ["a", "pagination", "img", "pagination", "a"];
        let rows: Vec<LinkRow> = sample()
            .into_iter()
            .zip(kinds)
            .map(|(l, k)| LinkRow {
                kind: k.into(),
                ..l
            })
            .chain([LinkRow {
                kind: "pagination".into(),
                ..link(1, 2, "f")
            }])
            .collect();
        let mut t = LinkTable::from_links(rows);
        t.index_sources();
        for id in 0..5 {
            for kind in [LinkKind::Anchor, LinkKind::Pagination, LinkKind::Image] {
                let want: Vec<_> = t
                    .from(id)
                    .filter(|l| l.kind == LinkKindId::from(kind))
                    .collect();
                assert_eq!(
                    t.from_kind(id, kind).collect::<Vec<_>>(),
                    want,
                    "{id} {kind:?}"
                );
            }
        }
        assert_eq!(texts(t.from_kind(1, LinkKind::Pagination)), ["f", "d"]);
    }

    /// Sources counted by id (dense ids, as a crawl numbers them) and in a hash table
    /// (ids far sparser than the links) index the same links the same way.
    #[test]
    fn sparse_source_ids_index_as_dense_ones() {
        let far = 10_000_000;
        let sparse: Vec<LinkRow> = sample()
            .into_iter()
            .map(|l| {
                link(
                    if l.from == 1 { far } else { l.from },
                    l.to,
                    l.text.as_deref().unwrap(),
                )
            })
            .collect();
        let mut t = LinkTable::from_links(sparse);
        t.index_sources();
        assert_eq!(texts(t.from(far)), ["c", "a", "d"]);
        assert_eq!(texts(t.from(2)), ["b"]);
        assert_eq!(texts(t.from(3)), ["e"]);
        assert!(!t.has_from(1));
        let mut sizes = source_sizes(&t.links);
        sizes.sort_unstable();
        assert_eq!(sizes, [(2, 1), (3, 1), (far, 3)]);
        let mut dense = LinkTable::from_links(sample());
        dense.index_sources();
        assert_eq!(source_sizes(&dense.links), [(1, 3), (2, 1), (3, 1)]);
    }

    /// Counts that do not match the links (a target missing, one too few, one too
    /// many) still give the table of the links, in discovery order per target.
    #[test]
    fn wrong_counts_still_give_every_link_in_order() {
        let links = sample();
        let right = LinkTable::from_links(links.clone());
        for counts in [
            vec![(3, 3), (2, 1), (1, 1)],
            vec![(3, 3), (1, 1)],
            vec![(3, 2), (2, 1), (1, 1)],
            vec![(3, 4), (2, 1), (1, 1), (9, 2)],
            vec![],
        ] {
            let t = LinkTable::placed(counts.clone(), |f| {
                links.iter().map(LinkRow::borrowed).for_each(f);
                Ok(())
            })
            .unwrap();
            assert_eq!(
                (&t.links, &t.labels, &t.texts, &t.targets),
                (&right.links, &right.labels, &right.texts, &right.targets),
                "{counts:?}"
            );
        }
    }

    /// Loaded from a store: the same links to and from each URL as a table built from the
    /// links in written order (the store keeps the order of the links to one target, not
    /// the order across targets), read in place.
    #[test]
    fn loads_from_a_store_in_place() {
        use crate::store::{SqliteStore, WriteOp};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let crawl = store
            .create_crawl(&crate::config::CrawlConfig::default())
            .unwrap();
        let written: Vec<LinkRow> = (0..40u32)
            .map(|i| link(i % 7 + 1, (i * 13) % 11 + 1, &format!("t{i}")))
            .collect();
        for (i, chunk) in written.chunks(6).enumerate() {
            let op = WriteOp::done_with_links(i as UrlId + 1, chunk.to_vec());
            store.write(crawl, op).unwrap();
        }
        store.flush().unwrap();
        let mut loaded = LinkTable::load(&store, crawl).unwrap();
        let mut built = LinkTable::from_links(written);
        loaded.index_sources();
        built.index_sources();
        // Collected in place, not grown by doubling (40 links would take room for 64).
        assert_eq!(loaded.links.capacity(), loaded.links.len());
        assert_eq!(loaded.targets, built.targets);
        for id in 0..13 {
            assert!(loaded.to(id).iter().eq(built.to(id)));
            assert!(loaded.from(id).eq(built.from(id)));
        }
    }

    /// A label's text reads back as kept: none apart from an empty one, and one past
    /// the limit cut at a character boundary.
    #[test]
    fn label_texts_read_back() {
        let mut t = Texts::default();
        let (none, empty, home) = (t.add(None), t.add(Some("")), t.add(Some("Home")));
        assert_eq!((t.get(none), t.get(empty)), (None, Some("")));
        let long = "é".repeat(MAX_LABEL_TEXT / 2 + 1);
        let span = t.add(Some(&long));
        let cut = t.get(span).unwrap();
        assert_eq!(cut.len(), MAX_LABEL_TEXT - 1);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(t.get(home), Some("Home"));
    }

    /// A link is held in 12 bytes and a label in 20; links with the same kind, text and
    /// rel share one label, whose texts are kept once, and read back as written.
    #[test]
    fn links_share_labels() {
        assert_eq!(std::mem::size_of::<Packed>(), 12);
        assert_eq!(std::mem::size_of::<Label>(), 20);
        let mut links: Vec<LinkRow> = (1..=6).map(|from| link(from, 9, "Home")).collect();
        links.push(LinkRow {
            rel: Some("nofollow".into()),
            ..link(7, 9, "Home")
        });
        links.push(LinkRow {
            kind: "img".into(),
            ..link(8, 9, "Home")
        });
        links.push(LinkRow {
            text: None,
            ..link(9, 9, "")
        });
        let t = LinkTable::from_links(links.clone());
        assert_eq!(t.labels.len(), 4);
        assert_eq!(t.texts.0, "HomeHomenofollowHome");
        let back: Vec<LinkRow> = t.rows();
        assert_eq!(back, links);
        let read: Vec<LinkRef> = t.to(9).iter().collect();
        assert_eq!(read[6].rel, Some("nofollow"));
        assert_eq!(read[7].kind, "img");
        assert_eq!(read[8].text, None);
        assert_eq!(t.to(9).len(), 9);
    }
}
