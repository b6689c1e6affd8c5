//! Category 15: content and duplication, from the main-text statistics the extractor
//! computes while streaming (exact hash of the normalized words, 64-bit SimHash).
//! Duplicates compare indexable pages only.

use std::collections::HashMap;

use serde_json::json;

use super::{Check, CheckInfo, SiteData};
use crate::model::{Finding, PageFacts, Severity};

/// Pages with fewer words are not compared for duplication.
const MIN_WORDS_COMPARED: u32 = 20;

const NOT_FOUND_PHRASES: &[&str] = &[
    "page not found",
    "404",
    "no longer available",
    "does not exist",
    "doesn't exist",
    "cannot be found",
    "can't be found",
    "nothing was found",
    "not be found",
];

/// Indexable internal HTML pages with enough text to compare: (url, facts).
fn comparable(site: &SiteData) -> Vec<(&str, &PageFacts)> {
    site.pages()
        .filter(|p| p.non_indexable_reason().is_none())
        .filter_map(|p| p.html().map(|f| (p.record.url.as_str(), f)))
        .filter(|(_, f)| f.text.words >= MIN_WORDS_COMPARED)
        .collect()
}

fn finding(info: &CheckInfo, url: &str, details: serde_json::Value) -> Finding {
    Finding {
        check_id: info.id,
        severity: info.severity,
        url: Some(url.to_string()),
        details,
    }
}

/// `duplicate-exact`: the same main text on several indexable pages.
struct Exact;

const EXACT: CheckInfo = CheckInfo {
    id: "duplicate-exact",
    category: 15,
    severity: Severity::Error,
    title: "Exact duplicate content",
    why: "Search engines index one of the copies and may pick the wrong one.",
    fix: "Keep one page, redirect the others to it, or canonicalise them to it.",
};

impl Check for Exact {
    fn info(&self) -> &CheckInfo {
        &EXACT
    }

    fn run(&self, site: &SiteData, out: &mut Vec<Finding>) {
        let mut groups: HashMap<&str, Vec<&str>> = HashMap::new();
        for (url, f) in comparable(site) {
            groups
                .entry(f.text.text_hash.as_str())
                .or_default()
                .push(url);
        }
        for urls in groups.values().filter(|u| u.len() > 1) {
            for u in urls {
                let others: Vec<&&str> = urls.iter().filter(|o| *o != u).take(10).collect();
                out.push(finding(
                    &EXACT,
                    u,
                    json!({ "duplicates": others, "pages": urls.len() }),
                ));
            }
        }
    }
}

/// `duplicate-near`: SimHash within 3 bits, exact duplicates excluded. Candidates come
/// from 4 bands of 16 bits: two hashes within 3 bits agree on at least one band.
struct Near;

const NEAR: CheckInfo = CheckInfo {
    id: "duplicate-near",
    category: 15,
    severity: Severity::Warning,
    title: "Near-duplicate content",
    why: "Pages that say almost the same thing compete with each other.",
    fix: "Merge them, make each distinct, or canonicalise to the main one.",
};

impl Check for Near {
    fn info(&self) -> &CheckInfo {
        &NEAR
    }

    fn run(&self, site: &SiteData, out: &mut Vec<Finding>) {
        let pages: Vec<(&str, u64, &str)> = comparable(site)
            .into_iter()
            .filter_map(|(u, f)| {
                Some((
                    u,
                    u64::from_str_radix(&f.text.simhash, 16).ok()?,
                    f.text.text_hash.as_str(),
                ))
            })
            .collect();
        let mut bands: HashMap<(u8, u16), Vec<usize>> = HashMap::new();
        for (i, (_, h, _)) in pages.iter().enumerate() {
            for b in 0..4u8 {
                bands
                    .entry((b, (h >> (16 * b)) as u16))
                    .or_default()
                    .push(i);
            }
        }
        // Per page: how many near duplicates, and the first few as evidence. A pair is
        // compared in the first band it shares only, so no pair is counted twice.
        let band = |h: u64, b: u8| (h >> (16 * b)) as u16;
        let mut similar: Vec<(usize, Vec<(usize, u32)>)> = vec![(0, Vec::new()); pages.len()];
        for ((b, _), members) in bands.iter().filter(|(_, m)| m.len() > 1) {
            for (x, &i) in members.iter().enumerate() {
                for &j in &members[x + 1..] {
                    let (hi, hj) = (pages[i].1, pages[j].1);
                    if (0..*b).any(|earlier| band(hi, earlier) == band(hj, earlier)) {
                        continue;
                    }
                    let d = (hi ^ hj).count_ones();
                    if d <= site.thresholds.near_distance && pages[i].2 != pages[j].2 {
                        for (a, other) in [(i, j), (j, i)] {
                            similar[a].0 += 1;
                            if similar[a].1.len() < 10 {
                                similar[a].1.push((other, d));
                            }
                        }
                    }
                }
            }
        }
        for (i, (count, others)) in similar.iter().enumerate().filter(|(_, s)| s.0 > 0) {
            let shown: Vec<serde_json::Value> = others
                .iter()
                .map(|(j, d)| json!({ "url": pages[*j].0, "similarity": format!("{:.0}%", 100.0 * f64::from(64 - d) / 64.0), "distance": d }))
                .collect();
            out.push(finding(
                &NEAR,
                pages[i].0,
                json!({ "similar": shown, "pages": count }),
            ));
        }
    }
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(Exact),
        Box::new(Near),
        page_check!(
            "thin-content",
            15,
            Warning,
            "Thin content (under 200 words)",
            "Pages with little text rank poorly and may be seen as low quality.",
            "Add useful content, or merge the page into a related one.",
            |p| {
                let f = p.html()?;
                (p.non_indexable_reason().is_none() && f.text.words < p.limits.thin_words)
                    .then(|| (None, json!({ "words": f.text.words })))
            },
        ),
        page_check!(
            "low-text-ratio",
            15,
            Notice,
            "Little text compared to HTML",
            "Visible text is 10% or less of the page's HTML: heavy markup, light content.",
            "Trim markup and inline scripts; add content.",
            |p| {
                let f = p.html()?;
                let html = p.record.body_bytes.filter(|b| *b > 0)?;
                let ratio = f.text.text_bytes as f64 / html as f64;
                (ratio <= p.limits.text_ratio).then(|| (None, json!({ "ratio": format!("{:.1}%", ratio * 100.0), "text_bytes": f.text.text_bytes, "html_bytes": html })))
            },
        ),
        page_check!(
            "soft-404",
            15,
            Error,
            "Soft 404: an error page answered 200",
            "Search engines index an error page as content, and the missing page is never reported missing.",
            "Answer 404 (or 410) for pages that do not exist.",
            |p| {
                let f = p.html()?;
                let title = f
                    .titles
                    .first()
                    .map(|t| t.to_lowercase())
                    .unwrap_or_default();
                let h1 = f
                    .headings
                    .iter()
                    .find(|h| h.level == 1)
                    .map(|h| h.text.to_lowercase())
                    .unwrap_or_default();
                let excerpt = f.text.excerpt.to_lowercase();
                let phrase = NOT_FOUND_PHRASES
                    .iter()
                    .find(|ph| title.contains(*ph) || h1.contains(*ph) || excerpt.contains(*ph))?;
                let weak = f.text.words < 100
                    || p.non_indexable_reason()
                        .is_some_and(|r| r.starts_with("noindex"));
                weak.then(|| (None, json!({ "phrase": phrase, "words": f.text.words, "title": f.titles.first() })))
            },
        ),
        page_check!(
            "lorem-ipsum",
            15,
            Warning,
            "Placeholder text (lorem ipsum)",
            "Unfinished content is live.",
            "Replace the placeholder text.",
            |p| p.html()?.text.lorem_ipsum.then(|| (None, json!({}))),
        ),
        page_check!(
            "template-placeholder-text",
            15,
            Warning,
            "Unrendered template markers in the text",
            "{{ }} or ${ } in visible text means a template failed to render.",
            "Fix the template or the data it renders.",
            |p| {
                let f = p.html()?;
                let stray = |t: &str| t.split_whitespace().any(|w| w == "undefined" || w == "NaN");
                let in_headings =
                    f.headings.iter().any(|h| stray(&h.text)) || f.titles.iter().any(|t| stray(t));
                (f.text.template_markers || in_headings).then(|| {
                    (
                        None,
                        json!({ "excerpt": f.text.excerpt.chars().take(120).collect::<String>() }),
                    )
                })
            },
        ),
        page_check!(
            "h2-missing",
            14,
            Notice,
            "Long page without an H2",
            "300+ words without sections are hard to scan.",
            "Break the text into sections with <h2> headings.",
            |p| {
                let f = p.html()?;
                let has_h2 = f
                    .headings
                    .iter()
                    .any(|h| h.level == 2 && !h.text.trim().is_empty());
                (f.text.words >= 300 && !has_h2).then(|| (None, json!({ "words": f.text.words })))
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn text(words: u32, hash: &str, simhash: &str) -> serde_json::Value {
        json!({ "text": { "words": words, "text_bytes": words * 6, "text_hash": hash, "simhash": simhash, "excerpt": "Some text" } })
    }

    #[test]
    fn duplicates() {
        let mut t = TestSite::new();
        for (path, facts) in [
            ("/a", text(500, "aaaa", "ffff0000ffff0000")),
            ("/a-copy", text(500, "aaaa", "ffff0000ffff0000")),
            ("/b", text(500, "bbbb", "0f0f0f0f0f0f0f0f")),
            ("/b-near", text(500, "cccc", "0f0f0f0f0f0f0f0e")),
            ("/other", text(500, "dddd", "123456789abcdef0")),
            ("/short", text(5, "aaaa", "")),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.facts = Some(crate::store::raw_json(&facts))
            });
        }
        let mut exact = t.fired("duplicate-exact");
        exact.sort();
        assert_eq!(exact, ["/a", "/a-copy"]);
        let mut near = t.fired("duplicate-near");
        near.sort();
        assert_eq!(near, ["/b", "/b-near"]);
    }

    #[test]
    fn text_quality() {
        let mut t = TestSite::new();
        for (path, facts) in [
            (
                "/full",
                json!({ "text": { "words": 400, "text_bytes": 2400, "excerpt": "Plenty" }, "headings": [{ "level": 2, "text": "Part" }] }),
            ),
            (
                "/thin",
                json!({ "text": { "words": 50, "text_bytes": 300, "excerpt": "A little" } }),
            ),
            (
                "/soft",
                json!({ "titles": ["Page not found"], "text": { "words": 12, "text_bytes": 80, "excerpt": "Sorry" } }),
            ),
            (
                "/lorem",
                json!({ "text": { "words": 300, "text_bytes": 1800, "lorem_ipsum": true } }),
            ),
            (
                "/tpl",
                json!({ "text": { "words": 300, "text_bytes": 1800, "template_markers": true } }),
            ),
            (
                "/undef",
                json!({ "headings": [{ "level": 1, "text": "Price undefined" }], "text": { "words": 300, "text_bytes": 1800 } }),
            ),
            (
                "/noh2",
                json!({ "text": { "words": 350, "text_bytes": 2100 } }),
            ),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.facts = Some(crate::store::raw_json(&facts));
                r.body_bytes = Some(4000);
            });
        }
        assert_eq!(t.fired("thin-content"), ["/thin", "/soft"]);
        assert_eq!(t.fired("low-text-ratio"), ["/thin", "/soft"]);
        assert_eq!(t.fired("soft-404"), ["/soft"]);
        assert_eq!(t.fired("lorem-ipsum"), ["/lorem"]);
        assert_eq!(t.fired("template-placeholder-text"), ["/tpl", "/undef"]);
        assert_eq!(t.fired("h2-missing"), ["/lorem", "/tpl", "/undef", "/noh2"]);
    }
}
