//! Category 14: headings, from the outline the extractor records.

use serde_json::json;

use super::on_html as html;
use super::{Check, CheckInfo, DuplicateCheck};
use crate::model::{PageFacts, Severity};

pub(super) fn first_h1(f: &PageFacts) -> Option<&str> {
    f.headings
        .iter()
        .find(|h| h.level == 1 && !h.text.trim().is_empty())
        .map(|h| h.text.as_str())
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "h1-missing",
            14,
            Warning,
            "Page without an H1",
            "The main heading tells visitors and search engines what the page is about.",
            "Add one <h1> that names the page's topic.",
            |p| html(p, |f| first_h1(f)
                .is_none()
                .then(|| json!({ "headings": f.headings.len() }))),
        ),
        page_check!(
            "h1-multiple",
            14,
            Notice,
            "More than one H1",
            "Valid HTML, but the page's main topic is less clear.",
            "Keep one <h1>; use <h2> for sections.",
            |p| html(p, |f| {
                let h1s: Vec<&str> = f
                    .headings
                    .iter()
                    .filter(|h| h.level == 1)
                    .map(|h| h.text.as_str())
                    .collect();
                (h1s.len() > 1).then(|| json!({ "h1": h1s }))
            }),
        ),
        Box::new(DuplicateCheck {
            info: CheckInfo {
                id: "h1-duplicate",
                category: 14,
                severity: Severity::Notice,
                title: "H1 shared with other pages",
                why: "Pages with the same main heading compete for the same topic.",
                fix: "Give each page a heading that says what is different about it.",
            },
            key: 2,
        }),
        page_check!(
            "h1-too-long",
            14,
            Notice,
            "H1 longer than 70 characters",
            "A long main heading is hard to scan.",
            "Shorten the heading; move detail to the text.",
            |p| html(p, |f| {
                let h = first_h1(f)?;
                let n = h.chars().count();
                (n > p.limits.h1_max_chars).then(|| json!({ "h1": h, "chars": n }))
            }),
        ),
        page_check!(
            "h1-image-alt-only",
            14,
            Notice,
            "H1 made of an image only",
            "The heading's text exists only as image alt text.",
            "Put the heading in text (an image may stay beside it).",
            |p| html(p, |f| {
                let h = f.headings.iter().find(|h| h.level == 1)?;
                h.alt_only.then(|| json!({ "alt": h.text }))
            }),
        ),
        page_check!(
            "heading-level-skipped",
            14,
            Notice,
            "Heading levels skipped",
            "Screen reader users navigate by heading levels; gaps break the outline.",
            "Nest headings in order: h1, then h2, then h3.",
            |p| html(p, |f| {
                let first = f.headings.first()?;
                if first.level != 1 {
                    return Some(json!({ "first": format!("h{}", first.level) }));
                }
                let jump = f
                    .headings
                    .windows(2)
                    .find(|w| w[1].level > w[0].level + 1)?;
                Some(
                    json!({ "from": format!("h{}", jump[0].level), "to": format!("h{}", jump[1].level), "text": jump[1].text }),
                )
            }),
        ),
        page_check!(
            "heading-empty",
            14,
            Notice,
            "Empty heading",
            "An empty heading is announced by screen readers as a heading with no name.",
            "Remove the empty heading or give it text.",
            |p| html(p, |f| {
                let empty: Vec<String> = f
                    .headings
                    .iter()
                    .filter(|h| h.text.trim().is_empty())
                    .map(|h| format!("h{}", h.level))
                    .collect();
                (!empty.is_empty()).then(|| json!({ "empty": empty }))
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn h(level: u8, text: &str) -> serde_json::Value {
        json!({ "level": level, "text": text })
    }

    #[test]
    fn heading_checks() {
        let mut t = TestSite::new();
        for (path, headings) in [
            (
                "/good",
                json!([
                    h(1, "Fine page"),
                    h(2, "Part"),
                    h(3, "Detail"),
                    h(2, "Next")
                ]),
            ),
            ("/none", json!([h(2, "Only a section")])),
            ("/two", json!([h(1, "One heading"), h(1, "Two heading")])),
            ("/long", json!([h(1, &"y".repeat(71))])),
            (
                "/img",
                json!([{ "level": 1, "text": "Logo", "alt_only": true }]),
            ),
            ("/skip", json!([h(1, "Top A"), h(3, "Too deep")])),
            ("/empty", json!([h(1, "Top B"), h(2, "")])),
            ("/d1", json!([h(1, "Same heading")])),
            ("/d2", json!([h(1, "same   HEADING")])),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &json!({ "headings": headings }),
                )))
            });
        }
        assert_eq!(t.fired("h1-missing"), ["/none"]);
        assert_eq!(t.fired("h1-multiple"), ["/two"]);
        assert_eq!(t.fired("h1-too-long"), ["/long"]);
        assert_eq!(t.fired("h1-image-alt-only"), ["/img"]);
        assert_eq!(t.fired("heading-level-skipped"), ["/none", "/skip"]);
        assert_eq!(t.fired("heading-empty"), ["/empty"]);
        let mut d = t.fired("h1-duplicate");
        d.sort();
        assert_eq!(d, ["/d1", "/d2"]);
    }
}
