//! The numbers checks compare against. Defaults follow ../shared/checks.md; every one
//! can be changed in siteaudit.toml under `[thresholds]`.

use serde::{Deserialize, Serialize};

/// Check thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// `title-too-long`: characters.
    pub title_max_chars: usize,
    /// `title-too-short`: characters.
    pub title_min_chars: usize,
    /// `description-too-long`: characters.
    pub description_max_chars: usize,
    /// `description-too-short`: characters.
    pub description_min_chars: usize,
    /// `h1-too-long`: characters.
    pub h1_max_chars: usize,
    /// `url-too-long`: characters.
    pub url_max_chars: usize,
    /// `url-many-parameters`: query parameters.
    pub max_parameters: usize,
    /// `crawl-depth-high`: clicks from the start URL.
    pub max_click_depth: u32,
    /// `too-many-links`: `<a>` links on a page.
    pub max_links: usize,
    /// `many-external-links`: distinct external link targets on a page.
    pub max_external_links: usize,
    /// `image-file-large`: bytes on the wire.
    pub image_max_bytes: u64,
    /// `image-alt-too-long`: characters.
    pub alt_max_chars: usize,
    /// `resource-too-large`: decoded bytes of one script or stylesheet.
    pub resource_max_bytes: u64,
    /// `resources-total-heavy`: bytes of a page's scripts and stylesheets together.
    pub page_resources_max_bytes: u64,
    /// `resources-too-many`: scripts and stylesheets on one page.
    pub page_resources_max: usize,
    /// `resource-cache-short`: seconds.
    pub min_cache_seconds: u64,
    /// `hsts-max-age-short`: seconds.
    pub hsts_min_age: u64,
    /// `thin-content`: words of main text.
    pub thin_words: u32,
    /// `low-text-ratio`: visible text bytes over HTML bytes.
    pub text_ratio: f64,
    /// `duplicate-near`: SimHash Hamming distance (0–3; higher values are not indexed).
    pub near_distance: u32,
    /// `redirect-chain`: hops above which the chain is an error.
    pub redirect_chain_error_hops: usize,
    /// `redirect-to-homepage-bulk`: redirecting URLs.
    pub homepage_redirects: usize,
    /// `noindex-linked-heavily`: linking indexable pages.
    pub noindex_linking_pages: usize,
    /// `robots-txt-too-large`: bytes.
    pub robots_max_bytes: u64,
    /// `ttfb-slow`: milliseconds (an error above `ttfb_error_ms`).
    pub ttfb_slow_ms: f64,
    /// `ttfb-slow` as an error: milliseconds.
    pub ttfb_error_ms: f64,
    /// `page-weight-heavy`: bytes of HTML plus subresources.
    pub page_weight_max_bytes: u64,
    /// `html-size-over-2mb`: decoded HTML bytes.
    pub html_max_bytes: u64,
    /// `crawl-trap-suspected`: URLs sharing one numbered path template.
    pub trap_urls: usize,
    /// `parameter-explosion`: query variants of one path.
    pub parameter_variants: usize,
    /// `dom-too-large`: elements.
    pub max_elements: u32,
    /// `inline-script-heavy`: bytes of inline script.
    pub inline_script_max_bytes: u64,
    /// `word-count-dropped`: share of words lost since the previous crawl.
    pub word_drop: f64,
    /// `sitemap-urls-dropped`: share of sitemap URLs lost since the previous crawl.
    pub sitemap_drop: f64,
    /// `tls-cert-expiring-soon`: days before a certificate's `notAfter`.
    pub tls_expiry_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            title_max_chars: 60,
            title_min_chars: 30,
            description_max_chars: 155,
            description_min_chars: 70,
            h1_max_chars: 70,
            url_max_chars: 115,
            max_parameters: 3,
            max_click_depth: 3,
            max_links: 3000,
            max_external_links: 100,
            image_max_bytes: 100 * 1024,
            alt_max_chars: 100,
            resource_max_bytes: 500 * 1024,
            page_resources_max_bytes: 2 * 1024 * 1024,
            page_resources_max: 100,
            min_cache_seconds: 7 * 24 * 3600,
            hsts_min_age: 31_536_000,
            thin_words: 200,
            text_ratio: 0.10,
            near_distance: 3,
            redirect_chain_error_hops: 5,
            homepage_redirects: 10,
            noindex_linking_pages: 20,
            robots_max_bytes: 512_000,
            ttfb_slow_ms: 800.0,
            ttfb_error_ms: 5000.0,
            page_weight_max_bytes: 4 * 1024 * 1024,
            html_max_bytes: 2 * 1024 * 1024,
            trap_urls: 500,
            parameter_variants: 100,
            max_elements: 1500,
            inline_script_max_bytes: 100 * 1024,
            word_drop: 0.30,
            sitemap_drop: 0.10,
            tls_expiry_days: 30,
        }
    }
}
