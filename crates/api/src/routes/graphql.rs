//! `POST /api/graphql`, `GET /api/graphql` (queries, or the playground for a browser), and the
//! schema as SDL (`GET /api/graphql/schema.graphql`).

use axum::Json;
use axum::extract::State;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller as Auth, Context};
use crate::graphql::{self, Caller, PLAYGROUND};
use crate::middleware::ClientIp;

fn caller(ctx: Context, headers: &HeaderMap, ip: String) -> Caller {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    Caller {
        info: ctx.info,
        authorization,
        ip,
    }
}

/// `POST /api/graphql`: a JSON body `{query, variables?, operationName?}`, or a
/// `multipart/form-data` body (the GraphQL multipart request spec) for mutations with files.
pub async fn post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ctx: Context,
    body: axum::body::Body,
) -> ApiResult<Response> {
    // The route has no router limit: this one allows for files, as a record route does.
    let limit = graphql::body_limit(&state.app, state.max_body_bytes);
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError(oxbase_core::Error::TooLarge(
            "Request entity too large.".into(),
        ))
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let caller = caller(ctx, &headers, ip);
    if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Ok(Json(
            graphql::execute_multipart(&state.app, &state.graphql, caller, &content_type, &body)
                .await?,
        )
        .into_response());
    }
    let request: graphql::Query = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("Invalid GraphQL request body."))?;
    Ok(
        graphql::execute(&state.app, &state.graphql, caller, &request)
            .await?
            .into_response(),
    )
}

/// `GET /api/graphql?query=…`; without `query`, the playground page; a WebSocket upgrade
/// (`graphql-transport-ws`) for subscriptions.
pub async fn get(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ctx: Context,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    if let Ok(ws) = ws {
        let schema = state.graphql.schema(&state.app)?;
        let caller = caller(ctx, &headers, ip);
        return graphql::upgrade(state.app.clone(), schema, caller, ws);
    }
    let query = ctx.params.str("query").to_owned();
    if query.is_empty() {
        return Ok(Html(PLAYGROUND).into_response());
    }
    // Writes only over POST (GraphQL over HTTP): a link or an image tag must not be able to
    // run one.
    if mutates(&query) {
        return Err(ApiError::bad_request(
            "GraphQL mutations are only accepted over POST.",
        ));
    }
    let variables = ctx.params.str("variables");
    let variables = if variables.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str(variables)
                .map_err(|_| ApiError::bad_request("Invalid GraphQL variables."))?,
        )
    };
    let request = graphql::Query {
        query,
        variables,
        operation_name: Some(ctx.params.str("operationName").to_owned()),
    };
    let caller = caller(ctx, &headers, ip);
    Ok(
        graphql::execute(&state.app, &state.graphql, caller, &request)
            .await?
            .into_response(),
    )
}

/// Whether the document has a mutation or subscription (an unparsable one is left to the
/// executor, which reports it as a GraphQL error).
fn mutates(query: &str) -> bool {
    use async_graphql::parser::types::OperationType;
    async_graphql::parser::parse_query(query).is_ok_and(|doc| {
        doc.operations
            .iter()
            .any(|(_, op)| op.node.ty != OperationType::Query)
    })
}

/// `GET /api/graphql/schema.graphql` (superusers only): the schema of the current collections as
/// SDL, for code generators.
pub async fn sdl(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Response> {
    oxbase_core::rules::superusers_only(&auth).map_err(ApiError)?;
    let sdl = state.graphql.schema(&state.app)?.sdl();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sdl).into_response())
}
