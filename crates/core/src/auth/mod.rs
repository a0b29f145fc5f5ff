//! Authentication: logins, tokens, the email flows, and resolving a request's token to an
//! `Auth`.
//!
//! - `password`: argon2id hashing (bcrypt verified for imported users).
//! - `tokens`: JWT issue/verify, one secret per token kind.
//! - `verification`, `password_reset`, `email_change`: the request/confirm email flows.
//! - `login`: password login and the end every login method shares (auth rule, MFA, token).
//! - `otp`, `mfa`: one-time passwords by mail, and the second factor.
//! - `oauth2`: OAuth2 / OpenID Connect sign-in, and the account-takeover guard.
//! - `origins`: where logins come from, and alerts for new ones.
//! - `session`: refresh and impersonation.
//! - `test_email`: a template sent on demand to check the SMTP settings.
//! - `install`: the one-time install link of a fresh server, which creates the first superuser.
//! - `forms`: the small validation helpers those flows share.
//!
//! SQL: an identity (email, username) matches with its unique index's collation.

mod cleanup;
pub mod email_change;
pub mod forms;
pub mod install;
pub mod login;
mod methods;
mod mfa;
pub mod oauth2;
mod origins;
pub mod otp;
pub mod password_reset;
pub mod session;
pub mod test_email;
pub mod tokens;
pub mod verification;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use oxbase_sql::Sql;
use serde_json::{Value as Json, json};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::events::{Change, Pipeline};
use crate::identity::Auth;
use crate::mail::Mailer;
use crate::mail::template::Template;
use crate::records::query::{root_column, select_by_id, select_root};
use crate::records::write::WriteInput;
use crate::records::{Record, Records};
use crate::rules::RequestInfo;
use crate::schema::system::SUPERUSERS;
use crate::schema::{Collection, Schema};
use crate::settings::Settings;
use crate::store::tables;
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
    /// What token expiry is checked against (tokens are issued on the system's clock).
    clock: Clock,
    background: Background,
}

/// Auth records by (collection id, record id), so a request with a token costs no database
/// read. Entries go when a committed change updates or deletes the record (a new `tokenKey`
/// after a password change arrives that way), and are ignored when the collection's definition
/// changed since. The epoch closes the race where a read started before an update commits and
/// finishes after its invalidation: such a read is used but not cached.
#[derive(Default)]
struct IdentityCache {
    records: Mutex<HashMap<(String, String), Arc<Record>>>,
    /// Auth tokens whose signature has been checked, with the record it was checked against
    /// and their expiry: checking an HS256 signature costs more than the rest of a small read.
    tokens: Mutex<HashMap<String, VerifiedToken>>,
    epoch: AtomicU64,
}

struct VerifiedToken {
    /// The identity's key in `records`.
    key: (String, String),
    record: Arc<Record>,
    exp: i64,
}

/// Entries kept at most; the cache is cleared past this (a crude but bounded policy).
const MAX_CACHED_IDENTITIES: usize = 10_000;

impl IdentityCache {
    fn get(&self, key: &(String, String)) -> Option<Arc<Record>> {
        self.records.lock().get(key).cloned()
    }

    fn put(&self, key: (String, String), record: Arc<Record>, epoch_at_read: u64) {
        let mut map = self.records.lock();
        if self.epoch.load(Ordering::SeqCst) != epoch_at_read {
            return;
        }
        if map.len() >= MAX_CACHED_IDENTITIES {
            map.clear();
        }
        map.insert(key, record);
    }

    /// The record a token was verified for, while unexpired and while that record is still the
    /// cached identity: a change to the record (its `tokenKey` included) replaces it there.
    fn verified(&self, token: &str, now: i64) -> Option<Arc<Record>> {
        let mut tokens = self.tokens.lock();
        let entry = tokens.get(token)?;
        let current = entry.exp > now
            && self
                .get(&entry.key)
                .is_some_and(|r| Arc::ptr_eq(&r, &entry.record));
        if !current {
            tokens.remove(token);
            return None;
        }
        Some(entry.record.clone())
    }

    fn remember_token(&self, token: &str, key: (String, String), record: Arc<Record>, exp: i64) {
        let mut tokens = self.tokens.lock();
        if tokens.len() >= MAX_CACHED_IDENTITIES {
            tokens.clear();
        }
        tokens.insert(token.to_owned(), VerifiedToken { key, record, exp });
    }

    fn forget(&self, record: &Record) {
        let mut map = self.records.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        map.remove(&(record.collection.id.clone(), record.id().to_owned()));
    }
}

/// Work spawned after a commit, which `AuthService::drain` (so `App::close`) waits for.
type Background = Arc<Mutex<tokio::task::JoinSet<()>>>;

/// PB-COMPAT: a deleted auth record takes its OTPs, MFA sessions, origins and external auth
/// links with it (deleted in the background, right after the commit; a shutdown waits).
fn forget_system_rows(db: &crate::store::Db, record: &Record, background: &Background) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (db, collection, id) = (
        db.clone(),
        record.collection.id.clone(),
        record.id().to_owned(),
    );
    let mut tasks = background.lock();
    while tasks.try_join_next().is_some() {}
    tasks.spawn_on(
        async move {
            let result = db
                .write(move |conn| tables::auth_rows::delete_of_record(conn, &collection, &id))
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "system rows of a deleted auth record not removed");
            }
        },
        &runtime,
    );
}

impl AuthService {
    /// The service, with its identity cache kept in step with `records`' committed changes.
    pub fn new(
        schema: Schema,
        records: Records,
        events: &Pipeline,
        mailer: Mailer,
        settings: Settings,
        clock: Clock,
    ) -> AuthService {
        let identities = Arc::new(IdentityCache::default());
        let cache = identities.clone();
        let db = schema.db().clone();
        let background = Background::default();
        let spawned = background.clone();
        events.on_change(Arc::new(move |change: &Change| {
            if let Change::Updated(r) | Change::Deleted(r) = change
                && r.collection.is_auth()
            {
                cache.forget(r);
            }
            if let Change::Deleted(r) = change
                && r.collection.is_auth()
            {
                forget_system_rows(&db, r, &spawned);
            }
        }));
        AuthService {
            schema,
            records,
            mailer,
            settings,
            identities,
            clock,
            background,
        }
    }

    /// Waits for the work spawned after commits (the system rows of deleted auth records).
    pub async fn drain(&self) {
        let mut tasks = std::mem::take(&mut *self.background.lock());
        while tasks.join_next().await.is_some() {}
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
        let now = self.clock.unix();
        if let Some(record) = self.identities.verified(token, now)
            && self
                .schema
                .get(&record.collection.id)
                .is_some_and(|c| Arc::ptr_eq(&c, &record.collection))
        {
            return Auth::from_shared(record);
        }
        let Some(claims) = tokens::peek(token) else {
            return Auth::Guest;
        };
        if claims.kind != "auth" {
            return Auth::Guest;
        }
        let Some(c) = self
            .schema
            .get(&claims.collection_id)
            .filter(|c| c.is_auth() && c.id == claims.collection_id)
        else {
            return Auth::Guest;
        };
        let key = (c.id.clone(), claims.id.clone());
        let record = match self
            .identities
            .get(&key)
            .filter(|r| Arc::ptr_eq(&r.collection, &c))
        {
            Some(cached) => cached,
            None => {
                let epoch = self.identities.epoch.load(Ordering::SeqCst);
                let Ok(select) = select_by_id(&c, &claims.id, None) else {
                    return Auth::Guest;
                };
                let coll = c.clone();
                match self
                    .schema
                    .db()
                    .lookup(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?).pop()))
                    .await
                {
                    Ok(Some(record)) => {
                        let record = Arc::new(record);
                        self.identities.put(key.clone(), record.clone(), epoch);
                        record
                    }
                    _ => return Auth::Guest,
                }
            }
        };
        match tokens::verify_kind(token, &record, TokenKind::Auth, now) {
            Some(claims) => {
                self.identities
                    .remember_token(token, key, record.clone(), claims.exp);
                Auth::from_shared(record)
            }
            None => Auth::Guest,
        }
    }

    /// The identity behind a file token (the `?token=` of protected file downloads); a guest
    /// for anything else.
    pub async fn authenticate_file_token(&self, token: &str) -> Auth {
        let token = token.trim();
        let Some(claims) = tokens::peek(token).filter(|c| c.kind == TokenKind::File.claim()) else {
            return Auth::Guest;
        };
        let Some(c) = self
            .schema
            .get(&claims.collection_id)
            .filter(|c| c.is_auth() && c.id == claims.collection_id)
        else {
            return Auth::Guest;
        };
        match self.record_of_token(&c, token, TokenKind::File).await {
            Ok(Some((record, _))) => Auth::from_record(record),
            _ => Auth::Guest,
        }
    }

    /// A file token for the caller: any authenticated record or superuser may have one.
    pub fn file_token(&self, auth: &Auth) -> Result<String> {
        match auth.record() {
            Some(record) => tokens::issue_kind(record, TokenKind::File, Claims::default()),
            None => Err(Error::Unauthorized(
                "The request requires valid record authorization token.".into(),
            )),
        }
    }

    /// The auth collection named `name`, with PocketBase's 404s (`auth_collection_of`).
    async fn auth_collection(&self, name: &str) -> Result<Arc<Collection>> {
        auth_collection_of(self.schema.get_fresh(name).await?)
    }

    /// The collection named `name`, whatever its type (PocketBase's rate-limit layer looks
    /// it up before anything else on an auth route).
    fn route_collection(&self, name: &str) -> Result<Arc<Collection>> {
        self.schema.get(name).ok_or_else(missing_collection)
    }

    /// PocketBase's `RequireSameCollectionContextAuth`: the caller must be a record of `c`.
    fn same_collection_auth<'a>(&self, auth: &'a Auth, c: &Collection) -> Result<&'a Record> {
        let Some(record) = auth.record() else {
            return Err(Error::Unauthorized(
                "The request requires valid record authorization token.".into(),
            ));
        };
        if record.collection.id != c.id {
            return Err(Error::Forbidden(format!(
                "The request requires auth record from {} collection.",
                record.collection.name
            )));
        }
        Ok(record)
    }

    /// A request with superuser rights, for the writes the flows make on a user's behalf.
    fn system_request(&self) -> Result<RequestInfo> {
        Ok(RequestInfo::new(Auth::Superuser(Arc::new(Record::new(
            self.schema.require(SUPERUSERS)?,
        )))))
    }

    /// The record of `c` whose email is `email` (`identity_match`), if any.
    async fn find_by_email(&self, c: &Arc<Collection>, email: &str) -> Result<Option<Record>> {
        let mut select = select_root(c)?;
        select
            .push(" WHERE ")
            .push_sql(&identity_match(c, "email", email)?)
            .push(" LIMIT 1");
        let coll = c.clone();
        self.schema
            .db()
            .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?).pop()))
            .await
    }

    /// The rows of the system collection `c` (`_otps`, `_mfas`) of the auth collection
    /// `collection`, created before `before`.
    async fn find_created_before(
        &self,
        c: &Arc<Collection>,
        collection: &str,
        before: &str,
    ) -> Result<Vec<Record>> {
        let mut select = select_root(c)?;
        select
            .push(" WHERE ")
            .push_sql(&root_column("collectionRef")?)
            .push(" = ")
            .push_param(collection.to_owned())
            .push(" AND ")
            .push_sql(&root_column("created")?)
            .push(" < ")
            .push_param(before.to_owned());
        let coll = c.clone();
        self.schema
            .db()
            .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?)))
            .await
    }

    /// The records of `c` whose columns equal the values (`conds` names are our own literals).
    async fn find_where(&self, c: &Arc<Collection>, conds: &[(&str, &str)]) -> Result<Vec<Record>> {
        let mut select = select_root(c)?;
        for (i, (column, value)) in conds.iter().enumerate() {
            select
                .push(if i == 0 { " WHERE " } else { " AND " })
                .push_sql(&root_column(column)?)
                .push(" = ")
                .push_param((*value).to_owned());
        }
        let coll = c.clone();
        self.schema
            .db()
            .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?)))
            .await
    }

    /// The record of `c` with id `id`, read from the database (never the cache: token checks
    /// need the current `tokenKey`).
    async fn find_by_id(&self, c: &Arc<Collection>, id: &str) -> Result<Option<Record>> {
        let select = select_by_id(c, id, None)?;
        let coll = c.clone();
        self.schema
            .db()
            .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?).pop()))
            .await
    }

    /// The record a token of `kind` belongs to, with its claims, when the token is valid for a
    /// record of `c`.
    async fn record_of_token(
        &self,
        c: &Arc<Collection>,
        token: &str,
        kind: TokenKind,
    ) -> Result<Option<(Record, Claims)>> {
        let Some(claims) =
            tokens::peek(token).filter(|cl| cl.collection_id == c.id && cl.kind == kind.claim())
        else {
            return Ok(None);
        };
        let Some(record) = self.find_by_id(c, &claims.id).await? else {
            return Ok(None);
        };
        Ok(tokens::verify_kind(token, &record, kind, self.clock.unix())
            .map(|claims| (record, claims)))
    }

    /// Updates `record` with superuser rights (a new password also gets a new token key). A
    /// record that becomes verified loses the provider links made before (see `oauth2::link`).
    async fn update_as_system(&self, record: &Record, body: Json) -> Result<Record> {
        let becomes_verified = body.get("verified") == Some(&Json::Bool(true))
            && record.get("verified") != &Json::Bool(true);
        let input = WriteInput {
            body: body.as_object().cloned().unwrap_or_default(),
            kind: None,
            files: Vec::new(),
        };
        let updated = self
            .records
            .update(
                &self.system_request()?,
                &record.collection.name,
                record.id(),
                input,
            )
            .await?;
        if becomes_verified {
            self.forget_external_auths(&updated).await?;
        }
        Ok(updated)
    }

    /// Mails `record` one of its auth flows' messages now, as application code asks
    /// (`$mails.sendRecordPasswordReset`...): the same template and token as the flow's.
    pub fn send_record_mail(&self, record: &Record, mail: RecordMail) -> Result<()> {
        let email = record.get_str("email").to_owned();
        match mail {
            RecordMail::PasswordReset => self.mail_token(
                record,
                TokenKind::PasswordReset,
                Claims::default(),
                "resetPasswordTemplate",
                &email,
            ),
            RecordMail::Verification => self.mail_token(
                record,
                TokenKind::Verification,
                Claims::default(),
                "verificationTemplate",
                &email,
            ),
            RecordMail::EmailChange { new_email } => self.mail_token(
                record,
                TokenKind::EmailChange,
                Claims {
                    new_email: new_email.clone(),
                    ..Claims::default()
                },
                "confirmEmailChangeTemplate",
                &new_email,
            ),
            RecordMail::Otp { password } => {
                let message = self.render(
                    record,
                    &["otp", "emailTemplate"],
                    &email,
                    &[("OTP", &password)],
                );
                self.mailer.send_later(message);
                Ok(())
            }
            RecordMail::AuthAlert { info } => {
                let message = self.render(
                    record,
                    &["authAlert", "emailTemplate"],
                    &email,
                    &[("ALERT_INFO", &info)],
                );
                self.mailer.send_later(message);
                Ok(())
            }
        }
    }

    /// Mails `record` a token of `kind` (its `email` claim set to the record's address) in the
    /// template at `template`, to `to`, in the background.
    fn mail_token(
        &self,
        record: &Record,
        kind: TokenKind,
        claims: Claims,
        template: &str,
        to: &str,
    ) -> Result<()> {
        let claims = Claims {
            email: record.get_str("email").to_owned(),
            ..claims
        };
        let token = tokens::issue_kind(record, kind, claims)?;
        self.mailer
            .send_later(self.render(record, &[template], to, &[("TOKEN", &token)]));
        Ok(())
    }

    /// The mail of the template at `path` in `record`'s collection options, to `to`.
    fn render(
        &self,
        record: &Record,
        path: &[&str],
        to: &str,
        vars: &[(&str, &str)],
    ) -> crate::mail::Message {
        let mut t = record.collection.options.get(path[0]);
        for p in &path[1..] {
            t = t.and_then(|v| v.get(*p));
        }
        let meta = self.settings.meta();
        let mut all: Vec<(String, String)> = vec![
            ("APP_NAME".into(), meta.app_name),
            (
                "APP_URL".into(),
                meta.app_url.trim_end_matches('/').to_owned(),
            ),
        ];
        all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        for f in record
            .collection
            .fields
            .iter()
            .filter(|f| !f.hidden && f.name != "password" && f.name != "tokenKey")
        {
            all.push((
                format!("RECORD:{}", f.name),
                crate::records::input::to_text(record.get(&f.name)),
            ));
        }
        let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut message = Template::from_json(t.unwrap_or(&Json::Null)).render(to, &refs);
        message.about = Some(crate::mail::About {
            template: path[0].to_owned(),
            collection_id: record.collection.id.clone(),
            collection_name: record.collection.name.clone(),
            record: record.data.clone(),
        });
        message
    }

    /// Creates or updates a superuser (the CLI's `superuser upsert`).
    pub async fn upsert_superuser(
        &self,
        records: &crate::records::Records,
        email: &str,
        password: &str,
    ) -> Result<()> {
        let system = RequestInfo::new(Auth::Superuser(std::sync::Arc::new(Record::new(
            self.schema.require(SUPERUSERS)?,
        ))));
        let c = self.schema.require(SUPERUSERS)?;
        let existing = self.find_by_email(&c, email).await?;
        let body = json!({"email": email, "password": password, "passwordConfirm": password, "verified": true});
        let input = crate::records::write::WriteInput {
            body: body.as_object().cloned().unwrap_or_default(),
            kind: None,
            files: Vec::new(),
        };
        match existing {
            Some(r) => records
                .update(&system, SUPERUSERS, r.id(), input)
                .await
                .map(|_| ()),
            None => records.create(&system, SUPERUSERS, input).await.map(|_| ()),
        }
    }

    /// Deletes a superuser by email (the CLI's `superuser delete`); `false` when there is none.
    /// The only superuser is never deleted (the records' delete refuses it).
    pub async fn delete_superuser(
        &self,
        records: &crate::records::Records,
        email: &str,
    ) -> Result<bool> {
        let c = self.schema.require(SUPERUSERS)?;
        let system = RequestInfo::new(Auth::Superuser(std::sync::Arc::new(Record::new(c.clone()))));
        let existing = self.find_by_email(&c, email).await?;
        let Some(r) = existing else {
            return Ok(false);
        };
        records
            .delete(&system, SUPERUSERS, r.id())
            .await
            .map(|_| true)
    }
}

fn missing_collection() -> Error {
    Error::NotFound("Missing or invalid collection context.".into())
}

/// PocketBase's 404s on an auth route: its rate-limit layer answers for a missing collection,
/// the handler for one that is not an auth collection.
fn auth_collection_of(found: Option<Arc<Collection>>) -> Result<Arc<Collection>> {
    let c = found.ok_or_else(missing_collection)?;
    if !c.is_auth() {
        return Err(Error::NotFound(
            "Missing or invalid auth collection context.".into(),
        ));
    }
    Ok(c)
}

/// `field = value` as PocketBase finds a record by an identity: exact, unless the field's
/// single-column unique index says `COLLATE NOCASE` (then case-insensitive).
pub(crate) fn identity_match(c: &Collection, field: &str, value: &str) -> Result<Sql> {
    let nocase = c
        .indexes
        .iter()
        .filter_map(|i| oxbase_sql::ddl::parse_index(i))
        .any(|i| {
            i.unique
                && i.columns.len() == 1
                && i.columns[0].name.as_str() == field
                && i.columns[0]
                    .collate
                    .as_ref()
                    .is_some_and(|c| c.as_str().eq_ignore_ascii_case("nocase"))
        });
    let column = root_column(field)?;
    let mut sql = Sql::new();
    if nocase {
        sql.push("LOWER(").push_sql(&column).push(") = LOWER(");
        sql.push_param(value.to_owned()).push(")");
    } else {
        sql.push_sql(&column).push(" = ");
        sql.push_param(value.to_owned());
    }
    Ok(sql)
}

/// An auth flow's message, sent by application code.
#[derive(Debug, Clone)]
pub enum RecordMail {
    PasswordReset,
    Verification,
    EmailChange { new_email: String },
    Otp { password: String },
    AuthAlert { info: String },
}
