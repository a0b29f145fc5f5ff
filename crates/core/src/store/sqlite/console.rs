//! The SQL console on SQLite (`Conn::console`): a superuser's statement on the connection it
//! is lent, bounded by an authorizer, a deadline and the row cap.

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::ValueRef;

use crate::error::{Error, Result};
use crate::store::console::{Console, ConsoleColumn, ConsoleLimits, float_text};

/// The console's statement on SQLite, on the connection it is lent (a reader, or the writer
/// inside its transaction). An authorizer decides what it may do while it runs: a read only
/// reads (no write, no transaction, no ATTACH, no pragma but the read-only ones, whatever the
/// statement does to `query_only`); a write may not end or open the transaction it shares with
/// other writes, ATTACH, or change a pragma. A deadline interrupts it. Everything is undone on
/// the connection when it ends, however it ends (the guard's drop).
pub(super) fn console(
    conn: &rusqlite::Connection,
    query: &str,
    limits: &ConsoleLimits,
) -> Result<Console> {
    let _guard = ConsoleGuard::install(conn, limits)?;
    let max_rows = if limits.write {
        usize::MAX
    } else {
        limits.max_rows
    };
    console_statements(conn, query, limits.max_rows, max_rows).map_err(|e| console_error(&e))
}

/// What the console set on a connection, and takes back when dropped.
struct ConsoleGuard<'c> {
    conn: &'c rusqlite::Connection,
}

impl<'c> ConsoleGuard<'c> {
    fn install(conn: &'c rusqlite::Connection, limits: &ConsoleLimits) -> Result<Self> {
        let guard = ConsoleGuard { conn };
        let deadline = std::time::Instant::now() + limits.timeout;
        conn.progress_handler(10_000, Some(move || std::time::Instant::now() > deadline))?;
        let write = limits.write;
        conn.authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
            if console_may(&ctx.action, write) {
                rusqlite::hooks::Authorization::Allow
            } else {
                rusqlite::hooks::Authorization::Deny
            }
        }))?;
        Ok(guard)
    }
}

impl Drop for ConsoleGuard<'_> {
    fn drop(&mut self) {
        let _ = self.conn.authorizer(
            None::<fn(rusqlite::hooks::AuthContext<'_>) -> rusqlite::hooks::Authorization>,
        );
        let _ = self.conn.progress_handler(0, None::<fn() -> bool>);
    }
}

/// Pragmas a read may run: they only report.
const READ_PRAGMAS: [&str; 16] = [
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "database_list",
    "collation_list",
    "function_list",
    "pragma_list",
    "compile_options",
    "user_version",
    "schema_version",
    "page_count",
    "page_size",
];

fn console_may(action: &rusqlite::hooks::AuthAction<'_>, write: bool) -> bool {
    use rusqlite::hooks::AuthAction as A;
    match action {
        A::Select | A::Read { .. } | A::Function { .. } | A::Recursive => true,
        A::Pragma {
            pragma_name,
            pragma_value: None,
        } => {
            write
                || READ_PRAGMAS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(pragma_name))
        }
        // Never: ending or opening the transaction, another database, changing a setting.
        A::Transaction { .. }
        | A::Savepoint { .. }
        | A::Attach { .. }
        | A::Detach { .. }
        | A::Pragma { .. } => false,
        _ => write,
    }
}

fn console_statements(
    conn: &rusqlite::Connection,
    query: &str,
    shown: usize,
    read: usize,
) -> rusqlite::Result<Console> {
    let mut answer = Console::default();
    let mut batch = rusqlite::Batch::new(conn, query);
    while let Some(mut stmt) = batch.next()? {
        let columns: Vec<ConsoleColumn> = stmt
            .columns()
            .iter()
            .map(|c| ConsoleColumn {
                name: c.name().to_owned(),
                ty: c.decl_type().unwrap_or("").to_owned(),
                nullable: true,
            })
            .collect();
        let before = conn.total_changes();
        let mut rows = Vec::new();
        let mut seen = 0usize;
        let mut cursor = stmt.raw_query();
        // A read stops at the rows it shows; a write runs to its end.
        while seen < read {
            let Some(row) = cursor.next()? else { break };
            seen += 1;
            if rows.len() < shown {
                rows.push(
                    (0..columns.len())
                        .map(|i| row.get_ref(i).map(text_of))
                        .collect::<rusqlite::Result<_>>()?,
                );
            }
        }
        answer = Console {
            affected_rows: conn.total_changes().saturating_sub(before),
            columns,
            rows,
        };
    }
    Ok(answer)
}

fn text_of(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(float_text(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// The console shows the database's own words, as PocketBase does
/// (`SQL logic error: near "x": syntax error (1)`).
fn console_error(err: &rusqlite::Error) -> Error {
    let raw = match err {
        rusqlite::Error::SqliteFailure(code, Some(message)) => format!(
            "{}: {message} ({})",
            rusqlite::ffi::code_to_str(code.extended_code),
            code.extended_code
        ),
        other => other.to_string(),
    };
    Error::bad_request(format!("Failed to execute query. Raw error:\n{raw}."))
}
