//! robots.txt and sitemaps.

use siteaudit_testkit::{Reply, Site, gzip};

use crate::util::{Dir, links};

fn site(robots: &str) -> siteaudit_testkit::Server {
    Site::new()
        .page("/", &links(&["/public", "/private/secret"]))
        .page("/public", "<title>p</title>")
        .page("/private/secret", "<title>s</title>")
        .reply("/robots.txt", Reply::typed("text/plain", robots))
        .start()
}

#[test]
fn disallowed_urls_are_reported_not_fetched() {
    let s = site("User-agent: *\nDisallow: /private/\n");
    let d = Dir::new();
    let (code, r) = d.crawl(&s.url("/"), &[]);
    assert_eq!(code, 0, "blocked by robots.txt is not an error");
    assert_eq!(s.requests("/private/secret"), 0);
    assert_eq!(s.requests("/robots.txt"), 1, "robots.txt fetched once");
    let p = r.problem("/private/secret");
    assert_eq!(p["problem"], "blocked-by-robots");
    assert_eq!(r.0["summary"]["by_class"]["blocked"], 1);
    assert_eq!(r.url("/public")["status"], 200);

    // report mode: fetched anyway and flagged.
    let (_, r) = d.crawl(&s.url("/"), &["--robots", "report"]);
    assert_eq!(s.requests("/private/secret"), 1);
    let row = r.url("/private/secret");
    assert_eq!(row["status"], 200);
    assert_eq!(row["robots_disallowed"], true);

    // ignore mode: robots.txt not even read.
    let before = s.requests("/robots.txt");
    d.crawl(&s.url("/"), &["--robots", "ignore"]);
    assert_eq!(s.requests("/robots.txt"), before);
    assert_eq!(s.requests("/private/secret"), 2);
}

#[test]
fn sitemap_index_gzip_and_sitemap_only_pages() {
    let s = SitemapSite::start();
    let d = Dir::new();
    let (code, r) = d.crawl(&s.server.url("/"), &[]);
    assert_eq!(code, 0, "{:#}", r.0["problems"]);
    let only = r.url("/only-in-sitemap");
    assert_eq!(only["status"], 200);
    assert_eq!(only["in_sitemap"], true);
    assert_eq!(only["found_by"], "sitemap");
    assert_eq!(s.server.requests("/only-in-sitemap"), 1);
    assert_eq!(s.server.requests("/sitemap_index.xml"), 1);
    assert_eq!(s.server.requests("/pages.xml.gz"), 1);
    // A page both linked and listed is marked, whichever found it first (the home
    // page and the sitemap race), and keeps both references.
    let linked = r.url("/linked");
    assert_eq!(linked["in_sitemap"], true);
    assert_eq!(linked["inlinks"], 2);
    assert_eq!(s.server.requests("/linked"), 1);
    // The guessed /sitemap.xml is missing: normal, not a problem.
    assert!(!r.has_problem("/sitemap.xml"));
    // --no-sitemaps: the sitemap-only page is never found.
    let (_, r) = d.crawl(&s.server.url("/"), &["--no-sitemaps"]);
    assert!(!r.has_url("/only-in-sitemap"));
}

/// A site whose sitemaps name its own (port-specific) absolute URLs.
struct SitemapSite {
    server: siteaudit_testkit::Server,
}

impl SitemapSite {
    fn start() -> Self {
        let server = Site::new()
            .page("/", &links(&["/linked"]))
            .page("/linked", "<title>l</title>")
            .page("/only-in-sitemap", "<title>o</title>")
            .start_with(|root| {
                vec![
                    (
                        "/robots.txt".to_string(),
                        Reply::typed(
                            "text/plain",
                            format!("User-agent: *\nAllow: /\nSitemap: {root}/sitemap_index.xml\n"),
                        ),
                    ),
                    (
                        "/sitemap_index.xml".to_string(),
                        Reply::typed(
                            "application/xml",
                            format!(
                                r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{root}/pages.xml.gz</loc></sitemap>
</sitemapindex>"#
                            ),
                        ),
                    ),
                    (
                        "/pages.xml.gz".to_string(),
                        Reply::typed(
                            "application/gzip",
                            gzip(
                                format!(
                                    r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{root}/only-in-sitemap</loc></url>
  <url><loc>{root}/linked</loc></url>
</urlset>"#
                                )
                                .as_bytes(),
                            ),
                        ),
                    ),
                ]
            });
        Self { server }
    }
}
