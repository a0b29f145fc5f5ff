//! The HTTP client that talks to providers: bounded time, bounded answers.

use std::time::Duration;

use serde_json::Value as Json;

use crate::error::{Error, Result};

pub(super) fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(Error::internal)
}

/// The provider refused or failed: the client sees PocketBase's message, the log the why.
pub(super) fn failed(what: &str, detail: impl std::fmt::Display) -> Error {
    tracing::warn!(%detail, "oauth2 {what} failed");
    Error::bad_request(if what.starts_with("token") {
        "Failed to fetch OAuth2 token."
    } else {
        "Failed to fetch OAuth2 user."
    })
}

/// The most a provider's JSON answer (user, keys, discovery) may weigh.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Reads a response's JSON body, at most `MAX_ANSWER_BYTES`.
pub(super) async fn read_json(
    mut response: reqwest::Response,
) -> std::result::Result<Json, String> {
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err("the answer is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    let json: Json = serde_json::from_slice(&body).map_err(|e| format!("{status}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{status} {json}"));
    }
    Ok(json)
}

/// A GET of public JSON (key sets, discovery documents).
pub(super) async fn bounded_json(url: &str) -> std::result::Result<Json, String> {
    let response = client()
        .map_err(|e| e.to_string())?
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    read_json(response).await
}
