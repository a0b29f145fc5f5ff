//! The statements on oxbase's internal tables (created by `migrations`), each behind a typed
//! function, so that the modules owning the data never write SQL text for them.

use oxbase_sql::{Sql, Value};

use super::{Conn, int, text};
use crate::error::Result;

/// `_params`: one JSON document per id (the settings).
pub mod params {
    use super::*;

    pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Option<String>> {
        let mut sql = Sql::raw("SELECT \"value\" FROM \"_params\" WHERE \"id\" = ");
        sql.push_param(id.to_owned());
        Ok(conn.query_scalar(&sql)?.map(|v| text(&v).to_owned()))
    }

    pub fn put(conn: &mut dyn Conn, id: &str, value: String, updated: String) -> Result<()> {
        let mut sql = Sql::raw("INSERT INTO \"_params\" (\"id\", \"value\", \"updated\") VALUES (");
        sql.push_param(id.to_owned())
            .push(", ")
            .push_param(value)
            .push(", ")
            .push_param(updated)
            .push(
                ") ON CONFLICT (\"id\") DO UPDATE SET \"value\" = excluded.\"value\", \
                 \"updated\" = excluded.\"updated\"",
            );
        conn.execute(&sql).map(|_| ())
    }
}

/// `_collections`: each collection's definition as JSON.
pub mod collections {
    use super::*;

    /// Every stored definition.
    pub fn all(conn: &mut dyn Conn) -> Result<Vec<String>> {
        let rows = conn.query(&Sql::raw("SELECT \"data\" FROM \"_collections\""))?;
        Ok(rows
            .rows
            .iter()
            .map(|row| text(&row[0]).to_owned())
            .collect())
    }

    /// Inserts or replaces the definition row of collection `id`.
    pub fn put(
        conn: &mut dyn Conn,
        id: &str,
        name: &str,
        data: String,
        created: &str,
        updated: &str,
    ) -> Result<()> {
        let mut sql = Sql::raw(
            "INSERT INTO \"_collections\" (\"id\", \"name\", \"data\", \"created\", \"updated\") VALUES (",
        );
        sql.push_param(id.to_owned())
            .push(", ")
            .push_param(name.to_owned())
            .push(", ")
            .push_param(data)
            .push(", ")
            .push_param(created.to_owned())
            .push(", ")
            .push_param(updated.to_owned())
            .push(
                ") ON CONFLICT (\"id\") DO UPDATE SET \"name\" = excluded.\"name\", \
                 \"data\" = excluded.\"data\", \"updated\" = excluded.\"updated\"",
            );
        conn.execute(&sql).map(|_| ())
    }

    pub fn delete(conn: &mut dyn Conn, id: &str) -> Result<()> {
        let mut sql = Sql::raw("DELETE FROM \"_collections\" WHERE \"id\" = ");
        sql.push_param(id.to_owned());
        conn.execute(&sql).map(|_| ())
    }
}

/// `_events`: relay messages too large for the bus, kept a few minutes for the other
/// instances to read.
pub mod events {
    use super::*;

    /// Keeps `payload` as `id`, dropping the rows created before `expired`.
    pub fn put(
        conn: &mut dyn Conn,
        id: String,
        payload: String,
        created: String,
        expired: String,
    ) -> Result<()> {
        let mut old = Sql::raw("DELETE FROM \"_events\" WHERE \"created\" < ");
        old.push_param(expired);
        conn.execute(&old)?;
        let mut insert =
            Sql::raw("INSERT INTO \"_events\" (\"id\", \"payload\", \"created\") VALUES (");
        insert
            .push_param(id)
            .push(", ")
            .push_param(payload)
            .push(", ")
            .push_param(created)
            .push(")");
        conn.execute(&insert).map(|_| ())
    }

    pub fn get(conn: &mut dyn Conn, id: String) -> Result<Option<String>> {
        let mut select = Sql::raw("SELECT \"payload\" FROM \"_events\" WHERE \"id\" = ");
        select.push_param(id);
        Ok(conn.query_scalar(&select)?.map(|v| text(&v).to_owned()))
    }
}

/// `_otpFailures`: wrong codes counted per OTP, shared by the instances on one database.
pub mod otp_failures {
    use super::*;

    /// Counts one more failure of `otp` (one atomic upsert); returns the count.
    pub fn count(conn: &mut dyn Conn, otp: String) -> Result<i64> {
        let mut sql = Sql::raw("INSERT INTO \"_otpFailures\" (\"otp\", \"count\") VALUES (");
        sql.push_param(otp).push(
            ", 1) ON CONFLICT (\"otp\") DO UPDATE SET \"count\" = \"_otpFailures\".\"count\" + 1 \
             RETURNING \"count\"",
        );
        Ok(match conn.query_scalar(&sql)? {
            Some(Value::Int(n)) => n,
            _ => i64::MAX,
        })
    }

    /// Drops the counts of `otp` and of OTPs that no longer exist in `otps_table`.
    pub fn forget(conn: &mut dyn Conn, otp: String) -> Result<()> {
        let mut sql = Sql::raw("DELETE FROM \"_otpFailures\" WHERE \"otp\" = ");
        sql.push_param(otp)
            .push(" OR \"otp\" NOT IN (SELECT \"id\" FROM \"_otps\")");
        conn.execute(&sql).map(|_| ())
    }
}

/// `_appleNames`: the name Apple posts once with its redirect, kept for the code exchange
/// (on any instance).
pub mod apple_names {
    use super::*;

    /// Keeps `name` for `code`, dropping the names created before `expired`.
    pub fn put(
        conn: &mut dyn Conn,
        code: String,
        name: String,
        created: String,
        expired: String,
    ) -> Result<()> {
        let mut old = Sql::raw("DELETE FROM \"_appleNames\" WHERE \"created\" < ");
        old.push_param(expired);
        conn.execute(&old)?;
        let mut insert =
            Sql::raw("INSERT INTO \"_appleNames\" (\"code\", \"name\", \"created\") VALUES (");
        insert
            .push_param(code)
            .push(", ")
            .push_param(name)
            .push(", ")
            .push_param(created)
            .push(
                ") ON CONFLICT (\"code\") DO UPDATE SET \"name\" = excluded.\"name\", \
                 \"created\" = excluded.\"created\"",
            );
        conn.execute(&insert).map(|_| ())
    }

    /// The name kept for `code` since `fresh`, removed as it is read.
    pub fn take(conn: &mut dyn Conn, code: String, fresh: String) -> Result<Option<Value>> {
        let mut sql = Sql::raw("DELETE FROM \"_appleNames\" WHERE \"code\" = ");
        sql.push_param(code)
            .push(" AND \"created\" >= ")
            .push_param(fresh)
            .push(" RETURNING \"name\"");
        conn.query_scalar(&sql)
    }
}

/// The rows other tables keep about an auth record (`_otps`, `_mfas`, `_authOrigins`,
/// `_externalAuths`).
pub mod auth_rows {
    use super::*;

    pub fn delete_of_record(conn: &mut dyn Conn, collection: &str, record: &str) -> Result<()> {
        for table in ["_otps", "_mfas", "_authOrigins", "_externalAuths"] {
            let mut sql = Sql::raw(format!(
                "DELETE FROM \"{table}\" WHERE \"collectionRef\" = "
            ));
            sql.push_param(collection.to_owned())
                .push(" AND \"recordRef\" = ")
                .push_param(record.to_owned());
            conn.execute(&sql)?;
        }
        Ok(())
    }
}

/// `_cronRuns`: the ticks of each cron job already claimed by an instance.
pub mod cron_runs {
    use super::*;

    /// Claims `tick` of `job` for this instance: true when no instance had, so the caller runs
    /// it. Claims older than `expired` go on the way.
    pub fn claim(conn: &mut dyn Conn, job: &str, tick: String, expired: String) -> Result<bool> {
        let mut old = Sql::raw("DELETE FROM \"_cronRuns\" WHERE \"tick\" < ");
        old.push_param(expired);
        conn.execute(&old)?;
        let mut insert = Sql::raw("INSERT INTO \"_cronRuns\" (\"job\", \"tick\") VALUES (");
        insert
            .push_param(job.to_owned())
            .push(", ")
            .push_param(tick)
            .push(") ON CONFLICT DO NOTHING");
        Ok(conn.execute(&insert)? == 1)
    }
}

/// `_migrations`: PocketBase's history of applied migrations, one row per migration: its
/// `file` and when it was `applied` (Unix microseconds; PocketBase wrote seconds before
/// 0.23). oxbase's own system migrations and the app's JS files share it, as in PocketBase.
pub mod migration_history {
    use super::*;
    use oxbase_sql::Dialect;
    use oxbase_sql::dialect::SqlType;

    /// Creates the table in PocketBase's shape when missing. oxbase kept `("name", "applied"
    /// TEXT)` before: such a table is converted, its migrations kept as applied `now`.
    pub fn create(conn: &mut dyn Conn, now: i64) -> Result<()> {
        let columns = format!(
            " (\"file\" VARCHAR(255) PRIMARY KEY NOT NULL, \"applied\" {} NOT NULL)",
            conn.dialect().type_name(SqlType::Integer)
        );
        if !has_legacy_shape(conn)? {
            let create = format!("CREATE TABLE IF NOT EXISTS \"_migrations\"{columns}");
            return conn.execute(&Sql::raw(create)).map(|_| ());
        }
        conn.execute(&Sql::raw(format!(
            "CREATE TABLE \"_migrations_pb\"{columns}"
        )))?;
        let mut copy =
            Sql::raw("INSERT INTO \"_migrations_pb\" (\"file\", \"applied\") SELECT \"name\", ");
        copy.push_param(now).push(" FROM \"_migrations\"");
        conn.execute(&copy)?;
        conn.execute(&Sql::raw("DROP TABLE \"_migrations\""))?;
        conn.execute(&Sql::raw(
            "ALTER TABLE \"_migrations_pb\" RENAME TO \"_migrations\"",
        ))
        .map(|_| ())
    }

    /// Whether `_migrations` has oxbase's former `name` column.
    fn has_legacy_shape(conn: &mut dyn Conn) -> Result<bool> {
        let mut sql = match conn.dialect() {
            Dialect::Sqlite => Sql::raw("SELECT COUNT(*) FROM pragma_table_info("),
            Dialect::Postgres => Sql::raw(
                "SELECT COUNT(*) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name::text = ",
            ),
        };
        sql.push_param("_migrations");
        match conn.dialect() {
            Dialect::Sqlite => sql.push(") WHERE \"name\" = "),
            Dialect::Postgres => sql.push(" AND column_name::text = "),
        };
        sql.push_param("name");
        Ok(matches!(conn.query_scalar(&sql)?, Some(Value::Int(n)) if n > 0))
    }

    /// Every row: (file, applied); none from a table of the former shape (which held only
    /// oxbase's system migrations).
    pub fn all(conn: &mut dyn Conn) -> Result<Vec<(String, i64)>> {
        if has_legacy_shape(conn)? {
            return Ok(Vec::new());
        }
        let rows = conn.query(&Sql::raw(
            "SELECT \"file\", \"applied\" FROM \"_migrations\" ORDER BY \"file\"",
        ))?;
        Ok(rows
            .rows
            .iter()
            .map(|row| {
                let applied = match &row[1] {
                    Value::Int(n) => *n,
                    other => text(other).parse().unwrap_or(0),
                };
                (text(&row[0]).to_owned(), applied)
            })
            .collect())
    }

    pub fn contains(conn: &mut dyn Conn, file: &str) -> Result<bool> {
        let mut sql = Sql::raw("SELECT 1 FROM \"_migrations\" WHERE \"file\" = ");
        sql.push_param(file.to_owned());
        Ok(conn.query_scalar(&sql)?.is_some())
    }

    pub fn insert(conn: &mut dyn Conn, file: &str, applied: i64) -> Result<()> {
        let mut sql = Sql::raw("INSERT INTO \"_migrations\" (\"file\", \"applied\") VALUES (");
        sql.push_param(file.to_owned())
            .push(", ")
            .push_param(applied)
            .push(")");
        conn.execute(&sql).map(|_| ())
    }

    pub fn delete(conn: &mut dyn Conn, file: &str) -> Result<()> {
        let mut sql = Sql::raw("DELETE FROM \"_migrations\" WHERE \"file\" = ");
        sql.push_param(file.to_owned());
        conn.execute(&sql).map(|_| ())
    }
}

/// `_logs`: request and app log entries, in the auxiliary database (SQLite's
/// `auxiliary.db`; on PostgreSQL a table of the main database, shared by every instance).
///
/// On SQLite the log writer stores each batch of entries as one row of `_logs_pending` (its
/// entries in [`log_entries`]' form), and the batches become rows of `_logs` when the logs
/// are next read or pruned ([`index_pending`]): a row per entry, its JSON and its index
/// entries cost SQLite several times what the request being logged costs, and that work is
/// done only for logs that someone reads, off the requests' path. PostgreSQL, shared by
/// instances and not on the server's CPU, gets the rows at once.
pub mod logs {
    use super::*;
    use crate::store::log_entries::{self, Batch};
    use oxbase_sql::Dialect;
    use oxbase_sql::ddl::{ColumnKind, ROWID, column_param};

    /// Creates the tables and their indexes when missing. The insertion order (`_rowid_`) is
    /// the default order of a list, as in PocketBase. On SQLite (the logs' own database, run
    /// on its writer connection) the writer's page cache is made small: entries are appended,
    /// never read back by it.
    pub fn create(conn: &mut dyn Conn) -> Result<()> {
        let table = match conn.dialect() {
            Dialect::Sqlite => {
                conn.execute(&Sql::raw("PRAGMA cache_size = -2048"))?;
                conn.execute(&Sql::raw(
                    "CREATE TABLE IF NOT EXISTS \"_logs_pending\" (\"seq\" INTEGER PRIMARY KEY, \
                     \"body\" BLOB NOT NULL)",
                ))?;
                "CREATE TABLE IF NOT EXISTS \"_logs\" (\"id\" TEXT PRIMARY KEY NOT NULL, \
                 \"level\" INTEGER DEFAULT 0 NOT NULL, \"message\" TEXT DEFAULT '' NOT NULL, \
                 \"data\" JSON DEFAULT '{}' NOT NULL, \"created\" TEXT DEFAULT '' NOT NULL)"
                    .to_owned()
            }
            Dialect::Postgres => {
                // Already there (every start but the first): no statement, so no notices.
                let exists = Sql::raw("SELECT to_regclass('\"_logs\"') IS NOT NULL");
                if conn.query_scalar(&exists)? == Some(Value::Bool(true)) {
                    return Ok(());
                }
                format!(
                    "CREATE TABLE IF NOT EXISTS \"_logs\" (\"{ROWID}\" BIGINT GENERATED BY DEFAULT AS IDENTITY, \
                 \"id\" TEXT PRIMARY KEY NOT NULL, \"level\" INTEGER DEFAULT 0 NOT NULL, \
                 \"message\" TEXT DEFAULT '' NOT NULL, \"data\" JSONB DEFAULT '{{}}'::jsonb NOT NULL, \
                 \"created\" TEXT DEFAULT '' NOT NULL)"
                )
            }
        };
        conn.execute(&Sql::raw(table))?;
        // `created` serves the retention, time ranges and the hourly stats' order.
        // PB-COMPAT: PocketBase also indexes `level` and `message`; on SQLite `level` is not
        // indexed (it cost about a sixth of a row's insert; a level filter reads the table in
        // insertion order instead), and a file that has the index loses it.
        conn.execute(&Sql::raw(
            "CREATE INDEX IF NOT EXISTS \"_logs_created_idx\" ON \"_logs\" (\"created\")",
        ))?;
        let level = match conn.dialect() {
            Dialect::Sqlite => "DROP INDEX IF EXISTS \"_logs_level_idx\"",
            Dialect::Postgres => {
                "CREATE INDEX IF NOT EXISTS \"_logs_level_idx\" ON \"_logs\" (\"level\")"
            }
        };
        conn.execute(&Sql::raw(level))?;
        Ok(())
    }

    /// Stores a batch of entries: on SQLite as one pending row, on PostgreSQL as rows.
    pub fn append(conn: &mut dyn Conn, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        match conn.dialect() {
            Dialect::Sqlite => {
                let mut sql = Sql::raw("INSERT INTO \"_logs_pending\" (\"body\") VALUES (");
                sql.push_param(Value::Blob(batch.body().to_vec())).push(")");
                conn.execute(&sql).map(|_| ())
            }
            Dialect::Postgres => insert_rows(conn, batch.body()),
        }
    }

    /// About how many bytes of pending batches become rows per call (a few thousand entries,
    /// some milliseconds): a large backlog holds the logs' writer up a moment at a time.
    const PENDING_BYTES_PER_CALL: i64 = 1 << 20;

    /// SQLite: turns pending batches, oldest first, into rows of `_logs`, a part of the
    /// backlog per call; says whether any are left. Nothing to do on PostgreSQL.
    pub fn index_pending(conn: &mut dyn Conn) -> Result<bool> {
        if conn.dialect() != Dialect::Sqlite {
            return Ok(false);
        }
        let oldest = Sql::raw(
            "SELECT \"seq\", length(\"body\") FROM \"_logs_pending\" ORDER BY \"seq\" LIMIT 256",
        );
        let pending = conn.query(&oldest)?.rows;
        let mut taken = 0;
        let mut bytes = 0;
        for row in &pending {
            if bytes >= PENDING_BYTES_PER_CALL {
                break;
            }
            let seq = int(&row[0]);
            bytes += int(&row[1]);
            taken += 1;
            let mut body = Sql::raw("SELECT \"body\" FROM \"_logs_pending\" WHERE \"seq\" = ");
            body.push_param(seq);
            if let Some(Value::Blob(body)) = conn.query_scalar(&body)? {
                insert_rows(conn, &body)?;
            }
            let mut done = Sql::raw("DELETE FROM \"_logs_pending\" WHERE \"seq\" = ");
            done.push_param(seq);
            conn.execute(&done)?;
        }
        Ok(taken < pending.len())
    }

    /// Rows per statement: SQLite runs a multi-row insert as one loop over open cursors (a
    /// statement per row opens and positions them again, each time), and on PostgreSQL a
    /// statement is a round trip.
    const ROWS_PER_STATEMENT: usize = 100;

    /// The columns a row fills, in the order of its parameters.
    const COLUMNS: &str = "\"id\", \"level\", \"message\", \"data\", \"created\"";

    /// Inserts the entries of a batch's body: full statements of [`ROWS_PER_STATEMENT`] rows,
    /// then one for the rest. The statements' texts repeat, so they are prepared once per
    /// connection, and the parameters' buffers serve every row.
    fn insert_rows(conn: &mut dyn Conn, body: &[u8]) -> Result<()> {
        let dialect = conn.dialect();
        let statement = |rows: usize| {
            // Ids are random: a clash loses that entry, not the batch. On SQLite `OR IGNORE`
            // (no constraint can abort the statement, all columns being filled) spares the
            // statement journal that an upsert clause needs: a copy of every page the
            // statement touches first.
            let insert = match dialect {
                Dialect::Sqlite => "INSERT OR IGNORE INTO",
                Dialect::Postgres => "INSERT INTO",
            };
            let mut sql = Sql::raw(format!("{insert} \"_logs\" ({COLUMNS}) VALUES "));
            for i in 0..rows {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .push_param(Value::Null)
                    .push(", ")
                    .push_param(Value::Null)
                    .push(", ")
                    .push_param(Value::Null)
                    .push(", ")
                    .push_sql(&column_param(dialect, Value::Null, ColumnKind::Json))
                    .push(", ")
                    .push_param(Value::Null)
                    .push(")");
            }
            if dialect == Dialect::Postgres {
                sql.push(" ON CONFLICT (\"id\") DO NOTHING");
            }
            sql
        };
        let count = log_entries::entries(body).count();
        let mut entries = log_entries::entries(body);
        let mut data = Vec::new();
        let (full, rest) = (count / ROWS_PER_STATEMENT, count % ROWS_PER_STATEMENT);
        for (statements, rows) in [(full, ROWS_PER_STATEMENT), (usize::from(rest > 0), rest)] {
            // A statement of no row is not SQL (a batch of exactly 100, 200... entries).
            if statements == 0 {
                continue;
            }
            let mut left = statements;
            conn.execute_each(&statement(rows), &mut |params| {
                if left == 0 {
                    return false;
                }
                left -= 1;
                for row in params.chunks_mut(5) {
                    let Some(entry) = entries.next() else { break };
                    text_slot(&mut row[0]).push_str(entry.id);
                    row[1] = Value::Int(entry.level);
                    text_slot(&mut row[2]).push_str(entry.message);
                    data.clear();
                    entry.push_data(&mut data);
                    text_slot(&mut row[3]).push_str(std::str::from_utf8(&data).unwrap_or("{}"));
                    entry.push_created(text_slot(&mut row[4]));
                }
                true
            })?;
        }
        Ok(())
    }

    /// The slot's text, emptied, its buffer kept.
    fn text_slot(slot: &mut Value) -> &mut String {
        if !matches!(slot, Value::Text(_)) {
            *slot = Value::Text(String::new());
        }
        match slot {
            Value::Text(text) => {
                text.clear();
                text
            }
            _ => unreachable!("made text above"),
        }
    }

    /// Deletes the entries created at or before `created` (the retention) or below
    /// `min_level`, pending ones included; returns how many went.
    pub fn delete_old(conn: &mut dyn Conn, created: String, min_level: i64) -> Result<usize> {
        while index_pending(conn)? {}
        let mut sql = Sql::raw("DELETE FROM \"_logs\" WHERE \"created\" <= ");
        sql.push_param(created);
        // The daily retention keeps every level: its deletion reads the `created` index alone.
        if min_level > i64::MIN {
            sql.push(" OR \"level\" < ").push_param(min_level);
        }
        conn.execute(&sql)
    }
}
