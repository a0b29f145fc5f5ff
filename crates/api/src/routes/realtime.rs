//! `GET /api/realtime` (the SSE stream) and `POST /api/realtime` (set subscriptions).

use std::convert::Infallible;

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, HeaderName};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream;
use oxbase_core::realtime::{ClientSetup, Delivery, Message};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};

/// `GET /api/realtime`: `PB_CONNECT` with the client id first, then one event per delivered
/// change, named by the exact topic subscribed to. The stream ends when the hub lets the
/// client go (it fell behind, or stayed idle past the idle timeout); the SDK reconnects.
pub async fn connect(
    State(state): State<AppState>,
    setup: Option<Extension<ClientSetup>>,
) -> impl IntoResponse {
    let realtime = state.app.realtime();
    let conn = realtime.connect(setup.map(|Extension(s)| s));
    let keep_alive = conn.keep_alive;
    let id = conn.id.clone();
    let hello = Message {
        event: "PB_CONNECT".into(),
        data: Arc::from(json!({"clientId": id}).to_string()),
    };
    // With `onRealtimeMessageSend` hooks, each message passes them first (they may change it,
    // skip it or end the stream); without, nothing is asked.
    let hooks = realtime.hooks().filter(|h| h.wants_messages());
    let hub = realtime.clone();
    // The connection lives as long as the stream: when the client goes, it leaves the hub.
    // `PB_CONNECT` first, then one event per message.
    let messages = stream::unfold(Some((conn, Some(hello), hooks, hub)), |state| async move {
        let (mut conn, mut hello, hooks, hub) = state?;
        loop {
            let m = match hello.take() {
                Some(hello) => hello,
                None => conn.next().await?,
            };
            match hub.pass_hooks(hooks.as_ref(), &conn.id, m).await {
                Delivery::Send(m) => {
                    let event = Event::default()
                        .id(conn.id.as_str())
                        .event(m.event)
                        .data(m.data.as_ref());
                    return Some((Ok::<_, Infallible>(event), Some((conn, None, hooks, hub))));
                }
                Delivery::Skip => {}
                Delivery::Close => return None,
            }
        }
    });
    let sse = Sse::new(messages).keep_alive(KeepAlive::new().interval(keep_alive));
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
