//! Reads a body under two caps (wire bytes, decoded bytes), decompressing it ourselves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, BufReader};
use tokio_util::io::StreamReader;

use super::classify::classify_io;
use crate::model::FailureKind;

/// What reading one body gave.
#[derive(Debug, Default)]
pub struct BodyRead {
    /// Bytes read off the wire.
    pub wire_bytes: u64,
    /// Bytes after decompression.
    pub decoded_bytes: u64,
    /// Why reading stopped early.
    pub failure: Option<FailureKind>,
}

/// Marker error: the wire cap was hit.
#[derive(Debug)]
struct WireCapExceeded;

impl std::fmt::Display for WireCapExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("wire byte cap exceeded")
    }
}
impl std::error::Error for WireCapExceeded {}

pub(super) async fn read(
    response: reqwest::Response,
    encoding: Option<&str>,
    max_wire: u64,
    max_decoded: u64,
    sink: &mut (dyn FnMut(&[u8]) + Send),
) -> BodyRead {
    let wire = Arc::new(AtomicU64::new(0));
    let capped = Arc::new(AtomicBool::new(false));
    let (w, c) = (wire.clone(), capped.clone());
    let stream = response
        .bytes_stream()
        .map_err(std::io::Error::other)
        .and_then(move |chunk| {
            let total = w.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            let over = total > max_wire;
            if over {
                c.store(true, Ordering::Relaxed);
            }
            std::future::ready(if over {
                Err(std::io::Error::other(WireCapExceeded))
            } else {
                Ok(chunk)
            })
        });
    let raw = StreamReader::new(Box::pin(stream));
    let mut reader: Box<dyn AsyncRead + Unpin + Send> = match encoding {
        Some("gzip" | "x-gzip") => Box::new(GzipDecoder::new(BufReader::new(raw))),
        Some("br") => Box::new(BrotliDecoder::new(BufReader::new(raw))),
        Some("zstd") => Box::new(ZstdDecoder::new(BufReader::new(raw))),
        Some("deflate") => Box::new(ZlibDecoder::new(BufReader::new(raw))),
        _ => Box::new(raw),
    };
    let mut buf = vec![0u8; 32 * 1024];
    let mut decoded = 0u64;
    let mut failure = None;
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                decoded += n as u64;
                if decoded > max_decoded {
                    failure = Some(FailureKind::BodyTooLarge { limit: max_decoded });
                    break;
                }
                sink(&buf[..n]);
            }
            Err(e) => {
                failure = Some(if capped.load(Ordering::Relaxed) {
                    FailureKind::BodyTooLarge { limit: max_wire }
                } else {
                    classify_io(&e)
                });
                break;
            }
        }
    }
    BodyRead {
        wire_bytes: wire.load(Ordering::Relaxed),
        decoded_bytes: decoded.min(max_decoded),
        failure,
    }
}
