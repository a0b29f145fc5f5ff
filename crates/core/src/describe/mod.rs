//! The API describing itself, generated from the live collections: the OpenAPI 3.1 document
//! (`openapi`, assembled from the `frame`, `system` paths, `collection_paths` and the `schemas`
//! of records),
//! a JSON Schema per collection, and TypeScript types for the official SDK (`typescript`).
//!
//! What a caller is shown depends on who asks ([`Audience`]): superusers see every collection,
//! field and operation; guests and regular users see only the collections whose list or view
//! rule is not superuser-only, without hidden fields and without the operations whose rule is
//! superuser-only. The documents are cached per audience and rebuilt when the schema's version
//! changes (every committed change of a collection bumps it).
//!
//! This module owns no policy of its own beyond that visibility choice (docs/openapi.md): the
//! rules themselves are checked by the services when the documented endpoints are called.

mod collection_paths;
mod frame;
mod openapi;
mod schemas;
mod system;
mod typescript;

use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::schema::{Collection, Schema};

pub use frame::FILTER_LANGUAGE;
pub use openapi::document;
pub use system::SYSTEM_PATHS;
pub use typescript::typescript;

/// Who a document is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every collection, hidden field and operation.
    Superusers,
    /// Guests and regular users: collections with a list or view rule that is not
    /// superuser-only, no hidden fields, no superuser-only operations.
    Public,
}

impl Audience {
    pub fn of(auth: &Auth) -> Audience {
        if auth.is_superuser() {
            Audience::Superusers
        } else {
            Audience::Public
        }
    }

    fn index(self) -> usize {
        match self {
            Audience::Superusers => 0,
            Audience::Public => 1,
        }
    }

    /// Whether `collection` is shown at all.
    pub fn sees(self, collection: &Collection) -> bool {
        match self {
            Audience::Superusers => true,
            Audience::Public => {
                collection.rule("listRule").is_some() || collection.rule("viewRule").is_some()
            }
        }
    }

    /// Whether an operation guarded by the rule `name` of `collection` is shown.
    fn may_call(self, collection: &Collection, rule: &str) -> bool {
        self == Audience::Superusers || collection.rule(rule).is_some()
    }
}

/// The collections `audience` sees, oldest first.
fn visible(all: &[Arc<Collection>], audience: Audience) -> Vec<Arc<Collection>> {
    all.iter().filter(|c| audience.sees(c)).cloned().collect()
}

/// A serialized document and the schema version it was written from.
type Cached = (u64, Arc<str>);

/// The documents, cached per audience and schema version.
#[derive(Clone)]
pub struct Describe {
    schema: Schema,
    /// The serialized OpenAPI document per audience, with the schema version it was built from.
    openapi: Arc<RwLock<[Option<Cached>; 2]>>,
}

impl Describe {
    pub fn new(schema: Schema) -> Describe {
        Describe {
            schema,
            openapi: Arc::default(),
        }
    }

    /// The OpenAPI document as `auth` may see it, serialized.
    pub fn openapi(&self, auth: &Auth) -> Arc<str> {
        let audience = Audience::of(auth);
        // Read the version before the collections: a change in between makes the entry stale
        // at once rather than cached as current.
        let version = self.schema.version();
        if let Some((v, doc)) = &self.openapi.read()[audience.index()]
            && *v == version
        {
            return doc.clone();
        }
        let doc: Arc<str> = document(&self.schema.all(), audience).to_string().into();
        self.openapi.write()[audience.index()] = Some((version, doc.clone()));
        doc
    }

    /// The JSON Schema (2020-12) of a record of `collection` as `auth` sees it; a collection
    /// `auth` may not see is PocketBase's 404.
    pub fn json_schema(&self, auth: &Auth, collection: &str) -> Result<Json> {
        let audience = Audience::of(auth);
        let found = self
            .schema
            .get(collection)
            .filter(|c| audience.sees(c))
            .ok_or_else(|| Error::NotFound("Missing collection context.".into()))?;
        Ok(schemas::standalone(&found, audience))
    }

    /// The TypeScript types of every collection (superusers only: they describe hidden fields).
    pub fn typescript(&self, auth: &Auth) -> Result<String> {
        crate::rules::superusers_only(auth)?;
        Ok(typescript(&self.schema.all()))
    }
}
