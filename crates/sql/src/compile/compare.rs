//! Comparison semantics: one comparison of two single-valued operands, exactly as PocketBase's
//! `resolveEqualExpr` / `buildResolversExpr` (`tools/search/filter.go`), in both dialects.
//!
//! # `=` and `!=`
//! In order (first match wins):
//! 1. Either side is JSON (a document, [`ValueType::Json`], or a path into one,
//!    [`ValueType::JsonValue`], but not an element of `:each`) or a function without null
//!    fallback (geoDistance): null-safe `a IS b` / `a IS NOT b` (PostgreSQL: `IS [NOT]
//!    DISTINCT FROM`). PocketBase's `NoCoalesce`: `meta.x = ''` is false where `x` is missing,
//!    `meta.x != ''` true.
//! 2. Both sides are empty literals (`''` or `null`): `'' = ''` / `'' IS NOT ''`.
//! 3. One side is a known non-empty literal: direct `a = ?` / `a IS NOT ?` (an empty literal
//!    on the other side is written `''`).
//! 4. One side is an empty literal: `(a = '' OR a IS NULL)` / `(a IS NOT '' AND a IS NOT NULL)`.
//! 5. Otherwise: `COALESCE(a, '') = COALESCE(b, '')` / `... IS NOT ...`.
//!
//! `<`, `<=`, `>`, `>=` are `a op b` on the operands as they are.
//!
//! # What the SQLite SQL means
//! SQLite, which PocketBase runs on, defines the results. It compares values of different
//! storage classes by class: NULL < numbers (INTEGER, REAL) < TEXT, so a number never equals
//! a text (`'5' = 5` is false, `1 = '1'` is false) and any text is greater than any number.
//! Booleans are the integers 1 and 0 (`flag = 'false'` is false, `flag = '1'` is true).
//! `json_extract` types what it returns by the JSON: a number, a text, 1/0 for `true`/`false`,
//! NULL for `null`, the JSON text of an object or array ([`ValueType::JsonValue`]). Before
//! comparing, SQLite applies an *affinity* (`sqlite3CompareAffinity`): a stored column has
//! its column's ([`crate::Operand::Stored`]: TEXT for text columns, NUMERIC for number, bool
//! and JSON columns, none for `json_each` elements), any other expression none; between a
//! column and an expression the column's applies, between two columns NUMERIC if either is
//! numeric. NUMERIC affinity turns a text that looks like a number into that number
//! (`n = '5'` is true for 5, `n > title` compares `title = '10'` as 10); TEXT affinity turns
//! a number into its text as SQLite writes it. Number literals are REALs, as PocketBase binds
//! them (float64): `title = 2` compares with `'2.0'` (false for `'2'`), `title > 2.5` with
//! `'2.5'`, while `title:lower = 2` (no affinity) is false whatever the title. COALESCE
//! (rule 5) and LIKE take the affinity away; LIKE compares the text of both sides (a literal
//! pattern `2` is `%2%`).
//!
//! # PostgreSQL: the same results
//! PostgreSQL types every expression and compares only like with like, so the SQLite SQL
//! cannot be written there as is. `pg` writes each comparison on *projections* of the
//! operands, as SQLite would see them: where the value is a number (booleans 1/0), where it is
//! text; NULL otherwise. `a = b` is `a.num = b.num OR a.txt = b.txt`, `a < b` also holds when
//! a is a number and b a text, `IS` compares both projections null-safely. Affinity is applied
//! first, as above (a literal at compile time; a text column or JSON text through a guarded
//! `CASE WHEN x ~ '<number>' THEN CAST(x AS DOUBLE PRECISION) END`). JSON paths are `jsonb`
//! there ([`crate::Dialect::json_extract_value`]) and branch on `jsonb_typeof`; a whole JSON
//! document is a number when it is a bare JSON number and its JSON text otherwise. The rules
//! 1-5 above pick the same form on both databases. Projections known at compile time fold
//! away, so the usual comparisons keep their shape (`"n" > CAST($1 AS BIGINT)`,
//! `"title" = CAST($1 AS TEXT)`, `"flag" = CAST($1 AS BOOLEAN)`), and one that can never
//! hold is `FALSE` (`flag = 'false'`, `1 = '1'`, `views = 'abc'`). Every parameter is written
//! `CAST(? AS <type>)`. Texts compare and sort by the database's collation: a database with
//! the C collation (`C.UTF-8`) orders them as SQLite does, byte by byte.
//!
//! A JSON object or array compares as the JSON text SQLite holds, which PostgreSQL writes
//! otherwise (`{"b": 1, "aa": 2}`: spaces, shorter keys first): there it is written compact,
//! keys in byte order, as oxbase and PocketBase store it, three levels deep (deeper values as
//! PostgreSQL writes them). Known differences left: a REAL is
//! written with 15 significant digits in both, but from 1e15 up or below 1e-4 SQLite writes an
//! exponent (`1.0e+15`) where PostgreSQL writes the digits; numbers past 2^53 are doubles on
//! PostgreSQL.
//!
//! # `~` and `!~`
//! `a LIKE ? ESCAPE '\'`, both sides as SQLite's text of them (numbers as SQLite writes them,
//! booleans `1`/`0`, a JSON string without its quotes). A literal pattern without an
//! unescaped `%` has its `\`, `%`, `_` escaped and is wrapped as `%text%`; a non-literal pattern
//! is wrapped in SQL: `('%' || b || '%')`; a `null` pattern is NULL, so `~ null` and `!~ null` match
//! nothing. `!~` is `a NOT LIKE p ESCAPE '\'`, false where `a` is NULL (as in PocketBase).
//! SQLite's LIKE ignores the case of ASCII letters only: PostgreSQL uses `ILIKE` for an ASCII
//! literal pattern, and otherwise `LIKE` on both sides with their ASCII letters lowered
//! ([`crate::Dialect::lower`], also `:lower`).

use super::{Fallback, Opd};
use crate::{Dialect, Sql, Value, ValueType};

/// An operand as SQL: literals become bound parameters (typed on PostgreSQL), NULL the keyword.
pub(crate) fn render(d: Dialect, opd: &Opd) -> Sql {
    match &opd.lit {
        Some(v) => d.typed_param(v),
        None => opd.sql.clone(),
    }
}

/// A literal `''` or `null`.
pub(crate) fn is_empty(opd: &Opd) -> bool {
    matches!(&opd.lit, Some(Value::Null))
        || matches!(&opd.lit, Some(Value::Text(s)) if s.is_empty())
}

/// A literal that is neither `''` nor `null` (and not a strftime result).
pub(crate) fn is_known_non_empty(opd: &Opd) -> bool {
    opd.fallback != Fallback::Enforced && opd.lit.is_some() && !is_empty(opd)
}

/// Whether `=`/`!=` use the null-safe operator without COALESCE (rule 1).
pub(crate) fn null_safe_operands(left: &Opd, right: &Opd) -> bool {
    [left, right].iter().any(|o| {
        o.fallback == Fallback::Disabled
            || o.ty == ValueType::Json
            // a JSON path, not an element of `:each` (stored: json_each's column)
            || (o.ty == ValueType::JsonValue && !o.stored)
    })
}

// SQLite

const SQLITE: Dialect = Dialect::Sqlite;

pub(super) fn equality(eq: bool, l: &Opd, r: &Opd) -> Sql {
    let null_safe = if eq { "IS" } else { "IS NOT" };
    // PB-COMPAT: `!=` is always the null-safe operator, so `'x' != NULL` is true.
    let op = if eq { "=" } else { null_safe };
    let (ls, rs) = (render(SQLITE, l), render(SQLITE, r));

    if null_safe_operands(l, r) {
        return binary(&ls, null_safe, &rs);
    }
    let (le, re) = (is_empty(l), is_empty(r));
    let empty = Sql::raw("''");
    let null_check = |s: &Sql| {
        let mut out = s.clone();
        out.push(if eq { " IS NULL" } else { " IS NOT NULL" });
        out
    };

    if le && re {
        return binary(&empty, op, &empty);
    }
    if is_known_non_empty(l) || is_known_non_empty(r) {
        let ls = if le { empty.clone() } else { ls };
        let rs = if re { empty.clone() } else { rs };
        return binary(&ls, op, &rs);
    }
    if le || re {
        let other = if le { &rs } else { &ls };
        let (first, second) = if le { (&empty, other) } else { (other, &empty) };
        let mut out = Sql::raw("(");
        out.push_sql(&binary(first, op, second))
            .push(if eq { " OR " } else { " AND " })
            .push_sql(&null_check(other))
            .push(")");
        return out;
    }
    binary(&coalesce_empty(&ls), op, &coalesce_empty(&rs))
}

pub(super) fn ordering(op: &str, l: &Opd, r: &Opd) -> Sql {
    binary(&render(SQLITE, l), op, &render(SQLITE, r))
}

pub(super) fn like(negate: bool, left: &Opd, right: &Opd) -> Sql {
    let subject = match &left.lit {
        Some(Value::Null) => Sql::raw("NULL"),
        Some(v) => Sql::param(Value::Text(value_to_text(v))),
        None => left.sql.clone(),
    };
    let pattern = match &right.lit {
        Some(v) => like_pattern(SQLITE, v),
        None => {
            let mut p = Sql::raw("('%' || ");
            p.push_sql(&right.sql).push(" || '%')");
            p
        }
    };
    like_sql(SQLITE.like_ci(), negate, &subject, &pattern)
}

/// PB-COMPAT: a NULL pattern stays NULL (PocketBase writes `x LIKE ('%' || NULL || '%')`), so
/// `~ null` and `!~ null` match nothing.
pub(crate) fn like_pattern(d: Dialect, v: &Value) -> Sql {
    match v {
        Value::Null => Sql::raw("NULL"),
        v => d.typed_param(&Value::Text(wrap_like(&value_to_text(v)))),
    }
}

/// `subject [NOT] <like> pattern ESCAPE '\'`.
// PB-COMPAT: `!~` is a plain NOT LIKE, as in PocketBase: it does not hold where the subject is
// NULL (an empty relation, a missing JSON key).
pub(crate) fn like_sql(like: &str, negate: bool, subject: &Sql, pattern: &Sql) -> Sql {
    let mut out = subject.clone();
    out.push(if negate { " NOT " } else { " " })
        .push(like)
        .push(" ")
        .push_sql(pattern)
        .push(" ESCAPE '\\'");
    out
}

pub(crate) fn binary(l: &Sql, op: &str, r: &Sql) -> Sql {
    let mut out = l.clone();
    out.push(" ").push(op).push(" ").push_sql(r);
    out
}

fn coalesce_empty(s: &Sql) -> Sql {
    let mut out = Sql::raw("COALESCE(");
    out.push_sql(s).push(", '')");
    out
}

/// The text form of a literal: `1`/`0` for booleans (SQLite stores booleans as integers).
pub(crate) fn value_to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(s) => s.clone(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Wraps a literal LIKE pattern as `%...%` unless it has an unescaped `%`, escaping `\`, `%`
/// and `_` that are not escaped yet.
// PB-COMPAT: same rules as PocketBase's `wrapLikeParams`.
pub(crate) fn wrap_like(s: &str) -> String {
    if contains_unescaped_percent(s) {
        return s.to_owned();
    }
    let mut out: Vec<char> = Vec::with_capacity(s.len() + 4);
    // walk backwards: a special character needs a backslash unless one precedes it already
    let mut pending = false;
    for c in s.chars().rev() {
        if pending {
            if c != '\\' {
                out.push('\\');
            }
            pending = false;
        } else {
            pending = matches!(c, '\\' | '%' | '_');
        }
        out.push(c);
    }
    if pending {
        out.push('\\');
    }
    out.reverse();
    let mut wrapped = String::with_capacity(out.len() + 2);
    wrapped.push('%');
    wrapped.extend(out);
    wrapped.push('%');
    wrapped
}

fn contains_unescaped_percent(s: &str) -> bool {
    let mut prev = '\0';
    for c in s.chars() {
        if c == '%' && prev != '\\' {
            return true;
        }
        prev = if c == '\\' && prev == '\\' { '\0' } else { c };
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_wrapped_and_escaped_like_pocketbase() {
        assert_eq!(wrap_like("abc"), "%abc%");
        assert_eq!(wrap_like("a_b"), r"%a\_b%");
        assert_eq!(wrap_like(r"50\%"), r"%50\%%");
        assert_eq!(wrap_like(r"a\b"), r"%a\\b%");
        assert_eq!(wrap_like("_"), r"%\_%");
        assert_eq!(wrap_like("a%"), "a%");
        assert_eq!(wrap_like(""), "%%");
    }
}
