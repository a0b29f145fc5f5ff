//! Turns a collection change into DDL, run inside the caller's transaction so that a failed
//! change leaves the database as it was.
//!
//! SQLite cannot change a column in place, so an update rebuilds the table: create the new
//! shape, copy the rows (mapping fields by id, so renames keep their data), drop the old
//! table, rename. Indexes are dropped and created again from the collection's statements.

use oxbase_sql::ddl::{self, Column, ColumnKind};
use oxbase_sql::{Ident, Sql};

use super::collection::{Collection, CollectionKind};
use super::field::{Field, FieldKind};
use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::store::Conn;

pub fn ident(name: &str) -> Result<Ident> {
    Ident::new(name).ok_or_else(|| Error::bad_request(format!("Invalid name {name:?}.")))
}

/// How a field is stored.
pub fn column_kind(field: &Field) -> ColumnKind {
    match field.kind {
        _ if field.name == "id" => ColumnKind::PrimaryKey,
        FieldKind::Number => ColumnKind::Number,
        FieldKind::Bool => ColumnKind::Bool,
        FieldKind::Json => ColumnKind::Json,
        FieldKind::GeoPoint => ColumnKind::GeoPoint,
        FieldKind::Select | FieldKind::File | FieldKind::Relation if field.is_multi() => {
            ColumnKind::JsonArray
        }
        _ => ColumnKind::Text,
    }
}

fn columns(c: &Collection) -> Result<Vec<Column>> {
    c.fields
        .iter()
        .map(|f| {
            Ok(Column {
                name: ident(&f.name)?,
                kind: column_kind(f),
            })
        })
        .collect()
}

/// Creates the storage of a new collection.
pub fn create(conn: &mut dyn Conn, c: &Collection) -> Result<()> {
    let table = ident(&c.name)?;
    if c.kind == CollectionKind::View {
        conn.execute(&ddl::create_view(&table, c.option_str("viewQuery")))?;
        return Ok(());
    }
    conn.execute(&ddl::create_table(conn.dialect(), &table, &columns(c)?))?;
    create_indexes(conn, c)
}

/// Drops the storage of a collection.
pub fn drop(conn: &mut dyn Conn, c: &Collection) -> Result<()> {
    let table = ident(&c.name)?;
    if c.kind == CollectionKind::View {
        conn.execute(&ddl::drop_view(&table))?;
    } else {
        conn.execute(&ddl::drop_table(&table))?;
    }
    Ok(())
}

/// Moves a collection's storage from `old` to `new`, keeping its rows.
pub fn update(conn: &mut dyn Conn, old: &Collection, new: &Collection) -> Result<()> {
    if new.kind == CollectionKind::View {
        drop(conn, old)?;
        return create(conn, new);
    }
    drop_indexes(conn, old)?;
    let old_table = ident(&old.name)?;
    let new_table = ident(&new.name)?;
    let temp = ident(&format!("_new_{}", new.name))?;
    conn.execute(&ddl::drop_table(&temp))?;
    conn.execute(&ddl::create_table(conn.dialect(), &temp, &columns(new)?))?;

    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for f in &new.fields {
        let Some(prev) = old
            .fields
            .iter()
            .find(|o| o.id == f.id || (o.name == f.name && o.kind == f.kind))
        else {
            continue;
        };
        targets.push(Sql::raw(ident(&f.name)?.quoted()));
        sources.push(convert(
            conn,
            &ident(&prev.name)?,
            prev.is_multi(),
            f.is_multi(),
        ));
    }
    let mut copy = Sql::raw("INSERT INTO ");
    copy.push_ident(&temp)
        .push(" (")
        .push_sql(&Sql::join(targets, ", "))
        .push(") SELECT ");
    copy.push_sql(&Sql::join(sources, ", "))
        .push(" FROM ")
        .push_ident(&old_table);
    // Rows keep their insertion order: the new table numbers them in the old order.
    copy.push(&format!(" ORDER BY \"{}\"", ddl::ROWID));
    conn.execute(&copy)?;
    conn.execute(&ddl::drop_table(&old_table))?;
    conn.execute(&ddl::rename_table(&temp, &new_table))?;
    create_indexes(conn, new)
}

/// The expression that carries a column's value over a change between single and multiple.
fn convert(conn: &dyn Conn, col: &Ident, was_multi: bool, is_multi: bool) -> Sql {
    let d = conn.dialect();
    let c = Sql::raw(col.quoted());
    match (was_multi, is_multi) {
        (false, true) => {
            let mut s = Sql::raw("CASE WHEN ");
            s.push_sql(&c)
                .push(" = '' THEN '[]' ELSE ")
                .push_sql(&d.json_array_of(&c))
                .push(" END");
            s
        }
        (true, false) => {
            let mut s = Sql::raw("COALESCE(");
            s.push_sql(&d.json_last_element(&c)).push(", '')");
            s
        }
        _ => c,
    }
}

fn create_indexes(conn: &mut dyn Conn, c: &Collection) -> Result<()> {
    let table = ident(&c.name)?;
    for (i, stmt) in c.indexes.iter().enumerate() {
        let def = ddl::parse_index(stmt)
            .ok_or_else(|| index_error(i, "Invalid CREATE INDEX expression."))?;
        // PB-COMPAT: the messages of PocketBase, which passes on SQLite's.
        if let Some(col) = def
            .columns
            .iter()
            .find(|col| c.field(col.name.as_str()).is_none())
        {
            return Err(index_error(
                i,
                &format!(
                    "Failed to create index {} - SQL logic error: no such column: {} (1).",
                    def.name, col.name
                ),
            ));
        }
        conn.execute(&ddl::create_index(&def, &table))
            .map_err(|e| match e {
                Error::BadRequest { .. } => {
                    let columns: Vec<String> = def
                        .columns
                        .iter()
                        .map(|col| format!("{}.{}", c.name, col.name))
                        .collect();
                    let detail = format!(
                        "constraint failed: UNIQUE constraint failed: {} (2067)",
                        columns.join(", ")
                    );
                    index_error(
                        i,
                        &format!("Failed to create index {} - {detail}.", def.name),
                    )
                }
                other => other,
            })?;
    }
    Ok(())
}

fn drop_indexes(conn: &mut dyn Conn, c: &Collection) -> Result<()> {
    for stmt in &c.indexes {
        if let Some(def) = ddl::parse_index(stmt) {
            conn.execute(&ddl::drop_index(&def.name))?;
        }
    }
    Ok(())
}

fn index_error(i: usize, message: &str) -> Error {
    let mut data = FieldErrors::new();
    data.insert("indexes".into(), serde_json::json!({ i.to_string(): field_error_json("validation_invalid_index_expression", message) }));
    Error::validation(data)
}
