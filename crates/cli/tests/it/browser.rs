//! The HTML report in a real browser (Debian's chromium, headless): it renders
//! with no script errors, the charts and tables are there, the URL table stays
//! virtual at 100,000 rows, and a screenshot is kept as a test artifact in
//! `target/test-artifacts/`.
//!
//! Ignored by default because it needs chromium; `.ci/run` installs it and runs
//! the ignored tests. `SITEAUDIT_CHROMIUM` names the binary (default `chromium`).

use std::path::{Path, PathBuf};
use std::process::Command;

use siteaudit_testkit::{Reply, Site};

use crate::util::{Dir, links};

fn chromium() -> String {
    std::env::var("SITEAUDIT_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Runs headless chromium on `page` with `args`; returns (stdout, stderr).
fn headless(page: &Path, args: &[&str], profile: &Path) -> (String, String) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium (apt-get install chromium)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Console messages chromium logged at error level or for uncaught exceptions.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("ERROR") || l.contains("Uncaught")))
        .collect()
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
#[ignore = "needs chromium; run by .ci/run"]
fn html_report_renders_in_chromium_without_errors() {
    let s = Site::new()
        .page(
            "/",
            &links(&["/ok", "/gone", "/gateway", "/moved", "/a?x=<b>"]),
        )
        .page(
            "/ok",
            "<html><head><title>OK page</title></head><body><h1>ok</h1></body></html>",
        )
        .reply("/gone", Reply::status(404))
        .reply(
            "/gateway",
            Reply::status(502).header("Server", "nginx/1.22.1"),
        )
        .reply("/moved", Reply::redirect(301, "/ok"))
        .start();
    let d = Dir::new();
    let report = d.path().join("report.html");
    let (code, _) = d.crawl(&s.url("/"), &["--retries", "0"]);
    assert_eq!(code, 1);
    let o = d.run(&["report", "--format", "html", "-o", report.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let profile = d.path().join("profile");
    let (dom, stderr) = headless(&report, &["--dump-dom"], &profile);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish:\n{stderr}"
    );
    assert!(
        console_errors(&stderr).is_empty(),
        "{:#?}",
        console_errors(&stderr)
    );
    assert!(
        dom.contains("<div id=\"js-errors\" hidden=\"\"></div>"),
        "script errors shown"
    );
    assert_eq!(
        dom.matches("<svg class=\"chart\"").count(),
        5,
        "four charts and the findings chart"
    );
    assert!(dom.contains("class=\"vrow c5xx\""), "URL table rows drawn");
    assert!(
        dom.contains("of 8 URLs") || dom.contains(" of "),
        "row count shown"
    );
    assert!(dom.contains("id=\"failing\"") && dom.contains(&s.url("/gateway")));
    assert!(dom.contains("<details class=\"check error\">"));

    let shot = artifacts().join("report.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &report,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
        ],
        &profile,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );

    // 100,000 URLs: the same page with a synthetic table; only the rows in
    // view are drawn, so the DOM stays small.
    let html = std::fs::read_to_string(&report).unwrap();
    let start = html.find("id=\"url-data\">").unwrap() + "id=\"url-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let rows: Vec<String> = (0..100_000)
        .map(|i| {
            format!(
                r#"["https://big.example/p/{i}",{s},"{c}",null,"internal",{d},{t},{b},{l},{f},"text/html"]"#,
                s = if i % 97 == 0 { 404 } else { 200 },
                c = if i % 97 == 0 { "4xx" } else { "2xx" },
                d = i % 7,
                t = i % 900,
                b = 1000 + i,
                l = i % 13,
                f = i % 3,
            )
        })
        .collect();
    let big = format!("{}[{}]{}", &html[..start], rows.join(","), &html[end..]);
    let big_path = d.path().join("big.html");
    std::fs::write(&big_path, big).unwrap();
    let (dom, stderr) = headless(&big_path, &["--dump-dom"], &profile);
    assert!(dom.contains("data-ready=\"1\""), "{stderr}");
    assert!(
        console_errors(&stderr).is_empty(),
        "{:#?}",
        console_errors(&stderr)
    );
    assert!(dom.contains("100000 of 100000 URLs"));
    let drawn: usize = dom
        .split("data-rows-drawn=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("rows drawn recorded");
    assert!((1..=100).contains(&drawn), "{drawn} rows in the DOM");
}
