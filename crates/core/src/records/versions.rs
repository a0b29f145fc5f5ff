//! Writing the record history (docs/history.md): each change of a record of a collection with
//! `history: true` becomes a version in `_history`, in the change's own transaction (a write
//! rolled back leaves none), with who made it and from which request ([`Origin`]). Reading
//! and restoring versions is `history`'s.
//!
//! A collection without the option costs a write one look at its options per change.

use crate::error::Result;
use crate::events::Change;
use crate::identity::Auth;
use crate::rules::RequestInfo;
use crate::schema::Collection;
use crate::store::Conn;
use crate::store::history::{self, VersionRow};

/// Who made a write, and from which request: what a version records of its change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// The collection id and id of the auth record that made it; empty for a guest and for
    /// the application's own code (which acts as a superuser without a record).
    pub auth_collection: String,
    pub auth_id: String,
    /// `METHOD /path`; empty for the application's own code.
    pub request: String,
    /// The request's `X-Request-Id` (set by a proxy), when it had one.
    pub request_id: String,
}

impl Origin {
    /// `req`'s origin when a write to `c` records it (a create or update changes only its own
    /// collection's records): the common write, to a collection without history, builds none.
    pub fn for_write(c: &Collection, req: &RequestInfo) -> Origin {
        if c.keeps_history() {
            Origin::of(req)
        } else {
            Origin::default()
        }
    }

    pub fn of(req: &RequestInfo) -> Origin {
        let (auth_collection, auth_id) = match &req.auth {
            Auth::Guest => (String::new(), String::new()),
            Auth::Superuser(r) | Auth::Record(r) if r.id().is_empty() => {
                (String::new(), String::new())
            }
            Auth::Superuser(r) | Auth::Record(r) => (r.collection.id.clone(), r.id().to_owned()),
        };
        let request = if req.url.is_empty() {
            String::new()
        } else {
            format!("{} {}", req.method, req.url)
        };
        let request_id = req
            .headers
            .get("x_request_id")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        Origin {
            auth_collection,
            auth_id,
            request,
            request_id,
        }
    }
}

/// Writes a version for each of `changes` whose collection keeps history, then drops the
/// versions past the collection's `historyMaxVersions`.
pub fn write<'c>(
    conn: &mut dyn Conn,
    changes: impl IntoIterator<Item = &'c Change>,
    origin: &Origin,
) -> Result<()> {
    for change in changes {
        let record = change.record();
        let c = &record.collection;
        if !c.keeps_history() {
            continue;
        }
        let max = c.history_max_versions();
        let row = VersionRow {
            id: crate::ids::record_id(),
            collection_id: c.id.clone(),
            record_id: record.id().to_owned(),
            version: 0,
            action: change.action().as_str().to_owned(),
            data: serde_json::to_string(&record.data).map_err(crate::error::Error::internal)?,
            auth_collection: origin.auth_collection.clone(),
            auth_id: origin.auth_id.clone(),
            request: origin.request.clone(),
            request_id: origin.request_id.clone(),
            created: crate::dates::now(),
        };
        let version = history::insert_next(conn, row, max > 0)?;
        if max > 0 && version > max {
            history::prune(conn, &c.id, record.id(), version - max)?;
        }
    }
    Ok(())
}
