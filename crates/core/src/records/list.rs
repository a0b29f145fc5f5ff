//! Listing and viewing records: rule and filter as one WHERE, sort, paging, totals.
//!
//! SQL: the compiled rule, filter and sort placed into the shapes of `query`.

use std::cell::Cell;
use std::sync::Arc;

use oxbase_sql::Sql;
use oxbase_sql::sort::SortItem;
use serde_json::Value as Json;

use super::Records;
use super::expand;
use super::output::{parse_fields, pick, to_json};
use super::query::{count_from_root, push_order, push_page, select_by_id, select_root, where_all};
use crate::error::{Error, Result};
use crate::rules::{Access, Purpose, RecordResolver, RequestInfo, RuleKind, check};
use crate::schema::Record;
use crate::schema::{Collection, CollectionKind};

/// PB-COMPAT: default and largest page sizes.
pub const DEFAULT_PER_PAGE: i64 = 30;
pub const MAX_PER_PAGE: i64 = 1000;

/// The query parameters of a list request, as they arrive.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListParams<'a> {
    pub page: &'a str,
    pub per_page: &'a str,
    pub sort: &'a str,
    pub filter: &'a str,
    pub expand: &'a str,
    pub fields: &'a str,
    pub skip_total: &'a str,
}

/// A list request's query, parsed where the request arrives. A malformed number or sort is
/// kept as its error and reported by `list` after the access check, so an unknown collection
/// is still a 404 and a locked one a 403 before a malformed parameter is a 400, in
/// PocketBase's order.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub paging: std::result::Result<Paging, Malformed>,
    pub sort: std::result::Result<Vec<SortItem>, oxbase_sql::ParseError>,
    /// The filter expression (blank: none); compiled by `list` against the collection.
    pub filter: String,
    pub expand: String,
    pub fields: String,
}

/// A number or boolean parameter PocketBase cannot bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl From<Malformed> for Error {
    fn from(_: Malformed) -> Error {
        malformed_query()
    }
}

impl ListQuery {
    pub fn parse(p: ListParams<'_>) -> ListQuery {
        ListQuery {
            paging: Paging::parse(p.page, p.per_page, p.skip_total),
            sort: oxbase_sql::sort::parse_sort(p.sort),
            filter: p.filter.to_owned(),
            expand: p.expand.to_owned(),
            fields: p.fields.to_owned(),
        }
    }
}

impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery::parse(ListParams::default())
    }
}

/// PB-COMPAT: a page parameter PocketBase cannot bind (Go's `strconv.Atoi`: an optional sign
/// and digits, within 64 bits) is a 400; an empty one is unset (0).
pub fn parse_int(s: &str) -> Result<i64> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse().map_err(|_| malformed_query())
}

/// PB-COMPAT: the forms of Go's `strconv.ParseBool`; an empty value is false.
pub fn parse_bool(s: &str) -> Result<bool> {
    match s {
        "" | "0" | "f" | "F" | "false" | "False" | "FALSE" => Ok(false),
        "1" | "t" | "T" | "true" | "True" | "TRUE" => Ok(true),
        _ => Err(malformed_query()),
    }
}

/// `page`, `perPage` and `skipTotal` of a list request, parsed and clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
    pub skip_total: bool,
}

impl Paging {
    fn parse(
        page: &str,
        per_page: &str,
        skip_total: &str,
    ) -> std::result::Result<Paging, Malformed> {
        let malformed = |_| Malformed;
        let per_page = match parse_int(per_page).map_err(malformed)? {
            n if n <= 0 => DEFAULT_PER_PAGE,
            n => n.min(MAX_PER_PAGE),
        };
        Ok(Paging {
            page: parse_int(page).map_err(malformed)?.max(1),
            per_page,
            skip_total: parse_bool(skip_total).map_err(malformed)?,
        })
    }
}

fn malformed_query() -> Error {
    Error::bad_request("Something went wrong while processing your request.")
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResult {
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
    pub items: Vec<Json>,
}

impl Records {
    pub async fn list(
        &self,
        req: &RequestInfo,
        collection: &str,
        q: ListQuery,
    ) -> Result<ListResult> {
        let c = self.schema.require_fresh(collection).await?;
        let rule = match check::access(&self.schema, &c, RuleKind::List, req)? {
            Access::SuperusersOnly => return Err(Error::forbidden()),
            Access::All => None,
            Access::Where(sql) => Some(sql),
        };
        let paging = q.paging?;
        let (select, count) = self.list_sql(req, &c, rule, &q, &paging)?;
        let coll = c.clone();
        // A view's query is a superuser's own SQL, which may read the clock or chance, and so
        // does `strftime` without a time: such totals change without any write.
        let keeps_total = count.as_ref().is_some_and(|count| {
            c.kind != CollectionKind::View
                && !count.text().contains("strftime(")
                && !self.schema.names_a_view(count.text())
        });
        let writes = self.schema.db().ended_writes().filter(|_| keeps_total);
        let totals = self.totals.clone();
        let (records, total) = self
            .schema
            .db()
            .read(move |conn| {
                // Counted before the page is read: a write committing in between then adds
                // to the page, never to the total alone (a total of 1 over an empty page).
                let total = match count {
                    Some(count) => {
                        // Read before counting: a write ending during the count changes it.
                        let writes = writes.map(|w| w.now());
                        match writes.and_then(|w| totals.get(&count, w)) {
                            Some(total) => total,
                            None => {
                                let total = conn.query_scalar(&count)?.map_or(0, |v| match v {
                                    oxbase_sql::Value::Int(i) => i,
                                    _ => 0,
                                });
                                if let Some(writes) = writes {
                                    totals.put(count, writes, total);
                                }
                                total
                            }
                        }
                    }
                    None => -1,
                };
                let rows = conn.query(&select)?;
                Ok((Record::from_rows(&coll, rows), total))
            })
            .await?;
        let items = self.present(req, records, &q.expand, &q.fields).await?;
        let Paging { page, per_page, .. } = paging;
        let total_pages = if total < 0 {
            -1
        } else {
            (total + per_page - 1) / per_page
        };
        Ok(ListResult {
            page,
            per_page,
            total_items: total,
            total_pages,
            items,
        })
    }

    /// The page query and the count query (None with `skipTotal`) of a list request.
    fn list_sql(
        &self,
        req: &RequestInfo,
        c: &Arc<Collection>,
        rule: Option<Sql>,
        q: &ListQuery,
        paging: &Paging,
    ) -> Result<(Sql, Option<Sql>)> {
        let Paging {
            page,
            per_page,
            skip_total,
        } = *paging;
        let counter = Cell::new(0);
        let resolver = RecordResolver::new(
            &self.schema,
            c.clone(),
            req,
            Purpose::ClientFilter,
            self.schema.db().dialect(),
            &counter,
        );
        let mut conds = Vec::new();
        if let Some(rule) = rule {
            conds.push(rule);
        }
        if !q.filter.trim().is_empty() {
            conds.push(resolver.compile(&q.filter).map_err(filter_error)?);
        }
        let items = match &q.sort {
            Ok(items) => items,
            Err(e) => {
                return Err(filter_error(oxbase_sql::CompileError::invalid(
                    e.to_string(),
                )));
            }
        };
        let order = if items.is_empty() {
            None
        } else {
            Some(
                oxbase_sql::compile_sort(items, &resolver, self.schema.db().dialect())
                    .map_err(filter_error)?,
            )
        };
        let where_sql = where_all(conds);
        let mut select = select_root(c)?;
        select.push_sql(&where_sql);
        push_order(&mut select, c, order.as_ref())?;
        // PB-COMPAT: PocketBase's offset wraps around on a huge `page` (Go's integers), and
        // SQLite reads a negative offset as none: the first page, where overflow panicked here.
        let offset = (page - 1).wrapping_mul(per_page).max(0);
        push_page(&mut select, per_page, offset);
        let count = if skip_total {
            None
        } else {
            Some(count_from_root(c, &where_sql)?)
        };
        Ok((select, count))
    }

    pub async fn view(
        &self,
        req: &RequestInfo,
        collection: &str,
        id: &str,
        expand: &str,
        fields: &str,
    ) -> Result<Json> {
        let c = self.schema.require_fresh(collection).await?;
        let record = self.fetch_visible(req, &c, RuleKind::View, id).await?;
        Ok(self
            .present(req, vec![record], expand, fields)
            .await?
            .pop()
            .unwrap_or(Json::Null))
    }

    /// One record by id if `kind`'s rule lets the requester act on it; 404 otherwise.
    pub(crate) async fn fetch_visible(
        &self,
        req: &RequestInfo,
        c: &Arc<Collection>,
        kind: RuleKind,
        id: &str,
    ) -> Result<Record> {
        let rule = match check::access(&self.schema, c, kind, req)? {
            Access::SuperusersOnly => return Err(Error::forbidden()),
            Access::All => None,
            Access::Where(sql) => Some(sql),
        };
        self.fetch_where(c, id, rule.as_ref()).await
    }

    /// A record by id, with `rule` (the caller decides which rule applies).
    pub(crate) async fn fetch_where(
        &self,
        c: &Arc<Collection>,
        id: &str,
        rule: Option<&Sql>,
    ) -> Result<Record> {
        let select = select_by_id(c, id, rule)?;
        let coll = c.clone();
        self.schema
            .db()
            .lookup(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?).pop()))
            .await?
            .ok_or_else(Error::not_found)
    }

    /// Whether `record` passes its collection's `kind` rule for `req` (superusers always do).
    pub async fn passes(&self, req: &RequestInfo, record: &Record, kind: RuleKind) -> Result<bool> {
        match check::access(&self.schema, &record.collection, kind, req)? {
            Access::All => Ok(true),
            Access::SuperusersOnly => Ok(false),
            Access::Where(rule) => {
                let select = select_by_id(&record.collection, record.id(), Some(&rule))?;
                self.schema
                    .db()
                    .lookup(move |conn| Ok(!conn.query(&select)?.is_empty()))
                    .await
            }
        }
    }

    /// Records as the API shows them to `req`, with `expand` and `fields` applied.
    pub async fn present(
        &self,
        req: &RequestInfo,
        mut records: Vec<Record>,
        expand: &str,
        fields: &str,
    ) -> Result<Vec<Json>> {
        let expanded = expand::expand(self, req, &mut records, expand).await?;
        let picks = parse_fields(fields)?;
        Ok(records
            .into_iter()
            .map(|r| {
                let json = to_json(r, &req.auth, expanded);
                if picks.is_empty() {
                    json
                } else {
                    pick(&json, &picks)
                }
            })
            .collect())
    }
}

fn filter_error(e: oxbase_sql::CompileError) -> Error {
    // PB-COMPAT: PocketBase answers `@request.*` / `@collection.*` in a non-superuser's filter
    // or sort with these 403s, and any other unusable filter or sort with a 400 without data;
    // the reason goes to the log only.
    if let oxbase_sql::CompileError::Forbidden(what) = &e {
        if what.starts_with("@request") {
            return Error::Forbidden("Only superusers can filter by @request.".into());
        }
        if what.starts_with("@collection") {
            return Error::Forbidden("Only superusers can filter by @collection.".into());
        }
    }
    tracing::debug!(error = %e, "invalid filter or sort");
    Error::bad_request("Something went wrong while processing your request.")
}
