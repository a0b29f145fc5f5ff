//! Sign in with Apple's two oddities besides its `id_token` (see `id_token`):
//! - its client secret is a JWT the app signs with its private key (ES256), made here for
//!   `POST /api/settings/apple/generate-client-secret`;
//! - it sends the user's name once, in the `user` field of the redirect's form post, never in
//!   the token: `RedirectNames` keeps it for a minute, keyed by the code, for the
//!   `auth-with-oauth2` call that follows.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use super::id_token::APPLE_ISSUER;
use crate::auth::forms::Errors;
use crate::error::{Error, Result};
use crate::store::tables;
use crate::store::{Db, text};

/// PB-COMPAT: the longest client secret Apple accepts (six months), PocketBase's limit.
pub const MAX_SECRET_SECONDS: i64 = 15_777_000;
const INVALID: &str = "Invalid client secret data.";
const UNREADABLE: &str = "An error occurred while loading the submitted data.";

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: [&'a str; 1],
    exp: i64,
    iat: i64,
}

/// `{clientId, teamId, keyId, privateKey, duration}` → `{secret}`, with PocketBase's field
/// errors.
pub fn generate_client_secret(body: &Map<String, Json>) -> Result<Json> {
    let text = |k: &str| match body.get(k) {
        None | Some(Json::Null) => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(Error::bad_request(UNREADABLE)),
    };
    let (client_id, team_id, key_id, private_key) = (
        text("clientId")?,
        text("teamId")?,
        text("keyId")?,
        text("privateKey")?,
    );
    let duration = match body.get("duration") {
        None | Some(Json::Null) => 0,
        Some(Json::Number(n)) => n.as_i64().ok_or_else(|| Error::bad_request(UNREADABLE))?,
        // Form posts carry text.
        Some(Json::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| Error::bad_request(UNREADABLE))?,
        Some(_) => return Err(Error::bad_request(UNREADABLE)),
    };
    let mut errors = Errors::default();
    errors.required("clientId", &client_id);
    for (field, value) in [("teamId", &team_id), ("keyId", &key_id)] {
        if errors.required(field, value) && value.chars().count() != 10 {
            errors.0.insert(
                field.into(),
                json!({"code": "validation_length_invalid", "message": "The length must be exactly 10.", "params": {"max": 10, "min": 10}}),
            );
        }
    }
    if errors.required("privateKey", &private_key) && pkcs8_body(&private_key).is_none() {
        errors.add(
            "privateKey",
            "validation_match_invalid",
            "Must be in a valid format.",
        );
    }
    if duration == 0 {
        errors.required("duration", "");
    } else if duration < 1 {
        errors.0.insert(
            "duration".into(),
            json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 1.", "params": {"threshold": 1}}),
        );
    } else if duration > MAX_SECRET_SECONDS {
        errors.0.insert(
            "duration".into(),
            json!({"code": "validation_max_less_equal_than_required", "message": format!("Must be no greater than {MAX_SECRET_SECONDS}."), "params": {"threshold": MAX_SECRET_SECONDS}}),
        );
    }
    if !errors.0.is_empty() {
        return Err(Error::BadRequest {
            message: INVALID.into(),
            data: errors.0,
        });
    }
    let secret = sign(&client_id, &team_id, &key_id, &private_key, duration).map_err(|e| {
        Error::bad_request(format!(
            "Failed to generate client secret. Raw error: \n{e}"
        ))
    })?;
    Ok(json!({ "secret": secret }))
}

fn sign(
    client_id: &str,
    team_id: &str,
    key_id: &str,
    pem: &str,
    duration: i64,
) -> std::result::Result<String, String> {
    let body = pkcs8_body(pem).unwrap_or_default();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("invalid key: {e}"))?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key_id.to_owned());
    let iat = chrono::Utc::now().timestamp();
    let claims = SecretClaims {
        iss: team_id,
        sub: client_id,
        aud: [APPLE_ISSUER],
        exp: iat + duration,
        iat,
    };
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&der))
        .map_err(|e| format!("key is not a valid ECDSA P-256 private key (PKCS#8): {e}"))
}

/// The base64 between a PKCS#8 PEM's markers (white space removed), or `None` when the text
/// has no such block. PB-COMPAT: PocketBase's check is the same match of the markers.
fn pkcs8_body(pem: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let len = pem[start..].find(END)?;
    Some(pem[start..start + len].split_whitespace().collect())
}

/// How long an Apple redirect's name waits for its `auth-with-oauth2` (PocketBase: a minute).
/// The names are kept in the database (`store::tables::apple_names`), not in memory: behind a
/// load balancer the redirect and the code exchange may reach different instances.
const NAME_TTL: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// The full name in Apple's `user` field (`{"name": {"firstName", "lastName"}}`); None when
/// unreadable or empty.
fn redirect_name(user: &str) -> Option<String> {
    if user.len() > 10_000 {
        return None;
    }
    let user = serde_json::from_str::<Json>(user).ok()?;
    let part = |k: &str| {
        user.pointer(&format!("/name/{k}"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let full: String = format!("{} {}", part("firstName"), part("lastName"))
        .chars()
        .take(150)
        .collect();
    let full = full.trim();
    (!full.is_empty()).then(|| full.to_owned())
}

/// Keeps the name of a redirect's `user` field for `code` (expired names go on the way);
/// anything unreadable is ignored.
pub async fn remember_name(db: &Db, code: &str, user: &str) -> Result<()> {
    let Some(name) = redirect_name(user).filter(|_| !code.is_empty() && code.len() <= 1000) else {
        return Ok(());
    };
    let now = chrono::Utc::now();
    let (created, expired) = (
        crate::dates::format(now),
        crate::dates::format(now - NAME_TTL),
    );
    let code = code.to_owned();
    db.write(move |conn| tables::apple_names::put(conn, code, name, created, expired))
        .await
}

/// The name kept for `code` within the last minute, once.
pub async fn take_name(db: &Db, code: &str) -> Result<Option<String>> {
    let code = code.to_owned();
    let fresh = crate::dates::format(chrono::Utc::now() - NAME_TTL);
    let name = db
        .write(move |conn| tables::apple_names::take(conn, code, fresh))
        .await?;
    Ok(name.map(|v| text(&v).to_owned()).filter(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrtz5hsA8TTfS8kgD
Wdq8B7WoYE56rEillR9TmRAjFYWhRANCAASbJHJoSFLL0vX/fEHgWcb5bw/ebDir
0mccCvnAu59SUfUlne7Xn212HMy1n+8zmgmwG8YAOo//yd1ohZjNIw7t
-----END PRIVATE KEY-----";

    fn body(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_secret_is_an_es256_jwt_for_apple() {
        let out = generate_client_secret(&body(json!({"clientId": "com.app", "teamId": "TEAM123456", "keyId": "KID1234567", "privateKey": KEY, "duration": 3600}))).expect("secret");
        let secret = out["secret"].as_str().expect("text");
        let header = jsonwebtoken::decode_header(secret).expect("header");
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::ES256, Some("KID1234567"))
        );
        let claims: Json = jsonwebtoken::dangerous::insecure_decode_claims(secret).expect("claims");
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("TEAM123456"), Some("com.app"))
        );
        assert_eq!(claims["aud"], json!([APPLE_ISSUER]));
        assert_eq!(
            claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
            3600
        );
    }

    #[test]
    fn bad_fields_get_pocketbase_s_codes() {
        let err = |v: Json| match generate_client_secret(&body(v)) {
            Err(Error::BadRequest { message, data }) => (message, json!(data)),
            other => panic!("{other:?}"),
        };
        let (message, data) = err(json!({}));
        assert_eq!(message, INVALID);
        for f in ["clientId", "teamId", "keyId", "privateKey", "duration"] {
            assert_eq!(data[f]["code"], "validation_required", "{f}");
        }
        let (_, data) = err(
            json!({"clientId": "a", "teamId": "b", "keyId": "c", "privateKey": "x", "duration": 15_777_001}),
        );
        assert_eq!(data["teamId"]["code"], "validation_length_invalid");
        assert_eq!(data["privateKey"]["code"], "validation_match_invalid");
        assert_eq!(data["duration"]["params"]["threshold"], 15_777_000);
        let (_, data) = err(
            json!({"clientId": "a", "teamId": "TEAM123456", "keyId": "KID1234567", "privateKey": KEY, "duration": -1}),
        );
        assert_eq!(
            data["duration"]["code"],
            "validation_min_greater_equal_than_required"
        );
        let (message, data) = err(json!({"clientId": 5}));
        assert_eq!((message.as_str(), data), (UNREADABLE, json!({})));
        let (message, _) = err(
            json!({"clientId": "a", "teamId": "TEAM123456", "keyId": "KID1234567", "privateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "duration": 5}),
        );
        assert!(
            message.starts_with("Failed to generate client secret."),
            "{message}"
        );
    }

    #[test]
    fn the_name_comes_from_the_user_field() {
        assert_eq!(
            redirect_name(
                r#"{"name": {"firstName": "Ann", "lastName": "Lee"}, "email": "a@x.io"}"#
            )
            .as_deref(),
            Some("Ann Lee")
        );
        assert_eq!(
            redirect_name(r#"{"name": {"firstName": "Ann"}}"#).as_deref(),
            Some("Ann")
        );
        assert_eq!(redirect_name("not json"), None);
        assert_eq!(redirect_name(r#"{"name": {}}"#), None);
    }
}
