//! Access lines in a format given as an nginx `log_format` string
//! (`--log-format '$remote_addr - [$time_local] "$request" $status …'`).
//! The string is compiled once into literals and variables; a line is read by
//! taking each variable up to the literal that follows it.

use super::access::{self, AccessEntry, Origin, dash};

/// Why a `log_format` string cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// The format has no `$request` (or method and URI) and no `$status`.
    #[error("the log format needs $request (or $request_method and $request_uri) and $status")]
    MissingFields,
    /// Two variables follow each other with nothing between them.
    #[error("variables ${0} and ${1} touch: they need a separator between them")]
    Adjacent(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
}

/// A compiled `log_format`.
#[derive(Debug, Clone)]
pub struct LogFormat {
    parts: Vec<Part>,
}

impl LogFormat {
    /// Compiles a `log_format` string; `combined` is accepted as a name.
    pub fn parse(spec: &str) -> Result<Self, FormatError> {
        let spec = match spec.trim() {
            "combined" => {
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
            }
            s => s,
        };
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = spec.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '$' {
                lit.push(c);
                continue;
            }
            let braced = chars.peek() == Some(&'{');
            if braced {
                chars.next();
            }
            let mut name = String::new();
            while let Some(&n) = chars.peek() {
                if n.is_ascii_alphanumeric() || n == '_' {
                    name.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            if braced && chars.peek() == Some(&'}') {
                chars.next();
            }
            if name.is_empty() {
                lit.push('$');
                continue;
            }
            if !lit.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut lit)));
            }
            if let Some(Part::Var(prev)) = parts.last() {
                return Err(FormatError::Adjacent(prev.clone(), name));
            }
            parts.push(Part::Var(name));
        }
        if !lit.is_empty() {
            parts.push(Part::Literal(lit));
        }
        let has = |n: &str| parts.iter().any(|p| *p == Part::Var(n.into()));
        if !(has("request") || has("request_uri") || has("uri")) || !has("status") {
            return Err(FormatError::MissingFields);
        }
        Ok(LogFormat { parts })
    }

    /// Reads one line, or `None` when it does not have this shape.
    pub fn parse_line(&self, line: &str) -> Option<AccessEntry> {
        let mut e = AccessEntry {
            origin: Origin::Nginx,
            ..AccessEntry::default()
        };
        let (mut method, mut uri, mut protocol) = (None, None, None);
        let mut rest = line;
        let mut i = 0;
        while i < self.parts.len() {
            match &self.parts[i] {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Var(name) => {
                    let value = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => {
                            let end = rest.find(next.as_str())?;
                            let v = &rest[..end];
                            rest = &rest[end..];
                            v
                        }
                        _ => std::mem::take(&mut rest),
                    };
                    match name.as_str() {
                        "remote_addr" | "realip_remote_addr" => e.client = value.to_string(),
                        "http_x_forwarded_for" if e.client.is_empty() => {
                            e.client = value.split(',').next().unwrap_or("").trim().to_string()
                        }
                        "time_local" => e.time_ms = access::clf_time(value)? * 1000,
                        "time_iso8601" => e.time_ms = access::iso_time(value)? * 1000,
                        "msec" => e.time_ms = (value.parse::<f64>().ok()? * 1000.0) as i64,
                        "request" => e.request = value.to_string(),
                        "request_method" => method = Some(value),
                        "request_uri" | "uri" => uri = Some(value),
                        "server_protocol" => protocol = Some(value),
                        "status" => e.status = access::parse_status(value)?,
                        "body_bytes_sent" | "bytes_sent" => e.bytes = value.parse().ok(),
                        "http_referer" => e.referer = dash(value),
                        "http_user_agent" => e.user_agent = dash(value),
                        "request_time" => {
                            e.duration_ms = value.parse::<f64>().ok().map(|s| s * 1000.0)
                        }
                        "upstream_status" => e.upstream_status = dash(value),
                        "upstream_addr" => e.upstream_addr = dash(value),
                        "upstream_header_time" => e.upstream_header_time = Some(value.to_string()),
                        _ => {}
                    }
                }
            }
            i += 1;
        }
        if e.request.is_empty() {
            e.request = format!(
                "{} {} {}",
                method.unwrap_or("GET"),
                uri?,
                protocol.unwrap_or("HTTP/1.1")
            );
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingress_like_format() {
        let f = LogFormat::parse(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status"#,
        )
        .unwrap();
        let l = r#"10.0.0.7 - - [25/Nov/2026:01:30:28 +0000] "GET /a?b=1 HTTP/1.1" 504 160 "-" "Mozilla/5.0 (compatible; bingbot/2.0)" 421 60.002 [shop-web-80] 10.1.2.3:8080 0 60.001 504"#;
        let e = f.parse_line(l).unwrap();
        assert_eq!(
            (e.client.as_str(), e.target(), e.status),
            ("10.0.0.7", "/a?b=1", 504)
        );
        assert_eq!(e.duration_ms, Some(60_002.0));
        assert_eq!(e.upstream_addr.as_deref(), Some("10.1.2.3:8080"));
        assert_eq!(e.upstream_status.as_deref(), Some("504"));
        assert!(e.user_agent.unwrap().contains("bingbot"));
        assert!(f.parse_line("not a log line").is_none());
    }

    #[test]
    fn method_and_uri_and_errors() {
        let f = LogFormat::parse("$msec|$request_method|$request_uri|$status").unwrap();
        let e = f.parse_line("1795570228.123|POST|/api|502").unwrap();
        assert_eq!(
            (e.request.as_str(), e.time_ms),
            ("POST /api HTTP/1.1", 1_795_570_228_123)
        );
        assert_eq!(
            LogFormat::parse("$remote_addr $time_local").unwrap_err(),
            FormatError::MissingFields
        );
        assert!(matches!(
            LogFormat::parse("$request$status"),
            Err(FormatError::Adjacent(..))
        ));
        assert!(LogFormat::parse("combined").is_ok());
    }
}
