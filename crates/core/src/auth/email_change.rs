//! Email change: `request-email-change` (by the authenticated record) mails a token to the
//! new address; `confirm-email-change` (token plus the account's password) switches to it.
//! The switch comes with a new token key: every session of the old address ends.

use serde_json::json;

use super::AuthService;
use super::forms::{EmailChangeForm, Errors, NewEmailForm};
use super::tokens::{self, Claims, TokenKind};
use crate::error::Result;
use crate::identity::Auth;
use crate::password;

impl AuthService {
    pub async fn request_email_change(
        &self,
        auth: &Auth,
        collection: &str,
        form: Result<NewEmailForm>,
    ) -> Result<()> {
        let c = self.route_collection(collection)?;
        let record = self.same_collection_auth(auth, &c)?;
        let new_email = form?.new_email;
        let mut errors = Errors::default();
        errors.email("newEmail", &new_email);
        if !errors.has("newEmail") {
            if new_email.eq_ignore_ascii_case(record.get_str("email")) {
                errors.add(
                    "newEmail",
                    "validation_not_in_invalid",
                    "Must not be in list.",
                );
            } else if self.find_by_email(&c, &new_email).await?.is_some() {
                // PB-COMPAT: PocketBase's code and message for a taken address.
                errors.add(
                    "newEmail",
                    "validation_invalid_new_email",
                    "Invalid new email address.",
                );
            }
        }
        errors.check()?;
        let claims = Claims {
            new_email: new_email.clone(),
            ..Claims::default()
        };
        self.mail_token(
            record,
            TokenKind::EmailChange,
            claims,
            "confirmEmailChangeTemplate",
            &new_email,
        )
    }

    pub async fn confirm_email_change(
        &self,
        collection: &str,
        form: Result<EmailChangeForm>,
    ) -> Result<()> {
        let c = self.auth_collection(collection).await?;
        let EmailChangeForm {
            token,
            password: pwd,
        } = form?;
        let mut errors = Errors::default();
        errors.required("token", &token);
        errors.required("password", &pwd);
        let mut found = None;
        if !errors.has("token") {
            if tokens::peek(&token).is_none_or(|cl| cl.new_email.is_empty()) {
                errors.add(
                    "token",
                    "validation_invalid_token_payload",
                    "Invalid token payload - newEmail must be set.",
                );
            } else {
                found = self
                    .record_of_token(&c, &token, TokenKind::EmailChange)
                    .await?
                    .filter(|(r, cl)| r.get_str("email").eq_ignore_ascii_case(&cl.email));
                if found.is_none() {
                    errors.invalid_token("token");
                }
            }
        }
        // The password is checked even when the token failed, so both errors come at once; a
        // missing record still costs one verification.
        let stored = found.as_ref().map_or_else(
            || password::dummy_hash().to_owned(),
            |(r, _)| r.get_str("password").to_owned(),
        );
        let password_ok = password::verify_async(pwd, stored).await && found.is_some();
        if !errors.has("password") && !password_ok {
            errors.add(
                "password",
                "validation_invalid_password",
                "Missing or invalid auth record password.",
            );
        }
        if let Some((_, claims)) = &found
            && self.find_by_email(&c, &claims.new_email).await?.is_some()
        {
            errors.add(
                "token",
                "validation_invalid_new_email",
                "Invalid new email address.",
            );
        }
        errors.check()?;
        let Some((record, claims)) = found else {
            return Ok(());
        };
        let body = json!({"email": claims.new_email, "verified": true, "tokenKey": crate::ids::random_string(50)});
        self.update_as_system(&record, body).await?;
        Ok(())
    }
}
