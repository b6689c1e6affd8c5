//! The server's own logs (issue #6, first part: nginx): access entries joined
//! to their error-log lines and classified into the cause categories of
//! ../shared/DIAGNOSIS.md.

pub mod access;
pub mod error_log;
mod report;

pub use report::{LogError, LogProblem, LogReport, analyze};

use access::AccessEntry;
use error_log::ErrorEntry;

/// An access entry with its error-log lines and the cause they point to.
#[derive(Debug, Clone)]
pub struct Classified {
    /// The request.
    pub access: AccessEntry,
    /// The error-log entries of the same request.
    pub errors: Vec<ErrorEntry>,
    /// DIAGNOSIS.md §1 id, or `ok`.
    pub cause: &'static str,
}

/// nginx error messages and the cause each names, first match wins. Order
/// matters: a TLS handshake that timed out is a TLS failure, not a timeout.
const NGINX_RULES: &[(&[&str], &str)] = &[
    (&["limiting requests"], "rate_limited"),
    (&["could not be resolved"], "dns_failure"),
    (&["no live upstreams"], "no_live_upstreams"),
    (&["while SSL handshaking"], "upstream_tls_failure"),
    (&["SSL_do_handshake()"], "upstream_tls_failure"),
    (
        &["(2: No such file or directory) while connecting"],
        "upstream_socket_missing",
    ),
    (
        &["(13: Permission denied) while connecting"],
        "upstream_socket_permission",
    ),
    (
        &["(11: Resource temporarily unavailable) while connecting"],
        "upstream_overloaded",
    ),
    (
        &["upstream timed out", "while connecting to upstream"],
        "upstream_connect_timeout",
    ),
    (
        &["upstream timed out", "while reading response header"],
        "upstream_timeout",
    ),
    (
        &["upstream timed out", "while reading upstream"],
        "upstream_body_timeout",
    ),
    (
        &["prematurely closed", "while reading response header"],
        "upstream_closed_early",
    ),
    (
        &["prematurely closed", "while reading upstream"],
        "upstream_truncated_body",
    ),
    (
        &["(104: Connection reset by peer)", "while reading upstream"],
        "upstream_truncated_body",
    ),
    (
        &[
            "(104: Connection reset by peer)",
            "while reading response header",
        ],
        "upstream_reset",
    ),
    (&["too big header"], "header_too_large"),
    (&["sent no valid HTTP"], "invalid_upstream_response"),
    (&["sent invalid header"], "invalid_upstream_response"),
    (&["Primary script unknown"], "app_not_found"),
    (&["(111: Connection refused)"], "upstream_refused"),
    (&["FastCGI sent in stderr"], "app_error"),
];

fn rule_for(message: &str) -> Option<&'static str> {
    NGINX_RULES
        .iter()
        .find(|(needles, _)| needles.iter().all(|n| message.contains(n)))
        .map(|(_, cause)| *cause)
}

/// The cause of one request from its status and error-log lines.
pub fn classify(a: &AccessEntry, errors: &[ErrorEntry]) -> &'static str {
    let status = a.status_code().unwrap_or(0);
    if status == 499 {
        return "client_aborted";
    }
    let from_log = errors.iter().find_map(|e| rule_for(&e.message));
    match from_log {
        // A refused server the proxy then retried on another one: the client got an answer.
        Some("upstream_refused") if status < 400 => "retried_ok",
        Some(cause) => cause,
        None if status >= 500 => "app_error",
        None => "ok",
    }
}

/// Joins each access entry to the error lines of the same request (same request
/// line and client, logged at most two seconds before the access line; lines of one nginx connection `*N` stay
/// together) and classifies it. Entries are taken in log order; each error line
/// is used once.
pub fn join(access: Vec<AccessEntry>, errors: &[ErrorEntry]) -> Vec<Classified> {
    let mut used = vec![false; errors.len()];
    access
        .into_iter()
        .map(|a| {
            let first = errors.iter().enumerate().position(|(i, e)| {
                !used[i]
                    && e.request.as_deref() == Some(a.request.as_str())
                    && e.client.as_deref().is_none_or(|c| c == a.client)
                    // nginx logs the access line when the request ends, after its errors.
                    && (a.time - 2..=a.time).contains(&e.time)
            });
            let mut mine = Vec::new();
            if let Some(i) = first {
                let conn = errors[i].connection;
                for (j, e) in errors.iter().enumerate().skip(i) {
                    if !used[j]
                        && e.request == errors[i].request
                        && (j == i || (conn.is_some() && e.connection == conn))
                    {
                        used[j] = true;
                        mine.push(e.clone());
                    }
                }
            }
            let cause = classify(&a, &mine);
            Classified {
                access: a,
                errors: mine,
                cause,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/logs/nginx"
    );

    /// Every case of ../shared/fixtures/logs/nginx/cases.json is classified as
    /// expected, from each of the three access-log formats joined to error.log.
    #[test]
    fn nginx_fixture_cases() {
        let cases: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{FIXTURES}/cases.json")).expect("../shared fixtures"),
        )
        .unwrap();
        let errors = error_log::parse_all(
            &std::fs::read_to_string(format!("{FIXTURES}/error.log")).unwrap(),
        );
        for file in ["access.log", "access_upstream.log", "access.json.log"] {
            let text = std::fs::read_to_string(format!("{FIXTURES}/{file}")).unwrap();
            let entries: Vec<AccessEntry> = text.lines().filter_map(access::parse_line).collect();
            assert_eq!(
                entries.len(),
                text.lines().count(),
                "{file}: every line parses"
            );
            let classified = join(entries, &errors);
            let mut checked = 0;
            for case in cases["cases"].as_array().unwrap() {
                let path = case["path"].as_str().unwrap();
                let mine: Vec<&Classified> = classified
                    .iter()
                    .filter(|c| c.access.target() == path)
                    .collect();
                for exp in case["expected"].as_array().unwrap() {
                    for n in exp["attempts"].as_array().unwrap() {
                        let n = n.as_u64().unwrap() as usize;
                        let got = mine
                            .get(n - 1)
                            .unwrap_or_else(|| panic!("{file}: {path} attempt {n} missing"));
                        let status = match &exp["status"] {
                            serde_json::Value::String(s) => s.clone(),
                            v => v.to_string(),
                        };
                        assert_eq!(got.access.status, status, "{file}: {path} #{n}");
                        assert_eq!(
                            got.cause,
                            exp["cause"].as_str().unwrap(),
                            "{file}: {path} #{n}: {:?}",
                            got.errors
                        );
                        checked += 1;
                    }
                }
            }
            assert!(checked >= 90, "{file}: {checked} requests checked");
        }
    }
}
