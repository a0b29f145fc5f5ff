//! The SQL shapes of record queries, written once: the collection's table aliased as the root
//! (`"posts" AS "__r"`), its columns, a select by id, conditions joined, a page. Identifiers go
//! through `oxbase_sql::Ident` (validated, quoted by `Sql::push_ident`), values are bound.

use oxbase_sql::{Ident, Sql};

use crate::error::{Error, Result};
use crate::rules::ROOT;
use crate::schema::Collection;

/// The root alias as an identifier.
pub fn root_alias() -> Ident {
    Ident::new(ROOT).expect("the root alias is a valid identifier")
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
    sql.push_ident(&root_alias())
        .push(".")
        .push_ident(&column(name)?);
    Ok(sql)
}

/// The table of a collection aliased as the root: `"posts" AS "__r"`.
pub fn from_root(c: &Collection) -> Result<Sql> {
    let mut from = Sql::raw(String::with_capacity(c.name.len() + 16));
    push_from_root(&mut from, c)?;
    Ok(from)
}

fn push_from_root(sql: &mut Sql, c: &Collection) -> Result<()> {
    sql.push_ident(&table(c)?)
        .push(" AS ")
        .push_ident(&root_alias());
    Ok(())
}

/// `SELECT "__r".* FROM "posts" AS "__r"`: every column of the collection's rows.
pub fn select_root(c: &Collection) -> Result<Sql> {
    let mut select = Sql::raw(String::with_capacity(64 + c.name.len()));
    select
        .push("SELECT ")
        .push_ident(&root_alias())
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
        .push_ident(&root_alias())
        .push(".* FROM ");
    push_from_root(&mut select, c)?;
    select
        .push(" WHERE ")
        .push_sql(&root_column("id")?)
        .push(" = ")
        .push_param(id.to_owned());
    if let Some(rule) = rule {
        select.push(" AND (").push_sql(rule).push(")");
    }
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
