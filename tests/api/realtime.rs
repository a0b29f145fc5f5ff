//! Realtime over SSE: `PB_CONNECT`, subscriptions and their auth, delivery by the list rule,
//! the view rule, the subscription filter, the exact topic as event name, deletes (cascades
//! judged before their rows go), the record shape (hidden fields, expand), back-pressure on a
//! client that does not read, bursts (nothing lost silently), idle expiry, headers and
//! keep-alives.

use std::time::Duration;

use serde_json::{Value, json};

use oxbase_core::realtime::RealtimeConfig;

use crate::helpers::{GUEST, SseClient, SseEvent, SseNext, TestApp, TestUser, encode, spawn_app};

/// `sentinel` (public), `owned` (owner only), `notes` (public, hidden field, relation to users).
struct World {
    u1: TestUser,
    u2: TestUser,
}

async fn world(app: &TestApp) -> World {
    let users_id = app.collection_id("users").await;
    app.must_create_collection(json!({
        "name": "sentinel", "listRule": "", "viewRule": "",
        "fields": [{"name": "n", "type": "number"}],
    }))
    .await;
    app.must_create_collection(json!({
        "name": "owned",
        "listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "owner", "type": "relation", "collectionId": users_id, "maxSelect": 1},
        ],
    }))
    .await;
    app.must_create_collection(json!({
        "name": "notes", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "status", "type": "text"},
            {"name": "secret", "type": "text", "hidden": true},
            {"name": "author", "type": "relation", "collectionId": users_id, "maxSelect": 1},
        ],
    }))
    .await;
    World {
        u1: app.create_user("u1@example.com").await,
        u2: app.create_user("u2@example.com").await,
    }
}

/// Creates a sentinel record and reads each client up to it; returns, per client, the events
/// that came before it. Events reach one client in order, so what is not there was not sent.
async fn barrier(app: &TestApp, clients: &mut [&mut SseClient]) -> Vec<Vec<SseEvent>> {
    let s = app.must_create_record("sentinel", json!({"n": 1})).await;
    let id = s["id"].as_str().expect("present in the answer").to_owned();
    let mut out = Vec::new();
    for c in clients.iter_mut() {
        out.push(c.until(|e| e.record_id() == id).await);
    }
    out
}

fn summary(events: &[SseEvent]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| (e.event.clone(), e.action(), e.record_id()))
        .collect()
}

fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_owned(), b.to_owned(), c.to_owned())
}

fn options_topic(base: &str, options: Value) -> String {
    // as the SDK builds it: `encodeURIComponent(JSON.stringify(options))`
    format!("{base}?options={}", encode(&options.to_string()))
}

#[tokio::test]
async fn pb_connect_is_first_with_the_client_id_in_data_and_id_line() {
    let app = spawn_app().await;
    let sse = app.connect_realtime().await;
    assert!(!sse.client_id.is_empty());
    assert_eq!(sse.connect.id.as_deref(), Some(sse.client_id.as_str()));
    assert_eq!(sse.connect.json(), json!({"clientId": sse.client_id}));
    assert_eq!(app.core.realtime().client_count(), 1);
    let other = app.connect_realtime().await;
    assert_ne!(other.client_id, sse.client_id);
}

#[tokio::test]
async fn list_rule_decides_collection_topics() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let topics = ["owned/*", "sentinel/*"];
    let mut c1 = app.subscribed(&topics, &w.u1.token).await;
    let mut c2 = app.subscribed(&topics, &w.u2.token).await;
    let mut cg = app.subscribed(&topics, GUEST).await;
    let mut cs = app.subscribed(&topics, &app.superuser_token).await;

    let r = app
        .must_create_record("owned", json!({"title": "t", "owner": w.u1.id}))
        .await;
    let id = r["id"].as_str().unwrap();
    app.update_record("owned", id, json!({"title": "t2"}), &app.superuser_token)
        .await
        .expect(200);
    let got = barrier(&app, &mut [&mut c1, &mut c2, &mut cg, &mut cs]).await;
    let expected = vec![s("owned/*", "create", id), s("owned/*", "update", id)];
    assert_eq!(summary(&got[0]), expected);
    assert!(got[1].is_empty(), "another user got {:?}", got[1]);
    assert!(got[2].is_empty(), "a guest got {:?}", got[2]);
    assert_eq!(summary(&got[3]), expected);
    // the record as REST shows it to the same caller
    let rest = app.view_record("owned", id, &[], &w.u1.token).await;
    assert_eq!(got[0][1].json()["record"], rest.body);
    // every message carries the client id in the id line
    assert_eq!(got[0][0].id.as_deref(), Some(c1.client_id.as_str()));
}

#[tokio::test]
async fn superusers_only_list_rule_delivers_to_superusers_only() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.must_create_collection(
        json!({"name": "locked", "fields": [{"name": "title", "type": "text"}]}),
    )
    .await;
    let topics = ["locked/*", "sentinel/*"];
    let mut c1 = app.subscribed(&topics, &w.u1.token).await;
    let mut cg = app.subscribed(&topics, GUEST).await;
    let mut cs = app.subscribed(&topics, &app.superuser_token).await;
    let r = app
        .must_create_record("locked", json!({"title": "x"}))
        .await;
    let got = barrier(&app, &mut [&mut c1, &mut cg, &mut cs]).await;
    assert!(got[0].is_empty() && got[1].is_empty(), "{got:?}");
    assert_eq!(
        summary(&got[2]),
        vec![s("locked/*", "create", r["id"].as_str().unwrap())]
    );
}

#[tokio::test]
async fn record_topics_use_the_view_rule_and_name_the_event_by_the_topic() {
    let app = spawn_app().await;
    world(&app).await;
    // listed by nobody but superusers, viewable by anyone
    app.must_create_collection(json!({
        "name": "viewonly", "listRule": null, "viewRule": "",
        "fields": [{"name": "title", "type": "text"}],
    }))
    .await;
    // listable by anyone, viewable by superusers only
    app.must_create_collection(json!({
        "name": "listonly", "listRule": "", "viewRule": null,
        "fields": [{"name": "title", "type": "text"}],
    }))
    .await;
    let v = app
        .must_create_record("viewonly", json!({"title": "v"}))
        .await;
    let l = app
        .must_create_record("listonly", json!({"title": "l"}))
        .await;
    let other = app
        .must_create_record("viewonly", json!({"title": "o"}))
        .await;
    let (vid, lid, oid) = (
        v["id"].as_str().unwrap(),
        l["id"].as_str().unwrap(),
        other["id"].as_str().unwrap(),
    );
    let v_topic = format!("viewonly/{vid}");
    let l_topic = format!("listonly/{lid}");
    let mut cg = app
        .subscribed(
            &["viewonly/*", &v_topic, "listonly/*", &l_topic, "sentinel/*"],
            GUEST,
        )
        .await;
    for (coll, id) in [("viewonly", oid), ("viewonly", vid), ("listonly", lid)] {
        app.update_record(coll, id, json!({"title": "changed"}), &app.superuser_token)
            .await
            .expect(200);
    }
    let got = barrier(&app, &mut [&mut cg]).await;
    assert_eq!(
        summary(&got[0]),
        vec![s(&v_topic, "update", vid), s("listonly/*", "update", lid)]
    );
    assert_eq!(got[0][0].json()["record"]["title"], "changed");
}

#[tokio::test]
async fn the_filter_option_narrows_delivery_and_the_event_is_the_exact_topic() {
    let app = spawn_app().await;
    world(&app).await;
    let topic = options_topic(
        "notes/*",
        json!({"query": {"filter": "status = 'pub'"}, "headers": {}}),
    );
    let mut c = app.subscribed(&[&topic, "sentinel/*"], GUEST).await;
    let draft = app
        .must_create_record("notes", json!({"title": "d", "status": "draft"}))
        .await;
    let public = app
        .must_create_record("notes", json!({"title": "p", "status": "pub"}))
        .await;
    let (did, pid) = (
        draft["id"].as_str().unwrap(),
        public["id"].as_str().unwrap(),
    );
    app.update_record("notes", did, json!({"status": "pub"}), &app.superuser_token)
        .await
        .expect(200);
    app.update_record(
        "notes",
        pid,
        json!({"status": "draft"}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let got = barrier(&app, &mut [&mut c]).await;
    assert_eq!(
        summary(&got[0]),
        vec![s(&topic, "create", pid), s(&topic, "update", did)]
    );
}

#[tokio::test]
async fn options_headers_and_query_reach_the_rule() {
    let app = spawn_app().await;
    world(&app).await;
    app.must_create_collection(json!({
        "name": "keyed", "listRule": "@request.headers.x_key = 'open-sesame'", "viewRule": "",
        "fields": [{"name": "title", "type": "text"}],
    }))
    .await;
    let with_key = options_topic(
        "keyed/*",
        json!({"query": {}, "headers": {"X-Key": "open-sesame"}}),
    );
    let wrong_key = options_topic("keyed/*", json!({"headers": {"x-key": "nope"}}));
    let mut c = app
        .subscribed(&[&with_key, &wrong_key, "keyed/*", "sentinel/*"], GUEST)
        .await;
    let r = app.must_create_record("keyed", json!({"title": "k"})).await;
    let got = barrier(&app, &mut [&mut c]).await;
    assert_eq!(
        summary(&got[0]),
        vec![s(&with_key, "create", r["id"].as_str().unwrap())]
    );
}

#[tokio::test]
async fn an_update_is_decided_on_the_new_state() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let topics = ["owned/*", "sentinel/*"];
    let mut c1 = app.subscribed(&topics, &w.u1.token).await;
    let mut c2 = app.subscribed(&topics, &w.u2.token).await;
    let r = app
        .must_create_record("owned", json!({"title": "t", "owner": w.u1.id}))
        .await;
    let id = r["id"].as_str().unwrap();
    app.update_record("owned", id, json!({"owner": w.u2.id}), &app.superuser_token)
        .await
        .expect(200);
    let got = barrier(&app, &mut [&mut c1, &mut c2]).await;
    assert_eq!(summary(&got[0]), vec![s("owned/*", "create", id)]);
    assert_eq!(summary(&got[1]), vec![s("owned/*", "update", id)]);
}

#[tokio::test]
async fn a_delete_reaches_only_those_who_could_see_the_record() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let a = app
        .must_create_record("owned", json!({"title": "a", "owner": w.u1.id}))
        .await;
    let b = app
        .must_create_record("owned", json!({"title": "b", "owner": w.u2.id}))
        .await;
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let b_topic = format!("owned/{bid}");
    let mut c1 = app
        .subscribed(&["owned/*", &b_topic, "sentinel/*"], &w.u1.token)
        .await;
    let mut cg = app.subscribed(&["owned/*", "sentinel/*"], GUEST).await;
    for id in [aid, bid] {
        app.delete_record("owned", id, &app.superuser_token)
            .await
            .expect(204);
    }
    let got = barrier(&app, &mut [&mut c1, &mut cg]).await;
    assert_eq!(summary(&got[0]), vec![s("owned/*", "delete", aid)]);
    assert_eq!(
        got[0][0].json()["record"],
        a,
        "the deleted record as it was"
    );
    assert!(got[1].is_empty(), "{:?}", got[1]);
}

#[tokio::test]
async fn hidden_fields_and_expand_follow_the_rest_rules() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let topic = options_topic("notes/*", json!({"query": {"expand": "author"}}));
    let mut c1 = app.subscribed(&[&topic], &w.u1.token).await;
    let mut cg = app.subscribed(&[&topic], GUEST).await;
    let mut cs = app.subscribed(&[&topic], &app.superuser_token).await;
    let r = app
        .must_create_record(
            "notes",
            json!({"title": "n", "secret": "hush", "author": w.u1.id}),
        )
        .await;
    let id = r["id"].as_str().unwrap();
    for (c, token) in [
        (&mut c1, w.u1.token.as_str()),
        (&mut cg, GUEST),
        (&mut cs, app.superuser_token.as_str()),
    ] {
        let e = c.expect_event().await;
        assert_eq!(e.event, topic);
        let rest = app
            .view_record("notes", id, &[("expand", "author")], token)
            .await;
        rest.expect(200);
        assert_eq!(e.json()["record"], rest.body, "token {token:?}");
    }
    // what REST gives, spelled out: no hidden field for non-superusers, and the users view
    // rule (only oneself) applies to the expanded author
    let rest_guest = app
        .view_record("notes", id, &[("expand", "author")], GUEST)
        .await;
    assert!(rest_guest.body.get("secret").is_none());
    assert!(rest_guest.body["expand"].get("author").is_none());
    let rest_u1 = app
        .view_record("notes", id, &[("expand", "author")], &w.u1.token)
        .await;
    assert_eq!(rest_u1.body["expand"]["author"]["id"], w.u1.id.as_str());
}

#[tokio::test]
async fn subscribing_binds_the_auth_and_another_auth_is_refused() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let c = app.connect_realtime().await;
    app.set_subscriptions(&c.client_id, &["notes/*"], &w.u1.token)
        .await
        .expect(204);
    app.set_subscriptions(&c.client_id, &["notes/*", "owned/*"], &w.u1.token)
        .await
        .expect(204);
    for token in [w.u2.token.as_str(), app.superuser_token.as_str(), GUEST] {
        let r = app
            .set_subscriptions(&c.client_id, &["notes/*"], token)
            .await;
        crate::helpers::assert_error(
            &r,
            403,
            "The current and the previous request authorization don't match.",
        );
    }
    // a guest client may be upgraded to a user once
    let g = app.connect_realtime().await;
    app.set_subscriptions(&g.client_id, &["notes/*"], GUEST)
        .await
        .expect(204);
    app.set_subscriptions(&g.client_id, &["notes/*"], &w.u2.token)
        .await
        .expect(204);
    app.set_subscriptions(&g.client_id, &["notes/*"], &w.u1.token)
        .await
        .expect(403);
    // unknown client
    let r = app.set_subscriptions("missing", &[], GUEST).await;
    crate::helpers::assert_error(&r, 404, "Missing or invalid client id.");
    // any topic string is accepted (the SDK subscribes to PB_CONNECT)
    app.set_subscriptions(&g.client_id, &["PB_CONNECT", "custom"], &w.u2.token)
        .await
        .expect(204);
}

#[tokio::test]
async fn a_new_subscription_list_replaces_the_old_one() {
    let app = spawn_app().await;
    world(&app).await;
    let mut c = app.subscribed(&["notes/*", "sentinel/*"], GUEST).await;
    app.set_subscriptions(&c.client_id, &["sentinel/*"], GUEST)
        .await
        .expect(204);
    app.must_create_record("notes", json!({"title": "n"})).await;
    let got = barrier(&app, &mut [&mut c]).await;
    assert!(got[0].is_empty(), "{:?}", got[0]);
}

#[tokio::test]
async fn a_closed_stream_leaves_the_hub() {
    let app = spawn_app().await;
    let c = app.connect_realtime().await;
    let id = c.client_id.clone();
    assert_eq!(app.core.realtime().client_count(), 1);
    drop(c);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while app.core.realtime().client_count() != 0 {
        assert!(tokio::time::Instant::now() < deadline, "the client stayed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = app.set_subscriptions(&id, &["notes/*"], GUEST).await;
    r.expect(404);
}

/// A client that never reads is disconnected once its bounded queue is full, while a reading
/// client receives every event; the slow one can connect again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cannot_keep_up_is_disconnected_and_others_get_everything() {
    const TOTAL: usize = 2000;
    const PER_BATCH: usize = 50;
    let app = spawn_app().await;
    app.enable_batch(PER_BATCH as u64).await;
    app.must_create_collection(json!({
        "name": "flood", "listRule": "", "viewRule": "", "createRule": "",
        "fields": [{"name": "payload", "type": "text", "max": 10000}],
    }))
    .await;

    // The slow client: a raw socket with a tiny receive buffer that never reads after subscribing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket.connect(app.addr).await.unwrap();
    let slow_id = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!(
            "GET /api/realtime HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
            app.addr
        );
        slow.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        let text = loop {
            let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut byte))
                .await
                .expect("PB_CONNECT in time")
                .unwrap();
            assert_eq!(n, 1, "the stream ended early");
            head.push(byte[0]);
            let text = String::from_utf8_lossy(&head).into_owned();
            if text.contains("PB_CONNECT") && text.contains("}\n") {
                break text;
            }
        };
        let start = text.find("{\"clientId\":\"").expect("client id") + 13;
        text[start..start + 40].to_owned()
    };
    app.set_subscriptions(&slow_id, &["flood/*"], GUEST)
        .await
        .expect(204);

    let mut fast = app.subscribed(&["flood/*"], GUEST).await;
    assert_eq!(app.core.realtime().client_count(), 2);
    let reader = tokio::spawn(async move {
        let mut ids = Vec::with_capacity(TOTAL);
        while ids.len() < TOTAL {
            match fast.next(Duration::from_secs(30)).await {
                SseNext::Event(e) => ids.push(e.record_id()),
                other => panic!("the reading client stopped after {}: {other:?}", ids.len()),
            }
        }
        (ids, fast)
    });

    let payload = "x".repeat(6000);
    let mut created = Vec::with_capacity(TOTAL);
    for _ in 0..TOTAL / PER_BATCH {
        let requests: Vec<Value> = (0..PER_BATCH)
            .map(|_| json!({"method": "POST", "url": "/api/collections/flood/records", "body": {"payload": payload}}))
            .collect();
        let r = app.batch(json!(requests), GUEST).await;
        r.expect(200);
        for item in r.body.as_array().unwrap() {
            created.push(item["body"]["id"].as_str().unwrap().to_owned());
        }
    }
    let (received, _fast) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the reading client got everything in time")
        .expect("reader task");
    assert_eq!(
        received, created,
        "the reading client got every event, in order"
    );

    // The slow one is gone from the hub...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.core.realtime().client_count() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow client was not disconnected ({} clients)",
            app.core.realtime().client_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.set_subscriptions(&slow_id, &["flood/*"], GUEST)
        .await
        .expect(404);
    // ...and its response ends (the socket closes: `Connection: close`) once what was
    // already queued is read.
    {
        use tokio::io::AsyncReadExt;
        let mut sink = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), slow.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => total += n,
                Err(_) => panic!("the slow client's stream did not end (read {total} bytes)"),
            }
        }
        assert!(
            total < TOTAL * 6000,
            "the slow client got everything ({total} bytes): it was never behind"
        );
    }
    // It can connect again.
    let mut again = app.subscribed(&["flood/*"], GUEST).await;
    let r = app
        .must_create_record("flood", json!({"payload": "after"}))
        .await;
    let e = again.expect_event().await;
    assert_eq!(e.record_id(), r["id"].as_str().unwrap());
}

// ---- bursts: nothing is lost silently ---------------------------------------------------------

/// A stream read without the test helper's per-event parsing, fast enough for tens of
/// thousands of events: yields the record id of each record event, in order.
struct RawStream {
    response: reqwest::Response,
    buf: Vec<u8>,
}

impl RawStream {
    async fn open(app: &TestApp, topics: &[&str], token: &str) -> RawStream {
        let response = app
            .client
            .get(app.url("/api/realtime"))
            .send()
            .await
            .expect("the SSE request reaches the server");
        let mut raw = RawStream {
            response,
            buf: Vec::new(),
        };
        let connect = match raw.next_block(Duration::from_secs(5)).await {
            Some(block) => block,
            None => panic!("no PB_CONNECT"),
        };
        let data: Value = serde_json::from_str(data_line(&connect)).expect("PB_CONNECT data");
        let client_id = data["clientId"].as_str().expect("clientId").to_owned();
        app.set_subscriptions(&client_id, topics, token)
            .await
            .expect(204);
        raw
    }

    /// The next event block (comments included), or `None` when the stream ends or nothing
    /// comes within `wait`.
    async fn next_block(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 2);
                return Some(block);
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.extend_from_slice(&bytes),
                _ => return None,
            }
        }
    }

    /// Record ids of the record events read until `count` arrived, the stream ended, nothing
    /// came for `quiet`, or `deadline` passed. The second value says whether the stream ended.
    async fn record_ids(
        &mut self,
        count: usize,
        quiet: Duration,
        deadline: tokio::time::Instant,
    ) -> (Vec<String>, bool) {
        let mut ids = Vec::with_capacity(count);
        loop {
            let mut start = 0;
            while let Some(end) = self.buf[start..].windows(2).position(|w| w == b"\n\n") {
                let block = std::str::from_utf8(&self.buf[start..start + end]).unwrap_or("");
                if let Some(id) = record_id_of(block) {
                    ids.push(id);
                }
                start += end + 2;
            }
            self.buf.drain(..start);
            if ids.len() >= count {
                return (ids, false);
            }
            let until = deadline.min(tokio::time::Instant::now() + quiet);
            match tokio::time::timeout_at(until, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.extend_from_slice(&bytes),
                Ok(_) => return (ids, true),
                Err(_) => return (ids, false),
            }
        }
    }
}

fn data_line(block: &str) -> &str {
    block
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map(|d| d.trim_start())
        .unwrap_or("")
}

/// `record.id` of a record event's block, without parsing the whole JSON: the record's
/// `id` is the first `"id":"` after `"record":`.
fn record_id_of(block: &str) -> Option<String> {
    let data = data_line(block);
    let record = data.find("\"record\":")?;
    let rest = &data[record..];
    let at = rest.find("\"id\":\"")? + 6;
    let end = rest[at..].find('"')?;
    Some(rest[at..at + end].to_owned())
}

/// `clients` readers with distinct identities on a list rule that needs one, `batches` batch
/// requests of `per_batch` creates, everything delivered within `within` of the first write.
/// Returns the ids created, what each reader got and whether its stream ended, and how long
/// delivery took.
async fn burst(
    app: &TestApp,
    clients: usize,
    batches: usize,
    per_batch: usize,
    within: Duration,
) -> (Vec<String>, Vec<(Vec<String>, bool)>, Duration) {
    app.enable_batch(per_batch as u64).await;
    app.must_create_collection(json!({
        "name": "burst", "listRule": "@request.auth.id != ''", "viewRule": "", "createRule": "",
        "fields": [{"name": "n", "type": "number"}],
    }))
    .await;
    let total = batches * per_batch;
    let mut streams = Vec::new();
    for i in 0..clients {
        let user = app.create_user(&format!("burst{i}@example.com")).await;
        streams.push(RawStream::open(app, &["burst/*"], &user.token).await);
    }
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + within;
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                stream
                    .record_ids(total, Duration::from_secs(20), deadline)
                    .await
            })
        })
        .collect();
    let mut created = Vec::with_capacity(total);
    for b in 0..batches {
        let requests: Vec<Value> = (0..per_batch)
            .map(|i| json!({"method": "POST", "url": "/api/collections/burst/records", "body": {"n": b * per_batch + i}}))
            .collect();
        let r = app.batch(json!(requests), GUEST).await;
        r.expect(200);
        for item in r.body.as_array().expect("present in the answer") {
            created.push(
                item["body"]["id"]
                    .as_str()
                    .expect("present in the answer")
                    .to_owned(),
            );
        }
    }
    let written = started.elapsed();
    let mut got = Vec::new();
    for r in readers {
        got.push(r.await.expect("reader task"));
    }
    let delivered = started.elapsed();
    let events: usize = got.iter().map(|(ids, _)| ids.len()).sum();
    eprintln!(
        "burst: {clients} clients, {total} creates written in {written:.2?}; {events} events delivered in {delivered:.2?} ({:.0} events/s)",
        events as f64 / delivered.as_secs_f64()
    );
    (created, got, delivered)
}

/// More changes than the change channel ever held at once (16Ki), written in a burst, to
/// clients that each ask their own question (distinct identities): every connected client
/// gets every event, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_writes_reaches_every_client_in_full() {
    let app = spawn_app().await;
    let (created, got, _) = burst(&app, 10, 20, 1000, Duration::from_secs(120)).await;
    for (i, (ids, ended)) in got.iter().enumerate() {
        assert!(
            !ended,
            "client {i} was disconnected after {} events",
            ids.len()
        );
        assert_eq!(
            ids.len(),
            created.len(),
            "client {i} got {} of {} events",
            ids.len(),
            created.len()
        );
        assert!(ids == &created, "client {i} got the events out of order");
    }
}

/// The audit's figures (20 clients, 20 batches of 1,000 creates), for measuring only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: cargo test --test api realtime::burst_measurement -- --ignored --nocapture"]
async fn burst_measurement() {
    let app = spawn_app().await;
    let (created, got, _) = burst(&app, 20, 20, 1000, Duration::from_secs(120)).await;
    for (i, (ids, ended)) in got.iter().enumerate() {
        eprintln!(
            "client {i}: {} of {} events, disconnected: {ended}",
            ids.len(),
            created.len()
        );
    }
}

/// Changes the hub's settings for the clients connected from now on.
fn configure(app: &TestApp, change: impl FnOnce(&mut RealtimeConfig)) {
    let mut config = app.core.realtime().config();
    change(&mut config);
    app.core.realtime().configure(config);
}

/// When changes wait longer than the dispatcher may hold them, they are dropped and their
/// subscribers are disconnected (so the SDK reconnects and resyncs): a client sees every event
/// or a prefix and then the end of its stream, never a gap. Others stay connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_the_dispatcher_cannot_hold_disconnect_their_subscribers() {
    const TOTAL: usize = 200;
    let app = spawn_app().await;
    world(&app).await;
    app.enable_batch(TOTAL as u64).await;
    app.must_create_collection(json!({
        "name": "surge", "listRule": "n >= 0", "viewRule": "", "createRule": "",
        "fields": [{"name": "n", "type": "number"}],
    }))
    .await;
    // No change may wait: every one overflows.
    configure(&app, |c| c.max_backlog = 0);
    let mut owed = app.subscribed(&["surge/*"], GUEST).await;
    let mut bystander = app.subscribed(&["sentinel/*"], GUEST).await;
    let requests: Vec<Value> = (0..TOTAL)
        .map(|n| json!({"method": "POST", "url": "/api/collections/surge/records", "body": {"n": n}}))
        .collect();
    let r = app.batch(json!(requests), GUEST).await;
    r.expect(200);
    let created: Vec<String> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body"]["id"].as_str().unwrap().to_owned())
        .collect();
    let mut got = Vec::new();
    loop {
        match owed.next(Duration::from_secs(5)).await {
            SseNext::Event(e) => got.push(e.record_id()),
            SseNext::Closed => break,
            SseNext::Timeout => panic!(
                "after {} of {TOTAL} events, neither the rest nor a disconnect",
                got.len()
            ),
        }
    }
    assert!(got.len() < TOTAL, "every event came: nothing overflowed");
    assert_eq!(
        got,
        created[..got.len()],
        "what came is the start of what was written, in order"
    );
    // The client subscribed elsewhere was owed nothing and is still served.
    configure(&app, |c| {
        c.max_backlog = RealtimeConfig::default().max_backlog
    });
    let s = app.must_create_record("sentinel", json!({"n": 1})).await;
    assert_eq!(
        bystander.expect_event().await.record_id(),
        s["id"].as_str().unwrap()
    );
}

/// `kids` cascade-delete with their parent and are listed through it (`parent.title`):
/// deleting the parent tells a kid's subscribers of the kid's deletion, judged as the kid was
/// before anything went, as PocketBase does; a kid of a parent they could not see stays
/// unknown to them.
#[tokio::test]
async fn a_cascaded_delete_is_judged_before_the_parent_goes() {
    let app = spawn_app().await;
    world(&app).await;
    let parents = app
        .must_create_collection(json!({
            "name": "parents", "listRule": "", "viewRule": "",
            "fields": [{"name": "title", "type": "text"}],
        }))
        .await;
    app.must_create_collection(json!({
        "name": "kids", "listRule": "parent.title = 'vis'", "viewRule": "parent.title = 'vis'",
        "fields": [
            {"name": "name", "type": "text"},
            {"name": "parent", "type": "relation", "collectionId": parents["id"], "maxSelect": 1, "cascadeDelete": true},
        ],
    }))
    .await;
    let visible = app
        .must_create_record("parents", json!({"title": "vis"}))
        .await;
    let hidden = app
        .must_create_record("parents", json!({"title": "other"}))
        .await;
    let mut kids = Vec::new();
    for (name, parent) in [("k1", &visible), ("k2", &visible), ("k3", &hidden)] {
        let k = app
            .must_create_record("kids", json!({"name": name, "parent": parent["id"]}))
            .await;
        kids.push(k["id"].as_str().unwrap().to_owned());
    }
    let k1_topic = format!("kids/{}", kids[0]);
    let mut guest = app
        .subscribed(&["kids/*", &k1_topic, "sentinel/*"], GUEST)
        .await;
    for p in [&visible, &hidden] {
        app.delete_record("parents", p["id"].as_str().unwrap(), &app.superuser_token)
            .await
            .expect(204);
    }
    let got = barrier(&app, &mut [&mut guest]).await;
    let mut got = summary(&got[0]);
    got.sort();
    let mut expected = vec![
        s("kids/*", "delete", &kids[0]),
        s(&k1_topic, "delete", &kids[0]),
        s("kids/*", "delete", &kids[1]),
    ];
    expected.sort();
    assert_eq!(got, expected);
    // The kids are gone.
    let rest = app.list_records("kids", &[], &app.superuser_token).await;
    assert_eq!(rest.body["totalItems"], 0);
}

/// PB-COMPAT: a client that received nothing for the idle timeout (PocketBase: 5 minutes) is
/// disconnected and leaves the hub; every message restarts the timer.
#[tokio::test]
async fn an_idle_client_is_disconnected_and_messages_keep_a_client_alive() {
    let app = spawn_app().await;
    world(&app).await;
    assert_eq!(
        app.core.realtime().config().idle_timeout,
        Duration::from_secs(300)
    );
    let idle_timeout = Duration::from_millis(1000);
    configure(&app, |c| c.idle_timeout = idle_timeout);
    let mut busy = app.subscribed(&["sentinel/*"], GUEST).await;
    let mut idle = app.subscribed(&["notes/*"], GUEST).await;
    let started = std::time::Instant::now();
    // Events every 200 ms for twice the timeout: the busy client stays.
    while started.elapsed() < idle_timeout * 2 {
        let r = app.must_create_record("sentinel", json!({"n": 1})).await;
        assert_eq!(
            busy.expect_event().await.record_id(),
            r["id"].as_str().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The idle one got nothing and was let go.
    match idle.next(Duration::from_secs(5)).await {
        SseNext::Closed => {}
        other => panic!("the idle client is still served: {other:?}"),
    }
    app.set_subscriptions(&idle.client_id, &["notes/*"], GUEST)
        .await
        .expect(404);
    // Once nothing comes, the busy one goes too.
    match busy.next(Duration::from_secs(5)).await {
        SseNext::Closed => {}
        other => panic!("the client stayed after going idle: {other:?}"),
    }
    assert_eq!(app.core.realtime().client_count(), 0);
}

/// PB-COMPAT: PocketBase's SSE headers (no caching, no proxy buffering), and a keep-alive
/// comment on a quiet stream.
#[tokio::test]
async fn the_stream_has_pocketbase_headers_and_keep_alive_comments() {
    let app = spawn_app().await;
    configure(&app, |c| c.keep_alive = Duration::from_millis(200));
    let mut response = app
        .client
        .get(app.url("/api/realtime"))
        .send()
        .await
        .expect("the SSE request reaches the server");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/event-stream");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-accel-buffering"), "no");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut text = String::new();
    // After PB_CONNECT's block, a comment line (`:`), with no event in between.
    while !text
        .split("\n\n")
        .skip(1)
        .any(|block| block.starts_with(':'))
    {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("no keep-alive comment: {other:?}; read {text:?}"),
        }
    }
    assert!(text.contains("PB_CONNECT"), "{text:?}");
}

/// A batch's changes are answered in one round: each state of the same record is judged on
/// its own (the create as created, the update as updated), not all by the last one.
#[tokio::test]
async fn each_state_of_one_record_in_a_batch_is_judged_on_its_own() {
    let app = spawn_app().await;
    world(&app).await;
    app.enable_batch(10).await;
    let topic = options_topic("notes/*", json!({"query": {"filter": "status = 'pub'"}}));
    let mut c = app.subscribed(&[&topic, "sentinel/*"], GUEST).await;
    let (a, b) = ("aaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbb");
    let r = app
        .batch(
            json!([
                {"method": "POST", "url": "/api/collections/notes/records", "body": {"id": a, "status": "draft"}},
                {"method": "PATCH", "url": format!("/api/collections/notes/records/{a}"), "body": {"status": "pub"}},
                {"method": "POST", "url": "/api/collections/notes/records", "body": {"id": b, "status": "pub"}},
                {"method": "PATCH", "url": format!("/api/collections/notes/records/{b}"), "body": {"status": "draft"}},
            ]),
            &app.superuser_token,
        )
        .await;
    r.expect(200);
    let got = barrier(&app, &mut [&mut c]).await;
    assert_eq!(
        summary(&got[0]),
        vec![s(&topic, "update", a), s(&topic, "create", b)]
    );
}

#[tokio::test]
async fn emptying_references_of_a_deleted_record_is_an_update_event() {
    let app = spawn_app().await;
    world(&app).await;
    let tags = app.must_create_collection(json!({"name": "tags", "listRule": "", "viewRule": "", "fields": [{"name": "name", "type": "text"}]})).await;
    app.must_create_collection(json!({
        "name": "articles", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "main", "type": "relation", "collectionId": tags["id"], "maxSelect": 1},
            {"name": "tags", "type": "relation", "collectionId": tags["id"], "maxSelect": 5},
        ],
    }))
    .await;
    let rust = app
        .must_create_record("tags", json!({"name": "rust"}))
        .await;
    let go = app.must_create_record("tags", json!({"name": "go"})).await;
    let (rust_id, go_id) = (
        rust["id"].as_str().unwrap().to_owned(),
        go["id"].as_str().unwrap().to_owned(),
    );
    let article = app
        .must_create_record(
            "articles",
            json!({"title": "a", "main": rust_id, "tags": [rust_id, go_id]}),
        )
        .await;
    let article_id = article["id"].as_str().unwrap().to_owned();
    let mut guest = app.subscribed(&["articles/*", "sentinel/*"], GUEST).await;
    app.delete_record("tags", &rust_id, &app.superuser_token)
        .await
        .expect(204);
    let got = barrier(&app, &mut [&mut guest]).await;
    let updates: Vec<&SseEvent> = got[0].iter().filter(|e| e.event == "articles/*").collect();
    assert_eq!(
        updates.len(),
        1,
        "one update for both emptied references: {:?}",
        got[0]
    );
    let record = &updates[0].json()["record"];
    assert_eq!(updates[0].json()["action"], "update");
    assert_eq!(record["id"], article_id);
    assert_eq!(record["main"], "");
    assert_eq!(record["tags"], json!([go_id]));
}

#[tokio::test]
async fn a_bare_collection_topic_is_the_wildcard_by_name_or_id() {
    let app = spawn_app().await;
    world(&app).await;
    let sentinel_id = app.collection_id("sentinel").await;
    let mut c = app.subscribed(&["notes", &sentinel_id], GUEST).await;
    let note = app
        .must_create_record("notes", json!({"title": "t", "status": "pub"}))
        .await;
    let note_id = note["id"].as_str().unwrap();
    let first = c.expect_event().await;
    assert_eq!(
        (first.event.as_str(), first.action(), first.record_id()),
        ("notes", "create".to_owned(), note_id.to_owned())
    );
    // By id: delivered under the topic's exact name.
    let sentinel = app.must_create_record("sentinel", json!({"n": 1})).await;
    let second = c.expect_event().await;
    assert_eq!(second.event, sentinel_id);
    assert_eq!(second.record_id(), sentinel["id"].as_str().unwrap());
}

/// Filters on numbers, booleans and JSON judge typed values on both databases (PostgreSQL
/// once saw every value of the changed record as text).
#[tokio::test]
async fn filters_on_typed_fields_narrow_delivery() {
    let app = spawn_app().await;
    world(&app).await;
    app.must_create_collection(json!({
        "name": "typed", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "n", "type": "number"},
            {"name": "flag", "type": "bool"},
            {"name": "meta", "type": "json"},
        ],
    }))
    .await;
    let topic = options_topic(
        "typed/*",
        json!({"query": {"filter": "n > 1 && flag = true && meta.k = 'v'"}}),
    );
    let mut c = app.subscribed(&[&topic, "sentinel/*"], GUEST).await;
    let mut expected = Vec::new();
    for (n, flag, k) in [
        (0, true, "v"),
        (2, false, "v"),
        (2, true, "w"),
        (3, true, "v"),
    ] {
        let r = app
            .must_create_record("typed", json!({"n": n, "flag": flag, "meta": {"k": k}}))
            .await;
        if n > 1 && flag && k == "v" {
            expected.push(s(&topic, "create", r["id"].as_str().unwrap()));
        }
    }
    let got = barrier(&app, &mut [&mut c]).await;
    assert_eq!(summary(&got[0]), expected);
}
