//! `--dev`: a change in the hooks folder restarts the server, as PocketBase does, so edited
//! hook files take effect at once. The folder is polled (names, sizes, modification times)
//! twice a second; then the server stops gracefully and the process replaces itself with the
//! same command.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const POLL: Duration = Duration::from_millis(500);

/// Resolves once something in `dir` changed (a file added, removed, or written).
pub async fn changed(dir: PathBuf) {
    let first = snapshot(&dir);
    loop {
        tokio::time::sleep(POLL).await;
        if snapshot(&dir) != first {
            tracing::info!(dir = %dir.display(), "the hooks changed: restarting");
            return;
        }
    }
}

fn snapshot(dir: &Path) -> Vec<(String, u64, Option<SystemTime>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                meta.len(),
                meta.modified().ok(),
            ))
        })
        .collect();
    files.sort();
    files
}

/// Replaces this process by the same command started afresh; returns only on failure.
#[cfg(unix)]
pub fn restart() -> String {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e.to_string(),
    };
    std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .exec()
        .to_string()
}

#[cfg(not(unix))]
pub fn restart() -> String {
    "restarting on a hooks change needs a Unix system".into()
}
