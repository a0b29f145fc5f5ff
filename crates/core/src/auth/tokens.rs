//! Tokens: HS256 JWTs signed with the record's `tokenKey` plus the secret of the token's kind
//! in its collection (`authToken.secret`, `verificationToken.secret`...). So a password change
//! (new `tokenKey`) invalidates every older token of the record, a new collection secret every
//! token of that kind, and a token of one kind never passes for another.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::records::Record;

/// What a token is for; each kind has its own secret and duration in the collection options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Auth,
    Verification,
    PasswordReset,
    EmailChange,
    File,
}

impl TokenKind {
    /// PB-COMPAT: the `type` claim PocketBase writes.
    pub fn claim(self) -> &'static str {
        match self {
            TokenKind::Auth => "auth",
            TokenKind::Verification => "verification",
            TokenKind::PasswordReset => "passwordReset",
            TokenKind::EmailChange => "emailChange",
            TokenKind::File => "file",
        }
    }

    /// The collection option holding this kind's `secret` and `duration`.
    pub fn option(self) -> &'static str {
        match self {
            TokenKind::Auth => "authToken",
            TokenKind::Verification => "verificationToken",
            TokenKind::PasswordReset => "passwordResetToken",
            TokenKind::EmailChange => "emailChangeToken",
            TokenKind::File => "fileToken",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub id: String,
    pub collection_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Auth tokens only: whether `auth-refresh` may extend it (impersonation tokens may not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshable: Option<bool>,
    /// Verification, password reset and email change tokens: the address the mail went to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// Email change tokens: the address to switch to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub new_email: String,
    pub exp: i64,
}

fn signing_key(record: &Record, kind: TokenKind) -> Vec<u8> {
    let secret = record
        .collection
        .options
        .get(kind.option())
        .and_then(|t| t.get("secret"))
        .and_then(Json::as_str)
        .unwrap_or("");
    let mut key = record.get_str("tokenKey").as_bytes().to_vec();
    key.extend_from_slice(secret.as_bytes());
    key
}

/// The lifetime in seconds the collection gives tokens of `kind`.
pub fn duration(record: &Record, kind: TokenKind) -> i64 {
    if kind == TokenKind::Auth {
        return record.collection.token_duration("authToken");
    }
    record
        .collection
        .options
        .get(kind.option())
        .and_then(|t| t.get("duration"))
        .and_then(Json::as_i64)
        .unwrap_or(1800)
}

/// Signs `claims` (their `id`, `collectionId` and `type` are set from `record` and `kind`)
/// to expire `lifetime` seconds after `now` (a unix time: tests pass their own clock).
pub fn issue_at(
    record: &Record,
    kind: TokenKind,
    mut claims: Claims,
    lifetime: i64,
    now: i64,
) -> Result<String> {
    claims.id = record.id().to_owned();
    claims.collection_id = record.collection.id.clone();
    claims.kind = kind.claim().to_owned();
    claims.exp = now + lifetime;
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&signing_key(record, kind)),
    )
    .map_err(Error::internal)
}

/// A token of `kind` for `record`, valid for the collection's duration of that kind.
pub fn issue_kind(record: &Record, kind: TokenKind, claims: Claims) -> Result<String> {
    issue_at(
        record,
        kind,
        claims,
        duration(record, kind),
        chrono::Utc::now().timestamp(),
    )
}

/// A new refreshable auth token for `record`, valid for its collection's auth token duration.
pub fn issue(record: &Record) -> Result<String> {
    issue_kind(
        record,
        TokenKind::Auth,
        Claims {
            refreshable: Some(true),
            ..Claims::default()
        },
    )
}

/// The claims of a token, read WITHOUT checking its signature: only to find whose key checks it.
pub fn peek(token: &str) -> Option<Claims> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).ok()
}

/// The claims of `token` when it is a valid token of `kind` for `record`, unexpired at `now`
/// (a unix time: the app's `Clock`): the signature is checked with HS256 only (never `none`
/// or another algorithm); the token is valid while `now < exp`, with no leeway, as in
/// PocketBase.
pub fn verify_kind(token: &str, record: &Record, kind: TokenKind, now: i64) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp"]);
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(&signing_key(record, kind)),
        &validation,
    )
    .ok()?;
    let c = data.claims;
    (c.exp > now
        && c.kind == kind.claim()
        && c.id == record.id()
        && c.collection_id == record.collection.id)
        .then_some(c)
}
