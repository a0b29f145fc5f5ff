//! `GET /metrics` (with `--metrics`): Prometheus's text format.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::Response;

use crate::AppState;

/// `GET /metrics`: the gauges read at scrape time are set first.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    metrics::gauge!("oxbase_realtime_clients").set(state.app.realtime().client_count() as f64);
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    crate::metrics::render(state.metrics_token.as_deref(), authorization)
}
