//! Category 15: content and duplication, from the main-text statistics the extractor
//! computes while streaming (exact hash of the normalized words, 64-bit SimHash).
//! Duplicates compare indexable pages only.

use std::collections::HashMap;

use serde_json::json;
use serde_json::value::RawValue;

use rustc_hash::FxHashMap;

use super::{Check, CheckInfo, SiteData};
use crate::model::{Finding, Severity};

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

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        // Pages by text (stable: in crawl order within a text), then the texts on more
        // than one page: 8 bytes a page, where a list per text cost a list header and an
        // allocation for each. A text's number is the position of its first page
        // (SiteData::texts), so in text order the groups are in the order of their
        // first page.
        let mut by_text: Vec<(u32, u32)> = site.texts().iter().map(|t| (t.text, t.pos)).collect();
        let groups = super::data::shared_runs(&mut by_text).map(|run| {
            run.iter()
                .map(|&(_, pos)| site.url_at(pos))
                .collect::<Vec<_>>()
        });
        for urls in groups {
            for u in &urls {
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

/// `duplicate-near`: SimHash within 3 bits, exact duplicates excluded.
///
/// Pages are grouped by identical SimHash first (templated sites have thousands of pages
/// per hash), and only distinct hashes are compared: candidates come from 4 bands of 16
/// bits, since two hashes within 3 bits agree on at least one band. Without the grouping
/// a site of near-identical pages costs a comparison per pair of pages.
struct Near;

const NEAR: CheckInfo = CheckInfo {
    id: "duplicate-near",
    category: 15,
    severity: Severity::Warning,
    title: "Near-duplicate content",
    why: "Pages that say almost the same thing compete with each other.",
    fix: "Merge them, make each distinct, or canonicalise to the main one.",
};

/// `duplicate-near`'s details: serialized straight from these, with the keys in the
/// order `json!` writes them (sorted), rather than built as JSON values first (~30,000
/// instructions for each distinct evidence, of which a templated site has thousands).
#[derive(serde::Serialize)]
struct NearDetails<'a> {
    pages: usize,
    similar: Vec<Similar<'a>>,
}

/// One of the pages [`NearDetails`] shows.
#[derive(serde::Serialize)]
struct Similar<'a> {
    distance: u32,
    similarity: &'a str,
    url: &'a str,
}

/// Pages sharing one SimHash.
struct HashGroup {
    hash: u64,
    /// (position, text number) of each page, in crawl order.
    pages: Vec<(u32, u32)>,
    /// Other groups within the distance: (group, distance).
    near: Vec<(usize, u32)>,
}

impl Check for Near {
    fn info(&self) -> &CheckInfo {
        &NEAR
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let mut groups: Vec<HashGroup> = Vec::new();
        let mut by_hash: HashMap<u64, usize> = HashMap::new();
        // Pages per text, by text number (the position of its first page): those are
        // exact duplicates of each other, not near. Pages with one text have one
        // SimHash, so the count is the group's too. 4 bytes a page, where a hash table
        // per group cost ~36 bytes a text (all but a few of a million pages' texts).
        let texts = site.texts();
        let mut per_text = vec![0u32; texts.iter().map(|t| t.text as usize + 1).max().unwrap_or(0)];
        for &super::data::PageText { pos, text, simhash } in texts {
            let Some(hash) = simhash else {
                continue;
            };
            let g = *by_hash.entry(hash).or_insert_with(|| {
                groups.push(HashGroup {
                    hash,
                    pages: Vec::new(),
                    near: Vec::new(),
                });
                groups.len() - 1
            });
            groups[g].pages.push((pos, text));
            per_text[text as usize] += 1;
        }
        let same_text = |text: u32| per_text[text as usize] as usize;
        let band = |h: u64, b: u8| (h >> (16 * b)) as u16;
        let mut bands: HashMap<(u8, u16), Vec<usize>> = HashMap::new();
        for (i, g) in groups.iter().enumerate() {
            for b in 0..4u8 {
                bands.entry((b, band(g.hash, b))).or_default().push(i);
            }
        }
        // A pair is compared in the first band it shares only, so it is linked once.
        let mut keys: Vec<&(u8, u16)> = bands.keys().collect();
        keys.sort_unstable();
        for key in keys {
            let members = &bands[key];
            for (x, &i) in members.iter().enumerate() {
                for &j in &members[x + 1..] {
                    let (hi, hj) = (groups[i].hash, groups[j].hash);
                    if (0..key.0).any(|earlier| band(hi, earlier) == band(hj, earlier)) {
                        continue;
                    }
                    let d = (hi ^ hj).count_ones();
                    if d <= site.thresholds.near_distance {
                        groups[i].near.push((j, d));
                        groups[j].near.push((i, d));
                    }
                }
            }
        }
        for g in &mut groups {
            g.near.sort_unstable_by_key(|&(j, d)| (d, j));
        }
        // The similarity shown for each distance (0 to 64 bits), formatted once: a float
        // formatted per page shown was a third of this check's instructions.
        let similarity: Vec<String> = (0..=64u32)
            .map(|d| format!("{:.0}%", 100.0 * f64::from(64 - d) / 64.0))
            .collect();
        for g in &groups {
            let elsewhere: usize = g.near.iter().map(|&(j, _)| groups[j].pages.len()).sum();
            // Up to 10 pages of each text, until 11 texts are in: whatever a page's own
            // text, this holds 10 pages with another text when the group has them (11
            // texts: 10 others with one page each at least), so picking the evidence does
            // not scan a large group once per page.
            let mut sample: Vec<(u32, u32)> = Vec::new();
            let mut taken: FxHashMap<u32, usize> = FxHashMap::default();
            for &(u, t) in &g.pages {
                let n = taken.entry(t).or_default();
                if *n < 10 {
                    *n += 1;
                    sample.push((u, t));
                }
                if taken.len() > 10 {
                    break;
                }
            }
            // A page's evidence depends on its text only through the sample (its own
            // text is left out of it) and the pages of its text: pages alike in both
            // share it, built and serialized once (on a templated site, most pages).
            let mut evidence: HashMap<(Option<u32>, usize), Option<Box<RawValue>>> = HashMap::new();
            for &(pos, text) in &g.pages {
                let sampled = sample.iter().any(|p| p.1 == text).then_some(text);
                let details = evidence
                    .entry((sampled, same_text(text)))
                    .or_insert_with(|| {
                        // Same hash, different text, then the nearest other hashes.
                        let count = g.pages.len().saturating_sub(same_text(text)) + elsewhere;
                        if count == 0 {
                            return None;
                        }
                        let here = sample.iter().filter(|p| p.1 != text).map(|p| (p.0, 0));
                        let there = g
                            .near
                            .iter()
                            .flat_map(|&(j, d)| groups[j].pages.iter().map(move |p| (p.0, d)));
                        let similar = here
                            .chain(there)
                            .take(10)
                            .map(|(u, distance)| Similar {
                                distance,
                                similarity: &similarity[distance as usize],
                                url: site.url_at(u),
                            })
                            .collect();
                        let details = NearDetails {
                            pages: count,
                            similar,
                        };
                        serde_json::value::to_raw_value(&details).ok()
                    });
                if let Some(details) = details {
                    out.push_raw(&NEAR, Some(site.url_at(pos).to_string()), details);
                }
            }
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
                let html = p.record.body_bytes.get().filter(|b| *b > 0)?;
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
                // Only a thin or noindexed page counts: asked first, it spares most pages
                // the phrase search (three lower-cased texts, ~30 substring searches).
                let weak = f.text.words < 100
                    || p.non_indexable_reason()
                        .is_some_and(|r| r.starts_with("noindex"));
                if !weak {
                    return None;
                }
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
                Some((
                    None,
                    json!({ "phrase": phrase, "words": f.text.words, "title": f.titles.first() }),
                ))
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

    use super::{NearDetails, Similar};
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
                r.set_facts(Some(crate::store::raw_json(&facts)))
            });
        }
        let mut exact = t.fired("duplicate-exact");
        exact.sort();
        assert_eq!(exact, ["/a", "/a-copy"]);
        let mut near = t.fired("duplicate-near");
        near.sort();
        assert_eq!(near, ["/b", "/b-near"]);
    }

    /// duplicate-near's details are written as the JSON values they replaced wrote them:
    /// the same text, keys in the same order, escapes and all.
    #[test]
    fn near_details_serialize_as_json_values_did() {
        let urls = [
            "http://a.example/p?q=\"x\"&r=1",
            "http://a.example/\u{e9}t\u{e9}",
        ];
        let similar = urls
            .iter()
            .zip([0u32, 3])
            .map(|(u, d)| (u, d, format!("{:.0}%", 100.0 * f64::from(64 - d) / 64.0)))
            .collect::<Vec<_>>();
        let similar = similar
            .iter()
            .map(|(u, d, similarity)| Similar {
                distance: *d,
                similarity,
                url: u,
            })
            .collect();
        let got = serde_json::to_string(&NearDetails { pages: 7, similar }).unwrap();
        let shown: Vec<serde_json::Value> = urls
            .iter()
            .zip([0u32, 3])
            .map(|(u, d)| json!({ "url": u, "similarity": format!("{:.0}%", 100.0 * f64::from(64 - d) / 64.0), "distance": d }))
            .collect();
        let want = json!({ "similar": shown, "pages": 7 }).to_string();
        assert_eq!(got, want);
        assert!(
            got.starts_with(r#"{"pages":7,"similar":[{"distance":0,"similarity":"100%","url":"#)
        );
    }

    /// Exact duplicates come out in crawl order: groups by their first page, each
    /// group's pages and each page's evidence in the order they were crawled.
    #[test]
    fn exact_duplicates_in_crawl_order() {
        let mut t = TestSite::new();
        for (path, hash, simhash) in [
            ("/x1", "aaaa", "0000000000000001"),
            ("/y1", "bbbb", "1000000000000000"),
            ("/x2", "aaaa", "0000000000000001"),
            ("/y2", "bbbb", "1000000000000000"),
            ("/x3", "aaaa", "0000000000000001"),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&text(500, hash, simhash))))
            });
        }
        let found = t.findings("duplicate-exact");
        let path = |u: &str| u.replace("http://site.example", "");
        let urls: Vec<String> = found
            .iter()
            .map(|f| path(f.url.as_deref().unwrap()))
            .collect();
        assert_eq!(urls, ["/x1", "/x2", "/x3", "/y1", "/y2"]);
        assert_eq!(
            found[1].details,
            json!({ "duplicates": ["http://site.example/x1", "http://site.example/x3"], "pages": 3 })
        );
    }

    /// Each comparable page's text is numbered by the position of the first page with
    /// that text.
    #[test]
    fn texts_are_numbered_by_their_first_page() {
        let mut t = TestSite::new();
        for (path, hash) in [
            ("/y1", "bbbb"),
            ("/x1", "aaaa"),
            ("/y2", "bbbb"),
            ("/x2", "aaaa"),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&text(
                    500,
                    hash,
                    "0000000000000001",
                ))))
            });
        }
        let site = t.site();
        let pos = |p: &str| {
            site.position_of_url(&format!("http://site.example{p}"))
                .unwrap() as u32
        };
        let numbered: Vec<(u32, u32)> = site.texts().iter().map(|t| (t.pos, t.text)).collect();
        let (y1, x1) = (pos("/y1"), pos("/x1"));
        let expected = [(y1, y1), (x1, x1), (pos("/y2"), y1), (pos("/x2"), x1)];
        assert_eq!(numbered, expected);
    }

    /// A template: 30 pages share one SimHash (25 distinct texts, one text on 6 pages),
    /// 4 more are one bit away, 1 is 4 bits away. Counts and evidence are those of the
    /// pairwise definition.
    #[test]
    fn near_duplicates_of_a_template_are_counted_per_page() {
        let mut t = TestSite::new();
        for i in 0..30 {
            let hash = if i < 6 {
                "same".to_string()
            } else {
                format!("t{i}")
            };
            t = t.page(&format!("/tpl{i}"), Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&text(
                    500,
                    &hash,
                    "00000000000000ff",
                ))))
            });
        }
        for i in 0..4 {
            t = t.page(&format!("/close{i}"), Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&text(
                    500,
                    &format!("c{i}"),
                    "00000000000001ff",
                ))))
            });
        }
        t = t.page("/far", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&text(
                500,
                "far",
                "000000000000f0ff",
            ))))
        });
        let found = t.findings("duplicate-near");
        let pages = |url: &str| {
            let f = found
                .iter()
                .find(|f| f.url.as_deref() == Some(&format!("http://site.example{url}")))
                .unwrap_or_else(|| panic!("{url} not reported"));
            let shown = f.details["similar"].as_array().unwrap();
            assert_eq!(shown.len(), 10, "{url}");
            let own = format!("http://site.example{url}");
            assert!(shown.iter().all(|s| s["url"] != own.as_str()), "{url}");
            f.details["pages"].as_u64().unwrap()
        };
        // The 29 other template pages and 4 close ones, less the 5 exact copies of its
        // own text (and not /far, 4 bits away).
        assert_eq!(pages("/tpl0"), 29 + 4 - 5);
        assert_eq!(pages("/tpl10"), 29 + 4);
        // The 3 other "close" pages and the 30 of the template, not /far (4 bits).
        assert_eq!(pages("/close0"), 33);
        assert!(
            found
                .iter()
                .all(|f| !f.url.as_deref().unwrap().ends_with("/far"))
        );
        assert_eq!(found.len(), 34);
        // Evidence of a template page skips its exact copies.
        let tpl0 = found
            .iter()
            .find(|f| f.url.as_deref().unwrap().ends_with("/tpl0"))
            .unwrap();
        for s in tpl0.details["similar"].as_array().unwrap() {
            let u = s["url"].as_str().unwrap();
            assert!(
                !matches!(
                    u.rsplit('/').next().unwrap(),
                    "tpl1" | "tpl2" | "tpl3" | "tpl4" | "tpl5"
                ),
                "{u}"
            );
        }
    }

    /// Against the definition, pair by pair: hashes a few bits from a handful of bases,
    /// texts from a small set (so exact copies share hashes too).
    #[test]
    fn near_duplicate_counts_match_a_pairwise_count() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bases = [next(), next(), next()];
        let mut pages = Vec::new();
        for i in 0..150 {
            let mut h = bases[(next() % 3) as usize];
            for _ in 0..next() % 5 {
                h ^= 1 << (next() % 64);
            }
            // Same text implies same hash, as the extractor guarantees.
            let text = if next() % 4 == 0 {
                format!("{h:x}")
            } else {
                format!("p{i}")
            };
            pages.push((format!("/p{i}"), h, text));
        }
        let mut t = TestSite::new();
        for (path, h, text_hash) in &pages {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&text(
                    500,
                    text_hash,
                    &format!("{h:016x}"),
                ))))
            });
        }
        let found = t.findings("duplicate-near");
        for (path, h, text_hash) in &pages {
            let expected = pages
                .iter()
                .filter(|(p, oh, ot)| p != path && ot != text_hash && (h ^ oh).count_ones() <= 3)
                .count() as u64;
            let got = found
                .iter()
                .find(|f| f.url.as_deref().is_some_and(|u| u.ends_with(path.as_str())))
                .map_or(0, |f| f.details["pages"].as_u64().unwrap());
            assert_eq!(got, expected, "{path}");
        }
        // Each page's evidence: as many as there are, up to 10, of pages with another
        // text within the distance, at the distance shown (pages share evidence).
        let by_url: std::collections::HashMap<String, (u64, &str)> = pages
            .iter()
            .map(|(p, h, t)| (format!("http://site.example{p}"), (*h, t.as_str())))
            .collect();
        for f in &found {
            let own = f.url.as_deref().unwrap();
            let (h, text) = by_url[own];
            let shown = f.details["similar"].as_array().unwrap();
            let pages = f.details["pages"].as_u64().unwrap() as usize;
            assert_eq!(shown.len(), pages.min(10), "{own}");
            for s in shown {
                let (oh, other_text) = by_url[s["url"].as_str().unwrap()];
                assert!(s["url"] != own && other_text != text, "{own}: {s}");
                assert_eq!(s["distance"], (h ^ oh).count_ones(), "{own}: {s}");
            }
        }
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
            // A not-found phrase on a page with plenty of text is no soft 404, unless
            // the page is kept out of the index.
            (
                "/long",
                json!({ "titles": ["Page not found"], "headings": [{ "level": 2, "text": "Part" }], "text": { "words": 400, "text_bytes": 2400 } }),
            ),
            (
                "/gone",
                json!({ "titles": ["No longer available"], "headings": [{ "level": 2, "text": "Part" }], "meta_robots": ["noindex"], "text": { "words": 400, "text_bytes": 2400 } }),
            ),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&facts)));
                r.body_bytes = Some(4000).into();
            });
        }
        assert_eq!(t.fired("thin-content"), ["/thin", "/soft"]);
        assert_eq!(t.fired("low-text-ratio"), ["/thin", "/soft"]);
        assert_eq!(t.fired("soft-404"), ["/soft", "/gone"]);
        assert_eq!(t.fired("lorem-ipsum"), ["/lorem"]);
        assert_eq!(t.fired("template-placeholder-text"), ["/tpl", "/undef"]);
        assert_eq!(t.fired("h2-missing"), ["/lorem", "/tpl", "/undef", "/noh2"]);
    }
}
