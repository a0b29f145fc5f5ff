//! SQLite's comparison semantics, written for PostgreSQL (see the module docs of `compare`).
//!
//! Every operand becomes a [`Lite`]: how SQLite would see it, as PostgreSQL expressions. A
//! SQLite value is NULL, a number or text, so a `Lite` has a number projection (the value
//! where SQLite holds a number, NULL elsewhere) and a text projection (the value where SQLite
//! holds text); at most one of them is non-NULL for a row. Comparisons are then written on
//! the projections: `a = b` is `a.num = b.num OR a.txt = b.txt`, `a < b` adds "a is a number
//! and b text", and so on. Projections known at compile time (a literal, a column that is
//! never text) fold away, so `n > 5` is still `"n" > CAST(? AS BIGINT)`.

use super::Opd;
use super::compare::{
    binary, is_empty, is_known_non_empty, like_pattern, like_sql, null_safe_operands, value_to_text,
};
use crate::{Dialect, Sql, Value, ValueType};

const PG: Dialect = Dialect::Postgres;

/// How deep objects and arrays inside a JSON value are written as SQLite writes them.
const JSON_TEXT_DEPTH: usize = 2;

/// A text SQLite's NUMERIC affinity turns into a number (surrounding spaces, a sign, a decimal
/// point and an exponent allowed; no hexadecimal, no `Inf`).
const NUMERIC_TEXT: &str = r"'^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'";

/// `=` / `!=`: the same rules as on SQLite (`compare`), each written on the projections.
pub(crate) fn equality(eq: bool, left: &Opd, right: &Opd) -> Sql {
    let (mut l, mut r) = (Lite::of(left), Lite::of(right));
    let out = if null_safe_operands(left, right) {
        // rule 1: `a IS b` / `a IS NOT b`
        affinity(&mut l, &mut r);
        if eq { same(&l, &r) } else { differ(&l, &r) }
    } else {
        let (le, re) = (is_empty(left), is_empty(right));
        let empty = || Lite::literal(&Value::Text(String::new()));
        if le && re {
            // rule 2: `'' = ''` / `'' IS NOT ''`
            B::constant(eq)
        } else if is_known_non_empty(left) || is_known_non_empty(right) {
            // rule 3: `a = ?` / `a IS NOT ?`, an empty literal written `''`
            if le {
                l = empty();
            }
            if re {
                r = empty();
            }
            affinity(&mut l, &mut r);
            if eq { equal(&l, &r) } else { differ(&l, &r) }
        } else if le || re {
            // rule 4: `(a = '' OR a IS NULL)` / `(a IS NOT '' AND a IS NOT NULL)`
            let mut a = if le { r } else { l };
            let mut e = empty();
            affinity(&mut a, &mut e);
            if eq {
                B::any([equal(&a, &e), a.is_null()])
            } else {
                B::all([differ(&a, &e), a.not_null()])
            }
        } else if l.txt.never() && r.txt.never() {
            // rule 5 between numbers: NULL and '' are both "empty", only each other's equal
            cmp(&l.num, if eq { SAME } else { DIFFER }, &r.num)
        } else {
            // rule 5: `COALESCE(a, '') = COALESCE(b, '')` / `... IS NOT ...` (no affinity)
            l.null_as_empty();
            r.null_as_empty();
            if eq { equal(&l, &r) } else { differ(&l, &r) }
        }
    };
    out.sql()
}

pub(crate) fn ordering(op: &str, left: &Opd, right: &Opd) -> Sql {
    let (mut l, mut r) = (Lite::of(left), Lite::of(right));
    affinity(&mut l, &mut r);
    // SQLite orders NULL < numbers < text (and NULL compares as NULL)
    let cross = if op.starts_with('<') {
        B::all([l.num.not_null(), r.txt.not_null()])
    } else {
        B::all([l.txt.not_null(), r.num.not_null()])
    };
    B::any([cmp(&l.num, op, &r.num), cmp(&l.txt, op, &r.txt), cross]).sql()
}

pub(crate) fn like(negate: bool, left: &Opd, right: &Opd) -> Sql {
    let subject = match &left.lit {
        Some(Value::Null) => Sql::raw("NULL"),
        Some(v) => PG.typed_param(&Value::Text(value_to_text(v))),
        None => text(left),
    };
    let pattern = match &right.lit {
        Some(v) => like_pattern(PG, v),
        None => {
            let mut p = Sql::raw("('%' || ");
            p.push_sql(&text(right)).push(" || '%')");
            p
        }
    };
    // SQLite's LIKE folds the case of ASCII letters only; ILIKE folds every letter, which
    // only matters when the pattern has other letters (or is not known)
    let ascii = matches!(&right.lit, Some(v) if value_to_text(v).is_ascii());
    if ascii {
        return like_sql(PG.like_ci(), negate, &subject, &pattern);
    }
    like_sql("LIKE", negate, &fold_ascii(&subject), &fold_ascii(&pattern))
}

/// ASCII letters in lower case, every other character as it is (SQLite's `LIKE` folding).
fn fold_ascii(s: &Sql) -> Sql {
    PG.lower(s)
}

/// An expression (not a literal) as the text SQLite would make of it (`LIKE`, `strftime`):
/// numbers in SQLite's spelling, booleans `1`/`0`, a JSON string without its quotes.
pub(crate) fn text(opd: &Opd) -> Sql {
    Lite::of(opd).text()
}

/// An expression as a number, for `geoDistance`: NULL where SQLite would see no number in a
/// JSON value.
pub(crate) fn number(opd: &Opd) -> Sql {
    match opd.ty {
        ValueType::Number | ValueType::Real => opd.sql.clone(),
        ValueType::Bool | ValueType::Json | ValueType::JsonValue => Lite::of(opd)
            .num
            .render()
            .unwrap_or_else(|| Sql::raw("NULL")),
        _ => PG.cast(&opd.sql, crate::dialect::SqlType::Real),
    }
}

/// The ORDER BY keys of an operand: JSON values sort as on SQLite (NULL, then numbers, then
/// text), by their class first; anything else by itself.
pub(crate) fn sort_keys(opd: &Opd) -> Vec<Sql> {
    if opd.lit.is_some() || !matches!(opd.ty, ValueType::Json | ValueType::JsonValue) {
        return vec![super::compare::render(PG, opd)];
    }
    let v = Lite::of(opd);
    let (num, txt) = (
        v.num.render().unwrap_or_else(|| Sql::raw("NULL")),
        v.txt.render().unwrap_or_else(|| Sql::raw("NULL")),
    );
    let class = v.class.clone().unwrap_or_else(|| {
        let mut class = Sql::raw("CASE WHEN ");
        class
            .push_sql(&num)
            .push(" IS NOT NULL THEN 1 WHEN ")
            .push_sql(&txt)
            .push(" IS NOT NULL THEN 2 ELSE 0 END");
        class
    });
    vec![class, num, txt]
}

// ---------------------------------------------------------------------------------------------
// Operands as SQLite sees them

/// SQLite's affinity of an operand as the SQLite SQL writes it: `None` for an expression,
/// the others for a column (`Blob`: a column without a type, like `json_each`'s `value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    None,
    Blob,
    Text,
    Numeric,
}

/// One projection of a value.
#[derive(Debug, Clone)]
enum Proj {
    /// Always NULL.
    Never,
    /// A literal (a number or text, never NULL), bound as a typed parameter.
    Lit(Value),
    /// An expression, NULL where the value is not of this class.
    Expr(Sql),
    /// A BOOLEAN expression standing for SQLite's 1/0.
    Bool(Sql),
}

impl Proj {
    fn never(&self) -> bool {
        matches!(self, Proj::Never)
    }

    fn render(&self) -> Option<Sql> {
        match self {
            Proj::Never => None,
            // as SQLite's SQL writes it
            Proj::Lit(Value::Text(t)) if t.is_empty() => Some(Sql::raw("''")),
            Proj::Lit(v) => Some(PG.typed_param(v)),
            Proj::Expr(s) => Some(s.clone()),
            Proj::Bool(s) => Some(wrapped("CAST(", s, " AS INTEGER)")),
        }
    }

    /// The literal 0 or 1, as a boolean.
    fn as_bool(&self) -> Option<bool> {
        match self {
            Proj::Lit(Value::Int(n)) if *n == 0 || *n == 1 => Some(*n == 1),
            Proj::Lit(Value::Float(f)) if *f == 0.0 || *f == 1.0 => Some(*f == 1.0),
            _ => None,
        }
    }

    fn not_null(&self) -> B {
        match self {
            Proj::Never => B::False,
            Proj::Lit(_) => B::True,
            Proj::Expr(s) | Proj::Bool(s) => B::Sql(wrapped("", s, " IS NOT NULL")),
        }
    }

    fn is_null(&self) -> B {
        match self {
            Proj::Never => B::True,
            Proj::Lit(_) => B::False,
            Proj::Expr(s) | Proj::Bool(s) => B::Sql(wrapped("", s, " IS NULL")),
        }
    }

    /// `COALESCE(self, other)`.
    fn or(&self, other: &Proj) -> Proj {
        match (self, other) {
            (Proj::Never, p) | (p, Proj::Never) => p.clone(),
            (Proj::Lit(_), _) => self.clone(),
            (a, b) => {
                let mut s = Sql::raw("COALESCE(");
                s.push_sql(&a.render().unwrap_or_default())
                    .push(", ")
                    .push_sql(&b.render().unwrap_or_default())
                    .push(")");
                Proj::Expr(s)
            }
        }
    }
}

/// A value as SQLite sees it.
#[derive(Debug, Clone)]
struct Lite {
    /// The value where SQLite holds a number (booleans are 1/0).
    num: Proj,
    /// The value where SQLite holds text.
    txt: Proj,
    /// SQLite's text of `num` (what TEXT affinity or LIKE make of it).
    num_text: Proj,
    /// The whole value as text, when simpler than `txt` and `num_text` together.
    text: Option<Sql>,
    /// An expression NULL exactly where the value is NULL, when simpler than both projections.
    null_test: Option<Sql>,
    /// 0 for NULL, 1 for a number, 2 for text (sorting), when simpler than the projections.
    class: Option<Sql>,
    aff: Affinity,
}

impl Lite {
    fn null() -> Lite {
        Lite {
            num: Proj::Never,
            txt: Proj::Never,
            num_text: Proj::Never,
            text: None,
            null_test: None,
            class: None,
            aff: Affinity::None,
        }
    }

    fn literal(v: &Value) -> Lite {
        let mut out = Lite::null();
        match v {
            Value::Null => {}
            Value::Bool(b) => {
                out.num = Proj::Lit(Value::Int(i64::from(*b)));
                out.num_text = Proj::Lit(Value::Text(if *b { "1" } else { "0" }.into()));
            }
            Value::Int(_) | Value::Float(_) => {
                out.num = Proj::Lit(v.clone());
                out.num_text = Proj::Lit(Value::Text(sqlite_number_text(v)));
            }
            Value::Text(_) => out.txt = Proj::Lit(v.clone()),
            Value::Blob(b) => {
                out.txt = Proj::Lit(Value::Text(String::from_utf8_lossy(b).into_owned()));
            }
        }
        out
    }

    fn of(opd: &Opd) -> Lite {
        if let Some(v) = &opd.lit {
            return Lite::literal(v);
        }
        let s = opd.sql.clone();
        let mut out = Lite::null();
        out.null_test = Some(s.clone());
        match opd.ty {
            // `Any` expressions (bound values selected as a set) are text on PostgreSQL
            ValueType::Text | ValueType::Any => {
                out.txt = Proj::Expr(s.clone());
                out.text = Some(s);
            }
            ValueType::Number | ValueType::Real => {
                // 15 significant digits, as SQLite writes a REAL (`CAST(double AS NUMERIC)`
                // rounds so); a REAL always has a decimal point
                let text = wrapped("CAST(CAST(", &s, " AS NUMERIC) AS TEXT)");
                out.num_text = Proj::Expr(if opd.ty == ValueType::Real {
                    let mut t = wrapped("CASE WHEN ", &text, " LIKE '%.%' THEN ");
                    t.push_sql(&text)
                        .push(" ELSE ")
                        .push_sql(&text)
                        .push(" || '.0' END");
                    t
                } else {
                    text
                });
                out.num = Proj::Expr(s);
            }
            ValueType::Bool => {
                out.num_text = Proj::Expr(wrapped("CAST(CAST(", &s, " AS INTEGER) AS TEXT)"));
                out.num = Proj::Bool(s);
            }
            ValueType::JsonValue => {
                let typ = wrapped("jsonb_typeof(", &s, ")");
                let boolean = wrapped("CASE WHEN CAST(", &s, " AS BOOLEAN)");
                let mut num = Sql::raw("CASE ");
                num.push_sql(&typ)
                    .push(" WHEN 'number' THEN CAST(")
                    .push_sql(&s)
                    .push(" AS DOUBLE PRECISION) WHEN 'boolean' THEN ")
                    .push_sql(&boolean)
                    .push(" THEN 1 ELSE 0 END END");
                // objects and arrays as the JSON text SQLite holds
                let mut txt = Sql::raw("CASE WHEN ");
                txt.push_sql(&typ)
                    .push(" = 'string' THEN ")
                    .push_sql(&s)
                    .push(" #>> '{}' ELSE ")
                    .push_sql(&Dialect::pg_json_container_text(&s, JSON_TEXT_DEPTH))
                    .push(" END");
                let mut num_text = Sql::raw("CASE ");
                num_text
                    .push_sql(&typ)
                    .push(" WHEN 'number' THEN ")
                    .push_sql(&s)
                    .push(" #>> '{}' WHEN 'boolean' THEN ")
                    .push_sql(&boolean)
                    .push(" THEN '1' ELSE '0' END END");
                out.num = Proj::Expr(num);
                out.txt = Proj::Expr(txt);
                out.num_text = Proj::Expr(num_text);
                out.text = Some(PG.json_value_text(&s));
                out.null_test = Some(wrapped("NULLIF(", &typ, ", 'null')"));
                out.class = Some(wrapped(
                    "CASE ",
                    &typ,
                    " WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 \
                     WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END",
                ));
            }
            ValueType::Json => {
                // the stored document: a bare JSON number is a number, anything else its text
                let is_num = wrapped("jsonb_typeof(", &s, ") = 'number'");
                let as_text = wrapped("CAST(", &s, " AS TEXT)");
                let case = |cond: &Sql, then: &Sql| {
                    let mut c = Sql::raw("CASE WHEN ");
                    c.push_sql(cond).push(" THEN ").push_sql(then).push(" END");
                    c
                };
                out.num = Proj::Expr(case(
                    &is_num,
                    &wrapped("CAST(", &s, " AS DOUBLE PRECISION)"),
                ));
                out.txt = Proj::Expr(case(&wrapped("NOT ", &is_num, ""), &as_text));
                out.num_text = Proj::Expr(case(&is_num, &as_text));
                out.text = Some(as_text);
                let mut class = wrapped("CASE WHEN ", &s, " IS NULL THEN 0 WHEN ");
                class.push_sql(&is_num).push(" THEN 1 ELSE 2 END");
                out.class = Some(class);
            }
        }
        if opd.stored {
            out.aff = match opd.ty {
                ValueType::Text => Affinity::Text,
                ValueType::Number | ValueType::Real | ValueType::Bool | ValueType::Json => {
                    Affinity::Numeric
                }
                // the elements `json_each` gives (`tags:each`)
                ValueType::JsonValue | ValueType::Any => Affinity::Blob,
            };
        }
        out
    }

    /// The literal NULL.
    fn always_null(&self) -> bool {
        self.num.never() && self.txt.never()
    }

    /// For a literal number or text, whether it is a number.
    fn literal_is_number(&self) -> Option<bool> {
        match (&self.num, &self.txt) {
            (Proj::Lit(_), Proj::Never) => Some(true),
            (Proj::Never, Proj::Lit(_)) => Some(false),
            _ => None,
        }
    }

    /// The whole value as text (NULL where it is NULL).
    fn text(&self) -> Sql {
        if let Some(t) = &self.text {
            return t.clone();
        }
        self.txt
            .or(&self.num_text)
            .render()
            .unwrap_or_else(|| Sql::raw("NULL"))
    }

    fn is_null(&self) -> B {
        match &self.null_test {
            Some(t) => B::Sql(wrapped("", t, " IS NULL")),
            None => B::all([self.num.is_null(), self.txt.is_null()]),
        }
    }

    fn not_null(&self) -> B {
        match &self.null_test {
            Some(t) => B::Sql(wrapped("", t, " IS NOT NULL")),
            None => B::any([self.num.not_null(), self.txt.not_null()]),
        }
    }

    /// SQLite's NUMERIC affinity: text that looks like a number becomes that number.
    fn apply_numeric(&mut self) {
        match self.txt.clone() {
            Proj::Lit(Value::Text(s)) => {
                if let Some(n) = sqlite_number(&s) {
                    self.num_text = Proj::Lit(Value::Text(sqlite_number_text(&n)));
                    self.num = Proj::Lit(n);
                    self.txt = Proj::Never;
                }
            }
            Proj::Expr(t) => {
                let mut looks = t.clone();
                looks.push(" ~ ").push(NUMERIC_TEXT);
                let mut as_num = Sql::raw("CASE WHEN ");
                as_num
                    .push_sql(&looks)
                    .push(" THEN CAST(")
                    .push_sql(&t)
                    .push(" AS DOUBLE PRECISION) END");
                let mut rest = Sql::raw("CASE WHEN ");
                rest.push_sql(&looks)
                    .push(" THEN NULL ELSE ")
                    .push_sql(&t)
                    .push(" END");
                self.num = self.num.or(&Proj::Expr(as_num));
                self.txt = Proj::Expr(rest);
                self.text = None;
            }
            _ => {}
        }
    }

    /// SQLite's TEXT affinity: a number becomes its text.
    fn apply_text(&mut self) {
        if self.num.never() {
            return;
        }
        self.txt = self.txt.or(&self.num_text);
        self.num = Proj::Never;
    }

    /// SQLite's `COALESCE(x, '')`: NULL becomes the empty text (and there is no affinity).
    fn null_as_empty(&mut self) {
        let empty = Proj::Lit(Value::Text(String::new()));
        match (&self.num, &self.txt) {
            (Proj::Lit(_), _) | (_, Proj::Lit(_)) => {}
            (Proj::Never, txt) => self.txt = txt.or(&empty),
            (num, txt) => {
                let mut s = Sql::raw("CASE WHEN ");
                s.push_sql(&num.render().unwrap_or_default())
                    .push(" IS NULL THEN ")
                    .push_sql(&txt.or(&empty).render().unwrap_or_default())
                    .push(" END");
                self.txt = Proj::Expr(s);
            }
        }
        self.null_test = None;
        self.text = None;
        self.aff = Affinity::None;
    }
}

/// The affinity SQLite applies to both operands before comparing them
/// (`sqlite3CompareAffinity`): between two columns NUMERIC if either is numeric, else none;
/// between a column and an expression the column's.
fn affinity(a: &mut Lite, b: &mut Lite) {
    use Affinity::*;
    match (a.aff, b.aff) {
        (None, None) | (Blob | Text, Blob | Text) => {}
        // a NUMERIC column's own values went through it when stored (its text never looks
        // like a number)
        (Numeric, _) | (_, Numeric) => {
            for v in [a, b] {
                if v.aff != Numeric {
                    v.apply_numeric();
                }
            }
        }
        (Text, None) => b.apply_text(),
        (None, Text) => a.apply_text(),
        (Blob, None) | (None, Blob) => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Comparisons of values

/// SQLite's `a = b`.
fn equal(a: &Lite, b: &Lite) -> B {
    B::any([cmp(&a.num, "=", &b.num), cmp(&a.txt, "=", &b.txt)])
}

/// SQLite's `a IS b`.
fn same(a: &Lite, b: &Lite) -> B {
    null_safe(a, b, SAME)
}

/// SQLite's `a IS NOT b`.
fn differ(a: &Lite, b: &Lite) -> B {
    null_safe(a, b, DIFFER)
}

/// `a IS b` ([`SAME`]) or `a IS NOT b` ([`DIFFER`]).
fn null_safe(a: &Lite, b: &Lite, op: &str) -> B {
    let same = op == SAME;
    let num = || cmp(&a.num, op, &b.num);
    let txt = || cmp(&a.txt, op, &b.txt);
    let classes = (a.literal_is_number(), b.literal_is_number());
    if a.always_null() || b.always_null() {
        let other = if a.always_null() { b } else { a };
        return if same {
            other.is_null()
        } else {
            other.not_null()
        };
    }
    match classes {
        // against a literal only its class matters: the other projection is NULL where it holds
        (Some(true), _) | (_, Some(true)) => num(),
        (Some(false), _) | (_, Some(false)) => txt(),
        _ if same => B::all([num(), txt()]),
        _ => B::any([num(), txt()]),
    }
}

const SAME: &str = "IS NOT DISTINCT FROM";
const DIFFER: &str = "IS DISTINCT FROM";

/// `a op b` on one projection: a comparison (NULL, so false, unless both hold), or [`SAME`] /
/// [`DIFFER`] (null-safe).
fn cmp(a: &Proj, op: &str, b: &Proj) -> B {
    let null_safe = op == SAME || op == DIFFER;
    match (a, b) {
        (Proj::Never, Proj::Never) if null_safe => B::constant(op == SAME),
        (Proj::Never, p) | (p, Proj::Never) if null_safe => {
            if op == SAME {
                p.is_null()
            } else {
                p.not_null()
            }
        }
        (Proj::Never, _) | (_, Proj::Never) => B::False,
        // `flag = true` rather than `CAST(flag AS INTEGER) = 1`, for the index
        (Proj::Bool(x), l) | (l, Proj::Bool(x))
            if (op == "=" || null_safe) && l.as_bool().is_some() =>
        {
            B::Sql(binary(x, op, &bool_param(l)))
        }
        _ => B::Sql(binary(
            &a.render().unwrap_or_default(),
            op,
            &b.render().unwrap_or_default(),
        )),
    }
}

fn bool_param(p: &Proj) -> Sql {
    PG.typed_param(&Value::Bool(p.as_bool().unwrap_or(false)))
}

/// A boolean SQL expression, with constants folded.
#[derive(Debug, Clone)]
enum B {
    True,
    False,
    Sql(Sql),
}

impl B {
    fn constant(v: bool) -> B {
        if v { B::True } else { B::False }
    }

    fn any<const N: usize>(items: [B; N]) -> B {
        B::join(items, B::True, " OR ")
    }

    fn all<const N: usize>(items: [B; N]) -> B {
        B::join(items, B::False, " AND ")
    }

    /// `absorbing` decides the whole (TRUE for OR, FALSE for AND); the other constant drops out.
    fn join<const N: usize>(items: [B; N], absorbing: B, sep: &str) -> B {
        let absorbs = |b: &B| matches!((b, &absorbing), (B::True, B::True) | (B::False, B::False));
        if items.iter().any(absorbs) {
            return absorbing;
        }
        let parts: Vec<Sql> = items
            .into_iter()
            .filter_map(|b| match b {
                B::Sql(s) => Some(s),
                _ => None,
            })
            .collect();
        match parts.len() {
            // every item was the neutral constant
            0 => match absorbing {
                B::True => B::False,
                _ => B::True,
            },
            1 => B::Sql(parts.into_iter().next().unwrap_or_default()),
            _ => B::Sql(wrapped("(", &Sql::join(parts, sep), ")")),
        }
    }

    fn sql(self) -> Sql {
        match self {
            B::True => Sql::raw("TRUE"),
            B::False => Sql::raw("FALSE"),
            B::Sql(s) => s,
        }
    }
}

fn wrapped(before: &str, s: &Sql, after: &str) -> Sql {
    let mut out = Sql::raw(before);
    out.push_sql(s).push(after);
    out
}

// ---------------------------------------------------------------------------------------------
// SQLite's numbers and their text

/// The number SQLite's NUMERIC affinity makes of a text, if any: an integer when it has no
/// decimal point or exponent and fits, else a real.
pub(crate) fn sqlite_number(s: &str) -> Option<Value> {
    let t = s.trim_matches([' ', '\t', '\n', '\u{b}', '\u{c}', '\r']);
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    let mut integer = true;
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
        integer = false;
    }
    if mantissa == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
        integer = false;
    }
    if i != b.len() {
        return None;
    }
    if integer && let Ok(n) = t.parse::<i64>() {
        return Some(Value::Int(n));
    }
    t.parse::<f64>().ok().map(Value::Float)
}

/// How SQLite writes a number as text: integers as such, reals with up to 15 significant
/// digits and always a decimal point or an exponent (`5.0`, `0.1`, `1.0e+15`, `1.0e-05`).
pub(crate) fn sqlite_number_text(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Float(f) => sqlite_real_text(*f),
        other => value_to_text(other),
    }
}

fn sqlite_real_text(f: f64) -> String {
    if f.is_nan() {
        return String::new();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return "0.0".to_owned();
    }
    // 15 significant digits, as `%!.15g`
    let sci = format!("{:.14e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..15).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}.{rest}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int, frac) = digits.split_at(int_len);
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reals_are_written_as_sqlite_writes_them() {
        // from `SELECT CAST(x AS TEXT)` on SQLite 3.51
        for (f, text) in [
            (5.0, "5.0"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (1e15, "1.0e+15"),
            (1e14, "100000000000000.0"),
            (123456789012345.0, "123456789012345.0"),
            (1234567890123456.0, "1.23456789012346e+15"),
            (1e-4, "0.0001"),
            (1e-5, "1.0e-05"),
            (0.1 + 0.2, "0.3"),
            (-2.5, "-2.5"),
            (1.5e300, "1.5e+300"),
            (100.0, "100.0"),
            (1.23456789012345, "1.23456789012345"),
            (98765.43210123457, "98765.4321012346"),
            (0.000123, "0.000123"),
        ] {
            assert_eq!(sqlite_real_text(f), text, "{f}");
        }
    }

    #[test]
    fn numeric_affinity_reads_what_sqlite_reads() {
        for (s, v) in [
            ("5", Some(Value::Int(5))),
            (" 5 ", Some(Value::Int(5))),
            ("+5", Some(Value::Int(5))),
            ("-0", Some(Value::Int(0))),
            ("5.", Some(Value::Float(5.0))),
            (".5e1", Some(Value::Float(5.0))),
            ("5e0", Some(Value::Float(5.0))),
            ("2.50", Some(Value::Float(2.5))),
            ("99999999999999999999", Some(Value::Float(1e20))),
            ("", None),
            (".", None),
            ("5e", None),
            ("0x5", None),
            ("inf", None),
            ("five", None),
            ("5 5", None),
        ] {
            assert_eq!(sqlite_number(s), v, "{s:?}");
        }
    }
}
