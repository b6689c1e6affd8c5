//! Category 11: hreflang and page language, from the `<link rel=alternate hreflang>`
//! elements as written (HTTP `Link` and sitemap `xhtml:link` sources are not read yet).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{Check, CheckInfo, Evidence, PageView, SiteData};
use crate::model::{HreflangTag, Severity};

/// ISO 639-1 language codes.
const LANGUAGES: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";
/// ISO 3166-1 alpha-2 region codes.
const REGIONS: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `v` is `x-default` or `language[-Script][-REGION]` with registered codes.
pub(crate) fn valid_hreflang(v: &str) -> bool {
    if v.eq_ignore_ascii_case("x-default") {
        return true;
    }
    let mut parts = v.split('-');
    let Some(lang) = parts.next() else {
        return false;
    };
    if !LANGUAGES.split(' ').any(|l| l.eq_ignore_ascii_case(lang)) {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    match rest.as_slice() {
        [] => true,
        [one] => region(one) || script(one),
        [s, r] => script(s) && region(r),
        _ => false,
    }
}

fn region(r: &str) -> bool {
    r.len() == 2 && REGIONS.split(' ').any(|c| c.eq_ignore_ascii_case(r))
}

fn script(s: &str) -> bool {
    s.len() == 4 && s.chars().all(|c| c.is_ascii_alphabetic())
}

/// Whether a `<html lang>` is a well-formed tag with a registered primary language.
fn valid_lang(v: &str) -> bool {
    let mut parts = v.split('-');
    let primary = parts.next().unwrap_or_default();
    let known = match primary.len() {
        2 => LANGUAGES
            .split(' ')
            .any(|l| l.eq_ignore_ascii_case(primary)),
        3 => primary.chars().all(|c| c.is_ascii_alphabetic()),
        _ => false,
    };
    known
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn primary(v: &str) -> String {
    v.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The page's alternates, resolved: (value, normalized URL when valid).
///
/// Several checks ask this of each page in turn: the last page's resolved hrefs are
/// kept per thread, keyed by the page URL and the hrefs themselves.
fn alternates<'a>(p: &PageView<'a>) -> Vec<(&'a HreflangTag, Option<String>)> {
    struct Last {
        url: String,
        hrefs: Vec<String>,
        resolved: Vec<Option<String>>,
    }
    thread_local! {
        static LAST: std::cell::RefCell<Option<Last>> = const { std::cell::RefCell::new(None) };
    }
    let Some(f) = p.html() else {
        return Vec::new();
    };
    LAST.with_borrow_mut(|last| {
        let hit = last.as_ref().is_some_and(|l| {
            l.url == p.record.url && l.hrefs.iter().eq(f.hreflang.iter().map(|t| &t.href))
        });
        if !hit {
            let base = p.url();
            let resolved = f
                .hreflang
                .iter()
                .map(|t| {
                    base.as_ref()
                        .and_then(|b| crate::url::resolve(b, &t.href).ok())
                        .map(String::from)
                })
                .collect();
            *last = Some(Last {
                url: p.record.url.clone(),
                hrefs: f.hreflang.iter().map(|t| t.href.clone()).collect(),
                resolved,
            });
        }
        let resolved = &last.as_ref().expect("just set").resolved;
        f.hreflang.iter().zip(resolved.iter().cloned()).collect()
    })
}

fn check(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&SiteData, &PageView<'_>) -> Option<serde_json::Value>,
) -> Box<dyn Check> {
    Box::new(super::HtmlCheck {
        info: CheckInfo {
            id,
            category: 11,
            severity,
            title: text[0],
            why: text[1],
            fix: text[2],
        },
        eval,
    })
}

/// Alternates (other than the page) whose crawled record satisfies `pred`.
fn targets_where(
    site: &SiteData,
    p: &PageView<'_>,
    pred: fn(&SiteData, &PageView<'_>) -> bool,
) -> Option<serde_json::Value> {
    let hits: BTreeSet<String> = alternates(p)
        .into_iter()
        .filter_map(|(_, u)| u)
        .filter(|u| *u != p.record.url)
        .filter(|u| {
            site.by_url(u)
                .is_some_and(|r| r.state == "done" && pred(site, &site.view(r)))
        })
        .collect();
    (!hits.is_empty()).then(|| json!({ "alternates": hits }))
}

fn page(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&PageView<'_>) -> Evidence,
) -> Box<dyn Check> {
    super::page(id, 11, severity, text, eval)
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        check(
            "hreflang-invalid-code",
            Severity::Error,
            [
                "Invalid hreflang value",
                "Unknown codes (en-UK, en_US, jp) are ignored, so the alternate is lost.",
                "Use language[-REGION] with ISO 639-1 and ISO 3166-1 codes, or x-default.",
            ],
            |_, p| {
                let bad: BTreeSet<&str> = alternates(p)
                    .iter()
                    .map(|(t, _)| t.value.as_str())
                    .filter(|v| !valid_hreflang(v))
                    .collect();
                (!bad.is_empty()).then(|| json!({ "values": bad }))
            },
        ),
        check(
            "hreflang-relative-url",
            Severity::Error,
            [
                "Relative hreflang URL",
                "Alternates must be fully qualified URLs.",
                "Write absolute https:// URLs in hreflang links.",
            ],
            |_, p| {
                let rel: Vec<&str> = alternates(p)
                    .iter()
                    .map(|(t, _)| t.href.as_str())
                    .filter(|h| !h.starts_with("http://") && !h.starts_with("https://"))
                    .collect();
                (!rel.is_empty()).then(|| json!({ "hrefs": rel }))
            },
        ),
        check(
            "hreflang-target-not-200",
            Severity::Error,
            [
                "hreflang alternate does not answer 200",
                "Alternates that redirect or fail are ignored.",
                "Point hreflang at the final, working URLs.",
            ],
            |site, p| {
                targets_where(site, p, |_, t| {
                    !(t.status().is_some_and(|s| (200..300).contains(&s))
                        && t.record.failure().is_none())
                })
            },
        ),
        check(
            "hreflang-to-noindex",
            Severity::Error,
            [
                "hreflang alternate is noindex",
                "A noindex alternate cannot be shown in any language.",
                "Remove noindex there or drop it from the set.",
            ],
            |site, p| {
                targets_where(site, p, |_, t| {
                    t.non_indexable_reason()
                        .is_some_and(|r| r.starts_with("noindex"))
                })
            },
        ),
        check(
            "hreflang-to-non-canonical",
            Severity::Error,
            [
                "hreflang alternate names another canonical",
                "Alternates must be canonical URLs, or the set is ignored.",
                "Use the canonical URL of each alternate.",
            ],
            |site, p| {
                targets_where(site, p, |_, t| {
                    t.non_indexable_reason() == Some("canonicalised to another URL")
                })
            },
        ),
        check(
            "hreflang-to-blocked",
            Severity::Error,
            [
                "hreflang alternate blocked by robots.txt",
                "Search engines cannot confirm a blocked alternate.",
                "Allow the alternate in robots.txt.",
            ],
            |site, p| {
                targets_where(site, p, |_, t| {
                    t.record.robots_disallowed
                        || matches!(
                            t.record.failure(),
                            Some(crate::model::FailureKind::BlockedByRobots)
                        )
                })
            },
        ),
        check(
            "hreflang-no-return-link",
            Severity::Error,
            [
                "hreflang alternate does not link back",
                "Unreciprocated hreflang pairs are ignored.",
                "Make every alternate list every other, including this page.",
            ],
            |site, p| {
                let missing: Vec<String> = alternates(p)
                    .into_iter()
                    .filter_map(|(_, u)| u)
                    .filter(|u| *u != p.record.url)
                    .filter(|u| {
                        site.by_url(u).is_some_and(|r| {
                            let v = site.view(r);
                            v.html().is_some()
                                && v.non_indexable_reason().is_none()
                                && !alternates(&v)
                                    .iter()
                                    .any(|(_, back)| back.as_deref() == Some(p.record.url.as_str()))
                        })
                    })
                    .collect();
                (!missing.is_empty()).then(|| json!({ "alternates": missing }))
            },
        ),
        check(
            "hreflang-return-code-mismatch",
            Severity::Warning,
            [
                "hreflang return link uses a different code",
                "The pair disagrees about this page's language.",
                "Use the same code for this page on every alternate.",
            ],
            |site, p| {
                let own: Vec<String> = alternates(p)
                    .into_iter()
                    .filter(|(_, u)| u.as_deref() == Some(p.record.url.as_str()))
                    .map(|(t, _)| t.value.to_ascii_lowercase())
                    .collect();
                let own = own.first()?;
                let diff: Vec<serde_json::Value> = alternates(p)
                    .into_iter()
                    .filter_map(|(_, u)| u)
                    .filter(|u| *u != p.record.url)
                    .filter_map(|u| {
                        let r = site.by_url(&u)?;
                        let v = site.view(r);
                        let back = alternates(&v)
                            .into_iter()
                            .find(|(_, b)| b.as_deref() == Some(p.record.url.as_str()))?;
                        (back.0.value.to_ascii_lowercase() != *own)
                            .then(|| json!({ "alternate": u, "says": back.0.value }))
                    })
                    .collect();
                (!diff.is_empty()).then(|| json!({ "own": own, "mismatches": diff }))
            },
        ),
        page(
            "hreflang-no-self-reference",
            Severity::Warning,
            [
                "hreflang set without this page",
                "Every page in a set must list itself.",
                "Add an hreflang link to the page's own URL.",
            ],
            |p| {
                let a = alternates(p);
                (!a.is_empty()
                    && !a
                        .iter()
                        .any(|(_, u)| u.as_deref() == Some(p.record.url.as_str())))
                .then(|| (None, json!({ "alternates": a.len() })))
            },
        ),
        page(
            "hreflang-duplicate-code",
            Severity::Error,
            [
                "One hreflang code for several URLs",
                "Search engines cannot tell which URL serves that language.",
                "Give each code one URL.",
            ],
            |p| {
                let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for (t, u) in alternates(p) {
                    by.entry(t.value.to_ascii_lowercase())
                        .or_default()
                        .insert(u.unwrap_or_else(|| t.href.clone()));
                }
                let dup: Vec<&String> = by
                    .iter()
                    .filter(|(_, u)| u.len() > 1)
                    .map(|(v, _)| v)
                    .collect();
                (!dup.is_empty()).then(|| (None, json!({ "codes": dup })))
            },
        ),
        page(
            "hreflang-url-multiple-codes",
            Severity::Error,
            [
                "One URL with several hreflang codes",
                "A URL can serve one language-region (plus x-default).",
                "Give each URL one code.",
            ],
            |p| {
                let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for (t, u) in alternates(p)
                    .into_iter()
                    .filter(|(t, _)| !t.value.eq_ignore_ascii_case("x-default"))
                {
                    by.entry(u.unwrap_or_else(|| t.href.clone()))
                        .or_default()
                        .insert(t.value.to_ascii_lowercase());
                }
                let multi: Vec<&String> = by
                    .iter()
                    .filter(|(_, v)| v.len() > 1)
                    .map(|(u, _)| u)
                    .collect();
                (!multi.is_empty()).then(|| (None, json!({ "urls": multi })))
            },
        ),
        page(
            "hreflang-no-x-default",
            Severity::Notice,
            [
                "hreflang set without x-default",
                "Visitors matching no listed language get no fallback.",
                "Add an x-default alternate.",
            ],
            |p| {
                let a = alternates(p);
                (a.len() >= 2
                    && !a
                        .iter()
                        .any(|(t, _)| t.value.eq_ignore_ascii_case("x-default")))
                .then(|| (None, json!({ "alternates": a.len() })))
            },
        ),
        page(
            "hreflang-on-non-canonical",
            Severity::Notice,
            [
                "hreflang on a page that names another canonical",
                "Its annotations are ignored.",
                "Put the hreflang set on the canonical URL.",
            ],
            |p| {
                (!alternates(p).is_empty()
                    && p.non_indexable_reason() == Some("canonicalised to another URL"))
                .then(|| (None, json!({})))
            },
        ),
        page(
            "hreflang-outside-head",
            Severity::Error,
            [
                "hreflang links outside <head>",
                "Links in the body are ignored.",
                "Move the hreflang links into <head>.",
            ],
            |p| {
                let late = p.html()?.hreflang.iter().filter(|t| t.in_body).count();
                (late > 0).then(|| (None, json!({ "links": late })))
            },
        ),
        check(
            "hreflang-unlinked",
            Severity::Notice,
            [
                "hreflang alternate without internal links",
                "Alternates only reachable through hreflang are weak.",
                "Link the language versions to each other (a language switcher).",
            ],
            |site, p| targets_where(site, p, |_, t| !t.inlinks.iter().any(|l| l.kind == "a")),
        ),
        check(
            "hreflang-cluster-incomplete",
            Severity::Notice,
            [
                "Some hreflang alternates were not crawled",
                "Reciprocity could not be verified for them.",
                "Widen the crawl's scope or limits to include them.",
            ],
            |site, p| {
                let missing: BTreeSet<String> = alternates(p)
                    .into_iter()
                    .filter_map(|(_, u)| u)
                    .filter(|u| site.by_url(u).is_none_or(|r| r.state != "done"))
                    .collect();
                (!missing.is_empty()).then(|| json!({ "alternates": missing }))
            },
        ),
        page(
            "hreflang-html-lang-mismatch",
            Severity::Warning,
            [
                "hreflang and <html lang> disagree",
                "The page declares two different languages.",
                "Make <html lang> match the page's own hreflang code.",
            ],
            |p| {
                let lang = p.html()?.lang.as_deref().filter(|l| !l.trim().is_empty())?;
                let own = alternates(p).into_iter().find(|(t, u)| {
                    u.as_deref() == Some(p.record.url.as_str())
                        && !t.value.eq_ignore_ascii_case("x-default")
                })?;
                (primary(&own.0.value) != primary(lang))
                    .then(|| (None, json!({ "hreflang": own.0.value, "lang": lang })))
            },
        ),
        page(
            "hreflang-without-html-lang",
            Severity::Warning,
            [
                "hreflang set but no <html lang>",
                "The page's own language is undeclared.",
                "Add lang to <html>.",
            ],
            |p| {
                (!alternates(p).is_empty()
                    && p.html()?
                        .lang
                        .as_deref()
                        .is_none_or(|l| l.trim().is_empty()))
                .then(|| (None, json!({})))
            },
        ),
        page(
            "html-lang-missing",
            Severity::Warning,
            [
                "No lang on <html>",
                "Screen readers and translators must guess the language (a WCAG failure).",
                "Add lang=\"…\" to <html>.",
            ],
            |p| {
                p.html()?
                    .lang
                    .as_deref()
                    .is_none_or(|l| l.trim().is_empty())
                    .then(|| (None, json!({})))
            },
        ),
        page(
            "html-lang-invalid",
            Severity::Warning,
            [
                "Invalid <html lang>",
                "Values like english or en_US are not language tags.",
                "Use a BCP 47 tag such as en or en-GB.",
            ],
            |p| {
                let lang = p.html()?.lang.as_deref().filter(|l| !l.trim().is_empty())?;
                (!valid_lang(lang.trim())).then(|| (None, json!({ "lang": lang })))
            },
        ),
        page(
            "html-xml-lang-mismatch",
            Severity::Notice,
            [
                "lang and xml:lang disagree",
                "Two different languages are declared.",
                "Make them match, or drop xml:lang.",
            ],
            |p| {
                let f = p.html()?;
                let (l, x) = (f.lang.as_deref()?, f.xml_lang.as_deref()?);
                (primary(l) != primary(x)).then(|| (None, json!({ "lang": l, "xml_lang": x })))
            },
        ),
        page(
            "content-language-header-conflict",
            Severity::Notice,
            [
                "Content-Language header disagrees with <html lang>",
                "The server and the page declare different languages.",
                "Make them match, or drop the header.",
            ],
            |p| {
                let lang = p.html()?.lang.as_deref()?;
                let header = p.header("content-language")?;
                let langs: Vec<String> = header.split(',').map(primary).collect();
                (!langs.contains(&primary(lang)))
                    .then(|| (None, json!({ "header": header, "lang": lang })))
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::valid_hreflang;
    use crate::checks::test_support::TestSite;

    const B: &str = "http://site.example";

    fn alt(value: &str, path: &str) -> serde_json::Value {
        json!({ "value": value, "href": format!("{B}{path}") })
    }

    fn page(t: TestSite, path: &str, lang: &str, alts: serde_json::Value) -> TestSite {
        t.page(path, Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "lang": lang, "hreflang": alts }),
            )))
        })
    }

    #[test]
    fn codes() {
        for ok in ["en", "en-GB", "x-default", "zh-Hant-TW", "pt-br"] {
            assert!(valid_hreflang(ok), "{ok}");
        }
        for bad in ["en-UK", "en_US", "jp", "english", "en-GB-x"] {
            assert!(!valid_hreflang(bad), "{bad}");
        }
    }

    #[test]
    fn sets() {
        let mut t = TestSite::new();
        // A complete pair: /en and /de list each other and themselves.
        let pair = json!([alt("en", "/en"), alt("de", "/de"), alt("x-default", "/en")]);
        t = page(t, "/en", "en", pair.clone());
        t = page(t, "/de", "de", pair);
        // /fr lists /en, which does not list /fr back; /fr has no self link, bad codes,
        // a relative href and a duplicate code.
        t = page(
            t,
            "/fr",
            "de",
            json!([alt("en", "/en"), alt("en-UK", "/x"), { "value": "fr", "href": "/fr-rel" }, alt("en", "/other")]),
        );
        t = page(
            t,
            "/solo",
            "",
            json!([alt("it", "/solo"), alt("it", "/solo")]),
        );
        t = page(
            t,
            "/mix",
            "es",
            json!([alt("es", "/mix"), alt("ca", "/mix")]),
        );
        let hits = |id: &str| t.fired(id);
        assert_eq!(hits("hreflang-invalid-code"), ["/fr"]);
        assert_eq!(hits("hreflang-relative-url"), ["/fr"]);
        assert_eq!(hits("hreflang-no-return-link"), ["/fr"]);
        assert_eq!(hits("hreflang-no-self-reference"), ["/fr"]);
        assert_eq!(hits("hreflang-duplicate-code"), ["/fr"]);
        assert_eq!(hits("hreflang-url-multiple-codes"), ["/mix"]);
        assert_eq!(hits("hreflang-no-x-default"), ["/fr", "/solo", "/mix"]);
        assert!(hits("hreflang-cluster-incomplete").contains(&"/fr".to_string()));
        assert!(!hits("hreflang-cluster-incomplete").contains(&"/en".to_string()));
        assert_eq!(hits("hreflang-without-html-lang"), ["/solo"]);
        assert!(hits("hreflang-html-lang-mismatch").is_empty());
        assert!(hits("hreflang-target-not-200").is_empty());
    }

    #[test]
    fn targets_and_language() {
        let mut t = TestSite::new();
        t = page(
            t,
            "/en",
            "de",
            json!([
                alt("en", "/en"),
                alt("de", "/de"),
                alt("fr", "/fr"),
                alt("it", "/it"),
                alt("es", "/es")
            ]),
        );
        t = t.page("/de", Some(404), None, |_| {});
        t = t.page("/fr", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "meta_robots": ["noindex"] }),
            )))
        });
        t = t.page("/it", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "canonicals": [format!("{B}/en")] }),
            )))
        });
        t = t.page(
            "/es",
            None,
            Some(crate::model::FailureKind::BlockedByRobots),
            |_| {},
        );
        t = t.page("/body", Some(200), None, |r| r.set_facts(Some(crate::store::raw_json(&json!({ "lang": "en_US", "xml_lang": "fr", "hreflang": [{ "value": "en", "href": format!("{B}/body"), "in_body": true }] })))));
        t = t.page("/hdr", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({ "lang": "en" }))));
            r.headers.push(("content-language".into(), "de".into()));
        });
        t = t.page("/nolang", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(&json!({}))))
        });
        assert_eq!(t.fired("hreflang-target-not-200"), ["/en"]);
        assert_eq!(t.fired("hreflang-to-noindex"), ["/en"]);
        assert_eq!(t.fired("hreflang-to-non-canonical"), ["/en"]);
        assert_eq!(t.fired("hreflang-to-blocked"), ["/en"]);
        assert_eq!(t.fired("hreflang-html-lang-mismatch"), ["/en"]);
        assert_eq!(t.fired("hreflang-outside-head"), ["/body"]);
        assert_eq!(t.fired("html-lang-invalid"), ["/body"]);
        assert_eq!(t.fired("html-xml-lang-mismatch"), ["/body"]);
        assert_eq!(t.fired("content-language-header-conflict"), ["/hdr"]);
        assert!(
            t.fired("html-lang-missing")
                .contains(&"/nolang".to_string())
        );
        assert!(!t.fired("html-lang-missing").contains(&"/hdr".to_string()));
    }
}
