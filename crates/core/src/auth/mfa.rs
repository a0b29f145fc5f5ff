//! Multi-factor authentication: when a collection's `mfa.enabled` is on (and `mfa.rule`, if
//! any, holds for the record), a first successful login of one method opens an `_mfas`
//! session; a login of a different method that names it (`mfaId`) within `mfa.duration`
//! seconds completes it.

use serde_json::{Value as Json, json};

use super::AuthService;
use crate::error::{Error, Result};
use crate::records::Record;
use crate::rules::RequestInfo;

const MFAS: &str = "_mfas";

impl AuthService {
    pub(super) async fn mfa_required(&self, req: &RequestInfo, record: &Record) -> Result<bool> {
        let mfa = record.collection.options.get("mfa");
        if mfa.and_then(|m| m.get("enabled")).and_then(Json::as_bool) != Some(true) {
            return Ok(false);
        }
        let rule = mfa
            .and_then(|m| m.get("rule"))
            .and_then(Json::as_str)
            .unwrap_or("");
        self.matches_rule(req, record, rule).await
    }

    /// Opens an MFA session for `record` after a first factor of `method`; returns its id.
    pub(super) async fn start_mfa(&self, record: &Record, method: &str) -> Result<String> {
        let duration = record
            .collection
            .options
            .get("mfa")
            .and_then(|m| m.get("duration"))
            .and_then(Json::as_i64)
            .unwrap_or(600);
        self.delete_expired(MFAS, record, duration).await?;
        let mut row = Record::new(self.schema.require(MFAS)?);
        row.data
            .insert("collectionRef".into(), json!(record.collection.id));
        row.data.insert("recordRef".into(), json!(record.id()));
        row.data.insert("method".into(), json!(method));
        Ok(self.records.insert_system(row).await?.id().to_owned())
    }

    /// Completes the session `mfa_id` of `record` with a second factor of `method`; the
    /// session is used up.
    pub(super) async fn complete_mfa(
        &self,
        record: &Record,
        method: &str,
        mfa_id: &str,
    ) -> Result<()> {
        let mfas = self.schema.require(MFAS)?;
        let duration = record
            .collection
            .options
            .get("mfa")
            .and_then(|m| m.get("duration"))
            .and_then(Json::as_i64)
            .unwrap_or(600);
        let session = self
            .find_by_id(&mfas, mfa_id)
            .await?
            .filter(|s| {
                s.get_str("collectionRef") == record.collection.id
                    && s.get_str("recordRef") == record.id()
            })
            .filter(|s| !expired(s, duration));
        let Some(session) = session else {
            return Err(Error::bad_request("Invalid or expired MFA session."));
        };
        if session.get_str("method") == method {
            return Err(Error::bad_request(
                "A different authentication method is required.",
            ));
        }
        self.records
            .delete(&self.system_request()?, MFAS, session.id())
            .await
    }
}

impl AuthService {
    /// Deletes `record`'s rows of `collection` (`_mfas`, `_otps`) older than `duration`
    /// seconds: they can no longer be used, so they need not be kept.
    pub(super) async fn delete_expired(
        &self,
        collection: &str,
        record: &Record,
        duration: i64,
    ) -> Result<()> {
        let c = self.schema.require(collection)?;
        let system = self.system_request()?;
        for row in self
            .find_where(
                &c,
                &[
                    ("collectionRef", &record.collection.id),
                    ("recordRef", record.id()),
                ],
            )
            .await?
        {
            if expired(&row, duration) {
                self.records.delete(&system, collection, row.id()).await?;
            }
        }
        Ok(())
    }
}

/// Whether a system row (`_mfas`, `_otps`) was created more than `duration` seconds ago.
pub(super) fn expired(row: &Record, duration: i64) -> bool {
    crate::dates::parse(row.get_str("created")).is_none_or(|created| {
        chrono::Utc::now()
            .signed_duration_since(created)
            .num_seconds()
            >= duration
    })
}
