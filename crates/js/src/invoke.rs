//! What the thread running JavaScript is allowed to do, and the request a hook wraps.
//!
//! Hooks run on threads of several kinds: blocking-pool threads (routes, crons, request
//! hooks), SQLite's writer thread or a PostgreSQL client's thread (hooks inside a write
//! transaction), and the event loops (after-success hooks, which run after commit, before the
//! response). Native calls await the core's async services; how depends on the thread
//! ([`block`]). Inside a write transaction, a write through `$app` would wait for the very
//! transaction that runs the hook, so it is refused ([`in_transaction`]).

use std::cell::{Cell, RefCell};
use std::future::Future;

use axum::body::Bytes;
use axum::http::request::Parts;
use oxbase_api::custom::Next;

thread_local! {
    /// Set while this thread may block on the runtime (a blocking-pool thread running JS).
    static MAY_BLOCK: Cell<bool> = const { Cell::new(false) };
    /// How deep this thread is inside hooks run in a write transaction.
    static IN_TRANSACTION: Cell<usize> = const { Cell::new(0) };
    /// The requests wrapped by the request hooks running on this thread, innermost last.
    static WRAPPED: RefCell<Vec<Wrapped>> = const { RefCell::new(Vec::new()) };
    /// What the last `e.next()` of the hooks running on this thread does, innermost last.
    static TERMINALS: RefCell<Vec<Terminal>> = const { RefCell::new(Vec::new()) };
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

/// Runs `f` as a hook inside a write transaction.
pub fn transactional<R>(f: impl FnOnce() -> R) -> R {
    IN_TRANSACTION.set(IN_TRANSACTION.get() + 1);
    let out = f();
    IN_TRANSACTION.set(IN_TRANSACTION.get() - 1);
    out
}

pub fn in_transaction() -> bool {
    IN_TRANSACTION.get() > 0
}

/// Awaits `fut` from synchronous code on any thread: directly where blocking is allowed or no
/// runtime runs the thread; otherwise (an event loop) on a short-lived thread of its own, so
/// the loop's runtime is never re-entered.
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
    } else {
        std::thread::scope(|s| {
            s.spawn(|| rt.block_on(fut))
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
