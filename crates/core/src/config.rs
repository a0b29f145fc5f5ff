//! What the core needs to open an application.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory; the SQLite file `data.db` lives in it.
    pub data_dir: PathBuf,
    /// Reader threads for SQLite.
    pub readers: usize,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config { data_dir: data_dir.into(), readers: 4 }
    }
}
