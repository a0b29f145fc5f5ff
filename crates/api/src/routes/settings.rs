use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, JsonBody, Unreadable, require_superuser};

/// `GET /api/settings`
pub async fn get_settings(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    Ok(Json(state.app.settings().public()))
}

/// `PATCH /api/settings`
pub async fn update_settings(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    let body = JsonBody::after_checks(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    )?;
    Ok(Json(state.app.update_settings(&body).await?))
}

/// `POST /api/settings/test/email`: sends one template to an address (superusers only).
pub async fn test_email(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    require_superuser(&auth)?;
    state.app.auth().send_test_email(&input.body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/settings/apple/generate-client-secret`: signs a Sign in with Apple client
/// secret (superusers only).
pub async fn apple_client_secret(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    let body = JsonBody::after_checks(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    )?;
    Ok(Json(state.app.auth().apple_client_secret(&body)?))
}
