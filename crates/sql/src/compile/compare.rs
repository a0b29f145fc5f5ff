//! Comparison semantics: one comparison of two single-valued operands, exactly as PocketBase's
//! `resolveEqualExpr` / `buildResolversExpr` (`tools/search/filter.go`), in both dialects.
//!
//! # `=` and `!=`
//! In order (first match wins):
//! 1. Either side is JSON ([`ValueType::Json`]) or a function without null fallback
//!    (geoDistance): null-safe `a IS b` / `a IS NOT b` (PostgreSQL: `IS [NOT] DISTINCT FROM`).
//! 2. Both sides are empty literals (`''` or `null`): `'' = ''` / `'' IS NOT ''`.
//! 3. One side is a known non-empty literal: direct `a = ?` / `a IS NOT ?` (an empty literal
//!    on the other side is written `''`).
//! 4. One side is an empty literal: `(a = '' OR a IS NULL)` / `(a IS NOT '' AND a IS NOT NULL)`.
//! 5. Otherwise: `COALESCE(a, '') = COALESCE(b, '')` / `... IS NOT ...`.
//!
//! # PostgreSQL typing
//! PostgreSQL will not compare a number with text, nor COALESCE a number with `''`, and must
//! know each parameter's type. So on PostgreSQL, before comparing, the two sides are brought to
//! one *class* from their [`ValueType`]s:
//! - literals are converted to the other side's type when that is lossless (`'5'` against a
//!   number becomes 5, `1` or `'1'` against a bool becomes TRUE, `''` against a number or bool becomes
//!   NULL); otherwise the typed side is cast to TEXT and the comparison is textual;
//! - two typed expressions of different types are compared as TEXT (number vs bool: the bool
//!   is cast to INTEGER); `Any` adopts the other side's type;
//! - `Json` operands are text on PostgreSQL (see [`crate::Dialect::json_extract`]); against a
//!   number they are cast with a guard: `CASE WHEN x ~ '<number regex>' THEN CAST(x AS DOUBLE
//!   PRECISION) END`;
//! - every parameter is written `CAST(? AS <type>)`.
//!
//! For the number and bool classes the empty forms use NULL instead of `''` (rule 4 becomes
//! `a IS NULL` / `a IS NOT NULL`, rule 5 becomes `a IS [NOT] DISTINCT FROM b`). That matches
//! SQLite's results: a number is never equal to `''` there either.
//! An expression the resolver types `Any` is assumed to be text on PostgreSQL.
//!
//! # `~` and `!~`
//! `a LIKE ? ESCAPE '\'` (PostgreSQL `ILIKE`, both sides as text). A literal pattern without an
//! unescaped `%` has its `\`, `%`, `_` escaped and is wrapped as `%text%`; a non-literal pattern
//! is wrapped in SQL: `('%' || b || '%')`. `!~` is `(a NOT LIKE p ESCAPE '\' OR a IS NULL)`.

use super::{Fallback, Opd};
use crate::dialect::SqlType;
use crate::filter::CmpOp;
use crate::{Dialect, Sql, Value, ValueType};

/// Compiles `left op right` for two single-valued operands.
pub(crate) fn compare(d: Dialect, left: &Opd, op: CmpOp, right: &Opd) -> Sql {
    match op {
        CmpOp::Eq => equality(d, true, left, right),
        CmpOp::Neq => equality(d, false, left, right),
        CmpOp::Like => like(d, false, left, right),
        CmpOp::NotLike => like(d, true, left, right),
        CmpOp::Lt => ordering(d, "<", left, right),
        CmpOp::Lte => ordering(d, "<=", left, right),
        CmpOp::Gt => ordering(d, ">", left, right),
        CmpOp::Gte => ordering(d, ">=", left, right),
    }
}

/// An operand as SQL: literals become bound parameters (typed on PostgreSQL), NULL the keyword.
pub(crate) fn render(d: Dialect, opd: &Opd) -> Sql {
    match &opd.lit {
        Some(v) => d.typed_param(v),
        None => opd.sql.clone(),
    }
}

fn is_empty(opd: &Opd) -> bool {
    matches!(&opd.lit, Some(Value::Null))
        || matches!(&opd.lit, Some(Value::Text(s)) if s.is_empty())
}

fn is_known_non_empty(opd: &Opd) -> bool {
    opd.fallback != Fallback::Enforced && opd.lit.is_some() && !is_empty(opd)
}

fn equality(d: Dialect, eq: bool, left: &Opd, right: &Opd) -> Sql {
    let no_coalesce = [left, right]
        .iter()
        .any(|o| o.ty == ValueType::Json || o.fallback == Fallback::Disabled);
    let (l, r, class) = unify(d, left, right);
    let null_safe = if eq {
        d.null_safe_eq()
    } else {
        d.null_safe_neq()
    };
    // PB-COMPAT: `!=` is always the null-safe operator, so `'x' != NULL` is true.
    let op = if eq { "=" } else { null_safe };
    let (ls, rs) = (render(d, &l), render(d, &r));

    if no_coalesce {
        return binary(&ls, null_safe, &rs);
    }
    let (le, re) = (is_empty(&l), is_empty(&r));
    // PostgreSQL cannot compare numbers or booleans with '': use NULL as "empty" there.
    let texty = d == Dialect::Sqlite || !matches!(class, ValueType::Number | ValueType::Bool);
    let empty = Sql::raw("''");
    let null_check = |s: &Sql| {
        let mut out = s.clone();
        out.push(if eq { " IS NULL" } else { " IS NOT NULL" });
        out
    };

    if le && re {
        return binary(&empty, op, &empty);
    }
    if is_known_non_empty(&l) || is_known_non_empty(&r) {
        if !texty && (le || re) {
            return null_check(if le { &rs } else { &ls });
        }
        let ls = if le { empty.clone() } else { ls };
        let rs = if re { empty.clone() } else { rs };
        return binary(&ls, op, &rs);
    }
    if le || re {
        let other = if le { &rs } else { &ls };
        if !texty {
            return null_check(other);
        }
        let (first, second) = if le { (&empty, other) } else { (other, &empty) };
        let mut out = Sql::raw("(");
        out.push_sql(&binary(first, op, second))
            .push(if eq { " OR " } else { " AND " })
            .push_sql(&null_check(other))
            .push(")");
        return out;
    }
    if !texty {
        return binary(&ls, null_safe, &rs);
    }
    binary(&coalesce_empty(&ls), op, &coalesce_empty(&rs))
}

fn ordering(d: Dialect, op: &str, left: &Opd, right: &Opd) -> Sql {
    let (l, r, _) = unify(d, left, right);
    binary(&render(d, &l), op, &render(d, &r))
}

fn like(d: Dialect, negate: bool, left: &Opd, right: &Opd) -> Sql {
    let subject = match &left.lit {
        Some(Value::Null) => Sql::raw("NULL"),
        Some(v) => d.typed_param(&Value::Text(value_to_text(v))),
        None => as_text(d, left),
    };
    let pattern = match &right.lit {
        // PB-COMPAT: a NULL pattern is the empty string, so `~ null` matches any non-NULL value.
        Some(v) => d.typed_param(&Value::Text(wrap_like(&value_to_text(v)))),
        None => {
            let mut p = Sql::raw("('%' || ");
            p.push_sql(&as_text(d, right)).push(" || '%')");
            p
        }
    };
    let mut out = Sql::new();
    if negate {
        out.push("(")
            .push_sql(&subject)
            .push(" NOT ")
            .push(d.like_ci())
            .push(" ")
            .push_sql(&pattern)
            .push(" ESCAPE '\\' OR ")
            .push_sql(&subject)
            .push(" IS NULL)");
    } else {
        out.push_sql(&subject)
            .push(" ")
            .push(d.like_ci())
            .push(" ")
            .push_sql(&pattern)
            .push(" ESCAPE '\\'");
    }
    out
}

fn as_text(d: Dialect, opd: &Opd) -> Sql {
    if d == Dialect::Postgres && opd.ty != ValueType::Text && opd.ty != ValueType::Json {
        d.cast(&opd.sql, SqlType::Text)
    } else {
        opd.sql.clone()
    }
}

fn binary(l: &Sql, op: &str, r: &Sql) -> Sql {
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
fn value_to_text(v: &Value) -> String {
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

// ---------------------------------------------------------------------------------------------
// PostgreSQL typing

/// Brings both operands to one comparison class (PostgreSQL only; SQLite compares loosely and
/// returns the operands unchanged with class `Any`).
fn unify(d: Dialect, left: &Opd, right: &Opd) -> (Opd, Opd, ValueType) {
    let (mut l, mut r) = (left.clone(), right.clone());
    if d == Dialect::Sqlite {
        return (l, r, ValueType::Any);
    }
    let class = match (l.lit.is_some(), r.lit.is_some()) {
        (false, false) => unify_exprs(&mut l, &mut r),
        (true, false) => coerce_literal(&mut l, &mut r),
        (false, true) => coerce_literal(&mut r, &mut l),
        (true, true) => unify_literals(&mut l, &mut r),
    };
    (l, r, class)
}

const NUMBER_REGEX: &str = r"^-{0,1}[0-9]+(\.[0-9]+){0,1}$";

fn cast_expr(opd: &mut Opd, ty: SqlType) {
    opd.sql = Dialect::Postgres.cast(&opd.sql, ty);
}

fn json_to_number(opd: &mut Opd) {
    let mut out = Sql::raw("(CASE WHEN ");
    out.push_sql(&opd.sql)
        .push(&format!(" ~ '{NUMBER_REGEX}' THEN CAST("))
        .push_sql(&opd.sql)
        .push(" AS DOUBLE PRECISION) END)");
    opd.sql = out;
}

fn unify_exprs(l: &mut Opd, r: &mut Opd) -> ValueType {
    use ValueType::*;
    let texty = |t: ValueType| if t == Json { Text } else { t };
    match (l.ty, r.ty) {
        (a, b) if texty(a) == texty(b) => texty(a),
        (Any, t) | (t, Any) => texty(t),
        (Number, Bool) => {
            cast_expr(r, SqlType::Integer);
            Number
        }
        (Bool, Number) => {
            cast_expr(l, SqlType::Integer);
            Number
        }
        (Json, Number) => {
            json_to_number(l);
            Number
        }
        (Number, Json) => {
            json_to_number(r);
            Number
        }
        _ => {
            for o in [l, r] {
                if !matches!(o.ty, Text | Json) {
                    cast_expr(o, SqlType::Text);
                }
            }
            Text
        }
    }
}

fn parse_number(s: &str) -> Option<Value> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(Value::Int(n));
    }
    match t.parse::<f64>() {
        Ok(f)
            if f.is_finite()
                && !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
        {
            Some(Value::Float(f))
        }
        _ => None,
    }
}

/// `lit` is a literal, `expr` is not: convert the literal to the expression's type when that is
/// lossless, else compare as text.
fn coerce_literal(lit: &mut Opd, expr: &mut Opd) -> ValueType {
    use ValueType::*;
    let Some(value) = lit.lit.clone() else {
        return Any;
    };
    let mut set = |v: Value| lit.lit = Some(v);
    match (expr.ty, value) {
        (Any, v) => literal_class(&v),
        (_, Value::Null) => expr.ty,
        (Text, v) => {
            if !matches!(v, Value::Text(_)) {
                set(Value::Text(value_to_text(&v)));
            }
            Text
        }
        (Number, Value::Int(_) | Value::Float(_)) => Number,
        (Number, Value::Bool(b)) => {
            set(Value::Int(i64::from(b)));
            Number
        }
        (Number | Bool, Value::Text(s)) if s.is_empty() => {
            set(Value::Null);
            expr.ty
        }
        (Number, Value::Text(s)) => match parse_number(&s) {
            Some(n) => {
                set(n);
                Number
            }
            None => {
                cast_expr(expr, SqlType::Text);
                Text
            }
        },
        (Bool, Value::Bool(_)) => Bool,
        (Bool, Value::Int(n)) if n == 0 || n == 1 => {
            set(Value::Bool(n == 1));
            Bool
        }
        (Bool, Value::Float(f)) if f == 0.0 || f == 1.0 => {
            set(Value::Bool(f == 1.0));
            Bool
        }
        (Bool, Value::Int(_) | Value::Float(_)) => {
            cast_expr(expr, SqlType::Integer);
            Number
        }
        // SQLite (numeric affinity) equates a boolean column with '1'/'0' but not 'true'
        (Bool, Value::Text(s)) => match s.trim() {
            "1" => {
                set(Value::Bool(true));
                Bool
            }
            "0" => {
                set(Value::Bool(false));
                Bool
            }
            _ => {
                cast_expr(expr, SqlType::Text);
                Text
            }
        },
        (Json, Value::Int(_) | Value::Float(_)) => {
            json_to_number(expr);
            Number
        }
        (Json, Value::Bool(b)) => {
            // jsonb_extract_path_text spells JSON booleans `true` / `false`
            set(Value::Text(if b { "true" } else { "false" }.to_owned()));
            Text
        }
        (Json, v) => {
            set(Value::Text(value_to_text(&v)));
            Text
        }
        (_, v) => {
            set(Value::Text(value_to_text(&v)));
            if !matches!(expr.ty, Text | Json) {
                cast_expr(expr, SqlType::Text);
            }
            Text
        }
    }
}

fn literal_class(v: &Value) -> ValueType {
    match v {
        Value::Null | Value::Blob(_) => ValueType::Any,
        Value::Bool(_) => ValueType::Bool,
        Value::Int(_) | Value::Float(_) => ValueType::Number,
        Value::Text(_) => ValueType::Text,
    }
}

fn unify_literals(l: &mut Opd, r: &mut Opd) -> ValueType {
    use ValueType::*;
    let (Some(a), Some(b)) = (l.lit.clone(), r.lit.clone()) else {
        return Any;
    };
    match (literal_class(&a), literal_class(&b)) {
        (x, y) if x == y => x,
        (Any, t) | (t, Any) => t,
        (Number, Text) if parse_number(value_to_text(&b).as_str()).is_some() => {
            r.lit = parse_number(&value_to_text(&b));
            Number
        }
        (Text, Number) if parse_number(value_to_text(&a).as_str()).is_some() => {
            l.lit = parse_number(&value_to_text(&a));
            Number
        }
        _ => {
            l.lit = Some(Value::Text(value_to_text(&a)));
            r.lit = Some(Value::Text(value_to_text(&b)));
            Text
        }
    }
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
