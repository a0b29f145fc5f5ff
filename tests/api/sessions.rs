//! Impersonation, refresh of non-refreshable tokens, and users imported from PocketBase with
//! bcrypt hashes (they log in, and their hash is replaced by argon2id).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    GUEST, TestApp, USER_PASSWORD, assert_error, field_code, jwt_claims, spawn_app,
};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn impersonate(app: &TestApp, id: &str, token: &str, body: Value) -> crate::helpers::Resp {
    app.request(
        Method::POST,
        &format!("/api/collections/users/impersonate/{id}"),
        token,
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn a_superuser_impersonates_a_user_with_a_non_refreshable_token_of_the_given_duration() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    let r = impersonate(
        &app,
        &user.id,
        &app.superuser_token,
        json!({"duration": 100}),
    )
    .await;
    r.expect(200);
    assert_eq!(r.body["record"]["id"], user.id.as_str());
    assert_eq!(r.body["record"]["email"], "u1@example.com");
    let token = r.str("token").to_owned();
    let c = jwt_claims(&token);
    assert_eq!(c["type"], "auth");
    assert_eq!(c["refreshable"], false);
    let exp = c["exp"].as_i64().unwrap_or(0);
    assert!((now() + 95..=now() + 101).contains(&exp), "exp {exp}");
    // The token acts as the user (the users view rule is `id = @request.auth.id`).
    app.view_record("users", &user.id, &[], &token)
        .await
        .expect(200);
    // PB-COMPAT: PocketBase refreshes it; oxbase refuses, so it cannot outlive its duration.
    assert_error(
        &app.auth_refresh("users", &token).await,
        403,
        "The current auth token is not refreshable.",
    );
    // Without a duration, the collection's auth token duration applies.
    let r = impersonate(&app, &user.id, &app.superuser_token, json!({})).await;
    let exp = jwt_claims(r.str("token"))["exp"].as_i64().unwrap_or(0);
    assert!(exp > now() + 86_400, "exp {exp}");
}

#[tokio::test]
async fn only_superusers_impersonate_and_only_existing_records() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    assert_error(
        &impersonate(&app, &user.id, GUEST, json!({})).await,
        401,
        "The request requires valid record authorization token.",
    );
    assert_error(
        &impersonate(&app, &user.id, &user.token, json!({})).await,
        403,
        "The authorized record is not allowed to perform this action.",
    );
    assert_error(
        &impersonate(&app, "missing", &app.superuser_token, json!({})).await,
        404,
        "The requested resource wasn't found.",
    );
    let r = impersonate(
        &app,
        &user.id,
        &app.superuser_token,
        json!({"duration": -1}),
    )
    .await;
    r.expect(400);
    assert_eq!(
        field_code(&r, "duration"),
        "validation_min_greater_equal_than_required"
    );
}

/// Replaces the stored password of a user by `hash`, as an import from PocketBase would.
async fn store_password_hash(app: &TestApp, id: &str, hash: String) {
    let id = id.to_owned();
    app.core
        .db()
        .write(move |conn| {
            let mut sql = oxbase_sql::Sql::raw("UPDATE \"users\" SET \"password\" = ");
            sql.push_param(hash).push(" WHERE \"id\" = ").push_param(id);
            conn.execute(&sql).map(|_| ())
        })
        .await
        .expect("update");
}

async fn stored_password_hash(app: &TestApp, id: &str) -> String {
    let id = id.to_owned();
    app.core
        .db()
        .read(move |conn| {
            let mut sql =
                oxbase_sql::Sql::raw("SELECT \"password\" FROM \"users\" WHERE \"id\" = ");
            sql.push_param(id);
            Ok(conn
                .query_scalar(&sql)?
                .map(|v| oxbase_core::store::text(&v).to_owned())
                .unwrap_or_default())
        })
        .await
        .expect("read")
}

#[tokio::test]
async fn a_user_imported_with_a_bcrypt_hash_logs_in_and_is_rehashed_with_argon2id() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    // PocketBase (Go) writes `$2a$` bcrypt hashes.
    let hash = bcrypt::hash("imported-pw-1", 4)
        .expect("bcrypt")
        .replacen("$2b$", "$2a$", 1);
    store_password_hash(&app, &user.id, hash).await;
    app.auth_with_password("users", "u1@example.com", USER_PASSWORD)
        .await
        .expect(400);
    app.auth_with_password("users", "u1@example.com", "wrong-pw-12")
        .await
        .expect(400);
    assert!(
        stored_password_hash(&app, &user.id)
            .await
            .starts_with("$2a$"),
        "a failed login changes nothing"
    );
    app.auth_with_password("users", "u1@example.com", "imported-pw-1")
        .await
        .expect(200);
    assert!(
        stored_password_hash(&app, &user.id)
            .await
            .starts_with("$argon2id$")
    );
    app.auth_with_password("users", "u1@example.com", "imported-pw-1")
        .await
        .expect(200);
    // The rehash keeps the token key: sessions from before stay valid.
    app.auth_refresh("users", &user.token).await.expect(200);
}

#[tokio::test]
async fn password_login_uses_every_configured_identity_field_and_can_be_turned_off() {
    let app = spawn_app().await;
    app.create_collection(json!({
        "name": "members", "type": "auth",
        "fields": [{"name": "username", "type": "text"}],
        "indexes": ["CREATE UNIQUE INDEX idx_members_username ON members (username)"],
        "passwordAuth": {"enabled": true, "identityFields": ["email", "username"]},
    }))
    .await
    .expect(200);
    app.create_record("members", json!({"email": "m@example.com", "username": "mike", "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD}), &app.superuser_token)
        .await
        .expect(200);
    let login = |body: Value| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/collections/members/auth-with-password",
                GUEST,
                Some(&body),
            )
            .await
        }
    };
    login(json!({"identity": "mike", "password": USER_PASSWORD}))
        .await
        .expect(200);
    login(json!({"identity": "m@example.com", "password": USER_PASSWORD}))
        .await
        .expect(200);
    // Exact, as in PocketBase: no index here says COLLATE NOCASE.
    assert_eq!(
        login(json!({"identity": "MIKE", "password": USER_PASSWORD}))
            .await
            .status,
        400
    );
    login(json!({"identity": "mike", "password": USER_PASSWORD, "identityField": "username"}))
        .await
        .expect(200);
    assert_error(
        &login(json!({"identity": "mike", "password": USER_PASSWORD, "identityField": "email"}))
            .await,
        400,
        "Failed to authenticate.",
    );
    let r = login(json!({"identity": "mike", "password": USER_PASSWORD, "identityField": "bogus"}))
        .await;
    assert_eq!(field_code(&r, "identityField"), "validation_in_invalid");
    let methods = app.auth_methods("members").await;
    assert_eq!(
        (
            methods.body["usernamePassword"].as_bool(),
            methods.body["emailPassword"].as_bool()
        ),
        (Some(true), Some(true))
    );
    app.update_collection(
        "members",
        json!({"passwordAuth": {"enabled": false}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    assert_error(
        &login(json!({"identity": "mike", "password": USER_PASSWORD})).await,
        403,
        "The collection is not configured to allow password authentication.",
    );
}
