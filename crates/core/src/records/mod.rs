//! Records: reading (`list`, `view`), writing (`write`), expanding relations (`expand`), the
//! request-body coercion (`input`), field validation (`validate`) and the API shape (`output`).
//!
//! Every query is `SELECT ... FROM <collection> AS __r WHERE (<rule>) AND (<filter>)`: rules
//! are SQL predicates, never a filter applied afterwards.

pub mod actions;
pub mod batch;
pub mod direct;
pub mod download;
pub mod expand;
mod foresee;
pub mod history;
pub mod input;
pub mod list;
pub mod output;
pub mod query;
pub mod system;
mod totals;
pub mod validate;
pub mod versions;
pub mod visibility;
pub mod write;

pub use crate::schema::Record;
pub use visibility::Verdict;

use std::sync::Arc;

use crate::events::Pipeline;
use crate::files::Files;
use crate::schema::Schema;

/// The record service.
#[derive(Clone)]
pub struct Records {
    schema: Schema,
    files: Files,
    /// Where every change goes, in its phases (`events::Pipeline`).
    events: Pipeline,
    /// List totals counted since the last write (`totals`).
    totals: Arc<totals::Totals>,
}

impl Records {
    pub fn new(schema: Schema, files: Files, events: Pipeline) -> Records {
        Records {
            schema,
            files,
            events,
            totals: Arc::default(),
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn files(&self) -> &Files {
        &self.files
    }

    pub fn events(&self) -> &Pipeline {
        &self.events
    }
}
