//! The store: the only module that runs SQL.
//!
//! `Db` is a closed enum over the supported databases: SQLite (the embedded default) and
//! PostgreSQL. Feature code hands it a closure that receives a `&mut dyn Conn` and runs
//! `Sql` fragments through it; the closure runs on a database thread, so async tasks never
//! block on disk, and the same business logic serves both databases.
//!
//! `write` runs the closure inside a transaction; the result is delivered only after the
//! transaction committed, so an acknowledged write is durable.
//!
//! Each statement is observed (`observe`): a trace span under the caller's, and its duration,
//! when traces or metrics are on.

pub mod app_sql;
pub mod console;
pub mod history;
pub mod log_entries;
pub mod migrations;
pub mod observe;
pub mod postgres;
pub mod queue;
pub mod shared;
pub mod snapshot;
pub mod sqlite;
pub mod tables;

use std::sync::Arc;

use oxbase_sql::{Dialect, Sql, Value};

use crate::error::{Error, Result};

/// Rows read back: column names once, then the values of each row in column order.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Arc<[String]>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A connection (or open transaction) the store lends to a closure.
pub trait Conn {
    fn dialect(&self) -> Dialect;
    fn query(&mut self, sql: &Sql) -> Result<Rows>;
    /// Runs a statement; returns the number of rows changed.
    fn execute(&mut self, sql: &Sql) -> Result<usize>;

    /// Runs `sql` again and again: `next` binds the next run's values in place of the previous
    /// run's (reusing their buffers) and says `false` when there are no more. Returns the rows
    /// changed. SQLite keeps one prepared statement for all runs; elsewhere each run is a
    /// statement of its own (on PostgreSQL, a round trip).
    fn execute_each(
        &mut self,
        sql: &Sql,
        next: &mut dyn FnMut(&mut [Value]) -> bool,
    ) -> Result<usize> {
        let mut run = sql.clone();
        let mut changed = 0;
        while next(run.params_mut()) {
            changed += self.execute(&run)?;
        }
        Ok(changed)
    }

    /// A superuser's own statement, as written (the SQL console): see `console`.
    fn console(&mut self, query: &str, limits: &console::ConsoleLimits)
    -> Result<console::Console>;

    /// The first column of the first row, if any.
    fn query_scalar(&mut self, sql: &Sql) -> Result<Option<Value>> {
        let rows = self.query(sql)?;
        Ok(rows
            .rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next()))
    }
}

/// How busy the database's connections are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    /// SQLite: writes waiting for the writer thread.
    pub queued_writes: usize,
    /// PostgreSQL: connections open, idle in the pool, and callers waiting for one.
    pub connections: usize,
    pub idle_connections: usize,
    pub waiting_for_connection: usize,
}

/// How many write transactions a database has ended (`Db::ended_writes`).
#[derive(Clone)]
pub struct EndedWrites(Arc<std::sync::atomic::AtomicU64>);

impl EndedWrites {
    /// The count now. Read before a read begins: if it is the same later, no write was
    /// acknowledged in between, and a write acknowledged before it is in what the read sees.
    pub fn now(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The database behind the application.
#[derive(Clone)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` on a reader connection (it sees the last committed state).
    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        if let Some(link) = shared::joined(self.key()) {
            return link.run(f).await;
        }
        let f = observe::in_caller_span(f);
        match self {
            Db::Sqlite(db) => db.read(f).await,
            Db::Postgres(db) => db.read(f).await,
        }
    }

    /// Runs `f`, a short read (rows by key, of bounded cost), on a reader connection. SQLite
    /// runs it on the calling thread: handing it to a reader thread and back would cost more
    /// than the read. Anything that may scan (lists, counts) uses `read`.
    pub async fn lookup<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        if let Some(link) = shared::joined(self.key()) {
            return link.run(f).await;
        }
        let f = observe::in_caller_span(f);
        match self {
            Db::Sqlite(db) => db.lookup(f).await,
            Db::Postgres(db) => db.read(f).await,
        }
    }

    /// Runs `f` inside a write transaction; the result arrives after commit (or rollback on
    /// error). Code joined to a transaction of this database (`shared`) writes in it, in a
    /// savepoint.
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        if let Some(link) = shared::joined(self.key()) {
            return link.run(f).await;
        }
        let f = shared::collecting(observe::in_caller_span(f));
        let (out, deferred) = match self {
            Db::Sqlite(db) => db.write(f).await,
            Db::Postgres(db) => db.write(f).await,
        }?;
        shared::settle(deferred);
        Ok(out)
    }

    /// The count of write transactions ended, where no other process writes the database
    /// (SQLite holds its file alone) and the caller is in no transaction: a read cache keeps
    /// an answer only while the count is unchanged. None on PostgreSQL, where other instances
    /// write too, and inside a transaction, whose reads see its own writes before they commit.
    pub fn ended_writes(&self) -> Option<EndedWrites> {
        match self {
            Db::Sqlite(db) if shared::joined(self.key()).is_none() => {
                Some(EndedWrites(db.ended_writes()))
            }
            _ => None,
        }
    }

    /// Which database this is, among those of the process.
    fn key(&self) -> usize {
        match self {
            Db::Sqlite(db) => db.key(),
            Db::Postgres(db) => db.key(),
        }
    }

    /// A definition changed: statements prepared before may read a table whose columns are
    /// not the same. PostgreSQL's connections forget theirs (SQLite prepares again by itself).
    pub fn forget_statements(&self) {
        if let Db::Postgres(db) = self {
            db.forget_statements();
        }
    }

    /// How busy the database's connections are now (metrics, read at each scrape).
    pub fn load(&self) -> Load {
        match self {
            Db::Sqlite(db) => Load {
                queued_writes: db.queued_writes(),
                ..Load::default()
            },
            Db::Postgres(db) => db.load(),
        }
    }

    /// Whether the database takes writes now (readiness): a write transaction runs, on the
    /// path every write takes (SQLite's writer thread, a pooled PostgreSQL connection), and on
    /// PostgreSQL it may write (not a standby, not `default_transaction_read_only`).
    pub async fn ping(&self) -> Result<()> {
        let probe = match self {
            Db::Sqlite(_) => "SELECT 1",
            Db::Postgres(_) => "SELECT current_setting('transaction_read_only')",
        };
        let answer = self
            .write(move |conn| conn.query_scalar(&Sql::raw(probe)))
            .await?;
        match answer {
            Some(Value::Text(read_only)) if read_only == "on" => {
                Err(Error::internal("the database is read-only"))
            }
            _ => Ok(()),
        }
    }

    /// Holds the lock of the app's migrations until the guard is released: on PostgreSQL an
    /// advisory lock, so that instances sharing the database apply them one at a time. A
    /// SQLite file belongs to one process (`unix-excl`): there is nothing to take.
    pub async fn lock_app_migrations(&self) -> Result<MigrationsLock> {
        match self {
            Db::Sqlite(_) => Ok(MigrationsLock(None)),
            Db::Postgres(db) => Ok(MigrationsLock(Some(db.lock_app_migrations().await?))),
        }
    }

    /// Waits until every queued write has committed and stops the database threads.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.close().await,
            Db::Postgres(db) => db.close().await,
        }
    }
}

/// The held lock of the app's migrations (`Db::lock_app_migrations`).
pub struct MigrationsLock(Option<postgres::AdvisoryLock>);

impl MigrationsLock {
    pub async fn release(self) {
        if let Some(lock) = self.0 {
            lock.release().await;
        }
    }
}

/// Runs `f` in a savepoint, undone when `f` fails: a step that may fail leaves the
/// transaction usable (PostgreSQL refuses every later statement of a transaction in which one
/// failed).
pub fn guarded<T>(conn: &mut dyn Conn, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
    conn.execute(&Sql::raw("SAVEPOINT \"__guarded\""))?;
    let result = f(conn);
    if result.is_err() {
        conn.execute(&Sql::raw("ROLLBACK TO SAVEPOINT \"__guarded\""))?;
    }
    conn.execute(&Sql::raw("RELEASE SAVEPOINT \"__guarded\""))?;
    result
}

/// Reads a text column of a row as `&str` ("" for NULL or other types).
pub fn text(value: &Value) -> &str {
    match value {
        Value::Text(s) => s,
        _ => "",
    }
}

/// Reads an integer column of a row (SQLite and PostgreSQL answer counts and sums in
/// different types; 0 for NULL).
pub fn int(value: &Value) -> i64 {
    match value {
        Value::Int(n) => *n,
        Value::Float(f) => *f as i64,
        Value::Text(t) => t.parse().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn closed() -> Error {
    Error::internal("the database is closed")
}
