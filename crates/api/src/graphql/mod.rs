//! GraphQL over the live collections (`POST`/`GET /api/graphql`, docs/graphql.md).
//!
//! The schema is built from the collections with async-graphql's dynamic schema and cached
//! until the schema version moves. Every resolver calls the same `Records`/`AuthService`
//! methods as the REST handlers, with the caller's `RequestInfo`, so rules, hidden fields and
//! errors are REST's; nested relations are resolved for a whole page at once by the core's
//! `expand` (one query per relation and level), from what the query selects.

mod build;
mod cursor;
mod direct;
mod lists;
mod logins;
mod names;
mod prepared;
mod rec;
mod selection;
mod ws;

pub use ws::upgrade;

use std::sync::Arc;

use async_graphql::dynamic::Schema;
use async_graphql::{ErrorExtensions, Value as GqlValue};
use oxbase_core::App;
use oxbase_core::rules::RequestInfo;
use parking_lot::Mutex;
use serde_json::Value as Json;

use crate::error::ApiError;

/// Refusal limits of a query (`OXBASE_GRAPHQL_MAX_DEPTH`, `OXBASE_GRAPHQL_MAX_COMPLEXITY`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub depth: usize,
    pub complexity: usize,
}

impl Limits {
    /// Depth 12 leaves room for six levels of relations (PocketBase's expand depth) inside a
    /// list; complexity counts selected fields (1 each).
    pub fn from_env() -> Limits {
        let read = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Limits {
            depth: read("OXBASE_GRAPHQL_MAX_DEPTH", 12),
            complexity: read("OXBASE_GRAPHQL_MAX_COMPLEXITY", 2000),
        }
    }
}

/// The schema of the current collections, rebuilt when their version moves, with what is
/// known of the queries run against it.
#[derive(Clone, Default)]
pub struct Cache(Arc<Mutex<Option<Built>>>);

/// A schema, the collections' version it was built from, and its known queries.
struct Built {
    version: u64,
    schema: Schema,
    prepared: Arc<prepared::Prepared>,
}

impl Cache {
    pub fn schema(&self, app: &App) -> Result<Schema, ApiError> {
        self.current(app).map(|(schema, _)| schema)
    }

    fn current(&self, app: &App) -> Result<(Schema, Arc<prepared::Prepared>), ApiError> {
        let version = app.schema().version();
        let mut slot = self.0.lock();
        if let Some(built) = slot.as_ref()
            && built.version == version
        {
            return Ok((built.schema.clone(), built.prepared.clone()));
        }
        let (schema, info) = build::schema(app, Limits::from_env())
            .map_err(|e| ApiError(oxbase_core::Error::internal(format!("graphql schema: {e}"))))?;
        let prepared = Arc::new(prepared::Prepared::new(info));
        *slot = Some(Built {
            version,
            schema: schema.clone(),
            prepared: prepared.clone(),
        });
        Ok((schema, prepared))
    }
}

/// What a resolver knows of the request: the caller, and the raw `Authorization` header
/// (auth refresh re-reads the token).
#[derive(Clone)]
pub struct Caller {
    pub info: RequestInfo,
    pub authorization: String,
    pub ip: String,
}

/// A GraphQL request as sent (`query`, `variables`, `operationName`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    pub query: String,
    #[serde(default)]
    pub variables: Option<Json>,
    #[serde(default)]
    pub operation_name: Option<String>,
}

impl Query {
    fn request(&self) -> async_graphql::Request {
        let mut r = async_graphql::Request::new(self.query.clone());
        if let Some(v) = &self.variables {
            r = r.variables(async_graphql::Variables::from_json(v.clone()));
        }
        if let Some(name) = self.operation_name.as_deref().filter(|n| !n.is_empty()) {
            r = r.operation_name(name);
        }
        r
    }
}

/// The answer to a GraphQL request: the executor's, or one written directly (`direct`).
pub enum Answer {
    Executed(async_graphql::Response),
    Direct(Vec<u8>),
}

impl axum::response::IntoResponse for Answer {
    fn into_response(self) -> axum::response::Response {
        match self {
            Answer::Executed(response) => axum::Json(response).into_response(),
            Answer::Direct(body) => (
                [(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
        }
    }
}

/// Runs one GraphQL request for `caller`.
pub async fn execute(
    app: &App,
    cache: &Cache,
    caller: Caller,
    query: &Query,
) -> Result<Answer, ApiError> {
    let operation = query.operation_name.as_deref().filter(|n| !n.is_empty());
    let (schema, prepared) = cache.current(app)?;
    let entry = prepared.entry(&query.query, operation, query.variables.as_ref());
    if let Some(plan) = entry.as_ref().and_then(prepared::Entry::plan)
        && let Some(body) = direct::answer(app, &caller, &plan, query.variables.as_ref()).await
    {
        return Ok(Answer::Direct(body));
    }
    let run = |schema: Schema, entry: Option<prepared::Entry>| {
        let mut request = query.request().data(app.clone()).data(caller.clone());
        if let Some(entry) = entry {
            request = request.data(entry);
        }
        async move { schema.execute(request).await }
    };
    let mut response = run(schema, entry).await;
    // Refused before any resolver ran (an unknown collection or field, say): on a shared
    // (PostgreSQL) database another instance may have changed the collections a moment ago,
    // so reload them once and retry, as REST's `get_fresh` does on a miss.
    if !response.errors.is_empty() && response.data == GqlValue::Null {
        let before = app.schema().version();
        app.schema().refresh_if_shared().await.map_err(ApiError)?;
        if app.schema().version() != before {
            let (schema, prepared) = cache.current(app)?;
            let entry = prepared.entry(&query.query, operation, query.variables.as_ref());
            response = run(schema, entry).await;
        }
    }
    Ok(Answer::Executed(response))
}

/// Runs a GraphQL multipart request (files per the GraphQL multipart request spec) for
/// `caller`: `body` is the whole `multipart/form-data` body of type `content_type`.
pub async fn execute_multipart(
    app: &App,
    cache: &Cache,
    caller: Caller,
    content_type: &str,
    body: &[u8],
) -> Result<async_graphql::Response, ApiError> {
    let schema = cache.schema(app)?;
    let options = async_graphql::http::MultipartOptions::default().max_num_files(MAX_FILES);
    let request = async_graphql::http::receive_body(Some(content_type), body, options)
        .await
        .map_err(|_| ApiError::bad_request("Invalid GraphQL multipart request."))?
        .data(app.clone())
        .data(caller);
    Ok(schema.execute(request).await)
}

/// The most files one multipart request may carry.
const MAX_FILES: usize = 100;

/// The app and the caller a resolver runs for.
fn services<'a>(
    ctx: &async_graphql::dynamic::ResolverContext<'a>,
) -> async_graphql::Result<(&'a App, &'a Caller)> {
    Ok((ctx.ctx.data::<App>()?, ctx.ctx.data::<Caller>()?))
}

/// The largest body `POST /api/graphql` reads: the server's limit plus the file allowance of
/// the collection that allows the most (its file fields' `maxSize` x `maxSelect`), as REST
/// allows a record route.
pub fn body_limit(app: &App, max_body_bytes: usize) -> usize {
    let files = app
        .schema()
        .all()
        .iter()
        .map(|c| oxbase_core::records::validate::upload_allowance(c))
        .max()
        .unwrap_or(0);
    max_body_bytes.saturating_add(files)
}

/// A core error as a GraphQL error: REST's message, with its status and data in
/// `extensions`, so a client reads the same codes as over REST.
pub(crate) fn gql_error(e: oxbase_core::Error) -> async_graphql::Error {
    let (status, body) = ApiError(e).to_body();
    let message = body["message"].as_str().unwrap_or("").to_owned();
    let data = GqlValue::from_json(body["data"].clone()).unwrap_or(GqlValue::Null);
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("status", i32::from(status.as_u16()));
        ext.set("data", data.clone());
    })
}

/// The self-contained playground page (no request leaves the machine: no CDN).
pub const PLAYGROUND: &str = include_str!("playground.html");
