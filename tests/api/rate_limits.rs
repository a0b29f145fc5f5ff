//! The `rateLimits` settings: off by default; when on, the most specific rule counts each
//! client's requests and answers 429 in the standard body once spent.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

async fn set_limits(app: &TestApp, limits: Value) {
    app.update_settings(json!({"rateLimits": limits}), &app.superuser_token)
        .await
        .expect(200);
}

async fn login_statuses(app: &TestApp, coll: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            app.auth_with_password(coll, "nobody@example.com", "wrong-password")
                .await
                .status,
        );
    }
    out
}

#[tokio::test]
async fn rate_limits_are_off_by_default() {
    let app = spawn_app().await;
    assert_eq!(login_statuses(&app, "users", 6).await, [400; 6]);
}

#[tokio::test]
async fn a_spent_auth_rule_answers_429_in_the_standard_body() {
    let app = spawn_app().await;
    set_limits(&app, json!({"enabled": true, "rules": [{"label": "*:auth", "maxRequests": 2, "duration": 60}, {"label": "/api/", "maxRequests": 1000, "duration": 60}]})).await;
    assert_eq!(login_statuses(&app, "users", 3).await, [400, 400, 429]);
    let r = app
        .auth_with_password("users", "nobody@example.com", "wrong-password")
        .await;
    assert_error(&r, 429, "Too Many Requests.");
    assert_eq!(
        r.body,
        json!({"status": 429, "message": "Too Many Requests.", "data": {}})
    );
    // The same rule covers every collection's auth endpoints; other endpoints fall to `/api/`.
    assert_eq!(login_statuses(&app, "_superusers", 1).await, [429]);
    app.health().await.expect(200);
    app.auth_methods("users").await.expect(200);
}

#[tokio::test]
async fn a_collection_rule_beats_the_wildcard_and_path_rules() {
    let app = spawn_app().await;
    set_limits(&app, json!({"enabled": true, "rules": [{"label": "*:auth", "maxRequests": 1, "duration": 60}, {"label": "users:auth", "maxRequests": 3, "duration": 60}]})).await;
    assert_eq!(login_statuses(&app, "users", 4).await, [400, 400, 400, 429]);
    assert_eq!(login_statuses(&app, "_superusers", 2).await, [400, 429]);
}

#[tokio::test]
async fn a_window_ends_after_its_duration() {
    let app = spawn_app().await;
    set_limits(&app, json!({"enabled": true, "rules": [{"label": "/api/health", "maxRequests": 2, "duration": 60}]})).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.health().await.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    // The app's clock, not the wall clock: the window ends exactly when it says.
    app.core.clock().advance(Duration::from_secs(59));
    app.health().await.expect(429);
    app.core.clock().advance(Duration::from_secs(1));
    app.health().await.expect(200);
    app.health().await.expect(200);
    app.health().await.expect(429);
}

#[tokio::test]
async fn audiences_excluded_ips_and_disabling_lift_limits() {
    let app = spawn_app().await;
    set_limits(&app, json!({"enabled": true, "rules": [{"label": "/api/health", "maxRequests": 1, "duration": 60, "audience": "@guest"}]})).await;
    app.health().await.expect(200);
    app.health().await.expect(429);
    for _ in 0..3 {
        let r = app.get("/api/health", &app.superuser_token).await;
        r.expect(200);
    }
    set_limits(&app, json!({"excludedIPs": ["127.0.0.1"]})).await;
    app.health().await.expect(200);
    set_limits(&app, json!({"excludedIPs": [], "enabled": false})).await;
    app.health().await.expect(200);
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_counted_by_their_forwarded_ip() {
    let app = spawn_app().await;
    app.update_settings(
        json!({"trustedProxy": {"headers": ["X-Forwarded-For"], "useLeftmostIP": true}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    set_limits(&app, json!({"enabled": true, "rules": [{"label": "/api/health", "maxRequests": 1, "duration": 60}]})).await;
    let from = |ip: &'static str| {
        app.client
            .get(app.url("/api/health"))
            .header("X-Forwarded-For", format!("{ip}, 10.0.0.1"))
            .send()
    };
    assert_eq!(
        from("203.0.113.1").await.map(|r| r.status().as_u16()).ok(),
        Some(200)
    );
    assert_eq!(
        from("203.0.113.1").await.map(|r| r.status().as_u16()).ok(),
        Some(429)
    );
    assert_eq!(
        from("203.0.113.2").await.map(|r| r.status().as_u16()).ok(),
        Some(200)
    );
}

#[tokio::test]
async fn invalid_rules_are_refused_with_field_errors() {
    let app = spawn_app().await;
    let r = app
        .update_settings(json!({"rateLimits": {"rules": [{"label": "bad label", "maxRequests": 0, "duration": 0, "audience": "x"}]}}), &app.superuser_token)
        .await;
    r.expect(400);
    let rule = &r.body["data"]["rateLimits"]["rules"]["0"];
    assert_eq!(rule["label"]["code"], "validation_match_invalid");
    assert_eq!(rule["maxRequests"]["code"], "validation_required");
    assert_eq!(rule["duration"]["code"], "validation_required");
    assert_eq!(rule["audience"]["code"], "validation_in_invalid");
}

/// HEAD responses carry no body, also those the layers around the routes make (the limiter's
/// 429 here), and also over HTTP/2, where no lower layer leaves the body out.
#[tokio::test]
async fn a_refused_head_request_gets_no_body_over_http2() {
    let app = spawn_app().await;
    set_limits(&app, json!({"enabled": true, "rules": [{"label": "/api/health", "maxRequests": 1, "duration": 60}]})).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let r = client
            .head(app.url("/api/health"))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        statuses.push(r.status().as_u16());
        let body = r.bytes().await.expect("body");
        assert!(body.is_empty(), "HEAD body: {body:?}");
    }
    assert_eq!(statuses, [200, 429]);
}
