//! Files a hook holds (`$filesystem.fileFromBytes/Path/URL`, `e.findUploadedFiles`): each is
//! staged on disk as an upload is, and crosses to JavaScript as its description and a token.
//! `record.set("doc", file); $app.save(record)` hands the staged upload to the write, which
//! stores it as it stores a request's upload. A request's file parts are read from its body
//! (held while its hooks run) and staged only when a hook asks for them.

use std::collections::HashMap;
use std::sync::Arc;
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

/// The staged files by token, and the file parts of the requests whose hooks run now.
#[derive(Default)]
pub struct Staged {
    files: Mutex<HashMap<String, (Instant, Upload)>>,
    requests: Mutex<HashMap<String, Body>>,
}

/// A request's multipart body (its content type and bytes), and its files staged so far by
/// key.
struct Body {
    content_type: String,
    bytes: Bytes,
    staged: HashMap<String, Json>,
}

/// Holds a request's file parts until dropped (once its hooks ran).
pub struct Held {
    staged: Arc<Staged>,
    token: String,
}

impl Held {
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.staged.requests.lock().remove(&self.token);
    }
}

impl Staged {
    /// Keeps a request's multipart body for `e.findUploadedFiles()`; the token names it.
    pub fn hold(self: &Arc<Self>, content_type: String, bytes: Bytes) -> Held {
        let token = oxbase_core::ids::random_string(24);
        self.requests.lock().insert(
            token.clone(),
            Body {
                content_type,
                bytes,
                staged: HashMap::new(),
            },
        );
        Held {
            staged: self.clone(),
            token,
        }
    }

    /// The files of request `token` under `key`, staged on the first ask.
    pub async fn request_files(
        &self,
        files: &Files,
        token: &str,
        key: &str,
    ) -> oxbase_core::Result<Json> {
        let (content_type, bytes) = {
            let requests = self.requests.lock();
            let Some(body) = requests.get(token) else {
                return Ok(Json::Array(Vec::new()));
            };
            if let Some(known) = body.staged.get(key) {
                return Ok(known.clone());
            }
            (body.content_type.clone(), body.bytes.clone())
        };
        let mut list = Vec::new();
        if let Some(mut multipart) = multipart(&content_type, bytes).await {
            while let Ok(Some(field)) = multipart.next_field().await {
                let (Some(original), Some(name)) = (field.file_name(), field.name()) else {
                    continue;
                };
                if name != key {
                    continue;
                }
                let original = original.to_owned();
                let Ok(bytes) = field.bytes().await else {
                    break;
                };
                list.push(self.put(stage(files, &original, &bytes).await?));
            }
        }
        let list = Json::Array(list);
        if let Some(body) = self.requests.lock().get_mut(token) {
            body.staged.insert(key.to_owned(), list.clone());
        }
        Ok(list)
    }

    /// Keeps `upload`; its description for JavaScript (PocketBase's `File` fields).
    pub fn put(&self, upload: Upload) -> Json {
        let token = oxbase_core::ids::random_string(24);
        let out = json!({
            "__file": token,
            "name": upload.name,
            "originalName": upload.original,
            "size": upload.size,
        });
        let mut map = self.files.lock();
        let now = Instant::now();
        map.retain(|_, (at, _)| now.duration_since(*at) < KEEP);
        map.insert(token, (now, upload));
        out
    }

    pub fn get(&self, token: &str) -> Option<Upload> {
        self.files.lock().get(token).map(|(_, u)| u.clone())
    }
}

/// Stages `bytes` as a file named `original`.
pub async fn stage(files: &Files, original: &str, bytes: &[u8]) -> oxbase_core::Result<Upload> {
    let mut staging = files.stage(original).await?;
    staging.write(bytes).await?;
    staging.finish().await
}

/// A multipart body's reader; `None` when it is not multipart.
async fn multipart(content_type: &str, body: Bytes) -> Option<Multipart> {
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
    Multipart::from_request(request, &()).await.ok()
}

/// A multipart body's text values (its files are skipped, not copied), and whether it has
/// files; `None` when the body is not multipart.
pub async fn form_values(headers: &HeaderMap, body: Bytes) -> Option<(Map<String, Json>, bool)> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut multipart = multipart(content_type, body).await?;
    let mut values = Map::new();
    let mut has_files = false;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.file_name().is_some() {
            has_files = true;
            continue;
        }
        let name = field.name().unwrap_or("").to_owned();
        let Ok(text) = field.text().await else { break };
        values.entry(name).or_insert(Json::String(text));
    }
    Some((values, has_files))
}

/// Takes the staged files out of a request hook's record changes (`e.record.set("doc", file)`
/// before `e.next()`): each with its field, to go to the built-in route as file parts.
pub fn split_files(
    staged: &Staged,
    changes: &mut Map<String, Json>,
) -> Result<Vec<(String, Upload)>, String> {
    let token = |v: &Json| v.get("__file").and_then(Json::as_str).map(str::to_owned);
    let lookup = |t: &str| {
        staged
            .get(t)
            .ok_or_else(|| "the file is no longer available".to_owned())
    };
    let mut files = Vec::new();
    let keys: Vec<String> = changes.keys().cloned().collect();
    for key in keys {
        match changes.get_mut(&key) {
            Some(Json::Array(items)) if items.iter().any(|v| token(v).is_some()) => {
                let mut kept = Vec::new();
                for item in items.drain(..) {
                    match token(&item) {
                        Some(t) => files.push((key.clone(), lookup(&t)?)),
                        None => kept.push(item),
                    }
                }
                *items = kept;
            }
            Some(v) => {
                if let Some(t) = token(v) {
                    files.push((key.clone(), lookup(&t)?));
                    changes.remove(&key);
                }
            }
            None => {}
        }
    }
    Ok(files)
}

/// A multipart body of `fields` (sent as one `@jsonPayload` part, which the API merges over
/// the form) and `files`, after `prefix` (an original multipart body's parts, without its
/// closing line); its content type.
pub fn multipart_body(
    boundary: Option<&str>,
    prefix: &[u8],
    fields: &Map<String, Json>,
    files: &[(String, Upload)],
) -> Result<(Bytes, String), String> {
    let boundary = boundary.map_or_else(
        || format!("oxbase{}", oxbase_core::ids::random_string(24)),
        str::to_owned,
    );
    let mut out = prefix.to_vec();
    if !fields.is_empty() {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n{}\r\n",
                Json::Object(fields.clone())
            )
            .as_bytes(),
        );
    }
    for (key, upload) in files {
        let bytes = std::fs::read(upload.path()).map_err(|e| e.to_string())?;
        let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                quote(key),
                quote(&upload.original)
            )
            .as_bytes(),
        );
        out.extend_from_slice(&bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    Ok((Bytes::from(out), content_type))
}
