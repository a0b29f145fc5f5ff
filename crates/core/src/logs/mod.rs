//! Request and app logs, as PocketBase keeps them (`/api/logs`). An entry is queued in memory
//! where it happens; a writer task stores the queue in batches ([`writer`]), so a request
//! never waits for its log. Entries live in the auxiliary database: `auxiliary.db` beside
//! SQLite's `data.db`, or the `_logs` table of PostgreSQL's database, where every instance
//! writes and any reads them all. The `logs` settings decide what is kept: `maxDays` (0: no
//! logs), `minLevel`, `logIP`, `logAuthId`.

pub mod query;
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

/// Entries queued at most; past it new ones are dropped (and counted), so a stalled database
/// costs memory no further.
const QUEUE: usize = 16_384;

/// What a request leaves in the log, as the HTTP layer saw it. The settings decide which
/// parts are kept.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    pub method: String,
    /// The path and query as requested.
    pub url: String,
    pub status: u16,
    /// Milliseconds from the request's arrival to its response.
    pub exec_time: f64,
    /// The caller's collection name and record id (none for a guest).
    pub auth: Option<(String, String)>,
    /// The client's IP (after the trusted proxy headers) and the peer's.
    pub user_ip: String,
    pub remote_ip: String,
    pub referer: String,
    pub user_agent: String,
    /// An error answer's message and details.
    pub error: Option<(String, Json)>,
}

/// One entry on its way to the database.
#[derive(Debug)]
struct Entry {
    level: i64,
    message: String,
    data: Data,
    created: String,
}

#[derive(Debug)]
enum Data {
    /// A request, with what the settings said to keep when it was logged.
    Request {
        log: Box<RequestLog>,
        keep_ip: bool,
        keep_auth_id: bool,
    },
    Attrs(Map<String, Json>),
}

enum Msg {
    Entry(Entry),
    /// Store everything queued before, then answer.
    Flush(oneshot::Sender<()>),
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
    queue: mpsc::Sender<Msg>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Logs {
    /// Creates the logs table when missing and starts the writer. `own_db` says whether `db`
    /// belongs to the logs alone (SQLite's auxiliary database), to be closed with them.
    pub async fn open(db: Db, own_db: bool, settings: Settings) -> Result<Logs> {
        db.write(tables::logs::create).await?;
        let (queue, receiver) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(writer::run(db.clone(), receiver));
        Ok(Logs {
            inner: Arc::new(Inner {
                settings,
                db,
                own_db,
                queue,
                writer: Mutex::new(Some(writer)),
            }),
        })
    }

    /// The database the entries live in.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Whether an entry of `level` would be kept now.
    pub fn keeps(&self, level: i64) -> bool {
        let settings = self.inner.settings.logs();
        settings.max_days > 0 && level >= settings.min_level
    }

    /// Logs a request: an error answer at the error level, anything else at info.
    pub fn request(&self, log: RequestLog) {
        let settings = self.inner.settings.logs();
        let level = if log.status >= 400 || log.error.is_some() {
            level::ERROR
        } else {
            level::INFO
        };
        if settings.max_days <= 0 || level < settings.min_level {
            return;
        }
        // PocketBase's message: the method and the URL, percent-decoded where it decodes.
        let message = format!("{} {}", log.method, writer::unescape(&log.url));
        self.enqueue(Entry {
            level,
            message,
            data: Data::Request {
                log: Box::new(log),
                keep_ip: settings.log_ip,
                keep_auth_id: settings.log_auth_id,
            },
            created: crate::dates::now(),
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
            created: crate::dates::now(),
        });
    }

    fn enqueue(&self, entry: Entry) {
        if self.inner.queue.try_send(Msg::Entry(entry)).is_err() {
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
        self.flush().await;
        self.delete(self.inner.settings.logs().min_level).await
    }

    async fn delete(&self, below_level: i64) -> Result<()> {
        let days = self.inner.settings.logs().max_days.clamp(0, 100_000);
        let before = crate::dates::format(chrono::Utc::now() - chrono::Duration::days(days));
        self.inner
            .db
            .write(move |conn| tables::logs::delete_old(conn, before, below_level).map(|_| ()))
            .await
    }

    /// Stores what is queued and stops the writer (and the logs' own database).
    pub async fn close(&self) {
        self.flush().await;
        let writer = self.inner.writer.lock().take();
        if let Some(writer) = writer {
            writer.abort();
            let _ = writer.await;
        }
        if self.inner.own_db {
            self.inner.db.close().await;
        }
    }
}
