//! `/api/logs`: the request and app logs (superusers only). PB-COMPAT: as in PocketBase,
//! reading the logs is not itself logged unless it fails.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, Params, Path};
use crate::request_log::Unlogged;

/// `GET /api/logs`
pub async fn list(
    State(state): State<AppState>,
    Caller(auth): Caller,
    params: Params,
) -> ApiResult<(Unlogged, Json<Value>)> {
    let page = state.app.logs().list(&auth, params.list()).await?;
    Ok((Unlogged, Json(page)))
}

/// `GET /api/logs/stats`: entries per hour.
pub async fn stats(
    State(state): State<AppState>,
    Caller(auth): Caller,
    params: Params,
) -> ApiResult<(Unlogged, Json<Value>)> {
    let stats = state
        .app
        .logs()
        .stats(&auth, params.str("filter"), params.str("fields"))
        .await?;
    Ok((Unlogged, Json(stats)))
}

/// `GET /api/logs/{id}`
pub async fn view(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<(Unlogged, Json<Value>)> {
    let entry = state
        .app
        .logs()
        .view(&auth, &id, params.str("fields"))
        .await?;
    Ok((Unlogged, Json(entry)))
}
