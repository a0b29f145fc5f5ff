//! Queries seen before, for one version of the schema: the parsed document of a query text,
//! and what validating it answered for the same operation and variables. Clients send the
//! same few query texts again and again; parsing and validating one cost about a tenth of a
//! list of 50 records (measured), the same each time.
//!
//! Validation depends on the variables' values (an argument's type is checked against the
//! value a variable brings), so a validation is reused only for equal variables; a parsed
//! document does not depend on them. Only successes are kept: a refused query is refused
//! again, with its own errors, by the full path.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use parking_lot::Mutex;

/// Longer query texts are not kept (the memory a kept entry may take).
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Entries kept at most in each map; past it the map starts over (clients have few queries).
const MAX_ENTRIES: usize = 512;

/// What is known of the queries run against one schema.
#[derive(Default)]
pub(super) struct Prepared {
    parsed: Mutex<HashMap<String, ExecutableDocument>>,
    validated: Mutex<HashMap<String, ValidationResult>>,
}

impl Prepared {
    /// The request's entry, when its query is short enough to be kept: handed to the
    /// extension through the request's data.
    pub fn entry(
        self: &Arc<Self>,
        query: &str,
        operation: Option<&str>,
        variables: Option<&serde_json::Value>,
    ) -> Option<Entry> {
        if query.len() > MAX_QUERY_BYTES {
            return None;
        }
        let variables = variables.map(|v| v.to_string()).unwrap_or_default();
        let validation_key = format!("{}\0{variables}\0{query}", operation.unwrap_or(""));
        Some(Entry {
            prepared: self.clone(),
            query_at: validation_key.len() - query.len(),
            validation_key,
        })
    }
}

fn remember<V>(map: &Mutex<HashMap<String, V>>, key: String, value: V) {
    let mut map = map.lock();
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

/// One request's keys into [`Prepared`]: the validation's key, which ends with the query text
/// (the parsed document's key), from `query_at`.
pub(super) struct Entry {
    prepared: Arc<Prepared>,
    validation_key: String,
    query_at: usize,
}

impl Entry {
    fn query(&self) -> &str {
        &self.validation_key[self.query_at..]
    }
}

/// The schema's extension that answers parsing and validation from [`Prepared`] when the
/// request carries an [`Entry`].
pub(super) struct Memo;

impl ExtensionFactory for Memo {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Memo)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Memo {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let Some(entry) = ctx.data_opt::<Entry>() else {
            return next.run(ctx, query, variables).await;
        };
        if let Some(doc) = entry.prepared.parsed.lock().get(entry.query()) {
            return Ok(doc.clone());
        }
        let doc = next.run(ctx, query, variables).await?;
        remember(
            &entry.prepared.parsed,
            entry.query().to_owned(),
            doc.clone(),
        );
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let Some(entry) = ctx.data_opt::<Entry>() else {
            return next.run(ctx).await;
        };
        if let Some(known) = entry.prepared.validated.lock().get(&entry.validation_key) {
            return Ok(*known);
        }
        let result = next.run(ctx).await?;
        remember(
            &entry.prepared.validated,
            entry.validation_key.clone(),
            result,
        );
        Ok(result)
    }
}
