//! Creating, updating and deleting records, each in one write transaction: the rule is checked
//! by SQL inside the transaction (so `n+` increments and rule checks see the same state), then
//! the change is emitted after commit.

mod execute;
mod prepare;

use std::borrow::Cow;
use std::sync::Arc;

use tokio::runtime::Handle;

use oxbase_sql::Sql;
use serde_json::{Map, Value as Json, json};

use super::Records;
use super::foresee::foresee;
use super::input::{self, BodyKind};
use super::query::select_root;
use super::validate;
use super::versions::{self, Origin};
use crate::error::{Error, FieldErrors, Result};
use crate::events::{Change, DeleteWatcher, Foreseen, TransactionHooks};
use crate::files::{Garbage, Upload};
use crate::password;
use crate::rules::{Access, RequestInfo, RuleKind, check};
use crate::schema::Record;
use crate::schema::{Collection, CollectionKind, FieldKind, Schema};
use execute::{Cascade, delete_cascading, deleted_files};
pub use execute::{RelationTargets, execute};
use prepare::{autogenerate, hash_password_fields, prepare_auth_create, prepare_auth_update};

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
        /// For an auth record: the other auth collections, none of which may hold its id.
        auth_peers: Vec<Arc<Collection>>,
        origin: Origin,
    },
    Update {
        collection: Arc<Collection>,
        id: String,
        rule: UpdateRule,
        input: WriteInput,
        superuser: bool,
        auth_changes: Map<String, Json>,
        targets: RelationTargets,
        origin: Origin,
    },
    /// `watcher` decides, before any row goes, who may see the deletions (realtime).
    Delete {
        collection: Arc<Collection>,
        id: String,
        rule: Option<Sql>,
        all: Vec<Arc<Collection>>,
        watcher: Option<Arc<dyn DeleteWatcher>>,
        origin: Origin,
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

/// How an update's rule is judged: always on the stored record and on the body's final
/// values (`@request.body.n` is the number `n+` will store, as in PocketBase).
pub enum UpdateRule {
    /// Compiled before the transaction: no rule, or a body of plain values.
    Compiled(Option<Sql>),
    /// The body modifies stored values (`n+`, `tags-`): their final values, and so the rule,
    /// are known only once the transaction has read the record.
    // PB-COMPAT: PocketBase resolves the modifiers against a read made before its
    // transaction, so a concurrent write can make the rule judge stale values.
    AfterModifiers {
        schema: Schema,
        request: Box<RequestInfo>,
    },
}

/// What a write did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Created(Record),
    Updated(Record),
    /// The record and everything its deletion cascaded to.
    Deleted(Deletion),
    /// A create or update an in-transaction consumer skipped (a JS model hook that did not
    /// call `e.next()`): the record as it left it, answered but not written.
    Skipped(Record),
}

/// What a delete removed, and who may see it as decided before the rows went.
#[derive(Debug, Clone)]
pub struct Deletion {
    pub records: Vec<Record>,
    /// Records whose references to a deleted one were emptied (no cascade): updates.
    pub updated: Vec<Record>,
    pub foreseen: Option<Arc<Foreseen>>,
}

/// The writes as the core's own flows make them (auth, with a system request), the request
/// taken as given; the API's writes go through `records::actions`, which set `@request.body`.
impl Records {
    pub(crate) async fn create(
        &self,
        req: &RequestInfo,
        collection: &str,
        input: WriteInput,
    ) -> Result<Record> {
        let plan = self.plan_create(req, collection, input).await?;
        match self.run(plan).await? {
            Outcome::Created(r) | Outcome::Skipped(r) => Ok(r),
            _ => Err(Error::internal("a create plan did not create")),
        }
    }

    pub(crate) async fn update(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        input: WriteInput,
    ) -> Result<Record> {
        let plan = self.plan_update(req, collection, id, input).await?;
        match self.run(plan).await? {
            Outcome::Updated(r) | Outcome::Skipped(r) => Ok(r),
            _ => Err(Error::internal("an update plan did not update")),
        }
    }

    pub(crate) async fn delete(&self, req: &RequestInfo, collection: &str, id: &str) -> Result<()> {
        let plan = self.plan_delete(req, collection, id).await?;
        self.run(plan).await.map(|_| ())
    }

    /// Runs one plan in its own transaction and emits its changes after commit.
    pub async fn run(&self, plan: WritePlan) -> Result<Outcome> {
        let stored = self.store_uploads(std::slice::from_ref(&plan)).await?;
        let hooks = self.events.transaction_hooks();
        let result = self
            .schema
            .db()
            .write(move |conn| {
                let mut garbage = Garbage::default();
                let origin = plan.origin().clone();
                let outcome = execute(conn, plan, &mut garbage, &hooks)?;
                after_write(conn, &hooks, &outcome, &origin)?;
                Ok((outcome, garbage))
            })
            .await;
        let (outcome, garbage) = self.settle_files(result, stored).await?;
        let db = self.schema.db();
        if db.in_shared_transaction() {
            // Application code's write inside its transaction: the change is news (and its
            // replaced files garbage) only once that commits, as PocketBase's txApp defers.
            let (records, emitted, rt) = (self.clone(), outcome.clone(), Handle::current());
            db.when_settled(move |committed| {
                if committed {
                    let files = records.files.clone();
                    rt.spawn(async move { files.collect(garbage).await });
                    records.emit_outcome(&emitted);
                }
            });
            return Ok(outcome);
        }
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
    /// is then `Error::TimedOut` at the index of the first plan not run.
    pub async fn run_all(
        &self,
        plans: Vec<WritePlan>,
        deadline: Option<std::time::Instant>,
    ) -> std::result::Result<Vec<Outcome>, (usize, Error)> {
        let failed_at = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let marker = failed_at.clone();
        let stored = self.store_uploads(&plans).await.map_err(|e| (0, e))?;
        let hooks = self.events.transaction_hooks();
        let result = self
            .schema
            .db()
            .write(move |conn| {
                let mut outcomes = Vec::with_capacity(plans.len());
                let mut garbage = Garbage::default();
                for (i, plan) in plans.into_iter().enumerate() {
                    marker.store(i, std::sync::atomic::Ordering::Relaxed);
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Err(Error::TimedOut);
                    }
                    let origin = plan.origin().clone();
                    let outcome = execute(conn, plan, &mut garbage, &hooks)?;
                    after_write(conn, &hooks, &outcome, &origin)?;
                    outcomes.push(outcome);
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
        for (change, foreseen) in outcome.changes() {
            self.events.emit(change, foreseen);
        }
    }

    pub async fn plan_create(
        &self,
        req: &RequestInfo,
        collection: &str,
        input: WriteInput,
    ) -> Result<WritePlan> {
        let c = writable(self, collection).await?;
        let mut record = Record::new(c.clone());
        let secrets = input::apply(
            &mut record,
            &input.body,
            input.kind.unwrap_or(BodyKind::Json),
            req.auth.is_superuser(),
        );
        // PB-COMPAT: a create rule that cannot be judged is PocketBase's plain create 400.
        let mut rule = rule_on_final_values(self, &c, RuleKind::Create, req, &record, &input.body)
            .map_err(|e| match e {
                Error::BadRequest { .. } => failed("create", FieldErrors::new()),
                other => other,
            })?;
        let mut errors = FieldErrors::new();
        if c.is_auth() && !req.auth.is_superuser() && input::to_bool(record.get("verified")) {
            // Only managers may create a verified account: the manage rule must hold for the
            // new record too (checked with the create rule, after the insert).
            match check::access(&self.schema, &c, RuleKind::Manage, req)? {
                Access::All => {}
                Access::SuperusersOnly => {
                    errors.insert("verified".into(), prepare::mismatch());
                }
                Access::Where(manage) => {
                    rule = Some(match rule {
                        Some(create) => super::query::and(&create, &manage),
                        None => manage,
                    });
                }
            }
        }
        let uploads = input.files;
        let now = crate::dates::now();
        for f in c.fields.iter().filter(|f| f.kind == FieldKind::Autodate) {
            record.data.insert(f.name.clone(), json!(now));
        }
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
            prepare_auth_create(&mut record, &secrets, &mut errors);
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
        let auth_peers = if c.is_auth() {
            let others = self.schema.all().into_iter();
            others.filter(|o| o.is_auth() && o.id != c.id).collect()
        } else {
            Vec::new()
        };
        Ok(WritePlan::Create {
            record,
            errors,
            rule,
            targets,
            uploads,
            origin: Origin::for_write(&c, req),
            auth_peers,
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
        let rule = update_rule(self, &c, req, &input)?;
        // Password changes hash outside the write transaction (hashing is slow on purpose).
        let mut auth_changes = Map::new();
        if c.is_auth() {
            // The caller must pass the update rule, judged on the body's final values, before
            // learning anything of the fields; the transaction judges it again.
            let current = self.fetch_where(&c, id, None).await?;
            let mut fresh = current.clone();
            let kind = input.kind.unwrap_or(BodyKind::Json);
            input::apply(&mut fresh, &input.body, kind, false);
            let judged = with_final_values(req, &fresh, &input.body);
            if !self.passes(&judged, &current, RuleKind::Update).await? {
                return Err(Error::not_found());
            }
            let manager = self.can_manage(&judged, &current).await?;
            auth_changes = prepare_auth_update(&current, manager, &input.body).await?;
        }
        let mut errors = FieldErrors::new();
        auth_changes.extend(hash_password_fields(&c, &input.body, false, &mut errors).await?);
        if !errors.is_empty() {
            return Err(failed("update", errors));
        }
        let targets = self.relation_targets(&c);
        Ok(WritePlan::Update {
            origin: Origin::for_write(&c, req),
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
            watcher: self.events.delete_watcher(),
            origin: Origin::of(req),
        })
    }

    /// Empties a collection (superusers only, checked by the caller), cascading like deletes.
    pub async fn truncate(&self, c: &Arc<Collection>) -> Result<()> {
        let all = self.schema.all();
        let c = c.clone();
        let watcher = self.events.delete_watcher();
        let hooks = self.events.transaction_hooks();
        let deletion = self
            .schema
            .db()
            .write(move |conn| {
                let rows = conn.query(&select_root(&c)?)?;
                let roots = Record::from_rows(&c, rows);
                let foreseen = match &watcher {
                    Some(w) => foresee(conn, &all, &roots, w.as_ref())?,
                    None => None,
                };
                let mut cascade = Cascade::default();
                for r in roots {
                    delete_cascading(conn, &all, r, &mut cascade, 0)?;
                }
                let deletion = Outcome::Deleted(cascade.into_deletion(foreseen));
                after_write(conn, &hooks, &deletion, &Origin::default())?;
                Ok(deletion)
            })
            .await?;
        if let Outcome::Deleted(d) = &deletion {
            self.files.collect(deleted_files(&d.records)).await;
        }
        // Every deleted record is a change: caches and subscribers must hear of it.
        self.emit_outcome(&deletion);
        Ok(())
    }
}

impl Outcome {
    /// Whether a record this write changed belongs to a collection keeping history (so the
    /// common case builds no list of changes).
    fn keeps_history(&self) -> bool {
        match self {
            Outcome::Created(r) | Outcome::Updated(r) => r.collection.keeps_history(),
            Outcome::Skipped(_) => false,
            Outcome::Deleted(d) => d
                .records
                .iter()
                .chain(&d.updated)
                .any(|r| r.collection.keeps_history()),
        }
    }

    /// The changes a write made, in the order they are emitted.
    fn changes(&self) -> Vec<(Change, Option<Arc<Foreseen>>)> {
        match self {
            Outcome::Created(r) => vec![(Change::Created(r.clone()), None)],
            Outcome::Updated(r) => vec![(Change::Updated(r.clone()), None)],
            Outcome::Skipped(_) => Vec::new(),
            Outcome::Deleted(d) => {
                let deleted = d
                    .records
                    .iter()
                    .map(|r| (Change::Deleted(r.clone()), d.foreseen.clone()));
                let updated = d.updated.iter().map(|r| (Change::Updated(r.clone()), None));
                deleted.chain(updated).collect()
            }
        }
    }
}

/// The in-transaction consumers of a write's changes, before its commit: the record history
/// (`versions`), then the transaction hooks.
fn after_write(
    conn: &mut dyn crate::store::Conn,
    hooks: &TransactionHooks,
    outcome: &Outcome,
    origin: &Origin,
) -> Result<()> {
    if hooks.is_empty() && !outcome.keeps_history() {
        return Ok(());
    }
    let changes = outcome.changes();
    versions::write(conn, changes.iter().map(|(change, _)| change), origin)?;
    changes
        .iter()
        .try_for_each(|(change, _)| hooks.after_write(conn, change))
}

impl WritePlan {
    /// Who makes this write, and from which request (for the record history).
    pub fn origin(&self) -> &Origin {
        match self {
            WritePlan::Create { origin, .. }
            | WritePlan::Update { origin, .. }
            | WritePlan::Delete { origin, .. } => origin,
            WritePlan::Upsert { create, .. } => create.origin(),
        }
    }
}

/// A collection records may be written to (not a view).
async fn writable(records: &Records, collection: &str) -> Result<Arc<Collection>> {
    let c = records.schema.require_fresh(collection).await?;
    if c.kind == CollectionKind::View {
        return Err(Error::bad_request("View collections are read-only."));
    }
    Ok(c)
}

/// Compiles `kind`'s rule of `c` for `req`, `@request.body` holding the final values `body`
/// gives `record` (already applied).
fn rule_on_final_values(
    records: &Records,
    c: &Arc<Collection>,
    kind: RuleKind,
    req: &RequestInfo,
    record: &Record,
    body: &Map<String, Json>,
) -> Result<Option<Sql>> {
    if !predicate_rule(c, kind, req) {
        return rule_for(records, c, kind, req);
    }
    rule_for(records, c, kind, &with_final_values(req, record, body))
}

/// `req` with `@request.body` holding the final values `body` gives `record` (already
/// applied), where they differ from the values as sent.
fn with_final_values<'r>(
    req: &'r RequestInfo,
    record: &Record,
    body: &Map<String, Json>,
) -> Cow<'r, RequestInfo> {
    let resolved = input::resolved_body(record, body, req.auth.is_superuser());
    if resolved == req.body {
        return Cow::Borrowed(req);
    }
    let mut judged = req.clone();
    judged.body = resolved;
    Cow::Owned(judged)
}

/// Whether `kind`'s rule is a condition for `req` (not a superuser, not a null or empty rule).
fn predicate_rule(c: &Collection, kind: RuleKind, req: &RequestInfo) -> bool {
    !req.auth.is_superuser() && c.rule(kind.key()).is_some_and(|r| !r.trim().is_empty())
}

fn update_rule(
    records: &Records,
    c: &Arc<Collection>,
    req: &RequestInfo,
    input: &WriteInput,
) -> Result<UpdateRule> {
    if predicate_rule(c, RuleKind::Update, req) && input::has_modifiers(c, &input.body) {
        return Ok(UpdateRule::AfterModifiers {
            schema: records.schema.clone(),
            request: Box::new(req.clone()),
        });
    }
    // Plain values do not depend on the stored record: a fresh one resolves them.
    let mut fresh = Record::new(c.clone());
    if predicate_rule(c, RuleKind::Update, req) {
        input::apply(
            &mut fresh,
            &input.body,
            input.kind.unwrap_or(BodyKind::Json),
            false,
        );
    }
    rule_on_final_values(records, c, RuleKind::Update, req, &fresh, &input.body)
        .map(UpdateRule::Compiled)
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
    match err.unique_violation() {
        Some(columns) => {
            let mut data = FieldErrors::new();
            for c in columns {
                data.insert(
                    c.clone(),
                    json!({"code": "validation_not_unique", "message": "Value must be unique."}),
                );
            }
            failed(action, data)
        }
        None => err,
    }
}
