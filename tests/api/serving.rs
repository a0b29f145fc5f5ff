//! How connections are served (`oxbase_api::serve`): many keep-alive connections at once over
//! the event loops, a refused oversized body that never breaks the client's pipe, and a
//! graceful stop with connections still open.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{public_collection, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_keep_alive_connections_are_served_at_once_and_each_many_times() {
    let app = spawn_app().await;
    app.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}]),
    ))
    .await;
    // More clients than event loops, each on its own connection, each writing and reading.
    let clients = (0..16).map(|c| {
        let client = reqwest::Client::new();
        let url = app.url("/api/collections/notes/records");
        tokio::spawn(async move {
            for n in 0..20 {
                let created = client
                    .post(&url)
                    .json(&json!({"title": format!("{c}-{n}")}))
                    .send()
                    .await
                    .expect("served");
                assert_eq!(created.status(), 200);
                let id = created.json::<serde_json::Value>().await.expect("json")["id"]
                    .as_str()
                    .expect("id")
                    .to_owned();
                let viewed = client
                    .get(format!("{url}/{id}"))
                    .send()
                    .await
                    .expect("served");
                assert_eq!(viewed.status(), 200);
            }
        })
    });
    for client in futures_util::future::join_all(clients).await {
        client.expect("client task");
    }
    let list = app
        .list_records("notes", &[("perPage", "1")], &app.superuser_token)
        .await;
    assert_eq!(list.body["totalItems"], 16 * 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_oversized_body_is_answered_and_closes_its_connection() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    // The server answers long before the 33 MiB are sent: the client, still writing, must get
    // the 413 (not a broken pipe), told not to reuse the connection.
    for _ in 0..3 {
        let r = client
            .request(Method::PATCH, app.url("/api/settings"))
            .header("authorization", &app.superuser_token)
            .header("content-type", "application/json")
            .body(format!("{{\"meta\": \"{}\"}}", "x".repeat(33 << 20)))
            .send()
            .await
            .expect("the 413 arrives");
        assert_eq!(r.status(), 413);
        assert_eq!(r.headers()["connection"], "close");
        // The same client goes on with a new connection.
        let health = client
            .get(app.url("/api/health"))
            .send()
            .await
            .expect("served");
        assert_eq!(health.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_closes_idle_keep_alive_connections_promptly() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let r = client
            .get(app.url("/api/health"))
            .send()
            .await
            .expect("served");
        assert_eq!(r.status(), 200);
    }
    // The client keeps its connection open in its pool; the stop must not wait for it.
    let started = Instant::now();
    let _ = app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        started.elapsed()
    );
    drop(client);
}
