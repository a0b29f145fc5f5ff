//! The system tables, created on first start. Each migration runs once, in order, recorded in
//! `_migrations` (PocketBase's table, which the app's JS migrations share).

use oxbase_sql::Sql;

use super::Conn;
use super::tables::migration_history;
use crate::error::Result;

/// The migration creating `_history`: an app whose `_migrations` lacks it has no record
/// history to copy.
pub const HISTORY: &str = "008_history";

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "001_collections",
        "CREATE TABLE IF NOT EXISTS \"_collections\" (\
           \"id\" TEXT PRIMARY KEY NOT NULL, \
           \"name\" TEXT NOT NULL, \
           \"data\" TEXT NOT NULL, \
           \"created\" TEXT NOT NULL DEFAULT '', \
           \"updated\" TEXT NOT NULL DEFAULT '')",
    ),
    (
        "002_collections_name",
        "CREATE UNIQUE INDEX IF NOT EXISTS \"_collections_name\" ON \"_collections\" (\"name\")",
    ),
    (
        "003_params",
        "CREATE TABLE IF NOT EXISTS \"_params\" (\
           \"id\" TEXT PRIMARY KEY NOT NULL, \
           \"value\" TEXT NOT NULL, \
           \"updated\" TEXT NOT NULL DEFAULT '')",
    ),
    (
        // Changes too large for a PostgreSQL NOTIFY, kept briefly for the other instances.
        "004_events",
        "CREATE TABLE IF NOT EXISTS \"_events\" (\
           \"id\" TEXT PRIMARY KEY NOT NULL, \
           \"payload\" TEXT NOT NULL, \
           \"created\" TEXT NOT NULL)",
    ),
    (
        // Wrong codes per OTP, in the database so that every instance counts the same guesses.
        "005_otp_failures",
        "CREATE TABLE IF NOT EXISTS \"_otpFailures\" (\
           \"otp\" TEXT PRIMARY KEY NOT NULL, \
           \"count\" INTEGER NOT NULL)",
    ),
    (
        // The names Apple sends only with its redirect, for the code exchange that follows
        // (possibly on another instance).
        "006_apple_names",
        "CREATE TABLE IF NOT EXISTS \"_appleNames\" (\
           \"code\" TEXT PRIMARY KEY NOT NULL, \
           \"name\" TEXT NOT NULL, \
           \"created\" TEXT NOT NULL)",
    ),
    (
        // Which instance ran which cron job at which tick: the first to claim a tick runs it,
        // so a job runs once per tick however many instances share the database.
        "007_cron_runs",
        "CREATE TABLE IF NOT EXISTS \"_cronRuns\" (\
           \"job\" TEXT NOT NULL, \
           \"tick\" TEXT NOT NULL, \
           PRIMARY KEY (\"job\", \"tick\"))",
    ),
    (
        // The versions of records of collections with `history: true` (`store::history`).
        HISTORY,
        "CREATE TABLE IF NOT EXISTS \"_history\" (\
           \"id\" TEXT PRIMARY KEY NOT NULL, \
           \"collectionId\" TEXT NOT NULL, \
           \"recordId\" TEXT NOT NULL, \
           \"version\" BIGINT NOT NULL, \
           \"action\" TEXT NOT NULL, \
           \"data\" TEXT NOT NULL, \
           \"authCollection\" TEXT NOT NULL, \
           \"authId\" TEXT NOT NULL, \
           \"request\" TEXT NOT NULL, \
           \"requestId\" TEXT NOT NULL, \
           \"created\" TEXT NOT NULL)",
    ),
    (
        "009_history_record",
        "CREATE UNIQUE INDEX IF NOT EXISTS \"_history_record\" \
           ON \"_history\" (\"collectionId\", \"recordId\", \"version\")",
    ),
];

/// The tables the migrations create: no collection may take these names.
pub const INTERNAL_TABLES: [&str; 9] = [
    "_collections",
    "_params",
    "_events",
    "_otpFailures",
    "_appleNames",
    "_cronRuns",
    "_history",
    "_migrations",
    // Created by `queue::create` (its key's type differs per database).
    "_jobs",
];

/// Applies the migrations not applied yet; returns how many ran.
pub fn run(conn: &mut dyn Conn) -> Result<usize> {
    let now = crate::dates::unix_micros();
    migration_history::create(conn, now)?;
    let mut ran = 0;
    for (name, ddl) in MIGRATIONS {
        if migration_history::contains(conn, name)? {
            continue;
        }
        conn.execute(&Sql::raw(*ddl))?;
        migration_history::insert(conn, name, now)?;
        ran += 1;
    }
    Ok(ran)
}

/// Whether `file` is named as the app's migration files are (PocketBase's `^.*(\.js|\.ts)$`;
/// a TypeScript declaration file is no migration).
pub fn is_app_file(file: &str) -> bool {
    (file.ends_with(".js") || file.ends_with(".ts")) && !file.ends_with(".d.ts")
}

/// Whether `file` names one of these migrations (a row of `_migrations` that is no app's).
pub fn is_system(file: &str) -> bool {
    MIGRATIONS.iter().any(|(name, _)| *name == file)
}

#[cfg(test)]
mod tests {
    use crate::store::sqlite::SqliteDb;
    use crate::store::tables::migration_history;
    use crate::store::{Conn, Db};
    use oxbase_sql::Sql;

    /// A data dir of an oxbase that kept `("name", "applied" TEXT)`: the table takes
    /// PocketBase's shape, and what ran stays applied.
    #[tokio::test]
    async fn the_former_table_takes_pocketbases_shape_keeping_what_ran() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = Db::Sqlite(SqliteDb::open(&dir.path().join("data.db"), 1).expect("open"));
        db.write(|conn: &mut dyn Conn| {
            for (_, ddl) in super::MIGRATIONS {
                conn.execute(&Sql::raw(*ddl))?;
            }
            conn.execute(&Sql::raw(
                "CREATE TABLE \"_migrations\" (\"name\" TEXT PRIMARY KEY NOT NULL, \"applied\" TEXT NOT NULL)",
            ))?;
            for (name, _) in super::MIGRATIONS {
                let mut insert = Sql::raw("INSERT INTO \"_migrations\" VALUES (");
                insert.push_param(*name).push(", '2025-01-01 00:00:00.000Z')");
                conn.execute(&insert)?;
            }
            Ok(())
        })
        .await
        .expect("the former shape");
        assert_eq!(db.write(super::run).await.expect("run"), 0);
        let rows = db.read(migration_history::all).await.expect("rows");
        let names: Vec<&str> = rows.iter().map(|(f, _)| f.as_str()).collect();
        let expected: Vec<&str> = super::MIGRATIONS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, expected);
        assert!(rows.iter().all(|(_, at)| *at > 1_600_000_000_000_000));
        // Once converted, a start changes nothing.
        assert_eq!(db.write(super::run).await.expect("run again"), 0);
        assert_eq!(db.read(migration_history::all).await.expect("rows"), rows);
    }

    #[test]
    fn every_table_the_migrations_create_is_listed_as_internal() {
        for (_, ddl) in super::MIGRATIONS {
            if let Some(rest) = ddl.strip_prefix("CREATE TABLE IF NOT EXISTS \"") {
                let table = rest.split('"').next().unwrap_or("");
                assert!(super::INTERNAL_TABLES.contains(&table), "{table}");
            }
        }
        assert!(super::INTERNAL_TABLES.contains(&"_migrations"));
    }
}
