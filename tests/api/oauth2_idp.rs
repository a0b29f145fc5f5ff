//! A stand-in OAuth2 provider for the Rust tests (the SDK suite uses the real npm
//! `oidc-provider`): the token and user-info endpoints of an OpenID provider on
//! `127.0.0.1:0`. A test "authorizes" a user by registering a code with the PKCE challenge
//! the authorization request carried; the token endpoint then checks client credentials,
//! redirect URI and the verifier like a provider does, and answers with an `id_token` (ES256,
//! its key in `/jwks`, found from `/.well-known/openid-configuration`) holding the claims over
//! `iss` = the IdP, `aud` = the client, a 10-minute `exp`. Claims may override those, and
//! `"_key": "other"` signs with a key outside the set. It also serves `/avatar.png`.

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
            .route("/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/avatar.png", get(avatar))
            .route("/huge.png", get(huge))
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

    /// The `oauth2` options enabling this IdP as the provider `name` (a named one's URLs
    /// pointed here), with the entry's `more` fields, and `mappedFields`.
    pub fn provider_options(&self, name: &str, more: Value, mapped: Value) -> Value {
        let mut entry = json!({
            "name": name, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "authURL": format!("{}/auth", self.base), "tokenURL": format!("{}/token", self.base),
        });
        if let (Some(e), Some(m)) = (entry.as_object_mut(), more.as_object()) {
            e.extend(m.clone());
        }
        json!({"oauth2": {"enabled": true, "mappedFields": mapped, "providers": [entry]}})
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
    let id_token = sign_id_token(&idp.base, &claims);
    idp.grants
        .lock()
        .expect("grants")
        .tokens
        .insert(access.clone(), claims);
    (
        StatusCode::OK,
        Json(
            json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": id_token}),
        ),
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

pub const KID: &str = "test-key";
/// The IdP's ES256 key (PKCS#8 DER, hex) and its public half as a JWK.
const KEY_DER: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042078175e5251fb36a8f58407c9d65b270af2d919a8f3809a09b7d75b4f0adf664ba144034200045c0f5000e46e85e99e8de523111b065ce3d9bc0892da58cfc8b97827b7f61c70bd2e2d09e59d11e15209978f11bba0b16bb453cc75bb603f11efaae54edc6427";
const KEY_X: &str = "XA9QAORuhemejeUjERsGXOPZvAiS2ljPyLl4J7f2HHA";
const KEY_Y: &str = "vS4tCeWdEeFSCZePEbugsWu0U8x1u2A_Ee-q5U7cZCc";
/// A key the set does not hold (a forged token).
const OTHER_KEY_DER: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420893ee1df56574e789d8bab5d00952a811bb2534bb4a1925bb2dd4dba18fc55a0a1440342000410ec477440c8d0b1dea8d5055ef64620328882553ba702da022d02f195aec5233d1a3d0e1dc9e8d69eee33b4be98565c4da64ae015d097613506138c5659a168";
/// A 1x1 PNG.
pub const PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0,
    0, 0, 31, 21, 196, 137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 156, 99, 248, 207, 192, 240, 31, 0,
    5, 0, 1, 255, 137, 153, 61, 29, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn sign_id_token(issuer: &str, claims: &Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut all = json!({"iss": issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 600});
    if let (Some(a), Some(c)) = (all.as_object_mut(), claims.as_object()) {
        a.extend(c.clone());
    }
    let der = if claims["_key"] == "other" {
        OTHER_KEY_DER
    } else {
        KEY_DER
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(KID.to_owned());
    jsonwebtoken::encode(
        &header,
        &all,
        &jsonwebtoken::EncodingKey::from_ec_der(&hex(der)),
    )
    .expect("sign")
}

async fn jwks() -> Json<Value> {
    Json(json!({"keys": [
        {"kty": "EC", "crv": "P-256", "x": KEY_X, "y": KEY_Y, "kid": KID, "alg": "ES256", "use": "sig"},
    ]}))
}

async fn discovery(State(idp): State<Idp>) -> Json<Value> {
    Json(json!({"issuer": idp.base, "jwks_uri": format!("{}/jwks", idp.base)}))
}

async fn avatar() -> ([(&'static str, &'static str); 1], &'static [u8]) {
    ([("content-type", "image/png")], PNG)
}

/// Past the avatar size limit (5 MiB).
async fn huge() -> ([(&'static str, &'static str); 1], Vec<u8>) {
    let mut body = PNG.to_vec();
    body.resize(6 << 20, 0);
    ([("content-type", "image/png")], body)
}
