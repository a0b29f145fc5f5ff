//! Sessions: `auth-refresh` (a new token for the caller) and `impersonate` (a superuser gets a
//! non-refreshable token of any auth record).

use super::AuthService;
use super::forms::{Errors, ImpersonateForm};
use super::tokens::{self, Claims, TokenKind};
use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::records::Record;
use crate::rules::superusers_only;

impl AuthService {
    /// A new token for the record `auth` holds, which must belong to `collection`. `token` is
    /// the raw token the request came with.
    pub fn refresh(&self, auth: &Auth, token: &str, collection: &str) -> Result<(String, Record)> {
        let c = self.route_collection(collection)?;
        let record = self.same_collection_auth(auth, &c)?;
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        // PB-COMPAT: PocketBase refreshes impersonation tokens too (with a full-length life),
        // which lets a short impersonation outlive its duration. They are refused here.
        if tokens::peek(token).and_then(|cl| cl.refreshable) == Some(false) {
            return Err(Error::Forbidden(
                "The current auth token is not refreshable.".into(),
            ));
        }
        Ok((tokens::issue(record)?, record.clone()))
    }

    /// `impersonate`: superusers only. `duration` in seconds, 0 for the
    /// collection's auth token duration.
    pub async fn impersonate(
        &self,
        caller: &Auth,
        collection: &str,
        id: &str,
        form: &ImpersonateForm,
    ) -> Result<(String, Record)> {
        superusers_only(caller)?;
        // PB-COMPAT: impersonate has no rate-limit layer: one 404 for both cases.
        let c = self
            .auth_collection(collection)
            .await
            .map_err(|_| Error::NotFound("Missing or invalid auth collection context.".into()))?;
        let duration = form.duration;
        let mut errors = Errors::default();
        if duration < 0.0 {
            errors.add(
                "duration",
                "validation_min_greater_equal_than_required",
                "Must be no less than 0.",
            );
        }
        errors.check()?;
        let record = self
            .find_by_id(&c, id)
            .await?
            .ok_or_else(Error::not_found)?;
        let lifetime = if duration > 0.0 {
            duration as i64
        } else {
            tokens::duration(&record, TokenKind::Auth)
        };
        let claims = Claims {
            refreshable: Some(false),
            ..Claims::default()
        };
        let token = tokens::issue_at(
            &record,
            TokenKind::Auth,
            claims,
            lifetime,
            chrono::Utc::now().timestamp(),
        )?;
        Ok((token, record))
    }
}
