//! The request log: every request leaves an entry (method, URL, status, time taken, caller,
//! IPs, referer, user agent, an error's message and details) in the core's logs, which store it
//! later, off the request path. With logging off (`logs.maxDays` 0) requests pass straight
//! through.
//!
//! The caller is known only once a handler resolves it: the layer leaves an [`AuthSlot`] in the
//! request, which the `Caller` extractor fills. An error answer carries its message and
//! details in the response's extensions ([`crate::error::LoggedError`]).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::{self, header};
use axum::response::{IntoResponseParts, ResponseParts};
use futures_util::future::{BoxFuture, Either};
use oxbase_core::identity::Auth;
use oxbase_core::logs::{RequestFacts, RequestLog, level};
use tower::{Layer, Service};

use crate::AppState;
use crate::error::LoggedError;
use crate::middleware::{peer_ip, proxied_ip};

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
    type Future = Either<S::Future, Logged<S::Future, B>>;

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
        let headers = req.headers();
        let facts = Facts {
            method: req.method().clone(),
            url: req
                .uri()
                .path_and_query()
                .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned()),
            referer: header_text(headers, header::REFERER),
            user_agent: header_text(headers, header::USER_AGENT),
            proxied_ip: proxied_ip(self.state.app.settings(), headers),
            peer_ip: peer_ip(req.extensions()),
            status: 0,
            exec_time: 0.0,
            auth: None,
            error: None,
        };
        // Copied, never kept as the header: a value held past the request pins hyper's read
        // buffer, which must then be allocated again for the next request.
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let pending = Box::new(Pending {
            state: self.state.clone(),
            started,
            slot,
            authorization,
            facts,
        });
        Either::Right(Logged {
            inner: self.inner.call(req),
            pending: Some(pending),
            resolving: None,
        })
    }
}

/// What a request's entry waits for while the request runs.
struct Pending {
    state: AppState,
    started: Instant,
    slot: AuthSlot,
    authorization: Option<String>,
    facts: Facts,
}

pin_project_lite::pin_project! {
    /// The request's answer, logged when it is ready. A plain future rather than a boxed
    /// async block: that would move the whole inner future into a new allocation per request.
    pub struct Logged<F, B> {
        #[pin]
        inner: F,
        pending: Option<Box<Pending>>,
        // The caller being resolved for the entry, and the answer held until then.
        resolving: Option<(BoxFuture<'static, ()>, http::Response<B>)>,
    }
}

impl<F, B> Future for Logged<F, B>
where
    F: Future<Output = Result<http::Response<B>, Infallible>>,
{
    type Output = Result<http::Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.resolving.is_none() {
            let Poll::Ready(Ok(response)) = this.inner.poll(cx) else {
                return Poll::Pending;
            };
            let Some(resolve) = this.pending.take().and_then(|p| p.log(&response)) else {
                return Poll::Ready(Ok(response));
            };
            *this.resolving = Some((resolve, response));
        }
        if let Some((resolve, _)) = this.resolving.as_mut()
            && resolve.as_mut().poll(cx).is_pending()
        {
            return Poll::Pending;
        }
        match this.resolving.take() {
            Some((_, response)) => Poll::Ready(Ok(response)),
            None => Poll::Pending,
        }
    }
}

impl Pending {
    /// Queues the entry; a caller still to be resolved from its token is resolved by the
    /// future returned, which queues the entry then.
    fn log<B>(self: Box<Self>, response: &http::Response<B>) -> Option<BoxFuture<'static, ()>> {
        let status = response.status();
        if status.is_success() && response.extensions().get::<Unlogged>().is_some() {
            return None;
        }
        let Pending {
            state,
            started,
            slot,
            authorization,
            mut facts,
        } = *self;
        facts.status = status.as_u16();
        facts.exec_time = started.elapsed().as_secs_f64() * 1000.0;
        facts.error = response.extensions().get::<LoggedError>().cloned();
        match (slot.0.get(), authorization) {
            (Some(auth), _) => facts.auth = Some(auth.clone()),
            // A route that never asked who calls (a file, the realtime stream): PocketBase
            // logs the caller all the same.
            (None, Some(token)) => {
                return Some(Box::pin(async move {
                    facts.auth = Some(state.app.auth().authenticate(&token).await);
                    state.app.logs().request(Box::new(facts));
                }));
            }
            (None, None) => {}
        }
        state.app.logs().request(Box::new(facts));
        None
    }
}

/// A header's value as text ("" when absent): copied, not kept as the header (see above).
fn header_text(headers: &http::HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// What the request log keeps of a request, as it came, turned into its entry by the log's
/// writer.
struct Facts {
    method: http::Method,
    url: String,
    referer: String,
    user_agent: String,
    proxied_ip: Option<String>,
    peer_ip: Option<IpAddr>,
    status: u16,
    exec_time: f64,
    auth: Option<Auth>,
    error: Option<LoggedError>,
}

impl RequestFacts for Facts {
    fn failed(&self) -> bool {
        self.status >= 400 || self.error.is_some()
    }

    fn log(&self) -> RequestLog<'_> {
        RequestLog {
            method: self.method.as_str(),
            url: &self.url,
            status: self.status,
            exec_time: self.exec_time,
            auth: self
                .auth
                .as_ref()
                .and_then(Auth::record)
                .map(|r| (r.collection.name.as_str(), r.id())),
            proxied_ip: self.proxied_ip.as_deref(),
            remote_ip: self.peer_ip,
            referer: &self.referer,
            user_agent: &self.user_agent,
            error: self
                .error
                .as_ref()
                .map(|e| (e.message.as_str(), &e.details)),
        }
    }
}
