//! Reads a body under two caps (wire bytes, decoded bytes), decompressing it ourselves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};
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

/// The decoded body so far, handed on under its cap.
struct Decoded<'s> {
    bytes: u64,
    max: u64,
    failure: Option<FailureKind>,
    sink: &'s mut (dyn FnMut(&[u8]) + Send),
}

impl Decoded<'_> {
    /// Hands `data` on, or, past the cap, notes the failure: whether to read on.
    fn take(&mut self, data: &[u8]) -> bool {
        self.bytes += data.len() as u64;
        if self.bytes > self.max {
            self.failure = Some(FailureKind::BodyTooLarge { limit: self.max });
            return false;
        }
        (self.sink)(data);
        true
    }
}

/// A decoder of `encoding` over `raw`, or `raw` back when the body is sent as it is.
fn decoder<'r, R>(
    encoding: Option<&str>,
    raw: R,
) -> Result<Box<dyn AsyncRead + Unpin + Send + 'r>, R>
where
    R: tokio::io::AsyncBufRead + Unpin + Send + 'r,
{
    Ok(match encoding {
        Some("gzip" | "x-gzip") => Box::new(GzipDecoder::new(raw)),
        Some("br") => Box::new(BrotliDecoder::new(raw)),
        Some("zstd") => Box::new(ZstdDecoder::new(raw)),
        Some("deflate") => Box::new(ZlibDecoder::new(raw)),
        _ => return Err(raw),
    })
}

/// Reads `response`'s body, decoding `encoding`, into `sink`: at most `max_wire` bytes
/// off the wire and `max_decoded` decoded.
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
    let mut decoded = Decoded {
        bytes: 0,
        max: max_decoded,
        failure: None,
        sink,
    };
    // A read error: the wire cap when it was hit (see the stream above), else how the
    // connection failed.
    let failed = |e: &std::io::Error| match capped.load(Ordering::Relaxed) {
        true => FailureKind::BodyTooLarge { limit: max_wire },
        false => classify_io(e),
    };
    match decoder(encoding, StreamReader::new(Box::pin(stream))) {
        // Compressed: decoded through a buffer sized once for the body.
        Ok(mut reader) => {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) if decoded.take(&buf[..n]) => {}
                    Ok(_) => break,
                    Err(e) => {
                        decoded.failure = Some(failed(&e));
                        break;
                    }
                }
            }
        }
        // As sent: each chunk goes to the sink as it arrives, where copying it into a
        // zeroed buffer first cost ~5% of a crawl's instructions.
        Err(raw) => {
            let mut stream = raw.into_inner();
            loop {
                match stream.next().await {
                    None => break,
                    Some(Ok(chunk)) if decoded.take(&chunk) => {}
                    Some(Ok(_)) => break,
                    Some(Err(e)) => {
                        decoded.failure = Some(failed(&e));
                        break;
                    }
                }
            }
        }
    }
    let (decoded, failure) = (decoded.bytes, decoded.failure);
    BodyRead {
        wire_bytes: wire.load(Ordering::Relaxed),
        decoded_bytes: decoded.min(max_decoded),
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a body sent in `chunks`, what reached the sink with it.
    async fn read_chunks(
        chunks: &[&[u8]],
        encoding: Option<&str>,
        max_wire: u64,
        max_decoded: u64,
    ) -> (BodyRead, Vec<u8>) {
        let chunks: Vec<_> = chunks
            .iter()
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let response = reqwest::Response::from(hyper::Response::new(body));
        let mut got = Vec::new();
        let read = read(response, encoding, max_wire, max_decoded, &mut |b| {
            got.extend_from_slice(b)
        })
        .await;
        (read, got)
    }

    #[tokio::test]
    async fn a_body_sent_as_it_is_reaches_the_sink_whole_and_in_order() {
        let (read, got) = read_chunks(&[b"<p>one", b"", b" two</p>"], None, 100, 100).await;
        assert_eq!(got, b"<p>one two</p>");
        assert_eq!((read.wire_bytes, read.decoded_bytes), (14, 14));
        assert_eq!(read.failure, None);
        // An encoding nobody compresses with is read as it is.
        let (_, got) = read_chunks(&[b"abc"], Some("identity"), 100, 100).await;
        assert_eq!(got, b"abc");
    }

    #[tokio::test]
    async fn each_cap_stops_a_body_sent_as_it_is() {
        let (read, got) = read_chunks(&[b"12345", b"67890", b"abc"], None, 100, 8).await;
        assert_eq!(read.failure, Some(FailureKind::BodyTooLarge { limit: 8 }));
        assert_eq!(read.decoded_bytes, 8);
        assert_eq!(got, b"12345", "nothing past the cap is handed on");
        let (read, got) = read_chunks(&[b"12345", b"67890", b"abc"], None, 8, 100).await;
        assert_eq!(read.failure, Some(FailureKind::BodyTooLarge { limit: 8 }));
        assert_eq!(got, b"12345");
    }

    #[tokio::test]
    async fn a_compressed_body_is_decoded_across_chunks_under_its_cap() {
        let text = "<a href=/x>x</a>".repeat(5_000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let (head, tail) = gz.split_at(gz.len() / 3);
        let (read, got) = read_chunks(&[head, tail], Some("gzip"), 1 << 20, 1 << 20).await;
        assert_eq!(read.failure, None);
        assert_eq!(got, text.as_bytes());
        assert_eq!(read.wire_bytes, gz.len() as u64);
        assert_eq!(read.decoded_bytes, text.len() as u64);
        let (read, got) = read_chunks(&[head, tail], Some("gzip"), 1 << 20, 1000).await;
        assert_eq!(
            read.failure,
            Some(FailureKind::BodyTooLarge { limit: 1000 })
        );
        assert!(got.len() <= 1000);
    }
}
