//! Backups (`/api/backups`, `oxbase backup`): a zip of a consistent snapshot of the database
//! and of the local files, taken while the app keeps serving reads and writes (PocketBase
//! makes the app read-only meanwhile), kept in `backups/` or on S3 (`vault`), made on demand
//! or on the `backups.cron` schedule, and restored in place (`restore`).
//!
//! What this module does not do: stop or reopen the app around a restore. It prepares the
//! restore and hands it to whoever runs the app (`take_restores`), which closes the app,
//! calls `restore::apply` and opens it again.

pub mod archive;
pub mod names;
pub mod restore;
mod scratch;
mod snapshot;
mod vault;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Instant;

use parking_lot::Mutex;
use serde_json::{Value as Json, json};
use tokio::sync::mpsc;

pub use restore::Restore;
pub use vault::BackupInfo;

use crate::crons::{Crons, Schedule, job};
use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::files::{Content, Files, Upload};
use crate::identity::Auth;
use crate::rules::superusers_only;
use crate::settings::Settings;
use crate::store::Db;
use crate::transfer::Progress;

/// PocketBase's id of the scheduled backups' job.
pub const CRON_JOB: &str = "__pbAutoBackup__";
/// PocketBase's prefix of scheduled backups (only these are pruned to `cronMaxKeep`).
const AUTO_PREFIX: &str = "@auto_pb_backup_";
/// PocketBase's prefix of the names it makes up for backups asked for without one.
const MANUAL_PREFIX: &str = "pb_backup_";

/// Which operation a [`BackupHook`] wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupAction {
    Create,
    Restore,
}

/// Runs the operation a [`BackupHook`] wraps with the backup name it was handed (or changed):
/// the name of the backup made or restored.
pub type BackupNext = Box<dyn FnOnce(String) -> Result<String> + Send>;

/// A hook around backups and restores (`onBackupCreate`, `onBackupRestore`), called on a
/// blocking thread with the backup's name (empty: a name is made up): it runs the operation
/// by calling `next`, or skips it by not calling it; an error it returns fails the operation.
pub type BackupHook = Arc<dyn Fn(BackupAction, String, BackupNext) -> Result<()> + Send + Sync>;

/// The backups service; cloning it is one reference count.
#[derive(Clone)]
pub struct Backups {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    /// Where backups and restores work.
    scratch: Arc<scratch::Area>,
    db: Db,
    files: Files,
    settings: Settings,
    vault: vault::Vault,
    crons: Crons,
    /// The backup or restore running now (its key), if any: one at a time.
    active: Mutex<Option<String>>,
    /// Prepared restores go to whoever runs the app (`take_restores`).
    restores: mpsc::UnboundedSender<Restore>,
    restores_rx: Mutex<Option<mpsc::UnboundedReceiver<Restore>>>,
    /// The hook around backups and restores, if the app has one.
    hook: Mutex<Option<BackupHook>>,
}

/// Marks a backup or restore as running until dropped.
pub struct Running {
    inner: Arc<Inner>,
}

impl Drop for Running {
    fn drop(&mut self) {
        *self.inner.active.lock() = None;
    }
}

impl Backups {
    pub fn new(
        data_dir: &Path,
        db: Db,
        files: Files,
        settings: Settings,
        crons: Crons,
    ) -> Result<Backups> {
        // Its work folder; what interrupted backups and restores left behind goes.
        let scratch = scratch::Area::open(data_dir)?;
        let (restores, restores_rx) = mpsc::unbounded_channel();
        let backups = Backups {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_path_buf(),
                scratch,
                vault: vault::Vault::open(data_dir, settings.clone())?,
                db,
                files,
                settings: settings.clone(),
                crons,
                active: Mutex::new(None),
                restores,
                restores_rx: Mutex::new(Some(restores_rx)),
                hook: Mutex::new(None),
            }),
        };
        settings.add_check(Arc::new(check_settings));
        let weak = Arc::downgrade(&backups.inner);
        settings.on_change(Arc::new(move || {
            if let Some(inner) = weak.upgrade() {
                Backups { inner }.schedule();
            }
        }));
        backups.schedule();
        Ok(backups)
    }

    /// Sets the hook around backups and restores (the hook files' `onBackupCreate` and
    /// `onBackupRestore`).
    pub fn on_backup(&self, hook: BackupHook) {
        *self.inner.hook.lock() = Some(hook);
    }

    fn hook(&self) -> Option<BackupHook> {
        self.inner.hook.lock().clone()
    }

    /// Whether a backup could start now (`canBackup` of `/api/health`).
    pub fn is_idle(&self) -> bool {
        self.inner.active.lock().is_none()
    }

    /// Marks `key` as the backup or restore running; fails when one is already.
    fn start(&self, key: &str, message: &str) -> Result<Running> {
        let mut active = self.inner.active.lock();
        if active.is_some() {
            return Err(Error::bad_request(message));
        }
        *active = Some(key.to_owned());
        Ok(Running {
            inner: self.inner.clone(),
        })
    }

    /// The receiver of prepared restores, for the one who runs the app (once).
    pub fn take_restores(&self) -> Option<mpsc::UnboundedReceiver<Restore>> {
        self.inner.restores_rx.lock().take()
    }

    /// `GET /api/backups`.
    pub async fn list(&self, caller: &Auth) -> Result<Vec<BackupInfo>> {
        superusers_only(caller)?;
        self.list_all().await
    }

    /// Every backup, by key (the CLI's `backup list`).
    pub async fn list_all(&self) -> Result<Vec<BackupInfo>> {
        self.inner.vault.list().await.map_err(|e| {
            tracing::error!(error = %e, "cannot list backups");
            Error::bad_request("Failed to retrieve backup items.")
        })
    }

    /// `POST /api/backups` (`{name?}`): makes a backup now and answers once it is stored.
    pub async fn create(&self, caller: &Auth, body: Result<Json>) -> Result<()> {
        superusers_only(caller)?;
        if !self.is_idle() {
            // PB-COMPAT: PocketBase's words, without a final period here (restore has one).
            return Err(Error::bad_request(
                "Try again later - another backup/restore process has already been started",
            ));
        }
        let name = match body?.get("name") {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(name)) => name.clone(),
            Some(_) => {
                return Err(Error::bad_request(
                    "An error occurred while loading the submitted data.",
                ));
            }
        };
        if !name.is_empty() {
            let error = if name.chars().count() > 150 {
                Some(
                    json!({"code": "validation_length_out_of_range", "message": "The length must be between 1 and 150.", "params": {"max": 150, "min": 1}}),
                )
            } else if !names::valid_new_name(&name) {
                Some(field_error_json(
                    "validation_match_invalid",
                    "Must be in a valid format.",
                ))
            } else if self.inner.vault.exists(&name).await.unwrap_or(true) {
                Some(field_error_json(
                    "validation_backup_name_exists",
                    "The backup file name is invalid or already exists.",
                ))
            } else {
                None
            };
            if let Some(error) = error {
                let mut data = FieldErrors::new();
                data.insert("name".into(), error);
                return Err(Error::form(data));
            }
        }
        self.create_named((!name.is_empty()).then_some(name), &|_| {})
            .await
            .map(|_| ())
            .map_err(|e| match e {
                Error::BadRequest { .. } => e,
                e => {
                    tracing::error!(error = %e, "backup failed");
                    Error::bad_request("Failed to create backup.")
                }
            })
    }

    /// Makes a backup named `name` (or PocketBase's generated name) and stores it; returns
    /// its key. The app keeps serving meanwhile.
    pub async fn create_named(
        &self,
        name: Option<String>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<String> {
        if let Some(hook) = self.hook() {
            return self.create_hooked(hook, name.unwrap_or_default()).await;
        }
        self.create_unhooked(name, progress).await
    }

    /// A backup through the hook: it runs on a blocking thread, and its `next` makes the
    /// backup (on this runtime) with the name the hook left. PB-COMPAT: PocketBase marks the
    /// backup as running before its hook, so a second one is refused while the hook runs.
    async fn create_hooked(&self, hook: BackupHook, name: String) -> Result<String> {
        let _running = self.start(
            &name,
            "Try again later - another backup/restore process has already been started",
        )?;
        let made = Arc::new(Mutex::new(None));
        let next: BackupNext = {
            let (backups, made, rt) = (
                self.clone(),
                made.clone(),
                tokio::runtime::Handle::current(),
            );
            Box::new(move |name: String| {
                // Marked as running above: `write_named` does not check it again.
                let key = backups.key_for((!name.is_empty()).then_some(name))?;
                // The running backup is known by its final name (a delete of it is refused).
                *backups.inner.active.lock() = Some(key.clone());
                rt.block_on(backups.write_named(&key, &|_| {}))?;
                *made.lock() = Some(key.clone());
                Ok(key)
            })
        };
        // PB-COMPAT: whatever fails in the hooks fails the backup ("Failed to create backup.").
        tokio::task::spawn_blocking(move || hook(BackupAction::Create, name, next))
            .await
            .map_err(Error::internal)?
            .map_err(|e| Error::internal_from("a backup hook failed", e))?;
        let key = made.lock().take();
        Ok(key.unwrap_or_default())
    }

    async fn create_unhooked(
        &self,
        name: Option<String>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<String> {
        let key = self.key_for(name)?;
        let _running = self.start(
            &key,
            "Try again later - another backup/restore process has already been started",
        )?;
        self.write_named(&key, progress).await?;
        Ok(key)
    }

    /// The key of a new backup: `name`, or PocketBase's generated name.
    fn key_for(&self, name: Option<String>) -> Result<String> {
        let key = name.unwrap_or_else(|| {
            names::generated(MANUAL_PREFIX, &self.inner.settings.meta().app_name)
        });
        if !names::valid_key(&key) {
            return Err(Error::bad_request("Invalid backup name."));
        }
        Ok(key)
    }

    /// Makes and stores the backup `key`, with no check that another runs: the caller marked
    /// it as running.
    async fn write_named(&self, key: &str, progress: &(dyn Fn(Progress) + Sync)) -> Result<()> {
        let started = Instant::now();
        let result = self.write_backup(key, progress).await;
        metrics::histogram!("oxbase_backup_duration_seconds", "outcome" => if result.is_ok() { "ok" } else { "error" })
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn write_backup(&self, key: &str, progress: &(dyn Fn(Progress) + Sync)) -> Result<()> {
        let inner = &self.inner;
        let work = inner.scratch.work_dir("backup_")?;
        let database = work.path().join("data.db");
        // No file the snapshot names may go before it is copied: deletions wait (off the
        // request path) until the archive is written.
        let hold = inner.files.hold_deletions().await;
        snapshot::write(&inner.db, &database, progress).await?;
        let zip = work.path().join("backup.zip");
        let storage = inner.data_dir.join(archive::STORAGE);
        {
            let (zip, database) = (zip.clone(), database.clone());
            tokio::task::spawn_blocking(move || archive::write(&zip, &database, &storage))
                .await
                .map_err(Error::internal)??;
        }
        drop(hold);
        inner.vault.put(key, &zip).await
    }

    /// Whether `caller` may manage backups: checked before an upload's body is read.
    pub fn authorize(&self, caller: &Auth) -> Result<()> {
        superusers_only(caller)
    }

    /// `POST /api/backups/upload`: stores an uploaded zip under its own name.
    pub async fn upload(&self, caller: &Auth, file: Option<Upload>) -> Result<()> {
        superusers_only(caller)?;
        let invalid = |code: &str, message: String| {
            let mut data = FieldErrors::new();
            data.insert("file".into(), field_error_json(code, message));
            Error::form(data)
        };
        let Some(file) = file else {
            return Err(invalid("validation_required", "Cannot be blank.".into()));
        };
        if file.mime.split(';').next().unwrap_or("").trim() != "application/zip" {
            return Err(invalid(
                "validation_invalid_mime_type",
                format!(
                    "\"{}\" mime type must be one of: application/zip.",
                    file.name
                ),
            ));
        }
        let Some(key) = names::upload_key(&file.original) else {
            return Err(invalid(
                "validation_invalid_name",
                "Invalid file name.".into(),
            ));
        };
        if self.inner.vault.exists(&key).await.unwrap_or(true) {
            return Err(invalid(
                "validation_backup_name_exists",
                "Backup file with the specified name already exists.".into(),
            ));
        }
        self.inner.vault.put(&key, file.path()).await.map_err(|e| {
            tracing::error!(error = %e, "backup upload failed");
            Error::bad_request("Failed to upload backup.")
        })
    }

    /// `GET /api/backups/{key}?token=`: `caller` is who the file token names.
    pub async fn download(&self, caller: &Auth, key: &str) -> Result<Content> {
        if !matches!(caller, Auth::Superuser(_)) {
            return Err(Error::Forbidden(
                "Insufficient permissions to access the resource.".into(),
            ));
        }
        if !names::valid_key(key) {
            return Err(Error::not_found());
        }
        self.inner.vault.read(key).await
    }

    /// `DELETE /api/backups/{key}`.
    pub async fn delete(&self, caller: &Auth, key: &str) -> Result<()> {
        superusers_only(caller)?;
        if self.inner.active.lock().as_deref() == Some(key) {
            return Err(Error::bad_request(
                "The backup is currently being used and cannot be deleted.",
            ));
        }
        // PB-COMPAT: PocketBase appends the storage's raw error (a path on disk); the cause
        // is said here without it.
        let missing = || {
            Error::bad_request(
                "Invalid or already deleted backup file. Raw error: \nresource not found.",
            )
        };
        if !names::valid_key(key) || !self.inner.vault.exists(key).await? {
            return Err(missing());
        }
        self.inner.vault.delete(key).await
    }

    /// `POST /api/backups/{key}/restore`: checks the backup, then prepares the restore on a
    /// task of its own (download, extraction, checks) and hands it to whoever runs the app,
    /// which restarts it on the restored data.
    pub async fn restore(&self, caller: &Auth, key: &str) -> Result<()> {
        superusers_only(caller)?;
        let busy = "Try again later - another backup/restore process has already been started.";
        if !self.is_idle() {
            return Err(Error::bad_request(busy));
        }
        if !names::valid_key(key) || !self.inner.vault.exists(key).await.unwrap_or(false) {
            return Err(Error::bad_request("Missing or invalid backup file."));
        }
        if self.inner.restores_rx.lock().is_some() {
            // Nobody runs this app to restart it (an app opened by a command, not a server).
            return Err(Error::bad_request(
                "Restores need a running server: use `oxbase backup restore`.",
            ));
        }
        let running = self.start(key, busy)?;
        let backups = self.clone();
        let key = key.to_owned();
        tokio::spawn(async move {
            let outcome = match backups.hook() {
                Some(hook) => backups.restore_hooked(hook, key.clone(), running).await,
                None => backups.hand_over(&key, running).await,
            };
            if let Err(e) = outcome {
                tracing::error!(key, error = %e, "restore failed");
            }
        });
        Ok(())
    }

    /// Prepares the restore of `key` and hands it to whoever runs the app.
    async fn hand_over(&self, key: &str, running: Running) -> Result<String> {
        let mut restore = self.prepare(key).await?;
        restore.running = Some(running);
        if self.inner.restores.send(restore).is_err() {
            tracing::error!(
                key,
                "a restore was prepared but nothing runs the app to apply it"
            );
        }
        Ok(key.to_owned())
    }

    /// A restore through the hook, whose `next` prepares it (with the name the hook left).
    async fn restore_hooked(
        &self,
        hook: BackupHook,
        key: String,
        running: Running,
    ) -> Result<String> {
        let next: BackupNext = {
            let (backups, rt) = (self.clone(), tokio::runtime::Handle::current());
            Box::new(move |key: String| rt.block_on(backups.hand_over(&key, running)))
        };
        let name = key.clone();
        tokio::task::spawn_blocking(move || hook(BackupAction::Restore, name, next))
            .await
            .map_err(Error::internal)??;
        Ok(key)
    }

    /// Fetches and extracts the backup `key` into a work folder, checked, ready for
    /// `restore::apply`.
    pub async fn prepare(&self, key: &str) -> Result<Restore> {
        if !names::valid_key(key) || !self.inner.vault.exists(key).await? {
            return Err(Error::bad_request("Missing or invalid backup file."));
        }
        let work = self.inner.scratch.work_dir("restore_")?;
        let zip = self.inner.vault.local_copy(key, work.path()).await?;
        let extracted = work.path().join("data");
        {
            let extracted = extracted.clone();
            tokio::task::spawn_blocking(move || {
                archive::extract(&zip, &extracted)?;
                crate::store::sqlite::check_backup(&extracted.join(archive::DATABASE))
            })
            .await
            .map_err(Error::internal)??;
        }
        Ok(Restore {
            work,
            extracted,
            running: None,
        })
    }

    /// Registers, replaces or removes the scheduled backups' job after the settings.
    fn schedule(&self) {
        let settings = self.inner.settings.backups();
        if settings.cron.is_empty() {
            self.inner.crons.remove(CRON_JOB);
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let added = self.inner.crons.add(
            CRON_JOB,
            &settings.cron,
            job(move || {
                let weak = weak.clone();
                async move {
                    match weak.upgrade() {
                        Some(inner) => Backups { inner }.scheduled_backup().await,
                        None => Ok(()),
                    }
                }
            }),
        );
        if let Err(e) = added {
            tracing::error!(error = %e, "the backups' schedule is invalid");
        }
    }

    /// The scheduled job: a backup, then only the newest `cronMaxKeep` scheduled ones kept.
    async fn scheduled_backup(&self) -> Result<()> {
        let name = names::generated(AUTO_PREFIX, &self.inner.settings.meta().app_name);
        self.create_named(Some(name), &|_| {}).await?;
        let keep = self.inner.settings.backups().cron_max_keep;
        if keep == 0 {
            return Ok(());
        }
        let mut auto: Vec<BackupInfo> = self
            .inner
            .vault
            .list()
            .await?
            .into_iter()
            .filter(|b| b.key.starts_with(AUTO_PREFIX))
            .collect();
        // Newest first (the names end with their time, to the second: the key breaks ties).
        auto.sort_by(|a, b| (&b.modified, &b.key).cmp(&(&a.modified, &a.key)));
        for old in auto.iter().skip(keep) {
            if let Err(e) = self.inner.vault.delete(&old.key).await {
                tracing::error!(key = old.key, error = %e, "cannot remove an old scheduled backup");
            }
        }
        Ok(())
    }
}

/// PocketBase's checks of the `backups` settings: a valid cron expression, and with one a
/// `cronMaxKeep` of at least 1.
fn check_settings(settings: &Json, errors: &mut FieldErrors) {
    let cron = settings
        .pointer("/backups/cron")
        .and_then(Json::as_str)
        .unwrap_or("");
    if !cron.is_empty()
        && let Err(e) = Schedule::parse(cron)
    {
        errors.insert(
            "backups.cron".into(),
            field_error_json("validation_invalid_cron", sentence(&e)),
        );
    }
    let keep = settings
        .pointer("/backups/cronMaxKeep")
        .and_then(Json::as_i64)
        .unwrap_or(0);
    if keep == 0 && !cron.is_empty() {
        errors.insert(
            "backups.cronMaxKeep".into(),
            field_error_json("validation_required", "Cannot be blank."),
        );
    } else if keep < 0 {
        errors.insert("backups.cronMaxKeep".into(), json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 1.", "params": {"threshold": 1}}));
    }
}

/// An error as PocketBase's validation shows it: capitalized, ending with a period.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_checks_give_pocketbase_errors() {
        let mut errors = FieldErrors::new();
        check_settings(
            &json!({"backups": {"cron": "* * *", "cronMaxKeep": 0}}),
            &mut errors,
        );
        assert_eq!(errors["backups.cron"]["code"], "validation_invalid_cron");
        assert_eq!(
            errors["backups.cron"]["message"],
            "Invalid cron expression - must be a valid macro or to have exactly 5 space separated segments."
        );
        assert_eq!(errors["backups.cronMaxKeep"]["code"], "validation_required");
        let mut errors = FieldErrors::new();
        check_settings(
            &json!({"backups": {"cron": "", "cronMaxKeep": -1}}),
            &mut errors,
        );
        assert_eq!(errors["backups.cronMaxKeep"]["params"]["threshold"], 1);
        let mut errors = FieldErrors::new();
        check_settings(
            &json!({"backups": {"cron": "@daily", "cronMaxKeep": 3}}),
            &mut errors,
        );
        assert!(errors.is_empty());
    }
}
