//! The collections API's logic: list, view, create, update, delete, truncate, import and
//! scaffolds, superusers only (each method checks its caller first: `rules::superusers_only`).
//!
//! SQL: the collections list filters `_collections` by fields of each stored definition.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::events::Action;
use crate::identity::Auth;
use crate::records::Records;
use crate::records::list::{ListParams, parse_bool, parse_int};
use crate::records::output;
use crate::rules::check::validate_rules;
use crate::rules::superusers_only;
use crate::schema::{Collection, CollectionKind, FieldKind, Schema};

mod import;
mod model_hooks;

use model_hooks::{Change, Via};
pub use model_hooks::{ModelHooks, SaveChange};

#[derive(Clone)]
pub struct Collections {
    schema: Schema,
    records: Records,
    /// Called after each change made through the API (`on_api_change`).
    listeners: Arc<parking_lot::RwLock<Vec<ChangeListener>>>,
    /// The application's hooks around every change of a definition (`on_model`).
    model: Arc<std::sync::OnceLock<Arc<dyn ModelHooks>>>,
}

/// A definition changed through the API (`POST`, `PATCH` or `DELETE /api/collections`): as it
/// was (`None`: created) and as it is now (`None`: deleted).
#[derive(Debug, Clone)]
pub struct DefinitionChange {
    pub old: Option<Arc<Collection>>,
    pub new: Option<Arc<Collection>>,
}

/// What `--automigrate` hangs on: called once the change committed; its error is the request's.
pub type ChangeListener = Arc<
    dyn Fn(DefinitionChange) -> std::pin::Pin<Box<dyn Future<Output = Result<()>> + Send>>
        + Send
        + Sync,
>;

/// Every API rule a collection can have; `authRule` and `manageRule` live in auth options.
const RULE_KEYS: [&str; 7] = [
    "listRule",
    "viewRule",
    "createRule",
    "updateRule",
    "deleteRule",
    "authRule",
    "manageRule",
];

fn rule_value<'a>(c: &'a Collection, key: &str) -> Option<&'a Json> {
    c.rules.get(key).or_else(|| c.options.get(key))
}

fn failed(action: &str, data: FieldErrors) -> Error {
    Error::BadRequest {
        message: format!("Failed to {action} collection."),
        data,
    }
}

/// Resolves the filterable keys of a collection definition (`name`, `type`, `system`...).
struct DefinitionResolver(oxbase_sql::Dialect);

impl oxbase_sql::FieldResolver for DefinitionResolver {
    fn resolve(
        &self,
        ident: &str,
    ) -> std::result::Result<oxbase_sql::Operand, oxbase_sql::CompileError> {
        use oxbase_sql::{Operand, Sql, ValueType};
        let ty = match ident {
            "id" | "name" | "type" | "created" | "updated" | "listRule" | "viewRule"
            | "createRule" | "updateRule" | "deleteRule" | "viewQuery" => ValueType::Text,
            "system" => ValueType::Bool,
            _ => return Err(oxbase_sql::CompileError::unknown_field(ident)),
        };
        let value = self.0.json_extract(&Sql::raw("\"data\""), &[ident]);
        // The JSON text of a boolean (PostgreSQL) must compare as a boolean.
        let sql = if ty == ValueType::Bool {
            self.0.cast(&value, oxbase_sql::dialect::SqlType::Boolean)
        } else {
            value
        };
        Ok(Operand::Single { sql, ty })
    }
}

/// A page of collections.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionPage {
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
    pub items: Vec<Json>,
}

impl Collections {
    /// A page of definitions as `GET /api/collections` answers it (superusers only), each
    /// item cut to `fields`.
    pub async fn list(&self, caller: &Auth, q: &ListParams<'_>) -> Result<Json> {
        superusers_only(caller)?;
        let (page, per_page, skip_total) = (
            parse_int(q.page)?,
            parse_int(q.per_page)?,
            parse_bool(q.skip_total)?,
        );
        let page = self
            .page(q.filter, q.sort, page, per_page, skip_total)
            .await?;
        let mut out = serde_json::to_value(page).unwrap_or_default();
        let picks = output::parse_fields(q.fields)?;
        if let Some(items) = out.get_mut("items").and_then(Json::as_array_mut) {
            for item in items.iter_mut() {
                *item = output::pick(item, &picks);
            }
        }
        Ok(out)
    }

    /// Lists definitions with PocketBase's filter, sort and paging.
    async fn page(
        &self,
        filter: &str,
        sort: &str,
        page: i64,
        per_page: i64,
        skip_total: bool,
    ) -> Result<CollectionPage> {
        use oxbase_sql::Sql;
        let dialect = self.schema.db().dialect();
        let resolver = DefinitionResolver(dialect);
        // PB-COMPAT: PocketBase's generic 400; the reason goes to the log only.
        let invalid = |e: String| {
            tracing::debug!(error = %e, "invalid collections filter or sort");
            Error::bad_request("Something went wrong while processing your request.")
        };
        let mut where_sql = Sql::new();
        if !filter.trim().is_empty() {
            let expr = oxbase_sql::filter::parse(filter).map_err(|e| invalid(e.to_string()))?;
            where_sql.push(" WHERE ").push_sql(
                &oxbase_sql::compile_filter(&expr, &resolver, dialect)
                    .map_err(|e| invalid(e.to_string()))?,
            );
        }
        let order = if sort.trim().is_empty() {
            Sql::raw("\"created\", \"name\"")
        } else {
            let items = oxbase_sql::sort::parse_sort(sort).map_err(|e| invalid(e.to_string()))?;
            oxbase_sql::compile_sort(&items, &resolver, dialect)
                .map_err(|e| invalid(e.to_string()))?
        };
        let page = page.max(1);
        let per_page = if per_page <= 0 {
            30
        } else {
            per_page.min(1000)
        };
        let mut select = Sql::raw("SELECT \"id\" FROM \"_collections\"");
        select
            .push_sql(&where_sql)
            .push(" ORDER BY ")
            .push_sql(&order)
            .push(" LIMIT ")
            .push_param(per_page)
            .push(" OFFSET ")
            // PB-COMPAT: as for records (`records::list`), a huge page wraps around.
            .push_param((page - 1).wrapping_mul(per_page).max(0));
        let mut count = Sql::raw("SELECT COUNT(*) FROM \"_collections\"");
        count.push_sql(&where_sql);
        let (ids, total) = self
            .schema
            .db()
            .read(move |conn| {
                let ids: Vec<String> = conn
                    .query(&select)?
                    .rows
                    .iter()
                    .map(|r| crate::store::text(&r[0]).to_owned())
                    .collect();
                let total = if skip_total {
                    -1
                } else {
                    match conn.query_scalar(&count)? {
                        Some(oxbase_sql::Value::Int(n)) => n,
                        _ => 0,
                    }
                };
                Ok((ids, total))
            })
            .await?;
        let items = ids
            .iter()
            .filter_map(|id| self.schema.get(id))
            .map(|c| c.to_json())
            .collect();
        let total_pages = if total < 0 {
            -1
        } else {
            (total + per_page - 1) / per_page
        };
        Ok(CollectionPage {
            page,
            per_page,
            total_items: total,
            total_pages,
            items,
        })
    }

    pub fn new(schema: Schema, records: Records) -> Collections {
        Collections {
            schema,
            records,
            listeners: Arc::default(),
            model: Arc::default(),
        }
    }

    /// Calls `listener` after every change of a definition made through the API, as
    /// PocketBase's `OnCollection{Create,Update,Delete}Request` hooks see them: not the changes
    /// the application makes itself (`*_direct`: migrations, hooks) nor imports.
    pub fn on_api_change(&self, listener: ChangeListener) {
        self.listeners.write().push(listener);
    }

    async fn announce(
        &self,
        old: Option<Arc<Collection>>,
        new: Option<Arc<Collection>>,
    ) -> Result<()> {
        let listeners = self.listeners.read().clone();
        for listener in listeners {
            listener(DefinitionChange {
                old: old.clone(),
                new: new.clone(),
            })
            .await?;
        }
        Ok(())
    }

    pub fn all(&self) -> Vec<Arc<Collection>> {
        self.schema.all()
    }

    /// One definition as `GET /api/collections/{collection}` shows it (superusers only).
    pub async fn view_as(&self, caller: &Auth, id_or_name: &str) -> Result<Arc<Collection>> {
        superusers_only(caller)?;
        self.view(id_or_name).await
    }

    /// One definition, sure to see every definition committed before the call.
    pub async fn view(&self, id_or_name: &str) -> Result<Arc<Collection>> {
        self.schema
            .get_fresh(id_or_name)
            .await?
            .ok_or_else(Error::not_found)
    }

    /// Creates a definition from `input`, the body as read or why it could not be (superusers
    /// only: PB-COMPAT, a guest learns of its 401 before anything about its body).
    pub async fn create(&self, caller: &Auth, input: Result<Json>) -> Result<Arc<Collection>> {
        superusers_only(caller)?;
        let (created, made) = self.create_via(&input?, Via::Api).await?;
        if made {
            self.announce(None, Some(created.clone())).await?;
        }
        Ok(created)
    }

    /// Creates a definition as the application itself (no caller to check, no listener told).
    pub async fn create_direct(&self, input: &Json) -> Result<Arc<Collection>> {
        Ok(self.create_via(input, Via::App).await?.0)
    }

    /// The definition created, and whether it was (a model hook may skip the change).
    async fn create_via(&self, input: &Json, via: Via) -> Result<(Arc<Collection>, bool)> {
        self.schema.refresh_if_shared().await?;
        let c = self.prepare_create(input, &[])?;
        let (this, schema) = (self.clone(), self.schema.clone());
        let save = |c| async move {
            schema
                .save(c, None)
                .await
                .map_err(|e| contextualize(e, "create"))
        };
        let redo = move |json: &Json| this.prepare_create(json, &[]);
        match self
            .with_model_hooks(Action::Create, via, c, redo, save)
            .await?
        {
            Change::Made(c) => Ok((c, true)),
            Change::Skipped(c) => Ok((Arc::new(c), false)),
        }
    }

    /// Updates a definition; `input` as on create (superusers only).
    pub async fn update(
        &self,
        caller: &Auth,
        id_or_name: &str,
        input: Result<Json>,
    ) -> Result<Arc<Collection>> {
        superusers_only(caller)?;
        let (old, updated, made) = self.replace(id_or_name, &input?, Via::Api).await?;
        if made {
            self.announce(Some(old), Some(updated.clone())).await?;
        }
        Ok(updated)
    }

    /// Updates a definition as the application itself.
    pub async fn update_direct(&self, id_or_name: &str, input: &Json) -> Result<Arc<Collection>> {
        Ok(self.replace(id_or_name, input, Via::App).await?.1)
    }

    /// Checks a definition as saving it would, without saving (`POST
    /// /api/collections/meta/validate`: the dashboard's check before a save). An `id` of an
    /// existing collection in `input` checks it as an update of that collection, anything else
    /// as a new one; the error is the one the save would answer.
    pub async fn validate(&self, caller: &Auth, input: Result<Json>) -> Result<()> {
        superusers_only(caller)?;
        let input = input?;
        self.schema.refresh_if_shared().await?;
        let existing = input
            .get("id")
            .and_then(Json::as_str)
            .filter(|id| self.schema.get(id).is_some_and(|c| c.id == *id));
        let (c, old, action) = match existing {
            Some(id) => {
                let (c, old) = self.prepare_update(id, &input, &[])?;
                (c, Some(old), "update")
            }
            None => (self.prepare_create(&input, &[])?, None, "create"),
        };
        self.schema
            .check_save(c, old)
            .await
            .map_err(|e| contextualize(e, action))
    }

    /// Applies `input` to a definition; the definition before and after, and whether it
    /// changed (a model hook may skip the change).
    async fn replace(
        &self,
        id_or_name: &str,
        input: &Json,
        via: Via,
    ) -> Result<(Arc<Collection>, Arc<Collection>, bool)> {
        self.schema.refresh_if_shared().await?;
        let (c, old) = self.prepare_update(id_or_name, input, &[])?;
        let (this, schema, previous) = (self.clone(), self.schema.clone(), old.clone());
        let save = |c| async move {
            schema
                .save(c, Some(previous))
                .await
                .map_err(|e| contextualize(e, "update"))
        };
        let id = old.id.clone();
        let redo = move |json: &Json| this.prepare_update(&id, json, &[]).map(|(c, _)| c);
        match self
            .with_model_hooks(Action::Update, via, c, redo, save)
            .await?
        {
            Change::Made(updated) => Ok((old, updated, true)),
            Change::Skipped(c) => Ok((old, Arc::new(c), false)),
        }
    }

    /// A new collection from a request body, checked against the schema and `pending` (other
    /// collections of the same import).
    /// PocketBase's id for a new collection: the checksum of its type and name, with 2, 3...
    /// appended while another collection has it.
    fn new_collection_id(&self, kind: &str, name: &str, pending: &[Collection]) -> String {
        let base = crate::ids::collection_id(kind, name);
        let taken = |id: &str| {
            self.schema.get(id).is_some_and(|c| c.id == id) || pending.iter().any(|c| c.id == id)
        };
        let mut id = base.clone();
        for n in 2..1000 {
            if !taken(&id) {
                break;
            }
            id = format!("{base}{n}");
        }
        id
    }

    fn prepare_create(&self, input: &Json, pending: &[Collection]) -> Result<Collection> {
        let obj = input.as_object().ok_or_else(|| {
            Error::bad_request("Failed to load the collection type data due to invalid formatting.")
        })?;
        let kind_str = obj.get("type").and_then(Json::as_str).unwrap_or("base");
        let Some(kind) = CollectionKind::parse(kind_str) else {
            let mut d = FieldErrors::new();
            d.insert(
                "type".into(),
                field_error_json("validation_in_invalid", "Must be a valid value."),
            );
            return Err(failed("create", d));
        };
        let name = obj.get("name").and_then(Json::as_str).unwrap_or("").trim();
        let mut c = Collection::new(name, kind);
        let given = obj
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty());
        // PB-COMPAT: the system indexes keep the name the checksum id gave them, as there.
        c.id = match given {
            Some(id) => id.to_owned(),
            None => {
                let id = self.new_collection_id(kind.as_str(), name, pending);
                for index in &mut c.indexes {
                    *index = index.replace(&c.id, &id);
                }
                id
            }
        };
        let mut errors = c.apply(input, false).err().unwrap_or_default();
        self.check(&c, None, pending, &mut errors);
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(failed("create", errors))
        }
    }

    fn prepare_update(
        &self,
        id_or_name: &str,
        input: &Json,
        pending: &[Collection],
    ) -> Result<(Collection, Arc<Collection>)> {
        let old = self.schema.get(id_or_name).ok_or_else(Error::not_found)?;
        let mut c = (*old).clone();
        let mut errors = c.apply(input, false).err().unwrap_or_default();
        if old.system && c.name != old.name {
            errors.insert(
                "name".into(),
                field_error_json(
                    "validation_collection_system_name_change",
                    "System collection name cannot be changed.",
                ),
            );
        }
        if old.system {
            // PB-COMPAT: the rules of system collections are fixed (an open `_superusers`
            // createRule would let anyone make themselves a superuser).
            for key in RULE_KEYS {
                if rule_value(&c, key) != rule_value(&old, key) {
                    errors.insert(
                        key.to_owned(),
                        field_error_json(
                            "validation_collection_system_rule_change",
                            "System collection API rule cannot be changed.",
                        ),
                    );
                }
            }
        }
        self.check(&c, Some(&old), pending, &mut errors);
        if errors.is_empty() {
            Ok((c, old))
        } else {
            Err(failed("update", errors))
        }
    }

    /// Drops a definition and its records (superusers only).
    pub async fn delete(&self, caller: &Auth, id_or_name: &str) -> Result<()> {
        superusers_only(caller)?;
        match self.remove(id_or_name, Via::Api).await? {
            Some(deleted) => self.announce(Some(deleted), None).await,
            None => Ok(()),
        }
    }

    /// Drops a definition and its records as the application itself.
    pub async fn delete_direct(&self, id_or_name: &str) -> Result<()> {
        self.remove(id_or_name, Via::App).await.map(|_| ())
    }

    /// Drops a definition; the one dropped.
    /// Deletes a definition; the one deleted (`None`: a model hook skipped the change).
    async fn remove(&self, id_or_name: &str, via: Via) -> Result<Option<Arc<Collection>>> {
        let c = self.view(id_or_name).await?;
        if c.system {
            return Err(Error::bad_request(
                "Failed to delete collection: system collections cannot be deleted.",
            ));
        }
        if let Some(other) = self.referrers(&c).first() {
            return Err(Error::bad_request(format!(
                "Failed to delete collection probably due to existing reference in {}.",
                other.name
            )));
        }
        let files = crate::files::Garbage {
            files: Vec::new(),
            dirs: vec![c.id.clone()],
        };
        let schema = self.schema.clone();
        let remove = |c: Collection| async move { schema.remove(Arc::new(c)).await };
        let same = (*c).clone();
        let unchanged = move |_: &Json| Ok(same);
        let removed = self
            .with_model_hooks(Action::Delete, via, (*c).clone(), unchanged, remove)
            .await?;
        if let Change::Skipped(_) = removed {
            return Ok(None);
        }
        // The collection's files go once its table is gone, never before (inside application
        // code's transaction: once that commits).
        let db = self.schema.db();
        if db.in_shared_transaction() {
            let (store, rt) = (
                self.records.files().clone(),
                tokio::runtime::Handle::current(),
            );
            db.when_settled(move |committed| {
                if committed {
                    rt.spawn(async move { store.collect(files).await });
                }
            });
        } else {
            self.records.files().collect(files).await;
        }
        Ok(Some(c))
    }

    /// Deletes every record of a definition (superusers only).
    pub async fn truncate(&self, caller: &Auth, id_or_name: &str) -> Result<()> {
        superusers_only(caller)?;
        let c = self.view(id_or_name).await?;
        if c.kind == CollectionKind::View {
            return Err(Error::bad_request("View collections cannot be truncated."));
        }
        self.records.truncate(&c).await
    }

    /// Blank collections of each kind, as the dashboard starts from (superusers only).
    pub fn scaffolds(&self, caller: &Auth) -> Result<Json> {
        superusers_only(caller)?;
        let mut out = Map::new();
        for kind in [
            CollectionKind::Auth,
            CollectionKind::Base,
            CollectionKind::View,
        ] {
            let mut c = Collection::new("", kind);
            c.id = String::new();
            if kind == CollectionKind::Auth {
                c.indexes = vec![
                    "CREATE UNIQUE INDEX `idx_tokenKey_{id}` ON `{name}` (`tokenKey`)".into(),
                    "CREATE UNIQUE INDEX `idx_email_{id}` ON `{name}` (`email`) WHERE `email` != ''".into(),
                ];
            }
            let mut json = c.to_json();
            if let Json::Object(m) = &mut json
                && kind == CollectionKind::View
            {
                m.insert("viewQuery".into(), json!(""));
            }
            out.insert(kind.as_str().into(), json);
        }
        Ok(Json::Object(out))
    }

    /// A new field of each type as the server makes it, every option at its default (superusers
    /// only; oxbase's, for the dashboard, which keeps no defaults of its own). Without `id` and
    /// `name`: a template.
    pub fn field_defaults(&self, caller: &Auth) -> Result<Json> {
        superusers_only(caller)?;
        let mut out = Map::new();
        for kind in FieldKind::ALL {
            let mut json = crate::schema::Field::new("", kind).to_json();
            if let Json::Object(m) = &mut json {
                m.remove("id");
                m.remove("name");
            }
            out.insert(kind.as_str().into(), json);
        }
        Ok(Json::Object(out))
    }

    /// Collections with a relation field pointing at `c`.
    fn referrers(&self, c: &Collection) -> Vec<Arc<Collection>> {
        self.schema
            .all()
            .into_iter()
            .filter(|o| {
                o.id != c.id
                    && o.fields
                        .iter()
                        .any(|f| f.kind == FieldKind::Relation && f.str_opt("collectionId") == c.id)
            })
            .collect()
    }

    /// Checks that need the other collections: the name, relation targets, rules.
    fn check(
        &self,
        c: &Collection,
        old: Option<&Collection>,
        pending: &[Collection],
        errors: &mut FieldErrors,
    ) {
        // A malformed name outranks the system name change reported before; the other name
        // errors come after it.
        if let Some(e) = crate::schema::field::collection_name_error(&c.name) {
            errors.insert("name".into(), e);
        } else if !errors.contains_key("name")
            && let Some(e) = self.name_conflict(c, old, pending)
        {
            errors.insert("name".into(), e);
        }
        if old.is_none() && self.schema.get(&c.id).is_some() {
            errors.insert(
                "id".into(),
                field_error_json("validation_not_unique", "Value must be unique."),
            );
        }
        let mut field_errors = Map::new();
        for (i, f) in c.fields.iter().enumerate() {
            if f.kind == FieldKind::Relation {
                let target = f.str_opt("collectionId");
                if target != c.id
                    && self.schema.get(target).is_none()
                    && !pending.iter().any(|p| p.id == target)
                {
                    field_errors.insert(i.to_string(), json!({"collectionId": field_error_json("validation_missing_collection", "The related collection doesn't exist.")}));
                }
            }
        }
        if !field_errors.is_empty() {
            errors
                .entry("fields".into())
                .or_insert(Json::Object(field_errors));
        }
        if c.kind == CollectionKind::View && c.option_str("viewQuery").trim().is_empty() {
            errors.insert(
                "viewQuery".into(),
                field_error_json("validation_required", "Cannot be blank."),
            );
        }
        if c.kind == CollectionKind::View {
            // Views have no records to create, update or delete: those rules stay null (before
            // any other check of these rules, as in PocketBase).
            for key in ["createRule", "updateRule", "deleteRule"] {
                if c.rules.get(key).is_some_and(|r| !r.is_null()) {
                    errors.insert(
                        key.to_owned(),
                        field_error_json("validation_nil", "Must be blank."),
                    );
                }
            }
        }
        // Rules of a collection that is not saved yet are checked with it in the cache view.
        if c.kind != CollectionKind::View || old.is_some() {
            for (k, v) in validate_rules(&self.schema, c) {
                errors.entry(k).or_insert(v);
            }
        }
    }
}

impl Collections {
    /// The first of PocketBase's checks of a well-formed name that fails, in its order: unique
    /// among names, then among ids, then not a name the database keeps for itself.
    fn name_conflict(
        &self,
        c: &Collection,
        old: Option<&Collection>,
        pending: &[Collection],
    ) -> Option<Json> {
        let is_other = |id: &str| old.is_none_or(|o| o.id != id);
        let all = self.schema.all();
        let taken = all
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name) && is_other(&o.id))
            || pending
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&c.name) && p.id != c.id);
        if taken {
            return Some(field_error_json(
                "validation_collection_name_exists",
                "Collection name must be unique (case insensitive).",
            ));
        }
        let an_id = all.iter().any(|o| o.id == c.name && is_other(&o.id))
            || pending.iter().any(|p| p.id == c.name && p.id != c.id);
        if an_id {
            return Some(field_error_json(
                "validation_collection_name_id_duplicate",
                "The name must not match an existing collection id.",
            ));
        }
        let renamed = old.is_none_or(|o| o.name != c.name);
        if renamed && crate::schema::migrate::reserved_table_name(&c.name) {
            return Some(field_error_json(
                "validation_collection_name_invalid",
                "The name shouldn't match with an existing internal table.",
            ));
        }
        None
    }
}

/// A failure raised while saving (DDL, view query) keeps its field errors under the action's
/// message.
fn contextualize(e: Error, action: &str) -> Error {
    match e {
        Error::BadRequest { data, .. } if !data.is_empty() => failed(action, data),
        Error::Store(e) if e.kind.is_constraint() => {
            let mut d = FieldErrors::new();
            d.insert(
                "indexes".into(),
                field_error_json("validation_invalid_index", "The index cannot be created."),
            );
            failed(action, d)
        }
        other => other,
    }
}
