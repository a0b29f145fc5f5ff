//! `onBackupCreate` and `onBackupRestore`: the hooks wrap the core's backup and restore, whose
//! `e.next()` makes (or prepares) it with the `e.name` they leave; a hook that does not call
//! `e.next()` skips it, one that throws fails it.

use std::sync::Arc;

use oxbase_core::App;
use oxbase_core::backups::{BackupAction, BackupHook};
use serde_json::{Value as Json, json};

use crate::Hooks;
use crate::hooks::{engine_error, to_core_error};
use crate::invoke;

/// What PocketBase leaves out of a backup (`e.exclude`; oxbase's archive holds the database
/// and `storage` only, whatever the hooks set here).
const EXCLUDE: [&str; 5] = [
    "backups",
    ".pb_temp_to_delete",
    ".pb_notify",
    ".autocert_cache",
    "lost+found",
];

impl Hooks {
    pub(crate) fn bind_backups(self: &Arc<Self>, app: &App) {
        if !self.by_name.has_any(&["onBackupCreate", "onBackupRestore"]) {
            return;
        }
        let hooks = self.clone();
        let hook: BackupHook = Arc::new(move |action, name, next| {
            let hook_name = match action {
                BackupAction::Create => "onBackupCreate",
                BackupAction::Restore => "onBackupRestore",
            };
            let chain = hooks.by_name.untagged(hook_name);
            if chain.is_empty() {
                return next(name).map(|_| ());
            }
            let exclude = match action {
                BackupAction::Create => &EXCLUDE[..],
                BackupAction::Restore => &EXCLUDE[..1],
            };
            let spec = json!({
                "chain": chain,
                "terminal": "native",
                "carry": ["name", "exclude"],
                "event": {"fields": {"name": name, "exclude": exclude}},
            });
            let mut next = Some(next);
            let terminal: invoke::Terminal = Box::new(move |state: Json| {
                let name = state["name"].as_str().unwrap_or("").to_owned();
                match next.take() {
                    Some(next) => Ok(json!({"name": next(name)?})),
                    None => Ok(Json::Null),
                }
            });
            let outcome =
                invoke::blocking(|| invoke::with_terminal(terminal, || hooks.run_hook(&spec)))
                    .map_err(engine_error)?;
            match outcome.error {
                Some(e) => Err(to_core_error(&e)),
                None => Ok(()),
            }
        });
        app.backups().on_backup(hook);
    }
}
