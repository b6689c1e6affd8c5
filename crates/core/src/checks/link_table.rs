//! A crawl's links as the checks read them: each link held once, in one list grouped
//! by target, with an index of positions by source.
//!
//! A 100,000-page crawl has over a million links; a list per target (and per source)
//! in hash tables cost a table entry, a list header and growth slack for each, about
//! as much again as the links themselves.

use rustc_hash::FxHashMap;

use crate::store::{CrawlId, LinkRow, Store, StoreError, UrlId};

/// The links of a crawl, by target and by source.
#[derive(Debug, Clone, Default)]
pub struct LinkTable {
    /// Every link, grouped by target in id order, in discovery order for one target.
    links: Vec<LinkRow>,
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

/// Where `id`'s group is in `starts`, as a range of the list it indexes.
fn group(starts: &[(UrlId, u32)], id: UrlId, end: usize) -> std::ops::Range<usize> {
    match starts.binary_search_by_key(&id, |s| s.0) {
        Ok(i) => range(starts, i, end),
        Err(_) => 0..0,
    }
}

impl LinkTable {
    /// The table of `links`, given in discovery order.
    pub fn from_links(mut links: Vec<LinkRow>) -> Self {
        // Stable: one target's links keep their discovery order.
        links.sort_by_key(|l| l.to);
        let mut targets: Vec<(UrlId, u32)> = Vec::new();
        for (i, l) in links.iter().enumerate() {
            if targets.last().is_none_or(|t| t.0 != l.to) {
                targets.push((l.to, i as u32));
            }
        }
        Self {
            links,
            targets,
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
        read: impl FnOnce(&mut dyn FnMut(LinkRow)) -> Result<(), StoreError>,
    ) -> Result<Self, StoreError> {
        let (targets, total) = starts(counts);
        let mut slots: Vec<Option<LinkRow>> = Vec::new();
        slots.resize_with(total as usize, || None);
        let mut next: Vec<u32> = targets.iter().map(|t| t.1).collect();
        let mut late = Vec::new();
        read(&mut |l| {
            let at = targets
                .binary_search_by_key(&l.to, |t| t.0)
                .ok()
                .filter(|&i| (next[i] as usize) < range(&targets, i, total as usize).end);
            match at {
                Some(i) => {
                    slots[next[i] as usize] = Some(l);
                    next[i] += 1;
                }
                None => late.push(l),
            }
        })?;
        let full =
            (0..targets.len()).all(|i| next[i] as usize == range(&targets, i, total as usize).end);
        // `filter_map`, not `flatten`: std collects it in place (an `Option<LinkRow>` is
        // the size of a `LinkRow`), where `flatten` would build a second list by doubling.
        #[allow(clippy::filter_map_identity)]
        let links: Vec<LinkRow> = slots.into_iter().filter_map(|l| l).collect();
        if full && late.is_empty() {
            return Ok(Self {
                links,
                targets,
                ..Self::default()
            });
        }
        // Placed links precede later ones of the same target: a stable sort keeps order.
        let mut links = links;
        links.extend(late);
        Ok(Self::from_links(links))
    }

    /// Builds the index by source (what [`LinkTable::from`] reads).
    pub fn index_sources(&mut self) {
        let mut counts: FxHashMap<UrlId, u32> = FxHashMap::default();
        for l in &self.links {
            *counts.entry(l.from).or_default() += 1;
        }
        let (sources, _) = starts(counts.into_iter().collect());
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
    pub fn to(&self, id: UrlId) -> &[LinkRow] {
        &self.links[group(&self.targets, id, self.links.len())]
    }

    /// The links on page `id`, by target (in discovery order for one target); none
    /// before [`LinkTable::index_sources`].
    pub fn from(&self, id: UrlId) -> impl Iterator<Item = &LinkRow> {
        self.by_source[group(&self.sources, id, self.by_source.len())]
            .iter()
            .map(|&i| &self.links[i as usize])
    }

    /// Whether page `id` has any link (indexed by source).
    pub fn has_from(&self, id: UrlId) -> bool {
        self.sources.binary_search_by_key(&id, |s| s.0).is_ok()
    }

    /// Every link, grouped by target.
    pub fn iter(&self) -> std::slice::Iter<'_, LinkRow> {
        self.links.iter()
    }

    /// How many links there are.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The links, moved out (grouped by target).
    pub fn into_vec(self) -> Vec<LinkRow> {
        self.links
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

    fn texts<'a>(links: impl Iterator<Item = &'a LinkRow>) -> Vec<&'a str> {
        links.filter_map(|l| l.text.as_deref()).collect()
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
                links.iter().cloned().for_each(f);
                Ok(())
            })
            .unwrap();
            assert_eq!(
                (&t.links, &t.targets),
                (&right.links, &right.targets),
                "{counts:?}"
            );
        }
    }

    /// Loaded from a store: the same table as built from the links in written order,
    /// read in place.
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
        assert_eq!(loaded.links, built.links);
        // Collected in place, not grown by doubling (40 links would take room for 64).
        assert_eq!(loaded.links.capacity(), loaded.links.len());
        assert_eq!(loaded.targets, built.targets);
        for id in 0..13 {
            assert_eq!(loaded.to(id), built.to(id));
            assert!(loaded.from(id).eq(built.from(id)));
        }
    }
}
