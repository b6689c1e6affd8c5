//! The embedded store: one SQLite file in WAL mode, written by one thread in batches.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{
    CrawlId, CrawlInfo, FindingRecord, Header, Headers, LinkRow, LinkRowRef, NewUrl, Store,
    StoreError, TextPool, UrlId, UrlRecord, UrlResult, UrlScope, WriteOp,
};
use crate::config::CrawlConfig;
use crate::model::{Attempt, FailureKind, RedirectHop, Severity, Timings};

const SCHEMA: &str = include_str!("schema.sql");
const SCHEMA_VERSION: i64 = 6;
/// A batch is committed after this many writes or this long, whichever comes first.
const BATCH_OPS: usize = 4096;
const BATCH_TIME: Duration = Duration::from_millis(100);
/// How long the writer sleeps mid-batch when the queue is empty.
const NAP: Duration = Duration::from_millis(2);
/// Writes queued for the writer at most: when SQLite falls behind (a database of
/// gigabytes inserts slower than a crawl fetches), writers wait rather than queue
/// without bound. Two batches' worth keeps the writer busy.
const QUEUE_OPS: usize = 2 * BATCH_OPS;

/// The writer's page cache (KiB) while a batch writes a crawl's data: each 100 ms
/// batch dirties pages all over the URL table and its fingerprint index, and with
/// SQLite's default 2 MB (125 pages of 16 KiB) they spill to the WAL mid-batch and are
/// read back. A 100,000-page crawl spends ~1-2 s less system CPU with 8 MB (16 MB
/// saved little more, and held more after the crawl).
const CRAWL_CACHE_KIB: i64 = 8 * 1024;
/// The page cache for an audit's findings, which are appended in order: SQLite's
/// default, so the cache grown for the crawl does not add to the audit's peak.
const AUDIT_CACHE_KIB: i64 = 2000;

enum Msg {
    Write(CrawlId, WriteOp),
    Flush(Sender<Result<(), String>>),
}

/// Sizes the writer's page cache for a batch starting with `first` (crawl data or an
/// audit's findings), when it is not that size already.
fn size_cache(conn: &Connection, first: &Msg, current: &mut i64) -> rusqlite::Result<()> {
    let want = match first {
        Msg::Write(_, op) if !op.is_audit() => CRAWL_CACHE_KIB,
        Msg::Write(..) => AUDIT_CACHE_KIB,
        Msg::Flush(_) => return Ok(()),
    };
    if want != *current {
        // Negative: a size in KiB rather than in pages.
        conn.execute_batch(&format!("PRAGMA cache_size = -{want};"))?;
        *current = want;
    }
    Ok(())
}

/// The SQLite store.
pub struct SqliteStore {
    /// Read connections: two, so that a crawl's links and its pages load at once.
    read: [Mutex<Connection>; 2],
    tx: Mutex<SyncSender<Msg>>,
    failed: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Page size of a new database: a page's facts (~2.3 KB of JSON) overflow 4 KB pages
/// of the URL table, and the crawl writes each URL row twice. Five alternated runs of the
/// 100,000-page bench crawl against the default 4 KB: 18.2 s against 19.9 s on average,
/// less system time in every pair; the report of a stored crawl 2.0-2.3 s against 2.5-2.7 s.
const PAGE_SIZE: u32 = 16384;

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |e: rusqlite::Error| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(open_err)?;
    // The page size only takes on a new database (before WAL mode writes its header);
    // an existing file keeps its own.
    conn.execute_batch(&format!(
        "PRAGMA page_size={PAGE_SIZE}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    ))
    .map_err(open_err)?;
    Ok(conn)
}

/// Which columns of the URL rows a read fills.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// Every one.
    All,
    /// All but the page facts.
    NoFacts,
    /// What a summary reads: no facts, content type or charset, and headers and body
    /// snippets only of error responses (the diagnosis reads them).
    Summary,
    /// What an audit reads: no facts, and of responses below 400 the headers as
    /// [`Store::urls_for_audit`] says, their lists shared.
    Audit,
}

impl SqliteStore {
    /// Calls `f` with each stored link list of `crawl` (its page's id and the JSON), in
    /// the order written.
    fn for_each_link_list(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(UrlId, &str) -> Result<(), serde_json::Error>,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        // By the crawl's index, which holds its rows in rowid order: no sort.
        let mut stmt = conn
            .prepare("SELECT from_id, links FROM link_lists WHERE crawl_id = ?1 ORDER BY rowid")?;
        let mut rows = stmt.query([crawl])?;
        while let Some(r) = rows.next()? {
            let from: UrlId = r.get(0)?;
            let bad = |why: String| {
                StoreError::Corrupt(format!("links of URL {from} of crawl {crawl}: {why}"))
            };
            let json = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Text(t) => {
                    std::str::from_utf8(t).map_err(|e| bad(e.to_string()))?
                }
                other => return Err(bad(format!("a {} value", other.data_type()))),
            };
            f(from, json).map_err(|e| bad(e.to_string()))?;
        }
        Ok(())
    }

    /// The URL rows of a crawl, with the `columns` asked for.
    fn url_records(&self, crawl: CrawlId, columns: Columns) -> Result<Vec<UrlRecord>, StoreError> {
        // Read in place and interned: no String per row.
        fn word(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<super::Word> {
            let v = r.get_ref(i)?;
            let fail = |e: Box<dyn std::error::Error + Send + Sync>| {
                rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), e)
            };
            super::Word::new(v.as_str().map_err(|e| fail(e.into()))?)
                .ok_or_else(|| fail("more than 65,536 distinct words in one column".into()))
        }
        let conn = self.conn();
        let (facts, content, errors_only) = match columns {
            Columns::All => ("facts", "content_type, charset", false),
            Columns::NoFacts | Columns::Audit => ("NULL", "content_type, charset", false),
            Columns::Summary => ("NULL", "NULL, NULL", true),
        };
        let error_col = |c: &str| match errors_only {
            true => format!("CASE WHEN status >= 400 THEN {c} END"),
            false => c.to_string(),
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT id, url, depth, scope, found_by, in_sitemap, state, status, failure, failure_detail,
                    location, {content}, ttfb_ms, total_ms, wire_bytes, body_bytes, attempts,
                    robots_disallowed, {}, {facts}, {}, fingerprint
             FROM urls WHERE crawl_id = ?1 ORDER BY id",
            error_col("headers"),
            error_col("body_snippet"),
        ))?;
        // Sized once: a million-URL crawl's rows are not copied as the list grows.
        let count: i64 = conn.query_row(
            "SELECT COUNT(*) FROM urls WHERE crawl_id = ?1",
            [crawl],
            |r| r.get(0),
        )?;
        let mut out = Vec::with_capacity(count.max(0) as usize);
        let mut pool = TextPool::default();
        // An audit's lists of headers, each distinct one once.
        let mut lists = rustc_hash::FxHashSet::<Headers>::default();
        let mut rows = stmt.query([crawl])?;
        while let Some(r) = rows.next()? {
            let failure: Option<String> = r.get(8)?;
            let detail: Option<String> = r.get(9)?;
            let lean =
                columns == Columns::Audit && r.get::<_, Option<u16>>(7)?.is_none_or(|s| s < 400);
            let headers = match r.get_ref(19)? {
                rusqlite::types::ValueRef::Text(h) => stored_headers(h, &mut pool, lean),
                _ => Vec::new(),
            };
            let headers = match lean {
                true => match lists.get(headers.as_slice()) {
                    Some(shared) => shared.clone(),
                    None => {
                        let list = Headers::from(headers);
                        lists.insert(list.clone());
                        list
                    }
                },
                false => headers.into(),
            };
            let facts: Option<String> = r.get(20)?;
            let mut record = UrlRecord {
                id: r.get(0)?,
                url: r.get(1)?,
                depth: r.get(2)?,
                scope: if r.get::<_, String>(3)? == "external" {
                    UrlScope::External
                } else {
                    UrlScope::Internal
                },
                found_by: word(r, 4)?,
                in_sitemap: r.get(5)?,
                state: word(r, 6)?,
                status: r.get(7)?,
                content_type: shared_text(r, 11, &mut pool)?,
                charset: shared_text(r, 12, &mut pool)?,
                ttfb_ms: r.get::<_, Option<f64>>(13)?.into(),
                total_ms: r.get::<_, Option<f64>>(14)?.into(),
                wire_bytes: r.get::<_, Option<i64>>(15)?.map(|v| v as u64).into(),
                body_bytes: r.get::<_, Option<i64>>(16)?.map(|v| v as u64).into(),
                attempts: r.get(17)?,
                robots_disallowed: r.get(18)?,
                headers,
                fingerprint: r.get::<_, i64>(22)? as u64,
                ..UrlRecord::default()
            };
            record
                .set_failure(failure.and_then(|f| FailureKind::from_parts(&f, detail.as_deref())));
            record.set_location(row_text(r, 10)?.as_deref());
            record.set_facts(facts.and_then(|f| serde_json::value::RawValue::from_string(f).ok()));
            record.set_body_snippet(row_text(r, 21)?.as_deref());
            out.push(record);
        }
        Ok(out)
    }
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let conn = open_conn(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);",
        )?;
        let version: Option<i64> = conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        match version {
            None => {
                conn.execute_batch(SCHEMA)?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![SCHEMA_VERSION, now()],
                )?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError::Open {
                    path: path.display().to_string(),
                    reason: format!(
                        "database schema version {v} is newer than this siteaudit understands ({SCHEMA_VERSION})"
                    ),
                });
            }
            Some(v) if v < SCHEMA_VERSION => upgrade(&conn)?,
            Some(_) => {}
        }
        let mut writer = open_conn(path)?;
        super::checkpoint::in_background(&mut writer, open_conn(path)?).map_err(|reason| {
            StoreError::Open {
                path: path.display().to_string(),
                reason,
            }
        })?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_OPS);
        let failed = Arc::new(Mutex::new(None));
        let f = failed.clone();
        std::thread::Builder::new()
            .name("siteaudit-store".into())
            .spawn(move || writer_loop(writer, rx, f))
            .map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            read: [Mutex::new(conn), Mutex::new(open_conn(path)?)],
            tx: Mutex::new(tx),
            failed,
        })
    }

    /// A free read connection (the first one when both are busy).
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        for r in &self.read {
            match r.try_lock() {
                Ok(c) => return c,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        self.read[0]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn writer_error(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn send(&self, msg: Msg) -> Result<(), StoreError> {
        if let Some(e) = self.writer_error() {
            return Err(StoreError::WriterGone(e));
        }
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(msg)
            .map_err(|_| StoreError::WriterGone("writer thread ended".into()))
    }
}

fn writer_loop(mut conn: Connection, rx: Receiver<Msg>, failed: Arc<Mutex<Option<String>>>) {
    let fail = |e: String| {
        *failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
    };
    // Unknown until the first batch sets it.
    let mut cache = 0;
    while let Ok(first) = rx.recv() {
        let mut flushes = Vec::new();
        if let Err(e) = size_cache(&conn, &first, &mut cache) {
            fail(e.to_string());
            return;
        }
        let tx = match conn.transaction() {
            Ok(tx) => tx,
            Err(e) => {
                fail(e.to_string());
                return;
            }
        };
        let started = Instant::now();
        let mut hot = Hot::default();
        let mut pending = Some(first);
        let mut ops = 0;
        // Crawls whose data this batch changes: their stored findings go stale.
        let mut changed: Vec<CrawlId> = Vec::new();
        let mut result: Result<(), rusqlite::Error> = Ok(());
        loop {
            let msg = match pending.take() {
                Some(m) => m,
                None => {
                    let left = BATCH_TIME.saturating_sub(started.elapsed());
                    if ops >= BATCH_OPS || left.is_zero() {
                        break;
                    }
                    // Within a batch the writer naps instead of waiting on the queue:
                    // a waiting receiver turns every write into a wake-up of this
                    // thread (a futex call and a context switch, 100,000s a crawl).
                    match rx.try_recv() {
                        Ok(m) => m,
                        Err(TryRecvError::Empty) => {
                            std::thread::sleep(left.min(NAP));
                            continue;
                        }
                        Err(TryRecvError::Disconnected) => break,
                    }
                }
            };
            match msg {
                Msg::Write(crawl, op) => {
                    if !op.is_audit() && !changed.contains(&crawl) {
                        changed.push(crawl);
                    }
                    if result.is_ok() {
                        result = apply(&tx, &mut hot, crawl, op);
                    }
                    ops += 1;
                }
                // A flush ends the batch: everything before it is committed first.
                Msg::Flush(reply) => {
                    flushes.push(reply);
                    break;
                }
            }
        }
        drop(hot);
        for crawl in changed {
            if result.is_ok() {
                result = tx
                    .prepare_cached("DELETE FROM audits WHERE crawl_id = ?1")
                    .and_then(|mut s| s.execute([crawl]))
                    .map(drop);
            }
        }
        let outcome = result.and_then(|()| tx.commit()).map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            fail(e.clone());
        }
        for reply in flushes {
            let _ = reply.send(outcome.clone());
        }
        if outcome.is_err() {
            // Keep answering flushes with the error so nobody waits forever.
            while let Ok(msg) = rx.recv() {
                if let Msg::Flush(reply) = msg {
                    let _ = reply.send(outcome.clone());
                }
            }
            return;
        }
    }
}

/// The statements a batch runs again and again (for every page of a crawl, for every
/// 32 findings of an audit), each taken from the statement cache once a batch: taken
/// and given back each time, each take looked its text up and each return cleared its
/// parameters (~1 % of a crawl's instructions and of an audit's; the findings' insert
/// has 224).
#[derive(Default)]
struct Hot<'c> {
    insert_urls: Option<rusqlite::CachedStatement<'c>>,
    write_result: Option<rusqlite::CachedStatement<'c>>,
    insert_links: Option<rusqlite::CachedStatement<'c>>,
    insert_findings: Option<rusqlite::CachedStatement<'c>>,
}

/// The statement held in `slot`, taken from `tx`'s cache first if it is not yet.
fn held<'s, 'c>(
    slot: &'s mut Option<rusqlite::CachedStatement<'c>>,
    tx: &'c Transaction<'_>,
    sql: &str,
) -> rusqlite::Result<&'s mut rusqlite::CachedStatement<'c>> {
    let stmt = match slot.take() {
        Some(stmt) => stmt,
        None => tx.prepare_cached(sql)?,
    };
    Ok(slot.insert(stmt))
}

fn insert_urls<'c>(
    tx: &'c Transaction<'_>,
    hot: &mut Hot<'c>,
    crawl: CrawlId,
    urls: &[NewUrl],
) -> rusqlite::Result<()> {
    if urls.is_empty() {
        return Ok(());
    }
    let stmt = held(
        &mut hot.insert_urls,
        tx,
        "INSERT OR IGNORE INTO urls (crawl_id, id, url, fingerprint, depth, scope, found_by, in_sitemap)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for u in urls {
        stmt.execute(params![
            crawl,
            u.id,
            u.url,
            u.fingerprint as i64,
            u.depth,
            u.scope.id(),
            u.found_by,
            u.in_sitemap
        ])?;
    }
    Ok(())
}

/// A link as its page's list in `link_lists` holds it: `[to_id, kind, text, rel]`.
type StoredLink<'a> = (UrlId, &'a str, Option<&'a str>, Option<&'a str>);

/// The same with its texts owned, for a list whose texts JSON escapes (a quote, a
/// backslash, a control character): rare, so lists are read borrowing first.
type OwnedLink = (UrlId, String, Option<String>, Option<String>);

/// Writes links as lists, one row per run of links from one page (a done URL's links
/// are all its own), in the order given.
fn insert_links<'c>(
    tx: &'c Transaction<'_>,
    hot: &mut Hot<'c>,
    crawl: CrawlId,
    links: &[LinkRow],
) -> rusqlite::Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    // OR FAIL: no statement journal (see insert_findings_sql).
    let stmt = held(
        &mut hot.insert_links,
        tx,
        "INSERT OR FAIL INTO link_lists (crawl_id, from_id, links) VALUES (?1, ?2, ?3)",
    )?;
    for run in links.chunk_by(|a, b| a.from == b.from) {
        let list: Vec<StoredLink<'_>> = run
            .iter()
            .map(|l| (l.to, l.kind.as_str(), l.text.as_deref(), l.rel.as_deref()))
            .collect();
        let json = serde_json::to_string(&list)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        stmt.execute(params![crawl, run[0].from, json])?;
    }
    Ok(())
}

/// Calls `f` for each link of a page's stored list (`from`'s, as JSON). `scan` is a
/// buffer for [`scan_links`], which reads the lists the store wrote whose texts hold no
/// escape; the JSON reader reads the others.
fn read_links(
    from: UrlId,
    json: &str,
    f: &mut dyn FnMut(LinkRowRef<'_>),
    scan: &mut Vec<Scanned>,
) -> Result<(), serde_json::Error> {
    if scan_links(json, scan) == Some(false) && scan.iter().all(Scanned::is_stored_link) {
        scan.iter().for_each(|l| f(l.link(from, json)));
        return Ok(());
    }
    fn link<'a>(from: UrlId, (to, kind, text, rel): StoredLink<'a>) -> LinkRowRef<'a> {
        LinkRowRef {
            from,
            to,
            kind: kind.into(),
            text,
            rel,
        }
    }
    match serde_json::from_str::<Vec<StoredLink<'_>>>(json) {
        Ok(list) => list.into_iter().for_each(|l| f(link(from, l))),
        Err(_) => {
            let list: Vec<OwnedLink> = serde_json::from_str(json)?;
            for (to, kind, text, rel) in &list {
                f(link(from, (*to, kind, text.as_deref(), rel.as_deref())));
            }
        }
    }
    Ok(())
}

/// A link of a list as [`scan_links`] finds it: its target, how many values follow it,
/// and where the first three (kind, text, rel) are in the list: a string's contents as a
/// byte range, `None` for `null`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Scanned {
    to: UrlId,
    values: usize,
    texts: [Option<(usize, usize)>; 3],
}

impl Scanned {
    /// Whether it has the stored shape: a kind, then a text and a rel or `null`s.
    fn is_stored_link(&self) -> bool {
        self.values == 3 && self.texts[0].is_some()
    }

    /// The link as a reader sees it, with the stored shape, from `json`, the list it was
    /// scanned in, when its texts hold no escape (they are the list's bytes as written).
    fn link<'a>(&self, from: UrlId, json: &'a str) -> LinkRowRef<'a> {
        let text = |i: usize| self.texts[i].map(|(a, b)| &json[a..b]);
        LinkRowRef {
            from,
            to: self.to,
            kind: text(0).unwrap_or_default().into(),
            text: text(1),
            rel: text(2),
        }
    }
}

/// The links of a list in the one shape the store writes it (`[]`, or `[[to,...],...]`
/// where each link's other values are strings or `null`, with no white space), into
/// `links`, and whether a string holds an escape (its bytes are then not its text);
/// `None` for any other text, which the JSON reader then reads or rejects (a string's
/// bytes are not checked for the raw control characters JSON forbids: the store never
/// writes one). Written by hand because a load reads every list twice, once to count
/// each target's links and once to place them: this scan in place of serde_json took
/// 1.9 % off an audit's instructions in the count and 1.8 % in the reading.
fn scan_links(json: &str, links: &mut Vec<Scanned>) -> Option<bool> {
    let json = json.as_bytes();
    links.clear();
    let mut escaped = false;
    let mut i = 1;
    if json.first() != Some(&b'[') {
        return None;
    }
    if json.get(1) == Some(&b']') {
        return (json.len() == 2).then_some(false);
    }
    loop {
        if json.get(i) != Some(&b'[') {
            return None;
        }
        i += 1;
        let digits = json[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        // JSON numbers have no leading zero; ten digits cover every id.
        if digits == 0 || digits > 10 || (json[i] == b'0' && digits > 1) {
            return None;
        }
        let to = json[i..i + digits]
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        let mut link = Scanned {
            to: UrlId::try_from(to).ok()?,
            ..Scanned::default()
        };
        i += digits;
        // The link's other values.
        while json.get(i) == Some(&b',') {
            i += 1;
            let text = if json[i..].starts_with(b"null") {
                i += 4;
                None
            } else if json.get(i) == Some(&b'"') {
                i += 1;
                let start = i;
                loop {
                    i += memchr::memchr2(b'"', b'\\', json.get(i..)?)?;
                    if json[i] == b'"' {
                        break;
                    }
                    // An escape: the char after the backslash is never the string's end.
                    escaped = true;
                    i += 2;
                }
                i += 1;
                Some((start, i - 1))
            } else {
                return None;
            };
            if let Some(slot) = link.texts.get_mut(link.values) {
                *slot = text;
            }
            link.values += 1;
        }
        if json.get(i) != Some(&b']') {
            return None;
        }
        links.push(link);
        i += 1;
        match json.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return (i + 1 == json.len()).then_some(escaped),
            _ => return None,
        }
    }
}

/// Counts the targets of a page's stored link list into `counts`, reading each link's
/// target and skipping its texts (nothing allocated): a load counts every list before
/// it reads them, and reading each whole twice was ~half its link lists' cost. `scan`
/// is a buffer for [`scan_links`], which counts the lists the store wrote.
fn count_targets(
    json: &str,
    counts: &mut rustc_hash::FxHashMap<UrlId, u32>,
    scan: &mut Vec<Scanned>,
) -> Result<(), serde_json::Error> {
    if scan_links(json, scan).is_some() {
        for link in scan.iter() {
            *counts.entry(link.to).or_default() += 1;
        }
        return Ok(());
    }
    use serde::de::{DeserializeSeed, Error, IgnoredAny, SeqAccess, Visitor};
    /// A list's links, each counted by target.
    struct List<'c>(&'c mut rustc_hash::FxHashMap<UrlId, u32>);
    /// One link's target.
    struct Target(UrlId);
    impl<'de> DeserializeSeed<'de> for List<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for List<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of links")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(Target(to)) = seq.next_element()? {
                *self.0.entry(to).or_default() += 1;
            }
            Ok(())
        }
    }
    impl<'de> serde::Deserialize<'de> for Target {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_seq(Target(0))
        }
    }
    impl<'de> Visitor<'de> for Target {
        type Value = Target;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a link: [target, kind, text, rel]")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Target, A::Error> {
            let to = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(0, &self))?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Target(to))
        }
    }
    let mut d = serde_json::Deserializer::from_str(json);
    List(counts).deserialize(&mut d)?;
    d.end()
}

/// Brings a file of an older schema to this one, in one transaction: version 4's
/// `links` table (a row per link) moves into `link_lists`, each row a list of one link,
/// in rowid order (so each target's links keep the order they were written); version 4
/// and 5's findings, keyed by `seq`, are dropped with the audits they belong to (the
/// next report audits the crawl again); then the schema script runs again.
fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    let old_links =
        count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'links'")?;
    let findings_by_seq = count(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'findings'
           AND NOT EXISTS (SELECT 1 FROM pragma_table_info('findings') WHERE name = 'n')",
    )?;
    let mut script = String::from("BEGIN;\n");
    if old_links > 0 {
        script.push_str("ALTER TABLE links RENAME TO links_v4;\n");
    }
    if findings_by_seq > 0 {
        script.push_str("DROP TABLE findings;\nDELETE FROM audits;\n");
    }
    script.push_str(SCHEMA);
    if old_links > 0 {
        script.push_str(
            "INSERT INTO link_lists (crawl_id, from_id, links)
               SELECT crawl_id, from_id, json_array(json_array(to_id, kind, text, rel))
               FROM links_v4 ORDER BY rowid;
             DROP TABLE links_v4;\n",
        );
    }
    script.push_str(&format!(
        "INSERT INTO schema_migrations (version, applied_at) VALUES ({SCHEMA_VERSION}, '{}');\nCOMMIT;",
        now()
    ));
    conn.execute_batch(&script)
}

/// Findings inserted by one statement: rows inserted by one statement are appended
/// through the cursor it holds, where a statement a row searched the tree from its root
/// for each (~2,700 instructions a row).
const FINDINGS_PER_INSERT: usize = 32;

/// The statement inserting `rows` findings.
///
/// Why it and the links' insert say `OR FAIL`: with the default (`ABORT`),
/// SQLite keeps a statement journal for a statement that writes several rows or b-trees
/// and could fail part way (a copy of each page it changes, to undo the statement alone),
/// and the findings' 32-row inserts spilled theirs to temporary files: ~2.5 GB written
/// and thrown away in an audit of 100,000 pages (re-audit 3.70-3.75 s -> 3.38-3.50 s,
/// system time 1.05-1.21 -> 0.77-0.87 s). `FAIL` keeps what the statement wrote before
/// the error and needs no journal; the writer never commits a batch in which a write
/// failed (the transaction is rolled back), so nothing of it is kept either way.
fn insert_findings_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT OR FAIL INTO findings (crawl_id, n, seq, check_id, severity, url, details) VALUES ",
    );
    for i in 0..rows {
        sql.push_str(if i == 0 {
            "(?,?,?,?,?,?,?)"
        } else {
            ",(?,?,?,?,?,?,?)"
        });
    }
    sql
}

/// Appends `findings` after the crawl's last stored one, keyed in this order.
fn insert_findings<'c>(
    tx: &'c Transaction<'_>,
    hot: &mut Hot<'c>,
    crawl: CrawlId,
    findings: &[crate::model::AuditFinding],
) -> rusqlite::Result<()> {
    static FULL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| insert_findings_sql(FINDINGS_PER_INSERT));
    let mut n: i64 = tx
        .prepare_cached("SELECT coalesce(max(n) + 1, 0) FROM findings WHERE crawl_id = ?1")?
        .query_row([crawl], |r| r.get(0))?;
    let mut bind = |stmt: &mut rusqlite::CachedStatement<'_>,
                    chunk: &[crate::model::AuditFinding]| {
        for (i, f) in chunk.iter().enumerate() {
            let at = i * 7;
            stmt.raw_bind_parameter(at + 1, crawl)?;
            stmt.raw_bind_parameter(at + 2, n)?;
            stmt.raw_bind_parameter(at + 3, f.order as i64)?;
            stmt.raw_bind_parameter(at + 4, f.check)?;
            stmt.raw_bind_parameter(at + 5, f.severity.rank())?;
            stmt.raw_bind_parameter(at + 6, &f.url)?;
            stmt.raw_bind_parameter(at + 7, f.details.get())?;
            n += 1;
        }
        stmt.raw_execute()
    };
    // Executing the held statement resets it; every parameter is bound again before
    // the next.
    let mut chunks = findings.chunks_exact(FINDINGS_PER_INSERT);
    for chunk in chunks.by_ref() {
        bind(held(&mut hot.insert_findings, tx, &FULL)?, chunk)?;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        bind(
            &mut tx.prepare_cached(&insert_findings_sql(rest.len()))?,
            rest,
        )?;
    }
    Ok(())
}

/// Applies one write.
fn apply<'c>(
    tx: &'c Transaction<'_>,
    hot: &mut Hot<'c>,
    crawl: CrawlId,
    op: WriteOp,
) -> rusqlite::Result<()> {
    match op {
        WriteOp::Queue(urls) => insert_urls(tx, hot, crawl, &urls),
        WriteOp::Many(ops) => ops.into_iter().try_for_each(|op| apply(tx, hot, crawl, op)),
        WriteOp::MarkInSitemap(ids) => {
            let mut stmt = tx
                .prepare_cached("UPDATE urls SET in_sitemap = 1 WHERE crawl_id = ?1 AND id = ?2")?;
            for id in ids {
                stmt.execute(params![crawl, id])?;
            }
            Ok(())
        }
        WriteOp::Robots { host, status, body } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO robots (crawl_id, host, status, body) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![crawl, host, status, body])?;
            Ok(())
        }
        WriteOp::Reprobes { url_id, attempts } => {
            insert_attempts(tx, "reprobes", crawl, url_id, &attempts)
        }
        WriteOp::ClearFindings => {
            tx.execute("DELETE FROM audits WHERE crawl_id = ?1", [crawl])?;
            tx.execute("DELETE FROM findings WHERE crawl_id = ?1", [crawl])?;
            Ok(())
        }
        WriteOp::Findings(findings) => insert_findings(tx, hot, crawl, &findings),
        WriteOp::Audited { key, findings } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO audits (crawl_id, key, findings, audited_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![crawl, key, findings as i64, now()])?;
            Ok(())
        }
        WriteOp::HostProbe { host, kind, facts } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO host_probes (crawl_id, host, kind, facts) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![crawl, host, kind, facts])?;
            Ok(())
        }
        WriteOp::Done {
            result,
            new_urls,
            links: found,
        } => {
            insert_urls(tx, hot, crawl, &new_urls)?;
            write_result(tx, hot, crawl, &result)?;
            insert_links(tx, hot, crawl, &found)
        }
    }
}

fn write_result<'c>(
    tx: &'c Transaction<'_>,
    hot: &mut Hot<'c>,
    crawl: CrawlId,
    r: &UrlResult,
) -> rusqlite::Result<()> {
    let o = &r.outcome;
    let resp = o.response.as_ref();
    let headers = resp
        .filter(|r| !r.headers.is_empty())
        .map(|r| serde_json::to_string(&r.headers).unwrap_or_default());
    held(
        &mut hot.write_result,
        tx,
        "UPDATE urls SET state = 'done', status = ?3, failure = ?4, failure_detail = ?5, location = ?6,
           content_type = ?7, content_encoding = ?8, ttfb_ms = ?9, total_ms = ?10, wire_bytes = ?11,
           body_bytes = ?12, charset = ?13, attempts = ?14, robots_disallowed = ?15, headers = ?16,
           facts = ?17, body_snippet = ?18
         WHERE crawl_id = ?1 AND id = ?2",
    )?
    .execute(params![
        crawl,
        r.id,
        resp.map(|r| r.status),
        o.failure.as_ref().map(FailureKind::id),
        o.failure.as_ref().and_then(FailureKind::detail),
        resp.and_then(|r| r.location.as_deref()),
        resp.and_then(|r| r.content_type.as_deref()),
        resp.and_then(|r| r.content_encoding.as_deref()),
        (o.response.is_some() || o.failure.as_ref().is_some_and(FailureKind::is_error))
            .then_some(o.timings.ttfb_ms),
        (o.response.is_some() || o.failure.as_ref().is_some_and(FailureKind::is_error))
            .then_some(o.timings.total_ms),
        resp.map(|r| r.wire_bytes as i64),
        resp.map(|r| r.body_bytes as i64),
        resp.and_then(|r| r.charset.as_deref()),
        o.attempts.len().max(usize::from(o.response.is_some())) as i64,
        r.robots_disallowed,
        headers,
        r.facts,
        r.body_snippet,
    ])?;
    if o.attempts.len() > 1 {
        insert_attempts(tx, "attempts", crawl, r.id, &o.attempts)?;
    }
    if r.hops.len() > 1 {
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO redirects (crawl_id, url_id, hop, url, status, location) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (n, h) in r.hops.iter().enumerate() {
            stmt.execute(params![crawl, r.id, n as i64, h.url, h.status, h.location])?;
        }
    }
    Ok(())
}

fn crawl_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<(CrawlInfo, String)> {
    Ok((
        CrawlInfo {
            id: row.get(0)?,
            start_url: row.get(1)?,
            started_at: row.get(3)?,
            finished_at: row.get(4)?,
            state: row.get(5)?,
            urls: row.get::<_, i64>(6)? as u64,
            done: row.get::<_, i64>(7)? as u64,
            config: CrawlConfig::default(),
        },
        row.get(2)?,
    ))
}

const CRAWL_SELECT: &str =
    "SELECT c.id, c.start_url, c.config, c.started_at, c.finished_at, c.state,
    (SELECT COUNT(*) FROM urls u WHERE u.crawl_id = c.id),
    (SELECT COUNT(*) FROM urls u WHERE u.crawl_id = c.id AND u.state = 'done')
    FROM crawls c";

fn with_config((mut info, config): (CrawlInfo, String)) -> Result<CrawlInfo, StoreError> {
    info.config = serde_json::from_str(&config)
        .map_err(|e| StoreError::Corrupt(format!("crawl {} config: {e}", info.id)))?;
    Ok(info)
}

impl Store for SqliteStore {
    fn create_crawl(&self, config: &CrawlConfig) -> Result<CrawlId, StoreError> {
        let conn = self.conn();
        let json = serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        conn.execute(
            "INSERT INTO crawls (start_url, config, started_at, state) VALUES (?1, ?2, ?3, 'running')",
            params![config.start_urls.first().cloned().unwrap_or_default(), json, now()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn crawl(&self, id: CrawlId) -> Result<CrawlInfo, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(&format!("{CRAWL_SELECT} WHERE c.id = ?1"), [id], crawl_info)
            .optional()?
            .ok_or_else(|| StoreError::NoSuchCrawl(id.to_string()))?;
        with_config(row)
    }

    fn crawls(&self) -> Result<Vec<CrawlInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{CRAWL_SELECT} ORDER BY c.id DESC"))?;
        let rows = stmt.query_map([], crawl_info)?;
        rows.map(|r| with_config(r?)).collect()
    }

    fn set_state(&self, id: CrawlId, state: &str) -> Result<(), StoreError> {
        let finished = (state != "running").then(now);
        self.conn().execute(
            "UPDATE crawls SET state = ?2, finished_at = ?3 WHERE id = ?1",
            params![id, state, finished],
        )?;
        Ok(())
    }

    fn write(&self, crawl: CrawlId, op: WriteOp) -> Result<(), StoreError> {
        self.send(Msg::Write(crawl, op))
    }

    fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = mpsc::channel();
        self.send(Msg::Flush(tx))?;
        match rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::WriterGone(e)),
            Err(_) => Err(StoreError::WriterGone(
                self.writer_error()
                    .unwrap_or_else(|| "writer thread ended".into()),
            )),
        }
    }

    fn commit_later(&self) -> Result<super::Commit, StoreError> {
        let (tx, rx) = mpsc::channel();
        self.send(Msg::Flush(tx))?;
        Ok(super::Commit::new(rx))
    }

    fn urls(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError> {
        self.url_records(crawl, Columns::All)
    }

    fn urls_without_facts(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError> {
        self.url_records(crawl, Columns::NoFacts)
    }

    fn url_summaries(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError> {
        self.url_records(crawl, Columns::Summary)
    }

    fn urls_for_audit(&self, crawl: CrawlId) -> Result<Vec<UrlRecord>, StoreError> {
        self.url_records(crawl, Columns::Audit)
    }

    fn for_each_facts(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(UrlId, &str),
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, facts FROM urls WHERE crawl_id = ?1 AND facts IS NOT NULL ORDER BY id",
        )?;
        let mut rows = stmt.query([crawl])?;
        while let Some(r) = rows.next()? {
            // Borrowed from SQLite's row buffer: no copy of each page's JSON.
            if let rusqlite::types::ValueRef::Text(t) = r.get_ref(1)? {
                f(r.get(0)?, std::str::from_utf8(t).unwrap_or_default());
            }
        }
        Ok(())
    }

    fn links_to(&self, crawl: CrawlId, targets: &[UrlId]) -> Result<Vec<LinkRow>, StoreError> {
        // The lists are read whole: a page's list cannot be looked up by target. Only the
        // links asked for are kept.
        let mut at: rustc_hash::FxHashMap<UrlId, usize> = rustc_hash::FxHashMap::default();
        for (i, &t) in targets.iter().enumerate() {
            at.entry(t).or_insert(i);
        }
        let mut found: Vec<Vec<LinkRow>> = vec![Vec::new(); targets.len()];
        let mut pool = TextPool::default();
        self.for_each_link(crawl, &mut |l| {
            if let Some(&i) = at.get(&l.to) {
                found[i].push(LinkRow {
                    from: l.from,
                    to: l.to,
                    kind: l.kind,
                    text: l.text.map(|t| pool.get(t)),
                    rel: l.rel.map(|t| pool.get(t)),
                });
            }
        })?;
        Ok(found.into_iter().flatten().collect())
    }

    fn inlink_counts(&self, crawl: CrawlId) -> Result<Vec<(UrlId, u32)>, StoreError> {
        let mut counts: rustc_hash::FxHashMap<UrlId, u32> = rustc_hash::FxHashMap::default();
        let mut scan = Vec::new();
        self.for_each_link_list(crawl, &mut |_, json| {
            count_targets(json, &mut counts, &mut scan)
        })?;
        let mut counts: Vec<(UrlId, u32)> = counts.into_iter().collect();
        counts.sort_unstable();
        Ok(counts)
    }

    fn for_each_link(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(LinkRowRef<'_>),
    ) -> Result<(), StoreError> {
        let mut scan = Vec::new();
        self.for_each_link_list(crawl, &mut |from, json| {
            read_links(from, json, f, &mut scan)
        })
    }

    fn retried_attempts(&self, crawl: CrawlId) -> Result<Vec<(UrlId, Vec<Attempt>)>, StoreError> {
        attempt_rows(&self.conn(), "attempts", crawl)
    }

    fn reprobes(&self, crawl: CrawlId) -> Result<Vec<(UrlId, Vec<Attempt>)>, StoreError> {
        attempt_rows(&self.conn(), "reprobes", crawl)
    }

    fn robots(&self, crawl: CrawlId) -> Result<Vec<super::StoredRobots>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT host, status, body FROM robots WHERE crawl_id = ?1")?;
        let rows = stmt.query_map([crawl], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn host_probes(&self, crawl: CrawlId, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT host, facts FROM host_probes WHERE crawl_id = ?1 AND kind = ?2 ORDER BY host",
        )?;
        let rows = stmt.query_map(params![crawl, kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn audit_key(&self, crawl: CrawlId) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT key FROM audits WHERE crawl_id = ?1", [crawl], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn for_each_finding(
        &self,
        crawl: CrawlId,
        f: &mut dyn FnMut(FindingRecord),
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT check_id, severity, url, details FROM findings WHERE crawl_id = ?1
             ORDER BY severity DESC, check_id, url, seq",
        )?;
        let mut rows = stmt.query([crawl])?;
        while let Some(r) = rows.next()? {
            let rank: u8 = r.get(1)?;
            let severity = Severity::from_rank(rank)
                .ok_or_else(|| StoreError::Corrupt(format!("finding severity {rank}")))?;
            f(FindingRecord {
                check_id: r.get(0)?,
                severity,
                url: r.get(2)?,
                details: r.get(3)?,
            });
        }
        Ok(())
    }

    fn hops(&self, crawl: CrawlId) -> Result<Vec<(UrlId, Vec<RedirectHop>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT url_id, url, status, location FROM redirects WHERE crawl_id = ?1 ORDER BY url_id, hop",
        )?;
        let rows = stmt.query_map([crawl], |r| {
            Ok((
                r.get::<_, UrlId>(0)?,
                RedirectHop {
                    url: r.get(1)?,
                    status: r.get(2)?,
                    location: r.get(3)?,
                },
            ))
        })?;
        let mut out: Vec<(UrlId, Vec<RedirectHop>)> = Vec::new();
        for row in rows {
            let (id, h) = row?;
            match out.last_mut() {
                Some((last, v)) if *last == id => v.push(h),
                _ => out.push((id, vec![h])),
            }
        }
        Ok(out)
    }
}

/// A URL's stored headers (a JSON list of `[name, value]`), names and values from
/// `pool`; none when the JSON does not parse (written by another version). `lean`: as
/// an audit reads a response below 400 (see [`Store::urls_for_audit`]).
fn stored_headers(json: &[u8], pool: &mut TextPool, lean: bool) -> Vec<Header> {
    // Borrowed from the row where the JSON has no escapes: nothing copied but new strings.
    #[derive(serde::Deserialize)]
    struct Pair<'a>(
        #[serde(borrow)] std::borrow::Cow<'a, str>,
        #[serde(borrow)] std::borrow::Cow<'a, str>,
    );
    let Ok(pairs) = serde_json::from_slice::<Vec<Pair<'_>>>(json) else {
        return Vec::new();
    };
    pairs
        .iter()
        .filter_map(|Pair(n, v)| match (lean, &**n) {
            (true, "content-length") => None,
            (true, "etag" | "last-modified") => Some((pool.get(n), pool.get(""))),
            _ => Some((pool.get(n), pool.get(v))),
        })
        .collect()
}

/// Text column `i` of row `r`, borrowed from SQLite's row buffer (invalid UTF-8 is
/// replaced, in a copy).
fn row_text<'r>(
    r: &'r rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<Option<std::borrow::Cow<'r, str>>> {
    Ok(match r.get_ref(i)? {
        rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t)),
        _ => None,
    })
}

/// Text column `i` of row `r`, the pool's copy: only a text the pool lacks is copied.
fn shared_text(
    r: &rusqlite::Row<'_>,
    i: usize,
    pool: &mut TextPool,
) -> rusqlite::Result<Option<arcstr::ArcStr>> {
    Ok(row_text(r, i)?.map(|t| pool.get(&t)))
}

/// Writes a URL's attempts, numbered from 1, into `attempts` or `reprobes`.
fn insert_attempts(
    tx: &Transaction<'_>,
    table: &str,
    crawl: CrawlId,
    url_id: UrlId,
    attempts: &[Attempt],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} (crawl_id, url_id, n, status, failure, failure_detail, ttfb_ms, total_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?;
    for (n, a) in attempts.iter().enumerate() {
        stmt.execute(params![
            crawl,
            url_id,
            n as i64 + 1,
            a.status,
            a.failure.as_ref().map(FailureKind::id),
            a.failure.as_ref().and_then(FailureKind::detail),
            a.timings.ttfb_ms,
            a.timings.total_ms
        ])?;
    }
    Ok(())
}

/// Attempts of one crawl from `attempts` or `reprobes`, grouped by URL.
fn attempt_rows(
    conn: &Connection,
    table: &str,
    crawl: CrawlId,
) -> Result<Vec<(UrlId, Vec<Attempt>)>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT url_id, status, failure, failure_detail, ttfb_ms, total_ms FROM {table}
         WHERE crawl_id = ?1 ORDER BY url_id, n"
    ))?;
    let mut out: Vec<(UrlId, Vec<Attempt>)> = Vec::new();
    let rows = stmt.query_map([crawl], |r| {
        let failure: Option<String> = r.get(2)?;
        let detail: Option<String> = r.get(3)?;
        Ok((
            r.get::<_, UrlId>(0)?,
            Attempt {
                status: r.get(1)?,
                failure: failure.and_then(|f| FailureKind::from_parts(&f, detail.as_deref())),
                timings: Timings {
                    ttfb_ms: r.get::<_, Option<f64>>(4)?.unwrap_or_default(),
                    total_ms: r.get::<_, Option<f64>>(5)?.unwrap_or_default(),
                },
            },
        ))
    })?;
    for row in rows {
        let (id, a) = row?;
        match out.last_mut() {
            Some((last, v)) if *last == id => v.push(a),
            _ => out.push((id, vec![a])),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Outcome, ResponseMeta};

    /// The writer's page cache is the crawl's size for a batch of crawl data and back to
    /// SQLite's default for an audit's findings; a flush leaves it as it is.
    #[test]
    fn the_writer_cache_is_sized_for_what_the_batch_writes() {
        let conn = Connection::open_in_memory().unwrap();
        let size =
            |c: &Connection| -> i64 { c.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap() };
        let mut current = 0;
        let crawl = Msg::Write(1, WriteOp::done_with_links(1, Vec::new()));
        let audit = Msg::Write(1, WriteOp::ClearFindings);
        let (flush, _) = mpsc::channel();
        size_cache(&conn, &crawl, &mut current).unwrap();
        assert_eq!(size(&conn), -CRAWL_CACHE_KIB);
        size_cache(&conn, &Msg::Flush(flush.clone()), &mut current).unwrap();
        assert_eq!(size(&conn), -CRAWL_CACHE_KIB);
        size_cache(&conn, &audit, &mut current).unwrap();
        assert_eq!(size(&conn), -AUDIT_CACHE_KIB);
        size_cache(&conn, &Msg::Flush(flush), &mut current).unwrap();
        assert_eq!(size(&conn), -AUDIT_CACHE_KIB);
        size_cache(&conn, &crawl, &mut current).unwrap();
        assert_eq!(size(&conn), -CRAWL_CACHE_KIB);
    }

    /// Two reads run at once (the audit loads links and pages side by side): a read
    /// while another holds a connection does not wait for it, and sees the data.
    #[test]
    fn two_reads_run_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        let first = store.conn();
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| tx.send(store.crawl(crawl).map(|c| c.id)).unwrap());
            let second = rx.recv_timeout(Duration::from_secs(5));
            // Let the second read go on if it was waiting, so the test ends either way.
            drop(first);
            assert_eq!(second.expect("the second read waited").unwrap(), crawl);
        });
    }

    /// A new database gets the large page size; a file made with SQLite's default keeps
    /// its own and is read and written as before.
    #[test]
    fn new_files_get_large_pages_and_old_files_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let page_size = |c: &Connection| {
            c.query_row("PRAGMA page_size", [], |r| r.get::<_, u32>(0))
                .unwrap()
        };
        let fresh = dir.path().join("new.db");
        drop(SqliteStore::open(&fresh).unwrap());
        assert_eq!(page_size(&Connection::open(&fresh).unwrap()), PAGE_SIZE);

        let old = dir.path().join("old.db");
        {
            let conn = Connection::open(&old).unwrap();
            conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x);")
                .unwrap();
            assert_eq!(page_size(&conn), 4096);
        }
        let store = SqliteStore::open(&old).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        assert_eq!(store.crawl(crawl).unwrap().id, crawl);
        drop(store);
        assert_eq!(page_size(&Connection::open(&old).unwrap()), 4096);
    }

    /// A version-1 file (before `host_probes`) is upgraded in place on open.
    #[test]
    fn version_one_files_are_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        drop(SqliteStore::open(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP TABLE host_probes; DELETE FROM schema_migrations; \
                 INSERT INTO schema_migrations VALUES (1, 'then');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        store
            .write(
                crawl,
                WriteOp::HostProbe {
                    host: "e.com".into(),
                    kind: "tls".into(),
                    facts: "{}".into(),
                },
            )
            .unwrap();
        store.flush().unwrap();
        assert_eq!(
            store.host_probes(crawl, "tls").unwrap(),
            [("e.com".to_string(), "{}".to_string())]
        );
        assert!(store.host_probes(crawl, "other").unwrap().is_empty());
    }

    /// A version 4 file's links, a row each, move into lists in their order (each target's
    /// links in the order written), and read back as they were written, by hand through
    /// the `links` view too.
    #[test]
    fn version_four_links_move_into_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        drop(SqliteStore::open(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP VIEW links; DROP TABLE link_lists;
                 CREATE TABLE links (crawl_id INTEGER NOT NULL, from_id INTEGER NOT NULL,
                     to_id INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT, rel TEXT);
                 CREATE INDEX links_by_target ON links (crawl_id, to_id);
                 INSERT INTO crawls (start_url, config, started_at, state)
                     VALUES ('http://e.com/', '{}', 'then', 'finished');
                 INSERT INTO links VALUES (1, 1, 3, 'a', 'say \"hi\"', NULL);
                 INSERT INTO links VALUES (1, 2, 3, 'img', NULL, NULL);
                 INSERT INTO links VALUES (1, 1, 2, 'canonical', NULL, 'canonical');
                 DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES (4, 'then');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let mut all = Vec::new();
        store
            .for_each_link(1, &mut |l| {
                all.push((
                    l.from,
                    l.to,
                    l.kind.as_str().to_string(),
                    l.text.map(str::to_string),
                    l.rel.map(str::to_string),
                ))
            })
            .unwrap();
        let s = |t: &str| Some(t.to_string());
        assert_eq!(
            all,
            [
                (1, 3, "a".into(), s("say \"hi\""), None),
                (2, 3, "img".into(), None, None),
                (1, 2, "canonical".into(), None, s("canonical")),
            ]
        );
        assert_eq!(store.inlink_counts(1).unwrap(), [(2, 1), (3, 2)]);
        let to_3: Vec<UrlId> = store
            .links_to(1, &[3])
            .unwrap()
            .iter()
            .map(|l| l.from)
            .collect();
        assert_eq!(to_3, [1, 2]);
        let conn = store.conn();
        let version: i64 = conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let by_hand: Vec<(i64, i64, String, Option<String>)> = conn
            .prepare("SELECT from_id, to_id, kind, text FROM links WHERE crawl_id = 1")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(by_hand[0], (1, 3, "a".into(), s("say \"hi\"")));
        assert_eq!(by_hand.len(), 3);
    }

    /// Counting a list's targets agrees with reading it whole, escapes and all, and a
    /// list that does not read is an error either way.
    #[test]
    fn link_targets_are_counted_as_the_lists_read() {
        let lists = [
            r#"[]"#,
            r#"[[3,"a","Home",null],[4,"img",null,null],[3,"canonical",null,"canonical"]]"#,
            r#"[[5,"a","say \"hi\" \\ \u00e9",null],[3,"a","[[7]]","nofollow"]]"#,
        ];
        let (mut counted, mut read) = (rustc_hash::FxHashMap::default(), Vec::new());
        let mut scan = Vec::new();
        for (from, json) in lists.iter().enumerate() {
            count_targets(json, &mut counted, &mut scan).unwrap();
            read_links(from as UrlId, json, &mut |l| read.push(l.to), &mut scan).unwrap();
        }
        let mut counted: Vec<(UrlId, u32)> = counted.into_iter().collect();
        counted.sort_unstable();
        assert_eq!(counted, [(3, 3), (4, 1), (5, 1)]);
        assert_eq!(read.len(), 5);
        for bad in [
            r#"{"a":1}"#,
            r#"[["x","a",null,null]]"#,
            r#"[[]]"#,
            r#"[[1,"a"]] x"#,
            r#"[[1,"a",null,null],]"#,
            r#"[[1,"a",null,null]"#,
            r#"[[1,"a\"#,
            r#"[[01,"a",null,null]]"#,
            r#"[[4294967296,"a",null,null]]"#,
            r#"[[-1,"a",null,null]]"#,
        ] {
            assert!(
                count_targets(bad, &mut Default::default(), &mut scan).is_err(),
                "{bad}"
            );
            assert!(read_links(1, bad, &mut |_| {}, &mut scan).is_err(), "{bad}");
        }
    }

    /// The scan of a list finds the links the JSON reader finds in every list the store
    /// writes (texts with quotes, backslashes, brackets, non-ASCII, ids up to the
    /// largest): their targets always, their texts as written when none holds an
    /// escape; it leaves to the reader every list written otherwise (white space,
    /// numbers as other values), which then counts and reads it the same.
    #[test]
    fn link_lists_scan_as_the_json_reader_reads() {
        use crate::model::LinkKind;
        fn owned(l: LinkRowRef<'_>) -> LinkRow {
            LinkRow {
                from: l.from,
                to: l.to,
                kind: l.kind,
                text: l.text.map(Into::into),
                rel: l.rel.map(Into::into),
            }
        }
        let texts = [
            None,
            Some(""),
            Some("Home"),
            Some("say \"hi\""),
            Some("back\\slash\\"),
            Some("[[7]],\"x\"]"),
            Some("caf\u{e9} \u{1f600}"),
            Some("tab\t"),
            Some("\\"),
        ];
        let mut links = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let to = [0, 1, 9, 10, 12345, UrlId::MAX][i % 6];
            let kinds = [LinkKind::Anchor, LinkKind::Image, LinkKind::Canonical];
            links.push(LinkRow {
                from: 1,
                to,
                kind: kinds[i % 3].into(),
                text: text.map(Into::into),
                rel: (i % 2 == 0).then(|| "nofollow".into()),
            });
        }
        let mut scan = Vec::new();
        for from in 0..links.len() {
            for to in from..=links.len() {
                let list = &links[from..to];
                let stored: Vec<StoredLink<'_>> = list
                    .iter()
                    .map(|l| (l.to, l.kind.as_str(), l.text.as_deref(), l.rel.as_deref()))
                    .collect();
                let json = serde_json::to_string(&stored).unwrap();
                let escaped = scan_links(&json, &mut scan);
                assert_eq!(escaped, Some(json.contains('\\')), "{json}");
                let targets: Vec<UrlId> = scan.iter().map(|l| l.to).collect();
                assert_eq!(
                    targets,
                    list.iter().map(|l| l.to).collect::<Vec<_>>(),
                    "{json}"
                );
                assert!(scan.iter().all(Scanned::is_stored_link), "{json}");
                if escaped == Some(false) {
                    let read: Vec<LinkRow> = scan.iter().map(|l| owned(l.link(1, &json))).collect();
                    assert_eq!(read, list, "{json}");
                }
                let mut read = Vec::new();
                read_links(1, &json, &mut |l| read.push(owned(l)), &mut scan).unwrap();
                assert_eq!(read, list, "{json}");
            }
        }
        for other in [
            r#"[ [3,"a",null,null] ]"#,
            r#"[[3,"a",null,7]]"#,
            r#"[[3.0,"a",null,null]]"#,
            r#"[[3,"a",true,null]]"#,
        ] {
            assert_eq!(scan_links(other, &mut scan), None, "{other}");
        }
        // Scanned, but not as a stored link: the reader decides.
        for odd in [r#"[[3,null,null,null]]"#, r#"[[3,"a",null]]"#, r#"[[3]]"#] {
            assert!(scan_links(odd, &mut scan).is_some(), "{odd}");
            assert!(!scan.iter().all(Scanned::is_stored_link), "{odd}");
            assert!(read_links(1, odd, &mut |_| {}, &mut scan).is_err(), "{odd}");
        }
        let mut counted = rustc_hash::FxHashMap::default();
        count_targets(
            r#"[ [3,"a",null,null] ,[3,"a","x",null]]"#,
            &mut counted,
            &mut scan,
        )
        .unwrap();
        assert_eq!(counted.get(&3), Some(&2));
    }

    /// A version 5 file's findings (keyed by `seq`) are dropped with its audits, so the
    /// next report audits the crawl again; the crawl's data stays.
    #[test]
    fn version_five_findings_are_dropped_with_their_audits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        let crawl = {
            let store = SqliteStore::open(&path).unwrap();
            store.create_crawl(&CrawlConfig::default()).unwrap()
        };
        assert_eq!(crawl, 1, "the rows below are of crawl 1");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP TABLE findings;
                 CREATE TABLE findings (crawl_id INTEGER NOT NULL, seq INTEGER NOT NULL,
                     check_id TEXT NOT NULL, severity INTEGER NOT NULL, url TEXT,
                     details TEXT NOT NULL, PRIMARY KEY (crawl_id, seq)) WITHOUT ROWID;
                 INSERT INTO findings VALUES (1, 0, 'title-missing', 1, 'http://e.com/', '{}');
                 INSERT INTO audits VALUES (1, 'k', 1, 'then');
                 DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES (5, 'then');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.audit_key(crawl).unwrap(), None);
        let mut n = 0;
        store.for_each_finding(crawl, &mut |_| n += 1).unwrap();
        assert_eq!(n, 0);
        assert_eq!(store.crawl(crawl).unwrap().id, crawl);
        let conn = store.conn();
        let has_n: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('findings') WHERE name = 'n'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(has_n, 1);
        // Opened again, nothing more to do.
        drop(conn);
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.crawl(crawl).unwrap().id, crawl);
    }

    /// A commit asked for without waiting covers the writes queued before it: once it
    /// is waited for they are read back, with a later one still in flight.
    #[test]
    fn commits_asked_for_later_cover_earlier_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        let new = |id: UrlId| NewUrl {
            id,
            url: format!("http://e.com/{id}"),
            fingerprint: u64::from(id),
            depth: 0,
            scope: UrlScope::Internal,
            found_by: "a",
            in_sitemap: false,
        };
        store.write(crawl, WriteOp::Queue(vec![new(1)])).unwrap();
        let first = store.commit_later().unwrap();
        store.write(crawl, WriteOp::Queue(vec![new(2)])).unwrap();
        let second = store.commit_later().unwrap();
        first.wait().unwrap();
        assert!(!store.urls(crawl).unwrap().is_empty());
        second.wait().unwrap();
        assert_eq!(store.urls(crawl).unwrap().len(), 2);
    }

    /// A stored list that does not read as links is a corrupt store, named by its page.
    #[test]
    fn unreadable_link_lists_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&path).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        for list in ["[[2,\"a\"", "[[\"two\",\"a\",null,null]]", "{}"] {
            store
                .conn()
                .execute(
                    "INSERT INTO link_lists (crawl_id, from_id, links) VALUES (?1, 7, ?2)",
                    params![crawl, list],
                )
                .unwrap();
            let err = store.for_each_link(crawl, &mut |_| {}).unwrap_err();
            assert!(
                matches!(&err, StoreError::Corrupt(why) if why.starts_with("links of URL 7 of crawl")),
                "{list}: {err}"
            );
            assert!(store.inlink_counts(crawl).is_err() && store.links_to(crawl, &[2]).is_err());
            store.conn().execute("DELETE FROM link_lists", []).unwrap();
        }
    }

    #[test]
    fn writes_are_batched_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let cfg = CrawlConfig {
            start_urls: vec!["http://e.com/".into()],
            ..CrawlConfig::default()
        };
        let crawl = store.create_crawl(&cfg).unwrap();
        let nu = |id, url: &str| NewUrl {
            id,
            url: url.into(),
            fingerprint: u64::from(id) * 7919,
            depth: 0,
            scope: UrlScope::Internal,
            found_by: "start",
            in_sitemap: false,
        };
        store
            .write(crawl, WriteOp::Queue(vec![nu(1, "http://e.com/")]))
            .unwrap();
        let result = UrlResult {
            id: 1,
            outcome: Outcome {
                response: Some(ResponseMeta {
                    status: 502,
                    content_type: Some("text/html".into()),
                    charset: Some("utf-8".into()),
                    ..ResponseMeta::default()
                }),
                attempts: vec![
                    Attempt {
                        status: Some(502),
                        failure: None,
                        timings: Timings::default(),
                    };
                    3
                ],
                ..Outcome::default()
            },
            robots_disallowed: false,
            facts: None,
            body_snippet: Some("Bad Gateway".into()),
            hops: vec![],
        };
        let link = LinkRow {
            from: 1,
            to: 2,
            kind: "a".into(),
            text: Some("two".into()),
            rel: None,
        };
        store
            .write(
                crawl,
                WriteOp::Done {
                    result: Box::new(result),
                    new_urls: vec![nu(2, "http://e.com/2")],
                    links: vec![link.clone()],
                },
            )
            .unwrap();
        store.flush().unwrap();
        let urls = store.urls(crawl).unwrap();
        assert_eq!(urls.len(), 2);
        assert_eq!(urls[0].status, Some(502));
        assert_eq!(urls[0].attempts, 3);
        assert_eq!(urls[1].state, "queued");
        assert_eq!(store.links_to(crawl, &[2]).unwrap(), vec![link.clone()]);
        let retried = store.retried_attempts(crawl).unwrap();
        assert_eq!(retried[0].1.len(), 3);
        let info = store.crawl(crawl).unwrap();
        assert_eq!((info.urls, info.done), (2, 1));
        assert_eq!(info.config, cfg);
        // A summary keeps the headers and body snippets of error responses only.
        let ok = UrlResult {
            id: 2,
            outcome: Outcome {
                response: Some(ResponseMeta {
                    status: 200,
                    headers: vec![("server".into(), "nginx".into())],
                    content_type: Some("text/html".into()),
                    charset: Some("utf-8".into()),
                    ..ResponseMeta::default()
                }),
                ..Outcome::default()
            },
            robots_disallowed: false,
            facts: None,
            body_snippet: Some("fine".into()),
            hops: vec![],
        };
        store
            .write(
                crawl,
                WriteOp::Done {
                    result: Box::new(ok),
                    new_urls: vec![],
                    links: vec![
                        LinkRow {
                            to: 1,
                            rel: Some("nofollow".into()),
                            ..link.clone()
                        },
                        LinkRow {
                            from: 2,
                            text: None,
                            ..link.clone()
                        },
                    ],
                },
            )
            .unwrap();
        store.flush().unwrap();
        // What each target's list is sized by before links are read.
        let mut counts = store.inlink_counts(crawl).unwrap();
        counts.sort_unstable();
        assert_eq!(counts, vec![(1, 1), (2, 2)]);
        let mut all = Vec::new();
        store
            .for_each_link(crawl, &mut |l| {
                all.push((
                    l.from,
                    l.to,
                    l.text.map(str::to_string),
                    l.rel.map(str::to_string),
                ))
            })
            .unwrap();
        let text = |t: &str| Some(t.to_string());
        let expected = [
            (1, 2, text("two"), None),
            (1, 1, text("two"), text("nofollow")),
            (2, 2, None, None),
        ];
        assert_eq!(all, expected);
        // Each distinct text is read once and shared by every link that has it.
        let to_both = store.links_to(crawl, &[1, 2]).unwrap();
        assert!(arcstr::ArcStr::ptr_eq(
            to_both[0].text.as_ref().unwrap(),
            to_both[1].text.as_ref().unwrap()
        ));
        let full = store.urls(crawl).unwrap();
        let summaries = store.url_summaries(crawl).unwrap();
        assert_eq!(full[1].body_snippet(), Some("fine"));
        // Content types and charsets read once, shared by every row that has them.
        let shared = |f: fn(&UrlRecord) -> Option<&arcstr::ArcStr>| {
            let (a, b) = (f(&full[0]).unwrap(), f(&full[1]).unwrap());
            arcstr::ArcStr::ptr_eq(a, b)
        };
        assert_eq!(full[0].content_type.as_deref(), Some("text/html"));
        assert_eq!(full[1].charset.as_deref(), Some("utf-8"));
        assert!(shared(|u| u.content_type.as_ref()) && shared(|u| u.charset.as_ref()));
        assert!(!full[1].headers.is_empty());
        assert_eq!(summaries[1].body_snippet(), None);
        assert!(summaries[1].headers.is_empty());
        assert_eq!(summaries[0].body_snippet(), Some("Bad Gateway"));
        assert_eq!(
            (summaries[1].status, summaries[1].url.as_str()),
            (Some(200), "http://e.com/2")
        );
        store.set_state(crawl, "finished").unwrap();
        assert_eq!(store.crawls().unwrap()[0].state, "finished");
        assert!(matches!(store.crawl(99), Err(StoreError::NoSuchCrawl(_))));
    }

    /// An audit's read of a response below 400 holds `etag` and `last-modified` without
    /// their values and no `content-length`, and records left with the same headers
    /// share one list; an error response keeps every header, and a full read every value.
    #[test]
    fn an_audit_reads_what_checks_read_of_headers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        let page = |id: UrlId, status: u16, etag: &str, length: &str| {
            let new = NewUrl {
                id,
                url: format!("http://e.com/{id}"),
                fingerprint: id as u64,
                depth: 0,
                scope: UrlScope::Internal,
                found_by: "a",
                in_sitemap: false,
            };
            let headers = [
                ("etag", etag),
                ("server", "nginx"),
                ("content-length", length),
                ("last-modified", "Fri, 04 Dec 2026 19:23:01 GMT"),
            ];
            let result = UrlResult {
                id,
                outcome: Outcome {
                    response: Some(ResponseMeta {
                        status,
                        headers: headers.map(|(n, v)| (n.into(), v.into())).to_vec(),
                        ..ResponseMeta::default()
                    }),
                    ..Outcome::default()
                },
                robots_disallowed: false,
                facts: None,
                body_snippet: None,
                hops: vec![],
            };
            store.write(crawl, WriteOp::Queue(vec![new])).unwrap();
            let done = WriteOp::Done {
                result: Box::new(result),
                new_urls: vec![],
                links: vec![],
            };
            store.write(crawl, done).unwrap();
        };
        page(1, 200, "\"a1\"", "23");
        page(2, 304, "\"b2\"", "2627");
        page(3, 502, "\"c3\"", "157");
        store.flush().unwrap();
        let audit = store.urls_for_audit(crawl).unwrap();
        let names = |h: &[Header]| {
            h.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&audit[0].headers),
            ["etag=", "server=nginx", "last-modified="]
        );
        assert!(std::ptr::eq(&audit[0].headers[0], &audit[1].headers[0]));
        assert_eq!(
            names(&audit[2].headers)[..3],
            ["etag=\"c3\"", "server=nginx", "content-length=157"]
        );
        let full = store.urls_without_facts(crawl).unwrap();
        assert_eq!(names(&full[0].headers)[2], "content-length=23");
        assert_eq!(full[1].headers[0].1, "\"b2\"");
        assert!(!std::ptr::eq(&full[0].headers[0], &full[1].headers[0]));
    }

    /// Stored headers read back with escapes undone, each distinct name and value held
    /// once across rows; JSON that does not parse gives none.
    #[test]
    fn stored_headers_are_shared_and_unescaped() {
        let mut pool = TextPool::default();
        let a = stored_headers(
            br#"[["server","nginx"],["etag","\"a1\""]]"#,
            &mut pool,
            false,
        );
        let b = stored_headers(
            br#"[["server","nginx"],["etag","\"b2\""]]"#,
            &mut pool,
            false,
        );
        assert_eq!((a[1].0.as_str(), a[1].1.as_str()), ("etag", "\"a1\""));
        assert_eq!(b[1].1, "\"b2\"");
        assert!(arcstr::ArcStr::ptr_eq(&a[0].0, &b[0].0));
        assert!(arcstr::ArcStr::ptr_eq(&a[0].1, &b[0].1));
        assert!(stored_headers(b"{not json", &mut pool, false).is_empty());
        assert!(stored_headers(br#"[["only-a-name"]]"#, &mut pool, false).is_empty());
    }

    /// Each crawl's links come back, only its own, where two crawls wrote in turn (their
    /// rows interleave in the table), and the links to one target in the order written,
    /// over batches and within one; a crawl without links has none.
    #[test]
    fn links_of_interleaved_crawls_read_back_apart_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let cfg = CrawlConfig::default();
        let (a, b, empty) = (
            store.create_crawl(&cfg).unwrap(),
            store.create_crawl(&cfg).unwrap(),
            store.create_crawl(&cfg).unwrap(),
        );
        let link = |from, to| LinkRow {
            from,
            to,
            kind: "a".into(),
            text: None,
            rel: None,
        };
        let mut written: [Vec<(UrlId, UrlId)>; 2] = Default::default();
        for i in 0..24 {
            for (n, crawl, to) in [(0, a, 10 - i % 4), (1, b, 100 + i % 3)] {
                // Two links to the target, from this page and another, and one to the next.
                let links = vec![link(i, to), link(i + 50, to), link(i, to + 1)];
                written[n].extend(links.iter().map(|l| (l.from, l.to)));
                store
                    .write(crawl, WriteOp::done_with_links(i, links))
                    .unwrap();
            }
            if i % 7 == 0 {
                store.flush().unwrap();
            }
        }
        store.flush().unwrap();
        let read = |crawl| {
            let mut all = Vec::new();
            store
                .for_each_link(crawl, &mut |l| all.push((l.from, l.to)))
                .unwrap();
            all
        };
        // Each target's sources, in the order they come.
        let by_target = |links: &[(UrlId, UrlId)]| {
            let mut t: std::collections::BTreeMap<UrlId, Vec<UrlId>> = Default::default();
            for &(from, to) in links {
                t.entry(to).or_default().push(from);
            }
            t
        };
        for (n, crawl) in [(0, a), (1, b)] {
            let got = read(crawl);
            assert_eq!(got.len(), written[n].len());
            assert_eq!(by_target(&got), by_target(&written[n]), "crawl {crawl}");
        }
        assert!(read(empty).is_empty());
    }

    /// Findings come back sorted (severity, check, URL, then as produced), whatever order
    /// they were written in; any later write of the crawl's data makes them stale, and
    /// another crawl's writes do not.
    #[test]
    fn findings_are_read_back_sorted_and_go_stale_on_change() {
        use crate::model::{AuditFinding, Finding, Severity};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("f.db")).unwrap();
        let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
        let other = store.create_crawl(&CrawlConfig::default()).unwrap();
        let f = |check: &'static str, severity, url: Option<&str>, order| {
            let mut f = AuditFinding::new(
                Finding {
                    check_id: check,
                    severity,
                    url: url.map(str::to_string),
                    details: serde_json::json!({ "n": order }),
                },
                1,
                "title",
                "fix",
            );
            f.order = order;
            f
        };
        store.write(crawl, WriteOp::ClearFindings).unwrap();
        store
            .write(
                crawl,
                WriteOp::Findings(vec![
                    f("b-check", Severity::Notice, Some("http://e.com/a"), 1),
                    f("a-check", Severity::Error, Some("http://e.com/b"), 7),
                    f("a-check", Severity::Error, Some("http://e.com/b"), 3),
                ]),
            )
            .unwrap();
        store
            .write(
                crawl,
                WriteOp::Findings(vec![
                    f("a-check", Severity::Error, None, 9),
                    f("a-check", Severity::Warning, Some("http://e.com/a"), 2),
                ]),
            )
            .unwrap();
        store
            .write(
                other,
                WriteOp::Findings(vec![f("c-check", Severity::Notice, None, 4)]),
            )
            .unwrap();
        store
            .write(
                crawl,
                WriteOp::Audited {
                    key: "k1".into(),
                    findings: 5,
                },
            )
            .unwrap();
        store.flush().unwrap();
        assert_eq!(store.audit_key(crawl).unwrap().as_deref(), Some("k1"));
        // Keyed per crawl in the order written, whatever their `seq`.
        let keys = |crawl: CrawlId| -> Vec<(i64, i64)> {
            store
                .conn()
                .prepare("SELECT n, seq FROM findings WHERE crawl_id = ?1 ORDER BY n")
                .unwrap()
                .query_map([crawl], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(keys(crawl), [(0, 1), (1, 7), (2, 3), (3, 9), (4, 2)]);
        assert_eq!(keys(other), [(0, 4)]);
        // A batch over several statements (32 rows each, then the rest) after an
        // earlier one: every row, keyed on from where the crawl's rows ended.
        let third = store.create_crawl(&CrawlConfig::default()).unwrap();
        let many = |from: u64, n: u64| -> Vec<_> {
            (from..from + n)
                .map(|seq| f("d-check", Severity::Notice, None, 1000 - seq))
                .collect()
        };
        store.write(third, WriteOp::Findings(many(0, 3))).unwrap();
        store.write(third, WriteOp::Findings(many(3, 70))).unwrap();
        store.flush().unwrap();
        let want: Vec<(i64, i64)> = (0..73).map(|n| (n, 1000 - n)).collect();
        assert_eq!(keys(third), want);
        let mut read = Vec::new();
        store
            .for_each_finding(crawl, &mut |r| {
                read.push(format!(
                    "{} {} {:?} {}",
                    r.severity.id(),
                    r.check_id,
                    r.url,
                    r.details
                ))
            })
            .unwrap();
        assert_eq!(
            read,
            [
                "error a-check None {\"n\":9}",
                "error a-check Some(\"http://e.com/b\") {\"n\":3}",
                "error a-check Some(\"http://e.com/b\") {\"n\":7}",
                "warning a-check Some(\"http://e.com/a\") {\"n\":2}",
                "notice b-check Some(\"http://e.com/a\") {\"n\":1}",
            ]
        );
        // Another crawl's data changing leaves these alone; this crawl's does not.
        store.write(other, WriteOp::MarkInSitemap(vec![1])).unwrap();
        store.flush().unwrap();
        assert_eq!(store.audit_key(crawl).unwrap().as_deref(), Some("k1"));
        store.write(crawl, WriteOp::MarkInSitemap(vec![1])).unwrap();
        store.flush().unwrap();
        assert_eq!(store.audit_key(crawl).unwrap(), None);
        // A new audit replaces the findings.
        store.write(crawl, WriteOp::ClearFindings).unwrap();
        store.flush().unwrap();
        let mut n = 0;
        store.for_each_finding(crawl, &mut |_| n += 1).unwrap();
        assert_eq!(n, 0);
    }
}
