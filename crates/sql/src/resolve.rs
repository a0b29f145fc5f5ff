//! The seam between the pure compiler and the application: a `FieldResolver` turns an
//! identifier of the filter language (`title`, `author.name`, `tags:length`,
//! `@request.auth.id`, `@collection.users.email`, `@now`...) into SQL.
//!
//! The compiler knows operators, literals, functions and the comparison semantics; the resolver
//! knows collections, fields, relations, the request and the clock. It lives in `oxbase-core`.

use crate::{CompileError, Sql};

/// What a resolved operand holds, so the compiler can pick comparison semantics and casts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Text,
    Number,
    /// A number SQLite holds as a REAL even when it is whole (geoDistance, `CAST(x AS REAL)`):
    /// it compares as a number, and its text always has a decimal point (`5.0`).
    Real,
    Bool,
    /// A whole JSON document (a JSON field): compared with null-safe `IS` / `IS NOT` and no
    /// COALESCE. SQLite holds its stored text (a bare JSON number as a number); PostgreSQL a
    /// `jsonb` expression.
    Json,
    /// A value extracted from a JSON document (`meta.a.b`, an element of `meta:each`): SQLite's
    /// `json_extract` types it by its JSON (a number, text, 1/0 for `true`/`false`, NULL for
    /// `null`, the JSON text of an object or array). PostgreSQL: a `jsonb` expression, which
    /// the compiler types the same way ([`crate::Dialect::json_extract_value`]). A path
    /// compares null-safely without COALESCE, like `Json`; the elements `json_each` gives
    /// (wrapped in [`Operand::Stored`]) do not.
    JsonValue,
    /// Unknown or mixed (e.g. a bound request value).
    Any,
}

/// An identifier resolved to SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// One value per row of the outer query: a column, a correlated scalar subquery, a bound
    /// parameter.
    Single { sql: Sql, ty: ValueType },
    /// Several values per row (multi-value fields, relations with several targets,
    /// back-relations, `:each`): `select` is a complete correlated `SELECT ... AS v ...`
    /// returning one column named `v`, possibly no rows.
    /// `first`, when set, is a scalar subquery for the value a sort orders by: the first of
    /// them in the order PocketBase's joins meet them ([`crate::compile_sort`]).
    ///
    /// `shared`, when set, is what a `?` operator compares instead: the value on one related
    /// row that all `?` conditions on the same path share (PocketBase joins a path once per
    /// filter); the compiler tells the resolver it took it ([`FieldResolver::use_scope`]).
    Many {
        select: Sql,
        ty: ValueType,
        first: Option<Sql>,
        shared: Option<Shared>,
    },
    /// A value of a row shared by the whole expression (`@collection.x.f`, all references to
    /// `x` meaning the same joined row): with a `?` operator it is `single`, correlated with
    /// the other conditions on that row; with a plain operator EVERY row of the collection must
    /// match, so it is `every`, a complete `SELECT ... AS v` over all rows (PocketBase's
    /// semantics).
    Scoped {
        single: Sql,
        every: Sql,
        ty: ValueType,
    },
    /// A value the caller may see only where it is not NULL (an auth record's `email` whose
    /// owner hides it): the resolver makes it NULL where hidden, and every comparison that
    /// involves it is false there, whatever the operator (`!=` and `= ''` included); a sort
    /// sees the NULL, never the hidden value.
    Masked(Box<Operand>),
    /// Stored column values (a column, or a subquery selecting one): SQLite gives them their
    /// column's affinity in comparisons (TEXT for text, NUMERIC for number, bool and JSON
    /// columns, none (BLOB) for the `JsonValue` elements of `json_each`), which decides how a
    /// literal or an expression on the other side is converted first (`n = '5'` is true for
    /// 5, `title = 5` compares with the text `'5.0'`, `title:lower = 5` is false). Anything else
    /// (functions, modifiers, bound values) has none. The compiler follows the same rules on
    /// PostgreSQL.
    Stored(Box<Operand>),
}

/// A value on a row joined once for the whole expression (see [`Operand::Many`]): `scope`
/// names the join to the resolver.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    pub scope: usize,
    pub value: Sql,
}

/// Resolves identifiers of the filter language. `ident` is the whole identifier as written,
/// modifiers included (`title:lower`, `@request.body.tags:length`).
pub trait FieldResolver {
    fn resolve(&self, ident: &str) -> Result<Operand, CompileError>;

    /// The compiler compares the [`Shared`] value of `scope`: the resolver must join its row.
    fn use_scope(&self, _scope: usize) {}

    /// Whether `ident` is a column of the row itself that holds no NULL (`NOT NULL`). A sort by
    /// it then needs no `NULLS FIRST|LAST` on PostgreSQL, so an index on it can give the order.
    fn never_null(&self, _ident: &str) -> bool {
        false
    }
}
