//! What webhooks and brokers share (docs/events.md): the wiring that writes their jobs in the
//! transaction of each change they want (record changes through the event pipeline,
//! definitions and settings through `Schema` and `Settings`) and wakes the queue's worker once
//! it commits ([`attach`]); and how an event shows a record ([`RecordView`]): as a superuser
//! sees it, or as the auth record an endpoint or target names in `viewAs` views it.
//!
//! It owns neither the bodies (a webhook's JSON, a CloudEvent) nor the delivery: those stay in
//! `webhooks` and `brokers`.

use std::sync::{Arc, Weak};

use serde_json::{Value as Json, json};

use crate::error::{FieldErrors, Result, field_error_json};
use crate::events::{
    Change, Pipeline, SystemChange, TransactionHook, after_system_commit, on_system_change,
};
use crate::jobs::{Jobs, Policy, Retry};
use crate::schema::Record;
use crate::schema::Schema;
use crate::settings::{Settings, ViewAs};
use crate::store::Conn;

/// A consumer that writes jobs in the transaction of each change it wants.
pub trait Outbox: Send + Sync + 'static {
    /// The jobs of a record change, on the change's connection.
    fn record(&self, conn: &mut dyn Conn, change: &Change) -> Result<()>;
    /// The jobs of a change of a definition or of the settings (`next`: the settings as they
    /// will be once it commits, when they are what changed).
    fn system(&self, conn: &mut dyn Conn, next: Option<&Json>, change: &SystemChange)
    -> Result<()>;
    /// Whether an endpoint or target is configured (a record change wakes the worker only then).
    fn configured(&self) -> bool;
    /// How its jobs are retried now (the settings may change).
    fn retry(&self) -> Retry;
    /// The queue its jobs go to.
    fn jobs(&self) -> &Jobs;
}

/// Hooks `outbox` into every write transaction of `events`, `schema` and `settings`, and has
/// the worker look at the queue after each commit (it may have looked before: PostgreSQL).
/// The hooks hold it weakly: a closed app's parts are not kept.
pub fn attach<O: Outbox>(outbox: &Arc<O>, events: &Pipeline, schema: &Schema, settings: &Settings) {
    events.on_transaction(Arc::new(InTransaction(Arc::downgrade(outbox))));
    let weak = Arc::downgrade(outbox);
    on_system_change(
        schema,
        settings,
        Arc::new(move |conn, next, change| match weak.upgrade() {
            Some(outbox) => outbox.system(conn, next, change),
            None => Ok(()),
        }),
    );
    let weak = Arc::downgrade(outbox);
    events.on_local_change(Arc::new(move |_| {
        if let Some(outbox) = weak.upgrade()
            && outbox.configured()
        {
            outbox.jobs().wake();
        }
    }));
    let weak = Arc::downgrade(outbox);
    after_system_commit(
        schema,
        settings,
        Arc::new(move || {
            if let Some(outbox) = weak.upgrade() {
                outbox.jobs().wake();
            }
        }),
    );
}

/// The retry policy of `outbox`'s jobs (one attempt once the app is closing).
pub fn policy<O: Outbox>(outbox: &Arc<O>) -> Policy {
    let weak = Arc::downgrade(outbox);
    Arc::new(move || {
        weak.upgrade().map_or(
            Retry {
                max_attempts: 1,
                base: std::time::Duration::ZERO,
            },
            |outbox| outbox.retry(),
        )
    })
}

struct InTransaction<O>(Weak<O>);

impl<O: Outbox> TransactionHook for InTransaction<O> {
    fn after_write(&self, conn: &mut dyn Conn, change: &Change) -> Result<()> {
        match self.0.upgrade() {
            Some(outbox) => outbox.record(conn, change),
            None => Ok(()),
        }
    }
}

/// The settings' check of a `viewAs` at `at` (`webhooks.endpoints.0`): an auth collection
/// (`_superusers` included: its records view as superusers do) and an id. The record itself is
/// looked up at each change: a deleted one just sees nothing.
pub fn check_view_as(view_as: &ViewAs, at: &str, schema: &Schema, errors: &mut FieldErrors) {
    if !schema.get(&view_as.collection).is_some_and(|c| c.is_auth()) {
        errors.insert(
            format!("{at}.viewAs.collection"),
            field_error_json(
                "validation_invalid_auth_collection",
                "Must be an auth collection.",
            ),
        );
    }
    if view_as.id.is_empty() {
        errors.insert(
            format!("{at}.viewAs.id"),
            field_error_json("validation_required", "Cannot be blank."),
        );
    }
}

/// How the events of one record change show the record: as a superuser sees it (computed
/// once, shared by every endpoint and target without `viewAs`), or as a `viewAs` views it.
pub struct RecordView<'a> {
    record: &'a Record,
    schema: &'a Schema,
    superuser: Option<Json>,
}

impl<'a> RecordView<'a> {
    pub fn new(record: &'a Record, schema: &'a Schema) -> RecordView<'a> {
        RecordView {
            record,
            schema,
            superuser: None,
        }
    }

    /// The record as `viewer` views it, and whether it may: `(record, None)` without a
    /// `viewAs` (a superuser's view: hidden fields included, password hashes and `tokenKey`
    /// never); `(record, Some(true))` what `GET /api/collections/{c}/records/{id}` would
    /// give the auth record (its collection's `viewRule` judged on `conn`, inside the change's
    /// transaction, on the record as the change left it); `(ids, Some(false))` when the rule
    /// refuses it or the auth record does not exist: only `collectionId`, `collectionName` and
    /// `id`, so that a receiver keeping a copy learns that the record left its view.
    pub fn as_seen_by(
        &mut self,
        conn: &mut dyn Conn,
        viewer: Option<&ViewAs>,
    ) -> Result<(Json, Option<bool>)> {
        let record = self.record;
        let Some(viewer) = viewer else {
            let shown = self
                .superuser
                .get_or_insert_with(|| crate::records::output::as_superuser_sees(record.clone()));
            return Ok((shown.clone(), None));
        };
        let viewed = crate::records::visibility::viewed_by(
            conn,
            self.schema,
            (&viewer.collection, &viewer.id),
            record,
        )?;
        Ok(match viewed {
            Some(shown) => (shown, Some(true)),
            None => (
                json!({"collectionId": record.collection.id,
                       "collectionName": record.collection.name, "id": record.id()}),
                Some(false),
            ),
        })
    }
}
