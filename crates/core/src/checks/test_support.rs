//! Builds small crawls in memory for check tests.

use super::SiteData;
use crate::config::CrawlConfig;
use crate::model::{Attempt, FailureKind, Finding, Timings};
use crate::store::{CrawlInfo, LinkRow, UrlRecord};

/// A crawl under construction: URL 1 is the start page and links to every other URL.
pub(crate) struct TestSite {
    site: SiteData,
    /// The links, in the order added (`site.links` is rebuilt from them).
    links: Vec<LinkRow>,
}

impl TestSite {
    pub(crate) fn new() -> Self {
        let mut t = Self {
            site: SiteData::from_parts(
                CrawlInfo {
                    id: 1,
                    start_url: "http://site.example/".into(),
                    started_at: String::new(),
                    finished_at: None,
                    state: "finished".into(),
                    urls: 0,
                    done: 0,
                    config: CrawlConfig::default(),
                },
                Vec::new(),
            ),
            links: Vec::new(),
        };
        t.push(record("http://site.example/", Some(200), None, "start"));
        t
    }

    fn push(&mut self, r: UrlRecord) -> u32 {
        let id = self.site.urls.len() as u32 + 1;
        let mut r = r;
        r.id = id;
        let mut urls = std::mem::take(&mut self.site.urls);
        urls.push(r);
        let mut fresh = SiteData::from_parts(self.site.info.clone(), urls);
        fresh.attempts = std::mem::take(&mut self.site.attempts);
        fresh.links = std::mem::take(&mut self.site.links);
        fresh.hops = std::mem::take(&mut self.site.hops);
        fresh.robots = std::mem::take(&mut self.site.robots);
        fresh.previous = self.site.previous.take();
        fresh.tls = std::mem::take(&mut self.site.tls);
        self.site = fresh;
        id
    }

    /// Adds an internal URL linked from the start page with `<a>`; `edit` adjusts it.
    pub(crate) fn page(
        mut self,
        path: &str,
        status: Option<u16>,
        failure: Option<FailureKind>,
        edit: impl FnOnce(&mut UrlRecord),
    ) -> Self {
        let mut r = record(&format!("http://site.example{path}"), status, failure, "a");
        edit(&mut r);
        let id = self.push(r);
        self.links.push(LinkRow {
            from: 1,
            to: id,
            kind: "a".into(),
            text: None,
            rel: None,
        });
        self.relinked()
    }

    /// Rebuilds the crawl's link table from `links`.
    fn relinked(mut self) -> Self {
        self.site.links = crate::checks::LinkTable::from_links(self.links.clone());
        self
    }

    /// The links to `id`, to edit.
    fn links_to(&mut self, id: u32) -> impl Iterator<Item = &mut LinkRow> {
        self.links.iter_mut().filter(move |l| l.to == id)
    }

    /// Adds an internal URL nothing links to (found in a sitemap, say).
    pub(crate) fn unlinked(
        mut self,
        path: &str,
        status: Option<u16>,
        edit: impl FnOnce(&mut UrlRecord),
    ) -> Self {
        let mut r = record(
            &format!("http://site.example{path}"),
            status,
            None,
            "sitemap",
        );
        edit(&mut r);
        self.push(r);
        self
    }

    /// Adds a link of `kind` from `from` to `to` (both already added).
    pub(crate) fn link(mut self, from: &str, to: &str, kind: &'static str) -> Self {
        let (from, to) = (self.id(from), self.id(to));
        self.links.push(LinkRow {
            from,
            to,
            kind: kind.into(),
            text: None,
            rel: None,
        });
        self.relinked()
    }

    /// Sets the anchor text of the links to these paths: every link to each (the start
    /// page's, and any a test added before).
    pub(crate) fn texts(mut self, texts: &[(&str, &str)]) -> Self {
        for (path, text) in texts {
            let id = self.id(path);
            for l in self.links_to(id) {
                l.text = Some((*text).into());
            }
        }
        self.relinked()
    }

    /// Sets the rel attribute of the links from `from` to `to`.
    pub(crate) fn rel_of(mut self, from: &str, to: &str, rel: &str) -> Self {
        let (from, to) = (self.id(from), self.id(to));
        for l in self.links_to(to).filter(|l| l.from == from) {
            l.rel = Some(rel.into());
        }
        self.relinked()
    }

    /// Sets the rel attribute of every link to `path` (the start page's, and any a test
    /// added before; [`TestSite::rel_of`] sets one page's).
    pub(crate) fn rel(mut self, path: &str, rel: &str) -> Self {
        let id = self.id(path);
        for l in self.links_to(id) {
            l.rel = Some(rel.into());
        }
        self.relinked()
    }

    /// Makes every link to `path` (the start page's, and any a test added before) a link
    /// of this kind (`img`, `script`, …).
    pub(crate) fn linked_as(mut self, path: &str, kind: &'static str) -> Self {
        let id = self.id(path);
        for l in self.links_to(id) {
            l.kind = kind.into();
        }
        self.relinked()
    }

    /// Sets the attempts of the URL at `path`.
    pub(crate) fn attempts(mut self, path: &str, statuses: &[Option<u16>]) -> Self {
        let id = self.id(path);
        self.site.attempts.insert(
            id,
            statuses
                .iter()
                .map(|s| Attempt {
                    status: *s,
                    failure: None,
                    timings: Timings::default(),
                })
                .collect(),
        );
        self
    }

    /// Edits the start page.
    pub(crate) fn start(mut self, edit: impl FnOnce(&mut UrlRecord)) -> Self {
        edit(&mut self.site.urls[0]);
        self.site = self.refreshed();
        self
    }

    fn id(&self, path: &str) -> u32 {
        self.site
            .urls
            .iter()
            .find(|u| {
                u.url.ends_with(path)
                    || u.found_by == "invalid" && path == "/bad" && u.url.contains("[bad")
            })
            .map(|u| u.id)
            .expect("path added")
    }

    /// The crawl as the checks and reports see it.
    pub(crate) fn built(&self) -> SiteData {
        self.refreshed()
    }

    pub(crate) fn site(&self) -> &SiteData {
        &self.site
    }

    fn refreshed(&self) -> SiteData {
        let mut s = SiteData::from_parts(self.site.info.clone(), self.site.urls.clone());
        s.attempts = self.site.attempts.clone();
        s.links = self.site.links.clone();
        s.hops = self.site.hops.clone();
        s.robots = self.site.robots.clone();
        s.thresholds = self.site.thresholds.clone();
        s.previous = self.site.previous.clone();
        s.tls = self.site.tls.clone();
        s.index_outlinks();
        s
    }

    /// Adds one host's TLS probe result.
    pub(crate) fn tls(mut self, facts: crate::tls::TlsFacts) -> Self {
        self.site.tls.push(facts);
        self
    }

    /// Makes `before` the previous crawl of this one.
    pub(crate) fn previous(mut self, before: TestSite) -> Self {
        self.site.previous = Some(Box::new(before.refreshed()));
        self
    }

    /// Adds the host's robots.txt with this status and body.
    pub(crate) fn robots_txt(
        mut self,
        status: Option<u16>,
        body: &str,
        edit: impl FnOnce(&mut UrlRecord),
    ) -> Self {
        let mut r = record("http://site.example/robots.txt", status, None, "robots");
        r.content_type = Some("text/plain".into());
        r.body_bytes = Some(body.len() as u64).into();
        edit(&mut r);
        self.push(r);
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        self.site.robots.push((
            "http://site.example".into(),
            status,
            if ok {
                body.as_bytes().to_vec()
            } else {
                Vec::new()
            },
        ));
        self
    }

    /// Runs one check and returns the URLs (path part) it fired on.
    pub(crate) fn fired(&self, id: &str) -> Vec<String> {
        self.findings(id)
            .into_iter()
            .map(|f| f.url.unwrap_or_default().replace("http://site.example", ""))
            .collect()
    }

    /// Runs one check and returns its findings.
    pub(crate) fn findings(&self, id: &str) -> Vec<Finding> {
        let check = super::registry()
            .into_iter()
            .find(|c| c.info().id == id)
            .unwrap_or_else(|| panic!("no check {id}"));
        let site = self.refreshed();
        let mut out = super::Findings::trees();
        check.run(&site, &mut out);
        assert_streams_alike(&site, id);
        out.into_trees()
    }
}

/// Fails unless check `id` finds the same over `site` streamed (each page's shared facts
/// held, its full facts handed to the per-page evaluation) as over `site` fully loaded:
/// a check that reads, of another page or site-wide, a fact [`super::data::shared_facts`]
/// leaves out fails here.
fn assert_streams_alike(site: &SiteData, id: &str) {
    let config = super::AuditConfig {
        disabled: super::registry()
            .iter()
            .map(|c| c.info().id.to_string())
            .filter(|c| c != id)
            .collect(),
        thresholds: site.thresholds.clone(),
    };
    let full = super::audit(site, &config);
    let mut shared = site.clone();
    shared.share_facts();
    let streamed = std::sync::Mutex::new(Vec::new());
    let facts = |each: &mut dyn FnMut(u32, &str)| {
        for u in &site.urls {
            if let Some(raw) = u.facts() {
                each(u.id, raw.get());
            }
        }
        Ok::<(), std::convert::Infallible>(())
    };
    let Ok(()) = super::audit_streaming(&shared, &config, facts, &|mut batch| {
        streamed.lock().unwrap().append(&mut batch)
    });
    let mut streamed = streamed.into_inner().unwrap();
    super::sort_findings(&mut streamed);
    let json = |f: &[crate::model::AuditFinding]| serde_json::to_string_pretty(f).unwrap();
    assert_eq!(
        json(&streamed),
        json(&full),
        "check {id}: streamed audit (shared facts) differs from the full one"
    );
}

/// `w` as a stored word.
pub(crate) fn word(w: &str) -> crate::store::Word {
    crate::store::Word::new(w).expect("a test uses a few words")
}

fn record(
    url: &str,
    status: Option<u16>,
    failure: Option<FailureKind>,
    found_by: &'static str,
) -> UrlRecord {
    // Field by field: a record's rarely set fields are private (see `set_failure`).
    let mut record = UrlRecord::default();
    record.url = url.into();
    record.depth = 1;
    record.found_by = word(found_by);
    record.state = word("done");
    record.status = status;
    record.content_type = status.map(|_| "text/html".into());
    record.ttfb_ms = Some(1.0).into();
    record.total_ms = Some(1.0).into();
    record.wire_bytes = Some(100).into();
    record.body_bytes = Some(100).into();
    record.attempts = 1;
    record.set_failure(failure);
    record
}
