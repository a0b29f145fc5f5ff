//! `RecordResolver`: what the identifiers of a filter or rule mean for one collection and one
//! request. It turns them into SQL for the compiler in `oxbase-sql`:
//!
//! - `title`, `author.name` (relations become correlated subqueries), `comments_via_post.text`
//!   (back-relations), `tags` and other multi-value fields (sets of values), `data.a.b` (JSON
//!   paths), with the modifiers `:length`, `:lower`, `:each`;
//! - `@request.auth.*`, `@request.body.*` (`:isset`, `:changed`, `:length`...),
//!   `@request.query.*`, `@request.headers.*`, `@request.method`, `@request.context`;
//! - `@collection.name[:alias].*`, the date macros and `@rowid`.
//!
//! The main table is always aliased [`ROOT`]. `@collection` references share one scope per
//! name and alias: [`RecordResolver::finish`] wraps the compiled predicate so that all
//! references to `@collection.members` in one expression talk about the same joined row.
//!
//! SQL: the resolver is the compiler's back end for record fields: it writes the fragments the
//! compiler asks for (columns, correlated subqueries through relations, JSON paths), quoting
//! names through `Ident`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use oxbase_sql::ddl::ColumnKind;
use oxbase_sql::{
    Column, CompileError, Dialect, FieldResolver, Ident, Operand, Shared, Sql, ValueType,
};

use super::memo::Reads;
use super::request::RequestInfo;
use crate::schema::{Collection, CollectionKind, Field, FieldKind, Schema};
use request::{json_param, json_type};

mod relations;
mod request;

use relations::Walk;

/// The alias of the collection's table in every query the rules take part in.
pub const ROOT: &str = "__r";

/// Rules are trusted (written by superusers); client filters and sorts are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Rule,
    ClientFilter,
}

const MODIFIERS: [&str; 5] = ["isset", "changed", "length", "each", "lower"];
/// How many relation hops a path may take.
const MAX_HOPS: usize = 6;

/// A multi-valued path (`editors`, `comments_via_post`) joined once per expression: `rows`
/// selects the related rows, `used` says whether a `?` condition compared one.
struct Join {
    key: String,
    rows: Sql,
    alias: Ident,
    used: Cell<bool>,
}

pub struct RecordResolver<'a> {
    schema: &'a Schema,
    collection: Arc<Collection>,
    alias: String,
    request: &'a RequestInfo,
    purpose: Purpose,
    dialect: Dialect,
    now: DateTime<Utc>,
    counter: &'a Cell<usize>,
    /// `@collection` scopes: (name:alias key, table, SQL alias).
    scopes: RefCell<Vec<(String, Ident, Ident)>>,
    /// Multi-valued paths joined once per expression, for `?` operators ([`Shared`]).
    joins: RefCell<Vec<Join>>,
    /// What the compile read besides the definitions, shared with child resolvers.
    reads: Rc<RefCell<Reads>>,
    /// Compiling a create rule: the record does not exist yet.
    creating: bool,
}

impl<'a> RecordResolver<'a> {
    pub fn new(
        schema: &'a Schema,
        collection: Arc<Collection>,
        request: &'a RequestInfo,
        purpose: Purpose,
        dialect: Dialect,
        counter: &'a Cell<usize>,
    ) -> RecordResolver<'a> {
        RecordResolver {
            schema,
            collection,
            alias: ROOT.to_owned(),
            request,
            purpose,
            dialect,
            now: Utc::now(),
            counter,
            scopes: RefCell::new(Vec::new()),
            joins: RefCell::new(Vec::new()),
            reads: Rc::default(),
            creating: false,
        }
    }

    /// For a create rule: a back-relation from the record being created cannot be walked
    /// (PocketBase judges a create rule on a stand-in collection that nothing refers to, so
    /// such a rule never passes; see `hop_back_relation`).
    pub fn creating(mut self) -> Self {
        self.creating = true;
        self
    }

    /// The same request and purpose for another collection under another alias.
    fn child(
        &self,
        collection: Arc<Collection>,
        alias: &str,
        purpose: Purpose,
    ) -> RecordResolver<'a> {
        RecordResolver {
            schema: self.schema,
            collection,
            alias: alias.to_owned(),
            request: self.request,
            purpose,
            dialect: self.dialect,
            now: self.now,
            counter: self.counter,
            scopes: RefCell::new(Vec::new()),
            joins: RefCell::new(Vec::new()),
            reads: self.reads.clone(),
            creating: false,
        }
    }

    /// What the compiles so far read besides the definitions (for [`super::memo`]).
    pub fn reads(&self) -> Reads {
        self.reads.borrow().clone()
    }

    fn read_volatile(&self) {
        self.reads.borrow_mut().volatile = true;
    }

    fn read_auth_key(&self, key: &str) {
        let mut reads = self.reads.borrow_mut();
        if !reads.auth_keys.iter().any(|k| k == key) {
            reads.auth_keys.push(key.to_owned());
        }
    }

    /// Parses and compiles `expr` into a predicate on [`ROOT`] (or this resolver's alias).
    pub fn compile(&self, expr: &str) -> Result<Sql, CompileError> {
        // Rules are written by superusers and may be longer than a client's filter.
        let limits = match self.purpose {
            Purpose::Rule => oxbase_sql::filter::Limits::for_rules(),
            Purpose::ClientFilter => oxbase_sql::filter::Limits::default(),
        };
        let ast = match self.purpose {
            Purpose::Rule => parsed_rule(expr, limits)?,
            Purpose::ClientFilter => Arc::new(
                oxbase_sql::filter::parse_with(expr, limits)
                    .map_err(|e| CompileError::Invalid(e.to_string()))?,
            ),
        };
        let sql = oxbase_sql::compile_filter(&ast, self, self.dialect)?;
        Ok(self.finish(sql))
    }

    /// Wraps a compiled predicate in the `@collection` scopes it used.
    pub fn finish(&self, predicate: Sql) -> Sql {
        let scopes = self.scopes.borrow();
        let joins = self.joins.borrow();
        let joins: Vec<&Join> = joins.iter().filter(|j| j.used.get()).collect();
        if scopes.is_empty() && joins.is_empty() {
            return predicate;
        }
        // PB-COMPAT: PocketBase LEFT JOINs `@collection` tables onto the query; an EXISTS over
        // the same LEFT JOINs keeps its meaning (an empty table still yields one NULL row)
        // without multiplying the outer rows.
        let mut sql = Sql::raw("EXISTS (SELECT 1 FROM (SELECT 1) AS \"__d\"");
        for (_, table, alias) in scopes.iter() {
            sql.push(" LEFT JOIN ")
                .push_ident(table)
                .push(" AS ")
                .push_ident(alias)
                .push(" ON 1=1");
        }
        // PB-COMPAT: likewise the multi-valued paths the `?` conditions compare: PocketBase
        // joins each once, so those conditions talk about the same related row (a record
        // without any still yields one NULL row).
        for join in joins {
            sql.push(" LEFT JOIN (")
                .push_sql(&join.rows)
                .push(") AS ")
                .push_ident(&join.alias)
                .push(" ON 1=1");
        }
        sql.push(" WHERE ").push_sql(&predicate).push(")");
        sql
    }

    fn next_alias(&self, prefix: &str) -> Result<Ident, CompileError> {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        ident(&format!("__{prefix}{n}"))
    }

    fn untrusted(&self) -> bool {
        self.purpose == Purpose::ClientFilter && !self.request.auth.is_superuser()
    }

    fn forbidden(&self, what: &str) -> CompileError {
        CompileError::Forbidden(format!("{what} cannot be used in client filters or sorts"))
    }
}

/// Rules are parsed once and kept: they change only with the schema, and a rule is evaluated on
/// every request. A memo of a pure function (rule text → AST), bounded by clearing; client
/// filters are not kept, their variety is unbounded.
fn parsed_rule(
    expr: &str,
    limits: oxbase_sql::filter::Limits,
) -> Result<Arc<oxbase_sql::filter::Expr>, CompileError> {
    type Memo =
        parking_lot::Mutex<std::collections::HashMap<String, Arc<oxbase_sql::filter::Expr>>>;
    static MEMO: std::sync::OnceLock<Memo> = std::sync::OnceLock::new();
    let memo = MEMO.get_or_init(Memo::default);
    if let Some(ast) = memo.lock().get(expr) {
        return Ok(ast.clone());
    }
    let ast = Arc::new(
        oxbase_sql::filter::parse_with(expr, limits)
            .map_err(|e| CompileError::Invalid(e.to_string()))?,
    );
    let mut map = memo.lock();
    if map.len() >= 4096 {
        map.clear();
    }
    map.insert(expr.to_owned(), ast.clone());
    Ok(ast)
}

fn ident(name: &str) -> Result<Ident, CompileError> {
    Ident::new(name).ok_or_else(|| CompileError::UnknownField(name.to_owned()))
}

fn column(alias: &str, name: &str) -> Result<Sql, CompileError> {
    let mut sql = Sql::ident(&ident(alias)?);
    sql.push(".").push_ident(&ident(name)?);
    Ok(sql)
}

fn value_type(f: &Field) -> ValueType {
    match f.kind {
        FieldKind::Number => ValueType::Number,
        FieldKind::Bool => ValueType::Bool,
        FieldKind::Json | FieldKind::GeoPoint => ValueType::Json,
        _ => ValueType::Text,
    }
}

impl FieldResolver for RecordResolver<'_> {
    fn use_scope(&self, scope: usize) {
        if let Some(join) = self.joins.borrow().get(scope) {
            join.used.set(true);
        }
    }

    /// A field of the row itself stored in a `NOT NULL` column (text, number, bool, the id),
    /// or `@rowid`. Not on a view collection: a view's query may give NULL anywhere.
    fn never_null(&self, ident: &str) -> bool {
        if self.collection.kind == CollectionKind::View {
            return false;
        }
        ident == "@rowid"
            || self.collection.field(ident).is_some_and(|f| {
                matches!(
                    crate::schema::migrate::column_kind(f),
                    ColumnKind::PrimaryKey
                        | ColumnKind::Text
                        | ColumnKind::Number
                        | ColumnKind::Bool
                )
            })
    }

    fn resolve(&self, ident_text: &str) -> Result<Operand, CompileError> {
        let (path, modifier) = match ident_text.rsplit_once(':') {
            Some((p, m)) if MODIFIERS.contains(&m) => (p, Some(m)),
            _ => (ident_text, None),
        };
        if let Some(rest) = path.strip_prefix("@request.") {
            if self.untrusted() {
                return Err(self.forbidden("@request.*"));
            }
            return self.resolve_request(rest, modifier);
        }
        if let Some(rest) = path.strip_prefix("@collection.") {
            if self.untrusted() {
                return Err(self.forbidden("@collection.*"));
            }
            return self.resolve_collection(rest, modifier);
        }
        if path == "@rowid" {
            return Ok(Operand::Stored(Box::new(Operand::Single {
                sql: column(&self.alias, "_rowid_")?,
                ty: ValueType::Number,
            })));
        }
        if path.starts_with('@') {
            self.read_volatile();
            let value = super::macros::resolve(path, self.now)
                .ok_or_else(|| CompileError::UnknownField(path.to_owned()))?;
            return Ok(Operand::Single {
                sql: Sql::param(json_param(&value)),
                ty: json_type(&value),
            });
        }
        let walk = Walk {
            collection: self.collection.clone(),
            alias: self.alias.clone(),
            from: Vec::new(),
            conds: Vec::new(),
            multi: false,
            order: Vec::new(),
        };
        self.walk_path(walk, &path.split('.').collect::<Vec<_>>(), modifier)
    }
}

impl RecordResolver<'_> {
    /// Resolves `segments` from `walk`. A path through a multiple relation or a back-relation
    /// from this resolver's record also gets its [`Shared`] value: on the row of its last
    /// multi-valued hop, joined once per expression (see [`RecordResolver::finish`]).
    fn walk_path(
        &self,
        walk: Walk,
        segments: &[&str],
        modifier: Option<&str>,
    ) -> Result<Operand, CompileError> {
        let from_record = walk.alias == self.alias && walk.from.is_empty();
        let mut checkpoint = None;
        let operand = self.walk_hops(walk, segments, modifier, &mut checkpoint)?;
        match checkpoint {
            Some((i, cp)) if from_record => self.share(operand, segments, modifier, i, cp),
            _ => Ok(operand),
        }
    }

    /// Adds the [`Shared`] value to a multi-valued operand whose last multi-valued hop is
    /// `segments[i]`, `cp` the walk just after it.
    fn share(
        &self,
        operand: Operand,
        segments: &[&str],
        modifier: Option<&str>,
        i: usize,
        cp: Walk,
    ) -> Result<Operand, CompileError> {
        let key = segments[..=i].join(".");
        let existing = self.joins.borrow().iter().position(|j| j.key == key);
        let scope = match existing {
            Some(n) => n,
            None => {
                let alias = self.next_alias("s")?;
                let rows = cp.subquery(
                    &{
                        let mut all = Sql::ident(&ident(&cp.alias)?);
                        all.push(".*");
                        all
                    },
                    false,
                );
                let mut joins = self.joins.borrow_mut();
                joins.push(Join {
                    key,
                    rows,
                    alias,
                    used: Cell::new(false),
                });
                joins.len() - 1
            }
        };
        let alias = self.joins.borrow()[scope].alias.as_str().to_owned();
        let row = Walk {
            collection: cp.collection,
            alias,
            from: Vec::new(),
            conds: Vec::new(),
            multi: false,
            order: Vec::new(),
        };
        let single = self.walk_hops(row, &segments[i + 1..], modifier, &mut None)?;
        Ok(with_shared(operand, scope, &single))
    }

    fn walk_hops(
        &self,
        mut walk: Walk,
        segments: &[&str],
        modifier: Option<&str>,
        checkpoint: &mut Option<(usize, Walk)>,
    ) -> Result<Operand, CompileError> {
        if segments.len() > MAX_HOPS + 1 {
            return Err(CompileError::Invalid("the field path is too deep".into()));
        }
        let Some((last, hops)) = segments.split_last() else {
            return Err(CompileError::UnknownField(String::new()));
        };
        for (i, seg) in hops.iter().enumerate() {
            if let Some(field) = walk.collection.clone().field(seg) {
                self.check_field_access(field)?;
                match field.kind {
                    FieldKind::Relation => {
                        self.hop_relation(&mut walk, field)?;
                        if field.is_multi() {
                            *checkpoint = Some((i, walk.clone()));
                        }
                    }
                    FieldKind::Json => {
                        let base = column(&walk.alias, &field.name)?;
                        let path = json_path(&segments[i + 1..], modifier);
                        let path: Vec<&str> = path.iter().map(String::as_str).collect();
                        return self.finish_value(
                            &walk,
                            self.dialect.json_extract_value(&base, &path),
                            ValueType::JsonValue,
                            None,
                            false,
                        );
                    }
                    // `loc.lon`, `loc.lat`: the point's coordinates (JSON numbers).
                    // PB-COMPAT: a plain JSON_EXTRACT, as in PocketBase: no cast, no affinity
                    // (`loc.lat >= '0'` is false, `loc.lon ~ '.0'` does not match 1).
                    FieldKind::GeoPoint
                        if segments.len() == i + 2 && matches!(segments[i + 1], "lon" | "lat") =>
                    {
                        let base = column(&walk.alias, &field.name)?;
                        let path = json_path(&segments[i + 1..], modifier);
                        let path: Vec<&str> = path.iter().map(String::as_str).collect();
                        let value = self.dialect.json_extract_value(&base, &path);
                        return self.finish_value(&walk, value, ValueType::JsonValue, None, false);
                    }
                    _ => return Err(CompileError::UnknownField(segments.join("."))),
                }
            } else if let Some((coll, field)) = seg.split_once("_via_") {
                self.hop_back_relation(&mut walk, coll, field)?;
                *checkpoint = Some((i, walk.clone()));
            } else {
                return Err(CompileError::UnknownField(segments.join(".")));
            }
        }
        // PB-COMPAT: the last segment is a field; a back-relation there (`comments_via_post`,
        // `comments_via_post:length`) is an unknown field in PocketBase 0.40.6 (400).
        let field = walk
            .collection
            .field(last)
            .cloned()
            .ok_or_else(|| CompileError::UnknownField(segments.join(".")))?;
        self.check_field_access(&field)?;
        let col = column(&walk.alias, &field.name)?;
        let ty = value_type(&field);
        // PB-COMPAT: a multi-value field compares as its stored JSON text unless `:each`
        // asks for its elements (`tags ?= 'a'` matches nothing in PocketBase either).
        let list_like = modifier == Some("each") && field.is_multi();
        match modifier {
            // PB-COMPAT: a json field is `json_extract(x, '$')` in PocketBase (a bare string
            // without its quotes, `true` as 1, an object or array as its JSON text), and
            // `:each`/`:length` mean nothing on it: the whole value (`meta:each = 1` holds for
            // `true`, `meta:length` is the value, not a count).
            _ if field.kind == FieldKind::Json => {
                let modifier = modifier.filter(|m| *m == "lower");
                let value = self.dialect.json_document_value(&col);
                self.finish_value(&walk, value, ValueType::JsonValue, modifier, false)
            }
            Some("length") if field.is_multi() => {
                let len = self.dialect.json_array_length(&col);
                self.finish_value(&walk, len, ValueType::Number, None, false)
            }
            _ if list_like => {
                // typed elements, as SQLite's json_each gives them; its `value` is a column
                // without a type (BLOB affinity)
                let je = self.next_alias("j")?;
                walk.from.push(self.dialect.json_each_values_as(&col, &je));
                walk.multi = true;
                let value = Sql::qualified(&je, Column::Value);
                self.finish_value(&walk, value, ValueType::JsonValue, modifier, true)
            }
            // A geoPoint compares and sorts as its stored text, `{"lon":1,"lat":2}` (PocketBase's
            // plain column); PostgreSQL writes that text from its `jsonb`.
            _ if ty == ValueType::Json => match self.dialect {
                Dialect::Sqlite => self.finish_value(&walk, col, ty, modifier, true),
                Dialect::Postgres => {
                    let text = self.dialect.geo_point_text(&col);
                    self.finish_value(&walk, text, ValueType::Text, modifier, false)
                }
            },
            _ if stored_as_json(&field) => {
                self.finish_value(&walk, self.dialect.json_text(&col), ty, modifier, true)
            }
            _ if self.email_masked(&walk, &field) => {
                // PB-COMPAT: PocketBase ANDs `emailVisibility = TRUE` into every comparison
                // of an auth record's email (so does the mask), but sorts by the hidden
                // value, which reveals its order; a sort here sees NULL where it is hidden.
                let mut visible = Sql::raw("CASE WHEN ");
                visible
                    .push_sql(&column(&walk.alias, "emailVisibility")?)
                    .push(" THEN ")
                    .push_sql(&col)
                    .push(" END");
                let value = self.finish_value(&walk, visible, ty, modifier, false)?;
                Ok(Operand::Masked(Box::new(value)))
            }
            _ => self.finish_value(&walk, col, ty, modifier, true),
        }
    }

    /// An auth record's email is visible to a client filter or sort only where its owner set
    /// `emailVisibility` (superusers see every email; rules are trusted).
    fn email_masked(&self, walk: &Walk, field: &Field) -> bool {
        self.untrusted() && walk.collection.is_auth() && field.name == "email"
    }

    /// Makes the operand from the value expression at the end of a walk; `stored` says the
    /// value is a column's (SQLite compares it with the column's affinity, [`Operand::Stored`]).
    fn finish_value(
        &self,
        walk: &Walk,
        value: Sql,
        ty: ValueType,
        modifier: Option<&str>,
        stored: bool,
    ) -> Result<Operand, CompileError> {
        let value = match modifier {
            Some("lower") => {
                let text = match ty {
                    ValueType::JsonValue => self.dialect.json_value_text(&value),
                    ValueType::Json => self.dialect.json_text(&value),
                    _ => value,
                };
                self.dialect.lower(&text)
            }
            Some("isset") | Some("changed") => {
                return Err(CompileError::Invalid(format!(
                    ":{} applies to @request.body only",
                    modifier.unwrap_or("")
                )));
            }
            _ => value,
        };
        let lowered = modifier == Some("lower");
        let ty = if lowered { ValueType::Text } else { ty };
        let operand = if walk.from.is_empty() {
            Operand::Single { sql: value, ty }
        } else if walk.multi {
            Operand::Many {
                select: walk.subquery(&value, true),
                ty,
                first: walk.first(&value, self.dialect),
                shared: None,
            }
        } else {
            let mut s = Sql::raw("(");
            s.push_sql(&walk.subquery(&value, false)).push(" LIMIT 1)");
            Operand::Single { sql: s, ty }
        };
        Ok(if stored && !lowered {
            Operand::Stored(Box::new(operand))
        } else {
            operand
        })
    }

    fn check_field_access(&self, field: &Field) -> Result<(), CompileError> {
        if self.untrusted()
            && (field.hidden || field.kind == FieldKind::Password || field.name == "tokenKey")
        {
            return Err(self.forbidden(&format!("the hidden field {:?}", field.name)));
        }
        Ok(())
    }

    fn resolve_collection(
        &self,
        rest: &str,
        modifier: Option<&str>,
    ) -> Result<Operand, CompileError> {
        let (head, path) = rest
            .split_once('.')
            .ok_or_else(|| CompileError::UnknownField(format!("@collection.{rest}")))?;
        let (name, label) = head.split_once(':').unwrap_or((head, ""));
        let target = self
            .schema
            .get(name)
            .ok_or_else(|| CompileError::UnknownField(format!("@collection.{name}")))?;
        let key = format!("{}:{label}", target.name);
        let alias = {
            let existing = self
                .scopes
                .borrow()
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, _, a)| a.clone());
            match existing {
                Some(a) => a,
                None => {
                    let a = self.next_alias("c")?;
                    self.scopes
                        .borrow_mut()
                        .push((key, ident(&target.name)?, a.clone()));
                    a
                }
            }
        };
        let segments: Vec<&str> = path.split('.').collect();
        let walk = Walk {
            collection: target.clone(),
            alias: alias.as_str().to_owned(),
            from: Vec::new(),
            conds: Vec::new(),
            multi: false,
            order: Vec::new(),
        };
        let (operand, stored) = unstored(self.walk_path(walk, &segments, modifier)?);
        let scoped = match operand {
            // PB-COMPAT: a plain operator asks that EVERY row of the collection match, a `?`
            // operator that the shared row does: both are PocketBase's semantics.
            Operand::Single { sql: single, ty } => {
                let every_alias = self.next_alias("c")?;
                let table = Sql::aliased(&ident(&target.name)?, &every_alias);
                let walk = Walk {
                    collection: target,
                    alias: every_alias.as_str().to_owned(),
                    from: vec![table],
                    conds: Vec::new(),
                    multi: true,
                    order: Vec::new(),
                };
                match unstored(self.walk_path(walk, &segments, modifier)?).0 {
                    Operand::Many { select: every, .. } => Operand::Scoped { single, every, ty },
                    _ => Operand::Single { sql: single, ty },
                }
            }
            other => other,
        };
        Ok(if stored {
            Operand::Stored(Box::new(scoped))
        } else {
            scoped
        })
    }
}

/// `operand` (multi-valued) with the [`Shared`] value of `scope` taken from `single`, the same
/// path resolved on the shared row.
fn with_shared(operand: Operand, scope: usize, single: &Operand) -> Operand {
    fn value(op: &Operand) -> Option<&Sql> {
        match op {
            Operand::Single { sql, .. } => Some(sql),
            Operand::Masked(inner) | Operand::Stored(inner) => value(inner),
            _ => None,
        }
    }
    match operand {
        Operand::Many {
            select, ty, first, ..
        } => Operand::Many {
            select,
            ty,
            first,
            shared: value(single).map(|v| Shared {
                scope,
                value: v.clone(),
            }),
        },
        Operand::Masked(inner) => Operand::Masked(Box::new(with_shared(*inner, scope, single))),
        Operand::Stored(inner) => Operand::Stored(Box::new(with_shared(*inner, scope, single))),
        other => other,
    }
}

/// The operand inside an [`Operand::Stored`], and whether it was one.
fn unstored(operand: Operand) -> (Operand, bool) {
    match operand {
        Operand::Stored(inner) => (*inner, true),
        other => (other, false),
    }
}

/// The keys of a JSON path (`meta.a.b` → `a`, `b`).
// PB-COMPAT: PocketBase reads a modifier after a JSON path as part of the last key, without
// its colon (`meta.x:lower` is the key `xlower`, so NULL where there is none).
fn json_path(segments: &[&str], modifier: Option<&str>) -> Vec<String> {
    let mut path: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
    if let (Some(m), Some(last)) = (modifier, path.last_mut()) {
        last.push_str(m);
    }
    path
}

/// Whether a field's column holds JSON (JSONB on PostgreSQL).
fn stored_as_json(field: &Field) -> bool {
    field.is_multi() || matches!(field.kind, FieldKind::Json | FieldKind::GeoPoint)
}
