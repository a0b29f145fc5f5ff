//! The consumers of record changes, each in one phase of a write:
//!
//! | phase | when | a consumer may | consumers |
//! |---|---|---|---|
//! | in the transaction | [`TransactionHook::around_write`]: a record about to be created or updated, around its checks and rows; [`TransactionHook::around_delete`]: one about to be deleted, around its cascade; [`TransactionHook::after_write`]: each change once its rows are written, before commit | change the record (validated again), write rows of its own in the same transaction, skip the write, or reject it (all of it rolls back) | JS hooks and the outbox (issues #20, #21) |
//! | in the transaction, deletes | [`DeleteWatcher`], before the first row goes | decide who may see each deleted record | realtime |
//! | after commit, first | [`Pipeline::forward_to`], synchronously, this instance's own changes only | hand them on | the relay to other instances |
//! | before the response | [`ChangeHook`], synchronously after commit ([`Pipeline::on_local_change`]: this instance's own changes only) | keep a cache exact; run after-success hooks | the identity cache; JS `onRecordAfter*Success` |
//! | after commit | [`Pipeline::subscribe`]: one unbounded queue per subscriber, in commit order | anything, on its own task | realtime |
//!
//! A phase with no consumer costs a write nothing but a look at an empty list.

use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc;

use super::change::{Action, Change, Committed};
use super::watch::{DeleteWatcher, Foreseen};
use crate::error::Result;
use crate::schema::Record;
use crate::store::Conn;

/// A synchronous listener of committed changes (caches that must never serve stale data).
pub type ChangeHook = Arc<dyn Fn(&Change) + Send + Sync>;

/// A consumer inside the write transaction. An error from either method fails the write and
/// rolls its transaction back (in a batch: the whole batch), and nothing is emitted.
pub trait TransactionHook: Send + Sync {
    /// A record about to be written by `action` (create or update), before its fields,
    /// relations and uniqueness are checked: whatever it changes is checked as the request's
    /// values are. `previous`: the stored record an update changes.
    fn before_write(
        &self,
        _conn: &mut dyn Conn,
        _action: Action,
        _record: &mut Record,
        _previous: Option<&Record>,
    ) -> Result<()> {
        Ok(())
    }
    /// A record about to be deleted (the one asked for, before its cascade), with its stored
    /// values.
    fn before_delete(&self, _conn: &mut dyn Conn, _record: &Record) -> Result<()> {
        Ok(())
    }
    /// Wraps the rest of a create or update (its checks and rows: `proceed`, with the record
    /// as this consumer left it). `Some(record)`: it did not proceed, and the write is skipped
    /// (PocketBase's model hooks skip it when no handler calls `e.next()`). By default: the
    /// record through [`before_write`](Self::before_write), then `proceed`.
    fn around_write(
        &self,
        conn: &mut dyn Conn,
        action: Action,
        mut record: Record,
        previous: Option<&Record>,
        proceed: Proceed,
    ) -> Result<Option<Record>> {
        self.before_write(conn, action, &mut record, previous)?;
        proceed(conn, record).map(|()| None)
    }
    /// Wraps the rest of a delete (`proceed`: the cascade and the rows); `false`: it did not
    /// proceed, and nothing is deleted. By default: [`before_delete`](Self::before_delete),
    /// then `proceed`.
    fn around_delete(
        &self,
        conn: &mut dyn Conn,
        record: &Record,
        proceed: ProceedDelete,
    ) -> Result<bool> {
        self.before_delete(conn, record)?;
        proceed(conn).map(|()| true)
    }
    /// A change whose rows are written, before commit: rows written on `conn` commit or roll
    /// back with it.
    fn after_write(&self, _conn: &mut dyn Conn, _change: &Change) -> Result<()> {
        Ok(())
    }
}

/// The rest of a create or update, with the record as the consumers around it left it. Its
/// outcome stays with the write; an error is also answered to the consumer that called it.
pub type Proceed = Box<dyn FnOnce(&mut dyn Conn, Record) -> Result<()> + Send>;

/// The rest of a delete.
pub type ProceedDelete = Box<dyn FnOnce(&mut dyn Conn) -> Result<()> + Send>;

/// The in-transaction consumers as they were when a write began (a cheap snapshot a write
/// plan carries into its transaction).
#[derive(Clone, Default)]
pub struct TransactionHooks(Arc<[Arc<dyn TransactionHook>]>);

impl TransactionHooks {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs `proceed` inside every consumer's [`TransactionHook::around_write`], the first
    /// outermost; `Some(record)` when one skipped the write.
    pub fn around_write(
        &self,
        conn: &mut dyn Conn,
        action: Action,
        record: Record,
        previous: Option<&Record>,
        mut proceed: Proceed,
    ) -> Result<Option<Record>> {
        let Some((outer, inner)) = self.0.split_first() else {
            return proceed(conn, record).map(|()| None);
        };
        // An inner consumer's skip is kept here: the ones outside it carry on as if it ran.
        let skipped: Arc<Mutex<Option<Record>>> = Arc::default();
        for hook in inner.iter().rev() {
            let (hook, previous, slot) = (hook.clone(), previous.cloned(), skipped.clone());
            let next = proceed;
            proceed = Box::new(move |conn, record| {
                if let Some(r) = hook.around_write(conn, action, record, previous.as_ref(), next)? {
                    *slot.lock() = Some(r);
                }
                Ok(())
            });
        }
        let outer = outer.around_write(conn, action, record, previous, proceed)?;
        Ok(outer.or_else(|| skipped.lock().take()))
    }

    /// Runs `proceed` inside every consumer's [`TransactionHook::around_delete`]; `false` when
    /// one skipped the delete.
    pub fn around_delete(
        &self,
        conn: &mut dyn Conn,
        record: &Record,
        mut proceed: ProceedDelete,
    ) -> Result<bool> {
        let Some((outer, inner)) = self.0.split_first() else {
            return proceed(conn).map(|()| true);
        };
        let skipped: Arc<Mutex<bool>> = Arc::default();
        for hook in inner.iter().rev() {
            let (hook, record, slot) = (hook.clone(), record.clone(), skipped.clone());
            let next = proceed;
            proceed = Box::new(move |conn| {
                if !hook.around_delete(conn, &record, next)? {
                    *slot.lock() = true;
                }
                Ok(())
            });
        }
        let went = outer.around_delete(conn, record, proceed)?;
        Ok(went && !*skipped.lock())
    }

    pub fn after_write(&self, conn: &mut dyn Conn, change: &Change) -> Result<()> {
        self.0.iter().try_for_each(|h| h.after_write(conn, change))
    }
}

/// The pipeline of one app; cloning it is one reference count.
#[derive(Clone, Default)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    transaction: RwLock<TransactionHooks>,
    delete_watcher: RwLock<Option<Arc<dyn DeleteWatcher>>>,
    hooks: RwLock<Vec<ChangeHook>>,
    /// Hooks of this instance's own changes only (JS after-success hooks).
    local_hooks: RwLock<Vec<ChangeHook>>,
    /// One unbounded queue per subscriber: a send never fails nor drops a change, so a
    /// subscriber misses nothing unless it decides to (realtime bounds its own backlog).
    subscribers: RwLock<Vec<Subscriber>>,
    /// Where this instance's own changes go for the other instances (PostgreSQL only).
    forward: OnceLock<ChangeHook>,
}

/// A subscriber's queue, and whether it wants changes now.
struct Subscriber {
    tx: mpsc::UnboundedSender<Committed>,
    listening: Box<dyn Fn() -> bool + Send + Sync>,
}

impl Pipeline {
    /// Adds a consumer inside every write transaction from now on.
    pub fn on_transaction(&self, hook: Arc<dyn TransactionHook>) {
        let mut current = self.inner.transaction.write();
        let mut all: Vec<_> = current.0.iter().cloned().collect();
        all.push(hook);
        *current = TransactionHooks(all.into());
    }

    pub fn transaction_hooks(&self) -> TransactionHooks {
        self.inner.transaction.read().clone()
    }

    /// Registers the watcher asked, inside each delete's transaction, who may see the
    /// records it removes (realtime).
    pub fn watch_deletes(&self, watcher: Arc<dyn DeleteWatcher>) {
        *self.inner.delete_watcher.write() = Some(watcher);
    }

    pub fn delete_watcher(&self) -> Option<Arc<dyn DeleteWatcher>> {
        self.inner.delete_watcher.read().clone()
    }

    /// Registers a hook run synchronously on every committed change, before the response to
    /// the write goes out (unlike `subscribe`, which is asynchronous).
    pub fn on_change(&self, hook: ChangeHook) {
        self.inner.hooks.write().push(hook);
    }

    /// Registers a hook run synchronously on each change this instance committed (not on
    /// those relayed from other instances), before the response to the write goes out.
    pub fn on_local_change(&self, hook: ChangeHook) {
        self.inner.local_hooks.write().push(hook);
    }

    /// Subscribes to the changes committed from now on, in commit order, that are emitted
    /// while `listening` says yes: a change nobody would be told of is not sent, and waking the
    /// subscriber's task for it would cost every write a thread wake-up.
    pub fn subscribe(
        &self,
        listening: impl Fn() -> bool + Send + Sync + 'static,
    ) -> mpsc::UnboundedReceiver<Committed> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner.subscribers.write().push(Subscriber {
            tx,
            listening: Box::new(listening),
        });
        rx
    }

    /// Sends this instance's own committed changes to `forward` from now on (the relay; one
    /// per app).
    pub fn forward_to(&self, forward: ChangeHook) {
        if self.inner.forward.set(forward).is_err() {
            tracing::error!(
                "the change pipeline already forwards its changes; a second relay is ignored"
            );
        }
    }

    /// A change this instance committed (the record service's; nobody else emits).
    pub(crate) fn emit(&self, change: Change, foreseen: Option<Arc<Foreseen>>) {
        if let Some(forward) = self.inner.forward.get() {
            forward(&change);
        }
        for hook in self.inner.local_hooks.read().iter() {
            hook(&change);
        }
        self.deliver(change, foreseen);
    }

    /// A change committed by another instance: the local caches and subscribers hear of it as
    /// of a local one, and it goes nowhere else.
    pub(crate) fn emit_remote(&self, change: Change) {
        self.deliver(change, None);
    }

    fn deliver(&self, change: Change, foreseen: Option<Arc<Foreseen>>) {
        for hook in self.inner.hooks.read().iter() {
            hook(&change);
        }
        let committed = Committed { change, foreseen };
        let gone = self
            .inner
            .subscribers
            .read()
            .iter()
            .filter(|s| (s.listening)() && s.tx.send(committed.clone()).is_err())
            .count();
        if gone > 0 {
            self.inner.subscribers.write().retain(|s| !s.tx.is_closed());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::schema::{Collection, CollectionKind};

    fn change(id: &str) -> Change {
        let collection = Arc::new(Collection::new("posts", CollectionKind::Base));
        let mut record = Record::new(collection);
        record.data.insert("id".into(), id.into());
        Change::Created(record)
    }

    #[tokio::test]
    async fn subscribers_get_changes_in_commit_order_while_listening() {
        let pipeline = Pipeline::default();
        let listening = Arc::new(AtomicBool::new(true));
        let flag = listening.clone();
        let mut rx = pipeline.subscribe(move || flag.load(Ordering::SeqCst));
        pipeline.emit(change("a"), None);
        listening.store(false, Ordering::SeqCst);
        pipeline.emit(change("b"), None);
        listening.store(true, Ordering::SeqCst);
        pipeline.emit_remote(change("c"));
        let ids: Vec<String> = [rx.recv().await, rx.recv().await]
            .into_iter()
            .map(|c| c.unwrap().change.record().id().to_owned())
            .collect();
        assert_eq!(ids, ["a", "c"]);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn hooks_hear_every_change_and_only_local_ones_are_forwarded() {
        let pipeline = Pipeline::default();
        let (heard, forwarded) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let h = heard.clone();
        pipeline.on_change(Arc::new(move |_| {
            h.fetch_add(1, Ordering::SeqCst);
        }));
        let f = forwarded.clone();
        pipeline.forward_to(Arc::new(move |_| {
            f.fetch_add(1, Ordering::SeqCst);
        }));
        pipeline.emit(change("a"), None);
        pipeline.emit_remote(change("b"));
        assert_eq!(heard.load(Ordering::SeqCst), 2);
        assert_eq!(forwarded.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_closed_subscriber_is_dropped() {
        let pipeline = Pipeline::default();
        drop(pipeline.subscribe(|| true));
        pipeline.emit(change("a"), None);
        assert!(pipeline.inner.subscribers.read().is_empty());
    }
}
