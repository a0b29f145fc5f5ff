//! The end-to-end API tests: the real server in-process on a free port, over a fresh data
//! directory per test (`helpers::spawn_app`), one module per resource.

mod helpers;

mod auth;
mod batch;
mod collections;
mod durability;
mod errors;
mod expand;
mod files;
mod health;
mod list;
mod migrate_db;
mod records;
mod realtime;
mod rules_matrix;
mod scale_out;
mod settings;
