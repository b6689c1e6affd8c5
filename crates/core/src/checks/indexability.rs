//! Category 9: indexability and robots directives, from robots metas (`robots`,
//! `googlebot`, …) and the `X-Robots-Tag` header.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::json;

use super::{Check, CheckInfo, Evidence, PageView, SiteData};
use crate::model::{Finding, Severity};

/// One directive source: where it came from, whom it addresses, its tokens.
#[derive(Debug)]
pub(crate) struct Source {
    /// `meta` or `header`.
    pub(crate) origin: &'static str,
    /// The crawler addressed (`robots` for everyone).
    pub(crate) name: String,
    /// Lower-cased tokens.
    pub(crate) tokens: Vec<String>,
}

/// Every directive source of a page.
pub(crate) fn sources(p: &PageView<'_>) -> Vec<Source> {
    let mut out = Vec::new();
    if let Some(f) = p.facts {
        for d in &f.directives {
            out.push(Source {
                origin: "meta",
                name: d.name.clone(),
                tokens: tokens(&d.value),
            });
        }
    }
    if let Some(h) = p.header("x-robots-tag") {
        // "googlebot: noindex, nofollow" addresses one crawler; a bare list, everyone.
        let (name, list) = match h.split_once(':') {
            Some((n, rest))
                if !n.contains(',')
                    && !KNOWN_VALUED
                        .iter()
                        .any(|k| n.trim().eq_ignore_ascii_case(k)) =>
            {
                (n.trim().to_ascii_lowercase(), rest)
            }
            _ => ("robots".to_string(), h),
        };
        out.push(Source {
            origin: "header",
            name,
            tokens: tokens(list),
        });
    }
    out
}

fn tokens(v: &str) -> Vec<String> {
    v.split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Tokens that take a value after a colon.
const KNOWN_VALUED: &[&str] = &[
    "max-snippet",
    "max-image-preview",
    "max-video-preview",
    "unavailable_after",
];
/// Tokens without a value.
const KNOWN: &[&str] = &[
    "all",
    "index",
    "noindex",
    "follow",
    "nofollow",
    "none",
    "noarchive",
    "nocache",
    "nosnippet",
    "notranslate",
    "noimageindex",
    "indexifembedded",
    "noodp",
    "noydir",
];

fn applies_to_google(name: &str) -> bool {
    name == "robots" || name == "googlebot"
}

fn has(sources: &[Source], token: &str) -> Vec<String> {
    sources
        .iter()
        .filter(|s| applies_to_google(&s.name) && s.tokens.iter().any(|t| t == token))
        .map(|s| format!("{} {}", s.origin, s.name))
        .collect()
}

/// Runs `eval` on the directive sources of internal HTML pages.
fn directives(
    p: &PageView<'_>,
    eval: impl FnOnce(&[Source]) -> Option<serde_json::Value>,
) -> Evidence {
    p.html()?;
    let s = sources(p);
    eval(&s).map(|v| (None, v))
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "noindex-page",
            9,
            Warning,
            "Page asks not to be indexed",
            "A noindex page is dropped from search results; a header-only noindex is often a staging leftover.",
            "Remove noindex if the page should be found (check both the meta tag and X-Robots-Tag).",
            |p| directives(p, |s| {
                let mut from = has(s, "noindex");
                from.extend(has(s, "none"));
                (!from.is_empty()).then(|| json!({ "sources": from }))
            }),
        ),
        page_check!(
            "nofollow-page",
            9,
            Warning,
            "Page asks crawlers not to follow its links",
            "No link on the page passes crawl or signals.",
            "Remove the page-level nofollow unless it is intended.",
            |p| directives(p, |s| {
                let mut from = has(s, "nofollow");
                from.extend(has(s, "none"));
                (!from.is_empty()).then(|| json!({ "sources": from }))
            }),
        ),
        page_check!(
            "directives-conflict",
            9,
            Error,
            "Contradicting robots directives",
            "Search engines apply the most restrictive one, which may not be what you meant.",
            "Keep one consistent set of directives across metas and X-Robots-Tag.",
            |p| directives(p, |s| {
                let index = has(s, "index");
                let noindex = has(s, "noindex");
                let follow = has(s, "follow");
                let nofollow = has(s, "nofollow");
                let clash = (!index.is_empty() && !noindex.is_empty())
                    || (!follow.is_empty() && !nofollow.is_empty());
                clash.then(|| json!({ "index": index, "noindex": noindex, "follow": follow, "nofollow": nofollow }))
            }),
        ),
        page_check!(
            "directives-duplicated",
            9,
            Notice,
            "The same restrictive directive declared more than once",
            "Removing one copy leaves the directive in force.",
            "Declare each directive in one place.",
            |p| directives(p, |s| {
                let dup: Vec<&str> = ["noindex", "nofollow", "none", "nosnippet", "noimageindex"]
                    .into_iter()
                    .filter(|t| has(s, t).len() > 1)
                    .collect();
                (!dup.is_empty()).then(|| json!({ "directives": dup }))
            }),
        ),
        page_check!(
            "robots-meta-outside-head",
            9,
            Warning,
            "Robots meta outside <head>",
            "Search engines may ignore directives in the body.",
            "Move the robots meta into <head>.",
            |p| {
                let f = p.html()?;
                let late: Vec<&str> = f
                    .directives
                    .iter()
                    .filter(|d| d.in_body)
                    .map(|d| d.value.as_str())
                    .collect();
                (!late.is_empty()).then(|| (None, json!({ "directives": late })))
            },
        ),
        page_check!(
            "robots-meta-invalid-token",
            9,
            Warning,
            "Unknown or malformed robots directive",
            "Misspelled directives (no-index, nofolow) are ignored: the page is not restricted as intended.",
            "Fix the spelling; use the directives search engines document.",
            |p| directives(p, |s| {
                let bad: BTreeSet<&str> = s
                    .iter()
                    .flat_map(|src| &src.tokens)
                    .map(String::as_str)
                    .filter(|t| !valid_token(t))
                    .collect();
                (!bad.is_empty()).then(|| json!({ "tokens": bad }))
            }),
        ),
        page_check!(
            "snippet-restricted",
            9,
            Notice,
            "Search result snippets restricted",
            "nosnippet or a small max-snippet shows little or no text under the result.",
            "Remove the restriction unless it is intended.",
            |p| directives(p, |s| {
                let hit: Vec<String> = s
                    .iter()
                    .filter(|x| applies_to_google(&x.name))
                    .flat_map(|x| &x.tokens)
                    .filter(|t| {
                        *t == "nosnippet"
                            || t.strip_prefix("max-snippet:")
                                .and_then(|n| n.trim().parse::<i64>().ok())
                                .is_some_and(|n| (0..50).contains(&n))
                    })
                    .cloned()
                    .collect();
                (!hit.is_empty()).then(|| json!({ "directives": hit }))
            }),
        ),
        page_check!(
            "image-indexing-restricted",
            9,
            Notice,
            "Image indexing restricted",
            "Images from the page are kept out of image results or previews.",
            "Remove noimageindex / max-image-preview:none unless intended.",
            |p| directives(p, |s| {
                let hit: Vec<String> = s
                    .iter()
                    .filter(|x| applies_to_google(&x.name))
                    .flat_map(|x| &x.tokens)
                    .filter(|t| {
                        *t == "noimageindex" || t.replace(' ', "") == "max-image-preview:none"
                    })
                    .cloned()
                    .collect();
                (!hit.is_empty()).then(|| json!({ "directives": hit }))
            }),
        ),
        page_check!(
            "googlebot-directives-differ",
            9,
            Notice,
            "Googlebot gets different directives than other robots",
            "Google and other search engines will treat the page differently.",
            "Check the difference is intended.",
            |p| directives(p, |s| {
                let set = |name: &str| -> BTreeSet<&str> {
                    s.iter()
                        .filter(|x| x.name == name)
                        .flat_map(|x| &x.tokens)
                        .map(String::as_str)
                        .collect()
                };
                let (g, r) = (set("googlebot"), set("robots"));
                (!g.is_empty() && g != r).then(|| json!({ "googlebot": g, "robots": r }))
            }),
        ),
        Box::new(NoindexLinkedHeavily),
    ]
}

fn valid_token(t: &str) -> bool {
    if KNOWN.contains(&t) {
        return true;
    }
    let Some((k, v)) = t.split_once(':') else {
        return false;
    };
    let v = v.trim();
    match k.trim() {
        "max-snippet" | "max-video-preview" => v.parse::<i64>().is_ok_and(|n| n >= -1),
        "max-image-preview" => matches!(v, "none" | "standard" | "large"),
        "unavailable_after" => !v.is_empty(),
        _ => false,
    }
}

/// `noindex-linked-heavily`: a noindex page many indexable pages link to.
struct NoindexLinkedHeavily;

const HEAVY: CheckInfo = CheckInfo {
    id: "noindex-linked-heavily",
    category: 9,
    severity: Severity::Notice,
    title: "Noindex page linked from many indexable pages",
    why: "Site-wide links point crawlers at a page that is kept out of results.",
    fix: "Check the page should be noindex; otherwise remove it from navigation.",
};

impl Check for NoindexLinkedHeavily {
    fn info(&self) -> &CheckInfo {
        &HEAVY
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site.pages() {
            if p.html().is_none()
                || p.non_indexable_reason()
                    .is_none_or(|r| !r.starts_with("noindex"))
            {
                continue;
            }
            let sources: HashSet<u32> = p
                .inlinks
                .iter()
                .filter(|l| l.kind == "a" && !l.rel.is_some_and(|r| r.contains("nofollow")))
                .filter(|l| {
                    site.get(l.from)
                        .is_some_and(|f| site.view(f).non_indexable_reason().is_none())
                })
                .map(|l| l.from)
                .collect();
            if sources.len() > site.thresholds.noindex_linking_pages {
                let mut details = BTreeMap::new();
                details.insert("linking_pages", sources.len());
                out.push(Finding {
                    check_id: HEAVY.id,
                    severity: HEAVY.severity,
                    url: Some(p.record.url.clone()),
                    details: json!(details),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn d(name: &str, value: &str) -> serde_json::Value {
        json!({ "name": name, "value": value })
    }

    #[test]
    fn directive_checks() {
        let mut t = TestSite::new();
        for (path, directives, header) in [
            ("/plain", json!([]), None),
            ("/meta-noindex", json!([d("robots", "noindex")]), None),
            ("/header-noindex", json!([]), Some("noindex")),
            ("/nofollow", json!([d("robots", "nofollow")]), None),
            (
                "/conflict",
                json!([d("robots", "index, follow")]),
                Some("noindex"),
            ),
            (
                "/dup",
                json!([d("robots", "noindex")]),
                Some("googlebot: noindex"),
            ),
            ("/typo", json!([d("robots", "no-index, nofolow")]), None),
            ("/snip", json!([d("robots", "max-snippet:20")]), None),
            ("/img", json!([d("robots", "max-image-preview:none")]), None),
            (
                "/gbot",
                json!([d("googlebot", "noarchive"), d("robots", "all")]),
                None,
            ),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(
                    &json!({ "directives": directives }),
                )));
                if let Some(h) = header {
                    r.headers.push(("x-robots-tag".into(), h.into()));
                }
            });
        }
        t = t.page("/late", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "directives": [{ "name": "robots", "value": "index", "in_body": true }] }),
            )));
        });
        assert_eq!(
            t.fired("noindex-page"),
            ["/meta-noindex", "/header-noindex", "/conflict", "/dup"]
        );
        assert_eq!(t.fired("nofollow-page"), ["/nofollow"]);
        assert_eq!(t.fired("directives-conflict"), ["/conflict"]);
        assert_eq!(t.fired("directives-duplicated"), ["/dup"]);
        assert_eq!(t.fired("robots-meta-invalid-token"), ["/typo"]);
        assert_eq!(t.fired("snippet-restricted"), ["/snip"]);
        assert_eq!(t.fired("image-indexing-restricted"), ["/img"]);
        assert_eq!(t.fired("googlebot-directives-differ"), ["/gbot"]);
        assert_eq!(t.fired("robots-meta-outside-head"), ["/late"]);
    }

    #[test]
    fn noindex_linked_from_many_pages() {
        let mut t = TestSite::new().page("/hidden", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "directives": [d("robots", "noindex")], "meta_robots": ["noindex"] }),
            )));
        });
        for i in 0..21 {
            t = t
                .page(&format!("/p{i}"), Some(200), None, |r| {
                    r.set_facts(Some(crate::store::raw_json(&json!({}))))
                })
                .link(&format!("/p{i}"), "/hidden", "a");
        }
        assert_eq!(t.fired("noindex-linked-heavily"), ["/hidden"]);
        let few = TestSite::new().page("/hidden", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "meta_robots": ["noindex"] }),
            )))
        });
        assert!(few.fired("noindex-linked-heavily").is_empty());
    }
}
