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
