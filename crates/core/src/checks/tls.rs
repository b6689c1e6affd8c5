//! Category 3's certificate and protocol checks, and `http2-not-supported`
//! (21): they read what the TLS probe stored for each host.

use serde_json::{Value, json};

use super::{Check, CheckInfo, SiteData};
use crate::model::{Finding, Severity};
use crate::tls::{CertFacts, TlsFacts};

/// A check over each probed host.
struct TlsCheck {
    info: CheckInfo,
    eval: fn(&SiteData, &TlsFacts) -> Option<Value>,
}

impl Check for TlsCheck {
    fn info(&self) -> &CheckInfo {
        &self.info
    }

    fn run(&self, site: &SiteData, out: &mut super::Findings) {
        for facts in &site.tls {
            if let Some(mut details) = (self.eval)(site, facts) {
                details["host"] = json!(facts.authority());
                out.push(Finding {
                    check_id: self.info.id,
                    severity: self.info.severity,
                    url: Some(format!("https://{}/", facts.authority())),
                    details,
                });
            }
        }
    }
}

fn check(
    id: &'static str,
    category: u8,
    severity: Severity,
    [title, why, fix]: [&'static str; 3],
    eval: fn(&SiteData, &TlsFacts) -> Option<Value>,
) -> Box<dyn Check> {
    Box::new(TlsCheck {
        info: CheckInfo::new(id, category, severity, [title, why, fix]),
        eval,
    })
}

fn date(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(secs.max(0)).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

fn cert_summary(c: &CertFacts) -> Value {
    json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "not_before": date(c.not_before),
        "not_after": date(c.not_after),
    })
}

/// Certificates that are part of the path: every one but a self-signed root
/// sent along (its own signature and dates are not checked by clients).
fn path_certs(f: &TlsFacts) -> impl Iterator<Item = &CertFacts> {
    f.chain
        .iter()
        .enumerate()
        .filter(|(i, c)| *i == 0 || !c.self_signed)
        .map(|(_, c)| c)
}

/// Only the leaf was sent, it is not self-signed, it names where its issuer can
/// be fetched, and no trusted root issued it directly: the intermediate is missing.
fn chain_incomplete(f: &TlsFacts) -> bool {
    f.chain.len() == 1
        && f.trust_error.as_deref() == Some("UnknownIssuer")
        && f.leaf()
            .is_some_and(|l| !l.self_signed && !l.ca_issuers.is_empty())
}

fn accepted(f: &TlsFacts, version: &str) -> Option<bool> {
    f.version(version).and_then(|v| v.accepted)
}

fn days(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

pub(super) fn checks() -> Vec<Box<dyn Check>> {
    vec![
        check(
            "tls-cert-expired",
            3,
            Severity::Error,
            [
                "TLS certificate expired",
                "Browsers show a full-page warning and crawlers stop fetching the site.",
                "Renew the certificate and install it with its chain; automate renewal (ACME).",
            ],
            |_, f| {
                let leaf = f.leaf()?;
                (leaf.not_after < f.probed_at).then(|| {
                    json!({
                        "certificate": cert_summary(leaf),
                        "expired_days_ago": days(f.probed_at - leaf.not_after),
                    })
                })
            },
        ),
        check(
            "tls-cert-expiring-soon",
            3,
            Severity::Warning,
            [
                "TLS certificate expires soon",
                "When it lapses every visitor gets a security warning.",
                "Renew it now and check that automatic renewal works.",
            ],
            |site, f| {
                let horizon = f.probed_at + i64::from(site.thresholds.tls_expiry_days) * 86_400;
                let soon: Vec<Value> = path_certs(f)
                    .filter(|c| c.not_after >= f.probed_at && c.not_after <= horizon)
                    .map(|c| {
                        let mut v = cert_summary(c);
                        v["days_left"] = json!(days(c.not_after - f.probed_at));
                        v
                    })
                    .collect();
                (!soon.is_empty()).then(|| {
                    json!({ "certificates": soon, "within_days": site.thresholds.tls_expiry_days })
                })
            },
        ),
        check(
            "tls-cert-not-yet-valid",
            3,
            Severity::Error,
            [
                "TLS certificate not valid yet",
                "Clients reject a certificate before its notBefore date.",
                "Install a certificate valid now, or fix the server's clock if it issued it.",
            ],
            |_, f| {
                let leaf = f.leaf()?;
                (leaf.not_before > f.probed_at)
                    .then(|| json!({ "certificate": cert_summary(leaf) }))
            },
        ),
        check(
            "tls-cert-name-mismatch",
            3,
            Severity::Error,
            [
                "TLS certificate does not cover the host name",
                "Browsers refuse the connection with a name-mismatch warning.",
                "Issue a certificate whose subjectAltName lists this host (a wildcard covers one label).",
            ],
            |_, f| {
                let leaf = f.leaf()?;
                (!leaf.matches_host(&f.host))
                    .then(|| json!({ "requested": f.host, "certificate_names": leaf.names() }))
            },
        ),
        check(
            "tls-cert-untrusted",
            3,
            Severity::Error,
            [
                "TLS certificate not trusted",
                "The chain does not lead to a root browsers trust: self-signed, private CA or wrong chain.",
                "Use a certificate from a public CA and send its intermediates.",
            ],
            |_, f| {
                let error = f.trust_error.as_deref()?;
                (!chain_incomplete(f)).then(|| {
                    json!({
                        "error": error,
                        "chain": f.chain.iter().map(|c| json!({ "subject": c.subject, "issuer": c.issuer })).collect::<Vec<_>>(),
                    })
                })
            },
        ),
        check(
            "tls-chain-incomplete",
            3,
            Severity::Warning,
            [
                "TLS chain incomplete: intermediate certificate missing",
                "Browsers may fetch it through AIA; many bots and API clients fail instead.",
                "Configure the server with the full chain (leaf followed by intermediates).",
            ],
            |_, f| {
                chain_incomplete(f).then(|| {
                    let leaf = &f.chain[0];
                    json!({ "sent": 1, "issuer": leaf.issuer, "ca_issuers": leaf.ca_issuers })
                })
            },
        ),
        check(
            "tls-cert-weak-signature",
            3,
            Severity::Error,
            [
                "TLS certificate signed with SHA-1 or MD5",
                "Such signatures can be forged; browsers reject them.",
                "Reissue the certificate (and intermediates) with SHA-256 or better.",
            ],
            |_, f| {
                let weak: Vec<Value> = path_certs(f)
                    .filter(|c| c.weak_signature)
                    .map(|c| json!({ "subject": c.subject, "signature": c.signature_algorithm }))
                    .collect();
                (!weak.is_empty()).then(|| json!({ "certificates": weak }))
            },
        ),
        check(
            "tls-cert-weak-key",
            3,
            Severity::Warning,
            [
                "TLS certificate key too weak",
                "RSA below 2048 bits or ECDSA below 256 bits can be broken.",
                "Reissue with RSA 2048+ or ECDSA P-256+.",
            ],
            |_, f| {
                let leaf = f.leaf()?;
                let weak = match leaf.key_type.as_str() {
                    "RSA" | "DSA" => leaf.key_bits < 2048,
                    "EC" => leaf.key_bits < 256,
                    _ => false,
                };
                weak.then(|| json!({ "key_type": leaf.key_type, "bits": leaf.key_bits }))
            },
        ),
        check(
            "tls-legacy-protocol-accepted",
            3,
            Severity::Error,
            [
                "Server accepts SSL 3.0, TLS 1.0 or TLS 1.1",
                "These versions have known attacks and are deprecated (RFC 8996).",
                "Allow only TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;).",
            ],
            |_, f| {
                let old: Vec<&str> = ["SSLv3", "TLSv1.0", "TLSv1.1"]
                    .into_iter()
                    .filter(|v| accepted(f, v) == Some(true))
                    .collect();
                (!old.is_empty()).then(|| {
                    let detail: Vec<&str> = f
                        .versions
                        .iter()
                        .filter(|v| old.contains(&v.version.as_str()))
                        .map(|v| v.detail.as_str())
                        .collect();
                    json!({ "accepted": old, "answers": detail })
                })
            },
        ),
        check(
            "tls-modern-protocol-missing",
            3,
            Severity::Error,
            [
                "Server refuses both TLS 1.2 and TLS 1.3",
                "Current browsers and crawlers cannot connect at all.",
                "Enable TLS 1.2 and 1.3.",
            ],
            |_, f| {
                (accepted(f, "TLSv1.2") == Some(false) && accepted(f, "TLSv1.3") == Some(false))
                    .then(|| json!({ "error": f.error }))
            },
        ),
        check(
            "tls13-unsupported",
            3,
            Severity::Notice,
            [
                "TLS 1.3 not supported",
                "TLS 1.3 saves a round trip per new connection and drops weak options.",
                "Enable TLS 1.3 on the server or CDN.",
            ],
            |_, f| {
                (accepted(f, "TLSv1.2") == Some(true) && accepted(f, "TLSv1.3") == Some(false))
                    .then(|| json!({ "tls13": f.version("TLSv1.3").map(|v| v.detail.clone()) }))
            },
        ),
        check(
            "tls-weak-cipher",
            3,
            Severity::Warning,
            [
                "Server accepts weak cipher suites",
                "NULL, anonymous, EXPORT, RC4, DES and 3DES suites, or CBC-only without forward secrecy, weaken every connection.",
                "Allow only ECDHE suites with AES-GCM or ChaCha20-Poly1305.",
            ],
            |_, f| {
                (!f.weak_ciphers.is_empty() || f.tls12_cbc_only_without_fs).then(|| {
                    json!({
                        "accepted": f.weak_ciphers,
                        "tls12_cbc_only_without_forward_secrecy": f.tls12_cbc_only_without_fs,
                    })
                })
            },
        ),
        check(
            "https-unavailable",
            3,
            Severity::Error,
            [
                "Site has no working https",
                "Visitors and search engines cannot reach a secure version of the site.",
                "Serve the site over https with a valid certificate and redirect http to it.",
            ],
            |site, f| {
                let works =
                    accepted(f, "TLSv1.2") == Some(true) || accepted(f, "TLSv1.3") == Some(true);
                if f.port != 443 || works {
                    return None;
                }
                let http_page = site.urls.iter().find(|u| {
                    u.status.is_some()
                        && u.scope == crate::store::UrlScope::Internal
                        && url::Url::parse(&u.url).is_ok_and(|x| {
                            x.scheme() == "http" && x.host_str() == Some(f.host.as_str())
                        })
                })?;
                Some(json!({ "http_url": http_page.url, "error": f.error }))
            },
        ),
        check(
            "http2-not-supported",
            21,
            Severity::Notice,
            [
                "HTTP/2 not offered",
                "HTTP/1.1 needs several connections and repeats headers; HTTP/2 multiplexes.",
                "Enable HTTP/2 on the server or CDN (nginx: http2 on;).",
            ],
            |_, f| {
                if f.protocol.is_none() || f.alpn.as_deref() == Some("h2") {
                    return None;
                }
                Some(json!({ "alpn": f.alpn }))
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::TestSite;
    use crate::tls::VersionResult;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn cert(subject: &str, issuer: &str) -> CertFacts {
        CertFacts {
            subject: format!("CN={subject}"),
            issuer: format!("CN={issuer}"),
            not_before: NOW - 30 * DAY,
            not_after: NOW + 60 * DAY,
            dns_names: vec!["site.example".into()],
            ip_addresses: Vec::new(),
            has_san: true,
            common_name: Some(subject.into()),
            signature_algorithm: "ecdsa-with-SHA256".into(),
            weak_signature: false,
            key_type: "EC".into(),
            key_bits: 256,
            self_signed: subject == issuer,
            ca: subject != "site.example",
            ca_issuers: vec!["http://ca.example/i.der".into()],
        }
    }

    fn version(v: &str, accepted: bool) -> VersionResult {
        VersionResult {
            version: v.into(),
            accepted: Some(accepted),
            detail: if accepted {
                "ServerHello"
            } else {
                "alert protocol_version"
            }
            .into(),
        }
    }

    /// A healthy host: full chain, trusted, TLS 1.2 and 1.3 only, h2.
    fn good() -> TlsFacts {
        TlsFacts {
            host: "site.example".into(),
            port: 443,
            probed_at: NOW,
            unreachable: false,
            error: None,
            protocol: Some("TLSv1.3".into()),
            cipher: Some("TLS13_AES_128_GCM_SHA256".into()),
            alpn: Some("h2".into()),
            chain: vec![cert("site.example", "Inter"), cert("Inter", "Root")],
            trust_error: None,
            versions: vec![
                version("SSLv3", false),
                version("TLSv1.0", false),
                version("TLSv1.1", false),
                version("TLSv1.2", true),
                version("TLSv1.3", true),
            ],
            weak_ciphers: Vec::new(),
            tls12_cbc_only_without_fs: false,
        }
    }

    fn fires(id: &str, edit: impl FnOnce(&mut TlsFacts)) -> bool {
        let mut f = good();
        edit(&mut f);
        let fired = TestSite::new().tls(f).fired(id);
        assert!(
            TestSite::new().tls(good()).fired(id).is_empty(),
            "{id} fired on a healthy host"
        );
        !fired.is_empty()
    }

    fn set(f: &mut TlsFacts, v: &str, accepted: bool) {
        for r in f.versions.iter_mut().filter(|r| r.version == v) {
            r.accepted = Some(accepted);
        }
    }

    #[test]
    fn certificate_dates() {
        assert!(fires("tls-cert-expired", |f| f.chain[0].not_after = NOW - DAY));
        assert!(!fires("tls-cert-expired", |f| f.chain[0].not_after = NOW + DAY));
        assert!(fires("tls-cert-expiring-soon", |f| f.chain[0].not_after =
            NOW + 10 * DAY));
        assert!(fires("tls-cert-expiring-soon", |f| f.chain[1].not_after =
            NOW + 29 * DAY));
        assert!(!fires("tls-cert-expiring-soon", |f| f.chain[0].not_after =
            NOW + 31 * DAY));
        assert!(fires("tls-cert-not-yet-valid", |f| f.chain[0].not_before =
            NOW + DAY));
        assert!(!fires("tls-cert-not-yet-valid", |f| f.chain[0]
            .not_before =
            NOW - 1));
    }

    #[test]
    fn certificate_names_and_trust() {
        assert!(fires("tls-cert-name-mismatch", |f| f.chain[0].dns_names =
            vec!["other.example".into()]));
        assert!(!fires("tls-cert-name-mismatch", |f| f.chain[0].dns_names =
            vec!["*.example".into(), "site.example".into()]));
        assert!(fires("tls-cert-untrusted", |f| {
            f.chain = vec![cert("site.example", "site.example")];
            f.trust_error = Some("UnknownIssuer".into());
        }));
        // A missing intermediate is reported as such, not as untrusted.
        let missing = |f: &mut TlsFacts| {
            f.chain.truncate(1);
            f.trust_error = Some("UnknownIssuer".into());
        };
        assert!(fires("tls-chain-incomplete", missing));
        assert!(!fires("tls-cert-untrusted", missing));
        assert!(!fires("tls-chain-incomplete", |f| f.chain.truncate(1)));
    }

    #[test]
    fn certificate_algorithms() {
        assert!(fires("tls-cert-weak-signature", |f| f.chain[1]
            .weak_signature =
            true));
        // A self-signed root's own signature does not matter.
        assert!(!fires("tls-cert-weak-signature", |f| {
            let mut root = cert("Root", "Root");
            root.weak_signature = true;
            f.chain.push(root);
        }));
        assert!(fires("tls-cert-weak-key", |f| {
            f.chain[0].key_type = "RSA".into();
            f.chain[0].key_bits = 1024;
        }));
        assert!(!fires("tls-cert-weak-key", |f| {
            f.chain[0].key_type = "RSA".into();
            f.chain[0].key_bits = 2048;
        }));
    }

    #[test]
    fn protocols_and_suites() {
        assert!(fires("tls-legacy-protocol-accepted", |f| set(
            f, "TLSv1.0", true
        )));
        assert!(!fires("tls-legacy-protocol-accepted", |f| set(
            f, "TLSv1.3", false
        )));
        assert!(fires("tls-modern-protocol-missing", |f| {
            set(f, "TLSv1.2", false);
            set(f, "TLSv1.3", false);
        }));
        assert!(!fires("tls-modern-protocol-missing", |f| set(
            f, "TLSv1.3", false
        )));
        assert!(fires("tls13-unsupported", |f| set(f, "TLSv1.3", false)));
        assert!(!fires("tls13-unsupported", |f| set(f, "TLSv1.0", true)));
        assert!(fires("tls-weak-cipher", |f| f.weak_ciphers =
            vec!["DES-CBC3-SHA".into()]));
        assert!(fires("tls-weak-cipher", |f| f.tls12_cbc_only_without_fs = true));
        assert!(!fires("tls-weak-cipher", |f| f.cipher =
            Some("ECDHE-RSA-AES128-SHA".into())));
        assert!(fires("http2-not-supported", |f| f.alpn = Some("http/1.1".into())));
        assert!(!fires("http2-not-supported", |f| {
            f.protocol = None;
            f.alpn = None;
        }));
    }

    #[test]
    fn https_unavailable_needs_an_http_page() {
        let closed = |f: &mut TlsFacts| {
            f.unreachable = true;
            f.error = Some("no connection: Connection refused".into());
            f.chain.clear();
            f.versions.clear();
        };
        // TestSite's pages are http://site.example/...: the site answers on http.
        assert!(fires("https-unavailable", closed));
        let mut f = good();
        closed(&mut f);
        f.host = "elsewhere.example".into();
        assert!(TestSite::new().tls(f).fired("https-unavailable").is_empty());
        assert!(!fires("https-unavailable", |f| set(f, "TLSv1.3", false)));
    }
}
