//! OAuth2 sign-in against a stand-in provider (`oauth2_idp`): sign-up, repeat login, PKCE,
//! the account-takeover guard, explicit linking, the realtime `@oauth2` redirect.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, Resp, TestApp, assert_error, field_code, spawn_app};
use crate::oauth2_idp::Idp;

const REDIRECT: &str = "http://127.0.0.1:1/callback";
const TAKEN: &str =
    "An account with this email already exists. Sign in to it first, then link this provider.";

async fn app_with_idp() -> (TestApp, Idp) {
    let app = spawn_app().await;
    let idp = Idp::start().await;
    app.update_collection("users", idp.options(), &app.superuser_token)
        .await
        .expect(200);
    (app, idp)
}

/// The `oidc` entry of auth-methods (a fresh state and PKCE pair each time).
async fn provider_info(app: &TestApp) -> Value {
    let m = app.auth_methods("users").await;
    m.expect(200);
    m.body["oauth2"]["providers"][0].clone()
}

/// The whole flow as a client runs it: auth-methods, the provider's login (a code bound to
/// the PKCE challenge), then auth-with-oauth2 with the verifier.
async fn sign_in(app: &TestApp, idp: &Idp, claims: Value, token: &str) -> Resp {
    let p = provider_info(app).await;
    let code = idp.authorize(claims, p["codeChallenge"].as_str().unwrap_or(""), REDIRECT);
    let body = json!({"provider": "oidc", "code": code, "codeVerifier": p["codeVerifier"], "redirectURL": REDIRECT, "createData": {"name": "From OAuth2"}});
    app.auth_with_oauth2("users", &body, token).await
}

fn claims(sub: &str, email: &str, verified: bool) -> Value {
    json!({"sub": sub, "email": email, "email_verified": verified, "name": "Ann"})
}

async fn external_auths(app: &TestApp) -> Vec<Value> {
    app.list_records("_externalAuths", &[], &app.superuser_token)
        .await
        .items()
}

#[tokio::test]
async fn auth_methods_lists_the_provider_with_a_pkce_authorization_url() {
    let (app, _idp) = app_with_idp().await;
    let m = app.auth_methods("users").await;
    assert_eq!(m.body["oauth2"]["enabled"], true);
    let p = &m.body["oauth2"]["providers"][0];
    assert_eq!(p["name"], "oidc");
    assert_eq!(p["displayName"], "Test IdP");
    assert_eq!(p["codeChallengeMethod"], "S256");
    let url = p["authURL"].as_str().unwrap_or("");
    assert!(
        url.contains("client_id=oxbase-test")
            && url.contains(&format!("state={}", p["state"].as_str().unwrap_or("-"))),
        "{url}"
    );
    assert!(
        url.contains(&format!(
            "code_challenge={}",
            p["codeChallenge"].as_str().unwrap_or("-")
        )),
        "{url}"
    );
    assert!(url.ends_with("&redirect_uri="), "{url}");
    assert_eq!(m.body["authProviders"], m.body["oauth2"]["providers"]);
    assert_eq!(p["authUrl"], p["authURL"]);
}

#[tokio::test]
async fn a_new_provider_user_signs_up_then_signs_in_to_the_same_record() {
    let (app, idp) = app_with_idp().await;
    let first = sign_in(&app, &idp, claims("sub-1", "ann@example.com", true), GUEST).await;
    first.expect(200);
    let record = &first.body["record"];
    assert_eq!(record["email"], "ann@example.com");
    assert_eq!(
        record["verified"], true,
        "the provider verified the address"
    );
    assert_eq!(record["name"], "From OAuth2");
    assert_eq!(first.body["meta"]["isNew"], true);
    assert_eq!(first.body["meta"]["id"], "sub-1");
    assert_eq!(first.body["meta"]["rawUser"]["email"], "ann@example.com");
    app.auth_refresh("users", first.str("token"))
        .await
        .expect(200);
    let again = sign_in(&app, &idp, claims("sub-1", "ann@example.com", true), GUEST).await;
    again.expect(200);
    assert_eq!(again.body["record"]["id"], record["id"]);
    assert_eq!(again.body["meta"]["isNew"], false);
    let links = external_auths(&app).await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["provider"], "oidc");
    assert_eq!(links[0]["providerId"], "sub-1");
    assert_eq!(links[0]["recordRef"], record["id"]);
}

#[tokio::test]
async fn an_unverified_provider_address_never_takes_over_an_existing_account() {
    let (app, idp) = app_with_idp().await;
    let victim = app.create_user_record("victim@example.com").await;
    app.update_record(
        "users",
        &victim,
        json!({"verified": true}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let r = sign_in(
        &app,
        &idp,
        claims("attacker", "victim@example.com", false),
        GUEST,
    )
    .await;
    assert_error(&r, 400, TAKEN);
    assert!(external_auths(&app).await.is_empty());
    // The same address verified by the provider, on a verified account: linked.
    let r = sign_in(
        &app,
        &idp,
        claims("owner", "victim@example.com", true),
        GUEST,
    )
    .await;
    r.expect(200);
    assert_eq!(r.body["record"]["id"], victim.as_str());
}

#[tokio::test]
async fn a_pre_registered_unverified_account_is_not_linked_even_to_a_verified_provider_address() {
    let (app, idp) = app_with_idp().await;
    // The attacker registered the victim's address with a password and never verified it.
    app.create_user_record("victim@example.com").await;
    let r = sign_in(
        &app,
        &idp,
        claims("victim-sub", "victim@example.com", true),
        GUEST,
    )
    .await;
    assert_error(&r, 400, TAKEN);
    assert!(external_auths(&app).await.is_empty());
}

#[tokio::test]
async fn links_made_before_an_address_was_verified_are_dropped_when_it_is() {
    let (app, idp) = app_with_idp().await;
    // A record created from a provider that did not verify the address: unverified, linked.
    let first = sign_in(
        &app,
        &idp,
        claims("early-sub", "owner@example.com", false),
        GUEST,
    )
    .await;
    first.expect(200);
    assert_eq!(first.body["record"]["verified"], false);
    assert_eq!(external_auths(&app).await.len(), 1);
    // The owner of the address proves it with a verification link.
    let verification = {
        let core_record = app
            .core
            .auth()
            .authenticate(first.str("token"))
            .await
            .record()
            .cloned()
            .expect("record");
        oxbase_core::auth::tokens::issue_kind(
            &core_record,
            oxbase_core::auth::tokens::TokenKind::Verification,
            oxbase_core::auth::tokens::Claims {
                email: "owner@example.com".into(),
                ..Default::default()
            },
        )
        .expect("token")
    };
    app.request(
        Method::POST,
        "/api/collections/users/confirm-verification",
        GUEST,
        Some(&json!({"token": verification})),
    )
    .await
    .expect(204);
    assert!(
        external_auths(&app).await.is_empty(),
        "the early link is gone"
    );
    // The early identity now matches the verified record only by an unverified address.
    let r = sign_in(
        &app,
        &idp,
        claims("early-sub", "owner@example.com", false),
        GUEST,
    )
    .await;
    assert_error(&r, 400, TAKEN);
}

#[tokio::test]
async fn a_signed_in_user_links_a_provider_explicitly() {
    let (app, idp) = app_with_idp().await;
    let user = app.create_user("me@example.com").await;
    let r = sign_in(
        &app,
        &idp,
        claims("other-sub", "someone-else@example.com", false),
        &user.token,
    )
    .await;
    r.expect(200);
    assert_eq!(r.body["record"]["id"], user.id.as_str());
    let links = external_auths(&app).await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["recordRef"], user.id.as_str());
    // Linked: the identity now signs in to that record without a token.
    let again = sign_in(
        &app,
        &idp,
        claims("other-sub", "someone-else@example.com", false),
        GUEST,
    )
    .await;
    assert_eq!(again.body["record"]["id"], user.id.as_str());
    // A second account of the same provider cannot be linked to the same record.
    let r = sign_in(
        &app,
        &idp,
        claims("second-sub", "x2@example.com", false),
        &user.token,
    )
    .await;
    assert_error(
        &r,
        400,
        "The record is already linked to another account of this provider.",
    );
    // Another signed-in user cannot take the same identity.
    let other = app.create_user("other@example.com").await;
    let r = sign_in(
        &app,
        &idp,
        claims("other-sub", "x@example.com", false),
        &other.token,
    )
    .await;
    assert_error(
        &r,
        400,
        "The OAuth2 account is already linked to another record.",
    );
}

#[tokio::test]
async fn bad_codes_verifiers_and_providers_fail_cleanly() {
    let (app, idp) = app_with_idp().await;
    let p = provider_info(&app).await;
    let code = idp.authorize(
        claims("s", "a@example.com", true),
        p["codeChallenge"].as_str().unwrap_or(""),
        REDIRECT,
    );
    let app = &app;
    let post = |body: Value| async move { app.auth_with_oauth2("users", &body, GUEST).await };
    // A verifier that does not match the challenge: the provider refuses the code.
    let r = post(json!({"provider": "oidc", "code": code, "codeVerifier": "wrong-verifier-wrong-verifier-wrong-verifier-x", "redirectURL": REDIRECT})).await;
    assert_error(&r, 400, "Failed to fetch OAuth2 token.");
    let r = post(json!({"provider": "oidc", "code": "made-up", "codeVerifier": p["codeVerifier"], "redirectURL": REDIRECT})).await;
    assert_error(&r, 400, "Failed to fetch OAuth2 token.");
    let r = post(json!({"provider": "github", "code": "c", "redirectURL": REDIRECT})).await;
    assert_error(
        &r,
        400,
        "An error occurred while loading the submitted data.",
    );
    assert_eq!(field_code(&r, "provider"), "validation_invalid_provider");
    assert_eq!(
        r.body["data"]["provider"]["params"],
        json!({"name": "github"})
    );
    let r = post(json!({})).await;
    for f in ["provider", "code", "redirectURL"] {
        assert_eq!(field_code(&r, f), "validation_required", "{f}");
    }
    app.update_collection(
        "users",
        json!({"oauth2": {"enabled": false}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let r = post(json!({"provider": "oidc", "code": "c", "redirectURL": REDIRECT})).await;
    assert_error(
        &r,
        403,
        "The collection is not configured to allow OAuth2 authentication.",
    );
    assert_eq!(
        app.auth_methods("users").await.body["oauth2"],
        json!({"enabled": false, "providers": []})
    );
}

#[tokio::test]
async fn the_oauth2_redirect_forwards_the_code_to_the_realtime_client_named_by_state() {
    let app = spawn_app().await;
    let mut sse = app.subscribed(&["@oauth2"], GUEST).await;
    let (status, location) = redirect_of(
        &app,
        reqwest::Method::GET,
        &format!("/api/oauth2-redirect?code=the-code&state={}", sse.client_id),
        "",
    )
    .await;
    // PocketBase's answer: the dashboard's result page.
    assert_eq!(status, 307);
    assert_eq!(location, "../_/#/auth/oauth2-redirect-success");
    let event = sse.expect_event().await;
    assert_eq!(event.event, "@oauth2");
    assert_eq!(
        event.json(),
        json!({"state": sse.client_id, "code": "the-code", "error": ""})
    );
    for (method, status) in [(reqwest::Method::GET, 307), (reqwest::Method::POST, 303)] {
        let target = "/api/oauth2-redirect?code=c&state=unknown-client";
        let (got, location) = redirect_of(&app, method, target, "").await;
        assert_eq!(got, status);
        assert_eq!(location, "../_/#/auth/oauth2-redirect-failure");
    }
}

/// The status and `Location` of a request (with a form body), without following the
/// redirect.
pub async fn redirect_of(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    form: &str,
) -> (u16, String) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = client
        .request(method, app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .expect("request");
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (r.status().as_u16(), location)
}
