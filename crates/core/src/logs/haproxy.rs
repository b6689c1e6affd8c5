//! HAProxy `option httplog` lines (and custom log-formats built on it), raw or
//! wrapped in RFC 3164 syslog framing, and the event messages sharing the file.
//! Hand-written: the format is positional and no crate parses it.

use super::access::{AccessEntry, MONTHS, Origin, dash, days_from_civil, parse_status, quoted};

/// Drops RFC 3164 framing (`<134>Nov 25 01:33:08 [host ]haproxy[2014]: `), if any.
pub fn strip_syslog(line: &str) -> &str {
    let Some(rest) = line.strip_prefix('<') else {
        return line;
    };
    let Some(close) = rest.find('>') else {
        return line;
    };
    if close == 0 || close > 3 || !rest[..close].bytes().all(|b| b.is_ascii_digit()) {
        return line;
    }
    let rest = &rest[close + 1..];
    // `Mmm dd hh:mm:ss ` is 16 bytes; then the tag up to `: `.
    match rest
        .get(16..)
        .and_then(|r| r.find(": ").map(|i| &r[i + 2..]))
    {
        Some(msg) => msg,
        None => line,
    }
}

/// The month, day and time of a syslog frame (its year is not written).
fn syslog_time(line: &str, year: i64) -> Option<i64> {
    let rest = line.strip_prefix('<')?;
    let rest = &rest[rest.find('>')? + 1..];
    let mon = MONTHS.iter().position(|m| rest.starts_with(m))? as i64 + 1;
    let day: i64 = rest.get(4..6)?.trim().parse().ok()?;
    let hms = rest.get(7..15)?;
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    Some((days_from_civil(year, mon, day) * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

/// Whether the message is one of HAProxy's server-state events.
pub fn is_event(line: &str) -> bool {
    let m = strip_syslog(line);
    m.starts_with("Health check for ")
        || (m.starts_with("Server ") && (m.contains(" is DOWN") || m.contains(" is UP")))
        || (m.starts_with("backend ") && m.contains("has no server available"))
}

/// A server-state event, with its time when the framing gives one.
pub fn event(line: &str, year: i64) -> Option<(Option<i64>, String)> {
    is_event(line).then(|| (syslog_time(line, year), strip_syslog(line).to_string()))
}

/// `25/Nov/2026:01:35:10.986` → Unix ms (HAProxy logs local time; taken as UTC).
fn accept_time(s: &str) -> Option<i64> {
    let (secs, ms) = s.split_once('.').unwrap_or((s, "0"));
    let t = super::access::clf_time(secs)?;
    Some(t * 1000 + ms.parse::<i64>().ok()?)
}

/// Parses one request line (its accept date carries the year).
pub fn parse_line(line: &str) -> Option<AccessEntry> {
    let m = strip_syslog(line);
    let (client, rest) = m.split_once(' ')?;
    let (ip, port) = client.rsplit_once(':')?;
    if ip.is_empty() || port.parse::<u16>().is_err() {
        return None;
    }
    let rest = rest.strip_prefix('[')?;
    let (date, rest) = rest.split_once("] ")?;
    let time_ms = accept_time(date)?;
    let mut tokens = rest.split(' ');
    let _frontend = tokens.next()?;
    let backend_server = tokens.next()?;
    let timers = tokens.next()?;
    if !backend_server.contains('/') || timers.split('/').count() != 5 {
        return None;
    }
    let status = parse_status(tokens.next()?.trim_start_matches('-')).unwrap_or(0);
    let bytes = tokens.next()?.trim_start_matches('+').parse().ok();
    let mut termination = None;
    for t in tokens.by_ref() {
        if t.len() == 4 && t.bytes().all(|b| b == b'-' || b.is_ascii_alphabetic()) {
            termination = Some(t.to_string());
            break;
        }
    }
    let conns = tokens.next()?;
    let retries = conns.rsplit('/').next().map(str::to_string);
    let ta = timers.rsplit('/').next()?.trim_start_matches('+');
    let rest = &m[m.find(" \"")? + 1..];
    // Captured headers `{...}` come before the request; take one that looks like a UA.
    let captures = &m[..m.find(" \"")?];
    let user_agent = captures
        .split(['{', '}', '|'])
        .find(|c| c.contains("Mozilla") || c.contains("bot") || c.contains("curl/"))
        .map(str::to_string);
    let (request, after) = quoted(rest)?;
    let backend_error = after
        .find("bc_err=")
        .and_then(|i| quoted(&after[i + 7..]))
        .map(|(v, _)| v.to_string());
    Some(AccessEntry {
        time_ms,
        client: ip.trim_matches(['[', ']']).to_string(),
        request: request.to_string(),
        status,
        bytes,
        user_agent,
        upstream_addr: dash(backend_server),
        duration_ms: ta.parse::<f64>().ok().filter(|t| *t >= 0.0),
        termination,
        retries,
        backend_error,
        origin: Origin::Haproxy,
        ..AccessEntry::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn httplog_raw_syslog_and_custom() {
        let raw = r#"127.0.0.1:34004 [25/Nov/2026:01:33:53.890] fe be_retry/s2 0/0/0/4/4 200 92 - - ---- 1/1/0/0/+1 0/0 "GET /retry/?page=1 HTTP/1.1""#;
        let e = parse_line(raw).unwrap();
        assert_eq!(e.target(), "/retry/?page=1");
        assert_eq!(e.termination.as_deref(), Some("----"));
        assert_eq!(e.retries.as_deref(), Some("+1"));
        assert_eq!(e.upstream_addr.as_deref(), Some("be_retry/s2"));
        assert_eq!(e.time_ms % 1000, 890);
        let framed = format!("<134>Nov 25 01:33:53 haproxy[2014]: {raw}");
        assert_eq!(parse_line(&framed), Some(e));
        let detail = r#"127.0.0.1:39972 [25/Nov/2026:01:35:11.310] fe_detail be_refused/app 0/0/-1/-1/3003 503 217 SC-- 1/1/0/0/3 0/0 "GET /refused/ HTTP/1.1" bc_err="SSL handshake failure" fc_err="Success""#;
        let d = parse_line(detail).unwrap();
        assert_eq!(d.termination.as_deref(), Some("SC--"));
        assert_eq!(d.backend_error.as_deref(), Some("SSL handshake failure"));
        assert_eq!(d.duration_ms, Some(3003.0));
        let ev = "<129>Nov 25 01:33:04 haproxy[2014]: Server be_nolive/s2 is DOWN. 0 active and 0 backup servers left.";
        let (t, msg) = event(ev, 2026).unwrap();
        assert!(t.is_some() && msg.starts_with("Server be_nolive/s2 is DOWN"));
        assert!(parse_line(ev).is_none());
        assert!(
            parse_line("127.0.0.1 - - [25/Nov/2026:01:33:53 +0000] \"GET / HTTP/1.1\" 200 1")
                .is_none()
        );
    }
}
