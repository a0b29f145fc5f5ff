//! API rules and client filters: both compile to SQL predicates through the one compiler in
//! `oxbase-sql`, with `RecordResolver` answering what identifiers mean.
//!
//! - `request`: what `@request.*` sees.
//! - `resolver`: field paths, relations, back-relations, `@request.*`, `@collection.*`, macros.
//! - `check`: which rule applies to whom (null rule = superusers only, "" = everyone).
//! - `superusers`: the gate of the superuser-only operations.
//! - `memo`: compiled rules kept per definition and caller.

pub mod check;
pub mod macros;
mod memo;
pub mod request;
pub mod resolver;
mod superusers;

pub use check::{Access, RuleKind};
pub use request::{RequestContext, RequestInfo};
pub use resolver::{Purpose, ROOT, RecordResolver};
pub use superusers::superusers_only;
