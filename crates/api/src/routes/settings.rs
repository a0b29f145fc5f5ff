use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use oxbase_core::auth::forms::TestEmailForm;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, BodyRejection, Caller, JsonBody, Unreadable};

/// `GET /api/settings`
pub async fn get_settings(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.view_settings(&auth)?))
}

/// `PATCH /api/settings`
pub async fn update_settings(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<Json<Value>> {
    let body = JsonBody::read(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    );
    Ok(Json(state.app.update_settings(&auth, body).await?))
}

/// `POST /api/settings/test/email`: sends one template to an address (superusers only).
pub async fn test_email(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .auth()
        .send_test_email(&auth, TestEmailForm::parse(&input.body))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/settings/apple/generate-client-secret`: signs a Sign in with Apple client
/// secret (superusers only).
pub async fn apple_client_secret(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<Json<Value>> {
    let body = JsonBody::read(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    );
    Ok(Json(state.app.auth().apple_client_secret(&auth, body)?))
}
