//! The HTTP listener: connection limits and timeouts, so that no client can hold the server's
//! connections or file descriptors without sending a request.
//!
//! - **Header timeout**: a request line and headers must arrive within `header_timeout` of the
//!   server starting to wait for them. A connection at rest between keep-alive requests is
//!   waiting for headers, so it closes after the same time.
//! - **Body deadline**: a request body must arrive whole within `body_timeout` of its headers
//!   (not per chunk: a body trickled a byte at a time still meets the deadline). Reading it
//!   afterwards fails with [`BodyTimedOut`], which the body readers answer with a JSON 408.
//! - **Idle timeout**: a connection on which no byte moves either way for `idle_timeout` is
//!   closed (a client that stops reading a response, or stalls mid-body).
//! - **Connection cap**: at most `max_connections` are served. Beyond it a small reserve of
//!   connections, one request each with a short header timeout, answers `GET /health`
//!   normally and everything else with 503 + `Retry-After`; when the reserve is full too, a new
//!   connection closes the reserve's oldest. Descriptors never run out, and liveness probes
//!   keep working through a flood.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;
use tokio::time::Sleep;
use tower::ServiceExt;

/// Connections served beyond the cap, only for `/health` (everything else gets a 503).
pub const RESERVE_CONNECTIONS: usize = 32;
/// Header timeout of a reserve connection: it is there to answer a probe, not to wait.
const RESERVE_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// Descriptors kept free for everything that is not a client connection (database
/// connections, export files, the log, a reserve for the runtime).
const DESCRIPTORS_FOR_THE_REST: u64 = 256;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
}

/// Raises the soft limit on open files to the hard limit and returns the connection cap that
/// fits under it: `wanted`, or less (logged) when the descriptors could not hold it.
pub fn fit_connection_cap(wanted: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    let soft = match setrlimit(Resource::Nofile, raised) {
        Ok(()) => limit.maximum,
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit to its hard limit");
            limit.current
        }
    };
    let Some(soft) = soft else {
        tracing::info!(max_connections = wanted, "open-file limit: unlimited");
        return wanted;
    };
    let room = soft.saturating_sub(DESCRIPTORS_FOR_THE_REST + RESERVE_CONNECTIONS as u64);
    let cap = wanted.min(room.max(1) as usize);
    if cap < wanted {
        tracing::warn!(
            open_file_limit = soft,
            wanted,
            max_connections = cap,
            "the open-file limit cannot hold --max-connections; serving fewer"
        );
    } else {
        tracing::info!(
            open_file_limit = soft,
            max_connections = cap,
            "connection limits"
        );
    }
    cap
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then stops accepting
/// and waits for the connections' in-flight requests to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let reserve = Arc::new(Reserve::default());
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut reserve_builder = auto::Builder::new(TokioExecutor::new());
    reserve_builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(RESERVE_HEADER_TIMEOUT)
        .keep_alive(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before accept: keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(TrackedIo {
            inner: stream,
            activity: activity.clone(),
        });
        if let Ok(permit) = connections.clone().try_acquire_owned() {
            let app = app.clone();
            let body_timeout = limits.body_timeout;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let request = request.map(|body| Body::new(DeadlineBody::new(body, body_timeout)));
                app.clone().oneshot(request)
            });
            let connection = graceful.watch(builder.serve_connection(io, service).into_owned());
            tokio::spawn(async move {
                tokio::select! {
                    _ = connection => {}
                    _ = activity.idle_for(limits.idle_timeout) => {
                        tracing::debug!("closing a connection idle for too long");
                    }
                }
                drop(permit);
            });
        } else {
            let app = app.clone();
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let app = app.clone();
                async move {
                    if request.uri().path() == "/health" {
                        app.oneshot(request.map(Body::new)).await
                    } else {
                        Ok(at_capacity())
                    }
                }
            });
            let connection =
                graceful.watch(reserve_builder.serve_connection(io, service).into_owned());
            reserve.admit(async move {
                tokio::select! {
                    _ = connection => {}
                    _ = activity.idle_for(RESERVE_HEADER_TIMEOUT) => {}
                }
            });
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The connections served beyond the cap. When all its slots are taken, a new connection
/// closes the oldest one: a probe sends its request at once and is answered within
/// milliseconds, so only connections that sit without a request (a flood) are closed.
#[derive(Default)]
struct Reserve {
    slots: Mutex<VecDeque<(u64, AbortHandle)>>,
    next_id: AtomicU64,
}

impl Reserve {
    fn admit(self: &Arc<Self>, connection: impl Future<Output = ()> + Send + 'static) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= RESERVE_CONNECTIONS {
            if let Some((_, oldest)) = slots.pop_front() {
                oldest.abort();
            }
        }
        let reserve = self.clone();
        // The slot is pushed while the lock is held, so the task cannot look for it first.
        let task = tokio::spawn(async move {
            connection.await;
            let mut slots = reserve.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.retain(|(slot, _)| *slot != id);
        });
        slots.push_back((id, task.abort_handle()));
    }
}

/// The answer of a reserve connection to anything but `/health`.
fn at_capacity() -> Response {
    let mut response = ApiError::Overloaded {
        retry_after_secs: 1,
    }
    .into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// The time of the last byte moved on a connection.
#[derive(Clone)]
struct Activity {
    started: Instant,
    last_millis: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            started: Instant::now(),
            last_millis: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_millis.store(now, Ordering::Relaxed);
    }

    /// Resolves once nothing has moved for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
            let idle = self.started.elapsed().saturating_sub(last);
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle).await;
        }
    }
}

/// A TCP stream that records when bytes last moved.
struct TrackedIo {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        if buf.filled().len() > before {
            self.activity.touch();
        }
        Poll::Ready(result)
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, data));
        if matches!(written, Ok(n) if n > 0) {
            self.activity.touch();
        }
        Poll::Ready(written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, data));
        if matches!(written, Ok(n) if n > 0) {
            self.activity.touch();
        }
        Poll::Ready(written)
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

/// The request body did not arrive within the body deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A request body with one deadline for all of it (tower-http's body timeout restarts with
/// every chunk, which a client trickling one byte at a time never trips).
struct DeadlineBody {
    inner: Incoming,
    /// When the headers arrived.
    started: tokio::time::Instant,
    limit: Duration,
    /// Armed only once the body keeps a reader waiting: a body that came with its headers
    /// (most of them) costs no timer.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, limit: Duration) -> DeadlineBody {
        DeadlineBody {
            inner,
            started: tokio::time::Instant::now(),
            limit,
            deadline: None,
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let at = self.started + self.limit;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
