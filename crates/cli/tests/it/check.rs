//! `siteaudit check`.

use std::io::Write;
use std::process::Stdio;

use siteaudit_testkit::{Reply, Site, closed_port};

use crate::util::Dir;

#[test]
fn check_reports_the_whole_chain() {
    let s = Site::new()
        .reply("/a", Reply::redirect(301, "/b"))
        .reply("/b", Reply::redirect(302, "/c"))
        .reply("/c", Reply::html("<title>c</title>"))
        .reply("/bad", Reply::status(502))
        .start();
    let d = Dir::new();
    let (code, r) = d.json(&["check", &s.url("/a"), "--format", "json"]);
    assert_eq!(code, 0);
    let res = &r.0["results"][0];
    assert_eq!(res["status"], 200);
    assert_eq!(res["final_url"], s.url("/c"));
    let chain: Vec<u64> = res["redirect_chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_u64().unwrap())
        .collect();
    assert_eq!(chain, vec![301, 302, 200]);

    let dead = closed_port();
    let (code, r) = d.json(&[
        "check",
        &s.url("/bad"),
        &format!("http://127.0.0.1:{dead}/"),
        "not a url",
        "--format",
        "json",
        "--retries",
        "1",
        "--retry-backoff",
        "10ms",
    ]);
    assert_eq!(code, 1);
    assert_eq!(r.0["results"][0]["status"], 502);
    assert_eq!(r.0["results"][0]["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(r.0["results"][1]["failure"]["kind"], "connect-refused");
    assert_eq!(r.0["results"][2]["failure"]["kind"], "invalid-url");
    // --fail-on narrows what fails the run.
    let o = d.run(&[
        "check",
        &s.url("/bad"),
        "--retries",
        "0",
        "--fail-on",
        "404",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("502 Bad Gateway"), "{text}");
}

#[test]
fn check_reads_urls_from_stdin() {
    let s = Site::new().reply("/x", Reply::html("x")).start();
    let d = Dir::new();
    let mut child = d
        .cmd(&["check", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(
        child.stdin.take().unwrap(),
        "{}\n\n# comment\n{}",
        s.url("/x"),
        s.url("/y")
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "/y is a 404");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with(&format!("{},", s.url("/x"))));
    assert!(lines[2].contains(",404,"));
}
