//! Request and app logs, as PocketBase keeps them (`/api/logs`). An entry is queued in memory
//! where it happens; a writer task stores the queue in batches ([`writer`]), so a request
//! never waits for its log. Entries live in the auxiliary database: `auxiliary.db` beside
//! SQLite's `data.db`, or the `_logs` table of PostgreSQL's database, where every instance
//! writes and any reads them all. The `logs` settings decide what is kept: `maxDays` (0: no
//! logs), `minLevel`, `logIP`, `logAuthId`.

pub mod query;
mod queue;
mod writer;

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Map, Value as Json};
use tokio::sync::{mpsc, oneshot};

use crate::error::Result;
use crate::settings::Settings;
use crate::store::{Db, tables};

/// Levels as PocketBase stores them (Go's `slog` levels).
pub mod level {
    pub const DEBUG: i64 = -4;
    pub const INFO: i64 = 0;
    pub const WARN: i64 = 4;
    pub const ERROR: i64 = 8;
}

/// The page size of SQLite's `auxiliary.db` when it is created: an entry is appended to the
/// table and two indexes, and 16 KiB pages cost about a fifth less CPU per entry than SQLite's
/// default 4 KiB (fewer page splits, WAL frames and checkpoint copies).
pub const PAGE_SIZE: u32 = 16_384;

/// Entries queued at most; past it new ones are dropped (and counted), so a stalled database
/// costs memory no further.
const QUEUE: usize = 32_768;

/// What a request leaves in the log, as the HTTP layer saw it, borrowed from its facts. The
/// settings decide which parts are kept.
#[derive(Debug, Clone, Copy)]
pub struct RequestLog<'a> {
    pub method: &'a str,
    /// The path and query as requested.
    pub url: &'a str,
    pub status: u16,
    /// Milliseconds from the request's arrival to its response.
    pub exec_time: f64,
    /// The caller's collection name and record id (none for a guest).
    pub auth: Option<(&'a str, &'a str)>,
    /// The client's IP as the trusted proxy headers give it (none: the peer's).
    pub proxied_ip: Option<&'a str>,
    /// The peer's IP.
    pub remote_ip: Option<std::net::IpAddr>,
    pub referer: &'a str,
    pub user_agent: &'a str,
    /// An error answer's message and details.
    pub error: Option<(&'a str, &'a Json)>,
}

/// A request as the HTTP layer saw it, kept raw on the request path and read by the log's
/// writer into its entry: a request pays for no formatting.
pub trait RequestFacts: Send + 'static {
    /// Whether the answer is an error (logged at the error level).
    fn failed(&self) -> bool;
    fn log(&self) -> RequestLog<'_>;
}

/// One entry on its way to the database.
struct Entry {
    level: i64,
    /// An app event's message (a request's is written from its method and URL).
    message: String,
    data: Data,
    /// µs since the Unix epoch; written as a date only when the entry becomes a row.
    created: i64,
}

enum Data {
    /// A request, with what the settings said to keep when it was logged.
    Request {
        log: Box<dyn RequestFacts>,
        keep_ip: bool,
        keep_auth_id: bool,
    },
    Attrs(Map<String, Json>),
}

/// What the writer is asked, beside storing entries.
enum Msg {
    /// Store everything queued before, then answer.
    Flush(oneshot::Sender<()>),
    /// Store everything queued before, then delete the entries created at or before `before`
    /// or below `below_level`.
    Delete {
        before: String,
        below_level: i64,
        done: oneshot::Sender<Result<()>>,
    },
    /// Store everything queued before and stop.
    Stop,
}

/// Now, in µs since the Unix epoch: what an entry keeps (a calendar date is made only when
/// the entry becomes a row).
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// How long a stop or a deletion waits for the writer (a database that stopped answering).
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

tokio::task_local! {
    /// Set while the writer runs: the server's events raised by its own work (a failing
    /// batch) are not logged to the store, which would feed it.
    static IN_WRITER: ();
}

/// Whether the caller runs inside the log writer.
pub fn in_writer() -> bool {
    IN_WRITER.try_with(|()| ()).is_ok()
}

/// The log service; clones share the queue.
#[derive(Clone)]
pub struct Logs {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    db: Db,
    /// Whether `db` is the logs' own database (closed with them).
    own_db: bool,
    entries: Arc<queue::EntryQueue>,
    /// Messages to the writer, each answered after what was queued before it is stored.
    queue: mpsc::Sender<Msg>,
    /// Answered when the writer has stopped.
    stopped: Mutex<Option<oneshot::Receiver<()>>>,
}

impl Logs {
    /// Creates the logs table when missing and starts the writer. `own_db` says whether `db`
    /// belongs to the logs alone (SQLite's auxiliary database), to be closed with them.
    pub async fn open(db: Db, own_db: bool, settings: Settings) -> Result<Logs> {
        if own_db {
            // Otherwise the table is in the app's database, created with its migrations.
            db.write(tables::logs::create).await?;
        }
        let entries = Arc::new(queue::EntryQueue::new(QUEUE));
        let (queue, receiver) = mpsc::channel(64);
        let (stop, stopped) = oneshot::channel();
        let run = IN_WRITER.scope((), writer::run(db.clone(), entries.clone(), receiver));
        let run = async move {
            run.await;
            let _ = stop.send(());
        };
        if own_db {
            // SQLite may run a write on the calling thread: the batches must not hold a
            // worker of the async runtime, so the writer has a thread of its own.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .map_err(crate::Error::internal)?;
            std::thread::Builder::new()
                .name("oxbase-logs".into())
                .spawn(move || runtime.block_on(run))
                .map_err(crate::Error::internal)?;
        } else {
            tokio::spawn(run);
        }
        Ok(Logs {
            inner: Arc::new(Inner {
                settings,
                db,
                own_db,
                entries,
                queue,
                stopped: Mutex::new(Some(stopped)),
            }),
        })
    }

    /// The database the entries live in.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Makes rows of the entries stored in batches since the last read (SQLite; see
    /// `tables::logs`), a part at a time, before the logs are read.
    pub(crate) async fn index_pending(&self) -> Result<()> {
        while self.db().write(tables::logs::index_pending).await? {}
        Ok(())
    }

    /// Whether an entry of `level` would be kept now.
    pub fn keeps(&self, level: i64) -> bool {
        let settings = self.inner.settings.logs();
        settings.max_days > 0 && level >= settings.min_level
    }

    /// Logs a request: an error answer at the error level, anything else at info. The
    /// settings are read now, when it ends: a request that changes them (`PATCH
    /// /api/settings`) is logged as they say afterwards, as in PocketBase.
    pub fn request(&self, log: Box<dyn RequestFacts>) {
        let settings = self.inner.settings.logs();
        let level = if log.failed() {
            level::ERROR
        } else {
            level::INFO
        };
        if settings.max_days <= 0 || level < settings.min_level {
            return;
        }
        self.enqueue(Entry {
            level,
            message: String::new(),
            data: Data::Request {
                log,
                keep_ip: settings.log_ip,
                keep_auth_id: settings.log_auth_id,
            },
            created: now_micros(),
        });
    }

    /// Logs an app event (a `tracing` event of the server) with its attributes.
    pub fn app(&self, level: i64, message: String, attrs: Map<String, Json>) {
        if !self.keeps(level) {
            return;
        }
        self.enqueue(Entry {
            level,
            message,
            data: Data::Attrs(attrs),
            created: now_micros(),
        });
    }

    fn enqueue(&self, entry: Entry) {
        if !self.inner.entries.push(entry) {
            metrics::counter!("oxbase_logs_dropped_total").increment(1);
        }
    }

    /// Stores every entry queued so far.
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.inner.queue.send(Msg::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }

    /// Deletes the entries older than `maxDays` days (the `__pbLogsCleanup__` job).
    pub async fn delete_old(&self) -> Result<()> {
        self.delete(i64::MIN).await
    }

    /// After a change of the `logs` settings: deletes what they no longer keep, the old and
    /// the entries below `minLevel`.
    pub async fn prune(&self) -> Result<()> {
        self.delete(self.inner.settings.logs().min_level).await
    }

    /// Deletes on the writer, after what is queued is stored (a large deletion holds no
    /// request's thread).
    async fn delete(&self, below_level: i64) -> Result<()> {
        let days = self.inner.settings.logs().max_days.clamp(0, 100_000);
        let before = crate::dates::format(chrono::Utc::now() - chrono::Duration::days(days));
        let (done, deleted) = oneshot::channel();
        let msg = Msg::Delete {
            before,
            below_level,
            done,
        };
        let waited = tokio::time::timeout(PATIENCE, async {
            self.inner.queue.send(msg).await.ok()?;
            deleted.await.ok()
        })
        .await;
        match waited {
            Ok(Some(result)) => result,
            Ok(None) => Err(crate::Error::internal("the log writer has stopped")),
            Err(_) => Err(crate::Error::TimedOut),
        }
    }

    /// Stores what is queued and stops the writer (and the logs' own database); gives up
    /// after `PATIENCE` on a database that does not answer.
    pub async fn close(&self) {
        let stopped = self.inner.stopped.lock().take();
        if let Some(stopped) = stopped {
            let stop = async {
                if self.inner.queue.send(Msg::Stop).await.is_ok() {
                    let _ = stopped.await;
                }
            };
            if tokio::time::timeout(PATIENCE, stop).await.is_err() {
                tracing::warn!("the log writer did not stop in time: queued entries are lost");
            }
        }
        if self.inner.own_db {
            self.inner.db.close().await;
        }
    }
}
