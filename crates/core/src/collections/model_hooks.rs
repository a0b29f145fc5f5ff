//! PocketBase's collection model hooks around every change of a definition, however made.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use parking_lot::Mutex;

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

/// The change a definition's model hooks wrap: their last `e.next()` makes it, with the
/// definition as they left it (`None`: unchanged).
pub type SaveChange = Box<dyn FnOnce(Option<Json>) -> BoxFuture<'static, Result<()>> + Send>;

/// Application code around every change of a definition, however made (the API, a migration,
/// a hook): PocketBase's collection model hooks (`onCollectionCreate`...).
pub trait ModelHooks: Send + Sync {
    /// Whether any hook wraps `action` on `collection` (none: the change is made directly).
    fn wraps(&self, action: Action, collection: &Collection) -> bool;
    /// Runs the hooks of `action` around `save`, which their last `e.next()` calls: code after
    /// it runs once the change is made. An error refuses the change, or fails it once made.
    fn around(&self, action: Action, collection: &Collection, save: SaveChange) -> Result<()>;
    /// Once the change committed (`Ok`), or failed.
    fn after(
        &self,
        action: Action,
        collection: &Collection,
        outcome: std::result::Result<(), &Error>,
    );
}

impl Collections {
    /// Tells `hooks` of a change made: inside application code's transaction, once that
    /// commits (a rollback is told on a thread of its own: the transaction's thread must not
    /// run hooks).
    fn after_settled(&self, hooks: Arc<dyn ModelHooks>, action: Action, seen: Collection) {
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
    }
}

/// The definition the hooks' `e.next()` saved, and what the save answered.
type Saved<T> = (Collection, Result<T>);

/// What became of a change the model hooks wrapped.
pub(super) enum Change<T> {
    /// Made: what the save answered.
    Made(T),
    /// PB-COMPAT: no hook called `e.next()`: nothing changed, and the caller is answered as
    /// if it had (PocketBase answers the definition and fires the after-success hooks).
    Skipped(Collection),
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
        redo: impl FnOnce(&Json) -> Result<Collection> + Send + 'static,
        save: impl FnOnce(Collection) -> F + Send + 'static,
    ) -> Result<Change<T>>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let Some(hooks) = self.model.get().cloned() else {
            return save(prepared).await.map(Change::Made);
        };
        if !hooks.wraps(action, &prepared) {
            // Only after-success or -error hooks, if any.
            let seen = prepared.clone();
            return match save(prepared).await {
                Ok(out) => {
                    self.after_settled(hooks, action, seen);
                    Ok(Change::Made(out))
                }
                Err(e) => {
                    hooks.after(action, &seen, Err(&e));
                    Err(e)
                }
            };
        }
        // What the hooks' `e.next()` made, kept here: the hooks see a copy of its error.
        let made: Arc<Mutex<Option<Saved<T>>>> = Arc::default();
        let slot = made.clone();
        let unchanged = prepared.clone();
        let change: SaveChange = Box::new(move |changed| {
            Box::pin(async move {
                let (c, out) = match changed.map(|json| redo(&json)).transpose() {
                    Ok(c) => {
                        let c = c.unwrap_or(unchanged);
                        let out = save(c.clone()).await;
                        (c, out)
                    }
                    Err(e) => (unchanged, Err(e)),
                };
                let echo = out.as_ref().err().map(Error::echo);
                *slot.lock() = Some((c, out));
                echo.map_or(Ok(()), Err)
            })
        });
        let chain = hooks.around(action, &prepared, change);
        let made = made.lock().take();
        match (chain, made) {
            (_, Some((c, Err(e)))) => {
                hooks.after(action, &c, Err(&e));
                Err(e)
            }
            // PB-COMPAT: a hook failing after its `e.next()` fails the request; the change
            // stays (PocketBase's own Execute handler committed it).
            (Err(e), made) => {
                let c = made.map_or(prepared, |(c, _)| c);
                hooks.after(action, &c, Err(&e));
                Err(refused(e, action, via))
            }
            (Ok(()), Some((seen, Ok(out)))) => {
                self.after_settled(hooks, action, seen);
                Ok(Change::Made(out))
            }
            (Ok(()), None) => {
                hooks.after(action, &prepared, Ok(()));
                Ok(Change::Skipped(prepared))
            }
        }
    }
}
