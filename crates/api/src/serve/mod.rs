//! Serving the router: one accept loop hands each connection, for its whole life, to one of a
//! few event loops, each a single-threaded runtime on its own thread.
//!
//! Why not every connection on one multi-threaded runtime, as `axum::serve` does: there a task
//! that wakes itself while it runs counts as a yield, and every yield wakes a parked worker to
//! steal it. hyper wakes the connection's task whenever it feeds a request body to a handler
//! already waiting for it, so every request with a body woke the other worker, which found
//! nothing to do and slept again. Measured on 2 cores at concurrency 1: 2.5 context switches
//! and 147 µs of CPU per insert, against 1.0 and 120 µs on event loops. A loop has no one to
//! wake; the loops together use every core, and blocking work (password hashes, files) still
//! goes to tokio's blocking pool.
//!
//! Each loop also polls its sockets for a moment after a request before it sleeps, when
//! requests come close together (`spin`).
//!
//! With JavaScript hooks the loops are multi-threaded runtimes of one worker each
//! ([`Loops::HandOver`]): hooks run inline on the worker polling their request (no hop to the
//! blocking pool), and one that runs long or waits hands the worker's tasks and sockets to a
//! fresh thread (`tokio::task::block_in_place`, which a single-threaded runtime cannot do), so
//! the loop's other connections never wait for it (`oxbase_js::invoke`).
//!
//! Every refusal is in the standard error body: hyper's own answers to requests it cannot parse
//! are rewritten on their way out (`refusals`).

mod linger;
mod refusals;
mod spin;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tower::{Service, ServiceExt};

/// The largest request head (request line and headers) accepted; a larger one is refused with
/// 431 (`middleware::HeadLimit`). PB-COMPAT: PocketBase's limit, Go's net/http
/// `DefaultMaxHeaderBytes` (1 MiB) with the 4 KiB it allows on top.
pub const MAX_HEAD_BYTES: usize = (1 << 20) + 4096;

/// What `serve` serves: the API as one service (`crate::service`).
pub trait ApiService:
    Service<Request<Body>, Response = Response, Error = Infallible, Future: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> ApiService for S where
    S: Service<Request<Body>, Response = Response, Error = Infallible, Future: Send>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// What runs each event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loops {
    /// A single-threaded runtime: the cheapest.
    Single,
    /// A multi-threaded runtime of one worker, whose tasks and sockets a request may hand to
    /// another thread while it blocks (`block_in_place`): for hooks run inline.
    HandOver,
}

/// Serves `service` on `listener`, one event loop per core, each polling for up to `busy_poll`
/// before it sleeps (zero: never), until `shutdown` resolves; then stops accepting, lets every
/// connection finish its in-flight request, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    service: impl ApiService,
    busy_poll: Duration,
    loops: Loops,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let loops = EventLoops::start(busy_poll, loops)?;
    // Connections watch `stopping` for the shutdown and hold `open` until they close.
    let (stopping_tx, stopping_rx) = watch::channel(());
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_error(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The stream moves to the loop's runtime: it leaves this one's reactor first.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        let service = service.clone();
        let stopping = stopping_rx.clone();
        let open = open_rx.clone();
        loops.next().spawn(async move {
            if let Ok(stream) = TcpStream::from_std(stream) {
                serve_connection(stream, peer, service, stopping).await;
            }
            drop(open);
        });
    }
    drop(listener);
    drop(stopping_tx);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}

/// One connection, HTTP/1.1 or HTTP/2, until it closes; on shutdown it finishes the request in
/// flight and closes.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: impl ApiService,
    mut stopping: watch::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let service = service
        .map_request(move |req: Request<Incoming>| {
            spin::request_started();
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        })
        .map_response(|res| {
            spin::response_ready();
            res
        });
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's own head limits are twice ours: `middleware::HeadLimit` applies ours exactly, in
    // the standard body (hyper's HTTP/1 limit is approximate, and h2 refuses without a body).
    builder.http1().max_buf_size(HYPER_MAX_HEAD_BYTES);
    builder
        .http2()
        .max_header_list_size(HYPER_MAX_HEAD_BYTES as u32);
    let conn = builder.serve_connection_with_upgrades(
        TokioIo::new(refusals::JsonRefusals::new(linger::Lingering::new(stream))),
        TowerToHyperService::new(service),
    );
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stopping.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result {
        tracing::trace!(%err, "connection ended with an error");
    }
}

/// hyper's limit on a request head: its HTTP/1 read buffer, h2's header list.
const HYPER_MAX_HEAD_BYTES: usize = 2 * MAX_HEAD_BYTES;

/// Too many open files and the like: wait a moment instead of spinning on the error.
async fn accept_error(err: io::Error) {
    tracing::error!(%err, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The event loops, handed connections in turn. Each thread runs its loop until these are
/// dropped, after the last connection closed.
struct EventLoops {
    handles: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
    /// Dropping these ends the loops.
    _stop: Vec<oneshot::Sender<Infallible>>,
}

impl EventLoops {
    fn start(busy_poll: Duration, kind: Loops) -> io::Result<EventLoops> {
        let count = std::thread::available_parallelism().map_or(1, usize::from);
        let mut handles = Vec::with_capacity(count);
        let mut stops = Vec::with_capacity(count);
        for i in 0..count {
            let (stop_tx, stop_rx) = oneshot::channel::<Infallible>();
            stops.push(stop_tx);
            let name = format!("oxbase-http-{i}");
            match kind {
                Loops::Single => {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    handles.push(runtime.handle().clone());
                    std::thread::Builder::new()
                        .name(name)
                        .spawn(move || runtime.block_on(spin::run_until(busy_poll, stop_rx)))?;
                }
                Loops::HandOver => {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .thread_name(name.clone())
                        .enable_all()
                        .build()?;
                    handles.push(runtime.handle().clone());
                    // The poller runs on the worker, beside the connections (the thread
                    // below only keeps the runtime until the stop).
                    let (ended_tx, ended_rx) = oneshot::channel::<()>();
                    runtime.spawn(async move {
                        spin::run_until(busy_poll, stop_rx).await;
                        let _ = ended_tx.send(());
                    });
                    std::thread::Builder::new().name(name).spawn(move || {
                        let _ = runtime.block_on(ended_rx);
                        // Connections still open end with the runtime, as a single loop's.
                        runtime.shutdown_background();
                    })?;
                }
            }
        }
        Ok(EventLoops {
            handles,
            next: AtomicUsize::new(0),
            _stop: stops,
        })
    }

    fn next(&self) -> &tokio::runtime::Handle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[i]
    }
}
