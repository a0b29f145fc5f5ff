//! Cron jobs: PocketBase's scheduler. Jobs have an id and an expression in PocketBase's syntax
//! (`schedule`); the scheduler wakes at each minute and runs the jobs due. With several instances on one
//! database, each due job is claimed in `_cronRuns` first: one instance runs it per tick.
//!
//! Built in (`App::open`), as in PocketBase: `__pbDBOptimize__` (the planner's statistics,
//! daily), `__pbMFACleanup__` and `__pbOTPCleanup__` (expired rows, hourly).

mod schedule;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use parking_lot::RwLock;
use serde::Serialize;

pub use schedule::Schedule;

use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::rules::superusers_only;
use crate::store::{Db, tables};

/// What a job runs.
pub type JobFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

/// A job from an async function.
pub fn job<F, Fut>(f: F) -> JobFn
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    Arc::new(move || Box::pin(f()))
}

/// A job as `GET /api/crons` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobInfo {
    pub id: String,
    pub expression: String,
}

struct Job {
    info: JobInfo,
    schedule: Schedule,
    run: JobFn,
}

/// The scheduler of one app; cloning it is one reference count.
#[derive(Clone)]
pub struct Crons {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// In the order they were added; a job added again under its id replaces it in place.
    jobs: RwLock<Vec<Arc<Job>>>,
    /// The running scheduler, stopped by `stop` (or when the app closes).
    ticker: parking_lot::Mutex<Option<tokio::task::AbortHandle>>,
    /// The jobs running now, each on its own task: a job that panics or runs past the next
    /// minute neither stops the scheduler nor delays the other jobs.
    running: parking_lot::Mutex<tokio::task::JoinSet<()>>,
}

/// How long a claimed tick is remembered (a tick older than this can no longer be run).
const CLAIMS_KEPT: TimeDelta = TimeDelta::days(1);

impl Crons {
    pub fn new(db: Db) -> Crons {
        Crons {
            inner: Arc::new(Inner {
                db,
                jobs: RwLock::default(),
                ticker: parking_lot::Mutex::default(),
                running: parking_lot::Mutex::default(),
            }),
        }
    }

    /// Adds (or replaces) the job `id`, run on `expression`'s schedule.
    pub fn add(&self, id: &str, expression: &str, run: JobFn) -> Result<()> {
        if id.trim().is_empty() {
            return Err(Error::bad_request("A cron job needs an id."));
        }
        let schedule = Schedule::parse(expression)
            .map_err(|e| Error::bad_request(format!("Invalid cron expression: {e}")))?;
        let job = Arc::new(Job {
            info: JobInfo {
                id: id.to_owned(),
                expression: expression.to_owned(),
            },
            schedule,
            run,
        });
        let mut jobs = self.inner.jobs.write();
        match jobs.iter_mut().find(|j| j.info.id == id) {
            Some(existing) => *existing = job,
            None => jobs.push(job),
        }
        Ok(())
    }

    pub fn remove(&self, id: &str) {
        self.inner.jobs.write().retain(|j| j.info.id != id);
    }

    /// `GET /api/crons`: the jobs, the app's own (`__pb…`) last, as PocketBase lists them.
    pub fn list(&self, auth: &Auth) -> Result<Vec<JobInfo>> {
        superusers_only(auth)?;
        let jobs = self.inner.jobs.read();
        let (mut own, builtin): (Vec<_>, Vec<_>) = jobs
            .iter()
            .map(|j| j.info.clone())
            .partition(|j| !j.id.starts_with("__pb"));
        own.sort_by(|a, b| a.id.cmp(&b.id));
        own.extend(builtin);
        Ok(own)
    }

    /// `POST /api/crons/{id}`: starts the job now, without waiting for it.
    pub fn run_now(&self, auth: &Auth, id: &str) -> Result<()> {
        superusers_only(auth)?;
        let job = self
            .job(id)
            .ok_or_else(|| Error::NotFound("Missing or invalid cron job.".into()))?;
        self.spawn(job);
        Ok(())
    }

    /// Runs the job `id` now and waits for it: its own result (the scheduler only logs it).
    pub async fn run_and_wait(&self, id: &str) -> Result<()> {
        let job = self
            .job(id)
            .ok_or_else(|| Error::NotFound("Missing or invalid cron job.".into()))?;
        (job.run)().await
    }

    fn spawn(&self, job: Arc<Job>) {
        self.spawn_task(run(job));
    }

    /// Runs `task` on a task of its own that `stop` waits for.
    fn spawn_task(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut running = self.inner.running.lock();
        while running.try_join_next().is_some() {}
        running.spawn(task);
    }

    fn job(&self, id: &str) -> Option<Arc<Job>> {
        self.inner
            .jobs
            .read()
            .iter()
            .find(|j| j.info.id == id)
            .cloned()
    }

    /// Starts the jobs due at the minute of `at` that no instance has claimed yet, each on its
    /// own task, and waits for them. The scheduler calls it each minute without waiting (a long
    /// job must not hold the next minute back); tests call it with the time they want.
    pub async fn tick(&self, at: DateTime<Utc>) {
        let Ok(minute) = at.duration_trunc(TimeDelta::minutes(1)) else {
            return;
        };
        let due: Vec<Arc<Job>> = self
            .inner
            .jobs
            .read()
            .iter()
            .filter(|j| j.schedule.is_due(&minute))
            .cloned()
            .collect();
        let mut started = tokio::task::JoinSet::new();
        for job in due {
            let (id, tick) = (job.info.id.clone(), crate::dates::format(minute));
            let expired = crate::dates::format(minute - CLAIMS_KEPT);
            let claimed = self
                .inner
                .db
                .write(move |conn| tables::cron_runs::claim(conn, &id, tick, expired))
                .await;
            match claimed {
                Ok(true) => {
                    started.spawn(run(job));
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(job = %job.info.id, error = %e, "cron tick not claimed"),
            }
        }
        while let Some(done) = started.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a cron job panicked");
            }
        }
    }

    /// Starts the scheduler on the current runtime: a tick at the start of every minute, on a
    /// task of its own (a tick waits for its jobs; the next minute does not wait for it).
    pub fn start(&self) {
        let crons = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let now = Utc::now();
                let next = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now)
                    + TimeDelta::minutes(1);
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let tick = crons.clone();
                crons.spawn_task(async move { tick.tick(next).await });
            }
        });
        if let Some(previous) = self.inner.ticker.lock().replace(task.abort_handle()) {
            previous.abort();
        }
    }

    /// Stops the scheduler and waits, at most `within`, for the jobs running now; those still
    /// running then are cancelled.
    pub async fn stop(&self, within: std::time::Duration) {
        if let Some(ticker) = self.inner.ticker.lock().take() {
            ticker.abort();
        }
        let mut running = std::mem::take(&mut *self.inner.running.lock());
        let drained = async { while running.join_next().await.is_some() {} };
        if tokio::time::timeout(within, drained).await.is_err() {
            tracing::warn!("cron jobs still running at shutdown were cancelled");
        }
    }
}

async fn run(job: Arc<Job>) {
    let id = job.info.id.clone();
    metrics::counter!("oxbase_cron_runs_total", "job" => id.clone()).increment(1);
    if let Err(e) = (job.run)().await {
        metrics::counter!("oxbase_cron_failures_total", "job" => id).increment(1);
        tracing::warn!(job = %job.info.id, error = %e, "cron job failed");
    }
}
