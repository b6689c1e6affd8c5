//! WAL checkpoints on a thread of their own.
//!
//! By default SQLite checkpoints a WAL database in the connection that commits, once
//! the log holds 1,000 pages: the store's writer copied the log into the database file
//! and synced both (two fsyncs) before it took its next batch, and whatever waited on
//! its commits waited too. In an audit that was most of its end: the checks wait for
//! the commit asked before the last (the report's flushes), and once the facts
//! stream ended the writer had a log of findings to copy; a re-audit of 100,000 pages
//! spent ~0.3 s of its ~2.2 s with both cores idle. Here another connection, on its own
//! thread, checkpoints each time the log has grown by as much, while the writer goes on.

use std::ffi::c_int;
use std::sync::mpsc;

use rusqlite::Connection;
use rusqlite::hooks::Wal;

/// Log frames (pages) committed between two checkpoints on the checkpoint thread:
/// SQLite's own default for checkpointing in the writer.
const EVERY_FRAMES: c_int = 1000;

/// Log frames from which the writer checkpoints itself, after each of its commits:
/// 256 MB of log at the store's 16 KB pages. The log only starts over from its
/// beginning at a write that finds all of it copied into the database, which a writer
/// that never waits for the checkpoint thread seldom finds: without this the log file
/// grows by everything a crawl writes. The checkpoint thread has copied most of it by
/// then. Past it (a long read, an audit's facts stream, kept the log from being copied)
/// the writer checkpoints after every commit, so the log starts over as soon as the
/// read ends: checkpointing there only each 16,384 frames more, leaving the copy to the
/// checkpoint thread, let a million-page crawl's log reach 2.4 GB instead of 1.4 GB.
const RESET_FRAMES: c_int = 16_384;

/// What a commit that left `frames` frames in the log calls for.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Nothing: the log has not grown by [`EVERY_FRAMES`] since the last checkpoint.
    Nothing,
    /// A checkpoint on the checkpoint thread.
    Background,
    /// A checkpoint in the writer, now (the log is [`RESET_FRAMES`] long or longer).
    Here,
}

/// Decides, after each commit, when to checkpoint.
#[derive(Debug, Default)]
struct Trigger {
    /// The log's length at the last checkpoint asked for.
    last: c_int,
}

impl Trigger {
    fn after_commit(&mut self, frames: c_int) -> Step {
        if frames < self.last {
            // The log started over.
            self.last = 0;
        }
        if frames >= RESET_FRAMES {
            self.last = frames;
            Step::Here
        } else if frames - self.last >= EVERY_FRAMES {
            self.last = frames;
            Step::Background
        } else {
            Step::Nothing
        }
    }
}

/// Checkpoints `writer`'s database on a new thread with the connection `own` (to the
/// same file), as the log grows, instead of in `writer` (whose automatic checkpoints
/// this replaces). The thread ends when `writer` is closed. Checkpoints are passive:
/// they copy what no reader still needs and never wait, so a failed or partial one
/// leaves the log as it was (still the database's newest pages) for the next.
pub(super) fn in_background(writer: &mut Connection, own: Connection) -> Result<(), String> {
    // One request waits at most: asked while one runs, the next runs right after.
    let (ask, asked) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("siteaudit-checkpoint".into())
        .spawn(move || {
            while asked.recv().is_ok() {
                if let Err(e) = own.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "background checkpoint");
                }
            }
        })
        .map_err(|e| e.to_string())?;
    let mut trigger = Trigger::default();
    writer
        .wal_hook(Some(move |wal: &mut Wal, frames: c_int| {
            match trigger.after_commit(frames) {
                Step::Nothing => {}
                Step::Background => {
                    let _ = ask.try_send(());
                }
                // Busy when the checkpoint thread is at it: the next commit asks again.
                Step::Here => {
                    let _ = wal.checkpoint();
                }
            }
            Ok(())
        }))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_every_thousand_frames_and_checkpoints_itself_at_the_limit() {
        let mut t = Trigger::default();
        assert_eq!(t.after_commit(10), Step::Nothing);
        assert_eq!(t.after_commit(999), Step::Nothing);
        assert_eq!(t.after_commit(1000), Step::Background);
        assert_eq!(t.after_commit(1500), Step::Nothing);
        assert_eq!(t.after_commit(2100), Step::Background);
        // The log started over: counted from its beginning again.
        assert_eq!(t.after_commit(40), Step::Nothing);
        assert_eq!(t.after_commit(1040), Step::Background);
        assert_eq!(t.after_commit(RESET_FRAMES - 1), Step::Background);
        assert_eq!(t.after_commit(RESET_FRAMES), Step::Here);
        // Still that long (a reader kept it from being copied): the writer tries again.
        assert_eq!(t.after_commit(RESET_FRAMES + 3), Step::Here);
        assert_eq!(t.after_commit(5), Step::Nothing);
    }

    /// The database file's size in bytes.
    fn size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    #[test]
    fn the_log_is_copied_into_the_database_by_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let open = || {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            )
            .unwrap();
            c
        };
        let mut writer = open();
        in_background(&mut writer, open()).unwrap();
        writer.execute_batch("CREATE TABLE t (b BLOB)").unwrap();
        let empty = size(&path);
        // ~1,500 frames of 4 KB, a commit each 50: past one background checkpoint.
        let blob = vec![7u8; 4000];
        for _ in 0..30 {
            let tx = writer.transaction().unwrap();
            for _ in 0..50 {
                tx.execute("INSERT INTO t VALUES (?1)", [&blob]).unwrap();
            }
            tx.commit().unwrap();
        }
        // Nothing else checkpoints (the writer's own automatic checkpoints are replaced):
        // the database file grows only by the checkpoint thread's copies.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while size(&path) < empty + 1000 * 4096 {
            assert!(
                std::time::Instant::now() < deadline,
                "the log was not copied: database {} bytes",
                size(&path)
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let rows: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1500);
    }
}
