//! Webhooks (docs/events.md) against a receiver on 127.0.0.1: the transactional outbox (a
//! rolled-back write or a rejected batch posts nothing; no endpoint, no outbox row), the
//! Standard Webhooks signature checked here with an HMAC of our own, order per record,
//! retries with backoff, dead letters and their replay, the attempts in the logs, and
//! deliveries that outlive a restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One POST the receiver took.
#[derive(Debug, Clone)]
struct Delivery {
    headers: HeaderMap,
    body: String,
    at: Instant,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// An HTTP receiver answering every POST with the status it is set to.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Delivery>>>,
    status: Arc<Mutex<u16>>,
    /// How long it takes to answer.
    delay: Arc<Mutex<Duration>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200u16));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (g, s, d) = (got.clone(), status.clone(), delay.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (g, s, d) = (g.clone(), s.clone(), d.clone());
                async move {
                    let delay = *d.lock();
                    tokio::time::sleep(delay).await;
                    g.lock().push(Delivery {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                        at: Instant::now(),
                    });
                    StatusCode::from_u16(*s.lock()).unwrap_or(StatusCode::OK)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            got,
            status,
            delay,
        }
    }

    fn answer(&self, status: u16) {
        *self.status.lock() = status;
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().clone()
    }

    /// Waits (10 s at most) until `count` POSTs came.
    async fn wait_for(&self, count: usize) -> Vec<Delivery> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.got.lock().len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let got = self.deliveries();
        assert!(got.len() >= count, "{} of {count} deliveries", got.len());
        got
    }
}

/// The Standard Webhooks check a receiver makes, written from the specification.
fn verifies(delivery: &Delivery) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .expect("key");
    let signed = format!(
        "{}.{}.{}",
        delivery.header("webhook-id"),
        delivery.header("webhook-timestamp"),
        delivery.body
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(signed.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    delivery
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

async fn posts(app: &TestApp) {
    app.must_create_collection(json!({
        "name": "posts", "type": "base", "listRule": "", "viewRule": "",
        "createRule": "title != 'forbidden'", "updateRule": "", "deleteRule": "",
        "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "secret", "type": "text", "hidden": true}
        ]
    }))
    .await;
}

async fn hook(app: &TestApp, receiver: &Receiver, extra: Value) {
    let mut webhooks = json!({
        "secret": SECRET,
        "backoffMs": 100,
        "endpoints": [{"url": receiver.url, "collection": "posts",
                       "actions": ["create", "update", "delete"]}]
    });
    if let (Some(w), Value::Object(extra)) = (webhooks.as_object_mut(), extra) {
        w.extend(extra);
    }
    app.update_settings(json!({ "webhooks": webhooks }), &app.superuser_token)
        .await
        .expect(200);
}

async fn outbox_rows(app: &TestApp) -> i64 {
    app.core
        .db()
        .read(|conn| {
            let n = conn.query_scalar(&oxbase_sql::Sql::raw("SELECT COUNT(*) FROM \"_jobs\""))?;
            Ok(match n {
                Some(oxbase_sql::Value::Int(n)) => n,
                _ => -1,
            })
        })
        .await
        .expect("count")
}

#[tokio::test]
async fn changes_are_posted_signed_in_commit_order_as_a_superuser_sees_them() {
    let app = spawn_app().await;
    posts(&app).await;
    let receiver = Receiver::start().await;
    hook(&app, &receiver, json!({})).await;
    let token = &app.superuser_token;
    let created = app
        .create_record("posts", json!({"title": "one", "secret": "s"}), token)
        .await;
    let id = created.expect(200).str("id").to_owned();
    for title in ["two", "three"] {
        app.update_record("posts", &id, json!({ "title": title }), token)
            .await
            .expect(200);
    }
    app.delete_record("posts", &id, token).await.expect(204);
    let got = receiver.wait_for(4).await;
    assert!(got.iter().all(verifies), "every signature verifies");
    let bodies: Vec<Value> = got.iter().map(Delivery::json).collect();
    let seen: Vec<(&str, &str)> = bodies
        .iter()
        .map(|b| {
            (
                b["action"].as_str().unwrap_or(""),
                b["record"]["title"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("create", "one"),
            ("update", "two"),
            ("update", "three"),
            ("delete", "three")
        ]
    );
    let first = &bodies[0];
    assert_eq!(first["id"], got[0].header("webhook-id"));
    assert_eq!(first["type"], "record.create");
    assert_eq!(first["collectionName"], "posts");
    assert_eq!(first["record"]["id"], id.as_str());
    assert_eq!(
        first["record"]["secret"], "s",
        "a superuser sees hidden fields"
    );
    assert!(first["timestamp"].as_str().unwrap_or("").ends_with('Z'));
    assert_eq!(got[0].header("content-type"), "application/json");
    // Delivered jobs leave the outbox.
    let deadline = Instant::now() + Duration::from_secs(5);
    while outbox_rows(&app).await > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outbox_rows(&app).await, 0);
}

#[tokio::test]
async fn without_endpoints_a_write_leaves_no_outbox_row() {
    let app = spawn_app().await;
    posts(&app).await;
    app.create_record("posts", json!({"title": "quiet"}), &app.superuser_token)
        .await
        .expect(200);
    assert_eq!(outbox_rows(&app).await, 0);
}

#[tokio::test]
async fn rolled_back_writes_and_rejected_batches_post_nothing() {
    let app = spawn_app().await;
    posts(&app).await;
    let receiver = Receiver::start().await;
    hook(&app, &receiver, json!({})).await;
    app.enable_batch(10).await;
    // The first create runs (and writes its outbox row), the second fails: all rolls back.
    let rejected = app
        .batch(
            json!([
                {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "kept?"}},
                {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": ""}}
            ]),
            &app.superuser_token,
        )
        .await;
    rejected.expect(400);
    // A write its rule refuses inside the transaction.
    let user = app.create_user("writer@example.com").await;
    app.create_record("posts", json!({"title": "forbidden"}), &user.token)
        .await
        .expect(400);
    assert_eq!(outbox_rows(&app).await, 0);
    app.create_record("posts", json!({"title": "after"}), &app.superuser_token)
        .await
        .expect(200);
    let got = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let titles: Vec<Value> = receiver
        .deliveries()
        .iter()
        .map(|d| d.json()["record"]["title"].clone())
        .collect();
    assert_eq!(titles, [json!("after")], "{got:?}");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_then_dead_lettered_and_replayed() {
    let app = spawn_app().await;
    posts(&app).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    hook(&app, &receiver, json!({"maxAttempts": 3, "backoffMs": 200})).await;
    let id = app
        .create_record("posts", json!({"title": "bounce"}), &app.superuser_token)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let got = receiver.wait_for(3).await;
    // Waits of 200 ms then 400 ms, each drawn between its half and its whole.
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200), "{gaps:?}");
    let event = got[0].header("webhook-id").to_owned();
    assert!(got.iter().all(|d| d.header("webhook-id") == event));
    // Dead after the third attempt.
    let token = &app.superuser_token;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut dead = Value::Null;
    while Instant::now() < deadline {
        dead = app
            .get("/api/webhooks/dead-letters", token)
            .await
            .expect(200)
            .body
            .clone();
        if dead["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let items = dead["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{dead}");
    assert_eq!(items[0]["id"], event.as_str());
    assert_eq!(items[0]["attempts"], 3);
    assert_eq!(items[0]["url"], receiver.url.as_str());
    assert!(items[0]["lastError"].as_str().unwrap_or("").contains("500"));
    assert_eq!(items[0]["payload"]["record"]["id"], id.as_str());
    let one = app
        .get(&format!("/api/webhooks/dead-letters/{event}"), token)
        .await;
    assert_eq!(one.expect(200).body["id"], event.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.deliveries().len(), 3, "no attempt after the limit");
    // Guests and users are refused; a replay delivers it, with its id.
    let user = app.create_user("nosy@example.com").await;
    app.get("/api/webhooks/dead-letters", &user.token)
        .await
        .expect(403);
    app.get("/api/webhooks/dead-letters", "").await.expect(401);
    let replay = format!("/api/webhooks/dead-letters/{event}/replay");
    app.request(reqwest::Method::POST, &replay, &user.token, None)
        .await
        .expect(403);
    receiver.answer(200);
    app.request(reqwest::Method::POST, &replay, token, None)
        .await
        .expect(204);
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].header("webhook-id"), event);
    assert!(verifies(&got[3]));
    let after = app.get("/api/webhooks/dead-letters", token).await;
    assert_eq!(after.expect(200).body["items"], json!([]));
    app.request(reqwest::Method::POST, &replay, token, None)
        .await
        .expect(404);
    // Each attempt is an app entry of the logs (written once the receiver answered, which may
    // be after it saw the request).
    assert_eq!(app.logged_at_least("data.type%3D'webhook'", 4).await, 4);
}

#[tokio::test]
async fn undelivered_events_are_delivered_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_at(dir.path()).await;
    posts(&app).await;
    let receiver = Receiver::start().await;
    receiver.answer(503);
    hook(&app, &receiver, json!({"maxAttempts": 50, "backoffMs": 50})).await;
    let mut ids = Vec::new();
    for title in ["a", "b", "c"] {
        let created = app
            .create_record("posts", json!({ "title": title }), &app.superuser_token)
            .await;
        ids.push(created.expect(200).str("id").to_owned());
    }
    receiver.wait_for(3).await;
    app.stop().await;
    receiver.answer(200);
    let before = receiver.deliveries().len();
    let again = spawn_app_at(dir.path()).await;
    // The backoff grew while the receiver failed (and during the stop): the next attempts
    // may be seconds away.
    let deadline = Instant::now() + Duration::from_secs(30);
    let delivered = || {
        receiver.deliveries()[before..]
            .iter()
            .filter(|d| {
                // The one that succeeded after the restart.
                d.json()["record"]["id"].is_string()
            })
            .map(|d| d.json()["record"]["id"].as_str().unwrap_or("").to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    while delivered().len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let want: std::collections::BTreeSet<String> = ids.into_iter().collect();
    assert_eq!(delivered(), want);
    again.stop().await;
}

#[tokio::test]
async fn an_endpoint_without_a_secret_or_url_is_refused() {
    let app = spawn_app().await;
    let bad = app
        .update_settings(
            json!({"webhooks": {"endpoints": [{"url": "ftp://x", "collection": "", "actions": ["eat"]}]}}),
            &app.superuser_token,
        )
        .await;
    let data = &bad.expect(400).body["data"]["webhooks"];
    assert!(data["secret"]["code"].is_string(), "{data}");
    assert!(data["endpoints"]["0"]["url"]["code"].is_string(), "{data}");
    assert!(
        data["endpoints"]["0"]["collection"]["code"].is_string(),
        "{data}"
    );
    // The secret is never sent back.
    hook(&app, &Receiver::start().await, json!({})).await;
    let settings = app.get("/api/settings", &app.superuser_token).await;
    assert!(
        settings.expect(200).body["webhooks"]
            .get("secret")
            .is_none()
    );
}

#[tokio::test]
async fn the_queue_is_measured_in_metrics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with_metrics(dir.path()).await;
    posts(&app).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    hook(&app, &receiver, json!({"maxAttempts": 1})).await;
    app.create_record("posts", json!({"title": "x"}), &app.superuser_token)
        .await
        .expect(200);
    receiver.wait_for(1).await;
    let wanted = [
        "oxbase_jobs_pending",
        "oxbase_jobs_oldest_pending_seconds",
        "oxbase_jobs_dead",
        "oxbase_jobs_failures_total{kind=\"webhook\"}",
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while Instant::now() < deadline {
        text = app.metrics_text().await;
        if wanted.iter().all(|w| text.contains(w)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in wanted {
        assert!(text.contains(w), "{w} missing in:\n{text}");
    }
}

#[tokio::test]
async fn a_slow_receiver_does_not_slow_record_writes() {
    let app = spawn_app().await;
    posts(&app).await;
    let receiver = Receiver::start().await;
    *receiver.delay.lock() = Duration::from_secs(3);
    hook(&app, &receiver, json!({})).await;
    let started = Instant::now();
    for i in 0..20 {
        app.create_record(
            "posts",
            json!({"title": format!("t{i}")}),
            &app.superuser_token,
        )
        .await
        .expect(200);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "20 writes took {took:?}");
    assert!(receiver.deliveries().is_empty(), "none answered yet");
    *receiver.delay.lock() = Duration::ZERO;
    receiver.wait_for(20).await;
}

#[tokio::test]
async fn collection_and_settings_changes_reach_the_endpoints_that_ask_without_secrets() {
    let app = spawn_app().await;
    let token = &app.superuser_token;
    app.update_settings(json!({"smtp": {"password": "smtp-pass-123"}}), token)
        .await
        .expect(200);
    let receiver = Receiver::start().await;
    let records_only = Receiver::start().await;
    // The change that configures the endpoint is itself its first event (as the settings
    // will be once it commits).
    app.update_settings(
        json!({"webhooks": {"secret": SECRET, "backoffMs": 100, "endpoints": [
            {"url": receiver.url, "systemEvents": ["collections", "settings"]},
            {"url": records_only.url, "collection": "posts"}
        ]}}),
        token,
    )
    .await
    .expect(200);
    posts(&app).await;
    app.update_collection("posts", json!({"listRule": null}), token)
        .await
        .expect(200);
    // Refused changes are no events.
    app.update_collection("posts", json!({"name": ""}), token)
        .await
        .expect(400);
    app.update_settings(json!({"meta": {"appName": ""}}), token)
        .await
        .expect(400);
    app.delete_collection("posts", token).await.expect(204);
    app.update_settings(json!({"meta": {"appName": "Renamed"}}), token)
        .await
        .expect(200);
    receiver.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = receiver.deliveries();
    assert_eq!(got.len(), 5, "exactly the five changes");
    assert!(got.iter().all(verifies), "every signature verifies");
    for d in &got {
        assert!(
            !d.body.contains("smtp-pass-123"),
            "no SMTP password: {}",
            d.body
        );
        assert!(!d.body.contains(SECRET), "no webhook secret: {}", d.body);
    }
    let bodies: Vec<Value> = got.iter().map(Delivery::json).collect();
    let of = |t: &str| -> Vec<&Value> { bodies.iter().filter(|b| b["type"] == t).collect() };
    // One definition's changes come in commit order.
    let definitions: Vec<&str> = bodies
        .iter()
        .filter(|b| b["type"].as_str().unwrap_or("").starts_with("collection."))
        .map(|b| b["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(definitions, ["create", "update", "delete"]);
    let created = of("collection.create")[0];
    assert_eq!(created["collectionName"], "posts");
    assert_eq!(created["collection"]["name"], "posts");
    assert_eq!(created["collection"]["listRule"], "");
    assert!(created["id"].as_str().unwrap_or("").starts_with("evt_"));
    assert_eq!(
        of("collection.update")[0]["collection"]["listRule"],
        Value::Null
    );
    assert_eq!(of("collection.delete")[0]["collection"]["name"], "posts");
    let settings = of("settings.update");
    assert_eq!(settings.len(), 2);
    let names: Vec<&str> = settings
        .iter()
        .map(|b| b["settings"]["meta"]["appName"].as_str().unwrap_or(""))
        .collect();
    assert!(names.contains(&"Renamed"), "{names:?}");
    for s in settings {
        assert_eq!(s["action"], "update");
        assert!(s["settings"]["smtp"].get("password").is_none(), "{s}");
        assert!(s["settings"]["webhooks"].get("secret").is_none(), "{s}");
    }
    // An endpoint that did not ask has none of them.
    assert!(records_only.deliveries().is_empty());
}

#[tokio::test]
async fn an_unknown_system_event_or_an_endpoint_with_nothing_to_receive_is_refused() {
    let app = spawn_app().await;
    let token = &app.superuser_token;
    let bad = app
        .update_settings(
            json!({"webhooks": {"secret": SECRET, "endpoints": [
                {"url": "http://127.0.0.1:9/x", "systemEvents": ["records"]}]}}),
            token,
        )
        .await;
    let bad = bad.expect(400);
    assert_eq!(
        bad.body["data"]["webhooks"]["endpoints"]["0"]["systemEvents"]["0"]["code"],
        "validation_in_invalid"
    );
    let empty = app
        .update_settings(
            json!({"webhooks": {"secret": SECRET, "endpoints": [{"url": "http://127.0.0.1:9/x"}]}}),
            token,
        )
        .await;
    assert_eq!(
        empty.expect(400).body["data"]["webhooks"]["endpoints"]["0"]["collection"]["code"],
        "validation_required"
    );
}

#[tokio::test]
async fn a_body_shows_the_record_as_the_chosen_auth_record_views_it() {
    let app = spawn_app().await;
    let token = &app.superuser_token;
    let alice = app.create_user("alice@example.com").await;
    let bob = app.create_user("bob@example.com").await;
    app.must_create_collection(owner_only_collection("notes"))
        .await;
    let as_alice = Receiver::start().await;
    let as_superuser = Receiver::start().await;
    app.update_settings(
        json!({"webhooks": {"secret": SECRET, "backoffMs": 100, "endpoints": [
            {"url": as_alice.url, "collection": "notes",
             "viewAs": {"collection": "users", "id": alice.id}},
            {"url": as_superuser.url, "collection": "notes"}
        ]}}),
        token,
    )
    .await
    .expect(200);
    let id = app
        .create_record(
            "notes",
            json!({"title": "mine", "secret": "s3", "owner": alice.id}),
            token,
        )
        .await
        .expect(200)
        .str("id")
        .to_owned();
    // Given to Bob: Alice may no longer view it, and is told only that it changed.
    app.update_record("notes", &id, json!({"owner": bob.id}), token)
        .await
        .expect(200);
    app.delete_record("notes", &id, token).await.expect(204);
    let alice_got: Vec<Value> = as_alice
        .wait_for(3)
        .await
        .iter()
        .map(Delivery::json)
        .collect();
    assert_eq!(alice_got[0]["action"], "create");
    assert_eq!(alice_got[0]["visible"], true);
    assert_eq!(alice_got[0]["record"]["title"], "mine");
    assert!(
        alice_got[0]["record"].get("secret").is_none(),
        "a hidden field stays hidden"
    );
    for refused in &alice_got[1..] {
        assert_eq!(refused["visible"], false, "{refused}");
        assert_eq!(
            refused["record"],
            json!({"collectionId": refused["collectionId"], "collectionName": "notes", "id": id})
        );
    }
    let superuser_got = as_superuser.wait_for(3).await;
    let first = superuser_got[0].json();
    assert_eq!(
        first["record"]["secret"], "s3",
        "a superuser sees hidden fields"
    );
    assert!(first.get("visible").is_none());
    // The auth record must be of an auth collection.
    let bad = app
        .update_settings(
            json!({"webhooks": {"endpoints": [{"url": as_alice.url, "collection": "notes",
                   "viewAs": {"collection": "notes", "id": ""}}]}}),
            token,
        )
        .await;
    let data = &bad.expect(400).body["data"]["webhooks"]["endpoints"]["0"]["viewAs"];
    assert_eq!(
        data["collection"]["code"],
        "validation_invalid_auth_collection"
    );
    assert_eq!(data["id"]["code"], "validation_required");
}

/// Handlers run apart from the file's scope (as in PocketBase): each spells its own.
const ROLLED_BACK_DEFINITIONS: &str = r#"
routerAdd("POST", "/tx-ghost", (e) => {
  try {
    $app.runInTransaction((txApp) => {
      txApp.save(new Collection({ name: "ghost", type: "base", fields: [{ name: "a", type: "text" }] }))
      throw new Error("rolled back")
    })
  } catch (err) {}
  return e.json(200, { ok: true })
})
routerAdd("POST", "/tx-kept", (e) => {
  $app.runInTransaction((txApp) => {
    txApp.save(new Collection({ name: "kept", type: "base", fields: [{ name: "a", type: "text" }] }))
  })
  return e.json(200, { ok: true })
})
"#;

#[tokio::test]
async fn a_rolled_back_definition_change_posts_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    std::fs::write(hooks.join("tx.pb.js"), ROLLED_BACK_DEFINITIONS).expect("hook file");
    let app = spawn_app_with_hooks(
        &dir.path().join("data"),
        oxbase_js::HooksConfig {
            dir: hooks.clone(),
            pool: 1,
            timeout: Duration::from_secs(10),
            memory_bytes: 64 << 20,
            dev: false,
            data_dir: hooks,
        },
    )
    .await;
    let receiver = Receiver::start().await;
    app.update_settings(
        json!({"webhooks": {"secret": SECRET, "endpoints": [
            {"url": receiver.url, "systemEvents": ["collections"]}]}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    for path in ["/tx-ghost", "/tx-kept"] {
        let r = app
            .request(reqwest::Method::POST, path, GUEST, Some(&json!({})))
            .await;
        r.expect(200);
    }
    receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let names: Vec<Value> = receiver
        .deliveries()
        .iter()
        .map(|d| d.json()["collectionName"].clone())
        .collect();
    assert_eq!(names, [json!("kept")], "nothing for the rolled-back one");
    assert_eq!(
        app.get("/api/collections/ghost", &app.superuser_token)
            .await
            .status,
        404
    );
}
