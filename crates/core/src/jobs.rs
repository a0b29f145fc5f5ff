//! The one durable job queue (`_jobs`, the same on SQLite and PostgreSQL): jobs are added in
//! the transaction of the change they follow (so a rolled-back change leaves none), claimed
//! under a lease by a worker (instances sharing a PostgreSQL database skip each other's rows),
//! retried with exponential backoff and jitter, and kept as dead once out of attempts. A kind
//! of job (`webhook`, `broker`, `mail`) brings its handler and its retry policy ([`Jobs::handle`]).
//! Superusers list, view and replay each kind's dead jobs over HTTP ([`DeadLetters`]).
//!
//! Metrics: `oxbase_jobs_pending`, `oxbase_jobs_oldest_pending_seconds`, `oxbase_jobs_dead`
//! (gauges, refreshed at most each second by the worker, when `/metrics` is on), `oxbase_jobs_failures_total{kind}` and
//! `oxbase_jobs_done_total{kind}`.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use rand::Rng;
use tokio::sync::Notify;

use crate::dates::unix_micros;
use crate::error::Result;
use crate::identity::Auth;
use crate::identity::superusers_only;
use crate::store::Db;
use crate::store::queue::{self as table};
pub use crate::store::queue::{JobRow, NewJob};

/// Jobs claimed per round (at most one per key and target).
const BATCH: i64 = 128;
/// The queue's gauges are refreshed at most this often (counting a long backlog costs).
const STATS_EVERY: Duration = Duration::from_secs(1);
/// How long a claimed job is held: past it (its instance died mid-attempt) another may run it.
const LEASE: Duration = Duration::from_secs(60);
/// The longest a worker sleeps between looks at the table (another instance's expired leases,
/// retries coming due).
const IDLE: Duration = Duration::from_secs(2);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Dead letters listed at most (oldest first).
const DEAD_LISTED: i64 = 500;

/// An attempt's result: `Err` carries what went wrong, kept on the row and logged.
pub type Outcome = std::result::Result<(), String>;
type Attempt = Pin<Box<dyn Future<Output = Outcome> + Send>>;
type Handler = Arc<dyn Fn(JobRow) -> Attempt + Send + Sync>;
/// A kind's retry policy, read at each failure.
pub type Policy = Arc<dyn Fn() -> Retry + Send + Sync>;

/// How a kind of job is retried, read at each failure (settings may change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all before the job is dead.
    pub max_attempts: i64,
    /// The wait after the first failure; it doubles after each next one (with jitter).
    pub base: Duration,
}

impl Retry {
    /// When to try again after `attempts` failed attempts, or `None`: no attempt left. The
    /// wait is `base · 2^(attempts-1)`, capped, each time drawn between its half and its whole
    /// ("equal jitter"), so receivers that failed together are not retried together.
    pub fn next_at(&self, attempts: i64, now: i64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = (attempts - 1).clamp(0, 30) as u32;
        let full = self
            .base
            .saturating_mul(1u32 << exp.min(20))
            .min(MAX_BACKOFF)
            .as_micros() as i64;
        let half = full / 2;
        let wait = half + rand::rng().random_range(0..=half.max(0));
        Some(now + wait.max(1))
    }
}

/// The queue of one app; cloning it is one reference count.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    kinds: RwLock<HashMap<String, (Handler, Policy)>>,
    /// Wakes the worker when a job was added here (it also looks every [`IDLE`]).
    wake: Notify,
    stop: tokio_util::sync::CancellationToken,
    /// The worker, awaited at stop: a round under way finishes, so no lease outlives a
    /// clean shutdown.
    worker: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// When the gauges were last refreshed.
    stats_at: parking_lot::Mutex<Option<std::time::Instant>>,
}

impl Jobs {
    /// The queue on `db` (its table created at start), with its worker on the current runtime.
    pub fn start(db: Db) -> Jobs {
        let jobs = Jobs {
            inner: Arc::new(Inner {
                db,
                kinds: RwLock::new(HashMap::new()),
                wake: Notify::new(),
                stop: tokio_util::sync::CancellationToken::new(),
                worker: parking_lot::Mutex::new(None),
                stats_at: parking_lot::Mutex::new(None),
            }),
        };
        let handle = tokio::spawn(worker(Arc::downgrade(&jobs.inner)));
        *jobs.inner.worker.lock() = Some(handle);
        jobs
    }

    /// Runs the jobs of `kind` with `handler`, retried as `policy` says.
    pub fn handle<F, Fut>(&self, kind: &str, policy: Policy, handler: F)
    where
        F: Fn(JobRow) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |job| Box::pin(handler(job)));
        self.inner
            .kinds
            .write()
            .insert(kind.to_owned(), (handler, policy));
    }

    /// Adds `job` on `conn` (inside the caller's transaction: it exists once that commits).
    pub fn push(&self, conn: &mut dyn crate::store::Conn, job: NewJob) -> Result<()> {
        table::push(conn, job, unix_micros())?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Adds `job` in a transaction of its own (work that follows no change: outgoing mail).
    pub async fn add(&self, job: NewJob) -> Result<()> {
        self.inner
            .db
            .write(move |conn| table::push(conn, job, unix_micros()))
            .await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Has the worker look at the table now (a job committed).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Dead jobs of `kind`, oldest first.
    pub async fn dead(&self, kind: &str, limit: i64) -> Result<Vec<JobRow>> {
        let kind = kind.to_owned();
        self.inner
            .db
            .read(move |conn| table::dead(conn, &kind, limit))
            .await
    }

    /// The dead job of `kind` carrying event `id` (404 when there is none, or it is not dead).
    pub async fn find_dead(&self, kind: &str, id: &str) -> Result<JobRow> {
        let (kind, id) = (kind.to_owned(), id.to_owned());
        let found = self
            .inner
            .db
            .read(move |conn| table::by_id(conn, &kind, &id))
            .await?;
        match found {
            Some(job) if job.status == crate::store::queue::DEAD => Ok(job),
            _ => Err(crate::error::Error::not_found()),
        }
    }

    /// Makes the dead job of `kind` carrying event `id` pending again, with fresh attempts, in
    /// its record's order (404 unless it is dead).
    pub async fn replay_dead(&self, kind: &str, id: &str) -> Result<()> {
        let seq = self.find_dead(kind, id).await?.seq;
        let revived = self
            .inner
            .db
            .write(move |conn| table::revive(conn, seq, unix_micros()))
            .await?;
        self.inner.wake.notify_one();
        match revived {
            true => Ok(()),
            false => Err(crate::error::Error::not_found()),
        }
    }

    /// Stops the worker, letting the round under way finish (at most `within`; a job whose
    /// attempt is cut short stays leased, and runs again once its lease ends).
    pub async fn stop(&self, within: Duration) {
        self.inner.stop.cancel();
        let worker = self.inner.worker.lock().take();
        if let Some(worker) = worker
            && tokio::time::timeout(within, worker).await.is_err()
        {
            tracing::warn!("the job queue's worker was still running at close");
        }
    }
}

/// The dead jobs of one kind as superusers list, view and replay them
/// (`/api/webhooks/dead-letters`, `/api/brokers/...`, `/api/mail/...`); `T` is how the API
/// shows one. Cloning it is one reference count.
pub struct DeadLetters<T> {
    jobs: Jobs,
    kind: &'static str,
    shown: PhantomData<fn(JobRow) -> T>,
}

impl<T> Clone for DeadLetters<T> {
    fn clone(&self) -> Self {
        DeadLetters {
            jobs: self.jobs.clone(),
            kind: self.kind,
            shown: PhantomData,
        }
    }
}

impl<T: From<JobRow>> DeadLetters<T> {
    /// The dead jobs of `kind` in `jobs`.
    pub fn new(jobs: Jobs, kind: &'static str) -> DeadLetters<T> {
        DeadLetters {
            jobs,
            kind,
            shown: PhantomData,
        }
    }

    /// `GET .../dead-letters` (superusers only): oldest first, 500 at most.
    pub async fn list(&self, caller: &Auth) -> Result<Vec<T>> {
        superusers_only(caller)?;
        let rows = self.jobs.dead(self.kind, DEAD_LISTED).await?;
        Ok(rows.into_iter().map(T::from).collect())
    }

    /// `GET .../dead-letters/{id}` (superusers only; 404 unless it is dead).
    pub async fn view(&self, caller: &Auth, id: &str) -> Result<T> {
        superusers_only(caller)?;
        self.jobs.find_dead(self.kind, id).await.map(T::from)
    }

    /// `POST .../dead-letters/{id}/replay` (superusers only): run again, with the same id and
    /// payload and fresh attempts, in its key's order (404 unless it is dead).
    pub async fn replay(&self, caller: &Auth, id: &str) -> Result<()> {
        superusers_only(caller)?;
        self.jobs.replay_dead(self.kind, id).await
    }
}

/// Claims due jobs, runs them concurrently (one per key and target at a time), records each
/// outcome, and sleeps until woken or [`IDLE`] has passed.
async fn worker(inner: std::sync::Weak<Inner>) {
    loop {
        // Held for one round and one sleep: a dropped app's worker ends at its next turn.
        let Some(queue) = inner.upgrade() else { return };
        if queue.stop.is_cancelled() {
            return;
        }
        let claimed = round(&queue).await;
        // A full batch may have more behind it: look again at once. A job added during the
        // round left a permit, so the sleep ends at once too.
        if claimed < BATCH as usize {
            tokio::select! {
                _ = queue.wake.notified() => {}
                _ = queue.stop.cancelled() => return,
                _ = tokio::time::sleep(IDLE) => {}
            }
        }
    }
}

/// One round; returns how many jobs it ran.
async fn round(queue: &Inner) -> usize {
    let now = unix_micros();
    let lease_until = now + LEASE.as_micros() as i64;
    let kinds: Vec<String> = queue.kinds.read().keys().cloned().collect();
    let claimed = match claim(queue, kinds, now, lease_until).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "the job queue could not be read");
            return 0;
        }
    };
    let count = claimed.len();
    let attempts: Vec<_> = claimed
        .into_iter()
        .map(|job| {
            let kind = queue.kinds.read().get(&job.kind).cloned();
            async move {
                let Some((handler, policy)) = kind else {
                    // Claimed only when registered, and never unregistered: unreachable.
                    return None;
                };
                let outcome = handler(job.clone()).await;
                Some((job, outcome, policy()))
            }
        })
        .collect();
    let done: Vec<_> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .flatten()
        .collect();
    record(queue, done).await;
    // Counting a backlog reads every row of it: only when a recorder takes the gauges.
    let due = crate::store::observe::measuring() && {
        let mut at = queue.stats_at.lock();
        let due = at.is_none_or(|t| t.elapsed() >= STATS_EVERY);
        if due {
            *at = Some(std::time::Instant::now());
        }
        due
    };
    if due && let Ok((pending, oldest, dead)) = queue.db.read(table::stats).await {
        metrics::gauge!("oxbase_jobs_pending").set(pending as f64);
        metrics::gauge!("oxbase_jobs_dead").set(dead as f64);
        let age = oldest.map_or(0.0, |t| (unix_micros() - t).max(0) as f64 / 1e6);
        metrics::gauge!("oxbase_jobs_oldest_pending_seconds").set(age);
    }
    count
}

/// A round's jobs, at most [`BATCH`]. On SQLite a read: the process holds the file alone and
/// its one worker records a round's outcomes before it claims again, so no job it finds is
/// under way, and a lease written (and each page written again) per job would only take the
/// writer from users' writes. On PostgreSQL other instances claim from the same table: a look
/// first (most rounds find nothing due, and need not write), then the due rows locked, skipping
/// other instances' locks, and leased past the transaction.
async fn claim(
    queue: &Inner,
    kinds: Vec<String>,
    now: i64,
    lease_until: i64,
) -> Result<Vec<JobRow>> {
    if queue.db.dialect() == oxbase_sql::Dialect::Sqlite {
        return queue
            .db
            .read(move |conn| table::due(conn, &kinds, now, BATCH))
            .await;
    }
    let looked = kinds.clone();
    if !queue
        .db
        .read(move |conn| table::any_due(conn, &looked, now))
        .await?
    {
        return Ok(Vec::new());
    }
    queue
        .db
        .write(move |conn| {
            let jobs = table::due(conn, &kinds, now, BATCH)?;
            table::lease(conn, &jobs, lease_until)?;
            Ok(jobs)
        })
        .await
}

/// What becomes of a job after its attempt: `None`, done; or its error and when it is due
/// again (`None`: dead).
type Verdict = Option<(String, Option<i64>)>;

/// Stores a round's outcomes in one write: done jobs go, failed ones are due again later (or
/// dead).
async fn record(queue: &Inner, done: Vec<(JobRow, Outcome, Retry)>) {
    if done.is_empty() {
        return;
    }
    let now = unix_micros();
    let outcomes: Vec<(i64, Verdict)> = done
        .into_iter()
        .map(|(job, outcome, retry)| match outcome {
            Ok(()) => {
                metrics::counter!("oxbase_jobs_done_total", "kind" => job.kind).increment(1);
                (job.seq, None)
            }
            Err(error) => {
                metrics::counter!("oxbase_jobs_failures_total", "kind" => job.kind).increment(1);
                (job.seq, Some((error, retry.next_at(job.attempts + 1, now))))
            }
        })
        .collect();
    let count = outcomes.len();
    let stored = queue
        .db
        .write(move |conn| {
            let done: Vec<i64> = outcomes
                .iter()
                .filter(|(_, failure)| failure.is_none())
                .map(|(seq, _)| *seq)
                .collect();
            table::finish(conn, &done)?;
            for (seq, failure) in &outcomes {
                if let Some((error, next)) = failure {
                    table::fail(conn, *seq, error, *next)?;
                }
            }
            Ok(())
        })
        .await;
    if let Err(e) = stored {
        // The leases expire and the jobs run again: at least once.
        tracing::warn!(error = %e, jobs = count, "a round's outcomes could not be stored");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_maximum() {
        let retry = Retry {
            max_attempts: 4,
            base: Duration::from_secs(1),
        };
        for (attempts, full) in [(1, 1_000_000), (2, 2_000_000), (3, 4_000_000)] {
            for _ in 0..50 {
                let wait = retry.next_at(attempts, 0).expect("an attempt left");
                assert!(wait >= full / 2 && wait <= full, "{attempts}: {wait}");
            }
        }
        assert_eq!(retry.next_at(4, 0), None);
    }

    #[test]
    fn backoff_is_capped() {
        let retry = Retry {
            max_attempts: 100,
            base: Duration::from_secs(60),
        };
        let wait = retry.next_at(40, 0).expect("an attempt left");
        assert!(wait <= MAX_BACKOFF.as_micros() as i64);
    }
}
