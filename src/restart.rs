//! Restarting the app in place after a restore: the server keeps its listener and its
//! connections, while the app behind them is closed, its data replaced and opened again.
//!
//! Requests reach the app through `Swappable`, which holds the current service; during the
//! swap it holds none, and requests get a 503 in PocketBase's error shape. It counts the
//! requests in flight, so that the old app closes only once those that reached it are done.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use oxbase_core::backups::Restore;
use oxbase_core::{App, Config};
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedReceiver;
use tower::Service;
use tower::util::{Oneshot, ServiceExt};

/// How long a restore waits for the requests in flight on the old app before closing it.
const DRAIN: Duration = Duration::from_secs(10);

/// The service of the app running now, or none while it is being replaced.
pub struct Swappable<S> {
    shared: Arc<Shared<S>>,
}

struct Shared<S> {
    current: RwLock<Option<S>>,
    /// Requests handed to a service whose response is not ready yet.
    in_flight: AtomicUsize,
    /// Woken when `in_flight` drops to zero.
    idle: Notify,
}

impl<S> Clone for Swappable<S> {
    fn clone(&self) -> Self {
        Swappable {
            shared: self.shared.clone(),
        }
    }
}

impl<S> Swappable<S> {
    pub fn new(service: S) -> Swappable<S> {
        Swappable {
            shared: Arc::new(Shared {
                current: RwLock::new(Some(service)),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }

    fn set(&self, service: Option<S>) {
        *self.shared.current.write() = service;
    }

    /// Waits until no request is in flight (after `set(None)`, none starts), at most
    /// `timeout`; false if some still run then.
    async fn drained(&self, timeout: Duration) -> bool {
        let shared = &self.shared;
        let wait = async {
            loop {
                let idle = shared.idle.notified();
                tokio::pin!(idle);
                // Registered before the count is read: a decrement to zero after the read wakes it.
                idle.as_mut().enable();
                if shared.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

/// One request in flight, counted until dropped (its response is ready, or the connection
/// went away).
struct InFlight<S>(Arc<Shared<S>>);

impl<S> InFlight<S> {
    fn start(shared: &Arc<Shared<S>>) -> InFlight<S> {
        shared.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(shared.clone())
    }
}

impl<S> Drop for InFlight<S> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

pin_project_lite::pin_project! {
    /// A response future that keeps its request counted while it runs.
    pub struct Counted<F, S> {
        #[pin]
        inner: F,
        _in_flight: InFlight<S>,
    }
}

impl<F: Future, S> Future for Counted<F, S> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

impl<S> Service<Request<Body>> for Swappable<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<Counted<Oneshot<S, Request<Body>>, S>, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Counted before the service is read: once `set(None)` has returned, every request
        // that got the old service is in the count.
        let in_flight = InFlight::start(&self.shared);
        let service = self.shared.current.read().clone();
        match service {
            Some(service) => Either::Left(Counted {
                inner: service.oneshot(request),
                _in_flight: in_flight,
            }),
            None => Either::Right(ready(Ok(oxbase_api::error::body(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is restarting after a restore; try again in a moment.",
                serde_json::json!({}),
            )))),
        }
    }
}

/// Applies each restore the app prepares (`restores`, taken from the app in `app` before
/// the server starts, so no restore asked for at once finds nobody to apply it): closes the
/// app, replaces its data, opens it again with `config` and swaps the new app's service in.
/// `app` always holds the app running now (the server closes that one at shutdown).
/// A restore holds `applying` from the moment it starts until the app runs again, so that
/// shutdown waits for it (`Application::run_until_stopped`) instead of stopping it half-way.
pub async fn serve_restores<S, F, Made>(
    config: Config,
    app: Arc<Mutex<App>>,
    mut restores: UnboundedReceiver<Restore>,
    service: Swappable<S>,
    make_service: F,
    applying: Arc<tokio::sync::Mutex<()>>,
) where
    F: Fn(App) -> Made,
    Made: Future<Output = S>,
{
    while let Some(restore) = restores.recv().await {
        let _applying = applying.lock().await;
        let current = app.lock().clone();
        tracing::info!("restoring a backup: the app restarts");
        service.set(None);
        // Requests that reached the old app finish on it before it closes: one still
        // running later could write to it, or delete files from the restored storage.
        if !service.drained(DRAIN).await {
            tracing::warn!(timeout = ?DRAIN, "requests still running on the old app at the restore");
        }
        current.realtime().close();
        current.close().await;
        drop(current);
        let applied = oxbase_core::backups::restore::apply(&config, &restore, &|_| {}).await;
        if let Err(e) = &applied {
            tracing::error!(error = %e, "the restore failed; the app reopens on its data");
        }
        drop(restore);
        let reopened = match App::open(&config).await {
            Ok(reopened) => reopened,
            Err(e) => {
                // Nothing to serve: every request gets the 503 until an operator steps in.
                tracing::error!(error = %e, "the app cannot reopen after the restore");
                return;
            }
        };
        let Some(next) = reopened.backups().take_restores() else {
            return;
        };
        restores = next;
        reopened.crons().start();
        crate::telemetry::store_app_logs_in(reopened.logs());
        if applied.is_ok() {
            reopened.announce_restore();
            tracing::info!("backup restored");
        }
        service.set(Some(make_service(reopened.clone()).await));
        *app.lock() = reopened;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service whose responses wait for `release`.
    fn slow(
        release: Arc<Notify>,
    ) -> impl Service<Request<Body>, Response = Response, Error = Infallible, Future = impl Send> + Clone
    {
        tower::service_fn(move |_: Request<Body>| {
            let release = release.clone();
            async move {
                release.notified().await;
                Ok::<_, Infallible>(Response::new(Body::empty()))
            }
        })
    }

    #[tokio::test]
    async fn a_swap_waits_for_the_requests_in_flight() {
        let release = Arc::new(Notify::new());
        let mut service = Swappable::new(slow(release.clone()));
        let running = tokio::spawn(service.call(Request::new(Body::empty())));
        // A request that never gets polled counts until dropped.
        let abandoned = service.call(Request::new(Body::empty()));
        tokio::task::yield_now().await;
        service.set(None);
        let during = service.call(Request::new(Body::empty())).await;
        assert_eq!(
            during.map(|r| r.status()).ok(),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert!(!service.drained(Duration::from_millis(50)).await);
        drop(abandoned);
        assert!(!service.drained(Duration::from_millis(50)).await);
        let drained = tokio::spawn({
            let service = service.clone();
            async move { service.drained(Duration::from_secs(5)).await }
        });
        tokio::task::yield_now().await;
        release.notify_one();
        assert!(running.await.is_ok());
        assert!(drained.await.unwrap_or(false));
    }
}
