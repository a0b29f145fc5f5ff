//! Copies a whole application from one database to another (`oxbase migrate-db`): settings,
//! collection definitions with their tables and indexes, then every record table in batches.
//!
//! Resumable and idempotent: a definition already in the target is kept, rows are inserted
//! with `ON CONFLICT ("id") DO NOTHING`, so running it again after an interruption copies only
//! what is missing. Row counts are compared at the end.
//!
//! SQL: copying every table between two databases (`migrate-db`, `import-pocketbase`) reads
//! and writes tables it discovers, whatever their schema.

use oxbase_sql::{Ident, Sql, Value};

use crate::error::{Error, Result};
use crate::schema::{Collection, CollectionKind, migrate, store_definition};
use crate::store::tables::migration_history;
use crate::store::{Conn, Db, migrations, text};

/// Rows copied per transaction.
const BATCH: i64 = 500;

/// What the copy reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A table is about to be copied: its name and its number of rows in the source.
    Table { name: String, rows: u64 },
    /// Rows of the current table read so far.
    Rows(u64),
    /// The current table is done.
    TableDone,
}

/// One table's result.
#[derive(Debug, Clone)]
pub struct Counted {
    pub table: String,
    pub source: u64,
    pub target: u64,
}

/// Copies `from` into `to`; returns the row counts of every copied table, source and target.
pub async fn copy_all(
    from: &Db,
    to: &Db,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Counted>> {
    let collections = from.read(load_definitions).await?;
    copy_app(from, to, &collections, progress).await
}

/// Imports a PocketBase app (`pb_data`: its `data.db` and local `storage/`) into `to`, files
/// into `files`. PocketBase keeps the same tables, columns and value forms as oxbase, so the
/// rows copy as they are; its collection rows are read into oxbase definitions, and its users
/// keep their bcrypt password hashes (oxbase verifies and upgrades them at login).
pub async fn import_pocketbase(
    pb_data: &std::path::Path,
    to: &Db,
    files: &crate::files::Files,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Counted>> {
    let file = pb_data.join("data.db");
    if !file.exists() {
        return Err(Error::bad_request(format!(
            "no PocketBase database at {}",
            file.display()
        )));
    }
    let from = Db::Sqlite(crate::store::sqlite::SqliteDb::open(&file, 1)?);
    let collections = from.read(load_pocketbase_definitions).await?;
    let counts = copy_app(&from, to, &collections, progress).await?;
    from.close().await;
    copy_files(&pb_data.join("storage"), files).await?;
    Ok(counts)
}

/// PocketBase's `_collections` rows (`fields`, `indexes` and `options` as JSON text) in the
/// API shape oxbase reads definitions from.
fn load_pocketbase_definitions(conn: &mut dyn Conn) -> Result<Vec<Collection>> {
    let rows = conn.query(&Sql::raw(
        "SELECT \"id\", \"system\", \"type\", \"name\", \"fields\", \"indexes\", \"listRule\", \"viewRule\", \"createRule\", \"updateRule\", \"deleteRule\", \"options\", \"created\", \"updated\" FROM \"_collections\" ORDER BY \"created\", \"id\"",
    ))?;
    let mut out = Vec::with_capacity(rows.rows.len());
    for row in &rows.rows {
        let get = |name: &str| {
            rows.column_index(name)
                .map(|i| row[i].clone())
                .unwrap_or(Value::Null)
        };
        let as_json = |name: &str| {
            serde_json::from_str::<serde_json::Value>(text(&get(name)))
                .unwrap_or(serde_json::Value::Null)
        };
        let rule = |name: &str| match get(name) {
            Value::Text(t) => serde_json::Value::String(t),
            _ => serde_json::Value::Null,
        };
        let mut def = serde_json::json!({
            "id": text(&get("id")), "name": text(&get("name")), "type": text(&get("type")),
            "system": matches!(get("system"), Value::Int(1) | Value::Bool(true)),
            "fields": as_json("fields"), "indexes": as_json("indexes"),
            "listRule": rule("listRule"), "viewRule": rule("viewRule"), "createRule": rule("createRule"),
            "updateRule": rule("updateRule"), "deleteRule": rule("deleteRule"),
            "created": text(&get("created")), "updated": text(&get("updated")),
        });
        if let (Some(m), serde_json::Value::Object(options)) =
            (def.as_object_mut(), as_json("options"))
        {
            m.extend(options);
        }
        let name = text(&get("name")).to_owned();
        out.push(Collection::from_stored(&def).ok_or_else(|| {
            Error::internal(format!("PocketBase collection {name} could not be read"))
        })?);
    }
    Ok(out)
}

/// Copies a local storage folder (`<collectionId>/<recordId>/<name>`, thumbnails included)
/// into `files`; PocketBase's `.attrs` side files are left behind.
async fn copy_files(root: &std::path::Path, files: &crate::files::Files) -> Result<()> {
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
            continue;
        };
        while let Some(entry) = entries.next_entry().await.map_err(Error::internal)? {
            let path = entry.path();
            let meta = entry.metadata().await.map_err(Error::internal)?;
            if meta.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_some_and(|e| e == "attrs") {
                continue;
            }
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let key = relative.to_string_lossy().replace('\\', "/");
            // A copy, not a move: the PocketBase data dir stays as it was.
            let staged = tempfile::NamedTempFile::new().map_err(Error::internal)?;
            tokio::fs::copy(&path, staged.path())
                .await
                .map_err(Error::internal)?;
            files
                .storage()
                .put_file(&key, staged.path(), meta.len())
                .await?;
        }
    }
    Ok(())
}

/// Copies settings, definitions (tables before views) and rows.
async fn copy_app(
    from: &Db,
    to: &Db,
    collections: &[Collection],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Counted>> {
    to.write(migrations::run).await?;
    let mut counts = Vec::new();
    // `_params` has no `_rowid_` on PostgreSQL: its few rows are copied in the order of
    // their ids.
    counts.push(
        TableCopy::new("_params", &["id", "value", "updated"], Order::Id)?
            .run(from, to, progress)
            .await?,
    );
    // Tables first, then views (a view may read any table).
    let (views, tables): (Vec<&Collection>, Vec<&Collection>) = collections
        .iter()
        .partition(|c| c.kind == CollectionKind::View);
    for c in tables.iter().chain(views.iter()) {
        let c = (*c).clone();
        let name = c.name.clone();
        to.write(move |conn| {
            let mut exists = Sql::raw("SELECT 1 FROM \"_collections\" WHERE \"id\" = ");
            exists.push_param(c.id.clone());
            if conn.query_scalar(&exists)?.is_none() {
                migrate::create(conn, &c)?;
                store_definition(conn, &c)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| Error::internal(format!("collection {name}: {e}")))?;
    }
    for c in tables {
        let columns: Vec<&str> = c.fields.iter().map(|f| f.name.as_str()).collect();
        counts.push(
            TableCopy::new(&c.name, &columns, Order::RowId)?
                .run(from, to, progress)
                .await?,
        );
    }
    if from
        .read(|conn| migration_history::contains(conn, migrations::HISTORY))
        .await?
    {
        counts.push(history_copy()?.run(from, to, progress).await?);
    }
    let history = from.read(migration_history::all).await?;
    to.write(move |conn| add_migration_history(conn, history))
        .await?;
    Ok(counts)
}

/// Adds the rows of the app's migrations (its JS files') the target lacks to its
/// `_migrations`: a copied app must not apply its migrations again. Other rows (oxbase's
/// system migrations, PocketBase's Go ones) belong to each database.
fn add_migration_history(conn: &mut dyn Conn, rows: Vec<(String, i64)>) -> Result<()> {
    for (file, applied) in rows {
        if migrations::is_app_file(&file) && !migration_history::contains(conn, &file)? {
            migration_history::insert(conn, &file, applied)?;
        }
    }
    Ok(())
}

/// Replaces the whole app on the PostgreSQL database at `url` by the one in the SQLite file
/// `snapshot` (a backup's `data.db`), under the startup lock so that no instance migrates
/// meanwhile, in one transaction: every collection's table or view, the definitions and the
/// settings are dropped, then copied from the snapshot (read on the transaction's own thread).
/// A failure part-way (or the process stopping) rolls it all back: the database keeps the app
/// it had. Instances running on the database see the change once they reload (the restoring
/// instance announces it when it reopens).
pub async fn replace_postgres(
    url: &str,
    snapshot: &std::path::Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Counted>> {
    let pg = crate::store::postgres::PgDb::connect(url, 1).await?;
    let lock = pg.lock_startup().await?;
    // The lock holds a connection of its own: the transaction gets another.
    let to = Db::Postgres(crate::store::postgres::PgDb::connect(url, 1).await?);
    let snapshot = snapshot.to_owned();
    // The copy runs on a blocking thread: its progress comes back through a channel.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let replace = to.write(move |conn| {
        let mut from = crate::store::sqlite::open_read_only(&snapshot)?;
        replace_app(&mut from, conn, &|p| {
            let _ = tx.send(p);
        })
    });
    let report = async {
        while let Some(p) = rx.recv().await {
            progress(p);
        }
    };
    let (replaced, ()) = tokio::join!(replace, report);
    lock.release().await;
    to.close().await;
    pg.close().await;
    replaced
}

/// `copy_app` from one open connection into one open transaction, after dropping the
/// target's app (see `replace_postgres`).
fn replace_app(
    from: &mut dyn Conn,
    to: &mut dyn Conn,
    progress: &dyn Fn(Progress),
) -> Result<Vec<Counted>> {
    let collections = load_definitions(from)?;
    migrations::run(to)?;
    drop_app(to)?;
    let mut counts = vec![
        TableCopy::new("_params", &["id", "value", "updated"], Order::Id)?
            .run_in(from, to, progress)?,
    ];
    let (views, tables): (Vec<&Collection>, Vec<&Collection>) = collections
        .iter()
        .partition(|c| c.kind == CollectionKind::View);
    for c in tables.iter().chain(views.iter()) {
        migrate::create(to, c)
            .and_then(|()| store_definition(to, c))
            .map_err(|e| Error::internal(format!("collection {}: {e}", c.name)))?;
    }
    for c in tables {
        let columns: Vec<&str> = c.fields.iter().map(|f| f.name.as_str()).collect();
        counts.push(TableCopy::new(&c.name, &columns, Order::RowId)?.run_in(from, to, progress)?);
    }
    if migration_history::contains(from, migrations::HISTORY)? {
        counts.push(history_copy()?.run_in(from, to, progress)?);
    }
    let history = migration_history::all(from)?;
    add_migration_history(to, history)?;
    Ok(counts)
}

/// The record history's copy (`_history`; a source from before it has none, and a PocketBase
/// app never has one).
fn history_copy() -> Result<TableCopy> {
    let columns = [
        "id",
        "collectionId",
        "recordId",
        "version",
        "action",
        "data",
        "authCollection",
        "authId",
        "request",
        "requestId",
        "created",
    ];
    TableCopy::new("_history", &columns, Order::Id)
}

/// Drops every collection's table and view, the definitions, the settings and the history of
/// the app's migrations.
fn drop_app(conn: &mut dyn Conn) -> Result<()> {
    let existing = load_definitions(conn)?;
    let (views, tables): (Vec<Collection>, Vec<Collection>) = existing
        .into_iter()
        .partition(|c| c.kind == CollectionKind::View);
    migrate::drop_views(conn, &views)?;
    for c in &tables {
        migrate::drop(conn, c)?;
    }
    conn.execute(&Sql::raw("DELETE FROM \"_collections\""))?;
    conn.execute(&Sql::raw("DELETE FROM \"_params\""))?;
    conn.execute(&Sql::raw("DELETE FROM \"_history\""))?;
    for (file, _) in migration_history::all(conn)? {
        if migrations::is_app_file(&file) {
            migration_history::delete(conn, &file)?;
        }
    }
    Ok(())
}

fn load_definitions(conn: &mut dyn Conn) -> Result<Vec<Collection>> {
    let rows = conn.query(&Sql::raw(
        "SELECT \"data\" FROM \"_collections\" ORDER BY \"created\", \"id\"",
    ))?;
    rows.rows
        .iter()
        .map(|row| {
            let json: serde_json::Value =
                serde_json::from_str(text(&row[0])).map_err(Error::internal)?;
            Collection::from_stored(&json)
                .ok_or_else(|| Error::internal("a stored collection is unreadable"))
        })
        .collect()
}

fn count(conn: &mut dyn Conn, table: &Ident) -> Result<u64> {
    let mut sql = Sql::raw("SELECT COUNT(*) FROM ");
    sql.push_ident(table);
    Ok(match conn.query_scalar(&sql)? {
        Some(Value::Int(n)) => n.max(0) as u64,
        _ => 0,
    })
}

/// The column a table's rows are copied in the order of.
#[derive(Clone, Copy)]
enum Order {
    /// `_rowid_`: the insertion order, kept in the target.
    RowId,
    /// `id`, for tables without `_rowid_`.
    Id,
}

/// How far a table's copy is: the key of the last row copied, and how many.
struct Cursor {
    after: Value,
    copied: u64,
}

impl Cursor {
    /// Counts a batch of `n` rows up to the key `last` as copied; whether more may follow.
    fn advance(&mut self, n: usize, last: Value, progress: &dyn Fn(Progress)) -> bool {
        if n == 0 {
            return false;
        }
        self.copied += n as u64;
        progress(Progress::Rows(self.copied));
        self.after = last;
        n as i64 == BATCH
    }
}

/// The statements copying one table's rows, `BATCH` at a time, in the source's insertion
/// order (so the target numbers its rows the same way: the default list order), skipping ids
/// the target has.
#[derive(Clone)]
struct TableCopy {
    name: String,
    table: Ident,
    list: Sql,
    key: &'static str,
}

impl TableCopy {
    fn new(name: &str, columns: &[&str], order: Order) -> Result<TableCopy> {
        let table = Ident::new(name)
            .ok_or_else(|| Error::internal(format!("invalid table name {name}")))?;
        let cols: Vec<Ident> = columns
            .iter()
            .map(|c| Ident::new(c).ok_or_else(|| Error::internal(format!("invalid column {c}"))))
            .collect::<Result<_>>()?;
        Ok(TableCopy {
            name: name.to_owned(),
            table,
            list: Sql::join(cols.iter().map(Sql::ident), ", "),
            key: match order {
                Order::RowId => "\"_rowid_\"",
                Order::Id => "\"id\"",
            },
        })
    }

    /// Before the first row.
    fn cursor(&self) -> Cursor {
        Cursor {
            after: match self.key {
                "\"id\"" => Value::Text(String::new()),
                _ => Value::Int(-1),
            },
            copied: 0,
        }
    }

    /// The next batch of rows after the key `after`, without their key; and the last key.
    fn read(&self, conn: &mut dyn Conn, after: Value) -> Result<(Vec<Vec<Value>>, Value)> {
        let mut select = Sql::raw("SELECT ");
        select
            .push(self.key)
            .push(", ")
            .push_sql(&self.list)
            .push(" FROM ")
            .push_ident(&self.table)
            .push(" WHERE ")
            .push(self.key)
            .push(" > ")
            .push_param(after);
        select
            .push(" ORDER BY ")
            .push(self.key)
            .push(" LIMIT ")
            .push_param(BATCH);
        let mut rows = conn.query(&select)?.rows;
        let last = match rows.last().and_then(|row| row.first()) {
            Some(v @ (Value::Int(_) | Value::Text(_))) => v.clone(),
            Some(_) => {
                let name = &self.name;
                return Err(Error::internal(format!("{name}: no row order to copy by")));
            }
            None => Value::Null,
        };
        for row in &mut rows {
            row.remove(0);
        }
        Ok((rows, last))
    }

    fn insert(&self, conn: &mut dyn Conn, rows: Vec<Vec<Value>>) -> Result<()> {
        for row in rows {
            let mut insert = Sql::raw("INSERT INTO ");
            insert
                .push_ident(&self.table)
                .push(" (")
                .push_sql(&self.list)
                .push(") VALUES (");
            insert.push_sql(&Sql::join(row.into_iter().map(Sql::param), ", "));
            insert.push(") ON CONFLICT (\"id\") DO NOTHING");
            conn.execute(&insert)?;
        }
        Ok(())
    }

    /// Copies between two databases, one transaction per batch (resumable: see the module).
    async fn run(
        &self,
        from: &Db,
        to: &Db,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Counted> {
        let table = self.table.clone();
        let source = from.read(move |conn| count(conn, &table)).await?;
        progress(Progress::Table {
            name: self.name.clone(),
            rows: source,
        });
        let mut cursor = self.cursor();
        loop {
            let (copy, after) = (self.clone(), cursor.after.clone());
            let (rows, last) = from.read(move |conn| copy.read(conn, after)).await?;
            let n = rows.len();
            let copy = self.clone();
            to.write(move |conn| copy.insert(conn, rows)).await?;
            if !cursor.advance(n, last, progress) {
                break;
            }
        }
        progress(Progress::TableDone);
        let table = self.table.clone();
        let target = to.read(move |conn| count(conn, &table)).await?;
        Ok(self.counted(source, target))
    }

    /// Copies between two open connections (`to` in its transaction).
    fn run_in(
        &self,
        from: &mut dyn Conn,
        to: &mut dyn Conn,
        progress: &dyn Fn(Progress),
    ) -> Result<Counted> {
        let source = count(from, &self.table)?;
        progress(Progress::Table {
            name: self.name.clone(),
            rows: source,
        });
        let mut cursor = self.cursor();
        loop {
            let (rows, last) = self.read(from, cursor.after.clone())?;
            let n = rows.len();
            self.insert(to, rows)?;
            if !cursor.advance(n, last, progress) {
                break;
            }
        }
        progress(Progress::TableDone);
        let target = count(to, &self.table)?;
        Ok(self.counted(source, target))
    }

    fn counted(&self, source: u64, target: u64) -> Counted {
        Counted {
            table: self.name.clone(),
            source,
            target,
        }
    }
}
