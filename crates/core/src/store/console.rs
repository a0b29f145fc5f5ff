//! The SQL console (`POST /api/sql`): a superuser's own statement, run as written. It is the
//! one SQL text the code does not build, so it runs only here, bounded: read-only unless the
//! caller asks to write, a deadline, a row limit, and its values shown as text.

use std::time::Duration;

use serde::Serialize;

/// How a console statement runs.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleLimits {
    /// Whether the statement may change anything (it runs in a write transaction); otherwise the
    /// connection refuses any write.
    pub write: bool,
    pub max_rows: usize,
    pub timeout: Duration,
}

/// A column of the answer: its name and declared type (empty for an expression).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
}

/// What a console statement answered: the rows it returned, or the rows it changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Console {
    pub affected_rows: u64,
    pub columns: Vec<ConsoleColumn>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A float as Go writes it (`strconv.FormatFloat(f, 'g', -1, 64)`, what PocketBase shows):
/// the shortest digits, in exponent form below 1e-4 and from 1e6 on.
pub fn float_text(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if f != 0.0 && !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_go_writes_them() {
        for (f, text) in [
            (1.0, "1"),
            (2.5, "2.5"),
            (1e20, "1e+20"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.5e-7, "-1.5e-07"),
            (0.0, "0"),
        ] {
            assert_eq!(float_text(f), text, "{f}");
        }
    }
}
