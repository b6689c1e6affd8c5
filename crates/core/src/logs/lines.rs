//! Reading log files line by line (plain or gzip) and telling which kind of log
//! a file is from its first lines.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::LogError;

/// What a log file holds, decided from its first recognisable line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// nginx or Apache access log (`combined`, extra fields, JSON or a `--log-format`).
    Access,
    /// HAProxy `option httplog` lines (raw or syslog-framed) with its event messages.
    Haproxy,
    /// HAProxy's own stderr (`[WARNING]`/`[ALERT]` lines, no timestamps).
    HaproxyStderr,
    /// nginx error log.
    NginxError,
    /// Apache 2.4 error log.
    ApacheError,
    /// php-fpm master log.
    PhpFpm,
}

impl LogKind {
    /// Whether the file holds requests (as opposed to error lines).
    pub fn is_access(self) -> bool {
        matches!(self, LogKind::Access | LogKind::Haproxy)
    }
}

/// A file read line by line; `.gz` files are decompressed on the fly and
/// invalid UTF-8 is replaced rather than fatal. Lines are handed out from one
/// reused buffer without copying (the hot path of multi-GB logs).
pub struct LineReader {
    path: PathBuf,
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    text: String,
}

const CHUNK: usize = 1 << 18;

impl LineReader {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self, LogError> {
        let file = std::fs::File::open(path).map_err(|source| LogError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let reader: Box<dyn Read + Send> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
                file,
            )))
        } else {
            Box::new(file)
        };
        Ok(LineReader {
            path: path.to_path_buf(),
            reader,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            text: String::new(),
        })
    }

    fn fill(&mut self) -> Result<(), LogError> {
        // Keep the partial line, then read after it (growing for very long lines).
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self
            .reader
            .read(&mut self.buf[self.end..])
            .map_err(|source| LogError::Read {
                path: self.path.display().to_string(),
                source,
            })?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(())
    }

    /// The next line without its line ending, or `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<&str>, LogError> {
        let (from, to) = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let from = self.start;
                self.start += i + 1;
                break (from, from + i);
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let from = self.start;
                self.start = self.end;
                break (from, self.end);
            }
            self.fill()?;
        };
        let mut line = &self.buf[from..to];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        Ok(Some(match std::str::from_utf8(line) {
            Ok(s) => s,
            Err(_) => {
                self.text = String::from_utf8_lossy(line).into_owned();
                &self.text
            }
        }))
    }
}

/// The kind of one line, if it is recognisable on its own.
pub fn kind_of_line(line: &str) -> Option<LogKind> {
    let l = line.trim_start();
    let b = l.as_bytes();
    if b.len() > 19 && b[4] == b'/' && b[7] == b'/' && b[10] == b' ' && b[13] == b':' {
        return Some(LogKind::NginxError);
    }
    if l.starts_with("[WARNING]") || l.starts_with("[ALERT]") || l.starts_with("[NOTICE]") {
        return Some(LogKind::HaproxyStderr);
    }
    if super::error_log::apache_time(l).is_some() {
        return Some(LogKind::ApacheError);
    }
    if super::error_log::fpm_time(l).is_some() {
        return Some(LogKind::PhpFpm);
    }
    if super::haproxy::parse_line(l).is_some() {
        return Some(LogKind::Haproxy);
    }
    if super::access::parse_line(l).is_some() {
        return Some(LogKind::Access);
    }
    None
}

/// Decides the kind of a file from its first 200 lines (the first recognisable
/// line wins; HAProxy logs often start with health-check messages).
pub fn detect(path: &Path) -> Result<Option<LogKind>, LogError> {
    let mut r = LineReader::open(path)?;
    for _ in 0..200 {
        let Some(line) = r.next_line()? else { break };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(k) = kind_of_line(line) {
            return Ok(Some(k));
        }
        if super::haproxy::is_event(line) {
            return Ok(Some(LogKind::Haproxy));
        }
    }
    Ok(None)
}
