//! Running a write plan inside the caller's transaction: the row writes, the relation checks,
//! the rule check of a create, cascading deletes, and the files each write leaves behind.

use std::sync::Arc;

use parking_lot::Mutex;

use oxbase_sql::{Ident, Sql, Value};
use serde_json::{Map, Value as Json, json};

use super::{Deletion, Outcome, UpdateRule, WritePlan, failed, merge, unique_error};
use crate::error::{Error, FieldErrors, Result};
use crate::events::{Action, DeleteWatcher, Foreseen, Proceed, ProceedDelete, TransactionHooks};
use crate::files::{self, Garbage, Upload};
use crate::records::Records;
use crate::records::foresee::{MAX_CASCADE_DEPTH, foresee, referrers, referring_fields};
use crate::records::input::{self, BodyKind};
use crate::records::query::{self, select_by_id, table};
use crate::records::validate;
use crate::records::visibility::{Check, Verdict};
use crate::rules::{Access, RequestInfo, RuleKind, check};
use crate::schema::record::{Record, as_list};
use crate::schema::system::SUPERUSERS;
use crate::schema::{Collection, FieldKind, Schema};
use crate::store::Conn;

/// What a delete and its cascades did, collected as they go.
#[derive(Default)]
pub(super) struct Cascade {
    deleted: Vec<Record>,
    updated: Vec<Record>,
}

impl Cascade {
    pub(super) fn into_deletion(self, foreseen: Option<Arc<Foreseen>>) -> Deletion {
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

/// Runs a plan inside the caller's transaction.
/// What storage the write leaves behind once committed goes into `garbage`.
pub fn execute(
    conn: &mut dyn Conn,
    plan: WritePlan,
    garbage: &mut Garbage,
    hooks: &TransactionHooks,
) -> Result<Outcome> {
    match plan {
        WritePlan::Create {
            record,
            errors,
            rule,
            targets,
            uploads,
            auth_peers,
            origin: _,
        } => {
            let hooked = !hooks.is_empty();
            let rows = move |conn: &mut dyn Conn, record: Record| {
                create_rows(
                    conn, record, errors, rule, targets, uploads, auth_peers, hooked,
                )
            };
            match around_write(conn, hooks, Action::Create, record, None, rows)? {
                Around::Done((record, unused)) => {
                    garbage.files.extend(unused);
                    Ok(Outcome::Created(record))
                }
                Around::Skipped(record) => Ok(Outcome::Skipped(record)),
            }
        }
        WritePlan::Update {
            collection: c,
            id,
            rule,
            input,
            superuser,
            auth_changes,
            targets,
            origin: _,
        } => {
            let compiled = match &rule {
                UpdateRule::Compiled(rule) => rule.as_ref(),
                UpdateRule::AfterModifiers { .. } => None,
            };
            let select = query::select_by_id_locked(&c, &id, compiled, conn.dialect())?;
            // PB-COMPAT: PocketBase reads the record, applies `n+`, then writes, so two
            // concurrent increments can lose one. Here the read, the modifiers and the write
            // share one transaction, on SQLite's single writer or with the row locked on
            // PostgreSQL: none is lost.
            let mut record = Record::from_rows(&c, conn.query(&select)?)
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
            if let UpdateRule::AfterModifiers { schema, request } = rule {
                judge_final_values(conn, &schema, *request, &record, &old_id, &input.body)?;
            }
            if record.id() != old_id {
                let mut errors = FieldErrors::new();
                errors.insert(
                    "id".into(),
                    json!({"code": "validation_pk_change",
                           "message": "The record primary key cannot be changed."}),
                );
                return Err(failed("update", errors));
            }
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
            let stored = previous.clone();
            let rows = move |conn: &mut dyn Conn, record: Record| {
                update_rows(conn, record, &stored, &input.files, &targets, &old_id)
            };
            match around_write(conn, hooks, Action::Update, record, Some(&previous), rows)? {
                Around::Done((record, unused)) => {
                    garbage.files.extend(unused);
                    Ok(Outcome::Updated(record))
                }
                Around::Skipped(record) => Ok(Outcome::Skipped(record)),
            }
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
                Some(update) if exists => execute(conn, *update, garbage, hooks),
                _ => execute(conn, *create, garbage, hooks),
            }
        }
        WritePlan::Delete {
            collection: c,
            id,
            rule,
            all,
            watcher,
            origin: _,
        } => {
            let select = select_by_id(&c, &id, rule.as_ref())?;
            let record = Record::from_rows(&c, conn.query(&select)?)
                .pop()
                .ok_or_else(Error::not_found)?;
            if c.name == SUPERUSERS {
                keep_a_superuser(conn)?;
            }
            if hooks.is_empty() {
                let deletion = delete_rows(conn, record, &all, watcher.as_deref())?;
                garbage.extend(deleted_files(&deletion.records));
                return Ok(Outcome::Deleted(deletion));
            }
            let made: Arc<Mutex<Option<Result<Deletion>>>> = Arc::default();
            let kept = made.clone();
            let target = record.clone();
            let proceed: ProceedDelete = Box::new(move |conn| {
                let out = delete_rows(conn, target, &all, watcher.as_deref());
                let echo = out.as_ref().err().map(Error::echo);
                *kept.lock() = Some(out);
                echo.map_or(Ok(()), Err)
            });
            let went = hooks.around_delete(conn, &record, proceed);
            let deletion = match (went, made.lock().take()) {
                (_, Some(Err(e))) | (Err(e), _) => return Err(e),
                (Ok(true), Some(Ok(deletion))) => deletion,
                // Skipped: nothing was deleted.
                _ => Cascade::default().into_deletion(None),
            };
            garbage.extend(deleted_files(&deletion.records));
            Ok(Outcome::Deleted(deletion))
        }
    }
}

/// The rest of a create once the consumers around it let it go on: its checks, its row and
/// its rule; the record written, and the uploads it does not keep.
#[allow(clippy::too_many_arguments)]
fn create_rows(
    conn: &mut dyn Conn,
    record: Record,
    mut errors: FieldErrors,
    rule: Option<Sql>,
    targets: RelationTargets,
    uploads: Vec<Upload>,
    auth_peers: Vec<Arc<Collection>>,
    hooked: bool,
) -> Result<(Record, Vec<String>)> {
    if hooked {
        // What an in-transaction consumer changed is checked like the request's values:
        // fields, relations, uniqueness, all below.
        merge(&mut errors, validate::validate(&record));
    }
    let own_table = table(&record.collection)?;
    let (mut missing, mut checks) = relation_checks(&record, &targets);
    // Relation targets are checked with the other fields, so one 400 lists all. A
    // valid create checks its relations and its rule after the insert, in one query;
    // one pointing at its own collection is checked first, so that it cannot name
    // itself (as in PocketBase).
    // PB-COMPAT: PocketBase judges the create rule before anything else, so a caller
    // it refuses learns nothing of the fields (what is invalid, taken or missing):
    // every failure below asks the rule first, on the record's values.
    let refused = |conn: &mut dyn Conn| refused_by(conn, rule.as_ref(), &record);
    if !errors.is_empty() || targets.iter().any(|(_, t)| t.as_ref() == Some(&own_table)) {
        let checked = std::mem::take(&mut checks);
        let (relation_errors, _) = run_checks(conn, checked, std::mem::take(&mut missing), None)?;
        merge(&mut errors, relation_errors);
        if !errors.is_empty() {
            return Err(if refused(conn)? {
                failed("create", FieldErrors::new())
            } else {
                failed("create", errors)
            });
        }
    }
    if !auth_peers.is_empty()
        && let Err(e) = ensure_unique_auth_id(conn, &record, &auth_peers)
    {
        return Err(if refused(conn)? {
            failed("create", FieldErrors::new())
        } else {
            e
        });
    }
    insert_checked(conn, &record, &targets, refused)?;
    let rule = rule
        .map(|rule| select_by_id(&record.collection, record.id(), Some(&rule)))
        .transpose()?;
    let (relation_errors, passed) = run_checks(conn, checks, missing, rule)?;
    if !passed {
        return Err(failed("create", FieldErrors::new()));
    }
    if !relation_errors.is_empty() {
        return Err(failed("create", relation_errors));
    }
    // The row holds exactly the record's values: no need to read it back.
    let unused = unused_uploads(&record, &uploads);
    // The row holds exactly the record's values: no need to read it back.
    Ok((record, unused))
}

/// The rest of an update once the consumers around it let it go on: its checks and its row;
/// the record written, and the files it no longer keeps.
fn update_rows(
    conn: &mut dyn Conn,
    record: Record,
    previous: &Record,
    uploads: &[Upload],
    targets: &RelationTargets,
    old_id: &str,
) -> Result<(Record, Vec<String>)> {
    let mut errors = validate::validate(&record);
    merge(
        &mut errors,
        validate::files(&record, Some(previous), uploads),
    );
    merge(&mut errors, relation_errors(conn, &record, targets)?);
    if !errors.is_empty() {
        return Err(failed("update", errors));
    }
    update_row(conn, &record, old_id).map_err(|e| unique_error(e, "update"))?;
    let mut unused = unused_uploads(&record, uploads);
    unused.extend(replaced_files(previous, &record));
    Ok((record, unused))
}

/// The rest of a delete once the consumers around it let it go on: who may see each deletion
/// (decided before the first row goes: a cascaded record's rule may read the record that
/// caused it), then the cascade.
fn delete_rows(
    conn: &mut dyn Conn,
    record: Record,
    all: &[Arc<Collection>],
    watcher: Option<&dyn DeleteWatcher>,
) -> Result<Deletion> {
    let foreseen = match watcher {
        Some(w) => foresee(conn, all, std::slice::from_ref(&record), w)?,
        None => None,
    };
    let mut cascade = Cascade::default();
    delete_cascading(conn, all, record, &mut cascade, 0)?;
    Ok(cascade.into_deletion(foreseen))
}

/// What the consumers around a create or update let it do.
enum Around<R> {
    /// It ran: what its rows answered.
    Done(R),
    /// A consumer skipped it (the record as left).
    Skipped(Record),
}

/// Runs `rows`, the rest of a create or update, inside the in-transaction consumers.
fn around_write<R: Send + 'static>(
    conn: &mut dyn Conn,
    hooks: &TransactionHooks,
    action: Action,
    record: Record,
    previous: Option<&Record>,
    rows: impl FnOnce(&mut dyn Conn, Record) -> Result<R> + Send + 'static,
) -> Result<Around<R>> {
    if hooks.is_empty() {
        return rows(conn, record).map(Around::Done);
    }
    // What the rows answered stays here; the consumer that ran them sees a copy of an error.
    let made: Arc<Mutex<Option<Result<R>>>> = Arc::default();
    let kept = made.clone();
    let proceed: Proceed = Box::new(move |conn, record| {
        let out = rows(conn, record);
        let echo = out.as_ref().err().map(Error::echo);
        *kept.lock() = Some(out);
        echo.map_or(Ok(()), Err)
    });
    let skipped = hooks.around_write(conn, action, record, previous, proceed);
    match (skipped, made.lock().take()) {
        (_, Some(Err(e))) => Err(e),
        // PB-COMPAT: a consumer failing after the rows were written fails the write, and the
        // transaction undoes them (PocketBase keeps an API write a hook failed after its
        // `e.next()`: it writes outside a transaction).
        (Err(e), _) => Err(e),
        (Ok(Some(record)), _) => Ok(Around::Skipped(record)),
        (Ok(None), Some(Ok(out))) => Ok(Around::Done(out)),
        (Ok(None), None) => Err(Error::internal("a write neither ran nor was skipped")),
    }
}

/// The update rule of `record`'s collection, judged on the stored record (locked by the
/// caller) with `@request.body` holding the final values `body` gave `record`.
fn judge_final_values(
    conn: &mut dyn Conn,
    schema: &Schema,
    mut request: RequestInfo,
    record: &Record,
    stored_id: &str,
    body: &Map<String, Json>,
) -> Result<()> {
    request.body = input::resolved_body(record, body, false);
    let c = &record.collection;
    let rule = match check::access(schema, c, RuleKind::Update, &request)? {
        Access::All => return Ok(()),
        Access::SuperusersOnly => return Err(Error::forbidden()),
        Access::Where(rule) => rule,
    };
    // The row as stored: `record` already holds the new values.
    if conn
        .query(&select_by_id(c, stored_id, Some(&rule))?)?
        .is_empty()
    {
        return Err(Error::not_found());
    }
    Ok(())
}

impl WritePlan {
    /// The uploads this plan stores, at their paths.
    pub(super) fn uploads(&self) -> Vec<(String, Upload)> {
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
pub(super) fn file_names(record: &Record) -> Vec<String> {
    record
        .collection
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::File)
        .flat_map(|f| record.get_list(&f.name))
        .collect()
}

/// Uploads the written record does not keep (several sent to a single-file field, say).
pub(super) fn unused_uploads(record: &Record, uploads: &[Upload]) -> Vec<String> {
    let kept = file_names(record);
    uploads
        .iter()
        .filter(|u| !kept.contains(&u.name))
        .map(|u| files::file_path(&record.collection.id, record.id(), &u.name))
        .collect()
}

/// Files an update removed or replaced.
pub(super) fn replaced_files(previous: &Record, record: &Record) -> Vec<String> {
    let kept = file_names(record);
    file_names(previous)
        .into_iter()
        .filter(|n| !kept.contains(n))
        .map(|n| files::file_path(&previous.collection.id, previous.id(), &n))
        .collect()
}

/// The folders of deleted records that can hold files.
pub(super) fn deleted_files(deleted: &[Record]) -> Garbage {
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

/// Inserts `record`'s row; with `skip_duplicate`, a row conflicting with a unique index is
/// left out (0 rows changed) instead of failing.
pub(super) fn insert(conn: &mut dyn Conn, record: &Record, skip_duplicate: bool) -> Result<usize> {
    conn.execute(&query::insert_row(record, skip_duplicate)?)
}

pub(super) fn update_row(conn: &mut dyn Conn, record: &Record, old_id: &str) -> Result<()> {
    conn.execute(&query::update_row(record, old_id)?)?;
    Ok(())
}

/// The table each relation field of a collection points at, resolved from the schema cache
/// when the write is planned (`None`: the target collection is gone).
pub type RelationTargets = Vec<(String, Option<Ident>)>;

impl Records {
    pub(crate) fn relation_targets(&self, c: &Collection) -> RelationTargets {
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

/// Inserts `record`; a duplicate value is reported after the relation errors, if any, as
/// PocketBase validates fields before the database sees the row. The first attempt skips a
/// conflicting row instead of failing, so that the transaction stays usable (PostgreSQL
/// aborts it at an error) for the relation check.
fn insert_checked(
    conn: &mut dyn Conn,
    record: &Record,
    targets: &RelationTargets,
    refused: impl Fn(&mut dyn Conn) -> Result<bool>,
) -> Result<()> {
    if insert(conn, record, true)? == 1 {
        return Ok(());
    }
    // Asked before the failing insert below: on PostgreSQL nothing runs after it.
    if refused(conn)? {
        return Err(failed("create", FieldErrors::new()));
    }
    let errors = relation_errors(conn, record, targets)?;
    if !errors.is_empty() {
        return Err(failed("create", errors));
    }
    // Again without skipping, for the error that names the duplicate columns.
    insert(conn, record, false)
        .map(|_| ())
        .map_err(|e| unique_error(e, "create"))
}

/// Whether `rule` refuses `record` as it would be stored (judged on its values: it may not
/// be in the table).
fn refused_by(conn: &mut dyn Conn, rule: Option<&Sql>, record: &Record) -> Result<bool> {
    let Some(rule) = rule else {
        return Ok(false);
    };
    let verdict = Verdict::Where(rule.clone());
    let check = Check::new(conn.dialect(), &verdict, &[record])?;
    Ok(!check.run(conn)?.first().copied().unwrap_or(false))
}

/// The only superuser is never deleted: the dashboard would be locked for good (PocketBase's
/// 400). Concurrent deletes of the last two are ordered by a lock on PostgreSQL.
fn keep_a_superuser(conn: &mut dyn Conn) -> Result<()> {
    if let Some(lock) = conn.dialect().key_lock(SUPERUSERS) {
        conn.execute(&lock)?;
    }
    let superusers = Ident::new(SUPERUSERS).ok_or_else(|| Error::internal("invalid table name"))?;
    let count = query::count_rows(&superusers, None);
    if matches!(conn.query_scalar(&count)?, Some(Value::Int(n)) if n <= 1) {
        return Err(Error::bad_request(
            "You can't delete the only existing superuser.",
        ));
    }
    Ok(())
}

/// An auth record's id is unique across all auth collections, so that a rule comparing a
/// relation with `@request.auth.id` can never be passed by a record of another collection
/// that took the same id.
// PB-COMPAT: PocketBase checks this too ("loosely", before its insert and outside any lock);
// here the check and the insert share the transaction, and on PostgreSQL an advisory lock on
// the id orders concurrent creates of that id in different collections.
fn ensure_unique_auth_id(
    conn: &mut dyn Conn,
    record: &Record,
    peers: &[Arc<Collection>],
) -> Result<()> {
    if let Some(lock) = conn.dialect().key_lock(&format!("auth-id:{}", record.id())) {
        conn.execute(&lock)?;
    }
    for peer in peers {
        if !conn
            .query(&select_by_id(peer, record.id(), None)?)?
            .is_empty()
        {
            let mut errors = FieldErrors::new();
            errors.insert(
                "id".into(),
                json!({"code": "validation_invalid_auth_id",
                       "message": "Invalid or duplicated auth record id."}),
            );
            return Err(failed("create", errors));
        }
    }
    Ok(())
}

/// A relation field's check: how many of the ids it names exist in its target, and how many
/// must.
pub(super) struct RelationCheck {
    field: String,
    count: Sql,
    expected: usize,
}

fn missing_relation() -> serde_json::Value {
    json!({"code": "validation_missing_rel_records", "message": "Failed to find all relation records with the provided ids."})
}

/// The checks of `record`'s relation fields, and the errors of those whose target is gone.
pub(super) fn relation_checks(
    record: &Record,
    targets: &RelationTargets,
) -> (FieldErrors, Vec<RelationCheck>) {
    let mut errors = FieldErrors::new();
    let mut checks = Vec::new();
    for (field, target) in targets {
        let mut ids = record.get_list(field);
        if ids.is_empty() {
            continue;
        }
        ids.sort();
        ids.dedup();
        let Some(target) = target else {
            errors.insert(field.clone(), missing_relation());
            continue;
        };
        let count = query::count_rows(target, Some(&ids));
        checks.push(RelationCheck {
            field: field.clone(),
            count,
            expected: ids.len(),
        });
    }
    (errors, checks)
}

/// Runs relation checks and, when given, whether `exists` finds a row, in one query: the
/// relation errors (added to `errors`) and whether `exists` found one (true without it).
pub(super) fn run_checks(
    conn: &mut dyn Conn,
    checks: Vec<RelationCheck>,
    mut errors: FieldErrors,
    exists: Option<Sql>,
) -> Result<(FieldErrors, bool)> {
    if checks.is_empty() && exists.is_none() {
        return Ok((errors, true));
    }
    let asks_exists = exists.is_some();
    let sql = query::select_scalars(checks.iter().map(|c| c.count.clone()).collect(), exists);
    let row = conn
        .query(&sql)?
        .rows
        .into_iter()
        .next()
        .unwrap_or_default();
    let number = |i: usize| match row.get(i) {
        Some(Value::Int(n)) => *n,
        Some(Value::Bool(b)) => i64::from(*b),
        _ => 0,
    };
    for (i, check) in checks.iter().enumerate() {
        if number(i) != check.expected as i64 {
            errors.insert(check.field.clone(), missing_relation());
        }
    }
    let found = !asks_exists || number(checks.len()) != 0;
    Ok((errors, found))
}

/// Every id of every relation field must exist in its target collection.
pub(super) fn relation_errors(
    conn: &mut dyn Conn,
    record: &Record,
    targets: &RelationTargets,
) -> Result<FieldErrors> {
    let (missing, checks) = relation_checks(record, targets);
    Ok(run_checks(conn, checks, missing, None)?.0)
}

/// Deletes `record`, then repairs what pointed at it: cascading deletes, emptied references,
/// or a refusal when a required reference would be left empty.
pub(super) fn delete_cascading(
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
    conn.execute(&query::delete_row(&record.collection, record.id())?)?;
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
            let mut shadow = referrer.clone();
            shadow.data.insert(f.name.clone(), value);
            let update = query::update_column(c, referrer.id(), &f.name, shadow.column_value(f))?;
            conn.execute(&update)?;
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
