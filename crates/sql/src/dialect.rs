//! `Dialect`: every difference in SQL text between SQLite and PostgreSQL that the filter
//! compiler and the application need (null-safe comparison, case-insensitive LIKE, casts, JSON
//! iteration and extraction, random order, typed placeholders).
//!
//! Feature code never matches on the dialect: it calls these helpers. What this module does not
//! own: DDL (see [`crate::ddl`]) and placeholder numbering (see [`Dialect::render`]).

use crate::{Ident, Sql, Value};

/// The SQL dialect a fragment is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The conventional alias of [`Dialect::json_array_elements`]: the FROM item is named `je` and
/// its element column `je.value`.
pub const JSON_ELEMENTS_ALIAS: &str = "je";

impl Dialect {
    /// The fragment's text as this dialect wants it: `?` placeholders for SQLite, `$1, $2...`
    /// for PostgreSQL.
    pub fn render(self, sql: &Sql) -> String {
        match self {
            Dialect::Sqlite => sql.text().to_owned(),
            Dialect::Postgres => crate::sql::number_placeholders(sql.text()),
        }
    }

    /// Null-safe equality operator: `IS` (SQLite), `IS NOT DISTINCT FROM` (PostgreSQL).
    pub fn null_safe_eq(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS",
            Dialect::Postgres => "IS NOT DISTINCT FROM",
        }
    }

    /// Null-safe inequality operator: `IS NOT` (SQLite), `IS DISTINCT FROM` (PostgreSQL).
    pub fn null_safe_neq(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS NOT",
            Dialect::Postgres => "IS DISTINCT FROM",
        }
    }

    /// The case-insensitive LIKE operator: `LIKE` (SQLite's LIKE is ASCII case-insensitive),
    /// `ILIKE` (PostgreSQL). Both compiled forms use `ESCAPE '\'`.
    pub fn like_ci(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }

    /// `RANDOM()`, for `sort=@random`.
    pub fn random(self) -> Sql {
        Sql::raw("RANDOM()")
    }

    /// `CAST(expr AS <type>)`, with `ty` one of the trusted type names below.
    pub fn cast(self, expr: &Sql, ty: SqlType) -> Sql {
        let mut out = Sql::raw("CAST(");
        out.push_sql(expr)
            .push(" AS ")
            .push(self.type_name(ty))
            .push(")");
        out
    }

    /// The name of a scalar type in this dialect.
    pub fn type_name(self, ty: SqlType) -> &'static str {
        match (self, ty) {
            (_, SqlType::Text) => "TEXT",
            (Dialect::Sqlite, SqlType::Integer) => "INTEGER",
            (Dialect::Postgres, SqlType::Integer) => "BIGINT",
            (_, SqlType::Real) => match self {
                Dialect::Sqlite => "REAL",
                Dialect::Postgres => "DOUBLE PRECISION",
            },
            (Dialect::Sqlite, SqlType::Boolean) => "INTEGER",
            (Dialect::Postgres, SqlType::Boolean) => "BOOLEAN",
            (Dialect::Sqlite, SqlType::Blob) => "BLOB",
            (Dialect::Postgres, SqlType::Blob) => "BYTEA",
        }
    }

    /// A bound parameter for `value`. SQLite: `?`. PostgreSQL: `CAST(? AS <type>)` so that the
    /// server never has to guess a parameter's type (`$1 = $2` would otherwise be text = text
    /// and fail to encode a number). `Value::Null` becomes the keyword `NULL`.
    pub fn typed_param(self, value: &Value) -> Sql {
        let ty = match value {
            Value::Null => return Sql::raw("NULL"),
            Value::Bool(_) => SqlType::Boolean,
            Value::Int(_) => SqlType::Integer,
            Value::Float(_) => SqlType::Real,
            Value::Text(_) => SqlType::Text,
            Value::Blob(_) => SqlType::Blob,
        };
        match self {
            Dialect::Sqlite => Sql::param(value.clone()),
            Dialect::Postgres => self.cast(&Sql::param(value.clone()), ty),
        }
    }

    /// A FROM-clause item iterating the elements of a JSON array, aliased [`JSON_ELEMENTS_ALIAS`]
    /// (`je`), whose column `je.value` holds each element (see [`Self::json_array_elements_as`]).
    pub fn json_array_elements(self, json_expr: &Sql) -> Sql {
        let alias = Ident::new(JSON_ELEMENTS_ALIAS).expect("the alias is a valid identifier");
        self.json_array_elements_as(json_expr, &alias)
    }

    /// A FROM-clause item iterating the elements of a JSON array, aliased `alias`, with the
    /// element in column `<alias>.value`. Use distinct aliases when one query iterates several
    /// arrays.
    ///
    /// - SQLite: `json_each(CASE WHEN json_valid(x) THEN x ELSE json_array(x) END) AS alias`:
    ///   a value that is not a JSON array is iterated as a one-element array (PocketBase's
    ///   `dbutils.JSONEach`). Elements are SQL values (strings unquoted, numbers as numbers).
    /// - PostgreSQL: `jsonb_array_elements_text(CASE WHEN jsonb_typeof(x::jsonb) = 'array'
    ///   THEN x::jsonb ELSE jsonb_build_array(x::jsonb) END) AS alias(value)`: elements as
    ///   text. `x` must be `jsonb` or valid JSON text.
    pub fn json_array_elements_as(self, json_expr: &Sql, alias: &Ident) -> Sql {
        let mut out = Sql::new();
        match self {
            Dialect::Sqlite => {
                out.push("json_each(CASE WHEN json_valid(")
                    .push_sql(json_expr)
                    .push(") THEN ")
                    .push_sql(json_expr)
                    .push(" ELSE json_array(")
                    .push_sql(json_expr)
                    .push(") END) AS ")
                    .push_ident(alias);
            }
            Dialect::Postgres => {
                let j = self.to_jsonb(json_expr);
                out.push("jsonb_array_elements_text(CASE WHEN jsonb_typeof(")
                    .push_sql(&j)
                    .push(") = 'array' THEN ")
                    .push_sql(&j)
                    .push(" ELSE jsonb_build_array(")
                    .push_sql(&j)
                    .push(") END) AS ")
                    .push_ident(alias)
                    .push("(value)");
            }
        }
        out
    }

    /// The number of elements of a JSON array; 0 for NULL or a non-array value.
    pub fn json_array_length(self, expr: &Sql) -> Sql {
        let mut out = Sql::new();
        match self {
            Dialect::Sqlite => {
                out.push("(CASE WHEN json_valid(")
                    .push_sql(expr)
                    .push(") THEN json_array_length(")
                    .push_sql(expr)
                    .push(") ELSE 0 END)");
            }
            Dialect::Postgres => {
                let j = self.to_jsonb(expr);
                out.push("(CASE WHEN jsonb_typeof(")
                    .push_sql(&j)
                    .push(") = 'array' THEN jsonb_array_length(")
                    .push_sql(&j)
                    .push(") ELSE 0 END)");
            }
        }
        out
    }

    /// The value at `path` inside a JSON document (`json_field.a.b` → `path = ["a", "b"]`;
    /// all-digit segments index arrays). The path segments are bound parameters.
    ///
    /// - SQLite: `json_extract(x, '$."a"."b"')` (objects/arrays as JSON text, scalars as SQL
    ///   values, JSON null as NULL).
    /// - PostgreSQL: `jsonb_extract_path_text(x::jsonb, 'a', 'b')` (always text: `true`, `12`).
    ///   Filters use [`Self::json_extract_value`], which keeps the JSON types.
    ///
    /// An empty path returns `expr` unchanged.
    pub fn json_extract(self, expr: &Sql, path: &[&str]) -> Sql {
        if path.is_empty() {
            return expr.clone();
        }
        let mut out = Sql::new();
        match self {
            Dialect::Sqlite => {
                let mut p = String::from("$");
                for seg in path {
                    if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                        p.push('[');
                        p.push_str(seg);
                        p.push(']');
                    } else {
                        p.push_str(".\"");
                        p.push_str(&seg.replace('\\', "\\\\").replace('"', "\\\""));
                        p.push('"');
                    }
                }
                out.push("json_extract(")
                    .push_sql(expr)
                    .push(", ")
                    .push_param(p)
                    .push(")");
            }
            Dialect::Postgres => {
                out.push("jsonb_extract_path_text(")
                    .push_sql(&self.to_jsonb(expr));
                for seg in path {
                    out.push(", ")
                        .push_sql(&self.typed_param(&Value::from(*seg)));
                }
                out.push(")");
            }
        }
        out
    }

    /// The value at `path` inside a JSON document, typed as SQLite's `json_extract` types it
    /// (see [`crate::ValueType::JsonValue`]); all-digit segments index arrays, and the path
    /// segments are bound parameters.
    ///
    /// - SQLite: the same `json_extract(x, '$."a"."b"')` as [`Self::json_extract`].
    /// - PostgreSQL: `jsonb_extract_path(x::jsonb, 'a', 'b')`, a `jsonb` value that the
    ///   compiler compares, sorts and renders as text the way SQLite does.
    ///
    /// An empty path returns `expr` unchanged.
    pub fn json_extract_value(self, expr: &Sql, path: &[&str]) -> Sql {
        if path.is_empty() || self == Dialect::Sqlite {
            return self.json_extract(expr, path);
        }
        let mut out = Sql::raw("jsonb_extract_path(");
        out.push_sql(&self.to_jsonb(expr));
        for seg in path {
            out.push(", ")
                .push_sql(&self.typed_param(&Value::from(*seg)));
        }
        out.push(")");
        out
    }

    /// A whole JSON document typed like [`Self::json_extract_value`] (PocketBase's
    /// `JSON_EXTRACT(x, '$')` for a json field): SQLite `json_extract(x, '$')`, PostgreSQL the
    /// `jsonb` value.
    pub fn json_document_value(self, expr: &Sql) -> Sql {
        match self {
            Dialect::Sqlite => {
                let mut out = Sql::raw("json_extract(");
                out.push_sql(expr).push(", '$')");
                out
            }
            Dialect::Postgres => self.to_jsonb(expr),
        }
    }

    /// A geoPoint column as the text SQLite stores (`{"lon":1.5,"lat":2}`): the column itself
    /// on SQLite, that text written from the `jsonb` on PostgreSQL.
    pub fn geo_point_text(self, expr: &Sql) -> Sql {
        match self {
            Dialect::Sqlite => expr.clone(),
            Dialect::Postgres => {
                let mut out = Sql::raw("('{\"lon\":' || (");
                out.push_sql(expr)
                    .push(" ->> 'lon') || ',\"lat\":' || (")
                    .push_sql(expr)
                    .push(" ->> 'lat') || '}')");
                out
            }
        }
    }

    /// The text SQLite makes of a [`Self::json_extract_value`] (for `LOWER`): the expression
    /// itself on SQLite; on PostgreSQL a JSON string without its quotes, a number as written,
    /// `true`/`false` as `1`/`0`, an object or array as its JSON text, `null` as NULL.
    pub fn json_value_text(self, value: &Sql) -> Sql {
        match self {
            Dialect::Sqlite => value.clone(),
            Dialect::Postgres => {
                let mut out = Sql::raw("CASE WHEN jsonb_typeof(");
                out.push_sql(value)
                    .push(") = 'boolean' THEN CASE WHEN CAST(")
                    .push_sql(value)
                    .push(" AS BOOLEAN) THEN '1' ELSE '0' END WHEN jsonb_typeof(")
                    .push_sql(value)
                    .push(") IN ('object', 'array') THEN ")
                    .push_sql(&Self::pg_json_container_text(value, 2))
                    .push(" ELSE ")
                    .push_sql(value)
                    .push(" #>> '{}' END");
                out
            }
        }
    }

    /// A FROM-clause item iterating the elements of a JSON field, aliased `alias`, whose
    /// elements in `alias.value` are typed like [`Self::json_extract_value`] (`meta:each`).
    ///
    /// - SQLite: the same `json_each(...)` as [`Self::json_each_as`]: a value that is not a
    ///   JSON array is one element, its stored text (a bare number stays a number).
    /// - PostgreSQL: `jsonb_array_elements(...) AS alias(value)`, `jsonb` elements, a value
    ///   that is not an array wrapped the same way (as a JSON string of its text, unless a
    ///   number).
    pub fn json_each_values_as(self, expr: &Sql, alias: &Ident) -> Sql {
        if self == Dialect::Sqlite {
            return self.json_each_as(expr, alias);
        }
        let j = self.to_jsonb(expr);
        let mut out = Sql::raw("jsonb_array_elements(CASE WHEN jsonb_typeof(");
        out.push_sql(&j)
            .push(") = 'array' THEN ")
            .push_sql(&j)
            .push(" ELSE jsonb_build_array(CASE WHEN jsonb_typeof(")
            .push_sql(&j)
            .push(") = 'number' THEN ")
            .push_sql(&j)
            .push(" ELSE to_jsonb(CAST(")
            .push_sql(&j)
            .push(" AS TEXT)) END) END) AS ")
            .push_ident(alias)
            .push("(value)");
        out
    }

    /// SQLite's `LOWER(x)` (`:lower`): ASCII letters in lower case, every other character as
    /// it is. PostgreSQL's `LOWER` would fold every letter (`É`): there it is `translate`.
    pub fn lower(self, expr: &Sql) -> Sql {
        let mut out = Sql::new();
        match self {
            Dialect::Sqlite => {
                out.push("LOWER(").push_sql(expr).push(")");
            }
            Dialect::Postgres => {
                out.push("translate(")
                    .push_sql(expr)
                    .push(", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')");
            }
        }
        out
    }

    /// `LEAST(hi, GREATEST(lo, x))` / `min(hi, max(lo, x))`: clamps a number.
    pub fn clamp(self, expr: &Sql, lo: &str, hi: &str) -> Sql {
        let (min, max) = match self {
            Dialect::Sqlite => ("min", "max"),
            Dialect::Postgres => ("LEAST", "GREATEST"),
        };
        let mut out = Sql::raw(format!("{min}({hi}, {max}({lo}, "));
        out.push_sql(expr).push("))");
        out
    }

    /// The statement that refreshes the planner's statistics (the daily `__pbDBOptimize__` job).
    pub fn optimize(self) -> Sql {
        match self {
            Dialect::Sqlite => Sql::raw("PRAGMA optimize"),
            Dialect::Postgres => Sql::raw("ANALYZE"),
        }
    }

    /// `key` as an ascending sort key with NULLs first, as SQLite sorts them (PostgreSQL puts
    /// them last).
    pub fn nulls_first(self, mut key: Sql) -> Sql {
        if self == Dialect::Postgres {
            key.push(" NULLS FIRST");
        }
        key
    }

    /// The clause that locks the selected rows of `alias` until the transaction ends, so a
    /// read-modify-write (`n+`) cannot lose a concurrent one. SQLite needs none: its single
    /// writer already runs write transactions one at a time.
    pub fn lock_rows(self, alias: &Ident) -> Sql {
        match self {
            Dialect::Sqlite => Sql::new(),
            Dialect::Postgres => {
                let mut out = Sql::raw(" FOR UPDATE OF ");
                out.push_ident(alias);
                out
            }
        }
    }

    /// The column definition of an ever-growing integer key, numbered by the database in
    /// insertion order (a queue's order).
    pub fn serial_key(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        }
    }

    /// The clause after a `SELECT` that locks its rows and passes over those another
    /// transaction holds, so that several workers share one queue table. SQLite needs none: its
    /// single writer already claims one at a time.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// A statement that makes write transactions taking the same `key` run one at a time
    /// until they end (a check-then-insert across tables cannot race): PostgreSQL's
    /// transaction-scoped advisory lock. SQLite needs none: its single writer already runs
    /// write transactions one at a time.
    pub fn key_lock(self, key: &str) -> Option<Sql> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => {
                let mut out = Sql::raw("SELECT pg_advisory_xact_lock(hashtext(");
                out.push_param(Value::Text(key.to_owned())).push("))");
                Some(out)
            }
        }
    }

    /// A JSON column (JSONB on PostgreSQL, JSON text on SQLite) as text, for comparing and
    /// sorting it like any text value: on PostgreSQL an array or object written as SQLite
    /// holds it (`["a","b"]`, [`Self::pg_json_container_text`]).
    pub fn json_text(self, expr: &Sql) -> Sql {
        match self {
            Dialect::Sqlite => expr.clone(),
            Dialect::Postgres => {
                let mut out = Sql::raw("COALESCE(");
                out.push_sql(&Self::pg_json_container_text(&self.to_jsonb(expr), 1))
                    .push(", CAST(")
                    .push_sql(expr)
                    .push(" AS TEXT))");
                out
            }
        }
    }

    /// PostgreSQL: the JSON text SQLite holds for a `jsonb` object or array, as oxbase and
    /// PocketBase store it: compact (`{"a":[1,2]}`, where PostgreSQL writes `{"a": [1, 2]}`),
    /// keys in byte order (where PostgreSQL puts shorter keys first); NULL for other values.
    /// Nested `depth` levels deep; deeper values are written as PostgreSQL writes them.
    pub(crate) fn pg_json_container_text(value: &Sql, depth: usize) -> Sql {
        // `value` once, as a column of a one-row subquery: the text names it several times
        let mut out = Sql::raw("(SELECT ");
        out.push_sql(&Self::pg_container_text_of("\"__jt\"", depth))
            .push(" FROM (SELECT ")
            .push_sql(value)
            .push(" AS \"__jt\") AS \"__jtt\")");
        out
    }

    fn pg_container_text_of(v: &str, depth: usize) -> Sql {
        let (k, e, n) = (
            format!("\"__jk{depth}\""),
            format!("\"__jv{depth}\""),
            format!("\"__jn{depth}\""),
        );
        // an element or member value: a nested container written the same way, the rest as
        // PostgreSQL writes it (JSON text)
        let inner = if depth == 0 {
            format!("CAST({e} AS TEXT)")
        } else {
            let nested = Self::pg_container_text_of(&e, depth - 1);
            format!(
                "CASE WHEN jsonb_typeof({e}) IN ('object', 'array') THEN {} ELSE CAST({e} AS TEXT) END",
                nested.text()
            )
        };
        Sql::raw(format!(
            "CASE jsonb_typeof({v}) \
             WHEN 'object' THEN (SELECT '{{' || COALESCE(string_agg(CAST(to_jsonb({k}) AS TEXT) || ':' || {inner}, ',' ORDER BY {k} COLLATE \"C\"), '') || '}}' FROM jsonb_each({v}) AS __je{depth}({k}, {e})) \
             WHEN 'array' THEN (SELECT '[' || COALESCE(string_agg({inner}, ',' ORDER BY {n}), '') || ']' FROM jsonb_array_elements({v}) WITH ORDINALITY AS __ja{depth}({e}, {n})) END"
        ))
    }

    fn to_jsonb(self, expr: &Sql) -> Sql {
        let mut out = Sql::raw("CAST(");
        out.push_sql(expr).push(" AS JSONB)");
        out
    }
}

/// Scalar types the compiler casts to; see [`Dialect::type_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Text,
    Integer,
    Real,
    Boolean,
    Blob,
}
