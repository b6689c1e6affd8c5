//! `siteaudit crawls`: the crawls kept in the database.

use siteaudit::report::Format;

use super::open_store;
use crate::exit::{self, Exit, Failure};
use crate::{CrawlsArgs, output};

pub(crate) fn run(a: CrawlsArgs) -> Result<Exit, Failure> {
    let store = open_store(a.db.db)?;
    let crawls = store.crawls().map_err(exit::no_start)?;
    if !matches!(a.format, Format::Text | Format::Json | Format::Csv) {
        return Err(exit::usage(anyhow::anyhow!(
            "this command writes text, json or csv"
        )));
    }
    output::write_to(None, |w| {
        match a.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, &crawls)?;
                writeln!(w)?;
            }
            Format::Csv => {
                let mut c = csv::Writer::from_writer(w);
                c.write_record([
                    "id",
                    "state",
                    "urls",
                    "done",
                    "started_at",
                    "finished_at",
                    "start_url",
                ])?;
                for k in &crawls {
                    c.write_record([
                        k.id.to_string(),
                        k.state.clone(),
                        k.urls.to_string(),
                        k.done.to_string(),
                        k.started_at.clone(),
                        k.finished_at.clone().unwrap_or_default(),
                        k.start_url.clone(),
                    ])?;
                }
                c.flush()?;
            }
            _ => {
                if crawls.is_empty() {
                    writeln!(w, "no crawls yet")?;
                }
                for k in &crawls {
                    writeln!(
                        w,
                        "#{:<5} {:<12} {:>8}/{:<8} {}  {}",
                        k.id, k.state, k.done, k.urls, k.started_at, k.start_url
                    )?;
                }
            }
        }
        Ok(())
    })
    .map_err(exit::usage)?;
    Ok(Exit::Clean)
}
