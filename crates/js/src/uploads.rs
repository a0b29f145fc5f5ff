//! Files a hook holds (`$filesystem.fileFromBytes/Path/URL`, `e.findUploadedFiles`): each is
//! staged on disk as an upload is, and crosses to JavaScript as its description and a token.
//! `record.set("doc", file); $app.save(record)` hands the staged upload to the write, which
//! stores it as it stores a request's upload.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, header};
use oxbase_core::files::{Files, Upload};
use parking_lot::Mutex;
use serde_json::{Map, Value as Json, json};

/// How long a staged file waits for the write that uses it (an invocation's limit is far
/// shorter; a file no write took is then removed).
const KEEP: Duration = Duration::from_secs(600);

/// The staged files by token.
#[derive(Default)]
pub struct Staged(Mutex<HashMap<String, (Instant, Upload)>>);

impl Staged {
    /// Keeps `upload`; its description for JavaScript (PocketBase's `File` fields).
    pub fn put(&self, upload: Upload) -> Json {
        let token = oxbase_core::ids::random_string(24);
        let out = json!({
            "__file": token,
            "name": upload.name,
            "originalName": upload.original,
            "size": upload.size,
        });
        let mut map = self.0.lock();
        let now = Instant::now();
        map.retain(|_, (at, _)| now.duration_since(*at) < KEEP);
        map.insert(token, (now, upload));
        out
    }

    pub fn get(&self, token: &str) -> Option<Upload> {
        self.0.lock().get(token).map(|(_, u)| u.clone())
    }
}

/// Stages `bytes` as a file named `original`.
pub async fn stage(files: &Files, original: &str, bytes: &[u8]) -> oxbase_core::Result<Upload> {
    let mut staging = files.stage(original).await?;
    staging.write(bytes).await?;
    staging.finish().await
}

/// The file parts of a multipart body by key (staged), and its text values; `None` when the
/// body is not multipart.
pub async fn from_multipart(
    files: &Files,
    headers: &HeaderMap,
    body: Bytes,
) -> Option<(Map<String, Json>, HashMap<String, Vec<Upload>>)> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    let request = axum::http::Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body))
        .ok()?;
    let mut multipart = Multipart::from_request(request, &()).await.ok()?;
    let mut values = Map::new();
    let mut uploads: HashMap<String, Vec<Upload>> = HashMap::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        match field.file_name().map(str::to_owned) {
            Some(original) => {
                let Ok(bytes) = field.bytes().await else {
                    break;
                };
                match stage(files, &original, &bytes).await {
                    Ok(upload) => uploads.entry(name).or_default().push(upload),
                    Err(e) => {
                        tracing::error!(target: "oxbase::hooks", error = %e, "cannot stage an upload");
                    }
                }
            }
            None => {
                let Ok(text) = field.text().await else { break };
                values.entry(name).or_insert(Json::String(text));
            }
        }
    }
    Some((values, uploads))
}
