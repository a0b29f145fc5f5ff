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
    pub refreshable: bool,
    pub exp: i64,
}

fn signing_key(record: &Record) -> Vec<u8> {
    let mut key = record.get_str("tokenKey").as_bytes().to_vec();
    key.extend_from_slice(record.collection.auth_token_secret().as_bytes());
    key
}

/// A new auth token for `record`, valid for its collection's auth token duration.
pub fn issue(record: &Record) -> Result<String> {
    let claims = Claims {
        id: record.id().to_owned(),
        collection_id: record.collection.id.clone(),
        kind: "auth".into(),
        refreshable: true,
        exp: chrono::Utc::now().timestamp() + record.collection.auth_token_duration(),
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&signing_key(record))).map_err(Error::internal)
}

/// The claims of a token, read WITHOUT checking its signature: only to find whose key checks it.
pub fn peek(token: &str) -> Option<Claims> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).ok()
}

/// Whether `token` is a valid, unexpired auth token of `record`.
pub fn verify(token: &str, record: &Record) -> bool {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    match decode::<Claims>(token, &DecodingKey::from_secret(&signing_key(record)), &validation) {
        Ok(data) => data.claims.kind == "auth" && data.claims.id == record.id() && data.claims.collection_id == record.collection.id,
        Err(_) => false,
    }
}
