//! Category 12: page titles. Lengths are counted in characters (60 / 30, the
//! catalogue's character mode); pixel widths need a font-metric table we do not ship yet.

use serde_json::json;

use super::on_html as html;
use super::{Check, CheckInfo, DuplicateCheck, Evidence, PageView, normalized_eq};
use crate::model::{PageFacts, Severity};

/// Generic titles that describe no page.
const PLACEHOLDERS: &[&str] = &[
    "home",
    "untitled",
    "untitled document",
    "new page",
    "page",
    "document",
    "index",
    "welcome",
    "default",
    "title",
];

pub(super) fn title(f: &PageFacts) -> Option<&str> {
    f.titles
        .first()
        .map(String::as_str)
        .filter(|t| !t.trim().is_empty())
}

/// Fires with the title's evidence when `pred` holds for it.
fn with_title(p: &PageView<'_>, pred: impl FnOnce(&str) -> bool) -> Evidence {
    html(p, |f| {
        let t = title(f)?;
        pred(t).then(|| json!({ "title": t, "chars": t.chars().count() }))
    })
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "title-missing",
            12,
            Error,
            "Page without a title",
            "The title is the headline of the search result; without one, search engines make one up.",
            "Add a unique, descriptive <title> to the page's <head>.",
            |p| html(p, |f| title(f)
                .is_none()
                .then(|| json!({ "titles": f.titles.len() }))),
        ),
        page_check!(
            "title-multiple",
            12,
            Warning,
            "More than one title element",
            "Search engines and browsers pick one; it may not be the one you meant.",
            "Keep one <title> in <head>.",
            |p| html(p, |f| (f.titles.len() > 1)
                .then(|| json!({ "titles": f.titles }))),
        ),
        page_check!(
            "title-outside-head",
            12,
            Error,
            "Title outside <head>",
            "A <title> in the body is ignored by browsers and may be by search engines.",
            "Move the <title> into <head>, before any body content.",
            |p| html(p, |f| f
                .title_in_body
                .then(|| json!({ "titles": f.titles }))),
        ),
        page_check!(
            "title-too-long",
            12,
            Notice,
            "Title longer than 60 characters",
            "Long titles are cut off in search results.",
            "Put the important words first and shorten the title.",
            |p| with_title(p, |t| t.chars().count() > p.limits.title_max_chars),
        ),
        page_check!(
            "title-too-short",
            12,
            Notice,
            "Title shorter than 30 characters",
            "A short title misses the chance to describe the page.",
            "Describe the page's content in the title.",
            |p| with_title(p, |t| t.chars().count() < p.limits.title_min_chars),
        ),
        Box::new(DuplicateCheck {
            info: CheckInfo {
                id: "title-duplicate",
                category: 12,
                severity: Severity::Warning,
                title: "Title shared with other pages",
                why: "Search engines cannot tell the pages apart by their titles.",
                fix: "Give each indexable page its own title.",
            },
            key: 0,
        }),
        page_check!(
            "title-same-as-h1",
            12,
            Notice,
            "Title identical to the H1",
            "Title and H1 can each say something different about the page.",
            "Consider varying the title and the main heading.",
            |p| html(p, |f| {
                let t = title(f)?;
                let h1 = f.headings.iter().find(|h| h.level == 1)?;
                normalized_eq(t, &h1.text).then(|| json!({ "title": t }))
            }),
        ),
        page_check!(
            "title-same-as-description",
            12,
            Notice,
            "Title identical to the meta description",
            "The description adds nothing to the search result.",
            "Write a description that summarises the page.",
            |p| html(p, |f| {
                let t = title(f)?;
                let d = f.descriptions.first()?;
                normalized_eq(t, d).then(|| json!({ "title": t }))
            }),
        ),
        page_check!(
            "title-placeholder",
            12,
            Warning,
            "Placeholder title",
            "\"Home\" or \"Untitled\" describes no page.",
            "Write a title that names the page's content.",
            |p| with_title(p, |t| PLACEHOLDERS.iter().any(|p| normalized_eq(t, p))),
        ),
        page_check!(
            "title-keyword-repetition",
            12,
            Notice,
            "A word repeated three or more times in the title",
            "Repetition looks like keyword stuffing.",
            "Say it once.",
            |p| html(p, |f| {
                let t = title(f)?;
                let words: Vec<&str> = t
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.chars().count() >= 3)
                    .collect();
                // No word can be there three times: most titles stop here.
                if words.len() < 3 {
                    return None;
                }
                let (word, n) = most_repeated(&words)?;
                Some(json!({ "title": t, "word": word, "count": n }))
            }),
        ),
        page_check!(
            "title-markup-noise",
            12,
            Notice,
            "Markup or template leftovers in the title",
            "Tags, escaped entities or template markers show up as-is in search results.",
            "Fix the template that builds the title.",
            |p| with_title(p, |t| {
                let tag = t.char_indices().any(|(i, c)| {
                    c == '<'
                        && t[i + 1..].starts_with(|n: char| n.is_ascii_alphabetic() || n == '/')
                });
                tag || ["&amp;", "&lt;", "&gt;", "&quot;", "&#", "{{", "${", "%s"]
                    .iter()
                    .any(|m| t.contains(m))
            }),
        ),
    ]
}

/// The word of `words` (compared lower-cased) most often there, three times at least;
/// of words there equally often, the first. A title has a handful of words: they are
/// compared pairwise, not hashed.
fn most_repeated(words: &[&str]) -> Option<(String, u32)> {
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut best: Option<(usize, u32)> = None;
    for (i, w) in lower.iter().enumerate() {
        // Each word counted at its first appearance.
        if lower[..i].contains(w) {
            continue;
        }
        let n = lower[i..].iter().filter(|o| *o == w).count() as u32;
        if n >= 3 && best.is_none_or(|(_, most)| n > most) {
            best = Some((i, n));
        }
    }
    best.map(|(i, n)| (lower[i].clone(), n))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::most_repeated;
    use crate::checks::test_support::TestSite;

    fn page(t: TestSite, path: &str, facts: serde_json::Value) -> TestSite {
        t.page(path, Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&facts)))
        })
    }

    /// The most repeated word, lower-cased, three times at least; ties go to the first.
    #[test]
    fn most_repeated_word() {
        assert_eq!(
            most_repeated(&["Shoes", "shoes", "SHOES", "for"]),
            Some(("shoes".into(), 3))
        );
        assert_eq!(most_repeated(&["red", "Red", "blue", "BLUE"]), None);
        assert_eq!(
            most_repeated(&["big", "cat", "Cat", "BIG", "cat", "big"]),
            Some(("big".into(), 3))
        );
        assert_eq!(
            most_repeated(&[
                "one", "two", "TWO", "one", "two", "ÉTÉ", "été", "Été", "été"
            ]),
            Some(("été".into(), 4))
        );
        assert_eq!(most_repeated(&[]), None);
    }

    #[test]
    fn title_checks() {
        let good = "A perfectly reasonable page title, well sized";
        let mut t = TestSite::new();
        t = page(
            t,
            "/good",
            json!({ "titles": [good], "descriptions": ["Other words entirely"], "headings": [{ "level": 1, "text": "Welcome aboard" }] }),
        );
        t = page(t, "/none", json!({ "titles": [] }));
        t = page(t, "/blank", json!({ "titles": ["   "] }));
        t = page(
            t,
            "/two",
            json!({ "titles": ["First title of a page, long enough", "Second"] }),
        );
        t = page(
            t,
            "/body",
            json!({ "titles": ["Title that sits in the body of page"], "title_in_body": true }),
        );
        t = page(t, "/long", json!({ "titles": ["x".repeat(61)] }));
        t = page(t, "/short", json!({ "titles": ["Short"] }));
        t = page(
            t,
            "/dup1",
            json!({ "titles": ["Shared title between two pages here"] }),
        );
        t = page(
            t,
            "/dup2",
            json!({ "titles": ["shared  title between two pages HERE"] }),
        );
        t = page(
            t,
            "/h1",
            json!({ "titles": ["Same as the heading of this page"], "headings": [{ "level": 1, "text": "same as the heading of this page" }] }),
        );
        t = page(
            t,
            "/desc",
            json!({ "titles": ["Same as the description of the page"], "descriptions": ["Same as the description of the page"] }),
        );
        t = page(t, "/home", json!({ "titles": ["Home"] }));
        t = page(
            t,
            "/rep",
            json!({ "titles": ["Shoes shoes SHOES for everyone to wear"] }),
        );
        t = page(
            t,
            "/tpl",
            json!({ "titles": ["Product {{ name }} at the best price"] }),
        );
        // Not an HTML page: no title checks.
        t = t.page("/file.pdf", Some(200), None, |r| {
            r.content_type = Some("application/pdf".into())
        });
        assert_eq!(t.fired("title-missing"), ["/none", "/blank"]);
        assert_eq!(t.fired("title-multiple"), ["/two"]);
        assert_eq!(t.fired("title-outside-head"), ["/body"]);
        assert_eq!(t.fired("title-too-long"), ["/long"]);
        assert_eq!(t.fired("title-too-short"), ["/short", "/home"]);
        let mut dup = t.fired("title-duplicate");
        dup.sort();
        assert_eq!(dup, ["/dup1", "/dup2"]);
        assert_eq!(t.fired("title-same-as-h1"), ["/h1"]);
        assert_eq!(t.fired("title-same-as-description"), ["/desc"]);
        assert_eq!(t.fired("title-placeholder"), ["/home"]);
        assert_eq!(t.fired("title-keyword-repetition"), ["/rep"]);
        assert_eq!(t.fired("title-markup-noise"), ["/tpl"]);
    }

    /// A non-indexable page neither makes a duplicate nor is one, even when indexable
    /// pages share its title; the others name each other and the normalized title.
    #[test]
    fn duplicates_ignore_non_indexable_pages() {
        let mut t = TestSite::new();
        t = page(
            t,
            "/a",
            json!({ "titles": ["Shared title between two pages here"] }),
        );
        t = page(
            t,
            "/b",
            json!({ "titles": ["Shared title between two pages here"], "meta_robots": ["noindex"] }),
        );
        assert!(t.fired("title-duplicate").is_empty());
        t = page(
            t,
            "/c",
            json!({ "titles": ["  shared TITLE between two pages here"] }),
        );
        let found = t.findings("title-duplicate");
        let urls: Vec<_> = found.iter().map(|f| f.url.as_deref().unwrap()).collect();
        assert_eq!(urls, ["http://site.example/a", "http://site.example/c"]);
        assert_eq!(
            found[0].details,
            json!({ "value": "shared title between two pages here", "shared_with": ["http://site.example/c"], "pages": 2 })
        );
    }
}
