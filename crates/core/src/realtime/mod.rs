//! Realtime: clients connected over SSE, their subscriptions, and the dispatcher that turns each
//! committed `Change` into messages for exactly the subscribers allowed to see it.
//!
//! - `topic`: parsing `posts/*`, `posts/RECORD_ID` and their `?options=` form.
//! - `hub`: clients, bounded per-client queues (a client that cannot keep up is dropped and
//!   reconnects), and the dispatcher.
//!
//! Visibility is decided by the same compiled SQL as REST (`Records::visible_to`): the list rule
//! for `collection/*`, the view rule for `collection/id`, ANDed with the subscription's filter.
//! Events come from the record service's `Change` channel, never from a database hook, so the
//! same hub serves SQLite, PostgreSQL and, later, changes relayed between instances.

pub mod hub;
pub mod topic;

pub use hub::{Connection, Message, Realtime};
