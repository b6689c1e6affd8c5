//! Where reports go: standard output or `--output FILE`; the database path.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Runs `render` against stdout or a file. A regular file is written beside its
/// target, then renamed into place, so a reader never sees half a report; anything
/// else (`/dev/null`, `/dev/stdout`, a FIFO) is written in place, because renaming over
/// it would replace the device with a plain file.
pub(crate) fn write_to(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some(p) = path else {
        let stdout = std::io::stdout();
        let mut lock = std::io::BufWriter::new(stdout.lock());
        render(&mut lock)?;
        lock.flush()?;
        return Ok(());
    };
    // Follows symlinks: a link to a report is updated where it points, not replaced.
    let target = match std::fs::metadata(p) {
        Ok(m) if !m.is_file() => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .with_context(|| format!("cannot open {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            render(&mut w)?;
            w.flush()
                .with_context(|| format!("cannot write {}", p.display()))?;
            return Ok(());
        }
        Ok(_) => {
            std::fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))?
        }
        Err(_) => p.to_path_buf(),
    };
    let mut tmp_name = target.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".siteaudit-tmp");
    let tmp = target.with_file_name(tmp_name);
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let written = render(&mut w).and_then(|()| {
        w.flush()
            .with_context(|| format!("cannot write {}", tmp.display()))
    });
    drop(w);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", p.display()))?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    fn hello(w: &mut dyn Write) -> anyhow::Result<()> {
        w.write_all(b"hello")?;
        Ok(())
    }

    #[test]
    fn regular_file_is_replaced_whole_and_no_temp_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.json");
        std::fs::write(&out, "old and longer").unwrap();
        write_to(Some(&out), hello).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_render_keeps_the_old_file_and_removes_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.json");
        std::fs::write(&out, "old").unwrap();
        let e = write_to(Some(&out), |_| anyhow::bail!("boom")).unwrap_err();
        assert_eq!(e.to_string(), "boom");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn symlink_is_kept_and_its_target_updated() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_to(Some(&link), hello).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "hello");
    }

    // The bug this guards: `-o /dev/null` run as root renamed a temp file over the
    // device, and every later `>/dev/null` on the machine filled a plain file.
    #[test]
    fn fifo_is_written_in_place_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_to(Some(&fifo), hello).unwrap();
        assert_eq!(reader.join().unwrap(), "hello");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo());
    }
}
