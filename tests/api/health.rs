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
