//! Error-log entries of nginx, Apache 2.4, php-fpm and HAProxy's stderr, in one
//! shape. nginx entries span several physical lines when FastCGI stderr is
//! quoted; a line that does not start an entry continues the previous one.

use super::access::{MONTHS, days_from_civil};
use super::lines::LogKind;

/// One error-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    /// Which log it came from.
    pub kind: LogKind,
    /// When (Unix ms, server time taken as UTC; 0 when the line has no time).
    pub time_ms: i64,
    /// `error`, `crit`, `warn`, `info`, … (Apache: the level after the module).
    pub level: String,
    /// What groups the lines of one request: nginx `*N`, Apache `pid:tid`, php-fpm child.
    pub key: Option<String>,
    /// The message (Apache: with its `(errno)text:` prefix; nginx: up to `, client:`).
    pub message: String,
    /// The client address (without port).
    pub client: Option<String>,
    /// The client's port (Apache), which tells apart two requests on one thread.
    pub client_port: Option<String>,
    /// The request line (nginx `request:`, php-fpm `(request: "GET /x")`).
    pub request: Option<String>,
    /// The URL path the line names (Apache `returned by /x`).
    pub path: Option<String>,
    /// The upstream (nginx `upstream:` context).
    pub upstream: Option<String>,
}

impl ErrorEntry {
    fn new(kind: LogKind, time_ms: i64, level: &str, message: &str) -> Self {
        ErrorEntry {
            kind,
            time_ms,
            level: level.to_string(),
            key: None,
            message: message.to_string(),
            client: None,
            client_port: None,
            request: None,
            path: None,
            upstream: None,
        }
    }
}

fn nginx_time(line: &str) -> Option<i64> {
    let b = line.as_bytes();
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| line.get(r)?.parse::<i64>().ok();
    Some(
        (days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?) * 86_400
            + n(11..13)? * 3600
            + n(14..16)? * 60
            + n(17..19)?)
            * 1000,
    )
}

/// `[Wed Nov 25 01:31:36.858979 2026]` at the start of an Apache line → Unix ms.
pub fn apache_time(line: &str) -> Option<i64> {
    let inner = line.strip_prefix('[')?.split(']').next()?;
    let mut p = inner.split_whitespace();
    let _weekday = p.next()?;
    let mon_name = p.next()?;
    let mon = MONTHS.iter().position(|m| *m == mon_name)? as i64 + 1;
    let day: i64 = p.next()?.parse().ok()?;
    let time = p.next()?;
    let year: i64 = p.next()?.parse().ok()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    let ms = frac.get(..3).unwrap_or(frac).parse::<i64>().ok()?;
    Some((days_from_civil(year, mon, day) * 86_400 + h * 3600 + m * 60 + s) * 1000 + ms)
}

/// `[25-Nov-2026 01:32:10]` at the start of a php-fpm line → Unix ms.
pub fn fpm_time(line: &str) -> Option<i64> {
    let inner = line.strip_prefix('[')?.split(']').next()?;
    let (date, time) = inner.split_once(' ')?;
    let mut d = date.split('-');
    let day: i64 = d.next()?.parse().ok()?;
    let mon_name = d.next()?;
    let mon = MONTHS.iter().position(|m| *m == mon_name)? as i64 + 1;
    let year: i64 = d.next()?.parse().ok()?;
    let mut t = time.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    Some((days_from_civil(year, mon, day) * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

/// The value of a `, key: "value"` or `, key: value` context field.
fn context<'a>(ctx: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!(", {key}: ");
    let start = ctx.find(&pat)? + pat.len();
    let rest = &ctx[start..];
    if let Some(q) = rest.strip_prefix('"') {
        q.find('"').map(|end| &q[..end])
    } else {
        Some(rest.split(',').next().unwrap_or(rest).trim())
    }
}

/// Parses one whole nginx entry (continuation lines already joined with `\n`).
pub fn parse_nginx(text: &str) -> Option<ErrorEntry> {
    let time = nginx_time(text)?;
    let rest = text.get(20..)?;
    let level = rest.strip_prefix('[')?.split(']').next()?;
    let rest = rest.split_once("] ")?.1;
    // `PID#TID: *N message`
    let rest = rest.split_once(": ").map_or(rest, |(_, r)| r);
    let (connection, message_and_ctx) = match rest.strip_prefix('*') {
        Some(r) => {
            let (n, m) = r.split_once(' ').unwrap_or((r, ""));
            (Some(n.to_string()), m)
        }
        None => (None, rest),
    };
    let cut = message_and_ctx
        .find(", client: ")
        .unwrap_or(message_and_ctx.len());
    let (message, ctx) = message_and_ctx.split_at(cut);
    let mut e = ErrorEntry::new(LogKind::NginxError, time, level, message);
    e.key = connection;
    e.client = context(ctx, "client").map(str::to_string);
    e.request = context(ctx, "request").map(str::to_string);
    e.upstream = context(ctx, "upstream").map(str::to_string);
    Some(e)
}

/// Parses one Apache 2.4 error line:
/// `[time] [module:level] [pid P:tid T] (errno)text: [client IP:port] AHnnnnn: message, referer: …`.
pub fn parse_apache(line: &str) -> Option<ErrorEntry> {
    let time = apache_time(line)?;
    let mut rest = &line[line.find("] ")? + 2..];
    let mut module_level = "";
    let mut key = None;
    let mut client = None;
    // Bracketed fields before the message: [module:level] [pid P:tid T] [client …] [remote …].
    let mut message = String::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else { break };
        let field = &inner[..end];
        if let Some(pid) = field.strip_prefix("pid ") {
            key = Some(pid.replace("tid ", ""));
        } else if let Some(c) = field.strip_prefix("client ") {
            client = Some(c.to_string());
        } else if field.starts_with("remote ") {
        } else if module_level.is_empty() {
            module_level = field;
        }
        rest = inner[end + 1..].trim_start();
    }
    // `(70007)The timeout specified has expired: [client IP:port] AH01102: …`
    let mut text = rest;
    if let Some(i) = text.find(": [client ") {
        let after = &text[i + 10..];
        if let Some(end) = after.find("] ") {
            client = Some(after[..end].to_string());
            message.push_str(&text[..i + 2]);
            text = &after[end + 2..];
        }
    }
    message.push_str(text);
    let message = match message.rfind(", referer: ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let level = module_level.rsplit(':').next().unwrap_or("");
    let mut e = ErrorEntry::new(LogKind::ApacheError, time, level, &message);
    e.key = key;
    if let Some(c) = client {
        match c.rsplit_once(':') {
            Some((ip, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
                e.client = Some(ip.to_string());
                e.client_port = Some(port.to_string());
            }
            _ => e.client = Some(c),
        }
    }
    e.path = message.find(" returned by /").map(|i| {
        let p = &message[i + 13..];
        p.split([' ', ',']).next().unwrap_or(p).to_string()
    });
    Some(e)
}

/// Parses one php-fpm master-log line:
/// `[25-Nov-2026 01:32:15] WARNING: [pool www] child 31450, script '…' (request: "GET /php/slow.php") …`.
pub fn parse_fpm(line: &str) -> Option<ErrorEntry> {
    let time = fpm_time(line)?;
    let rest = line[line.find("] ")? + 2..].trim_start();
    let (level, msg) = rest.split_once(": ").unwrap_or(("", rest));
    let msg = msg
        .strip_prefix("[pool ")
        .map_or(msg, |m| m.split_once("] ").map_or(m, |(_, r)| r));
    let mut e = ErrorEntry::new(LogKind::PhpFpm, time, &level.to_ascii_lowercase(), msg);
    e.key = msg
        .strip_prefix("child ")
        .and_then(|c| c.split([',', ' ']).next())
        .map(str::to_string);
    if let Some(i) = msg.find("(request: \"") {
        let r = &msg[i + 11..];
        e.request = r.split('"').next().map(str::to_string);
    }
    Some(e)
}

/// Parses one line of HAProxy's stderr (`[WARNING]  (2014) : message`); no time.
pub fn parse_haproxy_stderr(line: &str) -> Option<ErrorEntry> {
    let inner = line.strip_prefix('[')?;
    let (level, rest) = inner.split_once(']')?;
    let msg = rest.split_once(" : ").map_or(rest.trim(), |(_, m)| m);
    Some(ErrorEntry::new(
        LogKind::HaproxyStderr,
        0,
        &level.to_ascii_lowercase(),
        msg,
    ))
}

/// Whether `line` starts a new entry of a log of this kind.
pub fn starts_entry(kind: LogKind, line: &str) -> bool {
    match kind {
        LogKind::NginxError => nginx_time(line).is_some(),
        _ => true,
    }
}

/// Parses one whole entry of a log of this kind.
pub fn parse_entry(kind: LogKind, text: &str) -> Option<ErrorEntry> {
    match kind {
        LogKind::NginxError => parse_nginx(text),
        LogKind::ApacheError => parse_apache(text),
        LogKind::PhpFpm => parse_fpm(text),
        LogKind::HaproxyStderr => parse_haproxy_stderr(text),
        LogKind::Access | LogKind::Haproxy => None,
    }
}

/// Splits a whole log into entries (the streaming reader does this line by line).
#[cfg(test)]
fn parse_all(kind: LogKind, text: &str) -> Vec<ErrorEntry> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if starts_entry(kind, line) && !current.is_empty() {
            out.extend(parse_entry(kind, &current));
            current.clear();
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        out.extend(parse_entry(kind, &current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_entries_and_continuations() {
        let log = "2026/11/25 01:30:28 [error] 30705#30705: *9 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: fixtures.test, request: \"GET /refused/ HTTP/1.1\", upstream: \"http://127.0.0.1:21001/refused/\", host: \"fixtures.test\"\n2026/11/25 01:31:10 [error] 30705#30705: *165 FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error\nStack trace:\n  thrown in /srv/x.php on line 2\" while reading response header from upstream, client: 127.0.0.1, server: fixtures.test, request: \"GET /php/fatal.php HTTP/1.1\", host: \"fixtures.test\"\n";
        let e = parse_all(LogKind::NginxError, log);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].key.as_deref(), Some("9"));
        assert_eq!(e[0].time_ms, 1_795_570_228_000);
        assert_eq!(
            e[0].message,
            "connect() failed (111: Connection refused) while connecting to upstream"
        );
        assert_eq!(e[0].request.as_deref(), Some("GET /refused/ HTTP/1.1"));
        assert!(e[1].message.contains("Stack trace"));
        assert_eq!(e[1].request.as_deref(), Some("GET /php/fatal.php HTTP/1.1"));
    }

    #[test]
    fn apache_lines() {
        let l = "[Wed Nov 25 01:31:38.812243 2026] [proxy_http:error] [pid 31652:tid 31658] (70007)The timeout specified has expired: [client 127.0.0.1:58142] AH01102: error reading status line from remote server 127.0.0.1:21002, referer: http://fixtures.test/index.html";
        let e = parse_apache(l).unwrap();
        assert_eq!(e.time_ms % 1000, 812);
        assert_eq!(e.level, "error");
        assert_eq!(e.key.as_deref(), Some("31652:31658"));
        assert_eq!(
            (e.client.as_deref(), e.client_port.as_deref()),
            (Some("127.0.0.1"), Some("58142"))
        );
        assert_eq!(
            e.message,
            "(70007)The timeout specified has expired: AH01102: error reading status line from remote server 127.0.0.1:21002"
        );
        let p = parse_apache("[Wed Nov 25 01:31:38.812277 2026] [proxy:error] [pid 31652:tid 31658] [client 127.0.0.1:58142] AH00898: Error reading from remote server returned by /timeout/").unwrap();
        assert_eq!(p.path.as_deref(), Some("/timeout/"));
        assert_eq!(
            p.message,
            "AH00898: Error reading from remote server returned by /timeout/"
        );
        let b = parse_apache("[Wed Nov 25 01:31:44.864300 2026] [proxy_http:warn] [pid 31650:tid 31695] [client 127.0.0.1:35150] AH01106: bad HTTP/1.1 header returned by /badheader/ (GET)").unwrap();
        assert_eq!(
            (b.path.as_deref(), b.level.as_str()),
            (Some("/badheader/"), "warn")
        );
    }

    #[test]
    fn fpm_and_haproxy_stderr() {
        let f = parse_fpm("[25-Nov-2026 01:32:15] WARNING: [pool www] child 31450, script '/srv/site/www/slow.php' (request: \"GET /php/slow.php\") execution timed out (2.241239 sec), terminating").unwrap();
        assert_eq!(f.key.as_deref(), Some("31450"));
        assert_eq!(f.request.as_deref(), Some("GET /php/slow.php"));
        assert_eq!(f.level, "warning");
        let h = parse_haproxy_stderr(
            "[ALERT]    (2014) : backend 'be_nolive' has no server available!",
        )
        .unwrap();
        assert_eq!(
            (h.level.as_str(), h.message.as_str()),
            ("alert", "backend 'be_nolive' has no server available!")
        );
    }
}
