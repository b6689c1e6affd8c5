//! nginx error-log entries. An entry starts with `YYYY/MM/DD HH:MM:SS [level]`;
//! lines that do not are continuations (FastCGI stderr spans several lines).

use super::access::days_from_civil;

/// One error-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    /// When (Unix seconds, server time taken as UTC).
    pub time: i64,
    /// `error`, `crit`, `warn`, `info`, …
    pub level: String,
    /// nginx's connection number (`*N`), which groups the lines of one request.
    pub connection: Option<u64>,
    /// The message, up to the `, client:` context.
    pub message: String,
    /// `client:` context.
    pub client: Option<String>,
    /// `request:` context (`GET /x HTTP/1.1`).
    pub request: Option<String>,
    /// `upstream:` context.
    pub upstream: Option<String>,
    /// `host:` context.
    pub host: Option<String>,
}

fn entry_time(line: &str) -> Option<i64> {
    let b = line.as_bytes();
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| line.get(r)?.parse::<i64>().ok();
    Some(
        days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?) * 86_400
            + n(11..13)? * 3600
            + n(14..16)? * 60
            + n(17..19)?,
    )
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

/// Parses one whole entry (continuation lines already joined with `\n`).
pub fn parse_entry(text: &str) -> Option<ErrorEntry> {
    let time = entry_time(text)?;
    let rest = text.get(20..)?;
    let level = rest.strip_prefix('[')?.split(']').next()?.to_string();
    let rest = rest.split_once("] ")?.1;
    // `PID#TID: *N message`
    let rest = rest.split_once(": ").map_or(rest, |(_, r)| r);
    let (connection, message_and_ctx) = match rest.strip_prefix('*') {
        Some(r) => {
            let (n, m) = r.split_once(' ').unwrap_or((r, ""));
            (n.parse().ok(), m)
        }
        None => (None, rest),
    };
    let cut = message_and_ctx
        .find(", client: ")
        .unwrap_or(message_and_ctx.len());
    let (message, ctx) = message_and_ctx.split_at(cut);
    Some(ErrorEntry {
        time,
        level,
        connection,
        message: message.to_string(),
        client: context(ctx, "client").map(str::to_string),
        request: context(ctx, "request").map(str::to_string),
        upstream: context(ctx, "upstream").map(str::to_string),
        host: context(ctx, "host").map(str::to_string),
    })
}

/// Splits a log into entries, joining continuation lines.
pub fn parse_all(text: &str) -> Vec<ErrorEntry> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if entry_time(line).is_some() && !current.is_empty() {
            out.extend(parse_entry(&current));
            current.clear();
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        out.extend(parse_entry(&current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_continuations() {
        let log = "2026/11/25 01:30:28 [error] 30705#30705: *9 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: fixtures.test, request: \"GET /refused/ HTTP/1.1\", upstream: \"http://127.0.0.1:21001/refused/\", host: \"fixtures.test\"\n2026/11/25 01:31:10 [error] 30705#30705: *165 FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error\nStack trace:\n  thrown in /srv/x.php on line 2\" while reading response header from upstream, client: 127.0.0.1, server: fixtures.test, request: \"GET /php/fatal.php HTTP/1.1\", host: \"fixtures.test\"\n";
        let e = parse_all(log);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].connection, Some(9));
        assert_eq!(e[0].time, 1_795_570_228);
        assert_eq!(
            e[0].message,
            "connect() failed (111: Connection refused) while connecting to upstream"
        );
        assert_eq!(e[0].request.as_deref(), Some("GET /refused/ HTTP/1.1"));
        assert!(e[1].message.contains("Stack trace"));
        assert_eq!(e[1].request.as_deref(), Some("GET /php/fatal.php HTTP/1.1"));
    }
}
