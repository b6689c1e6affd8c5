//! Categories 23 (accessibility basics a static pass can see), 24 (structured data:
//! JSON-LD syntax and context, microdata shape, presence) and the DOM-size and
//! inline-script checks of 21.

use serde_json::json;

use super::Check;
use super::on_html as html;
use super::page as check;
use crate::model::Severity;

/// A JSON-LD block parsed: `Ok(value)` or the parser's error. HTML comment wrappers
/// (`<!-- … -->`) and surrounding whitespace are ignored.
fn parse_block(raw: &str) -> Result<serde_json::Value, String> {
    let t = raw.trim();
    let t = t
        .strip_prefix("<!--")
        .and_then(|x| x.strip_suffix("-->"))
        .unwrap_or(t)
        .trim();
    serde_json::from_str(t).map_err(|e| e.to_string())
}

/// Whether a JSON-LD node (or every node of a graph/array) names a schema.org context.
fn has_context(v: &serde_json::Value) -> bool {
    let own = match v.get("@context") {
        Some(serde_json::Value::String(c)) => c.contains("schema.org"),
        Some(serde_json::Value::Object(_) | serde_json::Value::Array(_)) => true,
        _ => false,
    };
    match (v, v.get("@graph")) {
        (serde_json::Value::Array(items), _) => items.iter().all(has_context),
        (_, Some(serde_json::Value::Array(g))) => own || g.iter().all(has_context),
        _ => own,
    }
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        check(
            "dom-too-large",
            21,
            Severity::Warning,
            [
                "More than 1,500 elements",
                "Large documents are slow to parse, style and update.",
                "Simplify the markup; paginate or lazy-render long lists.",
            ],
            |p| {
                html(p, |f| {
                    (f.elements > p.limits.max_elements).then(|| json!({ "elements": f.elements }))
                })
            },
        ),
        check(
            "inline-script-heavy",
            21,
            Severity::Notice,
            [
                "Over 100 KB of inline script",
                "Inline state blobs and scripts cannot be cached and delay parsing.",
                "Move scripts to cacheable files; trim hydration data.",
            ],
            |p| {
                html(p, |f| {
                    (f.inline_script_bytes > p.limits.inline_script_max_bytes)
                        .then(|| json!({ "bytes": f.inline_script_bytes }))
                })
            },
        ),
        check(
            "form-field-no-label",
            23,
            Severity::Warning,
            [
                "Form field without a label",
                "Screen reader users do not know what to enter.",
                "Add a <label for> (or aria-label) to every field.",
            ],
            |p| {
                html(p, |f| {
                    (!f.a11y.unlabelled_controls.is_empty())
                        .then(|| json!({ "fields": f.a11y.unlabelled_controls }))
                })
            },
        ),
        check(
            "input-image-no-alt",
            23,
            Severity::Warning,
            [
                "Image button without alt",
                "The button has no name for assistive technology.",
                "Add alt text describing the action.",
            ],
            |p| {
                html(p, |f| {
                    (f.a11y.input_images_no_alt > 0)
                        .then(|| json!({ "count": f.a11y.input_images_no_alt }))
                })
            },
        ),
        check(
            "iframe-no-title",
            23,
            Severity::Notice,
            [
                "Frame without a title",
                "Screen readers cannot say what the frame contains.",
                "Add a title attribute to every iframe.",
            ],
            |p| {
                html(p, |f| {
                    (f.a11y.frames_no_title > 0).then(|| json!({ "count": f.a11y.frames_no_title }))
                })
            },
        ),
        check(
            "duplicate-id",
            23,
            Severity::Notice,
            [
                "Duplicate id values",
                "Labels, ARIA references and fragment links point at the wrong element.",
                "Make every id unique.",
            ],
            |p| {
                html(p, |f| {
                    (!f.a11y.duplicate_ids.is_empty())
                        .then(|| json!({ "ids": f.a11y.duplicate_ids }))
                })
            },
        ),
        check(
            "aria-hidden-body",
            23,
            Severity::Error,
            [
                "The whole page is hidden from assistive technology",
                "aria-hidden=\"true\" on <body> hides everything from screen readers.",
                "Remove aria-hidden from <body>.",
            ],
            |p| html(p, |f| f.a11y.aria_hidden_body.then(|| json!({}))),
        ),
        check(
            "tabindex-positive",
            23,
            Severity::Notice,
            [
                "Positive tabindex",
                "It overrides the natural focus order and confuses keyboard users.",
                "Use tabindex=\"0\" or \"-1\" only.",
            ],
            |p| {
                html(p, |f| {
                    (f.a11y.positive_tabindex > 0)
                        .then(|| json!({ "count": f.a11y.positive_tabindex }))
                })
            },
        ),
        check(
            "main-landmark-missing",
            23,
            Severity::Notice,
            [
                "No <main> landmark",
                "Assistive technology cannot jump to the main content.",
                "Wrap the main content in <main>.",
            ],
            |p| html(p, |f| (!f.a11y.main_landmark).then(|| json!({}))),
        ),
        check(
            "video-no-captions",
            23,
            Severity::Notice,
            [
                "Video without captions",
                "Deaf and hard-of-hearing visitors miss the audio.",
                "Add <track kind=\"captions\">.",
            ],
            |p| {
                html(p, |f| {
                    (f.a11y.videos_no_captions > 0)
                        .then(|| json!({ "videos": f.a11y.videos_no_captions }))
                })
            },
        ),
        check(
            "jsonld-parse-error",
            24,
            Severity::Error,
            [
                "Invalid JSON-LD",
                "Search engines ignore structured data they cannot parse.",
                "Fix the JSON (quotes, commas, escaping).",
            ],
            |p| {
                html(p, |f| {
                    let errors: Vec<String> = f
                        .json_ld
                        .iter()
                        .filter_map(|b| parse_block(b).err())
                        .collect();
                    (!errors.is_empty()).then(|| json!({ "errors": errors }))
                })
            },
        ),
        check(
            "jsonld-context-missing",
            24,
            Severity::Warning,
            [
                "JSON-LD without a schema.org @context",
                "Without a context the types and properties mean nothing.",
                "Add \"@context\": \"https://schema.org\".",
            ],
            |p| {
                html(p, |f| {
                    let missing = f
                        .json_ld
                        .iter()
                        .filter_map(|b| parse_block(b).ok())
                        .filter(|v| !has_context(v))
                        .count();
                    (missing > 0).then(|| json!({ "blocks": missing }))
                })
            },
        ),
        check(
            "microdata-invalid",
            24,
            Severity::Warning,
            [
                "Malformed microdata",
                "itemscope without itemtype, or a relative itemtype, is not understood.",
                "Give every itemscope an absolute schema.org itemtype.",
            ],
            |p| {
                html(p, |f| {
                    let [_, untyped, relative] = f.microdata;
                    (untyped + relative > 0).then(
                        || json!({ "without_itemtype": untyped, "relative_itemtype": relative }),
                    )
                })
            },
        ),
        check(
            "structured-data-missing",
            24,
            Severity::Notice,
            [
                "No structured data",
                "The page is not eligible for rich results.",
                "Describe the page with schema.org JSON-LD.",
            ],
            |p| {
                if p.non_indexable_reason().is_some() {
                    return None;
                }
                html(p, |f| {
                    (f.json_ld.is_empty() && f.microdata[0] == 0 && f.rdfa == 0).then(|| json!({}))
                })
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{has_context, parse_block};
    use crate::checks::test_support::TestSite;

    #[test]
    fn json_ld_parsing_and_context() {
        assert!(parse_block("<!-- {\"a\": 1} -->").is_ok());
        assert!(parse_block("{\"a\": }").is_err());
        assert!(has_context(
            &json!({ "@context": "https://schema.org", "@type": "Thing" })
        ));
        assert!(has_context(
            &json!({ "@context": "http://schema.org", "@graph": [{ "@type": "A" }] })
        ));
        assert!(!has_context(&json!({ "@type": "Thing" })));
        assert!(!has_context(
            &json!([{ "@context": "https://schema.org" }, { "@type": "B" }])
        ));
    }

    #[test]
    fn page_facts_checks() {
        let mut t = TestSite::new();
        let good = json!({ "elements": 100, "a11y": { "main_landmark": true }, "json_ld": ["{\"@context\":\"https://schema.org\",\"@type\":\"Thing\"}"] });
        for (path, facts) in [
            ("/good", good),
            (
                "/big",
                json!({ "elements": 2000, "a11y": { "main_landmark": true }, "rdfa": 1 }),
            ),
            (
                "/inline",
                json!({ "inline_script_bytes": 200_000, "a11y": { "main_landmark": true }, "rdfa": 1 }),
            ),
            (
                "/a11y",
                json!({ "a11y": { "unlabelled_controls": ["phone"], "input_images_no_alt": 1, "frames_no_title": 1, "duplicate_ids": ["x"], "aria_hidden_body": true, "positive_tabindex": 2, "videos_no_captions": 1 }, "rdfa": 1 }),
            ),
            (
                "/badld",
                json!({ "a11y": { "main_landmark": true }, "json_ld": ["{oops", "{\"@type\":\"Thing\"}"], "microdata": [2, 1, 0] }),
            ),
            ("/none", json!({ "a11y": { "main_landmark": true } })),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&facts)))
            });
        }
        for (id, paths) in [
            ("dom-too-large", vec!["/big"]),
            ("inline-script-heavy", vec!["/inline"]),
            ("form-field-no-label", vec!["/a11y"]),
            ("input-image-no-alt", vec!["/a11y"]),
            ("iframe-no-title", vec!["/a11y"]),
            ("duplicate-id", vec!["/a11y"]),
            ("aria-hidden-body", vec!["/a11y"]),
            ("tabindex-positive", vec!["/a11y"]),
            ("main-landmark-missing", vec!["/a11y"]),
            ("video-no-captions", vec!["/a11y"]),
            ("jsonld-parse-error", vec!["/badld"]),
            ("jsonld-context-missing", vec!["/badld"]),
            ("microdata-invalid", vec!["/badld"]),
            ("structured-data-missing", vec!["/none"]),
        ] {
            assert_eq!(t.fired(id), paths, "{id}");
        }
    }
}
