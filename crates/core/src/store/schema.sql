-- siteaudit SQLite schema, version 6 (2 added host_probes, 3 reprobes, 4 findings and
-- audits, 5 links stored as one list per page, 6 findings keyed in the order written;
-- every statement is idempotent, so upgrading an older file is running this script
-- again, after the store has moved a version 4 file's links table into link_lists and
-- dropped a version 4 or 5 file's findings, which the next report audits again).
CREATE TABLE IF NOT EXISTS crawls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    start_url   TEXT NOT NULL,
    config      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    state       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS urls (
    crawl_id          INTEGER NOT NULL,
    id                INTEGER NOT NULL,
    url               TEXT NOT NULL,
    fingerprint       INTEGER NOT NULL,
    depth             INTEGER NOT NULL,
    scope             TEXT NOT NULL,
    found_by          TEXT NOT NULL,
    in_sitemap        INTEGER NOT NULL DEFAULT 0,
    state             TEXT NOT NULL DEFAULT 'queued',
    status            INTEGER,
    failure           TEXT,
    failure_detail    TEXT,
    location          TEXT,
    content_type      TEXT,
    content_encoding  TEXT,
    ttfb_ms           REAL,
    total_ms          REAL,
    wire_bytes        INTEGER,
    body_bytes        INTEGER,
    charset           TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    robots_disallowed INTEGER NOT NULL DEFAULT 0,
    headers           TEXT,
    facts             TEXT,
    body_snippet      TEXT,
    PRIMARY KEY (crawl_id, id),
    UNIQUE (crawl_id, fingerprint)
) WITHOUT ROWID;
-- The links found on a page, one row per page written: `links` is a JSON array of
-- [to_id, kind, text, rel] in the page's order. A row per link cost a crawl ~2 µs of
-- SQLite's time per link, about a third of its writer's time (1.3 million links at
-- 100,000 pages); a page's list is one insert. Rows are read in rowid order: the links
-- to one target in the order they were written.
CREATE TABLE IF NOT EXISTS link_lists (
    crawl_id INTEGER NOT NULL,
    from_id  INTEGER NOT NULL,
    links    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS link_lists_by_crawl ON link_lists (crawl_id);
-- One row per link, for queries by hand.
CREATE VIEW IF NOT EXISTS links AS
    SELECT l.crawl_id AS crawl_id, l.from_id AS from_id,
           json_extract(j.value, '$[0]') AS to_id, json_extract(j.value, '$[1]') AS kind,
           json_extract(j.value, '$[2]') AS text, json_extract(j.value, '$[3]') AS rel
    FROM link_lists l, json_each(l.links) j;
CREATE TABLE IF NOT EXISTS attempts (
    crawl_id       INTEGER NOT NULL,
    url_id         INTEGER NOT NULL,
    n              INTEGER NOT NULL,
    status         INTEGER,
    failure        TEXT,
    failure_detail TEXT,
    ttfb_ms        REAL,
    total_ms       REAL,
    PRIMARY KEY (crawl_id, url_id, n)
);
CREATE TABLE IF NOT EXISTS redirects (
    crawl_id INTEGER NOT NULL,
    url_id   INTEGER NOT NULL,
    hop      INTEGER NOT NULL,
    url      TEXT NOT NULL,
    status   INTEGER,
    location TEXT,
    PRIMARY KEY (crawl_id, url_id, hop)
);
CREATE TABLE IF NOT EXISTS robots (
    crawl_id INTEGER NOT NULL,
    host     TEXT NOT NULL,
    status   INTEGER,
    body     BLOB NOT NULL,
    PRIMARY KEY (crawl_id, host)
);
CREATE TABLE IF NOT EXISTS host_probes (
    crawl_id INTEGER NOT NULL,
    host     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    facts    TEXT NOT NULL,
    PRIMARY KEY (crawl_id, host, kind)
);
CREATE TABLE IF NOT EXISTS reprobes (
    crawl_id       INTEGER NOT NULL,
    url_id         INTEGER NOT NULL,
    n              INTEGER NOT NULL,
    status         INTEGER,
    failure        TEXT,
    failure_detail TEXT,
    ttfb_ms        REAL,
    total_ms       REAL,
    PRIMARY KEY (crawl_id, url_id, n)
);
-- The audit's findings, one row each, keyed by `n`, the order they were written in
-- (the audit's threads hand them over in no set order; keyed by `seq`, nearly every
-- row went into the middle of the tree). `seq` orders findings that sort equal (same
-- severity, check and URL) as the checks produced them. Severity: 0 notice, 1
-- warning, 2 error.
CREATE TABLE IF NOT EXISTS findings (
    crawl_id INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    severity INTEGER NOT NULL,
    url      TEXT,
    details  TEXT NOT NULL,
    PRIMARY KEY (crawl_id, n)
) WITHOUT ROWID;
-- Which audit the stored findings of a crawl are (tool version, settings, the crawl
-- compared against); removed whenever the crawl's data changes.
CREATE TABLE IF NOT EXISTS audits (
    crawl_id   INTEGER PRIMARY KEY,
    key        TEXT NOT NULL,
    findings   INTEGER NOT NULL,
    audited_at TEXT NOT NULL
);
