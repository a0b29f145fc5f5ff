//! Records: reading (`list`, `view`), writing (`write`), expanding relations (`expand`), the
//! request-body coercion (`input`), field validation (`validate`) and the API shape (`output`).
//!
//! Every query is `SELECT ... FROM <collection> AS __r WHERE (<rule>) AND (<filter>)`: rules
//! are SQL predicates, never a filter applied afterwards.

pub mod batch;
pub mod download;
pub mod expand;
pub mod input;
pub mod list;
pub mod output;
pub mod record;
pub mod system;
pub mod validate;
pub mod visibility;
pub mod write;

use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

pub use record::Record;

use crate::files::Files;
use crate::schema::Schema;

/// What changed, emitted after commit (realtime and event sinks consume it).
#[derive(Debug, Clone)]
pub enum Change {
    Created(Record),
    Updated(Record),
    Deleted(Record),
}

/// A synchronous listener of committed changes (caches that must never serve stale data).
pub type ChangeHook = Arc<dyn Fn(&Change) + Send + Sync>;

/// The record service.
#[derive(Clone)]
pub struct Records {
    schema: Schema,
    files: Files,
    changes: broadcast::Sender<Change>,
    hooks: Arc<RwLock<Vec<ChangeHook>>>,
    /// Where this instance's changes go for the other instances (PostgreSQL only).
    relay: Arc<std::sync::OnceLock<crate::events::relay::Relay>>,
}

impl Records {
    pub fn new(schema: Schema, files: Files) -> Records {
        // Room for bursts: a consumer that falls further behind than this misses changes (and
        // logs it), so it is sized well above what one fan-out takes to deliver.
        let (changes, _) = broadcast::channel(16 * 1024);
        Records { schema, files, changes, hooks: Arc::default(), relay: Arc::default() }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn files(&self) -> &Files {
        &self.files
    }

    /// Subscribes to the changes committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Registers a hook run synchronously on every committed change, before the response to
    /// the write goes out (unlike `subscribe`, which is asynchronous).
    pub fn on_change(&self, hook: ChangeHook) {
        self.hooks.write().unwrap_or_else(|e| e.into_inner()).push(hook);
    }

    /// Sends this instance's committed changes to the other instances from now on.
    pub fn relay_to(&self, relay: crate::events::relay::Relay) {
        let _ = self.relay.set(relay);
    }

    fn emit(&self, change: Change) {
        if let Some(relay) = self.relay.get() {
            relay.publish(crate::events::relay::Local::Change(change.clone()));
        }
        self.emit_remote(change);
    }

    /// A change committed by another instance: the local caches and subscribers hear of it as
    /// of a local one, and it goes nowhere else.
    pub fn emit_remote(&self, change: Change) {
        for hook in self.hooks.read().unwrap_or_else(|e| e.into_inner()).iter() {
            hook(&change);
        }
        // No subscriber is fine: nothing listens yet.
        let _ = self.changes.send(change);
    }
}
