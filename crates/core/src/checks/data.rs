//! What the checks read: one crawl, loaded from the store once.

use std::collections::HashMap;

use crate::crawl::FOUND_START;
use crate::model::{Attempt, LinkKind, RedirectHop};
use crate::store::{CrawlId, CrawlInfo, LinkRow, Store, StoreError, UrlId, UrlRecord, UrlScope};

/// A stored crawl, indexed for the checks and the reports.
#[derive(Debug)]
pub struct SiteData {
    /// The crawl.
    pub info: CrawlInfo,
    /// Every URL, by id order.
    pub urls: Vec<UrlRecord>,
    /// Position in `urls` by id.
    pub index: HashMap<UrlId, usize>,
    /// Every attempt of URLs tried more than once.
    pub attempts: HashMap<UrlId, Vec<Attempt>>,
    /// Redirect chains recorded inline (external checks, robots.txt, sitemaps).
    pub hops: HashMap<UrlId, Vec<RedirectHop>>,
    /// Links by target, in discovery order.
    pub inlinks: HashMap<UrlId, Vec<LinkRow>>,
}

impl SiteData {
    /// Loads crawl `id`.
    pub fn load(store: &dyn Store, id: CrawlId) -> Result<Self, StoreError> {
        let info = store.crawl(id)?;
        let urls = store.urls(id)?;
        let index = urls.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        let mut inlinks: HashMap<UrlId, Vec<LinkRow>> = HashMap::new();
        store.for_each_link(id, &mut |l: LinkRow| {
            inlinks.entry(l.to).or_default().push(l)
        })?;
        Ok(Self {
            info,
            urls,
            index,
            attempts: store.retried_attempts(id)?.into_iter().collect(),
            hops: store.hops(id)?.into_iter().collect(),
            inlinks,
        })
    }

    /// The record with this id.
    pub fn get(&self, id: UrlId) -> Option<&UrlRecord> {
        self.index.get(&id).map(|i| &self.urls[*i])
    }

    /// Every fetched URL, with what the checks need about it.
    pub fn pages(&self) -> impl Iterator<Item = PageView<'_>> {
        self.urls
            .iter()
            .filter(|u| u.state == "done")
            .map(|record| PageView {
                record,
                attempts: self.attempts.get(&record.id).map_or(&[], Vec::as_slice),
                inlinks: self.inlinks.get(&record.id).map_or(&[], Vec::as_slice),
            })
    }
}

/// One fetched URL as a check sees it.
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    /// The stored record.
    pub record: &'a UrlRecord,
    /// Every attempt when there was more than one (else empty).
    pub attempts: &'a [Attempt],
    /// The links pointing at it.
    pub inlinks: &'a [LinkRow],
}

impl PageView<'_> {
    /// The final status.
    pub fn status(&self) -> Option<u16> {
        self.record.status
    }

    /// A kept response header (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.record
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
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
                .any(|l| LinkKind::from_id(l.kind).is_some_and(LinkKind::leads_to_page))
    }

    /// Evidence every finding about a response carries: status, identifying headers,
    /// attempts, and how many links point here.
    pub fn evidence(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "status": self.record.status,
            "inlinks": self.inlinks.len(),
        });
        let obj = v.as_object_mut().expect("object");
        if let Some(f) = &self.record.failure {
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
            let tries: Vec<String> = self
                .attempts
                .iter()
                .map(|a| match (&a.failure, a.status) {
                    (Some(f), _) => f.id().to_string(),
                    (None, Some(s)) => s.to_string(),
                    _ => "?".into(),
                })
                .collect();
            obj.insert("attempts".into(), tries.into());
        }
        v
    }
}
