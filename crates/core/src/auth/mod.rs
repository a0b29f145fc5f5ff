//! Authentication: logins, tokens, the email flows, and resolving a request's token to an
//! `Auth`.
//!
//! - `password`: argon2id hashing (bcrypt verified for imported users).
//! - `tokens`: JWT issue/verify, one secret per token kind.
//! - `verification`, `password_reset`, `email_change`: the request/confirm email flows.
//! - `session`: refresh and impersonation.
//! - `test_email`: a template sent on demand to check the SMTP settings.
//! - `forms`: the small validation helpers those flows share.

pub mod email_change;
mod forms;
pub mod password;
pub mod password_reset;
pub mod session;
pub mod test_email;
pub mod tokens;
pub mod verification;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use oxbase_sql::Sql;
use serde_json::{json, Value as Json};

use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::mail::template::Template;
use crate::mail::Mailer;
use crate::records::list::{paren, select_by_id};
use crate::records::write::WriteInput;
use crate::records::{Change, Record, Records};
use crate::rules::{Purpose, RecordResolver, RequestInfo, ROOT};
use crate::schema::system::SUPERUSERS;
use crate::schema::{Collection, Schema};
use crate::settings::Settings;
use tokens::{Claims, TokenKind};

#[derive(Clone)]
pub struct AuthService {
    schema: Schema,
    /// Writes auth records (verified, new password, new email) and the `_otps`/`_mfas` rows.
    records: Records,
    /// Sends the verification, reset, email change, OTP and alert mails.
    mailer: Mailer,
    /// `meta.appName` / `meta.appURL` for the templates.
    settings: Settings,
    identities: Arc<IdentityCache>,
}

/// Auth records by (collection id, record id), so a request with a token costs no database
/// read. Entries go when a committed change updates or deletes the record (a new `tokenKey`
/// after a password change arrives that way), and are ignored when the collection's definition
/// changed since. The epoch closes the race where a read started before an update commits and
/// finishes after its invalidation: such a read is used but not cached.
#[derive(Default)]
struct IdentityCache {
    records: Mutex<HashMap<(String, String), Arc<Record>>>,
    epoch: AtomicU64,
}

/// Entries kept at most; the cache is cleared past this (a crude but bounded policy).
const MAX_CACHED_IDENTITIES: usize = 10_000;

impl IdentityCache {
    fn get(&self, key: &(String, String)) -> Option<Arc<Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    fn put(&self, key: (String, String), record: Arc<Record>, epoch_at_read: u64) {
        let mut map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::SeqCst) != epoch_at_read {
            return;
        }
        if map.len() >= MAX_CACHED_IDENTITIES {
            map.clear();
        }
        map.insert(key, record);
    }

    fn forget(&self, record: &Record) {
        let mut map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::SeqCst);
        map.remove(&(record.collection.id.clone(), record.id().to_owned()));
    }
}


impl AuthService {
    /// The service, with its identity cache kept in step with `records`' committed changes.
    pub fn new(schema: Schema, records: Records, mailer: Mailer, settings: Settings) -> AuthService {
        let identities = Arc::new(IdentityCache::default());
        let cache = identities.clone();
        records.on_change(Arc::new(move |change: &Change| {
            if let Change::Updated(r) | Change::Deleted(r) = change {
                if r.collection.is_auth() {
                    cache.forget(r);
                }
            }
        }));
        AuthService { schema, records, mailer, settings, identities }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// The identity behind an `Authorization` header value; invalid or expired tokens make a
    /// guest, as in PocketBase.
    pub async fn authenticate(&self, header: &str) -> Auth {
        let token = header.strip_prefix("Bearer ").unwrap_or(header).trim();
        if token.is_empty() {
            return Auth::Guest;
        }
        let Some(claims) = tokens::peek(token) else { return Auth::Guest };
        if claims.kind != "auth" {
            return Auth::Guest;
        }
        let Some(c) = self.schema.get(&claims.collection_id).filter(|c| c.is_auth() && c.id == claims.collection_id) else {
            return Auth::Guest;
        };
        let key = (c.id.clone(), claims.id.clone());
        let record = match self.identities.get(&key).filter(|r| Arc::ptr_eq(&r.collection, &c)) {
            Some(cached) => cached,
            None => {
                let epoch = self.identities.epoch.load(Ordering::SeqCst);
                let Ok(select) = select_by_id(&c, &claims.id, None) else { return Auth::Guest };
                let coll = c.clone();
                match self.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?).pop())).await {
                    Ok(Some(record)) => {
                        let record = Arc::new(record);
                        self.identities.put(key, record.clone(), epoch);
                        record
                    }
                    _ => return Auth::Guest,
                }
            }
        };
        if tokens::verify(token, &record) { Auth::from_shared(record) } else { Auth::Guest }
    }

    /// `auth-with-password`: the record whose identity field matches and whose password
    /// verifies, if the collection's auth rule lets it in.
    pub async fn with_password(&self, req: &RequestInfo, collection: &str, identity: &str, password: &str, identity_field: &str) -> Result<(String, Record)> {
        let c = self.schema.require(collection)?;
        if !c.is_auth() {
            return Err(Error::bad_request("The collection is not an auth collection."));
        }
        let pa = c.options.get("passwordAuth");
        if !pa.and_then(|p| p.get("enabled")).and_then(Json::as_bool).unwrap_or(true) {
            return Err(Error::bad_request("The collection is not configured to allow password authentication."));
        }
        let mut fields: Vec<String> = pa
            .and_then(|p| p.get("identityFields"))
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_else(|| vec!["email".into()]);
        if !identity_field.is_empty() {
            fields.retain(|f| f == identity_field);
        }
        let fail = || Error::bad_request("Failed to authenticate.");
        if identity.is_empty() || password.is_empty() {
            return Err(Error::BadRequest {
                message: "Failed to authenticate.".into(),
                data: {
                    let mut d = crate::error::FieldErrors::new();
                    if identity.is_empty() {
                        d.insert("identity".into(), json!({"code": "validation_required", "message": "Cannot be blank."}));
                    }
                    if password.is_empty() {
                        d.insert("password".into(), json!({"code": "validation_required", "message": "Cannot be blank."}));
                    }
                    d
                },
            });
        }
        let mut conds = Vec::new();
        for f in fields.iter().filter(|f| c.field(f).is_some()) {
            let mut cond = Sql::raw(format!("LOWER(\"{ROOT}\".\"{f}\") = LOWER("));
            cond.push_param(identity.to_owned()).push(")");
            conds.push(cond);
        }
        if conds.is_empty() {
            return Err(fail());
        }
        let mut select = Sql::raw(format!("SELECT \"{ROOT}\".* FROM "));
        select.push_sql(&crate::records::list::from_root(&c)?).push(" WHERE ").push_sql(&Sql::join(conds, " OR ")).push(" LIMIT 1");
        let coll = c.clone();
        let record = self.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?).pop())).await?;
        let pwd = password.to_owned();
        // A missing account still costs one verification, so it takes as long as a wrong password.
        let stored = record.as_ref().map_or_else(|| password::dummy_hash().to_owned(), |r| r.get_str("password").to_owned());
        let ok = password::verify_async(pwd, stored).await;
        let record = match record {
            Some(r) if ok => r,
            _ => return Err(fail()),
        };
        if password::needs_rehash(record.get_str("password")) {
            self.rehash(&record, password).await?;
        }
        self.check_auth_rule(req, &record).await?;
        Ok((tokens::issue(&record)?, record))
    }

    /// Replaces a verified bcrypt hash (a user imported from PocketBase) by an argon2id one.
    /// The token key stays: the password did not change, so sessions stay valid.
    async fn rehash(&self, record: &Record, password: &str) -> Result<()> {
        let hash = password::hash_async(password.to_owned()).await?;
        let table = oxbase_sql::Ident::new(&record.collection.name).ok_or_else(|| Error::internal("invalid collection name"))?;
        let mut sql = Sql::raw(format!("UPDATE {} SET \"password\" = ", table.quoted()));
        sql.push_param(hash).push(" WHERE \"id\" = ").push_param(record.id().to_owned());
        self.schema.db().write(move |conn| conn.execute(&sql).map(|_| ())).await?;
        self.identities.forget(record);
        Ok(())
    }

    /// The auth collection named `name` (PB-COMPAT: 404 for a missing or non-auth one).
    fn auth_collection(&self, name: &str) -> Result<Arc<Collection>> {
        self.schema.get(name).filter(|c| c.is_auth()).ok_or_else(|| Error::NotFound("Missing or invalid collection context.".into()))
    }

    /// A request with superuser rights, for the writes the flows make on a user's behalf.
    fn system_request(&self) -> Result<RequestInfo> {
        Ok(RequestInfo::new(Auth::Superuser(Arc::new(Record::new(self.schema.require(SUPERUSERS)?)))))
    }

    /// The record of `c` whose email is `email` (case-insensitive), if any.
    async fn find_by_email(&self, c: &Arc<Collection>, email: &str) -> Result<Option<Record>> {
        let mut select = Sql::raw(format!("SELECT \"{ROOT}\".* FROM "));
        select.push_sql(&crate::records::list::from_root(c)?).push(&format!(" WHERE LOWER(\"{ROOT}\".\"email\") = LOWER(")).push_param(email.to_owned()).push(") LIMIT 1");
        let coll = c.clone();
        self.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?).pop())).await
    }

    /// The record of `c` with id `id`, read from the database (never the cache: token checks
    /// need the current `tokenKey`).
    async fn find_by_id(&self, c: &Arc<Collection>, id: &str) -> Result<Option<Record>> {
        let select = select_by_id(c, id, None)?;
        let coll = c.clone();
        self.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?).pop())).await
    }

    /// The record a token of `kind` belongs to, with its claims, when the token is valid for a
    /// record of `c`.
    async fn record_of_token(&self, c: &Arc<Collection>, token: &str, kind: TokenKind) -> Result<Option<(Record, Claims)>> {
        let Some(claims) = tokens::peek(token).filter(|cl| cl.collection_id == c.id && cl.kind == kind.claim()) else { return Ok(None) };
        let Some(record) = self.find_by_id(c, &claims.id).await? else { return Ok(None) };
        Ok(tokens::verify_kind(token, &record, kind).map(|claims| (record, claims)))
    }

    /// Updates `record` with superuser rights (a new password also gets a new token key).
    async fn update_as_system(&self, record: &Record, body: Json) -> Result<Record> {
        let input = WriteInput { body: body.as_object().cloned().unwrap_or_default(), kind: None };
        self.records.update(&self.system_request()?, &record.collection.name, record.id(), input).await
    }

    /// Mails `record` a token of `kind` (its `email` claim set to the record's address) in the
    /// template at `template`, to `to`, in the background.
    fn mail_token(&self, record: &Record, kind: TokenKind, claims: Claims, template: &str, to: &str) -> Result<()> {
        let claims = Claims { email: record.get_str("email").to_owned(), ..claims };
        let token = tokens::issue_kind(record, kind, claims)?;
        self.mailer.send_later(self.render(record, &[template], to, &[("TOKEN", &token)]));
        Ok(())
    }

    /// The mail of the template at `path` in `record`'s collection options, to `to`.
    fn render(&self, record: &Record, path: &[&str], to: &str, vars: &[(&str, &str)]) -> crate::mail::Message {
        let mut t = record.collection.options.get(path[0]);
        for p in &path[1..] {
            t = t.and_then(|v| v.get(*p));
        }
        let app_name = self.settings.get(&["meta", "appName"]);
        let app_url = self.settings.get(&["meta", "appURL"]);
        let mut all: Vec<(String, String)> = vec![
            ("APP_NAME".into(), app_name.as_str().unwrap_or("").to_owned()),
            ("APP_URL".into(), app_url.as_str().unwrap_or("").trim_end_matches('/').to_owned()),
        ];
        all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        for f in record.collection.fields.iter().filter(|f| !f.hidden && f.name != "password" && f.name != "tokenKey") {
            all.push((format!("RECORD:{}", f.name), crate::records::input::to_text(record.get(&f.name))));
        }
        let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Template::from_json(t.unwrap_or(&Json::Null)).render(to, &refs)
    }

    /// The collection's `authRule`, evaluated with the record as the authenticated identity.
    async fn check_auth_rule(&self, req: &RequestInfo, record: &Record) -> Result<()> {
        let c = record.collection.clone();
        let rule = match c.rule("authRule") {
            None => return Err(Error::forbidden()),
            Some(r) if r.trim().is_empty() => return Ok(()),
            Some(r) => r.to_owned(),
        };
        let mut as_record = req.clone();
        as_record.auth = Auth::from_record(record.clone());
        let predicate = {
            let counter = Cell::new(0);
            let resolver = RecordResolver::new(&self.schema, c.clone(), &as_record, Purpose::Rule, self.schema.db().dialect(), &counter);
            resolver.compile(&rule).map_err(Error::internal)?
        };
        let select = select_by_id(&c, record.id(), Some(&paren(predicate)))?;
        let found = self.schema.db().read(move |conn| Ok(!conn.query(&select)?.is_empty())).await?;
        if found { Ok(()) } else { Err(Error::bad_request("Failed to authenticate.")) }
    }

    /// Creates or updates a superuser (the CLI's `superuser upsert`).
    pub async fn upsert_superuser(&self, records: &crate::records::Records, email: &str, password: &str) -> Result<()> {
        let system = RequestInfo::new(Auth::Superuser(std::sync::Arc::new(Record::new(self.schema.require(SUPERUSERS)?))));
        let c = self.schema.require(SUPERUSERS)?;
        let mut select = Sql::raw(format!("SELECT \"{ROOT}\".* FROM "));
        select.push_sql(&crate::records::list::from_root(&c)?).push(&format!(" WHERE LOWER(\"{ROOT}\".\"email\") = LOWER(")).push_param(email.to_owned()).push(")");
        let coll = c.clone();
        let existing = self.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?).pop())).await?;
        let body = json!({"email": email, "password": password, "passwordConfirm": password, "verified": true});
        let input = crate::records::write::WriteInput { body: body.as_object().cloned().unwrap_or_default(), kind: None };
        match existing {
            Some(r) => records.update(&system, SUPERUSERS, r.id(), input).await.map(|_| ()),
            None => records.create(&system, SUPERUSERS, input).await.map(|_| ()),
        }
    }

    /// Deletes a superuser by email (the CLI's `superuser delete`).
    pub async fn delete_superuser(&self, records: &crate::records::Records, email: &str) -> Result<bool> {
        let c = self.schema.require(SUPERUSERS)?;
        let system = RequestInfo::new(Auth::Superuser(std::sync::Arc::new(Record::new(c.clone()))));
        let mut select = Sql::raw(format!("SELECT \"{ROOT}\".* FROM "));
        select.push_sql(&crate::records::list::from_root(&c)?).push(&format!(" WHERE LOWER(\"{ROOT}\".\"email\") = LOWER(")).push_param(email.to_owned()).push(")");
        let coll = c.clone();
        let existing = self.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?).pop())).await?;
        match existing {
            Some(r) => records.delete(&system, SUPERUSERS, r.id()).await.map(|_| true),
            None => Ok(false),
        }
    }
}
