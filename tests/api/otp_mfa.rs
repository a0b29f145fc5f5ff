//! One-time passwords by mail, multi-factor authentication (`401 {mfaId}` after the first
//! factor, a different method to complete it), and login alerts for new origins.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, Resp, TestApp, USER_PASSWORD, assert_error, field_code, spawn_app};
use crate::smtp_sink::{Mail, SmtpSink};

async fn post(app: &TestApp, path: &str, body: Value) -> Resp {
    app.request(Method::POST, path, GUEST, Some(&body)).await
}

async fn configure_users(app: &TestApp, options: Value) {
    app.update_collection("users", options, &app.superuser_token)
        .await
        .expect(200);
}

pub(crate) async fn app_with_mail(options: Value) -> (TestApp, SmtpSink) {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    sink.configure(&app).await;
    configure_users(&app, options).await;
    (app, sink)
}

/// The first run of `len` digits in a mail.
pub(crate) fn code_in(mail: &Mail, len: usize) -> String {
    let text = mail.text();
    let digits: Vec<char> = text.chars().collect();
    for start in 0..digits.len() {
        let run: String = digits[start..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if run.len() == len && (start == 0 || !digits[start - 1].is_ascii_digit()) {
            return run;
        }
    }
    panic!("no {len}-digit code in: {text}");
}

async fn request_otp(app: &TestApp, email: &str) -> String {
    let r = post(
        app,
        "/api/collections/users/request-otp",
        json!({"email": email}),
    )
    .await;
    r.expect(200);
    r.str("otpId").to_owned()
}

async fn auth_with_otp(app: &TestApp, otp_id: &str, code: &str, mfa_id: &str) -> Resp {
    post(
        app,
        "/api/collections/users/auth-with-otp",
        json!({"otpId": otp_id, "password": code, "mfaId": mfa_id}),
    )
    .await
}

async fn password_login(app: &TestApp, email: &str, mfa_id: &str) -> Resp {
    post(
        app,
        "/api/collections/users/auth-with-password",
        json!({"identity": email, "password": USER_PASSWORD, "mfaId": mfa_id}),
    )
    .await
}

#[tokio::test]
async fn otp_is_refused_while_the_collection_does_not_enable_it() {
    let app = spawn_app().await;
    let msg = "The collection is not configured to allow OTP authentication.";
    assert_error(
        &post(
            &app,
            "/api/collections/users/request-otp",
            json!({"email": "a@example.com"}),
        )
        .await,
        403,
        msg,
    );
    assert_error(
        &post(
            &app,
            "/api/collections/users/auth-with-otp",
            json!({"otpId": "x", "password": "1"}),
        )
        .await,
        403,
        msg,
    );
    let m = app.auth_methods("users").await;
    assert_eq!(m.body["otp"], json!({"enabled": false, "duration": 0}));
    assert_eq!(m.body["mfa"], json!({"enabled": false, "duration": 0}));
}

#[tokio::test]
async fn a_mailed_one_time_code_logs_in_once_and_verifies_the_address() {
    let (app, sink) = app_with_mail(json!({"otp": {"enabled": true, "length": 6}})).await;
    let user = app.create_user("u1@example.com").await;
    let m = app.auth_methods("users").await;
    assert_eq!(m.body["otp"], json!({"enabled": true, "duration": 180}));
    let otp_id = request_otp(&app, "u1@example.com").await;
    let mail = sink.mail_to("u1@example.com").await;
    assert_eq!(mail.subject(), "OTP for Acme");
    let code = code_in(&mail, 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_error(
        &auth_with_otp(&app, &otp_id, wrong, "").await,
        400,
        "Invalid or expired OTP.",
    );
    let r = auth_with_otp(&app, &otp_id, &code, "").await;
    r.expect(200);
    assert_eq!(r.body["record"]["id"], user.id.as_str());
    assert_eq!(
        r.body["record"]["verified"], true,
        "the code went to the address"
    );
    app.auth_refresh("users", r.str("token")).await.expect(200);
    assert_error(
        &auth_with_otp(&app, &otp_id, &code, "").await,
        400,
        "Invalid or expired OTP.",
    );
}

#[tokio::test]
async fn an_unknown_address_gets_an_otp_id_like_any_other_but_no_mail() {
    let (app, sink) = app_with_mail(json!({"otp": {"enabled": true}})).await;
    let otp_id = request_otp(&app, "nobody@example.com").await;
    assert_eq!(otp_id.len(), 15);
    sink.assert_no_mail_to("nobody@example.com", Duration::from_millis(500))
        .await;
    assert_error(
        &auth_with_otp(&app, &otp_id, "12345678", "").await,
        400,
        "Invalid or expired OTP.",
    );
    let r = post(&app, "/api/collections/users/auth-with-otp", json!({})).await;
    assert_eq!(field_code(&r, "otpId"), "validation_required");
    assert_eq!(field_code(&r, "password"), "validation_required");
    let r = post(
        &app,
        "/api/collections/users/request-otp",
        json!({"email": "bad"}),
    )
    .await;
    assert_eq!(field_code(&r, "email"), "validation_is_email");
}

#[tokio::test]
async fn an_otp_dies_after_five_wrong_codes() {
    let (app, sink) = app_with_mail(json!({"otp": {"enabled": true}})).await;
    app.create_user_record("u1@example.com").await;
    let otp_id = request_otp(&app, "u1@example.com").await;
    let code = code_in(&sink.mail_to("u1@example.com").await, 8);
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..5 {
        assert_error(
            &auth_with_otp(&app, &otp_id, wrong, "").await,
            400,
            "Invalid or expired OTP.",
        );
    }
    assert_error(
        &auth_with_otp(&app, &otp_id, &code, "").await,
        400,
        "Invalid or expired OTP.",
    );
    // A new code works.
    let otp_id = request_otp(&app, "u1@example.com").await;
    let code = code_in(&sink.mail_to("u1@example.com").await, 8);
    auth_with_otp(&app, &otp_id, wrong, "").await.expect(400);
    auth_with_otp(&app, &otp_id, &code, "").await.expect(200);
}

#[tokio::test]
async fn wrong_codes_count_on_every_instance_together() {
    let (a, sink) = app_with_mail(json!({"otp": {"enabled": true}})).await;
    // Two instances on one PostgreSQL database; on SQLite there is one server.
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    a.create_user_record("u1@example.com").await;
    let otp_id = request_otp(&a, "u1@example.com").await;
    let code = code_in(&sink.mail_to("u1@example.com").await, 8);
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    // Five guesses spread over both instances use up the one budget.
    for i in 0..5 {
        let instance = if i % 2 == 0 { &a } else { &b };
        auth_with_otp(instance, &otp_id, wrong, "")
            .await
            .expect(400);
    }
    for instance in [&a, &b] {
        assert_error(
            &auth_with_otp(instance, &otp_id, &code, "").await,
            400,
            "Invalid or expired OTP.",
        );
    }
}

/// Moves a system row's `created` back by `secs` (the clock the expiry checks read).
async fn backdate(app: &TestApp, table: &'static str, id: &str, secs: i64) {
    let id = id.to_owned();
    // The date is made here, so the statement is the same on SQLite and PostgreSQL.
    let past = oxbase_core::dates::format(chrono::Utc::now() - chrono::TimeDelta::seconds(secs));
    app.core
        .db()
        .write(move |conn| {
            let mut sql = oxbase_sql::Sql::raw(format!("UPDATE \"{table}\" SET \"created\" = "));
            sql.push_param(past).push(" WHERE \"id\" = ").push_param(id);
            conn.execute(&sql).map(|_| ())
        })
        .await
        .expect("backdate");
}

#[tokio::test]
async fn an_otp_expires_after_its_duration() {
    let (app, sink) = app_with_mail(json!({"otp": {"enabled": true, "duration": 60}})).await;
    app.create_user_record("u1@example.com").await;
    let otp_id = request_otp(&app, "u1@example.com").await;
    let code = code_in(&sink.mail_to("u1@example.com").await, 8);
    backdate(&app, "_otps", &otp_id, 61).await;
    assert_error(
        &auth_with_otp(&app, &otp_id, &code, "").await,
        400,
        "Invalid or expired OTP.",
    );
    // The next request clears the expired code away.
    let count = || async {
        app.list_records("_otps", &[], &app.superuser_token)
            .await
            .body["totalItems"]
            .as_i64()
    };
    assert_eq!(count().await, Some(1));
    let fresh = request_otp(&app, "u1@example.com").await;
    assert_eq!(count().await, Some(1), "only the new code is left");
    // 59 seconds old: still valid.
    let code = code_in(&sink.mail_to("u1@example.com").await, 8);
    backdate(&app, "_otps", &fresh, 59).await;
    auth_with_otp(&app, &fresh, &code, "").await.expect(200);
}

#[tokio::test]
async fn otp_mfa_and_token_options_are_validated_as_pocketbase_does() {
    let app = spawn_app().await;
    let r = app
        .update_collection("users", json!({"otp": {"enabled": true, "duration": 5, "length": 0}, "authToken": {"duration": 0}, "oauth2": {"enabled": true, "providers": [{"name": "nope"}]}}), &app.superuser_token)
        .await;
    r.expect(400);
    assert_eq!(
        r.body["data"]["otp"]["duration"]["code"],
        "validation_min_greater_equal_than_required"
    );
    assert_eq!(
        r.body["data"]["otp"]["length"]["code"],
        "validation_required"
    );
    assert_eq!(
        r.body["data"]["authToken"]["duration"]["code"],
        "validation_required"
    );
    assert_eq!(
        r.body["data"]["oauth2"]["providers"]["0"]["name"]["code"],
        "validation_missing_provider"
    );
    assert_eq!(
        app.auth_methods("users").await.body["otp"]["enabled"],
        false,
        "nothing was saved"
    );
}

#[tokio::test]
async fn mfa_answers_401_with_an_mfa_id_and_needs_a_different_second_method() {
    let (app, sink) =
        app_with_mail(json!({"otp": {"enabled": true}, "mfa": {"enabled": true}})).await;
    app.create_user_record("u1@example.com").await;
    assert_eq!(
        app.auth_methods("users").await.body["mfa"],
        json!({"enabled": true, "duration": 600})
    );
    let first = password_login(&app, "u1@example.com", "").await;
    first.expect(401);
    let mfa_id = first.str("mfaId").to_owned();
    assert_eq!(
        first.body.as_object().map(|o| o.len()),
        Some(1),
        "only the mfaId: {}",
        first.text
    );
    assert_error(
        &password_login(&app, "u1@example.com", &mfa_id).await,
        400,
        "A different authentication method is required.",
    );
    assert_error(
        &password_login(&app, "u1@example.com", "nope").await,
        400,
        "Invalid or expired MFA session.",
    );
    let wrong = post(
        &app,
        "/api/collections/users/auth-with-password",
        json!({"identity": "u1@example.com", "password": "wrong-pass", "mfaId": mfa_id}),
    )
    .await;
    assert_error(&wrong, 400, "Failed to authenticate.");
    let otp_id = request_otp(&app, "u1@example.com").await;
    let code = code_in(&sink.mail_to("u1@example.com").await, 8);
    let done = auth_with_otp(&app, &otp_id, &code, &mfa_id).await;
    done.expect(200);
    app.auth_refresh("users", done.str("token"))
        .await
        .expect(200);
    // The session is used up.
    assert_error(
        &password_login(&app, "u1@example.com", &mfa_id).await,
        400,
        "Invalid or expired MFA session.",
    );
}

#[tokio::test]
async fn an_mfa_session_belongs_to_its_record_and_expires() {
    let (app, sink) =
        app_with_mail(json!({"otp": {"enabled": true}, "mfa": {"enabled": true, "duration": 60}}))
            .await;
    app.create_user_record("a@example.com").await;
    app.create_user_record("b@example.com").await;
    let mfa_a = password_login(&app, "a@example.com", "")
        .await
        .str("mfaId")
        .to_owned();
    let otp_b = request_otp(&app, "b@example.com").await;
    let code_b = code_in(&sink.mail_to("b@example.com").await, 8);
    assert_error(
        &auth_with_otp(&app, &otp_b, &code_b, &mfa_a).await,
        400,
        "Invalid or expired MFA session.",
    );
    let otp_a = request_otp(&app, "a@example.com").await;
    let code_a = code_in(&sink.mail_to("a@example.com").await, 8);
    backdate(&app, "_mfas", &mfa_a, 61).await;
    assert_error(
        &auth_with_otp(&app, &otp_a, &code_a, &mfa_a).await,
        400,
        "Invalid or expired MFA session.",
    );
}

#[tokio::test]
async fn the_mfa_rule_picks_the_records_that_need_a_second_factor() {
    let app = spawn_app().await;
    configure_users(
        &app,
        json!({"otp": {"enabled": true}, "mfa": {"enabled": true, "rule": "email = 'vip@example.com'"}}),
    )
    .await;
    app.create_user_record("plain@example.com").await;
    app.create_user_record("vip@example.com").await;
    password_login(&app, "vip@example.com", "")
        .await
        .expect(401);
    password_login(&app, "plain@example.com", "")
        .await
        .expect(200);
}

async fn login_from(app: &TestApp, email: &str, user_agent: &str) -> u16 {
    let body = json!({"identity": email, "password": USER_PASSWORD});
    let r = app
        .client
        .post(app.url("/api/collections/users/auth-with-password"))
        .header("User-Agent", user_agent)
        .json(&body)
        .send()
        .await
        .expect("request");
    r.status().as_u16()
}

#[tokio::test]
async fn a_login_from_a_new_origin_mails_an_alert_but_a_first_or_known_one_does_not() {
    let (app, sink) = app_with_mail(json!({})).await;
    assert_eq!(login_from(&app, "nobody@example.com", "x").await, 400);
    app.create_user_record("u1@example.com").await;
    assert_eq!(login_from(&app, "u1@example.com", "laptop").await, 200);
    sink.assert_no_mail_to("u1@example.com", Duration::from_millis(300))
        .await;
    assert_eq!(login_from(&app, "u1@example.com", "laptop").await, 200);
    sink.assert_no_mail_to("u1@example.com", Duration::from_millis(300))
        .await;
    assert_eq!(login_from(&app, "u1@example.com", "phone <b>").await, 200);
    let alert = sink.mail_to("u1@example.com").await;
    assert_eq!(alert.subject(), "Login from a new location");
    assert!(
        alert.text().contains("phone &lt;b&gt; (IP 127.0.0.1)"),
        "{}",
        alert.text()
    );
    configure_users(&app, json!({"authAlert": {"enabled": false}})).await;
    assert_eq!(login_from(&app, "u1@example.com", "tablet").await, 200);
    sink.assert_no_mail_to("u1@example.com", Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn deleting_a_user_removes_its_otps_mfa_sessions_and_origins() {
    let (app, sink) =
        app_with_mail(json!({"otp": {"enabled": true}, "mfa": {"enabled": true}})).await;
    let id = app.create_user_record("u1@example.com").await;
    password_login(&app, "u1@example.com", "").await.expect(401);
    request_otp(&app, "u1@example.com").await;
    sink.mail_to("u1@example.com").await;
    let count = |coll: &'static str| {
        let app = &app;
        async move {
            app.list_records(coll, &[], &app.superuser_token).await.body["totalItems"]
                .as_i64()
                .unwrap_or(-1)
        }
    };
    assert_eq!((count("_mfas").await, count("_otps").await), (1, 1));
    app.delete_record("users", &id, &app.superuser_token)
        .await
        .expect(204);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while (count("_mfas").await, count("_otps").await) != (0, 0) {
        assert!(std::time::Instant::now() < deadline, "rows left behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
