//! Politeness: per-host concurrency, --rate, robots.txt Crawl-delay, Ctrl-C.

use std::time::{Duration, Instant};

use siteaudit_testkit::{Reply, Route, Site};

use crate::util::{Dir, links};

/// Asserts the page requests (robots.txt and sitemap excluded) were spread out by at
/// least `gap` each. The engine spaces their dispatch exactly; arrival times carry
/// scheduling jitter, which only the first and last request's can shorten, so the span
/// from first to last is checked with a small allowance.
fn assert_spaced(s: &siteaudit_testkit::Server, gap: Duration) {
    let log: Vec<Instant> = s
        .request_log()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/p") || p == "/")
        .map(|(t, _)| t)
        .collect();
    assert!(log.len() >= 4, "{log:?}");
    let span = *log.last().unwrap() - log[0];
    let want = gap * (log.len() as u32 - 1) - Duration::from_millis(50);
    assert!(
        span >= want,
        "{} requests in {span:?}, expected at least {want:?}",
        log.len()
    );
}

fn pages(n: usize) -> Site {
    let paths: Vec<String> = (0..n).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut site = Site::new().page("/", &links(&refs));
    for p in &paths {
        site = site.route(
            p,
            Route::Delay(Duration::from_millis(100), Reply::html("<title>p</title>")),
        );
    }
    site
}

#[test]
fn per_host_limit_caps_parallel_requests() {
    let s = pages(12).start();
    let d = Dir::new();
    d.crawl(
        &s.url("/"),
        &["--per-host", "3", "--concurrency", "32", "--no-sitemaps"],
    );
    assert_eq!(s.max_in_flight(), 3);
}

#[test]
fn rate_spaces_requests_to_a_host() {
    let s = pages(5).start();
    let d = Dir::new();
    d.crawl(&s.url("/"), &["--rate", "10", "--no-sitemaps"]);
    assert_spaced(&s, Duration::from_millis(100));
}

#[test]
fn robots_crawl_delay_is_honoured() {
    let s = pages(4)
        .reply(
            "/robots.txt",
            Reply::typed("text/plain", "User-agent: *\nCrawl-delay: 0.3\n"),
        )
        .start();
    let d = Dir::new();
    d.crawl(&s.url("/"), &["--no-sitemaps"]);
    assert_spaced(&s, Duration::from_millis(300));
}

#[test]
fn too_many_response_headers_is_an_invalid_response() {
    let mut big = Reply::html("x");
    for i in 0..150 {
        big = big.header(&format!("X-H{i}"), "v");
    }
    let s = Site::new()
        .page("/", &links(&["/big"]))
        .reply("/big", big)
        .start();
    let d = Dir::new();
    let (_, r) = d.crawl(&s.url("/"), &["--retries", "0", "--max-headers", "100"]);
    assert_eq!(r.problem("/big")["problem"], "invalid-response");
}

#[test]
fn ctrl_c_interrupts_and_resume_finishes() {
    let s = pages(30).start();
    let d = Dir::new();
    let child = d
        .cmd(&["crawl", &s.url("/"), "--per-host", "1", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.served_total() < 4 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("crawl --resume 1"));
    let (_, list) = d.json(&["crawls", "--format", "json"]);
    assert_eq!(list.0[0]["state"], "interrupted");
    let (code, r) = d.json(&["crawl", "--resume", "1", "--format", "json", "-q"]);
    assert_eq!(code, 0);
    assert_eq!(r.0["crawl"]["state"], "finished");
    assert_eq!(r.0["summary"]["pending"], 0);
    for i in 0..30 {
        assert!(s.served(&format!("/p{i}")) >= 1);
    }
}

#[test]
fn adaptive_throttling_backs_off_a_failing_host() {
    let paths: Vec<String> = (0..30).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut site = Site::new().page("/", &links(&refs));
    for p in &paths {
        site = site.route(
            p,
            Route::Delay(Duration::from_millis(50), Reply::status(503)),
        );
    }
    let s = site.start();
    let d = Dir::new();
    let args = [
        "--retries",
        "0",
        "--reprobe",
        "0",
        "--per-host",
        "8",
        "--fail-on",
        "none",
    ];
    let (_, r) = d.crawl(&s.url("/"), &args);
    let t = &r.0["summary"]["throttled"][0];
    assert_eq!(t["per_host"], 8, "{:#}", r.0["summary"]);
    assert_eq!(t["lowest"], 1);
    // Down to one request at a time: each page arrives after the previous one's
    // 50 ms answer, so the last arrivals are at least that far apart.
    let log = s.request_log();
    let last: Vec<_> = log.iter().rev().take(6).map(|(t, _)| *t).collect();
    for w in last.windows(2) {
        assert!(
            w[0] - w[1] >= Duration::from_millis(45),
            "{:?}",
            w[0] - w[1]
        );
    }
    let text =
        String::from_utf8_lossy(&d.run(&["report", "--fail-on", "none"]).stdout).into_owned();
    assert!(text.contains("Adaptive throttling engaged for"), "{text}");

    // Off: the limit stays where it was set.
    let mut no = args.to_vec();
    no.push("--no-adaptive");
    let (_, r) = d.crawl(&s.url("/"), &no);
    assert!(
        r.0["summary"].get("throttled").is_none(),
        "{:#}",
        r.0["summary"]
    );
}
