//! Password reset: `request-password-reset` mails a token, `confirm-password-reset` sets the
//! new password. The new password comes with a new token key, so every token issued before
//! (auth tokens, other reset links) stops working.

use serde_json::json;

use super::AuthService;
use super::forms::{EmailForm, Errors, PasswordResetForm};
use super::tokens::{Claims, TokenKind};
use crate::error::Result;
use crate::records::validate;

impl AuthService {
    /// PB-COMPAT: 204 whether or not an account has that address (no enumeration).
    pub async fn request_password_reset(
        &self,
        collection: &str,
        form: Result<EmailForm>,
    ) -> Result<()> {
        let c = self.auth_collection(collection).await?;
        let email = form?.email;
        let mut errors = Errors::default();
        errors.email("email", &email);
        errors.check()?;
        let Some(record) = self.find_by_email(&c, &email).await? else {
            return Ok(());
        };
        self.mail_token(
            &record,
            TokenKind::PasswordReset,
            Claims::default(),
            "resetPasswordTemplate",
            record.get_str("email"),
        )
    }

    /// Sets the new password of the token's record. The link came by mail to the record's
    /// address, so that address is also marked verified.
    pub async fn confirm_password_reset(
        &self,
        collection: &str,
        form: Result<PasswordResetForm>,
    ) -> Result<()> {
        let c = self.auth_collection(collection).await?;
        let PasswordResetForm {
            token,
            password,
            password_confirm: confirm,
        } = form?;
        let mut errors = Errors::default();
        errors.required("token", &token);
        if errors.required("password", &password) {
            // PocketBase's form checks the length (the field's min, at most 255) first; the
            // field's own limits come after.
            let field = c.field("password");
            let min = field.and_then(|f| f.num_opt("min")).unwrap_or(0.0).max(1.0) as usize;
            let len = password.chars().count();
            if !(min..=255).contains(&len) {
                errors.0.insert(
                    "password".into(),
                    json!({"code": "validation_length_out_of_range",
                           "message": format!("The length must be between {min} and 255."),
                           "params": {"max": 255, "min": min}}),
                );
            } else if let Some(e) = field.and_then(|f| validate::text(f, &password)) {
                errors.0.insert("password".into(), e);
            }
        }
        if errors.required("passwordConfirm", &confirm) && confirm != password {
            errors.add(
                "passwordConfirm",
                "validation_values_mismatch",
                "Values don't match.",
            );
        }
        let mut found = None;
        if !errors.has("token") {
            found = self
                .record_of_token(&c, &token, TokenKind::PasswordReset)
                .await?;
            if found.is_none() {
                errors.invalid_token("token");
            }
        }
        errors.check()?;
        let Some((record, claims)) = found else {
            return Ok(());
        };
        let mut update = json!({"password": password, "passwordConfirm": password});
        if record.get_str("email").eq_ignore_ascii_case(&claims.email) {
            update["verified"] = json!(true);
        }
        self.update_as_system(&record, update).await?;
        Ok(())
    }
}
