//! Restarting the app in place after a restore: the server keeps its listener and its
//! connections, while the app behind them is closed, its data replaced and opened again.
//!
//! Requests reach the app through `Swappable`, which holds the current service; during the
//! swap it holds none, and requests get a 503 in PocketBase's error shape.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use oxbase_core::backups::Restore;
use oxbase_core::{App, Config};
use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc::UnboundedReceiver;
use tower::Service;
use tower::util::{Oneshot, ServiceExt};

/// The service of the app running now, or none while it is being replaced.
pub struct Swappable<S> {
    current: Arc<RwLock<Option<S>>>,
}

impl<S> Clone for Swappable<S> {
    fn clone(&self) -> Self {
        Swappable {
            current: self.current.clone(),
        }
    }
}

impl<S> Swappable<S> {
    pub fn new(service: S) -> Swappable<S> {
        Swappable {
            current: Arc::new(RwLock::new(Some(service))),
        }
    }

    fn set(&self, service: Option<S>) {
        *self.current.write() = service;
    }
}

impl<S> Service<Request<Body>> for Swappable<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Oneshot<S, Request<Body>>, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let service = self.current.read().clone();
        match service {
            Some(service) => Either::Left(service.oneshot(request)),
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
pub async fn serve_restores<S, F>(
    config: Config,
    app: Arc<Mutex<App>>,
    mut restores: UnboundedReceiver<Restore>,
    service: Swappable<S>,
    make_service: F,
) where
    F: Fn(App) -> S,
{
    while let Some(restore) = restores.recv().await {
        let current = app.lock().clone();
        tracing::info!("restoring a backup: the app restarts");
        service.set(None);
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
        service.set(Some(make_service(reopened.clone())));
        *app.lock() = reopened;
    }
}
