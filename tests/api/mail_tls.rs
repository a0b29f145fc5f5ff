//! Mail over an encrypted, authenticated SMTP session: STARTTLS (port 587 style, `tls: false`
//! and the server offers it) and implicit TLS (port 465 style, `tls: true`), each with AUTH,
//! against a sink whose certificate is self-signed and made for the test. The mailer checks
//! the certificate: a sink it was not told to trust is refused.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{GUEST, Resp, TestApp, assert_error, spawn_app};
use crate::smtp_sink::{SmtpSink, TlsMode};

const USER: &str = "mailer@example.com";
const PASSWORD: &str = "s3cret pass";

/// `POST /api/settings/test/email`: sends at once and reports the SMTP error, if any.
async fn test_email(app: &TestApp, to: &str) -> Resp {
    let body = json!({"email": to, "template": "verification"});
    app.request(
        Method::POST,
        "/api/settings/test/email",
        &app.superuser_token,
        Some(&body),
    )
    .await
}

/// Points the app at `sink` as `tls` (implicit TLS or not) with these credentials.
async fn configure(app: &TestApp, sink: &SmtpSink, implicit: bool, auth: (&str, &str, &str)) {
    let (username, password, method) = auth;
    let smtp = json!({"enabled": true, "host": "127.0.0.1", "port": sink.port, "tls": implicit,
        "username": username, "password": password, "authMethod": method});
    app.update_settings(json!({"smtp": smtp}), &app.superuser_token)
        .await
        .expect(200);
}

/// An app that trusts `sink`'s certificate.
async fn app_trusting(sink: &SmtpSink) -> TestApp {
    let app = spawn_app().await;
    let der = sink.certificate.clone().expect("a TLS sink");
    app.core.auth().mailer().trust_root(der);
    app
}

/// A sink speaking `mode`, an app trusting it and configured for it with `method`, and the
/// test email it received, checked to have come encrypted and authenticated.
async fn test_email_over(mode: TlsMode, method: &str) -> (SmtpSink, TestApp) {
    let sink = SmtpSink::start_tls(mode, USER, PASSWORD).await;
    let app = app_trusting(&sink).await;
    let implicit = mode == TlsMode::Implicit;
    configure(&app, &sink, implicit, (USER, PASSWORD, method)).await;
    test_email(&app, "t@example.com").await.expect(204);
    let mail = sink.mail_to("t@example.com").await;
    assert!(
        mail.tls,
        "{mode:?}: the session was encrypted before the message"
    );
    assert_eq!(mail.user.as_deref(), Some(USER));
    assert!(mail.text().contains("Verify"), "{}", mail.raw);
    (sink, app)
}

#[tokio::test]
async fn mail_goes_over_starttls_with_auth_plain() {
    let (sink, app) = test_email_over(TlsMode::StartTls, "PLAIN").await;
    // A flow's mail (sent in the background) takes the same way.
    app.create_user_record("u1@example.com").await;
    app.request(
        Method::POST,
        "/api/collections/users/request-password-reset",
        GUEST,
        Some(&json!({"email": "u1@example.com"})),
    )
    .await
    .expect(204);
    let reset = sink.mail_to("u1@example.com").await;
    assert!(reset.tls);
    assert_eq!(reset.user.as_deref(), Some(USER));
    assert!(!reset.token_after("confirm-password-reset").is_empty());
}

#[tokio::test]
async fn mail_goes_over_implicit_tls_with_auth_login() {
    test_email_over(TlsMode::Implicit, "LOGIN").await;
}

#[tokio::test]
async fn wrong_credentials_or_none_fail_the_send() {
    for mode in [TlsMode::StartTls, TlsMode::Implicit] {
        let sink = SmtpSink::start_tls(mode, USER, PASSWORD).await;
        let app = app_trusting(&sink).await;
        let implicit = mode == TlsMode::Implicit;
        for (user, password) in [(USER, "wrong"), ("", "")] {
            configure(&app, &sink, implicit, (user, password, "PLAIN")).await;
            let r = test_email(&app, "t@example.com").await;
            assert_eq!(r.status, 400, "{mode:?} as {user:?}: {}", r.text);
            assert!(
                r.str("message")
                    .starts_with("Failed to send the test email. Raw error:"),
                "{}",
                r.text
            );
        }
        // The right ones, on the same app: the failures were the credentials only.
        configure(&app, &sink, implicit, (USER, PASSWORD, "PLAIN")).await;
        test_email(&app, "t@example.com").await.expect(204);
        assert_eq!(
            sink.mail_to("t@example.com").await.user.as_deref(),
            Some(USER)
        );
    }
}

#[tokio::test]
async fn a_certificate_the_mailer_does_not_trust_is_refused() {
    for (mode, implicit) in [(TlsMode::StartTls, false), (TlsMode::Implicit, true)] {
        let sink = SmtpSink::start_tls(mode, USER, PASSWORD).await;
        let app = spawn_app().await;
        configure(&app, &sink, implicit, (USER, PASSWORD, "PLAIN")).await;
        let r = test_email(&app, "t@example.com").await;
        r.expect(400);
        let message = r.str("message").to_ascii_lowercase();
        assert!(message.contains("certificate"), "{mode:?}: {}", r.text);
        assert_error(
            &test_email(&app, "t@example.com").await,
            400,
            r.str("message"),
        );
    }
}
