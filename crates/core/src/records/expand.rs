//! `expand=author,tags,comments_via_post.author`: related records loaded in one query per
//! relation and level, each filtered by the related collection's view rule in SQL.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oxbase_sql::Sql;
use serde_json::Value as Json;

use super::list::{from_root, paren};
use super::output::to_json;
use super::record::{as_list, Record};
use super::Records;
use crate::error::Result;
use crate::rules::{check, Access, RequestInfo, RuleKind, ROOT};
use crate::schema::{Collection, FieldKind};

/// PB-COMPAT: expand paths are at most 6 levels deep; back-relations expand at most 1000 records.
const MAX_DEPTH: usize = 6;
const MAX_BACK_RELATIONS: i64 = 1000;

/// A tree of expand paths: `a.b,a.c,d` → {a: {b, c}, d}.
#[derive(Default, Debug)]
struct Tree(BTreeMap<String, Tree>);

fn parse(expand: &str) -> Tree {
    let mut root = Tree::default();
    for path in expand.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut node = &mut root;
        for seg in path.split('.').take(MAX_DEPTH) {
            node = node.0.entry(seg.to_owned()).or_default();
        }
    }
    root
}

pub async fn expand(records: &Records, req: &RequestInfo, items: &mut [Record], expand: &str) -> Result<()> {
    let tree = parse(expand);
    expand_level(records, req, items, &tree).await
}

fn expand_level<'a>(
    records: &'a Records,
    req: &'a RequestInfo,
    items: &'a mut [Record],
    tree: &'a Tree,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        let Some(first) = items.first() else { return Ok(()) };
        let collection = first.collection.clone();
        for (name, sub) in &tree.0 {
            if let Some(field) = collection.field(name).filter(|f| f.kind == FieldKind::Relation) {
                let Some(target) = records.schema.get(field.str_opt("collectionId")) else { continue };
                let ids: Vec<String> = items.iter().flat_map(|r| r.get_list(name)).collect();
                let mut related = load(records, req, &target, Lookup::Ids(ids)).await?;
                expand_level(records, req, &mut related, sub).await?;
                let nested = !sub.0.is_empty();
                let by_id: HashMap<String, Json> = related.iter().map(|r| (r.id().to_owned(), to_json(r, &req.auth, nested))).collect();
                for item in items.iter_mut() {
                    let found: Vec<Json> = item.get_list(name).iter().filter_map(|id| by_id.get(id).cloned()).collect();
                    if field.is_multi() {
                        if !found.is_empty() {
                            item.expand.insert(name.clone(), Json::Array(found));
                        }
                    } else if let Some(one) = found.into_iter().next() {
                        item.expand.insert(name.clone(), one);
                    }
                }
            } else if let Some((coll, fname)) = name.split_once("_via_") {
                let Some(source) = records.schema.get(coll) else { continue };
                let Some(field) = source.field(fname).filter(|f| f.kind == FieldKind::Relation && f.str_opt("collectionId") == collection.id) else {
                    continue;
                };
                let field = field.clone();
                let ids: Vec<String> = items.iter().map(|r| r.id().to_owned()).collect();
                let mut related = load(records, req, &source, Lookup::Back { field: field.name.clone(), multi: field.is_multi(), ids }).await?;
                expand_level(records, req, &mut related, sub).await?;
                for item in items.iter_mut() {
                    let id = item.id().to_owned();
                    let found: Vec<Json> = related
                        .iter()
                        .filter(|r| as_list(r.get(&field.name)).contains(&id))
                        .map(|r| to_json(r, &req.auth, !sub.0.is_empty()))
                        .collect();
                    if !found.is_empty() {
                        item.expand.insert(name.clone(), Json::Array(found));
                    }
                }
            }
        }
        Ok(())
    })
}

enum Lookup {
    Ids(Vec<String>),
    Back { field: String, multi: bool, ids: Vec<String> },
}

/// The related records the requester may view.
async fn load(records: &Records, req: &RequestInfo, target: &Arc<Collection>, lookup: Lookup) -> Result<Vec<Record>> {
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
            let mut cond = Sql::raw(format!("\"{ROOT}\".\"id\" IN (SELECT \"__je\".\"value\" FROM "));
            cond.push_sql(&d.json_each_as(&list, &je)).push(")");
            (ids, cond)
        }
        Lookup::Back { field, multi, ids } => {
            let list = Sql::param(Json::from(ids.clone()).to_string());
            let col = Sql::raw(format!("\"{ROOT}\".\"{field}\""));
            let mut cond = Sql::new();
            if multi {
                let je2 = alias("__je2");
                cond.push("EXISTS (SELECT 1 FROM ").push_sql(&d.json_each_as(&col, &je2)).push(" WHERE \"__je2\".\"value\" IN (SELECT \"__je\".\"value\" FROM ");
                cond.push_sql(&d.json_each_as(&list, &je)).push("))");
            } else {
                cond.push_sql(&col).push(" IN (SELECT \"__je\".\"value\" FROM ").push_sql(&d.json_each_as(&list, &je)).push(")");
            }
            (ids, cond)
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Sql::raw(format!("SELECT \"{ROOT}\".* FROM "));
    select.push_sql(&from_root(target)?).push(" WHERE ").push_sql(&cond);
    if let Some(rule) = rule {
        select.push(" AND ").push_sql(&paren(rule));
    }
    select.push(" LIMIT ").push_param(MAX_BACK_RELATIONS);
    let coll = target.clone();
    records.schema.db().read(move |conn| Ok(Record::from_rows(&coll, &conn.query(&select)?))).await
}

fn alias(name: &'static str) -> oxbase_sql::Ident {
    oxbase_sql::Ident::new(name).expect("a constant, valid identifier")
}
