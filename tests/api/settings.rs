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

/// Errors as PocketBase 0.40.6 answers the same requests.
#[tokio::test]
async fn blank_rate_limit_rules_and_negative_log_days_give_400_with_nested_errors() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    let blank = json!({"code": "validation_required", "message": "Cannot be blank."});
    let at_least = |n: i64| json!({"code": "validation_min_greater_equal_than_required", "message": format!("Must be no less than {n}."), "params": {"threshold": n}});
    let r = app
        .update_settings(
            json!({
                "rateLimits": {"rules": [{"label": "", "maxRequests": 0, "duration": 0}]},
                "logs": {"maxDays": -1},
            }),
            su,
        )
        .await;
    assert_error(&r, 400, "An error occurred while saving the new settings.");
    assert_eq!(
        r.body["data"],
        json!({
            "logs": {"maxDays": at_least(0)},
            "rateLimits": {"rules": {"0": {"label": blank, "maxRequests": blank, "duration": blank}}},
        })
    );
    let r = app
        .update_settings(
            json!({"rateLimits": {"rules": [{"label": "bad label!", "maxRequests": -1, "duration": -2, "audience": "x"}]}}),
            su,
        )
        .await;
    assert_error(&r, 400, "An error occurred while saving the new settings.");
    assert_eq!(
        r.body["data"]["rateLimits"]["rules"]["0"],
        json!({
            "audience": {"code": "validation_in_invalid", "message": "Must be a valid value."},
            "duration": at_least(1),
            "label": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
            "maxRequests": at_least(1),
        })
    );
    let r = app
        .update_settings(json!({"rateLimits": {"enabled": true, "rules": []}}), su)
        .await;
    assert_eq!(
        r.body["data"],
        json!({"rateLimits": {"rules": blank}}),
        "{}",
        r.text
    );
    let unchanged = app.get_settings(su).await.body;
    assert_eq!(unchanged["logs"]["maxDays"], 5);
    assert_eq!(unchanged["rateLimits"]["rules"][0]["label"], "*:auth");
}

#[tokio::test]
async fn conflicting_or_mistyped_rate_limit_rules_are_refused() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    let rule = |label: &str, audience: &str| json!({"label": label, "audience": audience, "maxRequests": 1, "duration": 1});
    let r = app
        .update_settings(json!({"rateLimits": {"rules": [rule("a", ""), rule("b", ""), rule("a", "@guest"), rule("b", "")]}}), su)
        .await;
    assert_error(&r, 400, "An error occurred while saving the new settings.");
    assert_eq!(
        r.body["data"],
        json!({"rateLimits": {"rules": {"2": {"label": {
            "code": "validation_conflicting_rate_limit_rule",
            "message": "Rate limit rule configuration with label a already exists or conflicts with another rule.",
            "params": {"label": "a"},
        }}}}})
    );
    let r = app
        .update_settings(
            json!({"rateLimits": {"rules": [{"label": "abc", "maxRequests": 1.5, "duration": 1}]}}),
            su,
        )
        .await;
    assert_error(
        &r,
        400,
        "An error occurred while loading the submitted data.",
    );
    assert_eq!(r.body["data"], json!({}));
    app.update_settings(
        json!({"rateLimits": {"rules": [rule("GET /api/x", "@guest"), rule("users:auth", "@auth"), rule("*:create", ""), rule("a", "@auth"), rule("a", "@guest")]}}),
        su,
    )
    .await
    .expect(200);
}
