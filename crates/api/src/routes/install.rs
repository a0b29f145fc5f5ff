//! The first-start install page's endpoints (`oxbase_core::auth::install`): the token comes in
//! the body, never in the path, so that request logs do not keep it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{BodyRejection, JsonBody, Unreadable};

const UNREADABLE: Unreadable =
    Unreadable::Always("An error occurred while loading the submitted data.");

fn read(body: Result<JsonBody, BodyRejection>) -> ApiResult<(String, Map<String, Value>)> {
    let Value::Object(body) = JsonBody::read(body, UNREADABLE)? else {
        return Ok((String::new(), Map::new()));
    };
    let token = body
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok((token, body))
}

/// `POST /api/install/check`: 204 while `token` is a live install token.
pub async fn check(
    State(state): State<AppState>,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<StatusCode> {
    let (token, _) = read(body)?;
    state.app.auth().check_install_token(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/install`: creates the first superuser (`token`, `email`, `password`,
/// `passwordConfirm`).
pub async fn install(
    State(state): State<AppState>,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<Json<Value>> {
    let (token, body) = read(body)?;
    Ok(Json(state.app.auth().install(&token, &body).await?))
}
