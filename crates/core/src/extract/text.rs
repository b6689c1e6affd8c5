//! Main text statistics, computed while the page streams: word count, text bytes, an
//! exact hash of the normalized words and a 64-bit SimHash over word 5-shingles, so no
//! page text is kept beyond a short excerpt.

use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::model::TextFacts;

/// Words per shingle for the SimHash.
const SHINGLE: usize = 5;
/// Characters of main text kept for phrase checks (soft 404s).
const EXCERPT_CHARS: usize = 600;

/// Each byte value spread into eight byte lanes, lane `j` holding bit `j`: adding
/// `SPREAD[byte]` to a lane word counts 8 of a hash's bits at once.
const SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 8 {
            t[b] |= ((b as u64 >> j) & 1) << (8 * j);
            j += 1;
        }
        b += 1;
    }
    t
};

/// [`ALNUM`]'s class of lower-case ASCII letters and digits.
const LOWER: u8 = 1;
/// [`ALNUM`]'s class of upper-case ASCII letters.
const UPPER: u8 = 2;
/// The class of each byte: [`LOWER`], [`UPPER`] or 0 (not an ASCII letter or digit).
const ALNUM: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            t[b] = LOWER;
        } else if c.is_ascii_uppercase() {
            t[b] = UPPER;
        }
        b += 1;
    }
    t
};

/// Whether `rest` starts with a template marker (`{{`, `{%`, `${`, `[[`, `%%`): text
/// a template engine left unrendered.
fn is_template_marker(rest: &[u8]) -> bool {
    matches!(
        rest,
        [b'{', b'{' | b'%', ..] | [b'$', b'{', ..] | [b'[', b'[', ..] | [b'%', b'%', ..]
    )
}

/// Accumulates text chunks.
pub(crate) struct TextStats {
    partial: String,
    words: u32,
    text_bytes: u64,
    hasher: Xxh3,
    /// The last words' hashes as the shingle hashes them: [`SHINGLE`] little-endian
    /// u64s, the newest last (filled from the end).
    window: [u8; SHINGLE * 8],
    /// Words in `window` (at most [`SHINGLE`]).
    in_window: usize,
    /// Of the shingle hashes so far, how many have each bit set (counted into `lanes`
    /// first, moved here before a lane can overflow).
    ones: [u32; 64],
    /// Bit counts in byte lanes: word `k`, lane `j` counts bit `8k + j`.
    lanes: [u64; 8],
    /// Shingles counted in `lanes` and not yet moved to `ones` (at most 255).
    in_lanes: u32,
    shingles: u32,
    previous_lorem: bool,
    lorem: bool,
    template: bool,
    excerpt: String,
    excerpt_chars: usize,
    last_was_space: bool,
    /// A text node ended: the excerpt separates it from the next one.
    pending_space: bool,
}

impl std::fmt::Debug for TextStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextStats")
            .field("words", &self.words)
            .finish_non_exhaustive()
    }
}

impl Default for TextStats {
    fn default() -> Self {
        Self {
            partial: String::new(),
            words: 0,
            text_bytes: 0,
            hasher: Xxh3::new(),
            window: [0; SHINGLE * 8],
            in_window: 0,
            ones: [0; 64],
            lanes: [0; 8],
            in_lanes: 0,
            shingles: 0,
            previous_lorem: false,
            lorem: false,
            template: false,
            excerpt: String::new(),
            excerpt_chars: 0,
            last_was_space: true,
            pending_space: false,
        }
    }
}

impl TextStats {
    /// Feeds decoded text (entities still encoded, which does not change words much).
    pub(crate) fn feed(&mut self, chunk: &str) {
        let bytes = chunk.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let class = ALNUM[usize::from(b)];
            if class != 0 {
                // A run of ASCII letters and digits at once (most text): taken char by
                // char it was most of this function's time.
                let (start, mut classes) = (i, class);
                i += 1;
                while let Some(&next) = bytes.get(i) {
                    let class = ALNUM[usize::from(next)];
                    if class == 0 {
                        break;
                    }
                    classes |= class;
                    i += 1;
                }
                self.ascii_run(&chunk[start..i], classes & UPPER != 0);
                continue;
            }
            if super::is_ascii_space(b) {
                // A run of ASCII white space (indentation between tags, mostly) is one
                // space to the words and the excerpt: what `one_char` makes of it.
                self.one_char(' ');
                i += 1;
                while bytes
                    .get(i)
                    .is_some_and(|&next| super::is_ascii_space(next))
                {
                    i += 1;
                }
                continue;
            }
            let c = if b.is_ascii() {
                if !self.template && is_template_marker(&bytes[i..]) {
                    self.template = true;
                }
                b as char
            } else {
                chunk[i..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            };
            i += c.len_utf8();
            self.one_char(c);
        }
    }

    /// A run of ASCII letters and digits (with an upper-case letter or not): what
    /// [`Self::one_char`] does for each of them.
    fn ascii_run(&mut self, run: &str, upper: bool) {
        self.text_bytes += run.len() as u64;
        if self.excerpt_chars < EXCERPT_CHARS {
            // As char by char: the separating space and the run's first char go in
            // while the excerpt is short, the rest up to its length.
            if self.pending_space && !self.excerpt.ends_with(' ') && !self.excerpt.is_empty() {
                self.excerpt.push(' ');
                self.excerpt_chars += 1;
            }
            let take =
                1 + (run.len() - 1).min(EXCERPT_CHARS.saturating_sub(self.excerpt_chars + 1));
            self.excerpt.push_str(&run[..take]);
            self.excerpt_chars += take;
        }
        self.pending_space = false;
        self.last_was_space = false;
        let from = self.partial.len();
        self.partial.push_str(run);
        if upper {
            self.partial[from..].make_ascii_lowercase();
        }
    }

    /// One char of text other than an ASCII letter or digit.
    fn one_char(&mut self, c: char) {
        let space = c.is_whitespace();
        if !(space && self.last_was_space) {
            self.text_bytes += c.len_utf8() as u64;
            // A running count: counting the excerpt's chars per char was quadratic.
            if self.excerpt_chars < EXCERPT_CHARS {
                if self.pending_space
                    && !space
                    && !self.excerpt.ends_with(' ')
                    && !self.excerpt.is_empty()
                {
                    self.excerpt.push(' ');
                    self.excerpt_chars += 1;
                }
                self.excerpt.push(if space { ' ' } else { c });
                self.excerpt_chars += 1;
            }
        }
        self.pending_space = false;
        self.last_was_space = space;
        if c.is_alphanumeric() {
            self.partial.extend(c.to_lowercase());
        } else {
            self.end_word();
        }
    }

    /// The end of a text node: a word cannot continue into the next one.
    pub(crate) fn boundary(&mut self) {
        self.end_word();
        self.pending_space = true;
    }

    fn end_word(&mut self) {
        if self.partial.is_empty() {
            return;
        }
        // The buffer is reused: one allocation per page, not per word. The text hash
        // takes the word and its space in one call.
        self.words += 1;
        let word = xxh3_64(self.partial.as_bytes());
        self.lorem |= self.previous_lorem && self.partial == "ipsum";
        self.previous_lorem = self.partial == "lorem";
        self.partial.push(' ');
        self.hasher.update(self.partial.as_bytes());
        self.partial.clear();
        self.window.copy_within(8.., 0);
        self.window[(SHINGLE - 1) * 8..].copy_from_slice(&word.to_le_bytes());
        self.in_window = (self.in_window + 1).min(SHINGLE);
        if self.in_window == SHINGLE {
            self.count_bits(xxh3_64(&self.window));
            self.shingles += 1;
        }
    }

    /// Counts a shingle hash's set bits for the SimHash: eight table lookups instead of
    /// 64 shifts and branches (those were ~3 % of a crawl's CPU samples).
    fn count_bits(&mut self, h: u64) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD[(h >> (8 * k) & 0xff) as usize];
        }
        self.in_lanes += 1;
        if self.in_lanes == 255 {
            self.empty_lanes();
        }
    }

    /// Moves the lane counts to `ones` (a lane holds up to 255).
    fn empty_lanes(&mut self) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            for j in 0..8 {
                self.ones[8 * k + j] += (*lane >> (8 * j) & 0xff) as u32;
            }
            *lane = 0;
        }
        self.in_lanes = 0;
    }

    /// The totals.
    pub(crate) fn finish(mut self) -> TextFacts {
        self.end_word();
        self.empty_lanes();
        // A bit is set when more shingle hashes have it than not.
        let simhash = self.ones.iter().enumerate().fold(0u64, |acc, (i, &n)| {
            if 2 * n > self.shingles {
                acc | 1 << i
            } else {
                acc
            }
        });
        TextFacts {
            words: self.words,
            text_bytes: self.text_bytes,
            text_hash: format!("{:016x}", self.hasher.digest()),
            simhash: if self.shingles > 0 {
                format!("{simhash:016x}")
            } else {
                String::new()
            },
            lorem_ipsum: self.lorem,
            template_markers: self.template,
            excerpt: self.excerpt.trim().to_string(),
        }
    }
}

/// Hamming distance of two hex SimHashes.
pub fn simhash_distance(a: &str, b: &str) -> Option<u32> {
    let a = u64::from_str_radix(a, 16).ok()?;
    let b = u64::from_str_radix(b, 16).ok()?;
    Some((a ^ b).count_ones())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(chunks: &[&str]) -> TextFacts {
        let mut s = TextStats::default();
        for c in chunks {
            s.feed(c);
        }
        s.finish()
    }

    /// The SimHash from lane counts equals the vote of +1/-1 per bit it replaced: over
    /// random runs that fill the lanes several times and runs that stop part way, and
    /// over runs where every hash has every bit set, the most a lane ever counts.
    #[test]
    fn lane_counts_vote_like_plus_and_minus_one() {
        fn simhash(hashes: &[u64]) -> (u64, u64) {
            let mut s = TextStats::default();
            let mut votes = [0i64; 64];
            for &h in hashes {
                s.count_bits(h);
                s.shingles += 1;
                for (b, v) in votes.iter_mut().enumerate() {
                    *v += if h >> b & 1 == 1 { 1 } else { -1 };
                }
            }
            let want = votes
                .iter()
                .enumerate()
                .fold(0u64, |acc, (b, v)| if *v > 0 { acc | 1 << b } else { acc });
            let got = u64::from_str_radix(&s.finish().simhash, 16).unwrap_or(0);
            (got, want)
        }
        for n in [0u64, 1, 2, 254, 255, 256, 511, 1000, 2049] {
            // Skewed hashes, so that the vote is close on some bits.
            let hashes: Vec<u64> = (0..n)
                .map(|i| xxh3_64(&i.to_le_bytes()) | xxh3_64(&(i + n).to_le_bytes()) & 0xf0f0)
                .collect();
            let (got, want) = simhash(&hashes);
            assert_eq!(got, want, "{n} shingles");
        }
        for (set, clear) in [(600, 599), (599, 600), (256, 0), (1000, 999)] {
            let mut hashes = vec![u64::MAX; set];
            hashes.extend(std::iter::repeat_n(0x00ff_00ff_00ff_00ff, clear));
            let (got, want) = simhash(&hashes);
            assert_eq!(got, want, "{set} all set, {clear} half set");
            assert_eq!(got & 0xff00, if set > clear { 0xff00 } else { 0 });
        }
    }

    /// The hashes are what stored crawls hold (change detection compares them across
    /// crawls): the text hash is XXH3 of the lower-cased words each followed by a space,
    /// the SimHash a vote over XXH3 of each five words' hashes.
    #[test]
    fn hashes_keep_their_definition() {
        let words: Vec<String> = (0..3000).map(|i| format!("Word{}", i % 701)).collect();
        let got = stats(&[&words.join(" \n")]);
        let normalized: String = words.iter().map(|w| w.to_lowercase() + " ").collect();
        assert!(normalized.len() > 12_000);
        assert_eq!(
            got.text_hash,
            format!("{:016x}", xxh3_64(normalized.as_bytes()))
        );
        let hashes: Vec<u64> = words
            .iter()
            .map(|w| xxh3_64(w.to_lowercase().as_bytes()))
            .collect();
        let mut votes = [0i64; 64];
        for shingle in hashes.windows(SHINGLE) {
            let bytes: Vec<u8> = shingle.iter().flat_map(|h| h.to_le_bytes()).collect();
            let h = xxh3_64(&bytes);
            for (b, v) in votes.iter_mut().enumerate() {
                *v += if h >> b & 1 == 1 { 1 } else { -1 };
            }
        }
        let want = votes
            .iter()
            .enumerate()
            .fold(0u64, |acc, (b, v)| if *v > 0 { acc | 1 << b } else { acc });
        assert_eq!(got.simhash, format!("{want:016x}"));
    }

    /// Runs of ASCII letters and digits are read as char by char would be: the same
    /// counts, hashes, excerpt and markers, over mixed text cut into chunks anywhere,
    /// with the excerpt's limit falling inside a run and next to a space.
    #[test]
    fn runs_read_like_char_by_char() {
        let long = "Ab1 ".repeat(149) + "Überlänge";
        let texts = [
            "The QUICK brown fox  jumps\n\tover Ünïcödé wörds, 42 times!".to_string(),
            "  lead \u{a0}nbsp\u{3000}ideographic {{ tpl }} ${x} [[y]] 100%% {%z%}".to_string(),
            long.clone(),
            format!("{long} tail"),
            format!("{} {}", "x".repeat(598), "Runs past the limit"),
            format!("{}\n\nAfter", "y".repeat(599)),
            "é".repeat(700),
            // Every ASCII white space, alone and in runs, at the start and the end.
            "\x0b a\x0bb\x0cc\rd\r\n\te \x0b\x0c\r\n\t f\x0c".to_string(),
        ];
        for text in &texts {
            let mut slow = TextStats::default();
            for c in text.chars() {
                slow.one_char(c);
            }
            slow.template = ["{{", "{%", "${", "[[", "%%"]
                .iter()
                .any(|m| text.contains(m));
            let want = slow.finish();
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            for &cut in &cuts {
                let mut fast = TextStats::default();
                fast.feed(&text[..cut]);
                fast.feed(&text[cut..]);
                let got = fast.finish();
                if cut == 0 || cut == text.len() {
                    assert_eq!(got, want, "{text:?} whole");
                }
                // A marker cut in two is not seen (as before): the rest must match.
                let got = TextFacts {
                    template_markers: want.template_markers,
                    ..got
                };
                assert_eq!(got, want, "{text:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn words_hashes_and_markers() {
        let a = stats(&["The quick bro", "wn fox jumps over the lazy dog"]);
        let b = stats(&["the  QUICK brown fox, jumps over the lazy dog!"]);
        assert_eq!(a.words, 9);
        assert_eq!(
            a.text_hash, b.text_hash,
            "case, spacing and punctuation do not matter"
        );
        assert_eq!(simhash_distance(&a.simhash, &b.simhash), Some(0));
        let long: Vec<String> = (0..300).map(|i| format!("word{i}")).collect();
        let base = long.join(" ");
        let edited = base.replacen("word150", "changed", 1);
        let other: Vec<String> = (0..300).map(|i| format!("other{i}")).collect();
        let (x, y, z) = (
            stats(&[&base]),
            stats(&[&edited]),
            stats(&[&other.join(" ")]),
        );
        assert!(
            simhash_distance(&x.simhash, &y.simhash).unwrap() <= 3,
            "one word changed"
        );
        assert!(
            simhash_distance(&x.simhash, &z.simhash).unwrap() > 10,
            "different text"
        );
        assert!(stats(&["Lorem ipsum dolor"]).lorem_ipsum);
        assert!(!stats(&["lorem is not ipsum"]).lorem_ipsum);
        assert!(stats(&["Price: {{ price }}"]).template_markers);
        assert_eq!(
            stats(&["  a \n\n b  "]).text_bytes,
            4,
            "runs of whitespace count once"
        );
    }
}
