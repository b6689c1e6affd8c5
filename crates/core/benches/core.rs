//! Micro-benchmarks of the hot paths (issue #7): `cargo bench -p siteaudit`.
//! HTML extraction of a bench-site page, URL normalization, resolution and
//! fingerprinting, 5xx fingerprinting, access-log parsing and store batch writes.

// criterion's macros define undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A page like bench/gen_site.py writes: head, nav, ~12 links, 2 images, text.
fn page() -> String {
    let links: String = (1..=12)
        .map(|i| format!(r#"<li><a href="/p/{i}.html">audit crawl server {i}</a></li>"#))
        .collect();
    let words = "audit crawl server status gateway upstream timeout header page link ".repeat(14);
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Page 7 | audit crawl server | Bench site</title>
<meta name="description" content="Page 7 of the siteaudit benchmark site.">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="/p/7.html"><link rel="stylesheet" href="/css/site.css"></head>
<body><nav><a href="/">Home</a><a href="/p/1.html">Section 1</a><a href="/p/2.html">Section 2</a></nav>
<main><h1>Page 7: audit crawl</h1><p>{words}</p><ul>{links}</ul>
<img src="/img/7.png" alt="figure 7" width="200" height="100">
<img src="/img/32.png" alt="diagram 7" width="200" height="100"><p>{words}</p></main>
<footer><p>Bench site.</p></footer></body></html>"#
    )
}

fn extraction(c: &mut Criterion) {
    let body = page();
    let url = siteaudit::url::normalize("http://127.0.0.1:18080/p/7.html").unwrap();
    let mut g = c.benchmark_group("extract");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("html page (3 KB, 15 links)", |b| {
        b.iter(|| siteaudit::extract::extract_html(&url, black_box(body.as_bytes()), None))
    });
    g.finish();
}

fn urls(c: &mut Criterion) {
    let base = siteaudit::url::normalize("http://127.0.0.1:18080/p/7.html").unwrap();
    let mut g = c.benchmark_group("url");
    g.bench_function("normalize", |b| {
        b.iter(|| siteaudit::url::normalize(black_box("HTTP://Example.COM:80/a/./b/../c?x=1#frag")))
    });
    g.bench_function("resolve relative href", |b| {
        b.iter(|| siteaudit::url::resolve(&base, black_box("../p/1234.html?ref=nav")))
    });
    g.bench_function("fingerprint (xxh3)", |b| {
        b.iter(|| siteaudit::url::fingerprint(black_box(&base)))
    });
    g.finish();
}

fn diagnosis(c: &mut Criterion) {
    let headers = vec![
        ("server".to_string(), "nginx/1.22.1".to_string()),
        ("content-type".to_string(), "text/html".to_string()),
    ];
    let body = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.22.1</center></body></html>";
    c.bench_function("diagnose/fingerprint 502", |b| {
        b.iter(|| siteaudit::diagnose::fingerprint(502, black_box(&headers), black_box(body)))
    });
}

fn logs(c: &mut Criterion) {
    let line = r#"127.0.0.1 - - [25/Nov/2026:01:30:28 +0000] "GET /refused/ HTTP/1.1" 502 157 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" rt=0.000 uct="-" uht="-" urt="0.000" us="502, 502" ua="127.0.0.1:21001""#;
    let mut g = c.benchmark_group("logs");
    g.throughput(Throughput::Bytes(line.len() as u64));
    g.bench_function("parse access line (combined + upstream)", |b| {
        b.iter(|| siteaudit::logs::access::parse_line(black_box(line)))
    });
    g.finish();
}

/// Bench-site URL number `n` as the frontier queues it.
fn new_url(n: u64, found_by: &'static str) -> siteaudit::store::NewUrl {
    let url = format!("http://127.0.0.1:18080/p/{n}.html");
    siteaudit::store::NewUrl {
        id: n as _,
        fingerprint: siteaudit::url::fingerprint(&siteaudit::url::normalize(&url).unwrap()),
        url,
        depth: 3,
        scope: siteaudit::store::UrlScope::Internal,
        found_by,
        in_sitemap: false,
    }
}

fn store(c: &mut Criterion) {
    use siteaudit::config::CrawlConfig;
    use siteaudit::model::{Outcome, ResponseMeta};
    use siteaudit::store::{LinkRow, SqliteStore, Store, UrlId, UrlResult, WriteOp};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.db")).unwrap();
    let crawl = store.create_crawl(&CrawlConfig::default()).unwrap();
    let mut n = 0u64;
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("queue 1000 URLs (one batch, committed)", |b| {
        b.iter(|| {
            let urls = (0..1000)
                .map(|_| {
                    n += 1;
                    new_url(n, "link")
                })
                .collect();
            store.write(crawl, WriteOp::Queue(urls)).unwrap();
            store.flush().unwrap();
        })
    });
    // What a crawl writes as each page is done: its new URL, its response and facts and
    // its 24 links (a bench-site page's nav, content links, images, canonical, CSS).
    let facts = format!(
        r#"{{"titles":["Page 7 | audit crawl server | Bench site"],"text":{{"words":152,"excerpt":"{}"}}}}"#,
        "audit crawl server status ".repeat(20)
    );
    g.bench_function(
        "done 1000 pages, 24 links each (one batch, committed)",
        |b| {
            b.iter(|| {
                let mut ops = Vec::with_capacity(2000);
                for _ in 0..1000 {
                    n += 1;
                    let id = n as UrlId;
                    let links = (0..24u32)
                        .map(|k| LinkRow {
                            from: id,
                            to: (id + k * 7919) % 100_000,
                            kind: if k < 20 { "a" } else { "img" }.into(),
                            text: Some(arcstr::format!("audit crawl server {k}")),
                            rel: None,
                        })
                        .collect();
                    let result = UrlResult {
                        id,
                        outcome: Outcome {
                            response: Some(ResponseMeta {
                                status: 200,
                                headers: vec![("server".into(), "nginx/1.22.1".into())],
                                content_type: Some("text/html".into()),
                                ..ResponseMeta::default()
                            }),
                            ..Outcome::default()
                        },
                        robots_disallowed: false,
                        facts: Some(facts.clone()),
                        body_snippet: None,
                        hops: vec![],
                    };
                    ops.push(WriteOp::Queue(vec![new_url(n, "a")]));
                    ops.push(WriteOp::Done {
                        result: Box::new(result),
                        new_urls: vec![],
                        links,
                    });
                }
                for op in ops {
                    store.write(crawl, op).unwrap();
                }
                store.flush().unwrap();
            })
        },
    );
    g.finish();
}

criterion_group!(benches, extraction, urls, diagnosis, logs, store);
criterion_main!(benches);
