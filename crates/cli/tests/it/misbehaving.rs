//! Servers that misbehave: every failure is classified, nothing hangs or crashes.

use std::time::Duration;

use siteaudit_testkit::{Reply, Route, Site, gzip};

use crate::util::{Dir, links};

#[test]
fn network_failures_are_classified() {
    let s = Site::new()
        .page(
            "/",
            &links(&["/hang", "/reset", "/garbage", "/slow", "/endless"]),
        )
        .route("/hang", Route::Hang)
        .route(
            "/reset",
            Route::ResetMidBody(Reply::html(vec![b'x'; 64 * 1024])),
        )
        .route(
            "/garbage",
            Route::Garbage(b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02".to_vec()),
        )
        .route(
            "/slow",
            Route::Delay(
                Duration::from_millis(200),
                Reply::html("<title>slow</title>"),
            ),
        )
        .route(
            "/endless",
            Route::Endless(Reply::status(200).header("Content-Type", "text/html")),
        )
        .start();
    let d = Dir::new();
    let (code, r) = d.crawl(
        &s.url("/"),
        &[
            "--timeout",
            "1s",
            "--retries",
            "0",
            "--max-body-bytes",
            "1MiB",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(r.problem("/hang")["problem"], "read-timeout");
    assert_eq!(r.problem("/reset")["problem"], "connection-reset");
    assert_eq!(r.problem("/garbage")["problem"], "invalid-response");
    assert_eq!(r.problem("/endless")["problem"], "body-too-large");
    assert_eq!(r.url("/slow")["status"], 200);
    assert!(r.url("/slow")["ttfb_ms"].as_f64().unwrap() >= 200.0);
    for p in ["/hang", "/reset", "/garbage", "/endless"] {
        assert_eq!(r.linked_from(p), vec![s.url("/")], "{p}");
    }
}

#[test]
fn encodings_and_compression() {
    let mut bad_utf8 = b"<html><head><title>caf\xe9 \xff\xfe</title></head><body><a href=\"/from-bad\">x\xc3</a></body></html>".to_vec();
    bad_utf8.extend_from_slice(b"\xf0\x28\x8c\x28");
    let latin1 = b"<html><head><meta charset=\"windows-1252\"><title>Caf\xe9 cr\xe8me</title></head><body><a href=\"/from-latin1\">x</a></body></html>".to_vec();
    let gz = gzip(links(&["/from-gzip"]).as_bytes());
    // 64 MiB of zeros compress to about 64 KiB: a bomb against a 1 MiB decoded cap.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let s = Site::new()
        .page(
            "/",
            &links(&["/bad-utf8", "/latin1", "/gzip", "/bomb", "/broken-gzip"]),
        )
        .reply(
            "/bad-utf8",
            Reply::typed("text/html; charset=utf-8", bad_utf8),
        )
        .reply("/latin1", Reply::typed("text/html", latin1))
        .reply("/gzip", Reply::html(gz).header("Content-Encoding", "gzip"))
        .reply(
            "/bomb",
            Reply::html(bomb).header("Content-Encoding", "gzip"),
        )
        .reply(
            "/broken-gzip",
            Reply::html(b"not gzip at all".to_vec()).header("Content-Encoding", "gzip"),
        )
        .page("/from-bad", "ok")
        .page("/from-latin1", "ok")
        .page("/from-gzip", "ok")
        .start();
    let d = Dir::new();
    let (_, r) = d.crawl(
        &s.url("/"),
        &["--max-decoded-bytes", "1MiB", "--retries", "0"],
    );
    assert_eq!(s.requests("/from-bad"), 1, "links survive invalid UTF-8");
    assert_eq!(s.requests("/from-latin1"), 1);
    assert_eq!(
        s.requests("/from-gzip"),
        1,
        "gzip bodies are decoded and parsed"
    );
    let latin = r.url("/latin1");
    assert_eq!(latin["facts"]["titles"][0], "Café crème");
    assert_eq!(latin["charset"], "windows-1252");
    let bad = r.url("/bad-utf8");
    assert_eq!(bad["status"], 200);
    assert!(
        bad["facts"]["titles"][0]
            .as_str()
            .unwrap()
            .starts_with("caf\u{fffd}")
    );
    let gz = r.url("/gzip");
    assert!(gz["wire_bytes"].as_u64().unwrap() < gz["body_bytes"].as_u64().unwrap());
    let bomb = r.problem("/bomb");
    assert_eq!(bomb["problem"], "body-too-large");
    assert_eq!(bomb["failure"]["limit"], 1 << 20);
    assert_eq!(r.problem("/broken-gzip")["problem"], "decode");
}
