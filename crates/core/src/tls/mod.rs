//! The per-host TLS probe: one rustls handshake that records the chain as
//! sent (verified separately, so a bad certificate can still be inspected),
//! one handshake per modern version, and ClientHello probes for legacy
//! versions and weak suites. Run by the crawl once per internal https host;
//! the checks of category 3 read what it stored.

mod cert;
mod hello;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

pub use cert::CertFacts;
pub use hello::HelloAnswer;
use hello::Version;

/// What one host's TLS probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFacts {
    /// The host name (or IP) probed, as in the URL.
    pub host: String,
    /// The port.
    pub port: u16,
    /// When, Unix seconds.
    pub probed_at: i64,
    /// No TCP connection (or no address): nothing else is known.
    #[serde(default)]
    pub unreachable: bool,
    /// Why the ordinary handshake (TLS 1.2 or 1.3) failed, if it did.
    pub error: Option<String>,
    /// Negotiated version of the ordinary handshake.
    pub protocol: Option<String>,
    /// Negotiated suite.
    pub cipher: Option<String>,
    /// Negotiated ALPN protocol (`h2`, `http/1.1`), if any.
    pub alpn: Option<String>,
    /// The chain as sent, leaf first.
    #[serde(default)]
    pub chain: Vec<CertFacts>,
    /// Why the chain does not build to a trusted root (checked at a time
    /// inside the leaf's validity, so expiry does not mask trust); `None`
    /// when it does.
    pub trust_error: Option<String>,
    /// Per-version results: SSLv3, TLSv1.0, TLSv1.1 (ClientHello probes),
    /// TLSv1.2, TLSv1.3 (rustls handshakes).
    #[serde(default)]
    pub versions: Vec<VersionResult>,
    /// Weak suites the server accepted (NULL, anonymous, EXPORT, RC4, DES, 3DES).
    #[serde(default)]
    pub weak_ciphers: Vec<String>,
    /// Whether TLS 1.2 works but no suite with forward secrecy or AEAD is accepted.
    #[serde(default)]
    pub tls12_cbc_only_without_fs: bool,
}

/// One protocol version's probe result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResult {
    /// `SSLv3` .. `TLSv1.3`.
    pub version: String,
    /// Accepted, refused, or `None` when unknown (no answer).
    pub accepted: Option<bool>,
    /// The server's answer in words.
    pub detail: String,
}

impl TlsFacts {
    /// The leaf certificate, if one was received.
    pub fn leaf(&self) -> Option<&CertFacts> {
        self.chain.first()
    }

    /// The result for `version` (`TLSv1.2` ...).
    pub fn version(&self, version: &str) -> Option<&VersionResult> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// `host:port` as a URL authority would show it.
    pub fn authority(&self) -> String {
        if self.port == 443 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// How to probe.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// Per-connection time limit.
    pub timeout: Duration,
    /// Extra trusted roots (DER), on top of the Mozilla/WebPKI store.
    pub extra_roots: Vec<Vec<u8>>,
    /// Skip the legacy version and weak suite probes.
    pub skip_legacy: bool,
}

/// Probes `host:port`.
pub async fn probe_host(host: &str, port: u16, opts: &ProbeOptions) -> TlsFacts {
    let mut facts = TlsFacts {
        host: host.to_string(),
        port,
        probed_at: now_secs(),
        unreachable: false,
        error: None,
        protocol: None,
        cipher: None,
        alpn: None,
        chain: Vec::new(),
        trust_error: None,
        versions: Vec::new(),
        weak_ciphers: Vec::new(),
        tls12_cbc_only_without_fs: false,
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addr = match tokio::time::timeout(opts.timeout, tokio::net::lookup_host((bare, port))).await
    {
        Ok(Ok(mut addrs)) => addrs.next(),
        Ok(Err(e)) => {
            facts.unreachable = true;
            facts.error = Some(format!("DNS lookup failed: {e}"));
            return facts;
        }
        Err(_) => None,
    };
    let Some(addr) = addr else {
        facts.unreachable = true;
        facts.error = Some("DNS lookup gave no address".into());
        return facts;
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    match handshake(addr, bare, &provider, None, opts.timeout).await {
        Ok(done) => {
            facts.protocol = done.protocol;
            facts.cipher = done.cipher;
            facts.alpn = done.alpn;
            facts.chain = done
                .chain
                .iter()
                .filter_map(|c| CertFacts::parse(c))
                .collect();
            facts.trust_error = verify_chain(&done.chain, &facts.chain, &provider, opts);
        }
        Err(HandshakeError::Connect(e)) => {
            facts.unreachable = true;
            facts.error = Some(format!("no connection: {e}"));
            return facts;
        }
        Err(HandshakeError::Tls(e)) => facts.error = Some(e),
    }
    for (name, version) in [
        ("TLSv1.2", &rustls::version::TLS12),
        ("TLSv1.3", &rustls::version::TLS13),
    ] {
        let result = handshake(addr, bare, &provider, Some(version), opts.timeout).await;
        facts.versions.push(VersionResult {
            version: name.to_string(),
            accepted: match &result {
                Ok(_) => Some(true),
                Err(HandshakeError::Tls(_)) => Some(false),
                Err(HandshakeError::Connect(_)) => None,
            },
            detail: match result {
                Ok(_) => "handshake completed".into(),
                Err(HandshakeError::Tls(e) | HandshakeError::Connect(e)) => e,
            },
        });
    }
    if opts.skip_legacy {
        return facts;
    }
    let sni = sni_name(bare);
    // rustls offers no CBC suite without forward secrecy: a server that has
    // only those still speaks TLS 1.2, which a broad ClientHello shows.
    if let Some(v) = facts.versions.iter_mut().find(|v| v.version == "TLSv1.2")
        && v.accepted == Some(false)
    {
        let broad: Vec<hello::Suite> = hello::GOOD_TLS12_SUITES
            .iter()
            .chain(hello::LEGACY_SUITES)
            .copied()
            .collect();
        let answer = hello::probe(addr, sni, Version::TLS12, &broad, opts.timeout).await;
        if answer.accepted_at(Version::TLS12) {
            v.accepted = Some(true);
            v.detail = format!(
                "only with suites rustls does not offer: {}",
                describe(&answer)
            );
        }
    }
    for version in [Version::SSL3, Version::TLS10, Version::TLS11] {
        let (answer, chain) =
            hello::probe_with_chain(addr, sni, version, hello::LEGACY_SUITES, opts.timeout).await;
        // A legacy-only server still shows its certificates to a legacy hello.
        if facts.chain.is_empty() && !chain.is_empty() {
            let ders: Vec<CertificateDer<'static>> =
                chain.into_iter().map(CertificateDer::from).collect();
            facts.chain = ders.iter().filter_map(|c| CertFacts::parse(c)).collect();
            facts.trust_error = verify_chain(&ders, &facts.chain, &provider, opts);
        }
        facts.versions.insert(
            facts.versions.len() - 2,
            VersionResult {
                version: version.name(),
                accepted: match &answer {
                    HelloAnswer::Unknown { .. } => None,
                    a => Some(a.accepted_at(version)),
                },
                detail: describe(&answer),
            },
        );
    }
    // Enumerate a few accepted weak suites: each round drops the one chosen.
    let mut offered: Vec<hello::Suite> = hello::WEAK_SUITES.to_vec();
    for _ in 0..4 {
        match hello::probe(addr, sni, Version::TLS12, &offered, opts.timeout).await {
            HelloAnswer::Accepted { cipher, .. } => {
                offered.retain(|(_, n)| *n != cipher);
                facts.weak_ciphers.push(cipher);
            }
            _ => break,
        }
    }
    if facts.version("TLSv1.2").and_then(|v| v.accepted) == Some(true) {
        let answer = hello::probe(
            addr,
            sni,
            Version::TLS12,
            hello::GOOD_TLS12_SUITES,
            opts.timeout,
        )
        .await;
        facts.tls12_cbc_only_without_fs = matches!(answer, HelloAnswer::Refused { .. });
    }
    facts
}

fn describe(answer: &HelloAnswer) -> String {
    match answer {
        HelloAnswer::Accepted { version, cipher } => format!("ServerHello {version} {cipher}"),
        HelloAnswer::Refused { reason } | HelloAnswer::Unknown { reason } => reason.clone(),
    }
}

/// SNI is sent for names only, never for IP addresses (RFC 6066).
fn sni_name(host: &str) -> Option<&str> {
    host.parse::<std::net::IpAddr>().is_err().then_some(host)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Builds the sent chain to a trusted root at a time inside the leaf's validity.
fn verify_chain(
    ders: &[CertificateDer<'static>],
    parsed: &[CertFacts],
    provider: &CryptoProvider,
    opts: &ProbeOptions,
) -> Option<String> {
    let (leaf_der, intermediates) = ders.split_first()?;
    let leaf = parsed.first()?;
    let extra: Vec<CertificateDer<'static>> = opts
        .extra_roots
        .iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect();
    let mut anchors: Vec<_> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
    for der in &extra {
        if let Ok(anchor) = webpki::anchor_from_trusted_cert(der) {
            anchors.push(anchor);
        }
    }
    let ee = match webpki::EndEntityCert::try_from(leaf_der) {
        Ok(ee) => ee,
        Err(e) => return Some(format!("{e:?}")),
    };
    let at = now_secs().clamp(leaf.not_before, leaf.not_after.max(leaf.not_before));
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(at).unwrap_or(0)));
    ee.verify_for_usage(
        provider.signature_verification_algorithms.all,
        &anchors,
        intermediates,
        time,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .err()
    .map(|e| format!("{e:?}"))
}

struct Handshake {
    chain: Vec<CertificateDer<'static>>,
    protocol: Option<String>,
    cipher: Option<String>,
    alpn: Option<String>,
}

enum HandshakeError {
    Connect(String),
    Tls(String),
}

async fn handshake(
    addr: SocketAddr,
    host: &str,
    provider: &Arc<CryptoProvider>,
    only: Option<&'static rustls::SupportedProtocolVersion>,
    timeout: Duration,
) -> Result<Handshake, HandshakeError> {
    let all = [&rustls::version::TLS13, &rustls::version::TLS12];
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = match only {
        Some(v) => vec![v],
        None => all.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| HandshakeError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordOnly(provider.clone())))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| HandshakeError::Tls(format!("invalid server name: {e}")))?;
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(HandshakeError::Connect(e.to_string())),
        Err(_) => {
            return Err(HandshakeError::Connect(format!(
                "connect timed out after {timeout:?}"
            )));
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(HandshakeError::Tls(e.to_string())),
        Err(_) => {
            return Err(HandshakeError::Tls(format!(
                "handshake timed out after {timeout:?}"
            )));
        }
    };
    let (_, conn) = stream.get_ref();
    Ok(Handshake {
        chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default(),
        protocol: conn
            .protocol_version()
            .map(|v| v.as_str().unwrap_or("unknown").replace("TLSv1_", "TLSv1.")),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| s.suite().as_str().unwrap_or("unknown").to_string()),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    })
}

/// Accepts any certificate so the chain can be recorded; the handshake
/// signatures are still checked, and trust is decided by [`verify_chain`].
#[derive(Debug)]
struct RecordOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for RecordOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use siteaudit_testkit::tls::{Ca, TlsServer, self_signed, self_signed_rsa};

    fn opts(roots: Vec<Vec<u8>>) -> ProbeOptions {
        ProbeOptions {
            timeout: Duration::from_secs(5),
            extra_roots: roots,
            skip_legacy: false,
        }
    }

    fn accepted(f: &TlsFacts, v: &str) -> Option<bool> {
        f.version(v).and_then(|r| r.accepted)
    }

    #[tokio::test]
    async fn modern_server_with_full_chain() {
        let root = Ca::root("Test Root");
        let inter = root.intermediate("Test Intermediate");
        let leaf = inter.leaf(&["localhost"], -1, 90, true);
        let server = TlsServer::start(&leaf, &[inter.pem()], &[]);
        let f = probe_host("localhost", server.port(), &opts(vec![root.der()])).await;
        assert_eq!(f.error, None, "{f:?}");
        assert_eq!(f.chain.len(), 2);
        assert_eq!(f.trust_error, None, "{f:?}");
        assert!(f.leaf().unwrap().matches_host("localhost"));
        assert_eq!(
            f.leaf().unwrap().ca_issuers,
            ["http://127.0.0.1:9/issuer.der"]
        );
        assert_eq!(accepted(&f, "TLSv1.3"), Some(true));
        assert_eq!(accepted(&f, "TLSv1.2"), Some(true));
        assert_eq!(accepted(&f, "TLSv1.0"), Some(false), "{f:?}");
        assert_eq!(accepted(&f, "SSLv3"), Some(false));
        assert!(f.weak_ciphers.is_empty(), "{f:?}");
        assert!(!f.tls12_cbc_only_without_fs);
        // Without the private root the same chain is untrusted.
        let f = probe_host("localhost", server.port(), &opts(vec![])).await;
        assert_eq!(f.trust_error.as_deref(), Some("UnknownIssuer"));
    }

    #[tokio::test]
    async fn legacy_and_weak_server() {
        let leaf = self_signed(&["localhost"], -10, -1);
        let server = TlsServer::start(&leaf, &[], &["-tls1", "-cipher", "ALL:aNULL:@SECLEVEL=0"]);
        let f = probe_host("127.0.0.1", server.port(), &opts(vec![])).await;
        assert!(
            f.error.is_some(),
            "rustls must refuse a TLS 1.0-only server: {f:?}"
        );
        assert_eq!(accepted(&f, "TLSv1.0"), Some(true), "{f:?}");
        assert_eq!(accepted(&f, "TLSv1.2"), Some(false));
        assert_eq!(accepted(&f, "TLSv1.3"), Some(false));
        assert!(!f.weak_ciphers.is_empty(), "{f:?}");
        assert!(
            f.weak_ciphers
                .iter()
                .all(|c| c.contains("ADH") || c.contains("AECDH")),
            "{f:?}"
        );
    }

    #[tokio::test]
    async fn tls12_cbc_only_and_closed_port() {
        let leaf = self_signed_rsa(&["localhost"], -1, 30);
        let server = TlsServer::start(&leaf, &[], &["-tls1_2", "-cipher", "AES128-SHA"]);
        let f = probe_host("127.0.0.1", server.port(), &opts(vec![])).await;
        assert_eq!(
            f.protocol.as_deref(),
            None,
            "rustls offers no CBC suite without FS: {f:?}"
        );
        assert_eq!(accepted(&f, "TLSv1.2"), Some(true), "{f:?}");
        assert!(f.tls12_cbc_only_without_fs, "{f:?}");
        let leaf = self_signed_rsa(&["localhost"], -1, 30);
        let server = TlsServer::start(
            &leaf,
            &[],
            &[
                "-tls1_2",
                "-cipher",
                "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256",
            ],
        );
        let f = probe_host("127.0.0.1", server.port(), &opts(vec![])).await;
        assert_eq!(f.leaf().unwrap().key_type, "RSA");
        assert_eq!(f.leaf().unwrap().key_bits, 2048);
        assert_eq!(accepted(&f, "TLSv1.2"), Some(true), "{f:?}");
        assert_eq!(accepted(&f, "TLSv1.3"), Some(false), "{f:?}");
        assert!(!f.tls12_cbc_only_without_fs);
        let closed = siteaudit_testkit::closed_port();
        let f = probe_host("127.0.0.1", closed, &opts(vec![])).await;
        assert!(f.unreachable && f.error.is_some(), "{f:?}");
    }
}
