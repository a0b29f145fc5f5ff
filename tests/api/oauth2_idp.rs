//! A stand-in OAuth2 provider for the Rust tests (the SDK suite uses the real npm
//! `oidc-provider`): the token and user-info endpoints of an OpenID provider on
//! `127.0.0.1:0`. A test "authorizes" a user by registering a code with the PKCE challenge
//! the authorization request carried; the token endpoint then checks client credentials,
//! redirect URI and the verifier like a provider does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "oxbase-test";
pub const CLIENT_SECRET: &str = "s3cret";

#[derive(Default)]
struct Grants {
    /// code -> (challenge, redirect URI, the user's claims)
    codes: HashMap<String, (String, String, Value)>,
    /// access token -> claims
    tokens: HashMap<String, Value>,
}

#[derive(Clone, Default)]
pub struct Idp {
    pub base: String,
    grants: Arc<Mutex<Grants>>,
}

impl Idp {
    pub async fn start() -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let idp = Idp {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            ..Idp::default()
        };
        let router = Router::new()
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(idp.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        idp
    }

    /// The `oauth2` collection options enabling this provider as `oidc`.
    pub fn options(&self) -> Value {
        json!({"oauth2": {"enabled": true, "providers": [{
            "name": "oidc", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "displayName": "Test IdP",
            "authURL": format!("{}/auth", self.base), "tokenURL": format!("{}/token", self.base),
            "userInfoURL": format!("{}/userinfo", self.base),
        }]}})
    }

    /// What the provider's login page would do: a code for `claims`, bound to `challenge`.
    pub fn authorize(&self, claims: Value, challenge: &str, redirect: &str) -> String {
        let code = format!("code-{}", rand_suffix());
        self.grants.lock().expect("grants").codes.insert(
            code.clone(),
            (challenge.to_owned(), redirect.to_owned(), claims),
        );
        code
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

fn s256(verifier: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    let mut out = String::new();
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for chunk in digest.chunks(3) {
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

async fn token(
    State(idp): State<Idp>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let refuse = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": e})));
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return refuse("invalid_client");
    }
    let Some((challenge, redirect, claims)) = idp
        .grants
        .lock()
        .expect("grants")
        .codes
        .remove(&field("code"))
    else {
        return refuse("invalid_grant");
    };
    if redirect != field("redirect_uri")
        || s256(&field("code_verifier")) != challenge
        || field("grant_type") != "authorization_code"
    {
        return refuse("invalid_grant");
    }
    let access = format!("at-{}", rand_suffix());
    idp.grants
        .lock()
        .expect("grants")
        .tokens
        .insert(access.clone(), claims);
    (
        StatusCode::OK,
        Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600})),
    )
}

async fn userinfo(State(idp): State<Idp>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match idp.grants.lock().expect("grants").tokens.get(bearer) {
        Some(claims) => (StatusCode::OK, Json(claims.clone())),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_token"})),
        ),
    }
}
