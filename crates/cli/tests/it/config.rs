//! siteaudit.toml ← SITEAUDIT_* ← flags, and clear errors for bad input.

use siteaudit_testkit::Site;

use crate::util::{Dir, links};

fn site() -> siteaudit_testkit::Server {
    Site::new()
        .page("/", &links(&["/a", "/b", "/c"]))
        .page("/a", "a")
        .page("/b", "b")
        .page("/c", "c")
        .start()
}

#[test]
fn file_env_and_flags_are_layered() {
    let s = site();
    let d = Dir::new();
    std::fs::write(
        d.path().join("siteaudit.toml"),
        "exclude = [\"/a$\"]\nmax_pages = 2\nsitemaps = false\n",
    )
    .unwrap();
    let (_, r) = d.crawl(&s.url("/"), &[]);
    assert!(!r.has_url("/a"), "exclude from the file");
    assert_eq!(
        r.urls()
            .iter()
            .filter(|u| u["found_by"] != "robots")
            .count(),
        2
    );
    // The environment beats the file; flags beat the environment.
    let start = s.url("/");
    let pages_with_env = |extra: &[&str]| {
        let mut args = vec!["crawl", start.as_str(), "--format", "json", "-q"];
        args.extend_from_slice(extra);
        let out = d
            .cmd(&args)
            .env("SITEAUDIT_MAX_PAGES", "3")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["urls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["found_by"] != "robots")
            .count()
    };
    assert_eq!(pages_with_env(&[]), 3);
    let n = pages_with_env(&["--max-pages", "0"]);
    assert_eq!(n, 3, "/, /b, /c (the file still excludes /a)");
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_2() {
    let s = site();
    let d = Dir::new();
    std::fs::write(d.path().join("siteaudit.toml"), "concurency = 4\n").unwrap();
    let o = d.run(&["crawl", &s.url("/")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown field `concurency`"), "{err}");
    std::fs::remove_file(d.path().join("siteaudit.toml")).unwrap();

    for (args, needle) in [
        (vec!["crawl", "not a url"], "invalid start URL"),
        (vec!["crawl", "ftp://example.com/"], "unsupported scheme"),
        (
            vec!["crawl", "http://127.0.0.1:1/", "--exclude", "("],
            "invalid --exclude pattern",
        ),
        (
            vec!["crawl", "http://127.0.0.1:1/", "--timeout", "soon"],
            "invalid value",
        ),
        (
            vec!["crawl", "http://127.0.0.1:1/", "--concurrency", "0"],
            "at least 1",
        ),
        (
            vec!["crawl", "http://127.0.0.1:1/", "--fail-on", "6xx"],
            "unknown --fail-on selector",
        ),
        (
            vec!["crawl", "http://127.0.0.1:1/", "--robots", "maybe"],
            "unknown robots mode",
        ),
        (vec!["crawl", "--resume"], "no unfinished crawl"),
    ] {
        let o = d.run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // An unusable database cannot start a crawl.
    std::fs::create_dir(d.path().join("dir.db")).unwrap();
    let o = d.run(&[
        "crawl",
        &s.url("/"),
        "--db",
        d.path().join("dir.db").to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
