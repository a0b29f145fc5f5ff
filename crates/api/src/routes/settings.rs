use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::error::ApiResult;
use crate::extract::{require_superuser, Caller, JsonBody};
use crate::AppState;

/// `GET /api/settings`
pub async fn get_settings(State(state): State<AppState>, Caller(auth): Caller) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    Ok(Json(state.app.settings().public()))
}

/// `PATCH /api/settings`
pub async fn update_settings(State(state): State<AppState>, Caller(auth): Caller, JsonBody(body): JsonBody) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    Ok(Json(state.app.update_settings(&body).await?))
}
