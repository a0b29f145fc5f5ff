//! # oxbase-api
//!
//! The HTTP face of oxbase: PocketBase's route table over `oxbase-core`. Handlers are thin:
//! extract, call one service method with the caller's `Auth`, shape the response. `error` is
//! the only place a core error becomes a status.

pub mod custom;
pub mod error;
pub mod extract;
#[cfg(feature = "graphql")]
pub mod graphql;
pub mod metrics;
pub mod middleware;
pub mod request_log;
pub mod routes;
pub mod serve;
pub mod traces;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::routing::{delete, get, post, put};
use oxbase_core::App;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use routes::dead_letters::{self, Brokers, Mail, Webhooks};
use routes::{
    auth, backups, batch, collections, crons, files, health, install, logs, realtime, records,
    settings, sql, static_files,
};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// The body limit of requests without files (record routes add their file allowance).
    pub max_body_bytes: usize,
    /// The bearer token `GET /metrics` requires, if any.
    pub metrics_token: Option<Arc<str>>,
    /// The GraphQL schema of the current collections.
    #[cfg(feature = "graphql")]
    pub graphql: graphql::Cache,
}

/// HTTP options.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Allowed CORS origins; empty or `*` means any.
    pub origins: Vec<String>,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// Static files served at `/`.
    pub public_dir: PathBuf,
    /// The longest an event loop polls for the next request before it sleeps (zero: never).
    pub busy_poll: Duration,
    /// Whether requests are measured and `GET /metrics` served (`--metrics`).
    pub metrics: bool,
    /// The bearer token `GET /metrics` requires, if any (`--metricsToken`).
    pub metrics_token: Option<String>,
    /// A trace span per request, joined to the caller's trace by this (`--otlpEndpoint`);
    /// `None`: no spans.
    pub traces: Option<traces::JoinTrace>,
    /// The application's own routes (a Rust app's, JS hooks'; `custom::first_of` joins
    /// several), asked before the built-in ones.
    pub custom: Option<Arc<dyn custom::CustomRoutes>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            origins: Vec::new(),
            max_body_bytes: 32 << 20,
            public_dir: PathBuf::from("ox_public"),
            busy_poll: Duration::from_micros(200),
            metrics: false,
            metrics_token: None,
            traces: None,
            custom: None,
        }
    }
}

/// The whole API as one service: the route table behind the layers every request passes.
pub fn service(app: App, config: &HttpConfig) -> impl serve::ApiService + use<> {
    let state = AppState {
        app,
        max_body_bytes: config.max_body_bytes,
        metrics_token: config.metrics_token.as_deref().map(Arc::from),
        #[cfg(feature = "graphql")]
        graphql: graphql::Cache::default(),
    };
    let api = Router::new()
        .route("/api/health", get(health::health).head(health::health))
        .route("/api/install", post(install::install))
        .route("/api/install/check", post(install::check))
        .route("/api/openapi.json", get(routes::docs::openapi))
        .route("/api/docs", get(routes::docs::viewer))
        .route("/api/docs/{*file}", get(routes::docs::viewer_asset))
        .route("/api/typegen.ts", get(routes::docs::typegen))
        .route(
            "/api/collections/{collection}/schema.json",
            get(routes::docs::collection_schema),
        )
        .route("/api/crons", get(crons::list))
        .route("/api/crons/{id}", post(crons::run))
        .route("/api/sql", post(sql::run))
        .route(
            "/api/webhooks/dead-letters",
            get(dead_letters::list::<Webhooks>),
        )
        .route(
            "/api/webhooks/dead-letters/{id}",
            get(dead_letters::view::<Webhooks>),
        )
        .route(
            "/api/webhooks/dead-letters/{id}/replay",
            post(dead_letters::replay::<Webhooks>),
        )
        .route(
            "/api/brokers/dead-letters",
            get(dead_letters::list::<Brokers>),
        )
        .route(
            "/api/brokers/dead-letters/{id}",
            get(dead_letters::view::<Brokers>),
        )
        .route(
            "/api/brokers/dead-letters/{id}/replay",
            post(dead_letters::replay::<Brokers>),
        )
        .route("/api/mail/dead-letters", get(dead_letters::list::<Mail>))
        .route(
            "/api/mail/dead-letters/{id}",
            get(dead_letters::view::<Mail>),
        )
        .route(
            "/api/mail/dead-letters/{id}/replay",
            post(dead_letters::replay::<Mail>),
        )
        .route("/api/logs", get(logs::list))
        .route("/api/logs/stats", get(logs::stats))
        .route("/api/logs/{id}", get(logs::view))
        .route("/api/backups", get(backups::list).post(backups::create))
        .route(
            "/api/backups/upload",
            post(backups::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/backups/{key}",
            get(backups::download).delete(backups::delete),
        )
        .route("/api/backups/{key}/restore", post(backups::restore))
        .route(
            "/api/settings",
            get(settings::get_settings).patch(settings::update_settings),
        )
        .route("/api/settings/test/email", post(settings::test_email))
        .route(
            "/api/settings/apple/generate-client-secret",
            post(settings::apple_client_secret),
        )
        .route(
            "/api/collections",
            get(collections::list_collections).post(collections::create_collection),
        )
        .route(
            "/api/collections/meta/scaffolds",
            get(collections::scaffolds),
        )
        .route(
            "/api/collections/meta/field-defaults",
            get(collections::field_defaults),
        )
        .route(
            "/api/collections/meta/validate",
            post(collections::validate_collection),
        )
        .route(
            "/api/collections/meta/oauth2-providers",
            get(collections::oauth2_providers),
        )
        .route(
            "/api/collections/import",
            put(collections::import_collections),
        )
        .route(
            "/api/collections/{collection}",
            get(collections::view_collection)
                .patch(collections::update_collection)
                .delete(collections::delete_collection),
        )
        .route(
            "/api/collections/{collection}/truncate",
            delete(collections::truncate_collection),
        )
        // Record bodies are limited per collection (its file fields), in `extract::Body`.
        .route(
            "/api/collections/{collection}/records",
            get(records::list_records)
                .post(records::create_record)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            get(records::view_record)
                .patch(records::update_record)
                .delete(records::delete_record)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/collections/{collection}/records/{id}/history",
            get(records::list_record_history),
        )
        .route(
            "/api/collections/{collection}/records/{id}/history/{version}/restore",
            post(records::restore_record_version),
        )
        .route(
            "/api/collections/{collection}/auth-with-password",
            post(auth::auth_with_password),
        )
        .route(
            "/api/collections/{collection}/auth-refresh",
            post(auth::auth_refresh),
        )
        .route(
            "/api/collections/{collection}/auth-methods",
            get(auth::auth_methods),
        )
        .route("/api/files/token", post(files::file_token))
        .route(
            "/api/files/{collection}/{record}/{name}",
            get(files::download).head(files::download),
        )
        .route("/api/settings/test/s3", post(files::test_s3))
        .route(
            "/api/collections/{collection}/impersonate/{id}",
            post(auth::impersonate),
        )
        .route(
            "/api/collections/{collection}/request-otp",
            post(auth::request_otp),
        )
        .route(
            "/api/collections/{collection}/auth-with-otp",
            post(auth::auth_with_otp),
        )
        .route(
            "/api/collections/{collection}/auth-with-oauth2",
            post(auth::auth_with_oauth2),
        )
        .route(
            "/api/oauth2-redirect",
            get(auth::oauth2_redirect).post(auth::oauth2_redirect),
        )
        .route(
            "/api/collections/{collection}/request-verification",
            post(auth::request_verification),
        )
        .route(
            "/api/collections/{collection}/confirm-verification",
            post(auth::confirm_verification),
        )
        .route(
            "/api/collections/{collection}/request-password-reset",
            post(auth::request_password_reset),
        )
        .route(
            "/api/collections/{collection}/confirm-password-reset",
            post(auth::confirm_password_reset),
        )
        .route(
            "/api/collections/{collection}/request-email-change",
            post(auth::request_email_change),
        )
        .route(
            "/api/collections/{collection}/confirm-email-change",
            post(auth::confirm_email_change),
        )
        .route(
            "/api/batch",
            post(batch::batch).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/realtime",
            get(realtime::connect).post(realtime::set_subscriptions),
        )
        .route("/api/{*rest}", axum::routing::any(static_files::not_found))
        .route("/_/", get(static_files::admin))
        .route("/_/{*path}", get(static_files::admin))
        .route("/_", get(static_files::admin_redirect))
        .method_not_allowed_fallback(static_files::not_found)
        .fallback_service(static_files::public_files(&config.public_dir));
    let api = if config.metrics {
        api.route("/metrics", get(routes::metrics::scrape))
    } else {
        api
    };
    #[cfg(feature = "graphql")]
    let api = api
        .route(
            "/api/graphql",
            get(routes::graphql::get)
                .post(routes::graphql::post)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/graphql/schema.graphql", get(routes::graphql::sdl));
    let api = api.with_state(state.clone());
    // The layers wrap the router once, not each route (`Router::layer` wraps every route in its
    // own boxed service, and each level cloned the boxes below it on every request).
    ServiceBuilder::new()
        .layer(traces::TracesLayer {
            join: config.traces,
        })
        .layer(middleware::HeadResponsesLayer)
        .layer(metrics::HttpMetricsLayer {
            enabled: config.metrics,
        })
        .layer(request_log::RequestLogLayer::new(state.clone()))
        .layer(CatchPanicLayer::custom(|_| {
            error::body(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong while processing your request.",
                serde_json::json!({}),
            )
        }))
        .map_response(preflight_no_content)
        .layer(cors(&config.origins))
        .layer(middleware::HeadLimitLayer)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::RateLimitLayer::new(state.clone()))
        .service(custom::CustomFirst {
            custom: config.custom.clone(),
            state,
            inner: api,
        })
}

/// PB-COMPAT: a preflight (any `OPTIONS`, which the CORS layer answers itself, the only
/// response carrying `Access-Control-Allow-Methods`) is a 204, as in PocketBase, not a 200.
fn preflight_no_content(mut response: axum::response::Response) -> axum::response::Response {
    if response.status() == StatusCode::OK
        && response
            .headers()
            .contains_key(axum::http::header::ACCESS_CONTROL_ALLOW_METHODS)
    {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// PB-COMPAT: CORS allows every origin unless `--origins` narrows it.
fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .max_age(Duration::from_secs(86400));
    if origins.is_empty() || origins.iter().any(|o| o == "*") {
        return layer.allow_origin(Any);
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    layer.allow_origin(AllowOrigin::list(list))
}
