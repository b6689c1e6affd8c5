//! Access-log lines: nginx/Apache `combined` (with any `key=value` fields nginx
//! configs append, such as the upstream timings) and nginx JSON lines.
//! Hand-written: the formats are fixed and simple, and a per-line parser that
//! borrows from the line is what keeps multi-GB logs fast (#6's throughput target).

use serde_json::Value;

/// Which server wrote an access line, as far as its format tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Plain `combined`: nginx or Apache.
    #[default]
    Unknown,
    /// nginx (upstream fields, JSON, `--log-format`): the time is when the request ended.
    Nginx,
    /// Apache (`%D` after `combined`): the time is when the request arrived.
    Apache,
    /// HAProxy httplog: the time is when the connection was accepted.
    Haproxy,
}

/// One request as an access log recorded it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessEntry {
    /// When (Unix milliseconds, as precise as logged).
    pub time_ms: i64,
    /// The client address (without port).
    pub client: String,
    /// `GET /path?q HTTP/1.1` as logged.
    pub request: String,
    /// The status (`9` for nginx's `009` HTTP/0.9 pass-through; 0 when none was logged).
    pub status: u16,
    /// Bytes sent.
    pub bytes: Option<u64>,
    /// The Referer header.
    pub referer: Option<String>,
    /// The User-Agent header.
    pub user_agent: Option<String>,
    /// `$upstream_status` (may list several: `502, 200`).
    pub upstream_status: Option<String>,
    /// `$upstream_header_time` (`-` when no response header arrived).
    pub upstream_header_time: Option<String>,
    /// The upstream that answered: `$upstream_addr`, Apache's balancer worker,
    /// HAProxy's `backend/server`.
    pub upstream_addr: Option<String>,
    /// How long the request took, ms (`$request_time`, `%D`, HAProxy `Ta`).
    pub duration_ms: Option<f64>,
    /// HAProxy termination state (`SC--`).
    pub termination: Option<String>,
    /// HAProxy retries field (`+1` marks a redispatch).
    pub retries: Option<String>,
    /// HAProxy `bc_err_str` when the log-format records it.
    pub backend_error: Option<String>,
    /// Which server's format the line is in.
    pub origin: Origin,
}

impl AccessEntry {
    /// The request target (path and query) of the request line.
    pub fn target(&self) -> &str {
        let r = self.request.as_bytes();
        let Some(a) = memchr::memchr(b' ', r) else {
            return "";
        };
        let rest = &self.request[a + 1..];
        match memchr::memchr(b' ', rest.as_bytes()) {
            Some(b) => &rest[..b],
            None => rest,
        }
    }

    /// The status as logged (`009`, `502`, `-`).
    pub fn status_text(&self) -> String {
        if self.status == 0 {
            "-".into()
        } else {
            format!("{:03}", self.status)
        }
    }

    /// Time in whole seconds.
    pub fn time(&self) -> i64 {
        self.time_ms.div_euclid(1000)
    }
}

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `25/Nov/2026:01:30:27 +0000` → Unix seconds. Fixed offsets: this runs once
/// per access line.
pub(crate) fn clf_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let month = MONTHS.iter().position(|m| m.as_bytes() == &b[3..6])? as i64 + 1;
    let zone = match s.get(21..) {
        Some(z) if !z.is_empty() => zone_offset(z)?,
        _ => 0,
    };
    Some(
        days_from_civil(num(7..11)?, month, num(0..2)?) * 86_400
            + num(12..14)? * 3600
            + num(15..17)? * 60
            + num(18..20)?
            - zone,
    )
}

/// `+0100` → 3600.
pub(crate) fn zone_offset(z: &str) -> Option<i64> {
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits = z.trim_start_matches(['+', '-']);
    if digits.len() != 4 {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// `2026-11-25T01:30:27+00:00` → Unix seconds.
pub(crate) fn iso_time(s: &str) -> Option<i64> {
    let date = s.get(..10)?;
    let time = s.get(11..19)?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let mut t = time.split(':');
    let (h, mi, se): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    let zone = s.get(19..).unwrap_or("Z").replace(':', "");
    let off = if zone == "Z" || zone.is_empty() {
        0
    } else {
        zone_offset(&zone)?
    };
    Some(days_from_civil(y, m, day) * 86_400 + h * 3600 + mi * 60 + se - off)
}

/// Reads a quoted field starting at `s` (which begins with `"`); returns it and the rest.
pub(crate) fn quoted(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut i = 0;
    while let Some(at) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
        let j = i + at;
        if bytes[j] == b'"' {
            return Some((&body[..j], &body[j + 1..]));
        }
        i = j + 2;
        if i >= bytes.len() {
            break;
        }
    }
    None
}

pub(crate) fn dash(s: &str) -> Option<String> {
    (s != "-" && !s.is_empty()).then(|| s.to_string())
}

fn skip_spaces(s: &str) -> &str {
    let n = s.bytes().take_while(|b| *b == b' ').count();
    &s[n..]
}

/// `"a b"` → (`a`, `b`); without a space, (`s`, ``).
fn split_space(s: &str) -> (&str, &str) {
    match memchr::memchr(b' ', s.as_bytes()) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// Parses one `combined` line (plus trailing `key=value` / `key="value"` fields).
pub fn parse_combined(line: &str) -> Option<AccessEntry> {
    let sp = memchr::memchr(b' ', line.as_bytes())?;
    let (client, rest) = (&line[..sp], &line[sp + 1..]);
    if client.is_empty() {
        return None;
    }
    let open = memchr::memchr(b'[', rest.as_bytes())?;
    let close = memchr::memchr(b']', &rest.as_bytes()[open..])? + open;
    let time = clf_time(&rest[open + 1..close])?;
    let rest = skip_spaces(&rest[close + 1..]);
    let (request, rest) = quoted(rest)?;
    let (status, rest) = split_space(skip_spaces(rest));
    let status = parse_status(status)?;
    let (bytes, rest) = split_space(rest);
    let bytes = bytes.parse().ok();
    let rest = skip_spaces(rest);
    let (referer, rest) = quoted(rest).unwrap_or(("-", rest));
    let (ua, mut rest) = quoted(skip_spaces(rest)).unwrap_or(("-", rest));
    let mut e = AccessEntry {
        time_ms: time * 1000,
        client: client.to_string(),
        request: request.to_string(),
        status,
        bytes,
        referer: dash(referer),
        user_agent: dash(ua),
        ..AccessEntry::default()
    };
    // Apache's `combined` + `%D "%{BALANCER_WORKER_NAME}e"`: microseconds, then a quoted note.
    let trimmed = skip_spaces(rest);
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && (trimmed.len() == digits || trimmed.as_bytes()[digits] == b' ') {
        e.duration_ms = trimmed[..digits].parse::<f64>().ok().map(|us| us / 1000.0);
        e.origin = Origin::Apache;
        rest = skip_spaces(&trimmed[digits..]);
        if let Some((worker, next)) = quoted(rest) {
            e.upstream_addr = dash(worker);
            rest = next;
        }
    }
    // Trailing key=value fields (nginx configs add upstream variables this way).
    loop {
        rest = skip_spaces(rest);
        let Some(eq) = memchr::memchr(b'=', rest.as_bytes()) else {
            break;
        };
        let key = &rest[..eq];
        if memchr::memchr(b' ', key.as_bytes()).is_some() {
            break;
        }
        e.origin = Origin::Nginx;
        let after = &rest[eq + 1..];
        let (value, next) = match quoted(after) {
            Some((v, n)) => (v, n),
            None => split_space(after),
        };
        match key {
            "rt" | "request_time" => e.duration_ms = value.parse::<f64>().ok().map(|s| s * 1000.0),
            "us" | "upstream_status" => e.upstream_status = dash(value),
            "uht" | "upstream_header_time" => e.upstream_header_time = Some(value.to_string()),
            "ua" | "upstream_addr" => e.upstream_addr = dash(value),
            _ => {}
        }
        rest = next;
    }
    Some(e)
}

/// Parses one nginx JSON log line (`log_format … escape=json`).
pub fn parse_json(line: &str) -> Option<AccessEntry> {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        // nginx writes `"status":009` for HTTP/0.9 answers: not valid JSON (leading
        // zero). Quote that one number and try again.
        Err(_) => serde_json::from_str(&quote_status(line)?).ok()?,
    };
    let text = |k: &str| match v.get(k)? {
        Value::String(s) => dash(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let status = match v.get("status")? {
        Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
        Value::String(s) => parse_status(s)?,
        _ => return None,
    };
    Some(AccessEntry {
        time_ms: text("time").and_then(|t| iso_time(&t))? * 1000,
        client: text("remote_addr").unwrap_or_default(),
        request: text("request")?,
        status,
        bytes: v.get("body_bytes_sent").and_then(Value::as_u64),
        referer: text("http_referer"),
        user_agent: text("http_user_agent"),
        upstream_status: text("upstream_status"),
        upstream_header_time: v
            .get("upstream_header_time")
            .and_then(Value::as_str)
            .map(str::to_string),
        upstream_addr: text("upstream_addr"),
        duration_ms: v
            .get("request_time")
            .and_then(|t| t.as_f64().or_else(|| t.as_str()?.parse().ok()))
            .map(|s| s * 1000.0),
        origin: Origin::Nginx,
        ..AccessEntry::default()
    })
}

/// `200` → 200, `009` → 9, `-` → 0; anything else is not a status.
pub(crate) fn parse_status(s: &str) -> Option<u16> {
    if s == "-" {
        return Some(0);
    }
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn quote_status(line: &str) -> Option<String> {
    let key = "\"status\":";
    let at = line.find(key)? + key.len();
    let digits = line[at..].bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| {
        format!(
            "{}\"{}\"{}",
            &line[..at],
            &line[at..at + digits],
            &line[at + digits..]
        )
    })
}

/// Parses a line in whichever format it is in.
pub fn parse_line(line: &str) -> Option<AccessEntry> {
    if line.trim_start().starts_with('{') {
        parse_json(line)
    } else {
        parse_combined(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_with_upstream_fields() {
        let l = r#"127.0.0.1 - - [25/Nov/2026:01:30:28 +0000] "GET /refused/ HTTP/1.1" 502 157 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" rt=0.000 uct="-" uht="-" urt="0.000" us="502, 502" ua="127.0.0.1:21001""#;
        let e = parse_combined(l).unwrap();
        assert_eq!(e.time(), 1_795_570_228);
        assert_eq!(
            (e.target(), e.status, e.bytes),
            ("/refused/", 502, Some(157))
        );
        assert_eq!(e.origin, Origin::Nginx);
        assert_eq!(e.upstream_status.as_deref(), Some("502, 502"));
        assert_eq!(e.upstream_header_time.as_deref(), Some("-"));
        assert!(e.user_agent.unwrap().contains("Googlebot"));
        assert!(parse_combined("garbage").is_none());
    }

    #[test]
    fn apache_timing() {
        let l = r#"127.0.0.1 - - [25/Nov/2026:01:32:07 +0000] "GET /retry/?page=1 HTTP/1.1" 200 169 "-" "curl" 1160 "balancer://retry/http://127.0.0.1:21016""#;
        let e = parse_combined(l).unwrap();
        assert_eq!(e.origin, Origin::Apache);
        assert_eq!(e.duration_ms, Some(1.16));
        assert_eq!(
            e.upstream_addr.as_deref(),
            Some("balancer://retry/http://127.0.0.1:21016")
        );
        assert_eq!(parse_status("-"), Some(0));
        assert_eq!(parse_status("2000"), None);
    }

    #[test]
    fn json_lines() {
        let l = r#"{"time":"2026-11-25T01:30:28+00:00","remote_addr":"127.0.0.1","request":"GET /garbage/ HTTP/1.1","status":009,"body_bytes_sent":23,"request_time":0.001,"upstream_status":"200","upstream_header_time":"0.001"}"#;
        let e = parse_json(l).unwrap();
        assert_eq!((e.status_text().as_str(), e.time()), ("009", 1_795_570_228));
    }
}
