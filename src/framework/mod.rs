//! oxbase as a Rust library, as PocketBase's Go framework mode: an app registers record hooks,
//! routes and cron jobs on an [`Oxbase`], then starts the same server `oxbase serve` runs.
//!
//! ```no_run
//! use oxbase::ServeConfig;
//! use oxbase::framework::{Caller, Oxbase, RecordEvent};
//! use oxbase::framework::axum::{Json, http::Method};
//!
//! # async fn run() -> Result<(), String> {
//! let mut app = Oxbase::new(ServeConfig::new("ox_data"));
//! app.on_record_create(["posts"], |e: &mut RecordEvent| {
//!     let slug = e.record.get_str("title").to_lowercase().replace(' ', "-");
//!     e.record.set("slug", slug);
//!     Ok(())
//! });
//! app.route(Method::GET, "/api/hello", |Caller(auth): Caller| async move {
//!     Json(serde_json::json!({ "superuser": auth.is_superuser() }))
//! });
//! app.cron("digest", "0 3 * * *", |app| async move {
//!     let posts = app.records().count("posts", "", &Default::default()).await?;
//!     tracing::info!(posts, "nightly digest");
//!     Ok(())
//! });
//! app.start().await
//! # }
//! ```
//!
//! Everything registered here is installed on each app the server opens: the first one, and
//! the one reopened after a backup is restored. It goes through the extension points the JS
//! hooks use (`TransactionHook`, `on_local_change`, the cron scheduler, `custom` routes), so
//! the two kinds of hooks run side by side, the Rust ones first.

mod hooks;
mod routes;

use std::future::Future;
use std::sync::Arc;

use axum::handler::Handler;
use axum::http::Method;

pub use axum;
pub use hooks::{RecordDeleteEvent, RecordEvent, RecordSuccessEvent};
pub use oxbase_api::error::ApiError;
pub use oxbase_core::events::Action;
pub use oxbase_core::schema::Record;
pub use oxbase_core::{App, Auth, Error, Result};
pub use routes::{BuiltIn, Caller, JsonBody};

use crate::{Application, ServeConfig};
use hooks::{RecordHooks, Tagged};
use routes::RouteTable;

/// A server being set up: its configuration and what the app adds to it.
pub struct Oxbase {
    config: ServeConfig,
    extensions: Extensions,
}

/// What a Rust app adds to the server: record hooks, routes and cron jobs.
#[derive(Clone, Default)]
pub struct Extensions {
    hooks: RecordHooks,
    routes: RouteTable,
    crons: Vec<Cron>,
    /// Registration mistakes, reported when the server is built.
    problems: Vec<String>,
}

/// A job of the app, given the app it runs in.
type CronJob =
    Arc<dyn Fn(App) -> std::pin::Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

#[derive(Clone)]
struct Cron {
    id: String,
    expression: String,
    job: CronJob,
}

impl Oxbase {
    pub fn new(config: ServeConfig) -> Oxbase {
        Oxbase {
            config,
            extensions: Extensions::default(),
        }
    }

    /// Runs `hook` inside the transaction of each record created in the collections named
    /// (names or ids; none: all), before the record is checked: it may change the record, or
    /// reject the write with an error (answered to the request as any core error is).
    /// PocketBase's `OnRecordCreate`.
    pub fn on_record_create<'t>(
        &mut self,
        tags: impl IntoIterator<Item = &'t str>,
        hook: impl Fn(&mut RecordEvent<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let hook = Tagged::new(tags, Arc::new(hook) as _);
        self.extensions.hooks.create.push(hook);
        self
    }

    /// The same for each record updated (`e.original` is the stored record).
    pub fn on_record_update<'t>(
        &mut self,
        tags: impl IntoIterator<Item = &'t str>,
        hook: impl Fn(&mut RecordEvent<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let hook = Tagged::new(tags, Arc::new(hook) as _);
        self.extensions.hooks.update.push(hook);
        self
    }

    /// Runs `hook` inside the transaction of each record deleted (the one asked for, before
    /// its cascade); an error rejects the delete.
    pub fn on_record_delete<'t>(
        &mut self,
        tags: impl IntoIterator<Item = &'t str>,
        hook: impl Fn(&mut RecordDeleteEvent<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let hook = Tagged::new(tags, Arc::new(hook) as _);
        self.extensions.hooks.delete.push(hook);
        self
    }

    /// Runs `hook` after each record creation this instance commits, before the response;
    /// an error is logged (the record is saved).
    pub fn on_record_after_create_success<'t>(
        &mut self,
        tags: impl IntoIterator<Item = &'t str>,
        hook: impl Fn(&RecordSuccessEvent<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let hook = Tagged::new(tags, Arc::new(hook) as _);
        self.extensions.hooks.after_create.push(hook);
        self
    }

    /// The same after each update.
    pub fn on_record_after_update_success<'t>(
        &mut self,
        tags: impl IntoIterator<Item = &'t str>,
        hook: impl Fn(&RecordSuccessEvent<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let hook = Tagged::new(tags, Arc::new(hook) as _);
        self.extensions.hooks.after_update.push(hook);
        self
    }

    /// The same after each delete.
    pub fn on_record_after_delete_success<'t>(
        &mut self,
        tags: impl IntoIterator<Item = &'t str>,
        hook: impl Fn(&RecordSuccessEvent<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let hook = Tagged::new(tags, Arc::new(hook) as _);
        self.extensions.hooks.after_delete.push(hook);
        self
    }

    /// Answers `method path` with an axum handler, before the built-in routes (so it may
    /// also take a path oxbase serves, and wrap it with [`BuiltIn`]). Paths are axum's:
    /// `/api/hello/{name}`, `/files/{*rest}`. The handler's state is the app
    /// (`State<App>`); [`Caller`] is who asks.
    pub fn route<H, T>(&mut self, method: Method, path: &str, handler: H) -> &mut Self
    where
        H: Handler<T, App>,
        T: 'static,
    {
        let added = routes::method_filter(&method).and_then(|filter| {
            self.extensions
                .routes
                .add(method, path, axum::routing::on(filter, handler))
        });
        if let Err(problem) = added {
            self.extensions.problems.push(problem);
        }
        self
    }

    /// Runs `job` on `expression`'s schedule (PocketBase's cron syntax: `*/5 * * * *`,
    /// `@hourly`...), listed in `GET /api/crons` as `id`. With several instances on one
    /// database, one of them runs it at each tick.
    pub fn cron<F, Fut>(&mut self, id: &str, expression: &str, job: F) -> &mut Self
    where
        F: Fn(App) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        if id.trim().is_empty() {
            self.extensions
                .problems
                .push("a cron job needs an id".into());
        } else if let Err(e) = oxbase_core::crons::Schedule::parse(expression) {
            self.extensions.problems.push(format!(
                "cron job {id}: invalid expression {expression:?}: {e}"
            ));
        }
        self.extensions.crons.push(Cron {
            id: id.to_owned(),
            expression: expression.to_owned(),
            job: Arc::new(move |app| Box::pin(job(app))),
        });
        self
    }

    /// Opens the app and binds its listener (a registration mistake fails here).
    pub async fn build(self) -> std::result::Result<Application, String> {
        Application::build_with(self.config, self.extensions).await
    }

    /// Serves until `shutdown` resolves, then stops as `oxbase serve` does.
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::result::Result<(), String> {
        let app = self.build().await?;
        println!("{}", app.banner());
        app.run_until_stopped(shutdown)
            .await
            .map_err(|e| e.to_string())
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn start(self) -> std::result::Result<(), String> {
        self.serve_until(crate::shutdown_signal()).await
    }
}

impl Extensions {
    /// The first registration mistake, if any.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        match self.problems.first() {
            Some(problem) => Err(problem.clone()),
            None => Ok(()),
        }
    }

    /// Installs the hooks and jobs on `app`; its routes, if any.
    pub(crate) fn install(
        &self,
        app: &App,
    ) -> std::result::Result<Option<Arc<dyn oxbase_api::custom::CustomRoutes>>, String> {
        self.hooks.bind(app);
        for cron in &self.crons {
            // Weak: the scheduler belongs to the app, which must not keep itself alive.
            let (weak, job) = (app.downgrade(), cron.job.clone());
            let run = oxbase_core::crons::job(move || {
                let (app, job) = (weak.upgrade(), job.clone());
                async move {
                    match app {
                        Some(app) => job(app).await,
                        None => Ok(()),
                    }
                }
            });
            app.crons()
                .add(&cron.id, &cron.expression, run)
                .map_err(|e| format!("cron job {}: {e}", cron.id))?;
        }
        Ok((!self.routes.is_empty()).then(|| self.routes.serve(app)))
    }
}
