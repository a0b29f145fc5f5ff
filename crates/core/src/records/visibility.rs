//! Which records, as changes left them, a requester may see under a rule and an optional
//! filter: the question realtime asks per subscription, answered for many records at once.
//!
//! The check runs the same compiled SQL as REST against a derived table of the records' values
//! (`WITH "__rt"("id", "title") AS (VALUES (?, ?), (?, ?)) SELECT "__r"."id" FROM "__rt" AS
//! "__r" WHERE (rule) AND (filter)`), so it judges the exact state each change produced, also
//! for a record already deleted, and one query answers a whole burst of changes.
//!
//! A deletion's rule may read related rows that the same transaction removes (a cascade's
//! parent). A `DeleteWatcher` therefore decides deletions inside the write transaction, before
//! any row goes, and the decisions travel with the change as `Foreseen`.
//!
//! SQL: changed records become a `VALUES` derived table, so a rule judges values that may be
//! stored no longer (realtime, deletes).

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Arc;

use oxbase_sql::{Dialect, Ident, Sql, Value};

use super::Records;
use super::query::{paren, root_alias};
use crate::error::{Error, Result};
use crate::rules::{Access, Purpose, RecordResolver, RequestInfo, RuleKind, check};
use crate::schema::Record;
use crate::schema::{Collection, Field, Schema};
use crate::store::Conn;

/// Bound parameters one check query may carry: under SQLite's limit (32,766) and
/// PostgreSQL's (65,535).
const MAX_PARAMS: usize = 30_000;
/// Records one check query judges at most, whatever their width.
const MAX_ROWS: usize = 500;

/// A visibility question compiled for one requester: `kind`'s rule of a collection ANDed with
/// a filter.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The rule is null (superusers only) and the requester is not one.
    Nobody,
    /// No condition at all: an empty rule and no filter, or a superuser without a filter.
    Everyone,
    Where(Sql),
}

/// Compiles `kind`'s rule of `c` ANDed with `filter` for `req`; runs no SQL (so it may be asked
/// inside a write transaction).
pub fn verdict(
    schema: &Schema,
    req: &RequestInfo,
    c: &Arc<Collection>,
    kind: RuleKind,
    filter: &str,
) -> Result<Verdict> {
    let rule = match check::access(schema, c, kind, req)? {
        Access::SuperusersOnly => return Ok(Verdict::Nobody),
        Access::All => None,
        Access::Where(sql) => Some(sql),
    };
    let filter_sql = if filter.trim().is_empty() {
        None
    } else {
        let counter = Cell::new(0);
        let resolver = RecordResolver::new(
            schema,
            c.clone(),
            req,
            Purpose::ClientFilter,
            schema.db().dialect(),
            &counter,
        );
        Some(
            resolver
                .compile(filter)
                .map_err(|e| Error::bad_request(format!("Invalid subscription filter: {e}")))?,
        )
    };
    let conds: Vec<Sql> = rule.into_iter().chain(filter_sql).map(paren).collect();
    Ok(if conds.is_empty() {
        Verdict::Everyone
    } else {
        Verdict::Where(Sql::join(conds, " AND "))
    })
}

impl Records {
    /// Which of `records` (of one collection) pass `verdict`, in order, on the reader pool.
    pub async fn passing(&self, verdict: &Verdict, records: &[&Record]) -> Result<Vec<bool>> {
        let check = Check::new(self.schema.db().dialect(), verdict, records)?;
        if check.chunks.is_empty() {
            return Ok(check.fixed());
        }
        self.schema.db().read(move |conn| check.run(conn)).await
    }
}

/// A verdict over a list of records, ready to run: one query per chunk of records.
pub struct Check {
    len: usize,
    everyone: bool,
    /// The ids of a chunk's records, in order, and the query answering which of them pass.
    chunks: Vec<(Vec<String>, Sql)>,
}

impl Check {
    pub fn new(dialect: Dialect, verdict: &Verdict, records: &[&Record]) -> Result<Check> {
        let cond = match verdict {
            Verdict::Where(cond) if !records.is_empty() => cond,
            _ => {
                return Ok(Check {
                    len: records.len(),
                    everyone: matches!(verdict, Verdict::Everyone),
                    chunks: Vec::new(),
                });
            }
        };
        let c = &records[0].collection;
        let width = c.fields.len().max(1);
        let per_chunk = (MAX_PARAMS.saturating_sub(cond.params().len()) / width).clamp(1, MAX_ROWS);
        let mut chunks = Vec::new();
        let mut rest = records;
        while !rest.is_empty() {
            // A chunk holds each id once: the answer names passing records by id.
            let mut ids = HashSet::new();
            let n = rest
                .iter()
                .take(per_chunk)
                .take_while(|r| ids.insert(r.id()))
                .count();
            let (chunk, tail) = rest.split_at(n);
            chunks.push((
                chunk.iter().map(|r| r.id().to_owned()).collect(),
                chunk_sql(dialect, c, cond, chunk)?,
            ));
            rest = tail;
        }
        Ok(Check {
            len: records.len(),
            everyone: false,
            chunks,
        })
    }

    /// The answers when no query is needed.
    fn fixed(&self) -> Vec<bool> {
        vec![self.everyone; self.len]
    }

    pub fn run(&self, conn: &mut dyn Conn) -> Result<Vec<bool>> {
        if self.chunks.is_empty() {
            return Ok(self.fixed());
        }
        let mut out = Vec::with_capacity(self.len);
        for (ids, sql) in &self.chunks {
            let rows = conn.query(sql)?;
            let passed: HashSet<&str> = rows
                .rows
                .iter()
                .filter_map(|row| match row.first() {
                    Some(Value::Text(id)) => Some(id.as_str()),
                    _ => None,
                })
                .collect();
            out.extend(ids.iter().map(|id| passed.contains(id.as_str())));
        }
        Ok(out)
    }
}

/// `WITH "__rt"(<fields>) AS (VALUES (<values>), ...) SELECT "__r"."id" FROM "__rt" AS "__r"
/// WHERE <cond>`: the rule sees each record exactly as its change left it.
fn chunk_sql(dialect: Dialect, c: &Collection, cond: &Sql, records: &[&Record]) -> Result<Sql> {
    let mut columns = Vec::with_capacity(c.fields.len());
    for f in &c.fields {
        let name = Ident::new(&f.name).ok_or_else(|| Error::internal("invalid field name"))?;
        columns.push(Sql::ident(&name));
    }
    // PostgreSQL types a bare parameter in VALUES as text; the rule must see the columns'
    // own types (booleans, numbers, JSONB), as in the table.
    let value = |r: &Record, f: &Field| {
        let kind = crate::schema::migrate::column_kind(f);
        oxbase_sql::ddl::column_param(dialect, r.column_value(f), kind)
    };
    let rows = records.iter().map(|r| {
        let mut row = Sql::raw("(");
        row.push_sql(&Sql::join(c.fields.iter().map(|f| value(r, f)), ", "))
            .push(")");
        row
    });
    let mut sql = Sql::raw("WITH \"__rt\"(");
    sql.push_sql(&Sql::join(columns, ", "))
        .push(") AS (VALUES ")
        .push_sql(&Sql::join(rows, ", "));
    let root = root_alias();
    sql.push(") SELECT ")
        .push_ident(root)
        .push(".\"id\" FROM \"__rt\" AS ")
        .push_ident(root)
        .push(" WHERE ")
        .push_sql(cond);
    Ok(sql)
}

/// What the auth record `viewer` (a collection's name or id, and a record's id) would get from
/// `GET /api/collections/{c}/records/{id}` for `record` at this point of the transaction on
/// `conn` (for a deleted record: as it was): its JSON (hidden fields left out, the email as
/// `emailVisibility` says), or `None` when the collection's `viewRule` refuses it, or when
/// there is no such auth record (nobody to see it). Runs inside write transactions (the
/// webhooks' outbox): the rule judges the record's values as the change left them.
pub fn viewed_by(
    conn: &mut dyn Conn,
    schema: &Schema,
    viewer: (&str, &str),
    record: &Record,
) -> Result<Option<serde_json::Value>> {
    let Some(viewers) = schema.get(viewer.0).filter(|c| c.is_auth()) else {
        return Ok(None);
    };
    let select = super::query::select_by_id(&viewers, viewer.1, None)?;
    let Some(found) = Record::from_rows(&viewers, conn.query(&select)?).pop() else {
        return Ok(None);
    };
    let req = RequestInfo::new(crate::identity::Auth::from_record(found));
    let verdict = verdict(schema, &req, &record.collection, RuleKind::View, "")?;
    let passes = Check::new(conn.dialect(), &verdict, &[record])?.run(conn)?;
    Ok(passes
        .first()
        .copied()
        .unwrap_or(false)
        .then(|| super::output::to_json(record.clone(), &req.auth, false)))
}
