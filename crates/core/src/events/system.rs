//! Changes of collection definitions and of the settings, for the consumers that ask for them
//! in the write's own transaction (the outbox of webhooks and brokers). Record changes go
//! through the [`Pipeline`](super::Pipeline); these come from `Schema::save`/`remove` and
//! `Settings::patch`. What a change shows never carries a secret: a definition as `GET
//! /api/collections/{c}` shows it, the settings as `GET /api/settings` does.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::error::Result;
use crate::schema::Schema;
use crate::settings::Settings;
use crate::store::Conn;

/// A committed-with-the-transaction change of a definition or of the settings.
#[derive(Debug, Clone)]
pub enum SystemChange {
    /// A collection created, updated or deleted (`action`); `collection` as the API shows it
    /// (for a delete, as it was).
    Collection {
        action: &'static str,
        id: String,
        name: String,
        collection: Json,
    },
    /// The settings after an update, secrets left out and passwords masked.
    Settings { settings: Json },
}

impl SystemChange {
    /// The `systemEvents` value that asks for it: `collections` or `settings`.
    pub fn kind(&self) -> &'static str {
        match self {
            SystemChange::Collection { .. } => "collections",
            SystemChange::Settings { .. } => "settings",
        }
    }

    /// `create`, `update` or `delete` (the settings are only ever updated).
    pub fn action(&self) -> &'static str {
        match self {
            SystemChange::Collection { action, .. } => action,
            SystemChange::Settings { .. } => "update",
        }
    }

    /// The queue's ordering key: one definition's changes (or the settings') go in order.
    pub fn key(&self) -> String {
        match self {
            SystemChange::Collection { id, .. } => format!("_collections/{id}"),
            SystemChange::Settings { .. } => "_settings".to_owned(),
        }
    }
}

/// A consumer of system changes, inside their transaction. For a change of the settings it
/// also gets them as they will be once it commits (secrets included: the consumer's own
/// configuration may be what changed); otherwise `None`, the settings stand.
pub type SystemHook =
    Arc<dyn Fn(&mut dyn Conn, Option<&Json>, &SystemChange) -> Result<()> + Send + Sync>;

/// Runs `hook` inside the transaction of every later change of a definition (through
/// `schema`) or of the settings.
pub fn on_system_change(schema: &Schema, settings: &Settings, hook: SystemHook) {
    let on_schema = hook.clone();
    schema.on_write(Arc::new(move |conn, before, after| {
        let (action, shown) = match (before, after) {
            (None, Some(c)) => ("create", c),
            (Some(_), Some(c)) => ("update", c),
            (Some(c), None) => ("delete", c),
            (None, None) => return Ok(()),
        };
        let change = SystemChange::Collection {
            action,
            id: shown.id.clone(),
            name: shown.name.clone(),
            collection: shown.to_json(),
        };
        on_schema(conn, None, &change)
    }));
    settings.on_write(Arc::new(move |conn, next| {
        let change = SystemChange::Settings {
            settings: Settings::masked(next),
        };
        hook(conn, Some(next), &change)
    }));
}

/// Calls `committed` after every change of a definition or of the settings made here commits
/// (a worker may have looked for the change's jobs before).
pub fn after_system_commit(
    schema: &Schema,
    settings: &Settings,
    committed: Arc<dyn Fn() + Send + Sync>,
) {
    schema.on_change(committed.clone());
    settings.on_change(committed);
}
