//! The audit: findings with evidence, health score, `checks`, `audit`, --fail-on severities.

use siteaudit_testkit::{Reply, Site};

use crate::util::{Dir, links};

fn findings<'a>(r: &'a crate::util::Report, check: &str) -> Vec<&'a serde_json::Value> {
    r.0["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

#[test]
fn crawl_reports_findings_with_evidence_and_a_score() {
    let s = Site::new()
        .page("/", &links(&["/ok", "/gateway", "/missing"]))
        .page("/ok", "<title>ok</title>")
        .reply(
            "/gateway",
            Reply::status(502).header("Server", "nginx/1.22.1"),
        )
        .reply("/missing", Reply::status(404))
        .start();
    let d = Dir::new();
    let (code, r) = d.crawl(&s.url("/"), &["--retries", "0"]);
    assert_eq!(code, 1);
    let gw = findings(&r, "http-502");
    assert_eq!(gw.len(), 1);
    assert_eq!(gw[0]["severity"], "error");
    assert_eq!(gw[0]["url"], s.url("/gateway"));
    assert_eq!(gw[0]["details"]["server"], "nginx/1.22.1");
    assert!(gw[0]["fix"].as_str().unwrap().len() > 10);
    assert_eq!(findings(&r, "http-404").len(), 1);
    assert!(
        findings(&r, "http-404")[0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/missing")
    );
    // robots.txt and /sitemap.xml are missing too, but they are not pages.
    let score = r.0["audit"]["score"]["score"].as_u64().unwrap();
    assert!(score < 100 && score > 0, "{score}");

    // The audit re-runs on the stored crawl without fetching anything.
    let before = s.requests("/gateway");
    let (code, again) = d.json(&["audit", "--format", "json", "--disable-check", "http-404"]);
    assert_eq!(code, 1);
    assert_eq!(s.requests("/gateway"), before);
    assert!(findings(&again, "http-404").is_empty());
    assert_eq!(findings(&again, "http-502").len(), 1);

    // Severities in --fail-on.
    let o = d.run(&["report", "--fail-on", "none"]);
    assert_eq!(o.status.code(), Some(0));
    let o = d.run(&["report", "--fail-on", "error"]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Audit: health score"), "{text}");
    assert!(
        text.contains("[error] http-502: 502 Bad Gateway (1)"),
        "{text}"
    );
    // Unknown ids are a usage error; CSV lists the findings per URL.
    assert_eq!(
        d.run(&["report", "--disable-check", "no-such-check"])
            .status
            .code(),
        Some(2)
    );
    let csv = String::from_utf8_lossy(&d.run(&["report", "--format", "csv"]).stdout).to_string();
    assert!(
        csv.lines()
            .any(|l| l.contains("/gateway,") && l.ends_with(",http-502")),
        "{csv}"
    );
}

/// The binary runs with mimalloc returning an ending thread's free pages and each freed
/// segment to the OS at once (it runs itself again with `MIMALLOC_ABANDONED_PAGE_PURGE=1`
/// and `MIMALLOC_ARENA_PURGE_MULT=0`), keeps a value the user set (and sets the other),
/// and keeps its arguments.
#[test]
fn runs_with_its_allocator_options_unless_told_otherwise() {
    let d = Dir::new();
    let logged = |set: &[(&str, &str)]| {
        let mut c = d.cmd(&["checks", "--format", "json"]);
        c.env("SITEAUDIT_LOG", "siteaudit=debug");
        for var in ["MIMALLOC_ABANDONED_PAGE_PURGE", "MIMALLOC_ARENA_PURGE_MULT"] {
            c.env_remove(var);
        }
        c.envs(set.iter().copied());
        let out = c.output().expect("run siteaudit");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"http-504\""));
        // The log without its colours' escape sequences (ESC [ ... m).
        let mut err = String::new();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut chars = stderr.chars();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => while chars.next().is_some_and(|c| c != 'm') {},
                _ => err.push(c),
            }
        }
        err.lines()
            .find(|l| l.contains("allocator options"))
            .unwrap_or_else(|| panic!("no allocator options logged: {err}"))
            .to_string()
    };
    let own = logged(&[]);
    assert!(
        own.contains("abandoned_page_purge=Some(\"1\")")
            && own.contains("arena_purge_mult=Some(\"0\")"),
        "{own}"
    );
    let users = logged(&[("MIMALLOC_ARENA_PURGE_MULT", "25")]);
    assert!(
        users.contains("abandoned_page_purge=Some(\"1\")")
            && users.contains("arena_purge_mult=Some(\"25\")"),
        "{users}"
    );
}

#[test]
fn checks_lists_the_catalogue_and_config_disables() {
    let d = Dir::new();
    let (code, list) = d.json(&["checks", "--format", "json"]);
    assert_eq!(code, 0);
    let list = list.0.as_array().unwrap();
    assert!(list.len() >= 27);
    assert!(
        list.iter()
            .any(|c| c["id"] == "http-504" && c["category"] == 2 && c["severity"] == "error")
    );
    let text = String::from_utf8_lossy(&d.run(&["checks"]).stdout).to_string();
    assert!(text.contains("2 HTTP status codes"));

    let s = Site::new().page("/", &links(&["/missing"])).start();
    std::fs::write(
        d.path().join("siteaudit.toml"),
        "disable_checks = [\"http-404\"]\n",
    )
    .unwrap();
    let (_, r) = d.crawl(&s.url("/"), &[]);
    assert!(findings(&r, "http-404").is_empty());
    let (_, r) = d.crawl(&s.url("/"), &["--no-audit"]);
    assert!(r.0.get("audit").is_none());

    // Thresholds come from [thresholds]; unknown names are rejected.
    let titled = Site::new().page("/", "<title>Short</title>").start();
    let (_, r) = d.crawl(&titled.url("/"), &[]);
    assert_eq!(findings(&r, "title-too-short").len(), 1);
    std::fs::write(
        d.path().join("siteaudit.toml"),
        "[thresholds]\ntitle_min_chars = 3\n",
    )
    .unwrap();
    let (_, r) = d.crawl(&titled.url("/"), &[]);
    assert!(findings(&r, "title-too-short").is_empty());
    std::fs::write(
        d.path().join("siteaudit.toml"),
        "[thresholds]\ntitle_minimum = 3\n",
    )
    .unwrap();
    let o = d.run(&["crawl", &titled.url("/")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("title_minimum"));
}

#[test]
fn extracted_facts_drive_the_checks_end_to_end() {
    let body: String = (0..250).map(|i| format!("word{i} ")).collect();
    let page = |title: &str, extra: &str| {
        format!(
            "<html lang=\"en\"><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p>{extra}</body></html>"
        )
    };
    let s = Site::new()
        .page("/", &page("Home page of the end to end test site", r#"<a href="/a">A</a> <a href="/b">B</a> <a href="/hidden">H</a> <img src="/logo.png">"#))
        .page("/a", &page("The same article published twice", ""))
        .page("/b", &page("The same article published twice", ""))
        .page("/hidden", r#"<html><head><meta name="robots" content="noindex"><title>Hidden page of the test site, long enough</title></head><body><h1>x</h1></body></html>"#)
        .reply("/logo.png", Reply::status(404))
        .start();
    let d = Dir::new();
    let (_, r) = d.crawl(&s.url("/"), &["--no-sitemaps"]);
    let urls = |check: &str| -> Vec<String> {
        findings(&r, check)
            .iter()
            .filter_map(|f| f["url"].as_str().map(|u| u.replace(&s.url(""), "")))
            .collect()
    };
    let mut dup = urls("duplicate-exact");
    dup.sort();
    assert_eq!(dup, ["/a", "/b"]);
    let mut titles = urls("title-duplicate");
    titles.sort();
    assert_eq!(titles, ["/a", "/b"]);
    assert_eq!(urls("noindex-page"), ["/hidden"]);
    assert_eq!(urls("image-broken"), ["/logo.png"]);
    assert_eq!(urls("image-alt-missing"), ["/"]);
    // 250 words are not thin; the short /hidden page is noindex, so not judged.
    assert!(urls("thin-content").is_empty());
}

#[test]
fn a_second_crawl_reports_what_changed() {
    let s = Site::new()
        .page("/", &links(&["/product"]))
        .route(
            "/product",
            siteaudit_testkit::Route::Sequence(vec![
                Reply::html("<title>Product</title>"),
                Reply::status(500),
            ]),
        )
        .start();
    let d = Dir::new();
    let (_, first) = d.crawl(&s.url("/"), &["--retries", "0"]);
    assert!(
        findings(&first, "became-broken").is_empty(),
        "nothing to compare with yet"
    );
    let (_, second) = d.crawl(&s.url("/"), &["--retries", "0"]);
    let broke = findings(&second, "became-broken");
    assert_eq!(broke.len(), 1);
    assert_eq!(broke[0]["url"], s.url("/product"));
}
