//! Category 7: robots.txt. Each host's file is linted line by line here: the matching
//! crate (texting_robots) answers allow/deny but reports no lines, typos or groups.

use std::collections::HashMap;

use serde_json::json;

use super::{Check, CheckInfo, SiteData};
use crate::crawl::FOUND_ROBOTS;
use crate::model::{FailureKind, Finding, Severity};
use crate::store::UrlRecord;

/// Field names robots.txt parsers know.
const FIELDS: &[&str] = &[
    "user-agent",
    "allow",
    "disallow",
    "sitemap",
    "crawl-delay",
    "clean-param",
    "host",
    "noindex",
    "nofollow",
    "request-rate",
    "visit-time",
];

/// One robots.txt as fetched.
struct File<'a> {
    record: &'a UrlRecord,
    body: Option<&'a str>,
}

/// One parsed line: number, lower-cased field, value.
struct Line<'a> {
    n: usize,
    field: Option<String>,
    value: &'a str,
    raw: &'a str,
}

fn lines(body: &str) -> Vec<Line<'_>> {
    body.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let text = raw.split('#').next().unwrap_or_default().trim();
            if text.is_empty() {
                return None;
            }
            let (field, value) = match text.split_once(':') {
                Some((f, v)) => (Some(f.trim().to_ascii_lowercase()), v.trim()),
                None => (None, text),
            };
            Some(Line {
                n: i + 1,
                field,
                value,
                raw: raw.trim(),
            })
        })
        .collect()
}

/// Groups: the user agents of each group and its rules, in file order.
fn groups<'a>(ls: &'a [Line<'a>]) -> Vec<(Vec<String>, Vec<&'a Line<'a>>)> {
    let mut out: Vec<(Vec<String>, Vec<&Line<'_>>)> = Vec::new();
    let mut last_was_agent = false;
    for l in ls {
        match l.field.as_deref() {
            Some("user-agent") => {
                if last_was_agent && let Some(g) = out.last_mut() {
                    g.0.push(l.value.to_ascii_lowercase());
                } else {
                    out.push((vec![l.value.to_ascii_lowercase()], Vec::new()));
                }
                last_was_agent = true;
            }
            Some("allow" | "disallow") => {
                if let Some(g) = out.last_mut() {
                    g.1.push(l);
                }
                last_was_agent = false;
            }
            _ => last_was_agent = false,
        }
    }
    out
}

fn files(site: &SiteData) -> Vec<File<'_>> {
    let bodies: HashMap<&str, &[u8]> = site
        .robots
        .iter()
        .map(|(h, _, b)| (h.as_str(), b.as_slice()))
        .collect();
    site.urls
        .iter()
        .filter(|u| u.found_by == FOUND_ROBOTS && u.state == "done")
        .map(|record| {
            let host = url::Url::parse(&record.url)
                .map(|u| crate::url::host_key(&u))
                .unwrap_or_default();
            let body = bodies
                .get(host.as_str())
                .filter(|b| !b.is_empty())
                .map(|b| std::str::from_utf8(b).unwrap_or_default());
            File { record, body }
        })
        .collect()
}

/// A check over each host's robots.txt.
struct RobotsCheck {
    info: CheckInfo,
    eval: fn(&SiteData, &File<'_>) -> Option<serde_json::Value>,
}

impl Check for RobotsCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for f in files(site) {
            if let Some(mut details) = (self.eval)(site, &f) {
                details["robots_txt"] = json!(f.record.url);
                out.push(Finding {
                    check_id: self.info.id,
                    severity: self.info.severity,
                    url: None,
                    details,
                });
            }
        }
    }
}

fn robots(
    id: &'static str,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&SiteData, &File<'_>) -> Option<serde_json::Value>,
) -> Box<dyn Check> {
    Box::new(RobotsCheck {
        info: CheckInfo {
            id,
            category: 7,
            severity,
            title: text[0],
            why: text[1],
            fix: text[2],
        },
        eval,
    })
}

/// Lines of the file matching `pred`, as evidence.
fn bad_lines(f: &File<'_>, pred: impl Fn(&Line<'_>) -> bool) -> Option<serde_json::Value> {
    let body = f.body?;
    let ls = lines(body);
    let hits: Vec<serde_json::Value> = ls
        .iter()
        .filter(|l| pred(l))
        .take(20)
        .map(|l| json!({ "line": l.n, "text": l.raw }))
        .collect();
    (!hits.is_empty()).then(|| json!({ "lines": hits }))
}

fn valid_pattern(v: &str) -> bool {
    v.is_empty()
        || ((v.starts_with('/') || v.starts_with('*'))
            && v.find('$').is_none_or(|i| i == v.len() - 1))
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        robots(
            "robots-txt-missing",
            Severity::Notice,
            [
                "No robots.txt",
                "Crawlers assume everything is allowed; there is no place to list sitemaps.",
                "Add a robots.txt (even one that allows everything) with a Sitemap line.",
            ],
            |_, f| {
                f.record
                    .status
                    .filter(|s| (400..500).contains(s) && *s != 429)
                    .map(|s| json!({ "status": s }))
            },
        ),
        robots(
            "robots-txt-unavailable",
            Severity::Error,
            [
                "robots.txt unavailable (5xx, 429 or no answer)",
                "Google treats the whole host as disallowed while robots.txt fails.",
                "Make /robots.txt answer 200 (or 404) reliably.",
            ],
            |_, f| {
                let r = f.record;
                let bad = r.status.is_some_and(|s| s >= 500 || s == 429)
                    || (r.status.is_none() && r.failure().is_some_and(FailureKind::is_error));
                bad.then(|| json!({ "status": r.status, "failure": r.failure().map(|f| f.id()) }))
            },
        ),
        robots(
            "robots-txt-redirect-problem",
            Severity::Error,
            [
                "robots.txt redirects badly",
                "Over 5 hops, a loop, or a redirect to a page that is not a robots file: the rules are lost.",
                "Serve robots.txt directly at /robots.txt.",
            ],
            |site, f| {
                let r = f.record;
                let chain_bad = matches!(
                    r.failure(),
                    Some(FailureKind::RedirectLoop | FailureKind::TooManyRedirects { .. })
                );
                let redirected = site.hops.get(&r.id).is_some_and(|h| h.len() > 1);
                let html = r
                    .content_type
                    .as_deref()
                    .is_some_and(|c| c.contains("html"));
                (chain_bad || (redirected && html)).then(|| json!({ "failure": r.failure().map(|f| f.id()), "content_type": r.content_type }))
            },
        ),
        robots(
            "robots-txt-too-large",
            Severity::Warning,
            [
                "robots.txt over 500 KiB",
                "Google ignores the rules after the first 500 KiB.",
                "Shorten the file: merge rules, use wildcards.",
            ],
            |site, f| {
                f.record
                    .body_bytes
                    .get()
                    .filter(|b| *b > site.thresholds.robots_max_bytes)
                    .map(|b| json!({ "bytes": b }))
            },
        ),
        robots(
            "robots-txt-syntax-error",
            Severity::Warning,
            [
                "Unreadable lines in robots.txt",
                "Lines without a known field (typos like Dissallow) are ignored.",
                "Fix the spelling; every line is Field: value.",
            ],
            |_, f| {
                bad_lines(f, |l| {
                    l.field.as_deref().is_none_or(|k| !FIELDS.contains(&k))
                })
            },
        ),
        robots(
            "robots-txt-rule-before-group",
            Severity::Warning,
            [
                "Allow/Disallow before any User-agent",
                "Rules outside a group apply to nobody.",
                "Put a User-agent line before the rules.",
            ],
            |_, f| {
                let body = f.body?;
                let ls = lines(body);
                let first_agent = ls
                    .iter()
                    .position(|l| l.field.as_deref() == Some("user-agent"))
                    .unwrap_or(ls.len());
                let early: Vec<serde_json::Value> = ls[..first_agent]
                    .iter()
                    .filter(|l| matches!(l.field.as_deref(), Some("allow" | "disallow")))
                    .map(|l| json!({ "line": l.n, "text": l.raw }))
                    .collect();
                (!early.is_empty()).then(|| json!({ "lines": early }))
            },
        ),
        robots(
            "robots-txt-invalid-pattern",
            Severity::Warning,
            [
                "Allow/Disallow value is not a valid path pattern",
                "Patterns must start with / or *, and $ may only end them; others never match.",
                "Write the rule as a path starting with /.",
            ],
            |_, f| {
                bad_lines(f, |l| {
                    matches!(l.field.as_deref(), Some("allow" | "disallow"))
                        && !valid_pattern(l.value)
                })
            },
        ),
        robots(
            "robots-txt-blocks-all",
            Severity::Error,
            [
                "robots.txt blocks the whole site",
                "Search engines cannot crawl any page.",
                "Remove Disallow: / (or reopen the pages that should be crawled).",
            ],
            |site, f| {
                let body = f.body?;
                let host = url::Url::parse(&f.record.url).ok()?;
                let start = site
                    .urls
                    .iter()
                    .find(|u| {
                        u.found_by == crate::crawl::FOUND_START
                            && url::Url::parse(&u.url)
                                .is_ok_and(|s| s.host_str() == host.host_str())
                    })
                    .and_then(|u| url::Url::parse(&u.url).ok())
                    .unwrap_or_else(|| host.join("/").expect("root"));
                let blocked: Vec<&str> = ["Googlebot", site.info.config.user_agent.as_str()]
                    .into_iter()
                    .filter(|ua| !crate::robots::Robots::parse(ua, body.as_bytes()).allowed(&start))
                    .collect();
                (!blocked.is_empty())
                    .then(|| json!({ "agents": blocked, "start_url": start.as_str() }))
            },
        ),
        robots(
            "robots-txt-specific-group-drops-rules",
            Severity::Notice,
            [
                "A crawler-specific group drops the * rules",
                "A crawler with its own group ignores the * group entirely.",
                "Repeat the * rules that should apply in the specific group.",
            ],
            |_, f| {
                let body = f.body?;
                let ls = lines(body);
                let gs = groups(&ls);
                let star: Vec<&str> = gs
                    .iter()
                    .filter(|g| g.0.iter().any(|a| a == "*"))
                    .flat_map(|g| &g.1)
                    .filter(|l| l.field.as_deref() == Some("disallow") && !l.value.is_empty())
                    .map(|l| l.value)
                    .collect();
                let dropped: Vec<String> = gs
                    .iter()
                    .filter(|g| !g.0.iter().any(|a| a == "*"))
                    .filter_map(|g| {
                        let own: Vec<&str> = g.1.iter().map(|l| l.value).collect();
                        star.iter()
                            .any(|r| !own.contains(r))
                            .then(|| g.0.join(", "))
                    })
                    .collect();
                (!star.is_empty() && !dropped.is_empty())
                    .then(|| json!({ "groups": dropped, "star_rules": star }))
            },
        ),
        robots(
            "robots-txt-no-sitemap",
            Severity::Notice,
            [
                "robots.txt names no sitemap",
                "A Sitemap line is the one place every crawler looks for your sitemaps.",
                "Add Sitemap: https://your.site/sitemap.xml.",
            ],
            |_, f| {
                let body = f.body?;
                (!lines(body)
                    .iter()
                    .any(|l| l.field.as_deref() == Some("sitemap")))
                .then(|| json!({}))
            },
        ),
        robots(
            "robots-txt-sitemap-invalid",
            Severity::Warning,
            [
                "robots.txt names a sitemap that is invalid or does not load",
                "Crawlers cannot use it.",
                "Use an absolute URL of a sitemap that answers 200.",
            ],
            |site, f| {
                let body = f.body?;
                let bad: Vec<String> = lines(body)
                    .iter()
                    .filter(|l| l.field.as_deref() == Some("sitemap"))
                    .filter_map(|l| {
                        let v = l.value;
                        let absolute = ["http://", "https://", "ftp://"]
                            .iter()
                            .any(|p| v.to_ascii_lowercase().starts_with(p));
                        let ok = absolute
                            && crate::url::normalize(v)
                                .ok()
                                .and_then(|u| site.by_url(u.as_str()))
                                .is_none_or(|r| r.state != "done" || r.status == Some(200));
                        (!ok).then(|| v.to_string())
                    })
                    .collect();
                (!bad.is_empty()).then(|| json!({ "sitemaps": bad }))
            },
        ),
        robots(
            "robots-txt-unsupported-rules",
            Severity::Notice,
            [
                "robots.txt relies on rules Google ignores",
                "noindex, nofollow, crawl-delay and host lines do nothing for Google.",
                "Use meta robots / X-Robots-Tag for indexing; set crawl rate elsewhere.",
            ],
            |_, f| {
                bad_lines(f, |l| {
                    matches!(
                        l.field.as_deref(),
                        Some("noindex" | "nofollow" | "crawl-delay" | "host")
                    )
                })
            },
        ),
        robots(
            "robots-txt-not-plain-text",
            Severity::Notice,
            [
                "robots.txt is not plain text",
                "Usually an error page answered with 200; crawlers may misread it.",
                "Serve robots.txt as text/plain.",
            ],
            |_, f| {
                let r = f.record;
                if !r.status.is_some_and(|s| (200..300).contains(&s)) {
                    return None;
                }
                let ct = r
                    .content_type
                    .as_deref()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let html = f
                    .body
                    .is_some_and(|b| b.to_ascii_lowercase().contains("<html"));
                (!ct.starts_with("text/plain") || html)
                    .then(|| json!({ "content_type": r.content_type, "html": html }))
            },
        ),
        page_check!(
            "url-blocked-by-robots",
            7,
            Notice,
            "URL disallowed by robots.txt",
            "It was found but not crawled; its content is invisible to search engines.",
            "Check the rule is intended; allow the URL if it should be crawled.",
            |p| (p.internal() && matches!(p.record.failure(), Some(FailureKind::BlockedByRobots)))
                .then(|| (None, json!({ "found_by": p.record.found_by }))),
        ),
        Box::new(BlockedLinked),
        Box::new(BlocksResources),
    ]
}

/// `blocked-url-linked`: a disallowed URL with followed links from indexable pages.
struct BlockedLinked;

const LINKED: CheckInfo = CheckInfo {
    id: "blocked-url-linked",
    category: 7,
    severity: Severity::Warning,
    title: "Disallowed URL linked from indexable pages",
    why: "It can be indexed as a bare URL without its content.",
    fix: "Remove the links, or allow the URL and use noindex instead.",
};

impl Check for BlockedLinked {
    fn info(&self) -> &CheckInfo {
        &LINKED
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site.pages().filter(|p| {
            p.internal()
                && (p.record.robots_disallowed
                    || matches!(p.record.failure(), Some(FailureKind::BlockedByRobots)))
        }) {
            let from: Vec<&str> = p
                .inlinks
                .iter()
                .filter(|l| l.kind == "a" && !l.rel.is_some_and(|r| r.contains("nofollow")))
                .filter_map(|l| site.get(l.from))
                .filter(|f| {
                    site.view(f).non_indexable_reason().is_none()
                        && f.status.is_some_and(|s| (200..300).contains(&s))
                })
                .map(|f| f.url.as_str())
                .collect();
            if !from.is_empty() {
                out.push(Finding {
                    check_id: LINKED.id,
                    severity: LINKED.severity,
                    url: Some(p.record.url.clone()),
                    details: json!({ "linked_from": from.iter().take(10).collect::<Vec<_>>(), "pages": from.len() }),
                });
            }
        }
    }
}

/// `robots-txt-blocks-resources`: CSS, JS or images that pages load are disallowed.
struct BlocksResources;

const RESOURCES: CheckInfo = CheckInfo {
    id: "robots-txt-blocks-resources",
    category: 7,
    severity: Severity::Warning,
    title: "robots.txt blocks resources pages need",
    why: "Search engines render the pages without them; blocked images are not indexed.",
    fix: "Allow CSS, JavaScript and images in robots.txt.",
};

impl Check for BlocksResources {
    fn info(&self) -> &CheckInfo {
        &RESOURCES
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        let blocked: Vec<&str> = site
            .pages()
            .filter(|p| {
                p.internal() && matches!(p.record.failure(), Some(FailureKind::BlockedByRobots))
            })
            .filter(|p| {
                p.inlinks
                    .iter()
                    .any(|l| matches!(l.kind.as_str(), "css" | "script" | "img" | "preload"))
            })
            .map(|p| p.record.url.as_str())
            .collect();
        if !blocked.is_empty() {
            out.push(Finding {
                check_id: RESOURCES.id,
                severity: RESOURCES.severity,
                url: None,
                details: json!({ "resources": blocked.iter().take(20).collect::<Vec<_>>(), "count": blocked.len() }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::TestSite;
    use crate::model::FailureKind;

    fn fired(status: Option<u16>, body: &str, id: &str) -> bool {
        !TestSite::new()
            .robots_txt(status, body, |_| {})
            .fired(id)
            .is_empty()
    }

    const GOOD: &str =
        "User-agent: *\nDisallow: /private/\nSitemap: http://site.example/sitemap.xml\n";

    #[test]
    fn fetch_outcomes() {
        assert!(fired(Some(404), "", "robots-txt-missing"));
        assert!(!fired(Some(200), GOOD, "robots-txt-missing"));
        assert!(fired(Some(503), "", "robots-txt-unavailable"));
        assert!(fired(Some(429), "", "robots-txt-unavailable"));
        assert!(!fired(Some(404), "", "robots-txt-unavailable"));
        let refused = TestSite::new().robots_txt(None, "", |r| {
            r.set_failure(Some(FailureKind::ConnectRefused))
        });
        assert_eq!(refused.fired("robots-txt-unavailable"), [""]);
        let looped = TestSite::new().robots_txt(Some(301), "", |r| {
            r.set_failure(Some(FailureKind::RedirectLoop))
        });
        assert_eq!(looped.fired("robots-txt-redirect-problem"), [""]);
        assert!(!fired(Some(200), GOOD, "robots-txt-redirect-problem"));
        let big =
            TestSite::new().robots_txt(Some(200), GOOD, |r| r.body_bytes = Some(600_000).into());
        assert_eq!(big.fired("robots-txt-too-large"), [""]);
        let html =
            TestSite::new().robots_txt(Some(200), "<html><body>Not found</body></html>", |r| {
                r.content_type = Some("text/html".into())
            });
        assert_eq!(html.fired("robots-txt-not-plain-text"), [""]);
        assert!(!fired(Some(200), GOOD, "robots-txt-not-plain-text"));
    }

    #[test]
    fn lines_and_groups() {
        assert!(fired(
            Some(200),
            "User-agent: *\nDissallow: /x\n",
            "robots-txt-syntax-error"
        ));
        assert!(!fired(Some(200), GOOD, "robots-txt-syntax-error"));
        assert!(fired(
            Some(200),
            "Disallow: /x\nUser-agent: *\n",
            "robots-txt-rule-before-group"
        ));
        assert!(!fired(Some(200), GOOD, "robots-txt-rule-before-group"));
        assert!(fired(
            Some(200),
            "User-agent: *\nDisallow: private\n",
            "robots-txt-invalid-pattern"
        ));
        assert!(fired(
            Some(200),
            "User-agent: *\nDisallow: /a$b\n",
            "robots-txt-invalid-pattern"
        ));
        assert!(!fired(
            Some(200),
            "User-agent: *\nDisallow: /*.pdf$\n",
            "robots-txt-invalid-pattern"
        ));
        assert!(fired(
            Some(200),
            "User-agent: *\nDisallow: /\n",
            "robots-txt-blocks-all"
        ));
        assert!(!fired(Some(200), GOOD, "robots-txt-blocks-all"));
        let drops = "User-agent: *\nDisallow: /admin/\n\nUser-agent: Googlebot\nDisallow: /tmp/\n";
        assert!(fired(
            Some(200),
            drops,
            "robots-txt-specific-group-drops-rules"
        ));
        assert!(!fired(
            Some(200),
            GOOD,
            "robots-txt-specific-group-drops-rules"
        ));
        assert!(fired(
            Some(200),
            "User-agent: *\nDisallow:\n",
            "robots-txt-no-sitemap"
        ));
        assert!(!fired(Some(200), GOOD, "robots-txt-no-sitemap"));
        assert!(fired(
            Some(200),
            "User-agent: *\nSitemap: /sitemap.xml\n",
            "robots-txt-sitemap-invalid"
        ));
        assert!(!fired(Some(200), GOOD, "robots-txt-sitemap-invalid"));
        assert!(fired(
            Some(200),
            "User-agent: *\nCrawl-delay: 5\nNoindex: /x\n",
            "robots-txt-unsupported-rules"
        ));
        assert!(!fired(Some(200), GOOD, "robots-txt-unsupported-rules"));
    }

    #[test]
    fn blocked_urls() {
        let t = TestSite::new()
            .start(|r| r.set_facts(Some(crate::store::raw_json(&serde_json::json!({})))))
            .page(
                "/private/x",
                None,
                Some(FailureKind::BlockedByRobots),
                |_| {},
            )
            .page(
                "/private/app.js",
                None,
                Some(FailureKind::BlockedByRobots),
                |_| {},
            )
            .linked_as("/private/app.js", "script")
            .page("/open", Some(200), None, |_| {});
        assert_eq!(
            t.fired("url-blocked-by-robots"),
            ["/private/x", "/private/app.js"]
        );
        assert_eq!(t.fired("blocked-url-linked"), ["/private/x"]);
        assert_eq!(t.fired("robots-txt-blocks-resources"), [""]);
        let clean = TestSite::new().page("/open", Some(200), None, |_| {});
        for id in [
            "url-blocked-by-robots",
            "blocked-url-linked",
            "robots-txt-blocks-resources",
        ] {
            assert!(clean.fired(id).is_empty(), "{id}");
        }
    }
}
