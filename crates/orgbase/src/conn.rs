//! Accepting and serving HTTP/1.1 connections with limits (ADR 0013): a cap on open
//! connections, a deadline for a request's head, and an idle keep-alive timeout. The
//! request timeout itself is a middleware of the HTTP layer (it answers with a problem
//! document); this module only deals with sockets.
//!
//! Each connection is watched by a small state machine instead of hyper's own
//! `header_read_timeout`, because hyper starts that timer whenever it waits for a head,
//! including while a keep-alive connection sits idle, so the two timeouts could not be
//! set apart:
//!
//! * no request answered yet on the connection: the first head must be complete within
//!   `header_read_timeout` of the connection being accepted;
//! * after an answer, waiting for the next request: the connection is closed after
//!   `idle_timeout` without a byte; once the next head starts arriving, it must be
//!   complete within `header_read_timeout` of its first byte;
//! * while a request is being handled: no connection deadline (the request timeout of
//!   the HTTP layer bounds it).
//!
//! Bytes of the next head that arrive in the same read as the request before them sit
//! in hyper's buffer, unseen here: that head is bounded by the idle timeout, not the
//! header-read one (ADR 0013, "known gap").
//!
//! At `max_connections` open connections the server stops accepting; new ones wait in
//! the kernel's backlog until one closes (the deadlines above make sure one does).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower_service::Service;

/// Limits on connections. The defaults are those of the settings (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// A request's head must arrive within this (see the module documentation).
    pub header_read_timeout: Duration,
    /// A keep-alive connection without a request in progress is closed after this.
    pub idle_timeout: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// open connections finish their requests (idle ones close at once) and returns.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = u32::try_from(limits.max_connections.clamp(1, 1 << 20)).unwrap_or(1 << 20);
    let slots = Arc::new(Semaphore::new(max as usize));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, try again.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let closing = closing_rx.clone();
        tokio::spawn(async move {
            connection(stream, peer, router, limits, closing).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection holds a slot until it is closed.
    let _all = slots.acquire_many(max).await;
    Ok(())
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    limits: ConnLimits,
    mut closing: watch::Receiver<bool>,
) {
    let watch = Arc::new(Watch::new());
    let io = TokioIo::new(Watched {
        io: stream,
        watch: watch.clone(),
    });
    let svc = {
        let watch = watch.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let mut router = router.clone();
            let busy = Busy::new(watch.clone());
            req.extensions_mut().insert(ConnectInfo(peer));
            async move {
                let res = router.call(req).await;
                drop(busy);
                res
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(None).keep_alive(true);
    let mut conn = pin!(http.serve_connection(io, svc));
    let mut shutting_down = *closing.borrow();
    if shutting_down {
        conn.as_mut().graceful_shutdown();
    }
    // The deadline is checked lazily: the timer is armed at the deadline known now, but
    // never further than `check_every` ahead, and requests do not wake this loop. A
    // later first byte of a head sets a deadline at least `header_read_timeout` after
    // it, so no deadline is ever missed; state changes cost a lock, not a wake-up and a
    // new timer (before, each request woke it three times and armed two timers).
    let check_every = limits.header_read_timeout.min(limits.idle_timeout);
    let first = Instant::now() + check_every;
    let sleep = tokio::time::sleep_until(watch.deadline(&limits).map_or(first, |at| at.min(first)));
    let mut sleep = pin!(sleep);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            () = sleep.as_mut() => {
                let now = Instant::now();
                match watch.deadline(&limits) {
                    Some(at) if at <= now => {
                        // Dropping the connection closes the socket; nothing is in flight.
                        tracing::debug!(%peer, "connection closed: header-read or idle timeout");
                        return;
                    }
                    Some(at) => sleep.as_mut().reset(at.min(now + check_every)),
                    None => sleep.as_mut().reset(now + check_every),
                }
            }
            _ = closing.changed(), if !shutting_down => {
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
            }
        }
    }
}

/// What a connection is doing, for its deadlines.
struct Watch {
    state: Mutex<State>,
}

struct State {
    /// Requests being handled (more than one only with pipelining).
    in_flight: usize,
    /// Since when the connection waits for a request: accepted, or the last answer.
    waiting_since: Instant,
    /// When the first byte of the next head arrived (while waiting).
    head_started: Option<Instant>,
    /// Whether a request was answered on this connection.
    served: bool,
}

impl Watch {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                waiting_since: Instant::now(),
                head_started: None,
                served: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update leaves the state consistent; a poisoned lock is fine to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the connection is to be closed if nothing changes; `None` while a request
    /// is being handled.
    fn deadline(&self, limits: &ConnLimits) -> Option<Instant> {
        let s = self.lock();
        if s.in_flight > 0 {
            return None;
        }
        Some(match (s.served, s.head_started) {
            (false, _) => s.waiting_since + limits.header_read_timeout,
            (true, Some(t)) => t + limits.header_read_timeout,
            (true, None) => s.waiting_since + limits.idle_timeout,
        })
    }

    fn bytes_read(&self) {
        let mut s = self.lock();
        if s.in_flight == 0 && s.head_started.is_none() {
            s.head_started = Some(Instant::now());
        }
    }
}

/// A request in progress on a connection, from its head to its answer.
struct Busy(Arc<Watch>);

impl Busy {
    fn new(watch: Arc<Watch>) -> Self {
        {
            let mut s = watch.lock();
            s.in_flight += 1;
            s.head_started = None;
        }
        Self(watch)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut s = self.0.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            s.waiting_since = Instant::now();
            s.served = true;
        }
    }
}

/// The socket, telling its [`Watch`] when bytes arrive.
struct Watched {
    io: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
