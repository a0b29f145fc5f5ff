//! Records as application code reads and writes them (JS hooks and migrations, Rust apps):
//! PocketBase's `$app.findRecordsByFilter`, `$app.save`... No API rule applies; the caller is
//! the application itself. Values reach a filter as `{:name}` parameters.
//!
//! SQL: the compiled filter and sort placed into the shapes of `query`.

use std::cell::Cell;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::Records;
use super::input::BodyKind;
use super::query::{count_from_root, push_order, push_page, select_root, where_all};
use super::write::WriteInput;
use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::rules::{Purpose, RecordResolver, RequestInfo};
use crate::schema::system::SUPERUSERS;
use crate::schema::{Collection, Record};
use oxbase_sql::Sql;

/// What `find` selects: a filter in the rule language with `{:name}` parameters, a sort, and
/// a window (`limit` 0: all).
#[derive(Debug, Clone, Default)]
pub struct Find<'a> {
    pub filter: &'a str,
    pub sort: &'a str,
    pub limit: i64,
    pub offset: i64,
    pub params: Option<&'a Map<String, Json>>,
}

impl Records {
    /// The application's own request: superuser rights, no request data.
    pub fn app_request(&self) -> Result<RequestInfo> {
        let superusers = self.schema.require(SUPERUSERS)?;
        Ok(RequestInfo::new(Auth::Superuser(Arc::new(Record::new(
            superusers,
        )))))
    }

    /// The collection named (or with the id) `name`, read fresh.
    pub async fn collection(&self, name: &str) -> Result<Arc<Collection>> {
        self.schema.require_fresh(name).await
    }

    /// Records of `collection` matching `q`, in its order (insertion order by default).
    pub async fn find(
        &self,
        collection: &str,
        q: Find<'_>,
    ) -> Result<(Arc<Collection>, Vec<Record>)> {
        let c = self.collection(collection).await?;
        let empty = Map::new();
        let (conds, order) = self.compile(&c, q.filter, q.params.unwrap_or(&empty), q.sort)?;
        let mut select = select_root(&c)?;
        select.push_sql(&where_all(conds));
        push_order(&mut select, &c, order.as_ref())?;
        if q.limit > 0 || q.offset > 0 {
            let limit = if q.limit > 0 { q.limit } else { i64::MAX };
            push_page(&mut select, limit, q.offset.max(0));
        }
        let coll = c.clone();
        let records = self
            .schema
            .db()
            .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?)))
            .await?;
        Ok((c, records))
    }

    /// The record `id` of `collection`, if there is one.
    pub async fn find_by_id(
        &self,
        collection: &str,
        id: &str,
    ) -> Result<(Arc<Collection>, Option<Record>)> {
        let c = self.collection(collection).await?;
        let record = match self.fetch_where(&c, id, None).await {
            Ok(r) => Some(r),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        Ok((c, record))
    }

    /// How many records of `collection` match `filter`.
    pub async fn count(
        &self,
        collection: &str,
        filter: &str,
        params: &Map<String, Json>,
    ) -> Result<i64> {
        let c = self.collection(collection).await?;
        let (conds, _) = self.compile(&c, filter, params, "")?;
        let count = count_from_root(&c, &where_all(conds))?;
        let total = self
            .schema
            .db()
            .read(move |conn| conn.query_scalar(&count))
            .await?;
        Ok(match total {
            Some(oxbase_sql::Value::Int(n)) => n,
            _ => 0,
        })
    }

    /// The filter's condition (none when blank) and the sort's ORDER BY (none when blank), as
    /// the application sees the collection.
    fn compile(
        &self,
        c: &Arc<Collection>,
        filter: &str,
        params: &Map<String, Json>,
        sort: &str,
    ) -> Result<(Vec<Sql>, Option<Sql>)> {
        let req = self.app_request()?;
        let filter = bind_filter(filter, params)?;
        let counter = Cell::new(0);
        let dialect = self.schema.db().dialect();
        let resolver = RecordResolver::new(
            &self.schema,
            c.clone(),
            &req,
            Purpose::Rule,
            dialect,
            &counter,
        );
        let mut conds = Vec::new();
        if !filter.trim().is_empty() {
            conds.push(resolver.compile(&filter).map_err(invalid)?);
        }
        let sort = oxbase_sql::sort::parse_sort(sort).map_err(|e| invalid_text(&e.to_string()))?;
        let order = if sort.is_empty() {
            None
        } else {
            Some(oxbase_sql::compile_sort(&sort, &resolver, dialect).map_err(invalid)?)
        };
        Ok((conds, order))
    }

    /// Creates (`is_new`) or updates a record with `data` as the application: every field
    /// may be set, a `password` is given in plain text and hashed here; on update only the
    /// fields in `data` change.
    pub async fn save_direct(
        &self,
        collection: &str,
        id: &str,
        is_new: bool,
        data: Map<String, Json>,
    ) -> Result<Record> {
        self.save_direct_with_files(collection, id, is_new, data, Vec::new())
            .await
    }

    /// The same with staged files, each named in `data` by its stored name under its field
    /// (as a request's uploads are).
    pub async fn save_direct_with_files(
        &self,
        collection: &str,
        id: &str,
        is_new: bool,
        mut data: Map<String, Json>,
        files: Vec<crate::files::Upload>,
    ) -> Result<Record> {
        let req = self.app_request()?;
        let c = self.collection(collection).await?;
        if let Some(p) = data.get("password").cloned().filter(|_| c.is_auth()) {
            data.insert("passwordConfirm".into(), p);
        }
        let input = WriteInput {
            body: data,
            kind: Some(BodyKind::Json),
            files,
        };
        if is_new {
            self.create(&req, &c.id, input).await
        } else {
            self.update(&req, &c.id, id, input).await
        }
    }

    /// Deletes a record as the application (its relations cascade as on any delete).
    pub async fn delete_direct(&self, collection: &str, id: &str) -> Result<()> {
        let req = self.app_request()?;
        self.delete(&req, collection, id).await
    }
}

/// The filter with each `{:name}` replaced by its value as a literal of the filter language
/// (the compiler binds every literal as a parameter, so a value never becomes SQL text).
pub fn bind_filter(filter: &str, params: &Map<String, Json>) -> Result<String> {
    if !filter.contains("{:") {
        return Ok(filter.to_owned());
    }
    let mut out = String::with_capacity(filter.len() + 16);
    let mut rest = filter;
    while let Some(at) = rest.find("{:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        match params.get(name) {
            Some(v) => out.push_str(&literal(v)),
            None => return Err(invalid_text(&format!("missing parameter {name:?}"))),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn literal(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => quote(s),
        other => quote(&other.to_string()),
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        if ch == '\'' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('\'');
    out
}

fn invalid(e: oxbase_sql::CompileError) -> Error {
    invalid_text(&e.to_string())
}

fn invalid_text(reason: &str) -> Error {
    Error::bad_request(format!("Invalid filter or sort: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_become_escaped_literals() {
        let params = json!({"t": "it's \\ x", "n": 3, "b": true, "z": null});
        let params = params.as_object().unwrap();
        assert_eq!(
            bind_filter("a = {:t} && n > {:n} && b = {:b} && c = {:z}", params).unwrap(),
            r"a = 'it\'s \\ x' && n > 3 && b = true && c = null"
        );
        assert!(bind_filter("a = {:missing}", params).is_err());
        assert_eq!(bind_filter("a = 'x'", params).unwrap(), "a = 'x'");
    }
}
