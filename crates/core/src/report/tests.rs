//! Every renderer on one fixed crawl: snapshots (insta) so a change to any
//! output is reviewed, the SARIF log validated against the OASIS 2.1.0
//! schema, and the JUnit XML read back with an XML parser.

use super::{CrawlReport, Format};
use crate::checks::AuditConfig;
use crate::checks::test_support::TestSite;
use crate::model::FailureKind;

/// A small crawl with a bit of everything: a 502 that failed three times
/// behind nginx, a 404 linked with text, a redirect, a slow page, a refused
/// external link.
fn fixed_site() -> crate::checks::SiteData {
    TestSite::new()
        .page("/ok", Some(200), None, |_| {})
        .page("/gone", Some(404), None, |_| {})
        .page("/gateway", Some(502), None, |r| {
            r.headers = vec![("server".into(), "nginx/1.22.1".into())].into();
            r.attempts = 3;
        })
        .attempts("/gateway", &[Some(502), Some(502), Some(502)])
        .page("/moved", Some(301), None, |r| {
            r.set_location(Some("http://site.example/ok"));
        })
        .page("/slow", Some(200), None, |r| {
            r.ttfb_ms = Some(1500.0).into();
            r.total_ms = Some(1650.0).into();
        })
        .page("/down", None, Some(FailureKind::ConnectRefused), |r| {
            r.url = "http://other.example/down".into();
            r.scope = crate::store::UrlScope::External;
        })
        .texts(&[("/gone", "Old <page> & more"), ("/gateway", "API")])
        .built()
}

fn fixed_crawl() -> CrawlReport {
    CrawlReport::from_site(&fixed_site(), Some(&AuditConfig::default()))
}

fn render_report(r: &CrawlReport, format: Format) -> String {
    let mut out = Vec::new();
    r.render(format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn summary_formats_render_the_same_without_the_tables_and_owned_rows_match_copied_ones() {
    let site = TestSite::new()
        .page("/gone", Some(404), None, |_| {})
        .page("/titled", Some(200), None, |r| {
            r.content_type = Some("text/html".into());
            r.set_facts(Some(crate::store::raw_json(
                &serde_json::json!({ "titles": ["One", "Two"] }),
            )));
        })
        .page("/moved", Some(301), None, |r| {
            r.set_location(Some("http://site.example/titled"));
        })
        .built();
    let cfg = AuditConfig::default();
    let full = CrawlReport::from_site(&site, Some(&cfg));
    // As `build_with` does without tables: pages' stored JSON dropped once parsed, and
    // the findings from those facts still there.
    let mut lean = site.clone();
    lean.drop_page_json();
    let titled = |s: &crate::checks::SiteData| {
        s.by_url("http://site.example/titled")
            .unwrap()
            .facts()
            .is_some()
    };
    assert!(titled(&site) && !titled(&lean));
    let mut bare = CrawlReport::summarize(&lean);
    bare.audit = Some(super::AuditSection::run(&lean, &cfg));
    assert!(render_report(&bare, Format::Text).contains("title-multiple"));
    assert!(bare.urls.is_empty() && bare.links.is_empty() && bare.redirects.is_empty());
    assert!(!full.urls.is_empty() && !full.links.is_empty() && !full.redirects.is_empty());
    for f in [Format::Text, Format::Markdown, Format::Junit, Format::Sarif] {
        assert!(!f.needs_tables());
        assert_eq!(render_report(&bare, f), render_report(&full, f), "{f:?}");
    }
    for f in [Format::Json, Format::Jsonl, Format::Csv, Format::Html] {
        assert!(f.needs_tables());
    }
    let mut owned = CrawlReport::summarize(&site);
    owned.audit = Some(super::AuditSection::run(&site, &cfg));
    owned.add_tables(site, crate::checks::SiteData::into_rows);
    assert_eq!(
        render_report(&owned, Format::Json),
        render_report(&full, Format::Json)
    );
}

fn render(format: Format) -> String {
    let mut out = Vec::new();
    fixed_crawl().render(format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn text_snapshot() {
    insta::assert_snapshot!(render(Format::Text));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(render(Format::Json));
}

#[test]
fn jsonl_snapshot() {
    let out = render(Format::Jsonl);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["type"].is_string(), "{line}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(render(Format::Csv));
}

#[test]
fn csv_tables() {
    let dir = tempfile::tempdir().unwrap();
    let written = fixed_crawl().write_csv_dir(dir.path()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["urls.csv", "links.csv", "redirects.csv", "findings.csv"]
    );
    let mut all = String::new();
    for p in &written {
        all.push_str(&format!(
            "== {}\n",
            p.file_name().unwrap().to_string_lossy()
        ));
        all.push_str(&std::fs::read_to_string(p).unwrap());
    }
    insta::assert_snapshot!(all);
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(render(Format::Markdown));
}

#[test]
fn junit_snapshot_is_well_formed_xml() {
    let out = render(Format::Junit);
    let mut reader = quick_xml::Reader::from_str(&out);
    let (mut suites, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) if e.name().into_inner() == "testsuite" => {
                suites += 1
            }
            quick_xml::events::Event::Start(e) if e.name().into_inner() == "failure" => {
                failures += 1
            }
            _ => {}
        }
    }
    assert!(suites > 10, "one suite per category");
    assert!(failures >= 3, "the 502, the 404 and the refused link fail");
    insta::assert_snapshot!(out);
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("testdata/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let log: serde_json::Value = serde_json::from_str(&render(Format::Sarif)).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And a log that breaks the schema is caught, so the check can fail.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&bad));
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "http-502"));
    insta::assert_json_snapshot!(log);
}

#[test]
fn html_is_self_contained() {
    let out = render(Format::Html);
    // Nothing is loaded from elsewhere: no external scripts, styles, images or fonts.
    for needle in [
        "<script src",
        "<link rel=\"stylesheet\"",
        "<img",
        "@import",
        "url(http",
    ] {
        assert!(!out.contains(needle), "{needle}");
    }
    assert!(out.contains("<svg class=\"chart\""));
    assert!(out.contains("id=\"url-data\""));
    // Text from the crawl is escaped.
    assert!(out.contains("Old &lt;page&gt; &amp; more"));
    assert!(!out.contains("Old <page>"));
    insta::assert_snapshot!(out);
}

#[test]
fn script_end_tags_in_urls_cannot_break_out() {
    let site = TestSite::new()
        .page(
            "/x</script><script>alert(1)</script>",
            Some(200),
            None,
            |_| {},
        )
        .built();
    let mut out = Vec::new();
    CrawlReport::from_site(&site, None)
        .render(Format::Html, &mut out)
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        out.matches("</script>").count(),
        2,
        "only the report's own two scripts end"
    );
}

#[test]
fn diff_snapshot() {
    let before = fixed_crawl();
    let site = TestSite::new()
        .page("/ok", Some(200), None, |_| {})
        .page("/gateway", Some(200), None, |_| {})
        .page("/new", Some(500), None, |_| {})
        .built();
    let after = CrawlReport::from_site(&site, Some(&AuditConfig::default()));
    let diff = super::CrawlDiff::between(&before, &after);
    assert_eq!(diff.added, ["http://site.example/new"]);
    assert!(
        diff.removed
            .contains(&"http://site.example/gone".to_string())
    );
    assert_eq!(diff.status_changed[0].before, "502");
    let mut text = Vec::new();
    diff.render(Format::Text, &mut text).unwrap();
    insta::assert_snapshot!(String::from_utf8(text).unwrap());
    let mut md = Vec::new();
    diff.render(Format::Markdown, &mut md).unwrap();
    assert!(
        String::from_utf8(md)
            .unwrap()
            .starts_with("## Crawl #1 → #1")
    );
    assert!(diff.render(Format::Html, &mut Vec::new()).is_err());
}

/// Page facts are stored without their default fields; the JSON and JSONL reports show
/// every field, as they did when facts were stored in full. A sitemap's facts, and facts
/// that do not read as a page's, are shown as stored.
#[test]
fn reports_show_page_facts_in_full() {
    let site = TestSite::new()
        .page("/page", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &serde_json::json!({ "titles": ["One"], "parse_error": "too deep" }),
            )));
        })
        .page("/sitemap.xml", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &serde_json::json!({ "sitemap": { "urls": 2 } }),
            )));
        })
        .page("/odd", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &serde_json::json!({ "titles": 7 }),
            )));
        })
        .built();
    let report = CrawlReport::from_site(&site, None);
    let json: serde_json::Value =
        serde_json::from_str(&render_report(&report, Format::Json)).unwrap();
    let facts = |path: &str| {
        json["urls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["url"] == format!("http://site.example{path}"))
            .unwrap()["facts"]
            .clone()
    };
    let page = facts("/page");
    assert_eq!(page["titles"], serde_json::json!(["One"]));
    assert_eq!(page["parse_error"], "too deep");
    for (field, empty) in [
        ("descriptions", serde_json::json!([])),
        ("images", serde_json::json!([])),
        ("h1_count", serde_json::json!(0)),
        ("lang", serde_json::Value::Null),
        ("title_in_body", serde_json::json!(false)),
        ("open_graph", serde_json::json!({})),
        ("microdata", serde_json::json!([0, 0, 0])),
    ] {
        assert_eq!(page.get(field), Some(&empty), "{field}");
    }
    assert_eq!(page["text"]["words"], 0);
    assert_eq!(page["structure"]["doctype"], false);
    assert_eq!(page["a11y"]["duplicate_ids"], serde_json::json!([]));
    assert_eq!(
        facts("/sitemap.xml"),
        serde_json::json!({ "sitemap": { "urls": 2 } })
    );
    assert_eq!(facts("/odd"), serde_json::json!({ "titles": 7 }));
    // One line each, as stored, in a pretty document.
    let pretty = render_report(&report, Format::Json);
    assert!(
        pretty
            .lines()
            .any(|l| l.trim_start().starts_with("\"facts\": {\"")
                && l.contains("\"titles\":[\"One\"],")
                && l.contains("\"parse_error\":\"too deep\"")),
        "{pretty}"
    );
    let jsonl = render_report(&report, Format::Jsonl);
    let row = jsonl.lines().find(|l| l.contains("/page\"")).unwrap();
    let row: serde_json::Value = serde_json::from_str(row).unwrap();
    assert_eq!(row["facts"]["images"], serde_json::json!([]));
}
