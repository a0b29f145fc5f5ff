//! The functions of the filter language (PocketBase's `TokenFunctions`):
//!
//! - `geoDistance(lonA, latA, lonB, latB)`: Haversine distance in kilometres. Arguments are
//!   fields or numbers and must be single-valued. The cosine sum is clamped to [-1, 1] before
//!   `acos` (PostgreSQL raises an error outside it, SQLite returns NULL). Compared without
//!   COALESCE (null-safe), like PocketBase.
//! - `strftime(format, [timeValue, modifiers...])`: SQLite's `strftime`, result normalised
//!   with COALESCE in `=`/`!=` (never treated as a known non-empty value). At most 10
//!   arguments. A multi-value time value gives a multi-value result (ALL/ANY apply).
//!   PostgreSQL: `to_char(<t read as a UTC timestamp>, fmt)` with the format translated
//!   (`%Y %m %d %H %M %S %f %j %u %%`; other substitutions are an error; literal text is quoted
//!   for `to_char`). The time value is read as SQLite reads a date text (`YYYY-MM-DD`, an
//!   optional time and time zone; see `pg_time_value`): any other text is NULL, as on SQLite,
//!   except that SQLite also reads a number (or a numeric text) as a Julian day and `now` as
//!   the current time. Modifiers and numeric time values are SQLite-only and an error on
//!   PostgreSQL. Without a time value: the current time.
//!
//! Function calls cannot be arguments of these two functions (as in PocketBase).

use super::{Compiler, Fallback, Opd};
use crate::filter::{Term, TermKind};
use crate::{CompileError, Dialect, Sql, Value, ValueType};

pub(super) fn call(
    c: &mut Compiler<'_>,
    name: &str,
    args: &[Term],
    call_depth: usize,
) -> Result<Opd, CompileError> {
    if call_depth >= crate::filter::MAX_CALL_DEPTH {
        return Err(CompileError::TooComplex(
            "function calls nested too deeply".into(),
        ));
    }
    match name {
        "geoDistance" => geo_distance(c, args),
        "strftime" => strftime(c, args),
        _ => Err(CompileError::UnknownFunction(name.to_owned())),
    }
}

fn geo_distance(c: &mut Compiler<'_>, args: &[Term]) -> Result<Opd, CompileError> {
    if args.len() != 4 {
        return Err(CompileError::invalid(format!(
            "geoDistance expects 4 arguments (lonA, latA, lonB, latB), got {}",
            args.len()
        )));
    }
    let d = c.dialect;
    let mut resolved = Vec::with_capacity(4);
    let mut masked = false;
    for (i, arg) in args.iter().enumerate() {
        if !matches!(
            arg.kind,
            TermKind::Ident(_) | TermKind::Number(_) | TermKind::Null
        ) {
            return Err(CompileError::invalid(format!(
                "geoDistance argument {} must be a field or a number",
                i + 1
            )));
        }
        let opd = c.term(arg, 1)?;
        if opd.many {
            return Err(CompileError::invalid(format!(
                "geoDistance argument {} must have a single value per record",
                i + 1
            )));
        }
        masked |= opd.masked;
        resolved.push(match &opd.lit {
            Some(Value::Int(n)) => d.typed_param(&Value::Float(*n as f64)),
            Some(v) => d.typed_param(v),
            None if d == Dialect::Postgres => super::pg::number(&opd),
            None => opd.sql,
        });
    }
    let [lon_a, lat_a, lon_b, lat_b] = [&resolved[0], &resolved[1], &resolved[2], &resolved[3]];
    let f = |name: &str, x: &Sql| {
        let mut s = Sql::raw(format!("{name}(radians("));
        s.push_sql(x).push("))");
        s
    };
    let mut sum = f("cos", lat_a);
    sum.push(" * ")
        .push_sql(&f("cos", lat_b))
        .push(" * cos(radians(");
    sum.push_sql(lon_b)
        .push(") - radians(")
        .push_sql(lon_a)
        .push(")) + ");
    sum.push_sql(&f("sin", lat_a))
        .push(" * ")
        .push_sql(&f("sin", lat_b));
    let mut out = Sql::raw("(6371 * acos(");
    out.push_sql(&d.clamp(&sum, "-1", "1")).push("))");
    let mut opd = Opd::expr(out, ValueType::Real, Fallback::Disabled);
    opd.masked = masked;
    Ok(opd)
}

fn strftime(c: &mut Compiler<'_>, args: &[Term]) -> Result<Opd, CompileError> {
    let d = c.dialect;
    if args.is_empty() {
        return Err(CompileError::invalid(
            "strftime expects at least 1 argument (the format)",
        ));
    }
    if args.len() > 10 {
        return Err(CompileError::invalid(format!(
            "strftime accepts at most 10 arguments, got {}",
            args.len()
        )));
    }
    let TermKind::Text(format) = &args[0].kind else {
        return Err(CompileError::invalid(
            "strftime expects the first argument to be a format string",
        ));
    };
    let mut modifiers = Vec::new();
    for (i, arg) in args.iter().enumerate().skip(2) {
        let TermKind::Text(m) = &arg.kind else {
            return Err(CompileError::invalid(format!(
                "strftime modifier argument {} must be a string",
                i + 1
            )));
        };
        modifiers.push(m.clone());
    }
    if d == Dialect::Postgres && !modifiers.is_empty() {
        return Err(CompileError::invalid(
            "strftime modifiers are only supported on SQLite",
        ));
    }
    let format_param = match d {
        Dialect::Sqlite => Sql::param(format.as_str()),
        Dialect::Postgres => d.typed_param(&Value::Text(pg_format(format)?)),
    };
    // the format applied to one time value
    let build = |time: Option<&Sql>| -> Sql {
        let mut out = Sql::new();
        match d {
            Dialect::Sqlite => {
                out.push("strftime(").push_sql(&format_param);
                if let Some(t) = time {
                    out.push(", ").push_sql(t);
                }
                for m in &modifiers {
                    out.push(", ").push_param(m.as_str());
                }
                out.push(")");
            }
            Dialect::Postgres => {
                out.push("to_char(");
                match time {
                    Some(t) => {
                        out.push_sql(&pg_time_value(t));
                    }
                    None => {
                        out.push("CURRENT_TIMESTAMP AT TIME ZONE 'UTC'");
                    }
                }
                out.push(", ").push_sql(&format_param).push(")");
            }
        }
        out
    };
    let Some(time_arg) = args.get(1) else {
        return Ok(Opd::expr(build(None), ValueType::Text, Fallback::Enforced));
    };
    if !matches!(
        time_arg.kind,
        TermKind::Ident(_) | TermKind::Text(_) | TermKind::Number(_) | TermKind::Null
    ) {
        return Err(CompileError::invalid(
            "strftime expects the second argument to be a field, a date string or a number",
        ));
    }
    let time = c.term(time_arg, 1)?;
    if d == Dialect::Postgres && matches!(time.lit, Some(Value::Int(_) | Value::Float(_))) {
        return Err(CompileError::invalid(
            "numeric strftime time values are only supported on SQLite",
        ));
    }
    // PostgreSQL formats the value's text as SQLite would see it (a JSON string unquoted).
    let as_text = |opd: &Opd| match d {
        Dialect::Postgres if opd.lit.is_none() => super::pg::text(opd),
        _ => super::compare::render(d, opd),
    };
    if time.many {
        // a multi-value time value: format each value
        let alias = c.alias("__f");
        let mut value = Sql::new();
        value.push_ident(&alias).push(".v");
        let value = as_text(&Opd::expr(value, time.ty, Fallback::Auto));
        let mut select = Sql::raw("SELECT ");
        select
            .push_sql(&build(Some(&value)))
            .push(" AS v FROM (")
            .push_sql(&time.sql)
            .push(") AS ")
            .push_ident(&alias);
        return Ok(Opd {
            sql: select,
            ty: ValueType::Text,
            lit: None,
            fallback: Fallback::Enforced,
            many: true,
            masked: time.masked,
            stored: false,
        });
    }
    let time_sql = as_text(&time);
    let mut opd = Opd::expr(build(Some(&time_sql)), ValueType::Text, Fallback::Enforced);
    opd.masked = time.masked;
    Ok(opd)
}

/// A date text read as SQLite's date functions read it, on PostgreSQL: `YYYY-MM-DD`, then
/// optionally ` HH:MM[:SS[.fff]]` (or `T`), then optionally `Z` or `±HH:MM`, as a UTC
/// TIMESTAMP; NULL for any other text (never an error). The day may run past the month's
/// end, as SQLite allows (`2024-02-30` is March 1st): the date is built by adding days.
const PG_DATE_TEXT: &str = "'^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\
     ([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?\\s*([Zz]|[-+][0-9]{2}:[0-5][0-9])?)?\\s*$'";

fn pg_time_value(t: &Sql) -> Sql {
    let mut text = Sql::raw("CAST(");
    text.push_sql(t).push(" AS TEXT)");
    let mut out = Sql::raw("CASE WHEN ");
    out.push_sql(&text)
        .push(" ~ ")
        .push(PG_DATE_TEXT)
        .push(" THEN CAST(SUBSTRING(")
        .push_sql(&text)
        .push(" FROM 1 FOR 8) || '01' AS TIMESTAMP) + (CAST(SUBSTRING(")
        .push_sql(&text)
        .push(" FROM 9 FOR 2) AS INTEGER) - 1) * INTERVAL '1 day' + COALESCE(CAST(SUBSTRING(")
        .push_sql(&text)
        .push(" FROM '^.{11}([0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)') AS INTERVAL), INTERVAL '0') - COALESCE(CAST(SUBSTRING(")
        .push_sql(&text)
        .push(" FROM '([-+][0-9]{2}:[0-9]{2})\\s*$') AS INTERVAL), INTERVAL '0') END");
    out
}

/// Translates a SQLite strftime format to a PostgreSQL `to_char` template.
fn pg_format(format: &str) -> Result<String, CompileError> {
    let mut out = String::with_capacity(format.len() * 2);
    let mut literal = String::new();
    let flush = |literal: &mut String, out: &mut String| {
        if !literal.is_empty() {
            out.push('"');
            for ch in literal.chars() {
                if ch == '"' || ch == '\\' {
                    out.push('\\');
                }
                out.push(ch);
            }
            out.push('"');
            literal.clear();
        }
    };
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            literal.push(ch);
            continue;
        }
        let spec = match chars.next() {
            Some('%') => {
                literal.push('%');
                continue;
            }
            Some('Y') => "YYYY",
            Some('m') => "MM",
            Some('d') => "DD",
            Some('H') => "HH24",
            Some('M') => "MI",
            Some('S') => "SS",
            Some('f') => "SS.MS",
            Some('j') => "DDD",
            Some('u') => "ID",
            Some(other) => {
                return Err(CompileError::invalid(format!(
                    "strftime substitution %{other} is not supported on PostgreSQL"
                )));
            }
            None => return Err(CompileError::invalid("strftime format ends with a lone %")),
        };
        flush(&mut literal, &mut out);
        out.push_str(spec);
    }
    flush(&mut literal, &mut out);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::pg_format;

    #[test]
    fn strftime_formats_translate_to_to_char_templates() {
        assert_eq!(pg_format("%Y-%m-%d").unwrap(), "YYYY\"-\"MM\"-\"DD");
        assert_eq!(pg_format("%H:%M:%f").unwrap(), "HH24\":\"MI\":\"SS.MS");
        assert_eq!(pg_format("at 100%%").unwrap(), "\"at 100%\"");
        assert!(pg_format("%s").is_err());
        assert!(pg_format("%").is_err());
    }
}
