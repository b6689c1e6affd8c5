//! `siteaudit logs FILE...`: the server's own view of its errors.

use anyhow::anyhow;
use siteaudit::report::Format;

use crate::exit::{self, Exit, Failure};
use crate::{LogsArgs, output};

pub(crate) fn run(a: LogsArgs) -> Result<Exit, Failure> {
    if !matches!(a.format, Format::Text | Format::Json) {
        return Err(exit::usage(anyhow!("`logs` writes text or json")));
    }
    if !matches!(a.fail_on.as_str(), "5xx" | "any" | "none") {
        return Err(exit::usage(anyhow!(
            "--fail-on for logs is 5xx, any or none, not {:?}",
            a.fail_on
        )));
    }
    let paths: Vec<&std::path::Path> = a.files.iter().map(|p| p.as_path()).collect();
    let report = siteaudit::logs::analyze(&paths).map_err(exit::usage)?;
    output::write_to(a.output.as_deref(), |w| {
        if a.format == Format::Json {
            serde_json::to_writer_pretty(&mut *w, &report)?;
            writeln!(w)?;
        } else {
            w.write_all(report.text().as_bytes())?;
        }
        Ok(())
    })
    .map_err(exit::usage)?;
    let failing = report.problems.iter().any(|p| {
        let status: u16 = p.status.parse().unwrap_or(0);
        match a.fail_on.as_str() {
            "none" => false,
            "any" => true,
            _ => status >= 500 || (status < 400 && p.cause != "client_aborted"),
        }
    });
    Ok(if failing { Exit::Findings } else { Exit::Clean })
}
