//! # oxbase-js
//!
//! PocketBase's JavaScript extension API on QuickJS: the `*.pb.js` files of a hooks folder
//! register routes (`routerAdd`, `routerUse`), cron jobs (`cronAdd`) and event hooks
//! (`onRecordCreateRequest`...) that run unchanged on oxbase.
//!
//! How a file runs, as in PocketBase: a loader runtime evaluates every file once, in name
//! order, and records what it registers; each handler crosses to the executor runtimes as its
//! source text (so it sees globals such as `$app`, not its file's local variables). The
//! executors ([`engine::Pool`]) are prewarmed runtimes lent one per invocation, each under a
//! time and a memory limit. The API is `prelude.js` and `events.js` over one native function
//! ([`ops::Host::dispatch`]) that calls the core's services.

pub mod answer;
pub mod backups;
pub mod engine;
pub mod hooks;
pub mod invoke;
pub mod migrations;
pub mod ops;
mod prepared;
pub mod realtime;
pub mod registry;
pub mod requests;
pub mod routes;
pub mod security;
pub mod template;
pub mod uploads;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use oxbase_core::App;
use serde_json::json;

use engine::{Engine, JsError, Limits, Native, Pool};
use ops::Host;
use registry::{Registration, Registry};

/// Where the hook files are and how they run.
#[derive(Debug, Clone)]
pub struct HooksConfig {
    pub dir: PathBuf,
    /// Prewarmed runtimes (`--hooksPool`).
    pub pool: usize,
    /// The longest one invocation may run (`--hooksTimeout`).
    pub timeout: Duration,
    /// The most memory one runtime may hold (`--hooksMemory`).
    pub memory_bytes: usize,
    pub dev: bool,
    pub data_dir: PathBuf,
}

/// The loaded hook files.
pub struct Hooks {
    pool: Pool,
    registry: Registry,
    by_name: hooks::ByName,
    /// The app's schema, for its version (runtimes cache definitions by it).
    schema: oxbase_core::schema::Schema,
    /// Files hooks hold (uploads of a request, `$filesystem`), shared with the ops.
    staged: Arc<uploads::Staged>,
}

impl Hooks {
    /// Loads the `*.pb.js` files of `config.dir` (none, or no folder: `None`). Blocks: call
    /// it from a blocking thread. A file that throws fails the load, with its JS stack.
    pub fn load(app: &App, config: &HooksConfig) -> Result<Option<Arc<Hooks>>, String> {
        let files = hook_files(&config.dir)?;
        if files.is_empty() {
            return Ok(None);
        }
        let staged: Arc<uploads::Staged> = Arc::default();
        let host = Arc::new(Host {
            app: app.downgrade(),
            rt: tokio::runtime::Handle::current(),
            dev: config.dev,
            data_dir: config.data_dir.clone(),
            timeout: config.timeout,
            staged: staged.clone(),
        });
        let native: Native = Arc::new(move |op: &str, args: &str| host.dispatch(op, args));
        let limits = Limits {
            timeout: config.timeout,
            memory_bytes: config.memory_bytes,
        };
        let dir = std::path::absolute(&config.dir)
            .unwrap_or_else(|_| config.dir.clone())
            .to_string_lossy()
            .into_owned();
        let globals = vec![("__hooks".to_owned(), dir)];
        let registry = {
            let mut loader =
                Engine::new(native.clone(), &[], &globals, limits).map_err(|e| e.to_string())?;
            loader
                .run(|ctx| ctx.eval::<(), _>("__loader()"))
                .map_err(|e| e.to_string())?;
            for (name, source) in &files {
                loader
                    .eval_file(source, name)
                    .map_err(|e| format!("failed to execute {name}:\n - {e}"))?;
            }
            let json = loader
                .run(|ctx| ctx.eval::<String, _>("JSON.stringify(__registry)"))
                .map_err(|e| e.to_string())?;
            Registry::parse(&json)?
        };
        let sources = registry.sources.clone();
        let make = Box::new(move || Engine::new(native.clone(), &sources, &globals, limits));
        let pool = Pool::new(config.pool.max(1), make).map_err(|e| e.to_string())?;
        let by_name = hooks::ByName::new(&registry.entries);
        let hooks = Arc::new(Hooks {
            pool,
            registry,
            by_name,
            schema: app.schema().clone(),
            staged,
        });
        hooks.register_crons(app)?;
        hooks.bind_record_hooks(app);
        hooks.bind_collection_hooks(app);
        hooks.bind_mailer(app);
        hooks.bind_backups(app);
        hooks.bind_realtime(app);
        hooks.fire("onBootstrap")?;
        Ok(Some(hooks))
    }

    /// A collection as events name it: its id, name and the schema's version. A runtime
    /// keeps the definitions it fetched by version (`collectionOf` in `events.js`), so the
    /// definition crosses to JavaScript once per change, not with every event.
    pub(crate) fn collection_ref(&self, c: &oxbase_core::schema::Collection) -> serde_json::Value {
        json!({"id": c.id, "name": c.name, "v": self.schema.version()})
    }

    pub fn registry(&self) -> &[Registration] {
        &self.registry.entries
    }

    fn with_engine<R>(
        &self,
        f: impl FnOnce(&mut Engine) -> Result<R, JsError>,
    ) -> Result<R, JsError> {
        self.pool.with(f)?
    }

    /// What the files add to the API: their routes and the request hooks wrapping built-in
    /// routes (`None`: nothing).
    pub fn extension(self: &Arc<Self>, app: &App) -> Result<Option<Extension>, String> {
        let routes = routes::Routes::new(self.clone())?;
        let requests = requests::RequestHooks::new(self.clone(), app.clone());
        let realtime = realtime::RealtimeRequests::new(self.clone(), app.clone());
        if routes.is_none() && requests.is_none() && realtime.is_none() {
            return Ok(None);
        }
        Ok(Some(Extension {
            routes,
            requests,
            realtime,
        }))
    }

    /// Runs the handlers of a lifecycle hook (`onBootstrap`, `onServe`, `onTerminate`); the
    /// error one threw. Blocks: call it from a blocking thread.
    pub fn fire(&self, name: &str) -> Result<(), String> {
        let chain: Vec<usize> = self
            .registry()
            .iter()
            .filter_map(|r| match r {
                Registration::Hook {
                    name: n, handler, ..
                } if n == name => Some(*handler),
                _ => None,
            })
            .collect();
        if chain.is_empty() {
            return Ok(());
        }
        let spec = json!({"chain": chain, "terminal": "proceed", "event": {}});
        let outcome =
            invoke::blocking(|| self.run_hook(&spec)).map_err(|e| format!("{name}: {e}"))?;
        match outcome.error {
            Some(e) => Err(format!("{name}: {} {}\n{}", e.message, e.detail, e.stack)),
            None => Ok(()),
        }
    }

    /// `cronAdd` and `cronRemove`, in file order, into the app's scheduler.
    fn register_crons(self: &Arc<Self>, app: &App) -> Result<(), String> {
        for entry in self.registry() {
            match entry {
                Registration::Cron { id, expr, handler } => {
                    let hooks = self.clone();
                    let handler = *handler;
                    let job_id = id.clone();
                    let job = oxbase_core::crons::job(move || {
                        let hooks = hooks.clone();
                        let job_id = job_id.clone();
                        async move {
                            let out =
                                tokio::task::spawn_blocking(move || hooks.run_cron(handler)).await;
                            match out {
                                Ok(Ok(None)) => {}
                                Ok(Ok(Some(error))) => tracing::error!(
                                    target: "oxbase::hooks", job = %job_id, error = %error,
                                    "[cronAdd] failed to execute cron job"
                                ),
                                Ok(Err(e)) => tracing::error!(
                                    target: "oxbase::hooks", job = %job_id, error = %e,
                                    "[cronAdd] failed to execute cron job"
                                ),
                                Err(e) => {
                                    tracing::error!(target: "oxbase::hooks", job = %job_id, error = %e, "cron job panicked")
                                }
                            }
                            Ok(())
                        }
                    });
                    app.crons()
                        .add(id, expr, job)
                        .map_err(|e| format!("[cronAdd] failed to register cron job {id}: {e}"))?;
                }
                Registration::CronRemove { id } => app.crons().remove(id),
                _ => {}
            }
        }
        Ok(())
    }

    /// Runs cron handler `index`; `Some(error)` when it threw.
    fn run_cron(&self, index: usize) -> Result<Option<String>, JsError> {
        let out = self.with_engine(|engine| {
            engine.run(|ctx| {
                let run: rquickjs::Function = ctx.globals().get("__runCron")?;
                let fns: rquickjs::Value = ctx.globals().get("__fns")?;
                run.call::<_, String>((fns, index))
            })
        })?;
        Ok((!out.is_empty()).then_some(out))
    }
}

/// The hook files' part of the API: their own routes first, then the request hooks.
pub struct Extension {
    routes: Option<routes::Routes>,
    requests: Option<requests::RequestHooks>,
    realtime: Option<realtime::RealtimeRequests>,
}

impl oxbase_api::custom::CustomRoutes for Extension {
    fn matches(&self, method: &axum::http::Method, path: &str) -> bool {
        self.answers(method, path) || self.wraps(method, path)
    }

    fn answers(&self, method: &axum::http::Method, path: &str) -> bool {
        self.routes
            .as_ref()
            .is_some_and(|r| r.matches(method, path))
            || self
                .requests
                .as_ref()
                .is_some_and(|r| r.matches(method, path))
            || self
                .realtime
                .as_ref()
                .is_some_and(|r| r.matches(method, path))
    }

    fn wraps(&self, method: &axum::http::Method, path: &str) -> bool {
        self.routes.as_ref().is_some_and(|r| r.wraps(method, path))
    }

    fn wrap(&self, request: oxbase_api::custom::CustomRequest) -> oxbase_api::custom::BoxResponse {
        match &self.routes {
            Some(routes) => routes.call_wrapped(request),
            None => Box::pin(async { error_response(404, "") }),
        }
    }

    /// A hook file's route (its chain has the `routerUse` middlewares); else the realtime
    /// hooks or a built-in route's request hooks, or the built-in route (or, through
    /// `request.next`, another set's route), inside the `routerUse` middlewares.
    fn call(&self, request: oxbase_api::custom::CustomRequest) -> oxbase_api::custom::BoxResponse {
        let (method, path) = (&request.parts.method, request.parts.uri.path());
        if let Some(routes) = self.routes.as_ref().filter(|r| r.matches(method, path)) {
            return routes.call(request);
        }
        let inner: Option<oxbase_api::custom::Handler> = if let Some(realtime) =
            self.realtime.as_ref().filter(|r| r.matches(method, path))
        {
            let realtime = realtime.clone();
            Some(Arc::new(move |r| realtime.call(r)))
        } else if let Some(requests) = self.requests.as_ref().filter(|r| r.matches(method, path)) {
            let requests = requests.clone();
            Some(Arc::new(move |r| {
                let requests = requests.clone();
                Box::pin(async move { requests.call(r).await })
            }))
        } else {
            None
        };
        match (&self.routes, inner) {
            (Some(routes), Some(inner)) if routes.wraps(method, path) => {
                routes.call_wrapped(request.around(inner))
            }
            (_, Some(inner)) => inner(request),
            (Some(routes), None) => routes.call_wrapped(request),
            (None, None) => Box::pin(async { error_response(404, "") }),
        }
    }
}

/// The hook files of `dir` in name order: `*.pb.js` (PocketBase's pattern).
fn hook_files(dir: &Path) -> Result<Vec<(String, String)>, String> {
    script_files(dir, "hooks", |name| name.ends_with(".pb.js"))
}

/// The files of the `what` folder `dir` whose names `wanted` accepts, with their text, in name
/// order; none when `dir` does not exist (PocketBase's `filesContent`).
pub(crate) fn script_files(
    dir: &Path,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<(String, String)>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read the {what} folder {}: {e}",
                dir.display()
            ));
        }
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted(&name) || !entry.path().is_file() {
            continue;
        }
        let source = std::fs::read_to_string(entry.path())
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        files.push((name, source));
    }
    files.sort();
    Ok(files)
}

/// The standard error body; an empty message is the status' default one.
pub(crate) fn error_response(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let message = if message.is_empty() {
        "Something went wrong while processing your request."
    } else {
        message
    };
    json_response(
        status,
        &json!({"status": status.as_u16(), "message": message, "data": {}}),
    )
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// The answer to an error a handler threw (its details logged, not sent).
pub(crate) fn thrown_response(e: &answer::ThrownError) -> Response {
    if !e.detail.is_empty() {
        tracing::error!(target: "oxbase::hooks", error = %e.detail, stack = %e.stack, "a hook failed");
    }
    let status = match StatusCode::from_u16(e.status) {
        Ok(s) if s.as_u16() >= 400 => s,
        _ => StatusCode::BAD_REQUEST,
    };
    let data = if e.data.is_object() {
        e.data.clone()
    } else {
        json!({})
    };
    json_response(
        status,
        &json!({"status": status.as_u16(), "message": e.message, "data": data}),
    )
}

/// A hook that broke a limit or the engine: a 500, logged.
pub(crate) fn engine_failure(e: &JsError) -> Response {
    tracing::error!(target: "oxbase::hooks", error = %e, "a hook failed");
    error_response(500, "")
}
