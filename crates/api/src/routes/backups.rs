//! `/api/backups`: list, create, upload, download (with a superuser's file token), delete and
//! restore backups (superusers only).

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use oxbase_core::backups::BackupInfo;
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, BodyRejection, Caller, JsonBody, Path, Unreadable, query_map};

/// `GET /api/backups`
pub async fn list(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Vec<BackupInfo>>> {
    Ok(Json(state.app.backups().list(&auth).await?))
}

/// `POST /api/backups`: answers once the backup is stored.
pub async fn create(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<StatusCode> {
    let body = JsonBody::read(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    );
    state.app.backups().create(&auth, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/backups/upload` (multipart, the zip as `file`; no body limit, as PocketBase).
/// The caller is checked before the body is read.
pub async fn upload(
    State(state): State<AppState>,
    Caller(auth): Caller,
    request: Request,
) -> ApiResult<StatusCode> {
    state.app.backups().authorize(&auth)?;
    let Body(input) = Body::from_request(request, &state).await?;
    let named = input.body.get("file").and_then(|v| match v {
        Value::Array(items) => items.first().and_then(Value::as_str),
        v => v.as_str(),
    });
    let file = named.and_then(|name| input.files.iter().find(|f| f.name == name).cloned());
    state.app.backups().upload(&auth, file).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/backups/{key}?token=`: the zip, for the holder of a superuser's file token.
pub async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
    uri: Uri,
) -> ApiResult<Response> {
    let query = query_map(uri.query());
    let token = query.get("token").and_then(Value::as_str).unwrap_or("");
    let auth = state.app.auth().authenticate_file_token(token).await;
    let content = state.app.backups().download(&auth, &key).await?;
    Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_LENGTH, content.meta.size)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", key.replace('"', "")),
        )
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(content.meta.last_modified.into()),
        )
        // PB-COMPAT: PocketBase lets shared caches keep a backup (its file headers); a backup
        // is the whole database, so no cache may keep it here.
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(HttpBody::from_stream(content.body))
        .map_err(|e| ApiError(oxbase_core::Error::internal(e)))
}

/// `DELETE /api/backups/{key}`
pub async fn delete(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(key): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state.app.backups().delete(&auth, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/backups/{key}/restore`: answers at once; the server then restarts on the
/// restored data (requests meanwhile wait or get a 503).
pub async fn restore(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.backups().restore(&auth, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
