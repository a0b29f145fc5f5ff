//! The command line: `serve`, `superuser upsert|delete`, `backup create|list|restore`,
//! `migrate`, `migrate-db`, `import-pocketbase`, `typegen`, `--version`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "oxbase",
    version,
    about = "An open-source backend in one binary: database, REST API, auth, rules, admin dashboard (PocketBase-compatible)."
)]
pub struct Cli {
    /// The data directory (the SQLite database lives in it).
    #[arg(long, global = true, env = "OXBASE_DIR", default_value = "ox_data")]
    pub dir: PathBuf,

    /// Run on PostgreSQL instead of the SQLite file: `postgres://user:pass@host:5432/db`.
    #[arg(long = "db", global = true, env = "OXBASE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// How logs are written to stdout: `text` for people, `json` (one object per line) for
    /// log shippers.
    #[arg(long = "logFormat", global = true, env = "OXBASE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Starts the web server.
    Serve(ServeArgs),
    /// Manages superusers.
    #[command(subcommand)]
    Superuser(SuperuserCommand),
    /// Backups of the app: zips of its database and local files, kept in `<dir>/backups` or
    /// on S3 (`backups.s3`). On SQLite, stop the server first (or use `POST /api/backups`).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Copies an app from its SQLite data dir to PostgreSQL (resumable: run it again after an
    /// interruption), then compares the row counts.
    #[command(name = "migrate-db")]
    MigrateDb {
        /// The data dir holding `data.db`.
        #[arg(long)]
        from: PathBuf,
        /// The target: `postgres://user:pass@host:5432/db`.
        #[arg(long)]
        to: String,
    },
    /// Applies or reverts the app's JavaScript migrations, or writes new ones (PocketBase's
    /// `migrate`): `up` (the default), `down [N]`, `create NAME`, `collections`, `history-sync`.
    Migrate(crate::migrate::MigrateArgs),
    /// Imports a PocketBase app (its pb_data folder: collections, records, users with their
    /// passwords, settings, local files) into the app in --dir (or on --db); its pb_hooks and
    /// pb_migrations folders are copied to ox_hooks and ox_migrations beside --dir.
    #[command(name = "import-pocketbase")]
    ImportPocketbase {
        /// PocketBase's data folder (holding data.db and storage/).
        pb_data: PathBuf,
    },
    /// Writes TypeScript types of the app's collections for the `pocketbase` SDK (the
    /// pocketbase-typegen shape: `Collections`, `*Record`, `*Response`, `TypedPocketBase`).
    Typegen {
        /// The file to write; `-` for stdout.
        #[arg(long, default_value = "pocketbase-types.ts")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "OXBASE_HTTP", default_value = "127.0.0.1:8090")]
    pub http: String,
    /// Static files served at `/`.
    #[arg(
        long = "publicDir",
        env = "OXBASE_PUBLIC_DIR",
        default_value = "ox_public"
    )]
    pub public_dir: PathBuf,
    /// Allowed CORS origins, comma-separated (default: all).
    #[arg(long, env = "OXBASE_ORIGINS", value_delimiter = ',')]
    pub origins: Vec<String>,
    /// Development mode: verbose logs.
    #[arg(long)]
    pub dev: bool,
    /// The bus between instances on one PostgreSQL database: `redis://host:6379` or
    /// `nats://host:4222` (default: PostgreSQL's LISTEN/NOTIFY).
    #[arg(long, env = "OXBASE_PUBSUB")]
    pub pubsub: Option<String>,
    /// PostgreSQL: the connections this instance opens at most (plus one for the bus). Keep
    /// instances × (N + 1) below the server's `max_connections`.
    #[arg(
        long = "dbConnections",
        env = "OXBASE_DATABASE_CONNECTIONS",
        default_value_t = 16
    )]
    pub db_connections: usize,
    /// Microseconds an event loop may keep polling for the next request before it sleeps, when
    /// requests come close together (lower latency for some idle CPU); 0 turns it off.
    #[arg(long = "busyPoll", env = "OXBASE_BUSY_POLL", default_value_t = 200)]
    pub busy_poll: u64,
    /// Measures requests and serves them at `GET /metrics` (Prometheus's text format).
    #[arg(long, env = "OXBASE_METRICS")]
    pub metrics: bool,
    /// The bearer token `GET /metrics` requires (implies `--metrics`).
    #[arg(long = "metricsToken", env = "OXBASE_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Sends traces (a span per request, a child span per SQL statement) to this OpenTelemetry
    /// collector over OTLP/HTTP: its base URL (`http://collector:4318`; `/v1/traces` is added).
    #[arg(long = "otlpEndpoint", env = "OXBASE_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// The largest request body accepted, in bytes.
    #[arg(long = "maxBodySize", env = "OXBASE_MAX_BODY_SIZE", default_value_t = 32 << 20)]
    pub max_body_size: usize,
    /// The folder of JavaScript hook files (`*.pb.js`, PocketBase's `pb_hooks`); default:
    /// `ox_hooks` beside the data dir, as PocketBase's `pb_hooks` beside `pb_data`.
    #[arg(long = "hooksDir", env = "OXBASE_HOOKS_DIR")]
    pub hooks_dir: Option<PathBuf>,
    /// The folder of JavaScript migration files (PocketBase's `pb_migrations`), applied at
    /// start; default: `ox_migrations` beside the data dir.
    #[arg(long = "migrationsDir", env = "OXBASE_MIGRATIONS_DIR")]
    pub migrations_dir: Option<PathBuf>,
    /// Writes a migration file for each collection change made through the API (on with
    /// `--dev`; `--automigrate=false` turns it off).
    #[arg(long, env = "OXBASE_AUTOMIGRATE", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub automigrate: Option<bool>,
    /// JavaScript runtimes kept ready for hooks (up to 4 times as many are made, and kept, while all are busy).
    #[arg(long = "hooksPool", env = "OXBASE_HOOKS_POOL", default_value_t = 15)]
    pub hooks_pool: usize,
    /// The longest one hook invocation may run, in seconds.
    #[arg(
        long = "hooksTimeout",
        env = "OXBASE_HOOKS_TIMEOUT",
        default_value_t = 30
    )]
    pub hooks_timeout: u64,
    /// The most memory one JavaScript runtime may hold, in MiB.
    #[arg(
        long = "hooksMemory",
        env = "OXBASE_HOOKS_MEMORY",
        default_value_t = 128
    )]
    pub hooks_memory: usize,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Makes a backup now (named like PocketBase's, `pb_backup_<app>_<time>.zip`, unless a
    /// NAME is given).
    Create { name: Option<String> },
    /// Lists the backups.
    List,
    /// Replaces the app's data (database and local files) by the backup KEY.
    Restore { key: String },
}

#[derive(Debug, Subcommand)]
pub enum SuperuserCommand {
    /// Creates a superuser, or updates the password of an existing one.
    Upsert { email: String, password: String },
    /// Deletes a superuser.
    Delete { email: String },
}

/// A folder beside the data dir (`ox_data` → `ox_hooks`; `/srv/app/data` → `/srv/app/ox_hooks`).
pub fn beside_data(data_dir: &std::path::Path, name: &str) -> PathBuf {
    data_dir
        .parent()
        .map_or_else(|| PathBuf::from(name), |p| p.join(name))
}
