//! The PostgreSQL pool's connections live on the runtime the database was opened on, whichever
//! runtime asked for them: a per-core event loop that waits (a hook's `e.next()` blocking on a
//! save) must not hold up the queries sent on a connection it happened to open.

use std::time::Duration;

use oxbase_core::store::postgres::PgDb;
use oxbase_sql::Sql;

use crate::helpers::TestDatabase;

#[test]
fn connections_opened_from_another_runtime_answer_while_it_is_not_running() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (database, db) = server.block_on(async {
        let database = TestDatabase::create_required().await;
        let db = PgDb::connect(&database.url, 4).await.expect("connect");
        (database, db)
    });
    // An event loop of its own makes the pool open more connections, then stops running.
    let event_loop = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reads = || {
        let reads = (0..4).map(|_| {
            db.read(|conn| {
                // Held a moment, so that the four take four connections.
                std::thread::sleep(Duration::from_millis(50));
                conn.query_scalar(&Sql::raw("SELECT 1"))
            })
        });
        futures_util::future::join_all(reads)
    };
    let opened = event_loop.block_on(reads());
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    // Every pooled connection answers from the server's runtime, the loop standing still.
    let answered =
        server.block_on(async { tokio::time::timeout(Duration::from_secs(10), reads()).await });
    let answered = answered.expect("queries on connections the stopped loop opened");
    assert!(answered.iter().all(Result::is_ok), "{answered:?}");
    drop(event_loop);
    server.block_on(db.close());
    drop(database);
}
