//! What the core needs to open an application.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory; the SQLite file `data.db` lives in it.
    pub data_dir: PathBuf,
    /// Reader threads for SQLite.
    pub readers: usize,
    /// `postgres://...`: run on PostgreSQL instead of the SQLite file in `data_dir` (which
    /// still holds local files and uploads being staged).
    pub database_url: Option<String>,
    /// The PostgreSQL pool's size (connections at most).
    pub db_connections: usize,
    /// `redis://...` or `nats://...`: the bus between instances instead of PostgreSQL's
    /// LISTEN/NOTIFY.
    pub pubsub: Option<String>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            readers: 4,
            database_url: None,
            db_connections: 16,
            pubsub: None,
        }
    }
}
