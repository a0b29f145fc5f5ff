//! `/api/brokers`: broker events that ran out of attempts (superusers only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use oxbase_core::brokers::DeadLetter;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, Path};

/// `GET /api/brokers/dead-letters`: `{"items": [...]}`, oldest first.
pub async fn list_dead_letters(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    let items = state.app.brokers().dead_letters(&auth).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/brokers/dead-letters/{id}`
pub async fn view_dead_letter(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeadLetter>> {
    Ok(Json(state.app.brokers().dead_letter(&auth, &id).await?))
}

/// `POST /api/brokers/dead-letters/{id}/replay`: queued again; answers before publishing.
pub async fn replay_dead_letter(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.brokers().replay(&auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
