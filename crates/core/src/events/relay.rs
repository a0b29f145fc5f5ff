//! Many instances, one server: each instance publishes what it committed (record changes,
//! collection changes, settings changes) on the bus (PostgreSQL LISTEN/NOTIFY, or Redis) and
//! applies what the others publish: their record changes reach its realtime clients and
//! caches, their schema and settings changes refresh its own. On SQLite there is one instance
//! and no relay.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tokio::sync::mpsc;

use super::bus::Bus;
use super::change::Change;
use super::pipeline::Pipeline;
use crate::files::Files;
use crate::schema::Record;
use crate::schema::Schema;
use crate::settings::Settings;
use crate::store::Db;
use crate::store::tables;

pub const CHANGES: &str = "oxbase_changes";
pub const SCHEMA: &str = "oxbase_schema";
pub const SETTINGS: &str = "oxbase_settings";
/// How long a stored change is kept for the other instances to read.
const STORED_FOR: chrono::Duration = chrono::Duration::minutes(5);

/// What goes over a channel.
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    /// The publishing instance (it ignores its own messages).
    from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    collection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<Map<String, Json>>,
    /// The id of an `_events` row holding the whole message, for large changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stored: Option<String>,
}

/// What the local side tells the relay.
#[derive(Debug)]
pub enum Local {
    Change(Change),
    Schema,
    Settings,
    /// Answered once everything told before it has been published.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The publishing handle.
#[derive(Clone)]
pub struct Relay {
    tx: mpsc::UnboundedSender<Local>,
    /// The loop applying the other instances' messages, stopped when the app closes (an app
    /// reopened in the same process after a restore has its own).
    applying: tokio::task::AbortHandle,
}

impl Relay {
    pub fn publish(&self, event: Local) {
        // The relay runs as long as the app; a closed one has nothing left to tell.
        let _ = self.tx.send(event);
    }

    /// Waits, at most `within`, until everything told so far has been published (before the
    /// app closes its database, which the bus may publish through).
    pub async fn flush(&self, within: std::time::Duration) {
        let (done, published) = tokio::sync::oneshot::channel();
        if self.tx.send(Local::Flush(done)).is_ok()
            && tokio::time::timeout(within, published).await.is_err()
        {
            tracing::warn!("changes for the other instances were still unpublished at close");
        }
    }

    /// Stops applying the other instances' messages (what this one publishes still goes out
    /// until the app is dropped).
    pub fn stop(&self) {
        self.applying.abort();
    }
}

/// Starts the relay over `bus`.
pub async fn start(
    bus: Bus,
    db: &Db,
    events: &Pipeline,
    schema: &Schema,
    settings: &Settings,
    files: &Files,
) -> Relay {
    let instance = crate::ids::random_string(16);
    let (tx, rx) = mpsc::unbounded_channel();
    let incoming = bus.subscribe(&[CHANGES, SCHEMA, SETTINGS]).await;
    tokio::spawn(publish_loop(bus, db.clone(), instance.clone(), rx));
    let applying = tokio::spawn(apply_loop(
        incoming,
        db.clone(),
        instance,
        events.clone(),
        schema.clone(),
        settings.clone(),
        files.clone(),
    ))
    .abort_handle();
    Relay { tx, applying }
}

async fn publish_loop(bus: Bus, db: Db, instance: String, mut rx: mpsc::UnboundedReceiver<Local>) {
    while let Some(event) = rx.recv().await {
        let (channel, message) = match event {
            Local::Flush(done) => {
                let _ = done.send(());
                continue;
            }
            Local::Schema => (
                SCHEMA,
                Message {
                    from: instance.clone(),
                    action: String::new(),
                    collection: String::new(),
                    record: None,
                    stored: None,
                },
            ),
            Local::Settings => (
                SETTINGS,
                Message {
                    from: instance.clone(),
                    action: String::new(),
                    collection: String::new(),
                    record: None,
                    stored: None,
                },
            ),
            Local::Change(change) => {
                let (action, record) = match &change {
                    Change::Created(r) => ("create", r),
                    Change::Updated(r) => ("update", r),
                    Change::Deleted(r) => ("delete", r),
                };
                (
                    CHANGES,
                    Message {
                        from: instance.clone(),
                        action: action.into(),
                        collection: record.collection.id.clone(),
                        record: Some(record.data.clone()),
                        stored: None,
                    },
                )
            }
        };
        let mut payload = serde_json::to_string(&message).unwrap_or_default();
        if payload.len() > bus.inline_max() {
            match store_large(&db, payload.clone()).await {
                Ok(id) => {
                    let pointer = Message {
                        from: instance.clone(),
                        action: String::new(),
                        collection: String::new(),
                        record: None,
                        stored: Some(id),
                    };
                    payload = serde_json::to_string(&pointer).unwrap_or_default();
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not store a large change for the other instances");
                    continue;
                }
            }
        }
        if let Err(e) = bus.publish(channel, &payload).await {
            tracing::error!(error = %e, channel, "could not publish to the other instances");
        }
    }
}

/// Keeps a message too large for NOTIFY in `_events`; returns its id. Old rows go on the way.
async fn store_large(db: &Db, payload: String) -> crate::Result<String> {
    let id = crate::ids::random_string(20);
    let row = id.clone();
    let now = chrono::Utc::now();
    let created = crate::dates::format(now);
    let expired = crate::dates::format(now - STORED_FOR);
    db.write(move |conn| tables::events::put(conn, row, payload, created, expired))
        .await?;
    Ok(id)
}

async fn load_large(db: &Db, id: String) -> crate::Result<Option<String>> {
    db.read(move |conn| tables::events::get(conn, id)).await
}

async fn apply_loop(
    mut incoming: mpsc::UnboundedReceiver<(String, String)>,
    db: Db,
    instance: String,
    events: Pipeline,
    schema: Schema,
    settings: Settings,
    files: Files,
) {
    while let Some((channel, payload)) = incoming.recv().await {
        if channel.is_empty() {
            // Reconnected: whatever was published meanwhile is lost; refresh the caches.
            tracing::warn!("relay reconnected: reloading collections and settings");
            refresh_schema(&schema).await;
            refresh_settings(&settings, &files).await;
            continue;
        }
        let Ok(mut message) = serde_json::from_str::<Message>(&payload) else {
            tracing::warn!(channel, "unreadable relay message");
            continue;
        };
        if message.from == instance {
            continue;
        }
        if let Some(id) = message.stored.take() {
            match load_large(&db, id).await {
                Ok(Some(full)) => match serde_json::from_str(&full) {
                    Ok(m) => message = m,
                    Err(_) => continue,
                },
                _ => {
                    tracing::warn!("a large change expired before it was read");
                    continue;
                }
            }
        }
        match channel.as_str() {
            SCHEMA => refresh_schema(&schema).await,
            SETTINGS => refresh_settings(&settings, &files).await,
            CHANGES => {
                if let Some(change) = to_change(&schema, message) {
                    events.emit_remote(change);
                }
            }
            _ => {}
        }
    }
}

fn to_change(schema: &Schema, message: Message) -> Option<Change> {
    let collection: Arc<_> = schema.get(&message.collection)?;
    let record = Record {
        collection,
        data: message.record?,
        expand: Map::new(),
    };
    match message.action.as_str() {
        "create" => Some(Change::Created(record)),
        "update" => Some(Change::Updated(record)),
        "delete" => Some(Change::Deleted(record)),
        _ => None,
    }
}

async fn refresh_schema(schema: &Schema) {
    if let Err(e) = schema.reload().await {
        tracing::error!(error = %e, "could not reload collections after another instance changed them");
    }
}

async fn refresh_settings(settings: &Settings, files: &Files) {
    match settings.reload().await {
        Ok(()) => {
            if let Err(e) = files.configure(&settings.s3()) {
                tracing::error!(error = %e, "could not follow another instance's storage settings");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "could not reload settings after another instance changed them")
        }
    }
}
