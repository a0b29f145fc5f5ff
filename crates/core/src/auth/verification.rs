//! Email verification: `request-verification` mails a token to an unverified address,
//! `confirm-verification` marks the record verified.

use serde_json::json;

use super::AuthService;
use super::forms::{EmailForm, Errors, TokenForm};
use super::tokens::{self, Claims, TokenKind};
use crate::error::{Error, Result};
use crate::schema::system::SUPERUSERS_ID;

impl AuthService {
    /// PB-COMPAT: answers the same (204) whether or not the address belongs to an account, or
    /// is already verified; the mail goes out in the background so timing tells nothing either.
    pub async fn request_verification(
        &self,
        collection: &str,
        form: Result<EmailForm>,
    ) -> Result<()> {
        let c = self.auth_collection(collection).await?;
        // PocketBase answers this before it reads the email.
        if c.id == SUPERUSERS_ID {
            return Err(Error::bad_request(
                "All superusers are verified by default.",
            ));
        }
        let email = form?.email;
        let mut errors = Errors::default();
        errors.email("email", &email);
        errors.check()?;
        let Some(record) = self.find_by_email(&c, &email).await? else {
            return Ok(());
        };
        if record.get("verified") == &json!(true) {
            return Ok(());
        }
        self.mail_token(
            &record,
            TokenKind::Verification,
            Claims::default(),
            "verificationTemplate",
            record.get_str("email"),
        )
    }

    /// Marks the token's record verified. The token must be signed for the record's current
    /// token key and name its current email.
    pub async fn confirm_verification(
        &self,
        collection: &str,
        form: Result<TokenForm>,
    ) -> Result<()> {
        let c = self.auth_collection(collection).await?;
        let token = form?.token;
        let mut errors = Errors::default();
        if !errors.required("token", &token) {
            return errors.check();
        }
        if tokens::peek(&token).is_none_or(|cl| cl.email.is_empty()) {
            errors.add(
                "token",
                "validation_invalid_token_claims",
                "Missing email token claim.",
            );
            return errors.check();
        }
        let found = self
            .record_of_token(&c, &token, TokenKind::Verification)
            .await?;
        let Some((record, _)) =
            found.filter(|(r, cl)| r.get_str("email").eq_ignore_ascii_case(&cl.email))
        else {
            errors.invalid_token("token");
            return errors.check();
        };
        if record.get("verified") != &json!(true) {
            self.update_as_system(&record, json!({"verified": true}))
                .await?;
        }
        Ok(())
    }
}
