//! `crawl --resume` after `kill -9`: nothing lost, nothing fetched twice.

use std::time::{Duration, Instant};

use siteaudit_testkit::Site;

use crate::util::{Dir, links};

const PAGES: usize = 40;

fn done_count(db: &std::path::Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT COUNT(*) FROM urls WHERE state = 'done'", [], |r| {
        r.get(0)
    })
    .unwrap_or(0)
}

#[test]
fn resume_after_kill_9_loses_nothing_and_repeats_nothing() {
    let paths: Vec<String> = (0..PAGES).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut site = Site::new().page("/", &links(&refs));
    for i in 0..PAGES {
        // Each page links onward, so URLs are discovered throughout the crawl.
        let next = [format!("/p{}", (i + 1) % PAGES), format!("/q{i}")];
        site = site.page(&format!("/p{i}"), &links(&[&next[0], &next[1]]));
        site = site.page(&format!("/q{i}"), "<title>leaf</title>");
    }
    let s = site.start();
    s.stall_after(25);
    let d = Dir::new();
    let mut child = d
        .cmd(&[
            "crawl",
            &s.url("/"),
            "--concurrency",
            "4",
            "--per-host",
            "4",
            "-q",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the server has stalled and every response it sent is committed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stable_since = Instant::now();
    let mut last = -1;
    loop {
        assert!(
            Instant::now() < deadline,
            "the crawl never reached the stall point"
        );
        let done = done_count(&d.db());
        let served = s.served_total() as i64;
        if done != last {
            last = done;
            stable_since = Instant::now();
        }
        if served >= 25 && done == served && stable_since.elapsed() > Duration::from_millis(500) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no final flush.
    child.wait().unwrap();
    let before = s.served_total();
    assert!(before < PAGES * 2 + 3, "the kill came mid-crawl");

    s.stall_after(0);
    let (code, r) = d.json(&["crawl", "--resume", "--format", "json", "-q"]);
    assert_eq!(code, 0, "{:#}", r.0["problems"]);
    assert_eq!(r.0["crawl"]["state"], "finished");
    let served = s.served_by_path();
    let repeated: Vec<_> = served.iter().filter(|(_, n)| **n != 1).collect();
    assert!(repeated.is_empty(), "fetched more than once: {repeated:?}");
    let mut expected: Vec<String> = vec!["/".into(), "/robots.txt".into(), "/sitemap.xml".into()];
    for i in 0..PAGES {
        expected.push(format!("/p{i}"));
        expected.push(format!("/q{i}"));
    }
    let mut got: Vec<String> = served.keys().cloned().collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "every URL fetched once");
    assert_eq!(r.0["summary"]["pending"], 0);
    assert_eq!(r.urls().len(), expected.len());
}
