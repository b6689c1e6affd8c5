//! The audit section of a report: the findings and the health score.
//!
//! A report of a stored crawl reads its findings from the store (DESIGN §4: reports read
//! findings, they never compute checks). When the store has none for the crawl, or they
//! were made by another siteaudit version, other settings or against another earlier
//! crawl, the audit runs first and writes them there batch by batch as it finds them, so
//! a crawl with millions of findings is never held whole; the report then reads them
//! back in order, scoring and counting as it goes, and keeps every finding or, for a
//! summary, the first few of each check. A summary of a crawl just audited is instead
//! added up as the findings stream to the store (see [`Sampler`]): the same section,
//! without reading a million findings back and sorting them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::{FindingRow, ReportError};
use crate::checks::{self, AuditConfig, CheckInfo, Score, ScoreTally, SiteData};
use crate::model::Severity;
use crate::store::{CrawlId, Store, StoreError, WriteOp};

/// Findings of one check at one severity, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingGroup {
    /// The check id.
    pub check: &'static str,
    /// The severity.
    pub severity: Severity,
    /// How many findings.
    pub count: u64,
}

/// Findings a summary keeps of each [`FindingGroup`] (the text report shows 10 per
/// check, Markdown 20 per error group).
pub const SAMPLE: usize = 20;

/// The audit: health score and findings.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    /// The health score (formula in `checks::score`).
    pub score: Score,
    /// Counts by severity.
    pub by_severity: BTreeMap<&'static str, u64>,
    /// The findings, errors first: every one, or when `sampled` the first [`SAMPLE`] of
    /// each group.
    pub findings: Vec<FindingRow>,
    /// Every check and severity that has findings, with how many, in findings order.
    #[serde(skip)]
    pub groups: Vec<FindingGroup>,
    /// Whether `findings` keeps only the first of each group.
    #[serde(skip)]
    pub sampled: bool,
    /// The checks that ran (registered and not disabled), in registry order.
    #[serde(skip)]
    pub checks_run: Vec<CheckInfo>,
}

/// Findings written to the store between two commits asked of its writer (two sink
/// batches). The audit waits, at each, for the commit asked before: the writer always
/// has up to twice this many findings to write while the checks go on (waiting for
/// each commit at once left the checks idle while the writer caught up, ~1.3 s of a
/// 100,000-page audit), and its queue stays bounded when the checks find faster than
/// it writes (a near-duplicate finding of a large site carries ~0.9 KB of evidence, and
/// 65,536 of them queued held ~10-20 MB more at the audit's peak).
const FLUSH_EVERY: u64 = 1 << 13;

/// Bytes of findings (URLs and evidence) after which a commit is asked even before
/// [`FLUSH_EVERY`] findings: what the writer has in hand is bounded by their size, not
/// only their number (8,192 near-duplicate findings are ~8 MB, most others ~0.1 KB).
const FLUSH_BYTES: u64 = 2 << 20;

/// What has been handed to the writer since the last commit asked, and whether the
/// next is due.
#[derive(Debug, Default)]
struct SinceCommit {
    findings: u64,
    bytes: u64,
}

impl SinceCommit {
    /// Counts `findings` findings of `bytes` bytes; true when a commit is due
    /// (counting starts again).
    fn add(&mut self, findings: u64, bytes: u64) -> bool {
        self.findings += findings;
        self.bytes += bytes;
        let due = self.findings >= FLUSH_EVERY || self.bytes >= FLUSH_BYTES;
        if due {
            *self = Self::default();
        }
        due
    }
}

impl AuditSection {
    /// Runs the checks over a crawl in memory and keeps every finding.
    pub(super) fn run(site: &SiteData, cfg: &AuditConfig) -> Self {
        let mut tally = Tally::new(cfg, false);
        for f in checks::audit(site, cfg) {
            tally.add(f);
        }
        tally.finish(checks::scored_urls(site))
    }

    /// What a crawl's stored findings must have been made with to be reused: the
    /// siteaudit version, the settings and the earlier crawl compared against.
    pub(super) fn key(cfg: &AuditConfig, previous: Option<CrawlId>) -> String {
        let mut disabled: Vec<&str> = cfg.disabled.iter().map(String::as_str).collect();
        disabled.sort_unstable();
        let settings = serde_json::json!({
            "tool": env!("CARGO_PKG_VERSION"),
            "disabled": disabled,
            "thresholds": cfg.thresholds,
            "previous": previous,
        });
        settings.to_string()
    }

    /// Audits the crawl, loaded with [`SiteData::load_shared`], into the store under
    /// `key`, replacing what it held; the per-page checks read each page's full facts
    /// from the store as they stream by. With `sample`, also returns the sampled
    /// section [`AuditSection::read`] would give, added up on the way.
    pub(super) fn store(
        store: &dyn Store,
        site: &SiteData,
        cfg: &AuditConfig,
        key: String,
        sample: bool,
    ) -> Result<Option<Self>, StoreError> {
        let id = site.info.id;
        let sampler = sample.then(|| Mutex::new(Sampler::default()));
        store.write(id, WriteOp::ClearFindings)?;
        let sent = AtomicU64::new(0);
        let since = Mutex::new(SinceCommit::default());
        let in_flight: Mutex<Option<crate::store::Commit>> = Mutex::new(None);
        let failed: Mutex<Option<StoreError>> = Mutex::new(None);
        let fail = |e: StoreError| {
            failed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert(e);
        };
        let facts = |each: &mut dyn FnMut(_, &str)| store.for_each_facts(id, each);
        checks::audit_streaming(site, cfg, facts, &|batch| {
            if let Some(sampler) = &sampler {
                let mut sampler = sampler
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                batch.iter().for_each(|f| sampler.add(f, site));
            }
            let n = batch.len() as u64;
            let bytes: u64 = batch
                .iter()
                .map(|f| (f.details.get().len() + f.url.as_ref().map_or(0, String::len)) as u64)
                .sum();
            if let Err(e) = store.write(id, WriteOp::Findings(batch)) {
                return fail(e);
            }
            sent.fetch_add(n, Ordering::Relaxed);
            let due = since
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .add(n, bytes);
            if due {
                let asked = match store.commit_later() {
                    Ok(c) => c,
                    Err(e) => return fail(e),
                };
                let earlier = in_flight
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .replace(asked);
                if let Some(Err(e)) = earlier.map(crate::store::Commit::wait) {
                    fail(e);
                }
            }
        })?;
        let last = in_flight
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(Err(e)) = last.map(crate::store::Commit::wait) {
            fail(e);
        }
        if let Some(e) = failed
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Err(e);
        }
        let findings = sent.into_inner();
        store.write(id, WriteOp::Audited { key, findings })?;
        store.flush()?;
        Ok(sampler.map(|s| {
            s.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .finish(cfg, checks::scored_urls(site))
        }))
    }

    /// Reads crawl `id`'s stored findings back, scoring them over `scored_urls` URLs;
    /// keeps only the first of each group when `sampled`.
    pub(super) fn read(
        store: &dyn Store,
        id: CrawlId,
        cfg: &AuditConfig,
        scored_urls: usize,
        sampled: bool,
    ) -> Result<Self, ReportError> {
        let mut tally = Tally::new(cfg, sampled);
        let mut bad = None;
        store.for_each_finding(id, &mut |r| {
            if bad.is_some() {
                return;
            }
            let Some(info) = checks::info(&r.check_id) else {
                bad = Some(format!("finding of unknown check {:?}", r.check_id));
                return;
            };
            let details = match serde_json::value::RawValue::from_string(r.details) {
                Ok(d) => d,
                Err(e) => {
                    bad = Some(format!("finding details of {}: {e}", r.check_id));
                    return;
                }
            };
            tally.add(FindingRow {
                check: info.id,
                category: info.category,
                severity: r.severity,
                title: info.title,
                url: r.url,
                details,
                fix: info.fix,
                order: 0,
            });
        })?;
        if let Some(why) = bad {
            return Err(StoreError::Corrupt(why).into());
        }
        Ok(tally.finish(scored_urls))
    }
}

/// An audit section added up from findings given in report order.
struct Tally {
    score: ScoreTally,
    by_severity: BTreeMap<&'static str, u64>,
    groups: Vec<FindingGroup>,
    findings: Vec<FindingRow>,
    sampled: bool,
    checks_run: Vec<CheckInfo>,
}

impl Tally {
    fn new(cfg: &AuditConfig, sampled: bool) -> Self {
        Self {
            score: ScoreTally::default(),
            by_severity: BTreeMap::new(),
            groups: Vec::new(),
            findings: Vec::new(),
            sampled,
            checks_run: checks_run(cfg),
        }
    }

    fn add(&mut self, f: FindingRow) {
        self.score.add(f.category, f.severity, f.url.as_deref());
        *self.by_severity.entry(f.severity.id()).or_default() += 1;
        let count = match self.groups.last_mut() {
            Some(g) if g.check == f.check && g.severity == f.severity => {
                g.count += 1;
                g.count
            }
            _ => {
                self.groups.push(FindingGroup {
                    check: f.check,
                    severity: f.severity,
                    count: 1,
                });
                1
            }
        };
        if !self.sampled || count <= SAMPLE as u64 {
            self.findings.push(f);
        }
    }

    fn finish(self, scored_urls: usize) -> AuditSection {
        AuditSection {
            score: self.score.finish(scored_urls),
            by_severity: self.by_severity,
            findings: self.findings,
            groups: self.groups,
            sampled: self.sampled,
            checks_run: self.checks_run,
        }
    }
}

/// The checks that run with `cfg` (registered and not disabled), in registry order.
fn checks_run(cfg: &AuditConfig) -> Vec<CheckInfo> {
    checks::registry()
        .iter()
        .map(|c| *c.info())
        .filter(|i| !cfg.disabled.contains(i.id))
        .collect()
}

/// A sampled audit section added up from findings in any order: equal to reading them
/// back in report order (severity, check, URL, then the order the checks found them)
/// and keeping the first [`SAMPLE`] of each group, with no sort of every finding.
#[derive(Default)]
struct Sampler {
    score: ScoreTally,
    /// Findings by [`Severity::rank`].
    by_rank: [u64; 3],
    /// By severity and check: the count, and the findings first in report order so far
    /// (the heap's top is the last of them, the one to replace). Hashed, and sorted at
    /// the end: an ordered map compared check ids for every finding.
    groups: rustc_hash::FxHashMap<GroupKey, (u64, BinaryHeap<Sampled>)>,
}

/// A group's place in the report: severity (highest first), then check id.
type GroupKey = (Reverse<u8>, &'static str);

/// A finding ordered as the report lists it within its group.
struct Sampled(FindingRow);

impl Sampled {
    fn key(&self) -> (Option<&str>, u64) {
        (self.0.url.as_deref(), self.0.order)
    }
}

impl PartialEq for Sampled {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Sampled {}

impl PartialOrd for Sampled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sampled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl Sampler {
    fn add(&mut self, f: &FindingRow, site: &SiteData) {
        // Scored by the URL's position in the crawl where it is one of its URLs: no copy
        // of a URL per page held through the audit. A per-page finding is mostly about
        // the page it was found on, whose position is in its order: no lookup then.
        let at = |u: &str| {
            let pos = (f.order >> 32) as usize;
            match site.urls.get(pos) {
                Some(r) if r.url == u => Some(pos),
                _ => site.position_of_url(u),
            }
        };
        match f.url.as_deref().and_then(at) {
            Some(pos) => self.score.add_at(f.category, f.severity, pos),
            None => self.score.add(f.category, f.severity, f.url.as_deref()),
        }
        self.by_rank[usize::from(f.severity.rank())] += 1;
        let (count, kept) = self
            .groups
            .entry((Reverse(f.severity.rank()), f.check))
            .or_default();
        *count += 1;
        if kept.len() < SAMPLE {
            kept.push(Sampled(f.clone()));
        } else if let Some(mut last) = kept.peek_mut()
            && (f.url.as_deref(), f.order) < last.key()
        {
            // Cloned only when it is among the first: most findings are not.
            *last = Sampled(f.clone());
        }
    }

    fn finish(self, cfg: &AuditConfig, scored_urls: usize) -> AuditSection {
        let mut groups = Vec::with_capacity(self.groups.len());
        let mut findings = Vec::new();
        let mut sorted: Vec<_> = self.groups.into_iter().collect();
        sorted.sort_unstable_by_key(|&(key, _)| key);
        let by_severity = (0..3u8)
            .rev()
            .filter_map(|rank| {
                Some((
                    Severity::from_rank(rank)?.id(),
                    self.by_rank[usize::from(rank)],
                ))
            })
            .filter(|&(_, n)| n > 0)
            .collect();
        for ((_, check), (count, kept)) in sorted {
            let kept = kept.into_sorted_vec();
            groups.push(FindingGroup {
                check,
                severity: kept[0].0.severity,
                count,
            });
            // As read back from the store: the order is only for sorting.
            findings.extend(
                kept.into_iter()
                    .map(|Sampled(f)| FindingRow { order: 0, ..f }),
            );
        }
        AuditSection {
            score: self.score.finish(scored_urls),
            by_severity,
            findings,
            groups,
            sampled: true,
            checks_run: checks_run(cfg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_is_due_every_so_many_findings_or_bytes() {
        let mut since = SinceCommit::default();
        // Small findings: by their number.
        assert!(!since.add(FLUSH_EVERY - 1, 100 * (FLUSH_EVERY - 1)));
        assert!(since.add(1, 100));
        // Counting started again.
        assert!(!since.add(10, 1000));
        assert!(!since.add(FLUSH_EVERY - 11, 1000));
        assert!(since.add(1, 0));
        // Large ones (near-duplicate evidence): by their size, long before.
        assert!(!since.add(1000, FLUSH_BYTES - 1));
        assert!(since.add(1, 1));
        assert!(!since.add(2, 1 << 20));
    }

    fn finding(
        check: &'static str,
        severity: Severity,
        url: Option<&str>,
        order: u64,
    ) -> FindingRow {
        FindingRow {
            check,
            category: if check == "b" { 3 } else { 7 },
            severity,
            title: "t",
            url: url.map(str::to_string),
            details: serde_json::value::RawValue::from_string(format!("{{\"n\":{order}}}"))
                .unwrap(),
            fix: "f",
            order,
        }
    }

    /// Sorts findings as the store reads them back: severity (highest first), check, URL,
    /// then the order the checks found them.
    fn sort_as_stored(all: &mut [FindingRow]) {
        all.sort_by(|x, y| {
            (Reverse(x.severity.rank()), x.check, &x.url, x.order).cmp(&(
                Reverse(y.severity.rank()),
                y.check,
                &y.url,
                y.order,
            ))
        });
    }

    /// A per-page finding is scored at the position its order names only when that is
    /// its URL's position: orders naming the URL's own page, another page, or no page
    /// at all score as the URLs named would.
    #[test]
    fn sampler_scores_by_the_url_whatever_the_order_names() {
        let mut site = crate::checks::test_support::TestSite::new();
        for i in 0..12 {
            site = site.page(&format!("/{i}"), Some(200), None, |_| {});
        }
        let site = site.built();
        let mut all = Vec::new();
        for i in 0..12u64 {
            let url = format!("http://site.example/{i}");
            let own = site.position_of_url(&url).unwrap() as u64;
            for (n, pos) in [own, (own + 5) % 12, 1 << 20].into_iter().enumerate() {
                let check = ["a", "b", "c"][n];
                all.push(finding(check, Severity::Warning, Some(&url), pos << 32));
            }
        }
        all.push(finding(
            "a",
            Severity::Error,
            Some("http://elsewhere.example/"),
            3 << 32,
        ));
        let cfg = AuditConfig::default();
        let mut sampler = Sampler::default();
        all.iter().for_each(|f| sampler.add(f, &site));
        let mut tally = Tally::new(&cfg, true);
        sort_as_stored(&mut all);
        for f in all {
            tally.add(FindingRow { order: 0, ..f });
        }
        let (fresh, read) = (sampler.finish(&cfg, 13), tally.finish(13));
        assert_eq!(
            serde_json::to_value(&fresh.score).unwrap(),
            serde_json::to_value(&read.score).unwrap()
        );
    }

    /// Fed in the order the checks find them, the sampler keeps what reading the stored
    /// findings back sorted keeps: groups, counts, score and the first of each group.
    #[test]
    fn sampler_equals_the_sorted_read() {
        let mut all = Vec::new();
        for i in 0..400u64 {
            // Several checks and severities, URLs repeating, some site-wide (no URL).
            let check = ["a", "b", "c"][(i % 3) as usize];
            let severity = [Severity::Notice, Severity::Error][(i % 5 == 0) as usize];
            let url = (i % 17 != 0).then(|| format!("http://site.example/{}", (i * 37) % 61));
            all.push(finding(check, severity, url.as_deref(), (i * 7919) % 1000));
        }
        // Half the URLs are the crawl's (scored by position), half are not (by name).
        let mut site = crate::checks::test_support::TestSite::new();
        for i in 0..30 {
            site = site.page(&format!("/{i}"), Some(200), None, |_| {});
        }
        let site = site.built();
        let mut sampler = Sampler::default();
        all.iter().for_each(|f| sampler.add(f, &site));
        let cfg = AuditConfig::default();
        let fresh = sampler.finish(&cfg, 61);

        sort_as_stored(&mut all);
        let mut tally = Tally::new(&cfg, true);
        for f in all {
            tally.add(FindingRow { order: 0, ..f });
        }
        let read = tally.finish(61);

        assert_eq!(fresh.groups, read.groups);
        assert!(fresh.groups.iter().any(|g| g.count > SAMPLE as u64));
        assert_eq!(
            serde_json::to_value(&fresh).unwrap(),
            serde_json::to_value(&read).unwrap()
        );
        assert_eq!(fresh.findings.len(), read.findings.len());
        let first = |s: &AuditSection| {
            s.findings
                .iter()
                .map(|f| f.details.get().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(first(&fresh), first(&read));
        assert!(fresh.sampled && read.sampled);
    }
}
