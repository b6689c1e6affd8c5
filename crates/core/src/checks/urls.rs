//! Category 16: URL structure of internal URLs. Raw hrefs are not stored, so the
//! checks read the normalized URL: a literal space shows as `%20`, a non-ASCII
//! character as a percent-encoded byte of 0x80 or above.

use serde_json::json;

use super::{Check, Evidence, PageView};
use crate::model::Severity;

/// …and a warning above this (sitemaps and many clients refuse them).
pub(crate) const URL_HARD_MAX: usize = 2048;

const SESSION: &[&str] = &[
    "sid",
    "sessionid",
    "session_id",
    "phpsessid",
    "jsessionid",
    "aspsessionid",
];
const SEARCH_PARAMS: &[&str] = &["q", "s", "query", "search", "keyword", "keywords"];

/// Runs `eval` on the parsed URL of internal pages (not invalid-link records).
fn url_of(p: &PageView<'_>, eval: impl FnOnce(&url::Url) -> Option<serde_json::Value>) -> Evidence {
    if !p.internal() || p.record.found_by == crate::crawl::FOUND_INVALID {
        return None;
    }
    let u = p.url()?;
    eval(u).map(|v| (None, v))
}

fn fire(pred: bool, u: &url::Url) -> Option<serde_json::Value> {
    pred.then(|| json!({ "url": u.as_str() }))
}

/// Percent-encoded bytes of 0x80 and above: non-ASCII characters in the original href.
fn has_encoded_non_ascii(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && matches!(w[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            && w[2].is_ascii_hexdigit()
    })
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        page_check!(
            "url-too-long",
            16,
            Notice,
            "Long URL",
            "Long URLs are hard to share and read, and are cut in results; above 2,048 characters many clients refuse them.",
            "Shorten the URL structure.",
            |p| {
                let n = p.record.url.chars().count();
                let (_, v) = url_of(p, |u| {
                    fire(n > p.limits.url_max_chars, u).map(|mut v| {
                        v["chars"] = json!(n);
                        v
                    })
                })?;
                Some(((n > URL_HARD_MAX).then_some(Severity::Warning), v))
            },
        ),
        page_check!(
            "url-uppercase",
            16,
            Notice,
            "Uppercase letters in the URL",
            "URLs are case-sensitive: /Page and /page are two URLs, and links get it wrong.",
            "Use lowercase URLs; redirect the uppercase variants.",
            |p| url_of(p, |u| {
                let tail = format!("{}?{}", u.path(), u.query().unwrap_or_default());
                fire(
                    strip_escapes(&tail).chars().any(|c| c.is_ascii_uppercase()),
                    u,
                )
            }),
        ),
        page_check!(
            "url-underscore",
            16,
            Notice,
            "Underscores in the URL path",
            "Search engines treat hyphens, not underscores, as word separators.",
            "Use hyphens in new URLs.",
            |p| url_of(p, |u| fire(u.path().contains('_'), u)),
        ),
        page_check!(
            "url-space",
            16,
            Warning,
            "Space in the URL",
            "Spaces must be encoded and often break when URLs are copied or linked.",
            "Replace spaces with hyphens.",
            |p| url_of(p, |u| fire(
                u.path().contains("%20") || u.path().contains(' '),
                u
            )),
        ),
        page_check!(
            "url-non-ascii",
            16,
            Notice,
            "Non-ASCII characters in the URL",
            "They must be percent-encoded and may be mangled by some clients.",
            "Use ASCII slugs, or make sure every link percent-encodes them.",
            |p| url_of(p, |u| fire(
                has_encoded_non_ascii(u.path()) || u.query().is_some_and(has_encoded_non_ascii),
                u
            )),
        ),
        page_check!(
            "url-multiple-slashes",
            16,
            Warning,
            "Double slash in the URL path",
            "//page and /page are different URLs serving the same content.",
            "Fix the links that build the double slash; redirect the variant.",
            |p| url_of(p, |u| fire(u.path().contains("//"), u)),
        ),
        page_check!(
            "url-repetitive-path",
            16,
            Notice,
            "Repeating path segments",
            "Usually a broken relative link that spawns endless URLs (/shop/shop/shop/).",
            "Fix the relative links (use root-relative or absolute hrefs).",
            |p| url_of(p, |u| {
                let segs: Vec<&str> = u.path().split('/').filter(|s| !s.is_empty()).collect();
                let repeat = segs.windows(2).any(|w| w[0] == w[1])
                    || (2..=segs.len() / 2).any(|n| segs.windows(2 * n).any(|w| w[..n] == w[n..]));
                fire(repeat, u)
            }),
        ),
        page_check!(
            "url-many-parameters",
            16,
            Notice,
            "More than 3 query parameters",
            "Parameter combinations multiply URLs for the same content.",
            "Keep filters out of crawlable URLs, or canonicalise them.",
            |p| url_of(p, |u| {
                let n = u.query_pairs().count();
                fire(n > p.limits.max_parameters, u).map(|mut v| {
                    v["parameters"] = json!(n);
                    v
                })
            }),
        ),
        page_check!(
            "url-repeated-parameter",
            16,
            Notice,
            "A query parameter given twice",
            "Ambiguous URLs: servers and analytics read them differently.",
            "Build each parameter once.",
            |p| url_of(p, |u| {
                let names: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
                let dup = names
                    .iter()
                    .enumerate()
                    .any(|(i, n)| names[..i].contains(n));
                fire(dup || u.query().is_some_and(|q| q.contains('?')), u)
            }),
        ),
        page_check!(
            "url-session-id",
            16,
            Warning,
            "Session id in the URL",
            "Every visit creates new URLs for the same content.",
            "Keep sessions in cookies.",
            |p| url_of(p, |u| {
                let in_query = u
                    .query_pairs()
                    .any(|(k, _)| SESSION.contains(&k.to_ascii_lowercase().as_str()));
                let in_path = u.path().to_ascii_lowercase().contains(";jsessionid=");
                fire(in_query || in_path, u)
            }),
        ),
        page_check!(
            "url-internal-search",
            16,
            Notice,
            "Internal search results are crawlable",
            "Search result pages are thin, endless and waste crawl budget.",
            "Disallow the search path in robots.txt or noindex the results.",
            |p| url_of(p, |u| {
                let path_search = u
                    .path()
                    .split('/')
                    .any(|s| s.eq_ignore_ascii_case("search"));
                let param = u
                    .query_pairs()
                    .any(|(k, _)| SEARCH_PARAMS.contains(&k.to_ascii_lowercase().as_str()));
                fire(path_search || param, u)
            }),
        ),
        page_check!(
            "url-default-port-or-index",
            16,
            Notice,
            "URL names an index file",
            "/index.html and / are two URLs for one page.",
            "Link to the directory URL; redirect the index-file variant.",
            |p| url_of(p, |u| {
                let last = u
                    .path()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let index = matches!(
                    last.as_str(),
                    "index.html"
                        | "index.htm"
                        | "index.php"
                        | "default.aspx"
                        | "default.asp"
                        | "index.asp"
                );
                fire(index, u)
            }),
        ),
    ]
}

/// The text without `%XX` escapes (whose hex digits may be uppercase by convention).
fn strip_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let escape = b[i] == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape {
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::TestSite;

    #[test]
    fn url_checks() {
        let long = format!("/{}", "a".repeat(120));
        let mut t = TestSite::new();
        for path in [
            "/fine-page",
            long.as_str(),
            "/Upper",
            "/caf%C3%A9",
            "/snake_case",
            "/with%20space",
            "/a//b",
            "/shop/shop",
            "/a/b/a/b",
            "/p?a=1&b=2&c=3&d=4",
            "/p?a=1&a=2",
            "/p?sid=42",
            "/search/shoes",
            "/dir/index.html",
        ] {
            t = t.page(path, Some(200), None, |_| {});
        }
        assert_eq!(t.fired("url-too-long"), [long.as_str()]);
        assert_eq!(t.fired("url-uppercase"), ["/Upper"]);
        assert_eq!(t.fired("url-underscore"), ["/snake_case"]);
        assert_eq!(t.fired("url-space"), ["/with%20space"]);
        assert_eq!(t.fired("url-non-ascii"), ["/caf%C3%A9"]);
        assert_eq!(t.fired("url-multiple-slashes"), ["/a//b"]);
        assert_eq!(t.fired("url-repetitive-path"), ["/shop/shop", "/a/b/a/b"]);
        assert_eq!(t.fired("url-many-parameters"), ["/p?a=1&b=2&c=3&d=4"]);
        assert_eq!(t.fired("url-repeated-parameter"), ["/p?a=1&a=2"]);
        assert_eq!(t.fired("url-session-id"), ["/p?sid=42"]);
        assert_eq!(t.fired("url-internal-search"), ["/search/shoes"]);
        assert_eq!(t.fired("url-default-port-or-index"), ["/dir/index.html"]);
    }
}
