//! SQLite behind `Db`: WAL mode, one writer connection and a small pool of reader threads, each
//! owning its connection and fed through a channel. The process holds the file exclusively
//! (see [`VFS`]).
//!
//! A short read (`lookup`: rows by key) runs on the calling thread with a connection of a small
//! pool, for the same reason as below; reads of unbounded cost go to the reader threads, so a
//! slow one never holds up the async runtime.
//!
//! A write finding the writer connection idle and nobody queued runs at once on the calling
//! thread: two thread hops (to a writer thread and back) cost more than a lone insert's own
//! work. Otherwise the write queues for the writer thread, which groups the jobs waiting into
//! one transaction (each job in its own SAVEPOINT, so one job's failure rolls back only that
//! job) and commits once: this is what keeps write throughput high under concurrency, since the
//! commit is shared.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};
use std::thread;

use crossbeam_channel::{Receiver, Sender};
use oxbase_sql::{Dialect, Sql, Value};
use rusqlite::types::ValueRef;

use super::console::{Console, ConsoleLimits};
use tokio::sync::oneshot;

use super::observe::{self, Kind};
use super::{Conn, Rows, closed};
use crate::error::{Error, Result};

mod console;
mod errors;

use errors::sql_error;

/// How many write jobs share one transaction at most.
const MAX_GROUP: usize = 64;

type Delivery = Box<dyn FnOnce(Result<()>) + Send>;
/// A write job runs, says whether it succeeded (to keep or undo its savepoint) and hands back
/// how to deliver its result once the transaction's fate is known.
type WriteJob = Box<dyn FnOnce(&mut SqliteConn) -> (bool, Delivery) + Send>;
type ReadJob = Box<dyn FnOnce(&mut SqliteConn) + Send>;

enum WriterMsg {
    Job(WriteJob),
    Close(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct SqliteDb {
    writer: Sender<WriterMsg>,
    /// The writer connection, shared by the writer thread and uncontended callers; `None` once
    /// closed.
    writer_conn: Arc<Mutex<Option<SqliteConn>>>,
    readers: Sender<ReadJob>,
    lookups: Arc<LookupPool>,
    /// Write transactions ended (committed or not), counted after the commit and before any
    /// writer learns its result, even one that stopped waiting: what a cache of reads compares
    /// (`writes`).
    writes: Arc<AtomicU64>,
    /// Dropped with the last handle, which stops the checkpoint thread.
    _checkpoint_stop: Arc<Sender<()>>,
}

/// A SQLite connection as the store's `Conn`.
pub struct SqliteConn {
    conn: rusqlite::Connection,
    /// Column-name lists handed out lately. The same few tables are read over and over, and a
    /// query whose statement has the same names shares one list instead of allocating its own.
    names: Vec<Arc<[String]>>,
    /// What it runs statements for (the writer's or a reader's), for their metrics.
    kind: Kind,
}

/// Column-name lists a connection keeps for sharing.
const SHARED_NAME_LISTS: usize = 16;

impl SqliteConn {
    fn new(conn: rusqlite::Connection, kind: Kind) -> SqliteConn {
        SqliteConn {
            conn,
            names: Vec::new(),
            kind,
        }
    }

    /// A statement of the store's own transaction control (`BEGIN`, `SAVEPOINT`, `COMMIT`...),
    /// observed as the others are: a commit's time is most of a write's.
    fn batch(&mut self, sql: &str) -> rusqlite::Result<()> {
        let _observed = observe::statement(Dialect::Sqlite, self.kind, sql);
        self.conn.execute_batch(sql)
    }
}

/// The statement's column names, as a list shared from `kept` when one there matches.
fn shared_names(kept: &mut Vec<Arc<[String]>>, stmt: &rusqlite::Statement<'_>) -> Arc<[String]> {
    let count = stmt.column_count();
    let same = |names: &&Arc<[String]>| {
        names.len() == count
            && names
                .iter()
                .enumerate()
                .all(|(i, name)| stmt.column_name(i).is_ok_and(|c| c == name))
    };
    if let Some(names) = kept.iter().find(same) {
        return names.clone();
    }
    let names = column_names(stmt);
    if kept.len() >= SHARED_NAME_LISTS {
        kept.remove(0);
    }
    kept.push(names.clone());
    names
}

impl SqliteDb {
    /// Opens (creating when missing) the database file, with `readers` reader threads.
    pub fn open(path: &Path, readers: usize) -> Result<SqliteDb> {
        SqliteDb::open_with_page_size(path, readers, None)
    }

    /// As [`SqliteDb::open`]; a file it creates gets pages of `page_size` bytes (SQLite's
    /// default, 4096, when `None`). An existing file keeps its own.
    pub fn open_with_page_size(
        path: &Path,
        readers: usize,
        page_size: Option<u32>,
    ) -> Result<SqliteDb> {
        let writer_conn =
            open_conn_creating(path, page_size).map_err(|err| match err.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy) => Error::internal(format!(
                    "{} is in use by another process (is another oxbase running on this data dir?)",
                    path.display()
                )),
                _ => err.into(),
            })?;
        // The writer never checkpoints: a checkpoint fsyncs the database file, which would stall
        // every queued write behind it. A separate thread checkpoints instead. After a burst has
        // grown the WAL, its file is cut back when the log starts over.
        writer_conn.execute_batch(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
        )?;
        let writer_conn = Arc::new(Mutex::new(Some(SqliteConn::new(writer_conn, Kind::Write))));
        let checkpointer = open_conn(path)?;
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let shared = writer_conn.clone();
        thread::Builder::new()
            .name("oxbase-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, &shared, stop_rx))
            .map_err(Error::internal)?;
        let (writer_tx, writer_rx) = crossbeam_channel::unbounded::<WriterMsg>();
        let shared = writer_conn.clone();
        let writes = Arc::new(AtomicU64::new(0));
        let counted = writes.clone();
        thread::Builder::new()
            .name("oxbase-sqlite-writer".into())
            .spawn(move || writer_loop(&shared, writer_rx, &counted))
            .map_err(Error::internal)?;

        let (reader_tx, reader_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for i in 0..readers.max(1) {
            let mut conn = SqliteConn::new(open_conn(path)?, Kind::Read);
            let rx = reader_rx.clone();
            thread::Builder::new()
                .name(format!("oxbase-sqlite-reader-{i}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        job(&mut conn);
                    }
                })
                .map_err(Error::internal)?;
        }
        Ok(SqliteDb {
            writer: writer_tx,
            writer_conn,
            readers: reader_tx,
            lookups: Arc::new(LookupPool {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            writes,
            _checkpoint_stop: Arc::new(stop_tx),
        })
    }

    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.readers.send(job).map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    /// Runs a short read on the calling thread with a lookup connection (on a reader thread
    /// if none can be opened).
    pub async fn lookup<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        match self.lookups.take() {
            Some(mut conn) => {
                let result = f(&mut conn);
                self.lookups.put(conn);
                result
            }
            None => self.read(f).await,
        }
    }

    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: WriteJob = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let deliver: Delivery = Box::new(move |committed: Result<()>| {
                let _ = tx.send(committed.and(result));
            });
            (ok, deliver)
        });
        match self.idle_writer() {
            Some(mut conn) => run_group(&mut conn, vec![job], &self.writes),
            None => self
                .writer
                .send(WriterMsg::Job(job))
                .map_err(|_| closed())?,
        }
        rx.await.map_err(|_| closed())?
    }

    /// The count of write transactions ended (`Db::ended_writes`).
    pub fn ended_writes(&self) -> Arc<AtomicU64> {
        self.writes.clone()
    }

    /// The writer connection, when no write is queued or running: a caller holding it runs its
    /// write on its own thread. The write is as short as the writer thread would make it (a
    /// lone job), and a caller that finds it busy queues instead, so writes still group under
    /// load.
    fn idle_writer(&self) -> Option<OpenConn<'_>> {
        if !self.writer.is_empty() {
            return None;
        }
        OpenConn::new(self.writer_conn.try_lock()?)
    }

    /// This database among those of the process (its writer connection's address).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.writer_conn) as *const u8 as usize
    }

    /// Writes waiting for the writer thread.
    pub fn queued_writes(&self) -> usize {
        self.writer.len()
    }

    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(WriterMsg::Close(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Checks that the SQLite file at `path` (a backup's `data.db`) is sound (`PRAGMA
/// integrity_check`) and holds an oxbase app (its collection definitions read), not, say, a
/// PocketBase database.
pub fn check_backup(path: &Path) -> Result<()> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|_| Error::bad_request("The backup's data.db cannot be opened."))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|_| Error::bad_request("The backup's data.db is damaged."))?;
    if check != "ok" {
        return Err(Error::bad_request("The backup's data.db is damaged."));
    }
    conn.query_row("SELECT \"data\" FROM \"_collections\" LIMIT 1", [], |_| {
        Ok(())
    })
    .map_err(|_| Error::bad_request("The backup's data.db is not an oxbase database."))
}

/// A read-only connection on a SQLite file of this process's own (a restored backup's
/// `data.db`), for a copy that runs inside another database's transaction.
pub fn open_read_only(path: &Path) -> Result<SqliteConn> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(SqliteConn::new(conn, Kind::Read))
}

/// Replaces the content of the database at `target` by that of `source` (a restored backup,
/// checked by `check_backup`) with SQLite's online backup API, page by page in one step,
/// through a connection of this process: the file and its WAL stay where they are, so
/// connections still open on them (an app being closed) never delete or checkpoint a log
/// that is not theirs. The app on `target` must be closed: its caches would not know.
pub fn restore_file(target: &Path, source: &Path) -> Result<()> {
    let from =
        rusqlite::Connection::open_with_flags(source, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut to = open_conn(target)?;
    let backup = rusqlite::backup::Backup::new(&from, &mut to)?;
    loop {
        match backup.step(-1)? {
            rusqlite::backup::StepResult::Done => break,
            rusqlite::backup::StepResult::More => {}
            _ => thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    drop(backup);
    to.execute_batch("PRAGMA wal_checkpoint(PASSIVE)")?;
    Ok(())
}

/// Connections for `lookup`, opened on first need: as many as threads look up at once (the
/// async runtime's workers); at most `MAX_IDLE_LOOKUPS` are kept between lookups.
struct LookupPool {
    path: std::path::PathBuf,
    idle: Mutex<Vec<SqliteConn>>,
}

const MAX_IDLE_LOOKUPS: usize = 8;

impl LookupPool {
    fn take(&self) -> Option<SqliteConn> {
        if let Some(conn) = self.idle.lock().pop() {
            return Some(conn);
        }
        open_conn(&self.path)
            .inspect_err(|err| tracing::warn!(%err, "cannot open a lookup connection"))
            .ok()
            .map(|conn| SqliteConn::new(conn, Kind::Read))
    }

    fn put(&self, conn: SqliteConn) {
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE_LOOKUPS {
            idle.push(conn);
        }
    }
}

/// The VFS every connection opens the database with. "unix-excl" takes one exclusive lock on
/// the file the first time the process touches it and holds it until the last connection
/// closes, so the connections of this process coordinate in memory: the WAL index lives on the
/// heap instead of a `-shm` file, and a read transaction costs no `fcntl` (with the default VFS,
/// two per read, serialised on one mutex, were a tenth of a view's CPU). It also keeps every
/// other process out while the server runs, which the in-memory caches (schema, identities,
/// verified tokens) rely on: they see every write because every write is this process's.
const VFS: &str = "unix-excl";

fn open_conn(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    open_conn_creating(path, None)
}

/// [`open_conn`], setting the page size of a file it creates (before WAL mode writes the
/// file's header, after which it is fixed).
fn open_conn_creating(
    path: &Path,
    page_size: Option<u32>,
) -> rusqlite::Result<rusqlite::Connection> {
    let conn =
        rusqlite::Connection::open_with_flags_and_vfs(path, rusqlite::OpenFlags::default(), VFS)?;
    if let Some(size) = page_size {
        conn.pragma_update(None, "page_size", size)?;
    }
    // The first statement takes the process's lock on the file: a server restarted on this data
    // dir waits a moment for the old process to let go of it, but not as long as a write waits.
    conn.execute_batch(
        "PRAGMA busy_timeout = 2000;
         PRAGMA journal_mode = WAL;
         PRAGMA busy_timeout = 10000;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    register_math(&conn)?;
    Ok(conn)
}

/// The math functions PostgreSQL has built in and the compiler uses (`geoDistance`): the
/// bundled SQLite is built without its math extension.
fn register_math(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    type Unary = (&'static str, fn(f64) -> f64);
    let unary: [Unary; 5] = [
        ("acos", f64::acos),
        ("cos", f64::cos),
        ("sin", f64::sin),
        ("radians", f64::to_radians),
        ("sqrt", f64::sqrt),
    ];
    for (name, f) in unary {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            // NULL in, NULL out; NaN (acos outside [-1, 1]) is NULL as in SQLite's own extension.
            let x: Option<f64> = ctx.get(0)?;
            Ok(x.map(f).filter(|y| y.is_finite()))
        })?;
    }
    Ok(())
}

/// How often the WAL is folded back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// WAL frames left after a checkpoint above which writes are held off for a final pass.
const REWIND_AFTER_FRAMES: i64 = 1024;

/// Checkpoints the WAL until the database's last handle is dropped, so it stays small without
/// the writer paying for it.
///
/// SQLite starts the WAL over only when a write begins with every frame checkpointed, and under
/// steady writes some write always lands while a checkpoint runs: the WAL would grow without
/// bound, and every commit would pay the file system for fresh blocks (measured: a fifth of
/// the CPU of a lone insert went to zeroing new WAL pages). So a pass in PASSIVE mode (never
/// blocking readers or writers) does the bulk; when it leaves more than a few frames behind,
/// writes are held off for a second pass over just those, and the next write rewinds the log.
/// (Making the writer run whole checkpoints instead was measured worse: at 64 writers its
/// fsyncs raised p99 from about 13 to 45 ms.)
fn checkpoint_loop(
    conn: rusqlite::Connection,
    writer: &Mutex<Option<SqliteConn>>,
    stop: Receiver<()>,
) {
    let passive = || {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(1)
        })
        .inspect_err(|err| tracing::debug!(%err, "wal checkpoint"))
        .ok()
    };
    while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
        stop.recv_timeout(CHECKPOINT_EVERY)
    {
        if passive().is_some_and(|frames| frames > REWIND_AFTER_FRAMES) {
            let Some(_writes_held) = OpenConn::lock(writer) else {
                break;
            };
            passive();
        }
    }
}

/// The writer connection held by one thread, outside any transaction.
struct OpenConn<'a>(MutexGuard<'a, Option<SqliteConn>>);

impl<'a> OpenConn<'a> {
    /// `None` once the database is closed.
    fn new(guard: MutexGuard<'a, Option<SqliteConn>>) -> Option<OpenConn<'a>> {
        let mut open = OpenConn(guard);
        let conn = open.0.as_mut()?;
        // A job that panicked mid-transaction left it open: undo it before the next one.
        if !conn.conn.is_autocommit() {
            let _ = conn.conn.execute_batch("ROLLBACK");
        }
        Some(open)
    }

    fn lock(writer: &'a Mutex<Option<SqliteConn>>) -> Option<OpenConn<'a>> {
        OpenConn::new(writer.lock())
    }
}

impl std::ops::Deref for OpenConn<'_> {
    type Target = SqliteConn;
    fn deref(&self) -> &SqliteConn {
        self.0.as_ref().expect("checked open")
    }
}

impl std::ops::DerefMut for OpenConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConn {
        self.0.as_mut().expect("checked open")
    }
}

fn writer_loop(writer: &Mutex<Option<SqliteConn>>, rx: Receiver<WriterMsg>, writes: &AtomicU64) {
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Ok(first) = rx.recv() else { break };
        let mut jobs = Vec::new();
        match first {
            WriterMsg::Job(job) => jobs.push(job),
            WriterMsg::Close(done) => closing = Some(done),
        }
        // Jobs queue while an uncontended caller holds the connection: take them all.
        let Some(mut conn) = OpenConn::lock(writer) else {
            break;
        };
        while jobs.len() < MAX_GROUP && closing.is_none() {
            match rx.try_recv() {
                Ok(WriterMsg::Job(job)) => jobs.push(job),
                Ok(WriterMsg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if !jobs.is_empty() {
            run_group(&mut conn, jobs, writes);
        }
    }
    // A last full checkpoint leaves a compact database file behind; later writes find the
    // connection gone.
    if let Some(conn) = writer.lock().take() {
        let _ = conn
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Runs a group of write jobs in one transaction, each in a savepoint, then commits and delivers.
fn run_group(conn: &mut SqliteConn, jobs: Vec<WriteJob>, writes: &AtomicU64) {
    if let Err(err) = conn.batch("BEGIN IMMEDIATE") {
        let err = Error::internal_from("sqlite: cannot begin a transaction", err);
        // Run nothing; every caller learns the transaction could not start.
        for job in jobs {
            drop(job);
        }
        tracing::error!(%err, "write group dropped");
        return;
    }
    let mut deliveries = Vec::with_capacity(jobs.len());
    // A lone job needs no savepoint: its failure rolls back the whole transaction.
    let alone = jobs.len() == 1;
    let mut lone_failed = false;
    for job in jobs {
        if !alone {
            let _ = conn.batch("SAVEPOINT job");
        }
        let (ok, deliver) = job(conn);
        if alone {
            lone_failed = !ok;
        } else {
            if !ok {
                let _ = conn.batch("ROLLBACK TO job");
            }
            let _ = conn.batch("RELEASE job");
        }
        deliveries.push(deliver);
    }
    let committed = if lone_failed {
        conn.batch("ROLLBACK")
            .map_err(|e| Error::internal_from("sqlite: rollback", e))
    } else {
        conn.batch("COMMIT")
            .map_err(|e| Error::internal_from("sqlite: commit", e))
    };
    if committed.is_err() {
        let _ = conn.batch("ROLLBACK");
    }
    writes.fetch_add(1, Ordering::Release);
    for deliver in deliveries {
        deliver(clone_result(&committed));
    }
}

fn clone_result(r: &Result<()>) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::internal(e)),
    }
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn console(&mut self, query: &str, limits: &ConsoleLimits) -> Result<Console> {
        let _observed = observe::statement(Dialect::Sqlite, self.kind, query);
        console::console(&self.conn, query, limits)
    }

    fn query(&mut self, sql: &Sql) -> Result<Rows> {
        let _observed = observe::statement(Dialect::Sqlite, self.kind, sql.text());
        tracing::trace!(sql = sql.text(), params = ?sql.params(), "query");
        let SqliteConn {
            conn, names: kept, ..
        } = self;
        let mut stmt = conn
            .prepare_cached(sql.text())
            .map_err(|e| sql_error(e, sql))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(
                sql.params().iter().map(ToSqlValue),
            ))
            .map_err(|e| sql_error(e, sql))?;
        // Column names are read once, from the first row: a cached statement is re-prepared by
        // SQLite when the schema changed since it was prepared, so they are read as they are now.
        let mut columns: Option<std::sync::Arc<[String]>> = None;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sql_error(e, sql))? {
            let names = columns.get_or_insert_with(|| shared_names(kept, row.as_ref()));
            let width = names.len();
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(from_ref(row.get_ref(i)?));
            }
            out.push(values);
        }
        drop(rows);
        let columns = columns.unwrap_or_else(|| shared_names(kept, &stmt));
        Ok(Rows { columns, rows: out })
    }

    fn execute(&mut self, sql: &Sql) -> Result<usize> {
        let _observed = observe::statement(Dialect::Sqlite, self.kind, sql.text());
        tracing::trace!(sql = sql.text(), params = ?sql.params(), "execute");
        let mut stmt = self
            .conn
            .prepare_cached(sql.text())
            .map_err(|e| sql_error(e, sql))?;
        stmt.execute(rusqlite::params_from_iter(
            sql.params().iter().map(ToSqlValue),
        ))
        .map_err(|e| sql_error(e, sql))
    }

    fn execute_each(
        &mut self,
        sql: &Sql,
        next: &mut dyn FnMut(&mut [Value]) -> bool,
    ) -> Result<usize> {
        let _observed = observe::statement(Dialect::Sqlite, self.kind, sql.text());
        let mut stmt = self
            .conn
            .prepare_cached(sql.text())
            .map_err(|e| sql_error(e, sql))?;
        let mut params = sql.params().to_vec();
        let mut changed = 0;
        while next(&mut params) {
            changed += stmt
                .execute(rusqlite::params_from_iter(params.iter().map(ToSqlValue)))
                .map_err(|e| sql_error(e, sql))?;
        }
        Ok(changed)
    }
}

fn column_names(stmt: &rusqlite::Statement<'_>) -> std::sync::Arc<[String]> {
    stmt.column_names()
        .iter()
        .map(|c| (*c).to_owned())
        .collect()
}

fn from_ref(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

struct ToSqlValue<'a>(&'a Value);

impl rusqlite::ToSql for ToSqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as R};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => R::Null,
            Value::Bool(b) => R::Integer(i64::from(*b)),
            Value::Int(i) => R::Integer(*i),
            Value::Float(f) => R::Real(*f),
            Value::Text(s) => R::Text(s.as_bytes()),
            Value::Blob(b) => R::Blob(b),
        }))
    }
}

#[cfg(test)]
mod tests;
