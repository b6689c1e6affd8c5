//! Every case of every ../shared/fixtures/logs/*/cases.json, classified from
//! the real logs as expected.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::classify::ClientSaw;
use super::{ClientViews, Options, analyze_with};

fn fixtures(server: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/logs")
        .join(server)
}

/// Cases the logs do not record: (server, path, what the logs show instead,
/// whether the client's view settles it).
const INVISIBLE: &[(&str, &str, &str, bool)] = &[
    // Apache passes a non-HTTP answer on as an HTTP/0.9 body, logs 200 and no error
    // line; the client got a 200 too.
    ("apache", "/garbage/", "ok", false),
    // HAProxy forwards a header with a NUL byte as a normal 200 (`----`); curl rejects it.
    ("haproxy", "/badheader/", "ok", true),
];

/// What a client's own request log (`client-results.tsv`: curl exit code, status)
/// says, in the shape a crawl gives it.
fn client_views(server: &str) -> ClientViews {
    let text = std::fs::read_to_string(fixtures(server).join("client-results.tsv")).unwrap();
    let mut by_target: HashMap<String, Vec<ClientSaw>> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let saw = match f[3] {
            "28" => ClientSaw::Timeout,
            "8" => ClientSaw::InvalidResponse,
            "18" | "56" => ClientSaw::Cut,
            _ => ClientSaw::Status(f[4].parse().unwrap_or(0)),
        };
        by_target.entry(f[0].to_string()).or_default().push(saw);
    }
    ClientViews {
        by_target,
        sequential: true,
        span_ms: None,
    }
}

struct Got {
    status: u16,
    cause: &'static str,
    also: &'static [&'static str],
}

fn run(files: &[PathBuf], client: Option<ClientViews>) -> HashMap<String, Vec<Got>> {
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let opts = Options {
        client,
        ..Options::default()
    };
    let mut got: HashMap<String, Vec<Got>> = HashMap::new();
    let report = analyze_with(&paths, &opts, &mut |a, v, _| {
        got.entry(a.target().to_string()).or_default().push(Got {
            status: a.status,
            cause: v.cause,
            also: v.also,
        });
    })
    .unwrap();
    assert_eq!(report.unparsed, 0, "{files:?}: every line understood");
    got
}

/// Checks every case; returns how many requests were checked. `exact`: the
/// cause must be the verdict's first; otherwise one the log cannot rule out
/// counts too.
fn check(
    server: &str,
    got: &HashMap<String, Vec<Got>>,
    exact: bool,
    client: bool,
    label: &str,
) -> usize {
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures(server).join("cases.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for case in cases["cases"].as_array().unwrap() {
        let path = case["path"].as_str().unwrap();
        let mine = got
            .get(path)
            .unwrap_or_else(|| panic!("{label}: {path} not in the logs"));
        assert_eq!(
            mine.len() as u64,
            case["requests"].as_u64().unwrap(),
            "{label}: {path} requests"
        );
        for exp in case["expected"].as_array().unwrap() {
            let want = exp["cause"].as_str().unwrap();
            let status = match &exp["status"] {
                serde_json::Value::String(s) => s.parse().unwrap(),
                v => v.as_u64().unwrap() as u16,
            };
            // "attempts" are numbers, or "burst x2" for requests sent together (any order).
            let attempts: Vec<usize> = exp["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n.as_u64().map(|n| n as usize))
                .collect();
            let pool: Vec<&Got> = if attempts.is_empty() {
                mine.iter().filter(|g| g.status == status).collect()
            } else {
                attempts.iter().map(|n| &mine[n - 1]).collect()
            };
            assert!(
                !pool.is_empty(),
                "{label}: {path} has a request with status {status}"
            );
            for g in pool {
                assert_eq!(g.status, status, "{label}: {path}");
                if let Some((_, _, shown, _)) = INVISIBLE
                    .iter()
                    .find(|(s, p, _, settled)| *s == server && *p == path && !(client && *settled))
                {
                    assert_eq!(g.cause, *shown, "{label}: {path} (invisible in logs)");
                } else if exact {
                    assert_eq!(g.cause, want, "{label}: {path} (also {:?})", g.also);
                } else {
                    assert!(
                        g.cause == want || g.also.contains(&want),
                        "{label}: {path}: {} (also {:?}), want {want}",
                        g.cause,
                        g.also
                    );
                }
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn nginx_cases_from_every_access_format() {
    let d = fixtures("nginx");
    for file in ["access.log", "access_upstream.log", "access.json.log"] {
        let got = run(&[d.join(file), d.join("error.log")], None);
        assert!(check("nginx", &got, true, false, file) > 90);
    }
    // The info-level error log holds the same errors plus the client aborts.
    let got = run(
        &[
            d.join("access_upstream.log"),
            d.join("error.info.log"),
            d.join("php-fpm.log"),
        ],
        None,
    );
    check("nginx", &got, true, false, "error.info.log");
}

#[test]
fn apache_cases() {
    let d = fixtures("apache");
    for file in ["access.log", "access_timing.log"] {
        let files = [d.join(file), d.join("error.log"), d.join("php-fpm.log")];
        // From the logs alone: the cause, or one the log cannot tell apart from it.
        let got = run(&files, None);
        assert!(check("apache", &got, false, false, file) > 70);
        // With the client's view of the same requests, exactly.
        let got = run(&files, Some(client_views("apache")));
        check("apache", &got, true, true, &format!("{file} + client view"));
    }
}

#[test]
fn haproxy_cases() {
    let d = fixtures("haproxy");
    for file in ["haproxy.raw.log", "haproxy.syslog.log"] {
        // From the log alone: the cause, or one the format cannot tell apart from it.
        let got = run(&[d.join(file), d.join("haproxy.stderr.log")], None);
        let n = check("haproxy", &got, false, false, file);
        assert!(n > 60, "{n}");
        // The client's view settles /badheader/ and the clients that left first.
        let got = run(&[d.join(file)], Some(client_views("haproxy")));
        assert_eq!(got["/badheader/"][0].cause, "invalid_upstream_response");
        assert!(
            got["/client-abort/"]
                .iter()
                .all(|g| g.cause == "client_aborted")
        );
        check(
            "haproxy",
            &got,
            false,
            true,
            &format!("{file} + client view"),
        );
    }
    // The detail run's bc_err tells TLS from refused.
    let got = run(&[d.join("haproxy.detail.log")], None);
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("cases.json")).unwrap()).unwrap();
    let order = cases["detail_run"]["paths_in_order"].as_array().unwrap();
    assert_eq!(got.values().map(Vec::len).sum::<usize>(), order.len());
    for p in ["/tls-plain/", "/tls-verify/"] {
        assert_eq!(got[p][0].cause, "upstream_tls_failure", "{p}");
        assert!(got[p][0].also.is_empty());
    }
    assert_eq!(got["/refused/"][0].cause, "upstream_refused");
    assert!(
        got["/tcp-backlog/"]
            .iter()
            .all(|g| g.cause == "upstream_connect_timeout")
    );
}
