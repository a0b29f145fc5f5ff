//! Before a delete removes anything: the records it will remove (following cascading relations
//! without deleting), so that a `DeleteWatcher` judges them while every row they may depend on
//! is still there.
//!
//! PB-COMPAT: PocketBase prepares its delete messages before each record goes, with the rules
//! run outside the transaction, so a cascaded child whose rule reads its (already deleted)
//! parent is still seen as before the delete. Here they run inside the transaction, before
//! its first DELETE: the same answer, and earlier writes of the same batch count too.
//!
//! SQL: the records referring to a deleted one through a relation field (a column or a JSON
//! list), walked before the delete.

use std::collections::HashSet;
use std::sync::Arc;

use oxbase_sql::Ident;

use super::query::{paren, root_column, select_root};
use crate::error::Result;
use crate::events::{DeleteWatcher, Foreseen};
use crate::schema::Record;
use crate::schema::{Collection, CollectionKind, Field, FieldKind};
use crate::store::Conn;

/// PB-COMPAT: how deep cascading deletes may go.
pub const MAX_CASCADE_DEPTH: usize = 32;

/// Who may see the records deleting `roots` (all of one collection) removes, decided now.
/// `None`, with no query run, when no collection the delete can reach is watched.
pub fn foresee(
    conn: &mut dyn Conn,
    all: &[Arc<Collection>],
    roots: &[Record],
    watcher: &dyn DeleteWatcher,
) -> Result<Option<Arc<Foreseen>>> {
    let Some(first) = roots.first() else {
        return Ok(None);
    };
    if !reach(all, &first.collection)
        .into_iter()
        .any(|c| watcher.watches(c))
    {
        return Ok(None);
    }
    let watched: Vec<Record> = doomed(conn, all, roots.to_vec())?
        .into_iter()
        .filter(|r| watcher.watches(&r.collection))
        .collect();
    Ok(Some(Arc::new(watcher.foresee(conn, &watched)?)))
}

/// `from` and every collection a cascading relation lets a delete of it reach.
fn reach<'a>(all: &'a [Arc<Collection>], from: &'a Collection) -> Vec<&'a Collection> {
    let mut found: Vec<&Collection> = vec![from];
    let mut i = 0;
    while i < found.len() {
        let current = found[i];
        for (c, _) in cascades_into(all, &current.id) {
            if !found.iter().any(|f| f.id == c.id) {
                found.push(c.as_ref());
            }
        }
        i += 1;
    }
    found
}

/// The relation fields that delete their record when the record they point at goes.
fn cascades_into<'a>(
    all: &'a [Arc<Collection>],
    target_id: &'a str,
) -> impl Iterator<Item = (&'a Arc<Collection>, &'a Field)> + 'a {
    referring_fields(all, target_id).filter(|(_, f)| f.bool_opt("cascadeDelete"))
}

/// Every relation field (of a table, not a view) pointing at the collection `target_id`.
pub fn referring_fields<'a>(
    all: &'a [Arc<Collection>],
    target_id: &'a str,
) -> impl Iterator<Item = (&'a Arc<Collection>, &'a Field)> + 'a {
    all.iter()
        .filter(|c| c.kind != CollectionKind::View)
        .flat_map(move |c| {
            c.fields
                .iter()
                .filter(move |f| {
                    f.kind == FieldKind::Relation && f.str_opt("collectionId") == target_id
                })
                .map(move |f| (c, f))
        })
}

/// The records of `roots` and all they cascade to, each once, parents before children.
fn doomed(conn: &mut dyn Conn, all: &[Arc<Collection>], roots: Vec<Record>) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut level = roots;
    for _ in 0..=MAX_CASCADE_DEPTH {
        let mut next = Vec::new();
        for record in level {
            if !seen.insert((record.collection.id.clone(), record.id().to_owned())) {
                continue;
            }
            for (c, f) in cascades_into(all, &record.collection.id) {
                next.extend(referrers(conn, c, f, record.id())?);
            }
            out.push(record);
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(out)
}

/// The records of `c` whose relation field `f` holds `id`.
pub fn referrers(
    conn: &mut dyn Conn,
    c: &Arc<Collection>,
    f: &Field,
    id: &str,
) -> Result<Vec<Record>> {
    let col = root_column(&f.name)?;
    let mut select = select_root(c)?;
    select.push(" WHERE ");
    if f.is_multi() {
        let je = Ident::new("__je").expect("a constant, valid identifier");
        select
            .push("EXISTS (SELECT 1 FROM ")
            .push_sql(&conn.dialect().json_each_as(&col, &je));
        select
            .push(" WHERE \"__je\".\"value\" = ")
            .push_param(id.to_owned())
            .push(")");
    } else {
        select
            .push_sql(&paren(col))
            .push(" = ")
            .push_param(id.to_owned());
    }
    Ok(Record::from_rows(c, conn.query(&select)?))
}
