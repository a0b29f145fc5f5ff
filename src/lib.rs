//! The `oxbase` binary's library: configuration, wiring and the server's lifecycle, so tests
//! start the real application exactly as `oxbase serve` does, on port 0.

pub mod backup;
pub mod cli;
pub mod framework;
pub mod migrate;
pub mod reload;
pub mod restart;
pub mod telemetry;
pub mod transfer;
pub mod typegen;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use oxbase_api::HttpConfig;
use oxbase_core::{App, Config};
use tokio::net::TcpListener;

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub http: String,
    pub data_dir: PathBuf,
    /// PostgreSQL instead of SQLite, when set.
    pub database_url: Option<String>,
    /// PostgreSQL connections at most (the pool).
    pub db_connections: usize,
    /// The bus between instances (`redis://`), when not PostgreSQL's own.
    pub pubsub: Option<String>,
    pub http_config: HttpConfig,
    /// The JavaScript hook files, if any are to be loaded.
    pub hooks: Option<oxbase_js::HooksConfig>,
    /// The JavaScript migrations, applied before the server listens.
    pub migrations: Option<oxbase_js::migrations::MigrationsConfig>,
}

impl ServeConfig {
    /// `oxbase serve`'s defaults over `data_dir`: `127.0.0.1:8090`, SQLite, no JS hooks.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            http: "127.0.0.1:8090".into(),
            data_dir: data_dir.into(),
            database_url: None,
            db_connections: 16,
            pubsub: None,
            http_config: HttpConfig::default(),
            hooks: None,
            migrations: None,
        }
    }
}

/// How long a shutdown lets in-flight requests finish before it drops their connections.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    app: App,
    http: HttpConfig,
    /// What the app was opened with, to open it again after a restore.
    core: Config,
    /// What extends each app opened (the first, and those reopened after a restore).
    extend: Arc<Extend>,
}

/// The application's own code: routes given in the HTTP config, a Rust app's hooks, routes and
/// jobs, the JS migrations and the JS hook files.
struct Extend {
    own: Option<Arc<dyn oxbase_api::custom::CustomRoutes>>,
    rust: framework::Extensions,
    migrations: Option<oxbase_js::migrations::MigrationsConfig>,
    js: Option<oxbase_js::HooksConfig>,
}

impl Extend {
    /// Installs everything on `app`; the routes, asked in that order.
    async fn install(
        &self,
        app: &App,
    ) -> Result<Option<Arc<dyn oxbase_api::custom::CustomRoutes>>, String> {
        let mut routes: Vec<_> = self.own.iter().cloned().collect();
        routes.extend(self.rust.install(app)?);
        // PB-COMPAT: the hook files register first (their `onBootstrap` runs), so that their
        // record and collection hooks fire for the migrations' writes; `onServe` comes last.
        let hooks = match &self.js {
            Some(js) => load_hooks(app, js).await?,
            None => None,
        };
        if let Some(migrations) = &self.migrations {
            prepare_migrations(app, migrations).await?;
        }
        if let Some(hooks) = hooks {
            routes.extend(serve_hooks(app, hooks).await?);
        }
        Ok(oxbase_api::custom::first_of(routes))
    }
}

impl Application {
    /// Opens the data directory and binds the listener (`127.0.0.1:0` picks a free port).
    pub async fn build(config: ServeConfig) -> Result<Application, String> {
        Application::build_with(config, framework::Extensions::default()).await
    }

    /// The same, with a Rust app's hooks, routes and jobs (`framework::Oxbase`).
    pub async fn build_with(
        config: ServeConfig,
        extensions: framework::Extensions,
    ) -> Result<Application, String> {
        extensions.check()?;
        let mut core = Config::new(&config.data_dir);
        core.database_url = config.database_url.clone();
        core.db_connections = config.db_connections;
        core.pubsub = config.pubsub.clone();
        let app = App::open(&core).await.map_err(|e| e.to_string())?;
        // Only a server schedules jobs: a CLI command that opens the app must not claim a tick
        // and exit before running it.
        app.crons().start();
        telemetry::store_app_logs_in(app.logs());
        let mut http = config.http_config;
        let extend = Arc::new(Extend {
            own: http.custom.take(),
            rust: extensions,
            migrations: config.migrations.map(|mut m| {
                m.data_dir = config.data_dir.clone();
                m
            }),
            js: config.hooks.map(|mut h| {
                h.data_dir = config.data_dir.clone();
                h
            }),
        });
        http.custom = match extend.install(&app).await {
            Ok(custom) => custom,
            Err(e) => {
                app.close().await;
                return Err(e);
            }
        };
        let listener = TcpListener::bind(&config.http)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.http))?;
        Ok(Application {
            listener,
            app,
            http,
            core,
            extend,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// What `serve` prints once it listens.
    pub fn banner(&self) -> String {
        let addr = self.local_addr();
        format!(
            "Server started at http://{addr}\n├─ REST API:  http://{addr}/api/\n└─ Dashboard: http://{addr}/_/"
        )
    }

    /// On a fresh install (no superuser), the one-time link to the page that creates the first
    /// superuser, with PocketBase's wording (`serve` prints it after the banner).
    pub async fn install_notice(&self) -> Option<String> {
        let token = match self.app.auth().install_token().await {
            Ok(token) => token?,
            Err(e) => {
                tracing::warn!("cannot create the install link: {e}");
                return None;
            }
        };
        let addr = self.local_addr();
        let exe = std::env::args().next().unwrap_or_else(|| "oxbase".into());
        Some(format!(
            "\n(!) Launch the URL below in the browser to create your first superuser account:\n\
             http://{addr}/_/#/pbinstall/{token}\n\
             (the link works once, for 30 minutes; you can also create your first superuser by \
             running: {exe} superuser upsert EMAIL PASS)\n"
        ))
    }

    /// Serves until `shutdown` resolves; then realtime streams end, in-flight requests finish
    /// (those still running after `SHUTDOWN_GRACE` are dropped), and queued writes commit.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The app moves into `current` (the app running now, replaced after each restore):
        // no other handle keeps a replaced app alive.
        let Application {
            listener,
            app,
            http,
            core,
            extend,
        } = self;
        let busy_poll = http.busy_poll;
        // Hooks run inline on the loops, which then hand a blocked worker's work on.
        let loops = if http.custom.is_some() && oxbase_js::invoke::inline_enabled() {
            oxbase_api::serve::Loops::HandOver
        } else {
            oxbase_api::serve::Loops::Single
        };
        // The first service uses what `build` installed; a restored app installs it again.
        let service = restart::Swappable::new(oxbase_api::service(app.clone(), &http));
        let make_service = move |app: App| {
            let (mut http, extend) = (http.clone(), extend.clone());
            async move {
                http.custom = extend.install(&app).await.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "the migrations or hooks failed on the restored app");
                    None
                });
                oxbase_api::service(app, &http)
            }
        };
        let restores = app.backups().take_restores();
        let current = Arc::new(parking_lot::Mutex::new(app));
        let applying = Arc::new(tokio::sync::Mutex::new(()));
        let restores = match restores {
            Some(restores) => tokio::spawn(restart::serve_restores(
                core,
                current.clone(),
                restores,
                service.clone(),
                make_service,
                applying.clone(),
            )),
            None => tokio::spawn(async {}),
        };
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let app = current.clone();
        let shutdown = async move {
            shutdown.await;
            let app = app.lock().clone();
            app.realtime().close();
            let _ = stopping_tx.send(());
        };
        let serving = oxbase_api::serve::serve(listener, service, busy_poll, loops, shutdown);
        let grace = async {
            match stopping_rx.await {
                Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
                Err(_) => std::future::pending().await,
            }
        };
        let served = tokio::select! {
            served = serving => served,
            () = grace => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running at shutdown were dropped");
                Ok(())
            }
        };
        // A restore being applied finishes first (the app reopens on the restored data, or on
        // its own when the restore fails); one waiting is dropped.
        let idle = applying.lock().await;
        restores.abort();
        drop(idle);
        let app = current.lock().clone();
        app.close().await;
        served
    }
}

/// Applies the pending migrations of `config.dir`, then (with `--automigrate`) has each
/// collection change made through the API write one.
async fn prepare_migrations(
    app: &App,
    config: &oxbase_js::migrations::MigrationsConfig,
) -> Result<(), String> {
    for file in oxbase_js::migrations::apply_pending(app, config).await? {
        tracing::info!(file = %file, "migration applied");
    }
    if config.automigrate {
        app.collections()
            .on_api_change(oxbase_js::migrations::automigrate::listener(app, config));
    }
    Ok(())
}

/// Loads the hook files for `app` (none: `None`), binding their event hooks.
async fn load_hooks(
    app: &App,
    config: &oxbase_js::HooksConfig,
) -> Result<Option<Arc<oxbase_js::Hooks>>, String> {
    let (loading, config) = (app.clone(), config.clone());
    tokio::task::spawn_blocking(move || {
        oxbase_js::invoke::blocking(|| oxbase_js::Hooks::load(&loading, &config))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Runs the hooks' `onServe`; their routes, if they add any.
async fn serve_hooks(
    app: &App,
    hooks: Arc<oxbase_js::Hooks>,
) -> Result<Option<Arc<dyn oxbase_api::custom::CustomRoutes>>, String> {
    let app = app.clone();
    let serving = hooks.clone();
    tokio::task::spawn_blocking(move || serving.fire("onServe"))
        .await
        .map_err(|e| e.to_string())??;
    // `onTerminate` runs when the app closes (shutdown, or replaced by a restore).
    let terminating = hooks.clone();
    app.on_close(Box::new(move || {
        if let Err(e) = terminating.fire("onTerminate") {
            tracing::error!(target: "oxbase::hooks", error = %e, "onTerminate failed");
        }
    }));
    Ok(hooks
        .extension(&app)?
        .map(|r| Arc::new(r) as Arc<dyn oxbase_api::custom::CustomRoutes>))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
