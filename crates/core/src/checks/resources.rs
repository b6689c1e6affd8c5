//! Categories 19 (images) and 20 (CSS, JavaScript and other page resources).
//! Resource checks report each resource URL once, with the pages that use it.

use std::collections::HashMap;

use serde_json::json;

use super::{Check, CheckInfo, Evidence, PageView, SiteData};
use crate::model::{Finding, ImageTag, Severity};
use crate::store::UrlScope;

const IMAGE_KINDS: &[&str] = &["img"];
const RESOURCE_KINDS: &[&str] = &["script", "css", "media", "object", "preload", "icon"];

/// A check over URLs used as resources of the given link kinds.
struct ResourceCheck {
    info: CheckInfo,
    kinds: &'static [&'static str],
    eval: fn(&PageView<'_>) -> Evidence,
}

impl Check for ResourceCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site.pages() {
            // The page itself first: the pages using it are gathered only for a finding
            // (a stylesheet is used by every page).
            let Some((sev, mut details)) = (self.eval)(&p) else {
                continue;
            };
            // Counted as they come, the first 10 kept: a stylesheet on a million pages
            // would otherwise list them all (16 MB) for one finding. Repeats in a row
            // (one page linking it twice) count once.
            let (mut shown, mut pages, mut last) = (Vec::new(), 0usize, None);
            let using = p
                .inlinks
                .iter()
                .filter(|l| self.kinds.contains(&l.kind.as_str()))
                .filter_map(|l| site.get(l.from).filter(|f| f.scope == UrlScope::Internal))
                .map(|f| f.url.as_str());
            for url in using {
                if last != Some(url) {
                    last = Some(url);
                    pages += 1;
                    if shown.len() < 10 {
                        shown.push(url);
                    }
                }
            }
            if pages == 0 {
                continue;
            }
            details["used_on"] = json!(shown);
            details["pages"] = json!(pages);
            out.push(Finding {
                check_id: self.info.id,
                severity: sev.unwrap_or(self.info.severity),
                url: Some(p.record.url.clone()),
                details,
            });
        }
    }
}

fn resource(
    id: &'static str,
    category: u8,
    severity: Severity,
    kinds: &'static [&'static str],
    text: [&'static str; 3],
    eval: fn(&PageView<'_>) -> Evidence,
) -> Box<dyn Check> {
    Box::new(ResourceCheck {
        info: CheckInfo::new(id, category, severity, text),
        kinds,
        eval,
    })
}

/// Broken: 4xx/5xx or no answer; a warning when the resource is on another site.
fn broken(p: &PageView<'_>) -> Evidence {
    let r = p.record;
    let bad = r.status.is_some_and(|s| s >= 400) || r.failure().is_some_and(|f| f.is_error());
    bad.then(|| {
        let sev = (r.scope == UrlScope::External).then_some(Severity::Warning);
        (
            sev,
            json!({ "status": r.status, "failure": r.failure().map(|f| f.id()) }),
        )
    })
}

fn content_type(p: &PageView<'_>) -> String {
    p.record
        .content_type
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_text(ct: &str) -> bool {
    ct.starts_with("text/")
        || ["javascript", "json", "xml", "svg"]
            .iter()
            .any(|t| ct.contains(t))
}

/// The effective cache lifetime in seconds from Cache-Control (`None`: not cacheable).
fn cache_seconds(p: &PageView<'_>) -> Option<u64> {
    let cc = p
        .header("cache-control")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if cc.contains("no-store") || cc.contains("no-cache") {
        return None;
    }
    let age = |key: &str| {
        cc.split(',')
            .filter_map(|d| d.trim().strip_prefix(key))
            .find_map(|v| v.trim().parse::<u64>().ok())
    };
    age("s-maxage=")
        .or_else(|| age("max-age="))
        .or_else(|| p.header("expires").map(|_| p.limits.min_cache_seconds))
}

/// Image checks on one page's `<img>` elements.
fn images(p: &PageView<'_>, pick: impl Fn(&ImageTag) -> bool) -> Evidence {
    let f = p.html()?;
    let hits: Vec<&str> = f
        .images
        .iter()
        .filter(|i| pick(i))
        .map(|i| i.src.as_deref().unwrap_or(""))
        .collect();
    (!hits.is_empty()).then(|| {
        (
            None,
            json!({ "images": hits.iter().take(20).collect::<Vec<_>>(), "count": hits.len() }),
        )
    })
}

/// Whether an alt text is a file name, a camera name or a generic word.
fn alt_is_filename(i: &ImageTag) -> bool {
    let Some(alt) = i.alt.as_deref().map(str::trim).filter(|a| !a.is_empty()) else {
        return false;
    };
    let a = alt.to_ascii_lowercase();
    let file = i
        .src
        .as_deref()
        .and_then(|s| s.rsplit('/').next())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let stem = file.split('.').next().unwrap_or_default();
    let camera = ["img_", "img-", "dsc", "dscn", "pxl_"]
        .iter()
        .any(|p| a.starts_with(p) && a[p.len()..].chars().take(3).all(|c| c.is_ascii_digit()));
    (!file.is_empty() && (a == file || a == stem))
        || camera
        || ["image", "photo", "picture", "graphic", "untitled", "img"].contains(&a.as_str())
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        resource(
            "image-broken",
            19,
            Severity::Error,
            IMAGE_KINDS,
            [
                "Broken image",
                "Visitors see a broken image icon; image search drops it.",
                "Fix the image URL or restore the file.",
            ],
            broken,
        ),
        page_check!(
            "image-alt-missing",
            19,
            Warning,
            "Image without alt attribute",
            "Screen readers cannot describe the image; search engines get no text for it.",
            "Add alt text describing the image (alt=\"\" if it is decorative).",
            |p| images(p, |i| i.alt.is_none() && !i.hidden && !i.pixel),
        ),
        page_check!(
            "image-alt-empty",
            19,
            Notice,
            "Image with empty alt",
            "Right for decorative images; meaningful images need a description.",
            "Check each listed image is decorative.",
            |p| images(p, |i| i.alt.as_deref().is_some_and(|a| a.trim().is_empty())),
        ),
        page_check!(
            "image-alt-too-long",
            19,
            Notice,
            "Alt text longer than 100 characters",
            "Long alt text is tiring to listen to; describe, don't narrate.",
            "Shorten the alt text; put long descriptions in the page.",
            |p| images(p, |i| i
                .alt
                .as_deref()
                .is_some_and(|a| a.chars().count() > p.limits.alt_max_chars)),
        ),
        page_check!(
            "image-alt-filename",
            19,
            Notice,
            "Alt text is a file name or a generic word",
            "\"IMG_1234\" or \"image\" describes nothing.",
            "Write what the image shows.",
            |p| images(p, alt_is_filename),
        ),
        resource(
            "image-file-large",
            19,
            Severity::Warning,
            IMAGE_KINDS,
            [
                "Image over 100 KB",
                "Large images slow pages down, especially on mobile.",
                "Compress the image, resize it, or serve WebP/AVIF.",
            ],
            |p| {
                let b = p.record.wire_bytes.get()?;
                (b > p.limits.image_max_bytes
                    && p.record.status.is_some_and(|s| (200..300).contains(&s)))
                .then(|| (None, json!({ "bytes": b })))
            },
        ),
        page_check!(
            "image-dimensions-missing",
            19,
            Notice,
            "Image without width and height",
            "The layout shifts when the image arrives.",
            "Set width and height attributes (CSS can still scale the image).",
            |p| images(p, |i| !i.sized && !i.pixel),
        ),
        page_check!(
            "image-empty-src",
            19,
            Warning,
            "Image without a source",
            "An empty src requests the page itself and shows nothing.",
            "Give the image a src (or remove it).",
            |p| images(p, |i| i.src.as_deref().is_none_or(|s| s.trim().is_empty())
                && !i.srcset),
        ),
        page_check!(
            "picture-without-img",
            19,
            Warning,
            "<picture> without an <img>",
            "Nothing renders where sources do not match, and crawlers find no image.",
            "Put an <img> fallback inside every <picture>.",
            |p| {
                let f = p.html()?;
                (f.pictures_without_img > 0)
                    .then(|| (None, json!({ "pictures": f.pictures_without_img })))
            },
        ),
        page_check!(
            "image-map-used",
            19,
            Notice,
            "Image map on the page",
            "Image maps are awkward on touch screens and hard to make accessible.",
            "Use ordinary links over or beside the image.",
            |p| {
                let f = p.html()?;
                (f.image_maps > 0).then(|| (None, json!({ "maps": f.image_maps })))
            },
        ),
        resource(
            "resource-broken",
            20,
            Severity::Error,
            RESOURCE_KINDS,
            [
                "Broken script, stylesheet or media file",
                "The page renders or behaves wrongly without it.",
                "Fix the reference or restore the file.",
            ],
            broken,
        ),
        resource(
            "subresource-redirect",
            20,
            Severity::Notice,
            &["img", "script", "css", "preload", "icon", "media"],
            [
                "Resource URL redirects",
                "Every page view pays an extra round trip.",
                "Reference the final URL.",
            ],
            |p| {
                let redirect = p.record.status.is_some_and(|s| (300..400).contains(&s))
                    || p.record.location().is_some();
                redirect.then(|| {
                    (
                        None,
                        json!({ "status": p.record.status, "location": p.record.location() }),
                    )
                })
            },
        ),
        resource(
            "text-not-compressed",
            20,
            Severity::Warning,
            &["script", "css"],
            [
                "Text resource served without compression",
                "Uncompressed text costs bandwidth and time; compression typically saves 70%.",
                "Enable gzip, br or zstd for text types on the server or CDN.",
            ],
            |p| {
                let ct = content_type(p);
                let big = p.record.body_bytes.get().is_some_and(|b| b > 1024);
                (is_text(&ct)
                    && big
                    && p.record.status.is_some_and(|s| (200..300).contains(&s))
                    && p.header("content-encoding").is_none()
                    && p.record.wire_bytes == p.record.body_bytes)
                    .then(|| {
                        (
                            None,
                            json!({ "bytes": p.record.body_bytes, "content_type": ct }),
                        )
                    })
            },
        ),
        resource(
            "resource-cache-short",
            20,
            Severity::Notice,
            &["img", "script", "css", "icon", "preload"],
            [
                "Static resource cached for less than 7 days",
                "Repeat visitors download it again.",
                "Send Cache-Control: max-age of a week or more (with versioned file names).",
            ],
            |p| {
                if !p.record.status.is_some_and(|s| (200..300).contains(&s))
                    || p.record.scope != UrlScope::Internal
                {
                    return None;
                }
                let secs = cache_seconds(p);
                secs.is_none_or(|s| s < p.limits.min_cache_seconds)
                    .then(|| {
                        (
                            None,
                            json!({ "cache_control": p.header("cache-control"), "seconds": secs }),
                        )
                    })
            },
        ),
        resource(
            "resource-too-large",
            20,
            Severity::Notice,
            &["script", "css"],
            [
                "Script or stylesheet over 500 KB",
                "Large files delay rendering and interactivity.",
                "Split the bundle; remove unused code.",
            ],
            |p| {
                let b = p.record.body_bytes.get()?;
                (b > p.limits.resource_max_bytes).then(|| (None, json!({ "bytes": b })))
            },
        ),
        Box::new(PageResourceCheck(&HEAVY)),
        Box::new(PageResourceCheck(&MANY)),
        Box::new(PageResourceCheck(&DUPLICATE)),
        page_check!(
            "render-blocking-resource",
            20,
            Notice,
            "Render-blocking script or stylesheet in <head>",
            "The browser waits for them before showing anything.",
            "Add defer/async to scripts; load non-critical CSS later or with a media query.",
            |p| {
                let f = p.html()?;
                (!f.render_blocking.is_empty())
                    .then(|| (None, json!({ "resources": f.render_blocking })))
            },
        ),
    ]
}

const HEAVY: CheckInfo = CheckInfo {
    id: "resources-total-heavy",
    category: 20,
    severity: Severity::Warning,
    title: "Scripts and stylesheets over 2 MB in all",
    why: "The page is slow to load on mobile networks.",
    fix: "Remove unused code; split and defer what is not needed at first.",
};
const MANY: CheckInfo = CheckInfo {
    id: "resources-too-many",
    category: 20,
    severity: Severity::Warning,
    title: "More than 100 scripts and stylesheets",
    why: "Each file costs a request and delays rendering.",
    fix: "Bundle files; drop unused ones.",
};
const DUPLICATE: CheckInfo = CheckInfo {
    id: "duplicate-resource-include",
    category: 20,
    severity: Severity::Notice,
    title: "The same script or stylesheet included twice",
    why: "It is parsed and run twice, and may break the page.",
    fix: "Include each file once.",
};

/// `resources-total-heavy`, `resources-too-many` and `duplicate-resource-include`:
/// counts over each page's scripts and stylesheets.
struct PageResourceCheck(&'static CheckInfo);

impl Check for PageResourceCheck {
    fn info(&self) -> &CheckInfo {
        self.0
    }

    fn per_page(&self) -> Option<&dyn super::PerPage> {
        Some(self)
    }
}

impl super::PerPage for PageResourceCheck {
    fn eval_page(&self, site: &SiteData, p: &super::PageView<'_>, out: &mut super::Findings) {
        if p.html().is_none() {
            return;
        }
        let links: Vec<_> = site
            .outlinks(p.record.id)
            .filter(|l| matches!(l.kind.as_str(), "script" | "css"))
            .collect();
        let mut count: HashMap<u32, usize> = HashMap::new();
        for l in &links {
            *count.entry(l.to).or_default() += 1;
        }
        let details = match self.0.id {
            "resources-total-heavy" => {
                let bytes: u64 = count
                    .keys()
                    .filter_map(|id| site.get(*id)?.wire_bytes.get())
                    .sum();
                (bytes > site.thresholds.page_resources_max_bytes)
                    .then(|| json!({ "bytes": bytes, "files": count.len() }))
            }
            "resources-too-many" => (count.len() > site.thresholds.page_resources_max)
                .then(|| json!({ "files": count.len() })),
            _ => {
                let dup: Vec<&str> = count
                    .iter()
                    .filter(|(_, n)| **n > 1)
                    .filter_map(|(id, _)| site.get(*id).map(|r| r.url.as_str()))
                    .collect();
                (!dup.is_empty()).then(|| json!({ "resources": dup }))
            }
        };
        if let Some(details) = details {
            out.push(Finding {
                check_id: self.0.id,
                severity: self.0.severity,
                url: Some(p.record.url.clone()),
                details,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn img(src: &str, alt: Option<&str>, sized: bool) -> serde_json::Value {
        json!({ "src": src, "alt": alt, "sized": sized })
    }

    #[test]
    fn image_tags() {
        let t = TestSite::new().start(|r| {
            r.set_facts(Some(crate::store::raw_json(&json!({ "images": [
                img("/ok.png", Some("A red bicycle"), true),
                img("/noalt.png", None, true),
                img("/empty.png", Some(""), true),
                img("/long.png", Some(&"x".repeat(101)), true),
                img("/IMG_1234.jpg", Some("IMG_1234"), true),
                img("/unsized.png", Some("A chart"), false),
                img("", Some("nothing"), true),
                { "src": "/pixel.gif", "sized": true, "pixel": true },
            ], "pictures_without_img": 1, "image_maps": 2 }))));
        });
        let hits = |id: &str| -> serde_json::Value {
            t.findings(id)
                .first()
                .map(|f| f.details["images"].clone())
                .unwrap_or(json!(null))
        };
        assert_eq!(hits("image-alt-missing"), json!(["/noalt.png"]));
        assert_eq!(hits("image-alt-empty"), json!(["/empty.png"]));
        assert_eq!(hits("image-alt-too-long"), json!(["/long.png"]));
        assert_eq!(hits("image-alt-filename"), json!(["/IMG_1234.jpg"]));
        assert_eq!(hits("image-dimensions-missing"), json!(["/unsized.png"]));
        assert_eq!(hits("image-empty-src"), json!([""]));
        assert_eq!(t.fired("picture-without-img"), ["/"]);
        assert_eq!(t.fired("image-map-used"), ["/"]);
        let clean = TestSite::new().start(|r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "images": [img("/ok.png", Some("A bicycle"), true)] }),
            )))
        });
        for id in [
            "image-alt-missing",
            "image-alt-empty",
            "image-alt-filename",
            "image-dimensions-missing",
            "picture-without-img",
            "image-map-used",
        ] {
            assert!(clean.fired(id).is_empty(), "{id}");
        }
    }

    #[test]
    fn image_and_resource_responses() {
        let t = TestSite::new()
            .start(|r| {
                r.set_facts(Some(crate::store::raw_json(
                    &json!({ "render_blocking": ["/a.js"] }),
                )))
            })
            .page("/gone.png", Some(404), None, |_| {})
            .linked_as("/gone.png", "img")
            .page("/big.jpg", Some(200), None, |r| {
                r.wire_bytes = Some(200 * 1024).into()
            })
            .linked_as("/big.jpg", "img")
            .page("/small.jpg", Some(200), None, |r| {
                r.headers
                    .push(("cache-control".into(), "max-age=31536000".into()))
            })
            .linked_as("/small.jpg", "img")
            .page("/app.js", Some(500), None, |_| {})
            .linked_as("/app.js", "script")
            .page("/moved.css", Some(301), None, |r| {
                r.set_location(Some("http://site.example/new.css"))
            })
            .linked_as("/moved.css", "css")
            .page("/plain.css", Some(200), None, |r| {
                r.content_type = Some("text/css".into());
                r.body_bytes = Some(600 * 1024).into();
                r.wire_bytes = Some(600 * 1024).into();
            })
            .linked_as("/plain.css", "css")
            .link("/", "/plain.css", "css")
            .page("/page", Some(404), None, |_| {});
        assert_eq!(t.fired("image-broken"), ["/gone.png"]);
        assert_eq!(t.fired("image-file-large"), ["/big.jpg"]);
        assert_eq!(t.fired("resource-broken"), ["/app.js"]);
        assert_eq!(t.fired("subresource-redirect"), ["/moved.css"]);
        assert_eq!(t.fired("text-not-compressed"), ["/plain.css"]);
        assert_eq!(t.fired("resource-too-large"), ["/plain.css"]);
        // Linked twice from the same page: one page uses it.
        let used = &t.findings("text-not-compressed")[0].details;
        assert_eq!(
            (&used["used_on"], &used["pages"]),
            (&json!(["http://site.example/"]), &json!(1))
        );
        assert!(
            t.fired("resource-cache-short")
                .contains(&"/big.jpg".to_string())
        );
        assert!(
            !t.fired("resource-cache-short")
                .contains(&"/small.jpg".to_string())
        );
        assert_eq!(t.fired("render-blocking-resource"), ["/"]);
        assert_eq!(t.fired("duplicate-resource-include"), ["/"]);
        assert!(t.fired("resources-too-many").is_empty());
        assert!(t.fired("resources-total-heavy").is_empty());
    }

    /// A resource on many pages: every page counted, the first 10 shown, in link order.
    #[test]
    fn a_shared_resource_counts_every_page_and_shows_ten() {
        let mut t = TestSite::new().page("/plain.css", Some(200), None, |r| {
            r.content_type = Some("text/css".into());
            r.body_bytes = Some(600 * 1024).into();
            r.wire_bytes = Some(600 * 1024).into();
        });
        for i in 0..12 {
            let page = format!("/p{i}");
            t = t
                .page(&page, Some(200), None, |_| {})
                .link(&page, "/plain.css", "css");
        }
        let used = &t.findings("text-not-compressed")[0].details;
        let shown: Vec<String> = (0..10)
            .map(|i| format!("http://site.example/p{i}"))
            .collect();
        assert_eq!(
            (&used["used_on"], &used["pages"]),
            (&json!(shown), &json!(12))
        );
    }
}
