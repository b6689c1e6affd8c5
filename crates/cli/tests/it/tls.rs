//! The TLS probe end to end: `openssl s_server` on 127.0.0.1 with rcgen
//! certificates, crawled over https; category 3 findings in the report.

use siteaudit_testkit::tls::{Ca, TlsServer, self_signed};

use crate::util::{Dir, Report};

fn ids(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r.0["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == 3 || f["check"] == "http2-not-supported")
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn finding<'a>(r: &'a Report, id: &str) -> &'a serde_json::Value {
    r.0["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == id)
        .unwrap_or_else(|| panic!("no {id} finding"))
}

#[test]
fn broken_certificate_and_legacy_protocol_are_reported() {
    // Expired yesterday, self-signed, issued for another name, TLS 1.0 only.
    let leaf = self_signed(&["other.test"], -60, -1);
    let server = TlsServer::start(&leaf, &[], &["-tls1", "-cipher", "ALL:@SECLEVEL=0"]);
    let d = Dir::new();
    let (code, r) = d.crawl(&server.url("localhost", "/"), &["--retries", "0"]);
    // The start page itself fails the handshake: the crawl could not start.
    assert_eq!(code, 3);
    assert_eq!(r.url("/")["failure"]["kind"], "tls", "{:#}", r.url("/"));
    assert_eq!(
        ids(&r),
        [
            "tls-cert-expired",
            "tls-cert-name-mismatch",
            "tls-cert-untrusted",
            "tls-legacy-protocol-accepted",
            "tls-modern-protocol-missing",
            // OpenSSL's ALL includes the anonymous (ADH, AECDH) suites.
            "tls-weak-cipher",
        ],
        "{:#}",
        r.0["audit"]["findings"]
    );
    let host = format!("localhost:{}", server.port());
    let expired = finding(&r, "tls-cert-expired");
    assert_eq!(expired["details"]["host"], host);
    assert_eq!(expired["url"], format!("https://{host}/"));
    assert_eq!(expired["details"]["expired_days_ago"], 1);
    assert_eq!(
        finding(&r, "tls-cert-name-mismatch")["details"]["certificate_names"],
        serde_json::json!(["other.test"])
    );
    assert_eq!(
        finding(&r, "tls-legacy-protocol-accepted")["details"]["accepted"],
        serde_json::json!(["TLSv1.0"])
    );
}

#[test]
fn private_ca_chain_with_ca_cert_and_missing_intermediate() {
    let root = Ca::root("siteaudit test root");
    let inter = root.intermediate("siteaudit test intermediate");
    let leaf = inter.leaf(&["localhost"], -1, 10, true);
    let d = Dir::new();
    let ca = d.path().join("root.pem");
    std::fs::write(&ca, root.pem()).unwrap();
    let ca = ca.to_str().unwrap();

    // Full chain, root trusted with --ca-cert: the page is fetched, only the
    // near expiry and the missing h2 are findings.
    let full = TlsServer::start(&leaf, &[inter.pem()], &[]);
    let (code, r) = d.crawl(&full.url("localhost", "/"), &["--ca-cert", ca]);
    assert_eq!(r.url("/")["status"], 200, "{:#}", r.0);
    assert_eq!(ids(&r), ["http2-not-supported", "tls-cert-expiring-soon"]);
    assert_eq!(
        code, 0,
        "warnings and notices do not fail the default --fail-on"
    );
    let soon = finding(&r, "tls-cert-expiring-soon");
    // The leaf ends at midnight UTC ten days from the day it was made: probed later that
    // day, 9 whole days are left; made and probed within the first second after midnight, 10
    // (a CI run hit that second).
    let days_left = soon["details"]["certificates"][0]["days_left"].as_i64();
    assert!(matches!(days_left, Some(9 | 10)), "{days_left:?}");

    // The same leaf without its intermediate: incomplete, not untrusted.
    let bare = TlsServer::start(&leaf, &[], &[]);
    let (_, r) = d.crawl(&bare.url("localhost", "/"), &["--ca-cert", ca]);
    assert_eq!(
        ids(&r),
        [
            "http2-not-supported",
            "tls-cert-expiring-soon",
            "tls-chain-incomplete"
        ]
    );

    // Off with --no-tls-probe.
    let (_, r) = d.crawl(
        &full.url("localhost", "/"),
        &["--ca-cert", ca, "--no-tls-probe"],
    );
    assert!(ids(&r).is_empty());

    // A wrong --ca-cert path is a usage error before anything is fetched.
    let o = d.run(&[
        "crawl",
        &full.url("localhost", "/"),
        "--ca-cert",
        "/nonexistent.pem",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ca-cert"));
}
