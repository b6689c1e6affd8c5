//! Category 13: meta descriptions, counted in characters (155 / 70).

use serde_json::json;

use super::on_html as html;
use super::{Check, CheckInfo, DuplicateCheck, Evidence, PageView};
use crate::model::{PageFacts, Severity};

pub(super) fn description(f: &PageFacts) -> Option<&str> {
    f.descriptions
        .first()
        .map(String::as_str)
        .filter(|d| !d.trim().is_empty())
}

fn length(p: &PageView<'_>, pred: impl Fn(usize) -> bool) -> Evidence {
    html(p, |f| {
        let d = description(f)?;
        let n = d.chars().count();
        pred(n).then(|| json!({ "description": d, "chars": n }))
    })
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "description-missing",
            13,
            Warning,
            "Indexable page without a meta description",
            "Search engines write their own snippet, often a poor one.",
            "Add a <meta name=\"description\"> that summarises the page.",
            |p| {
                if p.non_indexable_reason().is_some() {
                    return None;
                }
                html(p, |f| {
                    description(f)
                        .is_none()
                        .then(|| json!({ "descriptions": f.descriptions.len() }))
                })
            },
        ),
        page_check!(
            "description-multiple",
            13,
            Warning,
            "More than one meta description",
            "Search engines may pick either, or ignore both.",
            "Keep one description meta element.",
            |p| html(p, |f| (f.descriptions.len() > 1)
                .then(|| json!({ "descriptions": f.descriptions }))),
        ),
        page_check!(
            "description-outside-head",
            13,
            Warning,
            "Meta description outside <head>",
            "Meta elements in the body are ignored.",
            "Move the description meta into <head>.",
            |p| html(p, |f| f
                .description_in_body
                .then(|| json!({ "descriptions": f.descriptions }))),
        ),
        page_check!(
            "description-too-long",
            13,
            Notice,
            "Meta description longer than 155 characters",
            "The end is cut off in search results.",
            "Shorten it, with the key message first.",
            |p| length(p, |n| n > p.limits.description_max_chars),
        ),
        page_check!(
            "description-too-short",
            13,
            Notice,
            "Meta description shorter than 70 characters",
            "A short description wastes room in the search result.",
            "Summarise the page in one or two sentences.",
            |p| length(p, |n| n < p.limits.description_min_chars),
        ),
        Box::new(DuplicateCheck {
            info: CheckInfo {
                id: "description-duplicate",
                category: 13,
                severity: Severity::Warning,
                title: "Meta description shared with other pages",
                why: "Identical snippets make different pages look the same in results.",
                fix: "Write a description for each indexable page.",
            },
            key: 1,
        }),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    #[test]
    fn description_checks() {
        let good =
            "A description that is long enough to be useful and short enough to fit in results.";
        let dup =
            "The same description on two different pages, long enough to pass the length check.";
        let mut t = TestSite::new();
        for (path, facts) in [
            ("/good", json!({ "descriptions": [good] })),
            ("/none", json!({ "descriptions": [] })),
            (
                "/noindex",
                json!({ "descriptions": [], "meta_robots": ["noindex"] }),
            ),
            (
                "/two",
                json!({ "descriptions": ["A second page with its own description, long enough to pass the check.", "another"] }),
            ),
            (
                "/body",
                json!({ "descriptions": [format!("{good} body")], "description_in_body": true }),
            ),
            ("/long", json!({ "descriptions": ["x".repeat(156)] })),
            ("/dup1", json!({ "descriptions": [dup] })),
            ("/dup2", json!({ "descriptions": [dup] })),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&facts)))
            });
        }
        assert_eq!(t.fired("description-missing"), ["/none"]);
        assert_eq!(t.fired("description-multiple"), ["/two"]);
        assert_eq!(t.fired("description-outside-head"), ["/body"]);
        assert_eq!(t.fired("description-too-long"), ["/long"]);
        assert!(t.fired("description-too-short").is_empty());
        let t = t.page("/short", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "descriptions": ["Too short."] }),
            )))
        });
        assert_eq!(t.fired("description-too-short"), ["/short"]);
        let mut d = t.fired("description-duplicate");
        d.sort();
        assert_eq!(d, ["/dup1", "/dup2"]);
    }
}
