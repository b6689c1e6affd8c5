//! What extraction finds in one HTML page.

use serde::{Deserialize, Serialize};

/// How a page refers to a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LinkKind {
    /// `<a href>` or `<area href>`.
    Anchor,
    /// `<img src|srcset>`, `<source src|srcset>`, `<picture>` sources.
    Image,
    /// `<script src>`.
    Script,
    /// `<link rel=stylesheet>`.
    Stylesheet,
    /// `<link rel=canonical>`.
    Canonical,
    /// `<link rel=alternate hreflang>`.
    Hreflang,
    /// Other `<link rel=alternate>` (feeds, media alternates).
    Alternate,
    /// `<link rel=icon|apple-touch-icon|manifest>`.
    Icon,
    /// `<link rel=preload|prefetch|modulepreload>`.
    Preload,
    /// `<link rel=next|prev>`.
    Pagination,
    /// `<iframe src>`, `<frame src>`.
    Iframe,
    /// `<video>`, `<audio>`, `<track>` sources and posters.
    Media,
    /// `<object data>`, `<embed src>`.
    Object,
    /// `<meta http-equiv=refresh content="N; url=...">`.
    MetaRefresh,
    /// A `Location` header of a redirect answer.
    Redirect,
    /// A `<loc>` in a sitemap.
    Sitemap,
    /// A sitemap named by robots.txt or a sitemap index.
    SitemapFile,
    /// robots.txt itself.
    Robots,
    /// A start URL given by the user.
    Start,
}

impl LinkKind {
    /// The stable id used in outputs.
    pub fn id(self) -> &'static str {
        match self {
            Self::Anchor => "a",
            Self::Image => "img",
            Self::Script => "script",
            Self::Stylesheet => "css",
            Self::Canonical => "canonical",
            Self::Hreflang => "hreflang",
            Self::Alternate => "alternate",
            Self::Icon => "icon",
            Self::Preload => "preload",
            Self::Pagination => "pagination",
            Self::Iframe => "iframe",
            Self::Media => "media",
            Self::Object => "object",
            Self::MetaRefresh => "meta-refresh",
            Self::Redirect => "redirect",
            Self::Sitemap => "sitemap",
            Self::SitemapFile => "sitemap-file",
            Self::Robots => "robots",
            Self::Start => "start",
        }
    }

    /// Every kind.
    pub(crate) const ALL: [LinkKind; 19] = [
        LinkKind::Anchor,
        LinkKind::Image,
        LinkKind::Script,
        LinkKind::Stylesheet,
        LinkKind::Canonical,
        LinkKind::Hreflang,
        LinkKind::Alternate,
        LinkKind::Icon,
        LinkKind::Preload,
        LinkKind::Pagination,
        LinkKind::Iframe,
        LinkKind::Media,
        LinkKind::Object,
        LinkKind::MetaRefresh,
        LinkKind::Redirect,
        LinkKind::Sitemap,
        LinkKind::SitemapFile,
        LinkKind::Robots,
        LinkKind::Start,
    ];

    /// Parses a stored id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// Whether the crawl extracts further links from the target (it may be a page).
    pub fn leads_to_page(self) -> bool {
        matches!(
            self,
            Self::Anchor
                | Self::Canonical
                | Self::Hreflang
                | Self::Pagination
                | Self::Iframe
                | Self::MetaRefresh
                | Self::Redirect
                | Self::Sitemap
                | Self::Start
        )
    }
}

/// A stored link's kind in one byte: a [`LinkKind`], or `unknown` for a kind id this
/// version does not know (a file written by another). It reads as its id (`"a"`,
/// `"img"`, …), compares with one and serializes as one; a crawl holds a million links,
/// and an id as `&'static str` took 16 bytes of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkKindId(Option<LinkKind>);

impl LinkKindId {
    /// The kind id (`unknown` for a kind this version does not know).
    pub fn as_str(self) -> &'static str {
        self.0.map_or("unknown", LinkKind::id)
    }

    /// The kind, when known.
    pub fn kind(self) -> Option<LinkKind> {
        self.0
    }
}

impl From<LinkKind> for LinkKindId {
    fn from(k: LinkKind) -> Self {
        Self(Some(k))
    }
}

impl From<&str> for LinkKindId {
    fn from(id: &str) -> Self {
        Self(LinkKind::from_id(id))
    }
}

impl std::ops::Deref for LinkKindId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for LinkKindId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LinkKindId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for LinkKindId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LinkKindId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A reference found in a page (or sitemap, or redirect), already resolved to an absolute URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The absolute target URL (fragment removed), as resolved: the crawl admits it as
    /// it is, with no second parse of its text.
    pub url: url::Url,
    /// How it is referenced.
    pub kind: LinkKind,
    /// Visible anchor text (or `alt` for images), whitespace-collapsed.
    pub text: Option<String>,
    /// The `rel` attribute, when present (nofollow, ugc, sponsored, ...).
    pub rel: Option<String>,
    /// `hreflang`, for alternate links.
    pub hreflang: Option<String>,
}

/// Whether a stored fact is at its default (empty, zero, false, none): such fields are
/// left out of the stored JSON, as every fact struct reads a missing field as its default.
/// A page's facts take about a third less room (2.3 -> 1.5 KB on the bench site).
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    !FULL.get() && *v == T::default()
}

thread_local! {
    /// Set while [`PageFacts::serialize_full`] writes: every field, defaults included.
    static FULL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl PageFacts {
    /// Writes the facts with every field, defaults included, as reports show them (the
    /// JSON report's `urls[].facts` lists every field; the store leaves defaults out).
    pub fn serialize_full<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// Puts the mode back however the write ends.
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                FULL.set(self.0);
            }
        }
        let _restore = Restore(FULL.replace(true));
        self.serialize(s)
    }
}

/// Facts extracted from one HTML page in the same streaming pass as its links.
///
/// What checks compare across pages is held here; what only the page's own checks read
/// is in [`PageDetail`], boxed and reached through `Deref` (`facts.images`), so that
/// a streamed audit can hold every page's facts without the detail (see
/// `SiteData::load_shared`). Stored as one flat JSON object either way, without the
/// fields that are at their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PageFacts {
    /// `<meta name=robots>` contents.
    #[serde(skip_serializing_if = "is_default")]
    pub meta_robots: Vec<String>,
    /// Canonical URLs (resolved).
    #[serde(skip_serializing_if = "is_default")]
    pub canonicals: Vec<String>,
    /// Every `<link rel=canonical>` as written.
    #[serde(skip_serializing_if = "is_default")]
    pub canonical_tags: Vec<CanonicalTag>,
    /// Every robots directive meta (`robots`, `googlebot`, …) as written.
    #[serde(skip_serializing_if = "is_default")]
    pub directives: Vec<Directive>,
    /// `<link rel="alternate" hreflang>` elements as written.
    #[serde(skip_serializing_if = "is_default")]
    pub hreflang: Vec<HreflangTag>,
    /// What only checks of the page itself read (`None`: left out, reads as empty).
    /// Always read when facts are read: a detail field that does not read (`"titles": 7`)
    /// fails the whole facts, as any other field does, instead of leaving the detail
    /// out (serde's way with a flattened `Option`), so a report shows such facts as
    /// stored rather than without their detail.
    #[serde(flatten)]
    pub detail: Option<Box<PageDetail>>,
}

// Read by hand rather than derived: serde reads a flattened field by first copying the
// whole object into a tree of its own values (every key and string allocated), then
// reading both structs from that. Here the facts' own fields are read in place and
// every other key goes straight to the detail's derived reader, with nothing between.
// An audit reads every page's facts twice: that copy was ~5 % of its CPU.
impl<'de> Deserialize<'de> for PageFacts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FactsVisitor::<PageDetail>(std::marker::PhantomData))
    }
}

/// Page facts read with only the part of their detail that checks across pages compare
/// (titles, descriptions, headings, word count and text hashes); the rest of the detail
/// is passed over, not read into strings and lists. An audit reads every page's facts
/// once for what it holds across pages, then again whole for the page's own checks
/// (reading them whole twice was ~1.6 % of its instructions more). A detail field of the
/// wrong type, which only a file changed by hand holds, is passed over here and fails
/// only the whole read: the page then counts across pages, and its own checks see it
/// without its detail.
#[derive(Debug)]
pub(crate) struct LeanFacts(pub(crate) PageFacts);

impl<'de> Deserialize<'de> for LeanFacts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FactsVisitor::<LeanDetail>(std::marker::PhantomData))
            .map(LeanFacts)
    }
}

/// What [`LeanFacts`] reads of the detail.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LeanDetail {
    text: LeanText,
    titles: Vec<String>,
    descriptions: Vec<String>,
    headings: Vec<Heading>,
}

/// What [`LeanFacts`] reads of the text statistics.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LeanText {
    words: u32,
    text_hash: String,
    simhash: String,
}

impl From<LeanDetail> for PageDetail {
    fn from(d: LeanDetail) -> Self {
        Self {
            text: TextFacts {
                words: d.text.words,
                text_hash: d.text.text_hash,
                simhash: d.text.simhash,
                ..TextFacts::default()
            },
            titles: d.titles,
            descriptions: d.descriptions,
            headings: d.headings,
            ..Self::default()
        }
    }
}

/// Reads page facts with detail `Dt`.
struct FactsVisitor<Dt>(std::marker::PhantomData<Dt>);

impl<'de, Dt: Deserialize<'de> + Into<PageDetail>> serde::de::Visitor<'de> for FactsVisitor<Dt> {
    type Value = PageFacts;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("page facts (an object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<PageFacts, A::Error> {
        let mut facts = PageFacts::default();
        let split = Split {
            map,
            facts: &mut facts,
            seen: [false; OWN_FIELDS.len()],
        };
        let detail = Dt::deserialize(serde::de::value::MapAccessDeserializer::new(split))?;
        facts.detail = Some(Box::new(detail.into()));
        Ok(facts)
    }
}

/// The keys [`PageFacts`] reads itself; every other key is the detail's.
const OWN_FIELDS: [&str; 5] = [
    "meta_robots",
    "canonicals",
    "canonical_tags",
    "directives",
    "hreflang",
];

/// The facts' map as [`PageDetail`]'s reader sees it: without the facts' own keys,
/// whose values are read into `facts` as they pass.
struct Split<'f, A> {
    map: A,
    facts: &'f mut PageFacts,
    /// Own fields read so far: a key twice is an error, as in a derived reader.
    seen: [bool; OWN_FIELDS.len()],
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for Split<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            let name = match &key {
                Key::Borrowed(k) => k,
                Key::Owned(k) => k.as_str(),
            };
            let Some(i) = OWN_FIELDS.iter().position(|f| *f == name) else {
                return match key {
                    Key::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)),
                    Key::Owned(k) => seed.deserialize(StringDeserializer::new(k)),
                }
                .map(Some);
            };
            if std::mem::replace(&mut self.seen[i], true) {
                return Err(serde::de::Error::duplicate_field(OWN_FIELDS[i]));
            }
            let f = &mut *self.facts;
            match i {
                0 => f.meta_robots = self.map.next_value()?,
                1 => f.canonicals = self.map.next_value()?,
                2 => f.canonical_tags = self.map.next_value()?,
                3 => f.directives = self.map.next_value()?,
                _ => f.hreflang = self.map.next_value()?,
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A map key, borrowed from the input where the input allows.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// An empty [`PageDetail`], for facts held without theirs.
static NO_DETAIL: std::sync::LazyLock<PageDetail> = std::sync::LazyLock::new(PageDetail::default);

// The detail reads as fields of the facts: every check reads `facts.images` whether the
// detail is held or not.
impl std::ops::Deref for PageFacts {
    type Target = PageDetail;

    fn deref(&self) -> &PageDetail {
        self.detail.as_deref().unwrap_or(&NO_DETAIL)
    }
}

impl std::ops::DerefMut for PageFacts {
    fn deref_mut(&mut self) -> &mut PageDetail {
        self.detail.get_or_insert_default()
    }
}

/// The part of [`PageFacts`] only checks of the page itself read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageDetail {
    /// Main text statistics (nav, header, footer, aside, scripts and styles left out).
    #[serde(skip_serializing_if = "is_default")]
    pub text: TextFacts,
    /// Every `<title>` text.
    #[serde(skip_serializing_if = "is_default")]
    pub titles: Vec<String>,
    /// Every `<meta name=description>` content.
    #[serde(skip_serializing_if = "is_default")]
    pub descriptions: Vec<String>,
    /// `<html lang>`.
    #[serde(skip_serializing_if = "is_default")]
    pub lang: Option<String>,
    /// The number of `<h1>` elements.
    #[serde(skip_serializing_if = "is_default")]
    pub h1_count: u32,
    /// The `<base href>` in force, if any.
    #[serde(skip_serializing_if = "is_default")]
    pub base: Option<String>,
    /// Headings in document order (at most [`MAX_HEADINGS`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub headings: Vec<Heading>,
    /// A `<title>` appears after the body started (the parser moves it out of `<head>`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub title_in_body: bool,
    /// A description `<meta>` appears after the body started.
    #[serde(default, skip_serializing_if = "is_default")]
    pub description_in_body: bool,
    /// `<html xml:lang>`.
    #[serde(skip_serializing_if = "is_default")]
    pub xml_lang: Option<String>,
    /// Why the HTML parser stopped early, if it did (the facts up to there are kept).
    /// Left out when there is none, in reports too, as before it was a field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// Every `<img>` (at most [`MAX_IMAGES`]).
    #[serde(skip_serializing_if = "is_default")]
    pub images: Vec<ImageTag>,
    /// `<picture>` elements without an `<img>` inside.
    #[serde(skip_serializing_if = "is_default")]
    pub pictures_without_img: u32,
    /// `<map>` elements (image maps).
    #[serde(skip_serializing_if = "is_default")]
    pub image_maps: u32,
    /// Scripts and stylesheets in `<head>` that block the first render.
    #[serde(skip_serializing_if = "is_default")]
    pub render_blocking: Vec<String>,
    /// A `<meta http-equiv="Content-Security-Policy">` value.
    #[serde(skip_serializing_if = "is_default")]
    pub csp_meta: Option<String>,
    /// Every `<form>`'s action as written (`""` when absent: the page itself).
    #[serde(skip_serializing_if = "is_default")]
    pub form_actions: Vec<String>,
    /// `<input type="password">` elements.
    #[serde(skip_serializing_if = "is_default")]
    pub password_inputs: u32,
    /// Every `<meta name="viewport">` content.
    #[serde(skip_serializing_if = "is_default")]
    pub viewports: Vec<String>,
    /// Open Graph properties (`og:title`, …), first value of each.
    #[serde(skip_serializing_if = "is_default")]
    pub open_graph: std::collections::BTreeMap<String, String>,
    /// `<meta name="twitter:card">`.
    #[serde(skip_serializing_if = "is_default")]
    pub twitter_card: Option<String>,
    /// `<object>`, `<embed>` or `<applet>` elements for browser plugins (Flash, Java,
    /// Silverlight), described by what gave them away.
    #[serde(skip_serializing_if = "is_default")]
    pub plugins: Vec<String>,
    /// How the document is put together, as written (not as parsed).
    #[serde(skip_serializing_if = "is_default")]
    pub structure: Structure,
    /// Element count.
    #[serde(skip_serializing_if = "is_default")]
    pub elements: u32,
    /// Bytes of inline `<script>` content.
    #[serde(skip_serializing_if = "is_default")]
    pub inline_script_bytes: u64,
    /// Accessibility facts.
    #[serde(skip_serializing_if = "is_default")]
    pub a11y: Accessibility,
    /// `<script type="application/ld+json">` blocks as written (each capped).
    #[serde(skip_serializing_if = "is_default")]
    pub json_ld: Vec<String>,
    /// Microdata: `itemscope` elements, those without `itemtype`, and `itemtype`s that
    /// are not absolute URLs.
    #[serde(skip_serializing_if = "is_default")]
    pub microdata: [u32; 3],
    /// RDFa `typeof` or `property` attributes.
    #[serde(skip_serializing_if = "is_default")]
    pub rdfa: u32,
    /// `<a href>` values that are not crawlable http(s) links, as written: empty,
    /// `javascript:`, `mailto:`, `tel:` and other schemes (at most 100).
    #[serde(skip_serializing_if = "is_default")]
    pub uncrawlable_hrefs: Vec<String>,
}

/// Accessibility facts a static pass can see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Accessibility {
    /// `<input type="image">` without `alt`.
    #[serde(skip_serializing_if = "is_default")]
    pub input_images_no_alt: u32,
    /// `<iframe>`/`<frame>` without a title.
    #[serde(skip_serializing_if = "is_default")]
    pub frames_no_title: u32,
    /// `id` values used more than once.
    #[serde(skip_serializing_if = "is_default")]
    pub duplicate_ids: Vec<String>,
    /// `aria-hidden="true"` on `<body>`.
    #[serde(skip_serializing_if = "is_default")]
    pub aria_hidden_body: bool,
    /// Elements with a tabindex above 0.
    #[serde(skip_serializing_if = "is_default")]
    pub positive_tabindex: u32,
    /// A `<main>` or `role="main"` exists.
    #[serde(skip_serializing_if = "is_default")]
    pub main_landmark: bool,
    /// `<video>` elements without a captions or subtitles track.
    #[serde(skip_serializing_if = "is_default")]
    pub videos_no_captions: u32,
    /// Form controls without a label, aria-label, aria-labelledby or title (their names or ids).
    #[serde(skip_serializing_if = "is_default")]
    pub unlabelled_controls: Vec<String>,
}

/// Document structure facts read from the token stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Structure {
    /// A `<!DOCTYPE html>` was seen.
    #[serde(skip_serializing_if = "is_default")]
    pub doctype: bool,
    /// Start tags of `html`, `head` and `body`.
    #[serde(skip_serializing_if = "is_default")]
    pub html_tags: u32,
    /// `<head>` start tags.
    #[serde(skip_serializing_if = "is_default")]
    pub head_tags: u32,
    /// `<body>` start tags.
    #[serde(skip_serializing_if = "is_default")]
    pub body_tags: u32,
    /// A `<body>` start tag came before `<html>`.
    #[serde(skip_serializing_if = "is_default")]
    pub body_before_html: bool,
    /// The first element inside `<html>`.
    #[serde(skip_serializing_if = "is_default")]
    pub first_in_html: Option<String>,
    /// The first element not allowed in `<head>` that appeared inside it.
    #[serde(skip_serializing_if = "is_default")]
    pub head_invalid_element: Option<String>,
    /// Every `<base href>` as written.
    #[serde(skip_serializing_if = "is_default")]
    pub bases: Vec<String>,
    /// `<frameset>` or `<frame>` elements.
    #[serde(skip_serializing_if = "is_default")]
    pub frames: u32,
    /// `<a>` start tags inside another open `<a>`.
    #[serde(skip_serializing_if = "is_default")]
    pub nested_anchors: u32,
    /// Where the charset came from: `bom`, `header`, `meta` or `none`.
    #[serde(skip_serializing_if = "is_default")]
    pub charset_source: String,
    /// The charset a `<meta>` declared, if any.
    #[serde(skip_serializing_if = "is_default")]
    pub meta_charset: Option<String>,
    /// Bytes of the document before the chunk holding the `<meta charset>`.
    #[serde(skip_serializing_if = "is_default")]
    pub meta_charset_offset: Option<u64>,
    /// The charset the `Content-Type` header named, if any.
    #[serde(skip_serializing_if = "is_default")]
    pub header_charset: Option<String>,
}

/// A `<link rel="alternate" hreflang="…" href="…">`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HreflangTag {
    /// The hreflang value as written.
    #[serde(skip_serializing_if = "is_default")]
    pub value: String,
    /// The href as written.
    #[serde(skip_serializing_if = "is_default")]
    pub href: String,
    /// It appears after the body started.
    #[serde(skip_serializing_if = "is_default")]
    pub in_body: bool,
}

/// Statistics of a page's main text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextFacts {
    /// Words of main text.
    #[serde(skip_serializing_if = "is_default")]
    pub words: u32,
    /// Bytes of visible text (whitespace collapsed).
    #[serde(skip_serializing_if = "is_default")]
    pub text_bytes: u64,
    /// XXH3 of the normalized words (exact duplicates), as hex.
    #[serde(skip_serializing_if = "is_default")]
    pub text_hash: String,
    /// 64-bit SimHash over word 5-shingles (near duplicates), as hex; empty for < 5 words.
    #[serde(skip_serializing_if = "is_default")]
    pub simhash: String,
    /// "lorem ipsum" appears.
    #[serde(skip_serializing_if = "is_default")]
    pub lorem_ipsum: bool,
    /// Unrendered template markers (`{{`, `{%`, `${`, `[[`, `%%`) appear.
    #[serde(skip_serializing_if = "is_default")]
    pub template_markers: bool,
    /// The first characters of main text.
    #[serde(skip_serializing_if = "is_default")]
    pub excerpt: String,
}

/// The most `<img>` elements kept per page.
pub const MAX_IMAGES: usize = 1000;

/// An `<img>` element's attributes that the image checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageTag {
    /// `src` as written (`None`: absent).
    #[serde(skip_serializing_if = "is_default")]
    pub src: Option<String>,
    /// `alt` as written (`None`: absent; `Some("")`: decorative).
    #[serde(skip_serializing_if = "is_default")]
    pub alt: Option<String>,
    /// It has a `srcset`.
    #[serde(skip_serializing_if = "is_default")]
    pub srcset: bool,
    /// It has both `width` and `height`.
    #[serde(skip_serializing_if = "is_default")]
    pub sized: bool,
    /// `aria-hidden="true"` or `role="presentation"`/`"none"`: hidden from assistive tech.
    #[serde(skip_serializing_if = "is_default")]
    pub hidden: bool,
    /// It is a 1×1 pixel (tracking).
    #[serde(skip_serializing_if = "is_default")]
    pub pixel: bool,
}

/// A `<link rel="canonical">` element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanonicalTag {
    /// The href as written (entities decoded, trimmed).
    #[serde(skip_serializing_if = "is_default")]
    pub href: String,
    /// It appears after the body started.
    #[serde(skip_serializing_if = "is_default")]
    pub in_body: bool,
    /// Attributes that can make it read as an alternate: hreflang, lang, media, type.
    #[serde(skip_serializing_if = "is_default")]
    pub extra_attributes: Vec<String>,
}

/// A robots directive from a meta element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Directive {
    /// The crawler it addresses: `robots`, `googlebot`, `bingbot`, …
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    /// The content as written.
    #[serde(skip_serializing_if = "is_default")]
    pub value: String,
    /// It appears after the body started.
    #[serde(skip_serializing_if = "is_default")]
    pub in_body: bool,
}

/// The most headings kept per page; hostile pages can have millions.
pub const MAX_HEADINGS: usize = 500;

/// One `<h1>`…`<h6>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Its text, with the `alt` of images inside it (whitespace collapsed).
    pub text: String,
    /// It has no text of its own: the text is only image `alt`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alt_only: bool,
}

#[cfg(test)]
mod detail_tests {
    use super::*;

    /// The detail is stored flat among the other facts, reads through the facts, and
    /// reads as empty once left out.
    #[test]
    fn detail_is_flat_in_json_and_reads_empty_when_left_out() {
        let mut f = PageFacts::default();
        assert!(f.images.is_empty() && f.detail.is_none());
        f.canonicals.push("http://site.example/".into());
        f.titles.push("T".into());
        f.images.push(ImageTag {
            src: Some("/a.png".into()),
            ..ImageTag::default()
        });
        f.structure.doctype = true;
        let json: serde_json::Value = serde_json::to_value(&f).unwrap();
        assert_eq!(json["images"][0]["src"], "/a.png");
        assert_eq!(json["structure"]["doctype"], true);
        assert_eq!(json["titles"][0], "T");
        assert!(json.get("detail").is_none());
        let back: PageFacts = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        let mut shared = back;
        shared.detail = None;
        assert_eq!(shared.canonicals, ["http://site.example/"]);
        assert!(shared.images.is_empty() && !shared.structure.doctype);
        assert!(shared.titles.is_empty());
        // A detail field that does not read fails the facts, like any other field.
        assert!(serde_json::from_str::<PageFacts>(r#"{"titles":7}"#).is_err());
        assert!(serde_json::from_str::<PageFacts>(r#"{"images":[{"src":7}]}"#).is_err());
        assert!(serde_json::from_str::<PageFacts>(r#"{"canonicals":7}"#).is_err());
    }

    /// Lean facts read a page's own fields and the detail checks compare across pages
    /// as the full read does, and nothing else of the detail; facts that do not read
    /// fail either way, but for a detail field lean facts pass over.
    #[test]
    fn lean_facts_read_what_pages_compare() {
        let mut f = PageFacts {
            meta_robots: vec!["noindex".into()],
            canonicals: vec!["http://site.example/".into()],
            canonical_tags: vec![CanonicalTag {
                href: "/".into(),
                ..Default::default()
            }],
            hreflang: vec![HreflangTag::default()],
            ..Default::default()
        };
        f.titles = vec!["T".into(), "U".into()];
        f.descriptions = vec!["D".into()];
        f.headings = vec![Heading {
            level: 1,
            text: "H \"1\"".into(),
            alt_only: false,
        }];
        f.text = TextFacts {
            words: 182,
            text_bytes: 1238,
            text_hash: "96333b4ad79acda6".into(),
            simhash: "5abdd62b46f6f95a".into(),
            lorem_ipsum: true,
            template_markers: true,
            excerpt: "Page 1044".into(),
        };
        f.images.push(ImageTag {
            src: Some("/a.png".into()),
            ..Default::default()
        });
        f.structure.doctype = true;
        f.lang = Some("en".into());
        f.h1_count = 1;
        let json = serde_json::to_string(&f).unwrap();
        let lean = serde_json::from_str::<LeanFacts>(&json).unwrap().0;
        let mut want = f.clone();
        want.detail = Some(Box::new(PageDetail {
            text: TextFacts {
                words: 182,
                text_hash: "96333b4ad79acda6".into(),
                simhash: "5abdd62b46f6f95a".into(),
                ..Default::default()
            },
            titles: f.titles.clone(),
            descriptions: f.descriptions.clone(),
            headings: f.headings.clone(),
            ..Default::default()
        }));
        assert_eq!(lean, want);
        assert_eq!(
            serde_json::from_str::<LeanFacts>("{}").unwrap().0,
            PageFacts {
                detail: Some(Box::default()),
                ..Default::default()
            }
        );
        for bad in [
            r#"{"titles":7}"#,
            r#"{"headings":[{"text":"x"}]}"#,
            r#"{"text":{"words":"x"}}"#,
            r#"{"canonicals":7}"#,
            r#"{"titles":[],"titles":[]}"#,
            r#"{"canonicals":[],"canonicals":[]}"#,
            r#"{"images":[{"src":7}"#,
            "[]",
        ] {
            assert!(serde_json::from_str::<LeanFacts>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<PageFacts>(bad).is_err(), "{bad}");
        }
        // Passed over: what only the page's own checks read.
        assert!(serde_json::from_str::<LeanFacts>(r#"{"images":[{"src":7}]}"#).is_ok());
    }

    /// Facts are stored without the fields at their defaults and read back the same;
    /// facts stored in full (as earlier versions did) read as before; a present but
    /// empty or zero value (`Some(0)`, `Some("")`) is not a default and is kept.
    #[test]
    fn facts_leave_out_defaults_and_read_back_the_same() {
        assert_eq!(serde_json::to_string(&PageFacts::default()).unwrap(), "{}");
        // A bench-site page's facts as stored in full before.
        let full = r#"{"a11y":{"aria_hidden_body":false,"duplicate_ids":[],"frames_no_title":0,"input_images_no_alt":0,"main_landmark":true,"positive_tabindex":0,"unlabelled_controls":[],"videos_no_captions":0},"base":null,"canonical_tags":[{"extra_attributes":[],"href":"/p/1044.html","in_body":false}],"canonicals":["http://127.0.0.1:18081/p/1044.html"],"csp_meta":null,"description_in_body":false,"descriptions":["Page 1044 of the bench site."],"directives":[],"elements":49,"form_actions":[],"h1_count":1,"headings":[{"level":1,"text":"Page 1044: page crawl"}],"hreflang":[],"image_maps":0,"images":[{"alt":"figure 1044","hidden":false,"pixel":false,"sized":true,"src":"/img/44.png","srcset":false}],"inline_script_bytes":0,"json_ld":[],"lang":"en","meta_robots":[],"microdata":[0,0,0],"open_graph":{},"password_inputs":0,"pictures_without_img":0,"plugins":[],"rdfa":0,"render_blocking":["/css/site.css"],"structure":{"bases":[],"body_before_html":false,"body_tags":1,"charset_source":"meta","doctype":true,"first_in_html":"head","frames":0,"head_invalid_element":null,"head_tags":1,"header_charset":null,"html_tags":1,"meta_charset":"utf-8","meta_charset_offset":0,"nested_anchors":0},"text":{"excerpt":"Page 1044: page crawl","lorem_ipsum":false,"simhash":"5abdd62b46f6f95a","template_markers":false,"text_bytes":1238,"text_hash":"96333b4ad79acda6","words":182},"title_in_body":false,"titles":["Page 1044 | Bench site"],"twitter_card":null,"uncrawlable_hrefs":[],"viewports":["width=device-width, initial-scale=1"],"xml_lang":null}"#;
        let f: PageFacts = serde_json::from_str(full).unwrap();
        let compact = serde_json::to_string(&f).unwrap();
        assert!(compact.len() * 10 < full.len() * 7, "{compact}");
        for gone in ["[]", "{}", "null", "false", ":0,", "\"microdata\""] {
            assert!(!compact.contains(gone), "{gone} in {compact}");
        }
        // `Some(0)` is kept: the meta charset was the first thing in the document.
        assert!(compact.contains("\"meta_charset_offset\":0"), "{compact}");
        assert_eq!(serde_json::from_str::<PageFacts>(&compact).unwrap(), f);

        let mut odd = f.clone();
        odd.lang = Some(String::new());
        odd.headings[0].alt_only = true;
        odd.text.lorem_ipsum = true;
        odd.a11y.duplicate_ids.push("x".into());
        odd.open_graph.insert("og:title".into(), String::new());
        let back: PageFacts = serde_json::from_str(&serde_json::to_string(&odd).unwrap()).unwrap();
        assert_eq!(back, odd);
        assert_ne!(back, f);
    }

    /// The hand-written reader: the facts' own keys and the detail's are told apart
    /// whether a key is borrowed from the input or unescaped into a copy; an own key
    /// twice is an error, as it is for a detail key; unknown keys are skipped; facts
    /// that are not an object do not read.
    #[test]
    fn facts_read_own_and_detail_keys_in_any_spelling() {
        let f: PageFacts = serde_json::from_str(
            r#"{"canon\u0069cals":["http://a.example/"],"t\u0069tles":["T"],"later":{"x":[1]},"hreflang":[],"lang":"en"}"#,
        )
        .unwrap();
        assert_eq!(f.canonicals, ["http://a.example/"]);
        assert_eq!(f.titles, ["T"]);
        assert_eq!(f.lang.as_deref(), Some("en"));
        let twice = r#"{"canonicals":["a"],"titles":[],"canonicals":["b"]}"#;
        let e = serde_json::from_str::<PageFacts>(twice).unwrap_err();
        assert!(
            e.to_string().contains("duplicate field `canonicals`"),
            "{e}"
        );
        assert!(serde_json::from_str::<PageFacts>(r#"{"lang":"a","lang":"b"}"#).is_err());
        assert!(serde_json::from_str::<PageFacts>("[]").is_err());
        assert!(serde_json::from_str::<PageFacts>("null").is_err());
        // From a tree of values too (reports and tests read facts that way).
        let v = serde_json::json!({"meta_robots": ["noindex"], "words": 3, "h1_count": 2});
        let f: PageFacts = serde_json::from_value(v).unwrap();
        assert_eq!(f.meta_robots, ["noindex"]);
        assert_eq!(f.h1_count, 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind id reads, compares, prints and serializes as the id; an id this version
    /// does not know reads `unknown`; a stored link takes 32 bytes.
    #[test]
    fn link_kind_id_reads_as_its_id() {
        let a = LinkKindId::from(LinkKind::Anchor);
        assert_eq!((a.as_str(), a.kind()), ("a", Some(LinkKind::Anchor)));
        assert!(a == "a" && a != "img" && &*a == "a");
        assert_eq!(
            LinkKindId::from("sitemap-file").kind(),
            Some(LinkKind::SitemapFile)
        );
        let odd = LinkKindId::from("web-bundle");
        assert_eq!((odd.as_str(), odd.kind()), ("unknown", None));
        assert_eq!(format!("{a} {odd}"), "a unknown");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"a\"");
        assert_eq!(std::mem::size_of::<LinkKindId>(), 1);
        assert_eq!(std::mem::size_of::<crate::store::LinkRow>(), 32);
    }
}
