//! `App`: the application handle. `App::open` wires every service to its collaborators: that
//! one function is the dependency graph.

use std::sync::Arc;

use crate::auth::AuthService;
use crate::collections::Collections;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::mail::Mailer;
use crate::ratelimit::RateLimiter;
use crate::realtime::Realtime;
use crate::records::Records;
use crate::schema::{system, Schema};
use crate::settings::Settings;
use crate::store::{migrations, sqlite::SqliteDb, Db};

/// Cloning an `App` is one reference count: every request holds one.
#[derive(Clone)]
pub struct App {
    parts: Arc<Parts>,
}

struct Parts {
    db: Db,
    schema: Schema,
    records: Records,
    collections: Collections,
    auth: AuthService,
    settings: Settings,
    realtime: Realtime,
    rate_limiter: RateLimiter,
}

impl App {
    /// Opens (creating when missing) the data directory and its database, runs the system
    /// migrations and creates the system collections.
    pub async fn open(config: &Config) -> Result<App> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| Error::internal(format!("cannot create {}: {e}", config.data_dir.display())))?;
        let db = Db::Sqlite(SqliteDb::open(&config.data_dir.join("data.db"), config.readers)?);
        db.write(migrations::run).await?;
        let schema = Schema::load(db.clone()).await?;
        system::bootstrap(&schema).await?;
        let records = Records::new(schema.clone());
        let collections = Collections::new(schema.clone(), records.clone());
        let settings = Settings::load(db.clone()).await?;
        let mailer = Mailer::new(settings.clone());
        let auth = AuthService::new(schema.clone(), records.clone(), mailer, settings.clone());
        let realtime = Realtime::start(records.clone());
        let rate_limiter = RateLimiter::new(settings.clone());
        Ok(App { parts: Arc::new(Parts { db, schema, records, collections, auth, settings, realtime, rate_limiter }) })
    }

    pub fn db(&self) -> &Db {
        &self.parts.db
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
    pub fn realtime(&self) -> &Realtime {
        &self.parts.realtime
    }
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.parts.rate_limiter
    }

    /// Commits what is queued and stops the database threads.
    pub async fn close(&self) {
        self.parts.db.close().await;
    }
}
