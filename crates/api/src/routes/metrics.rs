//! `GET /metrics` (with `--metrics`): Prometheus's text format.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// `GET /metrics`: the gauges read at scrape time are set first.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !crate::metrics::allowed(state.metrics_token.as_deref(), authorization) {
        return (StatusCode::UNAUTHORIZED, "a bearer token is required\n").into_response();
    }
    metrics::gauge!("oxbase_realtime_clients").set(state.app.realtime().client_count() as f64);
    let load = state.app.db().load();
    metrics::gauge!("oxbase_db_queued_writes").set(load.queued_writes as f64);
    metrics::gauge!("oxbase_db_connections").set(load.connections as f64);
    metrics::gauge!("oxbase_db_idle_connections").set(load.idle_connections as f64);
    metrics::gauge!("oxbase_db_waiting_for_connection").set(load.waiting_for_connection as f64);
    crate::metrics::process().collect();
    crate::metrics::render()
}
