//! The time that expiry checks read: token lifetimes (auth and file tokens, the verified-token
//! cache) and rate-limit windows. It is the system's clock plus an offset that only moves
//! forward, through `advance`: a test of an expiry moves the app's clock past it instead of
//! sleeping, so it neither waits nor races the wall clock. Nothing but tests moves it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One per app; clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system's clock.
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Now, as a unix time in seconds (what JWT `exp` claims are compared with).
    pub fn unix(&self) -> i64 {
        let now = chrono::Utc::now().timestamp_millis()
            + i64::try_from(self.offset().as_millis()).unwrap_or(i64::MAX / 2);
        now.div_euclid(1000)
    }

    /// Now, for measuring intervals (rate-limit windows).
    pub fn instant(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// Moves this app's clock forward by `by` (tests only).
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_both_readings_forward() {
        let clock = Clock::default();
        let (unix, instant) = (clock.unix(), clock.instant());
        clock.advance(Duration::from_secs(3600));
        assert!(clock.unix() >= unix + 3600);
        assert!(clock.instant() >= instant + Duration::from_secs(3600));
        assert!(
            clock.clone().unix() >= unix + 3600,
            "clones share the offset"
        );
    }
}
