//! `siteaudit checks`: the catalogue of implemented checks.

use siteaudit::checks::{CheckInfo, registry};
use siteaudit::report::Format;

use crate::exit::{self, Exit, Failure};
use crate::{ChecksArgs, output};

pub(crate) fn run(a: ChecksArgs) -> Result<Exit, Failure> {
    let infos: Vec<CheckInfo> = registry().iter().map(|c| *c.info()).collect();
    if !matches!(a.format, Format::Text | Format::Json | Format::Csv) {
        return Err(exit::usage(anyhow::anyhow!(
            "this command writes text, json or csv"
        )));
    }
    output::write_to(None, |w| {
        match a.format {
            Format::Json => {
                let rows: Vec<serde_json::Value> = infos
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "id": i.id,
                            "category": i.category,
                            "category_name": i.category_name(),
                            "severity": i.severity,
                            "title": i.title,
                            "why": i.why,
                            "fix": i.fix,
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut *w, &rows)?;
                writeln!(w)?;
            }
            Format::Csv => {
                let mut c = csv::Writer::from_writer(w);
                c.write_record(["id", "category", "severity", "title"])?;
                for i in &infos {
                    c.write_record([i.id, &i.category.to_string(), i.severity.id(), i.title])?;
                }
                c.flush()?;
            }
            _ => {
                let mut last = 0;
                for i in &infos {
                    if i.category != last {
                        writeln!(w, "\n{} {}", i.category, i.category_name())?;
                        last = i.category;
                    }
                    writeln!(w, "  {:<28} {:<8} {}", i.id, i.severity.id(), i.title)?;
                }
                writeln!(w, "\n{} checks", infos.len())?;
            }
        }
        Ok(())
    })
    .map_err(exit::usage)?;
    Ok(Exit::Clean)
}
