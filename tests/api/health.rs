//! `GET /api/health` and the routes around it.

use crate::helpers::{GUEST, assert_error, spawn_app};

#[tokio::test]
async fn health_answers_200_with_code_message_and_data() {
    let app = spawn_app().await;
    let r = app.health().await;
    r.expect(200);
    assert_eq!(r.body["code"], 200);
    assert_eq!(r.body["message"], "API is healthy.");
    assert!(r.body["data"].is_object());
}

#[tokio::test]
async fn health_answers_head_requests() {
    let app = spawn_app().await;
    let r = app
        .client
        .head(app.url("/api/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn an_unknown_api_route_gives_404_file_not_found_in_the_standard_body() {
    let app = spawn_app().await;
    let r = app.get("/api/definitely-not-a-route", GUEST).await;
    assert_error(&r, 404, "File not found.");
    assert_eq!(r.body["data"], serde_json::json!({}));
    let r = app.get("/api/a/b/c", &app.superuser_token).await;
    assert_error(&r, 404, "File not found.");
}

#[tokio::test]
async fn superusers_learn_their_ip_and_a_possible_proxy_header() {
    let app = spawn_app().await;
    let guest = app.health().await;
    assert_eq!(guest.body["data"], serde_json::json!({}));
    let su = app.get("/api/health", &app.superuser_token).await;
    su.expect(200);
    assert_eq!(su.body["data"]["realIP"], "127.0.0.1");
    assert_eq!(su.body["data"]["possibleProxyHeader"], "");
    assert_eq!(su.body["data"]["canBackup"], true, "no backup is running");
    let proxied = app
        .client
        .get(app.url("/api/health"))
        .header("Authorization", &app.superuser_token)
        .header("CF-Connecting-IP", "203.0.113.9")
        .send()
        .await
        .expect("request");
    let body: serde_json::Value = proxied.json().await.expect("json");
    assert_eq!(body["data"]["possibleProxyHeader"], "CF-Connecting-IP");
    // Not trusted: the IP stays the peer's.
    assert_eq!(body["data"]["realIP"], "127.0.0.1");
}

#[tokio::test]
async fn readiness_fails_while_the_database_does_not_answer_and_liveness_does_not() {
    let app = spawn_app().await;
    let ready = app.get("/api/health?ready=1", "").await;
    ready.expect(200);
    assert_eq!(ready.body["message"], "API is healthy.");
    app.get("/api/health?ready=0", "").await.expect(200);
    app.core.db().close().await;
    let down = app.get("/api/health?ready=1", "").await;
    crate::helpers::assert_error(&down, 503, "The database is not available.");
    app.get("/api/health", "").await.expect(200);
    app.get("/api/health?ready=false", "").await.expect(200);
}

#[tokio::test]
async fn readiness_checks_the_bus_between_instances() {
    for bus in ["redis://127.0.0.1:6379", "nats://127.0.0.1:4222"] {
        let Some(app) = crate::helpers::spawn_app_with_pubsub(bus).await else {
            return; // SQLite: no bus.
        };
        app.get("/api/health?ready=1", "").await.expect(200);
    }
}
