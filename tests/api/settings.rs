//! `/api/settings`: superuser-only, secrets never returned, validated partial updates.

use serde_json::json;

use crate::helpers::{GUEST, assert_error, spawn_app};

#[tokio::test]
async fn settings_have_the_pocketbase_sections_and_meta_defaults() {
    let app = spawn_app().await;
    let s = app.get_settings(&app.superuser_token).await;
    s.expect(200);
    for key in [
        "meta",
        "smtp",
        "s3",
        "backups",
        "batch",
        "rateLimits",
        "trustedProxy",
        "logs",
    ] {
        assert!(s.body.get(key).is_some(), "missing section {key}");
    }
    assert_eq!(s.body["meta"]["appName"], "Acme");
    assert_eq!(s.body["meta"]["appURL"], "http://localhost:8090");
    assert_eq!(s.body["meta"]["senderName"], "Support");
    assert_eq!(s.body["meta"]["senderAddress"], "support@example.com");
    assert_eq!(s.body["meta"]["hideControls"], false);
}

#[tokio::test]
async fn secrets_are_never_returned() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    let r = app
        .update_settings(
            json!({"smtp": {"password": "smtp-secret"}, "s3": {"secret": "s3-secret"}}),
            su,
        )
        .await;
    r.expect(200);
    for body in [&r.body, &app.get_settings(su).await.body] {
        assert!(body["smtp"].get("password").is_none(), "{body}");
        assert!(body["s3"].get("secret").is_none());
        assert!(body["backups"]["s3"].get("secret").is_none());
        assert!(!body.to_string().contains("smtp-secret"));
    }
}

#[tokio::test]
async fn a_partial_update_changes_only_what_was_sent_and_persists() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    let before = app.get_settings(su).await.body;
    let r = app
        .update_settings(json!({"meta": {"appName": "x"}}), su)
        .await;
    r.expect(200);
    assert_eq!(r.body["meta"]["appName"], "x");
    assert_eq!(r.body["meta"]["appURL"], before["meta"]["appURL"]);
    let after = app.get_settings(su).await.body;
    assert_eq!(after["meta"]["appName"], "x");
    assert_eq!(after["smtp"], before["smtp"]);
    assert_eq!(after["logs"], before["logs"]);
    assert_eq!(after["batch"], before["batch"]);
}

#[tokio::test]
async fn invalid_settings_give_400_with_nested_field_errors_and_change_nothing() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    let r = app
        .update_settings(json!({"meta": {"appName": ""}}), su)
        .await;
    r.expect(400);
    assert_eq!(
        r.body["data"],
        json!({"meta": {"appName": {"code": "validation_required", "message": "Cannot be blank."}}})
    );
    let r = app
        .update_settings(json!({"meta": {"appURL": "not a url"}}), su)
        .await;
    r.expect(400);
    assert_eq!(
        r.body["data"]["meta"]["appURL"]["code"],
        "validation_is_url"
    );
    assert_eq!(app.get_settings(su).await.body["meta"]["appName"], "Acme");
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let app = spawn_app().await;
    app.update_settings(
        json!({"meta": {"appName": "Persisted"}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let dir = app.stop().await.expect("temp dir");
    let again = crate::helpers::spawn_app_at(dir.path()).await;
    assert_eq!(
        again.get_settings(&again.superuser_token).await.body["meta"]["appName"],
        "Persisted"
    );
    again.stop().await;
}

#[tokio::test]
async fn guests_get_401_and_users_get_403_on_settings() {
    let app = spawn_app().await;
    let user = app.create_user("reader@example.com").await;
    let g = "The request requires valid record authorization token.";
    let u = "The authorized record is not allowed to perform this action.";
    assert_error(&app.get_settings(GUEST).await, 401, g);
    assert_error(
        &app.update_settings(json!({"meta": {"appName": "hack"}}), GUEST)
            .await,
        401,
        g,
    );
    assert_error(&app.get_settings(&user.token).await, 403, u);
    assert_error(
        &app.update_settings(json!({"meta": {"appName": "hack"}}), &user.token)
            .await,
        403,
        u,
    );
    assert_eq!(
        app.get_settings(&app.superuser_token).await.body["meta"]["appName"],
        "Acme"
    );
}
