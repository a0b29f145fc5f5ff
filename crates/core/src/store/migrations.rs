//! The system tables, created on first start. Each migration runs once, in order, recorded in
//! `_migrations`.

use oxbase_sql::Sql;

use super::Conn;
use crate::error::Result;

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
];

/// The tables the migrations create: no collection may take these names.
pub const INTERNAL_TABLES: [&str; 7] = [
    "_collections",
    "_params",
    "_events",
    "_otpFailures",
    "_appleNames",
    "_cronRuns",
    "_migrations",
];

/// Applies the migrations not applied yet; returns how many ran.
pub fn run(conn: &mut dyn Conn) -> Result<usize> {
    conn.execute(&Sql::raw(
        "CREATE TABLE IF NOT EXISTS \"_migrations\" (\"name\" TEXT PRIMARY KEY NOT NULL, \"applied\" TEXT NOT NULL)",
    ))?;
    let mut ran = 0;
    for (name, ddl) in MIGRATIONS {
        let mut check = Sql::raw("SELECT 1 FROM \"_migrations\" WHERE \"name\" = ");
        check.push_param(*name);
        if conn.query_scalar(&check)?.is_some() {
            continue;
        }
        conn.execute(&Sql::raw(*ddl))?;
        let mut record = Sql::raw("INSERT INTO \"_migrations\" (\"name\", \"applied\") VALUES (");
        record
            .push_param(*name)
            .push(", ")
            .push_param(crate::dates::now())
            .push(")");
        conn.execute(&record)?;
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
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
