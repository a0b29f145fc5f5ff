//! Files of file fields: uploads staged on disk ([`upload`]), stored names ([`names`]), the
//! storage backend, local or S3 ([`storage`]), and thumbnails made once, on first request
//! ([`thumbs`]). Records decide which files a write keeps; this module moves the bytes.

pub mod names;
pub mod storage;
pub mod thumbs;
pub mod upload;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

pub use storage::{Content, Meta, Storage};
pub use upload::{Staging, Upload};

use crate::error::Result;

/// The path of a stored file.
pub fn file_path(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/{name}")
}

/// The folder holding all of a record's files and thumbnails.
pub fn record_dir(collection_id: &str, record_id: &str) -> String {
    format!("{collection_id}/{record_id}")
}

fn thumbs_dir(file: &str) -> String {
    match file.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/thumbs_{name}"),
        None => format!("thumbs_{file}"),
    }
}

/// What storage a committed write leaves behind: removed files (with their thumbnails) and
/// the folders of deleted records.
#[derive(Debug, Clone, Default)]
pub struct Garbage {
    pub files: Vec<String>,
    pub dirs: Vec<String>,
}

impl Garbage {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
    pub fn extend(&mut self, other: Garbage) {
        self.files.extend(other.files);
        self.dirs.extend(other.dirs);
    }
}

/// The file service.
#[derive(Clone)]
pub struct Files {
    storage: Storage,
    staging: PathBuf,
    /// Thumbnails are made one at a time, so one asked for twice at once is made once.
    thumb_lock: Arc<tokio::sync::Mutex<()>>,
    /// Taken (shared) by each deletion; a backup holds it exclusively while it copies the
    /// files, so that no file its database snapshot names disappears before it is copied.
    deletions: Arc<tokio::sync::RwLock<()>>,
}

impl Files {
    pub fn open(data_dir: &Path) -> Result<Files> {
        let staging = upload::staging_dir(data_dir);
        std::fs::create_dir_all(&staging).map_err(|e| {
            crate::Error::internal(format!("cannot create {}: {e}", staging.display()))
        })?;
        Ok(Files {
            storage: Storage::open(&data_dir.join("storage"))?,
            staging,
            thumb_lock: Arc::default(),
            deletions: Arc::default(),
        })
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Follows the `s3` settings: a bucket when enabled, the local folder otherwise.
    pub fn configure(&self, s3: &Json) -> Result<()> {
        self.storage.configure(s3)
    }

    /// Starts staging an upload named `original` by the client.
    pub async fn stage(&self, original: &str) -> Result<Staging> {
        Staging::create(&self.staging, original).await
    }

    /// Stores staged uploads at their paths. On failure, what was stored is removed again.
    pub async fn store(&self, uploads: &[(String, Upload)]) -> Result<()> {
        for (i, (path, upload)) in uploads.iter().enumerate() {
            if let Err(e) = self
                .storage
                .put_file(path, upload.path(), upload.size)
                .await
            {
                self.discard(uploads[..i].iter().map(|(p, _)| p.clone()).collect())
                    .await;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes files stored for a write that did not commit.
    pub async fn discard(&self, paths: Vec<String>) {
        self.collect(Garbage {
            files: paths,
            dirs: Vec::new(),
        })
        .await;
    }

    /// Holds every deletion of files back until the guard is dropped (a backup copying them);
    /// waits for the deletions running now.
    pub async fn hold_deletions(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.deletions.clone().write_owned().await
    }

    /// Deletes what a committed write left behind. Failures are logged, never returned: the
    /// write has committed and its answer must not change. While a backup holds deletions
    /// back, they run on a task of their own once it is done, so the write is not delayed.
    pub async fn collect(&self, garbage: Garbage) {
        if garbage.is_empty() {
            return;
        }
        match self.deletions.clone().try_read_owned() {
            Ok(_running) => self.delete_now(garbage).await,
            Err(_) => {
                let files = self.clone();
                tokio::spawn(async move {
                    let _running = files.deletions.clone().read_owned().await;
                    files.delete_now(garbage).await;
                });
            }
        }
    }

    async fn delete_now(&self, garbage: Garbage) {
        for file in garbage.files {
            let outcome = async {
                self.storage.delete(&file).await?;
                self.storage.delete_prefix(&thumbs_dir(&file)).await
            };
            if let Err(e) = outcome.await {
                tracing::warn!(file, error = %e, "could not delete a replaced file");
            }
        }
        for dir in garbage.dirs {
            if let Err(e) = self.storage.delete_prefix(&dir).await {
                tracing::warn!(dir, error = %e, "could not delete a deleted record's files");
            }
        }
    }

    /// The path of `thumb` of the image at `file`, made now if it does not exist yet; `None`
    /// when the file is no image thumbnails are made of, or making it failed (the caller
    /// serves the original then, as PocketBase does).
    pub async fn thumbnail(&self, file: &str, spec: &str) -> Option<String> {
        let thumb = thumbs::Thumb::parse(spec)?;
        let (_, name) = file.rsplit_once('/')?;
        let format = thumbs::format_of(name)?;
        let path = format!("{}/{spec}_{name}", thumbs_dir(file));
        if matches!(self.storage.head(&path).await, Ok(Some(_))) {
            return Some(path);
        }
        let _one_at_a_time = self.thumb_lock.lock().await;
        if matches!(self.storage.head(&path).await, Ok(Some(_))) {
            return Some(path);
        }
        let made = async {
            let source = self.storage.read_all(file).await?;
            let encoded =
                tokio::task::spawn_blocking(move || thumbs::render(&source, format, thumb))
                    .await
                    .map_err(crate::Error::internal)??;
            self.storage.put_bytes(&path, encoded).await
        };
        match made.await {
            Ok(()) => Some(path),
            Err(e) => {
                tracing::debug!(file, spec, error = %e, "no thumbnail; serving the original");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_pocketbase_layout() {
        assert_eq!(file_path("c", "r", "a.png"), "c/r/a.png");
        assert_eq!(thumbs_dir("c/r/a.png"), "c/r/thumbs_a.png");
        assert_eq!(record_dir("c", "r"), "c/r");
    }

    #[tokio::test]
    async fn thumbnails_are_made_once_and_removed_with_their_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = Files::open(dir.path()).expect("files");
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::new_rgb8(40, 20)
            .write_to(&mut png, image::ImageFormat::Png)
            .expect("png");
        files
            .storage()
            .put_bytes("c/r/a.png", png.into_inner())
            .await
            .expect("put");
        let thumb = files
            .thumbnail("c/r/a.png", "10x0")
            .await
            .expect("a thumbnail");
        assert_eq!(thumb, "c/r/thumbs_a.png/10x0_a.png");
        let first = files
            .storage()
            .head(&thumb)
            .await
            .expect("head")
            .expect("made");
        assert_eq!(
            files.thumbnail("c/r/a.png", "10x0").await.as_deref(),
            Some(thumb.as_str())
        );
        let again = files
            .storage()
            .head(&thumb)
            .await
            .expect("head")
            .expect("kept");
        assert_eq!(first.last_modified, again.last_modified, "made once");
        assert_eq!(files.thumbnail("c/r/a.png", "bogus").await, None);
        files
            .collect(Garbage {
                files: vec!["c/r/a.png".into()],
                dirs: vec![],
            })
            .await;
        assert!(files.storage().head(&thumb).await.expect("head").is_none());
        assert!(
            files
                .storage()
                .head("c/r/a.png")
                .await
                .expect("head")
                .is_none()
        );
    }
}
