//! First start: while there is no superuser, `serve` prints a one-time install link
//! (`/_/#/pbinstall/<token>`, PocketBase's path) whose page creates the first superuser.
//!
//! PB-COMPAT: PocketBase creates a hidden `__pbinstaller@example.com` superuser and links a
//! 30-minute auth token of it; its page then creates the real superuser through the records
//! API and a hook deletes the placeholder. Here no placeholder record exists: the token is
//! random, only its SHA-256 is kept (in `_params`, so every instance sharing the database
//! knows it), and `POST /api/install` takes it with the new superuser's email and password.
//! The link dies when it is used, when it expires (30 minutes, like PocketBase's), when the
//! next `serve` prints a new one, and as soon as any superuser exists (CLI included).

use oxbase_sql::{Ident, Value};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

use super::AuthService;
use super::forms::Errors;
use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::records::Record;
use crate::records::query::count_rows;
use crate::records::write::WriteInput;
use crate::rules::RequestInfo;
use crate::schema::system::SUPERUSERS;
use crate::store::{Db, tables};

/// The `_params` row holding the pending install token's hash and expiry.
const PARAMS_ID: &str = "installer";
/// How long a printed install link works (PocketBase's installer token lifetime).
pub const INSTALL_TOKEN_SECONDS: i64 = 30 * 60;

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn dead_link() -> Error {
    let mut errors = Errors::default();
    errors.invalid_token("token");
    Error::BadRequest {
        message: "The install link is invalid, expired or already used.".into(),
        data: errors.0,
    }
}

async fn superuser_count(db: &Db) -> Result<i64> {
    let table = Ident::new(SUPERUSERS).ok_or_else(|| Error::internal("invalid table name"))?;
    let sql = count_rows(&table, None);
    let n = db.read(move |conn| conn.query_scalar(&sql)).await?;
    Ok(match n {
        Some(Value::Int(n)) => n,
        _ => 0,
    })
}

impl AuthService {
    /// A new install token when there is no superuser (`serve` prints the link), replacing
    /// any earlier one; `None` once a superuser exists.
    pub async fn install_token(&self) -> Result<Option<String>> {
        let db = self.schema.db().clone();
        if superuser_count(&db).await? > 0 {
            return Ok(None);
        }
        let token = crate::ids::random_string(48);
        let stored = json!({
            "hash": digest(&token),
            "expires": self.clock.unix() + INSTALL_TOKEN_SECONDS,
        })
        .to_string();
        db.write(move |conn| tables::params::put(conn, PARAMS_ID, stored, crate::dates::now()))
            .await?;
        Ok(Some(token))
    }

    /// `Ok` while `token` is the pending install token and no superuser exists.
    pub async fn check_install_token(&self, token: &str) -> Result<()> {
        let db = self.schema.db().clone();
        let stored = db.read(|conn| tables::params::get(conn, PARAMS_ID)).await?;
        let pending: Json = stored
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Json::Null);
        let hash = pending.get("hash").and_then(Json::as_str).unwrap_or("");
        let expires = pending.get("expires").and_then(Json::as_i64).unwrap_or(0);
        let matches = !hash.is_empty() && !token.is_empty() && constant_eq(hash, &digest(token));
        if !matches || expires < self.clock.unix() || superuser_count(&db).await? > 0 {
            return Err(dead_link());
        }
        Ok(())
    }

    /// Creates the first superuser with the install `token` (`email`, `password`,
    /// `passwordConfirm` in `body`, validated as any superuser's), then kills the token.
    /// Answers the new superuser as it sees itself.
    pub async fn install(&self, token: &str, body: &Map<String, Json>) -> Result<Json> {
        self.check_install_token(token).await?;
        let c = self.schema.require(SUPERUSERS)?;
        let system = RequestInfo::new(Auth::Superuser(std::sync::Arc::new(Record::new(c))));
        let mut fields = Map::new();
        for key in ["email", "password", "passwordConfirm"] {
            fields.insert(key.into(), body.get(key).cloned().unwrap_or(Json::Null));
        }
        fields.insert("verified".into(), Json::Bool(true));
        let input = WriteInput {
            body: fields,
            kind: None,
            files: Vec::new(),
        };
        let record = self.records.create(&system, SUPERUSERS, input).await?;
        let db = self.schema.db().clone();
        db.write(|conn| tables::params::put(conn, PARAMS_ID, "{}".into(), crate::dates::now()))
            .await?;
        let me = Auth::Superuser(std::sync::Arc::new(record.clone()));
        Ok(crate::records::output::to_json(record, &me, false))
    }
}

/// Compares two hex digests in time independent of where they differ.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
