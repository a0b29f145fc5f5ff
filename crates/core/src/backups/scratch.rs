//! The folders backups and restores work in: `<dir>/.backups_temp/<one per app opened>/`, on
//! the data dir's disk (so files move by rename).
//!
//! Several processes may open one data dir at once (on PostgreSQL: a server and an `oxbase
//! backup` command beside it), so none may empty the whole folder. Each app holds a lock on
//! `<its folder>.lock` while it lives; at start, a folder whose lock nobody holds is what an
//! interrupted process left, and goes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};

/// Younger entries are left alone by the clean-up: one may be a folder another process is
/// creating, between its lock file's creation and its lock.
const SETTLING: Duration = Duration::from_secs(60);

/// This app's folder; removed when the last `WorkDir` in it and the app are gone.
#[derive(Debug)]
pub struct Area {
    dir: PathBuf,
    /// Locked while the folder is in use; deleted with it.
    lock: tempfile::NamedTempFile,
}

/// One backup's or restore's folder, removed with its content when dropped.
#[derive(Debug)]
pub struct WorkDir {
    // Declared first: dropped before the area.
    dir: tempfile::TempDir,
    _area: Arc<Area>,
}

impl WorkDir {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Where every app's folder is, below the data dir (backups never include it).
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join(".backups_temp")
}

impl Area {
    /// Removes the folders nobody holds, and makes this app's.
    pub fn open(data_dir: &Path) -> Result<Arc<Area>> {
        let root = root(data_dir);
        std::fs::create_dir_all(&root).map_err(Error::internal)?;
        clean(&root, SETTLING);
        let lock = tempfile::Builder::new()
            .prefix("app_")
            .suffix(".lock")
            .tempfile_in(&root)
            .map_err(Error::internal)?;
        lock.as_file().try_lock().map_err(Error::internal)?;
        let dir = folder_of(lock.path()).ok_or_else(|| Error::internal("a lock file name"))?;
        std::fs::create_dir(&dir).map_err(Error::internal)?;
        Ok(Arc::new(Area { dir, lock }))
    }

    /// A new work folder whose names start with `prefix`.
    pub fn work_dir(self: &Arc<Area>, prefix: &str) -> Result<WorkDir> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&self.dir)
            .map_err(Error::internal)?;
        Ok(WorkDir {
            dir,
            _area: self.clone(),
        })
    }
}

impl Drop for Area {
    fn drop(&mut self) {
        // Before the lock file goes (with `self.lock`): nobody may take the folder meanwhile.
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = self.lock.as_file().unlock();
    }
}

/// `<root>/<name>` for the lock file `<root>/<name>.lock`.
fn folder_of(lock: &Path) -> Option<PathBuf> {
    let name = lock.file_name()?.to_str()?.strip_suffix(".lock")?;
    Some(lock.with_file_name(name))
}

/// Removes from `root` every folder (and lock file) older than `settling` whose lock nobody
/// holds, or that has no lock file (what an older version left).
fn clean(root: &Path, settling: Duration) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let settled = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= settling));
        if !settled {
            continue;
        }
        let (dir, lock) = match folder_of(&path) {
            Some(dir) => (dir, path),
            None => {
                let mut lock = path.clone().into_os_string();
                lock.push(".lock");
                (path, PathBuf::from(lock))
            }
        };
        let held = match File::open(&lock) {
            // Held by a live app, or about to be taken by another process's clean-up.
            Ok(file) => file.try_lock().is_err(),
            Err(_) => false,
        };
        if !held {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_file(&lock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path) {
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        File::open(path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
    }

    #[test]
    fn an_app_keeps_its_folder_while_another_opens_and_clean_up_takes_the_abandoned_ones() {
        let data = tempfile::tempdir().expect("dir");
        let server = Area::open(data.path()).expect("area");
        let backup = server.work_dir("backup_").expect("work dir");
        std::fs::write(backup.path().join("data.db"), b"db").expect("write");
        age(&server.dir);
        age(server.lock.path());
        // What an interrupted process left: a folder with its lock file, and one without.
        let root = root(data.path());
        std::fs::create_dir_all(root.join("app_gone/restore_x")).expect("dirs");
        std::fs::write(root.join("app_gone.lock"), b"").expect("lock");
        std::fs::create_dir_all(root.join("backup_old")).expect("dirs");
        for stale in ["app_gone", "app_gone.lock", "backup_old"] {
            age(&root.join(stale));
        }
        let command = Area::open(data.path()).expect("another area");
        assert!(backup.path().join("data.db").exists(), "in use: kept");
        for stale in ["app_gone", "app_gone.lock", "backup_old"] {
            assert!(!root.join(stale).exists(), "{stale} removed");
        }
        drop(command);
        let server_dir = server.dir.clone();
        drop(server);
        assert!(server_dir.exists(), "a work dir still uses it");
        drop(backup);
        assert!(!server_dir.exists(), "gone with its last user");
    }
}
