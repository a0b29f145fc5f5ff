//! QuickJS runtimes: one [`Engine`] is a runtime with its context, the API (`prelude.js`,
//! `events.js`, the native bridge) and the compiled handlers; a [`Pool`] keeps some prewarmed
//! and lends them to whichever thread runs a hook. QuickJS runs one thread at a time per
//! runtime, so each invocation holds one engine; when all are busy (or a hook calls into code
//! that runs another hook) a fresh engine is made for the call, as PocketBase's pool does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rquickjs::context::EvalOptions;
use rquickjs::{CaughtError, Context, Ctx, Function, Runtime, Value};

const PRELUDE: &str = include_str!("prelude.js");
const EVENTS: &str = include_str!("events.js");

/// Why JavaScript did not return a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JsError {
    /// An exception: its message and the JS stack.
    #[error("{message}\n{stack}")]
    Thrown { message: String, stack: String },
    /// The invocation ran past its time limit (`--hooksTimeout`).
    #[error("the hook ran longer than its {0:?} limit")]
    TimedOut(Duration),
    /// The runtime ran past its memory limit (`--hooksMemory`).
    #[error("the hook ran out of its memory limit")]
    OutOfMemory,
    /// QuickJS could not start or convert a value.
    #[error("{0}")]
    Engine(String),
}

/// Limits every invocation runs under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

/// The native half of the API, answering `__native(op, json)` with `{"ok"}` / `{"err"}` JSON.
pub type Native = Arc<dyn Fn(&str, &str) -> String + Send + Sync>;

/// One runtime, ready to run handlers.
pub struct Engine {
    // Field order: the context goes before its runtime.
    ctx: Context,
    _rt: Runtime,
    /// Milliseconds since `epoch` after which the interrupt handler stops the JS (0: none).
    deadline: Arc<AtomicU64>,
    epoch: Instant,
    limits: Limits,
    /// Set when an invocation broke a limit: the engine is not lent again.
    spoiled: bool,
}

impl Engine {
    /// A runtime with the API; `handlers` (sources, in registration order) become `__fns`.
    pub fn new(
        native: Native,
        handlers: &[String],
        globals: &[(String, String)],
        limits: Limits,
    ) -> Result<Engine, JsError> {
        let rt = Runtime::new().map_err(engine_error)?;
        rt.set_memory_limit(limits.memory_bytes);
        rt.set_max_stack_size(1 << 20);
        let deadline = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let watched = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            let at = watched.load(Ordering::Relaxed);
            if at != 0 && epoch.elapsed().as_millis() as u64 >= at {
                return true;
            }
            // An inline invocation that ran past its budget hands its event loop on.
            crate::invoke::interrupted();
            false
        })));
        let ctx = Context::full(&rt).map_err(engine_error)?;
        let engine = Engine {
            ctx,
            _rt: rt,
            deadline,
            epoch,
            limits,
            spoiled: false,
        };
        engine.ctx.with(|ctx| -> Result<(), JsError> {
            let bridge = Function::new(ctx.clone(), move |op: String, args: String| {
                native(&op, &args)
            })
            .map_err(engine_error)?;
            ctx.globals()
                .set("__native", bridge)
                .map_err(engine_error)?;
            for (name, value) in globals {
                ctx.globals()
                    .set(name.as_str(), value.as_str())
                    .map_err(engine_error)?;
            }
            eval(&ctx, PRELUDE, "prelude.js", true)?;
            eval(&ctx, EVENTS, "events.js", true)?;
            let list = format!("[\n{}\n]", handlers.join(",\n"));
            let fns: Value = ctx
                .eval_with_options(list, options("hooks", false))
                .map_err(|e| caught(&ctx, e))?;
            ctx.globals().set("__fns", fns).map_err(engine_error)?;
            Ok(())
        })?;
        Ok(engine)
    }

    /// Runs `f` with the context, under the time limit.
    pub fn run<R>(
        &mut self,
        f: impl FnOnce(&Ctx<'_>) -> rquickjs::Result<R>,
    ) -> Result<R, JsError> {
        let limit = self.limits.timeout;
        let until = self.epoch.elapsed() + limit;
        self.deadline
            .store(until.as_millis().max(1) as u64, Ordering::Relaxed);
        RUNNING.with(|r| r.borrow_mut().push(self.deadline.clone()));
        let out = self.ctx.with(|ctx| f(&ctx).map_err(|e| caught(&ctx, e)));
        RUNNING.with(|r| r.borrow_mut().pop());
        // The deadline as it ended ([`paused`] moves it on).
        let at = self.deadline.load(Ordering::Relaxed);
        let late = self.epoch.elapsed().as_millis() as u64 >= at;
        self.deadline.store(0, Ordering::Relaxed);
        // A runtime that ran out of memory (even if the hook caught the error: `events.js`
        // raises `__fatal`) is not lent again.
        if self
            .ctx
            .with(|ctx| ctx.globals().get::<_, bool>("__fatal").unwrap_or(false))
        {
            self.spoiled = true;
        }
        match out {
            Err(JsError::Thrown { message, .. }) if late && message.contains("interrupted") => {
                self.spoiled = true;
                Err(JsError::TimedOut(limit))
            }
            Err(JsError::Thrown { message, .. }) if message.contains("out of memory") => {
                self.spoiled = true;
                Err(JsError::OutOfMemory)
            }
            other => other,
        }
    }

    /// The time left before this invocation's deadline (for a native `sleep`).
    pub fn remaining(&self) -> Duration {
        let at = self.deadline.load(Ordering::Relaxed);
        if at == 0 {
            return self.limits.timeout;
        }
        Duration::from_millis(at).saturating_sub(self.epoch.elapsed())
    }

    /// Evaluates a hook or migration file as a script (sloppy mode, as PocketBase's goja).
    pub fn eval_file(&mut self, source: &str, name: &str) -> Result<(), JsError> {
        self.run(|ctx| ctx.eval_with_options::<(), _>(source, options(name, false)))
    }
}

fn options(name: &str, strict: bool) -> EvalOptions {
    let mut o = EvalOptions::default();
    o.strict = strict;
    o.filename = Some(name.to_owned());
    o
}

fn eval(ctx: &Ctx<'_>, source: &str, name: &str, strict: bool) -> Result<(), JsError> {
    ctx.eval_with_options::<(), _>(source, options(name, strict))
        .map_err(|e| caught(ctx, e))
}

fn engine_error(e: rquickjs::Error) -> JsError {
    JsError::Engine(e.to_string())
}

/// An error with the exception it carries, if any: message and JS stack.
pub fn caught(ctx: &Ctx<'_>, e: rquickjs::Error) -> JsError {
    match CaughtError::from_error(ctx, e) {
        CaughtError::Exception(ex) => JsError::Thrown {
            message: ex.message().unwrap_or_default(),
            stack: ex.stack().unwrap_or_default(),
        },
        CaughtError::Value(v) => JsError::Thrown {
            message: v
                .as_string()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("{v:?}")),
            stack: String::new(),
        },
        CaughtError::Error(e) => JsError::Engine(e.to_string()),
    }
}

thread_local! {
    /// The deadlines of the invocations running on this thread, innermost last.
    static RUNNING: std::cell::RefCell<Vec<Arc<AtomicU64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f`, a native wait that is not the JavaScript's own time (a connect hook's `e.next()`
/// waiting for its client to go), with the innermost invocation's time limit paused.
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let started = Instant::now();
    let out = f();
    let waited = started.elapsed().as_millis() as u64;
    RUNNING.with(|r| {
        if let Some(deadline) = r.borrow().last() {
            let _ = deadline.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |at| {
                (at != 0).then_some(at + waited)
            });
        }
    });
    out
}

/// Prewarmed engines, lent one per invocation. When all are busy another is made, up to
/// `GROWTH` times the prewarmed count, and kept afterwards (making one compiles the API and
/// every handler: making and dropping them under load cost more than the work). Past that an
/// invocation waits for an idle one. An invocation made by JavaScript already running on this
/// thread (a hook fired by a write a handler makes) never waits: the engine it would wait for
/// may be the one held below it.
pub struct Pool {
    state: Mutex<Lent>,
    freed: parking_lot::Condvar,
    /// The most engines kept (and running at once, nested invocations aside).
    keep: usize,
    make: Box<dyn Fn() -> Result<Engine, JsError> + Send + Sync>,
}

struct Lent {
    idle: Vec<Engine>,
    /// Engines alive, idle or running.
    live: usize,
}

/// How many times the prewarmed count of engines a pool may grow to under load: an engine
/// held by a hook that waits (a write's commit inside `e.next()`) still counts.
const GROWTH: usize = 4;

thread_local! {
    /// How many engines this thread holds (nested invocations).
    static HELD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` with its invocations counted as nested: an engine is made for them rather than
/// waited for. For hooks run inside a write transaction: whoever waits for the write may hold
/// the engines they would wait for, and how many such hooks run at once is bounded by the
/// database's writers, not by requests.
pub fn nested<R>(f: impl FnOnce() -> R) -> R {
    HELD.set(HELD.get() + 1);
    let out = f();
    HELD.set(HELD.get() - 1);
    out
}

impl Pool {
    pub fn new(
        keep: usize,
        make: Box<dyn Fn() -> Result<Engine, JsError> + Send + Sync>,
    ) -> Result<Pool, JsError> {
        let mut idle = Vec::with_capacity(keep);
        for _ in 0..keep {
            idle.push(make()?);
        }
        Ok(Pool {
            state: Mutex::new(Lent { idle, live: keep }),
            freed: parking_lot::Condvar::new(),
            keep: keep * GROWTH,
            make,
        })
    }

    /// Runs `f` on an idle engine (waiting for one when `keep` are running), or on a fresh
    /// one for a nested or inline invocation.
    pub fn with<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> Result<R, JsError> {
        // An invocation inline on an event loop never waits either: it would hold the loop.
        let nested = HELD.get() > 0 || crate::invoke::holds_loop();
        let lent = {
            let mut state = self.state.lock();
            loop {
                if let Some(e) = state.idle.pop() {
                    break Some(e);
                }
                if nested || state.live < self.keep {
                    state.live += 1;
                    break None;
                }
                self.freed.wait(&mut state);
            }
        };
        let mut engine = match lent {
            Some(e) => e,
            None => match (self.make)() {
                Ok(e) => e,
                Err(e) => {
                    self.state.lock().live -= 1;
                    self.freed.notify_one();
                    return Err(e);
                }
            },
        };
        HELD.set(HELD.get() + 1);
        let open = crate::invoke::open_count();
        let out = f(&mut engine);
        crate::invoke::abandon_beyond(open);
        HELD.set(HELD.get() - 1);
        let mut state = self.state.lock();
        if !engine.spoiled && state.idle.len() < self.keep {
            state.idle.push(engine);
        } else {
            state.live -= 1;
        }
        drop(state);
        self.freed.notify_one();
        Ok(out)
    }
}
