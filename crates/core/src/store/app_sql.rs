//! Application code's own SQL (`$app.db().newQuery(sql).bind({...})` in JS hooks and
//! migrations): the text as written, each `{:name}` a bound parameter, never spliced.

use oxbase_sql::{Sql, Value};
use serde_json::{Map, Value as Json};

use super::{Conn, Db};
use crate::error::{Error, Result};

/// What a statement answered: rows as objects, or the count of rows it changed.
#[derive(Debug, Clone, Default)]
pub struct AppRows {
    pub rows: Vec<Map<String, Json>>,
    pub affected: usize,
}

/// The statement with its `{:name}` placeholders bound from `params`.
pub fn bind(sql: &str, params: &Map<String, Json>) -> Result<Sql> {
    let mut out = Sql::raw(String::with_capacity(sql.len()));
    let mut rest = sql;
    while let Some(at) = rest.find("{:") {
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
            out.push(&rest[..at + 2]);
            rest = after;
            continue;
        }
        out.push(&rest[..at]);
        let value = params
            .get(name)
            .ok_or_else(|| Error::bad_request(format!("Missing query parameter {name:?}.")))?;
        out.push_param(to_value(value));
        rest = &after[end + 1..];
    }
    out.push(rest);
    Ok(out)
}

fn to_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Int(i) => Json::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Value::Text(s) => Json::String(s),
        Value::Blob(b) => Json::String(String::from_utf8_lossy(&b).into_owned()),
    }
}

fn run(conn: &mut dyn Conn, sql: &Sql, rows: bool) -> Result<AppRows> {
    if !rows {
        return Ok(AppRows {
            rows: Vec::new(),
            affected: conn.execute(sql)?,
        });
    }
    let found = conn.query(sql)?;
    let columns = found.columns.clone();
    let rows = found
        .rows
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .cloned()
                .zip(row.into_iter().map(to_json))
                .collect()
        })
        .collect();
    Ok(AppRows { rows, affected: 0 })
}

impl Db {
    /// Runs application SQL: a statement that returns rows (`rows`) reads on a reader
    /// connection when it is a plain `SELECT`/`WITH`, anything else in a write transaction.
    pub async fn app_query(&self, sql: Sql, rows: bool) -> Result<AppRows> {
        let first = sql
            .text()
            .trim_start()
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if rows && (first == "SELECT" || first == "WITH") {
            self.read(move |conn| run(conn, &sql, true)).await
        } else {
            self.write(move |conn| run(conn, &sql, rows)).await
        }
    }

    /// The same inside a transaction the caller holds.
    pub fn app_query_in(conn: &mut dyn Conn, sql: &Sql, rows: bool) -> Result<AppRows> {
        run(conn, sql, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_placeholders_become_bound_parameters() {
        let params = json!({"a": "x'; DROP TABLE t; --", "n": 2});
        let sql = bind(
            "SELECT * FROM t WHERE a = {:a} AND n > {:n} AND j = '{: x}'",
            params.as_object().unwrap(),
        )
        .unwrap();
        assert!(!sql.text().contains("DROP"));
        assert_eq!(sql.params().len(), 2);
        assert!(bind("SELECT {:missing}", &Map::new()).is_err());
    }
}
