//! robots.txt: where it lives, and what it allows (texting_robots does the matching).

use std::time::Duration;

use texting_robots::Robot;
use url::Url;

/// The most of a robots.txt that is read (Google reads 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// The rules of one host.
#[derive(Debug)]
pub struct Robots {
    robot: Option<Robot>,
    /// Why the host has no rules, when it has none (status or failure), for the report.
    pub note: Option<String>,
}

/// What robots.txt rules match for `url`: its path and query, which the rules' reader
/// takes as they are, where a whole URL it parses again (~6,000 instructions for every
/// URL crawled). The whole URL where the query holds a backtick: the URL library leaves
/// it as it is in a query and the reader would encode it.
fn rule_target(url: &Url) -> &str {
    let tail = &url[url::Position::BeforePath..];
    match tail.contains('`') {
        true => url.as_str(),
        false => tail,
    }
}

impl Robots {
    /// Rules parsed from a robots.txt body, matched for the product token of `user_agent`.
    pub fn parse(user_agent: &str, body: &[u8]) -> Self {
        let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
        match Robot::new(&agent_token(user_agent), body) {
            Ok(robot) => Self {
                robot: Some(robot),
                note: None,
            },
            Err(e) => Self {
                robot: None,
                note: Some(format!("robots.txt could not be parsed: {e}")),
            },
        }
    }

    /// No rules: everything is allowed (robots.txt missing, or unreachable).
    pub fn allow_all(note: Option<String>) -> Self {
        Self { robot: None, note }
    }

    /// Whether `url` may be fetched.
    pub fn allowed(&self, url: &Url) -> bool {
        self.robot
            .as_ref()
            .is_none_or(|r| r.allowed(rule_target(url)))
    }

    /// The `Crawl-delay` for our agent, if any.
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.robot
            .as_ref()
            .and_then(|r| r.delay)
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| Duration::from_secs_f32(d.min(3600.0)))
    }

    /// The `Sitemap:` URLs listed.
    pub fn sitemaps(&self) -> &[String] {
        self.robot.as_ref().map_or(&[], |r| r.sitemaps.as_slice())
    }
}

/// `scheme://host[:port]/robots.txt` for the host of `url`.
pub fn robots_url(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_path("/robots.txt");
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u
}

/// The product token robots.txt groups are matched against: "siteaudit" for
/// "siteaudit/0.1 (+https://...)".
fn agent_token(user_agent: &str) -> String {
    user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or(user_agent)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_delay_and_sitemaps() {
        let body = b"User-agent: *\nDisallow: /private\nCrawl-delay: 2\n\
                     User-agent: siteaudit\nDisallow: /no-audit\nAllow: /no-audit/ok\n\
                     Sitemap: http://example.com/sm.xml\n";
        let r = Robots::parse("siteaudit/0.1 (+x)", body);
        let u = |p: &str| Url::parse(&format!("http://example.com{p}")).unwrap();
        assert!(!r.allowed(&u("/no-audit/x")));
        assert!(r.allowed(&u("/no-audit/ok")));
        // Our own group replaces the * group.
        assert!(r.allowed(&u("/private")));
        assert_eq!(r.sitemaps(), ["http://example.com/sm.xml"]);
        let other = Robots::parse("otherbot", body);
        assert!(!other.allowed(&u("/private")));
        assert_eq!(other.crawl_delay(), Some(Duration::from_secs(2)));
        assert!(Robots::allow_all(None).allowed(&u("/anything")));
        assert_eq!(
            robots_url(&Url::parse("https://a.b:8443/x/y?q#f").unwrap()).as_str(),
            "https://a.b:8443/robots.txt"
        );
    }

    /// Rules are matched against the URL's path and query as they would be against the
    /// whole URL: encoded, non-ASCII, queries, fragments, wildcards and anchors.
    #[test]
    fn rules_match_the_path_as_they_match_the_whole_url() {
        let body = "User-agent: *\nDisallow: /a%20b\nDisallow: /caf\u{e9}\nDisallow: /*?q=`\n\
                    Disallow: /*.pdf$\nAllow: /x?y\nDisallow: /x\nDisallow: /robots.txt\n\
                    Disallow: /*\"\n";
        let r = Robots::parse("siteaudit", body.as_bytes());
        let robot = r.robot.as_ref().unwrap();
        let urls = [
            "http://e.com/a b",
            "http://e.com/a%20b/c",
            "http://e.com/café",
            "http://e.com/caf%C3%A9",
            "http://e.com/p?q=`1",
            "http://e.com/p?q=%601",
            "http://e.com/doc.pdf",
            "http://e.com/doc.pdf?v=1",
            "http://e.com/x?y=1",
            "http://e.com/x/z",
            "http://e.com/x#frag",
            "http://e.com/robots.txt",
            "http://e.com/q\"uote",
            "http://e.com/",
            "http://e.com",
        ];
        let mut blocked = 0;
        for raw in urls {
            let u = Url::parse(raw).unwrap();
            assert_eq!(r.allowed(&u), robot.allowed(u.as_str()), "{raw}");
            blocked += usize::from(!r.allowed(&u));
        }
        assert!(blocked >= 6, "the rules match some of these: {blocked}");
    }
}
