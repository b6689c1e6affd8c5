//! Categories 22 (mobile, the static viewport and plugin checks) and 25 (social
//! sharing metadata: Open Graph and X cards).

use serde_json::json;

use super::Check;
use super::on_html as html;
use super::page as check;
use crate::model::{PageFacts, Severity};

const OG_REQUIRED: [&str; 4] = ["og:title", "og:type", "og:image", "og:url"];
const CARDS: [&str; 4] = ["summary", "summary_large_image", "app", "player"];

/// `name=value` pairs of a viewport content, lower-cased.
fn viewport(content: &str) -> Vec<(String, String)> {
    content
        .split([',', ';'])
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        })
        .collect()
}

fn first_viewport(f: &PageFacts) -> Option<Vec<(String, String)>> {
    f.viewports.first().map(|v| viewport(v))
}

fn absolute_http(v: &str) -> bool {
    url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        check(
            "viewport-missing",
            22,
            Severity::Error,
            [
                "No viewport meta",
                "Mobile browsers render the page at desktop width, zoomed out.",
                "Add <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">.",
            ],
            |p| html(p, |f| f.viewports.is_empty().then(|| json!({}))),
        ),
        check(
            "viewport-not-device-width",
            22,
            Severity::Warning,
            [
                "Viewport not set to the device width",
                "A fixed width does not adapt to phones.",
                "Use width=device-width.",
            ],
            |p| {
                html(p, |f| {
                    let v = first_viewport(f)?;
                    (!v.iter()
                        .any(|(k, val)| k == "width" && val == "device-width"))
                    .then(|| json!({ "viewport": f.viewports[0] }))
                })
            },
        ),
        check(
            "viewport-initial-scale",
            22,
            Severity::Notice,
            [
                "Viewport initial-scale missing or not 1",
                "The page may open zoomed in or out.",
                "Add initial-scale=1.",
            ],
            |p| {
                html(p, |f| {
                    let v = first_viewport(f)?;
                    let one = v.iter().any(|(k, val)| {
                        k == "initial-scale"
                            && val.parse::<f64>().is_ok_and(|s| (s - 1.0).abs() < 1e-9)
                    });
                    (!one).then(|| json!({ "viewport": f.viewports[0] }))
                })
            },
        ),
        check(
            "viewport-zoom-disabled",
            22,
            Severity::Warning,
            [
                "Zoom disabled",
                "Users who need larger text cannot zoom (a WCAG failure).",
                "Remove user-scalable=no and any maximum-scale below 2.",
            ],
            |p| {
                html(p, |f| {
                    let v = first_viewport(f)?;
                    let no_zoom = v
                        .iter()
                        .any(|(k, val)| k == "user-scalable" && (val == "no" || val == "0"));
                    let max_low = v.iter().any(|(k, val)| {
                        k == "maximum-scale" && val.parse::<f64>().is_ok_and(|m| m < 2.0)
                    });
                    (no_zoom || max_low).then(|| json!({ "viewport": f.viewports[0] }))
                })
            },
        ),
        check(
            "viewport-multiple",
            22,
            Severity::Notice,
            [
                "More than one viewport meta",
                "Browsers use one; the others are dead weight or conflicts.",
                "Keep one viewport meta.",
            ],
            |p| {
                html(p, |f| {
                    (f.viewports.len() > 1).then(|| json!({ "viewports": f.viewports }))
                })
            },
        ),
        check(
            "plugins-used",
            22,
            Severity::Warning,
            [
                "Browser plugin content (Flash, Java, Silverlight)",
                "No current browser runs plugins: the content is invisible.",
                "Replace it with HTML, video or images.",
            ],
            |p| {
                html(p, |f| {
                    (!f.plugins.is_empty()).then(|| json!({ "plugins": f.plugins }))
                })
            },
        ),
        check(
            "og-missing",
            25,
            Severity::Notice,
            [
                "No Open Graph tags",
                "Shared links show whatever the platform guesses.",
                "Add og:title, og:type, og:image and og:url.",
            ],
            |p| {
                html(p, |f| {
                    (!OG_REQUIRED.iter().any(|k| f.open_graph.contains_key(*k))).then(|| json!({}))
                })
            },
        ),
        check(
            "og-incomplete",
            25,
            Severity::Warning,
            [
                "Open Graph tags incomplete",
                "Platforms need all four required properties for a proper preview.",
                "Add the missing og: properties.",
            ],
            |p| {
                html(p, |f| {
                    let missing: Vec<&str> = OG_REQUIRED
                        .iter()
                        .copied()
                        .filter(|k| !f.open_graph.contains_key(*k))
                        .collect();
                    (!missing.is_empty() && missing.len() < OG_REQUIRED.len())
                        .then(|| json!({ "missing": missing }))
                })
            },
        ),
        check(
            "og-invalid-url",
            25,
            Severity::Warning,
            [
                "og:url or og:image is not an absolute URL",
                "Platforms cannot resolve relative URLs in Open Graph tags.",
                "Use absolute https:// URLs.",
            ],
            |p| {
                html(p, |f| {
                    let bad: Vec<(&String, &String)> = f
                        .open_graph
                        .iter()
                        .filter(|(k, v)| {
                            matches!(k.as_str(), "og:url" | "og:image") && !absolute_http(v)
                        })
                        .collect();
                    (!bad.is_empty()).then(|| json!({ "properties": bad.into_iter().collect::<std::collections::BTreeMap<_, _>>() }))
                })
            },
        ),
        check(
            "og-url-not-canonical",
            25,
            Severity::Warning,
            [
                "og:url differs from the canonical URL",
                "Shares are attributed to a different URL than the one you index.",
                "Set og:url to the canonical URL.",
            ],
            |p| {
                html(p, |f| {
                    let og = crate::url::normalize(f.open_graph.get("og:url")?).ok()?;
                    let canonical = f
                        .canonicals
                        .first()
                        .cloned()
                        .unwrap_or_else(|| p.record.url.clone());
                    let canonical = crate::url::normalize(&canonical).ok()?;
                    (og != canonical)
                        .then(|| json!({ "og_url": og.as_str(), "canonical": canonical.as_str() }))
                })
            },
        ),
        check(
            "twitter-card-missing",
            25,
            Severity::Notice,
            [
                "No twitter:card",
                "X shows a plain link without a card type.",
                "Add <meta name=\"twitter:card\" content=\"summary_large_image\">.",
            ],
            |p| html(p, |f| f.twitter_card.is_none().then(|| json!({}))),
        ),
        check(
            "twitter-card-invalid",
            25,
            Severity::Notice,
            [
                "Unknown twitter:card type",
                "X ignores card types it does not know.",
                "Use summary, summary_large_image, app or player.",
            ],
            |p| {
                html(p, |f| {
                    let c = f.twitter_card.as_deref()?;
                    (!CARDS.contains(&c.trim().to_ascii_lowercase().as_str()))
                        .then(|| json!({ "card": c }))
                })
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    #[test]
    fn viewport_and_plugins() {
        let mut t = TestSite::new();
        for (path, facts) in [
            (
                "/good",
                json!({ "viewports": ["width=device-width, initial-scale=1"] }),
            ),
            ("/none", json!({})),
            (
                "/fixed",
                json!({ "viewports": ["width=1024, initial-scale=1"] }),
            ),
            ("/scale", json!({ "viewports": ["width=device-width"] })),
            (
                "/nozoom",
                json!({ "viewports": ["width=device-width, initial-scale=1, user-scalable=no"] }),
            ),
            (
                "/two",
                json!({ "viewports": ["width=device-width, initial-scale=1", "width=device-width, initial-scale=1"] }),
            ),
            (
                "/flash",
                json!({ "viewports": ["width=device-width, initial-scale=1"], "plugins": ["movie.swf"] }),
            ),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&facts)))
            });
        }
        assert!(t.fired("viewport-missing").contains(&"/none".to_string()));
        assert!(!t.fired("viewport-missing").contains(&"/good".to_string()));
        assert_eq!(t.fired("viewport-not-device-width"), ["/fixed"]);
        assert_eq!(t.fired("viewport-initial-scale"), ["/scale"]);
        assert_eq!(t.fired("viewport-zoom-disabled"), ["/nozoom"]);
        assert_eq!(t.fired("viewport-multiple"), ["/two"]);
        assert_eq!(t.fired("plugins-used"), ["/flash"]);
    }

    #[test]
    fn social() {
        let full = json!({ "og:title": "T", "og:type": "website", "og:image": "https://site.example/i.png", "og:url": "http://site.example/full" });
        let mut t = TestSite::new();
        for (path, facts) in [
            (
                "/full",
                json!({ "open_graph": full, "twitter_card": "summary" }),
            ),
            ("/bare", json!({})),
            (
                "/part",
                json!({ "open_graph": { "og:title": "T" }, "twitter_card": "big" }),
            ),
            (
                "/rel",
                json!({ "open_graph": { "og:title": "T", "og:type": "article", "og:image": "/i.png", "og:url": "http://site.example/elsewhere" }, "twitter_card": "summary" }),
            ),
        ] {
            t = t.page(path, Some(200), None, |r| {
                r.set_facts(Some(crate::store::raw_json(&facts)))
            });
        }
        assert!(t.fired("og-missing").contains(&"/bare".to_string()));
        assert!(!t.fired("og-missing").contains(&"/full".to_string()));
        assert_eq!(t.fired("og-incomplete"), ["/part"]);
        assert_eq!(t.fired("og-invalid-url"), ["/rel"]);
        assert_eq!(t.fired("og-url-not-canonical"), ["/rel"]);
        assert!(
            t.fired("twitter-card-missing")
                .contains(&"/bare".to_string())
        );
        assert_eq!(t.fired("twitter-card-invalid"), ["/part"]);
    }
}
