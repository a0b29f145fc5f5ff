//! Compiled rules, kept. A rule compiles to the same SQL for every request made under the
//! same definitions by a caller whose `@request.auth` fields it reads hold the same values;
//! and compiling costs more than the lookup it guards (measured: a membership rule's compile
//! was 7% of an insert's CPU, a view rule's 5% of a view's). A rule that reads anything else of
//! the request (body, query, headers, method, context) or the clock (`@now`...) is compiled
//! for every request, as before.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use oxbase_sql::Sql;

use super::request::RequestInfo;
use crate::error::Result;
use crate::identity::Auth;
use crate::schema::Record;
use crate::schema::{Collection, Schema};

/// What a compile read besides the definitions.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    /// Request data other than the auth record, or the clock.
    pub volatile: bool,
    /// The auth record's keys whose values went into the SQL.
    pub auth_keys: Vec<String>,
}

/// The value of an auth record's key, as rules see it (borrowed, but for the two names that
/// are not fields).
pub fn auth_value<'a>(record: &'a Record, key: &str) -> Cow<'a, serde_json::Value> {
    match key {
        "collectionId" => Cow::Owned(record.collection.id.clone().into()),
        "collectionName" => Cow::Owned(record.collection.name.clone().into()),
        _ => Cow::Borrowed(record.get(key)),
    }
}

/// One rule of one collection definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RuleKey {
    version: u64,
    /// The definition compiled (kept alive by the plan, so the address is not reused).
    collection: usize,
    kind: &'static str,
}

enum Plan {
    Volatile,
    /// Compiled SQL by the values these auth keys hold for the caller.
    Auth {
        keys: Vec<String>,
        compiled: HashMap<String, Sql>,
    },
}

struct Entry {
    /// Keeps the definition's address from being reused while it is a key.
    _definition: Arc<Collection>,
    plan: Plan,
}

#[derive(Default)]
struct Memo {
    /// By rule, then by the caller's auth collection id (empty for guests; superusers never get
    /// here): a lookup borrows both, so a hit allocates nothing but the inputs' key.
    rules: HashMap<RuleKey, HashMap<String, Entry>>,
    /// Compiled SQL kept, over every rule.
    size: usize,
}

/// Compiled SQL kept at most; all is dropped when full (definitions and callers change rarely).
const MAX_ENTRIES: usize = 4096;

fn memo() -> parking_lot::MutexGuard<'static, Memo> {
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    MEMO.get_or_init(Mutex::default).lock()
}

/// The key of the values `keys` hold for this request's caller.
fn inputs(auth: &Auth, keys: &[String]) -> String {
    use std::fmt::Write;
    let Some(record) = auth.record() else {
        return String::new();
    };
    let mut out = String::new();
    for key in keys {
        // The value's JSON text, written in place.
        let _ = write!(out, "{}", auth_value(record, key));
        out.push('\u{1}');
    }
    out
}

/// `kind`'s rule of `collection` compiled for `request`: from the memo, or by `compile`.
pub fn compiled(
    schema: &Schema,
    collection: &Arc<Collection>,
    kind: &'static str,
    request: &RequestInfo,
    compile: impl FnOnce() -> Result<(Sql, Reads)>,
) -> Result<Sql> {
    let key = RuleKey {
        version: schema.version(),
        collection: Arc::as_ptr(collection) as usize,
        kind,
    };
    let auth_collection = request
        .auth
        .record()
        .map_or("", |r| r.collection.id.as_str());
    let volatile = match memo()
        .rules
        .get(&key)
        .and_then(|by_auth| by_auth.get(auth_collection))
        .map(|entry| &entry.plan)
    {
        Some(Plan::Volatile) => true,
        Some(Plan::Auth { keys, compiled }) => {
            if let Some(sql) = compiled.get(&inputs(&request.auth, keys)) {
                return Ok(sql.clone());
            }
            false
        }
        None => false,
    };
    let (sql, reads) = compile()?;
    if volatile {
        return Ok(sql);
    }
    let mut guard = memo();
    let memo = &mut *guard;
    if memo.size >= MAX_ENTRIES {
        *memo = Memo::default();
    }
    let entry = memo
        .rules
        .entry(key)
        .or_default()
        .entry(auth_collection.to_owned())
        .or_insert_with(|| Entry {
            _definition: collection.clone(),
            plan: if reads.volatile {
                Plan::Volatile
            } else {
                Plan::Auth {
                    keys: reads.auth_keys,
                    compiled: HashMap::new(),
                }
            },
        });
    if let Plan::Auth { keys, compiled } = &mut entry.plan {
        compiled.insert(inputs(&request.auth, keys), sql.clone());
        memo.size += 1;
    }
    Ok(sql)
}
