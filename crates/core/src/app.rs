//! `App`: the application handle. `App::open` wires every service to its collaborators: that
//! one function is the dependency graph.

use std::sync::Arc;

use crate::auth::AuthService;
use crate::backups::Backups;
use crate::clock::Clock;
use crate::collections::Collections;
use crate::config::Config;
use crate::crons::{Crons, job};
use crate::error::{Error, Result};
use crate::events::Pipeline;
use crate::files::Files;
use crate::identity::Auth;
use crate::logs::Logs;
use crate::mail::Mailer;
use crate::ratelimit::RateLimiter;
use crate::realtime::Realtime;
use crate::records::Records;
use crate::rules::superusers_only;
use crate::schema::{Schema, system};
use crate::settings::Settings;
use crate::store::{Db, migrations, postgres::PgDb, sqlite::SqliteDb};

/// Cloning an `App` is one reference count: every request holds one.
#[derive(Clone)]
pub struct App {
    parts: Arc<Parts>,
}

struct Parts {
    db: Db,
    /// The API's self-description (OpenAPI, types), cached per schema version.
    describe: crate::describe::Describe,
    schema: Schema,
    records: Records,
    collections: Collections,
    auth: AuthService,
    settings: Settings,
    realtime: Realtime,
    relay: Option<crate::events::relay::Relay>,
    /// The bus between instances, kept for the readiness check.
    bus: Option<crate::events::bus::Bus>,
    rate_limiter: RateLimiter,
    clock: Clock,
    crons: Crons,
    logs: Logs,
    backups: Backups,
    /// The durable job queue (webhook deliveries, broker publishing, outgoing mail).
    jobs: crate::jobs::Jobs,
    webhooks: crate::webhooks::Webhooks,
    brokers: crate::brokers::Brokers,
    /// Run first when the app closes (JS `onTerminate` hooks), each on a blocking thread.
    on_close: parking_lot::Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

/// A handle that does not keep the app open: for code the app itself holds (hooks, jobs of a
/// Rust app), which would otherwise keep a closed app alive through a cycle.
#[derive(Clone)]
pub struct WeakApp(std::sync::Weak<Parts>);

impl WeakApp {
    /// The app, while anything else still holds it.
    pub fn upgrade(&self) -> Option<App> {
        self.0.upgrade().map(|parts| App { parts })
    }
}

impl App {
    /// A handle that does not keep the app open.
    pub fn downgrade(&self) -> WeakApp {
        WeakApp(Arc::downgrade(&self.parts))
    }

    /// Opens (creating when missing) the data directory and its database, runs the system
    /// migrations and creates the system collections.
    pub async fn open(config: &Config) -> Result<App> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            Error::internal(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
        let db = match &config.database_url {
            Some(url) => Db::Postgres(PgDb::connect(url, config.db_connections).await?),
            None => Db::Sqlite(SqliteDb::open(
                &config.data_dir.join("data.db"),
                config.readers,
            )?),
        };
        // Instances starting together on one PostgreSQL database migrate one at a time.
        let startup = match &db {
            Db::Postgres(pg) => Some(pg.lock_startup().await?),
            Db::Sqlite(_) => None,
        };
        let prepared = async {
            db.write(migrations::run).await?;
            if let Db::Postgres(_) = &db {
                // The logs' table is in the main database: created here, under the lock.
                db.write(crate::store::tables::logs::create).await?;
            }
            db.write(crate::store::queue::create).await?;
            let schema = Schema::load(db.clone()).await?;
            system::bootstrap(&schema).await?;
            Ok::<_, Error>(schema)
        }
        .await;
        if let Some(lock) = startup {
            lock.release().await;
        }
        let schema = prepared?;
        let files = Files::open(&config.data_dir)?;
        let events = Pipeline::default();
        let records = Records::new(schema.clone(), files.clone(), events.clone());
        let collections = Collections::new(schema.clone(), records.clone());
        let settings = Settings::load(db.clone()).await?;
        if let Err(e) = files.configure(&settings.s3()) {
            // Bad S3 settings must not keep the server from starting: files stay local.
            tracing::error!(error = %e, "S3 storage could not be set up; using the local folder");
        }
        let realtime = Realtime::start(records.clone(), &events);
        let bus = crate::events::bus::Bus::connect(config.pubsub.as_deref(), &db).await?;
        let clock = Clock::default();
        // With Redis as the bus, the rate-limit counters are shared through it too.
        let rate_limiter = match (&bus, &db) {
            (Some(crate::events::bus::Bus::Redis { publisher, .. }), Db::Postgres(pg)) => {
                RateLimiter::shared(
                    settings.clone(),
                    publisher.clone(),
                    pg.name().to_owned(),
                    clock.clone(),
                )
            }
            _ => RateLimiter::new(settings.clone(), clock.clone()),
        };
        let relay = match bus.clone() {
            Some(bus) => Some(
                crate::events::relay::start(bus, &db, &events, &schema, &settings, &files).await,
            ),
            None => None,
        };
        if let Some(relay) = &relay {
            let to_others = relay.clone();
            events.forward_to(Arc::new(move |change| {
                to_others.publish(crate::events::relay::Local::Change(change.clone()))
            }));
            let to_others = relay.clone();
            schema.on_change(Arc::new(move || {
                to_others.publish(crate::events::relay::Local::Schema)
            }));
        }
        // Started before the services that add jobs; each kind registers its handler.
        let jobs = crate::jobs::Jobs::start(db.clone());
        let mailer = Mailer::queued(settings.clone(), jobs.clone());
        let auth = AuthService::new(
            schema.clone(),
            records.clone(),
            &events,
            mailer,
            settings.clone(),
            clock.clone(),
        );
        let logs = match &db {
            Db::Sqlite(_) => {
                let aux = SqliteDb::open_with_page_size(
                    &config.data_dir.join("auxiliary.db"),
                    1,
                    Some(crate::logs::PAGE_SIZE),
                )?;
                Logs::open(Db::Sqlite(aux), true, settings.clone()).await?
            }
            Db::Postgres(_) => Logs::open(db.clone(), false, settings.clone()).await?,
        };
        let webhooks = crate::webhooks::Webhooks::start(
            settings.clone(),
            jobs.clone(),
            &events,
            &schema,
            logs.clone(),
        );
        let brokers = crate::brokers::Brokers::start(
            settings.clone(),
            jobs.clone(),
            &events,
            &schema,
            logs.clone(),
        );
        let crons = Crons::new(db.clone());
        builtin_jobs(&crons, &auth, &db, &logs)?;
        let backups = Backups::new(
            &config.data_dir,
            db.clone(),
            files.clone(),
            settings.clone(),
            crons.clone(),
        )?;
        Ok(App {
            parts: Arc::new(Parts {
                db,
                describe: crate::describe::Describe::new(schema.clone()),
                schema,
                records,
                collections,
                auth,
                settings,
                realtime,
                relay,
                bus,
                rate_limiter,
                clock,
                crons,
                logs,
                backups,
                jobs,
                webhooks,
                brokers,
                on_close: parking_lot::Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn db(&self) -> &Db {
        &self.parts.db
    }
    pub fn describe(&self) -> &crate::describe::Describe {
        &self.parts.describe
    }
    pub fn schema(&self) -> &Schema {
        &self.parts.schema
    }
    pub fn records(&self) -> &Records {
        &self.parts.records
    }
    pub fn collections(&self) -> &Collections {
        &self.parts.collections
    }
    pub fn auth(&self) -> &AuthService {
        &self.parts.auth
    }
    pub fn settings(&self) -> &Settings {
        &self.parts.settings
    }
    /// The time expiry checks read; tests move it forward (`Clock::advance`).
    pub fn clock(&self) -> &Clock {
        &self.parts.clock
    }
    pub fn realtime(&self) -> &Realtime {
        &self.parts.realtime
    }
    /// The change pipeline: consumers of every record change register here, by phase.
    pub fn events(&self) -> &Pipeline {
        self.parts.records.events()
    }
    pub fn files(&self) -> &Files {
        self.parts.records.files()
    }

    /// `POST /api/settings/test/s3` (superusers only, checked before `body` is looked at):
    /// checks the S3 settings of its `filesystem` (`storage` or `backups`) by writing,
    /// reading and deleting a probe file.
    pub async fn test_s3(&self, caller: &Auth, body: Result<serde_json::Value>) -> Result<()> {
        superusers_only(caller)?;
        let body = body?;
        let filesystem = body
            .get("filesystem")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let s3 = match filesystem {
            "storage" => self.parts.settings.s3(),
            "backups" => self.parts.settings.backups_s3(),
            "" => return Err(s3_test_failed("validation_required", "Cannot be blank.")),
            _ => {
                return Err(s3_test_failed(
                    "validation_in_invalid",
                    "Must be a valid value.",
                ));
            }
        };
        if !s3
            .get("enabled")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
        {
            return Err(Error::bad_request(
                "Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled.",
            ));
        }
        crate::files::Storage::test_s3(&s3).await
    }

    /// `GET /api/settings` (superusers only): the settings without their secrets.
    pub fn view_settings(&self, caller: &Auth) -> Result<serde_json::Value> {
        superusers_only(caller)?;
        Ok(self.parts.settings.public())
    }

    /// `PATCH /api/settings` (superusers only, checked before `input` is looked at): stores
    /// the change, then lets the file storage follow the `s3` settings.
    pub async fn update_settings(
        &self,
        caller: &Auth,
        input: Result<serde_json::Value>,
    ) -> Result<serde_json::Value> {
        superusers_only(caller)?;
        let updated = self.parts.settings.patch(&input?).await?;
        if let Some(relay) = &self.parts.relay {
            relay.publish(crate::events::relay::Local::Settings);
        }
        self.files().configure(&self.parts.settings.s3())?;
        if let Err(e) = self.parts.logs.prune().await {
            tracing::warn!(error = %e, "old log entries could not be deleted");
        }
        Ok(updated)
    }

    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.parts.rate_limiter
    }

    /// Readiness: the database answers and, when instances share a bus, the bus is up
    /// (`GET /api/health?ready=1`). Each check has a second to answer.
    pub async fn ready(&self) -> Result<()> {
        let within = std::time::Duration::from_secs(1);
        let unavailable = |what: &str| Error::Unavailable(format!("The {what} is not available."));
        match tokio::time::timeout(within, self.parts.db.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database does not answer");
                return Err(unavailable("database"));
            }
            Err(_) => return Err(unavailable("database")),
        }
        if let Some(bus) = &self.parts.bus {
            match tokio::time::timeout(within, bus.ping()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "readiness: the bus is down");
                    return Err(unavailable("message bus"));
                }
                Err(_) => return Err(unavailable("message bus")),
            }
        }
        Ok(())
    }

    pub fn crons(&self) -> &Crons {
        &self.parts.crons
    }

    /// The request and app logs.
    pub fn logs(&self) -> &Logs {
        &self.parts.logs
    }

    pub fn jobs(&self) -> &crate::jobs::Jobs {
        &self.parts.jobs
    }

    /// Webhook deliveries and their dead letters.
    pub fn webhooks(&self) -> &crate::webhooks::Webhooks {
        &self.parts.webhooks
    }

    /// Broker publishing and its dead letters.
    pub fn brokers(&self) -> &crate::brokers::Brokers {
        &self.parts.brokers
    }

    pub fn backups(&self) -> &Backups {
        &self.parts.backups
    }

    /// After a restore, tells the other instances on the database to reload the schema and
    /// the settings (nothing to tell on SQLite).
    pub fn announce_restore(&self) {
        if let Some(relay) = &self.parts.relay {
            relay.publish(crate::events::relay::Local::Schema);
            relay.publish(crate::events::relay::Local::Settings);
        }
    }

    /// Registers `f` to run when the app closes, before anything stops.
    pub fn on_close(&self, f: Box<dyn FnOnce() + Send>) {
        self.parts.on_close.lock().push(f);
    }

    /// Waits for the work spawned after commits, commits what is queued and stops the
    /// database threads.
    pub async fn close(&self) {
        let closing: Vec<_> = std::mem::take(&mut *self.parts.on_close.lock());
        for f in closing {
            let _ = tokio::task::spawn_blocking(f).await;
        }
        self.parts
            .crons
            .stop(std::time::Duration::from_secs(10))
            .await;
        self.parts
            .jobs
            .stop(std::time::Duration::from_secs(15))
            .await;
        self.parts.auth.drain().await;
        // File deletions deferred by a backup finish first: a restore replaces the storage
        // folder next, and a late one would delete from the restored files.
        drop(self.files().hold_deletions().await);
        if let Some(relay) = &self.parts.relay {
            relay.flush(std::time::Duration::from_secs(5)).await;
            relay.stop();
        }
        self.parts.logs.close().await;
        self.parts.db.close().await;
    }
}

fn s3_test_failed(code: &str, message: &str) -> Error {
    let mut data = crate::error::FieldErrors::new();
    data.insert(
        "filesystem".into(),
        crate::error::field_error_json(code, message),
    );
    Error::BadRequest {
        message: "Failed to test the S3 filesystem.".into(),
        data,
    }
}

/// PocketBase's own jobs (`__pb…`), with its ids and schedules.
fn builtin_jobs(crons: &Crons, auth: &AuthService, db: &Db, logs: &Logs) -> Result<()> {
    let db = db.clone();
    crons.add(
        "__pbDBOptimize__",
        "0 0 * * *",
        job(move || {
            let db = db.clone();
            async move {
                let optimize = db.dialect().optimize();
                db.write(move |conn| conn.execute(&optimize).map(|_| ()))
                    .await
            }
        }),
    )?;
    let mfa = auth.clone();
    crons.add(
        "__pbMFACleanup__",
        "0 * * * *",
        job(move || {
            let auth = mfa.clone();
            async move { auth.delete_expired_mfas().await }
        }),
    )?;
    let otp = auth.clone();
    crons.add(
        "__pbOTPCleanup__",
        "0 * * * *",
        job(move || {
            let auth = otp.clone();
            async move { auth.delete_expired_otps().await }
        }),
    )?;
    // PocketBase registers it last, and lists the jobs in that order.
    let logs = logs.clone();
    crons.add(
        "__pbLogsCleanup__",
        "0 */6 * * *",
        job(move || {
            let logs = logs.clone();
            async move { logs.delete_old().await }
        }),
    )
}
