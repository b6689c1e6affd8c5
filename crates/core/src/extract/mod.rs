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
    match content_type {
        None => true,
        Some(ct) => {
            let mime = ct.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("text/html")
                || mime.eq_ignore_ascii_case("application/xhtml+xml")
        }
    }
}

/// Collapses runs of whitespace to one space and trims.
pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}
