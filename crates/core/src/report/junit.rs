//! JUnit XML: one `<testsuite>` per check category, one `<testcase>` per
//! check that found nothing (passing) and one per check and affected URL
//! (failing for errors and warnings; notices pass with a `<system-out>` note).
//! Without an audit, one `crawl` suite holds a failing testcase per problem URL.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use quick_xml::escape::escape;

use super::{CrawlReport, FindingRow, ReportError};
use crate::model::Severity;

struct Case {
    classname: String,
    name: String,
    failure: Option<(String, String, String)>,
    note: Option<String>,
}

fn case_xml(c: &Case, xml: &mut String) {
    let _ = write!(
        xml,
        r#"    <testcase classname="{}" name="{}""#,
        escape(&c.classname),
        escape(&c.name)
    );
    match (&c.failure, &c.note) {
        (Some((kind, message, body)), _) => {
            let _ = write!(
                xml,
                ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(kind),
                escape(message),
                escape(body)
            );
        }
        (None, Some(note)) => {
            let _ = write!(
                xml,
                ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                escape(note)
            );
        }
        (None, None) => xml.push_str("/>\n"),
    }
}

fn finding_case(f: &FindingRow, start_url: &str) -> Case {
    let url = f.url.as_deref().unwrap_or(start_url);
    let body = format!(
        "{}\nURL: {url}\nEvidence: {}\nFix: {}",
        f.title, f.details, f.fix
    );
    let failing = f.severity != Severity::Notice;
    Case {
        classname: format!("siteaudit.{}", f.check),
        name: format!("{} {url}", f.check),
        failure: failing.then(|| {
            (
                f.severity.id().to_string(),
                f.title.to_string(),
                body.clone(),
            )
        }),
        note: (!failing).then_some(body),
    }
}

pub(super) fn render(r: &CrawlReport, out: &mut dyn Write) -> Result<(), ReportError> {
    // (category number, name) -> cases
    let mut suites: BTreeMap<(u8, String), Vec<Case>> = BTreeMap::new();
    match &r.audit {
        Some(audit) => {
            let mut by_check: BTreeMap<&str, Vec<&FindingRow>> = BTreeMap::new();
            for f in &audit.findings {
                by_check.entry(f.check).or_default().push(f);
            }
            for info in &audit.checks_run {
                let key = (info.category, info.category_name().to_string());
                let cases = suites.entry(key).or_default();
                match by_check.get(info.id) {
                    None => cases.push(Case {
                        classname: format!("siteaudit.{}", info.id),
                        name: info.id.to_string(),
                        failure: None,
                        note: None,
                    }),
                    Some(found) => {
                        cases.extend(found.iter().map(|f| finding_case(f, &r.crawl.start_url)))
                    }
                }
            }
        }
        None => {
            let cases = suites.entry((0, "crawl".into())).or_default();
            for p in &r.problems {
                cases.push(Case {
                    classname: format!("siteaudit.{}", p.problem),
                    name: format!("{} {}", p.problem, p.url),
                    failure: p.is_error().then(|| {
                        let linked: Vec<&str> =
                            p.linked_from.iter().map(|l| l.url.as_str()).collect();
                        (
                            p.problem.clone(),
                            p.description.clone(),
                            format!("{}\nLinked from: {}", p.description, linked.join(", ")),
                        )
                    }),
                    note: None,
                });
            }
        }
    }
    let total: usize = suites.values().map(Vec::len).sum();
    let failures: usize = suites
        .values()
        .flatten()
        .filter(|c| c.failure.is_some())
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        r#"<testsuites name="siteaudit {}" tests="{total}" failures="{failures}" errors="0">"#,
        escape(&r.crawl.start_url)
    );
    for ((number, name), cases) in &suites {
        let failed = cases.iter().filter(|c| c.failure.is_some()).count();
        let title = if *number == 0 {
            name.clone()
        } else {
            format!("{number:02} {name}")
        };
        let _ = writeln!(
            xml,
            r#"  <testsuite name="{}" tests="{}" failures="{failed}" errors="0" skipped="0">"#,
            escape(&title),
            cases.len()
        );
        for c in cases {
            case_xml(c, &mut xml);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())?;
    Ok(())
}
