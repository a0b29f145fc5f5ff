//! The OpenAPI 3.1 document assembled: info, the auth scheme, the `frame` (errors, query
//! parameters), the system paths and each visible collection's paths and schemas.

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::frame::{base_schemas, error_responses, parameters};
use super::system::{SYSTEM_PATHS, operation};
use super::{Audience, collection_paths, schemas, visible};
use crate::schema::Collection;

const INTRO: &str = "The HTTP API of this oxbase app (PocketBase-compatible), generated from its live collections.\n\n\
Authenticate by sending a record's token (from an `auth-with-*` endpoint) in the `Authorization` header, as is: \
no `Bearer` prefix is needed (one is accepted).\n\n\
Every error answers `{status, message, data}`; validation errors (400) carry, in `data`, one `{code, message, params?}` per field.\n\n\
Superusers see every collection and operation in this document; guests and other users see the collections \
whose list or view rule is not superuser-only, without hidden fields or superuser-only operations.";

/// The whole document for `audience`.
pub fn document(all: &[Arc<Collection>], audience: Audience) -> Json {
    let shown = visible(all, audience);
    let mut paths = Map::new();
    for endpoint in SYSTEM_PATHS {
        let item = paths.entry(endpoint.path).or_insert_with(|| json!({}));
        item[endpoint.method] = operation(endpoint);
    }
    let mut component_schemas = base_schemas();
    for c in &shown {
        collection_paths::add(&mut paths, c, audience);
        let expand = schemas::expand(c, all, audience);
        let expand_name = schemas::component(c, "Expand");
        component_schemas.insert(
            schemas::component(c, "Record"),
            schemas::output(c, audience, Some(schemas::reference(&expand_name))),
        );
        component_schemas.insert(expand_name, expand);
        if c.kind != crate::schema::CollectionKind::View {
            for (suffix, create, multipart) in [
                ("Create", true, false),
                ("CreateForm", true, true),
                ("Update", false, false),
                ("UpdateForm", false, true),
            ] {
                component_schemas.insert(
                    schemas::component(c, suffix),
                    schemas::input(c, create, multipart),
                );
            }
        }
    }
    let mut tags: Vec<Json> = [
        "Health",
        "Docs",
        "Collections",
        "Records",
        "Auth",
        "Files",
        "Realtime",
        "Batch",
        "Settings",
        "Logs",
        "Backups",
        "Crons",
        "SQL",
        "Webhooks",
        "Brokers",
        "Mail",
        "GraphQL",
        "Metrics",
    ]
    .iter()
    .map(|t| json!({"name": t}))
    .collect();
    for c in &shown {
        tags.push(json!({"name": collection_paths::tag(c), "description": format!("Records of the {} collection `{}`.", c.kind.as_str(), c.name)}));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "oxbase API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INTRO,
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "pbAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "A record's auth token, as is (PocketBase style: no `Bearer` prefix needed).",
                }
            },
            "parameters": parameters(),
            "responses": error_responses(),
            "schemas": component_schemas,
        },
    })
}
