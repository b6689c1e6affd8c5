//! The facts of one X.509 certificate, read with x509-parser, and the
//! host-name rule browsers apply to it.

use serde::{Deserialize, Serialize};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// Signature algorithms that no longer protect a certificate (collisions are practical).
const WEAK_SIGNATURES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.3.14.3.2.29", "sha1WithRSAEncryption"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10040.4.3", "dsa-with-sha1"),
];

/// Names of the usual strong signature algorithms, for evidence.
const SIGNATURE_NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.1.1.10", "rsassa-pss"),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
    ("1.3.101.112", "Ed25519"),
];

/// `id-ad-caIssuers`: where the issuer's certificate can be downloaded.
const CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// One certificate of a chain, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFacts {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// `notBefore`, Unix seconds.
    pub not_before: i64,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
    /// DNS names of the subjectAltName extension.
    #[serde(default)]
    pub dns_names: Vec<String>,
    /// IP addresses of the subjectAltName extension.
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    /// Whether a subjectAltName extension is present at all.
    #[serde(default)]
    pub has_san: bool,
    /// The subject's common name, if any.
    pub common_name: Option<String>,
    /// Signature algorithm name (or OID when unnamed).
    pub signature_algorithm: String,
    /// Whether that algorithm is MD2, MD5 or SHA-1 based.
    pub weak_signature: bool,
    /// `RSA`, `EC`, `Ed25519`, `DSA` or the key algorithm OID.
    pub key_type: String,
    /// Key size in bits (RSA modulus, EC field size).
    pub key_bits: u32,
    /// Subject equals issuer.
    pub self_signed: bool,
    /// The basicConstraints CA flag.
    pub ca: bool,
    /// caIssuers URLs of the Authority Information Access extension.
    #[serde(default)]
    pub ca_issuers: Vec<String>,
}

impl CertFacts {
    /// Reads a DER certificate; `None` when it does not parse.
    pub fn parse(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let mut facts = Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            has_san: false,
            common_name: cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string),
            signature_algorithm: String::new(),
            weak_signature: false,
            key_type: String::new(),
            key_bits: 0,
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            ca: cert.is_ca(),
            ca_issuers: Vec::new(),
        };
        let sig = cert.signature_algorithm.algorithm.to_id_string();
        if let Some((_, name)) = WEAK_SIGNATURES.iter().find(|(oid, _)| *oid == sig) {
            facts.weak_signature = true;
            facts.signature_algorithm = (*name).to_string();
        } else {
            facts.signature_algorithm = SIGNATURE_NAMES
                .iter()
                .find(|(oid, _)| *oid == sig)
                .map_or(sig, |(_, name)| (*name).to_string());
        }
        let (key_type, key_bits) = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => ("RSA".to_string(), rsa.key_size()),
            Ok(PublicKey::EC(ec)) => ("EC".to_string(), ec.key_size()),
            Ok(PublicKey::DSA(_)) => ("DSA".to_string(), 0),
            _ => match cert
                .public_key()
                .algorithm
                .algorithm
                .to_id_string()
                .as_str()
            {
                "1.3.101.112" => ("Ed25519".to_string(), 256),
                "1.3.101.113" => ("Ed448".to_string(), 456),
                other => (other.to_string(), 0),
            },
        };
        facts.key_type = key_type;
        facts.key_bits = u32::try_from(key_bits).unwrap_or(u32::MAX);
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    facts.has_san = true;
                    for name in &san.general_names {
                        match name {
                            GeneralName::DNSName(d) => facts.dns_names.push(d.to_string()),
                            GeneralName::IPAddress(ip) => {
                                if let Some(ip) = ip_string(ip) {
                                    facts.ip_addresses.push(ip);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    for desc in aia.iter() {
                        if desc.access_method.to_id_string() == CA_ISSUERS
                            && let GeneralName::URI(uri) = desc.access_location
                        {
                            facts.ca_issuers.push(uri.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        Some(facts)
    }

    /// Whether this certificate names `host` (RFC 6125 as browsers apply it):
    /// subjectAltName only when present, the common name otherwise; a `*`
    /// covers exactly one whole left-most label; IP hosts match IP entries.
    pub fn matches_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return self.ip_addresses.iter().any(|a| a.parse().ok() == Some(ip));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.has_san {
            self.dns_names.iter().any(|n| name_matches(n, &host))
        } else {
            self.common_name
                .as_deref()
                .is_some_and(|n| name_matches(n, &host))
        }
    }

    /// The names it is valid for, for evidence.
    pub fn names(&self) -> Vec<String> {
        if self.has_san {
            self.dns_names
                .iter()
                .chain(&self.ip_addresses)
                .cloned()
                .collect()
        } else {
            self.common_name.iter().cloned().collect()
        }
    }
}

fn ip_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str], cn: Option<&str>) -> CertFacts {
        CertFacts {
            subject: String::new(),
            issuer: String::new(),
            not_before: 0,
            not_after: 0,
            dns_names: names.iter().map(|s| (*s).to_string()).collect(),
            ip_addresses: vec!["127.0.0.1".into()],
            has_san: !names.is_empty(),
            common_name: cn.map(str::to_string),
            signature_algorithm: String::new(),
            weak_signature: false,
            key_type: "EC".into(),
            key_bits: 256,
            self_signed: false,
            ca: false,
            ca_issuers: Vec::new(),
        }
    }

    #[test]
    fn wildcards_cover_one_label() {
        let c = cert(&["*.example.com", "example.com"], None);
        assert!(c.matches_host("www.example.com"));
        assert!(c.matches_host("EXAMPLE.com."));
        assert!(!c.matches_host("a.b.example.com"));
        assert!(!c.matches_host("example.org"));
        assert!(c.matches_host("127.0.0.1"));
        assert!(!c.matches_host("127.0.0.2"));
    }

    #[test]
    fn common_name_only_without_san() {
        assert!(cert(&[], Some("example.com")).matches_host("example.com"));
        assert!(!cert(&["other.com"], Some("example.com")).matches_host("example.com"));
    }

    /// rcgen cannot sign with SHA-1 nor make small RSA keys; OpenSSL can.
    #[test]
    fn reads_weak_signature_and_key_from_openssl() {
        use rustls::pki_types::pem::PemObject as _;
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let ok = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:1024", "-sha1", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=weak.test", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl")
            .status
            .success();
        assert!(ok);
        let der = rustls::pki_types::CertificateDer::from_pem_file(&cert).unwrap();
        let f = CertFacts::parse(&der).unwrap();
        assert!(f.weak_signature);
        assert_eq!(f.signature_algorithm, "sha1WithRSAEncryption");
        assert_eq!((f.key_type.as_str(), f.key_bits), ("RSA", 1024));
        assert!(!f.has_san && f.matches_host("weak.test"));
    }

    #[test]
    fn parses_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["site.test".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "site.test");
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let f = CertFacts::parse(&der).unwrap();
        assert_eq!(f.dns_names, ["site.test"]);
        assert_eq!(f.common_name.as_deref(), Some("site.test"));
        assert_eq!((f.key_type.as_str(), f.key_bits), ("EC", 256));
        assert_eq!(f.signature_algorithm, "ecdsa-with-SHA256");
        assert!(f.self_signed && !f.weak_signature);
        assert!(f.matches_host("site.test") && !f.matches_host("127.0.0.1"));
        assert!(CertFacts::parse(b"not a certificate").is_none());
    }
}
