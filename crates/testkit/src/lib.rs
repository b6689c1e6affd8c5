//! Test-only support: an HTTP/1.1 server on `127.0.0.1:0` that serves a scripted site
//! and misbehaves on purpose (hangs, resets mid-body, garbage replies, slow answers).
//!
//! It is written on raw TCP rather than with an HTTP framework because the point is to
//! send what no well-behaved framework would: a truncated body, a non-HTTP reply, a
//! connection reset. It runs on its own thread and runtime so tests can drive the real
//! `siteaudit` binary synchronously. It counts requests and fully served responses per
//! path, which is how the tests prove a URL was fetched exactly once.

pub mod tls;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, in order (Content-Length is added unless `chunked`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A response with this status and an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A 200 `text/html; charset=utf-8` page.
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body)
    }

    /// A 200 response with this content type.
    pub fn typed(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::status(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// A redirect to `location` with this status.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status).header("Location", location)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn head_bytes(&self, content_length: usize) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).into_bytes();
        for (k, v) in &self.headers {
            let _ = write!(out, "{k}: {v}\r\n");
        }
        let _ = write!(out, "Content-Length: {content_length}\r\n\r\n");
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// What the server does for one path.
#[derive(Debug, Clone)]
pub enum Route {
    /// Answer normally.
    Reply(Reply),
    /// Answer after a delay.
    Delay(Duration, Reply),
    /// Read the request and never answer.
    Hang,
    /// Send the headers and half the body of `Reply` (Content-Length says all of it),
    /// then reset the connection.
    ResetMidBody(Reply),
    /// Send these bytes (not HTTP) and close.
    Garbage(Vec<u8>),
    /// Answer from a list in turn; the last one repeats.
    Sequence(Vec<Reply>),
    /// Send headers, then body bytes forever (well past any cap).
    Endless(Reply),
    /// Answer HEAD with 405 Method Not Allowed and GET normally.
    NoHead(Reply),
}

/// Counts for one path.
#[derive(Debug, Default)]
struct Counts {
    requests: usize,
    served: usize,
}

#[derive(Debug, Default)]
struct Shared {
    routes: HashMap<String, Route>,
    counts: Mutex<HashMap<String, Counts>>,
    /// After this many fully served responses, every request hangs (0: never).
    stall_after: AtomicUsize,
    served_total: AtomicUsize,
    /// When each request arrived, with its path, in order.
    log: Mutex<Vec<(std::time::Instant, String)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts a request in flight for as long as it lives.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A scripted site. Unknown paths answer 404.
#[derive(Debug, Default)]
pub struct Site {
    routes: HashMap<String, Route>,
}

impl Site {
    /// An empty site.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves an HTML page at `path` (path and query, e.g. `/a?x=1`).
    pub fn page(self, path: &str, html: &str) -> Self {
        self.reply(path, Reply::html(html))
    }

    /// Serves a reply at `path`.
    pub fn reply(self, path: &str, reply: Reply) -> Self {
        self.route(path, Route::Reply(reply))
    }

    /// Sets the route of `path`.
    pub fn route(mut self, path: &str, route: Route) -> Self {
        self.routes.insert(path.to_string(), route);
        self
    }

    /// Starts serving on `127.0.0.1:0`.
    pub fn start(self) -> Server {
        self.start_with(|_| Vec::new())
    }

    /// Starts serving, adding the routes `more` builds from the server's root URL
    /// (`http://127.0.0.1:PORT`): for bodies that must name absolute URLs (sitemaps).
    pub fn start_with(mut self, more: impl FnOnce(&str) -> Vec<(String, Reply)>) -> Server {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        for (path, reply) in more(&format!("http://{addr}")) {
            self.routes.insert(path, Route::Reply(reply));
        }
        let shared = Arc::new(Shared {
            routes: self.routes,
            ..Shared::default()
        });
        let s = shared.clone();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("testkit-{addr}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("listener");
                    tokio::select! {
                        _ = stop_rx => {}
                        () = accept_loop(listener, s) => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(100));
            })
            .expect("spawn server thread");
        Server {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

/// A running server; stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received for `path` (any method).
    pub fn requests(&self, path: &str) -> usize {
        self.counts(path).0
    }

    /// Responses fully sent for `path`.
    pub fn served(&self, path: &str) -> usize {
        self.counts(path).1
    }

    /// Fully sent responses per path.
    pub fn served_by_path(&self) -> HashMap<String, usize> {
        lock(&self.shared.counts)
            .iter()
            .filter(|(_, c)| c.served > 0)
            .map(|(p, c)| (p.clone(), c.served))
            .collect()
    }

    /// After `n` fully served responses in all, every further request hangs
    /// (0 turns this off). Used to stop a crawl mid-way at a known point.
    pub fn stall_after(&self, n: usize) {
        self.shared.stall_after.store(n, Ordering::SeqCst);
    }

    /// When each request arrived and for which path, in arrival order.
    pub fn request_log(&self) -> Vec<(std::time::Instant, String)> {
        lock(&self.shared.log).clone()
    }

    /// The most requests the server was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Responses fully sent, all paths.
    pub fn served_total(&self) -> usize {
        self.shared.served_total.load(Ordering::SeqCst)
    }

    fn counts(&self, path: &str) -> (usize, usize) {
        lock(&self.shared.counts)
            .get(path)
            .map_or((0, 0), |c| (c.requests, c.served))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = serve(stream, shared).await;
        });
    }
}

/// Reads one request head; `None` at end of stream.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Ok(Some(head));
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(head) = read_head(&mut stream, &mut buf).await? {
        let mut parts = head.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        lock(&shared.log).push((std::time::Instant::now(), path.clone()));
        let _in_flight = InFlight::new(&shared);
        let n = {
            let mut counts = lock(&shared.counts);
            let c = counts.entry(path.clone()).or_default();
            c.requests += 1;
            c.requests
        };
        let stall = shared.stall_after.load(Ordering::SeqCst);
        if stall > 0 && shared.served_total.load(Ordering::SeqCst) >= stall {
            std::future::pending::<()>().await;
        }
        let route =
            shared.routes.get(&path).cloned().unwrap_or_else(|| {
                Route::Reply(Reply::html("<h1>Not found</h1>").with_status(404))
            });
        let head_only = method == "HEAD";
        let reply = match route {
            Route::Reply(r) => r,
            Route::Delay(d, r) => {
                tokio::time::sleep(d).await;
                r
            }
            Route::Hang => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Route::Garbage(bytes) => {
                stream.write_all(&bytes).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Route::ResetMidBody(r) => {
                stream.write_all(&r.head_bytes(r.body.len())).await?;
                stream.write_all(&r.body[..r.body.len() / 2]).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            Route::Endless(r) => {
                let mut head = format!("HTTP/1.1 {} OK\r\n", r.status).into_bytes();
                for (k, v) in &r.headers {
                    let _ = write!(head, "{k}: {v}\r\n");
                }
                head.extend_from_slice(b"Connection: close\r\n\r\n");
                stream.write_all(&head).await?;
                let chunk = vec![b'a'; 64 * 1024];
                loop {
                    stream.write_all(&chunk).await?;
                }
            }
            Route::NoHead(_) if head_only => Reply::status(405).header("Allow", "GET"),
            Route::NoHead(r) => r,
            Route::Sequence(list) => list[(n - 1).min(list.len() - 1)].clone(),
        };
        let mut out = reply.head_bytes(reply.body.len());
        if !head_only {
            out.extend_from_slice(&reply.body);
        }
        stream.write_all(&out).await?;
        stream.flush().await?;
        lock(&shared.counts).entry(path).or_default().served += 1;
        shared.served_total.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}

impl Reply {
    /// The same reply with another status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

/// Gzips `bytes` (for `Content-Encoding: gzip` bodies and `.gz` sitemaps).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// A port on 127.0.0.1 with nothing listening (bound, then closed).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}
