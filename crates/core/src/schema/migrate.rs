//! Turns a collection change into DDL, run inside the caller's transaction so that a failed
//! change leaves the database as it was.
//!
//! SQLite cannot change a column in place, so an update rebuilds the table: create the new
//! shape, copy the rows (mapping fields by id, so renames keep their data), drop the old
//! table, rename. Indexes are dropped and created again from the collection's statements.
//! A change that leaves the columns as they were (options, rules) touches no table.
//!
//! Views read tables: SQLite refuses to rename a table into the place of one a view read, and
//! PostgreSQL to drop a table or view another view reads. So the views that may read what
//! changes (`readers`) are dropped first (`drop_views`) and put back after, from their stored
//! queries (`Schema::save`, `Schema::remove`); one that no longer runs fails the change.
//!
//! SQL: a schema change rebuilds tables in place (copies with casts between field types);
//! the statements come from `oxbase_sql::ddl`, the column mapping is this module's knowledge
//! of fields.

use std::sync::Arc;

use oxbase_sql::ddl::{self, Column, ColumnKind};
use oxbase_sql::{Ident, Sql};

use super::collection::{Collection, CollectionKind};
use super::field::{Field, FieldKind};
use crate::error::{Error, FieldErrors, Result, StoreErrorKind, field_error_json};
use crate::store::Conn;

pub fn ident(name: &str) -> Result<Ident> {
    Ident::new(name).ok_or_else(|| Error::bad_request(format!("Invalid name {name:?}.")))
}

/// The table a rebuild fills before it takes the collection's name (inside the rebuild's
/// transaction); reserved, so it never is a collection's.
const REBUILD_TABLE: &str = "_ox_rebuild";

/// Whether the database keeps `name` for itself: oxbase's own tables (PocketBase refuses its
/// own the same way, case-insensitively), and the prefixes of the databases' catalogs.
pub fn reserved_table_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    crate::store::migrations::INTERNAL_TABLES
        .iter()
        .chain([&REBUILD_TABLE])
        .any(|t| t.eq_ignore_ascii_case(name))
        // SQLite refuses `sqlite_*` tables ("reserved for internal use"), which PocketBase
        // passes on as a raw error. PB-COMPAT: `pg_*` is refused too, on both databases:
        // PostgreSQL reads its catalog (`pg_class`, `pg_tables`...) before the app's tables.
        || lower.starts_with("sqlite_")
        || lower.starts_with("pg_")
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

/// Drops the storage of a collection, its records' history included.
pub fn drop(conn: &mut dyn Conn, c: &Collection) -> Result<()> {
    let table = ident(&c.name)?;
    if c.kind == CollectionKind::View {
        conn.execute(&ddl::drop_view(&table))?;
    } else {
        conn.execute(&ddl::drop_table(&table))?;
        crate::store::history::delete_collection(conn, &c.id)?;
    }
    Ok(())
}

/// Whether `old` and `new` store their rows alike: same table, same columns in the same
/// order, each holding the same field.
fn same_table(old: &Collection, new: &Collection) -> bool {
    let shape = |c: &Collection| -> Vec<(String, String, ColumnKind)> {
        c.fields
            .iter()
            .map(|f| (f.id.clone(), f.name.clone(), column_kind(f)))
            .collect()
    };
    old.name == new.name && shape(old) == shape(new)
}

/// Whether changing `old` into `new` changes any table or view (an update of the options or
/// rules only does not).
pub fn changes_storage(old: &Collection, new: &Collection) -> bool {
    match new.kind {
        CollectionKind::View => {
            old.name != new.name || old.option_str("viewQuery") != new.option_str("viewQuery")
        }
        _ => !same_table(old, new) || old.indexes != new.indexes,
    }
}

/// The view collections, other than `changed` itself, that may read the table or view named
/// `name`, directly or through one another, oldest first. A view is taken when its query holds
/// a name as a word: a superset (the word may be a column), never missing a reader.
pub fn readers(name: &str, changed: &str, known: &[Arc<Collection>]) -> Vec<Collection> {
    let words = |c: &Collection| -> Vec<String> {
        c.option_str("viewQuery")
            .to_ascii_lowercase()
            .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
            .map(str::to_owned)
            .collect()
    };
    let mut names = vec![name.to_ascii_lowercase()];
    let mut found: Vec<Collection> = Vec::new();
    loop {
        let before = found.len();
        for c in known {
            if c.kind == CollectionKind::View
                && c.id != changed
                && !found.iter().any(|f| f.id == c.id)
                && words(c).iter().any(|w| names.contains(w))
            {
                names.push(c.name.to_ascii_lowercase());
                found.push((**c).clone());
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
    found
}

/// Drops the SQL views of `views`, whatever they read of one another.
pub fn drop_views(conn: &mut dyn Conn, views: &[Collection]) -> Result<()> {
    let names = views
        .iter()
        .map(|v| ident(&v.name))
        .collect::<Result<Vec<_>>>()?;
    for sql in ddl::drop_views(conn.dialect(), &names) {
        conn.execute(&sql)?;
    }
    Ok(())
}

/// Moves a collection's storage from `old` to `new`, keeping its rows.
pub fn update(conn: &mut dyn Conn, old: &Collection, new: &Collection) -> Result<()> {
    if !changes_storage(old, new) {
        return Ok(());
    }
    if new.kind == CollectionKind::View {
        drop(conn, old)?;
        return create(conn, new);
    }
    drop_indexes(conn, old)?;
    if same_table(old, new) {
        return create_indexes(conn, new);
    }
    let old_table = ident(&old.name)?;
    let new_table = ident(&new.name)?;
    let temp = ident(REBUILD_TABLE)?;
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
        targets.push(Sql::ident(&ident(&f.name)?));
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
    copy.push(" ORDER BY ").push_ident(&ident(ddl::ROWID)?);
    conn.execute(&copy)?;
    conn.execute(&ddl::drop_table(&old_table))?;
    conn.execute(&ddl::rename_table(&temp, &new_table))?;
    create_indexes(conn, new)
}

/// The expression that carries a column's value over a change between single and multiple.
fn convert(conn: &dyn Conn, col: &Ident, was_multi: bool, is_multi: bool) -> Sql {
    let d = conn.dialect();
    let c = Sql::ident(col);
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
                Error::Store(store) if matches!(store.kind, StoreErrorKind::Unique { .. }) => {
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
