//! Who answered an error: the gateway, load balancer or CDN layers a
//! response passed through (outside in), which of them generated the error
//! page or whether it passed on the origin's own, and the cause the page
//! itself names when it names one. Signatures from ../shared/DIAGNOSIS.md §2
//! and §7 (nginx, Apache, HAProxy, Envoy, Cloudflare, CloudFront, AWS ALB,
//! Fastly/Varnish, Akamai, Google Cloud LB, Heroku).

use serde::Serialize;

/// A layer that can answer for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// Cloudflare's edge.
    Cloudflare,
    /// Amazon CloudFront.
    Cloudfront,
    /// Akamai's edge.
    Akamai,
    /// Fastly or another Varnish cache.
    FastlyVarnish,
    /// Google Cloud's external Application Load Balancer.
    GoogleLb,
    /// AWS Application Load Balancer.
    AwsAlb,
    /// Heroku's router.
    Heroku,
    /// Envoy (also Istio and other meshes).
    Envoy,
    /// HAProxy.
    Haproxy,
    /// Apache httpd (mod_proxy when it made the error).
    Apache,
    /// nginx.
    Nginx,
}

impl Layer {
    /// Its name for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cloudflare => "Cloudflare",
            Self::Cloudfront => "Amazon CloudFront",
            Self::Akamai => "Akamai",
            Self::FastlyVarnish => "Fastly/Varnish",
            Self::GoogleLb => "Google Cloud load balancer",
            Self::AwsAlb => "AWS Application Load Balancer",
            Self::Heroku => "Heroku router",
            Self::Envoy => "Envoy",
            Self::Haproxy => "HAProxy",
            Self::Apache => "Apache httpd",
            Self::Nginx => "nginx",
        }
    }
}

/// Who made the error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Generated {
    /// A gateway, load balancer or CDN made it: the origin never answered properly.
    Gateway,
    /// The origin application answered it; the layers in front passed it on.
    Origin,
    /// The response does not say.
    Unknown,
}

/// What the response tells about who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// Every layer recognised, outermost first.
    pub layers: Vec<Layer>,
    /// The layer that generated the error page, when one did.
    pub generated_by: Option<Layer>,
    /// Gateway-made, origin-made or unknown.
    pub generated: Generated,
    /// The cause category the page itself names (DIAGNOSIS.md §1 ids).
    pub cause: Option<&'static str>,
    /// Request ids for the provider's support (`cf-ray`, `x-amz-cf-id`, Akamai reference).
    pub request_ids: Vec<(String, String)>,
    /// What matched, for the report.
    pub evidence: Vec<String>,
}

fn header<'a, S: AsRef<str>>(headers: &'a [(S, S)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

fn has_prefix<S: AsRef<str>>(headers: &[(S, S)], prefix: &str) -> bool {
    headers
        .iter()
        .any(|(n, _)| n.as_ref().to_ascii_lowercase().starts_with(prefix))
}

/// Envoy local-reply bodies and the causes they name (DIAGNOSIS.md §6).
const ENVOY_BODIES: &[(&str, &str)] = &[
    ("reset reason: connection failure", "upstream_refused"),
    (
        "reset reason: connection termination",
        "upstream_closed_early",
    ),
    ("reset reason: overflow", "upstream_overloaded"),
    ("reset reason: remote reset", "upstream_reset"),
    ("no healthy upstream", "no_live_upstreams"),
    ("upstream request timeout", "upstream_timeout"),
    (
        "upstream connect error or disconnect/reset before headers",
        "upstream_closed_early",
    ),
];

/// HAProxy's built-in error pages (DIAGNOSIS.md §2.1).
const HAPROXY_BODIES: &[(&str, &str)] = &[
    (
        "No server is available to handle this request",
        "no_live_upstreams",
    ),
    ("The server didn't respond in time", "upstream_timeout"),
    (
        "The server returned an invalid or incomplete response",
        "invalid_upstream_response",
    ),
];

/// Recognises the layers of an error response from its headers (names in
/// any case) and the start of its body.
pub fn fingerprint<S: AsRef<str>>(status: u16, headers: &[(S, S)], body: &str) -> Fingerprint {
    let server = header(headers, "server").unwrap_or("").to_ascii_lowercase();
    let via = header(headers, "via").unwrap_or("").to_ascii_lowercase();
    let x_cache = header(headers, "x-cache")
        .unwrap_or("")
        .to_ascii_lowercase();
    let lower = body.to_ascii_lowercase();
    let mut fp = Fingerprint {
        layers: Vec::new(),
        generated_by: None,
        generated: Generated::Unknown,
        cause: None,
        request_ids: Vec::new(),
        evidence: Vec::new(),
    };
    let made = |fp: &mut Fingerprint, layer: Layer, why: String, cause: Option<&'static str>| {
        if fp.generated_by.is_none() {
            fp.generated_by = Some(layer);
            fp.generated = Generated::Gateway;
            fp.cause = cause;
            fp.evidence.push(why);
        }
    };

    // Outermost first: CDNs, then load balancers, then proxies.
    if server == "cloudflare" || header(headers, "cf-ray").is_some() {
        fp.layers.push(Layer::Cloudflare);
        if let Some(ray) = header(headers, "cf-ray") {
            fp.request_ids.push(("cf-ray".into(), ray.into()));
        }
        let cause = match status {
            520 => Some("invalid_upstream_response"),
            521 => Some("upstream_refused"),
            522 | 523 => Some("upstream_connect_timeout"),
            524 => Some("upstream_timeout"),
            525 | 526 => Some("upstream_tls_failure"),
            _ => None,
        };
        if let Some(t) = header(headers, "cf-error-type") {
            made(
                &mut fp,
                Layer::Cloudflare,
                format!("cf-error-type: {t}"),
                cause,
            );
        } else if cause.is_some() {
            made(
                &mut fp,
                Layer::Cloudflare,
                format!("Cloudflare status {status}"),
                cause,
            );
        } else if lower.contains("cloudflare") && status >= 500 {
            made(
                &mut fp,
                Layer::Cloudflare,
                "Cloudflare error page".into(),
                None,
            );
        }
    }
    if via.contains("cloudfront") || header(headers, "x-amz-cf-id").is_some() {
        fp.layers.push(Layer::Cloudfront);
        if let Some(id) = header(headers, "x-amz-cf-id") {
            fp.request_ids.push(("x-amz-cf-id".into(), id.into()));
        }
        if x_cache.contains("error from cloudfront")
            && (lower.contains("cloudfront") || body.is_empty())
        {
            made(
                &mut fp,
                Layer::Cloudfront,
                "x-cache: Error from cloudfront".into(),
                None,
            );
        }
    }
    if server.contains("akamaighost") {
        fp.layers.push(Layer::Akamai);
        if let Some(i) = body.find("Reference #") {
            let reference: String = body[i + 11..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            fp.request_ids.push(("akamai-reference".into(), reference));
            let cause = lower
                .contains("did not receive a timely response")
                .then_some("upstream_timeout");
            made(
                &mut fp,
                Layer::Akamai,
                "Akamai error page (Reference #)".into(),
                cause,
            );
        }
    }
    if via.contains("varnish")
        || header(headers, "x-served-by").is_some_and(|v| v.contains("cache-"))
    {
        fp.layers.push(Layer::FastlyVarnish);
        if lower.contains("guru meditation") || lower.contains("fastly error") {
            made(
                &mut fp,
                Layer::FastlyVarnish,
                "Varnish/Fastly error page".into(),
                None,
            );
        }
    }
    if via.contains("google") || server == "google frontend" {
        fp.layers.push(Layer::GoogleLb);
        if lower.contains("the server encountered a temporary error")
            || lower.contains("error 502 (server error)")
        {
            made(
                &mut fp,
                Layer::GoogleLb,
                "Google front end error page".into(),
                None,
            );
        }
    }
    if server.starts_with("awselb") {
        fp.layers.push(Layer::AwsAlb);
        let cause = match status {
            503 => Some("no_live_upstreams"),
            504 => Some("upstream_timeout"),
            _ => None,
        };
        // ALB-generated errors carry its Server header; a target's answer carries the target's.
        made(&mut fp, Layer::AwsAlb, format!("server: {server}"), cause);
    }
    if via.contains("heroku") || lower.contains("herokucdn.com/error-pages") {
        fp.layers.push(Layer::Heroku);
        if lower.contains("herokucdn.com/error-pages") || lower.contains("application error") {
            made(
                &mut fp,
                Layer::Heroku,
                "Heroku router error page".into(),
                None,
            );
        }
    }
    let envoy = server == "envoy" || has_prefix(headers, "x-envoy-");
    let envoy_body = ENVOY_BODIES.iter().find(|(b, _)| lower.contains(b));
    if envoy || envoy_body.is_some() {
        fp.layers.push(Layer::Envoy);
        if let Some((b, cause)) = envoy_body {
            made(
                &mut fp,
                Layer::Envoy,
                format!("Envoy local reply: {b}"),
                Some(cause),
            );
        } else if header(headers, "x-envoy-upstream-service-time").is_some() {
            fp.evidence
                .push("x-envoy-upstream-service-time: the upstream answered".into());
        }
    }
    let haproxy_body = HAPROXY_BODIES.iter().find(|(b, _)| body.contains(b));
    if server.contains("haproxy") || haproxy_body.is_some() {
        fp.layers.push(Layer::Haproxy);
        if let Some((b, cause)) = haproxy_body {
            made(
                &mut fp,
                Layer::Haproxy,
                format!("HAProxy error page: {b}"),
                Some(cause),
            );
        }
    }
    if server.starts_with("apache") {
        fp.layers.push(Layer::Apache);
        if lower.contains("the proxy server received an invalid response from an upstream server") {
            let cause = if lower.contains("error reading from remote server") {
                "upstream_timeout"
            } else {
                "invalid_upstream_response"
            };
            made(&mut fp, Layer::Apache, "Apache mod_proxy \"Proxy Error\" page".into(), Some(cause));
        } else if lower.contains("temporarily unable to service your request due to maintenance downtime or capacity problems") {
            made(&mut fp, Layer::Apache, "Apache mod_proxy 503 page".into(), Some("upstream_refused"));
        }
    }
    if server.starts_with("nginx") || lower.contains("<center>nginx") {
        fp.layers.push(Layer::Nginx);
        if lower.contains("<center>nginx") && status >= 500 {
            let cause = match status {
                504 => Some("upstream_timeout"),
                _ => None,
            };
            made(
                &mut fp,
                Layer::Nginx,
                "nginx's own error page".into(),
                cause,
            );
        }
    }
    if fp.generated_by.is_none()
        && status >= 500
        && !fp.layers.is_empty()
        && !body.trim().is_empty()
    {
        // A proxy was there and a page that is not its own came back: the origin
        // spoke. Without a body nothing tells them apart.
        fp.generated = Generated::Origin;
        fp.evidence.push(format!(
            "{} in front; the error page is not its own",
            fp.layers
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    fp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).into(), (*b).into()))
            .collect()
    }

    const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";

    #[test]
    fn nginx_own_page_vs_passed_on() {
        let f = fingerprint(502, &h(&[("Server", "nginx/1.22.1")]), NGINX_502);
        assert_eq!(f.layers, [Layer::Nginx]);
        assert_eq!(
            (f.generated, f.generated_by),
            (Generated::Gateway, Some(Layer::Nginx))
        );
        let f = fingerprint(
            504,
            &h(&[("Server", "nginx")]),
            "<hr><center>nginx</center>",
        );
        assert_eq!(f.cause, Some("upstream_timeout"));
        let f = fingerprint(
            502,
            &h(&[("Server", "nginx/1.22.1")]),
            "{\"error\":\"db down\"}",
        );
        assert_eq!(f.generated, Generated::Origin);
        let f = fingerprint(502, &h(&[("Server", "nginx/1.22.1")]), "");
        assert_eq!(f.generated, Generated::Unknown, "no body, no verdict");
    }

    #[test]
    fn apache_proxy_error() {
        let body = "<p>The proxy server received an invalid response from an upstream server.<br />\nThe proxy server could not handle the request<p>Reason: <strong>Error reading from remote server</strong></p>";
        let f = fingerprint(502, &h(&[("Server", "Apache/2.4.71 (Debian)")]), body);
        assert_eq!(f.generated_by, Some(Layer::Apache));
        assert_eq!(f.cause, Some("upstream_timeout"));
        let f = fingerprint(
            503,
            &h(&[("Server", "Apache/2.4.71 (Debian)")]),
            "<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>",
        );
        assert_eq!(f.cause, Some("upstream_refused"));
    }

    #[test]
    fn haproxy_and_envoy_pages() {
        let f = fingerprint(
            503,
            &h(&[("content-length", "107")]),
            "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>",
        );
        assert_eq!(
            (f.generated_by, f.cause),
            (Some(Layer::Haproxy), Some("no_live_upstreams"))
        );
        let f = fingerprint(
            503,
            &h(&[("server", "envoy")]),
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        );
        assert_eq!(
            (f.generated_by, f.cause),
            (Some(Layer::Envoy), Some("upstream_refused"))
        );
        let f = fingerprint(
            500,
            &h(&[("server", "envoy"), ("x-envoy-upstream-service-time", "12")]),
            "oops",
        );
        assert_eq!(f.generated, Generated::Origin);
    }

    #[test]
    fn cdns_in_front_of_a_proxy() {
        let f = fingerprint(
            521,
            &h(&[
                ("Server", "cloudflare"),
                ("CF-RAY", "8a1b2c3d4e5f-AMS"),
                ("cf-error-type", "52x"),
            ]),
            "",
        );
        assert_eq!(
            (f.generated_by, f.cause),
            (Some(Layer::Cloudflare), Some("upstream_refused"))
        );
        assert_eq!(
            f.request_ids,
            [("cf-ray".to_string(), "8a1b2c3d4e5f-AMS".to_string())]
        );
        // Cloudflare in front, nginx's own page behind it: nginx made the 502.
        let f = fingerprint(
            502,
            &h(&[("Server", "cloudflare"), ("CF-RAY", "x-AMS")]),
            NGINX_502,
        );
        assert_eq!(f.layers, [Layer::Cloudflare, Layer::Nginx]);
        assert_eq!(f.generated_by, Some(Layer::Nginx));
        let f = fingerprint(
            502,
            &h(&[
                ("Via", "1.1 abc.cloudfront.net (CloudFront)"),
                ("X-Cache", "Error from cloudfront"),
                ("X-Amz-Cf-Id", "id=="),
            ]),
            "<H1>502 ERROR</H1> Generated by cloudfront (CloudFront)",
        );
        assert_eq!(f.generated_by, Some(Layer::Cloudfront));
        let f = fingerprint(
            504,
            &h(&[("Server", "AkamaiGHost")]),
            "The proxy server did not receive a timely response from the upstream server.<P>Reference&#32;#97.1.2 Reference #18.6f2e1c17.1700000000.1a2b3c4",
        );
        assert_eq!(
            (f.generated_by, f.cause),
            (Some(Layer::Akamai), Some("upstream_timeout"))
        );
        let f = fingerprint(
            502,
            &h(&[("Server", "awselb/2.0")]),
            "<html><head><title>502 Bad Gateway</title></head></html>",
        );
        assert_eq!(f.generated_by, Some(Layer::AwsAlb));
        let f = fingerprint(
            503,
            &h(&[
                ("Via", "1.1 varnish"),
                ("X-Served-By", "cache-ams21030-AMS"),
            ]),
            "Guru Meditation: XID: 12345",
        );
        assert_eq!(f.generated_by, Some(Layer::FastlyVarnish));
        let f = fingerprint(
            502,
            &h(&[("Via", "1.1 google")]),
            "<title>Error 502 (Server Error)!!1</title>",
        );
        assert_eq!(f.generated_by, Some(Layer::GoogleLb));
        let f = fingerprint(
            503,
            &h(&[("Via", "1.1 vegur")]),
            "<iframe src=\"//www.herokucdn.com/error-pages/application-error.html\"></iframe>",
        );
        assert_eq!(f.generated_by, Some(Layer::Heroku));
    }

    #[test]
    fn nothing_known() {
        let f = fingerprint(500, &h(&[("Server", "gunicorn")]), "Internal Server Error");
        assert!(f.layers.is_empty());
        assert_eq!(f.generated, Generated::Unknown);
    }
}
