//! The record writes of the API, one call each: the caller's request gets `@request.body` from
//! the body being written here, once (a handler cannot forget it), then the result is shown as
//! the caller may see it.

use serde_json::{Map, Value as Json};

use super::Records;
use super::write::WriteInput;
use crate::error::{Error, Result};
use crate::rules::RequestInfo;

/// The `expand` and `fields` a written record is shown with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shown<'a> {
    pub expand: &'a str,
    pub fields: &'a str,
}

impl Records {
    /// `POST /api/collections/{collection}/records`.
    pub async fn create_shown(
        &self,
        req: RequestInfo,
        collection: &str,
        input: WriteInput,
        shown: Shown<'_>,
    ) -> Result<Json> {
        self.require_for_body(collection).await?;
        let req = with_body(req, input.body.clone());
        let record = self.create(&req, collection, input).await?;
        self.show(&req, record, shown).await
    }

    /// `PATCH /api/collections/{collection}/records/{id}`.
    pub async fn update_shown(
        &self,
        req: RequestInfo,
        collection: &str,
        id: &str,
        input: WriteInput,
        shown: Shown<'_>,
    ) -> Result<Json> {
        self.require_for_body(collection).await?;
        let req = with_body(req, input.body.clone());
        let record = self.update(&req, collection, id, input).await?;
        self.show(&req, record, shown).await
    }

    /// `DELETE /api/collections/{collection}/records/{id}`: the body is read as on create, so
    /// the delete rule's `@request.body.*` sees it, as in PocketBase.
    pub async fn delete_with_body(
        &self,
        req: RequestInfo,
        collection: &str,
        id: &str,
        input: WriteInput,
    ) -> Result<()> {
        let req = with_body(req, input.body);
        self.delete(&req, collection, id).await
    }

    /// PB-COMPAT: an unknown collection on create and update says "Missing or invalid
    /// collection context." (PocketBase's body-limit layer looks it up first).
    async fn require_for_body(&self, collection: &str) -> Result<()> {
        match self.schema.get_fresh(collection).await? {
            Some(_) => Ok(()),
            None => Err(Error::NotFound(
                "Missing or invalid collection context.".into(),
            )),
        }
    }

    async fn show(
        &self,
        req: &RequestInfo,
        record: super::Record,
        shown: Shown<'_>,
    ) -> Result<Json> {
        let shown = self
            .present(req, vec![record], shown.expand, shown.fields)
            .await?;
        Ok(shown.into_iter().next().unwrap_or_default())
    }
}

fn with_body(mut req: RequestInfo, body: Map<String, Json>) -> RequestInfo {
    req.body = body;
    req
}
