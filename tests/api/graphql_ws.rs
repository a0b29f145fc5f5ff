//! GraphQL subscriptions over WebSocket (`graphql-transport-ws` at `/api/graphql`): for the
//! same callers (guest, owner, other user, superuser), a subscription delivers exactly what
//! realtime SSE delivers for the same topic: the same events in the same order, the same
//! records, hidden fields absent (null), deletions judged as SSE judges them.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::graphql::fixture;
use crate::helpers::{GUEST, SSE_WAIT, SseClient, TestApp, eventually};

/// A GraphQL WebSocket, acknowledged.
struct GqlWs {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl GqlWs {
    /// Connects with `graphql-transport-ws` and sends `connection_init` with `payload`.
    async fn connect(app: &TestApp, payload: Value) -> GqlWs {
        let mut req = app
            .url("/api/graphql")
            .replacen("http://", "ws://", 1)
            .into_client_request()
            .expect("a request");
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (ws, resp) = tokio::time::timeout(SSE_WAIT, tokio_tungstenite::connect_async(req))
            .await
            .expect("the upgrade in time")
            .expect("the upgrade succeeds");
        assert_eq!(
            resp.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        let mut ws = GqlWs { ws };
        ws.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        let ack = ws.next().await.expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    /// Connects as `token` (none for a guest).
    async fn as_caller(app: &TestApp, token: &str) -> GqlWs {
        let payload = if token.is_empty() {
            json!({})
        } else {
            json!({"Authorization": token})
        };
        GqlWs::connect(app, payload).await
    }

    async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .expect("sent");
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe",
            "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next protocol message (pings answered and skipped); `None` when the socket
    /// closed or nothing came within the wait.
    async fn next(&mut self) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(SSE_WAIT, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match m {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
                    if v["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return Some(v);
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }
}

/// SSE events until the one whose record has title `end`, as `{action, record}` with the
/// record reduced to `fields` (absent ones null, as GraphQL shows them).
async fn sse_until_end(sse: &mut SseClient, fields: &[&str]) -> Vec<Value> {
    let before = sse.until(|e| e.json()["record"]["title"] == "end").await;
    before
        .iter()
        .map(|e| {
            let data = e.json();
            let record: serde_json::Map<String, Value> = fields
                .iter()
                .map(|f| ((*f).to_owned(), data["record"][*f].clone()))
                .collect();
            json!({"action": data["action"], "record": record})
        })
        .collect()
}

const FIELDS: [&str; 6] = ["id", "title", "rank", "public", "secret", "owner"];
const SUBSCRIPTION: &str = "subscription($f: String) {
    posts(filter: $f) { action record { id title rank public secret owner } } }";

#[tokio::test]
async fn subscriptions_deliver_what_sse_delivers_for_every_caller() {
    let f = fixture().await;
    let app = &f.app;
    let callers = f.callers();
    // Per caller: all posts, and posts with rank > 0 (the subscription's own filter).
    let mut sockets = Vec::new();
    for (_, token) in &callers {
        let mut ws = GqlWs::as_caller(app, token).await;
        ws.subscribe("all", SUBSCRIPTION, json!({})).await;
        ws.subscribe("ranked", SUBSCRIPTION, json!({"f": "rank > 0"}))
            .await;
        sockets.push(ws);
    }
    let hub = app.core.realtime().clone();
    let expected = 2 * callers.len();
    eventually("the subscriptions reach the hub", SSE_WAIT, || {
        let n = hub.client_count();
        async move { n == expected }
    })
    .await;
    let ranked_topic = format!(
        "posts/*?options={}",
        crate::helpers::encode(&json!({"query": {"filter": "rank > 0"}}).to_string())
    );
    let mut streams = Vec::new();
    for (_, token) in &callers {
        streams.push((
            app.subscribed(&["posts/*"], token).await,
            app.subscribed(&[ranked_topic.as_str()], token).await,
        ));
    }

    // Writes by the owner and by the other user: public, private, made private, made
    // public, deleted while private, deleted while public.
    let ann_token = f.ann.token.as_str();
    let as_ann = |body: Value| async move {
        app.create_record("posts", body, ann_token)
            .await
            .expect(200)
            .str("id")
            .to_owned()
    };
    let p1 = as_ann(
        json!({"title": "one", "rank": 1, "public": true, "secret": "x",
        "owner": f.ann.id}),
    )
    .await;
    let p2 = as_ann(
        json!({"title": "two", "rank": 0, "public": false, "secret": "y",
        "owner": f.ann.id}),
    )
    .await;
    app.create_record(
        "posts",
        json!({"title": "bob's", "rank": 2, "public": false, "owner": f.bob.id}),
        &f.bob.token,
    )
    .await
    .expect(200);
    app.update_record("posts", &p1, json!({"public": false}), &f.ann.token)
        .await
        .expect(200);
    app.update_record(
        "posts",
        &p2,
        json!({"public": true, "title": "two!", "rank": 3}),
        &f.ann.token,
    )
    .await
    .expect(200);
    app.delete_record("posts", &p1, &f.ann.token)
        .await
        .expect(204);
    app.delete_record("posts", &p2, &f.ann.token)
        .await
        .expect(204);
    app.create_record(
        "posts",
        json!({"title": "end", "rank": 9, "public": true, "owner": f.ann.id}),
        &f.ann.token,
    )
    .await
    .expect(200);

    let mut seen = std::collections::HashMap::new();
    for (((who, _), ws), (all, ranked)) in callers.iter().zip(&mut sockets).zip(&mut streams) {
        // The two subscriptions of one socket interleave: sort the socket's messages by id.
        let mut by_id: std::collections::HashMap<String, Vec<Value>> = Default::default();
        let mut ended = 0;
        for _ in 0..200 {
            if ended == 2 {
                break;
            }
            let m = ws.next().await.expect("a message before both end markers");
            assert_eq!(m["type"], "next", "{who}: {m}");
            let event = m["payload"]["data"]["posts"].clone();
            let id = m["id"].as_str().unwrap_or("").to_owned();
            if event["record"]["title"] == "end" {
                ended += 1;
                continue;
            }
            by_id.entry(id).or_default().push(event);
        }
        assert_eq!(ended, 2, "{who}");
        let sse_all = sse_until_end(all, &FIELDS).await;
        let sse_ranked = sse_until_end(ranked, &FIELDS).await;
        assert!(!sse_all.is_empty(), "{who} sees some events over SSE");
        let gql_all = by_id.remove("all").unwrap_or_default();
        assert_eq!(gql_all, sse_all, "{who}: all posts");
        seen.insert(*who, gql_all);
        assert_eq!(
            by_id.remove("ranked").unwrap_or_default(),
            sse_ranked,
            "{who}: rank > 0"
        );
    }
    // Who saw what, spelled out for the deletes: the private p1's deletion reaches its owner
    // and the superuser only; the public p2's everyone.
    let deleted = |events: &[Value], id: &str| {
        events
            .iter()
            .any(|e| e["action"] == "delete" && e["record"]["id"] == id)
    };
    for who in ["owner", "superuser"] {
        assert!(
            deleted(&seen[who], &p1) && deleted(&seen[who], &p2),
            "{who}"
        );
    }
    for who in ["guest", "other"] {
        assert!(
            !deleted(&seen[who], &p1) && deleted(&seen[who], &p2),
            "{who}"
        );
    }
    // Hidden fields: null for a user (SSE leaves them out).
    assert!(
        seen["owner"]
            .iter()
            .all(|e| e["record"]["secret"].is_null())
    );
}

#[tokio::test]
async fn a_record_subscription_follows_the_view_rule_and_relations_expand() {
    let f = fixture().await;
    let app = &f.app;
    let private = &f.posts[1]; // ann's, not public
    let query = "subscription($id: String) {
        posts(id: $id) { action record { id title secret owner_rel { id email } } } }";
    let mut ann = GqlWs::as_caller(app, &f.ann.token).await;
    ann.subscribe("1", query, json!({"id": private})).await;
    let mut bob = GqlWs::as_caller(app, &f.bob.token).await;
    bob.subscribe("1", query, json!({"id": private})).await;
    let hub = app.core.realtime().clone();
    eventually("the subscriptions reach the hub", SSE_WAIT, || {
        let n = hub.client_count();
        async move { n == 2 }
    })
    .await;
    app.update_record("posts", private, json!({"title": "seen"}), &f.ann.token)
        .await
        .expect(200);
    let m = ann.next().await.expect("ann's event");
    assert_eq!(m["type"], "next", "{m}");
    let event = &m["payload"]["data"]["posts"];
    assert_eq!(event["action"], "update");
    assert_eq!(event["record"]["title"], "seen");
    assert_eq!(event["record"]["secret"], Value::Null, "hidden field");
    assert_eq!(event["record"]["owner_rel"]["id"], f.ann.id.as_str());
    // Bob may not view it: nothing comes (his socket stays quiet).
    let quiet = tokio::time::timeout(Duration::from_millis(500), bob.ws.next()).await;
    assert!(quiet.is_err(), "bob got {quiet:?}");
    // Completing the subscription releases its hub client.
    ann.send(json!({"id": "1", "type": "complete"})).await;
    eventually(
        "the completed subscription leaves the hub",
        SSE_WAIT,
        || {
            let n = hub.client_count();
            async move { n == 1 }
        },
    )
    .await;
}

#[tokio::test]
async fn connection_init_authorization_is_the_identity_and_protocol_is_required() {
    let f = fixture().await;
    let app = &f.app;
    // Without the subprotocol: refused with the standard body.
    let r = app
        .client
        .get(app.url("/api/graphql"))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 400);
    // Queries and mutations run over the socket too, as the connection's identity.
    let mut ws = GqlWs::connect(
        app,
        json!({"authorization": format!("Bearer {}", f.bob.token)}),
    )
    .await;
    ws.subscribe(
        "q",
        "{ postsList(sort: \"title\") { totalItems items { owner } } }",
        json!({}),
    )
    .await;
    let m = ws.next().await.expect("the result");
    let rest = app
        .request(
            Method::GET,
            "/api/collections/posts/records",
            &f.bob.token,
            None,
        )
        .await;
    assert_eq!(
        m["payload"]["data"]["postsList"]["totalItems"],
        rest.body["totalItems"]
    );
    assert_eq!(ws.next().await.expect("complete")["type"], "complete");
    // A rejection is a GraphQL error with REST's status.
    let mut guest = GqlWs::as_caller(app, GUEST).await;
    guest
        .subscribe(
            "w",
            "mutation { createPosts(data: {title: \"x\"}) { id } }",
            json!({}),
        )
        .await;
    let m = guest.next().await.expect("the error");
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(m["payload"]["errors"][0]["extensions"]["status"], 400);
}
