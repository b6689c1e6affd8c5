//! Stage 3: HTML bytes in, links and page facts out, in one streaming pass.
//!
//! Pure and synchronous: no networking here. The crawl feeds the extractor body chunks as
//! they arrive, so a page costs the links we keep, not a DOM.

mod charset;
mod html;
mod srcset;
mod text;

pub use charset::charset_from_content_type;
pub use html::{Extracted, HtmlExtractor, InvalidLink, extract_html};
pub use srcset::parse_srcset;
pub use text::simhash_distance;

/// Whether a `Content-Type` says HTML (or says nothing, in which case we look).
pub fn is_html(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    // Bytes, not `split` and `trim`: an audit asks ~30 times a page (each view of a URL),
    // and the char searches were ~2% of its instructions. Only ASCII whitespace
    // around a media type is dropped (WHATWG MIME Sniffing), not any Unicode space.
    let ct = ct.as_bytes();
    // Most say `text/html` first, then nothing or a parameter.
    if let Some((head, rest)) = ct.split_at_checked(9)
        && head.eq_ignore_ascii_case(b"text/html")
        && matches!(rest.first(), None | Some(b';'))
    {
        return true;
    }
    let mime = &ct[..ct.iter().position(|&b| b == b';').unwrap_or(ct.len())];
    let mime = mime.trim_ascii();
    mime.eq_ignore_ascii_case(b"text/html") || mime.eq_ignore_ascii_case(b"application/xhtml+xml")
}

/// Whether `b` is an ASCII byte `char::is_whitespace` holds for: `u8::is_ascii_whitespace`
/// and the vertical tab, which it leaves out (and `str::split_whitespace` does not).
pub(crate) fn is_ascii_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x0b
}

/// Collapses runs of whitespace to one space and trims. Text that is already so (most
/// link texts and titles) is returned as given: an owned string is not copied.
pub(crate) fn collapse_ws<'a>(s: impl Into<std::borrow::Cow<'a, str>>) -> String {
    let s = s.into();
    if is_collapsed(&s) {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `s` has no whitespace at either end and only single spaces inside.
fn is_collapsed(s: &str) -> bool {
    // At the start a space would be leading.
    let mut after_space = true;
    for c in s.chars() {
        if c.is_whitespace() {
            if c != ' ' || after_space {
                return false;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    !after_space || s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII bytes `char::is_whitespace` holds for, no more and no fewer.
    #[test]
    fn ascii_space_is_char_whitespace() {
        for b in 0..128u8 {
            assert_eq!(is_ascii_space(b), char::from(b).is_whitespace(), "{b:#x}");
        }
    }

    /// The media type before any parameter, spaces and tabs around it ignored, in any
    /// case; no Content-Type at all reads as HTML (the body is looked at).
    #[test]
    fn is_html_reads_the_media_type() {
        for ct in [
            "text/html",
            "TEXT/HTML",
            "text/html; charset=utf-8",
            " text/html ;charset=utf-8",
            "\ttext/html",
            "application/xhtml+xml",
            "Application/XHTML+XML;q=1",
        ] {
            assert!(is_html(Some(ct)), "{ct:?}");
        }
        for ct in [
            "",
            ";",
            "text/htm",
            "text/html5",
            "text/plain; x=text/html",
            "text /html",
            "application/xhtml",
            "text/html\u{a0}",
            "image/svg+xml",
        ] {
            assert!(!is_html(Some(ct)), "{ct:?}");
        }
        assert!(is_html(None));
    }

    /// The same as joining the words with one space, for text already collapsed or not;
    /// an owned string already collapsed keeps its buffer.
    #[test]
    fn collapse_ws_joins_words_and_keeps_collapsed_text() {
        for s in [
            "",
            " ",
            "a",
            "a b",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "a\nb c",
            "a\u{a0}b",
            "  x  y  ",
            "café au lait",
            "a \u{2003}b",
            "\u{3000}",
        ] {
            let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(collapse_ws(s), words, "{s:?}");
            assert_eq!(collapse_ws(s.to_string()), words, "{s:?}");
        }
        let owned = String::from("Read the guide");
        let at = owned.as_ptr();
        let kept = collapse_ws(owned);
        assert_eq!(kept.as_ptr(), at);
    }
}
