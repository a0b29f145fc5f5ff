//! `oxbase migrate-db --from DIR --to postgres://...`: the copy of `oxbase_core::transfer`, with
//! a progress bar per table and a row-count check at the end.

use std::path::Path;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use oxbase_core::store::{postgres::PgDb, sqlite::SqliteDb, Db};
use oxbase_core::transfer::{self, Progress};

pub async fn run(from: &Path, to: &str) -> Result<(), String> {
    let file = from.join("data.db");
    if !file.exists() {
        return Err(format!("no oxbase database at {}", file.display()));
    }
    let source = Db::Sqlite(SqliteDb::open(&file, 2).map_err(|e| e.to_string())?);
    let target = Db::Postgres(PgDb::connect(to, 4).await.map_err(|e| e.to_string())?);
    let style = ProgressStyle::with_template("{prefix:>24} [{bar:40}] {pos}/{len} rows").map_err(|e| e.to_string())?.progress_chars("=> ");
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let report = |p: Progress| {
        let mut current = bar.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Table { name, rows } => {
                let b = ProgressBar::new(rows).with_style(style.clone()).with_prefix(name);
                *current = Some(b);
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
    let counts = transfer::copy_all(&source, &target, &report).await.map_err(|e| e.to_string())?;
    source.close().await;
    target.close().await;
    let mismatched: Vec<_> = counts.iter().filter(|c| c.target < c.source).collect();
    for c in &counts {
        println!("{:<24} {:>9} rows in SQLite, {:>9} in PostgreSQL", c.table, c.source, c.target);
    }
    if !mismatched.is_empty() {
        return Err(format!("{} table(s) have fewer rows in PostgreSQL: run migrate-db again", mismatched.len()));
    }
    println!("Done: {} tables copied and verified. Local files stay in {} (use the same --dir, or move them to S3).", counts.len(), from.display());
    Ok(())
}
