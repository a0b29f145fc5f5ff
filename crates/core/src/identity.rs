//! Who is asking: a guest, a superuser, or a record of an auth collection.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::schema::Record;
use crate::schema::system::SUPERUSERS_ID;

#[derive(Debug, Clone, Default)]
pub enum Auth {
    #[default]
    Guest,
    /// A record of `_superusers`: bypasses every API rule.
    Superuser(Arc<Record>),
    /// A record of any other auth collection.
    Record(Arc<Record>),
}

impl Auth {
    pub fn from_record(record: Record) -> Auth {
        if record.collection.id == SUPERUSERS_ID {
            Auth::Superuser(Arc::new(record))
        } else {
            Auth::Record(Arc::new(record))
        }
    }
    /// The same, for a record already shared (from the identity cache).
    pub fn from_shared(record: Arc<Record>) -> Auth {
        if record.collection.id == SUPERUSERS_ID {
            Auth::Superuser(record)
        } else {
            Auth::Record(record)
        }
    }

    pub fn is_superuser(&self) -> bool {
        matches!(self, Auth::Superuser(_))
    }
    pub fn record(&self) -> Option<&Record> {
        match self {
            Auth::Guest => None,
            Auth::Superuser(r) | Auth::Record(r) => Some(r),
        }
    }
}

/// The gate of the superuser-only operations (collections, settings, impersonation, dead
/// letters): the services call it first, before reading anything the caller sent. Only
/// superusers pass; PocketBase answers guests with 401 and other records with 403.
pub fn superusers_only(auth: &Auth) -> Result<()> {
    match auth {
        Auth::Superuser(_) => Ok(()),
        Auth::Guest => Err(Error::Unauthorized(
            "The request requires valid record authorization token.".into(),
        )),
        Auth::Record(_) => Err(Error::Forbidden(
            "The authorized record is not allowed to perform this action.".into(),
        )),
    }
}
