//! # oxbase-sql
//!
//! The filter/rule language of oxbase (PocketBase-compatible) and its compiler to parameterised
//! SQL for SQLite and PostgreSQL. Pure: no I/O, no async, no database driver.
//!
//! - [`filter`]: lexer, parser and AST of filter/rule expressions (grammar below).
//! - [`sort`]: the `sort` query parameter syntax.
//! - [`resolve`]: the [`FieldResolver`] trait the application implements.
//! - [`compile`]: AST + resolver + [`Dialect`] -> [`Sql`].
//! - [`dialect`]: every difference in SQL text between the two databases.
//! - [`ddl`]: table and index statements.
//! - [`sql`], [`value`]: SQL fragments with bound parameters.

pub mod compile;
pub mod ddl;
pub mod dialect;
pub mod error;
pub mod filter;
pub mod resolve;
pub mod sort;
pub mod sql;
pub mod value;

pub use compile::{compile_filter, compile_sort};
pub use dialect::Dialect;
pub use error::{CompileError, ParseError};
pub use resolve::{FieldResolver, Operand, Shared, ValueType};
pub use sql::{Column, Ident, Sql};
pub use value::Value;
