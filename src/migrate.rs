//! `oxbase migrate [up] | down [N] | create NAME | collections | history-sync`: PocketBase's
//! `migrate` command (`plugins/migratecmd/migratecmd.go`) over the JS migrations of
//! `oxbase_js::migrations`, with its messages and its confirmation prompts (on stderr, the
//! answer read from stdin; no answer is "no").

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use oxbase_core::{App, Config};

use crate::cli::beside_data;
use oxbase_js::migrations::{
    Migrations, MigrationsConfig, new_file_name, snakecase, templates, types_directive,
};

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub action: Option<MigrateAction>,
    /// The folder of JavaScript migration files (PocketBase's `pb_migrations`); default:
    /// `ox_migrations` beside the data dir.
    #[arg(long = "migrationsDir", global = true, env = "OXBASE_MIGRATIONS_DIR")]
    pub migrations_dir: Option<PathBuf>,
    /// The hooks folder (migrations see it as `__hooks`); default: `ox_hooks` beside the data
    /// dir.
    #[arg(long = "hooksDir", global = true, env = "OXBASE_HOOKS_DIR")]
    pub hooks_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum MigrateAction {
    /// Applies every migration not applied yet (the default).
    Up,
    /// Reverts the last N applied migrations (1 by default; a negative N: all).
    Down {
        #[arg(allow_negative_numbers = true)]
        count: Option<i64>,
    },
    /// Writes a blank migration file, `<unix time>_<name>.js`.
    Create { name: String },
    /// Writes a migration file with a snapshot of every collection.
    Collections,
    /// Removes from `_migrations` the migrations whose file no longer exists.
    #[command(name = "history-sync")]
    HistorySync,
}

/// Runs `oxbase migrate` on the app in `dir` (on `database_url` when set).
pub async fn run(
    dir: &Path,
    database_url: Option<String>,
    args: MigrateArgs,
) -> Result<(), String> {
    let mut config = Config::new(dir);
    config.database_url = database_url;
    let app = App::open(&config).await.map_err(|e| e.to_string())?;
    let migrations = MigrationsConfig {
        dir: args
            .migrations_dir
            .unwrap_or_else(|| beside_data(dir, "ox_migrations")),
        automigrate: false,
        hooks_dir: args
            .hooks_dir
            .unwrap_or_else(|| beside_data(dir, "ox_hooks")),
        data_dir: dir.to_path_buf(),
        dev: false,
    };
    let action = args.action.unwrap_or(MigrateAction::Up);
    let work = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || {
            oxbase_js::invoke::blocking(|| execute(&app, &migrations, action))
        })
    };
    let result = work.await.map_err(|e| e.to_string()).and_then(|r| r);
    app.close().await;
    result
}

fn execute(app: &App, config: &MigrationsConfig, action: MigrateAction) -> Result<(), String> {
    let migrations = Migrations::load(app, config)?;
    if matches!(action, MigrateAction::Up | MigrateAction::Down { .. }) {
        // PB-COMPAT: the hook files register first, so that their record and collection
        // hooks fire for the migrations' writes, as on `serve`.
        oxbase_js::Hooks::load(app, &hooks_config(config))?;
    }
    match action {
        MigrateAction::Up => {
            let applied = migrations.up()?;
            if applied.is_empty() {
                println!("No new migrations to apply.");
            }
            for file in applied {
                println!("Applied {file}");
            }
        }
        MigrateAction::Down { count } => {
            let count = count.unwrap_or(1);
            let limit = usize::try_from(count).ok();
            let names = migrations.last_applied(limit)?;
            let question = format!(
                "\n{}\nDo you really want to revert the last {} applied migration(s)?",
                names.join("\n"),
                limit.unwrap_or(migrations.names().len())
            );
            if !confirm(&question) {
                println!("The command has been cancelled");
                return Ok(());
            }
            let reverted = migrations.down(limit)?;
            if reverted.is_empty() {
                println!("No migrations to revert.");
            }
            for file in reverted {
                println!("Reverted {file}");
            }
        }
        MigrateAction::HistorySync => {
            migrations.history_sync()?;
            println!("The _migrations table was synced with the available migrations.");
        }
        MigrateAction::Create { name } => {
            let template = templates::blank(&types_directive(&config.data_dir));
            create(app, config, &snakecase(&name), &template)?;
        }
        MigrateAction::Collections => {
            let collections: Vec<serde_json::Value> = app
                .collections()
                .all()
                .iter()
                .map(|c| c.to_json())
                .collect();
            let directive = types_directive(&config.data_dir);
            create(
                app,
                config,
                "collections_snapshot",
                &templates::snapshot(&directive, &collections),
            )?;
        }
    }
    Ok(())
}

/// Writes `template` as a new migration file named after `name`, once confirmed.
fn create(app: &App, config: &MigrationsConfig, name: &str, template: &str) -> Result<(), String> {
    let history: HashSet<String> = tokio::runtime::Handle::current()
        .block_on(
            app.db()
                .read(oxbase_core::store::tables::migration_history::all),
        )
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(file, _)| file)
        .collect();
    let file = new_file_name(&config.dir, &history, name);
    let path = config.dir.join(file);
    if !confirm(&format!(
        "Do you really want to create migration {:?}?",
        path.display().to_string()
    )) {
        println!("The command has been cancelled");
        return Ok(());
    }
    std::fs::create_dir_all(&config.dir)
        .and_then(|()| std::fs::write(&path, template))
        .map_err(|e| format!("failed to save migration file {:?}: {e}", path.display()))?;
    println!("Successfully created file {:?}", path.display().to_string());
    Ok(())
}

/// PocketBase's yes/no prompt (the default: no).
fn confirm(question: &str) -> bool {
    let mut input = std::io::stdin().lock();
    loop {
        eprint!("{question} (y/N) ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if input.read_line(&mut answer).is_err() {
            return false;
        }
        match answer.trim().to_lowercase().as_str() {
            "" => return false,
            "y" | "yes" => return true,
            "n" | "no" => return false,
            _ => {}
        }
    }
}

/// The hook files beside the migrations, as `migrate` runs them: a small pool, `serve`'s limits.
fn hooks_config(config: &MigrationsConfig) -> oxbase_js::HooksConfig {
    oxbase_js::HooksConfig {
        dir: config.hooks_dir.clone(),
        pool: 1,
        timeout: std::time::Duration::from_secs(30),
        memory_bytes: 128 << 20,
        dev: false,
        data_dir: config.data_dir.clone(),
    }
}
