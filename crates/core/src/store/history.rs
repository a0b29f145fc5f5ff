//! `_history`: the versions of the records of collections with `history: true` (the
//! `records::history` module owns them; these are its statements). A version is written in the
//! transaction of the change it records, numbered from 1 per record (`collectionId`,
//! `recordId`): the change holds the record's row lock (PostgreSQL) or the single writer
//! (SQLite), so two versions of one record never take the same number unnoticed (the unique
//! index refuses the second).

use oxbase_sql::Sql;

use super::{Conn, int, text};
use crate::error::Result;

const COLUMNS: &str = "\"id\", \"collectionId\", \"recordId\", \"version\", \"action\", \"data\", \
                       \"authCollection\", \"authId\", \"request\", \"requestId\", \"created\"";

/// A row of `_history`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionRow {
    pub id: String,
    pub collection_id: String,
    pub record_id: String,
    /// 1 for the record's first version, then one more per change.
    pub version: i64,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// The record's values as stored (JSON object text), secrets included: what a restore
    /// writes back. Never sent out as is.
    pub data: String,
    /// Who made the change: the collection id and id of the auth record; empty for a guest
    /// or the application's own code.
    pub auth_collection: String,
    pub auth_id: String,
    /// `METHOD /path` of the request that made it; empty for the application's own code.
    pub request: String,
    /// The request's `X-Request-Id` header, when it had one.
    pub request_id: String,
    pub created: String,
}

/// Adds a version numbered one past the record's latest (1 for its first; `row.version` is
/// ignored), in one statement (one round trip on PostgreSQL); returns its number when `numbered`
/// (retention needs it), 0 otherwise.
pub fn insert_next(conn: &mut dyn Conn, row: VersionRow, numbered: bool) -> Result<i64> {
    let (collection_id, record_id) = (row.collection_id.clone(), row.record_id.clone());
    let mut sql = Sql::raw(format!("INSERT INTO \"_history\" ({COLUMNS}) SELECT "));
    sql.push_param(row.id)
        .push(", ")
        .push_param(row.collection_id)
        .push(", ")
        .push_param(row.record_id)
        .push(", COALESCE(MAX(\"version\"), 0) + 1, ")
        .push_param(row.action)
        .push(", ")
        .push_param(row.data)
        .push(", ")
        .push_param(row.auth_collection)
        .push(", ")
        .push_param(row.auth_id)
        .push(", ")
        .push_param(row.request)
        .push(", ")
        .push_param(row.request_id)
        .push(", ")
        .push_param(row.created)
        .push(" FROM \"_history\" WHERE ");
    push_record(&mut sql, &collection_id, &record_id);
    conn.execute(&sql)?;
    if !numbered {
        return Ok(0);
    }
    let mut latest = Sql::raw("SELECT MAX(\"version\") FROM \"_history\" WHERE ");
    push_record(&mut latest, &collection_id, &record_id);
    Ok(conn.query_scalar(&latest)?.map(|v| int(&v)).unwrap_or(0))
}

/// Removes a record's versions numbered `up_to` or lower (retention).
pub fn prune(conn: &mut dyn Conn, collection_id: &str, record_id: &str, up_to: i64) -> Result<()> {
    let mut sql = Sql::raw("DELETE FROM \"_history\" WHERE ");
    push_record(&mut sql, collection_id, record_id);
    sql.push(" AND \"version\" <= ").push_param(up_to);
    conn.execute(&sql).map(|_| ())
}

/// A record's versions, newest first, `limit` from `offset`.
pub fn page(
    conn: &mut dyn Conn,
    collection_id: &str,
    record_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<VersionRow>> {
    let mut sql = Sql::raw(format!("SELECT {COLUMNS} FROM \"_history\" WHERE "));
    push_record(&mut sql, collection_id, record_id);
    sql.push(" ORDER BY \"version\" DESC LIMIT ")
        .push_param(limit)
        .push(" OFFSET ")
        .push_param(offset);
    Ok(rows(conn.query(&sql)?))
}

/// How many versions a record has kept.
pub fn count(conn: &mut dyn Conn, collection_id: &str, record_id: &str) -> Result<i64> {
    let mut sql = Sql::raw("SELECT COUNT(*) FROM \"_history\" WHERE ");
    push_record(&mut sql, collection_id, record_id);
    Ok(conn.query_scalar(&sql)?.map(|v| int(&v)).unwrap_or(0))
}

/// One version of a record (`version` 0: its latest).
pub fn get(
    conn: &mut dyn Conn,
    collection_id: &str,
    record_id: &str,
    version: i64,
) -> Result<Option<VersionRow>> {
    let mut sql = Sql::raw(format!("SELECT {COLUMNS} FROM \"_history\" WHERE "));
    push_record(&mut sql, collection_id, record_id);
    if version > 0 {
        sql.push(" AND \"version\" = ").push_param(version);
    }
    sql.push(" ORDER BY \"version\" DESC LIMIT 1");
    Ok(rows(conn.query(&sql)?).pop())
}

/// Forgets every version of a collection's records (the collection was deleted).
pub fn delete_collection(conn: &mut dyn Conn, collection_id: &str) -> Result<()> {
    let mut sql = Sql::raw("DELETE FROM \"_history\" WHERE \"collectionId\" = ");
    sql.push_param(collection_id.to_owned());
    conn.execute(&sql).map(|_| ())
}

fn push_record(sql: &mut Sql, collection_id: &str, record_id: &str) {
    sql.push("\"collectionId\" = ")
        .push_param(collection_id.to_owned())
        .push(" AND \"recordId\" = ")
        .push_param(record_id.to_owned());
}

fn rows(rows: super::Rows) -> Vec<VersionRow> {
    rows.rows
        .iter()
        .map(|r| VersionRow {
            id: text(&r[0]).to_owned(),
            collection_id: text(&r[1]).to_owned(),
            record_id: text(&r[2]).to_owned(),
            version: int(&r[3]),
            action: text(&r[4]).to_owned(),
            data: text(&r[5]).to_owned(),
            auth_collection: text(&r[6]).to_owned(),
            auth_id: text(&r[7]).to_owned(),
            request: text(&r[8]).to_owned(),
            request_id: text(&r[9]).to_owned(),
            created: text(&r[10]).to_owned(),
        })
        .collect()
}
