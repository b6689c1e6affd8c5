//! Categories 3 (HTTPS adoption; certificate facts are not collected yet), 4 (mixed
//! content and insecure references) and 5 (security headers and hygiene).

use serde_json::json;

use super::{Check, CheckInfo, Evidence, LinkRef, PageView, SiteData};
use crate::model::{Finding, Severity};
use crate::store::{UrlRecord, UrlScope};

const BLOCKABLE: &[&str] = &["script", "css", "iframe", "object", "preload"];
const UPGRADABLE: &[&str] = &["img", "media"];
const DOWNLOADS: &[&str] = &[
    "pdf", "zip", "exe", "dmg", "msi", "apk", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "tar",
    "gz", "rar", "7z",
];

fn https(u: &str) -> bool {
    u.starts_with("https://")
}

fn http(u: &str) -> bool {
    u.starts_with("http://")
}

/// Runs `eval` on internal 2xx HTML pages.
fn html_page(
    p: &PageView<'_>,
    eval: impl FnOnce(&PageView<'_>) -> Option<serde_json::Value>,
) -> Evidence {
    p.html()?;
    eval(p).map(|v| (None, v))
}

/// Outgoing links of a page whose target satisfies `pred`.
fn out_where<'a>(
    site: &'a SiteData,
    p: &PageView<'_>,
    pred: impl Fn(&LinkRef, &UrlRecord) -> bool,
) -> Vec<&'a str> {
    let mut v: Vec<&str> = site
        .outlinks(p.record.id)
        .filter_map(|l| {
            site.get(l.to)
                .filter(|t| pred(&l, t))
                .map(|t| t.url.as_str())
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A check over HTML pages with the whole crawl at hand.
struct SiteAware {
    info: CheckInfo,
    eval: fn(&SiteData, &PageView<'_>) -> Option<serde_json::Value>,
}

impl Check for SiteAware {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn per_page(&self) -> Option<&dyn super::PerPage> {
        Some(self)
    }
}

impl super::PerPage for SiteAware {
    fn eval_page(&self, site: &SiteData, p: &PageView<'_>, out: &mut super::Findings) {
        if !p.internal() {
            return;
        }
        if let Some(details) = (self.eval)(site, p) {
            out.push(Finding {
                check_id: self.info.id,
                severity: self.info.severity,
                url: Some(p.record.url.clone()),
                details,
            });
        }
    }
}

fn site_aware(
    id: &'static str,
    category: u8,
    severity: Severity,
    text: [&'static str; 3],
    eval: fn(&SiteData, &PageView<'_>) -> Option<serde_json::Value>,
) -> Box<dyn Check> {
    Box::new(SiteAware {
        info: CheckInfo::new(id, category, severity, text),
        eval,
    })
}

/// The list of URLs as evidence, when there is any.
fn urls(v: Vec<&str>) -> Option<serde_json::Value> {
    (!v.is_empty())
        .then(|| json!({ "urls": v.iter().take(20).collect::<Vec<_>>(), "count": v.len() }))
}

/// Parsed `Strict-Transport-Security`: max-age, includeSubDomains, problems.
fn hsts(value: &str) -> (Option<u64>, bool, Vec<String>) {
    let mut problems = Vec::new();
    let lines: Vec<&str> = value.lines().collect();
    if lines.len() > 1 && lines.iter().any(|l| l.trim() != lines[0].trim()) {
        problems.push("several different headers".to_string());
    }
    let mut max_age = None;
    let mut subdomains = false;
    let mut seen = Vec::new();
    for d in lines[0]
        .split(';')
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
    {
        let name = d.split('=').next().unwrap_or_default().trim().to_string();
        if seen.contains(&name) {
            problems.push(format!("{name} repeated"));
        }
        seen.push(name.clone());
        if name == "max-age" {
            match d
                .split_once('=')
                .map(|(_, v)| v.trim().trim_matches('"').parse::<u64>())
            {
                Some(Ok(n)) => max_age = Some(n),
                _ => problems.push("max-age is not a number".into()),
            }
        }
        subdomains |= name == "includesubdomains";
    }
    if !seen.iter().any(|n| n == "max-age") {
        problems.push("max-age missing".into());
    }
    (max_age, subdomains, problems)
}

/// The effective script policy of a CSP: `script-src`, else `default-src`.
fn script_sources(csp: &str) -> Option<Vec<String>> {
    let directive = |name: &str| {
        csp.split(';').map(str::trim).find_map(|d| {
            let mut parts = d.split_ascii_whitespace();
            parts
                .next()
                .filter(|n| n.eq_ignore_ascii_case(name))
                .map(|_| parts.map(str::to_ascii_lowercase).collect::<Vec<_>>())
        })
    };
    directive("script-src").or_else(|| directive("default-src"))
}

fn has_version(v: &str) -> bool {
    v.as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        // 3: HTTPS adoption.
        site_aware(
            "http-not-redirected",
            3,
            Severity::Error,
            [
                "Page served over both http and https",
                "Two copies of every page; visitors on http are not protected.",
                "Redirect http:// to https:// with a 301.",
            ],
            |site, p| {
                let r = p.record;
                if !http(&r.url) || !r.status.is_some_and(|s| (200..300).contains(&s)) {
                    return None;
                }
                let twin = site.by_url(&r.url.replacen("http://", "https://", 1))?;
                twin.status
                    .is_some_and(|s| (200..300).contains(&s))
                    .then(|| json!({ "https": twin.url }))
            },
        ),
        site_aware(
            "https-to-http-redirect",
            3,
            Severity::Error,
            [
                "Redirect from https to http",
                "The visitor is moved from a secure to an insecure connection.",
                "Redirect to the https:// URL.",
            ],
            |site, p| {
                if !https(&p.record.url) || p.record.location().is_none() {
                    return None;
                }
                let chain = site.chain(p.record);
                let hop = chain
                    .windows(2)
                    .find(|w| https(&w[0].url) && http(&w[1].url))?;
                Some(json!({ "from": hop[0].url, "to": hop[1].url }))
            },
        ),
        site_aware(
            "internal-http-url",
            3,
            Severity::Warning,
            [
                "http:// URL on an https site",
                "Links, sitemaps or canonicals still name the insecure address.",
                "Update the references to https://.",
            ],
            |site, p| {
                let secure_site = site.start().is_some_and(|u| https(&u.url));
                (secure_site
                    && http(&p.record.url)
                    && p.record.found_by != crate::crawl::FOUND_INVALID)
                    .then(|| json!({ "found_by": p.record.found_by }))
            },
        ),
        // 4: mixed content.
        site_aware(
            "mixed-content-blockable",
            4,
            Severity::Error,
            [
                "https page loads scripts, styles or frames over http",
                "Browsers block them: the page breaks.",
                "Load every script, stylesheet and frame over https.",
            ],
            |site, p| {
                if !https(&p.record.url) || p.html().is_none() {
                    return None;
                }
                urls(out_where(site, p, |l, t| {
                    BLOCKABLE.contains(&l.kind.as_str()) && http(&t.url)
                }))
            },
        ),
        site_aware(
            "mixed-content-upgradable",
            4,
            Severity::Warning,
            [
                "https page loads images or media over http",
                "Browsers try https instead and drop the file if that fails.",
                "Reference images and media with https:// URLs.",
            ],
            |site, p| {
                if !https(&p.record.url) || p.html().is_none() {
                    return None;
                }
                urls(out_where(site, p, |l, t| {
                    UPGRADABLE.contains(&l.kind.as_str()) && http(&t.url)
                }))
            },
        ),
        page_check!(
            "form-action-insecure",
            4,
            Error,
            "Form submits over http",
            "What visitors type is sent unencrypted.",
            "Make the form's action an https:// URL.",
            |p| html_page(p, |p| {
                let page = p.url()?;
                let bad: Vec<String> = p
                    .facts?
                    .form_actions
                    .iter()
                    .filter_map(|a| page.join(a).ok())
                    .filter(|u| u.scheme() == "http")
                    .map(String::from)
                    .collect();
                (!bad.is_empty()).then(|| json!({ "actions": bad }))
            }),
        ),
        page_check!(
            "form-on-http-page",
            4,
            Error,
            "Form on an http page",
            "Browsers mark the page as not secure; input can be read or altered in transit.",
            "Serve the page over https.",
            |p| html_page(p, |p| (http(&p.record.url)
                && !p.facts?.form_actions.is_empty())
            .then(|| json!({ "forms": p.facts.map(|f| f.form_actions.len()) }))),
        ),
        page_check!(
            "password-on-http-page",
            4,
            Error,
            "Password field on an http page",
            "Passwords travel in clear text; browsers warn visitors.",
            "Serve the page over https.",
            |p| html_page(p, |p| (http(&p.record.url) && p.facts?.password_inputs > 0)
                .then(
                    || json!({ "password_inputs": p.facts.map(|f| f.password_inputs) })
                )),
        ),
        site_aware(
            "https-links-to-http",
            4,
            Severity::Warning,
            [
                "https page links to internal http:// URLs",
                "Each click downgrades or redirects the visitor.",
                "Link to the https:// URLs.",
            ],
            |site, p| {
                if !https(&p.record.url) || p.html().is_none() {
                    return None;
                }
                urls(out_where(site, p, |l, t| {
                    l.kind == "a" && t.scope == UrlScope::Internal && http(&t.url)
                }))
            },
        ),
        site_aware(
            "insecure-download-link",
            4,
            Severity::Notice,
            [
                "https page links to a download over http",
                "Browsers warn about or block insecure downloads.",
                "Serve downloads over https.",
            ],
            |site, p| {
                if !https(&p.record.url) || p.html().is_none() {
                    return None;
                }
                urls(out_where(site, p, |l, t| {
                    let ext = t
                        .url
                        .rsplit('/')
                        .next()
                        .and_then(|f| f.rsplit_once('.'))
                        .map(|(_, e)| e.to_ascii_lowercase());
                    l.kind == "a"
                        && http(&t.url)
                        && ext.is_some_and(|e| DOWNLOADS.contains(&e.as_str()))
                }))
            },
        ),
        site_aware(
            "external-links-http",
            4,
            Severity::Notice,
            [
                "Links to external http:// URLs",
                "Stale insecure references; many of those sites now use https.",
                "Update the links to https:// where the site supports it.",
            ],
            |site, p| {
                p.html()?;
                urls(out_where(site, p, |l, t| {
                    l.kind == "a" && t.scope == UrlScope::External && http(&t.url)
                }))
            },
        ),
        // 5: security headers, on internal 2xx HTML responses.
        page_check!(
            "hsts-missing",
            5,
            Warning,
            "No Strict-Transport-Security header",
            "Without HSTS, a first http request can be intercepted and downgraded.",
            "Send Strict-Transport-Security: max-age=31536000; includeSubDomains.",
            |p| html_page(p, |p| (https(&p.record.url)
                && p.header("strict-transport-security").is_none())
            .then(|| json!({}))),
        ),
        page_check!(
            "hsts-invalid",
            5,
            Warning,
            "Unusable Strict-Transport-Security header",
            "Browsers ignore an HSTS header they cannot parse.",
            "Send one header with a numeric max-age.",
            |p| html_page(p, |p| {
                let v = p.header("strict-transport-security")?;
                let (_, _, problems) = hsts(v);
                (!problems.is_empty()).then(|| json!({ "value": v, "problems": problems }))
            }),
        ),
        page_check!(
            "hsts-max-age-short",
            5,
            Notice,
            "HSTS max-age under one year",
            "A short policy expires between visits; max-age=0 removes it.",
            "Use max-age=31536000 or more.",
            |p| html_page(p, |p| {
                let v = p.header("strict-transport-security")?;
                let age = hsts(v).0?;
                (age < p.limits.hsts_min_age).then(|| json!({ "max_age": age }))
            }),
        ),
        Box::new(HstsNoSubdomains),
        page_check!(
            "hsts-on-http",
            5,
            Notice,
            "Strict-Transport-Security sent over http",
            "Browsers ignore it on http; often a sign http is not redirected.",
            "Redirect http to https and send HSTS there.",
            |p| (p.internal()
                && http(&p.record.url)
                && p.header("strict-transport-security").is_some())
            .then(|| (None, json!({})))
        ),
        page_check!(
            "csp-missing",
            5,
            Notice,
            "No Content-Security-Policy",
            "A CSP limits the damage of injected scripts.",
            "Add a Content-Security-Policy header.",
            |p| html_page(p, |p| (p.header("content-security-policy").is_none()
                && p.facts?.csp_meta.is_none())
            .then(|| json!({}))),
        ),
        page_check!(
            "csp-weak",
            5,
            Notice,
            "Content-Security-Policy allows unsafe scripts",
            "'unsafe-inline', 'unsafe-eval' or wildcards let injected scripts run.",
            "Use nonces or hashes instead of 'unsafe-inline'; drop 'unsafe-eval' and wildcards.",
            |p| html_page(p, |p| {
                let csp = p
                    .header("content-security-policy")
                    .map(str::to_string)
                    .or_else(|| p.facts?.csp_meta.clone())?;
                let src = script_sources(&csp)?;
                let has_nonce = src
                    .iter()
                    .any(|s| s.starts_with("'nonce-") || s.starts_with("'sha"));
                let weak: Vec<&String> = src
                    .iter()
                    .filter(|s| {
                        (s.as_str() == "'unsafe-inline'" && !has_nonce)
                            || matches!(
                                s.as_str(),
                                "'unsafe-eval'" | "*" | "http:" | "https:" | "data:"
                            )
                    })
                    .collect();
                (!weak.is_empty()).then(|| json!({ "script_src": weak }))
            }),
        ),
        page_check!(
            "nosniff-missing",
            5,
            Notice,
            "X-Content-Type-Options: nosniff missing",
            "Browsers may guess content types and run files as scripts.",
            "Send X-Content-Type-Options: nosniff.",
            |p| html_page(p, |p| (!p
                .header("x-content-type-options")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff")))
            .then(|| json!({ "value": p.header("x-content-type-options") }))),
        ),
        page_check!(
            "clickjacking-unprotected",
            5,
            Notice,
            "Page can be framed by any site",
            "Clickjacking: another site can overlay your page and steal clicks.",
            "Send X-Frame-Options: SAMEORIGIN or CSP frame-ancestors.",
            |p| html_page(p, |p| {
                let xfo = p.header("x-frame-options").is_some_and(|v| {
                    matches!(
                        v.trim().to_ascii_uppercase().as_str(),
                        "DENY" | "SAMEORIGIN"
                    )
                });
                let fa = p
                    .header("content-security-policy")
                    .is_some_and(|c| c.to_ascii_lowercase().contains("frame-ancestors"));
                (!xfo && !fa).then(|| json!({}))
            }),
        ),
        page_check!(
            "referrer-policy-unsafe",
            5,
            Notice,
            "Referrer-Policy missing or leaky",
            "Full URLs (with their parameters) are sent to other sites.",
            "Send Referrer-Policy: strict-origin-when-cross-origin.",
            |p| html_page(p, |p| {
                let v = p
                    .header("referrer-policy")
                    .map(|v| v.trim().to_ascii_lowercase());
                v.as_deref()
                    .is_none_or(|v| matches!(v, "unsafe-url" | "no-referrer-when-downgrade"))
                    .then(|| json!({ "value": v }))
            }),
        ),
        page_check!(
            "permissions-policy-missing",
            5,
            Notice,
            "No Permissions-Policy header",
            "Embedded content may use features (camera, geolocation) you never meant to allow.",
            "Send a Permissions-Policy that disables unused features.",
            |p| html_page(p, |p| p
                .header("permissions-policy")
                .is_none()
                .then(|| json!({}))),
        ),
        Box::new(ServerVersion),
        page_check!(
            "cookie-flags-insecure",
            5,
            Notice,
            "Cookie without Secure or HttpOnly",
            "Cookies without Secure can leak over http; session cookies without HttpOnly can be read by scripts.",
            "Set Secure on every cookie over https, and HttpOnly on session cookies.",
            |p| {
                if !p.internal() {
                    return None;
                }
                let cookies = p.header("set-cookie")?;
                let bad: Vec<String> = cookies
                    .lines()
                    .filter_map(|c| {
                        let name = c.split('=').next()?.trim().to_ascii_lowercase();
                        let attrs = c.to_ascii_lowercase();
                        let insecure = https(&p.record.url) && !attrs.contains("secure");
                        let session = ["sess", "sid", "auth", "token"]
                            .iter()
                            .any(|s| name.contains(s));
                        (insecure || (session && !attrs.contains("httponly"))).then_some(name)
                    })
                    .collect();
                (!bad.is_empty()).then(|| (None, json!({ "cookies": bad })))
            },
        ),
    ]
}

/// `hsts-no-subdomains`: the start host's HSTS lacks includeSubDomains.
struct HstsNoSubdomains;

const NO_SUB: CheckInfo = CheckInfo {
    id: "hsts-no-subdomains",
    category: 5,
    severity: Severity::Notice,
    title: "HSTS without includeSubDomains on the site's host",
    why: "Subdomains stay open to downgrade; preloading requires includeSubDomains.",
    fix: "Add includeSubDomains once every subdomain serves https.",
};

impl Check for HstsNoSubdomains {
    fn info(&self) -> &CheckInfo {
        &NO_SUB
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for p in site
            .pages()
            .filter(|p| p.record.found_by == crate::crawl::FOUND_START)
        {
            if let Some(v) = p.header("strict-transport-security")
                && !hsts(v).1
            {
                out.push(Finding {
                    check_id: NO_SUB.id,
                    severity: NO_SUB.severity,
                    url: None,
                    details: json!({ "host": p.record.url, "value": v }),
                });
            }
        }
    }
}

/// `server-version-disclosed`: once per host whose headers name software versions.
struct ServerVersion;

const VERSION: CheckInfo = CheckInfo {
    id: "server-version-disclosed",
    category: 5,
    severity: Severity::Notice,
    title: "Server software version disclosed",
    why: "Version numbers help attackers pick known exploits.",
    fix: "Hide versions (server_tokens off, remove X-Powered-By).",
};

impl Check for ServerVersion {
    fn info(&self) -> &CheckInfo {
        &VERSION
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        // Each host's distinct headers: a server names its version on every page, and
        // the page's host is worked out only for a header not seen before.
        let mut found: std::collections::HashSet<(&str, &str, &str)> = Default::default();
        let mut seen = std::collections::BTreeMap::new();
        for p in site.pages().filter(|p| p.internal()) {
            // URLs that share `scheme://authority` share a host.
            let origin = super::authority(&p.record.url).map_or("", |(_, origin)| origin);
            for h in ["server", "x-powered-by", "x-aspnet-version", "x-generator"] {
                if let Some(v) = p.header(h).filter(|v| has_version(v)) {
                    if !found.insert((origin, h, v)) && !origin.is_empty() {
                        continue;
                    }
                    let host = crate::url::normalize(&p.record.url)
                        .map(|u| crate::url::host_key(&u))
                        .unwrap_or_default();
                    seen.entry(host)
                        .or_insert_with(Vec::new)
                        .push(format!("{h}: {v}"));
                }
            }
        }
        for (host, mut values) in seen {
            values.sort();
            values.dedup();
            out.push(Finding {
                check_id: VERSION.id,
                severity: VERSION.severity,
                url: None,
                details: json!({ "host": host, "headers": values }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::test_support::TestSite;

    fn hdr(r: &mut crate::store::UrlRecord, k: &str, v: &str) {
        r.headers.push((k.into(), v.into()));
    }

    /// A secure https page with every recommended header.
    fn hardened(r: &mut crate::store::UrlRecord) {
        r.set_facts(Some(crate::store::raw_json(&json!({}))));
        hdr(
            r,
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
        hdr(
            r,
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'",
        );
        hdr(r, "x-content-type-options", "nosniff");
        hdr(r, "referrer-policy", "strict-origin-when-cross-origin");
        hdr(r, "permissions-policy", "camera=()");
    }

    fn https(t: TestSite, path: &str, edit: impl FnOnce(&mut crate::store::UrlRecord)) -> TestSite {
        t.page(path, Some(200), None, |r| {
            r.url = format!("https://site.example{path}");
            hardened(r);
            edit(r);
        })
    }

    #[test]
    fn headers() {
        let mut t = TestSite::new();
        t = https(t, "/good", |_| {});
        t = https(t, "/nohsts", |r| {
            r.headers.retain(|(k, _)| k != "strict-transport-security")
        });
        t = https(t, "/badhsts", |r| {
            r.headers.retain(|(k, _)| k != "strict-transport-security");
            hdr(r, "strict-transport-security", "max-age=soon");
        });
        t = https(t, "/short", |r| {
            r.headers.retain(|(k, _)| k != "strict-transport-security");
            hdr(r, "strict-transport-security", "max-age=300");
        });
        t = https(t, "/nocsp", |r| {
            r.headers.retain(|(k, _)| k != "content-security-policy")
        });
        t = https(t, "/weak", |r| {
            r.headers.retain(|(k, _)| k != "content-security-policy");
            hdr(
                r,
                "content-security-policy",
                "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'",
            );
        });
        t = https(t, "/sniff", |r| {
            r.headers.retain(|(k, _)| k != "x-content-type-options")
        });
        t = https(t, "/ref", |r| {
            r.headers.retain(|(k, _)| k != "referrer-policy");
            hdr(r, "referrer-policy", "unsafe-url");
        });
        t = https(t, "/perm", |r| {
            r.headers.retain(|(k, _)| k != "permissions-policy")
        });
        t = https(t, "/cookie", |r| {
            hdr(r, "set-cookie", "sessionid=1; Path=/\nprefs=dark; Secure")
        });
        t = https(t, "/ver", |r| hdr(r, "server", "nginx/1.22.1"));
        t = t.page("/plain", Some(200), None, |r| {
            hdr(r, "strict-transport-security", "max-age=300")
        });
        let s = "https://site.example";
        assert_eq!(t.fired("hsts-missing"), [format!("{s}/nohsts")]);
        assert_eq!(t.fired("hsts-invalid"), [format!("{s}/badhsts")]);
        assert_eq!(t.fired("hsts-max-age-short"), [format!("{s}/short")]);
        assert_eq!(t.fired("hsts-on-http"), ["/plain"]);
        assert_eq!(t.fired("csp-missing"), [format!("{s}/nocsp")]);
        assert_eq!(t.fired("csp-weak"), [format!("{s}/weak")]);
        assert_eq!(t.fired("nosniff-missing"), [format!("{s}/sniff")]);
        assert_eq!(t.fired("clickjacking-unprotected"), [format!("{s}/nocsp")]);
        assert_eq!(t.fired("referrer-policy-unsafe"), [format!("{s}/ref")]);
        assert_eq!(t.fired("permissions-policy-missing"), [format!("{s}/perm")]);
        assert_eq!(t.fired("cookie-flags-insecure"), [format!("{s}/cookie")]);
        assert_eq!(t.fired("server-version-disclosed"), [""]);
        assert!(
            t.fired("hsts-no-subdomains").is_empty(),
            "the start page has no HSTS at all"
        );
        let start =
            TestSite::new().start(|r| hdr(r, "strict-transport-security", "max-age=63072000"));
        assert_eq!(start.fired("hsts-no-subdomains"), [""]);
    }

    /// Versions are reported once per host, each distinct header once and sorted; one
    /// value under two names is two headers; another port is another host.
    #[test]
    fn server_versions_once_per_host() {
        let mut t = TestSite::new().start(|r| hdr(r, "server", "nginx/1.22.1"));
        for p in ["/a", "/b"] {
            t = t.page(p, Some(200), None, |r| {
                hdr(r, "x-powered-by", "nginx/1.22.1");
                hdr(r, "server", "nginx/1.22.1");
            });
        }
        t = t.page("/c", Some(200), None, |r| {
            r.url = "http://site.example:8080/c".into();
            hdr(r, "x-powered-by", "PHP/8.2");
        });
        let got: Vec<_> = t
            .findings("server-version-disclosed")
            .into_iter()
            .map(|f| f.details)
            .collect();
        assert_eq!(
            got,
            [
                json!({ "host": "http://site.example",
                        "headers": ["server: nginx/1.22.1", "x-powered-by: nginx/1.22.1"] }),
                json!({ "host": "http://site.example:8080", "headers": ["x-powered-by: PHP/8.2"] }),
            ]
        );
    }

    #[test]
    fn https_adoption_and_mixed_content() {
        let mut t = TestSite::new().start(|r| {
            r.url = "https://site.example/".into();
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "form_actions": ["http://site.example/login"] }),
            )));
        });
        t = t.page("/old", Some(200), None, |r| {
            r.set_facts(Some(crate::store::raw_json(
                &json!({ "form_actions": [""], "password_inputs": 1 }),
            )))
        });
        t = https(t, "/old", |_| {});
        t = t
            .page("/app.js", Some(200), None, |_| {})
            .linked_as("/app.js", "script");
        t = t
            .page("/pic.png", Some(200), None, |_| {})
            .linked_as("/pic.png", "img");
        t = t.page("/file.pdf", Some(200), None, |_| {});
        t = t.page("/ext", Some(200), None, |r| {
            r.url = "http://elsewhere.example/ext".into();
            r.scope = crate::store::UrlScope::External;
        });
        t = https(t, "/down", |r| {
            r.status = Some(301);
            r.set_location(Some("http://site.example/plain"));
        });
        t = t.page("/plain", Some(200), None, |_| {});
        assert_eq!(t.fired("http-not-redirected"), ["/old"]);
        assert_eq!(
            t.fired("https-to-http-redirect"),
            ["https://site.example/down"]
        );
        assert!(t.fired("internal-http-url").contains(&"/old".to_string()));
        assert_eq!(
            t.fired("mixed-content-blockable"),
            ["https://site.example/"]
        );
        assert_eq!(
            t.fired("mixed-content-upgradable"),
            ["https://site.example/"]
        );
        assert_eq!(
            t.fired("form-action-insecure"),
            ["https://site.example/", "/old"]
        );
        assert_eq!(t.fired("form-on-http-page"), ["/old"]);
        assert_eq!(t.fired("password-on-http-page"), ["/old"]);
        assert_eq!(t.fired("https-links-to-http"), ["https://site.example/"]);
        assert_eq!(t.fired("insecure-download-link"), ["https://site.example/"]);
        assert_eq!(t.fired("external-links-http"), ["https://site.example/"]);
    }
}
