//! `POST /api/settings/test/email`: one of a collection's templates sent to an address, so a
//! superuser can check the SMTP settings.

use serde_json::json;

use super::AuthService;
use super::forms::{Errors, TestEmailForm};
use crate::error::{Error, Result};
use crate::identity::Auth;
use crate::records::Record;
use crate::rules::superusers_only;
use crate::schema::system::SUPERUSERS;

/// PB-COMPAT: the template names the dashboard sends, and where each lives in the options.
const TEMPLATES: [(&str, &[&str]); 5] = [
    ("verification", &["verificationTemplate"]),
    ("password-reset", &["resetPasswordTemplate"]),
    ("email-change", &["confirmEmailChangeTemplate"]),
    ("otp", &["otp", "emailTemplate"]),
    ("login-alert", &["authAlert", "emailTemplate"]),
];

impl AuthService {
    /// Sends the template synchronously: the caller wants to know whether SMTP works
    /// (superusers only).
    pub async fn send_test_email(&self, caller: &Auth, form: Result<TestEmailForm>) -> Result<()> {
        superusers_only(caller)?;
        let TestEmailForm {
            email,
            template,
            collection,
        } = form?;
        let mut errors = Errors::default();
        errors.email("email", &email);
        let path = TEMPLATES
            .iter()
            .find(|(name, _)| *name == template)
            .map(|(_, p)| *p);
        if errors.required("template", &template) && path.is_none() {
            errors.add(
                "template",
                "validation_in_invalid",
                "Must be a valid value.",
            );
        }
        let failed = |data| Error::BadRequest {
            message: "Failed to send the test email.".into(),
            data,
        };
        if !errors.0.is_empty() {
            return Err(failed(errors.0));
        }
        let collection = Some(collection)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| SUPERUSERS.to_owned());
        let c = self.auth_collection(&collection).await?;
        let mut record = Record::new(c);
        record.data.insert("email".into(), json!(email));
        record.data.insert("id".into(), json!("RECORD_ID"));
        let vars = [
            ("TOKEN", "TEST_TOKEN"),
            ("OTP", "123456"),
            ("ALERT_INFO", "TEST_ALERT_INFO"),
        ];
        let message = self.render(
            &record,
            path.unwrap_or(&["verificationTemplate"]),
            &email,
            &vars,
        );
        self.mailer.send(message).await.map_err(|e| {
            Error::bad_request(format!(
                "Failed to send the test email. Raw error: \n{}",
                e.to_string().trim_start_matches("internal error: ")
            ))
        })
    }
}
