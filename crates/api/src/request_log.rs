//! The request log: every request leaves an entry (method, URL, status, time taken, caller,
//! IPs, referer, user agent, an error's message and details) in the core's logs, which store it
//! later, off the request path. With logging off (`logs.maxDays` 0) requests pass straight
//! through.
//!
//! The caller is known only once a handler resolves it: the layer leaves an [`AuthSlot`] in the
//! request, which the `Caller` extractor fills. An error answer carries its message and
//! details in the response's extensions ([`crate::error::LoggedError`]).

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::http::{self, header};
use axum::response::{IntoResponseParts, ResponseParts};
use futures_util::future::{BoxFuture, Either};
use oxbase_core::identity::Auth;
use oxbase_core::logs::{RequestLog, level};
use tower::{Layer, Service};

use crate::AppState;
use crate::error::LoggedError;
use crate::middleware::client_ip;

/// Where a handler leaves the caller it resolved, for the request's log entry.
#[derive(Clone, Default)]
pub struct AuthSlot(Arc<OnceLock<Auth>>);

impl AuthSlot {
    pub fn set(&self, auth: &Auth) {
        if !matches!(auth, Auth::Guest) {
            let _ = self.0.set(auth.clone());
        }
    }
}

/// Marks a successful answer that is not logged (PocketBase's `SkipSuccessActivityLog`).
#[derive(Clone, Copy)]
pub struct Unlogged;

impl IntoResponseParts for Unlogged {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Infallible> {
        res.extensions_mut().insert(Unlogged);
        Ok(res)
    }
}

#[derive(Clone)]
pub struct RequestLogLayer {
    state: AppState,
}

impl RequestLogLayer {
    pub fn new(state: AppState) -> Self {
        RequestLogLayer { state }
    }
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLogService<S>;

    fn layer(&self, inner: S) -> RequestLogService<S> {
        RequestLogService {
            state: self.state.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct RequestLogService<S> {
    state: AppState,
    inner: S,
}

impl<S, B> Service<Request> for RequestLogService<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<B>;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<http::Response<B>, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // An error answer is the highest level: when not even that is kept, nothing is.
        if !self.state.app.logs().keeps(level::ERROR) {
            return Either::Left(self.inner.call(req));
        }
        let started = Instant::now();
        let slot = AuthSlot::default();
        req.extensions_mut().insert(slot.clone());
        let text = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default()
        };
        let mut log = RequestLog {
            method: req.method().as_str().to_owned(),
            url: req
                .uri()
                .path_and_query()
                .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned()),
            referer: text(header::REFERER),
            user_agent: text(header::USER_AGENT),
            user_ip: client_ip(&self.state, req.headers(), req.extensions()),
            remote_ip: req
                .extensions()
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
            ..RequestLog::default()
        };
        let state = self.state.clone();
        let answer = self.inner.call(req);
        Either::Right(Box::pin(async move {
            let response = answer.await?;
            let status = response.status();
            if status.is_success() && response.extensions().get::<Unlogged>().is_some() {
                return Ok(response);
            }
            log.status = status.as_u16();
            log.exec_time = started.elapsed().as_secs_f64() * 1000.0;
            log.auth = slot
                .0
                .get()
                .and_then(Auth::record)
                .map(|r| (r.collection.name.clone(), r.id().to_owned()));
            log.error = response
                .extensions()
                .get::<LoggedError>()
                .map(|e| (e.message.clone(), e.details.clone()));
            state.app.logs().request(log);
            Ok(response)
        }))
    }
}
