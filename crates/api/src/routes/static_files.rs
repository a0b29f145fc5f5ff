//! The admin dashboard at `/_/` and PocketBase's 404 for requests no route takes. Files of the
//! public directory are served by the router's fallback.

use std::convert::Infallible;

use axum::extract::{Path, Request};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use oxbase_core::Error;
use tower::{Service, ServiceExt};
use tower_http::services::ServeDir;

use crate::error::{ApiError, body};

/// What a request no route takes gets (an unknown `/api/...` path, a wrong method on a known
/// path, a missing public file), in the standard body. PB-COMPAT: PocketBase's static-file
/// route takes every GET and HEAD, so those get its 404 "File not found."; nothing takes the
/// other methods, so those get its router's 404 (not a 405).
pub async fn not_found(method: Method) -> Response {
    let message = if method == Method::GET || method == Method::HEAD {
        "File not found."
    } else {
        "The requested resource wasn't found."
    };
    body(StatusCode::NOT_FOUND, message, json!({}))
}

/// The public directory's files (`--publicDir`): a path with no file, or a method other than
/// GET and HEAD, gets `not_found`; a file that cannot be read gets the standard 500.
pub fn public_files(
    dir: &std::path::Path,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send>
+ Clone
+ Send
+ Sync
+ 'static {
    let files = ServeDir::new(dir)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found.into_service());
    ServiceExt::<Request>::map_response(files, |res| {
        if res.status().is_server_error() {
            ApiError(Error::internal("a public file could not be read")).into_response()
        } else {
            res.into_response()
        }
    })
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
