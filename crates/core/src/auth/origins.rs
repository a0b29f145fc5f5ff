//! Auth origins and login alerts: each successful login records a fingerprint of where it
//! came from (IP and user agent) in `_authOrigins`. A login from a fingerprint the record has
//! not used before, when it has used others, mails the record a login alert (if the
//! collection's `authAlert.enabled` is on). The first login ever sends none.

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::AuthService;
use crate::error::Result;
use crate::records::Record;

const ORIGINS: &str = "_authOrigins";

fn fingerprint(ip: &str, user_agent: &str) -> String {
    let digest = Sha256::digest(format!("{ip}\n{user_agent}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl AuthService {
    /// Notes the origin; failures are logged, never fail the login.
    pub(super) async fn note_origin(
        &self,
        record: &Record,
        ip: &str,
        user_agent: &str,
    ) -> Result<()> {
        if let Err(e) = self.try_note_origin(record, ip, user_agent).await {
            tracing::warn!(error = %e, record = record.id(), "auth origin not recorded");
        }
        Ok(())
    }

    async fn try_note_origin(&self, record: &Record, ip: &str, user_agent: &str) -> Result<()> {
        let origins = self.schema.require(ORIGINS)?;
        let fp = fingerprint(ip, user_agent);
        let known = self
            .find_where(
                &origins,
                &[
                    ("collectionRef", &record.collection.id),
                    ("recordRef", record.id()),
                ],
            )
            .await?;
        if known.iter().any(|o| o.get_str("fingerprint") == fp) {
            return Ok(());
        }
        let mut row = Record::new(origins);
        row.data
            .insert("collectionRef".into(), json!(record.collection.id));
        row.data.insert("recordRef".into(), json!(record.id()));
        row.data.insert("fingerprint".into(), json!(fp));
        self.records.insert_system(row).await?;
        let alerts = record
            .collection
            .options
            .get("authAlert")
            .and_then(|a| a.get("enabled"))
            .and_then(Json::as_bool)
            == Some(true);
        if alerts && !known.is_empty() && !record.get_str("email").is_empty() {
            let info = format!(
                "{} (IP {ip})",
                if user_agent.is_empty() {
                    "Unknown device"
                } else {
                    user_agent
                }
            );
            self.mailer.send_later(self.render(
                record,
                &["authAlert", "emailTemplate"],
                record.get_str("email"),
                &[("ALERT_INFO", &info)],
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_differ_by_ip_and_user_agent() {
        let a = super::fingerprint("1.2.3.4", "curl");
        assert_eq!(a.len(), 64);
        assert_ne!(a, super::fingerprint("1.2.3.5", "curl"));
        assert_ne!(a, super::fingerprint("1.2.3.4", "wget"));
        assert_eq!(a, super::fingerprint("1.2.3.4", "curl"));
    }
}
