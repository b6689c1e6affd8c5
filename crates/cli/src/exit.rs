//! Exit codes (DESIGN §7) and `--fail-on`.
//!
//! 0: nothing matched `--fail-on`; 1: something did; 2: usage or config error;
//! 3: the crawl could not start (start URL unreachable, database unusable);
//! 130: interrupted (Ctrl-C), the crawl is resumable.

use std::process::ExitCode;

/// What ended the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Nothing at or above `--fail-on`.
    Clean = 0,
    /// Findings at or above `--fail-on`.
    Findings = 1,
    /// Bad flags, config or input.
    Usage = 2,
    /// The crawl could not start.
    NoStart = 3,
    /// Stopped by Ctrl-C.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// An error with the exit code it deserves.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) error: anyhow::Error,
}

/// Marks an error as a usage/config error (exit 2).
pub(crate) fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        exit: Exit::Usage,
        error: error.into(),
    }
}

/// Marks an error as "could not start" (exit 3).
pub(crate) fn no_start(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        exit: Exit::NoStart,
        error: error.into(),
    }
}

/// One `--fail-on` selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    /// Nothing fails the run.
    None,
    /// Any problem, internal or external.
    Any,
    /// Problems on internal URLs (the default).
    Internal,
    /// Problems on external URLs.
    External,
    /// A status class: 4 or 5.
    Class(u16),
    /// An exact status.
    Status(u16),
    /// A problem key: a failure kind id such as `read-timeout`, or `blocked-by-robots`.
    Kind(String),
    /// Any audit finding at or above this severity.
    Severity(siteaudit::model::Severity),
}

/// Failure kind ids accepted by `--fail-on`.
const KINDS: &[&str] = &[
    "dns",
    "connect-refused",
    "connect-timeout",
    "tls",
    "read-timeout",
    "connection-reset",
    "invalid-response",
    "too-many-redirects",
    "redirect-loop",
    "body-too-large",
    "decode",
    "blocked-by-robots",
    "invalid-url",
];

/// The value of `--fail-on`: comma-separated selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FailOn(pub(crate) Vec<Selector>);

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fail_on(s).map(FailOn)
    }
}

/// Parses `--fail-on` (comma-separated selectors).
pub(crate) fn parse_fail_on(s: &str) -> Result<Vec<Selector>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t {
            "none" => Ok(Selector::None),
            "any" => Ok(Selector::Any),
            "internal" => Ok(Selector::Internal),
            "external" => Ok(Selector::External),
            "error" => Ok(Selector::Severity(siteaudit::model::Severity::Error)),
            "warning" => Ok(Selector::Severity(siteaudit::model::Severity::Warning)),
            "notice" => Ok(Selector::Severity(siteaudit::model::Severity::Notice)),
            "4xx" => Ok(Selector::Class(4)),
            "5xx" => Ok(Selector::Class(5)),
            t if t.len() == 3 && t.parse::<u16>().is_ok_and(|c| (100..600).contains(&c)) => {
                Ok(Selector::Status(t.parse().expect("checked")))
            }
            t if KINDS.contains(&t) => Ok(Selector::Kind(t.to_string())),
            other => Err(format!(
                "unknown --fail-on selector {other:?} (expected none, any, internal, external, error, warning, notice, 4xx, 5xx, a status code or a failure kind such as read-timeout)"
            )),
        })
        .collect()
}

/// The facts of one problem that selectors look at.
#[derive(Debug)]
pub(crate) struct ProblemFacts<'a> {
    pub(crate) internal: bool,
    pub(crate) status: Option<u16>,
    pub(crate) key: &'a str,
    pub(crate) is_error: bool,
}

/// Whether a problem fails the run under `selectors`.
pub(crate) fn fails(selectors: &[Selector], p: &ProblemFacts<'_>) -> bool {
    selectors.iter().any(|s| match s {
        Selector::None => false,
        Selector::Any => p.is_error,
        Selector::Internal => p.is_error && p.internal,
        Selector::External => p.is_error && !p.internal,
        Selector::Class(c) => p.status.is_some_and(|s| s / 100 == *c) && p.key.starts_with("http-"),
        Selector::Status(code) => p.status == Some(*code) && p.key.starts_with("http-"),
        Selector::Kind(k) => p.key == k,
        Selector::Severity(_) => false,
    })
}

/// Whether an audit finding of this severity fails the run under `selectors`.
pub(crate) fn finding_fails(selectors: &[Selector], severity: siteaudit::model::Severity) -> bool {
    selectors
        .iter()
        .any(|s| matches!(s, Selector::Severity(min) if severity >= *min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let sel = parse_fail_on("5xx,read-timeout").unwrap();
        let p = |internal, status, key| ProblemFacts {
            internal,
            status,
            key,
            is_error: true,
        };
        assert!(fails(&sel, &p(false, Some(502), "http-502")));
        assert!(!fails(&sel, &p(true, Some(404), "http-404")));
        assert!(fails(&sel, &p(true, None, "read-timeout")));
        let internal = parse_fail_on("internal").unwrap();
        assert!(!fails(&internal, &p(false, Some(404), "http-404")));
        assert!(parse_fail_on("6xx").is_err());
        assert!(!fails(
            &parse_fail_on("none").unwrap(),
            &p(true, Some(500), "http-500")
        ));
    }
}
