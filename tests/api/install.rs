//! First start: `oxbase serve` on a fresh install prints a one-time install link
//! (`/_/#/pbinstall/<token>`, PocketBase's path) whose token creates the first superuser
//! through `POST /api/install`; the link is dead once used, and no link is printed once a
//! superuser exists.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{Server, database, serve_in, superuser};

/// What the server printed after its banner.
fn printed(server: &Server) -> Vec<String> {
    server
        .output
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The token of the install link the server printed (waits for it, at most 10 s).
async fn install_token(server: &Server) -> String {
    for _ in 0..200 {
        let lines = printed(server);
        if let Some(line) = lines.iter().find(|l| l.contains("/_/#/pbinstall/")) {
            let link = format!("{}/_/#/pbinstall/", server.base);
            assert!(line.starts_with(&link), "the link is the server's: {line}");
            return line[link.len()..].trim().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no install link printed");
}

async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = server
        .client
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `POST /api/install/check`'s status.
async fn check(server: &Server, token: &str) -> u16 {
    post(server, "/api/install/check", json!({"token": token}))
        .await
        .0
}

/// `POST /api/install` with `email` and the password `1234567890abc` (`confirm` repeated).
async fn install(server: &Server, token: &str, email: &str, confirm: &str) -> (u16, Value) {
    let body = json!({"token": token, "email": email, "password": "1234567890abc", "passwordConfirm": confirm});
    post(server, "/api/install", body).await
}

async fn login(server: &Server, email: &str, password: &str) -> u16 {
    post(
        server,
        "/api/collections/_superusers/auth-with-password",
        json!({"identity": email, "password": password}),
    )
    .await
    .0
}

#[tokio::test]
async fn the_install_link_creates_the_first_superuser_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let server = serve_in(dir.path(), db.as_deref(), &[]).await;
    let token = install_token(&server).await;
    assert!(token.len() >= 32, "a long random token: {token}");

    // A wrong token is refused, the printed one is live.
    let (status, body) = post(&server, "/api/install/check", json!({"token": "nope"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["data"]["token"]["code"], "validation_invalid_token");
    assert_eq!(post(&server, "/api/install/check", json!({})).await.0, 400);
    assert_eq!(check(&server, &token).await, 204);
    let (status, _) = install(&server, "nope", "first@example.com", "1234567890abc").await;
    assert_eq!(status, 400);

    // A validation error keeps the link alive.
    let (status, body) = install(&server, &token, "first@example.com", "different123").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["data"]["passwordConfirm"].is_object(), "{body}");
    assert_eq!(check(&server, &token).await, 204);

    let (status, body) = install(&server, &token, "first@example.com", "1234567890abc").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "first@example.com");
    assert_eq!(body["collectionName"], "_superusers");
    assert!(body.get("password").is_none() && body.get("tokenKey").is_none());
    assert_eq!(
        login(&server, "first@example.com", "1234567890abc").await,
        200
    );

    // The link is dead now.
    assert_eq!(check(&server, &token).await, 400);
    let (status, _) = install(&server, &token, "second@example.com", "1234567890abc").await;
    assert_eq!(status, 400);
    assert_eq!(
        login(&server, "second@example.com", "1234567890abc").await,
        400
    );
    assert!(server.stop("TERM", Duration::from_secs(20)).await);

    // With a superuser, serve prints no link (it prints it before it serves requests).
    let again = serve_in(dir.path(), db.as_deref(), &[]).await;
    let (status, _) = again.get_json("/api/health", "").await;
    assert_eq!(status, 200);
    let printed = printed(&again).join("\n");
    assert!(!printed.contains("pbinstall"), "{printed}");
    assert!(again.stop("TERM", Duration::from_secs(20)).await);
}

#[tokio::test]
async fn a_superuser_made_by_the_cli_kills_the_install_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let server = serve_in(dir.path(), db.as_deref(), &[]).await;
    let token = install_token(&server).await;
    assert_eq!(check(&server, &token).await, 204);
    // On SQLite a running server holds the database for itself: the CLI runs between.
    assert!(server.stop("TERM", Duration::from_secs(20)).await);
    let out = superuser(
        &dir.path().join("data"),
        db.as_deref(),
        &["upsert", "cli@example.com", "1234567890abc"],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let server = serve_in(dir.path(), db.as_deref(), &[]).await;
    assert_eq!(check(&server, &token).await, 400);
    assert!(server.stop("TERM", Duration::from_secs(20)).await);
}
