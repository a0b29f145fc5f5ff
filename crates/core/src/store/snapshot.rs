//! Consistent copies of the database taken while writes go on (backups).

use std::path::Path;

use oxbase_sql::Sql;

use super::Db;
use crate::error::Result;

/// What `Db::snapshot` made.
pub enum Snapshot {
    /// SQLite: the copy is the file asked for.
    Written,
    /// PostgreSQL: a handle reading one snapshot of the database (one `REPEATABLE READ`
    /// transaction), for the caller to copy from; close it when done.
    Pinned(Db),
}

impl Db {
    /// A consistent copy of the database, without stopping writes. SQLite: `VACUUM INTO
    /// file` on a reader connection, one read transaction that WAL lets writers go on beside
    /// (the copy is compact and has no WAL of its own). PostgreSQL: see `PgDb::pinned`.
    pub async fn snapshot(&self, file: &Path) -> Result<Snapshot> {
        match self {
            Db::Sqlite(db) => {
                let mut vacuum = Sql::raw("VACUUM INTO ");
                vacuum.push_param(file.to_string_lossy().into_owned());
                db.read(move |conn| conn.execute(&vacuum)).await?;
                Ok(Snapshot::Written)
            }
            Db::Postgres(pg) => Ok(Snapshot::Pinned(Db::Postgres(pg.pinned().await?))),
        }
    }
}
