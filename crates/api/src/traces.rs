//! A trace span per request (`oxbase serve --otlpEndpoint`): named by its route's template
//! (`GET /api/collections/{collection}/records`), with OpenTelemetry's HTTP attributes, and
//! joined to the caller's trace when the request carries one (through the `JoinTrace` hook the
//! binary gives: the exporter's crates stay out of this one). The store's statement spans nest
//! under it. Off by default: a request then costs a look at an `Option`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::HeaderMap;
use tower::{Layer, Service};
use tracing::Span;
use tracing::field::Empty;

use crate::metrics::{method_label, route_template};

/// Makes a request's span a child of the trace its headers name (W3C `traceparent`), if any.
pub type JoinTrace = fn(&HeaderMap, &Span);

/// The target of the request spans, by which a subscriber collects them.
pub const SPAN_TARGET: &str = "oxbase::http";

/// Gives every request passing it a span, when `join` is set.
#[derive(Clone, Copy)]
pub struct TracesLayer {
    pub join: Option<JoinTrace>,
}

impl<S> Layer<S> for TracesLayer {
    type Service = Traces<S>;

    fn layer(&self, inner: S) -> Traces<S> {
        Traces {
            inner,
            join: self.join,
        }
    }
}

#[derive(Clone)]
pub struct Traces<S> {
    inner: S,
    join: Option<JoinTrace>,
}

impl<S, B> Service<Request> for Traces<S>
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>,
{
    type Response = axum::http::Response<B>;
    type Error = Infallible;
    type Future = Traced<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let Some(join) = self.join else {
            return Traced {
                inner: self.inner.call(req),
                span: None,
            };
        };
        let method = method_label(req.method());
        let route = route_template(req.uri().path());
        let span = tracing::info_span!(
            target: SPAN_TARGET,
            "request",
            otel.name = format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = method,
            http.route = route,
            url.path = req.uri().path(),
            http.response.status_code = Empty,
        );
        join(req.headers(), &span);
        let inner = span.in_scope(|| self.inner.call(req));
        Traced {
            inner,
            span: Some(span),
        }
    }
}

pin_project_lite::pin_project! {
    /// The request's future, polled inside its span; the span ends when it is dropped.
    pub struct Traced<F> {
        #[pin]
        inner: F,
        span: Option<Span>,
    }
}

impl<F, B> Future for Traced<F>
where
    F: Future<Output = Result<axum::http::Response<B>, Infallible>>,
{
    type Output = Result<axum::http::Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(span) = this.span.as_ref() else {
            return this.inner.poll(cx);
        };
        let result = {
            let _entered = span.enter();
            std::task::ready!(this.inner.poll(cx))
        };
        if let Ok(response) = &result {
            let status = response.status();
            // As an i64: tracing-opentelemetry would turn a u16 (a u64 to `tracing`) into text.
            span.record("http.response.status_code", i64::from(status.as_u16()));
            // OpenTelemetry's HTTP conventions: a server span is an error on a 5xx only.
            if status.is_server_error() {
                span.record("otel.status_code", "error");
            }
        }
        Poll::Ready(result)
    }
}
