//! The endpoints every app has, whatever its collections: one row each. `tests/api/openapi.rs`
//! checks that every route of the router (`crates/api/src/lib.rs`) has its row here.

use serde_json::{Map, Value as Json, json};

pub use super::frame::Access;

/// The request body an endpoint takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// A JSON object (the fields are named in the summary's description).
    Json,
    /// A multipart form, or JSON.
    Multipart,
}

/// What a successful call answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// A page of items (`page`, `perPage`, `totalItems`, `totalPages`, `items`).
    Page,
    /// A record (of any collection).
    Record,
    /// A page of records.
    Records,
    /// `{token, record, meta?}`.
    Auth,
    /// 204, no body.
    NoContent,
    /// A file's bytes.
    File,
    /// An HTML page or an asset.
    Html,
    /// A JSON object, or an HTML page for a browser (`GET /api/graphql` without `query`).
    ObjectOrHtml,
    /// A server-sent events stream.
    EventStream,
    /// Text (TypeScript, Prometheus metrics).
    Text,
    /// A redirect.
    Redirect,
    /// 200, headers only (`HEAD`).
    Headers,
}

/// One documented endpoint.
pub struct Endpoint {
    pub method: &'static str,
    /// The path as OpenAPI writes it (`{param}`).
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub body: Body,
    pub answer: Answer,
}

const fn e(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    access: Access,
    body: Body,
    answer: Answer,
) -> Endpoint {
    Endpoint {
        method,
        path,
        tag,
        summary,
        access,
        body,
        answer,
    }
}

use Access::{Anyone, Authenticated, Superusers};
use Answer::{
    Array, Auth, EventStream, File, Headers, Html, NoContent, Object, ObjectOrHtml, Page, Record,
    Records, Redirect, Text,
};
use Body::{Json as J, Multipart, None as N};

const C: &str = "/api/collections/{collection}";

/// Every system endpoint (the per-collection paths are written from the schema).
#[rustfmt::skip]
pub const SYSTEM_PATHS: &[Endpoint] = &[
    e("get", "/api/health", "Health", "Liveness; `?ready=1`: readiness (503 while the database does not answer).", Anyone, N, Object),
    e("head", "/api/health", "Health", "Liveness, without a body.", Anyone, N, Headers),
    // First start (docs/dashboard.md): the install link `serve` prints while there is no superuser.
    e("post", "/api/install/check", "Install", "204 while `token` is the live install token (no superuser exists yet).", Anyone, J, NoContent),
    e("post", "/api/install", "Install", "Create the first superuser with the install `token`, `email`, `password`, `passwordConfirm`.", Anyone, J, Object),
    e("get", "/api/openapi.json", "Docs", "This document, as the caller may see it.", Anyone, N, Object),
    e("get", "/api/docs", "Docs", "The API viewer (Swagger UI, every asset served locally).", Anyone, N, Html),
    e("get", "/api/docs/{file}", "Docs", "An asset of the API viewer.", Anyone, N, Html),
    e("get", "/api/typegen.ts", "Docs", "TypeScript types of every collection for the `pocketbase` SDK (`TypedPocketBase`).", Superusers, N, Text),
    e("get", "/api/collections/{collection}/schema.json", "Docs", "The JSON Schema (2020-12) of a record of the collection, as the caller sees it.", Anyone, N, Object),
    // Collections
    e("get", "/api/collections", "Collections", "List collections (`page`, `perPage`, `sort`, `filter`, `skipTotal`).", Superusers, N, Page),
    e("post", "/api/collections", "Collections", "Create a collection.", Superusers, J, Object),
    e("get", "/api/collections/meta/scaffolds", "Collections", "The default shape of a new collection of each type.", Superusers, N, Object),
    e("get", "/api/collections/meta/field-defaults", "Collections", "A new field of each type with every option at its default (the dashboard's field templates).", Superusers, N, Object),
    e("post", "/api/collections/meta/validate", "Collections", "Check a collection body as a save would (an existing `id`: as its update), without saving: 204, or the save's 400.", Superusers, J, NoContent),
    e("get", "/api/collections/meta/oauth2-providers", "Collections", "The OAuth2 providers an auth collection can offer: `[{name, displayName, logo}]`.", Superusers, N, Array),
    e("put", "/api/collections/import", "Collections", "Import collections (`collections`, `deleteMissing`).", Superusers, J, NoContent),
    e("get", C, "Collections", "View a collection.", Superusers, N, Object),
    e("patch", C, "Collections", "Update a collection.", Superusers, J, Object),
    e("delete", C, "Collections", "Delete a collection.", Superusers, N, NoContent),
    e("delete", "/api/collections/{collection}/truncate", "Collections", "Delete every record of a collection.", Superusers, N, NoContent),
    // Records of any collection (each visible collection also has its own typed paths).
    e("get", "/api/collections/{collection}/records", "Records", "List records of any collection (its list rule applies).", Anyone, N, Records),
    e("post", "/api/collections/{collection}/records", "Records", "Create a record (its create rule applies).", Anyone, Multipart, Record),
    e("get", "/api/collections/{collection}/records/{id}", "Records", "View a record (its view rule applies).", Anyone, N, Record),
    e("patch", "/api/collections/{collection}/records/{id}", "Records", "Update a record (its update rule applies).", Anyone, Multipart, Record),
    e("delete", "/api/collections/{collection}/records/{id}", "Records", "Delete a record (its delete rule applies).", Anyone, N, NoContent),
    e("get", "/api/collections/{collection}/records/{id}/history", "Records", "The versions of a record of a collection with `history` (its view rule applies; docs/history.md).", Anyone, N, Page),
    e("post", "/api/collections/{collection}/records/{id}/history/{version}/restore", "Records", "Restore a record to one of its versions, a deleted record included (docs/history.md).", Superusers, N, Record),
    // Auth flows of any auth collection.
    e("get", "/api/collections/{collection}/auth-methods", "Auth", "The auth methods the collection offers (password, OTP, MFA, OAuth2 providers).", Anyone, N, Object),
    e("post", "/api/collections/{collection}/auth-with-password", "Auth", "Sign in with `identity` and `password` (`identityField` optional).", Anyone, J, Auth),
    e("post", "/api/collections/{collection}/auth-refresh", "Auth", "A new token for the caller's record.", Authenticated, N, Auth),
    e("post", "/api/collections/{collection}/request-otp", "Auth", "Mail a one-time password to `email`; answers `{otpId}`.", Anyone, J, Object),
    e("post", "/api/collections/{collection}/auth-with-otp", "Auth", "Sign in with `otpId` and `password`.", Anyone, J, Auth),
    e("post", "/api/collections/{collection}/auth-with-oauth2", "Auth", "Sign in with an OAuth2 `provider`, `code`, `codeVerifier`, `redirectURL` (`createData` optional).", Anyone, J, Auth),
    e("get", "/api/oauth2-redirect", "Auth", "The OAuth2 providers' redirect target; hands the code to the waiting realtime client.", Anyone, N, Redirect),
    e("post", "/api/oauth2-redirect", "Auth", "The OAuth2 redirect target for providers that POST (`form_post`).", Anyone, Multipart, Redirect),
    e("post", "/api/collections/{collection}/request-verification", "Auth", "Mail a verification link to `email`.", Anyone, J, NoContent),
    e("post", "/api/collections/{collection}/confirm-verification", "Auth", "Confirm a verification `token`.", Anyone, J, NoContent),
    e("post", "/api/collections/{collection}/request-password-reset", "Auth", "Mail a password reset link to `email`.", Anyone, J, NoContent),
    e("post", "/api/collections/{collection}/confirm-password-reset", "Auth", "Set a new `password` (`passwordConfirm`) with a reset `token`.", Anyone, J, NoContent),
    e("post", "/api/collections/{collection}/request-email-change", "Auth", "Mail a confirmation link to `newEmail`.", Authenticated, J, NoContent),
    e("post", "/api/collections/{collection}/confirm-email-change", "Auth", "Confirm an email change with its `token` and the `password`.", Anyone, J, NoContent),
    e("post", "/api/collections/{collection}/impersonate/{id}", "Auth", "A token acting as the record (`duration` in seconds, optional).", Superusers, J, Auth),
    // Files
    e("post", "/api/files/token", "Files", "A short-lived token for protected files (`?token=`).", Authenticated, N, Object),
    e("get", "/api/files/{collection}/{record}/{name}", "Files", "Download a file (`thumb=WxH`, `download=1`, `token` for protected files).", Anyone, N, File),
    e("head", "/api/files/{collection}/{record}/{name}", "Files", "A file's headers.", Anyone, N, Headers),
    // Realtime and batch
    e("get", "/api/realtime", "Realtime", "Open a server-sent events stream; the first event (`PB_CONNECT`) carries the `clientId`.", Anyone, N, EventStream),
    e("post", "/api/realtime", "Realtime", "Set a client's subscriptions: `clientId`, `subscriptions` (`collection/*`, `collection/id`, with `?options={\"query\":{...},\"headers\":{...}}`).", Anyone, J, NoContent),
    e("post", "/api/batch", "Batch", "Run record requests in one transaction: `requests: [{method, url, headers, body}]`.", Anyone, Multipart, Array),
    // Settings
    e("get", "/api/settings", "Settings", "The app settings (secrets masked).", Superusers, N, Object),
    e("patch", "/api/settings", "Settings", "Change settings.", Superusers, J, Object),
    e("post", "/api/settings/test/email", "Settings", "Send a test email (`email`, `template`, `collection`).", Superusers, J, NoContent),
    e("post", "/api/settings/test/s3", "Settings", "Check the S3 settings (`filesystem`: `storage` or `backups`).", Superusers, J, NoContent),
    e("post", "/api/settings/apple/generate-client-secret", "Settings", "Generate a Sign in with Apple client secret.", Superusers, J, Object),
    // Logs
    e("get", "/api/logs", "Logs", "List request and app logs.", Superusers, N, Page),
    e("get", "/api/logs/stats", "Logs", "Log counts per hour (`filter`).", Superusers, N, Array),
    e("get", "/api/logs/{id}", "Logs", "View a log.", Superusers, N, Object),
    // Backups
    e("get", "/api/backups", "Backups", "List backups.", Superusers, N, Array),
    e("post", "/api/backups", "Backups", "Create a backup (`name` optional).", Superusers, J, NoContent),
    e("post", "/api/backups/upload", "Backups", "Upload a backup zip (`file`).", Superusers, Multipart, NoContent),
    e("get", "/api/backups/{key}", "Backups", "Download a backup (`token`: a superuser file token).", Anyone, N, File),
    e("delete", "/api/backups/{key}", "Backups", "Delete a backup.", Superusers, N, NoContent),
    e("post", "/api/backups/{key}/restore", "Backups", "Restore a backup (the app restarts).", Superusers, N, NoContent),
    // Crons
    e("get", "/api/crons", "Crons", "List the scheduled jobs.", Superusers, N, Array),
    e("post", "/api/crons/{id}", "Crons", "Run a scheduled job now.", Superusers, N, NoContent),
    // SQL console
    e("post", "/api/sql", "SQL", "Run a read-only SQL query (`query`).", Superusers, J, Object),
    // Webhooks
    e("get", "/api/webhooks/dead-letters", "Webhooks", "List webhook deliveries that failed for good: `{items}`, oldest first.", Superusers, N, Object),
    e("get", "/api/webhooks/dead-letters/{id}", "Webhooks", "View a dead letter.", Superusers, N, Object),
    e("post", "/api/webhooks/dead-letters/{id}/replay", "Webhooks", "Deliver a dead letter again.", Superusers, N, NoContent),
    // Brokers
    e("get", "/api/brokers/dead-letters", "Brokers", "List broker events that failed for good: `{items}`, oldest first.", Superusers, N, Object),
    e("get", "/api/brokers/dead-letters/{id}", "Brokers", "View a broker dead letter.", Superusers, N, Object),
    e("post", "/api/brokers/dead-letters/{id}/replay", "Brokers", "Publish a broker dead letter again (same event id).", Superusers, N, NoContent),
    // Mail
    e("get", "/api/mail/dead-letters", "Mail", "List queued mail that failed for good: `{items}` (`to`, `subject`, `template`, never the body), oldest first.", Superusers, N, Object),
    e("get", "/api/mail/dead-letters/{id}", "Mail", "View a dead mail (never its body).", Superusers, N, Object),
    e("post", "/api/mail/dead-letters/{id}/replay", "Mail", "Queue a dead mail again (fresh attempts).", Superusers, N, NoContent),
    // GraphQL
    e("get", "/api/graphql", "GraphQL", "A browser gets the playground (HTML); `query` (with `variables`, `operationName`) runs a GraphQL query, never a mutation, and answers JSON. A WebSocket upgrade with the `graphql-transport-ws` subprotocol runs subscriptions (auth: `Authorization` in the `connection_init` payload; docs/graphql.md).", Anyone, N, ObjectOrHtml),
    e("post", "/api/graphql", "GraphQL", "Run a GraphQL query or mutation (`{query, variables, operationName}`) over the collections, under the same rules as REST (docs/graphql.md); a `multipart/form-data` body (the GraphQL multipart request spec) carries files for create and update mutations.", Anyone, J, Object),
    e("get", "/api/graphql/schema.graphql", "GraphQL", "The GraphQL schema of the current collections as SDL (for code generators).", Superusers, N, Text),
    // Metrics
    e("get", "/metrics", "Metrics", "Prometheus metrics (only with `--metrics`; `--metricsToken` requires `Authorization: Bearer <token>`).", Anyone, N, Text),
];

/// The operation object of `endpoint`.
pub fn operation(endpoint: &Endpoint) -> Json {
    let mut op = Map::new();
    op.insert("tags".into(), json!([endpoint.tag]));
    op.insert("summary".into(), json!(endpoint.summary));
    op.insert(
        "operationId".into(),
        json!(operation_id(endpoint.method, endpoint.path)),
    );
    let mut parameters = super::frame::path_parameters(endpoint.path);
    if matches!(endpoint.answer, Answer::Page | Answer::Records) {
        for p in ["page", "perPage", "sort", "filter", "skipTotal"] {
            parameters.push(super::frame::param_ref(p));
        }
    }
    if matches!(
        endpoint.answer,
        Answer::Record | Answer::Records | Answer::Auth
    ) {
        for p in ["expand", "fields"] {
            parameters.push(super::frame::param_ref(p));
        }
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Json::Array(parameters));
    }
    match endpoint.body {
        Body::None => {}
        Body::Json => {
            op.insert(
                "requestBody".into(),
                json!({"content": {"application/json": {"schema": {"type": "object"}}}}),
            );
        }
        Body::Multipart => {
            op.insert(
                "requestBody".into(),
                json!({"content": {
                    "application/json": {"schema": {"type": "object"}},
                    "multipart/form-data": {"schema": {"type": "object"}},
                }}),
            );
        }
    }
    op.insert("security".into(), super::frame::security(endpoint.access));
    let mut responses = super::frame::responses(ok(endpoint.answer), endpoint.access);
    if endpoint.answer == Answer::Redirect {
        // PB-COMPAT: a POSTed redirect (`form_post`) is a 303, so the browser follows with a GET.
        responses["303"] = json!({"description": "Redirect (after a POST)"});
    }
    op.insert("responses".into(), responses);
    Json::Object(op)
}

/// `get /api/collections/{collection}/records` → `getCollectionsCollectionRecords`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for part in path.split(['/', '-', '.', '{', '}']) {
        if part.is_empty() || part == "api" {
            continue;
        }
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// The success response of an answer kind: (status, response object).
fn ok(answer: Answer) -> (&'static str, Json) {
    let content = |mime: &str, schema: Json| json!({mime: {"schema": schema}});
    let object = json!({"type": "object"});
    match answer {
        Answer::Object => (
            "200",
            json!({"description": "OK", "content": content("application/json", object)}),
        ),
        Answer::Array => (
            "200",
            json!({"description": "OK", "content": content("application/json", json!({"type": "array"}))}),
        ),
        Answer::Page => (
            "200",
            json!({"description": "A page", "content": content("application/json", super::frame::page_schema(object))}),
        ),
        Answer::Record => (
            "200",
            json!({"description": "The record", "content": content("application/json", super::schemas::reference("AnyRecord"))}),
        ),
        Answer::Records => (
            "200",
            json!({"description": "A page of records", "content": content("application/json", super::frame::page_schema(super::schemas::reference("AnyRecord")))}),
        ),
        Answer::Auth => (
            "200",
            json!({"description": "Signed in", "content": content("application/json", super::schemas::reference("AuthResponse"))}),
        ),
        Answer::NoContent => ("204", json!({"description": "Done"})),
        Answer::File => (
            "200",
            json!({"description": "The file", "content": content("application/octet-stream", json!({"type": "string", "format": "binary"}))}),
        ),
        Answer::ObjectOrHtml => (
            "200",
            json!({"description": "The JSON answer, or the HTML page", "content": {
                "application/json": {"schema": object},
                "text/html": {"schema": {"type": "string"}},
            }}),
        ),
        Answer::Html => (
            "200",
            json!({"description": "The page or asset", "content": content("text/html", json!({"type": "string"}))}),
        ),
        Answer::EventStream => (
            "200",
            json!({"description": "Server-sent events: `PB_CONNECT`, then one event per subscribed change (`{action, record}`)", "content": content("text/event-stream", json!({"type": "string"}))}),
        ),
        Answer::Text => (
            "200",
            json!({"description": "Text", "content": content("text/plain", json!({"type": "string"}))}),
        ),
        Answer::Redirect => ("307", json!({"description": "Redirect"})),
        Answer::Headers => (
            "200",
            json!({"description": "The headers a GET would answer"}),
        ),
    }
}
