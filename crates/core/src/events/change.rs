//! What changed.

use std::sync::Arc;

use super::watch::Foreseen;
use crate::schema::Record;

/// What changed, emitted after commit.
#[derive(Debug, Clone)]
pub enum Change {
    Created(Record),
    Updated(Record),
    Deleted(Record),
}

/// The kind of a change (PocketBase's realtime `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl Change {
    pub fn record(&self) -> &Record {
        match self {
            Change::Created(r) | Change::Updated(r) | Change::Deleted(r) => r,
        }
    }

    pub fn action(&self) -> Action {
        match self {
            Change::Created(_) => Action::Create,
            Change::Updated(_) => Action::Update,
            Change::Deleted(_) => Action::Delete,
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
