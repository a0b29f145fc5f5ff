//! SQLite behind `Db`: WAL mode, one writer thread and a small pool of reader threads, each
//! owning its connection and fed through a channel.
//!
//! The writer groups the write jobs waiting in its queue into one transaction (each job in its
//! own SAVEPOINT, so one job's failure rolls back only that job) and commits once: this is what
//! keeps write throughput high under concurrency, since the fsync-bound commit is shared.

use std::path::Path;
use std::thread;

use crossbeam_channel::{Receiver, Sender};
use oxbase_sql::{Dialect, Sql, Value};
use rusqlite::types::ValueRef;
use tokio::sync::oneshot;

use super::{Conn, Rows, closed};
use crate::error::{Error, Result};

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
    readers: Sender<ReadJob>,
    /// Dropped with the last handle, which stops the checkpoint thread.
    _checkpoint_stop: std::sync::Arc<Sender<()>>,
}

/// A SQLite connection as the store's `Conn`.
pub struct SqliteConn {
    conn: rusqlite::Connection,
}

impl SqliteDb {
    /// Opens (creating when missing) the database file, with `readers` reader threads.
    pub fn open(path: &Path, readers: usize) -> Result<SqliteDb> {
        let writer_conn = open_conn(path)?;
        // The writer never checkpoints: a checkpoint fsyncs the database file, which would stall
        // every queued write behind it. A separate thread checkpoints passively instead.
        writer_conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        let checkpointer = open_conn(path)?;
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        thread::Builder::new()
            .name("oxbase-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, stop_rx))
            .map_err(Error::internal)?;
        let (writer_tx, writer_rx) = crossbeam_channel::unbounded::<WriterMsg>();
        thread::Builder::new()
            .name("oxbase-sqlite-writer".into())
            .spawn(move || writer_loop(SqliteConn { conn: writer_conn }, writer_rx))
            .map_err(Error::internal)?;

        let (reader_tx, reader_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for i in 0..readers.max(1) {
            let mut conn = SqliteConn {
                conn: open_conn(path)?,
            };
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
            readers: reader_tx,
            _checkpoint_stop: std::sync::Arc::new(stop_tx),
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
        self.writer
            .send(WriterMsg::Job(job))
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(WriterMsg::Close(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

fn open_conn(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA busy_timeout = 10000;
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
fn register_math(conn: &rusqlite::Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let unary: [(&str, fn(f64) -> f64); 5] = [
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

/// Checkpoints the WAL in PASSIVE mode (never blocking readers or the writer) until the
/// database's last handle is dropped, so the WAL stays small without the writer paying for it.
///
/// Under steady writes the WAL does not start over (SQLite rewinds it only when a write begins
/// with every frame checkpointed, and some write always lands while a checkpoint runs): it
/// grows through a burst and rewinds at the first pause. Making the writer finish a checkpoint
/// so that it rewinds sooner was measured (oxbase-bench insert): it saves the kernel's block
/// allocation, but the writer's fsyncs cost more latency than that saves (p99 at 64 writers
/// went from about 13 to 45 ms), so the writer stays out of checkpoints.
fn checkpoint_loop(conn: rusqlite::Connection, stop: Receiver<()>) {
    while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
        stop.recv_timeout(CHECKPOINT_EVERY)
    {
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!(%err, "wal checkpoint");
        }
    }
}

fn writer_loop(mut conn: SqliteConn, rx: Receiver<WriterMsg>) {
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Ok(first) = rx.recv() else { break };
        let mut jobs = Vec::new();
        match first {
            WriterMsg::Job(job) => jobs.push(job),
            WriterMsg::Close(done) => closing = Some(done),
        }
        while jobs.len() < MAX_GROUP && closing.is_none() {
            match rx.try_recv() {
                Ok(WriterMsg::Job(job)) => jobs.push(job),
                Ok(WriterMsg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if !jobs.is_empty() {
            run_group(&mut conn, jobs);
        }
    }
    // A last full checkpoint leaves a compact database file behind.
    let _ = conn
        .conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Runs a group of write jobs in one transaction, each in a savepoint, then commits and delivers.
fn run_group(conn: &mut SqliteConn, jobs: Vec<WriteJob>) {
    if let Err(err) = conn.conn.execute_batch("BEGIN IMMEDIATE") {
        let err = Error::Internal(format!("sqlite: cannot begin a transaction: {err}"));
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
            let _ = conn.conn.execute_batch("SAVEPOINT job");
        }
        let (ok, deliver) = job(conn);
        if alone {
            lone_failed = !ok;
        } else {
            if !ok {
                let _ = conn.conn.execute_batch("ROLLBACK TO job");
            }
            let _ = conn.conn.execute_batch("RELEASE job");
        }
        deliveries.push(deliver);
    }
    let committed = if lone_failed {
        conn.conn
            .execute_batch("ROLLBACK")
            .map_err(|e| Error::Internal(e.to_string()))
    } else {
        conn.conn
            .execute_batch("COMMIT")
            .map_err(|e| Error::Internal(e.to_string()))
    };
    if committed.is_err() {
        let _ = conn.conn.execute_batch("ROLLBACK");
    }
    for deliver in deliveries {
        deliver(clone_result(&committed));
    }
}

fn clone_result(r: &Result<()>) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::Internal(e.to_string())),
    }
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&mut self, sql: &Sql) -> Result<Rows> {
        tracing::trace!(sql = sql.text(), params = ?sql.params(), "query");
        let mut stmt = self
            .conn
            .prepare_cached(sql.text())
            .map_err(|e| sql_error(e, sql))?;
        let mut columns: std::sync::Arc<[String]> = stmt
            .column_names()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(
                sql.params().iter().map(ToSqlValue),
            ))
            .map_err(|e| sql_error(e, sql))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sql_error(e, sql))? {
            if out.is_empty() {
                // A cached statement is re-prepared by SQLite when the schema changed since it
                // was prepared: read the column names as they are now.
                columns = row
                    .as_ref()
                    .column_names()
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect();
            }
            let width = columns.len();
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(from_ref(row.get_ref(i)?));
            }
            out.push(values);
        }
        Ok(Rows { columns, rows: out })
    }

    fn execute(&mut self, sql: &Sql) -> Result<usize> {
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
}

fn sql_error(err: rusqlite::Error, sql: &Sql) -> Error {
    if let rusqlite::Error::SqliteFailure(code, _) = &err
        && code.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return Error::bad_request(format!("constraint failed: {err}"));
    }
    Error::Internal(format!("sqlite: {err} in `{}`", sql.text()))
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
