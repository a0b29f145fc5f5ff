//! Realtime: clients connected over SSE, their subscriptions, and the dispatcher that turns each
//! committed `Change` into messages for exactly the subscribers allowed to see them.
//!
//! - `topic`: parsing `posts/*`, `posts/RECORD_ID` and their `?options=` form.
//! - `hub`: the clients connected, subscribing, settings (`RealtimeConfig`).
//! - `client`: one client: its bound identity, its subscriptions, its queue.
//! - `outbox`: each client's queue, bounded in bytes (a client that cannot keep up is
//!   dropped and reconnects).
//! - `index`: which subscriptions a change concerns.
//! - `dispatch`: rounds of changes, one query per question per round, delivery in order, and
//!   the backlog limit past which subscribers are disconnected rather than silently skipped.
//! - `watch`: deletions judged inside their transaction, before their rows go.
//!
//! Visibility is decided by the same compiled SQL as REST (`records::visibility`): the list rule
//! for `collection/*`, the view rule for `collection/id`, ANDed with the subscription's filter.
//! Events come from the change pipeline (`events::Pipeline::subscribe`), never from a database
//! hook, so the same hub serves SQLite, PostgreSQL and changes relayed between instances.

mod client;
mod dispatch;
pub mod hub;
mod index;
mod outbox;
pub mod topic;
mod watch;

pub use hub::{ClientSetup, Connection, Delivery, Realtime, RealtimeConfig, RealtimeHooks};
pub use outbox::Message;
