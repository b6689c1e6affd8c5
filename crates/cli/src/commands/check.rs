//! `siteaudit check URL...`: the single-URL status checker.

use std::io::BufRead;

use anyhow::Context;
use siteaudit::report::CheckReport;

use crate::exit::{self, Exit, Failure, ProblemFacts};
use crate::{CheckArgs, output, settings};

pub(crate) async fn run(a: CheckArgs) -> Result<Exit, Failure> {
    let mut urls: Vec<String> = a.urls.into_iter().filter(|u| u != "-").collect();
    if urls.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line
                .context("cannot read URLs from standard input")
                .map_err(exit::usage)?;
            let t = line.trim();
            if !t.is_empty() && !t.starts_with('#') {
                urls.push(t.to_string());
            }
        }
    }
    if urls.is_empty() {
        return Err(exit::usage(anyhow::anyhow!(
            "no URLs to check: give them as arguments or one per line on standard input"
        )));
    }
    let file = settings::load_file(a.config.as_deref()).map_err(exit::usage)?;
    let config = file
        .merge(a.settings)
        .resolve(Vec::new())
        .map_err(exit::usage)?;
    let report = CheckReport::run(&config, urls).await.map_err(exit::usage)?;
    output::write_to(a.out.output.as_deref(), |w| {
        report.render(a.out.format, w)?;
        Ok(())
    })
    .map_err(exit::usage)?;
    let failing = report.results.iter().filter(|r| r.is_problem()).any(|r| {
        let key = match (&r.failure, r.status) {
            (Some(f), _) => f.id().to_string(),
            (None, Some(s)) => format!("http-{s}"),
            _ => String::new(),
        };
        exit::fails(
            &a.out.fail_on.0,
            &ProblemFacts {
                internal: true,
                status: r.status,
                key: &key,
                is_error: true,
            },
        )
    });
    Ok(if failing { Exit::Findings } else { Exit::Clean })
}
