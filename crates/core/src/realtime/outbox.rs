//! A client's message queue: unbounded in count, bounded in bytes. A burst of small events fits
//! however many there are; a client that lets megabytes pile up is not reading, and is let go.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Message {
    pub event: String,
    pub data: Arc<str>,
}

/// What one queued message is counted as besides its text: the message and its queue slot.
const OVERHEAD: usize = 64;

fn cost(m: &Message) -> usize {
    m.event.len() + m.data.len() + OVERHEAD
}

/// The hub's end.
pub struct Outbox {
    tx: mpsc::UnboundedSender<Message>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

/// The SSE stream's end.
pub struct Inbox {
    rx: mpsc::UnboundedReceiver<Message>,
    queued: Arc<AtomicUsize>,
}

/// A queue holding at most `limit` bytes of messages.
pub fn queue(limit: usize) -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    (
        Outbox {
            tx,
            queued: queued.clone(),
            limit,
        },
        Inbox { rx, queued },
    )
}

impl Outbox {
    /// Queues `m`. `false` when the queue would pass its limit or its reader is gone: the
    /// client must then be disconnected (it reconnects and resubscribes), never skipped.
    pub fn push(&self, m: Message) -> bool {
        let size = cost(&m);
        if self.queued.fetch_add(size, Ordering::Relaxed) + size > self.limit {
            return false;
        }
        self.tx.send(m).is_ok()
    }
}

impl Inbox {
    /// The next message; `None` once the hub dropped the client and its queue is empty.
    pub async fn recv(&mut self) -> Option<Message> {
        let m = self.rx.recv().await?;
        self.queued.fetch_sub(cost(&m), Ordering::Relaxed);
        Some(m)
    }
}
