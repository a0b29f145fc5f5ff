use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Json;
use oxbase_core::records::list::ListQuery;
use oxbase_core::rules::RequestInfo;
use oxbase_core::Error;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::extract::{request_info, Body, Caller, Params};
use crate::AppState;

fn info(caller: Caller, method: &Method, headers: &HeaderMap, uri: &Uri) -> RequestInfo {
    request_info(caller.0, method, headers, uri.query())
}

/// PB-COMPAT: an unknown collection on create says "Missing or invalid collection context."
fn collection_context(e: Error) -> ApiError {
    match e {
        Error::NotFound(m) if m == "Missing collection context." => ApiError(Error::NotFound("Missing or invalid collection context.".into())),
        other => ApiError(other),
    }
}

/// `GET /api/collections/{collection}/records`
pub async fn list_records(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, method: Method, headers: HeaderMap, uri: Uri, q: Params) -> ApiResult<Json<Value>> {
    let req = info(caller, &method, &headers, &uri);
    let query = ListQuery {
        page: q.number("page"),
        per_page: q.number("perPage"),
        sort: q.str("sort").to_owned(),
        filter: q.str("filter").to_owned(),
        expand: q.str("expand").to_owned(),
        fields: q.str("fields").to_owned(),
        skip_total: q.flag("skipTotal"),
    };
    let result = state.app.records().list(&req, &collection, query).await?;
    Ok(Json(serde_json::to_value(result).unwrap_or_default()))
}

/// `GET /api/collections/{collection}/records/{id}`
pub async fn view_record(State(state): State<AppState>, caller: Caller, Path((collection, id)): Path<(String, String)>, method: Method, headers: HeaderMap, uri: Uri, q: Params) -> ApiResult<Json<Value>> {
    let req = info(caller, &method, &headers, &uri);
    Ok(Json(state.app.records().view(&req, &collection, &id, q.str("expand"), q.str("fields")).await?))
}

/// `POST /api/collections/{collection}/records`
pub async fn create_record(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, method: Method, headers: HeaderMap, uri: Uri, q: Params, Body(input): Body) -> ApiResult<Json<Value>> {
    let mut req = info(caller, &method, &headers, &uri);
    req.body = input.body.clone();
    let records = state.app.records();
    let record = records.create(&req, &collection, input).await.map_err(collection_context)?;
    let shown = records.present(&req, vec![record], q.str("expand"), q.str("fields")).await?;
    Ok(Json(shown.into_iter().next().unwrap_or_default()))
}

/// `PATCH /api/collections/{collection}/records/{id}`
pub async fn update_record(State(state): State<AppState>, caller: Caller, Path((collection, id)): Path<(String, String)>, method: Method, headers: HeaderMap, uri: Uri, q: Params, Body(input): Body) -> ApiResult<Json<Value>> {
    let mut req = info(caller, &method, &headers, &uri);
    req.body = input.body.clone();
    let records = state.app.records();
    let record = records.update(&req, &collection, &id, input).await?;
    let shown = records.present(&req, vec![record], q.str("expand"), q.str("fields")).await?;
    Ok(Json(shown.into_iter().next().unwrap_or_default()))
}

/// `DELETE /api/collections/{collection}/records/{id}`
pub async fn delete_record(State(state): State<AppState>, caller: Caller, Path((collection, id)): Path<(String, String)>, method: Method, headers: HeaderMap, uri: Uri) -> ApiResult<StatusCode> {
    let req = info(caller, &method, &headers, &uri);
    state.app.records().delete(&req, &collection, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
