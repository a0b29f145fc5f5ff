//! Adaptive busy polling: an event loop that has just served a request keeps polling its
//! sockets for a short while before it sleeps, when recent requests came close together.
//!
//! Why: a loop that sleeps in `epoll_wait` between two requests pays for being woken up again:
//! on the virtual machines servers run on, waking an idle vCPU (an interrupt through the
//! hypervisor) and the two context switches cost more than a small request itself. Measured
//! with oxbase-bench on 2 cores, a client sending requests back to back (p50, sleeping →
//! polling): `GET /api/health` 0.105 → 0.063 ms, a view 0.128 → 0.081 ms, an insert 0.199 →
//! 0.136 ms. PocketBase gets the same from Go's scheduler, which spins before it sleeps.
//!
//! The cost is CPU, bounded three ways:
//! - the window adapts, as the guest halt-poll governor does: it doubles (up to the configured
//!   maximum) each time a request arrives within the maximum of the previous one, and halves
//!   when one arrives later, so a loop serving sparse traffic soon stops polling at all;
//! - each poll round first yields the CPU to any other runnable thread (`sched_yield`), so
//!   polling only uses a core nothing else wants: a load generator or a database on the same
//!   machine loses nothing to it (measured: throughput at concurrency 64 did not drop);
//! - a maximum of zero turns it off (`--busyPoll 0`), for CPU quotas that count every cycle.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The first window after sparse traffic, when requests start coming close together.
const FIRST_WINDOW: Duration = Duration::from_micros(10);

/// One event loop's state; each loop is one thread, so it lives in a thread-local.
struct Poller {
    /// The largest window (zero: never poll).
    max: Cell<Duration>,
    window: Cell<Duration>,
    /// When this loop last saw a request start or a response leave.
    last: Cell<Option<Instant>>,
    /// The loop's poller, asleep until the next request.
    sleeper: RefCell<Option<Waker>>,
}

/// The largest window in µs, for every loop: a loop that hands its worker to another thread
/// (`Loops::HandOver`) goes on there, whose thread-local starts with it.
static MAX: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static POLLER: Poller = {
        Poller {
            max: Cell::new(Duration::from_micros(MAX.load(Ordering::Relaxed))),
            window: Cell::new(Duration::ZERO),
            last: Cell::new(None),
            sleeper: RefCell::new(None),
        }
    };
}

/// A request starts on this thread's loop: the gap since the last activity adapts the window.
pub fn request_started() {
    POLLER.with(|p| {
        let now = Instant::now();
        if let Some(last) = p.last.get() {
            p.window
                .set(adapted(p.window.get(), now - last, p.max.get()));
        }
        p.mark(now);
    });
}

/// A response leaves this thread's loop: the window counts from now.
pub fn response_ready() {
    POLLER.with(|p| p.mark(Instant::now()));
}

/// The next window, given the gap the last request came after.
fn adapted(window: Duration, gap: Duration, max: Duration) -> Duration {
    if gap <= max {
        (window * 2).max(FIRST_WINDOW).min(max)
    } else {
        let half = window / 2;
        if half < FIRST_WINDOW {
            Duration::ZERO
        } else {
            half
        }
    }
}

impl Poller {
    fn mark(&self, now: Instant) {
        self.last.set(Some(now));
        // Waking the poller is a syscall (it unparks the runtime): only when it has a window
        // to poll for, so sparse traffic and `--busyPoll 0` pay nothing per request.
        if !self.window.get().is_zero()
            && let Some(sleeper) = self.sleeper.borrow_mut().take()
        {
            sleeper.wake();
        }
    }

    /// Whether the loop is still inside its window since the last activity.
    fn polling(&self) -> bool {
        let window = self.window.get();
        !window.is_zero() && self.last.get().is_some_and(|t| t.elapsed() < window)
    }
}

/// The loop's main future: runs beside its connections until `stop` resolves (or its sender is
/// dropped), polling the loop's sockets after each burst of activity for the adapted window.
pub async fn run_until(max: Duration, mut stop: oneshot::Receiver<Infallible>) {
    MAX.store(max.as_micros() as u64, Ordering::Relaxed);
    POLLER.with(|p| p.max.set(max));
    loop {
        let stopped = std::future::poll_fn(|cx| {
            if Pin::new(&mut stop).poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            POLLER.with(|p| {
                if p.polling() {
                    Poll::Ready(false)
                } else {
                    *p.sleeper.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
        })
        .await;
        if stopped {
            return;
        }
        while POLLER.with(Poller::polling) {
            // Another runnable thread on this core goes first; then the runtime checks its
            // sockets without blocking (a yielded task makes it poll with a zero timeout).
            std::thread::yield_now();
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_micros(100);

    #[test]
    fn the_window_grows_while_requests_come_close_together_and_dies_away_after() {
        let mut window = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..6 {
            window = adapted(window, Duration::from_micros(40), MAX);
            seen.push(window.as_micros());
        }
        assert_eq!(seen, [10, 20, 40, 80, 100, 100]);
        let mut seen = Vec::new();
        for _ in 0..5 {
            window = adapted(window, Duration::from_millis(5), MAX);
            seen.push(window.as_micros());
        }
        assert_eq!(seen, [50, 25, 12, 0, 0]);
    }

    #[test]
    fn a_maximum_of_zero_never_polls() {
        let mut window = Duration::ZERO;
        for _ in 0..10 {
            window = adapted(window, Duration::ZERO, Duration::ZERO);
            assert_eq!(window, Duration::ZERO);
        }
    }
}
