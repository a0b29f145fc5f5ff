use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{BodyRejection, Caller, JsonBody, Params, Path, Unreadable};

/// `GET /api/collections`
pub async fn list_collections(
    State(state): State<AppState>,
    Caller(auth): Caller,
    q: Params,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.collections().list(&auth, &q.list()).await?))
}

/// `GET /api/collections/{collection}`
pub async fn view_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        state
            .app
            .collections()
            .view_as(&auth, &name)
            .await?
            .to_json(),
    ))
}

/// A new collection's definition as sent, or PocketBase's refusal of an unreadable one.
fn new_definition(body: Result<JsonBody, BodyRejection>) -> oxbase_core::Result<serde_json::Value> {
    JsonBody::read(
        body,
        Unreadable::Always("Failed to load the collection type data due to invalid formatting."),
    )
}

/// `POST /api/collections`
pub async fn create_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<Json<Value>> {
    let body = new_definition(body);
    Ok(Json(
        state.app.collections().create(&auth, body).await?.to_json(),
    ))
}

/// `POST /api/collections/meta/validate`: 204 when the body would save as a collection.
pub async fn validate_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<StatusCode> {
    let body = new_definition(body);
    state.app.collections().validate(&auth, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/collections/{collection}`
pub async fn update_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<Json<Value>> {
    let body = JsonBody::read(
        body,
        Unreadable::Always("Failed to load the submitted data due to invalid formatting."),
    );
    Ok(Json(
        state
            .app
            .collections()
            .update(&auth, &name, body)
            .await?
            .to_json(),
    ))
}

/// `DELETE /api/collections/{collection}`
pub async fn delete_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.collections().delete(&auth, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/collections/{collection}/truncate`
pub async fn truncate_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.collections().truncate(&auth, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/collections/import`
pub async fn import_collections(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<StatusCode> {
    let body = JsonBody::read(
        body,
        Unreadable::Malformed("An error occurred while loading the submitted data."),
    );
    state.app.collections().import(&auth, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/collections/meta/scaffolds`
pub async fn scaffolds(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.collections().scaffolds(&auth)?))
}

/// `GET /api/collections/meta/field-defaults`
pub async fn field_defaults(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.collections().field_defaults(&auth)?))
}

/// `GET /api/collections/meta/oauth2-providers`
pub async fn oauth2_providers(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.auth().oauth2_providers(&auth)?))
}
