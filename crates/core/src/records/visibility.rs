//! Whether one record, as a change left it, is visible to a requester under a rule and an
//! optional filter: the question realtime asks per subscriber.
//!
//! The check runs the same compiled SQL as REST, against a one-row derived table built from the
//! record's values (`SELECT ? AS "id", ? AS "title" ...`), so it also works for a record that
//! was just deleted and for the exact state a change produced.

use std::cell::Cell;

use oxbase_sql::{Ident, Sql};

use super::list::paren;
use super::record::Record;
use super::Records;
use crate::error::{Error, Result};
use crate::rules::{check, Access, Purpose, RecordResolver, RequestInfo, RuleKind, ROOT};

impl Records {
    /// `kind`'s rule of the record's collection, ANDed with `filter`, evaluated on `record`.
    pub async fn visible_to(&self, req: &RequestInfo, record: &Record, kind: RuleKind, filter: &str) -> Result<bool> {
        let c = record.collection.clone();
        let rule = match check::access(&self.schema, &c, kind, req)? {
            Access::SuperusersOnly => return Ok(false),
            Access::All => None,
            Access::Where(sql) => Some(sql),
        };
        let filter_sql = if filter.trim().is_empty() {
            None
        } else {
            let counter = Cell::new(0);
            let resolver = RecordResolver::new(&self.schema, c.clone(), req, Purpose::ClientFilter, self.schema.db().dialect(), &counter);
            Some(resolver.compile(filter).map_err(|e| Error::bad_request(format!("Invalid subscription filter: {e}")))?)
        };
        let conds: Vec<Sql> = rule.into_iter().chain(filter_sql).map(paren).collect();
        if conds.is_empty() {
            return Ok(true);
        }
        let mut row = Sql::raw("SELECT ");
        for (i, f) in c.fields.iter().enumerate() {
            if i > 0 {
                row.push(", ");
            }
            let name = Ident::new(&f.name).ok_or_else(|| Error::internal("invalid field name"))?;
            row.push_param(record.column_value(f)).push(" AS ").push_ident(&name);
        }
        let mut select = Sql::raw("SELECT 1 FROM (");
        select.push_sql(&row).push(&format!(") AS \"{ROOT}\" WHERE ")).push_sql(&Sql::join(conds, " AND "));
        self.schema.db().read(move |conn| Ok(!conn.query(&select)?.is_empty())).await
    }
}
