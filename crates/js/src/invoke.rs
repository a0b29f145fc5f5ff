//! What the thread running JavaScript is allowed to do, and the request a hook wraps.
//!
//! Hooks run on threads of several kinds: the event loops (routes and request hooks run
//! inline on the worker that polls the request, see [`run`]; after-success hooks, which run
//! after commit, before the response), blocking-pool threads (crons, lifecycle hooks, and
//! routes on a current-thread runtime), threads joined to a write transaction (model hooks,
//! `runInTransaction`, migrations: `oxbase_core::store::shared`, where every `$app` call
//! joins the transaction). Native calls await the core's async services; how depends on the
//! thread ([`block`]).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::request::Parts;
use oxbase_api::custom::Next;
use oxbase_core::store::Db;
use oxbase_core::store::shared::{self, Shared};

thread_local! {
    /// Set while this thread may block on the runtime (a blocking-pool thread running JS).
    static MAY_BLOCK: Cell<bool> = const { Cell::new(false) };
    /// The transactions `runInTransaction` opened on this thread, innermost last.
    static OPEN: RefCell<Vec<Shared>> = const { RefCell::new(Vec::new()) };
    /// The requests wrapped by the request hooks running on this thread, innermost last.
    static WRAPPED: RefCell<Vec<Wrapped>> = const { RefCell::new(Vec::new()) };
    /// What the last `e.next()` of the hooks running on this thread does, innermost last.
    static TERMINALS: RefCell<Vec<Terminal>> = const { RefCell::new(Vec::new()) };
    /// Set while this thread runs an invocation inline on an event loop's worker that still
    /// holds the loop: when it started and when it next tries to hand the loop on.
    static INLINE: Cell<Option<(Instant, Instant)>> = const { Cell::new(None) };
    /// Set when the inline invocation running on this thread handed its loop on.
    static HANDED: Cell<bool> = const { Cell::new(false) };
    /// What the routes running on this thread answer to `request.describe`, innermost last.
    static DESCRIBERS: RefCell<Vec<Describer>> = const { RefCell::new(Vec::new()) };
}

/// The full description of a route's request (`routes::describe`), made when asked for.
pub type Describer = Box<dyn Fn() -> serde_json::Value>;

/// Runs `f` with `describer` answering `request.describe` (a route's lazy `e.request`).
pub fn describing<R>(describer: Describer, f: impl FnOnce() -> R) -> R {
    DESCRIBERS.with(|d| d.borrow_mut().push(describer));
    let out = f();
    DESCRIBERS.with(|d| d.borrow_mut().pop());
    out
}

/// The request of the innermost route running on this thread, described (`null`: none).
pub fn describe_request() -> serde_json::Value {
    DESCRIBERS.with(|d| d.borrow().last().map_or(serde_json::Value::Null, |f| f()))
}

/// How long an inline invocation runs before it hands its worker's event loop to another
/// thread: past it, the invocation runs on as a blocking thread would.
const INLINE_BUDGET: Duration = Duration::from_millis(1);

/// How long a hand-over waits for the thread that takes the loop (tokio gives the loop away
/// only if that thread took it before `block_in_place`'s closure returned).
const HAND_OVER_WAIT: Duration = Duration::from_micros(300);

/// Whether invocations may run inline on the event loops (`OXBASE_HOOKS_INLINE=0`: always on
/// the blocking pool, as before; for comparisons).
pub fn inline_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("OXBASE_HOOKS_INLINE").map_or(true, |v| v != "0"))
}

fn on_multi_thread_runtime() -> bool {
    matches!(
        tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread)
    )
}

/// Runs an invocation (`f` takes a runtime and runs JavaScript) for async code.
///
/// On a multi-threaded runtime it runs inline, on the worker polling the caller: a hop to the
/// blocking pool and back cost more than a short handler. A handler that runs long must not
/// hold the worker's other connections, so past [`INLINE_BUDGET`] the engine's interrupt
/// handler ([`interrupted`]) hands the worker's event loop to another thread
/// (`block_in_place`), as do native calls that wait ([`block`], [`may_wait`]). On a
/// current-thread runtime (tests) there is no other thread to hand the loop to: the
/// invocation runs on the blocking pool.
///
/// A chain whose invocations wait (`e.next()` of a record write, database calls) hands its
/// loop on each time, which costs more than the hop: `learned` (the chain's) remembers that,
/// and such a chain runs on the blocking pool, inline again one call in
/// [`RELEARN_EVERY`] in case it changed.
pub async fn run<R: Send + 'static>(
    learned: Option<&Learned>,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, tokio::task::JoinError> {
    if inline_enabled() && on_multi_thread_runtime() && learned.is_none_or(Learned::inline) {
        let now = Instant::now();
        let before = INLINE.replace(Some((now, now + INLINE_BUDGET)));
        let handed = HANDED.replace(false);
        let out = f();
        if let Some(learned) = learned {
            learned.waits.store(HANDED.get(), Ordering::Relaxed);
        }
        HANDED.set(handed);
        INLINE.set(before);
        return Ok(out);
    }
    tokio::task::spawn_blocking(move || blocking(f)).await
}

/// One call in this many of a chain that waits runs inline again.
const RELEARN_EVERY: u32 = 32;

/// Whether a chain's last inline invocation handed its loop on (see [`run`]).
#[derive(Debug, Default)]
pub struct Learned {
    waits: AtomicBool,
    calls: AtomicU32,
}

impl Learned {
    fn inline(&self) -> bool {
        !self.waits.load(Ordering::Relaxed)
            || self
                .calls
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(RELEARN_EVERY)
    }
}

/// Notes that the inline invocation running on this thread handed its loop on.
fn handing_over() {
    HANDED.set(true);
}

/// Whether this thread runs an inline invocation that still holds an event loop.
pub(crate) fn holds_loop() -> bool {
    INLINE.get().is_some()
}

/// Called by the engine's interrupt handler while JavaScript runs: an inline invocation past
/// its budget hands its worker's event loop on, and tries again later (at twice its age) in
/// case the hand-over did not happen (the thread meant to take the loop came too late).
pub(crate) fn interrupted() {
    let Some((started, due)) = INLINE.get() else {
        return;
    };
    let now = Instant::now();
    if now < due {
        return;
    }
    INLINE.set(Some((started, now + (now - started) * 2)));
    handing_over();
    tokio::task::block_in_place(|| std::thread::sleep(HAND_OVER_WAIT));
}

/// Runs `f`, which may wait (a file, a process, a lock), handing the event loop on first when
/// this thread holds one in an inline invocation.
pub(crate) fn may_wait<R>(f: impl FnOnce() -> R) -> R {
    if !holds_loop() {
        return f();
    }
    let before = INLINE.replace(None);
    handing_over();
    let out = tokio::task::block_in_place(f);
    INLINE.set(before);
    out
}

/// The core's operation a hook chain wraps (a backup, a realtime subscription...): it gets
/// the event's fields the hooks may have changed and answers those it changed in turn.
pub type Terminal =
    Box<dyn FnMut(serde_json::Value) -> oxbase_core::error::Result<serde_json::Value>>;

/// Runs `f` with `terminal` as what the hooks' last `e.next()` runs (`terminal: "native"`).
pub fn with_terminal<R>(terminal: Terminal, f: impl FnOnce() -> R) -> R {
    TERMINALS.with(|t| t.borrow_mut().push(terminal));
    let out = f();
    TERMINALS.with(|t| t.borrow_mut().pop());
    out
}

/// Runs the current terminal (taken out meanwhile, so hooks it fires may have their own).
pub fn run_terminal(state: serde_json::Value) -> oxbase_core::error::Result<serde_json::Value> {
    let Some(mut terminal) = TERMINALS.with(|t| t.borrow_mut().pop()) else {
        return Ok(serde_json::Value::Null);
    };
    let out = terminal(state);
    TERMINALS.with(|t| t.borrow_mut().push(terminal));
    out
}

/// Runs `f` (on a blocking-pool thread) allowing native calls to block on the runtime.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let before = MAY_BLOCK.replace(true);
    let out = f();
    MAY_BLOCK.set(before);
    out
}

/// `runInTransaction`'s start: a transaction of `db` this thread joins until [`end`].
/// PB-COMPAT: inside a transaction already, the callback runs in that one (PocketBase runs a
/// nested `runInTransaction` with the same transactional app); `false` then.
pub fn begin(db: &Db, rt: &tokio::runtime::Handle) -> bool {
    if db.in_shared_transaction() {
        return false;
    }
    let shared = db.begin(rt);
    OPEN.with(|o| o.borrow_mut().push(shared));
    true
}

/// `runInTransaction`'s end: commits (`commit`) or rolls back the innermost transaction
/// [`begin`] opened; the commit's error.
pub fn end(commit: bool) -> oxbase_core::error::Result<()> {
    match OPEN.with(|o| o.borrow_mut().pop()) {
        Some(shared) => shared.finish(commit),
        None => Ok(()),
    }
}

/// How many transactions `runInTransaction` holds open on this thread.
pub fn open_count() -> usize {
    OPEN.with(|o| o.borrow().len())
}

/// Rolls back the transactions opened on this thread beyond the first `keep`: an invocation
/// stopped by its limits never reached its `runInTransaction`'s end.
pub fn abandon_beyond(keep: usize) {
    loop {
        let Some(shared) = OPEN.with(|o| {
            let mut open = o.borrow_mut();
            (open.len() > keep).then(|| open.pop()).flatten()
        }) else {
            return;
        };
        let _ = shared.finish(false);
    }
}

/// Awaits `fut` from synchronous code on any thread: directly where blocking is allowed or no
/// runtime runs the thread; on a worker of a multi-threaded runtime (an inline invocation, an
/// after-success hook) after handing the worker's tasks and I/O driver to another thread
/// (`block_in_place`: with every worker waiting here, nothing would be left to read the
/// database's answers; PostgreSQL's connections are tasks); otherwise (a current-thread
/// runtime's loop) on a short-lived thread of its own, so the loop's runtime is never
/// re-entered.
pub fn block<F: Future + Send>(rt: &tokio::runtime::Handle, fut: F) -> F::Output
where
    F::Output: Send,
{
    let direct = MAY_BLOCK.get() || tokio::runtime::Handle::try_current().is_err();
    // While the future runs, code it calls on this thread (a hook fired by the write it makes)
    // is inside a runtime: it must not block on it again.
    let before = MAY_BLOCK.replace(false);
    let out = if direct {
        rt.block_on(fut)
    } else if on_multi_thread_runtime() {
        // Out of the runtime's context inside `block_in_place`: this thread may block on it.
        let inline = INLINE.replace(None);
        if inline.is_some() {
            handing_over();
        }
        let out = tokio::task::block_in_place(|| rt.block_on(fut));
        INLINE.set(inline);
        out
    } else {
        // The helper thread calls the database as this one would: in its transaction, if any.
        let joined = shared::current();
        std::thread::scope(|s| {
            s.spawn(|| shared::joining(joined, || rt.block_on(fut)))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    };
    MAY_BLOCK.set(before);
    out
}

/// A request a request hook wraps: `e.next()` sends it on to the built-in route.
pub struct Wrapped {
    pub parts: Parts,
    pub body: Bytes,
    pub next: Next,
    /// The built-in route's answer, once `e.next()` ran.
    pub answer: Option<Answer>,
    /// A file download's file, as `onFileDownloadRequest` sees it.
    pub file: Option<oxbase_api::routes::files::ServedFile>,
    /// For a stream (the realtime route): where `e.next()` hands the built-in route's live
    /// answer, before waiting for the client to go.
    pub early: Option<tokio::sync::oneshot::Sender<axum::response::Response>>,
}

/// A response read whole.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

/// Runs `f` with `wrapped` as the current request; returns what `f` returned and the built-in
/// route's answer if `e.next()` asked for it.
pub fn wrapping<R>(wrapped: Wrapped, f: impl FnOnce() -> R) -> (R, Option<Answer>) {
    WRAPPED.with(|w| w.borrow_mut().push(wrapped));
    let out = f();
    let answer = WRAPPED
        .with(|w| w.borrow_mut().pop())
        .and_then(|w| w.answer);
    (out, answer)
}

/// Takes the current wrapped request out for `e.next()` (it goes back with its answer).
pub fn take_wrapped() -> Option<Wrapped> {
    WRAPPED.with(|w| w.borrow_mut().pop())
}

pub fn put_back(wrapped: Wrapped) {
    WRAPPED.with(|w| w.borrow_mut().push(wrapped));
}
