-- siteaudit SQLite schema, version 4 (2 added host_probes, 3 reprobes, 4 findings and
-- audits; every statement is idempotent, so upgrading an older file is running this
-- script again).
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
CREATE TABLE IF NOT EXISTS links (
    crawl_id INTEGER NOT NULL,
    from_id  INTEGER NOT NULL,
    to_id    INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    text     TEXT,
    rel      TEXT
);
CREATE INDEX IF NOT EXISTS links_by_target ON links (crawl_id, to_id);
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
-- The audit's findings, one row each; `seq` orders findings that sort equal (same
-- severity, check and URL) as the checks produced them. Severity: 0 notice, 1 warning,
-- 2 error.
CREATE TABLE IF NOT EXISTS findings (
    crawl_id INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    severity INTEGER NOT NULL,
    url      TEXT,
    details  TEXT NOT NULL,
    PRIMARY KEY (crawl_id, seq)
) WITHOUT ROWID;
-- Which audit the stored findings of a crawl are (tool version, settings, the crawl
-- compared against); removed whenever the crawl's data changes.
CREATE TABLE IF NOT EXISTS audits (
    crawl_id   INTEGER PRIMARY KEY,
    key        TEXT NOT NULL,
    findings   INTEGER NOT NULL,
    audited_at TEXT NOT NULL
);
