//! The gate of the superuser-only operations (collections, settings, impersonation): the
//! services call it first, before reading anything the caller sent.

use crate::error::{Error, Result};
use crate::identity::Auth;

/// Only superusers pass; PocketBase answers guests with 401 and other records with 403.
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
