//! Category 18: links, one finding per link edge (the page to edit, the target, the
//! anchor text). Page-level checks report a broken URL once; these report every place
//! that links to it.

use serde_json::json;

use super::{Check, CheckInfo, Evidence, LinkRef, SiteData};
use crate::crawl::FOUND_INVALID;
use crate::model::{Finding, Severity};
use crate::store::{UrlRecord, UrlScope};

/// One link edge as a check sees it.
struct Edge<'a> {
    link: LinkRef<'a>,
    to: &'a UrlRecord,
}

impl Edge<'_> {
    fn is_anchor(&self) -> bool {
        self.link.kind == "a"
    }

    fn nofollow(&self) -> bool {
        self.link.rel.is_some_and(|r| {
            r.split_ascii_whitespace().any(|t| {
                matches!(
                    t.to_ascii_lowercase().as_str(),
                    "nofollow" | "ugc" | "sponsored"
                )
            })
        })
    }

    fn evidence(&self) -> serde_json::Value {
        json!({
            "target": self.to.url,
            "status": self.to.status,
            "failure": self.to.failure().map(|f| f.id()),
            "kind": self.link.kind,
            "anchor": self.link.text,
        })
    }

    fn fire(&self, pred: bool) -> Evidence {
        pred.then(|| (None, self.evidence()))
    }
}

/// A check over every link from an internal page.
struct LinkCheck {
    info: CheckInfo,
    /// Whether links to this URL can fire at all (asked once per page, not per link:
    /// most checks are about broken or redirecting targets, and most pages are neither).
    target: fn(&SiteData, &UrlRecord) -> bool,
    eval: fn(&SiteData, &Edge<'_>) -> Evidence,
}

impl Check for LinkCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn super::PerPage> {
        Some(self)
    }
}

impl super::PerPage for LinkCheck {
    fn eval_page(&self, site: &SiteData, p: &super::PageView<'_>, out: &mut super::Findings) {
        if !(self.target)(site, p.record) {
            return;
        }
        for link in p.inlinks {
            let Some(from) = site.get(link.from) else {
                continue;
            };
            if from.scope != UrlScope::Internal {
                continue;
            }
            let edge = Edge { link, to: p.record };
            if let Some((sev, details)) = (self.eval)(site, &edge) {
                out.push(Finding {
                    check_id: self.info.id,
                    severity: sev.unwrap_or(self.info.severity),
                    url: Some(from.url.clone()),
                    details,
                });
            }
        }
    }
}

fn check(
    id: &'static str,
    severity: Severity,
    title: &'static str,
    why: &'static str,
    fix: &'static str,
    target: fn(&SiteData, &UrlRecord) -> bool,
    eval: fn(&SiteData, &Edge<'_>) -> Evidence,
) -> Box<dyn Check> {
    Box::new(LinkCheck {
        info: CheckInfo {
            id,
            category: 18,
            severity,
            title,
            why,
            fix,
        },
        target,
        eval,
    })
}

fn internal(to: &UrlRecord) -> bool {
    to.scope == UrlScope::Internal
}

/// A failure that is an error, of a URL that was a valid one.
fn failed(to: &UrlRecord) -> bool {
    to.failure().is_some_and(|f| f.is_error()) && to.found_by != FOUND_INVALID
}

/// Any URL: the check is about the link itself.
fn any(_: &SiteData, _: &UrlRecord) -> bool {
    true
}

/// Statuses that usually mean "no bots here" rather than "gone".
fn bot_blocking(s: u16) -> bool {
    matches!(s, 401 | 403 | 405 | 429 | 999)
}

/// Anchor texts that say nothing about the target (English).
const GENERIC: &[&str] = &[
    "click here",
    "here",
    "read more",
    "more",
    "learn more",
    "this",
    "link",
    "go",
    "start",
    "see more",
    "continue",
    "click",
    "more info",
    "details",
];

/// Whether a host is local or private: a link there cannot work for visitors.
fn local_host(host: &str) -> bool {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return match ip {
            std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_unspecified(),
            std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified(),
        };
    }
    host == "localhost"
        || [".localhost", ".local", ".test", ".internal"]
            .iter()
            .any(|s| host.ends_with(s))
}

/// The host of a normalized absolute URL, read off the string (this runs per link).
fn host_of(u: &str) -> Option<&str> {
    let (authority, _) = super::authority(u)?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.split(':').next().unwrap_or(host),
    })
}

/// The scheme of an href as written, lower-cased (`None`: no scheme).
fn scheme(href: &str) -> Option<String> {
    let (s, _) = href.trim().split_once(':')?;
    (!s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
    .then(|| s.to_ascii_lowercase())
}

/// The page's anchors whose href as written matches `pred`, as evidence.
fn odd_hrefs(p: &super::PageView<'_>, pred: fn(&str) -> bool) -> Evidence {
    super::on_html(p, |f| {
        let hits: Vec<&String> = f
            .uncrawlable_hrefs
            .iter()
            .filter(|h| pred(h))
            .take(20)
            .collect();
        (!hits.is_empty()).then(|| json!({ "hrefs": hits }))
    })
}

fn bad_mailto_or_tel(href: &str) -> bool {
    match scheme(href).as_deref() {
        Some("mailto") => {
            let addr = href.trim()[7..].split('?').next().unwrap_or_default();
            !addr.split(',').all(|a| {
                let a = a.trim();
                a.split_once('@')
                    .is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !a.contains(' '))
            })
        }
        Some("tel") => {
            let num = &href.trim()[4..];
            num.is_empty()
                || !num
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+ -.()".contains(c))
        }
        _ => false,
    }
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        super::page(
            "link-empty-href",
            18,
            Severity::Warning,
            [
                "Link with an empty href",
                "It points at the page itself: a dead click for visitors.",
                "Give the link a real target, or make it a button.",
            ],
            |p| odd_hrefs(p, |h| h.trim().is_empty()),
        ),
        super::page(
            "link-not-crawlable",
            18,
            Severity::Warning,
            [
                "javascript: link",
                "Search engines only follow <a> elements with a real URL.",
                "Use an href with a URL (and handle the click in script if needed).",
            ],
            |p| odd_hrefs(p, |h| scheme(h).as_deref() == Some("javascript")),
        ),
        super::page(
            "link-unsupported-scheme",
            18,
            Severity::Notice,
            [
                "Link with an unusual scheme",
                "file:, ftp:, smb: and similar links do not work for most visitors.",
                "Link to an http(s) page instead.",
            ],
            |p| {
                odd_hrefs(p, |h| {
                    scheme(h).is_some_and(|s| {
                        !matches!(
                            s.as_str(),
                            "http" | "https" | "mailto" | "tel" | "sms" | "javascript"
                        )
                    })
                })
            },
        ),
        super::page(
            "link-invalid-mailto-tel",
            18,
            Severity::Notice,
            [
                "Invalid mailto: or tel: link",
                "The mail or phone app opens with nothing usable.",
                "Write a full address (name@example.com) or number (+44 20 7946 0000).",
            ],
            |p| odd_hrefs(p, bad_mailto_or_tel),
        ),
        check(
            "link-internal-broken",
            Severity::Error,
            "Internal link to a 4xx page",
            "Visitors following it hit an error page; crawlers waste requests.",
            "Point the link at the right URL, or remove it.",
            |_, to| {
                internal(to)
                    && to
                        .status
                        .is_some_and(|s| (400..500).contains(&s) && s != 429)
            },
            |_, e| e.fire(e.is_anchor()),
        ),
        check(
            "link-internal-error",
            Severity::Error,
            "Internal link to a URL that fails (5xx or no answer)",
            "The target is down or erroring for everyone following the link.",
            "Fix the target (see its failure), or remove the link.",
            |_, to| {
                internal(to)
                    && (to.status.is_some_and(|s| s >= 500) || (to.status.is_none() && failed(to)))
            },
            |_, e| e.fire(e.is_anchor()),
        ),
        check(
            "link-internal-redirect",
            Severity::Warning,
            "Internal link to a redirecting URL",
            "Each click and crawl pays an extra round trip; links should name the final URL.",
            "Update the link to the redirect's destination.",
            |_, to| {
                internal(to)
                    && to.location().is_some()
                    && to.status.is_some_and(|s| (300..400).contains(&s))
            },
            |_, e| e.fire(e.is_anchor() && !e.nofollow()),
        ),
        check(
            "link-external-broken",
            Severity::Warning,
            "External link to a 4xx page",
            "The page you link to is gone: a dead end for visitors.",
            "Update the link to the page's new address, or remove it.",
            |_, to| {
                !internal(to)
                    && to
                        .status
                        .is_some_and(|s| (400..500).contains(&s) && !bot_blocking(s))
            },
            |_, e| e.fire(true),
        ),
        check(
            "link-external-error",
            Severity::Notice,
            "External link to a URL that fails (5xx or no answer)",
            "The other site is down or erroring, maybe only for now.",
            "Re-check later; replace the link if it stays broken.",
            |_, to| {
                !internal(to)
                    && (to.status.is_some_and(|s| (500..600).contains(&s))
                        || (to.status.is_none() && failed(to)))
            },
            |_, e| e.fire(true),
        ),
        check(
            "link-external-blocked",
            Severity::Notice,
            "External link answers with a bot-blocking status",
            "401, 403, 405, 429 or 999 usually means the other site turns crawlers away; a person may see the page fine.",
            "Check the link by hand in a browser.",
            |_, to| !internal(to) && to.status.is_some_and(bot_blocking),
            |_, e| e.fire(true),
        ),
        check(
            "link-external-redirect",
            Severity::Notice,
            "External link redirects",
            "The link works through a redirect that may change or vanish.",
            "Update the link to the final URL.",
            |site, to| !internal(to) && site.hops.get(&to.id).is_some_and(|h| h.len() > 1),
            |site, e| {
                let mut v = e.evidence();
                v["final_url"] = json!(site.hops.get(&e.to.id)?.last().map(|h| &h.url));
                Some((None, v))
            },
        ),
        check(
            "link-malformed",
            Severity::Error,
            "Link that is not a valid URL",
            "Browsers cannot follow it.",
            "Fix the href (scheme, host, brackets, spaces).",
            |_, to| {
                to.found_by == FOUND_INVALID
                    && !to
                        .failure()
                        .is_some_and(|f| f.describe().contains("-byte limit"))
            },
            |_, e| e.fire(true),
        ),
        check(
            "link-localhost",
            Severity::Error,
            "Link to a local or private address",
            "localhost, private IPs and .local/.test/.internal hosts only work on the author's machine or network.",
            "Replace the development or staging URL with the public one.",
            |site, to| {
                host_of(&to.url).is_some_and(local_host)
                    && !host_of(&site.info.start_url).is_some_and(local_host)
            },
            |_, e| e.fire(true),
        ),
        check(
            "link-nofollow-internal",
            Severity::Warning,
            "Internal link marked nofollow",
            "nofollow on your own links stops signals flowing through your site.",
            "Remove nofollow (or ugc/sponsored) from internal links.",
            |_, to| internal(to),
            |_, e| e.fire(e.is_anchor() && e.nofollow()),
        ),
        check(
            "link-no-anchor-text",
            Severity::Warning,
            "Link without an accessible name",
            "Screen readers announce nothing useful and search engines get no hint about the target.",
            "Add link text, an alt on the image inside, or an aria-label.",
            any,
            |_, e| e.fire(e.is_anchor() && e.link.text.is_none_or(|t| t.trim().is_empty())),
        ),
        check(
            "link-generic-anchor",
            Severity::Notice,
            "Link text that says nothing about the target",
            "\"Click here\" tells neither people nor search engines where the link goes.",
            "Use words that describe the target page.",
            any,
            |_, e| {
                if !e.is_anchor() {
                    return None;
                }
                let t = e
                    .link
                    .text?
                    .trim()
                    .trim_end_matches(['.', '!', '…', '»', '>'])
                    .trim();
                // Asked per link: ASCII text is compared in place, not lower-cased into
                // a new string (other text can lower-case to ASCII: the Kelvin sign).
                let generic = if t.is_ascii() {
                    GENERIC.iter().any(|g| g.eq_ignore_ascii_case(t))
                } else {
                    GENERIC.contains(&t.to_lowercase().as_str())
                };
                e.fire(generic)
            },
        ),
        check(
            "link-to-resource-file",
            Severity::Notice,
            "Link to an image, stylesheet or script file",
            "Usually a template mistake: visitors land on a raw file.",
            "Link to the page that shows the resource instead.",
            |_, to| {
                let Some(ct) = to.content_type.as_deref().map(str::as_bytes) else {
                    return false;
                };
                let starts =
                    |p: &[u8]| ct.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
                let js = b"javascript";
                let resource = starts(b"image/")
                    || starts(b"text/css")
                    || ct.windows(js.len()).any(|w| w.eq_ignore_ascii_case(js));
                to.status.is_some_and(|s| (200..300).contains(&s)) && resource
            },
            |_, e| e.fire(e.is_anchor()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::TestSite;
    use crate::model::FailureKind;
    use crate::store::UrlScope;

    fn ext(r: &mut crate::store::UrlRecord, url: &str) {
        r.url = url.into();
        r.scope = UrlScope::External;
    }

    #[test]
    fn hrefs_that_are_not_crawled() {
        let t = TestSite::new().start(|r| {
            r.set_facts(Some(crate::store::raw_json(&serde_json::json!({ "uncrawlable_hrefs": [
                "", "javascript:void(0)", "ftp://files.example/x", "mailto:", "mailto:team@example.com", "tel:+44 20 7946 0000", "tel:call-us"
            ] }))));
        });
        let hrefs = |id: &str| -> serde_json::Value {
            t.findings(id)
                .first()
                .map(|f| f.details["hrefs"].clone())
                .unwrap_or_default()
        };
        assert_eq!(hrefs("link-empty-href"), serde_json::json!([""]));
        assert_eq!(
            hrefs("link-not-crawlable"),
            serde_json::json!(["javascript:void(0)"])
        );
        assert_eq!(
            hrefs("link-unsupported-scheme"),
            serde_json::json!(["ftp://files.example/x"])
        );
        assert_eq!(
            hrefs("link-invalid-mailto-tel"),
            serde_json::json!(["mailto:", "tel:call-us"])
        );
        let clean = TestSite::new().start(|r| {
            r.set_facts(Some(crate::store::raw_json(
                &serde_json::json!({ "uncrawlable_hrefs": ["mailto:a@b.example"] }),
            )))
        });
        for id in [
            "link-empty-href",
            "link-not-crawlable",
            "link-unsupported-scheme",
            "link-invalid-mailto-tel",
        ] {
            assert!(clean.fired(id).is_empty(), "{id}");
        }
    }

    #[test]
    fn hosts_read_off_urls() {
        use super::host_of;
        assert_eq!(
            host_of("http://user@Example.com:8080/a?b"),
            Some("Example.com")
        );
        assert_eq!(host_of("https://[::1]:443/"), Some("::1"));
        assert_eq!(host_of("http://10.0.0.1"), Some("10.0.0.1"));
        assert!(
            super::local_host("::1")
                && super::local_host("10.0.0.1")
                && !super::local_host("example.com")
        );
    }

    #[test]
    fn internal_links() {
        let site = TestSite::new()
            .page("/ok", Some(200), None, |_| {})
            .page("/missing", Some(404), None, |_| {})
            .page("/limited", Some(429), None, |_| {})
            .page("/down", Some(503), None, |_| {})
            .page("/refused", None, Some(FailureKind::ConnectRefused), |_| {})
            .page("/moved", Some(301), None, |r| {
                r.set_location(Some("http://site.example/ok"))
            })
            .page("/img.png", Some(404), None, |_| {})
            .linked_as("/img.png", "img");
        assert_eq!(site.fired("link-internal-broken"), ["/"]);
        assert_eq!(site.fired("link-internal-error").len(), 2);
        assert_eq!(site.fired("link-internal-redirect"), ["/"]);
    }

    #[test]
    fn external_links() {
        let site = TestSite::new()
            .page("/a", Some(404), None, |r| ext(r, "http://other.example/a"))
            .page("/b", Some(403), None, |r| ext(r, "http://other.example/b"))
            .page("/c", Some(500), None, |r| ext(r, "http://other.example/c"))
            .page("/d", None, Some(FailureKind::ReadTimeout), |r| {
                ext(r, "http://other.example/d")
            })
            .page("/e", Some(200), None, |r| ext(r, "http://other.example/e"));
        assert_eq!(site.fired("link-external-broken").len(), 1);
        assert_eq!(site.fired("link-external-blocked").len(), 1);
        assert_eq!(site.fired("link-external-error").len(), 2);
        assert!(site.fired("link-internal-broken").is_empty());
        assert!(site.fired("link-external-redirect").is_empty());
    }

    #[test]
    fn link_text_rel_and_targets() {
        let site = TestSite::new()
            .page("/named", Some(200), None, |_| {})
            .page("/nameless", Some(200), None, |_| {})
            .page("/nf", Some(200), None, |_| {})
            .page("/logo.png", Some(200), None, |r| {
                r.content_type = Some("image/png".into())
            })
            .page(
                "/bad",
                None,
                Some(FailureKind::InvalidUrl { reason: "x".into() }),
                |r| {
                    r.url = "http://[bad/bad".into();
                    r.found_by = crate::checks::test_support::word("invalid");
                },
            )
            .page("/dev", Some(200), None, |r| {
                r.url = "http://localhost:3000/dev".into()
            })
            .texts(&[
                ("/named", "Pricing"),
                ("/nf", "click here"),
                ("/logo.png", "Logo"),
                ("/bad", "x"),
                ("/dev", "Dev"),
            ])
            .rel("/nf", "nofollow");
        assert_eq!(site.fired("link-no-anchor-text"), ["/"]);
        assert_eq!(site.fired("link-generic-anchor"), ["/"]);
        assert_eq!(site.fired("link-nofollow-internal"), ["/"]);
        assert_eq!(site.fired("link-to-resource-file"), ["/"]);
        assert_eq!(site.fired("link-malformed"), ["/"]);
        assert_eq!(site.fired("link-localhost"), ["/"]);
    }

    /// Generic anchor texts are told in any case, after trailing punctuation, also where
    /// only Unicode lower-casing makes them so (the Kelvin sign lower-cases to `k`); other
    /// texts and non-anchor links are not.
    #[test]
    fn generic_anchor_texts_in_any_case() {
        let mut site = TestSite::new();
        let texts = [
            ("/a", "CLICK HERE!"),
            ("/b", " Read More… "),
            ("/c", "clic\u{212A}"),
            ("/d", "here we go"),
            ("/e", "Détails"),
            ("/f", "More"),
        ];
        for (path, _) in texts {
            site = site.page(path, Some(200), None, |_| {});
        }
        let site = site.texts(&texts).linked_as("/f", "img");
        assert_eq!(site.fired("link-generic-anchor"), ["/", "/", "/"]);
        let anchors: Vec<_> = site
            .findings("link-generic-anchor")
            .into_iter()
            .map(|f| f.details["anchor"].clone())
            .collect();
        assert_eq!(
            anchors,
            [
                serde_json::json!("CLICK HERE!"),
                serde_json::json!(" Read More… "),
                serde_json::json!("clic\u{212A}")
            ]
        );
    }

    /// Links to images, stylesheets and scripts are told by content type in any case;
    /// an HTML page or a type shorter than the prefix is not one.
    #[test]
    fn resource_links_by_content_type_in_any_case() {
        let mut site = TestSite::new();
        for (path, ct) in [
            ("/a.css", "Text/CSS; charset=utf-8"),
            ("/b.js", "application/X-JavaScript"),
            ("/c.png", "IMAGE/PNG"),
            ("/page", "text/html"),
            ("/short", "ima"),
        ] {
            site = site.page(path, Some(200), None, |r| r.content_type = Some(ct.into()));
        }
        // One finding per link: the three resources, not the page or the short type.
        let found = site.findings("link-to-resource-file");
        assert_eq!(found.len(), 3, "{found:?}");
    }
}
