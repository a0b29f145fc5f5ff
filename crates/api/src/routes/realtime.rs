//! `GET /api/realtime` (the SSE stream) and `POST /api/realtime` (set subscriptions).

use std::convert::Infallible;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, HeaderName};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};

/// `GET /api/realtime`: `PB_CONNECT` with the client id first, then one event per delivered
/// change, named by the exact topic subscribed to. The stream ends when the hub lets the
/// client go (it fell behind, or stayed idle past the idle timeout); the SDK reconnects.
pub async fn connect(State(state): State<AppState>) -> impl IntoResponse {
    let conn = state.app.realtime().connect();
    let keep_alive = conn.keep_alive;
    let id = conn.id.clone();
    let hello = Event::default()
        .id(id.clone())
        .event("PB_CONNECT")
        .data(json!({"clientId": id}).to_string());
    // The connection lives as long as the stream: when the client goes, it leaves the hub.
    let messages = stream::unfold(conn, |mut conn| async move {
        let m = conn.next().await?;
        let event = Event::default()
            .id(conn.id.clone())
            .event(m.event)
            .data(m.data.as_ref());
        Some((Ok::<_, Infallible>(event), conn))
    });
    let sse = Sse::new(stream::once(async move { Ok(hello) }).chain(messages))
        .keep_alive(KeepAlive::new().interval(keep_alive));
    // PB-COMPAT: PocketBase's headers: nothing may store the stream, and nginx must pass it
    // through unbuffered (`X-Accel-Buffering`), or events arrive late and in lumps.
    (
        [
            (CACHE_CONTROL, "no-store"),
            (HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        sse,
    )
}

/// `POST /api/realtime`: `{clientId, subscriptions: [...]}` replaces the client's topics.
pub async fn set_subscriptions(
    State(state): State<AppState>,
    Caller(auth): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<StatusCode> {
    let client_id = body.get("clientId").and_then(Value::as_str).unwrap_or("");
    let topics: Vec<String> = match body.get("subscriptions") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(ApiError::bad_request("Invalid subscriptions.")),
    };
    if client_id.is_empty() {
        return Err(ApiError(oxbase_core::Error::field(
            "clientId",
            "validation_required",
            "Cannot be blank.",
        )));
    }
    state.app.realtime().subscribe(client_id, auth, &topics)?;
    Ok(StatusCode::NO_CONTENT)
}
