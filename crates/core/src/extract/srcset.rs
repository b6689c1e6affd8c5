//! `srcset` candidate URLs, per the HTML "parse a srcset attribute" algorithm
//! (URLs may contain commas; descriptors may contain parentheses).

/// The candidate URLs of a `srcset` value, in order.
pub fn parse_srcset(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Skip whitespace and commas before a candidate.
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url = &value[start..i];
        let had_trailing_comma = url.ends_with(',');
        url = url.trim_end_matches(',');
        if !url.is_empty() {
            out.push(url);
        }
        if had_trailing_comma {
            continue;
        }
        // Skip descriptors up to the next comma outside parentheses.
        let mut depth = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert_eq!(parse_srcset("a.jpg 1x, b.jpg 2x"), vec!["a.jpg", "b.jpg"]);
        // Per the spec a comma only ends a URL when it trails it.
        assert_eq!(parse_srcset("a.jpg,b.jpg"), vec!["a.jpg,b.jpg"]);
        assert_eq!(parse_srcset("a.jpg, b.jpg"), vec!["a.jpg", "b.jpg"]);
        assert_eq!(
            parse_srcset("/img,1.jpg 100w, /img2.jpg 200w"),
            vec!["/img,1.jpg", "/img2.jpg"]
        );
        assert_eq!(
            parse_srcset(" x.png (max-width: 1, 2) 1x , y.png"),
            vec!["x.png", "y.png"]
        );
        assert!(parse_srcset("  , ").is_empty());
    }
}
