//! PocketBase's JS migrations (`pb_migrations`): each `*.js` file of the migrations folder
//! calls `migrate(up, down)`, and the files not yet recorded in `_migrations` are applied in
//! name order, `up(app)` each, as PocketBase's jsvm plugin and migrations runner do
//! (`plugins/jsvm/jsvm.go`, `core/migrations_runner.go`). `oxbase migrate` reverts them
//! (`down`), and `--automigrate` writes them (`automigrate`).
//!
//! Each file runs in a fresh engine of its own, where `migrate` records the file's functions;
//! `up` and `down` receive an `App` (the `$app` API). On PostgreSQL the runner holds an
//! advisory lock while it applies or reverts, so instances sharing the database apply each
//! migration once; the next instance to take the lock finds them recorded.
//!
//! As PocketBase's runner, `up` applies every pending file in one transaction (and `down`
//! reverts in one): the migrations' own writes and their records in `_migrations` commit
//! together, and a failing file leaves nothing of the run behind. The code runs joined to the
//! transaction (`oxbase_core::store::shared`), so the record and collection hooks its writes
//! fire join it too.

pub mod automigrate;
pub mod templates;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use oxbase_core::App;
use oxbase_core::store::migrations::{is_app_file, is_system};
use oxbase_core::store::tables::migration_history;

use crate::engine::{Engine, JsError, Limits, Native};
use crate::ops::Host;

/// Where the migration files are, and how the server treats them.
#[derive(Debug, Clone)]
pub struct MigrationsConfig {
    /// The migrations folder (`--migrationsDir`, PocketBase's `pb_migrations`).
    pub dir: PathBuf,
    /// Write a migration file for each collection change made through the API
    /// (`--automigrate`, on with `--dev`).
    pub automigrate: bool,
    /// The hooks folder, which migrations see as `__hooks`, as in PocketBase.
    pub hooks_dir: PathBuf,
    pub data_dir: PathBuf,
    pub dev: bool,
}

/// PB-COMPAT: PocketBase puts no limit on a migration; these only keep a runaway one from
/// taking the machine (a migration may copy a large table, so they are generous).
const LIMITS: Limits = Limits {
    timeout: Duration::from_secs(24 * 3600),
    memory_bytes: 1 << 30,
};

/// `migrate` and the call of a migration's functions, defined in each migration's engine. A
/// file calling `migrate` twice keeps the first (PocketBase registers both under the file's
/// name, and the second is then seen as applied). A thrown API error's field errors join its
/// message, as PocketBase's validation errors read.
const MIGRATE_JS: &str = r#"
(function (g) {
  g.migrate = function (up, down) {
    if (g.__migration) return;
    g.__migration = { up: typeof up === "function" ? up : null, down: typeof down === "function" ? down : null };
  };
  function details(data, path, out) {
    for (const k of Object.keys(data || {})) {
      const v = data[k];
      const at = path ? path + "." + k : k;
      if (v && typeof v === "object" && typeof v.message === "string") out.push(at + ": " + v.message);
      else if (v && typeof v === "object") details(v, at, out);
    }
    return out;
  }
  g.__runMigration = function (which) {
    const fn = g.__migration && g.__migration[which];
    if (!fn) return;
    try {
      fn(new g.__App(0));
    } catch (e) {
      const more = e && typeof e === "object" ? details(e.data, "", []) : [];
      if (more.length) e.message = e.message + " " + more.join("; ");
      throw e;
    }
  };
})(globalThis);
"#;

/// One file of the migrations folder.
struct MigrationFile {
    name: String,
    source: String,
}

/// The migration files of a folder, and the app they run on.
pub struct Migrations {
    app: App,
    files: Vec<MigrationFile>,
    native: Native,
    globals: Vec<(String, String)>,
    rt: tokio::runtime::Handle,
}

impl Migrations {
    /// Reads the migration files of `config.dir` (none when it does not exist). Call it on a
    /// blocking thread of the runtime (`tokio::task::spawn_blocking`): the migrations block
    /// on the app's services.
    pub fn load(app: &App, config: &MigrationsConfig) -> Result<Migrations, String> {
        let rt = tokio::runtime::Handle::current();
        let host = Arc::new(Host {
            app: app.downgrade(),
            rt: rt.clone(),
            dev: config.dev,
            data_dir: config.data_dir.clone(),
            timeout: LIMITS.timeout,
            staged: Default::default(),
        });
        let native: Native = Arc::new(move |op: &str, args: &str| host.dispatch(op, args));
        let hooks = std::path::absolute(&config.hooks_dir)
            .unwrap_or_else(|_| config.hooks_dir.clone())
            .to_string_lossy()
            .into_owned();
        Ok(Migrations {
            app: app.clone(),
            files: migration_files(&config.dir)?,
            native,
            globals: vec![("__hooks".to_owned(), hooks)],
            rt,
        })
    }

    /// The file names, in the order they apply.
    pub fn names(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.name.as_str()).collect()
    }

    /// Applies the migrations not recorded in `_migrations`, in name order, recording each;
    /// the files applied. Stops at the first that fails, naming it.
    pub fn up(&self) -> Result<Vec<String>, String> {
        if self.files.is_empty() {
            return Ok(Vec::new());
        }
        self.locked(|| self.in_transaction(|| self.apply()))
    }

    /// `up`'s work, in its transaction.
    fn apply(&self) -> Result<Vec<String>, String> {
        {
            let recorded: HashSet<String> = self.history()?.into_iter().map(|(f, _)| f).collect();
            let mut applied = Vec::new();
            for file in &self.files {
                if recorded.contains(&file.name) {
                    continue;
                }
                // A file that registers no migration is none (PocketBase lists only those).
                let Some(mut engine) = self.evaluate(file)? else {
                    continue;
                };
                run(&mut engine, "up")
                    .map_err(|e| format!("failed to apply migration {}: {e}", file.name))?;
                let (name, now) = (file.name.clone(), oxbase_core::dates::unix_micros());
                self.block(
                    self.app
                        .db()
                        .write(move |conn| migration_history::insert(conn, &name, now)),
                )
                .map_err(|e| {
                    format!(
                        "failed to save applied migration info for {}: {e}",
                        file.name
                    )
                })?;
                applied.push(file.name.clone());
            }
            Ok(applied)
        }
    }

    /// Runs `work` joined to a transaction of its own: committed when it succeeds, rolled
    /// back when it fails.
    fn in_transaction<T>(&self, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let shared = self.app.db().begin(&self.rt);
        match work() {
            Ok(out) => shared
                .finish(true)
                .map(|()| out)
                .map_err(|e| format!("failed to commit the migrations: {e}")),
            Err(e) => {
                if let Err(rollback) = shared.finish(false) {
                    tracing::error!(%rollback, "cannot roll back the migrations");
                }
                // What the migrations did to the definitions' cache is undone with them.
                if let Err(reload) = self.block(self.app.schema().reload()) {
                    tracing::error!(%reload, "cannot reload the collections");
                }
                Err(e)
            }
        }
    }

    /// The last `count` applied migrations among the files (all of them when `None`), the
    /// latest first: what `down` reverts.
    pub fn last_applied(&self, count: Option<usize>) -> Result<Vec<String>, String> {
        let known: HashSet<&str> = self.names().into_iter().collect();
        let mut rows: Vec<(String, i64)> = self
            .history()?
            .into_iter()
            .filter(|(file, _)| known.contains(file.as_str()))
            .collect();
        // PocketBase recorded seconds before 0.23, microseconds since: compared on 16 digits.
        rows.sort_by(|a, b| (micros(b.1), &b.0).cmp(&(micros(a.1), &a.0)));
        Ok(rows
            .into_iter()
            .take(count.unwrap_or(usize::MAX))
            .map(|(file, _)| file)
            .collect())
    }

    /// Reverts the last `count` applied migrations (all when `None`), the latest first,
    /// removing each from `_migrations`; the files reverted.
    pub fn down(&self, count: Option<usize>) -> Result<Vec<String>, String> {
        self.locked(|| self.in_transaction(|| self.revert(count)))
    }

    /// `down`'s work, in its transaction.
    fn revert(&self, count: Option<usize>) -> Result<Vec<String>, String> {
        {
            let mut reverted = Vec::new();
            for name in self.last_applied(count)? {
                let Some(file) = self.files.iter().find(|f| f.name == name) else {
                    continue;
                };
                if let Some(mut engine) = self.evaluate(file)? {
                    run(&mut engine, "down")
                        .map_err(|e| format!("failed to revert migration {name}: {e}"))?;
                }
                let file = name.clone();
                self.block(
                    self.app
                        .db()
                        .write(move |conn| migration_history::delete(conn, &file)),
                )
                .map_err(|e| format!("failed to save reverted migration info for {name}: {e}"))?;
                reverted.push(name);
            }
            Ok(reverted)
        }
    }

    /// Drops the rows of `_migrations` whose file is no longer in the folder (oxbase's own
    /// system migrations stay); how many went.
    pub fn history_sync(&self) -> Result<usize, String> {
        let known: HashSet<String> = self.names().into_iter().map(str::to_owned).collect();
        let missing: Vec<String> = self
            .history()?
            .into_iter()
            .map(|(file, _)| file)
            .filter(|file| !is_system(file) && !known.contains(file))
            .collect();
        let count = missing.len();
        self.block(self.app.db().write(move |conn| {
            for file in &missing {
                migration_history::delete(conn, file)?;
            }
            Ok(())
        }))?;
        Ok(count)
    }

    /// Runs `work` holding the migrations lock, seeing the definitions as they are now (another
    /// instance may have applied migrations while this one waited).
    fn locked<T>(&self, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let lock = self.block(self.app.db().lock_app_migrations())?;
        let out = self
            .block(self.app.schema().refresh_if_shared())
            .and_then(|()| work());
        self.rt.block_on(lock.release());
        out
    }

    /// A fresh engine that evaluated `file`, if the file registered a migration.
    fn evaluate(&self, file: &MigrationFile) -> Result<Option<Engine>, String> {
        let failed = |e: JsError| format!("failed to run migration {}: {e}", file.name);
        let mut engine =
            Engine::new(self.native.clone(), &[], &self.globals, LIMITS).map_err(failed)?;
        engine.eval_file(MIGRATE_JS, "migrate.js").map_err(failed)?;
        engine.eval_file(&file.source, &file.name).map_err(failed)?;
        let registered = engine
            .run(|ctx| ctx.eval::<bool, _>("globalThis.__migration !== undefined"))
            .map_err(failed)?;
        Ok(registered.then_some(engine))
    }

    fn history(&self) -> Result<Vec<(String, i64)>, String> {
        self.block(self.app.db().read(migration_history::all))
    }

    fn block<T>(
        &self,
        f: impl std::future::Future<Output = oxbase_core::error::Result<T>>,
    ) -> Result<T, String> {
        self.rt.block_on(f).map_err(|e| e.to_string())
    }
}

/// Applies the pending migrations of `config.dir` (off the async runtime); the files applied.
pub async fn apply_pending(app: &App, config: &MigrationsConfig) -> Result<Vec<String>, String> {
    let (app, config) = (app.clone(), config.clone());
    tokio::task::spawn_blocking(move || {
        crate::invoke::blocking(|| Migrations::load(&app, &config)?.up())
    })
    .await
    .map_err(|e| e.to_string())?
}

fn run(engine: &mut Engine, which: &str) -> Result<(), JsError> {
    engine.eval_file(&format!("__runMigration({which:?})"), "migrate.js")
}

/// PocketBase's order of `applied` values: seconds and microseconds alike, on 16 digits.
fn micros(applied: i64) -> i64 {
    let mut digits = applied.to_string();
    digits.push_str("0000000000000000");
    digits[..16].parse().unwrap_or(applied)
}

/// The migration files of `dir`, in name order (none when `dir` does not exist).
fn migration_files(dir: &Path) -> Result<Vec<MigrationFile>, String> {
    let files = crate::script_files(dir, "migrations", is_app_file)?;
    Ok(files
        .into_iter()
        .map(|(name, source)| MigrationFile { name, source })
        .collect())
}

/// PocketBase's `inflector.Snakecase`: words split at anything but ASCII letters and digits,
/// joined by `_`, an `_` before each upper-case letter that follows a lower-case one,
/// lower-cased.
pub fn snakecase(name: &str) -> String {
    let mut out = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        let mut previous_upper = true;
        for (i, c) in word.chars().enumerate() {
            if c.is_uppercase() && i > 0 && !previous_upper {
                out.push('_');
            }
            previous_upper = c.is_uppercase();
            out.push(c);
        }
    }
    out.to_lowercase()
}

/// `<unix seconds>_<name>.js`, its second taken by no other file of `dir` or of the history.
/// PB-COMPAT: PocketBase names two files of one second by the clock alone, so that their
/// order is their names' (an update then a delete of `posts` would replay as `deleted_posts`
/// before `updated_posts`); here a second already taken moves the new file to the next one.
pub fn new_file_name(dir: &Path, history: &HashSet<String>, name: &str) -> String {
    let in_dir: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    loop {
        let prefix = format!("{at}_");
        let taken = |file: &String| file.starts_with(&prefix);
        if !in_dir.iter().any(taken) && !history.iter().any(taken) {
            return format!("{prefix}{name}.js");
        }
        at += 1;
    }
}

/// The types directive of the files written for a data folder.
pub fn types_directive(data_dir: &Path) -> String {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ox_data".to_owned());
    templates::types_directive(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snakecase_is_pocketbases() {
        assert_eq!(snakecase("myTestDB"), "my_test_db");
        assert_eq!(snakecase("add posts"), "add_posts");
        assert_eq!(snakecase("Create-Users_table"), "create_users_table");
        assert_eq!(snakecase("HTTPServer"), "httpserver");
    }

    #[test]
    fn applied_seconds_and_microseconds_order_together() {
        assert_eq!(micros(1_700_000_000), 1_700_000_000_000_000);
        assert_eq!(micros(1_700_000_000_123_456), 1_700_000_000_123_456);
        assert!(micros(1_700_000_001) > micros(1_700_000_000_999_999));
    }
}
