//! Category 10: canonicalisation, from `<link rel=canonical>` elements (as written) and
//! `Link: <…>; rel="canonical"` headers. Canonical targets are crawled, so their status,
//! directives and own canonicals are known.

use std::rc::Rc;

use serde_json::json;

use super::{Check, Evidence, PageView, SiteData};
use crate::store::UrlRecord;

/// One canonical declaration.
#[derive(Debug, Clone)]
struct Declared {
    /// `html` or `header`.
    source: &'static str,
    /// As written.
    raw: String,
    /// Resolved and normalized (`None`: invalid).
    url: Option<url::Url>,
}

/// Every canonical declaration of a page.
///
/// A score of checks ask this of each page in turn, and resolving means parsing URLs:
/// the last page's answer is kept per thread, keyed by everything it is computed from
/// (the URL, the tags' hrefs, the `Link` header), so a hit is always right. Shared, not
/// copied: a copy for each asking check was ~1% of an audit's instructions.
fn declared(p: &PageView<'_>) -> Rc<[Declared]> {
    struct Last {
        url: String,
        hrefs: Vec<String>,
        link: Option<String>,
        declared: Rc<[Declared]>,
    }
    thread_local! {
        static LAST: std::cell::RefCell<Option<Last>> = const { std::cell::RefCell::new(None) };
    }
    let tags = p
        .facts
        .map(|f| f.canonical_tags.as_slice())
        .unwrap_or_default();
    let link = p.header("link");
    LAST.with_borrow_mut(|last| {
        if let Some(l) = last
            && l.url == p.record.url
            && l.link.as_deref() == link
            && l.hrefs.iter().eq(tags.iter().map(|t| &t.href))
        {
            return Rc::clone(&l.declared);
        }
        let declared: Rc<[Declared]> = resolve_declared(p).into();
        *last = Some(Last {
            url: p.record.url.clone(),
            hrefs: tags.iter().map(|t| t.href.clone()).collect(),
            link: link.map(str::to_string),
            declared: Rc::clone(&declared),
        });
        declared
    })
}

/// [`declared`], worked out.
fn resolve_declared(p: &PageView<'_>) -> Vec<Declared> {
    let Some(page) = p.url() else {
        return Vec::new();
    };
    let mut out: Vec<Declared> = p
        .facts
        .map(|f| f.canonical_tags.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|t| Declared {
            source: "html",
            url: (!t.href.is_empty())
                .then(|| crate::url::resolve(page, &t.href).ok())
                .flatten(),
            raw: t.href.clone(),
        })
        .collect();
    if let Some(h) = p.header("link") {
        for part in h.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next().unwrap_or_default().trim();
            let canonical = pieces.any(|x| {
                let x = x.trim().to_ascii_lowercase().replace(' ', "");
                x == "rel=canonical" || x == "rel=\"canonical\""
            });
            if canonical
                && let Some(raw) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>'))
            {
                out.push(Declared {
                    source: "header",
                    url: crate::url::resolve(page, raw).ok(),
                    raw: raw.to_string(),
                });
            }
        }
    }
    out
}

/// Whether every canonical the page declares (tags and `Link` header) is a valid URL
/// naming the page itself, or it declares none. Another page's checks read of it only
/// its [`target`], and only whether that is another URL: without its canonical tags it
/// reads the same, so a crawl held for an audit leaves them out (see
/// `data::shared_facts`).
pub(super) fn declares_only_itself(p: &PageView<'_>) -> bool {
    if p.header("link").is_none() {
        let tags = p
            .facts
            .map(|f| f.canonical_tags.as_slice())
            .unwrap_or_default();
        if self_as_written(&p.record.url, tags.iter().map(|t| t.href.as_str())) {
            return true;
        }
    }
    declared(p)
        .iter()
        .all(|d| d.url.as_ref().is_some_and(|u| u.as_str() == p.record.url))
}

/// Whether each of `hrefs` is, as written, sure to resolve against `url` (a URL as the
/// crawl stores it, the parser's own serialization) to `url` itself: the URL, or its
/// path when that is a plain one the parser keeps as written (printable ASCII it does
/// not escape, no dot segment, no query or fragment). Most pages name themselves so;
/// read off the strings, the audit's load does not parse each page's URL for it (~2% of
/// its instructions). `false` says nothing: the parser is asked.
fn self_as_written<'h>(url: &str, mut hrefs: impl Iterator<Item = &'h str>) -> bool {
    let Some((authority, path, tail)) = super::plain_path(url) else {
        return false;
    };
    let plain = tail.is_empty()
        && !authority.is_empty()
        && !authority.ends_with('.')
        && !authority.contains(".:")
        && !path.starts_with("//");
    plain && hrefs.all(|h| h == url || h == path)
}

/// The page's canonical target when it declares exactly one valid URL.
fn target(p: &PageView<'_>) -> Option<url::Url> {
    let d = declared(p);
    let mut urls = d.iter().filter_map(|d| d.url.clone());
    let first = urls.next()?;
    urls.all(|u| u == first).then_some(first)
}

/// The crawled record of the canonical target, when it is another URL.
fn other_target<'a>(site: &'a SiteData, p: &PageView<'_>) -> Option<&'a UrlRecord> {
    let t = target(p)?;
    (t.as_str() != p.record.url)
        .then(|| site.by_url(t.as_str()))
        .flatten()
}

macro_rules! canonical_check {
    ($id:literal, $sev:ident, $title:literal, $why:literal, $fix:literal, $eval:expr $(,)?) => {
        Box::new(super::HtmlCheck::<Evidence> {
            info: super::CheckInfo {
                id: $id,
                category: 10,
                severity: crate::model::Severity::$sev,
                title: $title,
                why: $why,
                fix: $fix,
            },
            eval: $eval,
        }) as Box<dyn Check>
    };
}

fn fire(pred: bool, v: impl FnOnce() -> serde_json::Value) -> Evidence {
    pred.then(|| (None, v()))
}

/// Query parameters that track visits or sessions.
const TRACKING: &[&str] = &[
    "gclid",
    "fbclid",
    "msclkid",
    "sessionid",
    "sid",
    "phpsessid",
    "jsessionid",
];

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        canonical_check!(
            "canonical-missing",
            Notice,
            "Indexable page without a canonical",
            "Without a canonical, search engines guess which of several URL variants to index.",
            "Add <link rel=\"canonical\"> naming the page's preferred URL (often itself).",
            |_, p| fire(
                p.non_indexable_reason().is_none() && declared(p).is_empty(),
                || json!({})
            )
        ),
        canonical_check!(
            "canonical-conflicting",
            Error,
            "Canonical declarations disagree",
            "With conflicting canonicals, search engines may ignore them all.",
            "Declare one canonical URL, in one place.",
            |_, p| {
                let d = declared(p);
                let mut urls: Vec<&str> = d
                    .iter()
                    .filter_map(|d| d.url.as_ref().map(url::Url::as_str))
                    .collect();
                urls.sort_unstable();
                urls.dedup();
                let all: Vec<serde_json::Value> = d
                    .iter()
                    .map(|d| json!({ "source": d.source, "href": d.raw }))
                    .collect();
                fire(urls.len() > 1, || json!({ "canonicals": all }))
            }
        ),
        canonical_check!(
            "canonical-duplicated",
            Notice,
            "The same canonical declared more than once",
            "Redundant, and a later edit may change one copy only.",
            "Keep one canonical declaration.",
            |_, p| {
                let d = declared(p);
                let urls: Vec<&str> = d
                    .iter()
                    .filter_map(|d| d.url.as_ref().map(url::Url::as_str))
                    .collect();
                fire(
                    urls.len() > 1 && urls.iter().all(|u| *u == urls[0]),
                    || json!({ "canonical": urls[0], "declarations": urls.len() }),
                )
            }
        ),
        canonical_check!(
            "canonical-relative",
            Warning,
            "Relative canonical URL",
            "Search engines accept it but recommend absolute URLs; a wrong base makes it point elsewhere.",
            "Write the canonical as an absolute URL.",
            |_, p| {
                let rel: Vec<String> = declared(p)
                    .iter()
                    .filter(|d| {
                        d.url.is_some()
                            && !d.raw.to_ascii_lowercase().starts_with("http://")
                            && !d.raw.to_ascii_lowercase().starts_with("https://")
                    })
                    .map(|d| d.raw.clone())
                    .collect();
                fire(!rel.is_empty(), || json!({ "href": rel }))
            }
        ),
        canonical_check!(
            "canonical-invalid",
            Error,
            "Invalid canonical URL",
            "An empty or unparseable canonical is ignored.",
            "Write a valid absolute http(s) URL.",
            |_, p| {
                let bad: Vec<String> = declared(p)
                    .iter()
                    .filter(|d| d.url.is_none())
                    .map(|d| d.raw.clone())
                    .collect();
                fire(!bad.is_empty(), || json!({ "href": bad }))
            }
        ),
        canonical_check!(
            "canonical-has-fragment",
            Warning,
            "Canonical URL with a #fragment",
            "Fragments are not part of the indexed URL; the canonical is probably a mistake.",
            "Drop the fragment from the canonical.",
            |_, p| {
                let with: Vec<String> = declared(p)
                    .iter()
                    .filter(|d| d.raw.contains('#'))
                    .map(|d| d.raw.clone())
                    .collect();
                fire(!with.is_empty(), || json!({ "href": with }))
            }
        ),
        canonical_check!(
            "canonical-outside-head",
            Error,
            "Canonical link outside <head>",
            "Google ignores canonicals in the body.",
            "Move the canonical link into <head> (and check nothing invalid precedes it).",
            |_, p| fire(
                p.facts
                    .is_some_and(|f| f.canonical_tags.iter().any(|t| t.in_body)),
                || json!({})
            )
        ),
        canonical_check!(
            "canonical-extra-attributes",
            Warning,
            "Canonical link with hreflang, lang, media or type",
            "Search engines may read it as an alternate rather than a canonical.",
            "Remove the extra attributes from the canonical link.",
            |_, p| {
                let attrs: Vec<String> = p
                    .facts
                    .map(|f| {
                        f.canonical_tags
                            .iter()
                            .flat_map(|t| t.extra_attributes.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                fire(!attrs.is_empty(), || json!({ "attributes": attrs }))
            }
        ),
        canonical_check!(
            "canonical-target-not-200",
            Error,
            "Canonical points to a URL that does not answer 200",
            "Search engines ignore canonicals to redirects, errors or unreachable URLs.",
            "Point the canonical at the final, working URL.",
            |site, p| {
                let t = other_target(site, p)?;
                let ok = t.status.is_some_and(|s| (200..300).contains(&s)) && t.failure().is_none();
                fire(
                    !ok && t.state == "done",
                    || json!({ "canonical": t.url, "status": t.status, "failure": t.failure().map(|f| f.id()) }),
                )
            }
        ),
        canonical_check!(
            "canonical-to-noindex",
            Error,
            "Canonical points to a noindex page",
            "Two contradicting signals: index that page instead, but do not index it.",
            "Point the canonical at an indexable page, or remove noindex there.",
            |site, p| {
                let t = other_target(site, p)?;
                let r = site.view(t).non_indexable_reason()?;
                fire(
                    r.starts_with("noindex"),
                    || json!({ "canonical": t.url, "reason": r }),
                )
            }
        ),
        canonical_check!(
            "canonical-to-blocked",
            Error,
            "Canonical points to a URL robots.txt blocks",
            "Search engines cannot fetch the target, so the canonical cannot be confirmed.",
            "Allow the target in robots.txt, or point the canonical elsewhere.",
            |site, p| {
                let t = other_target(site, p)?;
                let blocked = t.robots_disallowed
                    || matches!(
                        t.failure(),
                        Some(crate::model::FailureKind::BlockedByRobots)
                    );
                fire(blocked, || json!({ "canonical": t.url }))
            }
        ),
        canonical_check!(
            "canonical-chain",
            Warning,
            "Canonical points to a page with its own canonical elsewhere",
            "A → B → C: search engines may not follow the chain.",
            "Point every page straight at the final canonical URL.",
            |site, p| {
                let t = other_target(site, p)?;
                let next = target(&site.view(t))?;
                fire(
                    next.as_str() != t.url && next.as_str() != p.record.url,
                    || json!({ "canonical": t.url, "then": next.as_str() }),
                )
            }
        ),
        canonical_check!(
            "canonical-loop",
            Error,
            "Canonicals point at each other",
            "A cycle of canonicals leaves no preferred URL.",
            "Pick one URL as canonical for all of them.",
            |site, p| {
                let t = other_target(site, p)?;
                let back = target(&site.view(t))?;
                fire(
                    back.as_str() == p.record.url,
                    || json!({ "canonical": t.url }),
                )
            }
        ),
        canonical_check!(
            "canonical-cross-domain",
            Notice,
            "Canonical points to another site",
            "The page hands its indexing to another domain.",
            "Check that this is intended (syndicated content).",
            |_, p| {
                let t = target(p)?;
                let page = p.url()?;
                fire(
                    t.host_str() != page.host_str(),
                    || json!({ "canonical": t.as_str() }),
                )
            }
        ),
        canonical_check!(
            "canonical-https-to-http",
            Warning,
            "HTTPS page with an HTTP canonical",
            "It asks search engines to index the insecure version.",
            "Use the https:// URL as canonical.",
            |_, p| {
                let t = target(p)?;
                fire(
                    p.record.url.starts_with("https://") && t.scheme() == "http",
                    || json!({ "canonical": t.as_str() }),
                )
            }
        ),
        canonical_check!(
            "canonical-to-root",
            Warning,
            "Page names the homepage as its canonical",
            "Usually a template bug: every page declares itself a duplicate of the homepage.",
            "Make each page's canonical its own URL.",
            |_, p| {
                let t = target(p)?;
                let page = p.url()?;
                fire(
                    t.path() == "/"
                        && t.query().is_none()
                        && page.path() != "/"
                        && t.host_str() == page.host_str(),
                    || json!({ "canonical": t.as_str() }),
                )
            }
        ),
        canonical_check!(
            "canonicalised-page",
            Notice,
            "Page declares another URL as canonical",
            "The page is a declared duplicate and will not be indexed itself.",
            "Review the list; make sure each is a real duplicate.",
            |_, p| {
                let t = target(p)?;
                fire(
                    t.as_str() != p.record.url,
                    || json!({ "canonical": t.as_str() }),
                )
            }
        ),
        canonical_check!(
            "canonical-target-unlinked",
            Warning,
            "Canonical target without internal links",
            "Search engines doubt a canonical that the site itself never links to.",
            "Link to the canonical URL from your pages (instead of to its duplicates).",
            |site, p| {
                let t = other_target(site, p)?;
                let linked = site
                    .view(t)
                    .inlinks
                    .iter()
                    .any(|l| l.kind == "a" && !l.rel.is_some_and(|r| r.contains("nofollow")));
                fire(!linked, || json!({ "canonical": t.url }))
            }
        ),
        canonical_check!(
            "canonical-with-tracking-params",
            Warning,
            "Canonical URL with tracking or session parameters",
            "The preferred URL should be the clean one.",
            "Remove utm_*, gclid, session ids and the like from the canonical.",
            |_, p| {
                let t = target(p)?;
                let params: Vec<String> = t
                    .query_pairs()
                    .map(|(k, _)| k.to_ascii_lowercase())
                    .filter(|k| k.starts_with("utm_") || TRACKING.contains(&k.as_str()))
                    .collect();
                fire(
                    !params.is_empty(),
                    || json!({ "canonical": t.as_str(), "parameters": params }),
                )
            }
        ),
        canonical_check!(
            "canonical-with-noindex",
            Warning,
            "Noindex page that also names another canonical",
            "Two contradictory signals: not indexed, and a duplicate of another URL.",
            "Use one: either noindex, or the canonical.",
            |_, p| {
                let t = target(p)?;
                let noindex = p
                    .non_indexable_reason()
                    .is_some_and(|r| r.starts_with("noindex"));
                fire(
                    noindex && t.as_str() != p.record.url,
                    || json!({ "canonical": t.as_str() }),
                )
            }
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    const BASE: &str = "http://site.example";

    /// Where the strings say a page names only itself, the parser agrees: the URL
    /// parsed and each href resolved against it give the URL back. Over stored URLs of
    /// every shape and hrefs that are and are not the page.
    #[test]
    fn self_as_written_agrees_with_the_parser() {
        let urls = [
            "http://site.example/p/5.html",
            "https://site.example:8443/a/b",
            "http://user:pw@site.example/x",
            "http://127.0.0.1:18081/p/0.html",
            "http://[::1]/v6",
            "http://site.example/",
            "http://site.example/a%20b/%C3%A9",
            "http://site.example/a/%2E/b",
            "http://site.example/a/./b",
            "http://site.example//double",
            "http://site.example/q?x=1",
            "http://site.example/f#frag",
            "http://site.example/it's",
            "http://site.example./dot",
            "ftp://site.example/file",
            "http://site.example/caf\u{e9}",
        ];
        for url in urls {
            let mut hrefs: Vec<String> = vec![url.to_string(), String::new()];
            if let Ok(u) = url::Url::parse(url) {
                let path = u.path().to_string();
                hrefs.extend([
                    path.clone(),
                    format!(" {path}"),
                    path.to_uppercase(),
                    format!("/{path}"),
                    format!("{path}?"),
                    format!("{path}#top"),
                    format!("{path}/."),
                    "/other".to_string(),
                    url.replace("http://", "https://"),
                ]);
            }
            for href in &hrefs {
                let parsed = url::Url::parse(url).ok().is_some_and(|page| {
                    !href.is_empty()
                        && crate::url::resolve(&page, href).is_ok_and(|r| r.as_str() == url)
                });
                if super::self_as_written(url, std::iter::once(href.as_str())) {
                    assert!(parsed, "{url:?} named by {href:?}");
                }
            }
            // Several hrefs: all of them must name the page.
            let path = url::Url::parse(url).map(|u| u.path().to_string());
            if let Ok(path) = path {
                let both = [url, path.as_str()];
                let with_other = [url, "/other"];
                if super::self_as_written(url, both.into_iter()) {
                    assert_eq!(url::Url::parse(url).unwrap().as_str(), url);
                }
                assert!(!super::self_as_written(url, with_other.into_iter()));
            }
        }
        // The plain shapes are read off the strings.
        assert!(super::self_as_written(
            "http://127.0.0.1:18081/p/0.html",
            ["/p/0.html", "http://127.0.0.1:18081/p/0.html"].into_iter()
        ));
        assert!(super::self_as_written(
            "http://site.example/",
            std::iter::empty()
        ));
        assert!(!super::self_as_written(
            "http://site.example/a/%2E/b",
            ["/a/%2E/b"].into_iter()
        ));
    }

    fn tag(href: &str) -> serde_json::Value {
        json!({ "href": href })
    }

    /// An HTML page declaring these canonical tags (and optional extra facts).
    fn page(
        t: TestSite,
        path: &str,
        tags: serde_json::Value,
        extra: serde_json::Value,
    ) -> TestSite {
        t.page(path, Some(200), None, |r| {
            let mut f = json!({ "canonical_tags": tags });
            if let (Some(obj), Some(more)) = (f.as_object_mut(), extra.as_object()) {
                obj.extend(more.clone());
            }
            // Resolved canonicals, as the extractor records them for indexability.
            let resolved: Vec<String> = f["canonical_tags"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["href"].as_str())
                .filter(|h| !h.is_empty())
                .map(|h| {
                    if h.starts_with("http") {
                        h.to_string()
                    } else {
                        format!("{BASE}{h}")
                    }
                })
                .collect();
            f["canonicals"] = json!(resolved);
            r.set_facts(Some(crate::store::raw_json(&f)));
        })
    }

    #[test]
    fn declarations() {
        let mut t = TestSite::new();
        t = page(t, "/self", json!([tag(&format!("{BASE}/self"))]), json!({}));
        t = page(t, "/none", json!([]), json!({}));
        t = page(
            t,
            "/conflict",
            json!([tag(&format!("{BASE}/a")), tag(&format!("{BASE}/b"))]),
            json!({}),
        );
        t = page(
            t,
            "/dup",
            json!([tag(&format!("{BASE}/dup")), tag(&format!("{BASE}/dup"))]),
            json!({}),
        );
        t = page(t, "/rel", json!([tag("/rel")]), json!({}));
        t = page(t, "/empty", json!([tag("")]), json!({}));
        t = page(
            t,
            "/frag",
            json!([tag(&format!("{BASE}/frag#top"))]),
            json!({}),
        );
        t = page(
            t,
            "/body",
            json!([{ "href": format!("{BASE}/body"), "in_body": true }]),
            json!({}),
        );
        t = page(
            t,
            "/attrs",
            json!([{ "href": format!("{BASE}/attrs"), "extra_attributes": ["hreflang"] }]),
            json!({}),
        );
        t = page(
            t,
            "/utm",
            json!([tag(&format!("{BASE}/utm?utm_source=x"))]),
            json!({}),
        );
        t = page(
            t,
            "/deep/page",
            json!([tag(&format!("{BASE}/"))]),
            json!({}),
        );
        t = t.page("/hdr", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))));
            r.headers.push((
                "link".into(),
                format!("<{BASE}/hdr>; rel=\"canonical\"").into(),
            ));
        });
        assert_eq!(t.fired("canonical-missing"), ["/none"]);
        assert_eq!(t.fired("canonical-conflicting"), ["/conflict"]);
        assert_eq!(t.fired("canonical-duplicated"), ["/dup"]);
        assert_eq!(t.fired("canonical-relative"), ["/rel"]);
        assert_eq!(t.fired("canonical-invalid"), ["/empty"]);
        assert_eq!(t.fired("canonical-has-fragment"), ["/frag"]);
        assert_eq!(t.fired("canonical-outside-head"), ["/body"]);
        assert_eq!(t.fired("canonical-extra-attributes"), ["/attrs"]);
        assert_eq!(t.fired("canonical-with-tracking-params"), ["/utm"]);
        assert_eq!(t.fired("canonical-to-root"), ["/deep/page"]);
        assert!(t.fired("canonical-cross-domain").is_empty());
    }

    #[test]
    fn targets() {
        let mut t = TestSite::new();
        t = page(
            t,
            "/to-404",
            json!([tag(&format!("{BASE}/gone"))]),
            json!({}),
        );
        t = t.page("/gone", Some(404), None, |_| {});
        t = page(
            t,
            "/to-noindex",
            json!([tag(&format!("{BASE}/hidden"))]),
            json!({}),
        );
        t = page(
            t,
            "/hidden",
            json!([]),
            json!({ "meta_robots": ["noindex"] }),
        );
        t = page(
            t,
            "/to-blocked",
            json!([tag(&format!("{BASE}/private"))]),
            json!({}),
        );
        t = t.page(
            "/private",
            None,
            Some(crate::model::FailureKind::BlockedByRobots),
            |_| {},
        );
        t = page(t, "/a", json!([tag(&format!("{BASE}/b"))]), json!({}));
        t = page(t, "/b", json!([tag(&format!("{BASE}/c"))]), json!({}));
        t = page(t, "/c", json!([tag(&format!("{BASE}/c"))]), json!({}));
        t = page(t, "/x", json!([tag(&format!("{BASE}/y"))]), json!({}));
        t = page(t, "/y", json!([tag(&format!("{BASE}/x"))]), json!({}));
        t = page(
            t,
            "/away",
            json!([tag("https://elsewhere.example/")]),
            json!({}),
        );
        t = page(
            t,
            "/both",
            json!([tag(&format!("{BASE}/c"))]),
            json!({ "meta_robots": ["noindex"] }),
        );
        t = page(
            t,
            "/to-unlinked",
            json!([tag(&format!("{BASE}/orphan"))]),
            json!({}),
        );
        t = t.unlinked("/orphan", Some(200), |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))))
        });
        assert_eq!(
            t.fired("canonical-target-not-200"),
            ["/to-404", "/to-blocked"]
        );
        assert_eq!(t.fired("canonical-to-noindex"), ["/to-noindex"]);
        assert_eq!(t.fired("canonical-to-blocked"), ["/to-blocked"]);
        assert_eq!(t.fired("canonical-chain"), ["/a"]);
        assert_eq!(t.fired("canonical-loop"), ["/x", "/y"]);
        assert_eq!(t.fired("canonical-cross-domain"), ["/away"]);
        assert_eq!(t.fired("canonical-with-noindex"), ["/both"]);
        assert_eq!(t.fired("canonical-target-unlinked"), ["/to-unlinked"]);
        assert!(t.fired("canonicalised-page").contains(&"/a".to_string()));
        assert!(!t.fired("canonicalised-page").contains(&"/c".to_string()));
    }

    /// A target declaring itself in a tag and another URL in its `Link` header has no
    /// single canonical, so a page pointing at it is in no chain, however the crawl is
    /// held (the streamed audit leaves out the tags of pages declaring only themselves).
    #[test]
    fn a_target_declaring_itself_and_another_is_in_no_chain() {
        let mut t = TestSite::new();
        t = page(t, "/m", json!([tag(&format!("{BASE}/n"))]), json!({}));
        t = t.page("/n", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({
                "canonical_tags": [tag(&format!("{BASE}/n"))],
                "canonicals": [format!("{BASE}/n")],
            }))));
            r.headers.push((
                "link".into(),
                format!("<{BASE}/c>; rel=\"canonical\"").into(),
            ));
        });
        t = page(t, "/c", json!([tag(&format!("{BASE}/c"))]), json!({}));
        t = page(t, "/s", json!([tag(&format!("{BASE}/self"))]), json!({}));
        t = page(t, "/self", json!([tag(&format!("{BASE}/self"))]), json!({}));
        assert!(t.fired("canonical-chain").is_empty());
        assert!(t.fired("canonical-loop").is_empty());
        let mut conflicting = t.fired("canonical-conflicting");
        conflicting.sort();
        assert_eq!(conflicting, ["/n"]);
    }

    /// The per-thread memo of the last page's declarations never answers for another
    /// page: the same URL with other tags, in two crawls one after the other, is judged
    /// on its own tags.
    #[test]
    fn declarations_are_never_reused_for_other_tags() {
        let a = page(
            TestSite::new(),
            "/p",
            json!([tag(&format!("{BASE}/p"))]),
            json!({}),
        );
        let b = page(
            TestSite::new(),
            "/p",
            json!([tag(&format!("{BASE}/other"))]),
            json!({}),
        );
        let view = |t: &TestSite| {
            let site = t.site();
            let rec = site.by_url(&format!("{BASE}/p")).unwrap();
            super::declared(&site.view(rec))
                .iter()
                .map(|d| d.url.clone().map(String::from))
                .collect::<Vec<_>>()
        };
        for _ in 0..2 {
            assert_eq!(view(&a), [Some(format!("{BASE}/p"))]);
            assert_eq!(view(&b), [Some(format!("{BASE}/other"))]);
        }
    }

    #[test]
    fn https_page_with_http_canonical() {
        let t = TestSite::new().page("/s", Some(200), None, |r| {
            r.url = "https://site.example/s".into();
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "canonical_tags": [{ "href": "http://site.example/s" }] }),
            )));
        });
        assert_eq!(
            t.fired("canonical-https-to-http"),
            ["https://site.example/s"]
        );
    }
}
