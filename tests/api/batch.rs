//! `POST /api/batch`: one transaction for all requests, PocketBase's failure body, rollback
//! (no rows, no realtime events), the caller's rules, and the `batch` settings.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, SseNext, TestApp, assert_error, public_collection, spawn_app};

async fn items(app: &TestApp) {
    app.must_create_collection(public_collection(
        "items",
        json!([{"name": "title", "type": "text", "required": true}, {"name": "qty", "type": "number"}]),
    ))
    .await;
}

fn create(coll: &str, body: Value) -> Value {
    json!({"method": "POST", "url": format!("/api/collections/{coll}/records"), "body": body})
}

async fn count(app: &TestApp, coll: &str) -> u64 {
    let r = app.list_records(coll, &[], &app.superuser_token).await;
    r.expect(200);
    r.body["totalItems"]
        .as_u64()
        .expect("present in the answer")
}

#[tokio::test]
async fn disabled_by_default() {
    let app = spawn_app().await;
    items(&app).await;
    let r = app
        .batch(
            json!([create("items", json!({"title": "x"}))]),
            &app.superuser_token,
        )
        .await;
    assert_error(&r, 403, "Batch requests are not allowed.");
    assert_eq!(count(&app, "items").await, 0);
}

#[tokio::test]
async fn all_actions_succeed_together() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(50).await;
    let existing = app
        .must_create_record("items", json!({"title": "old"}))
        .await;
    let doomed = app
        .must_create_record("items", json!({"title": "doomed"}))
        .await;
    let (eid, did) = (
        existing["id"].as_str().unwrap(),
        doomed["id"].as_str().unwrap(),
    );
    let r = app
        .batch(
            json!([
                create("items", json!({"title": "new", "qty": 2})),
                {"method": "PATCH", "url": format!("/api/collections/items/records/{eid}"), "body": {"qty": 5}},
                {"method": "PUT", "url": "/api/collections/items/records", "body": {"id": eid, "title": "upserted"}},
                {"method": "PUT", "url": "/api/collections/items/records?fields=id,title", "body": {"id": "upsertnew000001", "title": "fresh"}},
                {"method": "DELETE", "url": format!("/api/collections/items/records/{did}")},
            ]),
            GUEST,
        )
        .await;
    r.expect(200);
    let res = r.body.as_array().unwrap();
    let statuses: Vec<u64> = res.iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 204]);
    assert_eq!(res[0]["body"]["title"], "new");
    let created = app
        .view_record("items", res[0]["body"]["id"].as_str().unwrap(), &[], GUEST)
        .await;
    assert_eq!(res[0]["body"], created.body);
    assert_eq!(res[1]["body"]["qty"], 5);
    assert_eq!(res[2]["body"]["title"], "upserted");
    assert_eq!(res[2]["body"]["qty"], 5);
    assert_eq!(
        res[3]["body"],
        json!({"id": "upsertnew000001", "title": "fresh"})
    );
    assert_eq!(res[4], json!({"status": 204, "body": null}));
    app.view_record("items", did, &[], GUEST).await.expect(404);
    assert_eq!(count(&app, "items").await, 3);
}

#[tokio::test]
async fn a_failure_rolls_back_everything_and_sends_no_events() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(50).await;
    app.must_create_collection(public_collection(
        "sentinel",
        json!([{"name": "n", "type": "number"}]),
    ))
    .await;
    let existing = app
        .must_create_record("items", json!({"title": "keep"}))
        .await;
    let eid = existing["id"].as_str().unwrap();
    let mut sse = app.subscribed(&["items/*", "sentinel/*"], GUEST).await;

    let r = app
        .batch(
            json!([
                create("items", json!({"title": "rolled back"})),
                {"method": "PATCH", "url": format!("/api/collections/items/records/{eid}"), "body": {"title": "changed"}},
                {"method": "DELETE", "url": format!("/api/collections/items/records/{eid}")},
                create("items", json!({"qty": 1})),
                create("items", json!({"title": "never run"})),
            ]),
            &app.superuser_token,
        )
        .await;
    // The failing request's own REST error, wrapped per PocketBase.
    let rest = app
        .create_record("items", json!({"qty": 1}), &app.superuser_token)
        .await;
    rest.expect(400);
    assert_error(&r, 400, "Batch transaction failed.");
    assert_eq!(
        r.body["data"],
        json!({"requests": {"3": {"code": "batch_request_failed", "message": "Batch request failed.", "response": rest.body}}})
    );
    assert_eq!(count(&app, "items").await, 1);
    let kept = app.view_record("items", eid, &[], GUEST).await;
    assert_eq!(kept.body["title"], "keep");

    // no event for anything of the failed batch
    let s = app.must_create_record("sentinel", json!({"n": 1})).await;
    let before = sse
        .until(|e| e.record_id() == s["id"].as_str().unwrap())
        .await;
    assert!(
        before.is_empty(),
        "events of a rolled back batch: {before:?}"
    );
}

#[tokio::test]
async fn events_of_a_committed_batch_arrive_in_order() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(50).await;
    let mut sse = app.subscribed(&["items/*"], GUEST).await;
    let r = app
        .batch(
            json!([
                create("items", json!({"title": "a"})),
                create("items", json!({"title": "b"})),
            ]),
            GUEST,
        )
        .await;
    r.expect(200);
    let ids: Vec<String> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["body"]["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        let e = sse.expect_event().await;
        assert_eq!(
            (e.event.as_str(), e.action().as_str()),
            ("items/*", "create")
        );
        assert_eq!(&e.record_id(), id);
    }
    assert!(matches!(
        sse.next(Duration::from_millis(200)).await,
        SseNext::Timeout
    ));
}

#[tokio::test]
async fn requests_run_under_the_callers_rules() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(50).await;
    app.must_create_collection(
        json!({"name": "locked", "fields": [{"name": "title", "type": "text"}]}),
    )
    .await;
    let user = app.create_user("u@example.com").await;
    let r = app
        .batch(
            json!([
                create("items", json!({"title": "ok"})),
                create("locked", json!({"title": "no"}))
            ]),
            &user.token,
        )
        .await;
    let rest = app
        .create_record("locked", json!({"title": "no"}), &user.token)
        .await;
    assert_eq!(rest.status, 403);
    assert_error(&r, 400, "Batch transaction failed.");
    assert_eq!(r.body["data"]["requests"]["1"]["response"], rest.body);
    assert_eq!(count(&app, "items").await, 0);
    assert_eq!(count(&app, "locked").await, 0);
}

#[tokio::test]
async fn unsupported_actions_and_missing_collections_fail_the_batch() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(50).await;
    let r = app
        .batch(
            json!([create("items", json!({"title": "x"})), {"method": "GET", "url": "/api/collections/items/records"}]),
            &app.superuser_token,
        )
        .await;
    assert_error(&r, 400, "Batch transaction failed.");
    assert_eq!(
        r.body["data"]["requests"]["1"],
        json!({"code": "batch_request_failed", "message": "Batch request failed.",
               "response": {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}})
    );
    let r = app
        .batch(json!([create("nope", json!({}))]), &app.superuser_token)
        .await;
    // PB-COMPAT: PocketBase's batch says this (its REST create says "Missing or invalid ...").
    assert_eq!(
        r.body["data"]["requests"]["0"]["response"],
        json!({"data": {}, "message": "Missing collection context.", "status": 404})
    );
    assert_eq!(count(&app, "items").await, 0);
}

#[tokio::test]
async fn max_requests_is_enforced() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(2).await;
    let three: Vec<Value> = (0..3)
        .map(|i| create("items", json!({"title": format!("t{i}")})))
        .collect();
    let r = app.batch(json!(three), &app.superuser_token).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["data"]["requests"]["code"],
        "validation_length_too_long"
    );
    assert_eq!(count(&app, "items").await, 0);
    let r = app.batch(json!(three[..2]), &app.superuser_token).await;
    r.expect(200);
    let r = app.batch(json!([]), &app.superuser_token).await;
    assert_eq!(r.body["data"]["requests"]["code"], "validation_required");
}

#[tokio::test]
async fn max_body_size_is_enforced() {
    let app = spawn_app().await;
    items(&app).await;
    app.update_settings(
        json!({"batch": {"enabled": true, "maxRequests": 50, "maxBodySize": 300}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let big = app
        .batch(
            json!([create("items", json!({"title": "x".repeat(400)}))]),
            &app.superuser_token,
        )
        .await;
    assert_error(&big, 413, "Request entity too large.");
    let small = app
        .batch(
            json!([create("items", json!({"title": "x"}))]),
            &app.superuser_token,
        )
        .await;
    small.expect(200);
    assert_eq!(count(&app, "items").await, 1);
}

/// The writer is held (SQLite: its one connection; PostgreSQL: a lock on the table) from
/// before the batch is sent until 3 s after: the batch cannot be done within its 1 s timeout,
/// however fast the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_past_its_timeout_is_rolled_back() {
    let app = spawn_app().await;
    items(&app).await;
    app.update_settings(
        json!({"batch": {"enabled": true, "maxRequests": 10, "timeout": 1}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (db, postgres) = (app.core.db().clone(), app.on_postgres());
    let holder = tokio::spawn(async move {
        db.write(move |conn| {
            if postgres {
                conn.execute(&oxbase_sql::Sql::raw(
                    "LOCK TABLE \"items\" IN ACCESS EXCLUSIVE MODE",
                ))?;
            }
            let _ = held_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(20));
            Ok(())
        })
        .await
    });
    held_rx.await.expect("the writer is held");
    let requests: Vec<Value> = (0..3)
        .map(|i| create("items", json!({"title": format!("late {i}")})))
        .collect();
    let sent = tokio::time::Instant::now();
    let batch = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/batch"),
            app.superuser_token.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .header("Authorization", token)
                .json(&json!({ "requests": requests }))
                .send()
                .await
                .expect("batch")
        })
    };
    tokio::time::sleep_until(sent + Duration::from_secs(3)).await;
    release_tx.send(()).expect("release");
    holder.await.expect("holder").expect("the held write");
    let r = batch.await.expect("batch task");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        json!({"status": 400, "message": "Batch transaction failed.", "data": {}})
    );
    assert_eq!(count(&app, "items").await, 0);
}

#[tokio::test]
async fn multipart_with_json_payload() {
    let app = spawn_app().await;
    items(&app).await;
    app.enable_batch(50).await;
    let payload =
        json!({"requests": [create("items", json!({"title": "from form", "qty": 3}))]}).to_string();
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n{payload}\r\n--{boundary}--\r\n"
    );
    let r = app
        .raw(
            Method::POST,
            "/api/batch",
            &app.superuser_token,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await;
    r.expect(200);
    assert_eq!(r.body[0]["status"], 200);
    assert_eq!(r.body[0]["body"]["title"], "from form");
    assert_eq!(r.body[0]["body"]["qty"], 3);
}
