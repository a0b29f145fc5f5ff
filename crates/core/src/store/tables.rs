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
/// On SQLite the entries are kept in batches, one row of `_logs_batches` per batch (its
/// entries in [`log_entries`]' form), and read as rows through the `_logs` view
/// (`sqlite::logs_table`): a row per entry and its index entries cost SQLite several times
/// what the request being logged costs. On PostgreSQL, shared by instances and not on the
/// server's CPU, `_logs` is a table with a row per entry.
pub mod logs {
    use super::*;
    use crate::store::log_entries::{self, Batch};
    use oxbase_sql::Dialect;
    use oxbase_sql::ddl::{ColumnKind, ROWID, column_param};

    /// SQLite's `_logs`: the entries of the batches as rows, their columns read out of the
    /// batch by `ox_log_entry` (`sqlite::logs_table`) when a query asks for them.
    const VIEW: &str = "CREATE VIEW \"_logs\" AS SELECT \
        CAST((\"seq\" << 16) + \"value\" AS INTEGER) AS \"_rowid_\", \
        CAST(ox_log_entry(\"body\", \"offsets\", \"value\", 0) AS TEXT) AS \"id\", \
        CAST(ox_log_entry(\"body\", \"offsets\", \"value\", 1) AS INTEGER) AS \"level\", \
        CAST(ox_log_entry(\"body\", \"offsets\", \"value\", 2) AS TEXT) AS \"message\", \
        ox_log_entry(\"body\", \"offsets\", \"value\", 3) AS \"data\", \
        CAST(ox_log_entry(\"body\", \"offsets\", \"value\", 4) AS TEXT) AS \"created\" \
        FROM \"_logs_batches\", generate_series(0, \"count\" - 1)";

    /// Creates the table and its indexes when missing. The insertion order (`_rowid_`) is the
    /// default order of a list, as in PocketBase. On SQLite (the logs' own database, run on
    /// its writer connection) the writer's page cache is made small: entries are appended,
    /// never read back by it; a `_logs` table of an earlier version is moved into batches.
    pub fn create(conn: &mut dyn Conn) -> Result<()> {
        match conn.dialect() {
            Dialect::Sqlite => create_batches(conn),
            Dialect::Postgres => create_table(conn),
        }
    }

    fn create_batches(conn: &mut dyn Conn) -> Result<()> {
        conn.execute(&Sql::raw("PRAGMA cache_size = -2048"))?;
        conn.execute(&Sql::raw(
            "CREATE TABLE IF NOT EXISTS \"_logs_batches\" (\"seq\" INTEGER PRIMARY KEY, \
             \"count\" INTEGER NOT NULL, \"first_id\" TEXT NOT NULL, \"last_id\" TEXT NOT NULL, \
             \"min_created\" TEXT NOT NULL, \"max_created\" TEXT NOT NULL, \"body\" BLOB NOT NULL, \
             \"offsets\" BLOB NOT NULL)",
        ))?;
        let old =
            Sql::raw("SELECT 1 FROM sqlite_schema WHERE \"type\" = 'table' AND \"name\" = '_logs'");
        let moving = conn.query_scalar(&old)?.is_some();
        if moving {
            conn.execute(&Sql::raw("ALTER TABLE \"_logs\" RENAME TO \"_logs_rows\""))?;
        }
        // Made again at every start: a new version's definition replaces an earlier one's.
        conn.execute(&Sql::raw("DROP VIEW IF EXISTS \"_logs\""))?;
        conn.execute(&Sql::raw(VIEW))?;
        if moving {
            move_rows(conn)?;
            conn.execute(&Sql::raw("DROP TABLE \"_logs_rows\""))?;
        }
        Ok(())
    }

    /// Moves the rows of an earlier version's table into batches, in their order.
    fn move_rows(conn: &mut dyn Conn) -> Result<()> {
        const CHUNK: i64 = 4_096;
        let mut after = i64::MIN;
        let mut batch = Batch::default();
        loop {
            let mut sql = Sql::raw(
                "SELECT \"_rowid_\", \"id\", \"level\", \"message\", CAST(\"data\" AS TEXT), \
                 \"created\" FROM \"_logs_rows\" WHERE \"_rowid_\" > ",
            );
            sql.push_param(after)
                .push(" ORDER BY \"_rowid_\" LIMIT ")
                .push_param(CHUNK);
            let rows = conn.query(&sql)?;
            let Some(last) = rows.rows.last() else {
                return Ok(());
            };
            after = int(&last[0]);
            batch.clear();
            for row in &rows.rows {
                let created =
                    crate::dates::parse(text(&row[5])).map_or(0, |t| t.timestamp_micros());
                batch
                    .push(text(&row[1]), int(&row[2]), created, text(&row[3]))
                    .object(text(&row[4]));
            }
            put_batch(conn, None, &batch)?;
        }
    }

    fn create_table(conn: &mut dyn Conn) -> Result<()> {
        // Already there (every start but the first): no statement, so no notices.
        let exists = Sql::raw("SELECT to_regclass('\"_logs\"') IS NOT NULL");
        if conn.query_scalar(&exists)? == Some(Value::Bool(true)) {
            return Ok(());
        }
        conn.execute(&Sql::raw(format!(
            "CREATE TABLE IF NOT EXISTS \"_logs\" (\"{ROWID}\" BIGINT GENERATED BY DEFAULT AS IDENTITY, \
             \"id\" TEXT PRIMARY KEY NOT NULL, \"level\" INTEGER DEFAULT 0 NOT NULL, \
             \"message\" TEXT DEFAULT '' NOT NULL, \"data\" JSONB DEFAULT '{{}}'::jsonb NOT NULL, \
             \"created\" TEXT DEFAULT '' NOT NULL)"
        )))?;
        // PB-COMPAT: PocketBase also indexes `message`.
        conn.execute(&Sql::raw(
            "CREATE INDEX IF NOT EXISTS \"_logs_created_idx\" ON \"_logs\" (\"created\")",
        ))?;
        conn.execute(&Sql::raw(
            "CREATE INDEX IF NOT EXISTS \"_logs_level_idx\" ON \"_logs\" (\"level\")",
        ))?;
        Ok(())
    }

    /// Stores a batch of entries.
    pub fn append(conn: &mut dyn Conn, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        match conn.dialect() {
            Dialect::Sqlite => append_to_batches(conn, batch),
            Dialect::Postgres => append_rows(conn, batch),
        }
    }

    /// A batch is added to the last one stored while both are small (a quiet server stores
    /// a few entries at a time), so that the batches stay few.
    const JOIN_BELOW: i64 = 64 * 1024;

    fn append_to_batches(conn: &mut dyn Conn, batch: &Batch) -> Result<()> {
        let last = Sql::raw(
            "SELECT \"seq\", \"count\", length(\"body\") FROM \"_logs_batches\" \
             ORDER BY \"seq\" DESC LIMIT 1",
        );
        let body_len = batch.body().len() as i64;
        let joinable = conn.query(&last)?.rows.first().and_then(|row| {
            let (seq, count, len) = (int(&row[0]), int(&row[1]), int(&row[2]));
            let fits = count as usize + batch.len() < log_entries::MAX_BATCH;
            (fits && len < JOIN_BELOW && body_len < JOIN_BELOW).then_some((seq, len))
        });
        let Some((seq, len)) = joinable else {
            return put_batch(conn, None, batch);
        };
        let (min, max) = created_range(batch);
        let offsets = log_entries::offsets_column(batch.body(), len as usize);
        // `||` makes text of blobs; the bytes stay as they are.
        let mut sql = Sql::raw("UPDATE \"_logs_batches\" SET \"body\" = CAST(\"body\" || ");
        sql.push_param(Value::Blob(batch.body().to_vec()))
            .push(" AS BLOB), \"offsets\" = CAST(\"offsets\" || ")
            .push_param(Value::Blob(offsets))
            .push(" AS BLOB)")
            .push(", \"count\" = \"count\" + ")
            .push_param(batch.len() as i64)
            .push(", \"last_id\" = ")
            .push_param(batch.last_id().to_owned())
            .push(", \"min_created\" = min(\"min_created\", ")
            .push_param(min)
            .push("), \"max_created\" = max(\"max_created\", ")
            .push_param(max)
            .push(") WHERE \"seq\" = ")
            .push_param(seq);
        conn.execute(&sql).map(|_| ())
    }

    fn created_range(batch: &Batch) -> (String, String) {
        let (min, max) = batch.created_range();
        let text = |micros: i64| {
            crate::dates::format(
                chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default(),
            )
        };
        (text(min), text(max))
    }

    /// Stores a batch as the row `seq`, or as a new last row (`None`).
    fn put_batch(conn: &mut dyn Conn, seq: Option<i64>, batch: &Batch) -> Result<()> {
        if batch.len() >= log_entries::MAX_BATCH {
            return Err(crate::error::Error::internal("a log batch too large"));
        }
        let (min, max) = created_range(batch);
        let mut sql = Sql::raw(
            "INSERT OR REPLACE INTO \"_logs_batches\" (\"seq\", \"count\", \"first_id\", \
             \"last_id\", \"min_created\", \"max_created\", \"body\", \"offsets\") VALUES (",
        );
        sql.push_param(seq.map_or(Value::Null, Value::Int))
            .push(", ")
            .push_param(batch.len() as i64)
            .push(", ")
            .push_param(batch.first_id().to_owned())
            .push(", ")
            .push_param(batch.last_id().to_owned())
            .push(", ")
            .push_param(min)
            .push(", ")
            .push_param(max)
            .push(", ")
            .push_param(Value::Blob(batch.body().to_vec()))
            .push(", ")
            .push_param(Value::Blob(log_entries::offsets_column(batch.body(), 0)))
            .push(")");
        conn.execute(&sql).map(|_| ())
    }

    /// Rows per statement on PostgreSQL, where a statement is a round trip.
    const ROWS_PER_STATEMENT: usize = 100;

    /// The columns a row fills, in the order of its parameters.
    const COLUMNS: &str = "\"id\", \"level\", \"message\", \"data\", \"created\"";

    /// Full statements of [`ROWS_PER_STATEMENT`] rows, then one for the rest; the parameters'
    /// buffers serve every row. Ids are random: a clash loses that entry, not the batch.
    fn append_rows(conn: &mut dyn Conn, batch: &Batch) -> Result<()> {
        let dialect = conn.dialect();
        let statement = |rows: usize| {
            let mut sql = Sql::raw(format!("INSERT INTO \"_logs\" ({COLUMNS}) VALUES "));
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
            sql.push(" ON CONFLICT (\"id\") DO NOTHING");
            sql
        };
        let mut entries = log_entries::entries(batch.body());
        let mut data = Vec::new();
        let (full, rest) = (
            batch.len() / ROWS_PER_STATEMENT,
            batch.len() % ROWS_PER_STATEMENT,
        );
        for (statements, rows) in [(full, ROWS_PER_STATEMENT), (usize::from(rest > 0), rest)] {
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
    /// `min_level`; returns how many went.
    pub fn delete_old(conn: &mut dyn Conn, created: String, min_level: i64) -> Result<usize> {
        match conn.dialect() {
            Dialect::Sqlite => delete_from_batches(conn, &created, min_level),
            Dialect::Postgres => {
                let mut sql = Sql::raw("DELETE FROM \"_logs\" WHERE \"created\" <= ");
                sql.push_param(created);
                // The daily retention keeps every level: its deletion reads the `created`
                // index alone.
                if min_level > i64::MIN {
                    sql.push(" OR \"level\" < ").push_param(min_level);
                }
                conn.execute(&sql)
            }
        }
    }

    /// Rewrites each batch that holds an entry to delete without it (or deletes it). The
    /// places of the entries after a deleted one change: rowids are only ever compared
    /// within one query.
    fn delete_from_batches(conn: &mut dyn Conn, before: &str, min_level: i64) -> Result<usize> {
        let mut candidates = Sql::raw("SELECT \"seq\" FROM \"_logs_batches\"");
        if min_level == i64::MIN {
            candidates
                .push(" WHERE \"min_created\" <= ")
                .push_param(before.to_owned());
        }
        let seqs: Vec<i64> = conn
            .query(&candidates)?
            .rows
            .iter()
            .map(|r| int(&r[0]))
            .collect();
        let mut deleted = 0;
        let mut kept = Batch::default();
        let mut created = String::new();
        for seq in seqs {
            let mut body = Sql::raw("SELECT \"body\" FROM \"_logs_batches\" WHERE \"seq\" = ");
            body.push_param(seq);
            let Some(Value::Blob(body)) = conn.query_scalar(&body)? else {
                continue;
            };
            kept.clear();
            let mut total = 0;
            for entry in log_entries::entries(&body) {
                total += 1;
                created.clear();
                entry.push_created(&mut created);
                if created.as_str() > before && entry.level >= min_level {
                    kept.push_entry(&entry);
                }
            }
            if kept.len() == total {
                continue;
            }
            deleted += total - kept.len();
            if kept.is_empty() {
                let mut sql = Sql::raw("DELETE FROM \"_logs_batches\" WHERE \"seq\" = ");
                sql.push_param(seq);
                conn.execute(&sql)?;
                continue;
            }
            put_batch(conn, Some(seq), &kept)?;
        }
        Ok(deleted)
    }
}
