//! Who answered a 5xx, from in-process servers that imitate each gateway's
//! error page and headers (../shared/DIAGNOSIS.md §2).

use siteaudit_testkit::{Reply, Site};

use crate::util::{Dir, links};

#[test]
fn gateway_fingerprints_in_the_report() {
    let cases: Vec<(&str, Reply, &str, &str, serde_json::Value)> = vec![
        (
            "/cf",
            Reply::status(521)
                .header("Server", "cloudflare")
                .header("CF-RAY", "8a1b2c3d4e5f6a7b-AMS")
                .header("cf-error-type", "52x")
                .body("error code: 521"),
            "cloudflare",
            "gateway",
            "upstream_refused".into(),
        ),
        (
            "/haproxy",
            Reply::status(504)
                .header("cache-control", "no-cache")
                .body("<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"),
            "haproxy",
            "gateway",
            "upstream_timeout".into(),
        ),
        (
            "/envoy",
            Reply::status(503)
                .header("server", "envoy")
                .body("no healthy upstream"),
            "envoy",
            "gateway",
            "no_live_upstreams".into(),
        ),
        (
            "/apache",
            Reply::status(502)
                .header("Server", "Apache/2.4.71 (Debian)")
                .body("<p>The proxy server received an invalid response from an upstream server.<br />\nThe proxy server could not handle the request<p>Reason: <strong>Error reading from remote server</strong></p></p>"),
            "apache",
            "gateway",
            "upstream_timeout".into(),
        ),
        (
            "/app",
            Reply::status(502)
                .header("Server", "nginx/1.22.1")
                .header("Content-Type", "application/json")
                .body("{\"error\":\"payment service unavailable\"}"),
            "nginx",
            "origin",
            serde_json::Value::Null,
        ),
    ];
    let paths: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let mut site = Site::new().page("/", &links(&paths));
    for (path, reply, ..) in &cases {
        site = site.reply(path, reply.clone());
    }
    let s = site.start();
    let d = Dir::new();
    let (code, r) = d.crawl(&s.url("/"), &["--retries", "0"]);
    assert_eq!(code, 1);
    for (path, _, layer, generated, cause) in &cases {
        let fp = &r.problem(path)["answered_by"];
        assert!(
            fp["layers"].as_array().unwrap().contains(&(*layer).into()),
            "{path}: {fp}"
        );
        assert_eq!(fp["generated"], *generated, "{path}: {fp}");
        assert_eq!(fp["cause"], *cause, "{path}: {fp}");
    }
    assert_eq!(
        r.problem("/cf")["answered_by"]["request_ids"][0][1],
        "8a1b2c3d4e5f6a7b-AMS"
    );
    let text = String::from_utf8_lossy(&d.run(&["report"]).stdout).into_owned();
    assert!(
        text.contains(
            "made by Cloudflare; the page says: upstream_refused; cf-ray 8a1b2c3d4e5f6a7b-AMS"
        ),
        "{text}"
    );
    assert!(
        text.contains("the application's own error, passed on by the proxy"),
        "{text}"
    );
    // Probable causes in the categories of DIAGNOSIS.md, with the everyday name.
    let d = &r.problem("/envoy")["diagnosis"];
    assert_eq!(
        (
            d["cause"].as_str(),
            d["article_cause"].as_str(),
            d["confidence"].as_str()
        ),
        (Some("no_live_upstreams"), Some("server down"), Some("high")),
        "{d}"
    );
    let d = &r.problem("/app")["diagnosis"];
    assert_eq!(
        (d["cause"].as_str(), d["article_cause"].as_str()),
        (Some("app_error"), Some("software error")),
        "{d}"
    );
    assert!(
        text.contains("probable cause: upstream_refused (server down, high confidence)"),
        "{text}"
    );
}

#[test]
fn failures_are_reprobed_and_judged() {
    use siteaudit_testkit::Route;
    let s = Site::new()
        .page("/", &links(&["/down", "/flaky", "/blip", "/ok"]))
        .page("/ok", "<title>ok</title>")
        .reply("/down", Reply::status(502).header("Server", "nginx"))
        .route(
            "/flaky",
            Route::Sequence(vec![
                Reply::status(502),
                Reply::html("<title>up</title>"),
                Reply::status(502),
                Reply::html("<title>up</title>"),
            ]),
        )
        .route(
            "/blip",
            Route::Sequence(vec![Reply::status(503), Reply::html("<title>up</title>")]),
        )
        .start();
    let d = Dir::new();
    let (code, r) = d.crawl(
        &s.url("/"),
        &[
            "--retries",
            "0",
            "--reprobe",
            "3",
            "--retry-backoff",
            "10ms",
        ],
    );
    assert_eq!(code, 1);
    for (path, verdict) in [
        ("/down", "persistent"),
        ("/flaky", "intermittent"),
        ("/blip", "recovered"),
    ] {
        let p = r.problem(path);
        assert_eq!(p["reprobe"]["verdict"], verdict, "{path}: {p:#}");
        assert_eq!(p["reprobe"]["attempts"].as_array().unwrap().len(), 3);
        assert_eq!(
            s.requests(path),
            4,
            "{path}: one crawl fetch and three re-probes"
        );
    }
    assert_eq!(
        s.requests("/ok"),
        1,
        "answers that worked are not re-probed"
    );
    let text = String::from_utf8_lossy(&d.run(&["report"]).stdout).into_owned();
    assert!(
        text.contains("re-probed after the crawl: 502, 502, 502 (persistent)"),
        "{text}"
    );
    assert!(
        text.contains("re-probed after the crawl: 200, 502, 200 (intermittent)"),
        "{text}"
    );
    assert!(
        text.contains("some re-probes worked: intermittent"),
        "{text}"
    );

    // --reprobe 0 turns it off.
    let before = s.requests("/down");
    let (_, r) = d.crawl(&s.url("/"), &["--retries", "0", "--reprobe", "0"]);
    assert!(r.problem("/down").get("reprobe").is_none());
    assert_eq!(s.requests("/down"), before + 1);
}

#[test]
fn recheck_says_what_the_fix_fixed() {
    use siteaudit_testkit::Route;
    let s = Site::new()
        .route(
            "/",
            Route::Sequence(vec![
                Reply::html(links(&["/fixed", "/down", "/changes"])),
                Reply::html(links(&["/down", "/changes"])),
            ]),
        )
        .route(
            "/fixed",
            Route::Sequence(vec![Reply::status(502), Reply::html("<title>back</title>")]),
        )
        .reply("/down", Reply::status(500))
        .route(
            "/changes",
            Route::Sequence(vec![Reply::status(502), Reply::status(404)]),
        )
        .start();
    let d = Dir::new();
    let o = d.run(&[
        "crawl",
        &s.url("/"),
        "--quiet",
        "--retries",
        "0",
        "--reprobe",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let before_ok = s.requests("/robots.txt");
    let (code, r) = d.json(&["recheck", "--with-referrers", "--format", "json"]);
    assert_eq!(code, 1, "/down still fails");
    assert_eq!(
        (r.0["recheck_of"].as_i64(), r.0["crawl_id"].as_i64()),
        (Some(1), Some(2))
    );
    let verdicts: Vec<(String, String, String)> = r.0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["url"].as_str().unwrap().replace(&s.url(""), ""),
                x["verdict"].as_str().unwrap().to_string(),
                x["after"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("/changes".into(), "changed".into(), "http-404".into()),
            ("/down".into(), "still-failing".into(), "http-500".into()),
            ("/fixed".into(), "fixed".into(), "200".into()),
        ]
    );
    let refs = r.0["referrers"].as_array().unwrap();
    let still = |target: &str| {
        refs.iter()
            .find(|x| x["target"] == s.url(target))
            .map(|x| x["still_links"].clone())
    };
    assert_eq!(still("/fixed"), Some(serde_json::json!(false)), "{refs:?}");
    assert_eq!(still("/down"), Some(serde_json::json!(true)));
    assert_eq!(
        s.requests("/robots.txt"),
        before_ok,
        "only the failing URLs and their referrers"
    );
    assert_eq!(s.requests("/ok"), 0);

    // The recheck is a crawl of its own, linked to the first; text output too.
    let o = d.run(&["crawls", "--format", "json"]);
    let crawls: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(crawls.as_array().unwrap().len(), 2);
    let o = d.run(&["recheck", "1"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("Recheck of crawl #1 (stored as crawl #3): 3 URLs"),
        "{text}"
    );
    assert!(text.contains("still-failing"), "{text}");
}
