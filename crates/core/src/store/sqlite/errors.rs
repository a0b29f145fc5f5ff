//! SQLite's refusals as the core's typed errors: the kind from the result codes, the columns of
//! a unique violation from the message (the only place SQLite names them).

use oxbase_sql::Sql;

use crate::error::{Error, StoreErrorKind};

pub(super) fn sql_error(err: rusqlite::Error, sql: &Sql) -> Error {
    if let rusqlite::Error::SqliteFailure(code, message) = &err {
        let detail = || message.clone().unwrap_or_else(|| err.to_string());
        match (code.code, code.extended_code) {
            (_, UNIQUE | PRIMARY_KEY) => {
                // SQLite names the columns only in its message: `UNIQUE constraint failed: t.a, t.b`.
                let text = detail();
                let (table, columns) = unique_columns(&text);
                return Error::store(
                    StoreErrorKind::Unique {
                        table,
                        columns,
                        index: None,
                    },
                    text,
                );
            }
            (_, FOREIGN_KEY) => return Error::store(StoreErrorKind::ForeignKey, detail()),
            (rusqlite::ErrorCode::ConstraintViolation, _) => {
                return Error::store(StoreErrorKind::Constraint, detail());
            }
            (rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked, _) => {
                return Error::store(StoreErrorKind::Busy, detail());
            }
            _ => {}
        }
    }
    if matches!(err, rusqlite::Error::QueryReturnedNoRows) {
        return Error::store(StoreErrorKind::NotFound, err.to_string());
    }
    Error::internal_from(format!("sqlite, in `{}`", sql.text()), err)
}

/// SQLite's extended result codes of the constraints told apart.
const UNIQUE: std::ffi::c_int = 2067;
const PRIMARY_KEY: std::ffi::c_int = 1555;
const FOREIGN_KEY: std::ffi::c_int = 787;

/// `UNIQUE constraint failed: t.a, t.b` → (`t`, [`a`, `b`]); an expression index is named
/// instead (`index 'idx'`), and stands for its column.
fn unique_columns(message: &str) -> (String, Vec<String>) {
    let list = message.split("constraint failed: ").nth(1).unwrap_or("");
    let mut table = String::new();
    let columns = list
        .split(',')
        .map(|c| match c.trim().rsplit_once('.') {
            Some((t, column)) => {
                table = t.to_owned();
                column.trim_matches('\'').to_owned()
            }
            None => c.trim().trim_matches('\'').to_owned(),
        })
        .filter(|c| !c.is_empty())
        .collect();
    (table, columns)
}
