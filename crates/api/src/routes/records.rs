use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use oxbase_core::Error;
use oxbase_core::records::list::{ListQuery, ListResult};
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Context, Path};

/// PB-COMPAT: an unknown collection on create and update says "Missing or invalid collection
/// context." (PocketBase's body-limit layer looks it up first).
fn collection_context(e: Error) -> ApiError {
    match e {
        Error::NotFound(m) if m == "Missing collection context." => ApiError(Error::NotFound(
            "Missing or invalid collection context.".into(),
        )),
        other => ApiError(other),
    }
}

/// `GET /api/collections/{collection}/records`
pub async fn list_records(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ctx: Context,
) -> ApiResult<Json<ListResult>> {
    let q = &ctx.params;
    let query = ListQuery {
        page: q.str("page").to_owned(),
        per_page: q.str("perPage").to_owned(),
        sort: q.str("sort").to_owned(),
        filter: q.str("filter").to_owned(),
        expand: q.str("expand").to_owned(),
        fields: q.str("fields").to_owned(),
        skip_total: q.str("skipTotal").to_owned(),
    };
    Ok(Json(
        state
            .app
            .records()
            .list(&ctx.info, &collection, query)
            .await?,
    ))
}

/// `GET /api/collections/{collection}/records/{id}`
pub async fn view_record(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    ctx: Context,
) -> ApiResult<Json<Value>> {
    let q = &ctx.params;
    Ok(Json(
        state
            .app
            .records()
            .view(
                &ctx.info,
                &collection,
                &id,
                q.str("expand"),
                q.str("fields"),
            )
            .await?,
    ))
}

/// `POST /api/collections/{collection}/records`
pub async fn create_record(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<Json<Value>> {
    let Context { mut info, params } = ctx;
    info.body = input.body.clone();
    let records = state.app.records();
    let record = records
        .create(&info, &collection, input)
        .await
        .map_err(collection_context)?;
    let shown = records
        .present(
            &info,
            vec![record],
            params.str("expand"),
            params.str("fields"),
        )
        .await?;
    Ok(Json(shown.into_iter().next().unwrap_or_default()))
}

/// `PATCH /api/collections/{collection}/records/{id}`
pub async fn update_record(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<Json<Value>> {
    let Context { mut info, params } = ctx;
    info.body = input.body.clone();
    let records = state.app.records();
    let record = records
        .update(&info, &collection, &id, input)
        .await
        .map_err(collection_context)?;
    let shown = records
        .present(
            &info,
            vec![record],
            params.str("expand"),
            params.str("fields"),
        )
        .await?;
    Ok(Json(shown.into_iter().next().unwrap_or_default()))
}

/// `DELETE /api/collections/{collection}/records/{id}`. The body is read as on create, so the
/// delete rule's `@request.body.*` sees it, as in PocketBase (an empty body is no values).
// PB-COMPAT: an urlencoded DELETE body is read too; PocketBase (Go's form parser reads bodies
// of POST, PUT and PATCH only) sees the query string's values there instead.
pub async fn delete_record(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    ctx: Context,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    let Context { mut info, .. } = ctx;
    info.body = input.body;
    state.app.records().delete(&info, &collection, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
