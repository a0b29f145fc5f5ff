//! The API describing itself: `/api/openapi.json`, the viewer at `/api/docs` (Swagger UI, its
//! assets compiled into the binary), `/api/typegen.ts` and each collection's `schema.json`.
//! The documents are written by `oxbase_core::describe`.

use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, Path};

/// Where the viewer is served; its page names its assets relative to it.
const DOCS: &str = "/api/docs/";

/// The viewer's settings: it loads the document from this server only, and never asks
/// Swagger's online validator about it (its default, a request leaving the machine).
static VIEWER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::from("/api/openapi.json")
            .try_it_out_enabled(true)
            .validator_url("none"),
    )
});

/// `GET /api/openapi.json`
pub async fn openapi(State(state): State<AppState>, Caller(auth): Caller) -> Response {
    let doc = state.app.describe().openapi(&auth);
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

/// `GET /api/docs`: the viewer's page, with a base so its relative assets resolve under
/// `/api/docs/` whether or not the address ends with a slash.
pub async fn viewer() -> Response {
    let Some((bytes, content_type)) = viewer_file("index.html") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let page = String::from_utf8_lossy(&bytes).replacen(
        "<head>",
        &format!("<head>\n    <base href=\"{DOCS}\" />"),
        1,
    );
    ([(header::CONTENT_TYPE, content_type)], page).into_response()
}

/// `GET /api/docs/{*file}`: one of the viewer's assets.
pub async fn viewer_asset(Path(file): Path<String>) -> Response {
    if file.is_empty() || file == "index.html" {
        return viewer().await;
    }
    match viewer_file(&file) {
        Some((bytes, content_type)) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        None => crate::routes::static_files::not_found(axum::http::Method::GET).await,
    }
}

fn viewer_file(file: &str) -> Option<(Vec<u8>, String)> {
    let found = utoipa_swagger_ui::serve(file, VIEWER.clone()).ok()??;
    Some((found.bytes.into_owned(), found.content_type))
}

/// `GET /api/typegen.ts` (superusers only)
pub async fn typegen(State(state): State<AppState>, Caller(auth): Caller) -> ApiResult<Response> {
    let ts = state.app.describe().typescript(&auth)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], ts).into_response())
}

/// `GET /api/collections/{collection}/schema.json`
pub async fn collection_schema(
    State(state): State<AppState>,
    Caller(auth): Caller,
    Path(collection): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.app.describe().json_schema(&auth, &collection)?))
}
