//! Brokers (docs/events.md) against the real NATS (JetStream), RabbitMQ and Redis on
//! 127.0.0.1: every committed change arrives once per consumer after deduplication by event
//! id, in commit order per record, as a CloudEvent; nothing for a rolled-back write or a
//! rejected batch; nothing lost through a connection cut in the middle of the stream (a TCP
//! proxy between oxbase and the broker, dropped and restored), an oxbase restart with
//! undelivered events, or a SIGKILL under 200 writers. Each test names its own streams,
//! queues and keys, so tests run in parallel and on both databases.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::helpers::*;

const NATS: &str = "127.0.0.1:4222";
const RABBITMQ: &str = "127.0.0.1:5672";
const REDIS: &str = "127.0.0.1:6379";

/// A name no other test (or run) uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}{}", oxbase_core::ids::record_id())
}

/// A TCP proxy in front of a broker: `cut` drops every connection and refuses new ones until
/// `restore`.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: &'static str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (u, c) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                c.lock().push(task.abort_handle());
            }
        });
        Proxy { port, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for conn in self.conns.lock().drain(..) {
            conn.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// What a consumer received: the CloudEvents, in arrival order, duplicates included.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    fn push(&self, body: &[u8]) {
        let event = serde_json::from_slice(body).expect("a JSON CloudEvent");
        self.0.lock().push(event);
    }

    fn unique_ids(&self) -> usize {
        let got = self.0.lock();
        got.iter()
            .filter_map(|e| e["id"].as_str())
            .collect::<HashSet<_>>()
            .len()
    }

    /// Waits (`within` at most) until `count` distinct events came.
    async fn wait_for(&self, what: &str, count: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.unique_ids() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            self.unique_ids() >= count,
            "{what}: {} of {count} events",
            self.unique_ids()
        );
    }

    /// The events after deduplication by id (first arrival kept).
    fn deduplicated(&self) -> Vec<Value> {
        let mut seen = HashSet::new();
        self.0
            .lock()
            .iter()
            .filter(|e| seen.insert(e["id"].as_str().unwrap_or("").to_owned()))
            .cloned()
            .collect()
    }
}

/// One consumer per broker, each on names of its own.
struct Sinks {
    prefix: String,
    stream: String,
    nats: Received,
    rabbit: Received,
    redis_key: String,
    redis: redis::aio::MultiplexedConnection,
    js: async_nats::jetstream::Context,
    _rabbit: lapin::Connection,
}

impl Sinks {
    async fn start() -> Sinks {
        let prefix = unique("t");
        // NATS: a stream over the prefix, read by a pull consumer from its start.
        let client = async_nats::connect(NATS)
            .await
            .expect("NATS at 127.0.0.1:4222");
        let js = async_nats::jetstream::new(client);
        let stream = prefix.to_uppercase();
        let created = js
            .create_stream(async_nats::jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("{prefix}.>")],
                ..Default::default()
            })
            .await
            .expect("create the stream");
        let consumer = created
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                ack_policy: async_nats::jetstream::consumer::AckPolicy::None,
                ..Default::default()
            })
            .await
            .expect("a consumer");
        let nats = Received::default();
        let got = nats.clone();
        tokio::spawn(async move {
            let mut messages = consumer.messages().await.expect("messages");
            while let Some(message) = messages.next().await {
                let message = match message {
                    Ok(message) => message,
                    // A missed heartbeat or the like: the consumer goes on.
                    Err(_) => continue,
                };
                let id = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("Nats-Msg-Id"))
                    .map(|v| v.as_str().to_owned());
                got.push(&message.payload);
                let last = got.0.lock().last().cloned().unwrap_or_default();
                assert_eq!(
                    id.as_deref(),
                    last["id"].as_str(),
                    "Nats-Msg-Id is the event id"
                );
            }
        });
        // RabbitMQ: a queue of our own bound to amq.topic for the prefix.
        let conn = lapin::Connection::connect(
            &format!("amqp://guest:guest@{RABBITMQ}/%2f"),
            lapin::ConnectionProperties::default(),
        )
        .await
        .expect("RabbitMQ at 127.0.0.1:5672");
        let channel = conn.create_channel().await.expect("channel");
        let queue = format!("{prefix}-q");
        channel
            .queue_declare(
                queue.as_str().into(),
                lapin::options::QueueDeclareOptions {
                    auto_delete: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .expect("declare the queue");
        channel
            .queue_bind(
                queue.as_str().into(),
                "amq.topic".into(),
                format!("{prefix}.#").as_str().into(),
                Default::default(),
                Default::default(),
            )
            .await
            .expect("bind the queue");
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "brokers-test".into(),
                lapin::options::BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .expect("consume");
        let rabbit = Received::default();
        let got = rabbit.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                got.push(&delivery.data);
                let last = got.0.lock().last().cloned().unwrap_or_default();
                let id = delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(|s| s.to_string());
                assert_eq!(
                    id.as_deref(),
                    last["id"].as_str(),
                    "message_id is the event id"
                );
                assert_eq!(*delivery.properties.delivery_mode(), Some(2), "persistent");
            }
        });
        let redis = redis::Client::open(format!("redis://{REDIS}"))
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("Redis at 127.0.0.1:6379");
        Sinks {
            redis_key: format!("{prefix}:items"),
            prefix,
            stream,
            nats,
            rabbit,
            redis,
            js,
            _rabbit: conn,
        }
    }

    /// The three targets, each through its proxy when given.
    fn targets(&self, proxies: Option<&[Proxy; 3]>) -> Value {
        let port = |i: usize, default: &str| match proxies {
            Some(p) => format!("127.0.0.1:{}", p[i].port),
            None => default.to_owned(),
        };
        json!([
            {"name": "nats", "type": "nats", "url": format!("nats://{}", port(0, NATS)),
             "collections": ["items"], "subject": format!("{}.{{collection}}.{{action}}", self.prefix)},
            {"name": "rabbit", "type": "rabbitmq",
             "url": format!("amqp://guest:guest@{}/%2f", port(1, RABBITMQ)),
             "collections": ["items"], "exchange": "amq.topic",
             "subject": format!("{}.{{collection}}.{{action}}", self.prefix)},
            {"name": "redis", "type": "redis", "url": format!("redis://{}", port(2, REDIS)),
             "collections": ["items"], "subject": format!("{}:{{collection}}", self.prefix),
             "maxLen": 100000}
        ])
    }

    /// The Redis stream's events (read whole: XRANGE).
    async fn redis_events(&self) -> Received {
        let mut conn = self.redis.clone();
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(&self.redis_key)
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .expect("XRANGE");
        let got = Received::default();
        for (_, fields) in entries {
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            got.push(field("event").as_bytes());
            let last = got.0.lock().last().cloned().unwrap_or_default();
            assert_eq!(Some(field("id").as_str()), last["id"].as_str());
            assert_eq!(Some(field("type").as_str()), last["type"].as_str());
        }
        got
    }

    /// The Redis stream's event about record `id` (waited for, at most 30 s).
    async fn redis_event_of(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let events = self.redis_events().await.deduplicated();
            if let Some(event) = events.iter().find(|e| e["subject"] == id) {
                return event.clone();
            }
            assert!(
                Instant::now() < deadline,
                "Redis: no event for {id}: {events:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until each consumer has `count` distinct events, and returns them all.
    async fn wait_all(&self, count: usize, within: Duration) -> [Received; 3] {
        self.nats.wait_for("NATS", count, within).await;
        self.rabbit.wait_for("RabbitMQ", count, within).await;
        let deadline = Instant::now() + within;
        let mut redis = self.redis_events().await;
        while redis.unique_ids() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            redis = self.redis_events().await;
        }
        assert!(
            redis.unique_ids() >= count,
            "Redis: {} of {count}",
            redis.unique_ids()
        );
        [self.nats.clone(), self.rabbit.clone(), redis]
    }

    async fn cleanup(self) {
        let _ = self.js.delete_stream(&self.stream).await;
        let mut conn = self.redis.clone();
        let _: Result<i64, _> = redis::cmd("DEL")
            .arg(&self.redis_key)
            .query_async(&mut conn)
            .await;
    }
}

async fn items(app: &TestApp) {
    app.must_create_collection(json!({
        "name": "items", "type": "base", "listRule": "", "viewRule": "",
        "createRule": "title != 'forbidden'", "updateRule": "", "deleteRule": "",
        "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "n", "type": "number"}
        ]
    }))
    .await;
}

async fn configure(app: &TestApp, targets: Value) {
    app.update_settings(
        json!({"brokers": {"maxAttempts": 1000, "backoffMs": 50, "timeoutMs": 2000,
                           "targets": targets}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
}

/// What each record's events must be, in order: (type, n).
type Expected = HashMap<String, Vec<(String, i64)>>;

/// `writers` concurrent writers, each creating `records` records, updating each `updates`
/// times and deleting every other one; every change acknowledged.
async fn write_concurrently(
    app: &TestApp,
    writers: usize,
    records: usize,
    updates: i64,
) -> Expected {
    let tasks = (0..writers).map(|w| async move {
        let mut expected = Expected::new();
        let token = &app.superuser_token;
        for r in 0..records {
            let created = app
                .create_record(
                    "items",
                    json!({"title": format!("w{w}r{r}"), "n": 0}),
                    token,
                )
                .await;
            let id = created.expect(200).str("id").to_owned();
            let mut events = vec![("oxbase.record.created".to_owned(), 0)];
            for n in 1..=updates {
                app.update_record("items", &id, json!({ "n": n }), token)
                    .await
                    .expect(200);
                events.push(("oxbase.record.updated".to_owned(), n));
            }
            if r % 2 == 0 {
                app.delete_record("items", &id, token).await.expect(204);
                events.push(("oxbase.record.deleted".to_owned(), updates));
            }
            expected.insert(id, events);
        }
        expected
    });
    futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn count(expected: &Expected) -> usize {
    expected.values().map(Vec::len).sum()
}

/// After deduplication by id: exactly the expected events, in order per record, each a
/// well-formed CloudEvent.
fn assert_once_in_order(what: &str, received: &Received, expected: &Expected) {
    let events = received.deduplicated();
    let mut per_record: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for e in &events {
        assert_eq!(e["specversion"], "1.0", "{what}: {e}");
        assert_eq!(e["datacontenttype"], "application/json", "{what}: {e}");
        assert!(
            e["source"]
                .as_str()
                .unwrap_or("")
                .ends_with("/collections/items"),
            "{what}: {e}"
        );
        assert!(
            e["time"].as_str().unwrap_or("").ends_with('Z'),
            "{what}: {e}"
        );
        assert_eq!(e["subject"], e["data"]["id"], "{what}: {e}");
        per_record
            .entry(e["subject"].as_str().unwrap_or("").to_owned())
            .or_default()
            .push((
                e["type"].as_str().unwrap_or("").to_owned(),
                e["data"]["n"].as_i64().unwrap_or(-1),
            ));
    }
    assert_eq!(per_record.len(), expected.len(), "{what}: the records");
    for (id, want) in expected {
        assert_eq!(per_record.get(id), Some(want), "{what}: record {id}");
    }
    assert_eq!(events.len(), count(expected), "{what}: nothing more");
}

#[tokio::test]
async fn every_change_reaches_each_broker_once_in_commit_order_per_record() {
    let app = spawn_app().await;
    items(&app).await;
    let sinks = Sinks::start().await;
    configure(&app, sinks.targets(None)).await;
    let expected = write_concurrently(&app, 8, 4, 3).await;
    let received = sinks
        .wait_all(count(&expected), Duration::from_secs(30))
        .await;
    // Anything late (a duplicate) has time to come.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = [
        received[0].clone(),
        received[1].clone(),
        sinks.redis_events().await,
    ];
    for (what, got) in ["NATS", "RabbitMQ", "Redis"].iter().zip(&received) {
        assert_once_in_order(what, got, &expected);
    }
    // The event carries the record as a superuser sees it, and its collection.
    let first = &received[0].deduplicated()[0];
    assert_eq!(first["data"]["collectionName"], "items");
    assert!(first["id"].as_str().unwrap_or("").starts_with("evt_"));
    // Each attempt is an app entry of the logs (written once the broker confirmed it, which
    // may be after the consumer received it).
    let wanted = 3 * count(&expected) as i64;
    let logged = app.logged_at_least("data.type%3D'broker'", wanted).await;
    if logged < wanted {
        // What is there, by target and outcome, to tell a lost entry from a missing attempt.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for page in 1..=10 {
            let logs = app
                .get(
                    &format!("/api/logs?filter=data.type%3D'broker'&perPage=500&page={page}"),
                    &app.superuser_token,
                )
                .await;
            for item in logs.body["items"].as_array().cloned().unwrap_or_default() {
                let key = format!("{} {}", item["data"]["target"], item["message"]);
                *seen.entry(key).or_default() += 1;
            }
        }
        panic!("{logged} attempts logged, {wanted} expected: {seen:?}");
    }
    sinks.cleanup().await;
}

#[tokio::test]
async fn nothing_is_published_for_a_rolled_back_write_or_a_rejected_batch() {
    let app = spawn_app().await;
    items(&app).await;
    let sinks = Sinks::start().await;
    configure(&app, sinks.targets(None)).await;
    app.enable_batch(10).await;
    // The first create runs (and writes its outbox rows), the second fails: all rolls back.
    app.batch(
        json!([
            {"method": "POST", "url": "/api/collections/items/records", "body": {"title": "kept?"}},
            {"method": "POST", "url": "/api/collections/items/records", "body": {"title": ""}}
        ]),
        &app.superuser_token,
    )
    .await
    .expect(400);
    // A write its rule refuses inside the transaction.
    let user = app.create_user("writer@example.com").await;
    app.create_record("items", json!({"title": "forbidden"}), &user.token)
        .await
        .expect(400);
    let id = app
        .create_record("items", json!({"title": "after"}), &app.superuser_token)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let received = sinks.wait_all(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = [
        received[0].clone(),
        received[1].clone(),
        sinks.redis_events().await,
    ];
    for got in &received {
        let titles: Vec<Value> = got
            .0
            .lock()
            .iter()
            .map(|e| e["data"]["title"].clone())
            .collect();
        assert_eq!(titles, [json!("after")]);
        assert_eq!(got.0.lock()[0]["subject"], id.as_str());
    }
    sinks.cleanup().await;
}

#[tokio::test]
async fn a_connection_cut_in_the_middle_of_the_stream_loses_and_reorders_nothing() {
    let app = spawn_app().await;
    items(&app).await;
    let sinks = Sinks::start().await;
    let proxies = [
        Proxy::start(NATS).await,
        Proxy::start(RABBITMQ).await,
        Proxy::start(REDIS).await,
    ];
    configure(&app, sinks.targets(Some(&proxies))).await;
    let mut expected = write_concurrently(&app, 4, 2, 2).await;
    // Cut while changes are being written and published, restored a little later.
    let (during, ()) = tokio::join!(write_concurrently(&app, 4, 3, 2), async {
        sinks
            .nats
            .wait_for("NATS", 1, Duration::from_secs(10))
            .await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        for p in &proxies {
            p.cut();
        }
    });
    expected.extend(during);
    // More while cut, which stays cut past an attempt's timeout (2 s): attempts fail.
    expected.extend(write_concurrently(&app, 2, 2, 1).await);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    for p in &proxies {
        p.restore();
    }
    expected.extend(write_concurrently(&app, 4, 2, 2).await);
    let received = sinks
        .wait_all(count(&expected), Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = [
        received[0].clone(),
        received[1].clone(),
        sinks.redis_events().await,
    ];
    for (what, got) in ["NATS", "RabbitMQ", "Redis"].iter().zip(&received) {
        assert_once_in_order(what, got, &expected);
    }
    // The cut was felt: attempts failed (and were retried), per broker.
    app.core.logs().flush().await;
    for broker in ["nats", "rabbitmq", "redis"] {
        let filter = encode(&format!(
            "data.type='broker' && data.broker='{broker}' && level>0"
        ));
        let failed = app
            .get(
                &format!("/api/logs?filter={filter}&perPage=1"),
                &app.superuser_token,
            )
            .await;
        let failed = failed.expect(200).body["totalItems"].as_i64().unwrap_or(0);
        assert!(failed > 0, "{broker}: no failed attempt during the cut");
    }
    sinks.cleanup().await;
}

#[tokio::test]
async fn undelivered_events_are_published_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_at(dir.path()).await;
    items(&app).await;
    let sinks = Sinks::start().await;
    let proxies = [
        Proxy::start(NATS).await,
        Proxy::start(RABBITMQ).await,
        Proxy::start(REDIS).await,
    ];
    for p in &proxies {
        p.cut();
    }
    configure(&app, sinks.targets(Some(&proxies))).await;
    let expected = write_concurrently(&app, 3, 2, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.stop().await;
    assert_eq!(sinks.nats.unique_ids(), 0, "the broker was unreachable");
    for p in &proxies {
        p.restore();
    }
    let again = spawn_app_at(dir.path()).await;
    let received = sinks
        .wait_all(count(&expected), Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = [
        received[0].clone(),
        received[1].clone(),
        sinks.redis_events().await,
    ];
    for (what, got) in ["NATS", "RabbitMQ", "Redis"].iter().zip(&received) {
        assert_once_in_order(what, got, &expected);
    }
    again.stop().await;
    sinks.cleanup().await;
}

#[tokio::test]
async fn an_unconfirmed_publish_is_retried_then_dead_lettered_and_replayed() {
    let app = spawn_app().await;
    items(&app).await;
    let prefix = unique("t");
    // No queue is bound for the routing key yet: RabbitMQ returns the message, unrouted.
    app.update_settings(
        json!({"brokers": {"maxAttempts": 2, "backoffMs": 50, "timeoutMs": 2000, "targets": [
            {"name": "rabbit", "type": "rabbitmq", "url": format!("amqp://guest:guest@{RABBITMQ}/%2f"),
             "exchange": "amq.topic", "collections": ["items"],
             "subject": format!("{prefix}.{{collection}}")}
        ]}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let id = app
        .create_record("items", json!({"title": "lost?"}), &app.superuser_token)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let token = &app.superuser_token;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut dead = Value::Null;
    while Instant::now() < deadline {
        dead = app
            .get("/api/brokers/dead-letters", token)
            .await
            .body
            .clone();
        if dead["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let letter = &dead["items"][0];
    assert_eq!(letter["target"], "rabbit");
    assert_eq!(letter["attempts"], 2);
    assert!(
        letter["lastError"]
            .as_str()
            .unwrap_or("")
            .contains("unroutable"),
        "{letter}"
    );
    assert_eq!(letter["payload"]["subject"], id.as_str());
    let event = letter["id"].as_str().unwrap_or("").to_owned();
    app.get(&format!("/api/brokers/dead-letters/{event}"), token)
        .await
        .expect(200);
    let user = app.create_user("nosy@example.com").await;
    app.get("/api/brokers/dead-letters", &user.token)
        .await
        .expect(403);
    // A queue now takes it: the replay delivers it, with its id.
    let conn = lapin::Connection::connect(
        &format!("amqp://guest:guest@{RABBITMQ}/%2f"),
        lapin::ConnectionProperties::default(),
    )
    .await
    .expect("RabbitMQ");
    let channel = conn.create_channel().await.expect("channel");
    let queue = format!("{prefix}-q");
    channel
        .queue_declare(
            queue.as_str().into(),
            lapin::options::QueueDeclareOptions {
                auto_delete: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .expect("declare");
    channel
        .queue_bind(
            queue.as_str().into(),
            "amq.topic".into(),
            format!("{prefix}.#").as_str().into(),
            Default::default(),
            Default::default(),
        )
        .await
        .expect("bind");
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "replay-test".into(),
            lapin::options::BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .expect("consume");
    app.request(
        reqwest::Method::POST,
        &format!("/api/brokers/dead-letters/{event}/replay"),
        token,
        None,
    )
    .await
    .expect(204);
    let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("the replay arrives")
        .expect("a delivery")
        .expect("no error");
    let body: Value = serde_json::from_slice(&delivery.data).expect("json");
    assert_eq!(body["id"], event.as_str());
    let after = app.get("/api/brokers/dead-letters", token).await;
    assert_eq!(after.expect(200).body["items"], json!([]));
}

#[tokio::test]
async fn a_bad_target_is_refused() {
    let app = spawn_app().await;
    let bad = app
        .update_settings(
            json!({"brokers": {"targets": [
                {"name": "a", "type": "kafka", "url": "x://y"},
                {"name": "a", "type": "nats", "url": "http://x", "actions": ["eat"]},
                {"name": "", "type": "redis", "url": "redis://127.0.0.1"}
            ]}}),
            &app.superuser_token,
        )
        .await;
    let data = &bad.expect(400).body["data"]["brokers"]["targets"];
    assert!(data["0"]["type"]["code"].is_string(), "{data}");
    assert!(data["1"]["name"]["code"].is_string(), "{data}");
    assert!(data["1"]["url"]["code"].is_string(), "{data}");
    assert!(data["1"]["actions"]["0"]["code"].is_string(), "{data}");
    assert!(data["2"]["name"]["code"].is_string(), "{data}");
}

/// SIGKILL under 200 concurrent writers while a NATS consumer reads: after a restart every
/// acknowledged write reaches it.
#[tokio::test]
async fn every_acknowledged_write_reaches_nats_after_a_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = crate::cli::database().await;
    let data = dir.path().join("data");
    let made = crate::cli::superuser(
        &data,
        database.as_deref(),
        &["upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD],
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let server = crate::cli::serve_in(dir.path(), database.as_deref(), &[]).await;
    let token = server.login(SUPERUSER_EMAIL).await.expect("login");
    let client = server.client.clone();
    let post = |base: &str, path: &str, body: Value| {
        client
            .request(
                if path.contains("settings") {
                    reqwest::Method::PATCH
                } else {
                    reqwest::Method::POST
                },
                format!("{base}{path}"),
            )
            .header("Authorization", &token)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
    };
    let r = post(
        &server.base,
        "/api/collections",
        json!({"name": "items", "type": "base", "createRule": "",
               "fields": [{"name": "title", "type": "text"}]}),
    )
    .await
    .expect("create the collection");
    assert_eq!(r.status(), 200);
    let sinks = Sinks::start().await;
    let r = post(
        &server.base,
        "/api/settings",
        json!({"brokers": {"backoffMs": 50, "timeoutMs": 2000, "maxAttempts": 1000,
               "targets": [sinks.targets(None)[0].clone()]}}),
    )
    .await
    .expect("settings");
    assert_eq!(r.status(), 200);
    // 200 writers until the kill; each keeps the ids it was answered.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..200)
        .map(|w| {
            let (acked, stop, client) = (acked.clone(), stop.clone(), client.clone());
            let url = server.url("/api/collections/items/records");
            let token = token.clone();
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let sent = client
                        .post(&url)
                        .header("Authorization", &token)
                        .timeout(Duration::from_secs(10))
                        .json(&json!({"title": format!("w{w}n{n}")}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            if let Ok(body) = r.json::<Value>().await {
                                acked
                                    .lock()
                                    .push(body["id"].as_str().unwrap_or("").to_owned());
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Writes and publishing under way.
    let deadline = Instant::now() + Duration::from_secs(20);
    while (acked.lock().len() < 400 || sinks.nats.unique_ids() < 50) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut server = server;
    server.child.kill().await.expect("SIGKILL oxbase");
    stop.store(true, Ordering::SeqCst);
    futures_util::future::join_all(writers).await;
    let acked: HashSet<String> = acked.lock().iter().cloned().collect();
    assert!(
        acked.len() >= 100,
        "only {} writes acknowledged",
        acked.len()
    );
    let before = sinks.nats.unique_ids();
    let again = crate::cli::serve_in(dir.path(), database.as_deref(), &[]).await;
    // On PostgreSQL a job leased at the kill waits for its lease (60 s) to end.
    let within = Duration::from_secs(if database.is_some() { 120 } else { 60 });
    let deadline = Instant::now() + within;
    let missing = || {
        let got: HashSet<String> = sinks
            .nats
            .deduplicated()
            .iter()
            .filter_map(|e| e["subject"].as_str().map(str::to_owned))
            .collect();
        acked.iter().filter(|id| !got.contains(*id)).count()
    };
    while missing() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        missing(),
        0,
        "of {} acknowledged writes ({before} events before the restart)",
        acked.len()
    );
    drop(again);
    sinks.cleanup().await;
}

#[tokio::test]
async fn a_password_in_a_broker_url_is_masked_and_kept_when_sent_back() {
    let app = spawn_app().await;
    let url = format!("amqp://guest:guest@{RABBITMQ}/%2f");
    let target = json!({"name": "mq", "type": "rabbitmq", "url": url, "collections": ["items"]});
    let saved = app
        .update_settings(
            json!({"brokers": {"targets": [target]}}),
            &app.superuser_token,
        )
        .await;
    let shown = saved.expect(200).body["brokers"].clone();
    assert_eq!(
        shown["targets"][0]["url"],
        format!("amqp://guest:******@{RABBITMQ}/%2f")
    );
    let read = app.get("/api/settings", &app.superuser_token).await;
    assert_eq!(read.expect(200).body["brokers"], shown);
    // Saved back as shown: the password stays.
    app.update_settings(json!({ "brokers": shown }), &app.superuser_token)
        .await
        .expect(200);
    assert_eq!(app.core.settings().brokers().targets[0].url, url);
}

#[tokio::test]
async fn collection_and_settings_changes_reach_the_targets_that_ask_as_cloudevents() {
    let app = spawn_app().await;
    let sinks = Sinks::start().await;
    let mut targets = sinks.targets(None);
    for t in targets.as_array_mut().into_iter().flatten().take(2) {
        t["systemEvents"] = json!(["collections", "settings"]);
    }
    // The change that configures the targets is their first event (1), then a definition
    // created (2), updated (3), deleted (4).
    configure(&app, targets).await;
    items(&app).await;
    app.update_collection("items", json!({"listRule": null}), &app.superuser_token)
        .await
        .expect(200);
    app.delete_collection("items", &app.superuser_token)
        .await
        .expect(204);
    sinks
        .nats
        .wait_for("NATS", 4, Duration::from_secs(20))
        .await;
    sinks
        .rabbit
        .wait_for("RabbitMQ", 4, Duration::from_secs(20))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (what, got) in [("NATS", &sinks.nats), ("RabbitMQ", &sinks.rabbit)] {
        let events = got.deduplicated();
        assert_eq!(events.len(), 4, "{what}: {events:?}");
        let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
        let definitions: Vec<&&str> = types
            .iter()
            .filter(|t| t.starts_with("oxbase.collection."))
            .collect();
        assert_eq!(
            definitions,
            [
                &"oxbase.collection.created",
                &"oxbase.collection.updated",
                &"oxbase.collection.deleted"
            ],
            "{what}"
        );
        for e in &events {
            assert_eq!(e["specversion"], "1.0");
            assert!(
                !e.to_string().contains(":guest@"),
                "{what}: a password: {e}"
            );
            match e["type"].as_str().unwrap_or("") {
                "oxbase.settings.updated" => {
                    assert_eq!(e["source"], "oxbase/settings", "{what}");
                    assert!(e.get("subject").is_none(), "{what}");
                    assert!(e["data"]["brokers"]["targets"].is_array(), "{what}");
                    assert!(e["data"]["smtp"].get("password").is_none(), "{what}");
                }
                _ => {
                    assert_eq!(e["source"], "oxbase/collections", "{what}");
                    assert_eq!(e["subject"], "items", "{what}");
                    assert_eq!(e["data"]["name"], "items", "{what}");
                }
            }
        }
    }
    // The target that did not ask (Redis) has nothing under the system's pseudo names.
    let mut conn = sinks.redis.clone();
    let len: i64 = redis::cmd("XLEN")
        .arg(format!("{}:_collections", sinks.prefix))
        .query_async(&mut conn)
        .await
        .expect("XLEN");
    assert_eq!(len, 0);
    sinks.cleanup().await;
}

/// A JetStream server of this test's own (not the shared one), on a port and a store
/// directory of its own, that the test stops and starts again.
struct OwnNats {
    port: u16,
    store: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl OwnNats {
    async fn start() -> OwnNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut nats = OwnNats {
            port,
            store: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        nats.up().await;
        nats
    }

    fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits (10 s at most) until it takes connections.
    async fn up(&mut self) {
        let child = std::process::Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server is installed");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(self.url()).await.is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server (SIGTERM, as a restart does) and waits for its end.
    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How many messages the stream holds (0 while the server is away).
async fn stored(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut stream) => stream.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// Every message the stream holds, read one by one from its first.
async fn stream_contents(url: &str, stream: &str) -> Received {
    let got = Received::default();
    let Ok(client) = async_nats::connect(url).await else {
        return got;
    };
    let js = async_nats::jetstream::new(client);
    let Ok(mut stream) = js.get_stream(stream).await else {
        return got;
    };
    let Ok(info) = stream.info().await else {
        return got;
    };
    let last = info.state.last_sequence;
    for seq in info.state.first_sequence..=last {
        if let Ok(message) = stream.get_raw_message(seq).await {
            got.push(&message.payload);
        }
    }
    got
}

#[tokio::test]
async fn a_nats_restart_in_the_middle_of_the_stream_loses_and_reorders_nothing() {
    let mut nats = OwnNats::start().await;
    let prefix = unique("r");
    let stream = prefix.to_uppercase();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let js = async_nats::jetstream::new(client);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![format!("{prefix}.>")],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .expect("create the stream");
    let app = spawn_app().await;
    items(&app).await;
    configure(
        &app,
        json!([{"name": "nats", "type": "nats", "url": format!("nats://{}", nats.url()),
                "collections": ["items"],
                "subject": format!("{prefix}.{{collection}}.{{action}}")}]),
    )
    .await;
    let writes = write_concurrently(&app, 4, 15, 3);
    let restart = async {
        // Some events are published, then the broker goes away and comes back.
        let deadline = Instant::now() + Duration::from_secs(20);
        while stored(&js, &stream).await < 1 {
            assert!(Instant::now() < deadline, "no event before the restart");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        nats.down();
        // Longer than an attempt may take (2 s): attempts fail meanwhile.
        tokio::time::sleep(Duration::from_millis(3000)).await;
        nats.up().await;
    };
    let (expected, ()) = tokio::join!(writes, restart);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = stream_contents(&nats.url(), &stream).await;
    while got.unique_ids() < count(&expected) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        got = stream_contents(&nats.url(), &stream).await;
    }
    assert_once_in_order("NATS after a restart", &got, &expected);
    // The restart was in the middle: some attempts failed and were retried.
    let failed = app
        .logged_at_least("data.type%3D'broker'%26%26level%3D4", 1)
        .await;
    assert!(failed >= 1, "a failed attempt during the restart");
}

#[tokio::test]
async fn a_target_with_view_as_publishes_the_record_as_that_auth_record_views_it() {
    let app = spawn_app().await;
    let token = &app.superuser_token;
    let alice = app.create_user("alice@example.com").await;
    let bob = app.create_user("bob@example.com").await;
    // `items` (the sinks' subjects name it): only its owner may view a record; `secret` is
    // hidden.
    app.must_create_collection(owner_only_collection("items"))
        .await;
    let sinks = Sinks::start().await;
    let mut targets = sinks.targets(None);
    for target in targets.as_array_mut().expect("targets") {
        target["viewAs"] = json!({"collection": "users", "id": alice.id});
    }
    configure(&app, targets.clone()).await;
    let create = |title: &str, owner: &str| {
        let body = json!({"title": title, "secret": "s3", "owner": owner});
        app.create_record("items", body, token)
    };
    let mine = create("mine", &alice.id)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let theirs = create("theirs", &bob.id)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let received = sinks.wait_all(2, Duration::from_secs(30)).await;
    for (what, got) in ["NATS", "RabbitMQ", "Redis"].iter().zip(&received) {
        let events = got.deduplicated();
        assert_eq!(events.len(), 2, "{what}: {events:?}");
        let by_id = |id: &str| {
            events
                .iter()
                .find(|e| e["subject"] == id)
                .unwrap_or_else(|| panic!("{what}: no event for {id}: {events:?}"))
                .clone()
        };
        // Alice's own record: her view, without the hidden field.
        let seen = by_id(&mine);
        assert_eq!(seen["type"], "oxbase.record.created", "{what}");
        assert_eq!(seen["visible"], true, "{what}: {seen}");
        assert_eq!(seen["data"]["title"], "mine", "{what}: {seen}");
        assert_eq!(seen["data"]["owner"], alice.id.as_str(), "{what}: {seen}");
        assert!(
            seen["data"].get("secret").is_none(),
            "{what}: a hidden field stays hidden: {seen}"
        );
        // Bob's: still published (a receiver keeping copies must learn of it), but only
        // what identifies it.
        let unseen = by_id(&theirs);
        assert_eq!(unseen["visible"], false, "{what}: {unseen}");
        assert_eq!(
            unseen["data"],
            json!({"collectionId": unseen["data"]["collectionId"], "collectionName": "items",
                   "id": theirs}),
            "{what}"
        );
        assert!(unseen["data"]["collectionId"].is_string(), "{what}");
    }
    // A target without viewAs publishes what a superuser sees, and no `visible`.
    let mut plain = sinks.targets(None);
    plain[0]["viewAs"] = json!({"collection": "users", "id": alice.id});
    plain[1]["viewAs"] = json!({"collection": "users", "id": alice.id});
    configure(&app, plain).await;
    let third = create("third", &bob.id)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let superuser = sinks.redis_event_of(&third).await;
    assert_eq!(superuser["data"]["secret"], "s3", "{superuser}");
    assert!(superuser.get("visible").is_none(), "{superuser}");
    // An auth record that does not exist (or no longer does) views nothing.
    let mut ghost = sinks.targets(None);
    ghost[2]["viewAs"] = json!({"collection": "users", "id": "nosuchuser0000"});
    configure(&app, ghost).await;
    let fourth = create("fourth", &alice.id)
        .await
        .expect(200)
        .str("id")
        .to_owned();
    let unseen = sinks.redis_event_of(&fourth).await;
    assert_eq!(unseen["visible"], false, "{unseen}");
    assert!(unseen["data"].get("title").is_none(), "{unseen}");
    // viewAs must name an auth collection and a record, as for webhooks.
    let mut bad = sinks.targets(None);
    bad[2]["viewAs"] = json!({"collection": "items", "id": ""});
    let refused = app
        .update_settings(json!({"brokers": {"targets": bad}}), token)
        .await;
    let data = &refused.expect(400).body["data"]["brokers"]["targets"]["2"]["viewAs"];
    assert_eq!(
        data["collection"]["code"], "validation_invalid_auth_collection",
        "{}",
        refused.text
    );
    assert_eq!(
        data["id"]["code"], "validation_required",
        "{}",
        refused.text
    );
    sinks.cleanup().await;
}
