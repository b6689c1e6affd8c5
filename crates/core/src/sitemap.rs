//! Sitemaps and sitemap indexes (XML, plain text, gzip), read with quick-xml.
//!
//! Hand-written on purpose: the `sitemap` crate is unmaintained (STACK.md) and a
//! `<loc>` reader over quick-xml's event stream is small and enforces our limits.

use std::io::Read;

use quick_xml::Reader;
use quick_xml::events::Event;

/// The protocol's limits: 50,000 URLs and 50 MB uncompressed per file.
pub const MAX_URLS: usize = 50_000;
/// The most bytes a sitemap may decompress to.
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;

/// What a sitemap file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitemapKind {
    /// `<urlset>`: page URLs.
    UrlSet,
    /// `<sitemapindex>`: more sitemaps.
    Index,
    /// A plain-text list of URLs, one per line.
    Text,
}

/// A parsed sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sitemap {
    /// What it is.
    pub kind: SitemapKind,
    /// Its `<loc>` values (pages, or sitemaps for an index).
    pub locs: Vec<String>,
    /// Entries past [`MAX_URLS`] that were ignored.
    pub truncated: usize,
}

/// Why a sitemap could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SitemapError {
    /// The gzip stream is corrupt.
    #[error("sitemap gzip stream is corrupt: {0}")]
    Gzip(String),
    /// It decompresses to more than [`MAX_BYTES`].
    #[error("sitemap is larger than {MAX_BYTES} bytes uncompressed")]
    TooLarge,
    /// The XML is malformed.
    #[error("sitemap XML is malformed at byte {pos}: {reason}")]
    Xml {
        /// Where.
        pos: u64,
        /// What.
        reason: String,
    },
    /// Neither `<urlset>` nor `<sitemapindex>` nor a list of URLs.
    #[error("not a sitemap (root element <{0}>)")]
    NotASitemap(String),
}

/// Parses a sitemap body, gunzipping it first when it is gzip (a `.xml.gz` served
/// without `Content-Encoding`).
pub fn parse(body: &[u8]) -> Result<Sitemap, SitemapError> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .take(MAX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| SitemapError::Gzip(e.to_string()))?;
        if out.len() as u64 > MAX_BYTES {
            return Err(SitemapError::TooLarge);
        }
        return parse_plain(&out);
    }
    if body.len() as u64 > MAX_BYTES {
        return Err(SitemapError::TooLarge);
    }
    parse_plain(body)
}

fn parse_plain(body: &[u8]) -> Result<Sitemap, SitemapError> {
    let text_start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let rest = &body[text_start..];
    if !rest.starts_with(b"<") && !rest.starts_with("\u{feff}".as_bytes()) {
        return Ok(parse_text(rest));
    }
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut kind = None;
    let mut locs = Vec::new();
    let mut truncated = 0;
    // Text, CDATA and entity references arrive as separate events: collect them.
    let mut loc: Option<String> = None;
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| SitemapError::Xml {
                pos: reader.buffer_position(),
                reason: e.to_string(),
            })?;
        match ev {
            Event::Start(e) => {
                let local = e.local_name();
                let name: &str = local.into_inner();
                if kind.is_none() {
                    kind = Some(match name {
                        "urlset" => SitemapKind::UrlSet,
                        "sitemapindex" => SitemapKind::Index,
                        other => return Err(SitemapError::NotASitemap(other.to_string())),
                    });
                }
                loc = (name == "loc").then(String::new);
            }
            Event::Text(t) => {
                if let Some(l) = loc.as_mut() {
                    l.push_str(&t[..]);
                }
            }
            Event::CData(t) => {
                if let Some(l) = loc.as_mut() {
                    l.push_str(&t[..]);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(l) = loc.as_mut() {
                    l.push_str(&htmlize::unescape(format!("&{};", &r[..])));
                }
            }
            Event::End(_) => {
                if let Some(l) = loc.take() {
                    push_loc(&mut locs, &mut truncated, l.trim().to_string());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(Sitemap {
        kind: kind.ok_or_else(|| SitemapError::NotASitemap("none".into()))?,
        locs,
        truncated,
    })
}

fn push_loc(locs: &mut Vec<String>, truncated: &mut usize, value: String) {
    if value.is_empty() {
        return;
    }
    if locs.len() < MAX_URLS {
        locs.push(value);
    } else {
        *truncated += 1;
    }
}

fn parse_text(body: &[u8]) -> Sitemap {
    let mut locs = Vec::new();
    let mut truncated = 0;
    for line in String::from_utf8_lossy(body).lines() {
        let line = line.trim();
        if line.starts_with("http://") || line.starts_with("https://") {
            push_loc(&mut locs, &mut truncated, line.to_string());
        }
    }
    Sitemap {
        kind: SitemapKind::Text,
        locs,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn urlset_index_text_and_gzip() {
        let xml =
            br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc> http://e.com/a?x=1&amp;y=2 </loc><lastmod>2024-01-01</lastmod></url>
            <url><loc><![CDATA[http://e.com/b]]></loc></url></urlset>"#;
        let s = parse(xml).unwrap();
        assert_eq!(s.kind, SitemapKind::UrlSet);
        assert_eq!(s.locs, vec!["http://e.com/a?x=1&y=2", "http://e.com/b"]);

        let idx = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://e.com/s1.xml.gz</loc></sitemap></sitemapindex>"#;
        let s = parse(idx).unwrap();
        assert_eq!(s.kind, SitemapKind::Index);
        assert_eq!(s.locs, vec!["http://e.com/s1.xml.gz"]);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(xml).unwrap();
        assert_eq!(parse(&gz.finish().unwrap()).unwrap().locs.len(), 2);

        let s = parse(b"http://e.com/1\n# comment\nhttps://e.com/2\n").unwrap();
        assert_eq!(s.kind, SitemapKind::Text);
        assert_eq!(s.locs.len(), 2);
    }

    #[test]
    fn bad_sitemaps_are_errors() {
        assert!(matches!(
            parse(b"<html><body/></html>"),
            Err(SitemapError::NotASitemap(_))
        ));
        assert!(matches!(
            parse(b"<urlset><url><loc>x</url>"),
            Err(SitemapError::Xml { .. })
        ));
        assert!(matches!(
            parse(&[0x1f, 0x8b, 1, 2, 3]),
            Err(SitemapError::Gzip(_))
        ));
    }
}
