//! Prometheus metrics (`--metrics`): `GET /metrics` in the text format, rendered by
//! `metrics-exporter-prometheus` from what the `metrics` facade recorded: HTTP requests by route
//! template, method and status with latency histograms, requests in flight, and the core's own
//! (cron runs and failures, auth failures, rate-limit rejections, realtime clients and events,
//! the duration of each SQL statement: `oxbase_core::store::observe`).
//! Off by default: a request then costs nothing more than a look at a flag.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use oxbase_core::store::observe::QUERY_DURATION;
use parking_lot::RwLock;
use tower::{Layer, Service};

/// Latency buckets, in seconds: from half a millisecond to ten seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Statement latency buckets, in seconds: from 50 microseconds (a SQLite lookup) to five
/// seconds.
const QUERY_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// The process's recorder (one per process: the `metrics` facade has one global recorder).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(QUERY_DURATION.to_owned()), &QUERY_BUCKETS)
            })
            .expect("the latency buckets are not empty");
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (an embedding program's): render an empty one.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        };
        describe();
        oxbase_core::store::observe::measure_queries();
        // Histograms keep their samples until an upkeep folds them in: without one, memory grows
        // with every request between scrapes.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            .expect("a thread for the metrics upkeep");
        handle
    })
}

/// The process's own metrics (`process_resident_memory_bytes`, `process_cpu_seconds_total`...),
/// read from the OS at each scrape.
pub fn process() -> &'static metrics_process::Collector {
    static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();
    PROCESS.get_or_init(|| {
        let collector = metrics_process::Collector::default();
        collector.describe();
        collector
    })
}

/// How often histogram samples are folded in.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The handles of the request metrics, made once per label set: building a key and finding it
/// in the registry on every request cost a fifth of a small request's time.
#[derive(Default)]
struct Handles {
    requests: RwLock<HashMap<(&'static str, &'static str, &'static str), metrics::Counter>>,
    durations: RwLock<HashMap<(&'static str, &'static str), metrics::Histogram>>,
}

fn in_flight() -> &'static metrics::Gauge {
    static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
    GAUGE.get_or_init(|| metrics::gauge!("oxbase_http_requests_in_flight"))
}

fn handles() -> &'static Handles {
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    HANDLES.get_or_init(Handles::default)
}

impl Handles {
    fn record(
        &self,
        method: &'static str,
        route: &'static str,
        status: &'static str,
        seconds: f64,
    ) {
        let counter = self.requests.read().get(&(method, route, status)).cloned();
        let counter = counter.unwrap_or_else(|| {
            let labels = [("method", method), ("route", route), ("status", status)];
            let counter = metrics::counter!("oxbase_http_requests_total", &labels);
            self.requests
                .write()
                .insert((method, route, status), counter.clone());
            counter
        });
        counter.increment(1);
        let histogram = self.durations.read().get(&(method, route)).cloned();
        let histogram = histogram.unwrap_or_else(|| {
            let labels = [("method", method), ("route", route)];
            let histogram = metrics::histogram!("oxbase_http_request_duration_seconds", &labels);
            self.durations
                .write()
                .insert((method, route), histogram.clone());
            histogram
        });
        histogram.record(seconds);
    }
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "oxbase_http_requests_total",
        "HTTP requests answered, by route template, method and status."
    );
    describe_histogram!(
        "oxbase_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route template and method."
    );
    describe_gauge!(
        "oxbase_http_requests_in_flight",
        "HTTP requests being answered now."
    );
    describe_gauge!(
        "oxbase_realtime_clients",
        "Realtime (SSE) clients connected."
    );
    describe_counter!("oxbase_auth_failures_total", "Failed logins, by method.");
    describe_counter!(
        "oxbase_rate_limit_rejections_total",
        "Requests refused by a rate limit (429)."
    );
    describe_counter!("oxbase_cron_runs_total", "Cron job runs, by job.");
    describe_counter!(
        "oxbase_cron_failures_total",
        "Cron job runs that failed, by job."
    );
    describe_counter!(
        "oxbase_realtime_messages_total",
        "Realtime messages queued for clients."
    );
    describe_counter!(
        "oxbase_realtime_changes_dropped_total",
        "Changes realtime dropped, falling behind."
    );
    describe_counter!(
        "oxbase_realtime_clients_dropped_total",
        "Realtime clients disconnected for falling behind."
    );
    describe_histogram!(
        QUERY_DURATION,
        Unit::Seconds,
        "Time to run an SQL statement, by database and kind (write: in a write transaction)."
    );
    describe_gauge!(
        "oxbase_db_queued_writes",
        "SQLite: writes waiting for the writer thread."
    );
    describe_gauge!(
        "oxbase_db_connections",
        "PostgreSQL: pooled connections open."
    );
    describe_gauge!(
        "oxbase_db_idle_connections",
        "PostgreSQL: pooled connections idle."
    );
    describe_gauge!(
        "oxbase_db_waiting_for_connection",
        "PostgreSQL: callers waiting for a connection."
    );
}

/// Records every request passing it, when `enabled`.
#[derive(Clone, Copy)]
pub struct HttpMetricsLayer {
    pub enabled: bool,
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> HttpMetrics<S> {
        if self.enabled {
            handle();
        }
        HttpMetrics {
            inner,
            enabled: self.enabled,
        }
    }
}

#[derive(Clone)]
pub struct HttpMetrics<S> {
    inner: S,
    enabled: bool,
}

impl<S, B> Service<Request> for HttpMetrics<S>
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>,
{
    type Response = axum::http::Response<B>;
    type Error = Infallible;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let record = self.enabled.then(|| {
            in_flight().increment(1.0);
            Measure {
                started: Instant::now(),
                method: method_label(req.method()),
                route: route_template(req.uri().path()),
            }
        });
        Recorded {
            inner: self.inner.call(req),
            record,
        }
    }
}

struct Measure {
    started: Instant,
    method: &'static str,
    route: &'static str,
}

impl Drop for Measure {
    /// A request ends here whether it completed or its connection went away.
    fn drop(&mut self) {
        in_flight().decrement(1.0);
    }
}

pin_project_lite::pin_project! {
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        record: Option<Measure>,
    }
}

impl<F, B> Future for Recorded<F>
where
    F: Future<Output = Result<axum::http::Response<B>, Infallible>>,
{
    type Output = Result<axum::http::Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(result) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        if let (Some(m), Ok(response)) = (this.record.take(), &result) {
            let status = status_label(response.status());
            let seconds = m.started.elapsed().as_secs_f64();
            handles().record(m.method, m.route, status, seconds);
        }
        Poll::Ready(result)
    }
}

pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_label(status: StatusCode) -> &'static str {
    // `as_str` of a `StatusCode` borrows it; the label needs a static string, and the codes
    // are few.
    match status.as_u16() {
        200 => "200",
        204 => "204",
        206 => "206",
        301 => "301",
        302 => "302",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        413 => "413",
        414 => "414",
        429 => "429",
        431 => "431",
        500 => "500",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// The route a path takes, with its variable parts named (bounded label values: one per
/// route, never one per record).
pub(crate) fn route_template(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match parts.as_slice() {
        ["api", "health"] => "/api/health",
        ["api", "collections", _, "records"] => "/api/collections/{collection}/records",
        ["api", "collections", _, "records", _] => "/api/collections/{collection}/records/{id}",
        ["api", "collections", _, "impersonate", _] => {
            "/api/collections/{collection}/impersonate/{id}"
        }
        ["api", "collections", _, "auth-methods"] => "/api/collections/{collection}/auth-methods",
        ["api", "collections", _, action] if action.starts_with("auth-") => {
            "/api/collections/{collection}/auth"
        }
        ["api", "collections", _, action]
            if action.starts_with("request-") || action.starts_with("confirm-") =>
        {
            "/api/collections/{collection}/request"
        }
        ["api", "collections", ..] => "/api/collections",
        ["api", "files", ..] => "/api/files",
        ["api", "realtime"] => "/api/realtime",
        ["api", "batch"] => "/api/batch",
        ["api", "settings", ..] => "/api/settings",
        ["api", "crons", ..] => "/api/crons",
        ["api", "sql"] => "/api/sql",
        ["api", "oauth2-redirect"] => "/api/oauth2-redirect",
        ["api", ..] => "/api/other",
        ["_", ..] => "/_/",
        ["metrics"] => "/metrics",
        _ => "static",
    }
}

/// Whether a scrape may read the metrics: no token set, or the right one sent (compared in
/// constant time, so its answer times tell nothing of the token).
pub fn allowed(token: Option<&str>, authorization: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    match token {
        None => true,
        Some(token) => authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes()))),
    }
}

/// `GET /metrics`: the text format.
pub fn render() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle().render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_named_by_template() {
        for (path, route) in [
            ("/api/health", "/api/health"),
            (
                "/api/collections/posts/records",
                "/api/collections/{collection}/records",
            ),
            (
                "/api/collections/posts/records/abc",
                "/api/collections/{collection}/records/{id}",
            ),
            (
                "/api/collections/users/auth-with-password",
                "/api/collections/{collection}/auth",
            ),
            (
                "/api/collections/users/request-otp",
                "/api/collections/{collection}/request",
            ),
            ("/api/collections/posts", "/api/collections"),
            ("/api/files/c/r/f.png", "/api/files"),
            ("/_/", "/_/"),
            ("/index.html", "static"),
            ("/api/nope/x", "/api/other"),
        ] {
            assert_eq!(route_template(path), route, "{path}");
        }
    }
}
