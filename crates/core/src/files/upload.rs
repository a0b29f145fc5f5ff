//! Uploads staged on disk: a request's file parts are streamed into temporary files (never
//! held in memory), sized and typed, then moved into storage by the write that uses them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::names;
use crate::error::{Error, Result};

/// How much of a file's start is kept to detect its type.
const SNIFF_BYTES: usize = 8192;

/// A file part of a request, staged in a temporary file that is removed once the last clone
/// of the upload is dropped.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name the client gave (for messages only).
    pub original: String,
    /// The name it is stored under.
    pub name: String,
    pub size: u64,
    /// The type detected from the content (`text/plain; charset=utf-8`, `image/png`...).
    pub mime: String,
    temp: Arc<TempPath>,
}

impl Upload {
    pub fn path(&self) -> &Path {
        &self.temp
    }
}

/// An upload being written.
pub struct Staging {
    original: String,
    file: tokio::fs::File,
    temp: TempPath,
    size: u64,
    head: Vec<u8>,
}

impl Staging {
    pub(super) async fn create(dir: &Path, original: &str) -> Result<Staging> {
        let dir = dir.to_path_buf();
        let named = tokio::task::spawn_blocking(move || tempfile::NamedTempFile::new_in(dir))
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        let (file, temp) = named.into_parts();
        Ok(Staging {
            original: original.to_owned(),
            file: tokio::fs::File::from_std(file),
            temp,
            size: 0,
            head: Vec::new(),
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await.map_err(Error::internal)
    }

    pub async fn finish(mut self) -> Result<Upload> {
        self.file.flush().await.map_err(Error::internal)?;
        let mime = detect_mime(&self.head, &self.original);
        let detected_ext = infer::get(&self.head)
            .map(|t| format!(".{}", t.extension()))
            .unwrap_or_default();
        let name = names::stored_name(&self.original, &detected_ext);
        Ok(Upload {
            original: self.original,
            name,
            size: self.size,
            mime,
            temp: Arc::new(self.temp),
        })
    }
}

/// The staging folder inside the data dir (same filesystem as local storage).
pub(super) fn staging_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(".uploads")
}

/// The content type of a file: magic numbers first, then text (by its extension's type when
/// that is a text type), then the extension's type.
pub fn detect_mime(head: &[u8], name: &str) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    let guessed = mime_guess::from_path(name).first();
    if looks_like_text(head) {
        return match guessed {
            Some(m) if m.type_() == mime_guess::mime::TEXT => {
                format!("{}; charset=utf-8", m.essence_str())
            }
            Some(m)
                if m.subtype() == mime_guess::mime::JSON
                    || m.subtype() == mime_guess::mime::XML =>
            {
                m.essence_str().to_owned()
            }
            _ => "text/plain; charset=utf-8".to_owned(),
        };
    }
    guessed.map_or_else(
        || "application/octet-stream".to_owned(),
        |m| m.essence_str().to_owned(),
    )
}

/// The type a stored file is served with, from its name (text types in UTF-8).
pub fn content_type(name: &str) -> String {
    match mime_guess::from_path(name).first() {
        Some(m) if m.type_() == mime_guess::mime::TEXT => {
            format!("{}; charset=utf-8", m.essence_str())
        }
        Some(m) => m.essence_str().to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

/// UTF-8 without NUL bytes (a multi-byte character cut at the end of the sample is fine).
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// Whether `mime` (possibly with parameters) is one of `allowed` (types without parameters).
pub fn mime_allowed(mime: &str, allowed: &[String]) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    allowed.is_empty()
        || allowed
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(essence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_content_first() {
        assert_eq!(
            detect_mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "fake.txt"),
            "image/png"
        );
        assert_eq!(detect_mime(b"hello", "a.txt"), "text/plain; charset=utf-8");
        assert_eq!(detect_mime(b"a,b\n1,2", "a.csv"), "text/csv; charset=utf-8");
        assert_eq!(detect_mime(b"{\"a\":1}", "a.json"), "application/json");
        assert_eq!(detect_mime(b"hello", "noext"), "text/plain; charset=utf-8");
        assert_eq!(
            detect_mime(&[0, 1, 2, 0xff], "blob"),
            "application/octet-stream"
        );
    }

    #[test]
    fn allowed_types_ignore_parameters() {
        let allowed = vec!["text/plain".to_owned(), "image/png".to_owned()];
        assert!(mime_allowed("text/plain; charset=utf-8", &allowed));
        assert!(!mime_allowed("application/pdf", &allowed));
        assert!(mime_allowed("anything/at-all", &[]));
    }

    #[tokio::test]
    async fn staged_files_are_sized_typed_and_removed_when_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut staging = Staging::create(dir.path(), "../x/Report 2024.TXT")
            .await
            .expect("staging");
        staging.write(b"hello ").await.expect("write");
        staging.write(b"world").await.expect("write");
        let upload = staging.finish().await.expect("finish");
        assert_eq!(upload.size, 11);
        assert_eq!(upload.mime, "text/plain; charset=utf-8");
        assert!(
            upload.name.starts_with("report_2024_") && upload.name.ends_with(".TXT"),
            "{}",
            upload.name
        );
        let path = upload.path().to_path_buf();
        assert_eq!(std::fs::read(&path).expect("staged"), b"hello world");
        let clone = upload.clone();
        drop(upload);
        assert!(path.exists(), "a clone keeps the staged file");
        drop(clone);
        assert!(!path.exists());
    }
}
