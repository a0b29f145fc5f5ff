//! `/api/crons`: the scheduled jobs (superusers only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use oxbase_core::crons::JobInfo;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, Path};

/// `GET /api/crons`
pub async fn list(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Vec<JobInfo>>> {
    Ok(Json(state.app.crons().list(&auth)?))
}

/// `POST /api/crons/{id}`: starts the job now; answers before it ends.
pub async fn run(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.crons().run_now(&auth, &id)?;
    Ok(StatusCode::NO_CONTENT)
}
