//! Logging and traces.
//!
//! Logs: `RUST_LOG` decides what reaches stdout; `--dev` defaults to debug, otherwise info.
//! `--logFormat json` writes one JSON object per line (timestamp, level, message, fields), for
//! log shippers. Independently of stdout, the server's own events at or above `logs.minLevel`
//! go to the app's log store (`/api/logs`), as PocketBase's do.
//!
//! Traces (`--otlpEndpoint URL`): the request spans (`oxbase_api::traces`) and the SQL
//! statement spans under them (`oxbase_core::store::observe`) go to an OpenTelemetry collector
//! over OTLP/HTTP (protobuf), in batches from a thread of the SDK's, flushed by
//! `Telemetry::shutdown`. A request carrying a W3C `traceparent` continues the caller's trace.
//! Without the flag those spans are never created: their level stays disabled.

use axum::http::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use parking_lot::RwLock;
use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets, filter_fn};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::LogFormat;
use oxbase_core::logs::{Logs, level};

/// The log store of the running app, once it is open.
static APP_LOGS: RwLock<Option<Logs>> = RwLock::new(None);

/// OTLP/HTTP's path for traces, under a collector's base URL.
const TRACES_PATH: &str = "/v1/traces";

/// What `init` set up that must be stopped: the trace exporter, whose last batch is sent then.
#[must_use = "shut it down at exit, or the last spans are lost"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported (`--otlpEndpoint` was given).
    pub fn traces(&self) -> bool {
        self.traces.is_some()
    }

    /// Sends the spans still queued and stops the exporter. It blocks (the SDK's thread
    /// exports, 5 s at most): call it off the async runtime's workers.
    pub fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(err) = provider.shutdown()
        {
            eprintln!("traces: the last spans could not be sent: {err}");
        }
    }
}

/// Sets up the process's logs, and its traces when `otlp_endpoint` is given (the collector's
/// base URL, `http://host:4318`, to which `/v1/traces` is added; a URL already ending in it
/// is used as it is).
pub fn init(
    dev: bool,
    format: LogFormat,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, String> {
    let default = if dev {
        "debug,hyper=info,tower_http=debug"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let filter = AskEachTime(filter);
    let stdout = tracing_subscriber::fmt::layer().with_target(false);
    let stdout = match format {
        LogFormat::Text => stdout.with_filter(filter).boxed(),
        LogFormat::Json => stdout
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
    };
    let provider = otlp_endpoint.map(exporter).transpose()?;
    // The spans of two targets only: events (whose fields may hold bound values, at TRACE)
    // stay in the logs. `None` without `--otlpEndpoint`: no layer, no hint raising the level.
    let spans = provider.as_ref().map(|provider| {
        let collected = Targets::new()
            .with_target(oxbase_api::traces::SPAN_TARGET, Level::INFO)
            .with_target(oxbase_core::store::observe::SPAN_TARGET, Level::TRACE);
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("oxbase"))
            // OpenTelemetry's attributes only, not `tracing`'s bookkeeping (source location,
            // thread, target, busy and idle times).
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(collected)
    });
    let _ = tracing_subscriber::registry()
        .with(stdout)
        .with(AppLogs.with_filter(AskEachTime(
            app_log_targets().and(filter_fn(|meta| meta.is_event())),
        )))
        .with(spans)
        .try_init();
    Ok(Telemetry { traces: provider })
}

/// Which events the log store may get: the server's own, down to debug (`logs.minLevel`
/// decides at each event). A static filter: every other crate's callsites stay disabled, at
/// no cost. The log writer's own complaints would feed it; a mail logged while SMTP is off
/// carries its one-time links, kept out of the store.
fn app_log_targets() -> Targets {
    Targets::new()
        .with_target("oxbase", LevelFilter::DEBUG)
        .with_target("oxbase_core", LevelFilter::DEBUG)
        .with_target("oxbase_api", LevelFilter::DEBUG)
        .with_target("oxbase_core::logs", LevelFilter::OFF)
        .with_target("oxbase::mail", LevelFilter::OFF)
}

/// A per-layer filter whose callsites are never cached as always enabled, so `enabled` runs
/// before every event. tracing-subscriber passes each per-layer filter's decision from
/// `enabled` to the event through a thread-local; for a callsite cached as always enabled
/// `enabled` is skipped, and the event then read what an earlier, unrelated `enabled` call
/// (another crate's `enabled!` query) left there: it was dropped from every filtered layer,
/// stdout and the log store alike (tokio-rs/tracing#2519, #2704).
struct AskEachTime<F>(F);

impl<S, F: tracing_subscriber::layer::Filter<S>> tracing_subscriber::layer::Filter<S>
    for AskEachTime<F>
{
    fn enabled(&self, meta: &tracing::Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.0.enabled(meta, cx)
    }
    fn callsite_enabled(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        let interest = self.0.callsite_enabled(meta);
        if interest.is_always() {
            tracing::subscriber::Interest::sometimes()
        } else {
            interest
        }
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.0.max_level_hint()
    }
    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        self.0.event_enabled(event, cx)
    }
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        cx: Context<'_, S>,
    ) {
        self.0.on_new_span(attrs, id, cx)
    }
    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        cx: Context<'_, S>,
    ) {
        self.0.on_record(id, values, cx)
    }
    fn on_enter(&self, id: &tracing::span::Id, cx: Context<'_, S>) {
        self.0.on_enter(id, cx)
    }
    fn on_exit(&self, id: &tracing::span::Id, cx: Context<'_, S>) {
        self.0.on_exit(id, cx)
    }
    fn on_close(&self, id: tracing::span::Id, cx: Context<'_, S>) {
        self.0.on_close(id, cx)
    }
}

/// From now on the server's events go to `logs` too.
pub fn store_app_logs_in(logs: &Logs) {
    *APP_LOGS.write() = Some(logs.clone());
}

/// Hands each event to the app's log store.
struct AppLogs;

impl<S: Subscriber> Layer<S> for AppLogs {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = match *event.metadata().level() {
            Level::ERROR => level::ERROR,
            Level::WARN => level::WARN,
            Level::INFO => level::INFO,
            Level::DEBUG | Level::TRACE => level::DEBUG,
        };
        if oxbase_core::logs::in_writer() {
            return;
        }
        let logs = APP_LOGS.read();
        let Some(logs) = logs.as_ref().filter(|l| l.keeps(level)) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        logs.app(level, fields.message, fields.attrs);
    }
}

/// An event's message and its other fields as JSON attributes.
#[derive(Default)]
struct Fields {
    message: String,
    attrs: Map<String, Json>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Json::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Json) {
        match (field.name(), value) {
            ("message", Json::String(message)) => self.message = message,
            (name, value) => {
                self.attrs.insert(name.to_owned(), value);
            }
        }
    }
}

/// The batch exporter to the collector at `endpoint`.
fn exporter(endpoint: &str) -> Result<SdkTracerProvider, String> {
    let url = traces_url(endpoint);
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .build()
        .map_err(|e| format!("--otlpEndpoint {url}: {e}"))?;
    let mut resource = Resource::builder();
    // OTEL_SERVICE_NAME (read by the builder) names the service when set.
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("oxbase");
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The traces URL under a collector's base URL.
fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with(TRACES_PATH) {
        base.to_owned()
    } else {
        format!("{base}{TRACES_PATH}")
    }
}

/// Makes `span` a child of the trace a request's `traceparent` names (`oxbase_api`'s
/// `JoinTrace` hook); a request without one (or with a malformed one) starts its own trace.
pub fn join_trace(headers: &HeaderMap, span: &tracing::Span) {
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if parent.span().span_context().is_remote() {
        let _ = span.set_parent(parent);
    }
}

/// A request's headers, as the propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_to_a_base_url_once() {
        assert_eq!(
            traces_url("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/v1/traces"),
            "http://collector:4318/v1/traces"
        );
    }

    #[test]
    fn a_traceparent_names_the_parent_trace() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .expect("a header value"),
        );
        let parent = TraceContextPropagator::new().extract(&Headers(&headers));
        let context = parent.span().span_context().clone();
        assert!(context.is_remote() && context.is_valid());
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
}
