//! API rules and client filters: both compile to SQL predicates through the one compiler in
//! `oxbase-sql`, with `RecordResolver` answering what identifiers mean.
//!
//! - `request`: what `@request.*` sees.
//! - `resolver`: field paths, relations, back-relations, `@request.*`, `@collection.*`, macros.
//! - `check`: which rule applies to whom (null rule = superusers only, "" = everyone).
//! - `memo`: compiled rules kept per definition and caller.

pub mod check;
pub mod macros;
mod memo;
pub mod request;
pub mod resolver;

/// Lives with [`crate::identity::Auth`], so that services below the rules (the job queue's
/// dead letters) can use it too.
pub use crate::identity::superusers_only;
pub use check::{Access, RuleKind};
pub use request::{RequestContext, RequestInfo};
pub use resolver::{Purpose, ROOT, RecordResolver};
