//! A write transaction shared by application code running on another thread: PocketBase's
//! transactional app (`e.app` in a model hook, `runInTransaction`'s `txApp`, a migration).
//! While code is joined to a transaction, every call it makes on the same `Db` (reads too, so
//! it sees its own writes) runs on that transaction's connection, each in a savepoint.
//!
//! Why threads: the connection is lent as `&mut dyn Conn` to the code that holds it, and a
//! hook deep inside that code cannot reach it back. So the thread holding it serves jobs sent
//! over a channel until the joined code is done: [`Db::lend`] runs the code on a thread of its
//! own while the caller serves its connection; [`Db::begin`] starts a transaction held by another
//! thread and joins the calling one to it. Nested writes never wait for SQLite's single writer
//! or a second PostgreSQL connection, so nothing deadlocks.
//!
//! What must wait for the commit (a change's emission, a cache's news to other instances) is
//! deferred ([`Db::when_settled`]) and runs once the outermost transaction's fate is known.
//!
//! Nothing here runs unless application code opened or joined a transaction: `Db`'s calls
//! look at one thread-local.

use std::cell::RefCell;

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::oneshot;

use super::{Conn, Db};
use crate::error::{Error, Result};

/// A job run on the transaction's connection.
type Job = Box<dyn FnOnce(&mut dyn Conn) + Send>;

/// What to do once the transaction's fate is known (`true`: committed).
pub type Settle = Box<dyn FnOnce(bool) + Send>;

enum Msg {
    Job(Job),
    /// The joined code is done; commit (`true`) or roll back.
    Done(bool),
}

/// The way to a transaction held by another thread.
#[derive(Clone)]
pub struct Link {
    jobs: Sender<Msg>,
    /// The `Db` it belongs to ([`Db::key`]): another database is not joined.
    db: usize,
}

thread_local! {
    /// The transaction the code on this thread is joined to.
    static JOINED: RefCell<Option<Link>> = const { RefCell::new(None) };
    /// On a thread holding a transaction's connection: what waits for its fate.
    static SETTLE: RefCell<Vec<Settle>> = const { RefCell::new(Vec::new()) };
}

/// The transaction of `db` this thread is joined to.
pub(crate) fn joined(db: usize) -> Option<Link> {
    JOINED.with(|j| j.borrow().as_ref().filter(|l| l.db == db).cloned())
}

/// The transaction this thread is joined to (to carry it to a helper thread).
pub fn current() -> Option<Link> {
    JOINED.with(|j| j.borrow().clone())
}

/// Runs `f` joined to `link` (none: to no transaction).
pub fn joining<R>(link: Option<Link>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Link>);
    impl Drop for Restore {
        fn drop(&mut self) {
            JOINED.with(|j| *j.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(JOINED.with(|j| j.replace(link)));
    f()
}

fn over() -> Error {
    Error::internal("the transaction is over")
}

impl Link {
    /// Runs `f` on the transaction's connection in a savepoint (undone when `f` fails, and
    /// with it what it deferred).
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let mark = SETTLE.with(|s| s.borrow().len());
            let result = super::guarded(conn, f);
            if result.is_err() {
                let undone: Vec<Settle> = SETTLE.with(|s| s.borrow_mut().split_off(mark));
                undone.into_iter().for_each(|s| s(false));
            }
            let _ = tx.send(result);
        });
        self.jobs.send(Msg::Job(job)).map_err(|_| over())?;
        rx.await.map_err(|_| over())?
    }

    /// Defers `settle` to the transaction's end.
    fn defer(&self, settle: Settle) {
        let job: Job = Box::new(move |_| SETTLE.with(|s| s.borrow_mut().push(settle)));
        if self.jobs.send(Msg::Job(job)).is_err() {
            // The transaction is over (its end is unknown here): nothing to wait for.
            tracing::warn!("a change was made after its transaction ended");
        }
    }
}

impl Db {
    /// Runs `settle` once the transaction this thread's code is joined to ends (`true`:
    /// committed); at once with `true` outside one.
    pub fn when_settled(&self, settle: impl FnOnce(bool) + Send + 'static) {
        match joined(self.key()) {
            Some(link) => link.defer(Box::new(settle)),
            None => settle(true),
        }
    }

    /// Whether this thread's code is joined to a transaction of this database.
    pub fn in_shared_transaction(&self) -> bool {
        joined(self.key()).is_some()
    }

    /// Runs `work` on a thread of its own, joined to the transaction whose connection is
    /// `conn` (this thread serves it meanwhile). Blocks until `work` returns.
    pub fn lend<R: Send>(&self, conn: &mut dyn Conn, work: impl FnOnce() -> R + Send) -> Result<R> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let link = Link {
            jobs: tx,
            db: self.key(),
        };
        std::thread::scope(|s| {
            let worker = std::thread::Builder::new()
                .name("oxbase-joined".into())
                .spawn_scoped(s, move || {
                    let _done = DoneOnDrop(link.jobs.clone());
                    joining(Some(link), work)
                })
                .map_err(Error::internal)?;
            serve(conn, &rx);
            Ok(worker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)))
        })
    }

    /// Begins a write transaction held by a blocking thread of `rt` and joins this thread to
    /// it until [`Shared::finish`] (which waits for its end).
    pub fn begin(&self, rt: &tokio::runtime::Handle) -> Shared {
        let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        let db = self.clone();
        let handle = rt.clone();
        rt.spawn_blocking(move || {
            let out = handle.block_on(db.write(move |conn| match serve(conn, &rx) {
                true => Ok(()),
                false => Err(Error::internal("rolled back")),
            }));
            let _ = out_tx.send(out);
        });
        let link = Link {
            jobs: tx,
            db: self.key(),
        };
        let before = JOINED.with(|j| j.replace(Some(link.clone())));
        Shared {
            link,
            outcome: out_rx,
            before: Some(before),
            _thread: std::marker::PhantomData,
        }
    }
}

/// Serves jobs on `conn` until the joined code is done; whether it asked for a commit.
fn serve(conn: &mut dyn Conn, jobs: &Receiver<Msg>) -> bool {
    loop {
        match jobs.recv() {
            Ok(Msg::Job(job)) => job(conn),
            Ok(Msg::Done(commit)) => return commit,
            Err(_) => return false,
        }
    }
}

/// Tells the serving thread the joined code is done, even when it panicked.
struct DoneOnDrop(Sender<Msg>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(Msg::Done(true));
    }
}

/// A transaction begun by [`Db::begin`]; rolled back when dropped unfinished.
pub struct Shared {
    link: Link,
    outcome: std::sync::mpsc::Receiver<Result<()>>,
    /// What this thread was joined to before (restored at the end).
    before: Option<Option<Link>>,
    /// Finished on the thread it joined (it restores that thread's state): not `Send`.
    _thread: std::marker::PhantomData<*const ()>,
}

impl Shared {
    /// Commits (`true`) or rolls back the transaction, waiting for its end; the commit's
    /// error. This thread is joined to what it was before.
    pub fn finish(mut self, commit: bool) -> Result<()> {
        self.end(commit)
    }

    fn end(&mut self, commit: bool) -> Result<()> {
        let Some(before) = self.before.take() else {
            return Ok(());
        };
        JOINED.with(|j| *j.borrow_mut() = before);
        let _ = self.link.jobs.send(Msg::Done(commit));
        let out = self.outcome.recv().map_err(|_| over())?;
        if commit { out } else { Ok(()) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.end(false);
    }
}

/// Wraps a write's closure to collect what its joined code deferred: returned with its
/// result (settled by [`settle`] after the commit), or settled as rolled back when it failed.
pub(crate) fn collecting<R>(
    f: impl FnOnce(&mut dyn Conn) -> Result<R> + Send + 'static,
) -> impl FnOnce(&mut dyn Conn) -> Result<(R, Vec<Settle>)> + Send + 'static {
    move |conn| {
        let result = f(conn);
        let deferred = SETTLE.with(|s| std::mem::take(&mut *s.borrow_mut()));
        match result {
            Ok(r) => Ok((r, deferred)),
            Err(e) => {
                deferred.into_iter().for_each(|s| s(false));
                Err(e)
            }
        }
    }
}

/// Runs what a committed write's joined code deferred.
pub(crate) fn settle(deferred: Vec<Settle>) {
    deferred.into_iter().for_each(|s| s(true));
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use oxbase_sql::{Sql, Value};
    use tokio::runtime::Handle;

    use super::*;
    use crate::store::sqlite::SqliteDb;

    async fn open(dir: &tempfile::TempDir) -> Db {
        let db = Db::Sqlite(SqliteDb::open(&dir.path().join("data.db"), 2).unwrap());
        db.write(|conn| conn.execute(&Sql::raw("CREATE TABLE t (v INTEGER)")))
            .await
            .unwrap();
        db
    }

    fn insert(db: &Db, rt: &Handle, v: i64) -> Result<usize> {
        rt.block_on(db.write(move |conn| {
            let mut sql = Sql::raw("INSERT INTO t (v) VALUES (");
            sql.push_param(Value::Int(v)).push(")");
            conn.execute(&sql)
        }))
    }

    fn count(db: &Db, rt: &Handle) -> i64 {
        let n = rt.block_on(db.read(|conn| conn.query_scalar(&Sql::raw("SELECT COUNT(*) FROM t"))));
        match n.unwrap() {
            Some(Value::Int(n)) => n,
            _ => -1,
        }
    }

    /// What `when_settled` was told, once told.
    fn watch(db: &Db) -> Arc<Mutex<Option<bool>>> {
        let told = Arc::new(Mutex::new(None));
        let slot = told.clone();
        db.when_settled(move |committed| *slot.lock().unwrap() = Some(committed));
        told
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_begun_transaction_commits_all_or_nothing_and_sees_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir).await;
        let rt = Handle::current();
        tokio::task::spawn_blocking(move || {
            for commit in [false, true] {
                let shared = db.begin(&rt);
                assert!(db.in_shared_transaction());
                insert(&db, &rt, 1).unwrap();
                insert(&db, &rt, 2).unwrap();
                assert_eq!(count(&db, &rt), 2, "a joined read sees the transaction");
                // A failing write undoes only itself (its savepoint).
                assert!(
                    rt.block_on(
                        db.write(|conn| conn.execute(&Sql::raw("INSERT INTO nope VALUES (1)")))
                    )
                    .is_err()
                );
                let told = watch(&db);
                let outside = std::thread::scope(|s| s.spawn(|| count(&db, &rt)).join().unwrap());
                assert_eq!(outside, 0, "nothing shows outside before the commit");
                assert_eq!(*told.lock().unwrap(), None);
                shared.finish(commit).unwrap();
                assert!(!db.in_shared_transaction());
                assert_eq!(*told.lock().unwrap(), Some(commit));
                assert_eq!(count(&db, &rt), if commit { 2 } else { 0 });
            }
        })
        .await
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lent_transaction_takes_the_nested_writes_and_their_fate() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir).await;
        let told = Arc::new(Mutex::new(Vec::new()));
        for fail in [true, false] {
            let (inner, rt, seen) = (db.clone(), Handle::current(), told.clone());
            let outcome = db
                .write(move |conn| {
                    let nested = inner.lend(conn, || {
                        insert(&inner, &rt, 7)?;
                        inner.when_settled(move |ok| seen.lock().unwrap().push(ok));
                        Ok::<_, Error>(count(&inner, &rt))
                    })??;
                    assert_eq!(nested, 1, "the nested read sees the nested write");
                    if fail {
                        return Err(Error::bad_request("later failure"));
                    }
                    Ok(())
                })
                .await;
            assert_eq!(outcome.is_err(), fail);
        }
        let rt = Handle::current();
        let n = tokio::task::spawn_blocking(move || count(&db, &rt));
        assert_eq!(n.await.unwrap(), 1, "only the committed write stays");
        assert_eq!(*told.lock().unwrap(), vec![false, true]);
    }
}
