//! `_jobs`: the durable job queue's table (the `jobs` module owns the queue; these are its
//! statements). A row is written in the transaction of the change it follows (the outbox),
//! claimed under a lease by one worker of one instance, deleted once done, and kept as `dead`
//! once it has failed too often. `seq` is the order of insertion: for two jobs on one `key`
//! (one record, for one consumer) that is their commit order, since the second change waited
//! for the first one's row lock (PostgreSQL) or its commit (SQLite's single writer).

use oxbase_sql::{Sql, Value};

use super::{Conn, int, text};
use crate::error::Result;

pub const PENDING: &str = "pending";
pub const DEAD: &str = "dead";

const COLUMNS: &str = "\"seq\", \"id\", \"kind\", \"target\", \"key\", \"payload\", \"status\", \
                       \"attempts\", \"runAt\", \"created\", \"lastError\"";

/// A row of `_jobs`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub seq: i64,
    /// The event's id (kept through retries and replays: a receiver deduplicates by it).
    pub id: String,
    /// Which handler runs it (`webhook`).
    pub kind: String,
    /// Where it goes (for a webhook, its endpoint's URL).
    pub target: String,
    /// Jobs of one key and target run one at a time, in `seq` order.
    pub key: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    /// Unix microseconds: not before.
    pub run_at: i64,
    /// Unix microseconds.
    pub created: i64,
    pub last_error: String,
}

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub key: String,
    pub payload: String,
}

/// Creates the table and its index when missing (every start; no-op after the first). On
/// SQLite it also ends every lease: the process holds the file alone (`unix-excl`), so a lease
/// found at start is a dead process's (a crash mid-attempt), and its job may run at once
/// rather than a lease later. On PostgreSQL another live instance may hold it: leases stand.
pub fn create(conn: &mut dyn Conn) -> Result<()> {
    let table = format!(
        "CREATE TABLE IF NOT EXISTS \"_jobs\" (\"seq\" {}, \"id\" TEXT NOT NULL, \
         \"kind\" TEXT NOT NULL, \"target\" TEXT NOT NULL, \"key\" TEXT NOT NULL, \
         \"payload\" TEXT NOT NULL, \"status\" TEXT NOT NULL, \"attempts\" BIGINT NOT NULL, \
         \"runAt\" BIGINT NOT NULL, \"lockedUntil\" BIGINT NOT NULL, \"created\" BIGINT NOT NULL, \
         \"lastError\" TEXT NOT NULL)",
        conn.dialect().serial_key()
    );
    conn.execute(&Sql::raw(table))?;
    conn.execute(&Sql::raw(
        "CREATE INDEX IF NOT EXISTS \"_jobs_key\" ON \"_jobs\" (\"key\", \"target\", \"seq\")",
    ))?;
    if conn.dialect() == oxbase_sql::Dialect::Sqlite {
        conn.execute(&Sql::raw(
            "UPDATE \"_jobs\" SET \"lockedUntil\" = 0 WHERE \"lockedUntil\" > 0",
        ))?;
    }
    Ok(())
}

/// Adds `job`, runnable at once.
pub fn push(conn: &mut dyn Conn, job: NewJob, now: i64) -> Result<()> {
    let mut sql = Sql::raw(
        "INSERT INTO \"_jobs\" (\"id\", \"kind\", \"target\", \"key\", \"payload\", \"status\", \
         \"attempts\", \"runAt\", \"lockedUntil\", \"created\", \"lastError\") VALUES (",
    );
    sql.push_param(job.id)
        .push(", ")
        .push_param(job.kind)
        .push(", ")
        .push_param(job.target)
        .push(", ")
        .push_param(job.key)
        .push(", ")
        .push_param(job.payload)
        .push(", ")
        .push_param(PENDING)
        .push(", 0, ")
        .push_param(now)
        .push(", 0, ")
        .push_param(now)
        .push(", '')");
    conn.execute(&sql).map(|_| ())
}

/// Up to `limit` runnable jobs of `kinds`: pending, due, not leased, and the first pending one
/// of their key and target (so one record's events go one at a time, in order), oldest first.
/// On PostgreSQL it locks them for the caller's transaction, skipping rows another instance has
/// locked; [`lease`] then holds them past it. Only the kinds the caller runs: a job claimed by
/// a worker without its handler (one starting, before the handlers are registered) would wait
/// out a whole lease.
pub fn due(conn: &mut dyn Conn, kinds: &[String], now: i64, limit: i64) -> Result<Vec<JobRow>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Sql::raw(format!("SELECT {COLUMNS} FROM \"_jobs\" AS \"j\" WHERE "));
    push_due(&mut select, kinds, now);
    select
        .push(
            " AND NOT EXISTS (SELECT 1 FROM \"_jobs\" AS \"e\" WHERE \"e\".\"key\" = \"j\".\"key\" \
             AND \"e\".\"target\" = \"j\".\"target\" AND \"e\".\"seq\" < \"j\".\"seq\" \
             AND \"e\".\"status\" = ",
        )
        .push_param(PENDING)
        .push(") ORDER BY \"j\".\"seq\" LIMIT ")
        .push_param(limit)
        .push(conn.dialect().skip_locked());
    Ok(rows(conn.query(&select)?))
}

/// Holds `jobs` until `lease_until` (one statement): no other worker claims them before.
pub fn lease(conn: &mut dyn Conn, jobs: &[JobRow], lease_until: i64) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::raw("UPDATE \"_jobs\" SET \"lockedUntil\" = ");
    sql.push_param(lease_until).push(" WHERE ");
    push_seqs(&mut sql, jobs.iter().map(|j| j.seq));
    conn.execute(&sql).map(|_| ())
}

/// `"seq" IN (…)`, each a bound parameter.
fn push_seqs(sql: &mut Sql, seqs: impl Iterator<Item = i64>) {
    sql.push("\"seq\" IN (");
    for (i, seq) in seqs.enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_param(seq);
    }
    sql.push(")");
}

/// Whether any job of `kinds` is due at `now` (a read: most rounds of a worker find none, and
/// need not take the writer).
pub fn any_due(conn: &mut dyn Conn, kinds: &[String], now: i64) -> Result<bool> {
    if kinds.is_empty() {
        return Ok(false);
    }
    let mut select = Sql::raw("SELECT 1 FROM \"_jobs\" AS \"j\" WHERE ");
    push_due(&mut select, kinds, now);
    select.push(" LIMIT 1");
    Ok(conn.query_scalar(&select)?.is_some())
}

/// The condition of a job of `kinds` that is due at `now` and leased to nobody.
fn push_due(select: &mut Sql, kinds: &[String], now: i64) {
    select.push("\"j\".\"kind\" IN (");
    for (i, kind) in kinds.iter().enumerate() {
        if i > 0 {
            select.push(", ");
        }
        select.push_param(kind.clone());
    }
    select
        .push(") AND \"j\".\"status\" = ")
        .push_param(PENDING)
        .push(" AND \"j\".\"runAt\" <= ")
        .push_param(now)
        .push(" AND \"j\".\"lockedUntil\" <= ")
        .push_param(now);
}

/// Jobs done: they go (one statement).
pub fn finish(conn: &mut dyn Conn, seqs: &[i64]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::raw("DELETE FROM \"_jobs\" WHERE ");
    push_seqs(&mut sql, seqs.iter().copied());
    conn.execute(&sql).map(|_| ())
}

/// A failed attempt: counted, and the job is due again at `run_at`, or `dead` when `run_at` is
/// `None` (no attempt left).
pub fn fail(conn: &mut dyn Conn, seq: i64, error: &str, run_at: Option<i64>) -> Result<()> {
    let mut sql = Sql::raw(
        "UPDATE \"_jobs\" SET \"attempts\" = \"attempts\" + 1, \"lockedUntil\" = 0, \"lastError\" = ",
    );
    sql.push_param(error.to_owned()).push(", \"status\" = ");
    match run_at {
        Some(at) => sql
            .push_param(PENDING)
            .push(", \"runAt\" = ")
            .push_param(at),
        None => sql.push_param(DEAD),
    };
    sql.push(" WHERE \"seq\" = ").push_param(seq);
    conn.execute(&sql).map(|_| ())
}

/// The dead jobs of `kind`, oldest first (at most `limit`).
pub fn dead(conn: &mut dyn Conn, kind: &str, limit: i64) -> Result<Vec<JobRow>> {
    let mut sql = Sql::raw(format!(
        "SELECT {COLUMNS} FROM \"_jobs\" WHERE \"status\" = "
    ));
    sql.push_param(DEAD)
        .push(" AND \"kind\" = ")
        .push_param(kind.to_owned())
        .push(" ORDER BY \"seq\" LIMIT ")
        .push_param(limit);
    Ok(rows(conn.query(&sql)?))
}

/// The job of `kind` whose event id is `id`.
pub fn by_id(conn: &mut dyn Conn, kind: &str, id: &str) -> Result<Option<JobRow>> {
    let mut sql = Sql::raw(format!("SELECT {COLUMNS} FROM \"_jobs\" WHERE \"id\" = "));
    sql.push_param(id.to_owned())
        .push(" AND \"kind\" = ")
        .push_param(kind.to_owned())
        .push(" ORDER BY \"seq\" LIMIT 1");
    Ok(rows(conn.query(&sql)?).pop())
}

/// A dead job pending again, due at once with its attempts counted from zero; whether there
/// was one.
pub fn revive(conn: &mut dyn Conn, seq: i64, now: i64) -> Result<bool> {
    let mut sql = Sql::raw("UPDATE \"_jobs\" SET \"status\" = ");
    sql.push_param(PENDING)
        .push(", \"attempts\" = 0, \"lockedUntil\" = 0, \"runAt\" = ")
        .push_param(now)
        .push(" WHERE \"seq\" = ")
        .push_param(seq)
        .push(" AND \"status\" = ")
        .push_param(DEAD);
    Ok(conn.execute(&sql)? == 1)
}

/// The queue's state for the metrics: (pending jobs, creation time of the oldest pending one,
/// dead jobs).
pub fn stats(conn: &mut dyn Conn) -> Result<(i64, Option<i64>, i64)> {
    let mut sql = Sql::raw("SELECT COUNT(*), MIN(\"created\") FROM \"_jobs\" WHERE \"status\" = ");
    sql.push_param(PENDING);
    let pending = conn.query(&sql)?;
    let mut dead = Sql::raw("SELECT COUNT(*) FROM \"_jobs\" WHERE \"status\" = ");
    dead.push_param(DEAD);
    let dead = conn.query_scalar(&dead)?.map(|v| int(&v)).unwrap_or(0);
    let row = pending.rows.first();
    let count = row.map(|r| int(&r[0])).unwrap_or(0);
    let oldest = row.and_then(|r| match r[1] {
        Value::Null => None,
        ref v => Some(int(v)),
    });
    Ok((count, oldest, dead))
}

fn rows(rows: super::Rows) -> Vec<JobRow> {
    rows.rows
        .iter()
        .map(|r| JobRow {
            seq: int(&r[0]),
            id: text(&r[1]).to_owned(),
            kind: text(&r[2]).to_owned(),
            target: text(&r[3]).to_owned(),
            key: text(&r[4]).to_owned(),
            payload: text(&r[5]).to_owned(),
            status: text(&r[6]).to_owned(),
            attempts: int(&r[7]),
            run_at: int(&r[8]),
            created: int(&r[9]),
            last_error: text(&r[10]).to_owned(),
        })
        .collect()
}
