//! Which character encoding to read a page with.

use encoding_rs::Encoding;

/// The encoding named by a `Content-Type` header's `charset` parameter, if it names one
/// that exists.
pub fn charset_from_content_type(content_type: Option<&str>) -> Option<&'static Encoding> {
    let ct = content_type?;
    ct.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            Encoding::for_label(v.trim().trim_matches(|c| c == '"' || c == '\'').as_bytes())
        } else {
            None
        }
    })
}

/// The encoding a byte-order mark at the start of `bytes` announces.
pub(crate) fn sniff_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_bom(bytes).map(|(enc, _)| enc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_charset() {
        assert_eq!(
            charset_from_content_type(Some("text/html; charset=ISO-8859-1")),
            Some(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(
            charset_from_content_type(Some("text/html;charset=\"utf-8\"")),
            Some(encoding_rs::UTF_8)
        );
        assert_eq!(charset_from_content_type(Some("text/html")), None);
        assert_eq!(
            charset_from_content_type(Some("text/html; charset=bogus")),
            None
        );
        assert_eq!(sniff_bom(b"\xFF\xFEa\0"), Some(encoding_rs::UTF_16LE));
    }
}
