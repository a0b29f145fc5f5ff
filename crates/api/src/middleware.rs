//! Middleware around the router: the rate limiter (the policy, rules and windows, is
//! `oxbase_core::ratelimit`; this layer only says what the request is: method, path, the
//! collection action it targets, the client's IP and whether it is authenticated), the limit
//! on an HTTP/2 request's head, and the outermost layer, which keeps bodies out of HEAD
//! responses.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{self, Extensions, HeaderMap, HeaderValue, Method, Version, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryFutureExt;
use futures_util::future::{BoxFuture, Either, MapOk, Ready, ready};
use oxbase_core::identity::Auth;
use oxbase_core::ratelimit::RateRequest;
use oxbase_core::settings::Settings;
use tower::{Layer, Service};

use crate::AppState;
use crate::error::{ApiError, Refusal};
use crate::serve::MAX_HEAD_BYTES;

/// The rate limiter as a layer: answers 429 in the standard error body once the request's
/// rule is spent.
#[derive(Clone)]
pub struct RateLimitLayer {
    state: AppState,
}

impl RateLimitLayer {
    pub fn new(state: AppState) -> Self {
        RateLimitLayer { state }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            state: self.state.clone(),
            inner,
        }
    }
}

/// A hand-written service rather than `axum::middleware::from_fn`, which boxes the inner
/// service and the future of every request: with the limiter off (the default) a request
/// passes straight through.
#[derive(Clone)]
pub struct RateLimit<S> {
    state: AppState,
    inner: S,
}

impl<S> Service<Request> for RateLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if !self.state.app.rate_limiter().enabled() {
            return Either::Left(self.inner.call(req));
        }
        // The inner service was made ready for this request: take it, leave a clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Either::Right(Box::pin(async move {
            match admit(&state, &mut req).await {
                Ok(()) => inner.call(req).await,
                Err(refused) => {
                    metrics::counter!("oxbase_rate_limit_rejections_total").increment(1);
                    Ok(refused.into_response())
                }
            }
        }))
    }
}

/// Counts the request against its rule; an error once the rule is spent.
async fn admit(state: &AppState, req: &mut Request) -> Result<(), ApiError> {
    let limiter = state.app.rate_limiter();
    let mut authenticated = false;
    if limiter.needs_identity() {
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let auth = state.app.auth().authenticate(&header).await;
        authenticated = !matches!(auth, Auth::Guest);
        // The `Caller` extractor reuses it: the token is resolved once per request.
        req.extensions_mut().insert(auth);
    }
    let ip = client_ip(state, req.headers(), req.extensions());
    let path = req.uri().path();
    limiter
        .check(&RateRequest {
            method: req.method().as_str(),
            path,
            action: collection_action(req.method().as_str(), path),
            client_ip: &ip,
            authenticated,
        })
        .await
        .map_err(ApiError)
}

/// Refuses a request whose head (request line and headers) is larger than `MAX_HEAD_BYTES`
/// with 431, in the standard body. hyper's own limits are set at twice this one (`serve`): its
/// HTTP/1 limit is approximate (its read buffer grows by whole reads, so a head a little over
/// the limit may arrive complete), and h2 refuses without a body. What hyper still refuses
/// over HTTP/1, `serve` answers in the standard body.
#[derive(Clone, Copy)]
pub struct HeadLimitLayer;

impl<S> Layer<S> for HeadLimitLayer {
    type Service = HeadLimit<S>;

    fn layer(&self, inner: S) -> HeadLimit<S> {
        HeadLimit { inner }
    }
}

#[derive(Clone)]
pub struct HeadLimit<S> {
    inner: S,
}

impl<S> Service<Request> for HeadLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if head_size(&req) > MAX_HEAD_BYTES {
            return Either::Right(ready(Ok(Refusal::HeadTooLarge.into_response())));
        }
        Either::Left(self.inner.call(req))
    }
}

/// The size of a request's head as its protocol counts it: over HTTP/1 the bytes of the
/// request line and of each `name: value` line; over HTTP/2 as h2 counts, each field's name
/// and value and 32 bytes, the pseudo-headers (method, scheme, authority, path) included.
fn head_size(req: &Request) -> usize {
    let uri = req.uri();
    let target = uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    let (line, per_field) = if req.version() == Version::HTTP_2 {
        let scheme = uri.scheme_str().map_or(0, str::len);
        (scheme + 4 * (32 + ":authority".len()), 32)
    } else {
        // "GET /path HTTP/1.1\r\n" and the blank line that ends the head; ": " and "\r\n"
        // around each value.
        ("  HTTP/1.1\r\n\r\n".len(), 4)
    };
    req.headers().iter().fold(
        req.method().as_str().len() + target + line,
        |size, (name, value)| size + name.as_str().len() + value.len() + per_field,
    )
}

/// The outermost layer: makes every response an axum one, and leaves the body out of the
/// responses to HEAD requests. axum's router does that for what its routes answer, but the
/// layers around it answer some requests themselves (the limiter's 429, a panic's 500, CORS
/// preflights), and over HTTP/2 nothing further down drops a HEAD response's body.
#[derive(Clone, Copy)]
pub struct HeadResponsesLayer;

impl<S> Layer<S> for HeadResponsesLayer {
    type Service = HeadResponses<S>;

    fn layer(&self, inner: S) -> HeadResponses<S> {
        HeadResponses { inner }
    }
}

#[derive(Clone)]
pub struct HeadResponses<S> {
    inner: S,
}

impl<S, B> Service<Request> for HeadResponses<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = MapOk<S::Future, fn(http::Response<B>) -> Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let finish: fn(http::Response<B>) -> Response = if req.method() == Method::HEAD {
            without_body
        } else {
            IntoResponse::into_response
        };
        self.inner.call(req).map_ok(finish)
    }
}

/// The response with its length kept in `Content-Length` (when known) and its body left out.
fn without_body<B>(res: http::Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut res = res.into_response();
    if !res.headers().contains_key(header::CONTENT_LENGTH)
        && let Some(length) = res.body().size_hint().exact()
    {
        res.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    res.map(|_| Body::empty())
}

/// The client's IP, as the rate limiter sees it.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(
            state,
            &parts.headers,
            &parts.extensions,
        )))
    }
}

/// The client's IP: the first configured `trustedProxy.headers` header present (its leftmost
/// or rightmost entry, as `useLeftmostIP` says), else the peer's address.
pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> String {
    proxied_ip(state.app.settings(), headers).unwrap_or_else(|| {
        peer_ip(extensions)
            .map(|ip| ip.to_string())
            .unwrap_or_default()
    })
}

/// The client's IP as the first trusted proxy header present gives it, if one does.
pub(crate) fn proxied_ip(settings: &Settings, headers: &HeaderMap) -> Option<String> {
    let proxy = settings.trusted_proxy_headers()?;
    for name in &proxy.headers {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            let mut parts = value.split(',').map(str::trim).filter(|p| !p.is_empty());
            let ip = if proxy.use_leftmost_ip {
                parts.next()
            } else {
                parts.next_back()
            };
            if let Some(ip) = ip {
                return Some(ip.to_owned());
            }
        }
    }
    None
}

/// The peer's address.
pub(crate) fn peer_ip(extensions: &Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// PB-COMPAT: the action tags PocketBase's rate-limit labels use (`users:create`, `*:auth`).
fn collection_action<'a>(method: &str, path: &'a str) -> Option<(&'a str, &'static str)> {
    let rest = path.strip_prefix("/api/collections/")?;
    let mut parts = rest.split('/');
    let collection = parts.next().filter(|c| !c.is_empty())?;
    let action = match (method, parts.next()?, parts.next(), parts.next()) {
        ("GET", "records", None, _) => "list",
        ("POST", "records", None, _) => "create",
        ("GET", "records", Some(_), None) => "view",
        ("PATCH", "records", Some(_), None) => "update",
        ("DELETE", "records", Some(_), None) => "delete",
        ("POST", "auth-with-password" | "auth-with-otp" | "auth-with-oauth2", None, _) => "auth",
        ("POST", "auth-refresh", None, _) => "authRefresh",
        ("GET", "auth-methods", None, _) => "listAuthMethods",
        ("POST", "request-otp", None, _) => "requestOTP",
        ("POST", "request-verification", None, _) => "requestVerification",
        ("POST", "confirm-verification", None, _) => "confirmVerification",
        ("POST", "request-password-reset", None, _) => "requestPasswordReset",
        ("POST", "confirm-password-reset", None, _) => "confirmPasswordReset",
        ("POST", "request-email-change", None, _) => "requestEmailChange",
        ("POST", "confirm-email-change", None, _) => "confirmEmailChange",
        _ => return None,
    };
    Some((collection, action))
}

#[cfg(test)]
mod tests {
    use super::collection_action;

    #[test]
    fn collection_endpoints_map_to_pocketbase_action_tags() {
        assert_eq!(
            collection_action("POST", "/api/collections/users/auth-with-password"),
            Some(("users", "auth"))
        );
        assert_eq!(
            collection_action("GET", "/api/collections/posts/records"),
            Some(("posts", "list"))
        );
        assert_eq!(
            collection_action("GET", "/api/collections/posts/records/abc"),
            Some(("posts", "view"))
        );
        assert_eq!(
            collection_action("DELETE", "/api/collections/posts/records/abc"),
            Some(("posts", "delete"))
        );
        assert_eq!(
            collection_action("POST", "/api/collections/users/request-otp"),
            Some(("users", "requestOTP"))
        );
        assert_eq!(collection_action("GET", "/api/collections/posts"), None);
        assert_eq!(collection_action("GET", "/api/health"), None);
    }
}
