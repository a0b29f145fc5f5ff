//! Subscriptions: `GET /api/graphql` upgraded to a WebSocket speaking `graphql-transport-ws`
//! (or the legacy `graphql-ws`), and the record events a subscription field streams.
//!
//! A subscription is a client of the realtime hub, subscribed to the topic SSE would use
//! (`posts/*` or `posts/ID`, with the filter and the expand the selection needs as the
//! topic's options) under the connection's identity. So the hub's dispatcher decides what it
//! receives, as it decides for SSE: the list or view rule per event, hidden fields removed,
//! deletions judged before the row goes; what SSE would send is what the subscription gets.

use std::time::Duration;

use async_graphql::Data;
use async_graphql::dynamic::Schema;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use futures_util::{SinkExt, StreamExt, future};
use oxbase_core::App;
use oxbase_core::identity::Auth;
use oxbase_core::realtime::{ClientSetup, Delivery};
use serde_json::{Value as Json, json};

use super::Caller;
use crate::error::ApiError;

/// A subscription is not let go for being quiet (the WebSocket has its own pings); a year
/// stands for never.
const NO_IDLE_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The events of `collection` (one record, or all) that the hub delivers to `auth`: each
/// `{"action": …, "record": …}` as SSE sends it. The stream ends when the hub lets the
/// subscription go (it fell behind, or the server is stopping).
pub(crate) fn events(
    app: &App,
    auth: Auth,
    collection: &str,
    id: Option<&str>,
    filter: &str,
    expand: &str,
) -> Result<impl Stream<Item = Json> + Send + use<>, oxbase_core::Error> {
    let realtime = app.realtime().clone();
    let topic = topic(collection, id, filter, expand)?;
    let conn = realtime.connect(Some(ClientSetup {
        id: oxbase_core::ids::random_string(40),
        idle_timeout: Some(NO_IDLE_TIMEOUT),
    }));
    realtime.subscribe(&conn.id, auth, &[topic])?;
    // With `onRealtimeMessageSend` hooks, each message passes them first, as over SSE.
    let hooks = realtime.hooks().filter(|h| h.wants_messages());
    Ok(stream::unfold(
        (conn, hooks, realtime),
        |(mut conn, hooks, hub)| async move {
            loop {
                let m = conn.next().await?;
                match hub.pass_hooks(hooks.as_ref(), &conn.id, m).await {
                    Delivery::Send(m) => {
                        if let Ok(json) = serde_json::from_str::<Json>(&m.data) {
                            return Some((json, (conn, hooks, hub)));
                        }
                    }
                    Delivery::Skip => {}
                    Delivery::Close => return None,
                }
            }
        },
    ))
}

/// The SSE topic of a subscription: `collection/*` or `collection/id`, with `?options=` for
/// the filter and expand.
fn topic(
    collection: &str,
    id: Option<&str>,
    filter: &str,
    expand: &str,
) -> Result<String, oxbase_core::Error> {
    let target = match id {
        None => "*",
        Some(id) if !id.is_empty() && !id.contains(['/', '?', '*']) => id,
        Some(_) => {
            return Err(oxbase_core::Error::field(
                "id",
                "validation_invalid_value",
                "Invalid record id.",
            ));
        }
    };
    let mut topic = format!("{collection}/{target}");
    if !filter.is_empty() || !expand.is_empty() {
        let options = json!({"query": {"filter": filter, "expand": expand}}).to_string();
        topic.push_str("?options=");
        topic.extend(form_urlencoded::byte_serialize(options.as_bytes()));
    }
    Ok(topic)
}

/// Upgrades `GET /api/graphql` to a GraphQL WebSocket over the current schema. `caller` is
/// the upgrade request's identity, used unless `connection_init` carries an `Authorization`.
pub fn upgrade(
    app: App,
    schema: Schema,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let ws = ws.protocols(ALL_WEBSOCKET_PROTOCOLS);
    let protocol = ws
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(|p| p.parse::<WebSocketProtocols>().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "GraphQL over WebSocket needs the graphql-transport-ws subprotocol.",
            )
        })?;
    Ok(ws
        .on_upgrade(move |socket| serve(socket, app, schema, caller, protocol))
        .into_response())
}

/// Runs the protocol until either side closes.
async fn serve(
    socket: WebSocket,
    app: App,
    schema: Schema,
    caller: Caller,
    protocol: WebSocketProtocols,
) {
    let (mut sink, source) = socket.split();
    let input = source
        .take_while(|m| future::ready(m.is_ok()))
        .filter_map(|m| {
            future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });
    let mut output = async_graphql::http::WebSocket::new(schema, input, protocol)
        .on_connection_init(move |payload| async move {
            let caller = init_caller(&app, caller, &payload).await;
            let mut data = Data::default();
            data.insert(app);
            data.insert(caller);
            Ok(data)
        });
    while let Some(message) = output.next().await {
        let message = match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        };
        if sink.send(message).await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}

/// The connection's identity: the `Authorization` of the `connection_init` payload (any
/// case, with or without `Bearer `), else the upgrade request's. An invalid token is a guest,
/// as over REST.
async fn init_caller(app: &App, mut caller: Caller, payload: &Json) -> Caller {
    let token = payload.as_object().and_then(|o| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str())
    });
    if let Some(token) = token {
        caller.info.auth = app.auth().authenticate(token).await;
        token.clone_into(&mut caller.authorization);
    }
    caller
}
