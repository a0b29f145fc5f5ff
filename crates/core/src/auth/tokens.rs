//! Auth tokens: HS256 JWTs signed with the record's `tokenKey` plus its collection's secret, so
//! a password change (new `tokenKey`) or a new collection secret invalidates older tokens.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::records::Record;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub id: String,
    pub collection_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refreshable: bool,
    pub exp: i64,
}

/// The kinds of token, each signed with its own collection secret and lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Auth,
    /// Short-lived, for protected files (`POST /api/files/token`).
    File,
}

impl TokenKind {
    pub fn claim(self) -> &'static str {
        match self {
            TokenKind::Auth => "auth",
            TokenKind::File => "file",
        }
    }
    fn option(self) -> &'static str {
        match self {
            TokenKind::Auth => "authToken",
            TokenKind::File => "fileToken",
        }
    }
}

fn signing_key(record: &Record, kind: TokenKind) -> Vec<u8> {
    let mut key = record.get_str("tokenKey").as_bytes().to_vec();
    key.extend_from_slice(record.collection.token_secret(kind.option()).as_bytes());
    key
}

/// A new auth token for `record`, valid for its collection's auth token duration.
pub fn issue(record: &Record) -> Result<String> {
    issue_kind(record, TokenKind::Auth)
}

/// A new token of `kind` for `record`, valid for its collection's duration of that kind.
pub fn issue_kind(record: &Record, kind: TokenKind) -> Result<String> {
    let claims = Claims {
        id: record.id().to_owned(),
        collection_id: record.collection.id.clone(),
        kind: kind.claim().into(),
        refreshable: kind == TokenKind::Auth,
        exp: chrono::Utc::now().timestamp() + record.collection.token_duration(kind.option()),
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&signing_key(record, kind))).map_err(Error::internal)
}

/// The claims of a token, read WITHOUT checking its signature: only to find whose key checks it.
pub fn peek(token: &str) -> Option<Claims> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).ok()
}

/// Whether `token` is a valid, unexpired token of `kind` for `record`.
pub fn verify(token: &str, record: &Record, kind: TokenKind) -> bool {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    match decode::<Claims>(token, &DecodingKey::from_secret(&signing_key(record, kind)), &validation) {
        Ok(data) => data.claims.kind == kind.claim() && data.claims.id == record.id() && data.claims.collection_id == record.collection.id,
        Err(_) => false,
    }
}
