//! The change pipeline: every committed change of a record, from the record service to its
//! consumers, in commit order, with a declared phase for each consumer (see [`Pipeline`]).
//!
//! - `change`: what changed ([`Change`]) and what subscribers receive ([`Committed`]).
//! - `pipeline`: the consumers, by phase: inside the write transaction, before the response,
//!   after commit.
//! - `system`: changes of collection definitions and of the settings, for the outbox.
//! - `watch`: deletions judged inside their transaction, before their rows go ([`DeleteWatcher`]).
//! - `bus`, `relay`: the changes of one instance carried to the others that share its
//!   PostgreSQL database, so they behave as one server.

pub mod bus;
mod change;
mod pipeline;
pub mod relay;
mod system;
mod watch;

pub use change::{Action, Change, Committed};
pub use pipeline::{
    ChangeHook, Pipeline, Proceed, ProceedDelete, TransactionHook, TransactionHooks,
};
pub use system::{SystemChange, SystemHook, after_system_commit, on_system_change};
pub use watch::{DeleteWatcher, Foreseen};
