//! `oxbase typegen --out FILE`: TypeScript types of the app's collections for the `pocketbase`
//! SDK (`oxbase_core::describe::typescript`, the same text `GET /api/typegen.ts` serves).
//!
//! On SQLite the server holds its data dir exclusively: stop it first, or fetch
//! `/api/typegen.ts` as a superuser instead.

use std::path::Path;

use oxbase_core::{App, Config};

/// Writes the types of the app in `dir` (or on `database_url`) to `out` (`-`: stdout).
pub async fn typegen(dir: &Path, database_url: Option<String>, out: &Path) -> Result<(), String> {
    let mut config = Config::new(dir);
    config.database_url = database_url;
    let app = App::open(&config).await.map_err(|e| e.to_string())?;
    let ts = oxbase_core::describe::typescript(&app.schema().all());
    app.close().await;
    if out == Path::new("-") {
        print!("{ts}");
        return Ok(());
    }
    std::fs::write(out, ts).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("Types written to {}", out.display());
    Ok(())
}
