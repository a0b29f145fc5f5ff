//! The collections every oxbase starts with, and what views need to derive their fields.
//!
//! SQL: a view collection's query is probed as its author wrote it.

use oxbase_sql::Sql;
use serde_json::json;

use super::Schema;
use super::collection::{Collection, CollectionKind, autodate_fields};
use super::field::{Field, FieldKind};
use crate::error::{Error, Result};
use crate::store::Conn;

/// PB-COMPAT: the SDK recognises superusers by this fixed collection id.
pub const SUPERUSERS_ID: &str = "pbc_3142635823";
pub const SUPERUSERS: &str = "_superusers";
pub const USERS_ID: &str = "_pb_users_auth_";

/// Creates the system collections missing from a fresh database.
pub async fn bootstrap(schema: &Schema) -> Result<()> {
    // PB-COMPAT: the auth support collections PocketBase has, with its ids, rules and indexes.
    let defs: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("system_collections.json")).map_err(Error::internal)?;
    for def in defs {
        let name = def
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if schema.get(name).is_some() {
            continue;
        }
        let mut c = Collection::new(name, CollectionKind::Base);
        c.apply(&def, true)
            .map_err(|e| Error::internal(format!("system collection {name}: {e:?}")))?;
        c.id = def
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        schema.save(c, None).await?;
    }
    if schema.get(SUPERUSERS).is_none() {
        let mut c = Collection::new(SUPERUSERS, CollectionKind::Auth);
        c.id = SUPERUSERS_ID.into();
        c.system = true;
        c.fields.extend(autodate_fields(true));
        c.apply(&json!({"authToken": {"duration": 86400}}), true)
            .map_err(|_| Error::internal("superusers"))?;
        c.rules.insert("authRule".into(), json!(""));
        c.indexes.clear();
        c.apply(&json!({}), true)
            .map_err(|_| Error::internal("superusers"))?;
        schema.save(c, None).await?;
    }
    if schema.get("users").is_none() && schema.get(USERS_ID).is_none() {
        let mut c = Collection::new("users", CollectionKind::Auth);
        c.id = USERS_ID.into();
        c.fields
            .push(Field::new("name", FieldKind::Text).with("max", json!(255)));
        c.fields.push(Field::new("avatar", FieldKind::File).with(
            "mimeTypes",
            json!([
                "image/jpeg",
                "image/png",
                "image/svg+xml",
                "image/gif",
                "image/webp"
            ]),
        ));
        c.fields.extend(autodate_fields(false));
        let owner = json!("id = @request.auth.id");
        c.apply(
            &json!({
                "listRule": owner, "viewRule": owner, "createRule": "", "updateRule": owner, "deleteRule": owner,
                "oauth2": {"providers": [], "mappedFields": {"id": "", "name": "name", "username": "", "avatarURL": "avatar"}, "enabled": false},
            }),
            true,
        )
        .map_err(|_| Error::internal("users"))?;
        c.indexes.clear();
        c.apply(&json!({}), true)
            .map_err(|_| Error::internal("users"))?;
        schema.save(c, None).await?;
    }
    Ok(())
}

/// A view's fields come from its query's columns: `id` is the text primary key, a column named
/// like a field of the previous definition keeps that field, any other becomes a `json` field.
pub fn infer_view_fields(
    conn: &mut dyn Conn,
    c: &mut Collection,
    old: Option<&Collection>,
    known: &[std::sync::Arc<Collection>],
) -> Result<()> {
    let query = c
        .option_str("viewQuery")
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_owned();
    let lower = query.to_ascii_lowercase();
    if !(lower.starts_with("select") || lower.starts_with("with")) || query.contains(';') {
        return Err(Error::field(
            "viewQuery",
            "validation_invalid_view_query",
            "The view query must be a single SELECT statement.",
        ));
    }
    c.options.insert("viewQuery".into(), json!(query));
    let mut probe = Sql::raw("SELECT * FROM (");
    // PostgreSQL wants an alias on a subquery in FROM.
    probe.push(&query).push(") AS \"__view\" LIMIT 0");
    let columns = conn
        .query(&probe)
        .map_err(|_| {
            Error::field(
                "viewQuery",
                "validation_invalid_view_query",
                "The view query is invalid.",
            )
        })?
        .columns;
    if !columns.iter().any(|col| col == "id") {
        return Err(Error::field(
            "viewQuery",
            "validation_missing_view_id",
            "The view query must select an id column.",
        ));
    }
    let words: Vec<String> = lower
        .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .map(str::to_owned)
        .collect();
    let sources: Vec<&std::sync::Arc<Collection>> = known
        .iter()
        .filter(|k| k.kind != CollectionKind::View && words.contains(&k.name.to_ascii_lowercase()))
        .collect();
    let mut fields = Vec::with_capacity(columns.len());
    for col in columns.iter() {
        if col == "id" {
            fields.push(super::collection::id_field());
        } else if let Some(prev) = old.and_then(|o| o.field(col)).or_else(|| c.field(col)) {
            fields.push(prev.clone());
        } else if let Some(source) = sources.iter().find_map(|s| s.field(col)) {
            // A column named like a field of a collection the query reads takes that field's
            // type and options.
            let mut f = source.clone();
            f.system = false;
            f.id = super::field::default_field_id(f.kind, col);
            fields.push(f);
        } else if super::field::is_valid_name(col) {
            fields.push(Field::new(col, FieldKind::Json));
        }
    }
    c.fields = fields;
    Ok(())
}
