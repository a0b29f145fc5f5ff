//! Reading the logs (superusers only): a page with PocketBase's filter, sort and paging over
//! `id`, `created`, `level`, `message`, `data` and any `data.*` path; one entry; hourly counts.
//!
//! SQL: the compiled filter and sort placed into the log table's list, count and stats.

use oxbase_sql::{CompileError, Dialect, FieldResolver, Operand, Sql, ValueType};
use serde_json::{Value as Json, json};

use super::Logs;
use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::records::list::{ListParams, ListQuery};
use crate::records::output;
use crate::rules::superusers_only;
use crate::store::{Conn, Rows, int, text};

/// The columns of an entry, in the order they are read.
const COLUMNS: &str = "\"id\", \"created\", CAST(\"data\" AS TEXT), \"message\", \"level\"";

/// Resolves the filterable names of a log entry (PocketBase's `logFilterFields`).
struct LogResolver(Dialect);

impl FieldResolver for LogResolver {
    fn resolve(&self, ident: &str) -> std::result::Result<Operand, CompileError> {
        let column = |name: &'static str, ty: ValueType| {
            let sql = Sql::raw(name);
            Operand::Stored(Box::new(Operand::Single { sql, ty }))
        };
        match ident {
            "id" => Ok(column("\"id\"", ValueType::Text)),
            "created" => Ok(column("\"created\"", ValueType::Text)),
            "message" => Ok(column("\"message\"", ValueType::Text)),
            "level" => Ok(column("\"level\"", ValueType::Number)),
            "data" => Ok(Operand::Single {
                sql: self.0.json_document_value(&Sql::raw("\"data\"")),
                ty: ValueType::JsonValue,
            }),
            _ => {
                let path = ident
                    .strip_prefix("data.")
                    .filter(|p| is_data_path(p))
                    .ok_or_else(|| CompileError::unknown_field(ident))?;
                let segments: Vec<&str> = path.split('.').collect();
                Ok(Operand::Single {
                    sql: self.0.json_extract_value(&Sql::raw("\"data\""), &segments),
                    ty: ValueType::JsonValue,
                })
            }
        }
    }
}

/// PocketBase's `^data\.[\w\.\:]*\w+$`, without modifiers: word characters and dots, ending
/// in a word character, no empty segment.
fn is_data_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('.')
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// PB-COMPAT: the list's generic 400; the reason goes to the server's log only.
fn invalid(reason: String) -> Error {
    tracing::debug!(reason, "invalid logs filter or sort");
    Error::bad_request("Something went wrong while processing your request.")
}

fn compile_filter(filter: &str, dialect: Dialect) -> std::result::Result<Option<Sql>, String> {
    if filter.trim().is_empty() {
        return Ok(None);
    }
    let expr = oxbase_sql::filter::parse(filter).map_err(|e| e.to_string())?;
    oxbase_sql::compile_filter(&expr, &LogResolver(dialect), dialect)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn entry(rows: &Rows, row: usize) -> Json {
    let r = &rows.rows[row];
    let data = serde_json::from_str::<Json>(text(&r[2])).unwrap_or_else(|_| json!({}));
    let level = int(&r[4]);
    json!({
        "id": text(&r[0]),
        "created": text(&r[1]),
        "data": data,
        "message": text(&r[3]),
        "level": level,
    })
}

fn read_entries(conn: &mut dyn Conn, sql: &Sql) -> Result<Vec<Json>> {
    let rows = conn.query(sql)?;
    Ok((0..rows.rows.len()).map(|i| entry(&rows, i)).collect())
}

impl Logs {
    /// `GET /api/logs`: a page of entries, each cut to `fields`.
    pub async fn list(&self, caller: &Auth, params: ListParams<'_>) -> Result<Json> {
        superusers_only(caller)?;
        self.index_pending().await?;
        let query = ListQuery::parse(params);
        let paging = query.paging?;
        let dialect = self.db().dialect();
        let resolver = LogResolver(dialect);
        let filter = compile_filter(&query.filter, dialect).map_err(invalid)?;
        let sort = query.sort.map_err(|e| invalid(e.to_string()))?;
        let order = if sort.is_empty() {
            Sql::raw("\"_rowid_\"")
        } else {
            oxbase_sql::compile_sort(&sort, &resolver, dialect)
                .map_err(|e| invalid(e.to_string()))?
        };
        let picks = output::parse_fields(&query.fields)?;
        let mut select = Sql::raw("SELECT ");
        select.push(COLUMNS).push(" FROM \"_logs\"");
        let mut count = Sql::raw("SELECT COUNT(*) FROM \"_logs\"");
        if let Some(filter) = &filter {
            select.push(" WHERE ").push_sql(filter);
            count.push(" WHERE ").push_sql(filter);
        }
        select
            .push(" ORDER BY ")
            .push_sql(&order)
            .push(" LIMIT ")
            .push_param(paging.per_page)
            .push(" OFFSET ")
            .push_param((paging.page - 1).saturating_mul(paging.per_page));
        let skip_total = paging.skip_total;
        let (items, total) = self
            .db()
            .read(move |conn| {
                // Counted first, as record lists are: entries only ever arrive, so the page
                // then holds at least what the total counted.
                let total = if skip_total {
                    -1
                } else {
                    match conn.query_scalar(&count)? {
                        Some(oxbase_sql::Value::Int(n)) => n,
                        _ => 0,
                    }
                };
                let items = read_entries(conn, &select)?;
                Ok((items, total))
            })
            .await?;
        let total_pages = if total < 0 {
            -1
        } else {
            (total + paging.per_page - 1) / paging.per_page
        };
        Ok(json!({
            "page": paging.page,
            "perPage": paging.per_page,
            "totalItems": total,
            "totalPages": total_pages,
            "items": items.iter().map(|item| output::pick(item, &picks)).collect::<Vec<_>>(),
        }))
    }

    /// `GET /api/logs/{id}`.
    pub async fn view(&self, caller: &Auth, id: &str, fields: &str) -> Result<Json> {
        superusers_only(caller)?;
        self.index_pending().await?;
        let picks = output::parse_fields(fields)?;
        let mut select = Sql::raw("SELECT ");
        select
            .push(COLUMNS)
            .push(" FROM \"_logs\" WHERE \"id\" = ")
            .push_param(id.to_owned());
        let found = self
            .db()
            .lookup(move |conn| read_entries(conn, &select))
            .await?;
        let entry = found.into_iter().next().ok_or_else(Error::not_found)?;
        Ok(output::pick(&entry, &picks))
    }

    /// `GET /api/logs/stats`: entries per hour (`{date, total}`, oldest first), filtered.
    pub async fn stats(&self, caller: &Auth, filter: &str, fields: &str) -> Result<Json> {
        superusers_only(caller)?;
        self.index_pending().await?;
        let picks = output::parse_fields(fields)?;
        let dialect = self.db().dialect();
        let filter = compile_filter(filter, dialect).map_err(|reason| {
            tracing::debug!(reason, "invalid logs stats filter");
            Error::bad_request("Invalid filter format.")
        })?;
        let mut sql = Sql::raw(
            "SELECT substr(\"created\", 1, 13) AS \"hour\", COUNT(\"id\") AS \"total\" FROM \"_logs\"",
        );
        if let Some(filter) = &filter {
            sql.push(" WHERE ").push_sql(filter);
        }
        sql.push(" GROUP BY substr(\"created\", 1, 13) ORDER BY \"hour\"");
        let rows = self.db().read(move |conn| conn.query(&sql)).await?;
        let stats: Vec<Json> = rows
            .rows
            .iter()
            .map(|r| {
                let total = match &r[1] {
                    oxbase_sql::Value::Int(n) => *n,
                    _ => 0,
                };
                json!({"date": format!("{}:00:00.000Z", text(&r[0])), "total": total})
            })
            .collect();
        Ok(output::pick(&Json::Array(stats), &picks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_paths_are_words_between_dots() {
        assert!(is_data_path("status"));
        assert!(is_data_path("a.b_c.0"));
        assert!(!is_data_path(""));
        assert!(!is_data_path("a..b"));
        assert!(!is_data_path("a."));
        assert!(!is_data_path("a:lower"));
        assert!(!is_data_path("a b"));
    }

    #[test]
    fn unknown_names_do_not_resolve() {
        let resolver = LogResolver(Dialect::Sqlite);
        assert!(resolver.resolve("nofield").is_err());
        assert!(resolver.resolve("data.").is_err());
        assert!(resolver.resolve("data.status").is_ok());
        assert!(resolver.resolve("level").is_ok());
    }
}
