//! `siteaudit logs` on the real nginx logs of ../shared/fixtures/logs/nginx.

use std::io::Write as _;

use crate::util::Dir;

const NGINX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/logs/nginx"
);

#[test]
fn nginx_logs_are_explained() {
    let d = Dir::new();
    // The access log gzipped, to read it the way rotated logs are kept.
    let gz = d.path().join("access_upstream.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(format!("{NGINX}/access_upstream.log")).unwrap())
        .unwrap();
    enc.finish().unwrap();
    let error = format!("{NGINX}/error.log");
    let (code, r) = d.json(&["logs", gz.to_str().unwrap(), &error, "--format", "json"]);
    assert_eq!(code, 1, "the logs hold 5xx");
    let v = &r.0;
    assert_eq!(v["requests"], 97);
    assert_eq!(v["unparsed"], 0);
    assert_eq!(v["by_cause"]["upstream_refused"], 4);
    assert_eq!(
        v["by_cause"]["upstream_truncated_body"], 6,
        "200s cut short are found"
    );
    assert_eq!(v["by_url"]["/php/slow.php"], 4);
    let refused = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["request"] == "GET /refused/ HTTP/1.1")
        .unwrap();
    assert_eq!(refused["article_cause"], "server down");
    assert!(
        refused["error_lines"][0]
            .as_str()
            .unwrap()
            .contains("Connection refused")
    );
    let crawlers = v["crawler_problems"].as_array().unwrap();
    assert!(!crawlers.is_empty());
    assert!(crawlers.iter().all(|p| p["crawler"].is_string()));

    let o = d.run(&[
        "logs",
        &format!("{NGINX}/access.log"),
        &error,
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("upstream_timeout (overload)"), "{text}");
    assert!(text.contains("claimed by user agent, unverified"), "{text}");

    let o = d.run(&["logs", "/nonexistent/access.log"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read /nonexistent/access.log"));
}

const APACHE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/logs/apache"
);
const HAPROXY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/logs/haproxy"
);

#[test]
fn apache_logs_with_php_fpm() {
    let d = Dir::new();
    let (code, r) = d.json(&[
        "logs",
        &format!("{APACHE}/access_timing.log"),
        &format!("{APACHE}/error.log"),
        &format!("{APACHE}/php-fpm.log"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v = &r.0;
    let kinds: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[1].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["access", "apache_error", "php_fpm"]);
    assert_eq!(v["requests"], 84);
    assert_eq!(v["unparsed"], 0);
    assert_eq!(v["by_cause"]["no_live_upstreams"], 4);
    assert_eq!(v["by_cause"]["retried_ok"], 4);
    assert_eq!(v["by_cause"]["upstream_socket_permission"], 3);
    assert_eq!(v["by_cause"]["upstream_tls_failure"], 6);
    assert_eq!(v["unmatched_error_count"], 0, "{:#}", v["unmatched_errors"]);
    // The balancer names the member that answered in access_timing.log.
    assert_eq!(v["by_upstream"]["http://127.0.0.1:21018"], 2);
    let timeout = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["request"] == "GET /timeout/ HTTP/1.1")
        .unwrap();
    assert_eq!(timeout["cause"], "upstream_timeout");
    assert_eq!(
        timeout["also_possible"][0], "client_aborted",
        "Apache has no 499"
    );
    let events = v["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("pm.max_children")),
        "php-fpm pool warnings are listed"
    );
}

#[test]
fn haproxy_syslog_and_outputs() {
    let d = Dir::new();
    let log = format!("{HAPROXY}/haproxy.syslog.log");
    let (code, r) = d.json(&["logs", &log, "--format", "json"]);
    assert_eq!(code, 1);
    let v = &r.0;
    assert_eq!(v["files"][0][1], "haproxy");
    assert_eq!(v["unparsed"], 0);
    assert_eq!(v["by_cause"]["upstream_overloaded"], 2, "sQ-- in the queue");
    assert_eq!(v["by_cause"]["no_live_upstreams"], 4, "<NOSRV>");
    assert!(
        v["event_count"].as_u64().unwrap() >= 5,
        "health checks and DOWN events"
    );
    let o = d.run(&["logs", &log, "--fail-on", "none"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("(or upstream_tls_failure: the log cannot tell)"),
        "{text}"
    );
    assert!(text.contains("Server be_nolive/s1 is DOWN"), "{text}");

    let o = d.run(&["logs", &log, "--format", "markdown"]);
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.starts_with("## Server logs: "), "{md}");
    assert!(md.contains("| `upstream_timeout` |"), "{md}");

    let o = d.run(&["logs", &log, "--format", "csv", "--examples", "0"]);
    let csv = String::from_utf8_lossy(&o.stdout);
    let mut rows = csv.lines();
    assert!(
        rows.next()
            .unwrap()
            .starts_with("time,client,request,status,cause")
    );
    assert!(csv.contains("SC--"));
    // Every failing request is a row with --examples 0.
    let failing: u64 = v["by_cause"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(csv_rows(&csv).len() as u64, failing);
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = ::csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn log_format_strings_and_bad_input() {
    let d = Dir::new();
    let path = d.path().join("custom.log");
    std::fs::write(
        &path,
        "1795570228.100|10.0.0.1|GET /a HTTP/1.1|502|0.004|Mozilla/5.0 (compatible; bingbot/2.0)\n\
         1795570229.200|10.0.0.2|GET /b HTTP/1.1|200|0.010|curl/8\n\
         1795570230.300|10.0.0.3|GET /a HTTP/1.1|504|60.0|-\n",
    )
    .unwrap();
    let fmt = "$msec|$remote_addr|$request|$status|$request_time|$http_user_agent";
    let (code, r) = d.json(&[
        "logs",
        path.to_str().unwrap(),
        "--log-format",
        fmt,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(r.0["requests"], 3);
    assert_eq!(r.0["by_url"]["/a"], 2);
    assert_eq!(r.0["crawler_problems"][0]["crawler"], "Bingbot");

    // Without the format the file is not recognised: a clear message, exit 2.
    let o = d.run(&["logs", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--log-format"));
    let o = d.run(&[
        "logs",
        path.to_str().unwrap(),
        "--log-format",
        "$remote_addr",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs $request"));
    let o = d.run(&["logs", path.to_str().unwrap(), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `--crawl`: the crawl's failing URLs the logs explain, and log errors it never saw.
#[test]
fn logs_against_a_crawl() {
    use siteaudit_testkit::{Reply, Site};
    let s = Site::new()
        .page(
            "/",
            r#"<a href="/broken">b</a> <a href="/fine">f</a> <a href="/slow">s</a>"#,
        )
        .page("/fine", "<title>fine</title>")
        .reply("/broken", Reply::status(502).header("Server", "nginx"))
        .start();
    let d = Dir::new();
    let (code, _) = d.crawl(&s.url("/"), &["--retries", "0", "--reprobe", "0"]);
    assert_eq!(code, 1);
    // The server's logs of the same minutes, in nginx's JSON format.
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let line = |path: &str, status: u16| {
        format!(
            r#"{{"time":"{now}","remote_addr":"127.0.0.1","request":"GET {path} HTTP/1.1","status":{status},"request_time":0.002}}"#
        )
    };
    let access = d.path().join("access.log");
    std::fs::write(
        &access,
        [
            line("/", 200),
            line("/broken", 502),
            line("/fine", 200),
            line("/admin", 500),
        ]
        .join("\n"),
    )
    .unwrap();
    let t = now
        .replace('-', "/")
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string();
    let error = d.path().join("error.log");
    std::fs::write(
        &error,
        format!(
            "{t} [error] 7#7: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: x, request: \"GET /broken HTTP/1.1\", upstream: \"http://127.0.0.1:9/broken\", host: \"x\"\n"
        ),
    )
    .unwrap();
    let (code, r) = d.json(&[
        "logs",
        access.to_str().unwrap(),
        error.to_str().unwrap(),
        "--crawl",
        "latest",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let c = &r.0["crawl"];
    assert_eq!(c["explained"][0]["url"], s.url("/broken"));
    assert_eq!(c["explained"][0]["cause"], "upstream_refused");
    assert_eq!(c["explained"][0]["crawl_saw"], "502");
    assert_eq!(c["unseen_by_crawl"][0]["target"], "/admin");
    assert_eq!(c["unseen_by_crawl"][0]["crawled"], false);
    let o = d.run(&["logs", access.to_str().unwrap(), "--crawl", "99"]);
    assert_eq!(o.status.code(), Some(2));
}
