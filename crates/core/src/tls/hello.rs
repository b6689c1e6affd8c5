//! Hand-written TLS ClientHello probes for what rustls will not speak:
//! SSL 3.0, TLS 1.0 and 1.1, and weak cipher suites. Each probe sends one
//! ClientHello and reads only the server's first answer (ServerHello or
//! alert); no handshake is completed and no key material is ever made.
//! Written by hand because rustls refuses these versions by design and an
//! OpenSSL client would add a C dependency for what is ~150 lines.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A protocol version as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version(pub(crate) u16);

impl Version {
    pub(crate) const SSL3: Self = Self(0x0300);
    pub(crate) const TLS10: Self = Self(0x0301);
    pub(crate) const TLS11: Self = Self(0x0302);
    pub(crate) const TLS12: Self = Self(0x0303);

    /// `SSLv3`, `TLSv1.0`, ...
    pub(crate) fn name(self) -> String {
        match self.0 {
            0x0300 => "SSLv3".into(),
            0x0301 => "TLSv1.0".into(),
            0x0302 => "TLSv1.1".into(),
            0x0303 => "TLSv1.2".into(),
            0x0304 => "TLSv1.3".into(),
            v => format!("0x{v:04x}"),
        }
    }
}

/// A cipher suite the probes offer, with its OpenSSL-style name.
pub(crate) type Suite = (u16, &'static str);

/// Suites a legacy server is likely to pick: proves the version, not the cipher.
pub(crate) const LEGACY_SUITES: &[Suite] = &[
    (0xc014, "ECDHE-RSA-AES256-SHA"),
    (0xc013, "ECDHE-RSA-AES128-SHA"),
    (0xc00a, "ECDHE-ECDSA-AES256-SHA"),
    (0xc009, "ECDHE-ECDSA-AES128-SHA"),
    (0x0039, "DHE-RSA-AES256-SHA"),
    (0x0033, "DHE-RSA-AES128-SHA"),
    (0x0035, "AES256-SHA"),
    (0x002f, "AES128-SHA"),
    (0x000a, "DES-CBC3-SHA"),
    (0x0005, "RC4-SHA"),
    (0x0004, "RC4-MD5"),
];

/// Suites with NULL encryption or authentication, EXPORT strength, RC4, DES or 3DES.
pub(crate) const WEAK_SUITES: &[Suite] = &[
    (0x0001, "NULL-MD5"),
    (0x0002, "NULL-SHA"),
    (0x003b, "NULL-SHA256"),
    (0xc006, "ECDHE-ECDSA-NULL-SHA"),
    (0xc010, "ECDHE-RSA-NULL-SHA"),
    (0x0034, "ADH-AES128-SHA"),
    (0x003a, "ADH-AES256-SHA"),
    (0x006c, "ADH-AES128-SHA256"),
    (0x006d, "ADH-AES256-SHA256"),
    (0x00a6, "ADH-AES128-GCM-SHA256"),
    (0x00a7, "ADH-AES256-GCM-SHA384"),
    (0xc018, "AECDH-AES128-SHA"),
    (0xc019, "AECDH-AES256-SHA"),
    (0x0018, "ADH-RC4-MD5"),
    (0x001b, "ADH-DES-CBC3-SHA"),
    (0x0003, "EXP-RC4-MD5"),
    (0x0006, "EXP-RC2-CBC-MD5"),
    (0x0008, "EXP-DES-CBC-SHA"),
    (0x0014, "EXP-EDH-RSA-DES-CBC-SHA"),
    (0x0004, "RC4-MD5"),
    (0x0005, "RC4-SHA"),
    (0xc011, "ECDHE-RSA-RC4-SHA"),
    (0xc007, "ECDHE-ECDSA-RC4-SHA"),
    (0x0009, "DES-CBC-SHA"),
    (0x0015, "EDH-RSA-DES-CBC-SHA"),
    (0x000a, "DES-CBC3-SHA"),
    (0x0016, "EDH-RSA-DES-CBC3-SHA"),
    (0xc012, "ECDHE-RSA-DES-CBC3-SHA"),
    (0xc008, "ECDHE-ECDSA-DES-CBC3-SHA"),
];

/// TLS 1.2 suites with forward secrecy or AEAD: a server accepting none of
/// these offers only CBC suites without forward secrecy.
pub(crate) const GOOD_TLS12_SUITES: &[Suite] = &[
    (0xc02f, "ECDHE-RSA-AES128-GCM-SHA256"),
    (0xc030, "ECDHE-RSA-AES256-GCM-SHA384"),
    (0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256"),
    (0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384"),
    (0xcca8, "ECDHE-RSA-CHACHA20-POLY1305"),
    (0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305"),
    (0x009e, "DHE-RSA-AES128-GCM-SHA256"),
    (0x009f, "DHE-RSA-AES256-GCM-SHA384"),
    (0x009c, "AES128-GCM-SHA256"),
    (0x009d, "AES256-GCM-SHA384"),
    (0xc027, "ECDHE-RSA-AES128-SHA256"),
    (0xc028, "ECDHE-RSA-AES256-SHA384"),
    (0xc023, "ECDHE-ECDSA-AES128-SHA256"),
    (0xc024, "ECDHE-ECDSA-AES256-SHA384"),
    (0xc013, "ECDHE-RSA-AES128-SHA"),
    (0xc014, "ECDHE-RSA-AES256-SHA"),
    (0xc009, "ECDHE-ECDSA-AES128-SHA"),
    (0xc00a, "ECDHE-ECDSA-AES256-SHA"),
    (0x0067, "DHE-RSA-AES128-SHA256"),
    (0x006b, "DHE-RSA-AES256-SHA256"),
    (0x0033, "DHE-RSA-AES128-SHA"),
    (0x0039, "DHE-RSA-AES256-SHA"),
];

/// What the server answered to one ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum HelloAnswer {
    /// A ServerHello.
    Accepted {
        /// The version it chose.
        version: String,
        /// The suite it chose (name, or hex when not one we offered).
        cipher: String,
    },
    /// An alert, a closed connection or a version lower than offered.
    Refused {
        /// What it did instead.
        reason: String,
    },
    /// No TCP connection or no answer in time: nothing is known.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl HelloAnswer {
    /// Whether the server chose exactly `version`.
    pub(crate) fn accepted_at(&self, version: Version) -> bool {
        matches!(self, Self::Accepted { version: v, .. } if *v == version.name())
    }
}

/// Sends one ClientHello offering `max` and `suites` and reads the answer.
/// A ServerHello at a version below `max` counts as accepted at that version.
pub(crate) async fn probe(
    addr: std::net::SocketAddr,
    sni: Option<&str>,
    max: Version,
    suites: &[Suite],
    timeout: Duration,
) -> HelloAnswer {
    probe_with_chain(addr, sni, max, suites, timeout).await.0
}

/// Like [`probe`], and when accepted also the certificates the server sent in
/// the clear after its ServerHello (TLS 1.2 and older), leaf first.
pub(crate) async fn probe_with_chain(
    addr: std::net::SocketAddr,
    sni: Option<&str>,
    max: Version,
    suites: &[Suite],
    timeout: Duration,
) -> (HelloAnswer, Vec<Vec<u8>>) {
    match tokio::time::timeout(timeout, exchange(addr, sni, max, suites)).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => (
            HelloAnswer::Unknown {
                reason: e.to_string(),
            },
            Vec::new(),
        ),
        Err(_) => (
            HelloAnswer::Unknown {
                reason: format!("no answer within {timeout:?}"),
            },
            Vec::new(),
        ),
    }
}

/// The most handshake bytes read looking for the Certificate message.
const MAX_HANDSHAKE_BYTES: usize = 256 * 1024;

async fn read_record(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; len.min(1 << 15)];
    stream.read_exact(&mut body).await.ok()?;
    Some((header[0], body))
}

async fn exchange(
    addr: std::net::SocketAddr,
    sni: Option<&str>,
    max: Version,
    suites: &[Suite],
) -> std::io::Result<(HelloAnswer, Vec<Vec<u8>>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&client_hello(sni, max, suites)).await?;
    let Some((kind, body)) = read_record(&mut stream).await else {
        return Ok((
            HelloAnswer::Refused {
                reason: "connection closed without an answer".into(),
            },
            Vec::new(),
        ));
    };
    let answer = parse_answer(kind, &body, max, suites);
    if !matches!(answer, HelloAnswer::Accepted { .. }) {
        return Ok((answer, Vec::new()));
    }
    // Handshake messages may span records: gather them until the Certificate
    // message is whole or the server says ServerHelloDone.
    let mut handshake = body;
    loop {
        if let Some(found) = find_certificates(&handshake) {
            return Ok((answer, found.unwrap_or_default()));
        }
        if handshake.len() > MAX_HANDSHAKE_BYTES {
            return Ok((answer, Vec::new()));
        }
        match read_record(&mut stream).await {
            Some((22, more)) => handshake.extend_from_slice(&more),
            _ => return Ok((answer, Vec::new())),
        }
    }
}

/// Walks the handshake messages: `Some(Some(chain))` at a whole Certificate
/// message, `Some(None)` at ServerHelloDone without one, `None` when more bytes
/// are needed.
fn find_certificates(mut bytes: &[u8]) -> Option<Option<Vec<Vec<u8>>>> {
    while bytes.len() >= 4 {
        let len = usize::from(bytes[1]) << 16 | usize::from(bytes[2]) << 8 | usize::from(bytes[3]);
        let msg = bytes.get(4..4 + len)?;
        match bytes[0] {
            11 => return Some(Some(certificate_list(msg))),
            14 => return Some(None),
            _ => bytes = &bytes[4 + len..],
        }
    }
    None
}

fn u24(b: &[u8]) -> Option<usize> {
    Some(usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?))
}

fn certificate_list(msg: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(total) = u24(msg) else {
        return out;
    };
    let mut rest = msg.get(3..3 + total).unwrap_or_default();
    while let Some(len) = u24(rest) {
        let Some(cert) = rest.get(3..3 + len) else {
            break;
        };
        out.push(cert.to_vec());
        rest = &rest[3 + len..];
    }
    out
}

/// Reads the first record: an alert, or a handshake record starting with ServerHello.
fn parse_answer(content_type: u8, body: &[u8], max: Version, suites: &[Suite]) -> HelloAnswer {
    match content_type {
        21 => HelloAnswer::Refused {
            reason: format!(
                "alert {}",
                body.get(1).map_or("(empty)".into(), |d| alert_name(*d))
            ),
        },
        22 if body.first() == Some(&2) && body.len() > 4 + 2 + 32 => {
            let version = Version(u16::from_be_bytes([body[4], body[5]]));
            let sid_len = usize::from(body[38]);
            let Some(suite) = body.get(39 + sid_len..41 + sid_len) else {
                return HelloAnswer::Refused {
                    reason: "truncated ServerHello".into(),
                };
            };
            let suite = u16::from_be_bytes([suite[0], suite[1]]);
            if version.0 > max.0 || version.0 < Version::SSL3.0 {
                return HelloAnswer::Refused {
                    reason: format!("answered with version {}", version.name()),
                };
            }
            HelloAnswer::Accepted {
                version: version.name(),
                cipher: suites
                    .iter()
                    .find(|(id, _)| *id == suite)
                    .map_or(format!("0x{suite:04x}"), |(_, n)| (*n).to_string()),
            }
        }
        other => HelloAnswer::Refused {
            reason: format!("not a TLS answer (record type {other})"),
        },
    }
}

fn alert_name(code: u8) -> String {
    match code {
        40 => "handshake_failure".into(),
        47 => "illegal_parameter".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        112 => "unrecognized_name".into(),
        c => format!("{c}"),
    }
}

/// Builds one ClientHello record.
fn client_hello(sni: Option<&str>, max: Version, suites: &[Suite]) -> Vec<u8> {
    let mut hello = Vec::with_capacity(256);
    hello.extend_from_slice(&max.0.to_be_bytes());
    // The random need not be secret: no key is ever derived from this hello.
    let seed = xxhash_rust::xxh3::xxh3_64(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    for i in 0..4u64 {
        hello.extend_from_slice(&seed.rotate_left(16 * i as u32).to_be_bytes());
    }
    hello.push(0); // no session id
    let mut suite_bytes: Vec<u8> = suites.iter().flat_map(|(id, _)| id.to_be_bytes()).collect();
    suite_bytes.extend_from_slice(&[0x00, 0xff]); // renegotiation SCSV
    push_u16_len(&mut hello, &suite_bytes);
    hello.extend_from_slice(&[1, 0]); // null compression only
    if max != Version::SSL3 {
        let mut ext = Vec::new();
        if let Some(name) = sni {
            let mut entry = vec![0u8];
            push_u16_len(&mut entry, name.as_bytes());
            let mut list = Vec::new();
            push_u16_len(&mut list, &entry);
            extension(&mut ext, 0x0000, &list);
        }
        let mut groups = Vec::new();
        push_u16_len(
            &mut groups,
            &[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19],
        );
        extension(&mut ext, 0x000a, &groups);
        extension(&mut ext, 0x000b, &[1, 0]);
        if max == Version::TLS12 {
            let schemes: &[u16] = &[
                0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201,
                0x0203,
            ];
            let bytes: Vec<u8> = schemes.iter().flat_map(|s| s.to_be_bytes()).collect();
            let mut list = Vec::new();
            push_u16_len(&mut list, &bytes);
            extension(&mut ext, 0x000d, &list);
        }
        push_u16_len(&mut hello, &ext);
    }
    let mut handshake = vec![1u8];
    let len = u32::try_from(hello.len()).unwrap_or(0).to_be_bytes();
    handshake.extend_from_slice(&len[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![22u8];
    // Record layer version: TLS 1.0 for every hello but SSL 3.0's, as browsers did.
    let record_version = if max == Version::SSL3 {
        Version::SSL3
    } else {
        Version::TLS10
    };
    record.extend_from_slice(&record_version.0.to_be_bytes());
    push_u16_len(&mut record, &handshake);
    record
}

fn push_u16_len(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16_len(out, data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_well_formed() {
        let r = client_hello(Some("example.com"), Version::TLS10, LEGACY_SUITES);
        assert_eq!(&r[..3], &[22, 3, 1]);
        assert_eq!(usize::from(u16::from_be_bytes([r[3], r[4]])), r.len() - 5);
        assert_eq!(r[5], 1);
        assert_eq!(&r[9..11], &[3, 1]);
        let ssl3 = client_hello(None, Version::SSL3, LEGACY_SUITES);
        assert_eq!(&ssl3[1..3], &[3, 0]);
    }

    #[test]
    fn reads_server_hello_and_alerts() {
        let mut sh = vec![2u8, 0, 0, 70, 3, 1];
        sh.extend_from_slice(&[7; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0x00, 0x2f, 0]);
        assert_eq!(
            parse_answer(22, &sh, Version::TLS10, LEGACY_SUITES),
            HelloAnswer::Accepted {
                version: "TLSv1.0".into(),
                cipher: "AES128-SHA".into()
            }
        );
        assert!(parse_answer(22, &sh, Version::TLS10, LEGACY_SUITES).accepted_at(Version::TLS10));
        assert!(matches!(
            parse_answer(21, &[2, 70], Version::TLS11, LEGACY_SUITES),
            HelloAnswer::Refused { reason } if reason == "alert protocol_version"
        ));
        assert!(matches!(
            parse_answer(23, &[], Version::TLS11, LEGACY_SUITES),
            HelloAnswer::Refused { .. }
        ));
    }
}
