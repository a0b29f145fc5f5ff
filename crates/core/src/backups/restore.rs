//! Putting a backup back. `Backups::prepare` extracts it; `apply` replaces the app's data with
//! it while the app is closed; whoever runs the app then opens it again on the same data dir
//! (the server does so in place, on the same listener: see the `oxbase` crate's
//! `Application`).
//!
//! SQLite: the restored `data.db` is copied into the live file by SQLite's backup API (the
//! file, its WAL and any connection still open stay valid). PostgreSQL: the app's tables are
//! dropped and copied again from the snapshot, under the startup lock; the other instances
//! reload their schema and settings when this one reopens (`App::announce_restore`). Then the
//! local `storage/` folder is swapped for the backup's.

use std::path::{Path, PathBuf};

use super::{Running, archive};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::transfer::Progress;

/// A backup extracted and checked, ready to apply; its work folder goes when it is dropped.
pub struct Restore {
    pub(super) work: super::scratch::WorkDir,
    pub(super) extracted: PathBuf,
    /// Keeps the app's "restore running" mark until the app is replaced.
    pub(super) running: Option<Running>,
}

impl Restore {
    /// The extracted backup: `data.db` and `storage/`.
    pub fn dir(&self) -> &Path {
        &self.extracted
    }
}

impl std::fmt::Debug for Restore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Restore")
            .field("work", &self.work.path())
            .finish_non_exhaustive()
    }
}

/// Replaces the data of the app `config` opens by the backup in `restore`. The app must be
/// closed (on PostgreSQL: this instance's; the others keep serving and reload after).
pub async fn apply(
    config: &Config,
    restore: &Restore,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<()> {
    let database = restore.dir().join(archive::DATABASE);
    match &config.database_url {
        None => {
            let target = config.data_dir.join("data.db");
            tokio::task::spawn_blocking(move || {
                crate::store::sqlite::restore_file(&target, &database)
            })
            .await
            .map_err(Error::internal)??;
        }
        Some(url) => {
            crate::transfer::replace_postgres(url, &database, progress).await?;
        }
    }
    swap_storage(
        &config.data_dir,
        &restore.dir().join(archive::STORAGE),
        restore.work.path(),
    )
}

/// Puts the backup's `storage/` folder (or an empty one) where the data dir's is, by rename:
/// the current one goes into `work`, deleted with it.
fn swap_storage(data_dir: &Path, restored: &Path, work: &Path) -> Result<()> {
    let live = data_dir.join(archive::STORAGE);
    if !restored.exists() {
        std::fs::create_dir_all(restored).map_err(Error::internal)?;
    }
    if live.exists() {
        std::fs::rename(&live, work.join("old_storage")).map_err(Error::internal)?;
    }
    std::fs::rename(restored, &live).map_err(Error::internal)
}
