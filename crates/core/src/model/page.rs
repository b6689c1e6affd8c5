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

    /// Parses a stored id.
    pub fn from_id(id: &str) -> Option<Self> {
        const ALL: [LinkKind; 19] = [
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
        ALL.into_iter().find(|k| k.id() == id)
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
    /// The absolute target URL (fragment removed).
    pub url: String,
    /// How it is referenced.
    pub kind: LinkKind,
    /// Visible anchor text (or `alt` for images), whitespace-collapsed.
    pub text: Option<String>,
    /// The `rel` attribute, when present (nofollow, ugc, sponsored, ...).
    pub rel: Option<String>,
    /// `hreflang`, for alternate links.
    pub hreflang: Option<String>,
}

/// Facts extracted from one HTML page in the same streaming pass as its links.
///
/// What checks compare across pages is held here; what only the page's own checks read
/// is in [`PageDetail`], boxed and reached through `Deref` (`facts.images`), so that
/// a streamed audit can hold every page's facts without the detail (see
/// `SiteData::load_shared`). Stored as one flat JSON object either way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageFacts {
    /// Every `<title>` text.
    pub titles: Vec<String>,
    /// Every `<meta name=description>` content.
    pub descriptions: Vec<String>,
    /// `<meta name=robots>` contents.
    pub meta_robots: Vec<String>,
    /// Canonical URLs (resolved).
    pub canonicals: Vec<String>,
    /// `<html lang>`.
    pub lang: Option<String>,
    /// The number of `<h1>` elements.
    pub h1_count: u32,
    /// The `<base href>` in force, if any.
    pub base: Option<String>,
    /// Headings in document order (at most [`MAX_HEADINGS`]).
    #[serde(default)]
    pub headings: Vec<Heading>,
    /// A `<title>` appears after the body started (the parser moves it out of `<head>`).
    #[serde(default)]
    pub title_in_body: bool,
    /// A description `<meta>` appears after the body started.
    #[serde(default)]
    pub description_in_body: bool,
    /// Every `<link rel=canonical>` as written.
    pub canonical_tags: Vec<CanonicalTag>,
    /// Every robots directive meta (`robots`, `googlebot`, …) as written.
    pub directives: Vec<Directive>,
    /// Main text statistics (nav, header, footer, aside, scripts and styles left out).
    pub text: TextFacts,
    /// `<link rel="alternate" hreflang>` elements as written.
    pub hreflang: Vec<HreflangTag>,
    /// `<html xml:lang>`.
    pub xml_lang: Option<String>,
    /// What only checks of the page itself read (`None`: left out, reads as empty).
    #[serde(flatten)]
    pub detail: Option<Box<PageDetail>>,
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
    /// Every `<img>` (at most [`MAX_IMAGES`]).
    pub images: Vec<ImageTag>,
    /// `<picture>` elements without an `<img>` inside.
    pub pictures_without_img: u32,
    /// `<map>` elements (image maps).
    pub image_maps: u32,
    /// Scripts and stylesheets in `<head>` that block the first render.
    pub render_blocking: Vec<String>,
    /// A `<meta http-equiv="Content-Security-Policy">` value.
    pub csp_meta: Option<String>,
    /// Every `<form>`'s action as written (`""` when absent: the page itself).
    pub form_actions: Vec<String>,
    /// `<input type="password">` elements.
    pub password_inputs: u32,
    /// Every `<meta name="viewport">` content.
    pub viewports: Vec<String>,
    /// Open Graph properties (`og:title`, …), first value of each.
    pub open_graph: std::collections::BTreeMap<String, String>,
    /// `<meta name="twitter:card">`.
    pub twitter_card: Option<String>,
    /// `<object>`, `<embed>` or `<applet>` elements for browser plugins (Flash, Java,
    /// Silverlight), described by what gave them away.
    pub plugins: Vec<String>,
    /// How the document is put together, as written (not as parsed).
    pub structure: Structure,
    /// Element count.
    pub elements: u32,
    /// Bytes of inline `<script>` content.
    pub inline_script_bytes: u64,
    /// Accessibility facts.
    pub a11y: Accessibility,
    /// `<script type="application/ld+json">` blocks as written (each capped).
    pub json_ld: Vec<String>,
    /// Microdata: `itemscope` elements, those without `itemtype`, and `itemtype`s that
    /// are not absolute URLs.
    pub microdata: [u32; 3],
    /// RDFa `typeof` or `property` attributes.
    pub rdfa: u32,
    /// `<a href>` values that are not crawlable http(s) links, as written: empty,
    /// `javascript:`, `mailto:`, `tel:` and other schemes (at most 100).
    pub uncrawlable_hrefs: Vec<String>,
}

/// Accessibility facts a static pass can see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Accessibility {
    /// `<input type="image">` without `alt`.
    pub input_images_no_alt: u32,
    /// `<iframe>`/`<frame>` without a title.
    pub frames_no_title: u32,
    /// `id` values used more than once.
    pub duplicate_ids: Vec<String>,
    /// `aria-hidden="true"` on `<body>`.
    pub aria_hidden_body: bool,
    /// Elements with a tabindex above 0.
    pub positive_tabindex: u32,
    /// A `<main>` or `role="main"` exists.
    pub main_landmark: bool,
    /// `<video>` elements without a captions or subtitles track.
    pub videos_no_captions: u32,
    /// Form controls without a label, aria-label, aria-labelledby or title (their names or ids).
    pub unlabelled_controls: Vec<String>,
}

/// Document structure facts read from the token stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Structure {
    /// A `<!DOCTYPE html>` was seen.
    pub doctype: bool,
    /// Start tags of `html`, `head` and `body`.
    pub html_tags: u32,
    /// `<head>` start tags.
    pub head_tags: u32,
    /// `<body>` start tags.
    pub body_tags: u32,
    /// A `<body>` start tag came before `<html>`.
    pub body_before_html: bool,
    /// The first element inside `<html>`.
    pub first_in_html: Option<String>,
    /// The first element not allowed in `<head>` that appeared inside it.
    pub head_invalid_element: Option<String>,
    /// Every `<base href>` as written.
    pub bases: Vec<String>,
    /// `<frameset>` or `<frame>` elements.
    pub frames: u32,
    /// `<a>` start tags inside another open `<a>`.
    pub nested_anchors: u32,
    /// Where the charset came from: `bom`, `header`, `meta` or `none`.
    pub charset_source: String,
    /// The charset a `<meta>` declared, if any.
    pub meta_charset: Option<String>,
    /// Bytes of the document before the chunk holding the `<meta charset>`.
    pub meta_charset_offset: Option<u64>,
    /// The charset the `Content-Type` header named, if any.
    pub header_charset: Option<String>,
}

/// A `<link rel="alternate" hreflang="…" href="…">`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HreflangTag {
    /// The hreflang value as written.
    pub value: String,
    /// The href as written.
    pub href: String,
    /// It appears after the body started.
    pub in_body: bool,
}

/// Statistics of a page's main text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextFacts {
    /// Words of main text.
    pub words: u32,
    /// Bytes of visible text (whitespace collapsed).
    pub text_bytes: u64,
    /// XXH3 of the normalized words (exact duplicates), as hex.
    pub text_hash: String,
    /// 64-bit SimHash over word 5-shingles (near duplicates), as hex; empty for < 5 words.
    pub simhash: String,
    /// "lorem ipsum" appears.
    pub lorem_ipsum: bool,
    /// Unrendered template markers (`{{`, `{%`, `${`, `[[`, `%%`) appear.
    pub template_markers: bool,
    /// The first characters of main text.
    pub excerpt: String,
}

/// The most `<img>` elements kept per page.
pub const MAX_IMAGES: usize = 1000;

/// An `<img>` element's attributes that the image checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageTag {
    /// `src` as written (`None`: absent).
    pub src: Option<String>,
    /// `alt` as written (`None`: absent; `Some("")`: decorative).
    pub alt: Option<String>,
    /// It has a `srcset`.
    pub srcset: bool,
    /// It has both `width` and `height`.
    pub sized: bool,
    /// `aria-hidden="true"` or `role="presentation"`/`"none"`: hidden from assistive tech.
    pub hidden: bool,
    /// It is a 1×1 pixel (tracking).
    pub pixel: bool,
}

/// A `<link rel="canonical">` element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanonicalTag {
    /// The href as written (entities decoded, trimmed).
    pub href: String,
    /// It appears after the body started.
    pub in_body: bool,
    /// Attributes that can make it read as an alternate: hreflang, lang, media, type.
    pub extra_attributes: Vec<String>,
}

/// A robots directive from a meta element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Directive {
    /// The crawler it addresses: `robots`, `googlebot`, `bingbot`, …
    pub name: String,
    /// The content as written.
    pub value: String,
    /// It appears after the body started.
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
        assert_eq!(shared.titles, ["T"]);
        assert!(shared.images.is_empty() && !shared.structure.doctype);
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
