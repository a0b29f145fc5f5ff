//! Where requests leave their entries for the writer: a few shards, each a vector behind its
//! own lock, picked by thread, so that the HTTP threads seldom meet on a lock and a push
//! allocates nothing once the vectors have grown (a channel allocated and zeroed a block per
//! 32 entries, and counted each one on a shared semaphore). The writer empties every shard
//! into its own vector, keeping theirs.

use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::Entry;

const SHARDS: usize = 4;

pub(super) struct EntryQueue {
    shards: [Mutex<Vec<Entry>>; SHARDS],
    /// Entries per shard at most; past it new ones are refused, so a stalled database costs
    /// memory no further.
    per_shard: usize,
    /// Wakes the writer: an entry arrived in an empty shard.
    pub(super) arrived: Notify,
    /// Wakes the writer before its gathering time is up: a shard is a quarter full.
    pub(super) hurry: Notify,
}

impl EntryQueue {
    /// A queue of `capacity` entries at most.
    pub(super) fn new(capacity: usize) -> EntryQueue {
        EntryQueue {
            shards: std::array::from_fn(|_| Mutex::new(Vec::new())),
            per_shard: (capacity / SHARDS).max(1),
            arrived: Notify::new(),
            hurry: Notify::new(),
        }
    }

    /// Queues an entry; `false` when its shard is full (the entry is dropped).
    pub(super) fn push(&self, entry: Entry) -> bool {
        let mut shard = self.shards[shard_of_this_thread()].lock();
        if shard.len() >= self.per_shard {
            return false;
        }
        shard.push(entry);
        let len = shard.len();
        drop(shard);
        if len == 1 {
            self.arrived.notify_one();
        } else if len == self.per_shard / 4 {
            self.hurry.notify_one();
        }
        true
    }

    /// Moves every queued entry, in each shard's order, to the end of `into`.
    pub(super) fn drain_into(&self, into: &mut Vec<Entry>) {
        for shard in &self.shards {
            into.append(&mut shard.lock());
        }
    }
}

/// The shard of the calling thread, given out round-robin as threads first push.
fn shard_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}
