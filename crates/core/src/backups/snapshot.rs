//! The database part of a backup: a SQLite file holding one consistent state of the app,
//! whatever the database it runs on, so a backup of either restores on either.
//!
//! SQLite: the store's `VACUUM INTO`. PostgreSQL: `transfer::copy_all` from a pinned
//! `REPEATABLE READ` snapshot into a new SQLite file (settings, collections, records; the
//! short-lived internal tables, such as pending events and cron claims, are left out).

use std::path::Path;

use crate::error::Result;
use crate::store::Db;
use crate::store::snapshot::Snapshot;
use crate::store::sqlite::SqliteDb;
use crate::transfer::{self, Progress};

/// Writes the snapshot of `db` at `file` (which must not exist).
pub async fn write(db: &Db, file: &Path, progress: &(dyn Fn(Progress) + Sync)) -> Result<()> {
    match db.snapshot(file).await? {
        Snapshot::Written => Ok(()),
        Snapshot::Pinned(source) => {
            let target = Db::Sqlite(SqliteDb::open(file, 1)?);
            let copied = transfer::copy_all(&source, &target, progress).await;
            source.close().await;
            target.close().await;
            copied.map(|_| ())
        }
    }
}
