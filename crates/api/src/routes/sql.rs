//! `/api/sql`: the SQL console (superusers only).

use axum::Json;
use axum::extract::State;
use oxbase_core::sql_console::{self, SqlResult};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{BodyRejection, Caller, JsonBody, Unreadable};

/// `POST /api/sql`
pub async fn run(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<Json<SqlResult>> {
    let body = JsonBody::read(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    );
    Ok(Json(sql_console::run(state.app.db(), &auth, body).await?))
}
