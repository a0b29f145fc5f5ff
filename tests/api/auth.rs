//! Password auth, refresh, and tokens that must not authenticate (tampered, expired, alg
//! none, or issued before a password change): those requests are treated as guests.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{
    GUEST, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, TestApp, USER_PASSWORD, assert_error, jwt_claims,
    spawn_app,
};

const NEEDS_TOKEN: &str = "The request requires valid record authorization token.";

fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The JSON payload of a JWT.
fn payload(token: &str) -> Value {
    jwt_claims(token)
}

/// Whether `token` authenticates: auth-refresh answers 200 for a valid token, 401 for a guest.
async fn is_guest(app: &TestApp, coll: &str, token: &str) -> bool {
    let r = app.auth_refresh(coll, token).await;
    match r.status {
        401 => {
            assert_error(&r, 401, NEEDS_TOKEN);
            true
        }
        200 => false,
        other => panic!("auth-refresh answered {other}: {}", r.text),
    }
}

#[tokio::test]
async fn superuser_auth_with_password_returns_a_token_and_the_record() {
    let app = spawn_app().await;
    let r = app
        .auth_with_password("_superusers", SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
        .await;
    r.expect(200);
    let token = r.str("token");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let record = &r.body["record"];
    assert_eq!(record["email"], SUPERUSER_EMAIL);
    assert_eq!(record["collectionName"], "_superusers");
    assert_eq!(record["verified"], true);
    let mut keys: Vec<&String> = record.as_object().expect("record").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "collectionId",
            "collectionName",
            "created",
            "email",
            "emailVisibility",
            "id",
            "updated",
            "verified"
        ]
    );
    let claims = payload(token);
    assert_eq!(claims["id"], record["id"]);
    assert_eq!(claims["collectionId"], record["collectionId"]);
    assert_eq!(claims["type"], "auth");
    assert_eq!(claims["refreshable"], true);
    assert!(
        claims["exp"].as_i64().unwrap_or(0) > chrono_now(),
        "not expired: {claims}"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn user_auth_with_password_returns_a_token_that_authenticates_the_user() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    // As in PocketBase, the email is matched exactly (its unique index has no NOCASE).
    assert_eq!(
        app.auth_with_password("users", &user.email.to_uppercase(), USER_PASSWORD)
            .await
            .status,
        400
    );
    let r = app
        .auth_with_password("users", &user.email, USER_PASSWORD)
        .await;
    r.expect(200);
    assert_eq!(r.body["record"]["id"], user.id.as_str());
    assert_eq!(
        r.body["record"]["email"], "u1@example.com",
        "the owner sees its own email"
    );
    assert!(r.body["record"].get("password").is_none());
    let me = app
        .view_record("users", &user.id, &[], r.str("token"))
        .await;
    me.expect(200);
    assert!(!is_guest(&app, "users", r.str("token")).await);
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_gives_400_failed_to_authenticate() {
    let app = spawn_app().await;
    app.create_user("u1@example.com").await;
    for (coll, identity, password) in [
        ("_superusers", SUPERUSER_EMAIL, "wrong-password"),
        ("_superusers", "nobody@example.com", SUPERUSER_PASSWORD),
        ("users", "u1@example.com", "wrong-password"),
        ("users", "nobody@example.com", USER_PASSWORD),
        ("users", SUPERUSER_EMAIL, SUPERUSER_PASSWORD),
    ] {
        let r = app.auth_with_password(coll, identity, password).await;
        assert_error(&r, 400, "Failed to authenticate.");
        assert_eq!(r.body["data"], json!({}), "{coll} {identity}");
    }
}

#[tokio::test]
async fn an_empty_identity_and_password_give_validation_required() {
    let app = spawn_app().await;
    let r = app.auth_with_password("_superusers", "", "").await;
    assert_error(
        &r,
        400,
        "An error occurred while validating the submitted data.",
    );
    assert_eq!(r.body["data"]["identity"]["code"], "validation_required");
    assert_eq!(r.body["data"]["password"]["code"], "validation_required");
}

/// As in PocketBase, whose forms are typed: a JSON value that is not text where text is read
/// does not load; the superusers' verification is refused before anything is read.
#[tokio::test]
async fn auth_forms_refuse_values_that_are_not_text() {
    let app = spawn_app().await;
    let loading = "An error occurred while loading the submitted data.";
    for (path, body) in [
        (
            "users/auth-with-password",
            json!({"identity": 123, "password": "x"}),
        ),
        (
            "users/auth-with-password",
            json!({"identity": "a", "password": true}),
        ),
        ("users/request-password-reset", json!({"email": {"a": 1}})),
        ("users/request-verification", json!({"email": 1})),
        ("users/confirm-verification", json!({"token": 1})),
    ] {
        let r = app
            .request(
                reqwest::Method::POST,
                &format!("/api/collections/{path}"),
                GUEST,
                Some(&body),
            )
            .await;
        assert_error(&r, 400, loading);
    }
    let r = app
        .request(
            reqwest::Method::POST,
            "/api/collections/_superusers/request-verification",
            GUEST,
            Some(&json!({"email": "not an email"})),
        )
        .await;
    assert_error(&r, 400, "All superusers are verified by default.");
}

#[tokio::test]
async fn auth_refresh_returns_a_fresh_working_token_for_the_same_record() {
    let app = spawn_app().await;
    let r = app.auth_refresh("_superusers", &app.superuser_token).await;
    r.expect(200);
    assert_eq!(r.body["record"]["email"], SUPERUSER_EMAIL);
    let list = app.list_collections(&[], r.str("token")).await;
    list.expect(200);
    let user = app.create_user("u1@example.com").await;
    let r = app.auth_refresh("users", &user.token).await;
    r.expect(200);
    assert_eq!(r.body["record"]["id"], user.id.as_str());
}

#[tokio::test]
async fn auth_refresh_without_or_with_a_garbage_token_gives_401() {
    let app = spawn_app().await;
    assert_error(
        &app.auth_refresh("_superusers", GUEST).await,
        401,
        NEEDS_TOKEN,
    );
    assert_error(
        &app.auth_refresh("_superusers", "not.a.jwt").await,
        401,
        NEEDS_TOKEN,
    );
    assert_error(
        &app.auth_refresh("_superusers", "garbage").await,
        401,
        NEEDS_TOKEN,
    );
}

#[tokio::test]
async fn a_garbage_token_on_a_public_endpoint_is_a_guest_not_an_error() {
    let app = spawn_app().await;
    app.must_create_collection(crate::helpers::public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}]),
    ))
    .await;
    app.must_create_record("notes", json!({"title": "hello"}))
        .await;
    let list = app.list_records("notes", &[], "invalid.token.value").await;
    list.expect(200);
    assert_eq!(list.body["totalItems"], 1);
    assert_error(
        &app.list_collections(&[], "invalid.token.value").await,
        401,
        NEEDS_TOKEN,
    );
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_a_guest() {
    let app = spawn_app().await;
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    // A's signature on a payload claiming to be B.
    let parts: Vec<&str> = a.token.split('.').collect();
    let mut claims = payload(&a.token);
    claims["id"] = json!(b.id);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(claims.to_string().as_bytes()),
        parts[2]
    );
    assert!(is_guest(&app, "users", &forged).await);
    assert_eq!(
        app.view_record("users", &b.id, &[], &forged).await.status,
        404
    );
    // A user's token made to claim the superusers collection is no superuser either.
    let mut claims = payload(&a.token);
    claims["collectionId"] = json!("pbc_3142635823");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_error(&app.list_collections(&[], &forged).await, 401, NEEDS_TOKEN);
    // A flipped signature byte.
    let mut sig = parts[2].to_owned();
    let last = if sig.ends_with('A') { 'B' } else { 'A' };
    sig.pop();
    sig.push(last);
    let forged = format!("{}.{}.{}", parts[0], parts[1], sig);
    assert!(is_guest(&app, "users", &forged).await);
}

#[tokio::test]
async fn an_alg_none_token_is_a_guest() {
    let app = spawn_app().await;
    let su = payload(&app.superuser_token);
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "None", "typ": "JWT"}),
        json!({"alg": "HS512", "typ": "JWT"}),
    ] {
        let token = format!(
            "{}.{}.",
            b64url(header.to_string().as_bytes()),
            b64url(su.to_string().as_bytes())
        );
        assert_error(&app.list_collections(&[], &token).await, 401, NEEDS_TOKEN);
        assert!(is_guest(&app, "_superusers", &token).await, "{header}");
    }
}

/// `token` signed again with its record's real key, expiring at `exp` (a unix time).
async fn resigned(app: &TestApp, token: &str, exp: i64) -> String {
    let record = app
        .core
        .auth()
        .authenticate(token)
        .await
        .record()
        .cloned()
        .expect("the token authenticates");
    let mut key = record.get_str("tokenKey").as_bytes().to_vec();
    key.extend_from_slice(record.collection.auth_token_secret().as_bytes());
    let mut claims = payload(token);
    claims["exp"] = json!(exp);
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&key),
    )
    .expect("sign")
}

#[tokio::test]
async fn an_expired_but_correctly_signed_token_is_a_guest() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    // The same key with a future exp works, so only the expiry is what rejects the other one.
    let valid = resigned(&app, &user.token, chrono_now() + 3600).await;
    assert!(
        !is_guest(&app, "users", &valid).await,
        "a re-signed valid token authenticates"
    );
    let expired = resigned(&app, &user.token, chrono_now() - 60).await;
    assert!(is_guest(&app, "users", &expired).await);
    assert_eq!(
        app.view_record("users", &user.id, &[], &expired)
            .await
            .status,
        404
    );
}

/// Tokens are verified once and then remembered: the memory must not outlive the token's
/// expiry, nor its record.
#[tokio::test]
async fn a_token_that_worked_stops_at_its_expiry_and_with_its_record() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    let short = resigned(&app, &user.token, chrono_now() + 60).await;
    assert!(
        !is_guest(&app, "users", &short).await,
        "valid while unexpired"
    );
    // The app's clock moves past the expiry; the remembered verification must not outlive it.
    app.core.clock().advance(std::time::Duration::from_secs(61));
    assert!(is_guest(&app, "users", &short).await, "expired");

    assert!(!is_guest(&app, "users", &user.token).await);
    app.delete_record("users", &user.id, &app.superuser_token)
        .await
        .expect(204);
    assert!(
        is_guest(&app, "users", &user.token).await,
        "the record is gone"
    );
}

#[tokio::test]
async fn a_password_change_invalidates_older_tokens() {
    let app = spawn_app().await;
    let user = app.create_user("u1@example.com").await;
    let old = user.token.clone();
    assert!(!is_guest(&app, "users", &old).await);
    let r = app
        .update_record("users", &user.id, json!({"oldPassword": USER_PASSWORD, "password": "newpass123", "passwordConfirm": "newpass123"}), &old)
        .await;
    r.expect(200);
    assert!(
        is_guest(&app, "users", &old).await,
        "the old token must stop working"
    );
    assert_error(
        &app.auth_with_password("users", "u1@example.com", USER_PASSWORD)
            .await,
        400,
        "Failed to authenticate.",
    );
    let fresh = app
        .auth_with_password("users", "u1@example.com", "newpass123")
        .await;
    fresh.expect(200);
    assert!(!is_guest(&app, "users", fresh.str("token")).await);
}

#[tokio::test]
async fn a_superuser_password_change_invalidates_older_superuser_tokens() {
    let app = spawn_app().await;
    let old = app.superuser_token.clone();
    app.core
        .auth()
        .upsert_superuser(app.core.records(), SUPERUSER_EMAIL, "another-password-1")
        .await
        .expect("upsert");
    assert_error(&app.list_collections(&[], &old).await, 401, NEEDS_TOKEN);
    let fresh = app
        .auth_with_password("_superusers", SUPERUSER_EMAIL, "another-password-1")
        .await;
    fresh.expect(200);
    app.list_collections(&[], fresh.str("token"))
        .await
        .expect(200);
}

#[tokio::test]
async fn auth_methods_lists_password_auth_for_users() {
    let app = spawn_app().await;
    let r = app.auth_methods("users").await;
    r.expect(200);
    assert_eq!(r.body["password"]["enabled"], true);
    assert_eq!(r.body["password"]["identityFields"], json!(["email"]));
}

#[tokio::test]
async fn the_manage_rule_lets_a_manager_change_another_users_password_and_verified_flag() {
    let app = spawn_app().await;
    let admin = app.create_user("manager@example.com").await;
    let member = app.create_user("member@example.com").await;
    let su = app.superuser_token.clone();
    // Everyone may update any user here; only the manager may manage them.
    let rules = json!({"updateRule": "@request.auth.id != ''", "manageRule": format!("@request.auth.id = '{}'", admin.id)});
    app.update_collection("users", rules, &su).await.expect(200);

    // A plain user needs the old password and cannot set `verified` on another account.
    let attempt = app
        .update_record(
            "users",
            &admin.id,
            json!({"password": "newpass123", "passwordConfirm": "newpass123"}),
            &member.token,
        )
        .await;
    assert_eq!(attempt.status, 400);
    // As in PocketBase: a missing old password is "required", a wrong one "invalid".
    assert_eq!(
        attempt.body["data"]["oldPassword"]["code"],
        "validation_required"
    );
    // PocketBase refuses it (it used to be dropped silently here).
    let refused = app
        .update_record("users", &admin.id, json!({"verified": true}), &member.token)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(
        refused.body["data"]["verified"]["code"],
        "validation_values_mismatch"
    );

    // The manager needs neither.
    let managed = app
        .update_record(
            "users",
            &member.id,
            json!({"password": "managed123", "passwordConfirm": "managed123", "verified": true}),
            &admin.token,
        )
        .await;
    managed.expect(200);
    assert_eq!(managed.body["verified"], true);
    app.auth_with_password("users", "member@example.com", "managed123")
        .await
        .expect(200);
    // The member's token from before the password change no longer authenticates.
    assert!(is_guest(&app, "users", &member.token).await);
}

#[tokio::test]
async fn a_token_stops_authenticating_as_soon_as_its_user_is_deleted_or_truncated_away() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let deleted = app.create_user("deleted@example.com").await;
    let truncated = app.create_user("truncated@example.com").await;
    // Both tokens work (and are now in the identity cache).
    assert!(!is_guest(&app, "users", &deleted.token).await);
    assert!(!is_guest(&app, "users", &truncated.token).await);

    app.delete_record("users", &deleted.id, &su)
        .await
        .expect(204);
    assert!(is_guest(&app, "users", &deleted.token).await);

    app.truncate_collection("users", &su).await.expect(204);
    assert!(is_guest(&app, "users", &truncated.token).await);
}
