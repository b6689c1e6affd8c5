//! TLS test servers: certificates generated with rcgen (roots,
//! intermediates, leaves with chosen names, dates and AIA), served by
//! `openssl s_server` on 127.0.0.1 so every protocol version and suite a
//! real server might allow (TLS 1.0, anonymous suites) can be offered.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A certificate authority (root or intermediate).
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ca")
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = date(-365);
    p.not_after = date(3650);
    p
}

impl Ca {
    /// A self-signed root.
    pub fn root(name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        Self {
            issuer: CertifiedIssuer::self_signed(ca_params(name), key).expect("root"),
        }
    }

    /// An intermediate signed by `self`.
    pub fn intermediate(&self, name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        Self {
            issuer: CertifiedIssuer::signed_by(ca_params(name), key, &self.issuer)
                .expect("intermediate"),
        }
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The certificate, DER.
    pub fn der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// A leaf for `names`, valid from `from` to `until` days relative to now;
    /// with `aia`, it names a caIssuers URL as public certificates do.
    pub fn leaf(&self, names: &[&str], from: i64, until: i64, aia: bool) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let params = leaf_params(names, from, until, aia);
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn leaf_params(names: &[&str], from: i64, until: i64, aia: bool) -> CertificateParams {
    let mut p = CertificateParams::new(names.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())
        .expect("names");
    p.distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
    p.not_before = date(from);
    p.not_after = date(until);
    if aia {
        p.custom_extensions
            .push(aia_extension("http://127.0.0.1:9/issuer.der"));
    }
    p
}

/// A self-signed leaf with a P-256 key.
pub fn self_signed(names: &[&str], from: i64, until: i64) -> Leaf {
    self_signed_with(KeyPair::generate().expect("key"), names, from, until)
}

/// A self-signed leaf with a 2048-bit RSA key (for RSA key-exchange suites).
pub fn self_signed_rsa(names: &[&str], from: i64, until: i64) -> Leaf {
    let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    self_signed_with(key, names, from, until)
}

fn self_signed_with(key: KeyPair, names: &[&str], from: i64, until: i64) -> Leaf {
    let cert = leaf_params(names, from, until, false)
        .self_signed(&key)
        .expect("self-signed");
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// AuthorityInfoAccess with one caIssuers URI, DER-encoded by hand (rcgen has no builder for it).
fn aia_extension(uri: &str) -> CustomExtension {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag, u8::try_from(content.len()).expect("short")];
        out.extend_from_slice(content);
        out
    }
    let method = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut desc = method.to_vec();
    desc.extend(tlv(0x86, uri.as_bytes()));
    let content = tlv(0x30, &tlv(0x30, &desc));
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], content)
}

/// `now + days` as rcgen's date type (whole days, UTC).
fn date(days: i64) -> time::OffsetDateTime {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let secs = i64::try_from(now).expect("seconds") + days * 86_400;
    time::OffsetDateTime::from_unix_timestamp(secs - secs % 86_400).expect("date in range")
}

/// A leaf certificate and its key.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM.
    pub key_pem: String,
}

/// `openssl s_server -www` on 127.0.0.1; killed when dropped.
#[derive(Debug)]
pub struct TlsServer {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    /// Serves `leaf` followed by `chain` (PEM certificates the server sends
    /// after the leaf), with extra `s_server` arguments (`-tls1`, `-cipher ...`).
    pub fn start(leaf: &Leaf, chain: &[String], args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, &leaf.cert_pem).expect("write cert");
        std::fs::write(&key, &leaf.key_pem).expect("write key");
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept", "127.0.0.1:0", "-www"])
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key);
        if !chain.is_empty() {
            let path = dir.path().join("chain.pem");
            std::fs::write(&path, chain.concat()).expect("write chain");
            cmd.arg("-cert_chain").arg(&path);
        }
        let mut child = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server (install the openssl package)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut port = None;
        for line in lines.by_ref() {
            let line = line.expect("read s_server output");
            if let Some(addr) = line.strip_prefix("ACCEPT ") {
                port = addr.rsplit(':').next().and_then(|p| p.trim().parse().ok());
                break;
            }
        }
        // Keep draining: s_server logs every connection and dies on a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            port: port.expect("s_server printed no ACCEPT line"),
            child,
            _dir: dir,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://HOST:PORT` + `path`, for a host that resolves to 127.0.0.1.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
