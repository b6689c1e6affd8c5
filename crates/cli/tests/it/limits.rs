//! --max-pages, --depth, URL length, redirect hop limit.

use siteaudit_testkit::{Reply, Site};

use crate::util::{Dir, links};

/// A chain of pages /p0 → /p1 → … → /p9, each also linking to an image.
fn chain() -> siteaudit_testkit::Server {
    let mut site = Site::new().page("/", &links(&["/p0"]));
    for i in 0..10 {
        site = site.page(
            &format!("/p{i}"),
            &format!("<a href=\"/p{}\">next</a><img src=\"/i{i}.png\">", i + 1),
        );
    }
    site.start()
}

#[test]
fn depth_limits_how_far_links_are_followed() {
    let s = chain();
    let d = Dir::new();
    let (_, r) = d.crawl(&s.url("/"), &["--depth", "2"]);
    assert_eq!(s.requests("/p1"), 1, "depth 2");
    assert_eq!(s.requests("/p2"), 0, "depth 3 is not fetched");
    assert!(!r.has_url("/p2"));
    assert_eq!(r.url("/p1")["depth"], 2);
    assert!(
        r.has_url("/i1.png"),
        "resources of the deepest pages are still checked"
    );
}

#[test]
fn max_pages_caps_the_crawl() {
    let s = chain();
    let d = Dir::new();
    let (_, r) = d.crawl(&s.url("/"), &["--max-pages", "4", "--no-sitemaps"]);
    let internal_pages = r
        .urls()
        .iter()
        .filter(|u| u["found_by"] != "robots")
        .count();
    assert_eq!(internal_pages, 4, "{:#}", r.0["urls"]);
    let fetched: usize = (0..10).map(|i| s.requests(&format!("/p{i}"))).sum();
    assert!(fetched <= 3);
}

#[test]
fn long_urls_and_long_redirect_chains_are_reported() {
    let long = format!("/{}", "a".repeat(300));
    let mut site = Site::new().page("/", &links(&[&long, "/hop0"]));
    for i in 0..5 {
        site = site.reply(
            &format!("/hop{i}"),
            Reply::redirect(301, &format!("/hop{}", i + 1)),
        );
    }
    let s = site.page("/hop5", "end").start();
    let d = Dir::new();
    let (code, r) = d.crawl(
        &s.url("/"),
        &["--max-url-length", "200", "--max-redirects", "3"],
    );
    assert_eq!(code, 1);
    let p = r.problem(&long);
    assert_eq!(p["problem"], "invalid-url");
    assert!(
        p["description"]
            .as_str()
            .unwrap()
            .contains("over the 200-byte limit")
    );
    assert_eq!(s.requests(&long), 0);
    assert_eq!(r.problem("/hop0")["problem"], "too-many-redirects");
}
