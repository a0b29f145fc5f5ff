//! `GET /api/realtime` (the SSE stream) and `POST /api/realtime` (set subscriptions).

use std::convert::Infallible;

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, HeaderName};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, StreamExt};
use oxbase_core::realtime::{ClientId, Message};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};

/// `GET /api/realtime`: `PB_CONNECT` with the client id first, then one event per delivered
/// change, named by the exact topic subscribed to. The stream ends when the hub lets the
/// client go (it fell behind, or stayed idle past the idle timeout); the SDK reconnects.
pub async fn connect(
    State(state): State<AppState>,
    id: Option<Extension<ClientId>>,
) -> impl IntoResponse {
    let realtime = state.app.realtime();
    let conn = realtime.connect(id.map(|Extension(id)| id));
    let keep_alive = conn.keep_alive;
    let id = conn.id.clone();
    let hello = Message {
        event: "PB_CONNECT".into(),
        data: Arc::from(json!({"clientId": id}).to_string()),
    };
    // With `onRealtimeMessageSend` hooks, each message passes them first (they may change it
    // or skip it); without, nothing is asked.
    let hooks = realtime.hooks().filter(|h| h.wants_messages());
    let hub = realtime.clone();
    let hooked = move |m: Message, id: String| {
        let (hooks, hub) = (hooks.clone(), hub.clone());
        async move {
            match hooks {
                None => Some(m),
                Some(hooks) => {
                    tokio::task::spawn_blocking(move || hooks.message(&id, &hub.topics(&id), m))
                        .await
                        .ok()
                        .flatten()
                }
            }
        }
    };
    let event = |id: &str, m: Message| Event::default().id(id).event(m.event).data(m.data.as_ref());
    let first = {
        let hooked = hooked.clone();
        let id = id.clone();
        stream::once(async move { hooked(hello, id.clone()).await.map(|m| event(&id, m)) })
            .filter_map(|e| async move { e.map(Ok::<_, Infallible>) })
    };
    // The connection lives as long as the stream: when the client goes, it leaves the hub.
    let messages = stream::unfold(conn, move |mut conn| {
        let hooked = hooked.clone();
        async move {
            loop {
                let m = conn.next().await?;
                if let Some(m) = hooked(m, conn.id.clone()).await {
                    let e = event(&conn.id, m);
                    return Some((Ok::<_, Infallible>(e), conn));
                }
            }
        }
    });
    let sse = Sse::new(first.chain(messages)).keep_alive(KeepAlive::new().interval(keep_alive));
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
