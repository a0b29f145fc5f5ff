//! Plain queries answered without the GraphQL executor. Clients send the same few list and view
//! queries again and again; async-graphql runs each selected field of each record as a future
//! of its own and builds a tree of values before writing it out, which cost about as much as
//! the list itself (measured). A query seen before and validated for the same variables
//! (`prepared`) whose selection is plain (fields and aliases, `__typename`; no fragments,
//! directives, introspection or relations fetched one by one) gets a [`Plan`], made once per
//! schema version: its answer is written as JSON straight from the core's records, by the
//! same `list_page` and `view` calls the resolvers make, in the executor's order and shape.
//! Anything else, and any error, goes to the executor, which answers it as before.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Value as GqlValue};
use oxbase_core::App;
use serde_json::Value as Json;

use super::Caller;
use super::lists::{DEFAULT_BACK_LIMIT, ListArgs, list_page};
use super::rec::Rec;
use super::selection::{Info, MAX_EXPAND_DEPTH, Rel, RootField};

/// What a query selects, resolved against one version of the schema.
pub(super) struct Plan {
    roots: Vec<(String, Root)>,
    /// The operation's variables: their names and defaults.
    variables: Vec<(Name, Option<GqlValue>)>,
}

enum Root {
    Typename,
    List {
        coll: String,
        args: Vec<(Name, Arg)>,
        reads_total: bool,
        expand: String,
        list_type: String,
        fields: Vec<(String, PageField)>,
    },
    View {
        coll: String,
        id: Arg,
        expand: String,
        record: RecordSel,
    },
}

/// An argument as written: a value, or a variable's name.
#[derive(Clone)]
enum Arg {
    Value(GqlValue),
    Variable(Name),
}

enum PageField {
    Number(&'static str),
    Typename,
    Items(RecordSel),
}

struct RecordSel {
    type_name: String,
    fields: Vec<(String, RecordField)>,
}

enum RecordField {
    Typename,
    Value {
        name: String,
        list: bool,
    },
    Forward {
        field: String,
        many: bool,
        sel: RecordSel,
    },
    Back {
        key: String,
        limit: Option<Arg>,
        sel: RecordSel,
    },
}

const PAGE_NUMBERS: [&str; 6] = [
    "page",
    "perPage",
    "totalItems",
    "totalPages",
    "hasNextPage",
    "endCursor",
];

/// The plan of `operation` of `doc`, when all of it is plain.
pub(super) fn plan(doc: &ExecutableDocument, operation: Option<&str>, info: &Info) -> Option<Plan> {
    if !doc.fragments.is_empty() {
        return None;
    }
    let op = operation_of(doc, operation)?;
    if op.ty != OperationType::Query || !op.directives.is_empty() {
        return None;
    }
    let variables = op
        .variable_definitions
        .iter()
        .map(|v| {
            let default = v.node.default_value.as_ref().map(|d| d.node.clone());
            (v.node.name.node.clone(), default)
        })
        .collect();
    let mut roots = Vec::new();
    for field in fields_of(&op.selection_set.node)? {
        let root = match field.name.node.as_str() {
            "__typename" => Root::Typename,
            name => match info.roots.get(name)? {
                RootField::List(coll) => list_root(info, coll, field)?,
                RootField::View(coll) => view_root(info, coll, field)?,
            },
        };
        roots.push((response_key(field), root));
    }
    Some(Plan { roots, variables })
}

/// The operation the executor would run (async-graphql's choice, refusals left to it).
pub(super) fn operation_of<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Single(op), None) => Some(&op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        _ => None,
    }
}

/// The fields of a selection set, when it has only fields without directives, each response
/// key once (the executor would merge repeated keys).
fn fields_of(set: &SelectionSet) -> Option<Vec<&Field>> {
    let mut fields: Vec<&Field> = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let field = &field.node;
        let key = field.response_key().node.as_str();
        if !field.directives.is_empty()
            || fields.iter().any(|f| f.response_key().node.as_str() == key)
        {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

fn response_key(field: &Field) -> String {
    field.response_key().node.to_string()
}

/// The arguments as written; `None` when a variable sits inside a list or an object (none of
/// this schema's arguments takes one).
fn args_of(field: &Field) -> Option<Vec<(Name, Arg)>> {
    field
        .arguments
        .iter()
        .map(|(name, value)| {
            let mut variables = Vec::new();
            let constant = value.node.clone().into_const_with(|v| {
                variables.push(v);
                Ok::<_, ()>(GqlValue::Null)
            });
            let arg = match (constant.ok()?, variables.len()) {
                (value, 0) => Arg::Value(value),
                // Only a variable given as the whole argument becomes exactly null here.
                (GqlValue::Null, 1) => Arg::Variable(variables.pop()?),
                _ => return None,
            };
            Some((name.node.clone(), arg))
        })
        .collect()
}

fn list_root(info: &Info, coll: &str, field: &Field) -> Option<Root> {
    let args = args_of(field)?;
    let list_type = format!("{}List", info.types.get(coll)?);
    let mut fields = Vec::new();
    let mut expand = Vec::new();
    for f in fields_of(&field.selection_set.node)? {
        let name = f.name.node.as_str();
        let page_field = if name == "__typename" {
            PageField::Typename
        } else if name == "items" {
            let sel = record_sel(info, coll, f, 0, "", &mut expand)?;
            PageField::Items(sel)
        } else {
            PageField::Number(PAGE_NUMBERS.iter().find(|n| **n == name)?)
        };
        fields.push((response_key(f), page_field));
    }
    let reads_total = fields.iter().any(|(_, f)| {
        matches!(f, PageField::Number(n) if ["totalItems", "totalPages", "hasNextPage"].contains(n))
    });
    Some(Root::List {
        coll: coll.to_owned(),
        args,
        reads_total,
        expand: expand.join(","),
        list_type,
        fields,
    })
}

fn view_root(info: &Info, coll: &str, field: &Field) -> Option<Root> {
    let id = args_of(field)?
        .into_iter()
        .find(|(name, _)| name.as_str() == "id")?
        .1;
    let mut expand = Vec::new();
    let record = record_sel(info, coll, field, 0, "", &mut expand)?;
    Some(Root::View {
        coll: coll.to_owned(),
        id,
        expand: expand.join(","),
        record,
    })
}

/// The selection below a record of `coll` at expand `depth`; the relations it reads are added
/// to `expand` as `selection::walk` adds them (the resolvers' expand, path for path).
fn record_sel(
    info: &Info,
    coll: &str,
    field: &Field,
    depth: usize,
    prefix: &str,
    expand: &mut Vec<String>,
) -> Option<RecordSel> {
    let type_name = format!("{}Record", info.types.get(coll)?);
    let mut fields = Vec::new();
    for f in fields_of(&field.selection_set.node)? {
        let name = f.name.node.as_str();
        let record_field = if name == "__typename" {
            RecordField::Typename
        } else if let Some(value) = info.scalar(coll, name) {
            RecordField::Value {
                name: value.name.clone(),
                list: value.list,
            }
        } else {
            // Past the core's expand depth a relation is fetched record by record.
            if depth >= MAX_EXPAND_DEPTH {
                return None;
            }
            match info.rel(coll, name)? {
                Rel::Forward {
                    field,
                    target,
                    many,
                } => {
                    let path = format!("{prefix}{field}");
                    expand.push(path.clone());
                    let sel = record_sel(info, target, f, depth + 1, &format!("{path}."), expand)?;
                    RecordField::Forward {
                        field: field.clone(),
                        many: *many,
                        sel,
                    }
                }
                Rel::Back { source, field } => {
                    // A back-relation with its own filter or sort is a list of its own.
                    let own = f
                        .arguments
                        .iter()
                        .any(|(n, _)| n.node.as_str() == "filter" || n.node.as_str() == "sort");
                    if own {
                        return None;
                    }
                    let key = format!("{source}_via_{field}");
                    let path = format!("{prefix}{key}");
                    expand.push(path.clone());
                    let sel = record_sel(info, source, f, depth + 1, &format!("{path}."), expand)?;
                    let limit = args_of(f)?
                        .into_iter()
                        .find(|(n, _)| n.as_str() == "limit")
                        .map(|(_, a)| a);
                    RecordField::Back { key, limit, sel }
                }
            }
        };
        fields.push((response_key(f), record_field));
    }
    Some(RecordSel { type_name, fields })
}

/// The variables' values as the executor reads them: given, else the definition's default,
/// else null.
struct Variables<'a> {
    given: Option<&'a serde_json::Map<String, Json>>,
    plan: &'a Plan,
}

impl Variables<'_> {
    fn value(&self, arg: &Arg) -> Option<GqlValue> {
        match arg {
            Arg::Value(v) => Some(v.clone()),
            Arg::Variable(name) => {
                let (_, default) = self.plan.variables.iter().find(|(n, _)| n == name)?;
                match self.given.and_then(|g| g.get(name.as_str())) {
                    Some(v) => GqlValue::from_json(v.clone()).ok(),
                    None => Some(default.clone().unwrap_or(GqlValue::Null)),
                }
            }
        }
    }
}

/// The answer to `plan` for `caller` as the executor writes it (`{"data": …}`), or `None` when
/// the executor must answer (an error to report, a relation to fetch record by record).
pub(super) async fn answer(
    app: &App,
    caller: &Caller,
    plan: &Plan,
    variables: Option<&Json>,
) -> Option<Vec<u8>> {
    let vars = Variables {
        given: variables.and_then(Json::as_object),
        plan,
    };
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"data\":{");
    for (i, (key, root)) in plan.roots.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(&mut out, key);
        match root {
            Root::Typename => write_str(&mut out, "Query"),
            Root::List {
                coll,
                args,
                reads_total,
                expand,
                list_type,
                fields,
            } => {
                let args = list_args(&vars, args)?;
                let page = list_page(app, caller, coll, args, expand, *reads_total)
                    .await
                    .ok()?;
                out.push(b'{');
                for (j, (key, field)) in fields.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    write_key(&mut out, key);
                    match field {
                        PageField::Typename => write_str(&mut out, list_type),
                        PageField::Number(name) => write_value(&mut out, page.numbers.get(*name)),
                        PageField::Items(sel) => write_records(&mut out, &page.items, sel, &vars)?,
                    }
                }
                out.push(b'}');
            }
            Root::View {
                coll,
                id,
                expand,
                record,
            } => {
                let GqlValue::String(id) = vars.value(id)? else {
                    return None;
                };
                let json = app
                    .records()
                    .view(&caller.info, coll, &id, expand, "")
                    .await
                    .ok()?;
                write_record(&mut out, &Rec::new(json, 0), record, &vars)?;
            }
        }
    }
    out.extend_from_slice(b"}}");
    Some(out)
}

/// A list query's arguments as its resolver reads them.
fn list_args(vars: &Variables<'_>, args: &[(Name, Arg)]) -> Option<ListArgs> {
    let get = |name: &str| -> Option<GqlValue> {
        match args.iter().find(|(n, _)| n.as_str() == name) {
            Some((_, arg)) => vars.value(arg),
            None => Some(GqlValue::Null),
        }
    };
    let text = |name: &str| -> Option<String> {
        match get(name)? {
            GqlValue::Null => Some(String::new()),
            GqlValue::Number(n) => Some(n.to_string()),
            GqlValue::String(s) => Some(s),
            _ => None,
        }
    };
    Some(ListArgs {
        page: text("page")?,
        per_page: text("perPage")?,
        sort: text("sort")?,
        filter: text("filter")?,
        first: match get("first")? {
            GqlValue::Null => None,
            GqlValue::Number(n) => Some(n.as_i64()?),
            _ => return None,
        },
        after: match get("after")? {
            GqlValue::Null => None,
            GqlValue::String(s) => Some(s),
            _ => return None,
        },
    })
}

fn write_records(
    out: &mut Vec<u8>,
    records: &[Rec],
    sel: &RecordSel,
    vars: &Variables<'_>,
) -> Option<()> {
    out.push(b'[');
    for (i, rec) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_record(out, rec, sel, vars)?;
    }
    out.push(b']');
    Some(())
}

fn write_record(out: &mut Vec<u8>, rec: &Rec, sel: &RecordSel, vars: &Variables<'_>) -> Option<()> {
    out.push(b'{');
    for (i, (key, field)) in sel.fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(out, key);
        match field {
            RecordField::Typename => write_str(out, &sel.type_name),
            RecordField::Value { name, list } => {
                let value = rec.json.get(name);
                // A list type given anything but a list is the executor's error to report.
                if *list && !matches!(value, Some(Json::Array(_))) {
                    return None;
                }
                write_value(out, value);
            }
            RecordField::Forward { field, many, sel } => {
                let related = rec.expanded(field);
                match (many, related.first()) {
                    (true, _) => write_records(out, related, sel, vars)?,
                    (false, Some(one)) => write_record(out, one, sel, vars)?,
                    (false, None) => out.extend_from_slice(b"null"),
                }
            }
            RecordField::Back { key, limit, sel } => {
                // Came without `expand`: the resolver lists them itself.
                if !rec.has_expand() {
                    return None;
                }
                let limit = match limit.as_ref().map(|l| vars.value(l)) {
                    None => DEFAULT_BACK_LIMIT,
                    Some(v) => match v? {
                        GqlValue::Null => DEFAULT_BACK_LIMIT,
                        GqlValue::Number(n) => n.as_i64()?,
                        _ => return None,
                    },
                };
                let take = usize::try_from(limit.max(0)).unwrap_or(0);
                let related = rec.expanded(key);
                write_records(out, &related[..related.len().min(take)], sel, vars)?;
            }
        }
    }
    out.push(b'}');
    Some(())
}

fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// A record's or a page's value as the executor shows it (absent is null).
fn write_value(out: &mut Vec<u8>, value: Option<&Json>) {
    match value {
        None => out.extend_from_slice(b"null"),
        Some(v) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

/// The plan's shape, for tests: each root's key and kind.
#[cfg(test)]
pub(super) fn describe(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (key, root) in &plan.roots {
        let kind = match root {
            Root::Typename => "typename".to_owned(),
            Root::List { coll, expand, .. } => format!("list {coll} expand={expand}"),
            Root::View { coll, expand, .. } => format!("view {coll} expand={expand}"),
        };
        let _ = write!(out, "{key}: {kind}; ");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::selection::ValueField;

    /// posts (title, tags: several) -> teams; comments -> posts.
    fn info() -> Info {
        let mut info = Info::default();
        for (coll, prefix) in [
            ("posts", "Posts"),
            ("teams", "Teams"),
            ("comments", "Comments"),
        ] {
            info.types.insert(coll.into(), prefix.into());
            info.roots
                .insert(format!("{coll}List"), RootField::List(coll.into()));
            info.roots.insert(coll.into(), RootField::View(coll.into()));
        }
        let value = |name: &str, list: bool| {
            let field = ValueField {
                name: name.into(),
                list,
            };
            (name.to_owned(), field)
        };
        info.scalars.insert(
            "posts".into(),
            vec![
                value("id", false),
                value("title", false),
                value("tags", true),
                value("team", false),
            ],
        );
        info.scalars.insert(
            "teams".into(),
            vec![value("id", false), value("name", false)],
        );
        info.scalars.insert(
            "comments".into(),
            vec![value("id", false), value("post", false)],
        );
        let forward = Rel::Forward {
            field: "team".into(),
            target: "teams".into(),
            many: false,
        };
        info.rels
            .entry("posts".into())
            .or_default()
            .insert("team_rel".into(), forward);
        let back = Rel::Back {
            source: "comments".into(),
            field: "post".into(),
        };
        info.rels
            .entry("posts".into())
            .or_default()
            .insert("comments_via_post".into(), back);
        info
    }

    fn planned(query: &str, operation: Option<&str>) -> Option<String> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        plan(&doc, operation, &info()).map(|p| describe(&p))
    }

    #[test]
    fn plain_selections_are_planned_with_the_resolvers_expand() {
        assert_eq!(
            planned(
                "query($f: String) { __typename postsList(filter: $f) { totalItems items { id team_rel { name } \
                 c: comments_via_post(limit: 2) { id } } } one: posts(id: \"x\") { title } }",
                None,
            )
            .as_deref(),
            Some(
                "__typename: typename; postsList: list posts expand=team,comments_via_post; \
                 one: view posts expand=; "
            )
        );
        assert!(planned("query A { teamsList { items { name } } }", Some("A")).is_some());
        assert!(planned("query A { teamsList { items { name } } }", None).is_some());
    }

    #[test]
    fn what_the_executor_must_answer_is_not_planned() {
        for (query, operation) in [
            (
                "{ postsList { items { ...P } } } fragment P on PostsRecord { id }",
                None,
            ),
            ("{ postsList { items { id @include(if: true) } } }", None),
            (
                "{ postsList { items { comments_via_post(filter: \"\") { id } } } }",
                None,
            ),
            (
                "{ postsList { items { comments_via_post(sort: \"id\") { id } } } }",
                None,
            ),
            ("{ postsList { items { id id } } }", None),
            ("{ __schema { queryType { name } } }", None),
            ("mutation { deletePosts(id: \"x\") }", None),
            ("{ postsList(filter: [$x]) { totalItems } }", None),
            ("{ postsList { nope } }", None),
            ("{ teamsList { totalItems } }", Some("A")),
            (
                "query A { teamsList { totalItems } } query B { postsList { page } }",
                None,
            ),
        ] {
            assert!(planned(query, operation).is_none(), "{query}");
        }
    }
}
