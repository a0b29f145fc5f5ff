//! A Rust app's record hooks, bound to the core's change pipeline as the JS hooks are:
//! `on_record_create|update|delete` run inside the write's transaction (a
//! `TransactionHook`), where they may change the record or reject the write;
//! `on_record_after_*_success` run after commit, before the response (`on_local_change`).
//!
//! A hook that panics fails its write as an internal error (the transaction rolls back), or,
//! after commit, is logged: a panic must not take the database's writer thread with it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use oxbase_core::events::{Action, Change, TransactionHook};
use oxbase_core::schema::{Collection, Record};
use oxbase_core::store::Conn;
use oxbase_core::{App, Error, Result};

/// A record about to be created or updated, inside the write's transaction.
pub struct RecordEvent<'a> {
    /// The record as it will be written: what a hook changes is checked (field types, rules,
    /// uniqueness) as the request's own values are.
    pub record: &'a mut Record,
    /// The stored record an update changes; `None` on create.
    pub original: Option<&'a Record>,
    /// The write's transaction: rows read or written through it commit or roll back with the
    /// record. Do not call the app's async record methods from a hook: they would wait for
    /// this very transaction.
    pub conn: &'a mut dyn Conn,
}

/// A record about to be deleted (before its cascade), inside the delete's transaction.
pub struct RecordDeleteEvent<'a> {
    pub record: &'a Record,
    pub conn: &'a mut dyn Conn,
}

/// A record change this instance committed, before the response to its write.
pub struct RecordSuccessEvent<'a> {
    /// The app that committed it, for work the hook starts (spawn long work: the response
    /// waits for the hook).
    pub app: &'a App,
    /// The record as saved (as it was, for a delete).
    pub record: &'a Record,
}

pub(crate) type WriteHandler = Arc<dyn Fn(&mut RecordEvent<'_>) -> Result<()> + Send + Sync>;
pub(crate) type DeleteHandler = Arc<dyn Fn(&mut RecordDeleteEvent<'_>) -> Result<()> + Send + Sync>;
pub(crate) type SuccessHandler = Arc<dyn Fn(&RecordSuccessEvent<'_>) -> Result<()> + Send + Sync>;

/// A handler and the collections it is for (names or ids; none: every collection).
#[derive(Clone)]
pub(crate) struct Tagged<H> {
    tags: Vec<String>,
    handler: H,
}

impl<H> Tagged<H> {
    pub(crate) fn new<'t>(tags: impl IntoIterator<Item = &'t str>, handler: H) -> Tagged<H> {
        Tagged {
            tags: tags.into_iter().map(str::to_owned).collect(),
            handler,
        }
    }

    fn applies_to(&self, c: &Collection) -> bool {
        self.tags.is_empty() || self.tags.iter().any(|t| *t == c.name || *t == c.id)
    }
}

/// The record hooks a Rust app registered, by phase and action.
#[derive(Clone, Default)]
pub(crate) struct RecordHooks {
    pub create: Vec<Tagged<WriteHandler>>,
    pub update: Vec<Tagged<WriteHandler>>,
    pub delete: Vec<Tagged<DeleteHandler>>,
    pub after_create: Vec<Tagged<SuccessHandler>>,
    pub after_update: Vec<Tagged<SuccessHandler>>,
    pub after_delete: Vec<Tagged<SuccessHandler>>,
}

impl RecordHooks {
    /// Binds the hooks to `app`'s pipeline; a phase without hooks gets no consumer (and
    /// costs a write nothing).
    pub(crate) fn bind(&self, app: &App) {
        let hooks = Arc::new(self.clone());
        if !(self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()) {
            app.events().on_transaction(hooks.clone());
        }
        if !(self.after_create.is_empty()
            && self.after_update.is_empty()
            && self.after_delete.is_empty())
        {
            // Weak: the pipeline belongs to the app, which must not keep itself alive.
            let weak = app.downgrade();
            app.events()
                .on_local_change(Arc::new(move |change: &Change| {
                    if let Some(app) = weak.upgrade() {
                        hooks.after_success(&app, change);
                    }
                }));
        }
    }

    fn after_success(&self, app: &App, change: &Change) {
        let hooks = match change.action() {
            Action::Create => &self.after_create,
            Action::Update => &self.after_update,
            Action::Delete => &self.after_delete,
        };
        let record = change.record();
        let event = RecordSuccessEvent { app, record };
        for hook in hooks.iter().filter(|h| h.applies_to(&record.collection)) {
            if let Err(e) = guarded(|| (hook.handler)(&event)) {
                tracing::error!(
                    collection = %record.collection.name, id = %record.id(), error = %e,
                    "an after-success record hook failed"
                );
            }
        }
    }
}

impl TransactionHook for RecordHooks {
    fn before_write(
        &self,
        conn: &mut dyn Conn,
        action: Action,
        record: &mut Record,
        previous: Option<&Record>,
    ) -> Result<()> {
        let hooks = match action {
            Action::Create => &self.create,
            _ => &self.update,
        };
        let collection = record.collection.clone();
        for hook in hooks.iter().filter(|h| h.applies_to(&collection)) {
            let mut event = RecordEvent {
                record: &mut *record,
                original: previous,
                conn: &mut *conn,
            };
            guarded(|| (hook.handler)(&mut event))?;
        }
        Ok(())
    }

    fn before_delete(&self, conn: &mut dyn Conn, record: &Record) -> Result<()> {
        for hook in self
            .delete
            .iter()
            .filter(|h| h.applies_to(&record.collection))
        {
            let mut event = RecordDeleteEvent {
                record,
                conn: &mut *conn,
            };
            guarded(|| (hook.handler)(&mut event))?;
        }
        Ok(())
    }
}

/// Runs a hook; a panic becomes an internal error.
fn guarded(hook: impl FnOnce() -> Result<()>) -> Result<()> {
    catch_unwind(AssertUnwindSafe(hook)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::internal(format!(
            "a record hook panicked: {message}"
        )))
    })
}
