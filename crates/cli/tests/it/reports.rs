//! Report formats from the binary, CSV tables, and `--baseline` for CI.

use siteaudit_testkit::{Reply, Route, Site};

use crate::util::{Dir, links};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn every_format_renders_a_stored_crawl() {
    let s = Site::new()
        .page("/", &links(&["/ok", "/gone", "/moved"]))
        .page("/ok", "<title>ok</title>")
        .reply("/gone", Reply::status(404))
        .reply("/moved", Reply::redirect(301, "/ok"))
        .start();
    let d = Dir::new();
    let (code, json) = d.crawl(&s.url("/"), &[]);
    assert_eq!(code, 1);
    // Links and redirect chains are in the JSON report, by URL id.
    let id_of = |suffix: &str| json.url(suffix)["id"].as_u64().unwrap();
    let links = json.0["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l["from"] == id_of("/") && l["to"] == id_of("/gone"))
    );
    let redirects = json.0["redirects"].as_array().unwrap();
    assert_eq!(redirects.len(), 1);
    assert_eq!(redirects[0]["hops"][1]["url"], s.url("/ok"));

    let o = d.run(&["report", "--format", "jsonl"]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "crawl");
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "finding" && l["check"] == "http-404")
    );
    assert!(lines.iter().any(|l| l["type"] == "redirect"));

    let o = d.run(&["report", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "http-404"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == s.url("/gone")));

    let o = d.run(&["report", "--format", "junit"]);
    let xml = stdout(&o);
    assert!(xml.starts_with("<?xml"));
    assert!(xml.contains("<testsuite name=\"02 HTTP status codes\""));
    assert!(xml.contains(&format!("name=\"http-404 {}\"", s.url("/gone"))));

    let o = d.run(&["report", "--format", "markdown"]);
    let md = stdout(&o);
    assert!(md.contains("**Health score"));
    assert!(md.contains(&format!("| {} | 404 Not Found |", s.url("/gone"))));

    let html = d.path().join("r.html");
    let o = d.run(&["report", "--format", "html", "-o", html.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains(&s.url("/gone")));

    let dir = d.path().join("tables");
    let o = d.run(&[
        "report",
        "--format",
        "csv",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for name in ["urls.csv", "links.csv", "redirects.csv", "findings.csv"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.lines().count() > 1, "{name} has rows");
    }
    let redirects = std::fs::read_to_string(dir.join("redirects.csv")).unwrap();
    assert!(redirects.contains(&format!("{},1,{},200,", s.url("/moved"), s.url("/ok"))));

    // Wrong combinations are usage errors.
    let o = d.run(&[
        "report",
        "--format",
        "json",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = d.run(&["report", "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("html, junit, sarif or markdown"));
    let o = d.run(&["check", &s.url("/ok"), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn baseline_fails_only_on_what_is_new() {
    // The home page links to /gone in the first crawl, and also to /new in the second.
    let s = Site::new()
        .route(
            "/",
            Route::Sequence(vec![
                Reply::html(links(&["/gone"])),
                Reply::html(links(&["/gone", "/new"])),
            ]),
        )
        .reply("/gone", Reply::status(404))
        .reply("/new", Reply::status(404))
        .start();
    let d = Dir::new();
    let first = d.path().join("first.json");
    let o = d.run(&[
        "crawl",
        &s.url("/"),
        "--quiet",
        "--format",
        "json",
        "-o",
        first.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    // The same crawl against itself: nothing is new.
    let o = d.run(&["report", "1", "--baseline", "1"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 broken URLs and 0 findings are new"));

    let o = d.run(&[
        "crawl",
        &s.url("/"),
        "--quiet",
        "--baseline",
        first.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "/new is new");
    // Only failing on errors that are new: /gone's findings are old, /new's are new.
    let o = d.run(&["report", "2", "--baseline", "1", "--fail-on", "error"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(stderr.contains("1 broken URLs and "), "{stderr}");
    // Without /new in the second crawl, /gone alone would pass.
    let o = d.run(&["report", "1", "--baseline", first.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));

    let o = d.run(&["report", "--baseline", "nonsense"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("neither a file nor a crawl id"));
    let not_report = d.path().join("x.json");
    std::fs::write(&not_report, "{\"a\":1}").unwrap();
    let o = d.run(&["report", "--baseline", not_report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_of_the_last_two_crawls() {
    // First crawl: /gone is broken and /fixed fails; second: /fixed answers, /new is
    // linked and broken, /gone is no longer linked.
    let s = Site::new()
        .route(
            "/",
            Route::Sequence(vec![
                Reply::html(links(&["/gone", "/fixed"])),
                Reply::html(links(&["/fixed", "/new"])),
            ]),
        )
        .reply("/gone", Reply::status(404))
        .route(
            "/fixed",
            Route::Sequence(vec![Reply::status(500), Reply::html("<title>back</title>")]),
        )
        .reply("/new", Reply::status(410))
        .start();
    let d = Dir::new();
    for _ in 0..2 {
        let o = d.run(&[
            "crawl",
            &s.url("/"),
            "--quiet",
            "--retries",
            "0",
            "--fail-on",
            "none",
        ]);
        assert_eq!(o.status.code(), Some(0));
    }
    let (code, diff) = d.json(&["diff", "--format", "json"]);
    assert_eq!(code, 1, "/new is a new broken internal URL");
    let v = &diff.0;
    assert_eq!(
        (v["a"]["id"].as_i64(), v["b"]["id"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["added"], serde_json::json!([s.url("/new")]));
    assert_eq!(v["removed"], serde_json::json!([s.url("/gone")]));
    let changed = v["status_changed"].as_array().unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c["url"] == s.url("/fixed") && c["before"] == "500" && c["after"] == "200")
    );
    let appeared: Vec<&str> = v["problems_appeared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["problem"].as_str().unwrap())
        .collect();
    assert_eq!(appeared, ["http-410"]);
    let resolved: Vec<&str> = v["problems_resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(resolved.len(), 2, "{resolved:?}");
    assert!(
        v["findings_new"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "http-410")
    );
    assert!(
        v["findings_resolved"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "http-500")
    );
    assert!(v["score"]["before"].is_u64() && v["score"]["after"].is_u64());

    let o = d.run(&[
        "diff",
        "1",
        "2",
        "--format",
        "markdown",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.starts_with("## Crawl #1 → #2"), "{md}");
    assert!(md.contains("### Broken URLs that appeared (1)"));
    let o = d.run(&["diff", "2", "1", "--fail-on", "none"]);
    assert!(stdout(&o).contains("Broken URLs fixed (1)"));
    // The latest crawl is the only one of its site: nothing to compare it with.
    let other = Site::new().page("/", "<title>other</title>").start();
    let o = d.run(&["crawl", &other.url("/"), "--quiet", "--fail-on", "none"]);
    assert_eq!(o.status.code(), Some(0));
    let o = d.run(&["diff"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no earlier finished crawl"));
    let o = d.run(&["diff", "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A summary report without checks reads only the links to problem URLs (by target);
/// what it prints of each problem and its linking pages matches the full JSON report.
#[test]
fn summary_report_without_checks_lists_the_same_problems_and_linking_pages() {
    let s = Site::new()
        .page("/", &links(&["/a", "/b", "/gone", "/hop"]))
        .page("/a", &links(&["/gone", "/err"]))
        .page("/b", &links(&["/gone", "/a"]))
        .reply("/gone", Reply::status(404))
        .reply("/err", Reply::status(500))
        .reply("/hop", Reply::redirect(301, "/hop2"))
        .reply("/hop2", Reply::redirect(301, "/hop"))
        .start();
    let d = Dir::new();
    let (code, json) = d.crawl(&s.url("/"), &["--no-audit"]);
    assert_eq!(code, 1);
    let problems = json.0["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    let o = d.run(&["report", "--no-audit", "--format", "text"]);
    let text = stdout(&o);
    for p in problems {
        let url = p["url"].as_str().unwrap();
        assert!(text.contains(url), "{url} missing:\n{text}");
        for l in p["linked_from"].as_array().unwrap() {
            let from = l["url"].as_str().unwrap();
            assert!(
                text.contains(from),
                "{from} (linking to {url}) missing:\n{text}"
            );
        }
    }
    assert_eq!(json.linked_from("/gone").len(), 3);
}

/// The text report's audit (facts parsed as they are read, no URL list kept) has the
/// same score and checks as the JSON report's (everything loaded).
#[test]
fn lean_text_audit_matches_the_full_json_audit() {
    let s = Site::new()
        .page(
            "/",
            &format!("<title>Home</title>{}", links(&["/a", "/b", "/gone"])),
        )
        .page(
            "/a",
            "<title>Same</title><h1>A</h1><p>words words words</p>",
        )
        .page("/b", "<title>Same</title><title>Twice</title>")
        .reply("/gone", Reply::status(404))
        .start();
    let d = Dir::new();
    let (_, json) = d.crawl(&s.url("/"), &[]);
    let audit = &json.0["audit"];
    let text = stdout(&d.run(&["report", "--format", "text"]));
    let score = audit["score"]["score"].as_u64().unwrap();
    assert!(
        text.contains(&format!("health score {score}/100")),
        "{score}\n{text}"
    );
    let findings = audit["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["check"] == "title-multiple"));
    for f in findings {
        let id = f["check"].as_str().unwrap();
        assert!(text.contains(&format!("] {id}: ")), "{id} missing:\n{text}");
    }
}

/// The audit's findings are stored with the crawl: a report reads them back instead of
/// running the checks again, until the settings (or the crawl) change; summaries count
/// every finding while listing only the first of each check.
#[test]
fn reports_read_stored_findings_until_the_settings_change() {
    // 25 pages without a title: one check with more findings than a summary lists.
    let mut site = Site::new();
    let pages: Vec<String> = (0..25).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    site = site.page("/", &links(&refs));
    for p in &pages {
        site = site.page(p, "<p>no title here</p>");
    }
    let s = site.start();
    let d = Dir::new();
    let (_, crawled) = d.crawl(&s.url("/"), &[]);
    let findings = crawled.0["audit"]["findings"].as_array().unwrap().clone();
    let untitled =
        |fs: &[serde_json::Value]| fs.iter().filter(|f| f["check"] == "title-missing").count();
    assert_eq!(untitled(&findings), 25);
    let db = rusqlite::Connection::open(d.db()).unwrap();
    let stored: i64 = db
        .query_row("SELECT findings FROM audits WHERE crawl_id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored as usize, findings.len());

    // The same findings, in the same order, read back from the store.
    let (_, again) = d.json(&["report", "--format", "json"]);
    assert_eq!(again.0["audit"], crawled.0["audit"]);
    // Read, not recomputed: an edit of a stored finding shows in the next report.
    db.execute(
        "UPDATE findings SET details = '{\"edited\":true}' WHERE crawl_id = 1 AND check_id = 'title-missing'",
        [],
    )
    .unwrap();
    let (_, edited) = d.json(&["report", "--format", "json"]);
    let first = edited.0["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "title-missing")
        .unwrap()
        .clone();
    assert_eq!(first["details"], serde_json::json!({ "edited": true }));

    // The text summary lists 10 of the 25 and counts them all.
    let text = stdout(&d.run(&["report", "--format", "text"]));
    assert!(text.contains("title-missing: "), "{text}");
    assert!(
        text.contains("(25)") && text.contains("… and 15 more"),
        "{text}"
    );
    let md = stdout(&d.run(&["report", "--format", "markdown"]));
    assert!(
        md.contains("`title-missing`") && md.contains("| 25 |"),
        "{md}"
    );

    // Other settings: the checks run again (the edit is gone, the disabled check too).
    let (_, other) = d.json(&[
        "report",
        "--format",
        "json",
        "--disable-check",
        "h1-missing",
    ]);
    let fs = other.0["audit"]["findings"].as_array().unwrap();
    assert_eq!(untitled(fs), 25);
    assert!(
        fs.iter()
            .all(|f| f["details"] != serde_json::json!({ "edited": true }))
    );
    assert!(fs.iter().all(|f| f["check"] != "h1-missing"));
    assert!(findings.iter().any(|f| f["check"] == "h1-missing"));
    // And back: the default settings' findings are the crawl's again.
    let (_, back) = d.json(&["report", "--format", "json"]);
    assert_eq!(back.0["audit"], crawled.0["audit"]);
}

/// A summary made as the crawl is audited (added up while its findings stream to the
/// store) is the summary read back from the stored findings, sorted: same counts, same
/// score, the same first findings of each check.
#[test]
fn summary_of_a_fresh_audit_is_the_summary_of_its_stored_findings() {
    // 30 untitled pages linking to each other, in an order the crawl does not keep: more
    // findings per check than a summary lists, found out of URL order.
    let mut site = Site::new();
    let pages: Vec<String> = (0..30).map(|i| format!("/p{}", (i * 7) % 30)).collect();
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    site = site.page("/", &links(&refs));
    for (i, p) in pages.iter().enumerate() {
        let next = [pages[(i + 11) % 30].as_str(), "/gone"];
        site = site.page(p, &format!("<p>no title</p>{}", links(&next)));
    }
    let s = site.reply("/gone", Reply::status(404)).start();
    for format in ["text", "markdown"] {
        let d = Dir::new();
        let fresh = d.run(&["crawl", &s.url("/"), "--format", format, "--quiet"]);
        let stored = d.run(&["report", "--format", format]);
        assert_eq!(stdout(&fresh), stdout(&stored), "{format}");
        assert!(stdout(&fresh).contains("more"), "{}", stdout(&fresh));
    }
}
