//! Deletions judged inside their transaction: once the rows are gone, a rule that reads them
//! (or reads what their deletion cascaded to) can no longer be asked.

use std::collections::HashMap;

use crate::error::Result;
use crate::schema::{Collection, Record};
use crate::store::Conn;

/// Decides, inside a delete's write transaction and before any of its rows goes, who may see
/// the records it removes. Implemented by realtime; the record service only calls it.
pub trait DeleteWatcher: Send + Sync {
    /// Whether anyone could be told of a deletion in `collection`. No SQL: it is asked on every
    /// delete, so a delete nobody watches costs nothing more.
    fn watches(&self, collection: &Collection) -> bool;
    /// Decides on `conn` (the write transaction, every row of `doomed` still present).
    fn foresee(&self, conn: &mut dyn Conn, doomed: &[Record]) -> Result<Foreseen>;
}

/// The decisions a `DeleteWatcher` took: per question (a key of the watcher's choosing), per
/// deleted record id, whether the record is visible.
#[derive(Debug, Default)]
pub struct Foreseen(pub HashMap<String, HashMap<String, bool>>);

impl Foreseen {
    /// `None` when that question was not asked of that record inside the transaction.
    pub fn decided(&self, question: &str, record_id: &str) -> Option<bool> {
        self.0.get(question)?.get(record_id).copied()
    }
}
