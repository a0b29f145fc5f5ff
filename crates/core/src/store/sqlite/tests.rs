//! The SQLite store's tests: writes and their grouping, refusals, the WAL, page sizes and the
//! logs' tables.
use super::*;
use crate::error::StoreErrorKind;

fn open(dir: &tempfile::TempDir) -> SqliteDb {
    SqliteDb::open(&dir.path().join("data.db"), 2).unwrap()
}

async fn count(db: &SqliteDb) -> i64 {
    db.read(|conn| conn.query_scalar(&Sql::raw("SELECT COUNT(*) FROM t")))
        .await
        .unwrap()
        .map_or(-1, |v| match v {
            Value::Int(n) => n,
            _ => -1,
        })
}

async fn create_table(db: &SqliteDb) {
    db.write(|conn| conn.execute(&Sql::raw("CREATE TABLE t (v BLOB)")))
        .await
        .unwrap();
}

fn insert(conn: &mut dyn Conn, v: Value) -> Result<usize> {
    let mut sql = Sql::raw("INSERT INTO t (v) VALUES (");
    sql.push_param(v).push(")");
    conn.execute(&sql)
}

async fn page_size(db: &SqliteDb) -> Option<Value> {
    db.read(|conn| conn.query_scalar(&Sql::raw("PRAGMA page_size")))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_file_gets_the_page_size_asked_and_an_old_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aux.db");
    let db = SqliteDb::open_with_page_size(&path, 1, Some(16_384)).unwrap();
    assert_eq!(page_size(&db).await, Some(Value::Int(16_384)));
    db.close().await;
    let db = SqliteDb::open_with_page_size(&path, 1, Some(8_192)).unwrap();
    assert_eq!(page_size(&db).await, Some(Value::Int(16_384)));
    db.close().await;
    let db = open(&dir);
    assert_eq!(page_size(&db).await, Some(Value::Int(4_096)));
}

#[tokio::test]
async fn the_logs_table_indexes_created_but_not_level() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    let indexes = |db: SqliteDb| async move {
        db.read(|conn| {
            conn.query_scalar(&Sql::raw(
                "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = '_logs' AND sql IS NOT NULL ORDER BY name)",
            ))
        })
        .await
        .unwrap()
    };
    db.write(|conn| {
        conn.execute(&Sql::raw(
            "CREATE TABLE \"_logs\" (\"id\" TEXT PRIMARY KEY, \"level\" INTEGER, \
             \"created\" TEXT)",
        ))?;
        conn.execute(&Sql::raw(
            "CREATE INDEX \"_logs_level_idx\" ON \"_logs\" (\"level\")",
        ))
    })
    .await
    .unwrap();
    // A file from before keeps its table and loses the level index.
    db.write(crate::store::tables::logs::create).await.unwrap();
    assert_eq!(
        indexes(db.clone()).await,
        Some(Value::Text("_logs_created_idx".into()))
    );
}

/// Every row of `sql` as text, `|` between columns.
fn rows_text(conn: &mut dyn Conn, sql: &str) -> Vec<String> {
    let rows = conn
        .query(&Sql::raw(sql))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    rows.rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Null => "NULL".to_owned(),
                    Value::Int(n) => n.to_string(),
                    Value::Text(t) => t.clone(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[tokio::test]
async fn a_log_entry_whose_id_clashes_is_lost_alone() {
    use crate::store::log_entries::Batch;
    use crate::store::tables::logs;
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.write(logs::create).await.unwrap();
    let mut batch = Batch::default();
    for id in [
        "aaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbb",
        "aaaaaaaaaaaaaaa",
        "ccccccccccccccc",
    ] {
        batch.push(id, 0, 1_765_087_200_000_000, id);
    }
    db.write(move |conn| logs::append(conn, &batch))
        .await
        .unwrap();
    let messages =
        "SELECT group_concat(message, ',') FROM (SELECT message FROM \"_logs\" ORDER BY _rowid_)";
    // Stored as one pending batch: no row until the logs are read.
    let before = db
        .read(move |conn| Ok(rows_text(conn, messages)))
        .await
        .unwrap();
    assert_eq!(before, ["NULL"]);
    assert!(!db.write(logs::index_pending).await.unwrap());
    let after = db
        .read(move |conn| Ok(rows_text(conn, messages)))
        .await
        .unwrap();
    assert_eq!(after, ["aaaaaaaaaaaaaaa,bbbbbbbbbbbbbbb,ccccccccccccccc"]);
}

/// Generated entries stored in batches of every size become the rows they describe, in their
/// order, a part of the backlog per call; a deletion counts and removes pending ones too.
#[tokio::test]
async fn pending_log_batches_become_their_rows() {
    use crate::store::log_entries::Batch;
    use crate::store::tables::logs;
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.write(logs::create).await.unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let start = 1_765_000_000_000_000_i64;
    let mut expected = Vec::new();
    let mut at = 0;
    while at < 40_000 {
        let size = [1, 3, 40, 400, 4_000][rng.random_range(0..5)];
        let mut batch = Batch::default();
        for i in at..at + size {
            let id = format!("{:015}", 1_000 + i);
            let level = [-4, 0, 4, 8][rng.random_range(0..4)];
            // Requests end out of order: dates do not follow ids.
            let created = start + rng.random_range(0..3 * 86_400_000_000_i64);
            let message = ["GET /api/x?q=\"é\"", "app event", ""][rng.random_range(0..3)];
            let data = match rng.random_range(0..3) {
                0 => {
                    batch
                        .push(&id, level, created, message)
                        .text("type", "request")
                        .float("execTime", created as f64 / 1e9)
                        .int("status", 404)
                        .text("url", message);
                    serde_json::json!({"type": "request", "execTime": created as f64 / 1e9,
                        "status": 404, "url": message})
                }
                1 => {
                    batch
                        .push(&id, level, created, message)
                        .object(r#"{"n":[1,"two"]}"#);
                    serde_json::json!({"n": [1, "two"]})
                }
                _ => {
                    batch.push(&id, level, created, message);
                    serde_json::json!({})
                }
            };
            let date = crate::dates::format(
                chrono::DateTime::from_timestamp_micros(created).unwrap_or_default(),
            );
            expected.push((id, level, message.to_owned(), data, date));
        }
        at += size;
        db.write(move |conn| logs::append(conn, &batch))
            .await
            .unwrap();
        if at < 10_000 && rng.random_range(0..8) == 0 {
            db.write(logs::index_pending).await.unwrap();
        }
    }
    // Megabytes are pending: the first call leaves some for the next.
    assert!(db.write(logs::index_pending).await.unwrap());
    while db.write(logs::index_pending).await.unwrap() {}
    let rows = db
        .read(|conn| {
            Ok(rows_text(
                conn,
                "SELECT id, level, message, data, created FROM \"_logs\" ORDER BY _rowid_",
            ))
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, (id, level, message, data, date)) in rows.iter().zip(&expected) {
        let columns: Vec<&str> = row.splitn(5, '|').collect();
        assert_eq!(
            columns[..3],
            [id.as_str(), &level.to_string(), message.as_str()]
        );
        // `data` holds no `|`; the date ends the row.
        let (data_text, created) = columns[3..].join("|").rsplit_once('|').map_or_else(
            || (String::new(), String::new()),
            |(d, c)| (d.to_owned(), c.to_owned()),
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&data_text)
                .ok()
                .as_ref(),
            Some(data)
        );
        assert_eq!(&created, date);
    }

    // Old entries still pending are deleted with the indexed ones.
    let mut old = Batch::default();
    old.push("zzzzzzzzzzzzzzz", 0, 0, "1970");
    db.write(move |conn| logs::append(conn, &old))
        .await
        .unwrap();
    let cutoff = expected[expected.len() / 2].4.clone();
    let older = expected.iter().filter(|e| e.4 <= cutoff).count() + 1;
    let deleted = db
        .write(move |conn| logs::delete_old(conn, cutoff, i64::MIN))
        .await
        .unwrap();
    assert_eq!(deleted, older);
    let left = db
        .read(|conn| {
            Ok(rows_text(
                conn,
                "SELECT (SELECT COUNT(*) FROM \"_logs\") || '|' || (SELECT COUNT(*) FROM \"_logs_pending\")",
            ))
        })
        .await
        .unwrap();
    assert_eq!(left, [format!("{}|0", expected.len() + 1 - older)]);
}

#[tokio::test]
async fn refusals_carry_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    db.write(|conn| {
        conn.execute(&Sql::raw(
            "CREATE TABLE u (a TEXT, b TEXT NOT NULL, c TEXT)",
        ))?;
        conn.execute(&Sql::raw("CREATE UNIQUE INDEX u_ab ON u (a, c)"))?;
        conn.execute(&Sql::raw("INSERT INTO u VALUES ('x', 'y', 'z')"))
    })
    .await
    .unwrap();
    let err = db
        .write(|conn| conn.execute(&Sql::raw("INSERT INTO u VALUES ('x', 'y', 'z')")))
        .await
        .unwrap_err();
    match err {
        Error::Store(e) => assert_eq!(
            e.kind,
            StoreErrorKind::Unique {
                table: "u".into(),
                columns: vec!["a".into(), "c".into()],
                index: None
            }
        ),
        other => panic!("{other:?}"),
    }
    let err = db
        .write(|conn| conn.execute(&Sql::raw("INSERT INTO u VALUES ('q', NULL, 'r')")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Store(ref e) if e.kind == StoreErrorKind::Constraint),
        "{err:?}"
    );
    let err = db
        .read(|conn| conn.query(&Sql::raw("SELECT nope FROM u")))
        .await
        .unwrap_err();
    let Error::Internal(internal) = err else {
        panic!("{err:?}")
    };
    assert!(
        internal.to_string().contains("no such column: nope"),
        "{}",
        internal.to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_and_concurrent_writes_all_commit_and_failures_roll_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    create_table(&db).await;
    // A lone write (run on the calling thread) is visible to the next read.
    db.write(|conn| insert(conn, Value::Int(1))).await.unwrap();
    assert_eq!(count(&db).await, 1);
    // Many at once: some queue for the writer thread and share a transaction; the
    // failing ones (a write then an error) undo only themselves.
    let writes = (0..200).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |conn| {
                insert(conn, Value::Int(i))?;
                if i % 10 == 0 {
                    return Err(Error::bad_request("refused"));
                }
                Ok(())
            })
            .await
        })
    });
    let results = futures_util::future::join_all(writes).await;
    let failed = results
        .iter()
        .filter(|r| r.as_ref().unwrap().is_err())
        .count();
    assert_eq!(failed, 20);
    assert_eq!(count(&db).await, 1 + 180);
    // Lookups see committed writes at once.
    let n = db
        .lookup(|conn| conn.query_scalar(&Sql::raw("SELECT COUNT(*) FROM t")))
        .await
        .unwrap();
    assert!(matches!(n, Some(Value::Int(181))));
    db.close().await;
    assert!(db.write(|conn| insert(conn, Value::Int(0))).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_leaves_no_transaction_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    create_table(&db).await;
    let db2 = db.clone();
    let panicked = tokio::spawn(async move {
        db2.write(|conn| -> Result<()> {
            insert(conn, Value::Int(1))?;
            panic!("a bug in a write");
        })
        .await
    })
    .await;
    assert!(panicked.is_err());
    db.write(|conn| insert(conn, Value::Int(2))).await.unwrap();
    assert_eq!(count(&db).await, 1);
}

/// The checkpoint sequence number in the WAL header: SQLite adds one each time the log
/// starts over.
fn wal_restarts(dir: &tempfile::TempDir) -> Option<u32> {
    let header = std::fs::read(dir.path().join("data.db-wal")).ok()?;
    Some(u32::from_be_bytes(header.get(12..16)?.try_into().ok()?))
}

/// Under steady writes the WAL keeps starting over, so it stays bounded. (Without the held
/// second checkpoint pass it starts over only when a pause lets a passive pass catch up:
/// the server under oxbase-bench's single-writer insert load grew it to 665 MB in 12 s.
/// Here the awaits between writes leave such pauses now and then, so this checks the
/// property, not that the old code lacked it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_starts_over_under_steady_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir);
    create_table(&db).await;
    db.write(|conn| insert(conn, Value::Blob(vec![7; 5000])))
        .await
        .unwrap();
    let mut last = wal_restarts(&dir).expect("a WAL header");
    let started = std::time::Instant::now();
    let mut commits = 1u64;
    let mut restarts = 0;
    // No pause between writes for 3 s: the checkpoint thread wakes about 12 times.
    while started.elapsed() < std::time::Duration::from_secs(3) {
        db.write(|conn| insert(conn, Value::Blob(vec![7; 5000])))
            .await
            .unwrap();
        commits += 1;
        if commits.is_multiple_of(50)
            && let Some(n) = wal_restarts(&dir)
            && n != last
        {
            restarts += 1;
            last = n;
        }
    }
    assert!(
        restarts >= 3,
        "the WAL started over {restarts} times in {commits} commits"
    );
    assert_eq!(count(&db).await, commits as i64);
}
