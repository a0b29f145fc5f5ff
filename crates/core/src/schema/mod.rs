//! Collections: their definition (`collection`, `field`), the DDL that stores them
//! (`migrate`), the system collections created on first start (`system`) and the in-memory
//! cache every request reads (`Schema`).
//!
//! Writes go through `Schema::save`/`Schema::remove`, which run the DDL and store the
//! definition in one transaction and refresh the cache after commit, so a collection created a
//! moment ago is always visible.

pub mod auth_options;
pub mod collection;
pub mod field;
pub mod migrate;
pub mod record;
pub mod system;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

pub use collection::{Collection, CollectionKind};
pub use field::{Field, FieldKind};
pub use record::Record;

use crate::error::{Error, Result};
use crate::store::tables;
use crate::store::{Conn, Db};

#[derive(Default)]
struct Cache {
    /// Taken from [`next_version`] at every change: equal versions mean equal definitions,
    /// across every schema of the process.
    version: u64,
    by_id: HashMap<String, Arc<Collection>>,
    /// Lower-cased name to id: names are unique case-insensitively.
    by_name: HashMap<String, String>,
}

#[derive(Clone)]
pub struct Schema {
    db: Db,
    cache: Arc<RwLock<Cache>>,
    /// When the last reload on a miss started: concurrent misses share one reload.
    last_miss_reload: Arc<tokio::sync::Mutex<std::time::Instant>>,
    /// Told after every committed change of a definition (the relay to other instances, the
    /// outbox's worker).
    on_change: Arc<RwLock<Vec<ChangeListener>>>,
    /// Run inside the transaction of every change of a definition (the outbox).
    on_write: Arc<RwLock<Vec<WriteHook>>>,
}

/// Told after a committed change of a definition.
pub type ChangeListener = Arc<dyn Fn() + Send + Sync>;

/// A consumer inside the transaction of a definition's change: `(conn, before, after)`
/// (`before` is `None` for a create, `after` for a delete). Rows it writes on `conn` commit or
/// roll back with the change; an error fails the change.
pub type WriteHook = Arc<
    dyn Fn(&mut dyn Conn, Option<&Collection>, Option<&Collection>) -> Result<()> + Send + Sync,
>;

impl Schema {
    /// Loads every collection definition into the cache.
    pub async fn load(db: Db) -> Result<Schema> {
        let schema = Schema {
            db: db.clone(),
            cache: Arc::default(),
            last_miss_reload: Arc::new(tokio::sync::Mutex::new(std::time::Instant::now())),
            on_change: Arc::default(),
            on_write: Arc::default(),
        };
        let all = db.read(load_all).await?;
        schema.replace_all(all);
        Ok(schema)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Which definitions the cache holds: changes with every change of any of them, and is
    /// never the same for two schemas of one process (memos keyed by it stay apart).
    pub fn version(&self) -> u64 {
        self.cache.read().version
    }

    /// A collection by id or (case-insensitive) name.
    pub fn get(&self, id_or_name: &str) -> Option<Arc<Collection>> {
        let cache = self.cache.read();
        if let Some(c) = cache.by_id.get(id_or_name) {
            return Some(c.clone());
        }
        // Names are keyed lower-case; most requests already spell them so (no copy then).
        let id = if id_or_name.bytes().any(|b| b.is_ascii_uppercase()) {
            cache.by_name.get(&id_or_name.to_ascii_lowercase())
        } else {
            cache.by_name.get(id_or_name)
        }?;
        cache.by_id.get(id).cloned()
    }

    /// A collection by id or name, or PocketBase's 404.
    pub fn require(&self, id_or_name: &str) -> Result<Arc<Collection>> {
        self.get(id_or_name)
            .ok_or_else(|| Error::NotFound("Missing collection context.".into()))
    }

    /// Like `get`, but sure to see every definition committed before the call. Other instances
    /// on a shared (PostgreSQL) database hear of a change through the bus, a few milliseconds
    /// after its commit: a client that creates a collection through one instance and uses it
    /// through another at once would miss it. So on a miss, the definitions are reloaded from
    /// the database first (misses arriving together share one reload).
    pub async fn get_fresh(&self, id_or_name: &str) -> Result<Option<Arc<Collection>>> {
        if let Some(c) = self.get(id_or_name) {
            return Ok(Some(c));
        }
        if !self.shared() {
            return Ok(None);
        }
        let missed = std::time::Instant::now();
        let mut last = self.last_miss_reload.lock().await;
        if *last < missed {
            *last = std::time::Instant::now();
            self.reload().await?;
        }
        drop(last);
        Ok(self.get(id_or_name))
    }

    /// `get_fresh`, or PocketBase's 404.
    pub async fn require_fresh(&self, id_or_name: &str) -> Result<Arc<Collection>> {
        self.get_fresh(id_or_name)
            .await?
            .ok_or_else(|| Error::NotFound("Missing collection context.".into()))
    }

    /// Before a definition is validated against the others: on a shared database, reloads them,
    /// so that a relation to a collection created through another instance a moment ago holds.
    pub async fn refresh_if_shared(&self) -> Result<()> {
        if self.shared() {
            self.reload().await?;
        }
        Ok(())
    }

    /// Whether other instances may change the definitions (one PostgreSQL database for many).
    fn shared(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Whether `sql` names a view collection's table (`"name"`, as the dialect quotes it).
    pub fn names_a_view(&self, sql: &str) -> bool {
        let cache = self.cache.read();
        cache
            .by_id
            .values()
            .any(|c| c.kind == CollectionKind::View && sql.contains(&format!("\"{}\"", c.name)))
    }

    /// Every collection, oldest first.
    pub fn all(&self) -> Vec<Arc<Collection>> {
        let cache = self.cache.read();
        let mut all: Vec<_> = cache.by_id.values().cloned().collect();
        all.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        all
    }

    /// Persists a new or changed collection and its storage in one transaction.
    /// `prepare` runs inside the transaction first (e.g. to infer a view's fields).
    pub async fn save(
        &self,
        mut collection: Collection,
        old: Option<Arc<Collection>>,
    ) -> Result<Arc<Collection>> {
        let now = crate::dates::now();
        if collection.created.is_empty() {
            collection.created = self.created_after_all(&now);
        }
        collection.updated = now.max(collection.created.clone());
        let known = self.all();
        let hooks = self.on_write.read().clone();
        let (saved, views) = self
            .db
            .write(move |conn| {
                let views = write_definition(conn, &mut collection, old.as_deref(), &known)?;
                for hook in &hooks {
                    hook(conn, old.as_deref(), Some(&collection))?;
                }
                Ok((collection, views))
            })
            .await?;
        let saved = Arc::new(saved);
        self.put(saved.clone());
        for view in views {
            self.put(Arc::new(view));
        }
        self.changed_when_settled();
        Ok(saved)
    }

    /// What [`Schema::save`] would answer, without saving: its writes run and are rolled
    /// back (the database checks a view's query and the indexes only by running them).
    pub async fn check_save(
        &self,
        mut collection: Collection,
        old: Option<Arc<Collection>>,
    ) -> Result<()> {
        let known = self.all();
        let wrote = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = wrote.clone();
        let outcome = self
            .db
            .write(move |conn| {
                write_definition(conn, &mut collection, old.as_deref(), &known)?;
                done.store(true, std::sync::atomic::Ordering::Relaxed);
                // An error is what rolls the transaction back.
                Err::<(), _>(Error::internal("checked: rolled back"))
            })
            .await;
        match outcome {
            _ if wrote.load(std::sync::atomic::Ordering::Relaxed) => Ok(()),
            Err(e) => Err(e),
            Ok(()) => Ok(()),
        }
    }

    /// `now`, or a millisecond after the latest collection's creation if that is not earlier.
    /// PB-COMPAT: collections are listed (and snapshot by `migrate collections`) by `created`,
    /// and PocketBase breaks a tie by insertion order, which the cache does not keep: two
    /// collections created within a millisecond (the system ones at bootstrap) would list by
    /// name instead.
    fn created_after_all(&self, now: &str) -> String {
        // The dates' text sorts as they do.
        let latest = self
            .cache
            .read()
            .by_id
            .values()
            .map(|c| c.created.clone())
            .max();
        match latest.filter(|latest| latest.as_str() >= now) {
            Some(latest) => crate::dates::parse(&latest)
                .map(|t| crate::dates::format(t + chrono::Duration::milliseconds(1)))
                .unwrap_or_else(|| now.to_owned()),
            None => now.to_owned(),
        }
    }

    /// Drops a collection and its storage; refused (400) when a view reads it.
    pub async fn remove(&self, collection: Arc<Collection>) -> Result<()> {
        let c = collection.clone();
        let known = self.all();
        let hooks = self.on_write.read().clone();
        let views = self
            .db
            .write(move |conn| {
                let readers = migrate::readers(&c.name, &c.id, &known);
                migrate::drop_views(conn, &readers)?;
                migrate::drop(conn, &c)?;
                let after = with(&known, None, &c.id);
                let views = restore_views(conn, readers, &after, "delete")?;
                tables::collections::delete(conn, &c.id)?;
                for hook in &hooks {
                    hook(conn, Some(&c), None)?;
                }
                Ok(views)
            })
            .await?;
        let mut cache = self.cache.write();
        cache.by_id.remove(&collection.id);
        cache.by_name.remove(&collection.name.to_ascii_lowercase());
        cache.version = next_version();
        drop(cache);
        for view in views {
            self.put(Arc::new(view));
        }
        self.changed_when_settled();
        Ok(())
    }

    /// Calls `hook` after every committed change of a definition made here.
    pub fn on_change(&self, hook: ChangeListener) {
        self.on_change.write().push(hook);
    }

    /// Runs `hook` inside the transaction of every later change of a definition.
    pub fn on_write(&self, hook: WriteHook) {
        self.on_write.write().push(hook);
    }

    /// `changed` once the change commits. Inside application code's transaction the cache
    /// already holds the change (its later steps need it); a rollback reloads the cache.
    fn changed_when_settled(&self) {
        if !self.db.in_shared_transaction() {
            return self.changed();
        }
        let (schema, rt) = (self.clone(), tokio::runtime::Handle::current());
        self.db.when_settled(move |committed| match committed {
            true => schema.changed(),
            false => {
                rt.spawn(async move {
                    if let Err(err) = schema.reload().await {
                        tracing::error!(%err, "cannot reload the collections after a rollback");
                    }
                });
            }
        });
    }

    fn changed(&self) {
        self.db.forget_statements();
        let hooks = self.on_change.read().clone();
        for hook in hooks {
            hook();
        }
    }

    /// Reloads the cache from the database (after an import, or another instance's change).
    pub async fn reload(&self) -> Result<()> {
        let all = self.db.read(load_all).await?;
        self.replace_all(all);
        Ok(())
    }

    fn put(&self, c: Arc<Collection>) {
        let mut cache = self.cache.write();
        if let Some(prev) = cache.by_id.get(&c.id).cloned() {
            cache.by_name.remove(&prev.name.to_ascii_lowercase());
        }
        cache
            .by_name
            .insert(c.name.to_ascii_lowercase(), c.id.clone());
        cache.by_id.insert(c.id.clone(), c);
        cache.version = next_version();
    }

    fn replace_all(&self, all: Vec<Collection>) {
        self.db.forget_statements();
        let mut fresh = Cache {
            version: next_version(),
            ..Cache::default()
        };
        for c in all {
            fresh
                .by_name
                .insert(c.name.to_ascii_lowercase(), c.id.clone());
            fresh.by_id.insert(c.id.clone(), Arc::new(c));
        }
        *self.cache.write() = fresh;
    }
}

/// `known` with the collection `id` replaced by `changed` (or left out when `None`).
fn with(known: &[Arc<Collection>], changed: Option<&Collection>, id: &str) -> Vec<Arc<Collection>> {
    known
        .iter()
        .filter(|k| k.id != id)
        .cloned()
        .chain(changed.map(|c| Arc::new(c.clone())))
        .collect()
}

/// A definition's storage and row, as a save writes them in its transaction: the views that
/// read an old table are dropped and made again over the new one (returned, with their fields
/// as inferred again).
fn write_definition(
    conn: &mut dyn Conn,
    collection: &mut Collection,
    old: Option<&Collection>,
    known: &[Arc<Collection>],
) -> Result<Vec<Collection>> {
    if collection.kind == CollectionKind::View {
        system::infer_view_fields(conn, collection, old, known)?;
    }
    let views = match old {
        None => {
            migrate::create(conn, collection)?;
            Vec::new()
        }
        Some(old) if !migrate::changes_storage(old, collection) => Vec::new(),
        Some(old) => {
            let readers = migrate::readers(&old.name, &old.id, known);
            migrate::drop_views(conn, &readers)?;
            migrate::update(conn, old, collection)?;
            let after = with(known, Some(collection), &old.id);
            restore_views(conn, readers, &after, "update")?
        }
    };
    store_definition(conn, collection)?;
    Ok(views)
}

/// Creates the views of `views` again over what changed, each from its stored query, oldest
/// first and in rounds (a view reading another waits for it), and derives their fields again;
/// returns those whose definition changed. A view whose query no longer runs fails the
/// `action` (`update`, `delete`) with a 400 naming it.
///
/// PB-COMPAT: PocketBase refuses the same deletions with only "Failed to delete collection."
/// (the view it names stays in its log), and accepts a rename that leaves a view's stored query
/// naming the old table; oxbase names the views, and refuses such a rename.
fn restore_views(
    conn: &mut dyn Conn,
    views: Vec<Collection>,
    known: &[Arc<Collection>],
    action: &str,
) -> Result<Vec<Collection>> {
    let mut waiting = views;
    let mut changed = Vec::new();
    loop {
        let before = waiting.len();
        let mut still = Vec::new();
        for view in waiting {
            let restored = crate::store::guarded(conn, |conn| {
                let mut fresh = view.clone();
                migrate::create(conn, &fresh)?;
                system::infer_view_fields(conn, &mut fresh, Some(&view), known)?;
                if fresh.fields != view.fields {
                    store_definition(conn, &fresh)?;
                }
                Ok(fresh)
            });
            match restored {
                Ok(fresh) if fresh.fields != view.fields => changed.push(fresh),
                Ok(_) => {}
                Err(_) => still.push(view),
            }
        }
        waiting = still;
        if waiting.is_empty() {
            return Ok(changed);
        }
        if waiting.len() == before {
            let names: Vec<&str> = waiting.iter().map(|v| v.name.as_str()).collect();
            return Err(Error::bad_request(format!(
                "Failed to {action} collection due to existing view dependency in {}.",
                names.join(", ")
            )));
        }
    }
}

fn next_version() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn load_all(conn: &mut dyn Conn) -> Result<Vec<Collection>> {
    let stored = tables::collections::all(conn)?;
    let mut out = Vec::with_capacity(stored.len());
    for data in &stored {
        let json: serde_json::Value = serde_json::from_str(data).map_err(Error::internal)?;
        out.push(
            Collection::from_stored(&json)
                .ok_or_else(|| Error::internal("a stored collection is unreadable"))?,
        );
    }
    Ok(out)
}

/// Writes the collection's definition row (insert or update).
pub fn store_definition(conn: &mut dyn Conn, c: &Collection) -> Result<()> {
    let data = c.to_stored_json().to_string();
    tables::collections::put(conn, &c.id, &c.name, data, &c.created, &c.updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::collection::CollectionKind;
    use crate::store::sqlite::SqliteDb;

    /// Collections list by `created`: each new one is created after the others, so that a
    /// list keeps their creation order as PocketBase's does (it breaks ties by insertion).
    #[tokio::test]
    async fn collections_created_together_keep_their_order() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = Db::Sqlite(SqliteDb::open(&dir.path().join("data.db"), 1).expect("open"));
        db.write(crate::store::migrations::run)
            .await
            .expect("migrations");
        let schema = Schema::load(db).await.expect("load");
        for name in ["c", "b", "a"] {
            let saved = schema
                .save(Collection::new(name, CollectionKind::Base), None)
                .await
                .expect("save");
            assert!(saved.updated >= saved.created);
        }
        let names: Vec<String> = schema.all().iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, ["c", "b", "a"]);
    }

    /// Memos of compiled rules are keyed by the version: it must move with every change and
    /// differ between two schemas of one process.
    #[tokio::test]
    async fn the_version_moves_with_every_definition_change_and_is_never_shared() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = Db::Sqlite(SqliteDb::open(&dir.path().join("data.db"), 1).expect("open"));
        db.write(crate::store::migrations::run)
            .await
            .expect("migrations");
        let schema = Schema::load(db.clone()).await.expect("load");
        let other = Schema::load(db).await.expect("load again");
        assert_ne!(schema.version(), other.version());

        let loaded = schema.version();
        let saved = schema
            .save(Collection::new("notes", CollectionKind::Base), None)
            .await
            .expect("save");
        let created = schema.version();
        assert_ne!(created, loaded);
        schema.remove(saved).await.expect("remove");
        assert_ne!(schema.version(), created);
        let removed = schema.version();
        schema.reload().await.expect("reload");
        assert_ne!(schema.version(), removed);
    }
}
