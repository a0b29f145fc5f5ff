//! Where backups are kept: `backups/` in the data dir, or the bucket of `backups.s3` when it
//! is enabled, through the same `Storage` as uploaded files (local folder or S3).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::files::{Content, Storage};
use crate::settings::Settings;

/// A backup as `GET /api/backups` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupInfo {
    pub key: String,
    pub size: u64,
    pub modified: String,
}

#[derive(Clone)]
pub struct Vault {
    storage: Storage,
    settings: Settings,
}

impl Vault {
    pub fn open(data_dir: &Path, settings: Settings) -> Result<Vault> {
        Ok(Vault {
            storage: Storage::open(&data_dir.join("backups"))?,
            settings,
        })
    }

    /// The storage, following the `backups.s3` settings as they are now.
    fn storage(&self) -> Result<&Storage> {
        self.storage.configure(&self.settings.backups_s3())?;
        Ok(&self.storage)
    }

    /// The backups, by key.
    pub async fn list(&self) -> Result<Vec<BackupInfo>> {
        Ok(self
            .storage()?
            .list(None)
            .await?
            .into_iter()
            // Only files of the folder itself (no key has a separator).
            .filter(|(key, _)| super::names::valid_key(key))
            .map(|(key, meta)| BackupInfo {
                key,
                size: meta.size,
                modified: crate::dates::format(meta.last_modified),
            })
            .collect())
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.storage()?.head(key).await?.is_some())
    }

    /// Stores the file at `source` as `key` (a rename when the folder is local).
    pub async fn put(&self, key: &str, source: &Path) -> Result<()> {
        let size = tokio::fs::metadata(source)
            .await
            .map_err(Error::internal)?
            .len();
        self.storage()?.put_file(key, source, size).await
    }

    pub async fn read(&self, key: &str) -> Result<Content> {
        self.storage()?.read(key, None).await
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        self.storage()?.delete(key).await
    }

    /// The backup as a local file: where it is when the folder is local, else downloaded
    /// into `work` (a zip is read by seeking, which a stream cannot do).
    pub async fn local_copy(&self, key: &str, work: &Path) -> Result<PathBuf> {
        let storage = self.storage()?;
        if let Some(path) = storage.local_file(key) {
            return Ok(path);
        }
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let mut content = storage.read(key, None).await?;
        let target = work.join("backup.zip");
        let mut out = tokio::fs::File::create(&target)
            .await
            .map_err(Error::internal)?;
        while let Some(chunk) = content.body.next().await {
            out.write_all(&chunk.map_err(Error::internal)?)
                .await
                .map_err(Error::internal)?;
        }
        out.flush().await.map_err(Error::internal)?;
        Ok(target)
    }
}
