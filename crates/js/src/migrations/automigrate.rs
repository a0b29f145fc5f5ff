//! `--automigrate`: each collection created, updated or deleted through the API becomes a
//! migration file reproducing it (PocketBase's `plugins/migratecmd/automigrate.go`), recorded
//! as applied, since its change is already made. Changes the application makes itself
//! (migrations, hooks) write none, as in PocketBase, whose hook is on the API's requests.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oxbase_core::collections::{ChangeListener, DefinitionChange};
use oxbase_core::store::tables::migration_history;
use oxbase_core::{App, Error};
use serde_json::Value as Json;

use super::templates::{self, Empty};
use super::{MigrationsConfig, new_file_name, types_directive};

/// The listener to hand `Collections::on_api_change`.
pub fn listener(app: &App, config: &MigrationsConfig) -> ChangeListener {
    let app = app.clone();
    let dir = config.dir.clone();
    let directive = types_directive(&config.data_dir);
    // One file at a time: two changes at once would pick the same name.
    let one_at_a_time = Arc::new(tokio::sync::Mutex::new(()));
    Arc::new(move |change: DefinitionChange| {
        let (app, dir, directive) = (app.clone(), dir.clone(), directive.clone());
        let one_at_a_time = one_at_a_time.clone();
        Box::pin(async move {
            let _writing = one_at_a_time.lock().await;
            write(&app, dir, &directive, change).await
        })
    })
}

/// Writes and records the migration of `change` (nothing when it changed nothing).
async fn write(
    app: &App,
    dir: PathBuf,
    directive: &str,
    change: DefinitionChange,
) -> oxbase_core::error::Result<()> {
    let old = change.old.as_ref().map(|c| c.to_json());
    let new = change.new.as_ref().map(|c| c.to_json());
    let (template, what, subject) = match (&new, &old) {
        (Some(new), None) => (templates::create(directive, new), "created", new),
        (None, Some(old)) => (templates::delete(directive, old), "deleted", old),
        (Some(new), Some(old)) => match templates::diff(directive, new, old) {
            Ok(template) => (template, "updated", old),
            Err(Empty::NoChange) => return Ok(()),
        },
        (None, None) => return Ok(()),
    };
    let name = subject.get("name").and_then(Json::as_str).unwrap_or("");
    let action = format!("{what}_{}", normalize_name(name));
    let history: HashSet<String> = app
        .db()
        .read(migration_history::all)
        .await?
        .into_iter()
        .map(|(file, _)| file)
        .collect();
    let file = new_file_name(&dir, &history, &action);
    let path = dir.join(&file);
    let saved = tokio::task::spawn_blocking(move || save(&dir, &path, &template).map(|()| path))
        .await
        .map_err(Error::internal)?
        .map_err(|e| Error::internal(format!("failed to save automigrate file: {e}")))?;
    let now = oxbase_core::dates::unix_micros();
    let name = file.clone();
    let recorded = app
        .db()
        .write(move |conn| migration_history::insert(conn, &name, now))
        .await;
    if recorded.is_err() {
        // Not recorded, the file would apply again at the next start: it goes.
        let _ = std::fs::remove_file(&saved);
    }
    recorded?;
    tracing::info!(file = %file, "automigrate: migration written");
    Ok(())
}

fn save(dir: &Path, path: &Path, template: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(path, template)
}

/// PocketBase's `normalizeCollectionName`: a name ending in "test" gets a `_`, so that no
/// file ends in `_test.js`.
fn normalize_name(name: &str) -> String {
    if name.to_lowercase().ends_with("test") {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}
