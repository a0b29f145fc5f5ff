//! Records: reading (`list`, `view`), writing (`write`), expanding relations (`expand`), the
//! request-body coercion (`input`), field validation (`validate`) and the API shape (`output`).
//!
//! Every query is `SELECT ... FROM <collection> AS __r WHERE (<rule>) AND (<filter>)`: rules
//! are SQL predicates, never a filter applied afterwards.

pub mod actions;
pub mod batch;
pub mod download;
pub mod expand;
mod foresee;
pub mod input;
pub mod list;
pub mod output;
pub mod record;
pub mod system;
pub mod validate;
pub mod visibility;
pub mod write;

use std::sync::Arc;

use parking_lot::RwLock;

use tokio::sync::mpsc;

pub use record::Record;
pub use visibility::{DeleteWatcher, Foreseen, Verdict};

use crate::files::Files;
use crate::schema::Schema;

/// What changed, emitted after commit (realtime and event sinks consume it).
#[derive(Debug, Clone)]
pub enum Change {
    Created(Record),
    Updated(Record),
    Deleted(Record),
}

impl Change {
    pub fn record(&self) -> &Record {
        match self {
            Change::Created(r) | Change::Updated(r) | Change::Deleted(r) => r,
        }
    }
}

/// A committed change as subscribers receive it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub change: Change,
    /// For a deletion: who may see it, decided inside its transaction before the rows went
    /// (`None` when no watcher cared then).
    pub foreseen: Option<Arc<Foreseen>>,
}

/// A synchronous listener of committed changes (caches that must never serve stale data).
pub type ChangeHook = Arc<dyn Fn(&Change) + Send + Sync>;

/// The record service.
#[derive(Clone)]
pub struct Records {
    schema: Schema,
    files: Files,
    /// One unbounded queue per subscriber: a send never fails nor drops a change, so a
    /// subscriber misses nothing unless it decides to (realtime bounds its own backlog).
    subscribers: Arc<RwLock<Vec<Subscriber>>>,
    hooks: Arc<RwLock<Vec<ChangeHook>>>,
    /// Where this instance's changes go for the other instances (PostgreSQL only).
    relay: Arc<std::sync::OnceLock<crate::events::relay::Relay>>,
    /// Asked inside a delete's transaction who may see the records it removes.
    delete_watcher: Arc<RwLock<Option<Arc<dyn DeleteWatcher>>>>,
}

/// A subscriber's queue, and whether it wants changes now.
struct Subscriber {
    tx: mpsc::UnboundedSender<Committed>,
    listening: Box<dyn Fn() -> bool + Send + Sync>,
}

impl Records {
    pub fn new(schema: Schema, files: Files) -> Records {
        Records {
            schema,
            files,
            subscribers: Arc::default(),
            hooks: Arc::default(),
            delete_watcher: Arc::default(),
            relay: Arc::default(),
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn files(&self) -> &Files {
        &self.files
    }

    /// Subscribes to the changes committed from now on, in commit order, that are emitted
    /// while `listening` says yes: a change nobody would be told of is not sent, and waking the
    /// subscriber's task for it would cost every write a thread wake-up.
    pub fn subscribe(
        &self,
        listening: impl Fn() -> bool + Send + Sync + 'static,
    ) -> mpsc::UnboundedReceiver<Committed> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.write().push(Subscriber {
            tx,
            listening: Box::new(listening),
        });
        rx
    }

    /// Registers the watcher asked, inside each delete's transaction, who may see the
    /// records it removes (realtime).
    pub fn watch_deletes(&self, watcher: Arc<dyn DeleteWatcher>) {
        *self.delete_watcher.write() = Some(watcher);
    }

    fn delete_watcher(&self) -> Option<Arc<dyn DeleteWatcher>> {
        self.delete_watcher.read().clone()
    }

    /// Registers a hook run synchronously on every committed change, before the response to
    /// the write goes out (unlike `subscribe`, which is asynchronous).
    pub fn on_change(&self, hook: ChangeHook) {
        self.hooks.write().push(hook);
    }

    /// Sends this instance's committed changes to the other instances from now on.
    pub fn relay_to(&self, relay: crate::events::relay::Relay) {
        let _ = self.relay.set(relay);
    }

    fn emit(&self, change: Change, foreseen: Option<Arc<Foreseen>>) {
        if let Some(relay) = self.relay.get() {
            relay.publish(crate::events::relay::Local::Change(change.clone()));
        }
        self.deliver(change, foreseen);
    }

    /// A change committed by another instance: the local caches and subscribers hear of it as
    /// of a local one, and it goes nowhere else.
    pub fn emit_remote(&self, change: Change) {
        self.deliver(change, None);
    }

    fn deliver(&self, change: Change, foreseen: Option<Arc<Foreseen>>) {
        for hook in self.hooks.read().iter() {
            hook(&change);
        }
        let committed = Committed { change, foreseen };
        let gone = {
            let subscribers = self.subscribers.read();
            subscribers
                .iter()
                .filter(|s| (s.listening)() && s.tx.send(committed.clone()).is_err())
                .count()
        };
        if gone > 0 {
            self.subscribers.write().retain(|s| !s.tx.is_closed());
        }
    }
}
