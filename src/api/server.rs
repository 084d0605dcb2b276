//! The HTTP server under the API, accepted by hand so that nobody on the
//! hall LAN can stall it.
//!
//! - A request's head must arrive within [`Limits::header_timeout`]; the
//!   same limit closes a keep-alive connection that sends nothing.
//! - At most [`Limits::max_connections`] connections are open, which
//!   leaves file descriptors for the store, the roster and the devices
//!   whatever the process's limit. When the limit is reached, the oldest
//!   connection that is not serving a request (a half-sent request, an
//!   idle keep-alive) is closed to make room; if every one is busy, the
//!   newcomer is closed at once instead of waiting in the backlog.
//! - A connection whose client stops reading (a display that never reads
//!   its event stream) is closed once nothing could be written to it for
//!   [`Limits::write_stall`], so nothing piles up for it.
//! - An accept that fails (out of file descriptors) backs off instead of
//!   spinning.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request's head (and a keep-alive connection's next request) must
    /// arrive within this.
    pub header_timeout: Duration,
    /// A connection nothing could be written to for this long is closed.
    pub write_stall: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

/// Connections at most, when the file limit allows.
pub const MAX_CONNECTIONS: usize = 512;
/// File descriptors kept for everything but connections: the store's
/// connections (three files each in WAL mode), roster files, devices, logs.
pub const FD_RESERVE: usize = 128;

impl Limits {
    /// The limits of this process: [`MAX_CONNECTIONS`], or fewer when the
    /// open-file limit would not leave [`FD_RESERVE`] descriptors.
    pub fn for_this_process() -> Limits {
        use nix::sys::resource::{getrlimit, Resource};
        let files = getrlimit(Resource::RLIMIT_NOFILE)
            .map(|(soft, _)| usize::try_from(soft).unwrap_or(usize::MAX))
            .unwrap_or(1024);
        Limits {
            header_timeout: Duration::from_secs(10),
            write_stall: Duration::from_secs(30),
            max_connections: MAX_CONNECTIONS
                .min(files.saturating_sub(FD_RESERVE))
                .max(16),
        }
    }
}

/// One open connection.
struct Conn {
    accepted: Instant,
    /// Requests being served (until their response body is dropped).
    active: Arc<AtomicUsize>,
    close: CancellationToken,
}

/// The open connections.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Conn>>,
    next: AtomicU64,
    /// Connections closed since the start.
    closed: AtomicU64,
}

impl Registry {
    /// Makes room for one more connection: under the limit, or by closing
    /// the oldest one not serving a request. `None`: every one is busy.
    fn admit(&self, max: usize) -> Option<(u64, Arc<AtomicUsize>, CancellationToken)> {
        let mut conns = crate::sync::lock(&self.conns);
        if conns.len() >= max {
            let oldest_idle = conns
                .iter()
                .filter(|(_, c)| c.active.load(Ordering::SeqCst) == 0)
                .min_by_key(|(_, c)| c.accepted)
                .map(|(id, _)| *id)?;
            if let Some(c) = conns.remove(&oldest_idle) {
                c.close.cancel();
            }
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (active, close) = (Arc::new(AtomicUsize::new(0)), CancellationToken::new());
        conns.insert(
            id,
            Conn {
                accepted: Instant::now(),
                active: active.clone(),
                close: close.clone(),
            },
        );
        Some((id, active, close))
    }

    fn leave(&self, id: u64) {
        crate::sync::lock(&self.conns).remove(&id);
        self.closed.fetch_add(1, Ordering::SeqCst);
    }

    fn len(&self) -> usize {
        crate::sync::lock(&self.conns).len()
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (each connection is told to close after its
/// current request; the event streams end on their own).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let registry = Arc::new(Registry::default());
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    tokio::pin!(shutdown);
    let mut backoff = Backoff::default();
    tracker.spawn(give_memory_back(registry.clone(), stop.clone()));
    tracing::info!(
        max_connections = limits.max_connections,
        header_timeout = ?limits.header_timeout,
        "serving"
    );
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.reset();
                stream
            }
            Err(e) => {
                backoff.wait(&e).await;
                continue;
            }
        };
        let Some((id, active, close)) = registry.admit(limits.max_connections) else {
            tracing::warn!(
                open = registry.len(),
                "connection refused: every connection is serving a request"
            );
            drop(stream);
            continue;
        };
        let conn = Connection {
            stream,
            app: app.clone(),
            limits,
            active,
            close,
            stop: stop.clone(),
        };
        let registry = registry.clone();
        tracker.spawn(async move {
            conn.run().await;
            registry.leave(id);
        });
    }
    stop.cancel();
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// How often the server looks whether many connections went away.
const TRIM_CHECK: Duration = Duration::from_secs(2);

/// After connections went (a burst of displays, an attack), hands the
/// memory they used back to the system: glibc keeps freed memory in its
/// arenas otherwise, and the daemon would stay as large as its worst
/// minute. Trims after every 32 closed connections, and once more when the
/// closing stops.
async fn give_memory_back(registry: Arc<Registry>, stop: CancellationToken) {
    let mut at_trim = 0;
    let mut at_tick = 0;
    let mut every = tokio::time::interval(TRIM_CHECK);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.cancelled() => return,
        }
        let closed = registry.closed.load(Ordering::SeqCst);
        let since_trim = closed - at_trim;
        if since_trim >= 32 || (since_trim > 0 && closed == at_tick) {
            trim();
            tracing::debug!(since_trim, "memory handed back after connections went");
            at_trim = closed;
        }
        at_tick = closed;
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Doubles the pause after each failed accept, 50 ms up to 1 s.
#[derive(Default)]
struct Backoff(Option<Duration>);

impl Backoff {
    async fn wait(&mut self, e: &io::Error) {
        let next = match self.0 {
            None => {
                tracing::warn!(error = %e, "accept failed; backing off");
                Duration::from_millis(50)
            }
            Some(d) => (d * 2).min(Duration::from_secs(1)),
        };
        self.0 = Some(next);
        tokio::time::sleep(next).await;
    }

    fn reset(&mut self) {
        if self.0.take().is_some() {
            tracing::info!("accepting connections again");
        }
    }
}

/// One accepted connection and what it needs.
struct Connection {
    stream: TcpStream,
    app: Router,
    limits: Limits,
    active: Arc<AtomicUsize>,
    close: CancellationToken,
    stop: CancellationToken,
}

impl Connection {
    async fn run(self) {
        let stalled = Arc::new(Mutex::new(None));
        let io = TokioIo::new(StallGuard {
            inner: self.stream,
            stalled: stalled.clone(),
        });
        let (app, active) = (self.app, self.active);
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let guard = ActiveGuard::new(active.clone());
            let mut app = app.clone();
            async move {
                use tower_service::Service;
                let resp = app.call(req).await?;
                Ok::<_, std::convert::Infallible>(resp.map(|b| Body::new(Tracked { b, guard })))
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .serve_connection(io, service);
        tokio::pin!(conn);
        let mut check = tokio::time::interval(Duration::from_secs(1));
        let mut closing = false;
        loop {
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = self.close.cancelled() => return,
                _ = self.stop.cancelled(), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = check.tick() => {
                    let since = *crate::sync::lock(&stalled);
                    if since.is_some_and(|s: Instant| s.elapsed() >= self.limits.write_stall) {
                        tracing::info!("closing a connection that stopped reading");
                        return;
                    }
                }
            }
        }
    }
}

/// Counts a request as served until its response body is dropped (sent,
/// or given up with the connection).
struct ActiveGuard(Arc<AtomicUsize>);

impl ActiveGuard {
    fn new(active: Arc<AtomicUsize>) -> ActiveGuard {
        active.fetch_add(1, Ordering::SeqCst);
        ActiveGuard(active)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted while it lives.
struct Tracked {
    b: Body,
    guard: ActiveGuard,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let _ = &self.guard;
        Pin::new(&mut self.b).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.b.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.b.size_hint()
    }
}

/// A socket that notes since when nothing could be written to it.
struct StallGuard {
    inner: TcpStream,
    stalled: Arc<Mutex<Option<Instant>>>,
}

impl StallGuard {
    fn note(&self, progress: bool) {
        let mut s = crate::sync::lock(&self.stalled);
        if progress {
            *s = None;
        } else if s.is_none() {
            *s = Some(Instant::now());
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(!r.is_pending());
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(!r.is_pending());
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_house_closes_its_oldest_idle_connection_and_never_a_busy_one() {
        let r = Registry::default();
        let (a, a_active, a_close) = r.admit(2).unwrap();
        let (_, _, b_close) = r.admit(2).unwrap();
        // A serves a request: B (idle) goes to make room.
        a_active.fetch_add(1, Ordering::SeqCst);
        let (_, c_active, _) = r.admit(2).unwrap();
        assert!(b_close.is_cancelled() && !a_close.is_cancelled());
        assert_eq!(r.len(), 2);
        // Everyone busy: no room.
        c_active.fetch_add(1, Ordering::SeqCst);
        assert!(r.admit(2).is_none());
        r.leave(a);
        assert!(r.admit(2).is_some());
    }

    #[test]
    fn the_limit_leaves_descriptors_for_the_store_and_devices() {
        let l = Limits::for_this_process();
        assert!(l.max_connections <= MAX_CONNECTIONS);
        assert!(l.max_connections >= 16);
    }
}
