use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use oxbase_core::records::list::{parse_bool, parse_int};
use oxbase_core::records::output;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params, Path, Unreadable, require_superuser};

/// `GET /api/collections`
pub async fn list_collections(
    State(state): State<AppState>,
    Caller(auth): Caller,
    q: Params,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    let (page, per_page, skip_total) = (
        parse_int(q.str("page"))?,
        parse_int(q.str("perPage"))?,
        parse_bool(q.str("skipTotal"))?,
    );
    let page = state
        .app
        .collections()
        .list(q.str("filter"), q.str("sort"), page, per_page, skip_total)
        .await?;
    let mut out = serde_json::to_value(page).unwrap_or_default();
    let picks = output::parse_fields(q.str("fields"))?;
    if let Some(items) = out.get_mut("items").and_then(Value::as_array_mut) {
        for item in items.iter_mut() {
            *item = output::pick(item, &picks);
        }
    }
    Ok(Json(out))
}

/// `GET /api/collections/{collection}`
pub async fn view_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    Ok(Json(state.app.collections().view(&name).await?.to_json()))
}

/// `POST /api/collections`
pub async fn create_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    let body = JsonBody::after_checks(
        body,
        Unreadable::Always("Failed to load the collection type data due to invalid formatting."),
    )?;
    Ok(Json(state.app.collections().create(&body).await?.to_json()))
}

/// `PATCH /api/collections/{collection}`
pub async fn update_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    let body = JsonBody::after_checks(
        body,
        Unreadable::Always("Failed to load the submitted data due to invalid formatting."),
    )?;
    Ok(Json(
        state
            .app
            .collections()
            .update(&name, &body)
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
    require_superuser(&auth)?;
    state.app.collections().delete(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/collections/{collection}/truncate`
pub async fn truncate_collection(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    require_superuser(&auth)?;
    state.app.collections().truncate(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/collections/import`
pub async fn import_collections(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<StatusCode> {
    require_superuser(&auth)?;
    let body = JsonBody::after_checks(
        body,
        Unreadable::Malformed("An error occurred while loading the submitted data."),
    )?;
    let list = body.get("collections").cloned().unwrap_or(Value::Null);
    let delete_missing = body
        .get("deleteMissing")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    state
        .app
        .collections()
        .import(&list, delete_missing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/collections/meta/scaffolds`
pub async fn scaffolds(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    require_superuser(&auth)?;
    Ok(Json(state.app.collections().scaffolds()))
}
