//! OAuth2 beyond the user-info flow: users read from a signed `id_token` (generic OIDC and
//! Apple, with the key set and claims checked), Apple's redirect name and client secret, and
//! the provider's avatar downloaded into a mapped file field. The provider is the stand-in
//! of `oauth2_idp` (the SDK suite runs the id_token flow against the real `oidc-provider`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, Resp, TestApp, assert_error, encode, spawn_app};
use crate::oauth2_idp::{Idp, PNG};

const REDIRECT: &str = "http://127.0.0.1:1/callback";
const NO_USER: &str = "Failed to fetch OAuth2 user.";

/// The app with the IdP as `provider`; `more` gives the entry's extra fields (it may name the
/// IdP's URLs).
async fn app_with(provider: &str, more: impl Fn(&Idp) -> Value, mapped: Value) -> (TestApp, Idp) {
    let app = spawn_app().await;
    let idp = Idp::start().await;
    configure(&app, &idp, provider, more(&idp), mapped).await;
    (app, idp)
}

async fn configure(app: &TestApp, idp: &Idp, provider: &str, more: Value, mapped: Value) {
    app.update_collection(
        "users",
        idp.provider_options(provider, more, mapped),
        &app.superuser_token,
    )
    .await
    .expect(200);
}

/// auth-methods, the provider's login (a code for `claims`), then auth-with-oauth2.
async fn sign_in_with(app: &TestApp, idp: &Idp, provider: &str, claims: Value) -> Resp {
    let code = authorize(app, idp, claims).await;
    exchange(app, provider, &code).await
}

async fn authorize(app: &TestApp, idp: &Idp, claims: Value) -> (String, String) {
    let m = app.auth_methods("users").await;
    let p = &m.expect(200).body["oauth2"]["providers"][0];
    let challenge = p["codeChallenge"].as_str().unwrap_or("");
    (
        idp.authorize(claims, challenge, REDIRECT),
        p["codeVerifier"].as_str().unwrap_or("").to_owned(),
    )
}

async fn exchange(app: &TestApp, provider: &str, (code, verifier): &(String, String)) -> Resp {
    let body = json!({"provider": provider, "code": code, "codeVerifier": verifier, "redirectURL": REDIRECT});
    app.auth_with_oauth2("users", &body, GUEST).await
}

fn person(sub: &str) -> Value {
    json!({"sub": sub, "email": format!("{sub}@example.com"), "email_verified": true, "name": "Ida Token"})
}

#[tokio::test]
async fn an_oidc_provider_without_user_info_reads_the_checked_id_token() {
    let (app, idp) = app_with(
        "oidc",
        |idp| json!({"extra": {"jwksURL": format!("{}/jwks", idp.base)}}),
        json!({"name": "name"}),
    )
    .await;
    let r = sign_in_with(&app, &idp, "oidc", person("tok-1")).await;
    r.expect(200);
    assert_eq!(r.body["record"]["email"], "tok-1@example.com");
    assert_eq!(r.body["record"]["verified"], true);
    assert_eq!(r.body["record"]["name"], "Ida Token");
    assert_eq!(r.body["meta"]["id"], "tok-1");
    assert_eq!(r.body["meta"]["rawUser"]["iss"], idp.base.as_str());
    // No jwksURL: the keys are found from the allowed issuer's discovery document.
    configure(
        &app,
        &idp,
        "oidc",
        json!({"extra": {"issuers": [idp.base]}}),
        json!({}),
    )
    .await;
    let again = sign_in_with(&app, &idp, "oidc", person("tok-1")).await;
    again.expect(200);
    assert_eq!(again.body["record"]["id"], r.body["record"]["id"]);
}

#[tokio::test]
async fn forged_expired_foreign_and_wrong_issuer_id_tokens_are_refused() {
    let (app, idp) = app_with(
        "oidc",
        |idp| json!({"extra": {"issuers": [idp.base]}}),
        json!({}),
    )
    .await;
    let long_ago = chrono::Utc::now().timestamp() - 3600;
    for (why, overrides) in [
        (
            "signed with a key outside the set",
            json!({"_key": "other"}),
        ),
        (
            "expired past the leeway",
            json!({"exp": long_ago, "iat": long_ago - 60}),
        ),
        ("for another client", json!({"aud": "someone-else"})),
        (
            "from another issuer",
            json!({"iss": "https://evil.example"}),
        ),
        ("without exp", json!({"exp": null})),
    ] {
        let mut claims = person("bad");
        if let (Some(c), Some(o)) = (claims.as_object_mut(), overrides.as_object()) {
            c.extend(o.clone());
        }
        let r = sign_in_with(&app, &idp, "oidc", claims).await;
        assert_error(&r, 400, NO_USER);
        assert_eq!(r.body["data"], json!({}), "{why}");
    }
    let users = app.list_records("users", &[], &app.superuser_token).await;
    assert!(users.items().is_empty(), "no record was created");
}

/// Apple's side of the popup flow: it form-posts code, state and (once) the user's name.
async fn form_post_redirect(app: &TestApp, code: &str, client_id: &str, user: &str) {
    let form = format!(
        "code={}&state={}&user={}",
        encode(code),
        encode(client_id),
        encode(user)
    );
    let (status, location) =
        crate::oauth2::redirect_of(app, Method::POST, "/api/oauth2-redirect", &form).await;
    assert_eq!(status, 303);
    assert_eq!(location, "../_/#/auth/oauth2-redirect-success");
}

#[tokio::test]
async fn apple_signs_in_from_its_id_token_with_the_name_of_its_form_post_redirect() {
    let (app, idp) = app_with(
        "apple",
        |idp| json!({"extra": {"jwksURL": format!("{}/jwks", idp.base)}}),
        json!({"name": "name"}),
    )
    .await;
    let apple = |sub: &str, iss: &str| json!({"sub": sub, "iss": iss, "email": format!("{sub}@privaterelay.appleid.com"), "email_verified": "true"});
    // The popup flow: Apple form-posts code, state and (once) the user's name.
    let mut sse = app.subscribed(&["@oauth2"], GUEST).await;
    let grant = authorize(&app, &idp, apple("apl-1", "https://appleid.apple.com")).await;
    form_post_redirect(
        &app,
        &grant.0,
        &sse.client_id,
        r#"{"name":{"firstName":"Ann","lastName":"Lee"},"email":"x@y.z"}"#,
    )
    .await;
    assert_eq!(sse.expect_event().await.json()["code"], grant.0.as_str());
    let r = exchange(&app, "apple", &grant).await;
    r.expect(200);
    assert_eq!(r.body["record"]["email"], "apl-1@privaterelay.appleid.com");
    assert_eq!(
        r.body["record"]["verified"], true,
        "Apple's \"true\" counts"
    );
    assert_eq!(r.body["record"]["name"], "Ann Lee");
    assert_eq!(r.body["meta"]["name"], "Ann Lee");
    // An id_token whose issuer is not Apple is refused.
    let r = sign_in_with(&app, &idp, "apple", apple("apl-2", &idp.base)).await;
    assert_error(&r, 400, NO_USER);
}

/// Behind a load balancer the redirect (with the name) and the code exchange may reach
/// different instances: the name is kept in the database they share.
#[tokio::test]
async fn apples_redirect_name_reaches_an_exchange_on_another_instance() {
    let (app, idp) = app_with(
        "apple",
        |idp| json!({"extra": {"jwksURL": format!("{}/jwks", idp.base)}}),
        json!({"name": "name"}),
    )
    .await;
    let Some(peer) = app.spawn_peer().await else {
        return;
    };
    let claims = json!({"sub": "apl-9", "iss": "https://appleid.apple.com", "email": "apl-9@privaterelay.appleid.com", "email_verified": "true"});
    let mut sse = peer.subscribed(&["@oauth2"], GUEST).await;
    let grant = authorize(&app, &idp, claims).await;
    form_post_redirect(
        &peer,
        &grant.0,
        &sse.client_id,
        r#"{"name":{"firstName":"Bo","lastName":"Yu"}}"#,
    )
    .await;
    assert_eq!(sse.expect_event().await.json()["code"], grant.0.as_str());
    let r = exchange(&app, "apple", &grant).await;
    r.expect(200);
    assert_eq!(r.body["record"]["name"], "Bo Yu");
}

#[tokio::test]
async fn a_new_user_gets_the_provider_avatar_in_the_mapped_file_field() {
    let (app, idp) = app_with(
        "oidc",
        |idp| json!({"userInfoURL": format!("{}/userinfo", idp.base)}),
        json!({"avatarURL": "avatar"}),
    )
    .await;
    let mut claims = person("pic-1");
    claims["picture"] = json!(format!("{}/avatar.png", idp.base));
    let r = sign_in_with(&app, &idp, "oidc", claims).await;
    r.expect(200);
    let record = &r.body["record"];
    let name = record["avatar"].as_str().unwrap_or("");
    assert!(name.ends_with(".png"), "stored as a file: {record}");
    let file = app
        .client
        .get(app.url(&format!(
            "/api/files/users/{}/{name}",
            record["id"].as_str().unwrap_or("")
        )))
        .send()
        .await
        .expect("file");
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), PNG);
    // A download that fails (too large, missing, not http) leaves the sign-up without it.
    for (sub, url) in [
        ("pic-2", format!("{}/huge.png", idp.base)),
        ("pic-3", format!("{}/missing.png", idp.base)),
        ("pic-4", "file:///etc/passwd".to_owned()),
    ] {
        let mut claims = person(sub);
        claims["picture"] = json!(url);
        let r = sign_in_with(&app, &idp, "oidc", claims).await;
        r.expect(200);
        assert_eq!(r.body["record"]["avatar"], "", "{url}");
        assert_eq!(r.body["meta"]["avatarURL"], url.as_str());
    }
    // An avatar the field refuses (here: only JPEG allowed) is left out too.
    let mut fields = app
        .view_collection("users", &app.superuser_token)
        .await
        .body["fields"]
        .clone();
    for f in fields.as_array_mut().into_iter().flatten() {
        if f["name"] == "avatar" {
            f["mimeTypes"] = json!(["image/jpeg"]);
        }
    }
    app.update_collection("users", json!({"fields": fields}), &app.superuser_token)
        .await
        .expect(200);
    let mut claims = person("pic-5");
    claims["picture"] = json!(format!("{}/avatar.png", idp.base));
    let r = sign_in_with(&app, &idp, "oidc", claims).await;
    r.expect(200);
    assert_eq!(r.body["record"]["avatar"], "");
}

const SECRET_PATH: &str = "/api/settings/apple/generate-client-secret";

async fn client_secret(app: &TestApp, body: &Value, token: &str) -> Resp {
    app.request(Method::POST, SECRET_PATH, token, Some(body))
        .await
}

#[tokio::test]
async fn the_apple_client_secret_is_an_es256_jwt_for_superusers_only() {
    let app = spawn_app().await;
    let key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeBdeUlH7Nqj1hAfJ\n1lsnCvLZGajzgJoJt9dbTwrfZkuhRANCAARcD1AA5G6F6Z6N5SMRGwZc49m8CJLa\nWM/IuXgnt/YccL0uLQnlnRHhUgmXjxG7oLFrtFPMdbtgPxHvquVO3GQn\n-----END PRIVATE KEY-----\n";
    let good = json!({"clientId": "com.example.app", "teamId": "TEAM123456", "keyId": "KID1234567", "privateKey": key, "duration": 3600});
    let r = client_secret(&app, &good, &app.superuser_token).await;
    r.expect(200);
    let secret = r.str("secret");
    let header = jsonwebtoken::decode_header(secret).expect("a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some("KID1234567"));
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(secret).expect("claims");
    assert_eq!(claims["iss"], "TEAM123456");
    assert_eq!(claims["sub"], "com.example.app");
    assert_eq!(claims["aud"], json!(["https://appleid.apple.com"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
        3600
    );
    // PB-COMPAT: the bodies below are what PocketBase 0.40.6 answers to the same requests.
    let r = client_secret(&app, &json!({"clientId": "a", "teamId": "b", "keyId": "c", "privateKey": "nope", "duration": 99_999_999}), &app.superuser_token).await;
    assert_eq!(
        r.body,
        json!({"data": {
            "duration": {"code": "validation_max_less_equal_than_required", "message": "Must be no greater than 15777000.", "params": {"threshold": 15_777_000}},
            "keyId": {"code": "validation_length_invalid", "message": "The length must be exactly 10.", "params": {"max": 10, "min": 10}},
            "privateKey": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
            "teamId": {"code": "validation_length_invalid", "message": "The length must be exactly 10.", "params": {"max": 10, "min": 10}}},
            "message": "Invalid client secret data.", "status": 400})
    );
    let r = client_secret(&app, &json!({}), &app.superuser_token).await;
    assert_error(&r, 400, "Invalid client secret data.");
    for f in ["clientId", "teamId", "keyId", "privateKey", "duration"] {
        assert_eq!(
            r.body["data"][f],
            json!({"code": "validation_required", "message": "Cannot be blank."}),
            "{f}"
        );
    }
    let r = client_secret(&app, &json!({"clientId": 5}), &app.superuser_token).await;
    assert_error(
        &r,
        400,
        "An error occurred while loading the submitted data.",
    );
    let r = app
        .raw(
            Method::POST,
            SECRET_PATH,
            &app.superuser_token,
            "application/json",
            "not json",
        )
        .await;
    assert_error(
        &r,
        400,
        "An error occurred while loading the submitted data.",
    );
    let mut bad_key = good.clone();
    bad_key["privateKey"] = json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----");
    let r = client_secret(&app, &bad_key, &app.superuser_token).await;
    assert_eq!(r.status, 400);
    assert!(
        r.str("message")
            .starts_with("Failed to generate client secret. Raw error: "),
        "{}",
        r.text
    );
    let r = client_secret(&app, &good, GUEST).await;
    assert_error(
        &r,
        401,
        "The request requires valid record authorization token.",
    );
    let user = app.create_user("plain@example.com").await;
    let r = client_secret(&app, &good, &user.token).await;
    assert_eq!(r.status, 403, "{}", r.text);
}
