//! Routes of the application's own code (JS hooks' `routerAdd`, a Rust app's routes): asked
//! before the built-in routes, so an app may also answer a path oxbase serves. With none
//! registered, a request costs one look at an `Option`; with both kinds, `first_of` asks each
//! in turn.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use oxbase_core::identity::Auth;
use tower::Service;

use crate::AppState;
use crate::error::body as error_body;
use crate::extract::Caller;
use crate::middleware::{client_ip, peer_ip};

/// The built-in routes, for a custom handler that wraps one (JS request hooks; a Rust route
/// gets them as a request extension, hence `Sync`).
pub type Next = tower::util::BoxCloneSyncService<Request, Response, Infallible>;

/// A request as custom routes receive it: read whole, with its caller and addresses.
pub struct CustomRequest {
    /// The built-in routes, which the request would have reached.
    pub next: Next,
    pub parts: Parts,
    pub body: Bytes,
    pub auth: Auth,
    /// The client's IP as the trusted proxy settings say.
    pub real_ip: String,
    /// The peer's address.
    pub remote_ip: String,
}

pub type BoxResponse = Pin<Box<dyn Future<Output = Response> + Send>>;

/// Application routes.
pub trait CustomRoutes: Send + Sync + 'static {
    /// Whether one answers `method path`, itself or by wrapping the route there.
    fn matches(&self, method: &Method, path: &str) -> bool;
    /// Answers a request `matches` accepted.
    fn call(&self, request: CustomRequest) -> BoxResponse;
    /// Whether it has a route of its own at `method path` (not only middlewares around it).
    fn answers(&self, method: &Method, path: &str) -> bool {
        self.matches(method, path)
    }
    /// Whether it has middlewares around every route at `method path`, other sets' routes
    /// included (JS `routerUse`).
    fn wraps(&self, _method: &Method, _path: &str) -> bool {
        false
    }
    /// Runs those middlewares around `request.next` (another set's route), for a request
    /// `wraps` accepted.
    fn wrap(&self, request: CustomRequest) -> BoxResponse {
        self.call(request)
    }
}

/// What a wrapped route's handler is: it answers the request the middlewares send on.
pub type Handler = Arc<dyn Fn(CustomRequest) -> BoxResponse + Send + Sync>;

impl CustomRequest {
    /// The request with `inner` as what its `next` reaches: middlewares run around a route
    /// that is not a built-in one (the request they send on comes to `inner` with the same
    /// caller, and `inner`'s own `next` is the built-in routes).
    pub fn around(mut self, inner: Handler) -> CustomRequest {
        let (next, auth) = (self.next.clone(), self.auth.clone());
        let (real_ip, remote_ip) = (self.real_ip.clone(), self.remote_ip.clone());
        self.next = Next::new(tower::service_fn(move |req: Request| {
            let (inner, next, auth) = (inner.clone(), next.clone(), auth.clone());
            let (real_ip, remote_ip) = (real_ip.clone(), remote_ip.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let request = CustomRequest {
                    next,
                    parts,
                    body,
                    auth,
                    real_ip,
                    remote_ip,
                };
                Ok::<_, Infallible>(inner(request).await)
            }
        }));
        self
    }
}

/// The first of `routes` that answers a request answers it: a Rust app's routes and the JS
/// hooks' side by side. `None` when there are none, and the one itself when there is one, so
/// each request costs what it cost before.
pub fn first_of(routes: Vec<Arc<dyn CustomRoutes>>) -> Option<Arc<dyn CustomRoutes>> {
    match routes.len() {
        0 => None,
        1 => routes.into_iter().next(),
        _ => Some(Arc::new(FirstOf(routes))),
    }
}

/// Several sets of routes, asked in order.
struct FirstOf(Vec<Arc<dyn CustomRoutes>>);

impl CustomRoutes for FirstOf {
    fn matches(&self, method: &Method, path: &str) -> bool {
        self.0.iter().any(|r| r.matches(method, path))
    }

    fn answers(&self, method: &Method, path: &str) -> bool {
        self.0.iter().any(|r| r.answers(method, path))
    }

    fn wraps(&self, method: &Method, path: &str) -> bool {
        self.0.iter().any(|r| r.wraps(method, path))
    }

    /// The set with a route there answers, inside the middlewares of a set that wraps every
    /// route (PB-COMPAT: JS `routerUse` wraps a Rust app's routes too).
    fn call(&self, request: CustomRequest) -> BoxResponse {
        let (method, path) = (&request.parts.method, request.parts.uri.path());
        let owner = self.0.iter().find(|r| r.answers(method, path));
        let wrapper = self.0.iter().find(|r| r.wraps(method, path));
        if let (Some(owner), Some(wrapper)) = (owner, wrapper)
            && !Arc::ptr_eq(owner, wrapper)
        {
            let owner = owner.clone();
            return wrapper.wrap(request.around(Arc::new(move |r| owner.call(r))));
        }
        match owner.or(wrapper) {
            Some(routes) => routes.call(request),
            // `CustomFirst` asks `matches` first; a set that changed its mind meanwhile: 404.
            None => Box::pin(async { crate::error::ApiError::not_found().into_response() }),
        }
    }
}

/// The router behind the application's routes.
#[derive(Clone)]
pub struct CustomFirst<S> {
    pub custom: Option<Arc<dyn CustomRoutes>>,
    pub state: AppState,
    pub inner: S,
}

impl<S> Service<Request> for CustomFirst<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let custom = match &self.custom {
            Some(c) if c.matches(req.method(), req.uri().path()) => c.clone(),
            _ => return Box::pin(self.inner.call(req)),
        };
        let state = self.state.clone();
        let next = Next::new(self.inner.clone());
        Box::pin(async move { Ok(answer(custom, state, next, req).await) })
    }
}

async fn answer(
    custom: Arc<dyn CustomRoutes>,
    state: AppState,
    next: Next,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let auth = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(Caller(auth)) => auth,
        Err(e) => return e.into_response(),
    };
    let body = match axum::body::to_bytes(Body::new(body), state.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request entity too large",
                serde_json::json!({}),
            );
        }
    };
    let real_ip = client_ip(&state, &parts.headers, &parts.extensions);
    let remote_ip = peer_ip(&parts.extensions)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    custom
        .call(CustomRequest {
            next,
            parts,
            body,
            auth,
            real_ip,
            remote_ip,
        })
        .await
}

impl std::fmt::Debug for dyn CustomRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomRoutes")
    }
}
