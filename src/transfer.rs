//! `oxbase migrate-db --from DIR --to postgres://...` and `oxbase import-pocketbase PB_DATA`:
//! the copies of `oxbase_core::transfer`, with a progress bar per table and a row-count check
//! at the end; an import also copies the app's `pb_hooks/` and `pb_migrations/` folders.

use parking_lot::Mutex;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use oxbase_core::store::{Db, postgres::PgDb, sqlite::SqliteDb};
use oxbase_core::transfer::{self, Progress};

/// `migrate-db`: the SQLite app in `from` to the PostgreSQL database `to`.
pub async fn migrate_db(from: &Path, to: &str) -> Result<(), String> {
    let file = from.join("data.db");
    if !file.exists() {
        return Err(format!("no oxbase database at {}", file.display()));
    }
    let source = Db::Sqlite(SqliteDb::open(&file, 2).map_err(|e| e.to_string())?);
    let target = Db::Postgres(PgDb::connect(to, 4).await.map_err(|e| e.to_string())?);
    let counts = with_progress(|report| async move {
        transfer::copy_all(&source, &target, &report)
            .await
            .map(|c| (c, source, target))
    })
    .await;
    let (counts, source, target) = counts.map_err(|e| e.to_string())?;
    source.close().await;
    target.close().await;
    summary(&counts, "SQLite", "PostgreSQL")?;
    println!(
        "Local files stay in {} (use the same --dir, or move them to S3).",
        from.display()
    );
    Ok(())
}

/// `import-pocketbase`: the PocketBase app in `pb_data` into the oxbase app in `dir` (on
/// PostgreSQL with `database_url`).
pub async fn import_pocketbase(
    pb_data: &Path,
    dir: &Path,
    database_url: Option<&str>,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let target = match database_url {
        Some(url) => Db::Postgres(PgDb::connect(url, 4).await.map_err(|e| e.to_string())?),
        None => Db::Sqlite(SqliteDb::open(&dir.join("data.db"), 2).map_err(|e| e.to_string())?),
    };
    let files = oxbase_core::files::Files::open(dir).map_err(|e| e.to_string())?;
    let result = with_progress(|report| async move {
        transfer::import_pocketbase(pb_data, &target, &files, &report)
            .await
            .map(|c| (c, target))
    })
    .await;
    let (counts, target) = result.map_err(|e| e.to_string())?;
    target.close().await;
    summary(&counts, "PocketBase", "oxbase")?;
    println!(
        "Users keep their passwords: PocketBase's bcrypt hashes are verified and upgraded at login."
    );
    copy_app_folders(pb_data, dir)
}

/// Copies the app's `pb_hooks/` and `pb_migrations/` (beside `pb_data`), when there, into
/// `ox_hooks/` and `ox_migrations/` beside `dir`: the folders `serve --dir <dir>` reads by
/// default. The migrations PocketBase applied were recorded as applied by the import.
fn copy_app_folders(pb_data: &Path, dir: &Path) -> Result<(), String> {
    for (pb, ox) in [("pb_hooks", "ox_hooks"), ("pb_migrations", "ox_migrations")] {
        let source = crate::cli::beside_data(pb_data, pb);
        if !source.is_dir() {
            continue;
        }
        let target = crate::cli::beside_data(dir, ox);
        let copied = copy_tree(&source, &target).map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                source.display(),
                target.display()
            )
        })?;
        println!(
            "Copied {copied} file(s) of {} to {} (where `serve` reads them).",
            source.display(),
            target.display()
        );
    }
    Ok(())
}

/// Copies the files of `from` into `to`, recursively (files of the same name replaced); how
/// many.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Runs `work` with a progress reporter drawing one bar per table.
pub(crate) async fn with_progress<T, F, Fut>(work: F) -> T
where
    F: FnOnce(Box<dyn Fn(Progress) + Sync + Send>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let style = ProgressStyle::with_template("{prefix:>24} [{bar:40}] {pos}/{len} rows")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let report = move |p: Progress| {
        let mut current = bar.lock();
        match p {
            Progress::Table { name, rows } => {
                *current = Some(
                    ProgressBar::new(rows)
                        .with_style(style.clone())
                        .with_prefix(name),
                )
            }
            Progress::Rows(n) => {
                if let Some(b) = current.as_ref() {
                    b.set_position(n);
                }
            }
            Progress::TableDone => {
                if let Some(b) = current.take() {
                    b.finish();
                }
            }
        }
    };
    work(Box::new(report)).await
}

/// Prints the row counts; an error when any table has fewer rows in the target.
fn summary(counts: &[transfer::Counted], from: &str, to: &str) -> Result<(), String> {
    for c in counts {
        println!(
            "{:<24} {:>9} rows in {from}, {:>9} in {to}",
            c.table, c.source, c.target
        );
    }
    let short = counts.iter().filter(|c| c.target < c.source).count();
    if short > 0 {
        return Err(format!(
            "{short} table(s) have fewer rows in {to}: run the command again"
        ));
    }
    println!("Done: {} tables copied and verified.", counts.len());
    Ok(())
}
