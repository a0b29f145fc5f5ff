//! Creating, updating and deleting records, each in one write transaction: the rule is checked
//! by SQL inside the transaction (so `n+` increments and rule checks see the same state), then
//! the change is emitted after commit.

use std::sync::Arc;

use oxbase_sql::{Ident, Sql, Value};
use serde_json::{Map, Value as Json, json};

use super::foresee::{MAX_CASCADE_DEPTH, foresee, referrers, referring_fields};
use super::input::{self, BodyKind};
use super::list::{from_root, select_by_id};
use super::record::{Record, as_list};
use super::validate;
use super::{Change, DeleteWatcher, Foreseen, Records};
use crate::auth::password;
use crate::error::{Error, FieldErrors, Result};
use crate::files::{self, Garbage, Upload};
use crate::rules::{Access, ROOT, RequestInfo, RuleKind, check};
use crate::schema::{Collection, CollectionKind, FieldKind};
use crate::store::{Conn, unique_violation};

/// The body of a create or update request.
#[derive(Debug, Clone, Default)]
pub struct WriteInput {
    pub body: Map<String, Json>,
    pub kind: Option<BodyKind>,
    /// Uploaded files, staged on disk; the body names each by its stored name under the key
    /// it was sent with (`docs`, `docs+`...), so the modifiers work for files as for lists.
    pub files: Vec<Upload>,
}

/// A write checked and prepared outside the transaction (rules compiled, passwords hashed),
/// run by [`execute`] inside one. A batch runs several plans in one transaction.
pub enum WritePlan {
    Create {
        record: Record,
        errors: FieldErrors,
        rule: Option<Sql>,
        targets: RelationTargets,
        uploads: Vec<Upload>,
    },
    Update {
        collection: Arc<Collection>,
        id: String,
        rule: Option<Sql>,
        input: WriteInput,
        superuser: bool,
        auth_changes: Map<String, Json>,
        targets: RelationTargets,
    },
    /// `watcher` decides, before any row goes, who may see the deletions (realtime).
    Delete {
        collection: Arc<Collection>,
        id: String,
        rule: Option<Sql>,
        all: Vec<Arc<Collection>>,
        watcher: Option<Arc<dyn DeleteWatcher>>,
    },
    /// Update when the record exists at execution time (an earlier write of the same batch
    /// counts), create otherwise.
    Upsert {
        collection: Arc<Collection>,
        id: String,
        update: Option<Box<WritePlan>>,
        create: Box<WritePlan>,
    },
}

/// What a write did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Created(Record),
    Updated(Record),
    /// The record and everything its deletion cascaded to.
    Deleted(Deletion),
}

/// What a delete removed, and who may see it as decided before the rows went.
#[derive(Debug, Clone)]
pub struct Deletion {
    pub records: Vec<Record>,
    /// Records whose references to a deleted one were emptied (no cascade): updates.
    pub updated: Vec<Record>,
    pub foreseen: Option<Arc<Foreseen>>,
}

/// What a delete and its cascades did, collected as they go.
#[derive(Default)]
struct Cascade {
    deleted: Vec<Record>,
    updated: Vec<Record>,
}

impl Cascade {
    fn into_deletion(self, foreseen: Option<Arc<Foreseen>>) -> Deletion {
        // A record updated and then deleted by the same cascade is only deleted.
        let updated = self
            .updated
            .into_iter()
            .filter(|u| {
                !self
                    .deleted
                    .iter()
                    .any(|d| d.id() == u.id() && d.collection.id == u.collection.id)
            })
            .collect();
        Deletion {
            records: self.deleted,
            updated,
            foreseen,
        }
    }
}

/// The message of the error `Records::run_all` fails with when its deadline passed.
pub const TIMED_OUT: &str = "batch transaction timeout";

impl Records {
    pub async fn create(
        &self,
        req: &RequestInfo,
        collection: &str,
        input: WriteInput,
    ) -> Result<Record> {
        let plan = self.plan_create(req, collection, input).await?;
        match self.run(plan).await? {
            Outcome::Created(r) => Ok(r),
            _ => Err(Error::internal("a create plan did not create")),
        }
    }

    pub async fn update(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        input: WriteInput,
    ) -> Result<Record> {
        let plan = self.plan_update(req, collection, id, input).await?;
        match self.run(plan).await? {
            Outcome::Updated(r) => Ok(r),
            _ => Err(Error::internal("an update plan did not update")),
        }
    }

    pub async fn delete(&self, req: &RequestInfo, collection: &str, id: &str) -> Result<()> {
        let plan = self.plan_delete(req, collection, id).await?;
        self.run(plan).await.map(|_| ())
    }

    /// Runs one plan in its own transaction and emits its changes after commit.
    pub async fn run(&self, plan: WritePlan) -> Result<Outcome> {
        let stored = self.store_uploads(std::slice::from_ref(&plan)).await?;
        let result = self
            .schema
            .db()
            .write(move |conn| {
                let mut garbage = Garbage::default();
                let outcome = execute(conn, plan, &mut garbage)?;
                Ok((outcome, garbage))
            })
            .await;
        let (outcome, garbage) = self.settle_files(result, stored).await?;
        self.files.collect(garbage).await;
        self.emit_outcome(&outcome);
        Ok(outcome)
    }

    /// Puts the uploads of `plans` into storage before their transaction; returns the paths.
    async fn store_uploads(&self, plans: &[WritePlan]) -> Result<Vec<String>> {
        let uploads: Vec<(String, Upload)> = plans.iter().flat_map(WritePlan::uploads).collect();
        self.files.store(&uploads).await?;
        Ok(uploads.into_iter().map(|(path, _)| path).collect())
    }

    /// A transaction that failed leaves no stored upload behind.
    async fn settle_files<T>(&self, result: Result<T>, stored: Vec<String>) -> Result<T> {
        if result.is_err() && !stored.is_empty() {
            self.files.discard(stored).await;
        }
        result
    }

    /// Runs plans in one transaction: all commit or none. On failure, the index of the plan
    /// that failed comes with its error. Changes are emitted only after the commit.
    /// With a `deadline`, a transaction still running when it passes is rolled back: the error
    /// is then `TIMED_OUT` at the index of the first plan not run.
    pub async fn run_all(
        &self,
        plans: Vec<WritePlan>,
        deadline: Option<std::time::Instant>,
    ) -> std::result::Result<Vec<Outcome>, (usize, Error)> {
        let failed_at = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let marker = failed_at.clone();
        let stored = self.store_uploads(&plans).await.map_err(|e| (0, e))?;
        let result = self
            .schema
            .db()
            .write(move |conn| {
                let mut outcomes = Vec::with_capacity(plans.len());
                let mut garbage = Garbage::default();
                for (i, plan) in plans.into_iter().enumerate() {
                    marker.store(i, std::sync::atomic::Ordering::Relaxed);
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Err(Error::internal(TIMED_OUT));
                    }
                    outcomes.push(execute(conn, plan, &mut garbage)?);
                }
                Ok((outcomes, garbage))
            })
            .await;
        match self.settle_files(result, stored).await {
            Ok((outcomes, garbage)) => {
                self.files.collect(garbage).await;
                for o in &outcomes {
                    self.emit_outcome(o);
                }
                Ok(outcomes)
            }
            Err(e) => Err((failed_at.load(std::sync::atomic::Ordering::Relaxed), e)),
        }
    }

    fn emit_outcome(&self, outcome: &Outcome) {
        match outcome {
            Outcome::Created(r) => self.emit(Change::Created(r.clone()), None),
            Outcome::Updated(r) => self.emit(Change::Updated(r.clone()), None),
            Outcome::Deleted(d) => {
                for r in &d.records {
                    self.emit(Change::Deleted(r.clone()), d.foreseen.clone());
                }
                for r in &d.updated {
                    self.emit(Change::Updated(r.clone()), None);
                }
            }
        }
    }

    pub async fn plan_create(
        &self,
        req: &RequestInfo,
        collection: &str,
        input: WriteInput,
    ) -> Result<WritePlan> {
        let c = writable(self, collection).await?;
        let rule = rule_for(self, &c, RuleKind::Create, req)?;
        let mut record = Record::new(c.clone());
        let secrets = input::apply(
            &mut record,
            &input.body,
            input.kind.unwrap_or(BodyKind::Json),
            req.auth.is_superuser(),
        );
        let uploads = input.files;
        let now = crate::dates::now();
        for f in c.fields.iter().filter(|f| f.kind == FieldKind::Autodate) {
            record.data.insert(f.name.clone(), json!(now));
        }
        let mut errors = FieldErrors::new();
        if record.id().is_empty() {
            record
                .data
                .insert("id".into(), json!(crate::ids::record_id()));
        }
        autogenerate(&mut record);
        for (name, hash) in hash_password_fields(&c, &secrets, true, &mut errors).await? {
            record.data.insert(name, hash);
        }
        if c.is_auth() {
            prepare_auth_create(&mut record, req, &secrets, &mut errors);
            if errors.is_empty() {
                let pwd = secrets
                    .get("password")
                    .map(input::to_text)
                    .unwrap_or_default();
                record
                    .data
                    .insert("password".into(), json!(password::hash_async(pwd).await?));
            }
        }
        merge(&mut errors, validate::validate(&record));
        merge(&mut errors, validate::files(&record, None, &uploads));
        let targets = self.relation_targets(&c);
        Ok(WritePlan::Create {
            record,
            errors,
            rule,
            targets,
            uploads,
        })
    }

    pub async fn plan_update(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        input: WriteInput,
    ) -> Result<WritePlan> {
        let c = writable(self, collection).await?;
        let rule = rule_for(self, &c, RuleKind::Update, req)?;
        // Password changes hash outside the write transaction (hashing is slow on purpose).
        let mut auth_changes = Map::new();
        let mut input = input;
        if c.is_auth() {
            let current = self.fetch_visible(req, &c, RuleKind::Update, id).await?;
            let manager = self.can_manage(req, &current).await?;
            if !manager {
                // Only superusers and managers (the manage rule) may change `verified`.
                input.body.remove("verified");
            }
            auth_changes = prepare_auth_update(&current, manager, &input.body).await?;
        }
        let mut errors = FieldErrors::new();
        auth_changes.extend(hash_password_fields(&c, &input.body, false, &mut errors).await?);
        if !errors.is_empty() {
            return Err(failed("update", errors));
        }
        let targets = self.relation_targets(&c);
        Ok(WritePlan::Update {
            collection: c,
            id: id.to_owned(),
            rule,
            input,
            superuser: req.auth.is_superuser(),
            auth_changes,
            targets,
        })
    }

    /// Whether `req` may manage `record` (its auth collection's `manageRule`): change its
    /// password without the old one and its `verified` flag. Superusers always may.
    pub async fn can_manage(&self, req: &RequestInfo, record: &Record) -> Result<bool> {
        self.passes(req, record, RuleKind::Manage).await
    }

    pub async fn plan_delete(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
    ) -> Result<WritePlan> {
        let c = writable(self, collection).await?;
        let rule = rule_for(self, &c, RuleKind::Delete, req)?;
        Ok(WritePlan::Delete {
            collection: c,
            id: id.to_owned(),
            rule,
            all: self.schema.all(),
            watcher: self.delete_watcher(),
        })
    }

    /// Empties a collection (superusers only, checked by the caller), cascading like deletes.
    pub async fn truncate(&self, c: &Arc<Collection>) -> Result<()> {
        let all = self.schema.all();
        let c = c.clone();
        let watcher = self.delete_watcher();
        let deletion = self
            .schema
            .db()
            .write(move |conn| {
                let rows = conn.query(&{
                    let mut s = Sql::raw(format!("SELECT \"{ROOT}\".* FROM "));
                    s.push_sql(&from_root(&c)?);
                    s
                })?;
                let roots = Record::from_rows(&c, &rows);
                let foreseen = match &watcher {
                    Some(w) => foresee(conn, &all, &roots, w.as_ref())?,
                    None => None,
                };
                let mut cascade = Cascade::default();
                for r in roots {
                    delete_cascading(conn, &all, r, &mut cascade, 0)?;
                }
                Ok(cascade.into_deletion(foreseen))
            })
            .await?;
        self.files.collect(deleted_files(&deletion.records)).await;
        // Every deleted record is a change: caches and subscribers must hear of it.
        self.emit_outcome(&Outcome::Deleted(deletion));
        Ok(())
    }
}

/// Runs a plan inside the caller's transaction.
/// What storage the write leaves behind once committed goes into `garbage`.
pub fn execute(conn: &mut dyn Conn, plan: WritePlan, garbage: &mut Garbage) -> Result<Outcome> {
    match plan {
        WritePlan::Create {
            record,
            mut errors,
            rule,
            targets,
            uploads,
        } => {
            // Relation targets are checked with the other fields, so one 400 lists all.
            merge(&mut errors, relation_errors(conn, &record, &targets)?);
            if !errors.is_empty() {
                return Err(failed("create", errors));
            }
            insert(conn, &record).map_err(|e| unique_error(e, "create"))?;
            if let Some(rule) = rule {
                let check = select_by_id(&record.collection, record.id(), Some(&rule))?;
                if conn.query(&check)?.is_empty() {
                    return Err(failed("create", FieldErrors::new()));
                }
            }
            garbage.files.extend(unused_uploads(&record, &uploads));
            // The row holds exactly the record's values: no need to read it back.
            Ok(Outcome::Created(record))
        }
        WritePlan::Update {
            collection: c,
            id,
            rule,
            input,
            superuser,
            auth_changes,
            targets,
        } => {
            let mut select = select_by_id(&c, &id, rule.as_ref())?;
            select.push_sql(&conn.dialect().lock_rows(&root_alias()));
            // PB-COMPAT: PocketBase reads the record, applies `n+`, then writes, so two
            // concurrent increments can lose one. Here the read, the modifiers and the write
            // share one transaction, on SQLite's single writer or with the row locked on
            // PostgreSQL: none is lost.
            let mut record = Record::from_rows(&c, &conn.query(&select)?)
                .pop()
                .ok_or_else(Error::not_found)?;
            let old_id = record.id().to_owned();
            let previous = record.clone();
            input::apply(
                &mut record,
                &input.body,
                input.kind.unwrap_or(BodyKind::Json),
                superuser,
            );
            for (k, v) in auth_changes {
                record.data.insert(k, v);
            }
            let now = crate::dates::now();
            for f in c
                .fields
                .iter()
                .filter(|f| f.kind == FieldKind::Autodate && f.bool_opt("onUpdate"))
            {
                record.data.insert(f.name.clone(), json!(now));
            }
            let mut errors = validate::validate(&record);
            merge(
                &mut errors,
                validate::files(&record, Some(&previous), &input.files),
            );
            merge(&mut errors, relation_errors(conn, &record, &targets)?);
            if !errors.is_empty() {
                return Err(failed("update", errors));
            }
            update_row(conn, &record, &old_id).map_err(|e| unique_error(e, "update"))?;
            garbage.files.extend(unused_uploads(&record, &input.files));
            garbage.files.extend(replaced_files(&previous, &record));
            Ok(Outcome::Updated(record))
        }
        WritePlan::Upsert {
            collection,
            id,
            update,
            create,
        } => {
            let exists = !conn
                .query(&select_by_id(&collection, &id, None)?)?
                .is_empty();
            match update {
                Some(update) if exists => execute(conn, *update, garbage),
                _ => execute(conn, *create, garbage),
            }
        }
        WritePlan::Delete {
            collection: c,
            id,
            rule,
            all,
            watcher,
        } => {
            let select = select_by_id(&c, &id, rule.as_ref())?;
            let record = Record::from_rows(&c, &conn.query(&select)?)
                .pop()
                .ok_or_else(Error::not_found)?;
            // Who may see the deletions is decided before the first row goes: a cascaded
            // record's rule may read the record that caused it.
            let foreseen = match &watcher {
                Some(w) => foresee(conn, &all, std::slice::from_ref(&record), w.as_ref())?,
                None => None,
            };
            let mut cascade = Cascade::default();
            delete_cascading(conn, &all, record, &mut cascade, 0)?;
            garbage.extend(deleted_files(&cascade.deleted));
            Ok(Outcome::Deleted(cascade.into_deletion(foreseen)))
        }
    }
}

impl WritePlan {
    /// The uploads this plan stores, at their paths.
    fn uploads(&self) -> Vec<(String, Upload)> {
        let (collection_id, record_id, uploads) = match self {
            WritePlan::Create {
                record, uploads, ..
            } => (&record.collection.id, record.id(), uploads),
            WritePlan::Update {
                collection,
                id,
                input,
                ..
            } => (&collection.id, id.as_str(), &input.files),
            // Both sides of an upsert hold the same uploads for the same id.
            WritePlan::Upsert { create, .. } => return create.uploads(),
            WritePlan::Delete { .. } => return Vec::new(),
        };
        uploads
            .iter()
            .map(|u| {
                (
                    files::file_path(collection_id, record_id, &u.name),
                    u.clone(),
                )
            })
            .collect()
    }
}

/// The names a record's file fields hold.
fn file_names(record: &Record) -> Vec<String> {
    record
        .collection
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::File)
        .flat_map(|f| record.get_list(&f.name))
        .collect()
}

/// Uploads the written record does not keep (several sent to a single-file field, say).
fn unused_uploads(record: &Record, uploads: &[Upload]) -> Vec<String> {
    let kept = file_names(record);
    uploads
        .iter()
        .filter(|u| !kept.contains(&u.name))
        .map(|u| files::file_path(&record.collection.id, record.id(), &u.name))
        .collect()
}

/// Files an update removed or replaced.
fn replaced_files(previous: &Record, record: &Record) -> Vec<String> {
    let kept = file_names(record);
    file_names(previous)
        .into_iter()
        .filter(|n| !kept.contains(n))
        .map(|n| files::file_path(&previous.collection.id, previous.id(), &n))
        .collect()
}

/// The folders of deleted records that can hold files.
fn deleted_files(deleted: &[Record]) -> Garbage {
    let dirs = deleted
        .iter()
        .filter(|r| {
            r.collection
                .fields
                .iter()
                .any(|f| f.kind == FieldKind::File)
        })
        .map(|r| files::record_dir(&r.collection.id, r.id()))
        .collect();
    Garbage {
        files: Vec::new(),
        dirs,
    }
}

fn root_alias() -> Ident {
    Ident::new(ROOT).expect("the root alias is a valid identifier")
}

/// A collection records may be written to (not a view).
async fn writable(records: &Records, collection: &str) -> Result<Arc<Collection>> {
    let c = records.schema.require_fresh(collection).await?;
    if c.kind == CollectionKind::View {
        return Err(Error::bad_request("View collections are read-only."));
    }
    Ok(c)
}

fn rule_for(
    records: &Records,
    c: &Arc<Collection>,
    kind: RuleKind,
    req: &RequestInfo,
) -> Result<Option<Sql>> {
    match check::access(&records.schema, c, kind, req)? {
        Access::SuperusersOnly => Err(Error::forbidden()),
        Access::All => Ok(None),
        Access::Where(sql) => Ok(Some(sql)),
    }
}

fn failed(action: &str, data: FieldErrors) -> Error {
    Error::BadRequest {
        message: format!("Failed to {action} record."),
        data,
    }
}

fn merge(into: &mut FieldErrors, more: FieldErrors) {
    for (k, v) in more {
        into.entry(k).or_insert(v);
    }
}

fn unique_error(err: Error, action: &str) -> Error {
    match unique_violation(&err) {
        Some(columns) => {
            let mut data = FieldErrors::new();
            for c in columns {
                data.insert(
                    c,
                    json!({"code": "validation_not_unique", "message": "Value must be unique."}),
                );
            }
            failed(action, data)
        }
        None => err,
    }
}

/// Text fields with an `autogeneratePattern` and no value get one.
fn autogenerate(record: &mut Record) {
    let collection = record.collection.clone();
    for f in collection
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Text)
    {
        let pattern = f.str_opt("autogeneratePattern");
        if !pattern.is_empty() && record.get_str(&f.name).is_empty() {
            record
                .data
                .insert(f.name.clone(), json!(generate_from_pattern(pattern)));
        }
    }
}

/// Generates a string for the simple patterns PocketBase uses: `[a-z0-9]{15}`. Other
/// patterns get a record id.
fn generate_from_pattern(pattern: &str) -> String {
    let parsed = pattern
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]{"))
        .and_then(|(set, count)| {
            let len: usize = count.strip_suffix('}')?.parse().ok()?;
            Some((set, len.min(255)))
        });
    let Some((set, len)) = parsed else {
        return crate::ids::record_id();
    };
    let chars: Vec<char> = set.chars().collect();
    let mut alphabet = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            alphabet.extend(
                (chars[i]..=chars[i + 2])
                    .filter(char::is_ascii)
                    .map(|c| c as u8),
            );
            i += 3;
        } else {
            if chars[i].is_ascii() {
                alphabet.push(chars[i] as u8);
            }
            i += 1;
        }
    }
    if alphabet.is_empty() {
        return crate::ids::record_id();
    }
    crate::ids::random_from(len, &alphabet)
}

/// The password fields of a write other than an auth collection's own `password` (which has
/// its confirmation rules): each given value checked against the field's limits and hashed,
/// keyed by field name. `creating`: a required field must be given.
async fn hash_password_fields(
    c: &Collection,
    given: &Map<String, Json>,
    creating: bool,
    errors: &mut FieldErrors,
) -> Result<Vec<(String, Json)>> {
    let mut out = Vec::new();
    for f in c
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Password && !(c.is_auth() && f.name == "password"))
    {
        let plain = given.get(&f.name).map(input::to_text).unwrap_or_default();
        if plain.is_empty() {
            if creating && f.required {
                errors.insert(
                    f.name.clone(),
                    json!({"code": "validation_required", "message": "Cannot be blank."}),
                );
            }
            continue;
        }
        if let Some(e) = validate::text(f, &plain) {
            errors.insert(f.name.clone(), e);
            continue;
        }
        out.push((f.name.clone(), json!(password::hash_async(plain).await?)));
    }
    Ok(out)
}

/// Checks the password fields of a new auth record and sets its server-owned fields; the
/// caller hashes the password when there is no error.
fn prepare_auth_create(
    record: &mut Record,
    req: &RequestInfo,
    secrets: &Map<String, Json>,
    errors: &mut FieldErrors,
) {
    let pwd = secrets.get("password").and_then(Json::as_str).unwrap_or("");
    let confirm = secrets
        .get("passwordConfirm")
        .and_then(Json::as_str)
        .unwrap_or("");
    let field = record.collection.field("password").cloned();
    if pwd.is_empty() {
        errors.insert(
            "password".into(),
            json!({"code": "validation_required", "message": "Cannot be blank."}),
        );
    } else if confirm.is_empty() {
        errors.insert(
            "passwordConfirm".into(),
            json!({"code": "validation_required", "message": "Cannot be blank."}),
        );
    } else if pwd != confirm {
        errors.insert(
            "passwordConfirm".into(),
            json!({"code": "validation_values_mismatch", "message": "Values don't match."}),
        );
    } else if let Some(e) = field.as_ref().and_then(|f| validate::text(f, pwd)) {
        errors.insert("password".into(), e);
    }
    if !req.auth.is_superuser() {
        // Only superusers may create already verified accounts.
        record.data.insert("verified".into(), json!(false));
    }
    record
        .data
        .insert("tokenKey".into(), json!(crate::ids::random_string(50)));
}

/// Password and verification changes of an auth record, checked and hashed up front.
async fn prepare_auth_update(
    current: &Record,
    manager: bool,
    body: &Map<String, Json>,
) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    let Some(pwd) = body
        .get("password")
        .map(input::to_text)
        .filter(|p| !p.is_empty())
    else {
        return Ok(out);
    };
    let mut errors = FieldErrors::new();
    let confirm = body
        .get("passwordConfirm")
        .map(input::to_text)
        .unwrap_or_default();
    if pwd != confirm {
        errors.insert(
            "passwordConfirm".into(),
            json!({"code": "validation_values_mismatch", "message": "Values don't match."}),
        );
    }
    if !manager {
        let old = body
            .get("oldPassword")
            .map(input::to_text)
            .unwrap_or_default();
        if !password::verify_async(old, current.get_str("password").to_owned()).await {
            errors.insert("oldPassword".into(), json!({"code": "validation_invalid_old_password", "message": "Missing or invalid old password."}));
        }
    }
    if let Some(e) = current
        .collection
        .field("password")
        .and_then(|f| validate::text(f, &pwd))
    {
        errors.insert("password".into(), e);
    }
    if !errors.is_empty() {
        return Err(failed("update", errors));
    }
    out.insert("password".into(), json!(password::hash_async(pwd).await?));
    // A new token key invalidates every token issued before the change.
    out.insert("tokenKey".into(), json!(crate::ids::random_string(50)));
    Ok(out)
}

fn table(c: &Collection) -> Result<Ident> {
    Ident::new(&c.name).ok_or_else(|| Error::internal("invalid collection name"))
}

fn insert(conn: &mut dyn Conn, record: &Record) -> Result<()> {
    let c = &record.collection;
    let mut sql = Sql::raw("INSERT INTO ");
    sql.push_ident(&table(c)?).push(" (");
    let cols: Vec<Sql> = c
        .fields
        .iter()
        .map(|f| Sql::raw(format!("\"{}\"", f.name)))
        .collect();
    sql.push_sql(&Sql::join(cols, ", ")).push(") VALUES (");
    let values: Vec<Sql> = c
        .fields
        .iter()
        .map(|f| Sql::param(record.column_value(f)))
        .collect();
    sql.push_sql(&Sql::join(values, ", ")).push(")");
    conn.execute(&sql)?;
    Ok(())
}

fn update_row(conn: &mut dyn Conn, record: &Record, old_id: &str) -> Result<()> {
    let c = &record.collection;
    let mut sql = Sql::raw("UPDATE ");
    sql.push_ident(&table(c)?).push(" SET ");
    let sets: Vec<Sql> = c
        .fields
        .iter()
        .map(|f| {
            let mut s = Sql::raw(format!("\"{}\" = ", f.name));
            s.push_param(record.column_value(f));
            s
        })
        .collect();
    sql.push_sql(&Sql::join(sets, ", "))
        .push(" WHERE \"id\" = ")
        .push_param(old_id.to_owned());
    conn.execute(&sql)?;
    Ok(())
}

/// The table each relation field of a collection points at, resolved from the schema cache
/// when the write is planned (`None`: the target collection is gone).
pub type RelationTargets = Vec<(String, Option<Ident>)>;

impl Records {
    fn relation_targets(&self, c: &Collection) -> RelationTargets {
        c.fields
            .iter()
            .filter(|f| f.kind == FieldKind::Relation)
            .map(|f| {
                (
                    f.name.clone(),
                    self.schema
                        .get(f.str_opt("collectionId"))
                        .and_then(|t| Ident::new(&t.name)),
                )
            })
            .collect()
    }
}

/// Every id of every relation field must exist in its target collection.
fn relation_errors(
    conn: &mut dyn Conn,
    record: &Record,
    targets: &RelationTargets,
) -> Result<FieldErrors> {
    let mut errors = FieldErrors::new();
    let missing = || json!({"code": "validation_missing_rel_records", "message": "Failed to find all relation records with the provided ids."});
    for (field, target) in targets {
        let mut ids = record.get_list(field);
        if ids.is_empty() {
            continue;
        }
        ids.sort();
        ids.dedup();
        let Some(target) = target else {
            errors.insert(field.clone(), missing());
            continue;
        };
        let mut count = Sql::raw("SELECT COUNT(*) FROM ");
        count.push_ident(target).push(" WHERE \"id\" IN (");
        count
            .push_sql(&Sql::join(
                ids.iter().map(|id| Sql::param(id.clone())),
                ", ",
            ))
            .push(")");
        let found = match conn.query_scalar(&count)? {
            Some(Value::Int(n)) => n as usize,
            _ => 0,
        };
        if found != ids.len() {
            errors.insert(field.clone(), missing());
        }
    }
    Ok(errors)
}

/// Deletes `record`, then repairs what pointed at it: cascading deletes, emptied references,
/// or a refusal when a required reference would be left empty.
fn delete_cascading(
    conn: &mut dyn Conn,
    all: &[Arc<Collection>],
    record: Record,
    cascade: &mut Cascade,
    depth: usize,
) -> Result<()> {
    if depth > MAX_CASCADE_DEPTH
        || cascade
            .deleted
            .iter()
            .any(|d| d.id() == record.id() && d.collection.id == record.collection.id)
    {
        return Ok(());
    }
    let mut del = Sql::raw("DELETE FROM ");
    del.push_ident(&table(&record.collection)?)
        .push(" WHERE \"id\" = ")
        .push_param(record.id().to_owned());
    conn.execute(&del)?;
    let id = record.id().to_owned();
    let target_id = record.collection.id.clone();
    cascade.deleted.push(record);
    for (c, f) in referring_fields(all, &target_id) {
        for referrer in referrers(conn, c, f, &id)? {
            if f.bool_opt("cascadeDelete") {
                delete_cascading(conn, all, referrer, cascade, depth + 1)?;
                continue;
            }
            let remaining: Vec<String> = as_list(referrer.get(&f.name))
                .into_iter()
                .filter(|x| *x != id)
                .collect();
            if f.required && remaining.is_empty() {
                return Err(Error::bad_request(
                    "The record cannot be deleted because it is part of a required reference in another record.",
                ));
            }
            let value = if f.is_multi() {
                json!(remaining)
            } else {
                json!("")
            };
            let mut upd = Sql::raw("UPDATE ");
            let mut shadow = referrer.clone();
            shadow.data.insert(f.name.clone(), value);
            upd.push_ident(&table(c)?)
                .push(&format!(" SET \"{}\" = ", f.name))
                .push_param(shadow.column_value(f));
            upd.push(" WHERE \"id\" = ")
                .push_param(referrer.id().to_owned());
            conn.execute(&upd)?;
            // PB-COMPAT: the emptied reference is an update subscribers hear of, as in PocketBase.
            match cascade
                .updated
                .iter_mut()
                .find(|u| u.id() == shadow.id() && u.collection.id == shadow.collection.id)
            {
                Some(earlier) => *earlier = shadow,
                None => cascade.updated.push(shadow),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::generate_from_pattern;

    #[test]
    fn generates_from_character_class_patterns() {
        let id = generate_from_pattern("[a-z0-9]{15}");
        assert_eq!(id.len(), 15);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        let key = generate_from_pattern("[a-zA-Z0-9]{50}");
        assert_eq!(key.len(), 50);
        assert_eq!(generate_from_pattern("[x]{3}"), "xxx");
        assert_eq!(generate_from_pattern("weird(").len(), 15);
    }
}
