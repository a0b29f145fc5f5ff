//! Records: reading (`list`, `view`), writing (`write`), expanding relations (`expand`), the
//! request-body coercion (`input`), field validation (`validate`) and the API shape (`output`).
//!
//! Every query is `SELECT ... FROM <collection> AS __r WHERE (<rule>) AND (<filter>)`: rules
//! are SQL predicates, never a filter applied afterwards.

pub mod batch;
pub mod expand;
pub mod input;
pub mod list;
pub mod output;
pub mod record;
pub mod validate;
pub mod visibility;
pub mod write;

use tokio::sync::broadcast;

pub use record::Record;

use crate::schema::Schema;

/// What changed, emitted after commit (realtime and event sinks consume it).
#[derive(Debug, Clone)]
pub enum Change {
    Created(Record),
    Updated(Record),
    Deleted(Record),
}

/// The record service.
#[derive(Clone)]
pub struct Records {
    schema: Schema,
    changes: broadcast::Sender<Change>,
}

impl Records {
    pub fn new(schema: Schema) -> Records {
        // Room for bursts: a consumer that falls further behind than this misses changes (and
        // logs it), so it is sized well above what one fan-out takes to deliver.
        let (changes, _) = broadcast::channel(16 * 1024);
        Records { schema, changes }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Subscribes to the changes committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn emit(&self, change: Change) {
        // No subscriber is fine: nothing listens yet.
        let _ = self.changes.send(change);
    }
}
