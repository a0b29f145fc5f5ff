//! The provider's avatar, downloaded into the file field that `oauth2.mappedFields.avatarURL`
//! names when a sign-up creates a record.
//!
//! Bounded like PocketBase's `filesystem.NewFileFromURL`: http(s) only, a timeout, a size
//! limit; the file is staged on disk like an upload and saved by the record write. A failed
//! download never fails the sign-up (PocketBase logs it and goes on without the avatar).

use std::time::Duration;

use crate::files::Files;
use crate::files::upload::Upload;

/// The most an avatar may weigh.
pub const MAX_AVATAR_BYTES: u64 = 5 << 20;
const TIMEOUT: Duration = Duration::from_secs(15);

/// The avatar at `url`, staged; `Err` says why not (for the log).
pub async fn download(files: &Files, url: &str) -> Result<Upload, String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("not an http(s) URL: {url:?}"));
    }
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = client
        .get(url)
        .header("User-Agent", "oxbase")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("{} answered {}", url, response.status()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_AVATAR_BYTES)
    {
        return Err("the avatar is too large".into());
    }
    let mut staging = files
        .stage(&file_name(url))
        .await
        .map_err(|e| e.to_string())?;
    let mut size = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        size += chunk.len() as u64;
        if size > MAX_AVATAR_BYTES {
            return Err("the avatar is too large".into());
        }
        staging.write(&chunk).await.map_err(|e| e.to_string())?;
    }
    staging.finish().await.map_err(|e| e.to_string())
}

/// The last path segment of the URL (the stored name gets the detected extension anyway).
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let last = path
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty() && !s.contains(':'))
        .unwrap_or("avatar");
    last.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_named_after_the_last_path_segment() {
        assert_eq!(file_name("https://cdn.x.io/a/b/me.png?size=200"), "me.png");
        assert_eq!(file_name("https://cdn.x.io/"), "avatar");
        assert_eq!(file_name("https://cdn.x.io"), "cdn.x.io");
    }

    #[tokio::test]
    async fn only_http_urls_are_downloaded() {
        let dir = tempfile::tempdir().expect("dir");
        let files = Files::open(dir.path()).expect("files");
        for url in [
            "file:///etc/passwd",
            "ftp://x/y.png",
            "",
            "javascript:alert(1)",
        ] {
            assert!(download(&files, url).await.is_err(), "{url}");
        }
    }
}
