//! PocketBase's collection model hooks around every change of a definition, however made.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value as Json;

use super::Collections;
use crate::error::{Error, Result};
use crate::events::Action;
use crate::schema::Collection;

/// Who changes a definition: the API, or the application itself (`*_direct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    Api,
    App,
}

/// A model hook's refusal as the caller sees it. PB-COMPAT: the API answers any failure but
/// a validation one as its own 400 ("Raw error" for a save, a plain message for a delete);
/// application code sees the error as thrown.
pub(super) fn refused(e: Error, action: Action, via: Via) -> Error {
    match (via, e) {
        (Via::App, e) => e,
        (Via::Api, Error::BadRequest { message, data }) if !data.is_empty() => {
            Error::BadRequest { message, data }
        }
        (Via::Api, e) => Error::bad_request(match action {
            Action::Delete => "Failed to delete collection.".to_owned(),
            Action::Create => format!("Failed to create collection. Raw error: \n{e}"),
            Action::Update => format!("Failed to update collection. Raw error: \n{e}"),
        }),
    }
}

/// Application code around every change of a definition, however made (the API, a migration,
/// a hook): PocketBase's collection model hooks (`onCollectionCreate`...).
pub trait ModelHooks: Send + Sync {
    /// Before `collection` (valid) is saved or deleted: an error refuses the change; a
    /// changed definition (JSON) is validated again and saved instead.
    fn before(&self, action: Action, collection: &Collection) -> Result<Option<Json>>;
    /// Once the change committed (`Ok`), or failed.
    fn after(
        &self,
        action: Action,
        collection: &Collection,
        outcome: std::result::Result<(), &Error>,
    );
}

impl Collections {
    /// Runs `hooks` around every change of a definition (the first given stays).
    pub fn on_model(&self, hooks: Arc<dyn ModelHooks>) {
        let _ = self.model.set(hooks);
    }

    /// Runs the model hooks around `save`, the change of `prepared` (`redo` prepares again a
    /// definition the hooks changed). Without hooks, only `save`.
    pub(super) async fn with_model_hooks<T, F>(
        &self,
        action: Action,
        via: Via,
        prepared: Collection,
        redo: impl FnOnce(&Json) -> Result<Collection>,
        save: impl FnOnce(Collection) -> F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let Some(hooks) = self.model.get().cloned() else {
            return save(prepared).await;
        };
        let changed = match hooks.before(action, &prepared) {
            Ok(changed) => changed,
            Err(e) => {
                hooks.after(action, &prepared, Err(&e));
                return Err(refused(e, action, via));
            }
        };
        let c = match changed.map(|json| redo(&json)).transpose() {
            Ok(c) => c.unwrap_or(prepared),
            Err(e) => {
                hooks.after(action, &prepared, Err(&e));
                return Err(e);
            }
        };
        let seen = c.clone();
        match save(c).await {
            Ok(out) => {
                // Inside application code's transaction: once that commits (a rollback is
                // told on a thread of its own: the transaction's thread must not run hooks).
                let rt = tokio::runtime::Handle::current();
                self.schema
                    .db()
                    .when_settled(move |committed| match committed {
                        true => hooks.after(action, &seen, Ok(())),
                        false => {
                            rt.spawn_blocking(move || {
                                let e = Error::internal("the transaction was rolled back");
                                hooks.after(action, &seen, Err(&e));
                            });
                        }
                    });
                Ok(out)
            }
            Err(e) => {
                hooks.after(action, &seen, Err(&e));
                Err(e)
            }
        }
    }
}
