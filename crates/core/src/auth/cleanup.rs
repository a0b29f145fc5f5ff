//! What the auth cron jobs clear: OTPs and MFA sessions past their collection's duration
//! (PocketBase's `__pbOTPCleanup__` and `__pbMFACleanup__`), whether or not the method is
//! still enabled, so no old row is left dangling.

use serde_json::Value as Json;

use super::AuthService;
use crate::error::Result;

/// The system collection of the rows, the auth option holding their duration, and its
/// default (seconds), as the flows that create the rows read it.
const OTPS: (&str, &str, i64) = ("_otps", "otp", 180);
const MFAS: (&str, &str, i64) = ("_mfas", "mfa", 600);

impl AuthService {
    pub async fn delete_expired_otps(&self) -> Result<()> {
        self.delete_expired_rows(OTPS).await
    }

    pub async fn delete_expired_mfas(&self) -> Result<()> {
        self.delete_expired_rows(MFAS).await
    }

    async fn delete_expired_rows(&self, (table, option, default): (&str, &str, i64)) -> Result<()> {
        let rows = self.schema.require(table)?;
        let system = self.system_request()?;
        for c in self.schema.all().into_iter().filter(|c| c.is_auth()) {
            let duration = c
                .options
                .get(option)
                .and_then(|o| o.get("duration"))
                .and_then(Json::as_i64)
                .unwrap_or(default);
            let now = chrono::DateTime::from_timestamp(self.clock.unix(), 0).unwrap_or_default();
            let before = crate::dates::format(now - chrono::TimeDelta::seconds(duration));
            for row in self.find_created_before(&rows, &c.id, &before).await? {
                self.records.delete(&system, table, row.id()).await?;
            }
        }
        Ok(())
    }
}
