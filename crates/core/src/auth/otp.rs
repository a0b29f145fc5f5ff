//! One-time passwords: `request-otp` mails a code and answers an `otpId`; `auth-with-otp`
//! exchanges id and code for a login within `otp.duration` seconds. Codes are stored hashed
//! (the `_otps.password` field), used once, and mark the address they went to as verified.

use serde_json::{Value as Json, json};

use super::AuthService;
use super::forms::{EmailForm, Errors, OtpLoginForm};
use super::login::{Client, Login, mfa_id};
use super::mfa::expired;
use crate::error::{Error, Result};
use crate::password;
use crate::records::Record;
use crate::rules::RequestInfo;
use crate::schema::Collection;
use crate::store::Db;
use crate::store::tables;

const OTPS: &str = "_otps";

/// Wrong codes one OTP survives; the next wrong one deletes it. PB-COMPAT: PocketBase leaves
/// guessing to the rate limiter (off by default); this bounds it per code.
pub const MAX_OTP_ATTEMPTS: u32 = 5;

/// Counts a wrong code for `otp_id` in the database (one atomic upsert, so instances on one
/// PostgreSQL database share the count); true when the OTP has had its last chance.
async fn count_failure(db: &Db, otp_id: &str) -> Result<bool> {
    metrics::counter!("oxbase_auth_failures_total", "method" => "otp").increment(1);
    let otp = otp_id.to_owned();
    let count = db
        .write(move |conn| tables::otp_failures::count(conn, otp))
        .await?;
    Ok(count >= i64::from(MAX_OTP_ATTEMPTS))
}

/// Drops the failure counts of `otp_id` and of OTPs that no longer exist.
async fn forget_failures(db: &Db, otp_id: &str) -> Result<()> {
    let otp = otp_id.to_owned();
    db.write(move |conn| tables::otp_failures::forget(conn, otp))
        .await
}

fn otp_options(c: &Collection) -> Option<&Json> {
    c.options
        .get("otp")
        .filter(|o| o.get("enabled").and_then(Json::as_bool) == Some(true))
}

fn not_enabled() -> Error {
    Error::Forbidden("The collection is not configured to allow OTP authentication.".into())
}

impl AuthService {
    /// PB-COMPAT: an unknown address gets an `otpId` too (that no code will match), so the
    /// answer does not tell whether an account exists; the code is hashed either way, so
    /// neither does the timing.
    pub async fn request_otp(&self, collection: &str, form: Result<EmailForm>) -> Result<String> {
        let c = self.auth_collection(collection).await?;
        let options = otp_options(&c).ok_or_else(not_enabled)?;
        let email = form?.email;
        let mut errors = Errors::default();
        errors.email("email", &email);
        errors.check()?;
        let length = options
            .get("length")
            .and_then(Json::as_u64)
            .unwrap_or(8)
            .clamp(4, 32) as usize;
        let code = crate::ids::random_from(length, b"0123456789");
        let hash = password::hash_async(code.clone()).await?;
        let Some(record) = self.find_by_email(&c, &email).await? else {
            return Ok(crate::ids::record_id());
        };
        let duration = options
            .get("duration")
            .and_then(Json::as_i64)
            .unwrap_or(180);
        self.delete_expired(OTPS, &record, duration).await?;
        let mut row = Record::new(self.schema.require(OTPS)?);
        row.data.insert("collectionRef".into(), json!(c.id));
        row.data.insert("recordRef".into(), json!(record.id()));
        row.data.insert("password".into(), json!(hash));
        row.data
            .insert("sentTo".into(), json!(record.get_str("email")));
        let row = self.records.insert_system(row).await?;
        self.mailer.send_later(self.render(
            &record,
            &["otp", "emailTemplate"],
            record.get_str("email"),
            &[("OTP", &code)],
        ));
        Ok(row.id().to_owned())
    }

    /// `auth-with-otp`: `otpId` and `password` (the code), then `finish_login`.
    pub async fn with_otp(
        &self,
        req: &RequestInfo,
        collection: &str,
        form: Result<OtpLoginForm>,
        client: &Client,
    ) -> Result<Login> {
        let c = self.auth_collection(collection).await?;
        let options = otp_options(&c).ok_or_else(not_enabled)?;
        let OtpLoginForm {
            otp_id,
            password: code,
            mfa_id: mfa_in_body,
        } = form?;
        let mut errors = Errors::default();
        errors.required("otpId", &otp_id);
        errors.required("password", &code);
        errors.check()?;
        let duration = options
            .get("duration")
            .and_then(Json::as_i64)
            .unwrap_or(180);
        let otps = self.schema.require(OTPS)?;
        let row = self
            .find_by_id(&otps, &otp_id)
            .await?
            .filter(|r| r.get_str("collectionRef") == c.id && !expired(r, duration));
        // A missing code still costs one verification, like a wrong one.
        let stored = row.as_ref().map_or_else(
            || password::dummy_hash().to_owned(),
            |r| r.get_str("password").to_owned(),
        );
        let matches = password::verify_async(code, stored).await;
        let invalid = || Error::bad_request("Invalid or expired OTP.");
        let Some(row) = row else {
            return Err(invalid());
        };
        let db = self.schema.db();
        if !matches {
            if count_failure(db, row.id()).await? {
                self.records
                    .delete(&self.system_request()?, OTPS, row.id())
                    .await?;
                forget_failures(db, row.id()).await?;
            }
            return Err(invalid());
        }
        let record = self
            .find_by_id(&c, row.get_str("recordRef"))
            .await?
            .ok_or_else(invalid)?;
        self.records
            .delete(&self.system_request()?, OTPS, row.id())
            .await?;
        forget_failures(db, row.id()).await?;
        // PB-COMPAT: PocketBase 0.40.6 leaves `verified` as it was; the code reaching the
        // address proves it as much as a verification link does, so it is marked verified.
        let record = if record.get("verified") != &json!(true)
            && record
                .get_str("email")
                .eq_ignore_ascii_case(row.get_str("sentTo"))
        {
            self.update_as_system(&record, json!({"verified": true}))
                .await?
        } else {
            record
        };
        self.finish_login(req, record, "otp", &mfa_id(req, &mfa_in_body), client)
            .await
    }
}
