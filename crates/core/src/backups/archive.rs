//! The backup zip: `data.db` (the database snapshot) and `storage/` (the local files), as
//! PocketBase lays out its own. Written entry by entry from files on disk and read back
//! entry by entry, so an archive is never held in memory. Extraction is zip-slip proof: only
//! relative names without `..` are taken, symbolic links and anything else are skipped.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::{Error, Result};

/// The database's name in the archive.
pub const DATABASE: &str = "data.db";
/// The folder of stored files in the archive (and in the data dir).
pub const STORAGE: &str = "storage";

/// Writes the archive at `target`: `database` as `data.db`, then every file below `storage`
/// (when it exists) under `storage/`.
pub fn write(target: &Path, database: &Path, storage: &Path) -> Result<()> {
    let file = File::create(target).map_err(Error::internal)?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    add_file(&mut zip, DATABASE, database)?;
    let mut pending = vec![storage.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(std::result::Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file()
                && let Ok(relative) = path.strip_prefix(storage)
            {
                let name = format!(
                    "{STORAGE}/{}",
                    relative.to_string_lossy().replace('\\', "/")
                );
                add_file(&mut zip, &name, &path)?;
            }
        }
    }
    let mut out = zip.finish().map_err(Error::internal)?;
    out.flush().map_err(Error::internal)?;
    out.get_ref().sync_all().map_err(Error::internal)?;
    Ok(())
}

fn add_file<W: Write + std::io::Seek>(
    zip: &mut ZipWriter<W>,
    name: &str,
    path: &Path,
) -> Result<()> {
    let mut source = match File::open(path) {
        Ok(f) => f,
        // A file deleted since it was listed (a thumbnail, say) is simply not in the backup.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::internal(e)),
    };
    let size = source.metadata().map_err(Error::internal)?.len();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(size >= u64::from(u32::MAX));
    zip.start_file(name, options).map_err(Error::internal)?;
    std::io::copy(&mut source, zip).map_err(Error::internal)?;
    Ok(())
}

/// Extracts the archive at `source` into the folder `target` (created): `data.db` and the
/// files below `storage/`; fails when the archive is unreadable or has no `data.db`.
pub fn extract(source: &Path, target: &Path) -> Result<()> {
    let invalid = || Error::bad_request("The backup is not a valid backup archive.");
    let file = File::open(source).map_err(Error::internal)?;
    let mut zip = ZipArchive::new(std::io::BufReader::new(file)).map_err(|_| invalid())?;
    std::fs::create_dir_all(target).map_err(Error::internal)?;
    let mut has_database = false;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| invalid())?;
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        if entry.is_dir() || entry.is_symlink() || !wanted(&name) {
            continue;
        }
        has_database |= name == Path::new(DATABASE);
        let path = target.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::internal)?;
        }
        let mut out = File::create(&path).map_err(Error::internal)?;
        std::io::copy(&mut entry, &mut out).map_err(|_| invalid())?;
    }
    if !has_database {
        return Err(Error::bad_request(
            "The backup has no data.db file to restore.",
        ));
    }
    Ok(())
}

/// `data.db`, or a file below `storage/` (relative, no `..`: `enclosed_name` checked that).
fn wanted(name: &Path) -> bool {
    name == Path::new(DATABASE) || (name.starts_with(STORAGE) && name != Path::new(STORAGE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_extracts_to_what_was_written() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("snapshot.db");
        std::fs::write(&db, b"database").expect("db");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(storage.join("c/r")).expect("dirs");
        std::fs::write(storage.join("c/r/a.txt"), b"file a").expect("file");
        let zip = dir.path().join("b.zip");
        write(&zip, &db, &storage).expect("written");
        let out = dir.path().join("out");
        extract(&zip, &out).expect("extracted");
        assert_eq!(std::fs::read(out.join("data.db")).expect("db"), b"database");
        assert_eq!(
            std::fs::read(out.join("storage/c/r/a.txt")).expect("file"),
            b"file a"
        );
    }

    #[test]
    fn extraction_skips_paths_that_leave_the_target() {
        let dir = tempfile::tempdir().expect("dir");
        let zip_path = dir.path().join("evil.zip");
        let mut zip = ZipWriter::new(File::create(&zip_path).expect("create"));
        for name in [
            "data.db",
            "../escaped.txt",
            "/abs.txt",
            "storage/../../up.txt",
            "other.txt",
        ] {
            zip.start_file(name, SimpleFileOptions::default())
                .expect("entry");
            zip.write_all(b"x").expect("write");
        }
        zip.finish().expect("finish");
        let out = dir.path().join("out");
        extract(&zip_path, &out).expect("extracted");
        assert!(out.join("data.db").exists());
        assert!(!dir.path().join("escaped.txt").exists());
        assert!(!dir.path().join("up.txt").exists());
        assert!(!out.join("other.txt").exists());
        assert!(!Path::new("/abs.txt").exists() || !out.join("abs.txt").exists());
    }

    #[test]
    fn an_archive_without_database_or_not_a_zip_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let not_zip = dir.path().join("x.zip");
        std::fs::write(&not_zip, b"hello").expect("write");
        assert!(extract(&not_zip, &dir.path().join("a")).is_err());
        let empty = dir.path().join("e.zip");
        ZipWriter::new(File::create(&empty).expect("create"))
            .finish()
            .expect("finish");
        assert!(extract(&empty, &dir.path().join("b")).is_err());
    }
}
