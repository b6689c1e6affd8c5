//! Where reports go: standard output or `--output FILE`; the database path.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Runs `render` against stdout or a file (written beside it, then renamed into place,
/// so a reader never sees half a report).
pub(crate) fn write_to(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match path {
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            render(&mut lock)?;
            lock.flush()?;
            Ok(())
        }
        Some(p) => {
            let tmp = p.with_extension("siteaudit-tmp");
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(file);
            render(&mut w)?;
            w.flush()
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            drop(w);
            std::fs::rename(&tmp, p).with_context(|| format!("cannot write {}", p.display()))?;
            Ok(())
        }
    }
}

/// Writes a crawl report where the output flags say: a directory of CSV
/// tables (`--output-dir`), a file, or standard output.
pub(crate) fn write_report(
    out: &crate::OutputArgs,
    report: &siteaudit::report::CrawlReport,
) -> anyhow::Result<()> {
    if let Some(dir) = &out.output_dir {
        if out.format != siteaudit::report::Format::Csv {
            anyhow::bail!("--output-dir writes CSV tables: use it with --format csv");
        }
        report
            .write_csv_dir(dir)
            .with_context(|| format!("cannot write CSV tables into {}", dir.display()))?;
        return Ok(());
    }
    write_to(out.output.as_deref(), |w| {
        report.render(out.format, w)?;
        Ok(())
    })
}

/// Whether the error is a closed stdout (`siteaudit … | head`): not an error.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe")
    })
}

/// The database path: `--db`, else `$XDG_DATA_HOME/siteaudit/siteaudit.db`, else
/// `~/.local/share/siteaudit/siteaudit.db`, else `./siteaudit.db`.
pub(crate) fn db_path(given: Option<PathBuf>) -> PathBuf {
    if let Some(p) = given {
        return p;
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match base {
        Some(b) => b.join("siteaudit").join("siteaudit.db"),
        None => PathBuf::from("siteaudit.db"),
    }
}
