//! lol_html handlers that turn an HTML stream into links and [`PageFacts`].

use std::sync::{Arc, Mutex, MutexGuard};

use encoding_rs::Encoding;
use lol_html::send::{EndTagHandler, HtmlRewriter, Settings};
use lol_html::{AsciiCompatibleEncoding, HandlerResult, MemorySettings};
use url::Url;

use super::charset::sniff_bom;
use super::collapse_ws;
use super::srcset::parse_srcset;
use crate::model::{Link, LinkKind, PageFacts};

/// The longest anchor text or title kept, in bytes; pages can be hostile.
const MAX_TEXT: usize = 1024;
/// The most canonical tags and robots metas kept per page.
const MAX_TAGS: usize = 50;
/// The most bytes of one JSON-LD block kept.
const MAX_JSON_LD: usize = 256 * 1024;
/// The most hreflang alternates kept per page.
const MAX_HREFLANG: usize = 500;
/// Meta names that carry robots directives.
const ROBOT_NAMES: &[&str] = &[
    "robots",
    "googlebot",
    "googlebot-news",
    "bingbot",
    "slurp",
    "yandex",
    "baiduspider",
];
/// The most memory the HTML parser may buffer for one page (huge tags, unclosed attributes).
const MAX_PARSER_MEMORY: usize = 8 * 1024 * 1024;

/// A reference that could not be turned into a crawlable URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLink {
    /// The attribute value as written (entities decoded).
    pub href: String,
    /// How it was referenced.
    pub kind: LinkKind,
    /// Why it is invalid.
    pub reason: String,
}

/// Everything one page gave.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// Links to http(s) URLs, resolved against the page (or its `<base href>`).
    pub links: Vec<Link>,
    /// References that are not valid URLs (reported as broken).
    pub invalid: Vec<InvalidLink>,
    /// Page facts (with why parsing stopped early, if it did: `facts.parse_error`).
    pub facts: PageFacts,
    /// The encoding the page was read with.
    pub charset: String,
}

#[derive(Debug)]
struct RawLink {
    href: String,
    kind: LinkKind,
    text: Option<String>,
    rel: Option<String>,
    hreflang: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    links: Vec<RawLink>,
    open_anchor: Option<(usize, String)>,
    open_title: Option<String>,
    svg_depth: u32,
    facts: PageFacts,
    base: Option<String>,
    meta_charset: Option<String>,
    /// `aria-label` or `title` of the open `<a>`: its name when it has no text.
    anchor_fallback: Option<String>,
    /// An element that only appears in `<body>` was seen.
    body_started: bool,
    /// The open heading: level, text, image alts.
    open_heading: Option<(u8, String, String)>,
    /// Open `<picture>` elements: whether each has an `<img>` yet.
    pictures: Vec<bool>,
    /// Open elements whose text is not main content (nav, header, footer, …).
    skip_depth: u32,
    /// Main text statistics.
    text: super::text::TextStats,
    /// The start of an entity cut off at the end of the last text chunk.
    text_carry: String,
    /// Bytes written before the current chunk.
    bytes_before_chunk: u64,
    /// Inside `<html>`, no element seen yet.
    awaiting_first_in_html: bool,
    /// `<head>` is open (its end tag not seen).
    head_open: bool,
    /// Every `id` seen (for duplicates).
    ids: std::collections::HashSet<String>,
    /// `<label for>` targets.
    label_for: std::collections::HashSet<String>,
    /// Open `<label>` elements.
    label_depth: u32,
    /// Controls without their own name: (id, description).
    controls: Vec<(Option<String>, String)>,
    /// Open `<video>` elements: whether each has a captions track yet.
    videos: Vec<bool>,
    /// The open `<script>` is inline (no src).
    inline_script: bool,
    /// The open JSON-LD block.
    json_ld: Option<String>,
}

impl State {
    /// Text inside the open elements whose text is a fact: the `<a>`, `<title>` and
    /// heading being read (each open from its start tag until lol_html closes it, by its
    /// end tag or its parent's), an inline `<script>`, a JSON-LD block.
    fn element_text(&mut self, text: &str) {
        if let Some((_, buf)) = self.open_anchor.as_mut() {
            push_capped(buf, text);
        }
        if let Some(buf) = self.open_title.as_mut() {
            push_capped(buf, text);
        }
        if let Some((_, buf, _)) = self.open_heading.as_mut() {
            push_capped(buf, text);
        }
        if self.inline_script {
            self.facts.inline_script_bytes += text.len() as u64;
        }
        if let Some(block) = self.json_ld.as_mut()
            && block.len() < MAX_JSON_LD
        {
            block.push_str(text);
        }
    }

    fn close_heading(&mut self) {
        if let Some((level, text, alt)) = self.open_heading.take()
            && self.facts.headings.len() < crate::model::MAX_HEADINGS
        {
            let text = collapse_ws(htmlize::unescape(text));
            let alt = collapse_ws(&alt);
            let alt_only = text.is_empty() && !alt.is_empty();
            let text = match (text.is_empty(), alt.is_empty()) {
                (true, _) => alt,
                (false, true) => text,
                (false, false) => format!("{text} {alt}"),
            };
            self.facts.headings.push(crate::model::Heading {
                level,
                text,
                alt_only,
            });
        }
    }

    fn push(&mut self, href: String, kind: LinkKind) -> usize {
        self.links.push(RawLink {
            href,
            kind,
            text: None,
            rel: None,
            hreflang: None,
        });
        self.links.len() - 1
    }

    /// Ends the open `<a>`: its text is its accessible name (text and image `alt`s,
    /// else `aria-label`, else `title`).
    fn close_anchor(&mut self) {
        let fallback = self.anchor_fallback.take();
        if let Some((idx, text)) = self.open_anchor.take() {
            let t = collapse_ws(htmlize::unescape(text));
            self.links[idx].text = if t.is_empty() { fallback } else { Some(t) };
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A handler never panics while holding the lock; recover the data if one did.
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

std::thread_local! {
    /// The lower-cased attribute names of the element being handled, in its order: read
    /// once per element by [`on_element`]. lol_html's queries by name lower-case, check
    /// and re-encode the name asked for and decode each name they pass, every time (~500
    /// instructions a query, ~80 queries a page); these are compared in place.
    static NAMES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where `name` (lower case) is among the attributes of the element being handled.
fn attr_index(el: &El<'_, '_>, name: &str) -> Option<usize> {
    NAMES.with_borrow(|names| {
        debug_assert_eq!(
            names.len(),
            el.attributes().len(),
            "names of another element"
        );
        names.iter().position(|n| n == name)
    })
}

/// Whether the element being handled has the attribute `name` (lower case).
fn has_attr(el: &El<'_, '_>, name: &str) -> bool {
    attr_index(el, name).is_some()
}

/// The value of the element's attribute `name` (lower case) as written.
fn raw_attr(el: &El<'_, '_>, name: &str) -> Option<String> {
    Some(el.attributes().get(attr_index(el, name)?)?.value())
}

/// The value of the element's attribute `name` (lower case), entities decoded and
/// trimmed.
fn attr(el: &El<'_, '_>, name: &str) -> Option<String> {
    let value = htmlize::unescape_attribute(raw_attr(el, name)?).into_owned();
    // Most values have no entity and no spaces around them: kept as read, not copied.
    let trimmed = value.trim();
    Some(if trimmed.len() == value.len() {
        value
    } else {
        trimmed.to_string()
    })
}

fn push_capped(buf: &mut String, s: &str) {
    if buf.len() < MAX_TEXT {
        let room = MAX_TEXT - buf.len();
        let mut end = s.len().min(room);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        buf.push_str(&s[..end]);
    }
}

type Sink = Box<dyn FnMut(&[u8]) + Send>;

/// A streaming extractor for one page. Feed it body chunks with [`HtmlExtractor::write`],
/// then call [`HtmlExtractor::finish`].
pub struct HtmlExtractor {
    page: Url,
    header_charset: Option<&'static Encoding>,
    state: Arc<Mutex<State>>,
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    /// For encodings lol_html cannot read (UTF-16), we transcode to UTF-8 first.
    transcoder: Option<encoding_rs::Decoder>,
    charset: &'static Encoding,
    /// No BOM or header named the encoding: a `<meta>` declaration may switch it.
    charset_from_meta: bool,
    started: bool,
    error: Option<String>,
}

impl std::fmt::Debug for HtmlExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HtmlExtractor")
            .field("page", &self.page.as_str())
            .finish_non_exhaustive()
    }
}

impl HtmlExtractor {
    /// A new extractor for the page at `page`; `header_charset` is the encoding the
    /// `Content-Type` header named, which wins over `<meta charset>`.
    pub fn new(page: Url, header_charset: Option<&'static Encoding>) -> Self {
        Self {
            page,
            header_charset,
            state: Arc::new(Mutex::new(State::default())),
            rewriter: None,
            transcoder: None,
            charset: encoding_rs::UTF_8,
            charset_from_meta: false,
            started: false,
            error: None,
        }
    }

    fn start(&mut self, first: &[u8]) {
        self.started = true;
        let (encoding, from_meta, source) = match sniff_bom(first) {
            Some(bom) => (bom, false, "bom"),
            None => match self.header_charset {
                Some(h) => (h, false, "header"),
                None => (encoding_rs::UTF_8, true, "none"),
            },
        };
        {
            let mut st = lock(&self.state);
            st.facts.structure.charset_source = source.to_string();
            st.facts.structure.header_charset = self.header_charset.map(|h| h.name().to_string());
        }
        self.charset = encoding;
        self.charset_from_meta = from_meta;
        let ascii = match AsciiCompatibleEncoding::new(encoding) {
            Some(a) => a,
            None => {
                self.transcoder = Some(encoding.new_decoder_with_bom_removal());
                AsciiCompatibleEncoding::utf_8()
            }
        };
        let settings = handlers(&self.state)
            .with_encoding(ascii)
            .with_adjust_charset_on_meta_tag(from_meta && self.transcoder.is_none())
            .with_strict(false)
            .with_memory_settings(
                MemorySettings::new().with_max_allowed_memory_usage(MAX_PARSER_MEMORY),
            );
        let sink: Sink = Box::new(|_: &[u8]| {});
        self.rewriter = Some(HtmlRewriter::new(settings, sink));
    }

    /// Feeds the next chunk of the body.
    pub fn write(&mut self, chunk: &[u8]) {
        if !self.started {
            self.start(chunk);
        }

        if self.error.is_some() {
            return;
        }
        let Some(rewriter) = self.rewriter.as_mut() else {
            return;
        };
        let result = match self.transcoder.as_mut() {
            Some(dec) => {
                let mut out = String::with_capacity(chunk.len() * 2 + 16);
                let _ = dec.decode_to_string(chunk, &mut out, false);
                rewriter.write(out.as_bytes())
            }
            None => rewriter.write(chunk),
        };
        if let Err(e) = result {
            self.error = Some(e.to_string());
        }
        lock(&self.state).bytes_before_chunk += chunk.len() as u64;
    }

    /// Ends the document and resolves every reference.
    pub fn finish(mut self) -> Extracted {
        if let Some(rewriter) = self.rewriter.take()
            && self.error.is_none()
            && let Err(e) = rewriter.end()
        {
            self.error = Some(e.to_string());
        }
        let mut state = std::mem::take(&mut *lock(&self.state));
        state.facts.text = std::mem::take(&mut state.text).finish();
        state.facts.structure.meta_charset = state.meta_charset.clone();
        state.facts.a11y.unlabelled_controls = state
            .controls
            .iter()
            .filter(|(id, _)| id.as_ref().is_none_or(|i| !state.label_for.contains(i)))
            .map(|(_, d)| d.clone())
            .collect();
        if state.facts.structure.charset_source == "none" && state.meta_charset.is_some() {
            state.facts.structure.charset_source = "meta".into();
        }
        if self.charset_from_meta
            && self.transcoder.is_none()
            && let Some(enc) = state
                .meta_charset
                .as_deref()
                .and_then(|l| Encoding::for_label(l.trim().as_bytes()))
                .and_then(AsciiCompatibleEncoding::new)
        {
            self.charset = enc.into();
        }
        state.close_anchor();
        state.close_heading();
        if let Some(t) = state.open_title.take() {
            state.facts.titles.push(collapse_ws(htmlize::unescape(t)));
        }
        let base = state
            .base
            .as_deref()
            .and_then(|b| self.page.join(b).ok())
            .unwrap_or_else(|| self.page.clone());
        state.facts.base = state.base.as_ref().map(|_| base.to_string());
        let mut links = Vec::with_capacity(state.links.len());
        let mut invalid = Vec::new();
        let keep_odd = |facts: &mut PageFacts, raw: &RawLink| {
            if raw.kind == LinkKind::Anchor && facts.uncrawlable_hrefs.len() < 100 {
                facts.uncrawlable_hrefs.push(raw.href.clone());
            }
        };
        for raw in state.links {
            if raw.href.trim().is_empty() {
                keep_odd(&mut state.facts, &raw);
                continue;
            }
            match crate::url::resolve_link(&base, &raw.href) {
                Ok(url) => {
                    if raw.kind == LinkKind::Canonical {
                        state.facts.canonicals.push(url.as_str().to_string());
                    }
                    links.push(Link {
                        url,
                        kind: raw.kind,
                        text: raw.text,
                        rel: raw.rel,
                        hreflang: raw.hreflang,
                    });
                }
                // Other schemes (mailto:, tel:, javascript:, data:) are not fetched; anchors
                // using them are kept for the link checks.
                Err(crate::url::UrlError::Scheme(_)) => keep_odd(&mut state.facts, &raw),
                Err(e) => invalid.push(InvalidLink {
                    href: raw.href,
                    kind: raw.kind,
                    reason: e.to_string(),
                }),
            }
        }
        let mut facts = state.facts;
        if let Some(e) = self.error {
            facts.parse_error = Some(e);
        }
        Extracted {
            links,
            invalid,
            facts,
            charset: self.charset.name().to_string(),
        }
    }
}

/// Extracts a whole document at once (tests, benchmarks, stored bodies).
pub fn extract_html(
    page: &Url,
    body: &[u8],
    header_charset: Option<&'static Encoding>,
) -> Extracted {
    let mut ex = HtmlExtractor::new(page.clone(), header_charset);
    for chunk in body.chunks(16 * 1024) {
        ex.write(chunk);
    }
    if body.is_empty() {
        ex.write(b"");
    }
    ex.finish()
}

/// Every element: lol_html's `element!` parses its selector whenever a rewriter is
/// built (once per page); this is parsed once per process and borrowed.
static ANY_ELEMENT: std::sync::LazyLock<lol_html::Selector> =
    std::sync::LazyLock::new(|| "*".parse().expect("`*` is a valid selector"));

/// Shared extraction state, as the handlers see it.
type Shared = Arc<Mutex<State>>;
/// An element, as the handlers see it.
type El<'r, 't> = lol_html::send::Element<'r, 't>;

/// The handlers: one for every element, dispatching on its tag name ([`on_element`]),
/// and one for all text, routed by the extractor's own state. lol_html compiles its
/// selectors into a matching program for every page it parses: with a selector per
/// fact (~30) that build alone was 8.5 % of the crawl's CPU (perf); with a text
/// selector each for `<a>`, `<title>`, headings and `<script>`, for text the document
/// handler sees anyway, it was still 2.2 % (1.3 % with `*` alone).
fn handlers(state: &Shared) -> Settings<'static, 'static> {
    let s = state.clone();
    let elements = (
        std::borrow::Cow::Borrowed(&*ANY_ELEMENT),
        lol_html::ElementContentHandlers::default()
            .element(move |el: &mut El<'_, '_>| on_element(&s, el)),
    );

    let s = state.clone();
    let text = lol_html::doc_text!(move |t| {
        let mut st = lock(&s);
        st.element_text(t.as_str());
        if st.skip_depth == 0 {
            // An entity split across chunks is completed by the next chunk. Most chunks
            // carry nothing over and hold no entity: they are read in place, not copied.
            let carry = std::mem::take(&mut st.text_carry);
            let joined;
            let raw = if carry.is_empty() {
                t.as_str()
            } else {
                joined = carry + t.as_str();
                joined.as_str()
            };
            let mut end = raw.len();
            // Most chunks hold no `&`: memrchr looks through them several bytes at a
            // time (`rfind` went char by char, ~1% of a crawl's instructions).
            if let Some(i) = memchr::memrchr(b'&', raw.as_bytes())
                && !raw[i..].contains(';')
                && raw.len() - i < 12
                && !t.last_in_text_node()
            {
                st.text_carry = raw[i..].to_string();
                end = i;
            }
            let chunk = htmlize::unescape(&raw[..end]);
            st.text.feed(&chunk);
            if t.last_in_text_node() {
                st.text.boundary();
            }
        }
        Ok(())
    });

    let s = state.clone();
    let doctype = lol_html::doctype!(move |d| {
        if d.name().is_some_and(|n| n.eq_ignore_ascii_case("html")) {
            lock(&s).facts.structure.doctype = true;
        }
        Ok(())
    });

    Settings::new_send()
        .append_document_content_handler(text)
        .append_document_content_handler(doctype)
        .append_element_content_handler(elements)
}

/// Elements whose text is not main content.
const BOILERPLATE: [&str; 12] = [
    "head", "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "svg",
    "select", "textarea",
];

/// Elements that only belong in `<body>`: a `<title>` or description after one of them
/// ends up outside `<head>` once the document is parsed.
const BODY_ONLY: [&str; 22] = [
    "body", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "section",
    "article", "main", "header", "footer", "nav", "form", "img", "a", "span",
];

/// Every fact of one start tag, each step in a fixed order (a step may read what an
/// earlier one recorded, and end-tag handlers run in the order they were added).
fn on_element(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    NAMES.with_borrow_mut(|names| {
        names.clear();
        names.extend(el.attributes().iter().map(|a| a.name()));
    });
    let name = el.tag_name();
    let tag = name.as_str();
    skeleton(s, el, tag)?;
    a11y(s, el, tag)?;
    if BOILERPLATE.contains(&tag) {
        boilerplate(s, el)?;
    }
    match tag {
        "base" if has_attr(el, "href") => base(s, el)?,
        "a" | "area" if has_attr(el, "href") => anchor(s, el, tag)?,
        "link" if has_attr(el, "href") => link(s, el)?,
        "img" => img(s, el)?,
        "source" => source(s, el)?,
        "script" if has_attr(el, "src") => script(s, el)?,
        "iframe" | "frame" => resource(s, el, "src", LinkKind::Iframe),
        "video" | "audio" | "track" => resource(s, el, "src", LinkKind::Media),
        _ => {}
    }
    match tag {
        "video" => resource(s, el, "poster", LinkKind::Media),
        "embed" => resource(s, el, "src", LinkKind::Object),
        "object" => resource(s, el, "data", LinkKind::Object),
        "meta" => meta(s, el)?,
        "svg" => svg(s, el)?,
        "title" => title(s, el)?,
        _ => {}
    }
    if BODY_ONLY.contains(&tag) {
        lock(s).body_started = true;
    }
    match tag {
        "picture" => picture(s, el)?,
        "map" => lock(s).facts.image_maps += 1,
        _ => {}
    }
    match tag {
        "object" | "embed" | "applet" => plugin(s, el, tag)?,
        "form" => form(s, el)?,
        "input" if raw_attr(el, "type").is_some_and(|t| t.eq_ignore_ascii_case("password")) => {
            lock(s).facts.password_inputs += 1;
        }
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => heading(s, el, tag)?,
        "html" => html(s, el)?,
        _ => {}
    }
    Ok(())
}

/// A resource named by one attribute (`<iframe src>`, `<video poster>`, ...).
fn resource(s: &Shared, el: &El<'_, '_>, name: &str, kind: LinkKind) {
    if let Some(v) = attr(el, name) {
        lock(s).push(v, kind);
    }
}

/// `<base href>`: the base URL links resolve against.
fn base(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let mut st = lock(s);
    if st.facts.structure.bases.len() < MAX_TAGS {
        let href = attr(el, "href").unwrap_or_default();
        st.facts.structure.bases.push(href);
    }
    if st.base.is_none() {
        st.base = attr(el, "href");
    }
    Ok(())
}

/// `<a href>`, `<area href>`: a link, named by its text (closed at the end tag).
fn anchor(s: &Shared, el: &mut El<'_, '_>, tag: &str) -> HandlerResult {
    let href = attr(el, "href").unwrap_or_default();
    let is_a = tag == "a";
    {
        let mut st = lock(s);
        if is_a && st.open_anchor.is_some() {
            st.facts.structure.nested_anchors += 1;
        }
        st.close_anchor();
        let idx = st.push(href, LinkKind::Anchor);
        st.links[idx].rel = attr(el, "rel").filter(|r| !r.is_empty());
        if is_a {
            st.open_anchor = Some((idx, String::new()));
            st.anchor_fallback = attr(el, "aria-label")
                .filter(|a| !a.is_empty())
                .or_else(|| attr(el, "title").filter(|t| !t.is_empty()));
        } else {
            st.links[idx].text = attr(el, "alt").filter(|a| !a.is_empty());
        }
    }
    if is_a {
        // Its text is read until lol_html closes it; one that cannot hold any (`<a/>` in
        // SVG) is closed now, named by its fallback.
        if el.can_have_content() {
            at_end_tag(s, el, State::close_anchor)?;
        } else {
            lock(s).close_anchor();
        }
    }
    Ok(())
}

/// `<link href>`: stylesheets, canonical, hreflang, icons, preloads, pagination.
fn link(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let href = attr(el, "href").unwrap_or_default();
    let rel = attr(el, "rel").unwrap_or_default().to_ascii_lowercase();
    let hreflang = attr(el, "hreflang");
    let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
    let has = |r: &str| rels.contains(&r);
    let kind = if has("stylesheet") {
        LinkKind::Stylesheet
    } else if has("canonical") {
        LinkKind::Canonical
    } else if has("alternate") && hreflang.is_some() {
        LinkKind::Hreflang
    } else if has("alternate") {
        LinkKind::Alternate
    } else if has("icon") || has("apple-touch-icon") || has("manifest") || has("mask-icon") {
        LinkKind::Icon
    } else if has("preload") || has("prefetch") || has("modulepreload") {
        LinkKind::Preload
    } else if has("next") || has("prev") || has("previous") {
        LinkKind::Pagination
    } else {
        // dns-prefetch, preconnect, author, ...: not resources we fetch.
        return Ok(());
    };
    let mut st = lock(s);
    let media_all = attr(el, "media").is_none_or(|m| {
        let m = m.trim().to_ascii_lowercase();
        m.is_empty() || m == "all" || m == "screen"
    });
    if kind == LinkKind::Stylesheet
        && media_all
        && !st.body_started
        && st.facts.render_blocking.len() < MAX_TAGS
    {
        st.facts.render_blocking.push(href.clone());
    }
    if kind == LinkKind::Hreflang && st.facts.hreflang.len() < MAX_HREFLANG {
        let tag = crate::model::HreflangTag {
            value: hreflang.clone().unwrap_or_default(),
            href: href.clone(),
            in_body: st.body_started,
        };
        st.facts.hreflang.push(tag);
    }
    if kind == LinkKind::Canonical && st.facts.canonical_tags.len() < MAX_TAGS {
        let extra_attributes = ["hreflang", "lang", "media", "type"]
            .iter()
            .filter(|a| has_attr(el, a))
            .map(|a| (*a).to_string())
            .collect();
        let tag = crate::model::CanonicalTag {
            href: href.clone(),
            in_body: st.body_started,
            extra_attributes,
        };
        st.facts.canonical_tags.push(tag);
    }
    let idx = st.push(href, kind);
    st.links[idx].rel = Some(rel.clone()).filter(|r| !r.is_empty());
    st.links[idx].hreflang = hreflang;
    Ok(())
}

/// `<img>`: an image, its alt text, srcset candidates.
fn img(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let raw_alt = attr(el, "alt");
    let alt = raw_alt.clone().filter(|a| !a.is_empty());
    let mut st = lock(s);
    if let Some(p) = st.pictures.last_mut() {
        *p = true;
    }
    if st.facts.images.len() < crate::model::MAX_IMAGES {
        let is = |name: &str, v: &str| attr(el, name).is_some_and(|a| a.eq_ignore_ascii_case(v));
        let tag = crate::model::ImageTag {
            src: attr(el, "src"),
            alt: raw_alt,
            srcset: has_attr(el, "srcset"),
            sized: has_attr(el, "width") && has_attr(el, "height"),
            hidden: is("aria-hidden", "true") || is("role", "presentation") || is("role", "none"),
            pixel: is("width", "1") && is("height", "1"),
        };
        st.facts.images.push(tag);
    }
    if let (Some((_, buf)), Some(a)) = (st.open_anchor.as_mut(), &alt) {
        // An image inside a link names the link by its alt text.
        buf.push(' ');
        push_capped(buf, &htmlize::escape_text(a.as_str()));
    }
    if let (Some((_, _, alts)), Some(a)) = (st.open_heading.as_mut(), &alt) {
        alts.push(' ');
        push_capped(alts, a);
    }
    if let Some(src) = attr(el, "src") {
        let idx = st.push(src, LinkKind::Image);
        st.links[idx].text = alt.clone();
    }
    if let Some(set) = attr(el, "srcset") {
        for u in parse_srcset(&set) {
            let idx = st.push(u.to_string(), LinkKind::Image);
            st.links[idx].text = alt.clone();
        }
    }
    Ok(())
}

/// `<source>`: srcset candidates and media.
fn source(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let mut st = lock(s);
    if let Some(set) = attr(el, "srcset") {
        for u in parse_srcset(&set) {
            st.push(u.to_string(), LinkKind::Image);
        }
    }
    if let Some(src) = attr(el, "src") {
        st.push(src, LinkKind::Media);
    }
    Ok(())
}

/// `<script src>`: a script, render-blocking when in `<head>` and not deferred.
fn script(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let Some(src) = attr(el, "src") else {
        return Ok(());
    };
    let mut st = lock(s);
    let deferred = has_attr(el, "async")
        || has_attr(el, "defer")
        || attr(el, "type").is_some_and(|t| t.eq_ignore_ascii_case("module"));
    if !st.body_started && !deferred && st.facts.render_blocking.len() < MAX_TAGS {
        st.facts.render_blocking.push(src.clone());
    }
    st.push(src, LinkKind::Script);
    Ok(())
}

/// `<picture>`: counted when it holds no `<img>`.
fn picture(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    if el.can_have_content() && !el.is_self_closing() {
        lock(s).pictures.push(false);
        at_end_tag(s, el, |st| {
            if st.pictures.pop() == Some(false) {
                st.facts.pictures_without_img += 1;
            }
        })?;
    }
    Ok(())
}

/// `<form>`: its action.
fn form(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let mut st = lock(s);
    if st.facts.form_actions.len() < MAX_TAGS {
        st.facts
            .form_actions
            .push(attr(el, "action").unwrap_or_default());
    }
    Ok(())
}

/// Text inside these is not main content.
fn boilerplate(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    track_open(s, el, |st| &mut st.skip_depth)
}

/// Counts `el` as open, in the counter `depth` picks, until its end tag (an element
/// that cannot hold content, or closes itself, is never open).
fn track_open(s: &Shared, el: &mut El<'_, '_>, depth: fn(&mut State) -> &mut u32) -> HandlerResult {
    if el.can_have_content() && !el.is_self_closing() {
        *depth(&mut lock(s)) += 1;
        at_end_tag(s, el, move |st| {
            let open = depth(st);
            *open = open.saturating_sub(1);
        })?;
    }
    Ok(())
}

/// Runs `f` on the state when `el`'s end tag is reached.
fn at_end_tag(
    s: &Shared,
    el: &mut El<'_, '_>,
    f: impl FnOnce(&mut State) + Send + 'static,
) -> HandlerResult {
    let s = s.clone();
    let close: EndTagHandler<'static> = Box::new(move |_| {
        f(&mut lock(&s));
        Ok(())
    });
    el.on_end_tag(close)?;
    Ok(())
}

/// `<object>`, `<embed>`, `<applet>`: plugin content.
fn plugin(s: &Shared, el: &mut El<'_, '_>, tag: &str) -> HandlerResult {
    let clues: Vec<String> = ["type", "classid", "src", "data", "code"]
        .iter()
        .filter_map(|a| attr(el, a))
        .filter(|v| {
            let v = v.to_ascii_lowercase();
            [
                "shockwave",
                "flash",
                "java",
                "silverlight",
                ".swf",
                ".xap",
                ".class",
            ]
            .iter()
            .any(|m| v.contains(m))
        })
        .collect();
    let mut st = lock(s);
    if (tag == "applet" || !clues.is_empty()) && st.facts.plugins.len() < MAX_TAGS {
        let clue = clues.first().cloned().unwrap_or_else(|| "applet".into());
        st.facts.plugins.push(clue);
    }
    Ok(())
}

/// The skeleton as written: html/head/body tags, what comes first, what does not
/// belong in `<head>`.
fn skeleton(s: &Shared, el: &mut El<'_, '_>, tag: &str) -> HandlerResult {
    let mut st = lock(s);
    if st.awaiting_first_in_html && tag != "html" {
        st.facts.structure.first_in_html = Some(tag.to_string());
        st.awaiting_first_in_html = false;
    }
    match tag {
        "html" => {
            st.facts.structure.html_tags += 1;
            if st.facts.structure.html_tags == 1 {
                st.awaiting_first_in_html = true;
            }
        }
        "head" => {
            st.facts.structure.head_tags += 1;
            st.head_open = true;
            drop(st);
            if el.can_have_content() {
                at_end_tag(s, el, |st| {
                    st.head_open = false;
                })?;
            }
            return Ok(());
        }
        "body" => {
            st.facts.structure.body_tags += 1;
            st.head_open = false;
            if st.facts.structure.html_tags == 0 {
                st.facts.structure.body_before_html = true;
            }
        }
        "frameset" | "frame" => st.facts.structure.frames += 1,
        _ => {}
    }
    let allowed_in_head = matches!(
        tag,
        "title" | "meta" | "link" | "script" | "style" | "base" | "noscript" | "template"
    );
    if st.head_open
        && !allowed_in_head
        && st.svg_depth == 0
        && st.facts.structure.head_invalid_element.is_none()
    {
        st.facts.structure.head_invalid_element = Some(tag.to_string());
    }
    Ok(())
}

/// The attributes [`a11y`] asks of every element.
const EVERY_ELEMENT: [&str; 9] = [
    "id",
    "tabindex",
    "role",
    "itemscope",
    "typeof",
    "vocab",
    "aria-label",
    "aria-labelledby",
    "title",
];

/// Accessibility and structured data facts, of every element.
fn a11y(s: &Shared, el: &mut El<'_, '_>, tag: &str) -> HandlerResult {
    // These are asked of every element: only of one that has any of them, which most
    // do not.
    let asks = NAMES.with_borrow(|names| names.iter().any(|n| EVERY_ELEMENT.contains(&n.as_str())));
    let has = |a: &str| asks && raw_attr(el, a).is_some_and(|v| !v.trim().is_empty());
    let get = |a: &str| if asks { attr(el, a) } else { None };
    let mut st = lock(s);
    st.facts.elements += 1;
    if let Some(id) = get("id").filter(|i| !i.is_empty())
        && !st.ids.insert(id.clone())
        && !st.facts.a11y.duplicate_ids.contains(&id)
        && st.facts.a11y.duplicate_ids.len() < MAX_TAGS
    {
        st.facts.a11y.duplicate_ids.push(id);
    }
    if get("tabindex")
        .and_then(|t| t.parse::<i32>().ok())
        .is_some_and(|t| t > 0)
    {
        st.facts.a11y.positive_tabindex += 1;
    }
    if tag == "main" || get("role").is_some_and(|r| r.eq_ignore_ascii_case("main")) {
        st.facts.a11y.main_landmark = true;
    }
    if asks && has_attr(el, "itemscope") {
        st.facts.microdata[0] += 1;
        match attr(el, "itemtype") {
            None => st.facts.microdata[1] += 1,
            Some(t)
                if !t
                    .split_whitespace()
                    .all(|u| u.starts_with("http://") || u.starts_with("https://")) =>
            {
                st.facts.microdata[2] += 1;
            }
            Some(_) => {}
        }
    }
    if asks && (has_attr(el, "typeof") || has_attr(el, "vocab")) {
        st.facts.rdfa += 1;
    }
    let named = has("aria-label") || has("aria-labelledby") || has("title");
    match tag {
        "body" if attr(el, "aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true")) => {
            st.facts.a11y.aria_hidden_body = true;
        }
        "iframe" | "frame" if !named => st.facts.a11y.frames_no_title += 1,
        "label" => {
            if let Some(f) = attr(el, "for") {
                st.label_for.insert(f);
            }
            st.label_depth += 1;
            drop(st);
            if el.can_have_content() {
                at_end_tag(s, el, |st| {
                    st.label_depth = st.label_depth.saturating_sub(1);
                })?;
            }
            return Ok(());
        }
        "input" | "select" | "textarea" => {
            let kind = attr(el, "type").unwrap_or_default().to_ascii_lowercase();
            if tag == "input" && kind == "image" && !has_attr(el, "alt") {
                st.facts.a11y.input_images_no_alt += 1;
            }
            let labelled_elsewhere = tag == "input"
                && matches!(
                    kind.as_str(),
                    "hidden" | "submit" | "button" | "reset" | "image"
                );
            if !named && !labelled_elsewhere && st.label_depth == 0 && st.controls.len() < 1000 {
                let desc = attr(el, "name").unwrap_or_else(|| tag.to_string());
                st.controls.push((attr(el, "id"), desc));
            }
        }
        "video" => {
            st.videos.push(false);
            drop(st);
            if el.can_have_content() && !el.is_self_closing() {
                at_end_tag(s, el, |st| {
                    if st.videos.pop() == Some(false) {
                        st.facts.a11y.videos_no_captions += 1;
                    }
                })?;
            }
            return Ok(());
        }
        "track" => {
            let captions = attr(el, "kind").is_some_and(|k| {
                matches!(k.to_ascii_lowercase().as_str(), "captions" | "subtitles")
            });
            if captions && let Some(v) = st.videos.last_mut() {
                *v = true;
            }
        }
        "script" if el.can_have_content() => {
            let inline = !has_attr(el, "src");
            let ld =
                attr(el, "type").is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json"));
            let block = ld && st.facts.json_ld.len() < MAX_TAGS;
            if inline || block {
                // Its text is read until its end tag (see `State::element_text`).
                st.inline_script = inline;
                if block {
                    st.json_ld = Some(String::new());
                }
                drop(st);
                at_end_tag(s, el, |st| {
                    st.inline_script = false;
                    if let Some(block) = st.json_ld.take() {
                        st.facts.json_ld.push(block);
                    }
                })?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `<meta>`: refresh, CSP, Open Graph, charset, robots directives, viewport,
/// description.
fn meta(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let mut st = lock(s);
    if let Some(eq) = attr(el, "http-equiv")
        && eq.eq_ignore_ascii_case("refresh")
        && let Some(target) = attr(el, "content").as_deref().and_then(refresh_target)
    {
        st.push(target, LinkKind::MetaRefresh);
    }
    if st.facts.csp_meta.is_none()
        && attr(el, "http-equiv").is_some_and(|e| e.eq_ignore_ascii_case("content-security-policy"))
    {
        st.facts.csp_meta = attr(el, "content");
    }
    if let Some(prop) = attr(el, "property").map(|p| p.to_ascii_lowercase())
        && prop.starts_with("og:")
        && st.facts.open_graph.len() < MAX_TAGS
        && !st.facts.open_graph.contains_key(&prop)
    {
        let content = attr(el, "content").unwrap_or_default();
        st.facts.open_graph.insert(prop, content);
    }
    // The first charset declaration is the one the parser switches to.
    if st.meta_charset.is_none() {
        st.facts.structure.meta_charset_offset = Some(st.bytes_before_chunk);
        st.meta_charset = attr(el, "charset").or_else(|| {
            attr(el, "http-equiv")
                .filter(|eq| eq.eq_ignore_ascii_case("content-type"))
                .and_then(|_| attr(el, "content"))
                .and_then(|c| {
                    super::charset_from_content_type(Some(&c)).map(|e| e.name().to_string())
                })
        });
    }
    if let Some(name) = attr(el, "name") {
        let content = attr(el, "content").unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if ROBOT_NAMES.contains(&lower.as_str()) && st.facts.directives.len() < MAX_TAGS {
            let d = crate::model::Directive {
                name: lower.clone(),
                value: content.clone(),
                in_body: st.body_started,
            };
            st.facts.directives.push(d);
        }
        if lower == "viewport" && st.facts.viewports.len() < MAX_TAGS {
            st.facts.viewports.push(content.clone());
        }
        if lower == "twitter:card" && st.facts.twitter_card.is_none() {
            st.facts.twitter_card = Some(content.clone());
        }
        match lower.as_str() {
            "description" => {
                st.facts.descriptions.push(collapse_ws(&content));
                if st.body_started {
                    st.facts.description_in_body = true;
                }
            }
            "robots" => st.facts.meta_robots.push(content.to_ascii_lowercase()),
            _ => {}
        }
    }
    Ok(())
}

/// `<title>` (not an SVG's): the page title (closed at the end tag).
fn title(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    // An SVG <title> is a tooltip, not the page title.
    {
        let mut st = lock(s);
        if st.svg_depth > 0 {
            return Ok(());
        }
        if st.body_started {
            st.facts.title_in_body = true;
        }
        st.open_title = Some(String::new());
    }
    let close = |st: &mut State| {
        if let Some(t) = st.open_title.take() {
            st.facts.titles.push(collapse_ws(htmlize::unescape(t)));
        }
    };
    if el.can_have_content() {
        at_end_tag(s, el, close)?;
    } else {
        close(&mut lock(s));
    }
    Ok(())
}

/// `<svg>`: its `<title>` is a tooltip, not the page title.
fn svg(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    track_open(s, el, |st| &mut st.svg_depth)
}

/// `<h1>`-`<h6>`: a heading and its text (closed at the end tag).
fn heading(s: &Shared, el: &mut El<'_, '_>, tag: &str) -> HandlerResult {
    let level = tag.as_bytes().get(1).map_or(1, |b| b - b'0');
    {
        let mut st = lock(s);
        st.close_heading();
        if level == 1 {
            st.facts.h1_count += 1;
        }
        st.open_heading = Some((level, String::new(), String::new()));
    }
    if el.can_have_content() {
        at_end_tag(s, el, State::close_heading)?;
    } else {
        lock(s).close_heading();
    }
    Ok(())
}

/// `<html>`: the document's language.
fn html(s: &Shared, el: &mut El<'_, '_>) -> HandlerResult {
    let mut st = lock(s);
    if st.facts.lang.is_none() {
        st.facts.lang = attr(el, "lang");
    }
    if st.facts.xml_lang.is_none() {
        st.facts.xml_lang = attr(el, "xml:lang");
    }
    Ok(())
}

/// The URL of a meta refresh `content` ("5; url=/next"), if it names one.
fn refresh_target(content: &str) -> Option<String> {
    let (_, rest) = content.split_once([';', ','])?;
    let rest = rest.trim_start();
    let value = if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case("url") {
        rest[3..].trim_start().strip_prefix('=')?.trim()
    } else {
        rest.trim()
    };
    let value = value.trim_matches(|c| c == '\'' || c == '"').trim();
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(html: &str) -> Extracted {
        let page = Url::parse("http://example.com/dir/page.html").unwrap();
        extract_html(&page, html.as_bytes(), None)
    }

    /// Attributes are found whatever their case, the first of a repeated name wins, and
    /// each element's are its own (read once per element, not per query).
    #[test]
    fn attributes_by_name_whatever_their_case() {
        let e = ex(r#"<A HREF="/first" href="/second" Rel="NoFollow">x</A>
            <IMG SRC="/i.png" ALT="Alt" WIDTH=1 Height=2><img src="/j.png">
            <Script SRC="/s.js" ASYNC></Script><div ID="d"></div><p id="d"></p>"#);
        assert_eq!(urls(&e, LinkKind::Anchor), ["http://example.com/first"]);
        assert_eq!(e.links[0].rel.as_deref(), Some("NoFollow"));
        assert_eq!(
            urls(&e, LinkKind::Image),
            ["http://example.com/i.png", "http://example.com/j.png"]
        );
        let sized: Vec<bool> = e.facts.images.iter().map(|i| i.sized).collect();
        assert_eq!(sized, [true, false]);
        assert_eq!(e.facts.images[0].alt.as_deref(), Some("Alt"));
        assert!(
            e.facts.render_blocking.is_empty(),
            "an async script does not block"
        );
        assert_eq!(e.facts.a11y.duplicate_ids, ["d"]);
    }

    /// Each element's text is read from its start tag until it closes, by its own end
    /// tag or its parent's, through the one document text handler: nothing before or
    /// after it, in any chunking of the page.
    #[test]
    fn element_text_ends_where_the_element_does() {
        let html = r#"<html><head><title>The &amp; title</title>
            <script>var a = 1;</script><script src="/x.js">ignored</script>
            <script type="application/ld+json">{"@type":"Thing"}</script></head>
            <body><p>before</p><div><a href="/one">One <b>bold</b></div> after the div
            <h2>Heading <a href="/two">two</a></h2> not the heading
            <svg><a href="/three" aria-label="Three"/><text>svg text</text></svg>
            <p>end</p></body></html>"#;
        let mut pages = vec![ex(html)];
        for size in [1, 7, 64] {
            let page = Url::parse("http://example.com/dir/page.html").unwrap();
            let mut x = HtmlExtractor::new(page, None);
            for chunk in html.as_bytes().chunks(size) {
                x.write(chunk);
            }
            pages.push(x.finish());
        }
        for e in pages {
            assert_eq!(e.facts.titles, ["The & title"]);
            // Every script without `src` is inline, the JSON-LD block too.
            let inline = "var a = 1;".len() + r#"{"@type":"Thing"}"#.len();
            assert_eq!(e.facts.inline_script_bytes, inline as u64);
            assert_eq!(e.facts.json_ld, [r#"{"@type":"Thing"}"#]);
            let texts: Vec<_> = e
                .links
                .iter()
                .filter(|l| l.kind == LinkKind::Anchor)
                .map(|l| l.text.as_deref())
                .collect();
            assert_eq!(texts, [Some("One bold"), Some("two"), Some("Three")]);
            let headings: Vec<_> = e.facts.headings.iter().map(|h| h.text.as_str()).collect();
            assert_eq!(headings, ["Heading two"]);
        }
    }

    fn urls(e: &Extracted, kind: LinkKind) -> Vec<&str> {
        e.links
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.url.as_str())
            .collect()
    }

    #[test]
    fn links_of_every_kind() {
        let e = ex(r#"<html lang="en"><head><title> Hello &amp;
            World </title>
            <link rel="stylesheet" href="/s.css"><link rel="canonical" href="/canon">
            <link rel="alternate" hreflang="de" href="/de/"><link rel="icon" href="/fav.ico">
            <link rel="preload" href="/font.woff2"><link rel="next" href="?p=2">
            <link rel="dns-prefetch" href="//cdn.example.net">
            <meta name="description" content="A  page"><meta name="robots" content="NOINDEX">
            <meta http-equiv="refresh" content="5; URL='/later'">
            <script src="app.js"></script></head><body>
            <h1>One</h1><h1>Two</h1>
            <a href="a.html">Anchor <b>text</b></a><a href="mailto:x@y.z">mail</a>
            <a href="http://[bad">broken</a>
            <map><area href="/area" alt="Area"></map>
            <img src="i.png" srcset="i2.png 2x, i3.png 3x" alt="pic">
            <picture><source srcset="p.webp"></picture>
            <video src="v.mp4" poster="v.jpg"><track src="t.vtt"></video>
            <audio><source src="a.mp3"></audio>
            <iframe src="/frame"></iframe><embed src="e.swf"><object data="o.pdf"></object>
            <svg><title>tooltip</title><a href="/svg-link">svg</a></svg>
            <script>var s = '<a href="/in-script">';</script>
            <textarea><a href="/in-textarea"></a></textarea>
            </body></html>"#);
        assert_eq!(e.facts.titles, vec!["Hello & World"]);
        assert_eq!(e.facts.descriptions, vec!["A page"]);
        assert_eq!(e.facts.meta_robots, vec!["noindex"]);
        assert_eq!(e.facts.canonicals, vec!["http://example.com/canon"]);
        assert_eq!(e.facts.lang.as_deref(), Some("en"));
        assert_eq!(e.facts.h1_count, 2);
        assert_eq!(
            urls(&e, LinkKind::Anchor),
            vec![
                "http://example.com/dir/a.html",
                "http://example.com/area",
                "http://example.com/svg-link"
            ]
        );
        let a = e
            .links
            .iter()
            .find(|l| l.url.as_str().ends_with("a.html"))
            .unwrap();
        assert_eq!(a.text.as_deref(), Some("Anchor text"));
        assert_eq!(
            urls(&e, LinkKind::Stylesheet),
            vec!["http://example.com/s.css"]
        );
        assert_eq!(urls(&e, LinkKind::Hreflang), vec!["http://example.com/de/"]);
        assert_eq!(urls(&e, LinkKind::Icon), vec!["http://example.com/fav.ico"]);
        assert_eq!(
            urls(&e, LinkKind::Preload),
            vec!["http://example.com/font.woff2"]
        );
        assert_eq!(
            urls(&e, LinkKind::Pagination),
            vec!["http://example.com/dir/page.html?p=2"]
        );
        assert_eq!(
            urls(&e, LinkKind::MetaRefresh),
            vec!["http://example.com/later"]
        );
        assert_eq!(
            urls(&e, LinkKind::Script),
            vec!["http://example.com/dir/app.js"]
        );
        assert_eq!(
            urls(&e, LinkKind::Image),
            vec![
                "http://example.com/dir/i.png",
                "http://example.com/dir/i2.png",
                "http://example.com/dir/i3.png",
                "http://example.com/dir/p.webp"
            ]
        );
        assert_eq!(
            urls(&e, LinkKind::Media),
            vec![
                "http://example.com/dir/v.mp4",
                "http://example.com/dir/v.jpg",
                "http://example.com/dir/t.vtt",
                "http://example.com/dir/a.mp3"
            ]
        );
        assert_eq!(urls(&e, LinkKind::Iframe), vec!["http://example.com/frame"]);
        assert_eq!(
            urls(&e, LinkKind::Object),
            vec![
                "http://example.com/dir/e.swf",
                "http://example.com/dir/o.pdf"
            ]
        );
        assert_eq!(e.invalid.len(), 1);
        assert_eq!(e.invalid[0].href, "http://[bad");
        assert!(!e.links.iter().any(|l| l.url.as_str().contains("in-script")));
        assert!(
            !e.links
                .iter()
                .any(|l| l.url.as_str().contains("in-textarea"))
        );
    }

    #[test]
    fn base_href_applies_and_entities_decode() {
        let e = ex(r#"<base href="https://other.example/root/"><a href="x?a=1&amp;b=2#f">x</a>"#);
        assert_eq!(
            urls(&e, LinkKind::Anchor),
            vec!["https://other.example/root/x?a=1&b=2"]
        );
        assert_eq!(e.facts.base.as_deref(), Some("https://other.example/root/"));
    }

    #[test]
    fn anchor_names_come_from_text_alt_aria_label_or_title() {
        let page = Url::parse("http://example.com/").unwrap();
        let e = extract_html(
            &page,
            br#"<a href="/t">Shop &amp; <span>more</span></a><a href="/i"><img src="/x.png" alt="Logo"></a>
                <a href="/l" aria-label="Close"><svg></svg></a><a href="/ti" title="Help"></a><a href="/n"></a>"#,
            None,
        );
        let text = |u: &str| {
            e.links
                .iter()
                .find(|l| l.kind == LinkKind::Anchor && l.url.as_str().ends_with(u))
                .unwrap()
                .text
                .clone()
        };
        assert_eq!(text("/t").as_deref(), Some("Shop & more"));
        assert_eq!(text("/i").as_deref(), Some("Logo"));
        assert_eq!(text("/l").as_deref(), Some("Close"));
        assert_eq!(text("/ti").as_deref(), Some("Help"));
        assert_eq!(text("/n"), None);
    }

    #[test]
    fn headings_outline_and_head_placement() {
        let e = ex(
            r#"<html><head><title>T</title><meta name="description" content="in head"></head>
            <body><h1>Main <em>title</em></h1><h3><img src="/l.png" alt="Logo"></h3><h2></h2>
            <meta name="description" content="late"></body></html>"#,
        );
        let h: Vec<(u8, &str, bool)> = e
            .facts
            .headings
            .iter()
            .map(|h| (h.level, h.text.as_str(), h.alt_only))
            .collect();
        assert_eq!(
            h,
            vec![(1, "Main title", false), (3, "Logo", true), (2, "", false)]
        );
        assert_eq!(e.facts.h1_count, 1);
        assert!(!e.facts.title_in_body);
        assert!(e.facts.description_in_body);
        let late = ex("<p>intro</p><title>Late</title>");
        assert!(late.facts.title_in_body);
    }

    #[test]
    fn canonical_tags_and_robots_directives_as_written() {
        let e = ex(
            r#"<head><link rel="canonical" href="/c" hreflang="en"><meta name="GoogleBot" content="noindex">
            <meta name="robots" content="index, follow"></head><body><p>x</p><link rel="canonical" href=""></body>"#,
        );
        let c: Vec<(&str, bool, Vec<String>)> = e
            .facts
            .canonical_tags
            .iter()
            .map(|c| (c.href.as_str(), c.in_body, c.extra_attributes.clone()))
            .collect();
        assert_eq!(
            c,
            vec![
                ("/c", false, vec!["hreflang".to_string()]),
                ("", true, vec![])
            ]
        );
        let d: Vec<(&str, &str)> = e
            .facts
            .directives
            .iter()
            .map(|d| (d.name.as_str(), d.value.as_str()))
            .collect();
        assert_eq!(
            d,
            vec![("googlebot", "noindex"), ("robots", "index, follow")]
        );
    }

    #[test]
    fn images_pictures_maps_and_render_blocking() {
        let e = ex(
            r#"<head><script src="/a.js"></script><script src="/b.js" defer></script>
            <link rel="stylesheet" href="/s.css"><link rel="stylesheet" href="/p.css" media="print"></head>
            <body><img src="/x.png" alt="X" width="10" height="10"><img src="/y.png" alt="">
            <img src="/t.gif" width="1" height="1"><picture><source srcset="/z.webp"></picture>
            <picture><img src="/w.png" alt="w"></picture><map name="m"></map><script src="/late.js"></script></body>"#,
        );
        assert_eq!(e.facts.render_blocking, vec!["/a.js", "/s.css"]);
        let imgs: Vec<(Option<&str>, Option<&str>, bool, bool)> = e
            .facts
            .images
            .iter()
            .map(|i| (i.src.as_deref(), i.alt.as_deref(), i.sized, i.pixel))
            .collect();
        assert_eq!(
            imgs,
            vec![
                (Some("/x.png"), Some("X"), true, false),
                (Some("/y.png"), Some(""), false, false),
                (Some("/t.gif"), None, true, true),
                (Some("/w.png"), Some("w"), false, false),
            ]
        );
        assert_eq!(e.facts.pictures_without_img, 1);
        assert_eq!(e.facts.image_maps, 1);
    }

    #[test]
    fn forms_passwords_and_csp_meta() {
        let e = ex(
            r#"<meta http-equiv="Content-Security-Policy" content="default-src 'self'">
            <form action="http://example.com/login"><input type="PASSWORD"></form><form></form>"#,
        );
        assert_eq!(e.facts.csp_meta.as_deref(), Some("default-src 'self'"));
        assert_eq!(e.facts.form_actions, vec!["http://example.com/login", ""]);
        assert_eq!(e.facts.password_inputs, 1);
    }

    #[test]
    fn main_text_leaves_out_boilerplate() {
        let e = ex(
            r#"<html><head><title>Title words</title><style>p { color: red }</style></head><body>
            <nav>Home About Contact</nav><header>Site header</header>
            <main><h1>Main</h1><p>One two <b>three</b> caf&eacute; &amp; more</p><script>var x = 1;</script></main>
            <footer>Copyright</footer></body></html>"#,
        );
        let t = &e.facts.text;
        assert_eq!(t.words, 6, "{t:?}");
        assert_eq!(t.excerpt, "Main One two three café & more");
        assert!(!t.text_hash.is_empty());
    }

    #[test]
    fn viewport_social_and_plugins() {
        let e = ex(
            r#"<meta name="viewport" content="width=device-width, initial-scale=1">
            <meta property="og:title" content="T"><meta property="OG:image" content="/i.png">
            <meta name="twitter:card" content="summary"><object data="movie.swf"></object><embed src="a.pdf">"#,
        );
        assert_eq!(
            e.facts.viewports,
            vec!["width=device-width, initial-scale=1"]
        );
        assert_eq!(
            e.facts.open_graph.get("og:image").map(String::as_str),
            Some("/i.png")
        );
        assert_eq!(e.facts.twitter_card.as_deref(), Some("summary"));
        assert_eq!(e.facts.plugins, vec!["movie.swf"]);
    }

    #[test]
    fn document_structure_as_written() {
        let good = ex(
            "<!DOCTYPE html><html><head><meta charset=utf-8><title>t</title></head><body><a href=/a>a</a></body></html>",
        );
        let s = &good.facts.structure;
        assert!(s.doctype);
        assert_eq!((s.html_tags, s.head_tags, s.body_tags), (1, 1, 1));
        assert_eq!(s.first_in_html.as_deref(), Some("head"));
        assert_eq!(s.head_invalid_element, None);
        assert_eq!(s.charset_source, "meta");
        assert_eq!(s.meta_charset_offset, Some(0));
        let bad = ex(
            r#"<body><html><head><noscript><img src="/px"></noscript><div>tag manager</div><link rel=canonical href=/c></head>
            <body><a href="/x">x <a href="/y">y</a></a><base href=""><frameset></frameset></body></html>"#,
        );
        let s = &bad.facts.structure;
        assert!(!s.doctype);
        assert!(s.body_before_html);
        assert_eq!(s.body_tags, 2);
        // <noscript> is raw text for a scripting parser; the <div> is what ends the head.
        assert_eq!(s.head_invalid_element.as_deref(), Some("div"));
        assert_eq!(s.nested_anchors, 1);
        assert_eq!(s.bases, vec![""]);
        assert_eq!(s.frames, 1);
        assert_eq!(s.charset_source, "none");
    }

    #[test]
    fn accessibility_and_structured_data_facts() {
        let e = ex(r#"<body aria-hidden="true"><main id="m"><p id="m">x</p>
            <label for="email">Email</label><input id="email" name="email"><input name="phone">
            <label>Name <input name="name"></label><input type="hidden" name="t"><input type="image" src="/go.png">
            <iframe src="/f"></iframe><iframe src="/g" title="Map"></iframe><div tabindex="3"></div>
            <video src="/v.mp4"></video><video src="/w.mp4"><track kind="captions" src="/c.vtt"></video>
            <script>var state = 1;</script><script type="application/ld+json">{"@context":"https://schema.org","@type":"Thing"}</script>
            <div itemscope></div><div itemscope itemtype="Product"></div></main></body>"#);
        let a = &e.facts.a11y;
        assert!(a.aria_hidden_body && a.main_landmark);
        assert_eq!(a.duplicate_ids, vec!["m"]);
        assert_eq!(a.unlabelled_controls, vec!["phone"]);
        assert_eq!(
            (
                a.input_images_no_alt,
                a.frames_no_title,
                a.positive_tabindex,
                a.videos_no_captions
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(e.facts.json_ld.len(), 1);
        assert!(e.facts.json_ld[0].contains("schema.org"));
        assert_eq!(e.facts.microdata, [2, 1, 1]);
        assert!(e.facts.inline_script_bytes >= 14);
        assert_eq!(e.facts.elements, 20);
    }

    /// The every-element attributes are found in any case and among other attributes
    /// (they are asked only of elements that have one of them).
    #[test]
    fn accessibility_attributes_in_any_case_among_others() {
        let e = ex(r#"<body><div class="a" TabIndex="2" data-x="1">x</div>
            <section lang="en" ROLE="Main"></section><span data-y typeof="Person"></span>
            <p VOCAB="https://schema.org/"></p><div class="b" ItemScope></div>
            <iframe src="/h" ARIA-LABEL="Video"></iframe><iframe src="/i" class="c"></iframe>
            <p class="d" Id="dup"></p><p ID="dup"></p></body>"#);
        let a = &e.facts.a11y;
        assert_eq!((a.positive_tabindex, a.frames_no_title), (1, 1));
        assert!(a.main_landmark);
        assert_eq!(a.duplicate_ids, vec!["dup"]);
        assert_eq!(e.facts.rdfa, 2);
        assert_eq!(e.facts.microdata, [1, 1, 0]);
    }

    #[test]
    fn uncrawlable_anchor_hrefs_are_kept_as_written() {
        let e = ex(
            r#"<a href="">e</a><a href="javascript:go()">j</a><a href="mailto:x@y.example">m</a>
            <a href="/ok">ok</a><img src="data:image/png;base64,AAAA">"#,
        );
        assert_eq!(
            e.facts.uncrawlable_hrefs,
            vec!["", "javascript:go()", "mailto:x@y.example"]
        );
    }

    #[test]
    fn charset_from_header_and_meta() {
        let page = Url::parse("http://example.com/").unwrap();
        let latin1 = b"<title>caf\xe9</title>";
        let e = extract_html(&page, latin1, Some(encoding_rs::WINDOWS_1252));
        assert_eq!(e.facts.titles, vec!["caf\u{e9}"]);
        assert_eq!(e.charset, "windows-1252");
        let meta = b"<meta charset=\"iso-8859-1\"><title>na\xefve</title>";
        let e = extract_html(&page, meta, None);
        assert_eq!(e.facts.titles, vec!["na\u{ef}ve"]);
        assert_eq!(
            e.charset, "windows-1252",
            "iso-8859-1 is read as windows-1252"
        );
    }

    #[test]
    fn invalid_utf8_and_utf16_do_not_break_extraction() {
        let page = Url::parse("http://example.com/").unwrap();
        let e = extract_html(
            &page,
            b"<title>\xff\xfe bad</title><a href=\"/ok\">\xc3(</a>",
            None,
        );
        assert_eq!(urls(&e, LinkKind::Anchor), vec!["http://example.com/ok"]);
        assert!(e.facts.titles[0].contains("bad"));
        let utf16: Vec<u8> = "\u{feff}<a href=\"/wide\">w</a>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let e = extract_html(&page, &utf16, None);
        assert_eq!(urls(&e, LinkKind::Anchor), vec!["http://example.com/wide"]);
        assert_eq!(e.charset, "UTF-16LE");
    }

    #[test]
    fn streaming_in_tiny_chunks_gives_the_same_result() {
        let html = r#"<title>T</title><a href="/a">A &amp; B</a><img srcset="x.png 1x, y.png 2x">"#;
        let page = Url::parse("http://example.com/").unwrap();
        let whole = extract_html(&page, html.as_bytes(), None);
        let mut ex = HtmlExtractor::new(page, None);
        for c in html.as_bytes().chunks(3) {
            ex.write(c);
        }
        let chunked = ex.finish();
        assert_eq!(whole.links, chunked.links);
        assert_eq!(whole.facts, chunked.facts);
    }

    /// A tag too big for the parser's memory stops the parse: why is kept in the facts
    /// (stored, and shown in reports), and what came before it is kept too.
    #[test]
    fn a_parse_stopped_early_says_why_and_keeps_what_came_before() {
        let html = format!(
            "<title>Kept</title><a href=\"/before\">b</a><div data-x=\"{}",
            "x".repeat(MAX_PARSER_MEMORY + 1024)
        );
        let e = ex(&html);
        assert!(e.facts.parse_error.is_some(), "{:?}", e.facts.parse_error);
        assert_eq!(e.facts.titles, ["Kept"]);
        assert_eq!(urls(&e, LinkKind::Anchor), ["http://example.com/before"]);
        let stored = serde_json::to_string(&e.facts).unwrap();
        assert!(stored.contains("\"parse_error\":"), "{stored}");
        assert!(ex("<p>fine</p>").facts.parse_error.is_none());
    }

    #[test]
    fn malformed_html_is_survived() {
        let e = ex("<a href='/one'>one<a href=/two>two<div><<<>>><title>unterminated");
        assert_eq!(
            urls(&e, LinkKind::Anchor),
            vec!["http://example.com/one", "http://example.com/two"]
        );
        assert_eq!(e.links[0].text.as_deref(), Some("one"));
    }

    #[test]
    fn refresh_forms() {
        assert_eq!(refresh_target("0; url=/x").as_deref(), Some("/x"));
        assert_eq!(refresh_target("0;URL='/y'").as_deref(), Some("/y"));
        assert_eq!(refresh_target("5, /z").as_deref(), Some("/z"));
        assert_eq!(refresh_target("5"), None);
    }
}
