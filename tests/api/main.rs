//! The end-to-end API tests: the real server in-process on a free port, over a fresh data
//! directory per test (`helpers::spawn_app`), one module per resource.

mod helpers;
mod oauth2_idp;
mod smtp_sink;

mod auth;
mod batch;
mod collections;
mod durability;
mod email_flows;
mod errors;
mod expand;
mod health;
mod list;
mod rate_limits;
mod oauth2;
mod otp_mfa;
mod records;
mod realtime;
mod rules_matrix;
mod sessions;
mod settings;
