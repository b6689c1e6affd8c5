//! Crawling a well-formed site: statuses, redirects, links, scope, deduplication.

use siteaudit_testkit::{Reply, Site, closed_port};

use crate::util::{Dir, links};

#[test]
fn every_status_is_recorded_with_the_pages_linking_to_it() {
    let s = Site::new()
        .page(
            "/",
            &links(&[
                "/ok", "/r301", "/loop1", "/404", "/410", "/500", "/502", "/503", "/504",
            ]),
        )
        .page("/ok", "<title>ok</title>")
        .reply("/r301", Reply::redirect(301, "/r302"))
        .reply("/r302", Reply::redirect(302, "/r303"))
        .reply("/r303", Reply::redirect(303, "/r307"))
        .reply("/r307", Reply::redirect(307, "/r308"))
        .reply("/r308", Reply::redirect(308, "/final"))
        .page("/final", "<title>final</title>")
        .reply("/loop1", Reply::redirect(301, "/loop2"))
        .reply("/loop2", Reply::redirect(302, "/loop1"))
        .reply("/404", Reply::status(404))
        .reply("/410", Reply::status(410))
        .reply("/500", Reply::status(500))
        .reply("/502", Reply::status(502).body("<h1>502 Bad Gateway</h1>"))
        .reply("/503", Reply::status(503).header("Retry-After", "0"))
        .reply("/504", Reply::status(504))
        .start();
    let d = Dir::new();
    let (code, r) = d.crawl(&s.url("/"), &["--retries", "0"]);
    assert_eq!(code, 1, "internal 4xx/5xx fail the run");
    assert_eq!(r.0["schema_version"], 1);
    let by_status = &r.0["summary"]["by_status"];
    // robots.txt and the guessed /sitemap.xml are missing too: counted, not problems.
    assert_eq!(by_status["404"], 3);
    assert!(!r.has_problem("/robots.txt") && !r.has_problem("/sitemap.xml"));
    for code in ["404", "410", "500", "502", "503", "504"] {
        if code != "404" {
            assert_eq!(by_status[code], 1, "{code} counted apart");
        }
        let p = r.problem(&format!("/{code}"));
        assert_eq!(p["problem"], format!("http-{code}"));
        assert_eq!(p["status"], code.parse::<u64>().unwrap());
        assert_eq!(r.linked_from(&format!("/{code}")), vec![s.url("/")]);
    }
    assert!(
        r.problem("/502")["description"]
            .as_str()
            .unwrap()
            .contains("Bad Gateway")
    );
    // Each hop of the chain is a URL of its own, with its own status.
    for (path, status) in [
        ("/r301", 301),
        ("/r302", 302),
        ("/r303", 303),
        ("/r307", 307),
        ("/r308", 308),
        ("/final", 200),
    ] {
        assert_eq!(r.url(path)["status"], status, "{path}");
    }
    assert_eq!(r.url("/r302")["found_by"], "redirect");
    assert!(
        !r.has_problem("/r301"),
        "a chain of 5 ending in 200 is fine"
    );
    // The loop is detected, not looped.
    let lp = r.problem("/loop1");
    assert_eq!(lp["problem"], "redirect-loop");
    assert!(lp["redirect_chain"].as_array().unwrap().len() >= 3);
    assert_eq!(s.requests("/loop1"), 1);
    assert_eq!(s.requests("/loop2"), 1);

    // The text report groups them and names the linking page.
    let out = d.run(&["report", "--format", "text"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "502 Bad Gateway (1)",
        "503 Service Unavailable (1)",
        "504 Gateway Timeout (1)",
        "redirect-loop (2)",
        "linked from",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn transient_errors_are_retried_and_every_attempt_kept() {
    let s = Site::new()
        .page("/", &links(&["/flaky", "/down", "/limited"]))
        .route(
            "/limited",
            siteaudit_testkit::Route::Sequence(vec![
                Reply::status(429).header("Retry-After", "1"),
                Reply::html("<title>ok now</title>"),
            ]),
        )
        .route(
            "/flaky",
            siteaudit_testkit::Route::Sequence(vec![
                Reply::status(503).header("Retry-After", "1"),
                Reply::html("<title>back</title>"),
            ]),
        )
        .reply("/down", Reply::status(502))
        .start();
    let d = Dir::new();
    let (code, r) = d.crawl(&s.url("/"), &["--retries", "2", "--retry-backoff", "10ms"]);
    assert_eq!(code, 1);
    let flaky = r.url("/flaky");
    assert_eq!(flaky["status"], 200);
    assert_eq!(flaky["attempts"], 2);
    assert_eq!(s.requests("/flaky"), 2);
    // 429 with Retry-After: the server's wait is honoured, not the shorter backoff.
    assert_eq!(r.url("/limited")["status"], 200);
    let times: Vec<_> = s
        .request_log()
        .into_iter()
        .filter(|(_, p)| p == "/limited")
        .map(|(t, _)| t)
        .collect();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= std::time::Duration::from_millis(990));
    let down = r.problem("/down");
    let attempts = down["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "502 on 3 of 3 tries");
    assert!(attempts.iter().all(|a| a["status"] == 502));
    let text = String::from_utf8_lossy(&d.run(&["report"]).stdout).to_string();
    assert!(text.contains("502 on 3 of 3 tries"), "{text}");
}

#[test]
fn fragments_and_spellings_are_one_url_and_base_href_is_honoured() {
    let s = Site::new()
        .page(
            "/",
            &links(&["/a", "/a#top", "/./a", "/b/../a", "a", "/A%7e", "/dir/page.html"]),
        )
        .page("/a", "<title>a</title>")
        .page(
            "/dir/page.html",
            r#"<html><head><base href="/other/"></head><body>
               <a href="x.html">x</a> <a href="../up.html">up</a> <img src="i.png" srcset="j.png 2x"></body></html>"#,
        )
        .page("/other/x.html", "<title>x</title>")
        .page("/up.html", "<title>up</title>")
        .start();
    let d = Dir::new();
    let (_, r) = d.crawl(&s.url("/"), &[]);
    assert_eq!(s.requests("/a"), 1, "one fetch for every spelling of /a");
    let a_rows = r
        .urls()
        .iter()
        .filter(|u| u["url"].as_str().unwrap().ends_with("/a"))
        .count();
    assert_eq!(a_rows, 1);
    assert_eq!(r.url("/a")["inlinks"], 5);
    assert_eq!(s.requests("/other/x.html"), 1, "relative to <base href>");
    assert_eq!(s.requests("/up.html"), 1);
    assert!(r.has_url("/other/i.png"));
    assert!(r.has_url("/other/j.png"));
    assert!(!r.has_url("/dir/x.html"));
}

#[test]
fn external_links_are_checked_once_but_not_crawled() {
    let ext = Site::new()
        .page("/page", &links(&["/deeper"]))
        .reply("/moved", Reply::redirect(301, "/page"))
        .route(
            "/nohead",
            siteaudit_testkit::Route::NoHead(Reply::html("<title>x</title>")),
        )
        .start();
    let dead = closed_port();
    let home = links(&[
        &ext.url("/page"),
        &ext.url("/moved"),
        &ext.url("/gone"),
        &ext.url("/nohead"),
        &format!("http://127.0.0.1:{dead}/x"),
    ]);
    let s = Site::new().page("/", &home).start();
    let d = Dir::new();
    let (code, r) = d.crawl(&s.url("/"), &["--retries", "0"]);
    assert_eq!(code, 0, "external problems do not fail the run by default");
    assert_eq!(r.url("/page")["scope"], "external");
    assert_eq!(
        ext.requests("/page"),
        2,
        "HEAD for the link, HEAD again as the redirect's target"
    );
    assert_eq!(ext.requests("/deeper"), 0, "external pages are not crawled");
    assert_eq!(ext.requests("/robots.txt"), 0);
    assert_eq!(r.problem("/gone")["problem"], "http-404");
    // HEAD refused with 405: checked again with GET, and both attempts kept.
    let nohead = r.url("/nohead");
    assert_eq!(nohead["status"], 200);
    assert_eq!(nohead["attempts"], 2);
    assert_eq!(ext.requests("/nohead"), 2);
    assert_eq!(
        r.problem(&format!("{dead}/x"))["problem"],
        "connect-refused"
    );
    let moved = r.url("/moved");
    assert_eq!(
        moved["status"], 200,
        "an external URL's status is the end of its chain"
    );
    // --fail-on external turns them into a failing run.
    let (code, _) = d.crawl(&s.url("/"), &["--retries", "0", "--fail-on", "external"]);
    assert_eq!(code, 1);
    // --no-external skips them altogether.
    let before = ext.requests("/page");
    let (code, r) = d.crawl(&s.url("/"), &["--no-external"]);
    assert_eq!(code, 0);
    assert!(!r.has_url("/gone"));
    assert_eq!(ext.requests("/page"), before);
}

#[test]
fn crawls_are_kept_and_listed() {
    let s = Site::new().page("/", "<title>home</title>").start();
    let d = Dir::new();
    d.crawl(&s.url("/"), &[]);
    d.crawl(&s.url("/"), &[]);
    let (code, list) = d.json(&["crawls", "--format", "json"]);
    assert_eq!(code, 0);
    let list = list.0.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["state"], "finished");
    assert_eq!(list[0]["start_url"], s.url("/"));
    let csv = d.run(&["report", "1", "--format", "csv"]);
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("url,scope,depth,found_by"), "{text}");
    assert!(text.contains(&s.url("/")));
}

#[test]
fn output_file_and_start_url_unreachable() {
    let s = Site::new().page("/", "<title>home</title>").start();
    let d = Dir::new();
    let out = d.path().join("report.json");
    let o = d.run(&[
        "crawl",
        &s.url("/"),
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["summary"]["urls"], 3, "the page, robots.txt, sitemap.xml");
    let dead = closed_port();
    let o = d.run(&[
        "crawl",
        &format!("http://127.0.0.1:{dead}/"),
        "--retries",
        "0",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(3), "the crawl could not start");
    assert!(String::from_utf8_lossy(&o.stderr).contains("could not be fetched"));
}

/// External hosts that never answer hold at most half the concurrency while the site
/// is being crawled: with two slots and four hanging external links, every page of the
/// site is fetched while the first external check is still waiting for its answer
/// (without the cap both slots hang and the crawl stands still until they time out).
#[test]
fn hanging_external_hosts_do_not_stall_the_site() {
    let mut ext = Site::new();
    for i in 0..4 {
        ext = ext.route(&format!("/h{i}"), siteaudit_testkit::Route::Hang);
    }
    let ext = ext.start();
    let pages: Vec<String> = (0..20).map(|i| format!("/p{i}")).collect();
    let mut hrefs: Vec<String> = (0..4).map(|i| ext.url(&format!("/h{i}"))).collect();
    hrefs.extend(pages.iter().cloned());
    let hrefs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    let mut site = Site::new().page("/", &links(&hrefs));
    for p in &pages {
        site = site.page(p, "<title>page</title>");
    }
    let s = site.start();
    let d = Dir::new();
    let timeout = std::time::Duration::from_secs(3);
    let args = [
        "--concurrency",
        "2",
        "--per-host",
        "2",
        "--rate",
        "1000",
        "--timeout",
        "3s",
        "--retries",
        "0",
        "--reprobe",
        "0",
        "--no-tls-probe",
    ];
    let (code, r) = d.crawl(&s.url("/"), &args);
    assert_eq!(code, 0);
    for p in &pages {
        assert_eq!(r.url(p)["status"], 200, "{p}");
    }
    assert!(r.has_url("/h3"), "the external links are checked too");
    let first_external = ext.request_log().first().expect("external checks ran").0;
    let site_log = s.request_log();
    let last_page = site_log
        .iter()
        .filter(|(_, path)| pages.contains(path))
        .map(|(at, _)| *at)
        .max()
        .expect("pages fetched");
    assert!(
        last_page < first_external + timeout,
        "the last page was fetched {:?} after the first external check began (timeout {timeout:?})",
        last_page.saturating_duration_since(first_external)
    );
}
