//! Files: `GET /api/files/{collection}/{record}/{name}` (thumbnails, ranges, conditional
//! requests), `POST /api/files/token`, `POST /api/settings/test/s3`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use oxbase_core::Error;
use oxbase_core::files::Meta;
use oxbase_core::files::upload::content_type;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{BodyRejection, Caller, JsonBody, Path, Unreadable, query_map, request_info};

/// PB-COMPAT: the types served inline; everything else downloads as an attachment, so an
/// uploaded page or script never runs in the app's origin.
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpg",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/x-icon",
    "image/bmp",
    "video/webm",
    "video/mp4",
    "video/3gpp",
    "video/quicktime",
    "video/x-ms-wmv",
    "audio/basic",
    "audio/aiff",
    "audio/mpeg",
    "audio/midi",
    "audio/mp3",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-mpeg",
    "audio/x-m4a",
    "audio/aac",
    "application/pdf",
    "application/x-pdf",
];

/// The file a download serves, as a request hook (`onFileDownloadRequest`) decided: the
/// route serves it instead of looking the file up. Only code in the process sets it (a
/// request extension).
#[derive(Debug, Clone)]
pub struct ServedFile {
    /// Where the bytes are in the storage (`e.servedPath`).
    pub path: String,
    /// The name it is served under (`e.servedName`).
    pub name: String,
    pub protected: bool,
}

/// `GET /api/files/{collection}/{record}/{name}`
pub async fn download(
    State(state): State<AppState>,
    Path((collection, id, name)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    served: Option<Extension<ServedFile>>,
) -> ApiResult<Response> {
    let query = query_map(uri.query());
    let text = |k: &str| {
        query
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let target = match served {
        Some(Extension(served)) => {
            // PB-COMPAT: a hook may serve any stored file, but nothing outside the storage.
            if served.path.split('/').any(|p| p == ".." || p.is_empty()) {
                return Err(ApiError::not_found());
            }
            served
        }
        None => {
            let auth = state
                .app
                .auth()
                .authenticate_file_token(&text("token"))
                .await;
            let info = request_info(auth, &Method::GET, &headers, uri.query());
            let t = state
                .app
                .records()
                .file(&info, &collection, &id, &name, &text("thumb"))
                .await?;
            ServedFile {
                path: t.path,
                name: t.name,
                protected: t.protected,
            }
        }
    };
    let storage = state.app.files().storage();
    let meta = storage
        .head(&target.path)
        .await?
        .ok_or_else(ApiError::not_found)?;

    let mime = content_type(&target.name);
    let essence = mime.split(';').next().unwrap_or("").to_owned();
    let disposition = if INLINE_TYPES.contains(&essence.as_str())
        && !matches!(text("download").as_str(), "1" | "true" | "t")
    {
        "inline"
    } else {
        "attachment"
    };
    let etag = entity_tag(&meta);
    let mut response = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &etag)
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(meta.last_modified.into()),
        )
        // Protected files are behind a token: no shared cache may keep them.
        .header(
            header::CACHE_CONTROL,
            if target.protected {
                "private, max-age=2592000"
            } else {
                "max-age=2592000, stale-while-revalidate=86400"
            },
        )
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "{disposition}; filename=\"{}\"",
                target.name.replace('"', "")
            ),
        )
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");

    if not_modified(&headers, &etag, &meta) {
        return Ok(response
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_default());
    }
    let range = match requested_range(&headers, &etag, meta.size) {
        Ok(range) => range,
        Err(()) => {
            return Ok(response
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{}", meta.size))
                .body(Body::empty())
                .unwrap_or_default());
        }
    };
    let content = storage.read(&target.path, range.clone()).await?;
    response = response.header(header::CONTENT_TYPE, mime).header(
        header::CONTENT_LENGTH,
        content.range.end - content.range.start,
    );
    if range.is_some() {
        let (start, end) = (content.range.start, content.range.end);
        response = response.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!(
                "bytes {start}-{}/{}",
                end.saturating_sub(1),
                content.meta.size
            ),
        );
    }
    response
        .body(Body::from_stream(content.body))
        .map_err(|e| ApiError(Error::internal(e)))
}

/// A strong validator for the stored bytes: the store's ETag, or one made of size and time.
fn entity_tag(meta: &Meta) -> String {
    let raw = meta.etag.clone().unwrap_or_else(|| {
        format!(
            "{:x}-{:x}",
            meta.size,
            meta.last_modified.timestamp_millis()
        )
    });
    let raw = raw.trim_matches('"');
    format!("\"{raw}\"")
}

/// RFC 9110: `If-None-Match` decides when present, else `If-Modified-Since` (to the second).
fn not_modified(headers: &HeaderMap, etag: &str, meta: &Meta) -> bool {
    if let Some(list) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return list
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag);
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    since.is_some_and(|since| {
        let since = since
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        meta.last_modified.timestamp() <= i64::try_from(since).unwrap_or(i64::MAX)
    })
}

/// The one byte range asked for: `Ok(None)` for the whole file (no `Range`, an `If-Range`
/// that no longer matches, or several ranges, which are answered whole), `Err` when it
/// cannot be satisfied.
fn requested_range(
    headers: &HeaderMap,
    etag: &str,
    size: u64,
) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != etag)
    {
        return Ok(None);
    }
    let ranges = http_range_header::parse_range_header(value)
        .map_err(|_| ())?
        .validate(size)
        .map_err(|_| ())?;
    match ranges.as_slice() {
        [one] => Ok(Some(*one.start()..one.end() + 1)),
        _ => Ok(None),
    }
}

/// `POST /api/files/token`
pub async fn file_token(
    State(state): State<AppState>,
    Caller(auth): Caller,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "token": state.app.auth().file_token(&auth)? }),
    ))
}

/// `POST /api/settings/test/s3`
pub async fn test_s3(
    State(state): State<AppState>,
    Caller(auth): Caller,
    body: Result<JsonBody, BodyRejection>,
) -> ApiResult<impl IntoResponse> {
    let body = JsonBody::read(
        body,
        Unreadable::Always("An error occurred while loading the submitted data."),
    );
    state.app.test_s3(&auth, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
