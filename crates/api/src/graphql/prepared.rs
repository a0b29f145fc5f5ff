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

use super::direct::{self, Plan};
use super::selection::Info;

/// Longer query texts are not kept (the memory a kept entry may take).
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Entries kept at most in each map; past it the map starts over (clients have few queries).
const MAX_ENTRIES: usize = 512;

/// What is known of the queries run against one schema.
pub(super) struct Prepared {
    parsed: Mutex<HashMap<String, Arc<ExecutableDocument>>>,
    validated: Mutex<HashMap<String, Validated>>,
    info: Arc<Info>,
}

/// A validation that succeeded, and the direct plan of its query once asked for (`None`
/// inside: not plain, the executor answers).
struct Validated {
    result: ValidationResult,
    plan: Option<Option<Arc<Plan>>>,
}

impl Prepared {
    pub fn new(info: Arc<Info>) -> Prepared {
        Prepared {
            parsed: Mutex::default(),
            validated: Mutex::default(),
            info,
        }
    }

    /// The request's entry, when its query is short enough to be kept: handed to the
    /// extension through the request's data.
    pub fn entry(
        self: &Arc<Self>,
        query: &str,
        operation: Option<&str>,
        variables: Option<&serde_json::Value>,
    ) -> Option<Entry> {
        // A NUL would make two keys alike (an operation name cannot hold one).
        if query.len() > MAX_QUERY_BYTES || operation.is_some_and(|o| o.contains('\0')) {
            return None;
        }
        let variables = variables.map(|v| v.to_string()).unwrap_or_default();
        let validation_key = format!("{}\0{variables}\0{query}", operation.unwrap_or(""));
        Some(Entry {
            prepared: self.clone(),
            query_at: validation_key.len() - query.len(),
            operation_len: operation.map_or(0, str::len),
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
    /// The operation name's length: it starts the key.
    operation_len: usize,
}

impl Entry {
    fn query(&self) -> &str {
        &self.validation_key[self.query_at..]
    }

    fn operation(&self) -> Option<&str> {
        Some(&self.validation_key[..self.operation_len]).filter(|o| !o.is_empty())
    }

    /// The direct plan of a query validated before for the same operation and variables.
    pub fn plan(&self) -> Option<Arc<Plan>> {
        let prepared = &self.prepared;
        let mut validated = prepared.validated.lock();
        let known = validated.get_mut(&self.validation_key)?;
        if let Some(plan) = &known.plan {
            return plan.clone();
        }
        let doc = prepared.parsed.lock().get(self.query()).cloned()?;
        let plan = direct::plan(&doc, self.operation(), &prepared.info).map(Arc::new);
        known.plan = Some(plan.clone());
        plan
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
            return Ok(ExecutableDocument::clone(doc));
        }
        let doc = next.run(ctx, query, variables).await?;
        remember(
            &entry.prepared.parsed,
            entry.query().to_owned(),
            Arc::new(doc.clone()),
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
            return Ok(known.result);
        }
        let result = next.run(ctx).await?;
        remember(
            &entry.prepared.validated,
            entry.validation_key.clone(),
            Validated { result, plan: None },
        );
        Ok(result)
    }
}
