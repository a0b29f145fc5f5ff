//! What SQLite's `_logs` view (`tables::logs`) needs: its rows are the entries kept in batches
//! by `_logs_batches` (one row per batch: its entries in `store::log_entries`' form and where
//! each starts), and `ox_log_entry` reads an entry's column out of its batch only when a query
//! asks for it, so `data` and `created` are made text then, never when the entry is stored.
//! Each batch is expanded with `generate_series` (rusqlite's, registered on every connection).

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

use crate::store::log_entries;

/// Registers what the view needs on a connection: any connection may open `auxiliary.db`.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    rusqlite::vtab::series::load_module(conn)?;
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("ox_log_entry", 4, flags, entry_column)
}

/// `ox_log_entry(body, offsets, place, column)`: a column of the entry at `place` (`id`,
/// `level`, `message`, `data`, `created`, in this order); NULL when there is none.
fn entry_column(ctx: &Context<'_>) -> rusqlite::Result<ToSqlOutput<'static>> {
    let null = Ok(ToSqlOutput::Owned(Value::Null));
    let (ValueRef::Blob(body), ValueRef::Blob(offsets)) = (ctx.get_raw(0), ctx.get_raw(1)) else {
        return null;
    };
    let (Ok(place), Ok(column)) = (ctx.get::<i64>(2), ctx.get::<i64>(3)) else {
        return null;
    };
    let start = usize::try_from(place).ok().and_then(|p| p.checked_mul(4));
    let Some(at) = start.and_then(|s| offsets.get(s..s + 4)) else {
        return null;
    };
    let at = u32::from_le_bytes([at[0], at[1], at[2], at[3]]) as usize;
    let Some((entry, _)) = body.get(at..).and_then(log_entries::read) else {
        return null;
    };
    let value = match column {
        0 => Value::Text(entry.id.to_owned()),
        1 => Value::Integer(entry.level),
        2 => Value::Text(entry.message.to_owned()),
        3 => {
            let mut data = Vec::with_capacity(256);
            entry.push_data(&mut data);
            Value::Text(String::from_utf8(data).unwrap_or_else(|_| "{}".to_owned()))
        }
        4 => {
            let mut created = String::with_capacity(24);
            entry.push_created(&mut created);
            Value::Text(created)
        }
        _ => Value::Null,
    };
    Ok(ToSqlOutput::Owned(value))
}
