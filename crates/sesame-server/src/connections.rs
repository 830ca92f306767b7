//! Serving one port: accepting connections and serving HTTP/1.1 on them with hyper, with the
//! limits a server facing the internet needs and that `axum::serve` does not have — a time limit
//! for each request head, one for idle kept-alive connections, and a bound on open connections
//! beyond which a connection is answered 503 at once instead of waiting — and a graceful shutdown
//! that lets answers in progress finish. Requests carry `ConnectInfo<SocketAddr>` as with
//! `axum::serve`.
//!
//! The timeouts are kept here rather than by hyper's own header timer because that timer also
//! runs while a kept-alive connection waits for its next request: with it alone a connection
//! could not be kept idle longer than a request head may take to arrive (Go's server, Kratos's,
//! keeps the two apart: a few seconds for a head, minutes of idleness).

use crate::config::Connections;
use crate::error::{render, set_retry_after};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use sesame_types::{ErrorEnvelope, GenericError};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// Connections over the bound that may be in the middle of getting their 503 at once; beyond
/// this many (a flood), a connection is closed as soon as it is accepted. Each holds a file
/// descriptor for at most [`SHED_GRACE`] twice over.
const MAX_SHEDDING: usize = 256;

/// How long a connection over the bound has to send its request before it is closed.
const SHED_GRACE: Duration = Duration::from_secs(1);

/// A pause after an accept failure that is not the client's doing (out of file descriptors):
/// the listener would fail again at once, and connections closing meanwhile make room.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// `error.reason` of the 503 for a connection over the bound.
const OVERLOADED: &str =
    "The server has as many open connections as it accepts. Please retry in a moment.";

/// How often, at most, a port says that it is turning connections away.
const SHED_WARNING_EVERY: Duration = Duration::from_secs(10);

/// Serves `service` on `listener` (the `port` named in logs: `public`, `admin`) until `stop` turns
/// true, then stops accepting and waits for every connection to finish (idle ones close at once,
/// busy ones after their answer).
pub async fn serve<S>(
    port: &'static str,
    listener: TcpListener,
    service: S,
    limits: Connections,
    mut stop: watch::Receiver<bool>,
) where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let open = Arc::new(Semaphore::new(limits.max_connections as usize));
    let shedding = Arc::new(Semaphore::new(MAX_SHEDDING));
    // Every connection task holds a receiver; the sender sees them all gone when they finish.
    let (all_closed, connection_alive) = watch::channel(());
    let mut warned: Option<Instant> = None;
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let connection = Connection {
                    service: service.clone(),
                    limits,
                    remote,
                    stop: stop.clone(),
                };
                let alive = connection_alive.clone();
                tokio::spawn(async move {
                    connection.run(stream).await;
                    drop(permit);
                    drop(alive);
                });
            }
            Err(_) => {
                if warned.is_none_or(|at| at.elapsed() >= SHED_WARNING_EVERY) {
                    warned = Some(Instant::now());
                    tracing::warn!(
                        "the {port} port has {} open connections, its serve.{port}.max_connections: \
                         new ones are answered 503 until some close",
                        limits.max_connections
                    );
                }
                shed_or_close(stream, &shedding, &connection_alive);
            }
        }
    }
    // New connections are refused from here on.
    drop(listener);
    drop(connection_alive);
    all_closed.closed().await;
}

/// Answers a connection over the bound with 503, or closes it at once during a flood.
fn shed_or_close(
    stream: TcpStream,
    shedding: &Arc<Semaphore>,
    connection_alive: &watch::Receiver<()>,
) {
    match shedding.clone().try_acquire_owned() {
        Ok(permit) => {
            let alive = connection_alive.clone();
            tokio::spawn(async move {
                shed(stream).await;
                drop(permit);
                drop(alive);
            });
        }
        // Closed unanswered: answering a flood would cost what the bound saves.
        Err(_) => drop(stream),
    }
}

/// Resolves once `stop` is true (or its sender is gone: nothing can stop the server then, and a
/// server that cannot be stopped should not linger either).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn accept_failed(e: &io::Error) {
    // A client that gave up before its connection was accepted is nobody's problem.
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// Answers one request on a connection over the bound with 503 and closes it.
async fn shed(stream: TcpStream) {
    let answer = hyper::service::service_fn(|_request: hyper::Request<Incoming>| async {
        Ok::<_, Infallible>(overloaded())
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    // Reading the request first lets the client see the answer instead of a reset connection.
    http.keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(SHED_GRACE);
    let connection = http.serve_connection(TokioIo::new(stream), answer);
    let _ = tokio::time::timeout(SHED_GRACE * 2, connection).await;
}

/// 503 with `Retry-After`, in Kratos's error envelope.
fn overloaded() -> Response {
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let envelope = ErrorEnvelope {
        error: GenericError {
            code: Some(status.as_u16()),
            status: status.canonical_reason().map(str::to_owned),
            reason: Some(OVERLOADED.into()),
            message: "The service is temporarily unavailable, please try again later".into(),
            ..GenericError::default()
        },
        extra: Default::default(),
    };
    let mut res = render(status, &envelope);
    set_retry_after(&mut res);
    res
}

/// One accepted connection within the bound.
struct Connection<S> {
    service: S,
    limits: Connections,
    remote: SocketAddr,
    stop: watch::Receiver<bool>,
}

impl<S> Connection<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    async fn run(mut self, stream: TcpStream) {
        let clock = Arc::new(Clock::new(Instant::now()));
        let io = TokioIo::new(Watched {
            inner: stream,
            clock: clock.clone(),
        });
        let service = Tracked {
            inner: self.service.clone(),
            clock: clock.clone(),
            remote: self.remote,
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        // The timeouts are this task's (see the module's documentation).
        http.header_read_timeout(None);
        let connection = http.serve_connection(io, service);
        let mut connection = std::pin::pin!(connection);
        let timer = tokio::time::sleep_until(Instant::now());
        let mut timer = std::pin::pin!(timer);
        let mut closing = false;
        let mut stopping = false;
        loop {
            let deadline = clock.deadline(&self.limits);
            if let Some((at, _)) = deadline {
                timer.as_mut().reset(at);
            }
            tokio::select! {
                biased;
                _ = connection.as_mut() => return,
                () = stopped(&mut self.stop), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = clock.changed.notified() => {}
                () = timer.as_mut(), if deadline.is_some() => {
                    match clock.deadline(&self.limits) {
                        Some((at, Expiry::Header)) if at <= Instant::now() => return,
                        // Idle: a graceful shutdown closes it at once. Should it not have closed
                        // by the next expiry (an answer still being written), it is dropped.
                        Some((at, Expiry::Idle)) if at <= Instant::now() => {
                            if closing {
                                return;
                            }
                            closing = true;
                            connection.as_mut().graceful_shutdown();
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Which limit a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// A request head did not arrive in time: the connection is closed without an answer.
    Header,
    /// A kept-alive connection waited too long for its next request.
    Idle,
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head, since the connection opened (`first`) or since the last
    /// answer; `first_byte` when part of the next head has arrived.
    Waiting {
        since: Instant,
        first: bool,
        first_byte: Option<Instant>,
    },
    /// A request is being answered: no limit here (the handlers bound their own work).
    Busy,
}

/// What a connection's reads and its service tell the connection task.
struct Clock {
    phase: Mutex<Phase>,
    /// Set while a later request's first byte is awaited, so that reads need no lock otherwise.
    awaiting_first_byte: AtomicBool,
    /// Woken when a deadline may have moved earlier or appeared.
    changed: Notify,
}

impl Clock {
    fn new(opened: Instant) -> Self {
        Self {
            phase: Mutex::new(Phase::Waiting {
                since: opened,
                first: true,
                first_byte: None,
            }),
            awaiting_first_byte: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner) = phase;
    }

    fn deadline(&self, limits: &Connections) -> Option<(Instant, Expiry)> {
        let phase = *self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        match phase {
            Phase::Busy => None,
            Phase::Waiting {
                since, first: true, ..
            } => Some((since + limits.request_header_timeout, Expiry::Header)),
            Phase::Waiting {
                first_byte: Some(at),
                ..
            } => Some((at + limits.request_header_timeout, Expiry::Header)),
            Phase::Waiting { since, .. } => Some((since + limits.idle_timeout, Expiry::Idle)),
        }
    }

    fn request_started(&self) {
        self.awaiting_first_byte.store(false, Ordering::Relaxed);
        self.set(Phase::Busy);
    }

    fn request_answered(&self) {
        self.set(Phase::Waiting {
            since: Instant::now(),
            first: false,
            first_byte: None,
        });
        self.awaiting_first_byte.store(true, Ordering::Relaxed);
        self.changed.notify_one();
    }

    fn bytes_received(&self) {
        if !self.awaiting_first_byte.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Phase::Waiting { first_byte, .. } = &mut *phase {
            *first_byte = Some(Instant::now());
        }
        drop(phase);
        self.changed.notify_one();
    }
}

/// The connection's socket, telling its [`Clock`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    clock: Arc<Clock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_received();
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
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
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

/// The application as hyper calls it: each request gets the peer's address, and its start and
/// answer are told to the connection's [`Clock`].
struct Tracked<S> {
    inner: S,
    clock: Arc<Clock>,
    remote: SocketAddr,
}

/// Tells the clock that a request was answered, also when its handler was dropped.
struct Answered(Arc<Clock>);

impl Drop for Answered {
    fn drop(&mut self) {
        self.0.request_answered();
    }
}

impl<S> hyper::service::Service<hyper::Request<Incoming>> for Tracked<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.clock.request_started();
        let answered = Answered(self.clock.clone());
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.remote));
        let inner = self.inner.clone();
        Box::pin(async move {
            let response = inner.oneshot(request).await;
            drop(answered);
            response
        })
    }
}
