//! The end-to-end API tests: the real server in-process on a free port, over a fresh data
//! directory per test (`helpers::spawn_app`), one module per resource.

mod helpers;

mod auth;
mod backups;
mod batch;
mod cli;
mod collections;
mod crons;
mod dialect_parity;
mod durability;
mod email_flows;
mod errors;
mod event_pipeline;
mod expand;
mod files;
mod framework;
mod graphql;
mod health;
mod history;
mod hooks;
mod import_pocketbase;
mod list;
mod logs;
mod mail_tls;
mod metrics;
mod migrate_db;
mod migrations;
mod oauth2;
mod oauth2_idp;
mod oauth2_providers;
mod otel;
mod otp_mfa;
mod pb_compat_collections;
mod rate_limits;
mod realtime;
mod records;
mod rules_matrix;
mod scale_out;
mod security;
mod serving;
mod sessions;
mod settings;
mod smtp_sink;
mod sql_console;
mod webhooks;
