//! What a query selects below a record, as the core's `expand`: relations are resolved for a
//! whole page at once (one query per relation and level), from the selection.

use std::collections::{BTreeMap, HashMap};

use async_graphql::SelectionField;

/// PB-COMPAT: the core expands at most 6 levels; deeper relations are fetched one by one.
pub(super) const MAX_EXPAND_DEPTH: usize = 6;

#[derive(Clone)]
pub(super) enum Rel {
    /// `field` of this collection points at `target`.
    /// `many`: the field holds several ids.
    Forward {
        field: String,
        target: String,
        many: bool,
    },
    /// `field` of `source` points at this collection.
    Back { source: String, field: String },
}

/// What resolvers need of the schema: per collection, its type prefix, its relations by
/// GraphQL field name (ordered: the schema, and its SDL, are the same from run to run) and its
/// other fields; the query root's fields.
#[derive(Default)]
pub(super) struct Info {
    pub(super) types: HashMap<String, String>,
    pub(super) rels: HashMap<String, BTreeMap<String, Rel>>,
    /// Per collection, its fields shown as values, by GraphQL name (a relation's raw ids
    /// included), in the collection's order: the record's key and whether the type is a list.
    pub(super) scalars: HashMap<String, Vec<(String, ValueField)>>,
    /// The query root's fields by GraphQL name.
    pub(super) roots: HashMap<String, RootField>,
}

/// A record field shown as its value.
#[derive(Clone)]
pub(super) struct ValueField {
    /// The record's key.
    pub(super) name: String,
    /// Typed as a list (a multiple select, file or relation).
    pub(super) list: bool,
}

/// A field of the query root: a collection's list or view.
pub(super) enum RootField {
    List(String),
    View(String),
}

impl Info {
    /// The value field `gql` of a record of `coll`.
    pub(super) fn scalar(&self, coll: &str, gql: &str) -> Option<&ValueField> {
        let fields = self.scalars.get(coll)?;
        fields.iter().find(|(name, _)| name == gql).map(|(_, s)| s)
    }

    /// The relation field `gql` of a record of `coll` (a value field of that name hides it).
    pub(super) fn rel(&self, coll: &str, gql: &str) -> Option<&Rel> {
        self.rels.get(coll)?.get(gql)
    }
}

/// The `expand` that serves what `field` selects below a record of `coll`: every forward
/// relation, and every back-relation without its own filter or sort, to the core's depth.
pub(super) fn expand_below(
    info: &Info,
    coll: &str,
    field: SelectionField<'_>,
    depth: usize,
) -> String {
    let mut out = Vec::new();
    walk(info, coll, field, "", depth, &mut out);
    out.join(",")
}

fn walk(
    info: &Info,
    coll: &str,
    field: SelectionField<'_>,
    prefix: &str,
    depth: usize,
    out: &mut Vec<String>,
) {
    if depth >= MAX_EXPAND_DEPTH {
        return;
    }
    let Some(rels) = info.rels.get(coll) else {
        return;
    };
    for sel in field.selection_set() {
        let Some(rel) = rels.get(sel.name()) else {
            continue;
        };
        let (segment, next) = match rel {
            Rel::Forward { field, target, .. } => (field.clone(), target.as_str()),
            Rel::Back { source, field } => {
                // A null `filter` or `sort` is none, as the resolver reads it.
                let own = sel
                    .arguments()
                    .map(|args| {
                        args.iter().any(|(n, v)| {
                            (n.as_str() == "filter" || n.as_str() == "sort")
                                && *v != async_graphql::Value::Null
                        })
                    })
                    .unwrap_or(true);
                if own {
                    continue;
                }
                (format!("{source}_via_{field}"), source.as_str())
            }
        };
        let path = format!("{prefix}{segment}");
        out.push(path.clone());
        walk(info, next, sel, &format!("{path}."), depth + 1, out);
    }
}

/// The selection under the `record` of an auth answer or an event.
pub(super) fn expand_of_record(info: &Info, coll: &str, field: SelectionField<'_>) -> String {
    field
        .selection_set()
        .filter(|s| s.name() == "record")
        .map(|s| expand_below(info, coll, s, 0))
        .filter(|e| !e.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// The selection under a list's `items`.
pub(super) fn expand_of_list(info: &Info, coll: &str, field: SelectionField<'_>) -> String {
    let mut out = Vec::new();
    for items in field.selection_set().filter(|s| s.name() == "items") {
        walk(info, coll, items, "", 0, &mut out);
    }
    out.join(",")
}
