use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use oxbase_core::records::list::{ListQuery, ListResult};
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, Context, Path};

/// `GET /api/collections/{collection}/records`
pub async fn list_records(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    ctx: Context,
) -> ApiResult<Json<ListResult>> {
    let query = ListQuery::parse(ctx.params.list());
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
    Context { info, params }: Context,
    Body(input): Body,
) -> ApiResult<Json<Value>> {
    let shown = params.shown();
    Ok(Json(
        state
            .app
            .records()
            .create_shown(info, &collection, input, shown)
            .await?,
    ))
}

/// `PATCH /api/collections/{collection}/records/{id}`
pub async fn update_record(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    Context { info, params }: Context,
    Body(input): Body,
) -> ApiResult<Json<Value>> {
    let shown = params.shown();
    Ok(Json(
        state
            .app
            .records()
            .update_shown(info, &collection, &id, input, shown)
            .await?,
    ))
}

/// `DELETE /api/collections/{collection}/records/{id}`. The body is read as on create, so the
/// delete rule's `@request.body.*` sees it, as in PocketBase (an empty body is no values).
// PB-COMPAT: an urlencoded DELETE body is read too; PocketBase (Go's form parser reads bodies
// of POST, PUT and PATCH only) sees the query string's values there instead.
pub async fn delete_record(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    Context { info, .. }: Context,
    Body(input): Body,
) -> ApiResult<StatusCode> {
    state
        .app
        .records()
        .delete_with_body(info, &collection, &id, input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/collections/{collection}/records/{id}/history` (oxbase's own, docs/history.md)
pub async fn list_record_history(
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    ctx: Context,
) -> ApiResult<Json<ListResult>> {
    let query = ListQuery::parse(ctx.params.list());
    Ok(Json(
        state
            .app
            .records()
            .history(&ctx.info, &collection, &id, query)
            .await?,
    ))
}

/// `POST /api/collections/{collection}/records/{id}/history/{version}/restore` (oxbase's own)
pub async fn restore_record_version(
    State(state): State<AppState>,
    Path((collection, id, version)): Path<(String, String, String)>,
    ctx: Context,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        state
            .app
            .records()
            .restore(
                &ctx.info,
                &collection,
                &id,
                &version,
                ctx.params.str("fields"),
            )
            .await?,
    ))
}
