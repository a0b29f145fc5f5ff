//! PostgreSQL behind `Db`: a `deadpool-postgres` pool of `tokio-postgres` clients.
//!
//! Feature code hands the store synchronous closures over `&mut dyn Conn` (the same closures
//! SQLite runs on its threads). Here each closure runs on a blocking thread holding one pooled
//! client; every statement it issues is sent on that client and awaited there, so async tasks
//! never block. `write` wraps the closure in a transaction and answers after `COMMIT`.
//!
//! Values are bound by the type PostgreSQL inferred for each placeholder: the store's six
//! `Value` variants convert to it (text to JSONB, integers to doubles...), so SQL text stays the
//! same for both databases except where `Dialect` says otherwise.

use std::error::Error as StdError;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use oxbase_sql::{Dialect, Sql, Value};
use tokio::runtime::Handle;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};

use super::console::{Console, ConsoleColumn, ConsoleLimits};
use super::observe::{self, Kind};
use super::{Conn, Rows};
use crate::error::{Error, Result, StoreErrorKind};

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATEs of text PostgreSQL cannot hold (a NUL character, say): the input's fault.
const UNSTORABLE_TEXT: [&str; 2] = ["22021", "22P05"];
const FOREIGN_KEY_VIOLATION: &str = "23503";
const NOT_NULL_VIOLATION: &str = "23502";
const CHECK_VIOLATION: &str = "23514";
/// Lock and serialization failures, deadlocks.
const BUSY: [&str; 3] = ["55P03", "40001", "40P01"];

#[derive(Clone)]
pub struct PgDb {
    pool: Pool,
    url: String,
    /// This database among those of the process (`Db::key`).
    key: usize,
    /// Where the connections live (see [`ConnectOn`]).
    runtime: Handle,
}

/// The last `PgDb::key` given.
static KEYS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn next_key() -> usize {
    KEYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

impl PgDb {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) with up to `max_connections`.
    pub async fn connect(url: &str, max_connections: usize) -> Result<PgDb> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::internal(format!("invalid database URL: {e}")))?;
        // No JIT: it compiles a query whose estimated cost is high (a filter on JSON values,
        // whose subqueries PostgreSQL overestimates) for tens of milliseconds to seconds,
        // while the queries here run in a few milliseconds. The URL's options go after.
        let options = match config.get_options() {
            Some(o) => format!("-c jit=off {o}"),
            None => "-c jit=off".to_owned(),
        };
        config.options(&options);
        let runtime = Handle::current();
        let pool = pool(config, max_connections.max(2), &runtime)?;
        // Fail at start, not at the first request, when the database cannot be reached.
        let client = pool
            .get()
            .await
            .map_err(|e| Error::internal(format!("cannot connect to PostgreSQL: {e}")))?;
        client.simple_query("SELECT 1").await.map_err(pg_error)?;
        Ok(PgDb {
            pool,
            url: url.to_owned(),
            key: next_key(),
            runtime,
        })
    }

    pub(crate) fn key(&self) -> usize {
        self.key
    }

    /// Forgets the statements every pooled connection prepared: a definition changed, and a
    /// statement reading its table would fail (`cached plan must not change result type`).
    pub fn forget_statements(&self) {
        self.pool.manager().statement_caches.clear();
    }

    pub fn load(&self) -> super::Load {
        let status = self.pool.status();
        super::Load {
            queued_writes: 0,
            connections: status.size,
            idle_connections: status.available,
            waiting_for_connection: status.waiting,
        }
    }

    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        self.run(false, f).await
    }

    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        self.run(true, f).await
    }

    async fn run<R, F>(&self, transaction: bool, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        let client = self.pool.get().await.map_err(pool_error)?;
        let handle = Handle::current();
        tokio::task::spawn_blocking(move || {
            let mut conn = PgConn {
                client,
                handle,
                discard: false,
                kind: if transaction { Kind::Write } else { Kind::Read },
            };
            let result = if transaction {
                conn.transaction(f)
            } else {
                f(&mut conn)
            };
            if conn.discard {
                drop(deadpool_postgres::Object::take(conn.client));
            }
            result
        })
        .await
        .map_err(Error::internal)?
    }

    /// `pg_notify(channel, payload)`: delivered to every listener once sent (outside a
    /// transaction, so at once).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    /// The database's name: what instances sharing it have in common.
    pub fn name(&self) -> &str {
        self.url
            .rsplit('/')
            .next()
            .and_then(|n| n.split('?').next())
            .unwrap_or("")
    }

    /// One connection's life of LISTENing on `channels`: notifications go to `tx` as
    /// (channel, payload) until the connection is lost. Unless `first`, `("", "")` is sent once
    /// listening again: what was sent meanwhile is lost, so a receiver refreshes its caches.
    /// `events::bus` runs it again after every loss.
    pub async fn listen_once(
        &self,
        channels: &[String],
        tx: &tokio::sync::mpsc::UnboundedSender<(String, String)>,
        first: bool,
    ) -> Result<()> {
        listen_once(&self.url, channels, tx, first).await
    }

    /// Holds the startup lock (a session advisory lock) until the returned guard is released,
    /// so that instances starting together run migrations one at a time.
    pub async fn lock_startup(&self) -> Result<AdvisoryLock> {
        let client = self.pool.get().await.map_err(pool_error)?;
        AdvisoryLock::take(client, STARTUP_LOCK).await
    }

    /// Holds the lock of the app's migrations (`pb_migrations`) until the returned guard is
    /// released, so that they run on one instance at a time. Its connection is taken from the
    /// pool: the migrations themselves use others.
    pub async fn lock_app_migrations(&self) -> Result<AdvisoryLock> {
        let client = self.pool.get().await.map_err(pool_error)?;
        AdvisoryLock::take(client, APP_MIGRATIONS_LOCK).await
    }

    /// A handle whose every read runs in one `REPEATABLE READ READ ONLY` transaction: one
    /// connection, its transaction begun here and never committed (the pool hands it back as
    /// it is), so everything read through it is one consistent snapshot while other
    /// connections go on writing. Closing it ends the transaction. Should the connection be
    /// lost, the pool may not open another (it would read outside the snapshot): every later
    /// read fails instead.
    pub async fn pinned(&self) -> Result<PgDb> {
        let config: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| Error::internal(format!("invalid database URL: {e}")))?;
        let opened = std::sync::atomic::AtomicBool::new(false);
        let only_once = deadpool_postgres::Hook::sync_fn(move |_, _| {
            if opened.swap(true, std::sync::atomic::Ordering::AcqRel) {
                return Err(deadpool_postgres::HookError::message(
                    "the snapshot's connection was lost",
                ));
            }
            Ok(())
        });
        let pool = builder(config, 1, &self.runtime)
            .post_create(only_once)
            .build()
            .map_err(Error::internal)?;
        let client = pool.get().await.map_err(pool_error)?;
        // The snapshot is taken by the first statement after BEGIN.
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1")
            .await
            .map_err(pg_error)?;
        drop(client);
        Ok(PgDb {
            pool,
            url: self.url.clone(),
            key: next_key(),
            runtime: self.runtime.clone(),
        })
    }

    /// Nothing is queued outside PostgreSQL: closing the pool is enough.
    pub async fn close(&self) {
        self.pool.close();
    }
}

/// A pool of up to `max_size` connections made with `config`. Fast recycling (a closed
/// connection is replaced, nothing else is checked or reset) is what lets `PgDb::pinned`
/// keep its transaction open across uses.
fn pool(config: tokio_postgres::Config, max_size: usize, runtime: &Handle) -> Result<Pool> {
    builder(config, max_size, runtime)
        .build()
        .map_err(Error::internal)
}

fn builder(
    config: tokio_postgres::Config,
    max_size: usize,
    runtime: &Handle,
) -> deadpool_postgres::PoolBuilder {
    let manager = Manager::from_connect(
        config,
        ConnectOn(runtime.clone()),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager).max_size(max_size)
}

/// Opens connections on the runtime the database was opened on (the server's), whichever
/// runtime asks for one. A connection is a socket registered with the runtime that opened
/// it and a task that runtime drives: one opened on a per-core event loop would stall
/// whenever that loop waits, and with it every query sent on it, from any thread (seen: a
/// hook's `e.next()` blocking its loop on a collection's save whose connection the loop
/// itself had opened).
struct ConnectOn(Handle);

impl deadpool_postgres::Connect for ConnectOn {
    fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> futures_util::future::BoxFuture<
        '_,
        std::result::Result<
            (tokio_postgres::Client, tokio::task::JoinHandle<()>),
            tokio_postgres::Error,
        >,
    > {
        let open = |config: tokio_postgres::Config| async move {
            let (client, connection) = config.connect(NoTls).await?;
            let driver = tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "a PostgreSQL connection failed");
                }
            });
            Ok((client, driver))
        };
        let opened = self.0.spawn(open(config.clone()));
        let config = config.clone();
        Box::pin(async move {
            match opened.await {
                Ok(opened) => opened,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // That runtime is shutting down: the asking one opens it.
                Err(_) => open(config).await,
            }
        })
    }
}

/// The advisory lock key of startup work (system migrations, system collections).
const STARTUP_LOCK: i64 = 0x6f78_6261_7365;
/// The advisory lock key of the app's migrations (its JS files), taken after startup.
const APP_MIGRATIONS_LOCK: i64 = 0x6f78_6261_7366;

/// A held session advisory lock; `release` it once the work it guards is done (a lost
/// connection releases it too).
pub struct AdvisoryLock {
    client: deadpool_postgres::Object,
    key: i64,
}

impl AdvisoryLock {
    async fn take(client: deadpool_postgres::Object, key: i64) -> Result<AdvisoryLock> {
        client
            .execute("SELECT pg_advisory_lock($1)", &[&key])
            .await
            .map_err(pg_error)?;
        Ok(AdvisoryLock { client, key })
    }

    pub async fn release(self) {
        if let Err(e) = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await
        {
            tracing::warn!(error = %e, "could not release an advisory lock");
        }
    }
}

async fn listen_once(
    url: &str,
    channels: &[String],
    tx: &tokio::sync::mpsc::UnboundedSender<(String, String)>,
    first: bool,
) -> Result<()> {
    use futures_util::StreamExt;
    let (client, mut connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(pg_error)?;
    let (msg_tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    // The connection delivers notifications as it is polled: a task drives it.
    let driver = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = stream.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if msg_tx
                        .send((n.channel().to_owned(), n.payload().to_owned()))
                        .is_err()
                    {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    for channel in channels {
        let quoted = oxbase_sql::Ident::new(channel)
            .ok_or_else(|| Error::internal("invalid channel name"))?
            .quoted();
        client
            .batch_execute(&format!("LISTEN {quoted}"))
            .await
            .map_err(pg_error)?;
    }
    if !first {
        let _ = tx.send((String::new(), String::new()));
    }
    while let Some(message) = messages.recv().await {
        if tx.send(message).is_err() {
            break;
        }
    }
    drop(client);
    match driver.await {
        Ok(Err(e)) => Err(pg_error(e)),
        _ => Ok(()),
    }
}

/// One pooled client, lent to a closure on a blocking thread.
pub struct PgConn {
    client: deadpool_postgres::Object,
    handle: Handle,
    /// Closed after use instead of returned to the pool (the SQL console's connection).
    discard: bool,
    /// What it runs statements for (a write transaction or reads), for their metrics.
    kind: Kind,
}

/// Why a console statement failed: PostgreSQL refused it (shown to the caller), or not.
enum ConsoleFailure {
    Query(tokio_postgres::Error),
    Other(Error),
}

impl PgConn {
    fn transaction<R>(&mut self, f: impl FnOnce(&mut dyn Conn) -> Result<R>) -> Result<R> {
        self.batch("BEGIN")?;
        let result = f(self);
        match &result {
            Ok(_) => {
                if let Err(e) = self.batch("COMMIT") {
                    let _ = self.batch("ROLLBACK");
                    return Err(e);
                }
            }
            Err(_) => self.batch("ROLLBACK")?,
        }
        result
    }

    fn console_statement(
        &mut self,
        query: &str,
        types: &[String],
        limits: &ConsoleLimits,
    ) -> std::result::Result<Console, ConsoleFailure> {
        use futures_util::StreamExt;
        // A number of ours, not a value of the caller's: SET takes no bound parameter.
        self.batch(&format!(
            "SET LOCAL statement_timeout = {}",
            limits.timeout.as_millis()
        ))
        .map_err(ConsoleFailure::Other)?;
        let (client, handle) = (&self.client, &self.handle);
        handle.block_on(async {
            let stream = client
                .simple_query_raw(query)
                .await
                .map_err(ConsoleFailure::Query)?;
            futures_util::pin_mut!(stream);
            let mut answer = Console::default();
            let mut returned_rows = false;
            while let Some(message) = stream.next().await {
                match message.map_err(ConsoleFailure::Query)? {
                    tokio_postgres::SimpleQueryMessage::RowDescription(columns) => {
                        returned_rows = true;
                        answer.columns = columns
                            .iter()
                            .enumerate()
                            .map(|(i, c)| ConsoleColumn {
                                name: c.name().to_owned(),
                                ty: types.get(i).cloned().unwrap_or_default(),
                                nullable: true,
                            })
                            .collect();
                    }
                    tokio_postgres::SimpleQueryMessage::Row(row) => {
                        answer.rows.push(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_owned))
                                .collect(),
                        );
                        // A read stops at the rows it shows (the connection is not reused).
                        if !limits.write && answer.rows.len() >= limits.max_rows {
                            break;
                        }
                        if answer.rows.len() > limits.max_rows {
                            answer.rows.pop();
                        }
                    }
                    tokio_postgres::SimpleQueryMessage::CommandComplete(n) => {
                        answer.affected_rows = if returned_rows { 0 } else { n };
                    }
                    _ => {}
                }
            }
            Ok(answer)
        })
    }

    /// A statement without values (`BEGIN`, `COMMIT`, `SET LOCAL`...), observed as the others.
    fn batch(&mut self, sql: &str) -> Result<()> {
        let _observed = observe::statement(Dialect::Postgres, self.kind, sql);
        self.handle
            .block_on(self.client.batch_execute(sql))
            .map_err(pg_error)
    }

    fn statement(&mut self, sql: &Sql) -> Result<(tokio_postgres::Statement, String)> {
        let text = Dialect::Postgres.render(sql);
        let stmt = self
            .handle
            .block_on(self.client.prepare_cached(&text))
            .map_err(|e| sql_error(e, &text))?;
        Ok((stmt, text))
    }
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    /// The console's statement on PostgreSQL: one statement only (PostgreSQL must prepare it,
    /// which also names its columns' types), a read in a `READ ONLY` transaction rolled back, a
    /// write in the write transaction it is given, under `statement_timeout`, its rows read up
    /// to the cap. The connection is closed afterwards rather than returned to the pool: a
    /// statement may have changed the session (`SET`, `PREPARE`, a lock).
    fn console(&mut self, query: &str, limits: &ConsoleLimits) -> Result<Console> {
        let _observed = observe::statement(Dialect::Postgres, self.kind, query);
        self.discard = true;
        let failed = |e: tokio_postgres::Error| {
            Error::bad_request(format!(
                "Failed to execute query. Raw error:\n{}.",
                describe(&e)
            ))
        };
        let stmt = self
            .handle
            .block_on(self.client.prepare(query))
            .map_err(failed)?;
        let types: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.type_().name().to_uppercase())
            .collect();
        if !limits.write {
            self.batch("BEGIN READ ONLY")?;
        }
        let answer = self
            .console_statement(query, &types, limits)
            .map_err(|e| match e {
                ConsoleFailure::Query(e) => failed(e),
                ConsoleFailure::Other(e) => e,
            });
        if !limits.write {
            let _ = self.batch("ROLLBACK");
        }
        answer
    }

    fn query(&mut self, sql: &Sql) -> Result<Rows> {
        let observed = observe::statement(Dialect::Postgres, self.kind, sql.text());
        tracing::trace!(sql = sql.text(), params = ?sql.params(), "query");
        let (stmt, text) = self.statement(sql)?;
        observed.sent_as(&text);
        // A NUL character cannot be stored, so no stored text holds one: in a query it may
        // stand as U+FFFD (nothing stored matches either way) instead of failing it.
        // Copied only in that rare case: every other query binds its values as they are.
        let has_nul = |v: &Value| matches!(v, Value::Text(t) if t.contains('\0'));
        let cleaned: Option<Vec<Value>> = sql.params().iter().any(has_nul).then(|| {
            sql.params()
                .iter()
                .map(|v| match v {
                    Value::Text(t) => Value::Text(t.replace('\0', "\u{FFFD}")),
                    other => other.clone(),
                })
                .collect()
        });
        let values = cleaned.as_deref().unwrap_or(sql.params());
        let params: Vec<PgParam<'_>> = values.iter().map(PgParam).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let mut answer = self.handle.block_on(self.client.query(&stmt, &refs));
        let mut stmt = stmt;
        if answer.as_ref().is_err_and(stale_plan) {
            // A definition changed since this connection prepared the statement (another
            // instance's change, not yet heard of here): prepared again. Outside a
            // transaction only: inside, the failure has aborted it.
            self.client.statement_cache.clear();
            if self.kind == Kind::Read {
                stmt = self.statement(sql)?.0;
                answer = self.handle.block_on(self.client.query(&stmt, &refs));
            }
        }
        let rows = answer.map_err(|e| sql_error(e, &text))?;
        let columns: std::sync::Arc<[String]> =
            stmt.columns().iter().map(|c| c.name().to_owned()).collect();
        let rows = rows
            .iter()
            .map(|row| (0..columns.len()).map(|i| column_value(row, i)).collect())
            .collect();
        Ok(Rows { columns, rows })
    }

    fn execute(&mut self, sql: &Sql) -> Result<usize> {
        let observed = observe::statement(Dialect::Postgres, self.kind, sql.text());
        tracing::trace!(sql = sql.text(), params = ?sql.params(), "execute");
        let (stmt, text) = self.statement(sql)?;
        observed.sent_as(&text);
        let params: Vec<PgParam<'_>> = sql.params().iter().map(PgParam).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let n = self
            .handle
            .block_on(self.client.execute(&stmt, &refs))
            .map_err(|e| sql_error(e, &text))?;
        Ok(n as usize)
    }
}

/// A failed statement, its kind read from PostgreSQL's SQLSTATE. A constraint's detail is
/// worded as SQLite's (`UNIQUE constraint failed: t.a, t.b`), as PocketBase shows it.
/// Whether PostgreSQL refused a prepared statement whose table's columns changed since.
fn stale_plan(err: &tokio_postgres::Error) -> bool {
    err.as_db_error().is_some_and(|db| {
        db.code() == &tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED
            && db
                .message()
                .contains("cached plan must not change result type")
    })
}

fn sql_error(err: tokio_postgres::Error, text: &str) -> Error {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        let table = db.table().unwrap_or("").to_owned();
        if code == UNIQUE_VIOLATION {
            let columns = db.detail().and_then(key_columns).unwrap_or_default();
            let list = columns
                .iter()
                .map(|c| format!("{table}.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            let index = db.constraint().map(str::to_owned);
            return Error::store(
                StoreErrorKind::Unique {
                    table,
                    columns,
                    index,
                },
                format!("UNIQUE constraint failed: {list}"),
            );
        }
        if code == FOREIGN_KEY_VIOLATION {
            return Error::store(StoreErrorKind::ForeignKey, "FOREIGN KEY constraint failed");
        }
        if code.starts_with("23") {
            // In SQLite's words, as on SQLite (PB-COMPAT: PocketBase's database), so either
            // database answers a refused constraint alike.
            let detail = match (code, db.column(), db.constraint()) {
                (NOT_NULL_VIOLATION, Some(column), _) => {
                    format!("NOT NULL constraint failed: {table}.{column}")
                }
                (CHECK_VIOLATION, _, Some(name)) => format!("CHECK constraint failed: {name}"),
                _ => db.message().to_owned(),
            };
            return Error::store(StoreErrorKind::Constraint, detail);
        }
        if UNSTORABLE_TEXT.contains(&code) {
            // PB-COMPAT: SQLite stores NUL characters, PostgreSQL cannot: a 400, never a 500.
            return Error::store(StoreErrorKind::Unstorable, db.message().to_owned());
        }
        if BUSY.contains(&code) {
            return Error::store(StoreErrorKind::Busy, db.message().to_owned());
        }
    }
    Error::internal_from(format!("postgres, in `{text}`"), err)
}

/// A connection the pool could not give, with PostgreSQL's own reason (e.g. too many clients).
fn pool_error(err: deadpool_postgres::PoolError) -> Error {
    match &err {
        deadpool_postgres::PoolError::Backend(e) => {
            Error::internal(format!("PostgreSQL pool: {}", describe(e)))
        }
        _ => Error::internal_from("PostgreSQL pool", err),
    }
}

fn pg_error(err: tokio_postgres::Error) -> Error {
    Error::internal_from("postgres", err)
}

fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => err.to_string(),
    }
}

/// `Key (a, lower(b))=(1, x) already exists.` → `["a", "b"]`.
fn key_columns(detail: &str) -> Option<Vec<String>> {
    let inner = detail.strip_prefix("Key (")?.split(")=(").next()?;
    Some(
        inner
            .split(',')
            .map(|c| {
                let c = c.trim();
                // An expression index such as lower(email): the column inside it.
                let c = c.rsplit('(').next().unwrap_or(c).trim_end_matches(')');
                c.trim_matches('"').to_owned()
            })
            .filter(|c| !c.is_empty())
            .collect(),
    )
}

/// A column of a row as a store `Value`, by its PostgreSQL type.
fn column_value(row: &Row, i: usize) -> Value {
    let ty = row.columns()[i].type_();
    let v = match *ty {
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)
            .map(|v| v.map(Value::Bool)),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map(|v| v.map(|x| Value::Int(x.into()))),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map(|v| v.map(|x| Value::Int(x.into()))),
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)
            .map(|v| v.map(|x| Value::Float(x.into()))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map(|v| v.map(float)),
        Type::JSON | Type::JSONB => row
            .try_get::<_, Option<serde_json::Value>>(i)
            .map(|v| v.map(|j| Value::Text(j.to_string()))),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)
            .map(|v| v.map(Value::Blob)),
        _ => row
            .try_get::<_, Option<String>>(i)
            .map(|v| v.map(Value::Text)),
    };
    v.ok().flatten().unwrap_or(Value::Null)
}

/// Whole doubles read back as integers, as SQLite's NUMERIC columns give them.
fn float(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}

/// A `Value` bound as whatever type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
struct PgParam<'a>(&'a Value);

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Bool(b) => bind_number(
                if *b { 1.0 } else { 0.0 },
                Some(*b),
                &b.to_string(),
                ty,
                out,
            ),
            Value::Int(i) => match *ty {
                // Exact for integers beyond a double's precision.
                Type::INT8 => i.to_sql(ty, out),
                _ => bind_number(*i as f64, None, &i.to_string(), ty, out),
            },
            Value::Float(f) => bind_number(*f, None, &f.to_string(), ty, out),
            Value::Text(s) => bind_text(s, ty, out),
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => String::from_utf8_lossy(b).as_ref().to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn bind_number(
    x: f64,
    as_bool: Option<bool>,
    text: &str,
    ty: &Type,
    out: &mut BytesMut,
) -> std::result::Result<IsNull, BoxError> {
    match *ty {
        Type::INT2 => (x as i16).to_sql(ty, out),
        Type::INT4 => (x as i32).to_sql(ty, out),
        Type::INT8 => (x as i64).to_sql(ty, out),
        Type::FLOAT4 => (x as f32).to_sql(ty, out),
        Type::FLOAT8 => x.to_sql(ty, out),
        Type::BOOL => as_bool.unwrap_or(x != 0.0).to_sql(ty, out),
        Type::JSON | Type::JSONB => match as_bool {
            Some(b) => serde_json::Value::Bool(b).to_sql(ty, out),
            None => serde_json::Number::from_f64(x)
                .map_or(serde_json::Value::Null, |n| {
                    if x.fract() == 0.0 && x.abs() < 9e15 {
                        serde_json::Value::from(x as i64)
                    } else {
                        serde_json::Value::Number(n)
                    }
                })
                .to_sql(ty, out),
        },
        _ => text.to_sql(ty, out),
    }
}

fn bind_text(s: &str, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
    match *ty {
        // Text holding JSON is the JSON; other text is a JSON string.
        Type::JSON | Type::JSONB => serde_json::from_str::<serde_json::Value>(s)
            .unwrap_or_else(|_| serde_json::Value::String(s.to_owned()))
            .to_sql(ty, out),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT4 | Type::FLOAT8 => {
            let x: f64 = s.trim().parse().unwrap_or(0.0);
            bind_number(x, None, s, ty, out)
        }
        Type::BOOL => matches!(s.trim(), "1" | "t" | "true" | "TRUE" | "True").to_sql(ty, out),
        Type::BYTEA => s.as_bytes().to_sql(ty, out),
        _ => s.to_sql(ty, out),
    }
}

#[cfg(test)]
mod tests {
    use super::key_columns;

    #[test]
    fn unique_violation_details_name_their_columns() {
        assert_eq!(
            key_columns("Key (email)=(a@b.c) already exists."),
            Some(vec!["email".to_owned()])
        );
        assert_eq!(
            key_columns("Key (\"user\", room)=(u, r) already exists."),
            Some(vec!["user".to_owned(), "room".to_owned()])
        );
        assert_eq!(
            key_columns("Key (lower(email))=(x) already exists."),
            Some(vec!["email".to_owned()])
        );
        assert_eq!(key_columns("nothing"), None);
    }
}
