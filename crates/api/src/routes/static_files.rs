//! The admin dashboard at `/_/` and PocketBase's 404 for unknown API routes. Files of the
//! public directory are served by the router's fallback.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::error::body;

/// PB-COMPAT: unknown `/api/...` routes answer 404 "File not found." in the standard body.
pub async fn api_not_found() -> Response {
    body(StatusCode::NOT_FOUND, "File not found.", json!({}))
}

pub async fn admin_redirect() -> Redirect {
    Redirect::permanent("/_/")
}

/// A dashboard file; unknown paths get `index.html` (the dashboard routes on the client).
pub async fn admin(path: Option<Path<String>>) -> Response {
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let path = if path.is_empty() {
        "index.html".to_owned()
    } else {
        path
    };
    let (path, bytes) = match oxbase_admin_ui::asset(&path) {
        Some(bytes) => (path, bytes),
        None => match oxbase_admin_ui::asset("index.html") {
            Some(bytes) => ("index.html".to_owned(), bytes),
            None => return body(StatusCode::NOT_FOUND, "File not found.", json!({})),
        },
    };
    let mime = mime_for(&path);
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes.into_owned(),
    )
        .into_response()
}

fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
