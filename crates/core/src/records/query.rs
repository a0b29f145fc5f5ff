//! The SQL shapes of record queries, written once: the collection's table aliased as the root
//! (`"posts" AS "__r"`), its columns, a select by id, conditions joined, a page. Identifiers go
//! through `oxbase_sql::Ident` (validated, quoted by `Sql::push_ident`), values are bound.

use std::sync::LazyLock;

use oxbase_sql::{Dialect, Ident, Sql, Value};

use crate::error::{Error, Result};
use crate::rules::ROOT;
use crate::schema::{Collection, Record};

/// The root alias as an identifier (made once: a view by id uses it three times).
pub fn root_alias() -> &'static Ident {
    static ALIAS: LazyLock<Ident> =
        LazyLock::new(|| Ident::new(ROOT).expect("the root alias is a valid identifier"));
    &ALIAS
}

fn id_column() -> &'static Ident {
    static ID: LazyLock<Ident> = LazyLock::new(|| Ident::new("id").expect("a valid identifier"));
    &ID
}

/// A collection's table.
pub fn table(c: &Collection) -> Result<Ident> {
    Ident::new(&c.name).ok_or_else(|| Error::internal("invalid collection name"))
}

/// A column of a collection's table.
pub fn column(name: &str) -> Result<Ident> {
    Ident::new(name).ok_or_else(|| Error::internal(format!("invalid column name {name:?}")))
}

/// `"__r"."name"`.
pub fn root_column(name: &str) -> Result<Sql> {
    let mut sql = Sql::new();
    sql.push_ident(root_alias())
        .push(".")
        .push_ident(&column(name)?);
    Ok(sql)
}

/// The table of a collection aliased as the root: `"posts" AS "__r"`.
fn push_from_root(sql: &mut Sql, c: &Collection) -> Result<()> {
    sql.push_ident(&table(c)?)
        .push(" AS ")
        .push_ident(root_alias());
    Ok(())
}

/// `SELECT "__r".* FROM "posts" AS "__r"`: every column of the collection's rows.
pub fn select_root(c: &Collection) -> Result<Sql> {
    let mut select = Sql::raw(String::with_capacity(64 + c.name.len()));
    select
        .push("SELECT ")
        .push_ident(root_alias())
        .push(".* FROM ");
    push_from_root(&mut select, c)?;
    Ok(select)
}

/// `SELECT __r.* FROM t AS __r WHERE __r.id = ? [AND (rule)]`, written in one buffer: it runs
/// for every view, update and delete.
pub fn select_by_id(c: &Collection, id: &str, rule: Option<&Sql>) -> Result<Sql> {
    let mut select = Sql::raw(String::with_capacity(
        96 + c.name.len() + rule.map_or(0, |r| r.text().len()),
    ));
    select
        .push("SELECT ")
        .push_ident(root_alias())
        .push(".* FROM ");
    push_from_root(&mut select, c)?;
    select
        .push(" WHERE ")
        .push_ident(root_alias())
        .push(".")
        .push_ident(id_column())
        .push(" = ")
        .push_param(id.to_owned());
    if let Some(rule) = rule {
        select.push(" AND (").push_sql(rule).push(")");
    }
    Ok(select)
}

/// `INSERT INTO t (cols) VALUES (?...)` of every column of `record`; with `skip_duplicate`, a
/// row conflicting with a unique index is left out instead of failing.
pub fn insert_row(record: &Record, skip_duplicate: bool) -> Result<Sql> {
    let c = &record.collection;
    let mut sql = Sql::raw(String::with_capacity(32 + 24 * c.fields.len()));
    sql.push("INSERT INTO ").push_ident(&table(c)?).push(" (");
    for (i, f) in c.fields.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        push_column(&mut sql, &f.name)?;
    }
    sql.push(") VALUES (");
    for (i, f) in c.fields.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_param(record.column_value(f));
    }
    sql.push(")");
    if skip_duplicate {
        sql.push(" ON CONFLICT DO NOTHING");
    }
    Ok(sql)
}

/// `UPDATE t SET col = ?... WHERE id = ?`: every column of `record`, on the row `id`.
pub fn update_row(record: &Record, id: &str) -> Result<Sql> {
    let c = &record.collection;
    let mut sql = Sql::raw(String::with_capacity(32 + 24 * c.fields.len()));
    sql.push("UPDATE ").push_ident(&table(c)?).push(" SET ");
    for (i, f) in c.fields.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        push_column(&mut sql, &f.name)?;
        sql.push(" = ").push_param(record.column_value(f));
    }
    push_where_id(&mut sql, id);
    Ok(sql)
}

fn push_column(sql: &mut Sql, name: &str) -> Result<()> {
    sql.push_name(name)
        .map(|_| ())
        .ok_or_else(|| Error::internal(format!("invalid column name {name:?}")))
}

/// `UPDATE t SET col = ? WHERE id = ?`.
pub fn update_column(c: &Collection, id: &str, name: &str, value: Value) -> Result<Sql> {
    let mut sql = Sql::raw("UPDATE ");
    sql.push_ident(&table(c)?)
        .push(" SET ")
        .push_ident(&column(name)?)
        .push(" = ")
        .push_param(value);
    push_where_id(&mut sql, id);
    Ok(sql)
}

/// `DELETE FROM t WHERE id = ?`.
pub fn delete_row(c: &Collection, id: &str) -> Result<Sql> {
    let mut sql = Sql::raw("DELETE FROM ");
    sql.push_ident(&table(c)?);
    push_where_id(&mut sql, id);
    Ok(sql)
}

/// `SELECT COUNT(*) FROM t [WHERE id IN (?...)]`.
pub fn count_rows(table: &Ident, ids: Option<&[String]>) -> Sql {
    let mut sql = Sql::raw("SELECT COUNT(*) FROM ");
    sql.push_ident(table);
    if let Some(ids) = ids {
        sql.push(" WHERE ")
            .push_ident(id_column())
            .push(" IN (")
            .push_sql(&Sql::join(
                ids.iter().map(|id| Sql::param(id.clone())),
                ", ",
            ))
            .push(")");
    }
    sql
}

fn push_where_id(sql: &mut Sql, id: &str) {
    sql.push(" WHERE ")
        .push_ident(id_column())
        .push(" = ")
        .push_param(id.to_owned());
}

/// `SELECT COUNT(*) FROM "t" AS "__r"` and the conditions.
pub fn count_from_root(c: &Collection, conditions: &Sql) -> Result<Sql> {
    let mut sql = Sql::raw("SELECT COUNT(*) FROM ");
    push_from_root(&mut sql, c)?;
    sql.push_sql(conditions);
    Ok(sql)
}

/// `SELECT (a), (b), EXISTS (c)`: several scalar questions in one round trip.
pub fn select_scalars(scalars: Vec<Sql>, exists: Option<Sql>) -> Sql {
    let mut columns: Vec<Sql> = scalars.into_iter().map(paren).collect();
    if let Some(select) = exists {
        let mut e = Sql::raw("EXISTS ");
        e.push_sql(&paren(select));
        columns.push(e);
    }
    let mut sql = Sql::raw("SELECT ");
    sql.push_sql(&Sql::join(columns, ", "));
    sql
}

/// `(a) AND (b)`.
pub fn and(a: &Sql, b: &Sql) -> Sql {
    let mut sql = paren(a.clone());
    sql.push(" AND ").push_sql(&paren(b.clone()));
    sql
}

/// `select_by_id`, locking the row until the transaction ends where the dialect can (an
/// update reads, modifies and writes it in one transaction).
pub fn select_by_id_locked(
    c: &Collection,
    id: &str,
    rule: Option<&Sql>,
    dialect: Dialect,
) -> Result<Sql> {
    let mut select = select_by_id(c, id, rule)?;
    select.push_sql(&dialect.lock_rows(root_alias()));
    Ok(select)
}

/// `(sql)`.
pub fn paren(sql: Sql) -> Sql {
    let mut s = Sql::raw("(");
    s.push_sql(&sql).push(")");
    s
}

/// ` WHERE (a) AND (b)...`, or nothing without conditions.
pub fn where_all(conds: Vec<Sql>) -> Sql {
    let mut sql = Sql::new();
    if !conds.is_empty() {
        sql.push(" WHERE ")
            .push_sql(&Sql::join(conds.into_iter().map(paren), " AND "));
    }
    sql
}

/// ` ORDER BY` the compiled sort, or insertion order when there is none (a view has no row
/// order of its own: none then).
pub fn push_order(sql: &mut Sql, c: &Collection, order: Option<&Sql>) -> Result<()> {
    match order {
        Some(order) => {
            sql.push(" ORDER BY ").push_sql(order);
        }
        None if c.kind != crate::schema::CollectionKind::View => {
            sql.push(" ORDER BY ")
                .push_sql(&root_column(oxbase_sql::ddl::ROWID)?);
        }
        None => {}
    }
    Ok(())
}

/// ` LIMIT ? OFFSET ?`.
pub fn push_page(sql: &mut Sql, limit: i64, offset: i64) {
    sql.push(" LIMIT ")
        .push_param(limit)
        .push(" OFFSET ")
        .push_param(offset);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts() -> Collection {
        Collection::new("posts", crate::schema::CollectionKind::Base)
    }

    #[test]
    fn shapes() {
        let c = posts();
        assert_eq!(
            select_root(&c).unwrap().text(),
            r#"SELECT "__r".* FROM "posts" AS "__r""#
        );
        let rule = Sql::raw("1 = 1");
        let by_id = select_by_id(&c, "abc", Some(&rule)).unwrap();
        assert_eq!(
            by_id.text(),
            r#"SELECT "__r".* FROM "posts" AS "__r" WHERE "__r"."id" = ? AND (1 = 1)"#
        );
        assert_eq!(root_column("title").unwrap().text(), r#""__r"."title""#);
        assert!(root_column("a\"b").is_err());
        let mut page = where_all(vec![Sql::raw("a"), Sql::raw("b")]);
        push_page(&mut page, 10, 20);
        assert_eq!(page.text(), " WHERE (a) AND (b) LIMIT ? OFFSET ?");
        assert_eq!(page.params().len(), 2);
    }
}
