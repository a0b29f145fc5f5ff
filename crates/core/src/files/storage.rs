//! Where files live: a folder inside the data dir, or an S3-compatible bucket, both through
//! `object_store`, so every other part of oxbase reads and writes them the same way.
//! Layout (PocketBase's): `<collectionId>/<recordId>/<name>`, thumbnails in
//! `<collectionId>/<recordId>/thumbs_<name>/<size>_<name>`.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    ClientOptions, GetOptions, GetRange, GetResultPayload, ObjectStore, ObjectStoreExt, PutPayload,
    WriteMultipart,
};
use serde_json::Value as Json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{Error, Result};

/// Reads of local files for downloads (object_store's own local stream reads 8 KiB at a time).
const READ_CHUNK: usize = 256 << 10;

/// Parts of a streamed upload: S3 needs at least 5 MiB per part; this bounds the memory one
/// upload takes to a few parts.
const PART_BYTES: usize = 8 << 20;
const PARTS_IN_FLIGHT: usize = 2;

/// The path as it was given (`Path::from` escapes some characters, such as `%` and `#`, in
/// the names it keeps), for a listing to name files as they are read and written.
fn unescaped(location: &Path) -> String {
    location
        .parts()
        .map(|part| {
            percent_encoding::percent_decode_str(part.as_ref())
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A stored file's metadata.
#[derive(Debug, Clone)]
pub struct Meta {
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub etag: Option<String>,
}

/// A part of a stored file, read as a stream.
pub struct Content {
    pub meta: Meta,
    pub range: Range<u64>,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// The current storage backend; replaced when the `s3` settings change.
#[derive(Clone)]
pub struct Storage {
    local: Arc<dyn ObjectStore>,
    /// The same store as `local`, for where its files are on disk.
    local_fs: Arc<LocalFileSystem>,
    current: Arc<RwLock<Arc<dyn ObjectStore>>>,
}

impl Storage {
    pub fn open(root: &FsPath) -> Result<Storage> {
        std::fs::create_dir_all(root)
            .map_err(|e| Error::internal(format!("cannot create {}: {e}", root.display())))?;
        let local_fs = Arc::new(
            LocalFileSystem::new_with_prefix(root)
                .map_err(Error::internal)?
                .with_automatic_cleanup(true),
        );
        let local: Arc<dyn ObjectStore> = local_fs.clone();
        Ok(Storage {
            local: local.clone(),
            local_fs,
            current: Arc::new(RwLock::new(local)),
        })
    }

    /// Where the local folder keeps `path` (object_store's name for it: a character it
    /// escapes, such as `%` or `#`, is escaped on disk too), when it is the storage now.
    fn local_path(&self, store: &Arc<dyn ObjectStore>, path: &str) -> Option<PathBuf> {
        if !Arc::ptr_eq(store, &self.local) {
            return None;
        }
        self.local_fs.path_to_filesystem(&Path::from(path)).ok()
    }

    fn store(&self) -> Arc<dyn ObjectStore> {
        self.current.read().clone()
    }

    /// Switches to the bucket the `s3` settings describe, or back to the local folder when
    /// they are disabled.
    pub fn configure(&self, s3: &Json) -> Result<()> {
        let next = if s3.get("enabled").and_then(Json::as_bool).unwrap_or(false) {
            Arc::new(s3_store(s3)?)
        } else {
            self.local.clone()
        };
        *self.current.write() = next;
        Ok(())
    }

    /// Moves a staged file into storage: a rename into the local folder (the staging folder is
    /// on the same disk), else a copy streamed in bounded parts.
    pub async fn put_file(&self, path: &str, source: &FsPath, size: u64) -> Result<()> {
        let store = self.store();
        if let Some(target) = self.local_path(&store, path) {
            if let Some(dir) = target.parent() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(Error::internal)?;
            }
            if tokio::fs::rename(source, &target).await.is_ok() {
                return Ok(());
            }
        }
        let location = Path::from(path);
        let mut file = tokio::fs::File::open(source)
            .await
            .map_err(Error::internal)?;
        if size <= PART_BYTES as u64 {
            let mut data = Vec::with_capacity(size as usize);
            file.read_to_end(&mut data).await.map_err(Error::internal)?;
            store
                .put(&location, PutPayload::from(data))
                .await
                .map_err(storage_error)?;
            return Ok(());
        }
        let upload = store
            .put_multipart(&location)
            .await
            .map_err(storage_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).await.map_err(Error::internal)?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(storage_error)?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(storage_error)?;
        Ok(())
    }

    pub async fn put_bytes(&self, path: &str, data: Vec<u8>) -> Result<()> {
        self.store()
            .put(&Path::from(path), PutPayload::from(data))
            .await
            .map_err(storage_error)
            .map(|_| ())
    }

    /// The metadata of a file, `None` when there is none.
    pub async fn head(&self, path: &str) -> Result<Option<Meta>> {
        match self.store().head(&Path::from(path)).await {
            Ok(m) => Ok(Some(Meta {
                size: m.size,
                last_modified: m.last_modified,
                etag: m.e_tag,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Reads `range` of a file (all of it when `None`).
    pub async fn read(&self, path: &str, range: Option<Range<u64>>) -> Result<Content> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self
            .store()
            .get_opts(&Path::from(path), options)
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => Error::not_found(),
                e => storage_error(e),
            })?;
        let meta = Meta {
            size: got.meta.size,
            last_modified: got.meta.last_modified,
            etag: got.meta.e_tag.clone(),
        };
        let range = got.range.clone();
        let body = match got.payload {
            GetResultPayload::File(file, _) => local_stream(file, range.clone()).await?,
            GetResultPayload::Stream(stream) => stream.map_err(std::io::Error::other).boxed(),
        };
        Ok(Content { meta, range, body })
    }

    /// The whole file in memory (thumbnail sources only: images within their field's limit).
    pub async fn read_all(&self, path: &str) -> Result<Vec<u8>> {
        let got = self
            .store()
            .get(&Path::from(path))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => Error::not_found(),
                e => storage_error(e),
            })?;
        Ok(got.bytes().await.map_err(storage_error)?.to_vec())
    }

    /// Deletes a file; a missing one is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        match self.store().delete(&Path::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Every file below `prefix` (everything when `None`), with its metadata, by path.
    pub async fn list(&self, prefix: Option<&str>) -> Result<Vec<(String, Meta)>> {
        let prefix = prefix.map(Path::from);
        let mut files: Vec<(String, Meta)> = self
            .store()
            .list(prefix.as_ref())
            .map_ok(|m| {
                (
                    unescaped(&m.location),
                    Meta {
                        size: m.size,
                        last_modified: m.last_modified,
                        etag: m.e_tag,
                    },
                )
            })
            .try_collect()
            .await
            .map_err(storage_error)?;
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }

    /// Where a file is on disk, when the storage is the local folder (a reader that needs to
    /// seek, such as a zip reader, opens it there instead of copying it first).
    pub fn local_file(&self, path: &str) -> Option<PathBuf> {
        self.local_path(&self.store(), path)
    }

    /// Deletes every file below `prefix` (a folder).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let store = self.store();
        let files: Vec<_> = store
            .list(Some(&Path::from(prefix)))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(storage_error)?;
        for location in files {
            match store.delete(&location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(storage_error(e)),
            }
        }
        Ok(())
    }

    /// Writes, reads back and deletes a probe file with the given `s3` settings: the check
    /// behind `POST /api/settings/test/s3`.
    pub async fn test_s3(s3: &Json) -> Result<()> {
        let store = s3_store(s3)?;
        let probe = Path::from(format!("oxbase_test_{}.txt", crate::ids::random_string(12)));
        let check = async {
            store
                .put(&probe, PutPayload::from_static(b"oxbase storage check"))
                .await?;
            let read = store.get(&probe).await?.bytes().await?;
            store.delete(&probe).await?;
            Ok::<bool, object_store::Error>(read.as_ref() == b"oxbase storage check")
        };
        match check.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::bad_request(
                "Failed to test the S3 filesystem. Raw error: \nthe test file read back differently.",
            )),
            Err(e) => Err(Error::bad_request(format!(
                "Failed to test the S3 filesystem. Raw error: \n{e}"
            ))),
        }
    }
}

/// `range` of an open local file, streamed in large reads.
async fn local_stream(
    file: std::fs::File,
    range: Range<u64>,
) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
    let mut file = tokio::fs::File::from_std(file);
    file.seek(std::io::SeekFrom::Start(range.start))
        .await
        .map_err(Error::internal)?;
    let limited = file.take(range.end - range.start);
    Ok(tokio_util::io::ReaderStream::with_capacity(limited, READ_CHUNK).boxed())
}

fn s3_store(s3: &Json) -> Result<object_store::aws::AmazonS3> {
    let text = |key: &str| {
        s3.get(key)
            .and_then(Json::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let endpoint = text("endpoint");
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(text("bucket"))
        .with_region(text("region"))
        .with_access_key_id(text("accessKey"))
        .with_secret_access_key(text("secret"))
        .with_virtual_hosted_style_request(
            !s3.get("forcePathStyle")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        )
        .with_client_options(ClientOptions::new().with_allow_http(endpoint.starts_with("http://")));
    if !endpoint.is_empty() {
        builder = builder.with_endpoint(endpoint);
    }
    builder.build().map_err(|e| {
        Error::bad_request(format!(
            "Failed to initialize the S3 storage. Raw error: {e}"
        ))
    })
}

fn storage_error(e: object_store::Error) -> Error {
    Error::internal(format!("storage: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_storage_puts_reads_ranges_and_deletes_folders() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::open(&dir.path().join("storage")).expect("storage");
        let source = dir.path().join("src.bin");
        let data: Vec<u8> = (0..(PART_BYTES + 12345)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&source, &data).expect("source");
        storage
            .put_file("c1/r1/big.bin", &source, data.len() as u64)
            .await
            .expect("multipart put");
        storage
            .put_bytes("c1/r1/thumbs_big.bin/10x10_big.bin", vec![1, 2, 3])
            .await
            .expect("put");
        let meta = storage
            .head("c1/r1/big.bin")
            .await
            .expect("head")
            .expect("exists");
        assert_eq!(meta.size, data.len() as u64);
        assert!(meta.etag.is_some());
        let part = storage
            .read("c1/r1/big.bin", Some(10..20))
            .await
            .expect("range");
        assert_eq!(part.range, 10..20);
        let bytes: Vec<Bytes> = part.body.try_collect().await.expect("body");
        assert_eq!(bytes.concat(), &data[10..20]);
        storage
            .delete_prefix("c1/r1/thumbs_big.bin")
            .await
            .expect("delete thumbs");
        assert!(
            storage
                .head("c1/r1/thumbs_big.bin/10x10_big.bin")
                .await
                .expect("head")
                .is_none()
        );
        storage.delete("c1/r1/big.bin").await.expect("delete");
        storage
            .delete("c1/r1/big.bin")
            .await
            .expect("a second delete is fine");
        assert!(storage.head("c1/r1/big.bin").await.expect("head").is_none());
    }

    #[tokio::test]
    async fn names_object_store_escapes_are_found_where_they_were_put() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::open(&dir.path().join("backups")).expect("storage");
        let name = "Weird Name%#[x]~{y}|<z>^`q`.zip";
        let source = dir.path().join("staged.zip");
        std::fs::write(&source, b"zip").expect("source");
        storage.put_file(name, &source, 3).await.expect("put");
        assert!(storage.head(name).await.expect("head").is_some());
        assert!(storage.local_file(name).is_some_and(|p| p.exists()));
        let listed: Vec<String> = storage
            .list(None)
            .await
            .expect("list")
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        assert_eq!(listed, vec![name.to_owned()]);
        assert_eq!(storage.read_all(name).await.expect("read"), b"zip");
        storage.delete(name).await.expect("delete");
        assert!(storage.head(name).await.expect("head").is_none());
    }
}
