//! Traces over OTLP (`oxbase serve --otlpEndpoint`): the binary sends its spans to a fake
//! collector (an axum server taking `POST /v1/traces`, decoding the protobuf with
//! `opentelemetry-proto`'s messages), flushed when the server stops. A request's span is named
//! by its route's template and carries its status; the SQL statements it ran are its children,
//! with their text and never their values; a caller's `traceparent` is continued.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use parking_lot::Mutex;
use prost::Message;

use crate::cli::{database, serve_in};

/// The spans a fake collector received.
#[derive(Clone, Default)]
pub(crate) struct Collector {
    pub(crate) spans: Arc<Mutex<Vec<Span>>>,
}

impl Collector {
    /// Listens on a free port; its base URL.
    pub(crate) async fn start(&self) -> String {
        let spans = self.spans.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            post(move |body: Bytes| async move {
                let request =
                    ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf request");
                let mut spans = spans.lock();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        spans.extend(scope.spans);
                    }
                }
                // An empty ExportTraceServiceResponse.
                ([("content-type", "application/x-protobuf")], Bytes::new())
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attribute(span, key)? {
        Any::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key)? {
        Any::IntValue(n) => Some(*n),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
/// A value bound in a filter: it must appear in no span.
const SECRET: &str = "bound-value-never-traced";

#[tokio::test]
async fn requests_and_their_sql_statements_reach_the_collector_as_one_trace() {
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let server = serve_in(dir.path(), db.as_deref(), &["--otlpEndpoint", &endpoint]).await;
    let list = server.url(&format!(
        "/api/collections/users/records?filter=(name%3D%27{SECRET}%27)"
    ));
    let r = server.client.get(&list).send().await.expect("list");
    assert_eq!(r.status(), 200);
    let r = server
        .client
        .get(&list)
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .send()
        .await
        .expect("list with a traceparent");
    assert_eq!(r.status(), 200);
    let r = server
        .client
        .get(server.url("/api/collections/nope/records"))
        .send()
        .await
        .expect("a missing collection");
    assert_eq!(r.status(), 404);
    // The stop flushes the batch.
    assert!(server.stop("TERM", Duration::from_secs(20)).await);
    let spans = collector.spans.lock().clone();

    let requests: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "GET /api/collections/{collection}/records")
        .collect();
    assert_eq!(requests.len(), 3, "{:#?}", names(&spans));
    for request in &requests {
        assert_eq!(request.kind, SpanKind::Server as i32);
        assert_eq!(text(request, "http.request.method"), Some("GET"));
        assert_eq!(
            text(request, "http.route"),
            Some("/api/collections/{collection}/records")
        );
    }
    let ok: Vec<&&Span> = requests
        .iter()
        .filter(|s| int(s, "http.response.status_code") == Some(200))
        .collect();
    assert_eq!(ok.len(), 2, "{requests:#?}");
    assert!(requests.iter().any(|s| {
        int(s, "http.response.status_code") == Some(404)
            && text(s, "url.path") == Some("/api/collections/nope/records")
    }));

    // The caller's trace is continued; the other request started its own.
    let joined = ok
        .iter()
        .find(|s| hex(&s.trace_id) == CALLER_TRACE)
        .expect("the request with a traceparent joined its trace");
    assert_eq!(hex(&joined.parent_span_id), CALLER_SPAN);
    let own = ok
        .iter()
        .find(|s| hex(&s.trace_id) != CALLER_TRACE)
        .expect("the request without one");
    assert!(own.parent_span_id.is_empty());

    // Each listing's SQL statements are its children, in its trace.
    let system = if db.is_some() { "postgresql" } else { "sqlite" };
    for request in [joined, own] {
        let statements: Vec<&Span> = spans
            .iter()
            .filter(|s| s.trace_id == request.trace_id && s.parent_span_id == request.span_id)
            .collect();
        let select = statements
            .iter()
            .find(|s| text(s, "db.query.text").is_some_and(|q| q.contains("SELECT")))
            .unwrap_or_else(|| panic!("a SELECT under the request: {:#?}", names(&spans)));
        assert_eq!(select.kind, SpanKind::Client as i32);
        assert_eq!(select.name, "SELECT");
        assert_eq!(text(select, "db.system"), Some(system));
    }
    for span in &spans {
        for kv in &span.attributes {
            assert!(
                !format!("{:?}", kv.value).contains(SECRET),
                "a bound value in span {}: {kv:?}",
                span.name
            );
        }
    }
}

fn names(spans: &[Span]) -> Vec<(String, String, String)> {
    spans
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                hex(&s.trace_id),
                text(s, "db.query.text").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A collector that is down costs the server nothing but the spans: requests are answered and
/// the stop still ends in bounded time. An endpoint that is no URL stops the start.
#[tokio::test]
async fn a_collector_down_neither_fails_requests_nor_holds_the_stop() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing listens there once the listener is dropped.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let server = serve_in(dir.path(), None, &["--otlpEndpoint", &closed]).await;
    for _ in 0..3 {
        let r = server
            .client
            .get(server.url("/api/collections/users/records"))
            .send()
            .await
            .expect("list");
        assert_eq!(r.status(), 200);
    }
    assert!(server.stop("TERM", Duration::from_secs(20)).await);

    let out = crate::cli::oxbase()
        .args(["serve", "--http", "127.0.0.1:0", "--dir"])
        .arg(dir.path().join("other"))
        .args(["--otlpEndpoint", "not a url"])
        .output()
        .await
        .expect("run oxbase");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--otlpEndpoint"), "{stderr}");
}
