//! End to end with a real nginx (Debian package) in front of broken upstreams: real
//! 502 (upstream port closed) and 504 (upstream too slow) pages.
//!
//! Ignored by default because it needs nginx installed; `.ci/run` installs it and runs
//! this test with `--ignored`. `SITEAUDIT_NGINX` names the binary (default
//! /usr/sbin/nginx).

use std::time::{Duration, Instant};

use siteaudit_testkit::{Reply, Route, Site, closed_port};

use crate::util::Dir;

struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs nginx; run by .ci/run"]
fn nginx_502_and_504_are_reported_with_their_linking_pages() {
    let bin = std::env::var("SITEAUDIT_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
    let upstream = Site::new()
        .route(
            "/slow/page",
            Route::Delay(Duration::from_secs(5), Reply::html("late")),
        )
        .reply("/ok/page", Reply::html("<title>fine</title>"))
        // A flapping application: its own 502s, passed on by nginx, between good answers.
        .route(
            "/flap/page",
            // Two tries in the first crawl, one in the second, then its re-probes.
            Route::Sequence(vec![
                Reply::status(502).body("app: pool exhausted"),
                Reply::status(502).body("app: pool exhausted"),
                Reply::status(502).body("app: pool exhausted"),
                Reply::html("<title>up</title>"),
                Reply::status(502).body("app: pool exhausted"),
            ]),
        )
        // Fixed while we look: 503 during the crawl, 200 by the recheck.
        .route(
            "/later/page",
            Route::Sequence(vec![
                Reply::status(503).body("maintenance"),
                Reply::status(503).body("maintenance"),
                Reply::html("<title>back</title>"),
            ]),
        )
        .start();
    let dead = closed_port();
    let port = closed_port();
    let d = Dir::new();
    let root = d.path();
    let home = r#"<html><head><title>home</title></head><body><a href="/down/api">API</a> <a href="/slow/page">Slow</a> <a href="/ok/page">OK</a> <a href="/flap/page">Flap</a> <a href="/later/page">Later</a></body></html>"#;
    let conf = format!(
        r#"
daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = / {{ default_type text/html; return 200 '{home}'; }}
        location /down/ {{ proxy_pass http://127.0.0.1:{dead}; }}
        location / {{ proxy_pass http://{up}; proxy_read_timeout 1s; }}
    }}
}}
"#,
        root = root.display(),
        up = upstream.addr(),
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = std::process::Command::new(&bin)
        .args([
            "-c",
            conf_path.to_str().unwrap(),
            "-p",
            root.to_str().unwrap(),
        ])
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let _nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start; see {}/error.log",
            root.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, r) = d.crawl(
        &format!("http://127.0.0.1:{port}/"),
        &[
            "--retries",
            "1",
            "--retry-backoff",
            "10ms",
            "--reprobe",
            "0",
        ],
    );
    assert_eq!(code, 1);
    let bad = r.problem("/down/api");
    assert_eq!(bad["problem"], "http-502");
    assert_eq!(bad["attempts"].as_array().unwrap().len(), 2);
    let slow = r.problem("/slow/page");
    assert_eq!(slow["problem"], "http-504");
    let home_url = format!("http://127.0.0.1:{port}/");
    assert_eq!(r.linked_from("/down/api"), vec![home_url.clone()]);
    assert_eq!(r.linked_from("/slow/page"), vec![home_url]);
    assert_eq!(r.url("/ok/page")["status"], 200);
    let server = r.url("/down/api")["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "server")
        .map(|h| h[1].as_str().unwrap().to_string());
    assert!(
        server.is_some_and(|s| s.starts_with("nginx")),
        "the gateway is named"
    );
    // Both error pages are nginx's own: the gateway made them, not the upstream.
    for (path, cause) in [
        ("/down/api", serde_json::Value::Null),
        ("/slow/page", "upstream_timeout".into()),
    ] {
        let fp = &r.problem(path)["answered_by"];
        assert_eq!(fp["layers"], serde_json::json!(["nginx"]), "{fp}");
        assert_eq!(fp["generated_by"], "nginx");
        assert_eq!(fp["generated"], "gateway");
        assert_eq!(fp["cause"], cause);
    }
    assert_eq!(
        r.problem("/slow/page")["diagnosis"]["cause"],
        "upstream_timeout"
    );
    assert_eq!(
        r.problem("/down/api")["diagnosis"]["article_cause"],
        "server down"
    );
    let text = String::from_utf8_lossy(&d.run(&["report"]).stdout).to_string();
    assert!(
        text.contains("502 Bad Gateway (2)") && text.contains("504 Gateway Timeout (1)"),
        "{text}"
    );
    assert!(text.contains("made by nginx"), "{text}");

    // The application's own 502 passed on by nginx, flapping: re-probes say intermittent.
    let flap = r.problem("/flap/page");
    assert_eq!(flap["answered_by"]["generated"], "origin", "{flap:#}");
    let (_, again) = d.crawl(
        &format!("http://127.0.0.1:{port}/"),
        &[
            "--retries",
            "0",
            "--retry-backoff",
            "10ms",
            "--reprobe",
            "3",
        ],
    );
    let flap = again.problem("/flap/page");
    assert_eq!(flap["reprobe"]["verdict"], "intermittent", "{flap:#}");
    assert_eq!(
        again.problem("/down/api")["reprobe"]["verdict"],
        "persistent"
    );

    // The recheck of the first crawl: /later/page was fixed meanwhile, the rest not.
    let (code, rc) = d.json(&["recheck", "1", "--format", "json"]);
    assert_eq!(code, 1);
    let verdict = |suffix: &str| {
        rc.0["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["url"].as_str().unwrap().ends_with(suffix))
            .map(|x| x["verdict"].as_str().unwrap().to_string())
    };
    assert_eq!(
        verdict("/later/page").as_deref(),
        Some("fixed"),
        "{:#}",
        rc.0
    );
    assert_eq!(verdict("/down/api").as_deref(), Some("still-failing"));
    assert_eq!(verdict("/slow/page").as_deref(), Some("still-failing"));
}
