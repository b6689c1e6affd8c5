//! A tiny harness: run the binary with a fresh database, parse its JSON report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A temporary directory holding the database (and config files) of one test.
pub(crate) struct Dir {
    pub(crate) tmp: tempfile::TempDir,
}

impl Dir {
    pub(crate) fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.tmp.path().join("siteaudit.db")
    }

    /// `siteaudit` with `--db` pointing into this directory, run from it, with no
    /// `SITEAUDIT_*` variables inherited.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_siteaudit"));
        c.current_dir(self.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("SITEAUDIT_") {
                c.env_remove(k);
            }
        }
        c.env("SITEAUDIT_DB", self.db());
        c.args(args);
        c.stdin(Stdio::null());
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run siteaudit")
    }

    /// Runs `crawl URL --format json` plus `args`; returns the exit code and report.
    pub(crate) fn crawl(&self, url: &str, args: &[&str]) -> (i32, Report) {
        let mut all = vec!["crawl", url, "--format", "json", "--quiet"];
        all.extend_from_slice(args);
        self.json(&all)
    }

    /// Runs a command that prints JSON.
    pub(crate) fn json(&self, args: &[&str]) -> (i32, Report) {
        let out = self.run(args);
        let code = out.status.code().unwrap_or(-1);
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}); exit {code}\nstdout:\n{text}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, Report(v))
    }
}

/// A parsed JSON report.
#[derive(Debug)]
pub(crate) struct Report(pub Value);

impl Report {
    /// The row of `urls` whose URL ends with `suffix`.
    pub(crate) fn url(&self, suffix: &str) -> &Value {
        self.urls()
            .iter()
            .find(|u| u["url"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("no URL ending in {suffix:?} in {:#}", self.0["urls"]))
    }

    pub(crate) fn has_url(&self, suffix: &str) -> bool {
        self.urls()
            .iter()
            .any(|u| u["url"].as_str().unwrap().ends_with(suffix))
    }

    pub(crate) fn urls(&self) -> &Vec<Value> {
        self.0["urls"].as_array().expect("urls array")
    }

    /// The problem whose URL ends with `suffix`.
    pub(crate) fn problem(&self, suffix: &str) -> &Value {
        self.0["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["url"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("no problem for {suffix:?} in {:#}", self.0["problems"]))
    }

    pub(crate) fn has_problem(&self, suffix: &str) -> bool {
        self.0["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["url"].as_str().unwrap().ends_with(suffix))
    }

    /// The URLs linking to the problem at `suffix`.
    pub(crate) fn linked_from(&self, suffix: &str) -> Vec<String> {
        self.problem(suffix)["linked_from"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["url"].as_str().unwrap().to_string())
            .collect()
    }
}

/// `<a href>` links as a page body.
pub(crate) fn links(hrefs: &[&str]) -> String {
    let mut s = String::from("<!doctype html><html><head><title>t</title></head><body>");
    for h in hrefs {
        s.push_str(&format!("<a href=\"{h}\">{h}</a>\n"));
    }
    s.push_str("</body></html>");
    s
}
