//! GraphQL auth flows beyond password and refresh (OTP, password reset, verification, OAuth2
//! code exchange): the same core services as REST, so a refusal is REST's status, message
//! and data, and an OTP mailed on request logs in through GraphQL.

use reqwest::Method;
use serde_json::{Value, json};

use crate::graphql::gql;
use crate::helpers::{GUEST, TestApp, spawn_app};
use crate::otp_mfa::{app_with_mail, code_in};

/// `(mutation, variables, REST path, REST body)`: the same request both ways.
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
        (
            "mutation($e: String!) { requestOTPUsers(email: $e) }",
            json!({"e": "a@example.com"}),
            "request-otp",
            json!({"email": "a@example.com"}),
        ),
        (
            "mutation { authWithOTPUsers(otpId: \"x\", password: \"1\") { token } }",
            json!({}),
            "auth-with-otp",
            json!({"otpId": "x", "password": "1"}),
        ),
        (
            "mutation($e: String!) { requestPasswordResetUsers(email: $e) }",
            json!({"e": "not an email"}),
            "request-password-reset",
            json!({"email": "not an email"}),
        ),
        (
            "mutation { confirmPasswordResetUsers(token: \"bad\", password: \"12345678\", passwordConfirm: \"87654321\") }",
            json!({}),
            "confirm-password-reset",
            json!({"token": "bad", "password": "12345678", "passwordConfirm": "87654321"}),
        ),
        (
            "mutation($e: String!) { requestVerificationUsers(email: $e) }",
            json!({"e": ""}),
            "request-verification",
            json!({"email": ""}),
        ),
        (
            "mutation { confirmVerificationUsers(token: \"bad\") }",
            json!({}),
            "confirm-verification",
            json!({"token": "bad"}),
        ),
        (
            "mutation { authWithOAuth2Users(provider: \"nope\", code: \"c\", codeVerifier: \"v\", redirectURL: \"http://127.0.0.1/cb\") { token } }",
            json!({}),
            "auth-with-oauth2",
            json!({"provider": "nope", "code": "c", "codeVerifier": "v",
                   "redirectURL": "http://127.0.0.1/cb"}),
        ),
    ]
}

/// Compares every case; how many REST refused.
async fn compare_refusals(app: &TestApp) -> usize {
    let mut refused = 0;
    for (query, variables, path, body) in cases() {
        let rest = app
            .request(
                Method::POST,
                &format!("/api/collections/users/{path}"),
                GUEST,
                Some(&body),
            )
            .await;
        let (status, answer) = gql(app, GUEST, query, variables).await;
        assert_eq!(status, 200, "{path}");
        if rest.status < 300 {
            assert!(answer["errors"].is_null(), "{path}: {answer}");
            continue;
        }
        refused += 1;
        let error = &answer["errors"][0];
        assert_eq!(error["message"], rest.body["message"], "{path}: {answer}");
        assert_eq!(error["extensions"]["status"], rest.status, "{path}");
        assert_eq!(error["extensions"]["data"], rest.body["data"], "{path}");
    }
    refused
}

#[tokio::test]
async fn auth_flow_refusals_equal_rest() {
    // OTP off: 403s; bad forms and tokens: 400s with REST's field codes.
    let app = spawn_app().await;
    assert_eq!(compare_refusals(&app).await, cases().len());
    // OTP on: a request answers an id, a wrong one is REST's refusal.
    let (app, _sink) = app_with_mail(json!({"otp": {"enabled": true, "length": 6}})).await;
    assert_eq!(compare_refusals(&app).await, cases().len() - 1);
}

#[tokio::test]
async fn a_mailed_otp_logs_in_through_graphql() {
    let (app, sink) = app_with_mail(json!({"otp": {"enabled": true, "length": 6}})).await;
    let user = app.create_user("u1@example.com").await;
    let (_, r) = gql(
        &app,
        GUEST,
        "mutation { requestOTPUsers(email: \"u1@example.com\") }",
        json!({}),
    )
    .await;
    let otp_id = r["data"]["requestOTPUsers"].as_str().expect("an otp id");
    let code = code_in(&sink.mail_to("u1@example.com").await, 6);
    let login = "mutation($id: String!, $code: String!) {
        authWithOTPUsers(otpId: $id, password: $code) { token record { id email verified } } }";
    let (_, r) = gql(&app, GUEST, login, json!({"id": otp_id, "code": code})).await;
    assert!(r["errors"].is_null(), "{r}");
    let auth = &r["data"]["authWithOTPUsers"];
    assert_eq!(auth["record"]["id"], user.id.as_str());
    assert_eq!(auth["record"]["verified"], true);
    let token = auth["token"].as_str().expect("token");
    app.auth_refresh("users", token).await.expect(200);
    // Used once: the second time is REST's refusal.
    let (_, r) = gql(&app, GUEST, login, json!({"id": otp_id, "code": code})).await;
    assert_eq!(r["errors"][0]["message"], "Invalid or expired OTP.");
    assert_eq!(r["errors"][0]["extensions"]["status"], 400);
    // A password reset request for a known address is accepted and mailed.
    let (_, r) = gql(
        &app,
        GUEST,
        "mutation { requestPasswordResetUsers(email: \"u1@example.com\") }",
        json!({}),
    )
    .await;
    assert_eq!(r["data"]["requestPasswordResetUsers"], true, "{r}");
}
