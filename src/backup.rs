//! `oxbase backup create [NAME] | list | restore KEY`: the backups of `oxbase_core::backups`
//! from the command line, with a progress bar per table where rows are copied (PostgreSQL).
//!
//! On SQLite the server holds its data dir exclusively: these commands refuse to run beside
//! it (the database "is in use by another process"); back up a running server through
//! `POST /api/backups` instead.

use std::path::Path;

use oxbase_core::{App, Config};

use crate::transfer::with_progress;

fn config(dir: &Path, database_url: Option<String>) -> Config {
    let mut config = Config::new(dir);
    config.database_url = database_url;
    config
}

async fn open(config: &Config) -> Result<App, String> {
    App::open(config).await.map_err(|e| e.to_string())
}

/// `backup create [NAME]`
pub async fn create(
    dir: &Path,
    database_url: Option<String>,
    name: Option<String>,
) -> Result<(), String> {
    let app = open(&config(dir, database_url)).await?;
    let backups = app.backups().clone();
    // A spinner while the snapshot and the archive are written (PostgreSQL's table copies
    // draw their own bars).
    let spinner = indicatif::ProgressBar::new_spinner().with_message("backing up");
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let created =
        with_progress(|report| async move { backups.create_named(name, &report).await }).await;
    spinner.finish_and_clear();
    app.close().await;
    let key = created.map_err(|e| e.to_string())?;
    println!("Backup \"{key}\" created.");
    Ok(())
}

/// `backup list`
pub async fn list(dir: &Path, database_url: Option<String>) -> Result<(), String> {
    let app = open(&config(dir, database_url)).await?;
    let listed = app.backups().list_all().await;
    app.close().await;
    for b in listed.map_err(|e| e.to_string())? {
        println!("{:<60} {:>12} bytes  {}", b.key, b.size, b.modified);
    }
    Ok(())
}

/// `backup restore KEY`: the app's data replaced by the backup's. On PostgreSQL the running
/// instances are told to reload their schema and settings.
pub async fn restore(dir: &Path, database_url: Option<String>, key: &str) -> Result<(), String> {
    let config = config(dir, database_url);
    let app = open(&config).await?;
    let prepared = app.backups().prepare(key).await;
    app.close().await;
    drop(app);
    let restore = prepared.map_err(|e| e.to_string())?;
    with_progress(|report| {
        let config = &config;
        let restore = &restore;
        async move { oxbase_core::backups::restore::apply(config, restore, &report).await }
    })
    .await
    .map_err(|e| e.to_string())?;
    drop(restore);
    // Opening it checks the restored data, and lets the other instances know.
    let app = open(&config).await?;
    app.announce_restore();
    app.close().await;
    println!("Backup \"{key}\" restored.");
    Ok(())
}
