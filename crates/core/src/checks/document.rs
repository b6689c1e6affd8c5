//! Category 29: HTML document structure, from the token stream as written.

use serde_json::json;

use super::{Check, Evidence, PageView};
use crate::model::{Severity, Structure};

/// `<meta charset>` later than this many bytes.
const CHARSET_WITHIN: u64 = 1024;

fn structure(
    p: &PageView<'_>,
    eval: impl FnOnce(&Structure) -> Option<serde_json::Value>,
) -> Evidence {
    p.html().and_then(|f| eval(&f.structure)).map(|v| (None, v))
}

fn check(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&PageView<'_>) -> Evidence,
) -> Box<dyn Check> {
    super::page(id, 29, severity, text, eval)
}

fn same_encoding(a: &str, b: &str) -> bool {
    let label = |x: &str| {
        encoding_rs::Encoding::for_label(x.trim().as_bytes()).map(encoding_rs::Encoding::name)
    };
    match (label(a), label(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        check(
            "doctype-missing",
            Severity::Warning,
            [
                "No <!DOCTYPE html>",
                "Browsers render the page in quirks mode.",
                "Start the document with <!DOCTYPE html>.",
            ],
            |p| structure(p, |s| (!s.doctype).then(|| json!({}))),
        ),
        check(
            "charset-missing",
            Severity::Warning,
            [
                "No character encoding declared",
                "Clients must guess the encoding; text can come out garbled.",
                "Send charset=utf-8 in Content-Type, or <meta charset=\"utf-8\"> first in <head>.",
            ],
            |p| structure(p, |s| (s.charset_source == "none").then(|| json!({}))),
        ),
        check(
            "charset-late",
            Severity::Notice,
            [
                "<meta charset> after the first 1,024 bytes",
                "Browsers may start parsing with the wrong encoding.",
                "Put <meta charset> first in <head>.",
            ],
            |p| {
                structure(p, |s| {
                    let off = s.meta_charset_offset.filter(|_| s.meta_charset.is_some())?;
                    (off > CHARSET_WITHIN).then(|| json!({ "after_bytes": off }))
                })
            },
        ),
        check(
            "charset-conflict",
            Severity::Warning,
            [
                "Header and <meta> declare different encodings",
                "The header wins; the page may be decoded wrongly.",
                "Declare the same encoding in both (utf-8).",
            ],
            |p| {
                structure(p, |s| {
                    let (h, m) = (s.header_charset.as_deref()?, s.meta_charset.as_deref()?);
                    (!same_encoding(h, m)).then(|| json!({ "header": h, "meta": m }))
                })
            },
        ),
        check(
            "head-invalid-element",
            Severity::Error,
            [
                "An element that does not belong in <head> ends it early",
                "Everything after it (title, metas, canonical, hreflang) is parsed as body and may be ignored.",
                "Move the element into <body> (tag-manager iframes and divs are the usual cause).",
            ],
            |p| {
                structure(p, |s| {
                    s.head_invalid_element
                        .as_ref()
                        .map(|e| json!({ "element": e }))
                })
            },
        ),
        check(
            "head-not-first",
            Severity::Warning,
            [
                "<head> is not the first element in <html>",
                "Content before <head> starts the body early.",
                "Make <head> the first child of <html>.",
            ],
            |p| {
                structure(p, |s| {
                    let first = s.first_in_html.as_deref()?;
                    (first != "head").then(|| json!({ "first": first }))
                })
            },
        ),
        check(
            "html-skeleton-missing",
            Severity::Notice,
            [
                "No <head> or <body> tag",
                "Parsers invent them, sometimes not where you expect.",
                "Write <head> and <body> explicitly.",
            ],
            |p| {
                structure(p, |s| {
                    (s.head_tags == 0 || s.body_tags == 0)
                        .then(|| json!({ "head": s.head_tags, "body": s.body_tags }))
                })
            },
        ),
        check(
            "html-skeleton-duplicated",
            Severity::Warning,
            [
                "More than one <html>, <head> or <body> tag",
                "Usually templates nested in templates; the extra tags are dropped or misplace content.",
                "Keep one of each.",
            ],
            |p| {
                structure(p, |s| {
                    (s.html_tags > 1 || s.head_tags > 1 || s.body_tags > 1).then(
                        || json!({ "html": s.html_tags, "head": s.head_tags, "body": s.body_tags }),
                    )
                })
            },
        ),
        check(
            "body-before-html",
            Severity::Warning,
            [
                "<body> before <html>",
                "The intended head content is treated as body.",
                "Fix the template's tag order.",
            ],
            |p| structure(p, |s| s.body_before_html.then(|| json!({}))),
        ),
        check(
            "base-href-invalid",
            Severity::Warning,
            [
                "Invalid or conflicting <base href>",
                "Every relative link on the page resolves against it.",
                "Use one <base> with an absolute http(s) URL, or none.",
            ],
            |p| {
                structure(p, |s| {
                    let page = p.url()?;
                    let bad = s.bases.iter().any(|b| {
                        b.trim().is_empty()
                            || page
                                .join(b)
                                .map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
                    });
                    let mut distinct = s.bases.clone();
                    distinct.sort();
                    distinct.dedup();
                    (bad || distinct.len() > 1).then(|| json!({ "bases": s.bases }))
                })
            },
        ),
        check(
            "frames-used",
            Severity::Warning,
            [
                "Frames (<frameset>/<frame>)",
                "Framed content is indexed apart from the page and breaks navigation.",
                "Replace frames with a normal page layout.",
            ],
            |p| structure(p, |s| (s.frames > 0).then(|| json!({ "frames": s.frames }))),
        ),
        check(
            "nested-anchor",
            Severity::Notice,
            [
                "Link inside another link",
                "Parsers split nested links, changing their text and targets.",
                "Do not put <a> inside <a>.",
            ],
            |p| {
                structure(p, |s| {
                    (s.nested_anchors > 0).then(|| json!({ "nested": s.nested_anchors }))
                })
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn good() -> serde_json::Value {
        json!({ "doctype": true, "html_tags": 1, "head_tags": 1, "body_tags": 1, "first_in_html": "head", "charset_source": "meta", "meta_charset": "utf-8", "meta_charset_offset": 0 })
    }

    #[test]
    fn structure_checks() {
        let mut t = TestSite::new();
        let cases: Vec<(&str, serde_json::Value)> = vec![
            ("/good", json!({})),
            ("/nodoctype", json!({ "doctype": false })),
            (
                "/nocharset",
                json!({ "charset_source": "none", "meta_charset": null }),
            ),
            ("/late", json!({ "meta_charset_offset": 4096 })),
            (
                "/conflict",
                json!({ "charset_source": "header", "header_charset": "windows-1252" }),
            ),
            ("/headbreak", json!({ "head_invalid_element": "iframe" })),
            ("/first", json!({ "first_in_html": "div" })),
            ("/nohead", json!({ "head_tags": 0 })),
            ("/dup", json!({ "body_tags": 2 })),
            ("/bodyfirst", json!({ "body_before_html": true })),
            ("/base", json!({ "bases": [""] })),
            ("/frames", json!({ "frames": 2 })),
            ("/nested", json!({ "nested_anchors": 1 })),
        ];
        for (path, over) in cases {
            let mut s = good();
            s.as_object_mut()
                .unwrap()
                .extend(over.as_object().unwrap().clone());
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&json!({ "structure": s }))))
            });
        }
        for (id, path) in [
            ("doctype-missing", "/nodoctype"),
            ("charset-missing", "/nocharset"),
            ("charset-late", "/late"),
            ("charset-conflict", "/conflict"),
            ("head-invalid-element", "/headbreak"),
            ("head-not-first", "/first"),
            ("html-skeleton-missing", "/nohead"),
            ("html-skeleton-duplicated", "/dup"),
            ("body-before-html", "/bodyfirst"),
            ("base-href-invalid", "/base"),
            ("frames-used", "/frames"),
            ("nested-anchor", "/nested"),
        ] {
            assert_eq!(t.fired(id), [path], "{id}");
        }
    }
}
