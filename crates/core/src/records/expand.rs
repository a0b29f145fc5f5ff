//! `expand=author,tags,comments_via_post.author`: related records loaded in one query per
//! relation and level, each filtered by the related collection's view rule in SQL.
//!
//! SQL: the related records of a whole page in one query per relation (ids through the
//! dialect's JSON iteration, back-relations through their field).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use oxbase_sql::Sql;
use serde_json::Value as Json;

use super::Records;
use super::output::to_json;
use super::query::{paren, root_column, select_root};
use crate::error::Result;
use crate::rules::{Access, RequestInfo, RuleKind, check};
use crate::schema::record::{Record, as_list};
use crate::schema::{Collection, Field, FieldKind};

/// PB-COMPAT: expand paths are at most 6 levels deep; back-relations expand at most 1000 records.
const MAX_DEPTH: usize = 6;
const MAX_BACK_RELATIONS: i64 = 1000;

/// A tree of expand paths: `a.b,a.c,d` → {a: {b, c}, d}.
#[derive(Default, Debug)]
struct Tree(BTreeMap<String, Tree>);

/// PB-COMPAT: spaces are removed and the dots at either end trimmed; a path that another one
/// continues (`a` beside `a.b`) is dropped, so it stands or falls with the longer one.
fn parse(expand: &str) -> Tree {
    let paths: Vec<String> = expand
        .split(',')
        .map(|p| p.replace(' ', "").trim_matches('.').to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    // Every path that another one continues: the prefixes ending before a dot.
    let continued: HashSet<&str> = paths
        .iter()
        .flat_map(|p| p.match_indices('.').map(move |(i, _)| &p[..i]))
        .collect();
    let mut root = Tree::default();
    for path in paths.iter().filter(|p| !continued.contains(p.as_str())) {
        let mut node = &mut root;
        for seg in path.split('.').take(MAX_DEPTH) {
            node = node.0.entry(seg.to_owned()).or_default();
        }
    }
    root
}

/// Expands `items` in place. Returns whether any path expanded, in which case the records
/// carry an `expand` object (empty when they have nothing related), as in PocketBase.
pub async fn expand(
    records: &Records,
    req: &RequestInfo,
    items: &mut [Record],
    expand: &str,
) -> Result<bool> {
    if expand.is_empty() || items.is_empty() {
        return Ok(false);
    }
    let tree = parse(expand);
    if tree.0.is_empty() {
        return Ok(false);
    }
    expand_level(records, req, items, &tree).await
}

/// What one path segment names in a collection.
enum Relation {
    /// A relation field of the collection.
    Direct {
        field: Field,
        target: Arc<Collection>,
    },
    /// `source_via_field`: the records of `source` whose relation `field` points here; `single`
    /// when a unique index on that field allows one at most (PB-COMPAT: then an object, not
    /// an array).
    Back {
        field: Field,
        source: Arc<Collection>,
        single: bool,
    },
}

/// Whether one of `indexes` is unique over `column` alone (a `WHERE` does not count).
fn has_single_column_unique_index(indexes: &[String], column: &str) -> bool {
    indexes
        .iter()
        .filter_map(|stmt| oxbase_sql::ddl::parse_index(stmt))
        .any(|def| {
            def.unique
                && def.columns.len() == 1
                && def.columns[0].name.as_str().eq_ignore_ascii_case(column)
        })
}

fn resolve(records: &Records, collection: &Collection, name: &str) -> Option<Relation> {
    // PB-COMPAT: `\w+_via_\w+` with a greedy first part, so the last `_via_` splits.
    if let Some((coll, fname)) = name
        .rsplit_once("_via_")
        .filter(|(c, f)| !c.is_empty() && !f.is_empty())
    {
        let source = records.schema.get(coll)?;
        let field = source
            .field(fname)
            .filter(|f| {
                f.kind == FieldKind::Relation && f.str_opt("collectionId") == collection.id
            })?
            .clone();
        let single = has_single_column_unique_index(&source.indexes, &field.name);
        return Some(Relation::Back {
            field,
            source,
            single,
        });
    }
    let field = collection
        .field(name)
        .filter(|f| f.kind == FieldKind::Relation)?
        .clone();
    let target = records.schema.get(field.str_opt("collectionId"))?;
    Some(Relation::Direct { field, target })
}

/// Expands the children of `tree` on `items` (all of one collection, not empty) and returns
/// whether any of them expanded. PB-COMPAT: each path is all or nothing: a segment that names
/// no relation, on records that have something to expand, leaves out its whole path (and
/// PocketBase answers without it, not with an error).
fn expand_level<'a>(
    records: &'a Records,
    req: &'a RequestInfo,
    items: &'a mut [Record],
    tree: &'a Tree,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + 'a>> {
    Box::pin(async move {
        let Some(first) = items.first() else {
            return Ok(true);
        };
        let collection = first.collection.clone();
        let mut any = false;
        for (name, sub) in &tree.0 {
            let Some(relation) = resolve(records, &collection, name) else {
                continue;
            };
            let mut related = match &relation {
                Relation::Direct { target, .. } => {
                    let ids: Vec<String> = items.iter().flat_map(|r| r.get_list(name)).collect();
                    load(records, req, target, Lookup::Ids(ids)).await?
                }
                Relation::Back { field, source, .. } => {
                    let ids: Vec<String> = items.iter().map(|r| r.id().to_owned()).collect();
                    load(
                        records,
                        req,
                        source,
                        Lookup::Back {
                            field: field.name.clone(),
                            multi: field.is_multi(),
                            ids,
                        },
                    )
                    .await?
                }
            };
            let nested = !sub.0.is_empty();
            if nested
                && !related.is_empty()
                && !expand_level(records, req, &mut related, sub).await?
            {
                continue;
            }
            any = true;
            let shown: HashMap<&str, Json> = related
                .iter()
                .map(|r| (r.id(), to_json(r.clone(), &req.auth, nested)))
                .collect();
            for item in items.iter_mut() {
                let found: Vec<Json> = match &relation {
                    Relation::Direct { .. } => item
                        .get_list(name)
                        .iter()
                        .filter_map(|id| shown.get(id.as_str()).cloned())
                        .collect(),
                    Relation::Back { field, .. } => {
                        let id = item.id().to_owned();
                        related
                            .iter()
                            .filter(|r| as_list(r.get(&field.name)).contains(&id))
                            .filter_map(|r| shown.get(r.id()).cloned())
                            .collect()
                    }
                };
                let single = match &relation {
                    Relation::Direct { field, .. } => !field.is_multi(),
                    Relation::Back { single, .. } => *single,
                };
                match (single, found.is_empty()) {
                    (_, true) => {}
                    (true, false) => {
                        item.expand
                            .insert(name.clone(), found.into_iter().next().unwrap_or_default());
                    }
                    (false, false) => {
                        item.expand.insert(name.clone(), Json::Array(found));
                    }
                }
            }
        }
        Ok(any)
    })
}

enum Lookup {
    Ids(Vec<String>),
    Back {
        field: String,
        multi: bool,
        ids: Vec<String>,
    },
}

/// The related records the requester may view.
async fn load(
    records: &Records,
    req: &RequestInfo,
    target: &Arc<Collection>,
    lookup: Lookup,
) -> Result<Vec<Record>> {
    let rule = match check::access(&records.schema, target, RuleKind::View, req)? {
        Access::SuperusersOnly => return Ok(Vec::new()),
        Access::All => None,
        Access::Where(sql) => Some(sql),
    };
    let d = records.schema.db().dialect();
    let je = alias("__je");
    let (ids, cond) = match lookup {
        Lookup::Ids(ids) => {
            let mut ids = ids;
            ids.sort();
            ids.dedup();
            let list = Sql::param(Json::from(ids.clone()).to_string());
            let mut cond = root_column("id")?;
            cond.push(" IN (SELECT \"__je\".\"value\" FROM ");
            cond.push_sql(&d.json_each_as(&list, &je)).push(")");
            (ids, cond)
        }
        Lookup::Back { field, multi, ids } => {
            let list = Sql::param(Json::from(ids.clone()).to_string());
            let col = root_column(&field)?;
            let mut cond = Sql::new();
            if multi {
                let je2 = alias("__je2");
                cond.push("EXISTS (SELECT 1 FROM ")
                    .push_sql(&d.json_each_as(&col, &je2))
                    .push(" WHERE \"__je2\".\"value\" IN (SELECT \"__je\".\"value\" FROM ");
                cond.push_sql(&d.json_each_as(&list, &je)).push("))");
            } else {
                cond.push_sql(&col)
                    .push(" IN (SELECT \"__je\".\"value\" FROM ")
                    .push_sql(&d.json_each_as(&list, &je))
                    .push(")");
            }
            (ids, cond)
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = select_root(target)?;
    select.push(" WHERE ").push_sql(&cond);
    if let Some(rule) = rule {
        select.push(" AND ").push_sql(&paren(rule));
    }
    select.push(" LIMIT ").push_param(MAX_BACK_RELATIONS);
    let coll = target.clone();
    records
        .schema
        .db()
        .read(move |conn| Ok(Record::from_rows(&coll, conn.query(&select)?)))
        .await
}

fn alias(name: &'static str) -> oxbase_sql::Ident {
    oxbase_sql::Ident::new(name).expect("a constant, valid identifier")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(t: &Tree, prefix: &str, out: &mut Vec<String>) {
        for (k, sub) in &t.0 {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if sub.0.is_empty() {
                out.push(p);
            } else {
                paths(sub, &p, out);
            }
        }
    }

    #[test]
    fn paths_are_normalized_as_pocketbase_does() {
        let mut out = Vec::new();
        paths(
            &parse(" a.b.c , a.b,.test., ,test,a-x, au thor"),
            "",
            &mut out,
        );
        assert_eq!(out, ["a.b.c", "a-x", "author", "test"]);
    }
}
