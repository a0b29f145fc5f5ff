//! # oxbase-core
//!
//! The application: everything oxbase does, without HTTP.
//!
//! - [`app`]: `App`, the handle wiring every service (`App::open` is the dependency graph).
//! - [`store`]: the only module that runs SQL (`Db`: SQLite now, PostgreSQL next).
//! - [`schema`]: collections and fields, their DDL, the schema cache.
//! - [`records`]: list/view/create/update/delete, expand, coercion, validation, output.
//! - [`rules`]: API rules and client filters compiled to SQL through `oxbase-sql`.
//! - [`realtime`]: SSE clients, subscriptions, delivery of committed changes by rule.
//! - [`auth`]: passwords, tokens, resolving a request's identity.
//! - [`collections`]: the collections API's logic.
//! - [`describe`]: the API describing itself: OpenAPI, JSON Schemas, TypeScript types.
//! - [`settings`]: application settings.
//! - [`logs`]: request and app logs, stored in batches off the request path.
//! - [`ratelimit`]: the `rateLimits` settings enforced per client.
//! - [`backups`]: zips of a consistent snapshot and the files, kept locally or on S3, on a
//!   schedule; restores.
//! - [`jobs`]: the durable job queue (retries, dead letters); [`webhooks`]: record changes
//!   POSTed to receivers through it, written in the change's transaction (the outbox);
//!   [`brokers`]: the same changes published as CloudEvents to NATS JetStream, RabbitMQ and
//!   Redis Streams through it; [`outbox`]: what those two share (their hooks in the change's
//!   transaction, `viewAs`).
//! - [`mail`]: outgoing mail (SMTP, or logged when SMTP is off) and email templates.
//! - [`error`], [`ids`], [`identity`], [`dates`]: shared by all.
//!
//! Lower modules never import higher ones: `app` → `collections`, `records`, `auth`,
//! `settings` → `rules` → `schema` → `store` → `oxbase_sql`.

pub mod app;
pub mod auth;
pub mod backups;
pub mod brokers;
pub mod clock;
pub mod collections;
pub mod config;
pub mod crons;
pub mod dates;
pub mod describe;
pub mod error;
pub mod events;
pub mod files;
pub mod identity;
pub mod ids;
pub mod jobs;
pub mod logs;
pub mod mail;
pub mod outbox;
pub mod password;
pub mod ratelimit;
pub mod realtime;
pub mod records;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod sql_console;
pub mod store;
pub mod transfer;
pub mod webhooks;

pub use app::App;
pub use config::Config;
pub use error::{Error, Result};
pub use identity::Auth;
