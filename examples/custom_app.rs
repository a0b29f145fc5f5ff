//! A custom app on oxbase: a record hook and two JSON routes, compiled into one binary.
//!
//! ```sh
//! cargo run --example custom_app -- --dir /tmp/x
//! ```
//!
//! Then create a `posts` collection with the text fields `title` and `slug` (dashboard at
//! http://127.0.0.1:8090/_/, superuser from `oxbase superuser upsert ... --dir /tmp/x`) and try:
//!
//! ```sh
//! curl -X POST -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
//!   -d '{"title": "Hello, World!"}' http://127.0.0.1:8090/api/collections/posts/records
//! #   → "slug": "hello-world"
//! curl -X POST ... -d '{"title": "Buy cheap watches"}' ...   # → 400, data.title
//! curl http://127.0.0.1:8090/api/hello/ada                     # → {"message": "Hello, ada!", ...}
//! curl http://127.0.0.1:8090/api/posts/stats                   # → {"posts": 1}
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use oxbase::ServeConfig;
use oxbase::cli::LogFormat;
use oxbase::framework::axum::Json;
use oxbase::framework::axum::extract::{Path, State};
use oxbase::framework::axum::http::Method;
use oxbase::framework::{ApiError, App, Caller, Error, Oxbase, RecordEvent};
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// The data directory.
    #[arg(long, default_value = "ox_data")]
    dir: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    http: String,
    /// PostgreSQL instead of SQLite: `postgres://user:pass@host:5432/db`.
    #[arg(long = "db")]
    database_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let _logs = oxbase::telemetry::init(false, LogFormat::Text, None);
    let mut config = ServeConfig::new(args.dir);
    config.http = args.http;
    config.database_url = args.database_url;

    let mut app = Oxbase::new(config);
    app.on_record_create(["posts"], slugify_title)
        .on_record_update(["posts"], slugify_title)
        .route(Method::GET, "/api/hello/{name}", hello)
        .route(Method::GET, "/api/posts/stats", post_stats)
        .cron("posts_count", "0 * * * *", |app: App| async move {
            let posts = app
                .records()
                .count("posts", "", &Default::default())
                .await?;
            tracing::info!(posts, "hourly count");
            Ok(())
        });
    match app.start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A post's slug follows its title; spam is refused (a 400 naming the field, as any
/// validation error).
fn slugify_title(e: &mut RecordEvent) -> oxbase::framework::Result<()> {
    let title = e.record.get_str("title").to_owned();
    if title.to_lowercase().contains("cheap watches") {
        return Err(Error::field("title", "validation_spam", "Looks like spam."));
    }
    let slug = title
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    e.record.set("slug", slug);
    Ok(())
}

/// `GET /api/hello/{name}`: who asks.
async fn hello(Path(name): Path<String>, Caller(auth): Caller) -> Json<Value> {
    let caller = auth.record().map(|r| r.id().to_owned());
    Json(json!({ "message": format!("Hello, {name}!"), "caller": caller }))
}

/// `GET /api/posts/stats`: how many posts there are (a core error is answered in the
/// standard error body, e.g. a 404 before the collection exists).
async fn post_stats(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    let posts = app
        .records()
        .count("posts", "", &Default::default())
        .await?;
    Ok(Json(json!({ "posts": posts })))
}
