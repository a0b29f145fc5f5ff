//! Record event hooks of the hook files, bound to the core's change pipeline:
//! `onRecordCreate|Update|Delete` (with their `Validate` and `Execute` variants) run inside the
//! write's transaction, where they may change the record or reject the write;
//! `onRecordAfter*Success` run after commit, before the response.
//!
//! A hook inside the transaction runs on a thread joined to it (`Db::lend`): what it does
//! through `e.app` (or `$app`) is part of the write, undone if the write fails, as with
//! PocketBase's transactional app.

use std::collections::HashMap;
use std::sync::Arc;

use oxbase_core::collections::SaveChange;
use oxbase_core::events::{Action, Change, Proceed, ProceedDelete, TransactionHook};
use oxbase_core::schema::{Collection, Record};
use oxbase_core::store::Conn;
use oxbase_core::{App, Error};
use serde_json::{Map, Value as Json, json};

use crate::Hooks;
use crate::answer::{HookOutcome, ThrownError};
use crate::engine::JsError;
use crate::invoke;
use crate::registry::Registration;

/// The handlers of each hook name, with their tags (collection names or ids; none: all).
#[derive(Debug, Default)]
pub struct ByName(HashMap<String, Vec<(Vec<String>, usize)>>);

impl ByName {
    pub fn new(entries: &[Registration]) -> ByName {
        let mut map: HashMap<String, Vec<(Vec<String>, usize)>> = HashMap::new();
        for e in entries {
            if let Registration::Hook {
                name,
                tags,
                handler,
            } = e
            {
                map.entry(name.clone())
                    .or_default()
                    .push((tags.clone(), *handler));
            }
        }
        ByName(map)
    }

    pub fn has_any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.0.contains_key(*n))
    }

    /// The untagged handlers of `name` (for routes without a collection).
    pub fn untagged(&self, name: &str) -> Vec<usize> {
        self.0
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(tags, _)| tags.is_empty())
            .map(|(_, h)| *h)
            .collect()
    }

    /// The handlers of `names`, in that order, that apply to collection `c`.
    pub fn chain(&self, names: &[&str], c: &Collection) -> Vec<usize> {
        names
            .iter()
            .filter_map(|n| self.0.get(*n))
            .flatten()
            .filter(|(tags, _)| tags.is_empty() || tags.iter().any(|t| *t == c.name || *t == c.id))
            .map(|(_, h)| *h)
            .collect()
    }
}

const CREATE: [&str; 3] = [
    "onRecordCreate",
    "onRecordValidate",
    "onRecordCreateExecute",
];
const UPDATE: [&str; 3] = [
    "onRecordUpdate",
    "onRecordValidate",
    "onRecordUpdateExecute",
];
const DELETE: [&str; 2] = ["onRecordDelete", "onRecordDeleteExecute"];
const COLLECTION_CREATE: [&str; 3] = [
    "onCollectionCreate",
    "onCollectionValidate",
    "onCollectionCreateExecute",
];
const COLLECTION_UPDATE: [&str; 3] = [
    "onCollectionUpdate",
    "onCollectionValidate",
    "onCollectionUpdateExecute",
];
const COLLECTION_DELETE: [&str; 2] = ["onCollectionDelete", "onCollectionDeleteExecute"];
const COLLECTION_AFTER: [&str; 6] = [
    "onCollectionAfterCreateSuccess",
    "onCollectionAfterUpdateSuccess",
    "onCollectionAfterDeleteSuccess",
    "onCollectionAfterCreateError",
    "onCollectionAfterUpdateError",
    "onCollectionAfterDeleteError",
];
const AFTER_CREATE: [&str; 1] = ["onRecordAfterCreateSuccess"];
const AFTER_UPDATE: [&str; 1] = ["onRecordAfterUpdateSuccess"];
const AFTER_DELETE: [&str; 1] = ["onRecordAfterDeleteSuccess"];

impl Hooks {
    /// Runs the hook chain `spec` describes; its outcome.
    pub(crate) fn run_hook(&self, spec: &Json) -> Result<HookOutcome, JsError> {
        let out = self.run_hook_raw(spec)?;
        serde_json::from_str(&out).map_err(|e| JsError::Engine(e.to_string()))
    }

    /// The same, answered as `__runHook` wrote it.
    pub(crate) fn run_hook_raw(&self, spec: &Json) -> Result<String, JsError> {
        self.run_global("__runHook", spec)
    }

    /// Calls the runner `name` of `events.js` with the handlers and `spec`.
    pub(crate) fn run_global(&self, name: &str, spec: &Json) -> Result<String, JsError> {
        let spec = spec.to_string();
        self.with_engine(|engine| {
            engine.run(|ctx| {
                let run: rquickjs::Function = ctx.globals().get(name)?;
                let fns: rquickjs::Value = ctx.globals().get("__fns")?;
                run.call::<_, String>((fns, spec.as_str()))
            })
        })
    }

    /// Binds the model and after-success hooks the files registered to `app`'s pipeline.
    pub(crate) fn bind_record_hooks(self: &Arc<Self>, app: &App) {
        let names = &self.by_name;
        if names.has_any(&CREATE) || names.has_any(&UPDATE) || names.has_any(&DELETE) {
            app.events().on_transaction(Arc::new(ModelHooks {
                hooks: self.clone(),
                db: app.db().clone(),
                rt: tokio::runtime::Handle::current(),
            }));
        }
        if names.has_any(&AFTER_CREATE)
            || names.has_any(&AFTER_UPDATE)
            || names.has_any(&AFTER_DELETE)
        {
            let hooks = self.clone();
            app.events()
                .on_local_change(Arc::new(move |change: &Change| {
                    hooks.after_success(change);
                }));
        }
    }

    /// Binds the collection model hooks the files registered to every change of a definition.
    pub(crate) fn bind_collection_hooks(self: &Arc<Self>, app: &App) {
        let names = &self.by_name;
        if names.has_any(&COLLECTION_CREATE)
            || names.has_any(&COLLECTION_UPDATE)
            || names.has_any(&COLLECTION_DELETE)
            || names.has_any(&COLLECTION_AFTER)
        {
            app.collections().on_model(Arc::new(CollectionHooks {
                hooks: self.clone(),
            }));
        }
    }

    /// `onMailerSend`: every message passes the hooks, which may change it, or not call
    /// `e.next()` to keep it from being sent.
    pub(crate) fn bind_mailer(self: &Arc<Self>, app: &App) {
        let names = [
            "onMailerSend",
            "onMailerRecordPasswordResetSend",
            "onMailerRecordVerificationSend",
            "onMailerRecordEmailChangeSend",
            "onMailerRecordOTPSend",
            "onMailerRecordAuthAlertSend",
        ];
        if !self.by_name.has_any(&names) {
            return;
        }
        let hooks = self.clone();
        let schema = app.schema().clone();
        let hook: oxbase_core::mail::SendHook = Arc::new(move |message, from| {
            // An auth flow's message passes its record hook (tagged by collection) first.
            let mut chain = Vec::new();
            let mut event = Map::new();
            if let Some(about) = &message.about {
                let name = match about.template.as_str() {
                    "resetPasswordTemplate" => "onMailerRecordPasswordResetSend",
                    "verificationTemplate" => "onMailerRecordVerificationSend",
                    "confirmEmailChangeTemplate" => "onMailerRecordEmailChangeSend",
                    "otp" => "onMailerRecordOTPSend",
                    _ => "onMailerRecordAuthAlertSend",
                };
                if let Some(c) = schema.get(&about.collection_id) {
                    chain.extend(hooks.by_name.chain(&[name], &c));
                    event.insert("collection".into(), hooks.collection_ref(&c));
                    event.insert("record".into(), Json::Object(about.record.clone()));
                    event.insert("meta".into(), json!({}));
                }
            }
            chain.extend(hooks.by_name.untagged("onMailerSend"));
            if chain.is_empty() {
                return Ok(true);
            }
            event.insert(
                "message".into(),
                json!({
                    "from": {"name": from.0, "address": from.1},
                    "to": message.to.split(", ").map(|a| json!({"address": a})).collect::<Vec<_>>(),
                    "subject": message.subject,
                    "html": message.html,
                }),
            );
            let spec = json!({"chain": chain, "terminal": "proceed", "event": event});
            let outcome = invoke::blocking(|| hooks.run_hook(&spec)).map_err(engine_error)?;
            if let Some(e) = outcome.error {
                return Err(to_core_error(&e));
            }
            if let Some(m) = outcome.message {
                let to: Vec<&str> = m["to"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["address"].as_str())
                    .collect();
                message.to = to.join(", ");
                message.subject = m["subject"].as_str().unwrap_or_default().to_owned();
                message.html = m["html"].as_str().unwrap_or_default().to_owned();
            }
            Ok(outcome.proceeded)
        });
        app.auth().mailer().on_send(hook);
    }

    fn after_success(&self, change: &Change) {
        let record = change.record();
        let names: &[&str] = match change.action() {
            Action::Create => &AFTER_CREATE,
            Action::Update => &AFTER_UPDATE,
            Action::Delete => &AFTER_DELETE,
        };
        let chain = self.by_name.chain(names, &record.collection);
        if chain.is_empty() {
            return;
        }
        let spec = json!({
            "chain": chain,
            "terminal": "proceed",
            "event": {"collection": self.collection_ref(&record.collection), "record": record.data},
        });
        match self.run_hook(&spec) {
            Ok(HookOutcome { error: Some(e), .. }) => tracing::error!(
                target: "oxbase::hooks", error = %e.message, detail = %e.detail, stack = %e.stack,
                "an after-success hook failed"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(target: "oxbase::hooks", error = %e, "an after-success hook failed")
            }
        }
    }
}

/// The in-transaction record hooks.
struct ModelHooks {
    hooks: Arc<Hooks>,
    /// The database whose transactions the hooks join.
    db: oxbase_core::store::Db,
    /// Where the write the hooks' `e.next()` makes is awaited.
    rt: tokio::runtime::Handle,
}

impl ModelHooks {
    /// Runs `spec`'s chain on a thread joined to the transaction of `conn`; its last
    /// `e.next()` runs `rest` there (on `conn`, in a savepoint), with the event's carried
    /// fields as the hooks left them.
    fn run(
        &self,
        conn: &mut dyn Conn,
        spec: &Json,
        rest: impl FnOnce(Json) -> oxbase_core::error::Result<()> + Send + 'static,
    ) -> oxbase_core::error::Result<HookOutcome> {
        self.db
            .lend(conn, || {
                let mut rest = Some(rest);
                let terminal: invoke::Terminal = Box::new(move |state: Json| {
                    if let Some(rest) = rest.take() {
                        rest(state)?;
                    }
                    Ok(Json::Null)
                });
                invoke::with_terminal(terminal, || {
                    crate::engine::nested(|| self.hooks.run_hook(spec))
                })
            })?
            .map_err(engine_error)
    }
}

impl TransactionHook for ModelHooks {
    /// One chain (`onRecordCreate|Update`, `onRecordValidate`, `...Execute`) whose last
    /// `e.next()` writes the record as the hooks left it: code after it finds it written. A
    /// chain in which no hook calls `e.next()` skips the write, as PocketBase's does.
    fn around_write(
        &self,
        conn: &mut dyn Conn,
        action: Action,
        record: Record,
        previous: Option<&Record>,
        proceed: Proceed,
    ) -> oxbase_core::error::Result<Option<Record>> {
        let names: &[&str] = match action {
            Action::Create => &CREATE,
            _ => &UPDATE,
        };
        let chain = self.hooks.by_name.chain(names, &record.collection);
        if chain.is_empty() {
            return proceed(conn, record).map(|()| None);
        }
        let spec = json!({
            "chain": chain,
            "terminal": "native",
            "carry": ["record"],
            "event": {
                "collection": self.hooks.collection_ref(&record.collection),
                "record": record.data,
                "isNew": action == Action::Create,
                "original": previous.map(|p| &p.data),
                "tx": true,
            },
        });
        let (db, rt) = (self.db.clone(), self.rt.clone());
        let written = record.clone();
        let rest = move |state: Json| {
            let mut record = written;
            if let Some(Json::Object(data)) = state.get("record") {
                apply(&mut record, data.clone())?;
            }
            invoke::block(&rt, db.write(move |conn| proceed(conn, record)))
        };
        let outcome = self.run(conn, &spec, rest)?;
        if let Some(e) = outcome.error {
            return Err(to_core_error(&e));
        }
        if outcome.proceeded {
            return Ok(None);
        }
        let mut skipped = record;
        if let Some(data) = outcome.record {
            apply(&mut skipped, data)?;
        }
        Ok(Some(skipped))
    }

    /// One chain (`onRecordDelete`, `...Execute`) whose last `e.next()` deletes the record.
    fn around_delete(
        &self,
        conn: &mut dyn Conn,
        record: &Record,
        proceed: ProceedDelete,
    ) -> oxbase_core::error::Result<bool> {
        let chain = self.hooks.by_name.chain(&DELETE, &record.collection);
        if chain.is_empty() {
            return proceed(conn).map(|()| true);
        }
        let spec = json!({
            "chain": chain,
            "terminal": "native",
            "event": {
                "collection": self.hooks.collection_ref(&record.collection),
                "record": record.data,
                "tx": true,
            },
        });
        let (db, rt) = (self.db.clone(), self.rt.clone());
        let rest = move |_: Json| invoke::block(&rt, db.write(move |conn| proceed(conn)));
        let outcome = self.run(conn, &spec, rest)?;
        match outcome.error {
            Some(e) => Err(to_core_error(&e)),
            None => Ok(outcome.proceeded),
        }
    }
}

/// The collection model hooks: `onCollectionCreate|Update|Delete` (with `Validate` and
/// `Execute`) before the change, which they may alter or refuse; `onCollectionAfter*Success`
/// once it committed, `...Error` when it failed.
struct CollectionHooks {
    hooks: Arc<Hooks>,
}

impl CollectionHooks {
    fn chain(&self, action: Action, collection: &Collection) -> Vec<usize> {
        let names: &[&str] = match action {
            Action::Create => &COLLECTION_CREATE,
            Action::Update => &COLLECTION_UPDATE,
            Action::Delete => &COLLECTION_DELETE,
        };
        self.hooks.by_name.chain(names, collection)
    }
}

impl oxbase_core::collections::ModelHooks for CollectionHooks {
    fn wraps(&self, action: Action, collection: &Collection) -> bool {
        !self.chain(action, collection).is_empty()
    }

    /// One chain (`onCollectionCreate`, `...Validate`, `...Execute`) whose last `e.next()`
    /// makes the change, as PocketBase's own Execute handler does at the end of its chain: code
    /// after `e.next()` sees it made.
    fn around(
        &self,
        action: Action,
        collection: &Collection,
        save: SaveChange,
    ) -> oxbase_core::error::Result<()> {
        let spec = json!({
            "chain": self.chain(action, collection),
            "terminal": "native",
            "carry": ["collection"],
            "event": {"collection": collection.to_json()},
        });
        let rt = tokio::runtime::Handle::current();
        let mut save = Some(save);
        let terminal: invoke::Terminal = Box::new(move |state: Json| {
            let Some(save) = save.take() else {
                return Ok(Json::Null);
            };
            // PocketBase saves `e.collection` as the hooks left it (sent only when changed).
            let changed = state.get("collection").cloned();
            invoke::block(&rt, save(changed))?;
            Ok(Json::Null)
        });
        let outcome =
            invoke::with_terminal(terminal, || self.hooks.run_hook(&spec)).map_err(engine_error)?;
        match outcome.error {
            Some(e) => Err(to_core_error(&e)),
            None => Ok(()),
        }
    }

    fn after(&self, action: Action, collection: &Collection, outcome: Result<(), &Error>) {
        let name = match (action, outcome.is_ok()) {
            (Action::Create, true) => "onCollectionAfterCreateSuccess",
            (Action::Update, true) => "onCollectionAfterUpdateSuccess",
            (Action::Delete, true) => "onCollectionAfterDeleteSuccess",
            (Action::Create, false) => "onCollectionAfterCreateError",
            (Action::Update, false) => "onCollectionAfterUpdateError",
            (Action::Delete, false) => "onCollectionAfterDeleteError",
        };
        let chain = self.hooks.by_name.chain(&[name], collection);
        if chain.is_empty() {
            return;
        }
        let mut event = json!({"collection": collection.to_json()});
        if let Err(e) = outcome {
            event["error"] = error_body(e);
        }
        let spec = json!({"chain": chain, "terminal": "proceed", "event": event});
        log_failure(name, self.hooks.run_hook(&spec));
    }
}

/// A core error as the body the API would answer it with (`e.error` of an error hook).
fn error_body(e: &Error) -> Json {
    let (status, data) = match e {
        Error::BadRequest { data, .. } => (400, json!(data)),
        Error::NotFound(_) => (404, json!({})),
        Error::Forbidden(_) => (403, json!({})),
        Error::Unauthorized(_) => (401, json!({})),
        Error::Internal(_) | Error::Unavailable(_) => (500, json!({})),
        _ => (400, json!({})),
    };
    json!({"status": status, "message": e.to_string(), "data": data})
}

/// Logs a hook run after the fact (an after-success or error hook) that failed.
fn log_failure(name: &str, out: Result<HookOutcome, JsError>) {
    match out {
        Ok(HookOutcome { error: Some(e), .. }) => tracing::error!(
            target: "oxbase::hooks", hook = name, error = %e.message, detail = %e.detail,
            stack = %e.stack, "an after hook failed"
        ),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(target: "oxbase::hooks", hook = name, error = %e, "an after hook failed")
        }
    }
}

/// The hook's values into the record: its fields only; a password set from JS is hashed.
fn apply(record: &mut Record, data: Map<String, Json>) -> oxbase_core::error::Result<()> {
    let collection = record.collection.clone();
    for field in &collection.fields {
        let Some(value) = data.get(&field.name) else {
            continue;
        };
        if field.name == "id" {
            continue;
        }
        let value = match value.get("__plain").and_then(Json::as_str) {
            Some(plain) => json!(oxbase_core::password::hash(plain)?),
            None => value.clone(),
        };
        record.data.insert(field.name.clone(), value);
    }
    Ok(())
}

/// An error a hook threw, as the core's error of the same status.
pub(crate) fn to_core_error(e: &ThrownError) -> Error {
    if !e.detail.is_empty() {
        tracing::error!(target: "oxbase::hooks", error = %e.detail, stack = %e.stack, "a hook failed");
    }
    let message = e.message.clone();
    match e.status {
        401 => Error::Unauthorized(message),
        403 => Error::Forbidden(message),
        404 => Error::NotFound(message),
        413 => Error::TooLarge(message),
        429 => Error::TooManyRequests(message),
        _ => Error::BadRequest {
            message,
            data: e
                .data
                .as_object()
                .map(|m| m.clone().into_iter().collect())
                .unwrap_or_default(),
        },
    }
}

pub(crate) fn engine_error(e: JsError) -> Error {
    tracing::error!(target: "oxbase::hooks", error = %e, "a hook failed");
    Error::internal_from("running a hook", e)
}
