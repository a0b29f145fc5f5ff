//! One module per resource; each handler is named after PocketBase's action.

pub mod auth;
pub mod backups;
pub mod batch;
pub mod collections;
pub mod crons;
pub mod dead_letters;
pub mod docs;
pub mod files;
#[cfg(feature = "graphql")]
pub mod graphql;
pub mod health;
pub mod install;
pub mod logs;
pub mod metrics;
pub mod realtime;
pub mod records;
pub mod settings;
pub mod sql;
pub mod static_files;
