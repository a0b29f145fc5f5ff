//! The email flows end to end, with mail delivered over real SMTP to `SmtpSink`:
//! verification, password reset, email change, the test email, and the guarantees around
//! them (no account enumeration, tokens of one kind never pass for another, expiry, a new
//! password or email ends older sessions).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, USER_PASSWORD, assert_error, field_code, spawn_app};
use crate::smtp_sink::SmtpSink;

const FORM_ERROR: &str = "An error occurred while validating the submitted data.";

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> crate::helpers::Resp {
    app.request(Method::POST, path, token, Some(&body)).await
}

/// An app whose SMTP settings point at a fresh sink.
async fn app_with_mail() -> (TestApp, SmtpSink) {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    sink.configure(&app).await;
    (app, sink)
}

async fn is_authenticated(app: &TestApp, token: &str) -> bool {
    app.auth_refresh("users", token).await.status == 200
}

async fn user_record(app: &TestApp, id: &str) -> Value {
    let r = app
        .view_record("users", id, &[], &app.superuser_token)
        .await;
    r.expect(200);
    r.body
}

/// The core's copy of a user, for forging tokens with the right keys.
async fn core_record(app: &TestApp, token: &str) -> oxbase_core::records::Record {
    app.core
        .auth()
        .authenticate(token)
        .await
        .record()
        .cloned()
        .expect("the token authenticates")
}

#[tokio::test]
async fn request_verification_mails_a_link_whose_token_verifies_the_account() {
    let (app, sink) = app_with_mail().await;
    let user = app.create_user("u1@example.com").await;
    assert_eq!(user_record(&app, &user.id).await["verified"], false);
    let r = post(
        &app,
        "/api/collections/users/request-verification",
        GUEST,
        json!({"email": "u1@example.com"}),
    )
    .await;
    r.expect(204);
    let mail = sink.mail_to("u1@example.com").await;
    assert_eq!(mail.subject(), "Verify your Acme email");
    assert!(mail.from.contains("support@example.com"), "{}", mail.from);
    assert!(
        mail.raw.contains("From: Support <support@example.com>"),
        "{}",
        mail.raw
    );
    let token = mail.token_after("confirm-verification");
    let r = post(
        &app,
        "/api/collections/users/confirm-verification",
        GUEST,
        json!({"token": token}),
    )
    .await;
    r.expect(204);
    assert_eq!(user_record(&app, &user.id).await["verified"], true);
    // Already verified: nothing more to do, and no new mail is sent.
    post(
        &app,
        "/api/collections/users/confirm-verification",
        GUEST,
        json!({"token": token}),
    )
    .await
    .expect(204);
    post(
        &app,
        "/api/collections/users/request-verification",
        GUEST,
        json!({"email": "u1@example.com"}),
    )
    .await
    .expect(204);
    sink.assert_no_mail_to("u1@example.com", Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn request_endpoints_answer_204_for_unknown_addresses_and_send_nothing() {
    let (app, sink) = app_with_mail().await;
    for path in ["request-verification", "request-password-reset"] {
        let r = post(
            &app,
            &format!("/api/collections/users/{path}"),
            GUEST,
            json!({"email": "nobody@example.com"}),
        )
        .await;
        r.expect(204);
        let r = post(
            &app,
            &format!("/api/collections/users/{path}"),
            GUEST,
            json!({}),
        )
        .await;
        assert_error(&r, 400, FORM_ERROR);
        assert_eq!(field_code(&r, "email"), "validation_required");
        let r = post(
            &app,
            &format!("/api/collections/users/{path}"),
            GUEST,
            json!({"email": "nope"}),
        )
        .await;
        assert_eq!(field_code(&r, "email"), "validation_is_email");
        let r = post(
            &app,
            &format!("/api/collections/missing/{path}"),
            GUEST,
            json!({"email": "a@example.com"}),
        )
        .await;
        assert_error(&r, 404, "Missing or invalid collection context.");
    }
    sink.assert_no_mail_to("nobody@example.com", Duration::from_millis(500))
        .await;
    let r = post(
        &app,
        "/api/collections/_superusers/request-verification",
        GUEST,
        json!({"email": "admin@example.com"}),
    )
    .await;
    assert_error(&r, 400, "All superusers are verified by default.");
}

#[tokio::test]
async fn password_reset_sets_the_new_password_verifies_and_ends_every_older_session() {
    let (app, sink) = app_with_mail().await;
    let user = app.create_user("u1@example.com").await;
    post(
        &app,
        "/api/collections/users/request-password-reset",
        GUEST,
        json!({"email": "u1@example.com"}),
    )
    .await
    .expect(204);
    let mail = sink.mail_to("u1@example.com").await;
    assert_eq!(mail.subject(), "Reset your Acme password");
    let token = mail.token_after("confirm-password-reset");
    let body = json!({"token": token, "password": "brand-new-1", "passwordConfirm": "brand-new-1"});
    post(
        &app,
        "/api/collections/users/confirm-password-reset",
        GUEST,
        body.clone(),
    )
    .await
    .expect(204);
    assert!(
        !is_authenticated(&app, &user.token).await,
        "the token from before the reset must stop working"
    );
    app.auth_with_password("users", "u1@example.com", USER_PASSWORD)
        .await
        .expect(400);
    let login = app
        .auth_with_password("users", "u1@example.com", "brand-new-1")
        .await;
    login.expect(200);
    assert_eq!(
        login.body["record"]["verified"], true,
        "the link came by mail: the address is verified"
    );
    // The reset token was signed with the old token key: it cannot be used twice.
    let r = post(
        &app,
        "/api/collections/users/confirm-password-reset",
        GUEST,
        body,
    )
    .await;
    assert_eq!(field_code(&r, "token"), "validation_invalid_token");
}

#[tokio::test]
async fn confirm_password_reset_reports_every_invalid_field() {
    let app = spawn_app().await;
    let r = post(
        &app,
        "/api/collections/users/confirm-password-reset",
        GUEST,
        json!({}),
    )
    .await;
    assert_error(&r, 400, FORM_ERROR);
    for f in ["token", "password", "passwordConfirm"] {
        assert_eq!(field_code(&r, f), "validation_required", "{f}: {}", r.text);
    }
    let r = post(
        &app,
        "/api/collections/users/confirm-password-reset",
        GUEST,
        json!({"token": "abc", "password": "short", "passwordConfirm": "other"}),
    )
    .await;
    assert_eq!(field_code(&r, "token"), "validation_invalid_token");
    // PocketBase's form checks the length first (the field's min, at most 255).
    assert_eq!(field_code(&r, "password"), "validation_length_out_of_range");
    assert_eq!(
        r.body["data"]["password"]["params"],
        json!({"min": 8, "max": 255})
    );
    assert_eq!(
        field_code(&r, "passwordConfirm"),
        "validation_values_mismatch"
    );
}

#[tokio::test]
async fn email_change_needs_the_mailed_token_and_the_password_and_ends_older_sessions() {
    let (app, sink) = app_with_mail().await;
    let user = app.create_user("u1@example.com").await;
    post(
        &app,
        "/api/collections/users/request-email-change",
        &user.token,
        json!({"newEmail": "new@example.com"}),
    )
    .await
    .expect(204);
    let mail = sink.mail_to("new@example.com").await;
    assert_eq!(mail.subject(), "Confirm your Acme new email address");
    let token = mail.token_after("confirm-email-change");
    let r = post(
        &app,
        "/api/collections/users/confirm-email-change",
        GUEST,
        json!({"token": token, "password": "wrong-password"}),
    )
    .await;
    assert_error(&r, 400, FORM_ERROR);
    assert_eq!(field_code(&r, "password"), "validation_invalid_password");
    assert_eq!(user_record(&app, &user.id).await["email"], "u1@example.com");
    post(
        &app,
        "/api/collections/users/confirm-email-change",
        GUEST,
        json!({"token": token, "password": USER_PASSWORD}),
    )
    .await
    .expect(204);
    let record = user_record(&app, &user.id).await;
    assert_eq!(record["email"], "new@example.com");
    assert_eq!(record["verified"], true);
    assert!(
        !is_authenticated(&app, &user.token).await,
        "sessions of the old address end"
    );
    app.auth_with_password("users", "u1@example.com", USER_PASSWORD)
        .await
        .expect(400);
    app.auth_with_password("users", "new@example.com", USER_PASSWORD)
        .await
        .expect(200);
    // The token names the old address, which the record no longer has.
    let r = post(
        &app,
        "/api/collections/users/confirm-email-change",
        GUEST,
        json!({"token": token, "password": USER_PASSWORD}),
    )
    .await;
    assert_eq!(field_code(&r, "token"), "validation_invalid_token");
}

#[tokio::test]
async fn request_email_change_is_for_the_authenticated_record_of_that_collection() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    app.create_user("taken@example.com").await;
    let path = "/api/collections/users/request-email-change";
    assert_error(
        &post(&app, path, GUEST, json!({"newEmail": "n@example.com"})).await,
        401,
        "The request requires valid record authorization token.",
    );
    assert_error(
        &post(
            &app,
            path,
            &app.superuser_token,
            json!({"newEmail": "n@example.com"}),
        )
        .await,
        403,
        // PocketBase names the caller's collection.
        "The request requires auth record from _superusers collection.",
    );
    let cases = [
        (json!({}), "validation_required"),
        (json!({"newEmail": "bad"}), "validation_is_email"),
        (
            json!({"newEmail": "u1@example.com"}),
            "validation_not_in_invalid",
        ),
        (
            json!({"newEmail": "taken@example.com"}),
            "validation_invalid_new_email",
        ),
    ];
    for (body, code) in cases {
        let r = post(&app, path, &user.token, body).await;
        assert_error(&r, 400, FORM_ERROR);
        assert_eq!(field_code(&r, "newEmail"), code);
    }
}

#[tokio::test]
async fn a_token_of_one_kind_never_passes_for_another() {
    let (app, sink) = app_with_mail().await;
    let user = app.create_user("u1@example.com").await;
    post(
        &app,
        "/api/collections/users/request-verification",
        GUEST,
        json!({"email": "u1@example.com"}),
    )
    .await
    .expect(204);
    let verification = sink
        .mail_to("u1@example.com")
        .await
        .token_after("confirm-verification");
    post(
        &app,
        "/api/collections/users/request-password-reset",
        GUEST,
        json!({"email": "u1@example.com"}),
    )
    .await
    .expect(204);
    let reset = sink
        .mail_to("u1@example.com")
        .await
        .token_after("confirm-password-reset");
    assert!(
        !is_authenticated(&app, &verification).await,
        "a verification token is not an auth token"
    );
    assert!(
        !is_authenticated(&app, &reset).await,
        "a reset token is not an auth token"
    );
    let pw =
        |t: &str| json!({"token": t, "password": "brand-new-1", "passwordConfirm": "brand-new-1"});
    for t in [&verification, &user.token] {
        let r = post(
            &app,
            "/api/collections/users/confirm-password-reset",
            GUEST,
            pw(t),
        )
        .await;
        assert_eq!(field_code(&r, "token"), "validation_invalid_token", "{t}");
    }
    for t in [&reset, &user.token] {
        let r = post(
            &app,
            "/api/collections/users/confirm-verification",
            GUEST,
            json!({"token": t}),
        )
        .await;
        r.expect(400);
        assert_eq!(user_record(&app, &user.id).await["verified"], false);
    }
    // The superuser collection's tokens are not the users collection's.
    let r = post(
        &app,
        "/api/collections/_superusers/confirm-verification",
        GUEST,
        json!({"token": verification}),
    )
    .await;
    assert_eq!(field_code(&r, "token"), "validation_invalid_token");
}

#[tokio::test]
async fn expired_tampered_and_unsigned_flow_tokens_are_rejected() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    let record = core_record(&app, &user.token).await;
    use oxbase_core::auth::tokens::{Claims, TokenKind, issue_at};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let claims = || Claims {
        email: "u1@example.com".into(),
        ..Claims::default()
    };
    let expired =
        issue_at(&record, TokenKind::Verification, claims(), 60, now - 61).expect("token");
    let valid = issue_at(&record, TokenKind::Verification, claims(), 60, now).expect("token");
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    let bad_signature = parts.join(".");
    let unsigned = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        valid.split('.').nth(1).unwrap_or("")
    );
    for t in [&expired, &bad_signature, &unsigned] {
        let r = post(
            &app,
            "/api/collections/users/confirm-verification",
            GUEST,
            json!({"token": t}),
        )
        .await;
        assert_eq!(field_code(&r, "token"), "validation_invalid_token", "{t}");
    }
    assert_eq!(user_record(&app, &user.id).await["verified"], false);
    post(
        &app,
        "/api/collections/users/confirm-verification",
        GUEST,
        json!({"token": valid}),
    )
    .await
    .expect(204);
    assert_eq!(user_record(&app, &user.id).await["verified"], true);
}

#[tokio::test]
async fn a_deleted_user_s_flow_tokens_are_rejected() {
    let (app, sink) = app_with_mail().await;
    let user = app.create_user("u1@example.com").await;
    post(
        &app,
        "/api/collections/users/request-password-reset",
        GUEST,
        json!({"email": "u1@example.com"}),
    )
    .await
    .expect(204);
    let reset = sink
        .mail_to("u1@example.com")
        .await
        .token_after("confirm-password-reset");
    app.delete_record("users", &user.id, &app.superuser_token)
        .await
        .expect(204);
    let r = post(
        &app,
        "/api/collections/users/confirm-password-reset",
        GUEST,
        json!({"token": reset, "password": "brand-new-1", "passwordConfirm": "brand-new-1"}),
    )
    .await;
    assert_eq!(field_code(&r, "token"), "validation_invalid_token");
}

#[tokio::test]
async fn the_test_email_sends_a_template_through_smtp_and_reports_smtp_failures() {
    let (app, sink) = app_with_mail().await;
    let path = "/api/settings/test/email";
    post(
        &app,
        path,
        &app.superuser_token,
        json!({"email": "t@example.com", "template": "password-reset", "collection": "users"}),
    )
    .await
    .expect(204);
    assert_eq!(
        sink.mail_to("t@example.com").await.subject(),
        "Reset your Acme password"
    );
    app.update_settings(
        json!({"meta": {"senderName": "Acme, Inc."}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    post(
        &app,
        path,
        &app.superuser_token,
        json!({"email": "t@example.com", "template": "otp"}),
    )
    .await
    .expect(204);
    let otp = sink.mail_to("t@example.com").await;
    assert_eq!(otp.subject(), "OTP for Acme");
    // A name with a comma is sent as an RFC 2047 encoded word, never as two addresses.
    let from = otp
        .raw
        .lines()
        .find_map(|l| l.strip_prefix("From: "))
        .unwrap_or("");
    let encoded = from
        .strip_prefix("=?utf-8?b?")
        .and_then(|r| r.split_once("?= <support@example.com>"))
        .map(|(b64, _)| b64)
        .unwrap_or("");
    assert_eq!(
        String::from_utf8_lossy(&crate::helpers::base64_decode(encoded)),
        "Acme, Inc.",
        "{from}"
    );
    assert_error(
        &post(
            &app,
            path,
            GUEST,
            json!({"email": "t@example.com", "template": "otp"}),
        )
        .await,
        401,
        "The request requires valid record authorization token.",
    );
    let r = post(
        &app,
        path,
        &app.superuser_token,
        json!({"email": "x", "template": "nope"}),
    )
    .await;
    assert_error(&r, 400, "Failed to send the test email.");
    assert_eq!(field_code(&r, "email"), "validation_is_email");
    assert_eq!(field_code(&r, "template"), "validation_in_invalid");
    // A server that refuses SMTP (held for the whole test, so no other can take its port):
    // the SMTP error comes back to the superuser.
    let refusing = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let refused = refusing.local_addr().expect("addr").port();
    let _refuser = tokio::spawn(async move {
        while let Ok((mut stream, _)) = refusing.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = stream.write_all(b"554 no SMTP service here\r\n").await;
        }
    });
    app.update_settings(json!({"smtp": {"port": refused}}), &app.superuser_token)
        .await
        .expect(200);
    let r = post(
        &app,
        path,
        &app.superuser_token,
        json!({"email": "t@example.com", "template": "verification"}),
    )
    .await;
    r.expect(400);
    assert!(
        r.str("message")
            .starts_with("Failed to send the test email. Raw error:"),
        "{}",
        r.text
    );
    // SMTP off: the mail is logged instead, and the request succeeds.
    app.update_settings(json!({"smtp": {"enabled": false}}), &app.superuser_token)
        .await
        .expect(200);
    post(
        &app,
        path,
        &app.superuser_token,
        json!({"email": "t@example.com", "template": "verification"}),
    )
    .await
    .expect(204);
}

/// The `mail` jobs of the queue: (attempts, lastError) of each.
async fn mail_jobs(app: &TestApp) -> Vec<(i64, String)> {
    app.core
        .db()
        .read(|conn| {
            let rows = conn.query(&oxbase_sql::Sql::raw(
                "SELECT \"attempts\", \"lastError\" FROM \"_jobs\" WHERE \"kind\" = 'mail'",
            ))?;
            Ok(rows
                .rows
                .iter()
                .map(|r| match (&r[0], &r[1]) {
                    (oxbase_sql::Value::Int(n), oxbase_sql::Value::Text(e)) => (*n, e.clone()),
                    _ => (-1, String::new()),
                })
                .collect())
        })
        .await
        .expect("the queue")
}

#[tokio::test]
async fn background_mail_waits_in_the_queue_and_is_retried_until_smtp_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = crate::helpers::spawn_app_with_metrics(dir.path()).await;
    // An SMTP server that refuses connections: nobody listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    app.update_settings(
        json!({"smtp": {"enabled": true, "host": "127.0.0.1", "port": closed, "tls": false}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    app.create_user("queued@example.com").await;
    let started = std::time::Instant::now();
    post(
        &app,
        "/api/collections/users/request-password-reset",
        GUEST,
        json!({"email": "queued@example.com"}),
    )
    .await
    .expect(204);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no wait for SMTP"
    );
    // The message is stored, and its first attempt failed.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut jobs = mail_jobs(&app).await;
    while !jobs.iter().any(|(n, _)| *n >= 1) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        jobs = mail_jobs(&app).await;
    }
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(jobs[0].0 >= 1 && !jobs[0].1.is_empty(), "{jobs:?}");
    // SMTP answers now: a retry delivers it, and the job is done.
    let sink = SmtpSink::start().await;
    sink.configure(&app).await;
    let mail = sink.mail_to("queued@example.com").await;
    assert!(
        mail.token_after("confirm-password-reset").contains('.'),
        "the reset link"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !mail_jobs(&app).await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(mail_jobs(&app).await.is_empty());
    // The queue's metrics count mail.
    let text = app.metrics_text().await;
    assert!(
        text.contains("oxbase_jobs_failures_total{kind=\"mail\"}"),
        "{text}"
    );
    assert!(
        text.contains("oxbase_jobs_done_total{kind=\"mail\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn a_mail_out_of_attempts_is_a_dead_letter_that_superusers_list_and_replay() {
    let app = spawn_app().await;
    let token = &app.superuser_token;
    // Nobody listens on the port: every attempt fails; two attempts, 100 ms apart.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    app.update_settings(
        json!({"smtp": {"enabled": true, "host": "127.0.0.1", "port": closed, "tls": false},
               "mail": {"maxAttempts": 2, "backoffMs": 100}}),
        token,
    )
    .await
    .expect(200);
    let user = app.create_user("lost@example.com").await;
    post(
        &app,
        "/api/collections/users/request-password-reset",
        GUEST,
        json!({"email": "lost@example.com"}),
    )
    .await
    .expect(204);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut dead = app.get("/api/mail/dead-letters", token).await;
    while dead.body["items"].as_array().is_none_or(Vec::is_empty)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        dead = app.get("/api/mail/dead-letters", token).await;
    }
    let items = dead.expect(200).body["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 1, "{}", dead.text);
    let letter = &items[0];
    let id = letter["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("mail_"), "{letter}");
    assert_eq!(letter["to"], "lost@example.com");
    assert_eq!(letter["template"], "resetPasswordTemplate");
    assert_eq!(letter["collectionName"], "users");
    assert_eq!(letter["recordId"], user.id.as_str());
    assert!(
        !letter["subject"].as_str().unwrap_or("").is_empty(),
        "{letter}"
    );
    assert_eq!(letter["attempts"], 2, "dead after maxAttempts");
    assert!(!letter["lastError"].as_str().unwrap_or("").is_empty());
    assert!(letter["created"].as_str().unwrap_or("").ends_with('Z'));
    // Never the body: it carries the reset token.
    let mut keys: Vec<&str> = letter
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempts",
            "collectionName",
            "created",
            "id",
            "lastError",
            "recordId",
            "subject",
            "template",
            "to"
        ]
    );
    assert!(
        !dead.text.contains("confirm-password-reset"),
        "{}",
        dead.text
    );
    let one = app
        .get(&format!("/api/mail/dead-letters/{id}"), token)
        .await;
    assert_eq!(one.expect(200).body, *letter);
    assert!(!one.text.contains("confirm-password-reset"));
    // PocketBase's shapes for guests and other auth records; 404 for no such dead letter.
    let replay = format!("/api/mail/dead-letters/{id}/replay");
    for path in [
        "/api/mail/dead-letters".to_owned(),
        format!("/api/mail/dead-letters/{id}"),
    ] {
        assert_error(
            &app.get(&path, GUEST).await,
            401,
            "The request requires valid record authorization token.",
        );
        assert_error(
            &app.get(&path, &user.token).await,
            403,
            "The authorized record is not allowed to perform this action.",
        );
    }
    assert_error(
        &post(&app, &replay, GUEST, json!({})).await,
        401,
        "The request requires valid record authorization token.",
    );
    assert_error(
        &post(&app, &replay, &user.token, json!({})).await,
        403,
        "The authorized record is not allowed to perform this action.",
    );
    assert_error(
        &app.get("/api/mail/dead-letters/mail_nosuchone", token)
            .await,
        404,
        "The requested resource wasn't found.",
    );
    // SMTP answers now: a replay sends the message as it was queued, and its link works.
    let sink = SmtpSink::start().await;
    sink.configure(&app).await;
    post(&app, &replay, token, json!({})).await.expect(204);
    let mail = sink.mail_to("lost@example.com").await;
    let reset = mail.token_after("confirm-password-reset");
    post(
        &app,
        "/api/collections/users/confirm-password-reset",
        GUEST,
        json!({"token": reset, "password": "brand-new-1", "passwordConfirm": "brand-new-1"}),
    )
    .await
    .expect(204);
    let after = app.get("/api/mail/dead-letters", token).await;
    assert_eq!(after.expect(200).body["items"], json!([]));
    assert_error(
        &post(&app, &replay, token, json!({})).await,
        404,
        "The requested resource wasn't found.",
    );
}
