//! `PUT /api/collections/import`: many definitions saved as one change.

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::{Collections, Via};
use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::events::Action;
use crate::identity::Auth;
use crate::rules::superusers_only;
use crate::schema::Collection;

impl Collections {
    /// `PUT /api/collections/import` with `body` as read, or why it could not be (superusers
    /// only, checked first): `{collections, deleteMissing}`.
    pub async fn import(&self, caller: &Auth, body: Result<Json>) -> Result<()> {
        superusers_only(caller)?;
        let body = body?;
        let list = body.get("collections").unwrap_or(&Json::Null);
        let delete_missing = body
            .get("deleteMissing")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        self.import_list(list, delete_missing).await
    }

    /// Creates or replaces the given collections; with `delete_missing`, drops the others
    /// (PocketBase's `app.importCollections`, as the application itself).
    pub async fn import_direct(&self, input: &Json, delete_missing: bool) -> Result<()> {
        self.import_list(input, delete_missing).await
    }

    async fn import_list(&self, input: &Json, delete_missing: bool) -> Result<()> {
        self.schema.refresh_if_shared().await?;
        let list = input.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
            let mut d = FieldErrors::new();
            d.insert(
                "collections".into(),
                field_error_json("validation_required", "Cannot be blank."),
            );
            Error::BadRequest {
                message: "An error occurred while validating the submitted data.".into(),
                data: d,
            }
        })?;
        let import_failure = |e: Error| {
            import_error(format!(
                "Failed to import the collections configuration. Raw error:\n{e}"
            ))
        };
        // Every item is checked before anything is saved, so an invalid import changes nothing.
        let mut planned: Vec<(Collection, Option<Arc<Collection>>)> =
            Vec::with_capacity(list.len());
        for item in list {
            let id = item.get("id").and_then(Json::as_str).unwrap_or("");
            let name = item.get("name").and_then(Json::as_str).unwrap_or("");
            let pending: Vec<Collection> = planned.iter().map(|(c, _)| c.clone()).collect();
            let (id, prepared) = match self.schema.get(id).or_else(|| self.schema.get(name)) {
                Some(old) => (
                    old.id.clone(),
                    self.prepare_update(&old.id, item, &pending)
                        .map(|(c, old)| (c, Some(old))),
                ),
                None => {
                    // The new collection's id is chosen first, for the error to name it.
                    let mut item = item.clone();
                    let id = match item.get("id").and_then(Json::as_str) {
                        Some(id) if !id.is_empty() => id.to_owned(),
                        _ => {
                            let kind = item.get("type").and_then(Json::as_str).unwrap_or("base");
                            self.new_collection_id(kind, name.trim(), &pending)
                        }
                    };
                    if let Json::Object(m) = &mut item {
                        m.insert("id".into(), json!(id));
                    }
                    (id, self.prepare_create(&item, &pending).map(|c| (c, None)))
                }
            };
            planned.push(prepared.map_err(|e| match e {
                Error::BadRequest { data, .. } if !data.is_empty() => import_error(format!(
                    "Data validations failed for collection {:?} ({id}):\n{}.",
                    name,
                    raw_messages(&data)
                )),
                other => import_failure(other),
            })?);
        }
        let mut seen = Vec::new();
        for (c, old) in planned {
            seen.push(c.id.clone());
            let action = match old {
                Some(_) => Action::Update,
                None => Action::Create,
            };
            let (this, previous) = (self.clone(), old.clone());
            let redo = move |json: &Json| match &previous {
                Some(old) => this.prepare_update(&old.id, json, &[]).map(|(c, _)| c),
                None => this.prepare_create(json, &[]),
            };
            let schema = self.schema.clone();
            let save = |c| async move { schema.save(c, old).await };
            self.with_model_hooks(action, Via::App, c, redo, save)
                .await
                .map_err(import_failure)?;
        }
        if delete_missing {
            // Referenced collections go after the ones referencing them, as in PocketBase, and
            // collections views read after those views; a reference from a collection that
            // stays still refuses the deletion.
            let all = self.schema.all();
            let mut missing: Vec<Arc<Collection>> = all
                .iter()
                .filter(|c| !c.system && !seen.contains(&c.id))
                .cloned()
                .collect();
            while !missing.is_empty() {
                let next = missing.iter().position(|c| {
                    let views = crate::schema::migrate::readers(&c.name, &c.id, &all);
                    let blockers = self.referrers(c).into_iter().map(|r| r.id.clone());
                    blockers
                        .chain(views.into_iter().map(|v| v.id))
                        .all(|r| !missing.iter().any(|m| m.id == r))
                });
                let c = missing.remove(next.unwrap_or(0));
                self.remove(&c.id, Via::App).await.map_err(import_failure)?;
            }
        }
        Ok(())
    }
}

/// PocketBase's answer to an import that fails: the reason under `collections`.
fn import_error(message: String) -> Error {
    let mut data = FieldErrors::new();
    data.insert(
        "collections".into(),
        field_error_json("validation_collections_import_failure", message),
    );
    Error::BadRequest {
        message: "Failed to import collections.".into(),
        data,
    }
}

/// Field errors as PocketBase prints them inside an import failure: its validator's own
/// messages (lower case, no final period), nested as the errors are, indented JSON.
fn raw_messages(data: &FieldErrors) -> String {
    fn raw(v: &Json) -> Json {
        match (v.get("code"), v.get("message").and_then(Json::as_str)) {
            (Some(_), Some(message)) => {
                let message = message.strip_suffix('.').unwrap_or(message);
                let mut chars = message.chars();
                let first = chars.next().map(|c| c.to_lowercase().to_string());
                json!(first.unwrap_or_default() + chars.as_str())
            }
            _ => match v {
                Json::Object(m) => {
                    Json::Object(m.iter().map(|(k, v)| (k.clone(), raw(v))).collect())
                }
                other => other.clone(),
            },
        }
    }
    let all: Map<String, Json> = data.iter().map(|(k, v)| (k.clone(), raw(v))).collect();
    serde_json::to_string_pretty(&all).unwrap_or_default()
}
