//! The events of `onSettingsUpdateRequest`, `onBatchRequest` and `onFileDownloadRequest`, made
//! as PocketBase makes them: after the request was checked and read, carrying what the action
//! will use (the settings to save, the batch to run, the file to serve). A request that fails
//! those checks fires no hook: it goes on to the built-in route, which refuses it.

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{Method, header};
use oxbase_api::routes::files::ServedFile;
use oxbase_core::App;
use oxbase_core::identity::Auth;
use oxbase_core::records::batch::BatchLimits;
use serde_json::{Map, Value as Json, json};

/// `PATCH /api/settings` by a superuser with a body that loads: `e.oldSettings` and
/// `e.newSettings` (the body over them), as `fields` of the event.
pub fn settings(app: &App, auth: &Auth, body: &Bytes) -> Option<Map<String, Json>> {
    if !auth.is_superuser() {
        return None;
    }
    let input = serde_json::from_slice::<Json>(body).ok()?;
    let (old, new) = app.settings().prepare(&input)?;
    Some(fields(json!({"oldSettings": old, "newSettings": new})))
}

/// `POST /api/batch` when batches are on and the body holds 1 to `maxRequests` requests:
/// `e.batch`, each as PocketBase's `InternalRequest` (`body`, `headers`, `method`, `url`).
pub fn batch(app: &App, parts: &Parts, body: &Bytes, http: &Json) -> Option<Map<String, Json>> {
    let limits = BatchLimits::of(app.settings()).ok()?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let payload = if content_type.starts_with("multipart/form-data") {
        serde_json::from_str::<Json>(http["info"]["body"]["@jsonPayload"].as_str()?).ok()?
    } else {
        serde_json::from_slice::<Json>(body).ok()?
    };
    let requests = payload.get("requests")?.as_array()?;
    if requests.is_empty() || requests.len() > limits.max_requests {
        return None;
    }
    let batch: Vec<Json> = requests
        .iter()
        .map(|r| {
            let at = |k: &str| r.get(k).cloned().unwrap_or(Json::Null);
            json!({"body": at("body"), "headers": at("headers"), "method": at("method"), "url": at("url")})
        })
        .collect();
    Some(fields(json!({ "batch": batch })))
}

/// `GET /api/files/{collection}/{record}/{name}` of a file the caller may read: `e.record`,
/// `e.fileField`, `e.servedPath`, `e.servedName` (a thumbnail's when one is served) and
/// `e.thumbError`, with what the route serves unless the hooks change it.
pub async fn file(app: &App, parts: &Parts) -> Option<(Map<String, Json>, ServedFile)> {
    let rest = parts.uri.path().strip_prefix("/api/files/")?;
    let [collection, id, name] = <[&str; 3]>::try_from(rest.split('/').collect::<Vec<_>>()).ok()?;
    let decode = |s: &str| percent_decode(s).filter(|d| !d.is_empty());
    let (collection, id, name) = (decode(collection)?, decode(id)?, decode(name)?);
    let query: Map<String, Json> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
            .collect();
    let text = |k: &str| query.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    let auth = app.auth().authenticate_file_token(&text("token")).await;
    let info =
        oxbase_api::extract::request_info(auth, &Method::GET, &parts.headers, parts.uri.query());
    let thumb = text("thumb");
    let target = app
        .records()
        .file(&info, &collection, &id, &name, &thumb)
        .await
        .ok()?;
    let thumb_error = target
        .thumb_missed
        .then(|| format!("the thumb size {thumb:?} or the original file format are not supported"));
    let mut event = fields(json!({
        "fileField": target.field,
        "servedPath": target.path,
        "servedName": target.name,
        "thumbError": thumb_error,
    }));
    event.insert("record".into(), Json::Object(target.record.data.clone()));
    event.insert("original".into(), Json::Object(target.record.data));
    let served = ServedFile {
        path: target.path,
        name: target.name,
        protected: target.protected,
    };
    Some((event, served))
}

/// An event whose `fields` are set on `e` as they are.
fn fields(values: Json) -> Map<String, Json> {
    let mut event = Map::new();
    event.insert("fields".into(), values);
    event
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}
