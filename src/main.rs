use std::process::ExitCode;

use clap::Parser;
use oxbase::cli::{BackupCommand, Cli, Command, SuperuserCommand};
use oxbase::{Application, ServeConfig, shutdown_signal, telemetry};
use oxbase_api::HttpConfig;

/// mimalloc instead of the system allocator: password hashing allocates ~19 MiB per hash, and
/// glibc's malloc keeps such freed buffers as fragmented heap (hundreds of MiB of RSS after a
/// few sign-ups); mimalloc returns them. It is also faster on the many small allocations of
/// request handling.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => {
            let observability =
                telemetry::init(args.dev, cli.log_format, args.otlp_endpoint.as_deref())?;
            let hooks_dir = args
                .hooks_dir
                .clone()
                .unwrap_or_else(|| oxbase::cli::beside_data(&cli.dir, "ox_hooks"));
            let migrations_dir = args
                .migrations_dir
                .clone()
                .unwrap_or_else(|| oxbase::cli::beside_data(&cli.dir, "ox_migrations"));
            // `--dev` restarts the server when its hook files change.
            let watched = args.dev.then(|| hooks_dir.clone()).filter(|d| d.is_dir());
            let config = ServeConfig {
                http: args.http,
                data_dir: cli.dir,
                database_url: cli.database_url,
                db_connections: args.db_connections,
                pubsub: args.pubsub,
                http_config: HttpConfig {
                    origins: args.origins,
                    max_body_bytes: args.max_body_size,
                    public_dir: args.public_dir,
                    busy_poll: std::time::Duration::from_micros(args.busy_poll),
                    metrics: args.metrics || args.metrics_token.is_some(),
                    metrics_token: args.metrics_token,
                    traces: observability.traces().then_some(telemetry::join_trace as _),
                    custom: None,
                },
                migrations: Some(oxbase_js::migrations::MigrationsConfig {
                    dir: migrations_dir,
                    automigrate: args.automigrate.unwrap_or(args.dev),
                    hooks_dir: hooks_dir.clone(),
                    data_dir: std::path::PathBuf::new(),
                    dev: args.dev,
                }),
                hooks: Some(oxbase_js::HooksConfig {
                    dir: hooks_dir,
                    pool: args.hooks_pool,
                    timeout: std::time::Duration::from_secs(args.hooks_timeout.max(1)),
                    memory_bytes: args.hooks_memory.max(1) << 20,
                    dev: args.dev,
                    data_dir: std::path::PathBuf::new(),
                }),
            };
            let app = Application::build(config).await?;
            println!("{}", app.banner());
            if let Some(notice) = app.install_notice().await {
                println!("{notice}");
            }
            let reload = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let reloading = reload.clone();
            let stop = async move {
                match watched {
                    Some(dir) => tokio::select! {
                        () = shutdown_signal() => {}
                        () = oxbase::reload::changed(dir) => {
                            reloading.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                    },
                    None => shutdown_signal().await,
                }
            };
            let served = app.run_until_stopped(stop).await.map_err(|e| e.to_string());
            // The last spans go out after the last requests ended.
            let _ = tokio::task::spawn_blocking(move || observability.shutdown()).await;
            if reload.load(std::sync::atomic::Ordering::SeqCst) && served.is_ok() {
                return Err(oxbase::reload::restart());
            }
            served
        }
        Command::Backup(cmd) => {
            let _logs = telemetry::init(false, cli.log_format, None)?;
            match cmd {
                BackupCommand::Create { name } => {
                    oxbase::backup::create(&cli.dir, cli.database_url, name).await
                }
                BackupCommand::List => oxbase::backup::list(&cli.dir, cli.database_url).await,
                BackupCommand::Restore { key } => {
                    oxbase::backup::restore(&cli.dir, cli.database_url, &key).await
                }
            }
        }
        Command::Migrate(args) => {
            let _logs = telemetry::init(false, cli.log_format, None)?;
            oxbase::migrate::run(&cli.dir, cli.database_url, args).await
        }
        Command::MigrateDb { from, to } => {
            let _logs = telemetry::init(false, cli.log_format, None)?;
            oxbase::transfer::migrate_db(&from, &to).await
        }
        Command::ImportPocketbase { pb_data } => {
            let _logs = telemetry::init(false, cli.log_format, None)?;
            oxbase::transfer::import_pocketbase(&pb_data, &cli.dir, cli.database_url.as_deref())
                .await
        }
        Command::Typegen { out } => {
            let _logs = telemetry::init(false, cli.log_format, None)?;
            oxbase::typegen::typegen(&cli.dir, cli.database_url, &out).await
        }
        Command::Superuser(cmd) => {
            let _logs = telemetry::init(false, cli.log_format, None)?;
            let mut config = oxbase_core::Config::new(&cli.dir);
            config.database_url = cli.database_url;
            let app = oxbase_core::App::open(&config)
                .await
                .map_err(|e| e.to_string())?;
            let result = match cmd {
                SuperuserCommand::Upsert { email, password } => app
                    .auth()
                    .upsert_superuser(app.records(), &email, &password)
                    .await
                    .map(|()| println!("Successfully saved superuser \"{email}\"!")),
                SuperuserCommand::Delete { email } => {
                    match app.auth().delete_superuser(app.records(), &email).await {
                        Ok(true) => {
                            println!("Successfully deleted superuser \"{email}\"!");
                            Ok(())
                        }
                        // PB-COMPAT: as PocketBase, a delete of nobody is no failure.
                        Ok(false) => {
                            println!("superuser \"{email}\" is missing or already deleted");
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            app.close().await;
            result.map_err(|e| match e {
                oxbase_core::Error::BadRequest { message, data } if data.is_empty() => message,
                oxbase_core::Error::BadRequest { message, data } => format!(
                    "{message} {}",
                    serde_json::Value::Object(data.into_iter().collect())
                ),
                other => other.to_string(),
            })
        }
    }
}
