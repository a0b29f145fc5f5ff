//! The forms of the auth endpoints, read at the boundary into typed values, and PocketBase's
//! validation errors.
//!
//! A form that does not load (a text field holding another JSON type) is PocketBase's 400. The
//! flows take the form as parsed, `Result` included, and answer that error where PocketBase
//! loads its form: after the collection is looked up and its method found enabled.

use serde_json::{Map, Value as Json};

use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::records::input::{to_number, to_text};
use crate::records::validate::is_email;

/// A request body read as a form: every value as text.
struct Form<'a>(&'a Map<String, Json>);

impl<'a> Form<'a> {
    /// `body` as the form of an action whose `fields` are text. PB-COMPAT: a field holding
    /// another JSON type (`"identity": 123`) is PocketBase's 400: its body does not load into
    /// the form.
    fn load(body: &'a Map<String, Json>, fields: &[&str]) -> Result<Form<'a>> {
        let loads = fields
            .iter()
            .all(|f| matches!(body.get(*f), None | Some(Json::Null | Json::String(_))));
        if !loads {
            return Err(Error::bad_request(
                "An error occurred while loading the submitted data.",
            ));
        }
        Ok(Form(body))
    }

    fn text(&self, key: &str) -> String {
        self.0.get(key).map(to_text).unwrap_or_default()
    }
}

/// `{email}`: requests of an OTP, a verification or a password reset.
#[derive(Debug, Clone, Default)]
pub struct EmailForm {
    pub email: String,
}

impl EmailForm {
    pub fn parse(body: &Map<String, Json>) -> Result<EmailForm> {
        let form = Form::load(body, &["email"])?;
        Ok(EmailForm {
            email: form.text("email"),
        })
    }
}

/// `{token}`: a verification's confirmation.
#[derive(Debug, Clone, Default)]
pub struct TokenForm {
    pub token: String,
}

impl TokenForm {
    pub fn parse(body: &Map<String, Json>) -> Result<TokenForm> {
        let form = Form::load(body, &["token"])?;
        Ok(TokenForm {
            token: form.text("token"),
        })
    }
}

/// `auth-with-password`. PB-COMPAT: `mfaId` may come in the body (any JSON type, read as
/// text) or in the query.
#[derive(Debug, Clone, Default)]
pub struct PasswordLoginForm {
    pub identity: String,
    pub password: String,
    pub identity_field: String,
    pub mfa_id: String,
}

impl PasswordLoginForm {
    pub fn parse(body: &Map<String, Json>) -> Result<PasswordLoginForm> {
        let form = Form::load(body, &["identity", "password", "identityField"])?;
        Ok(PasswordLoginForm {
            identity: form.text("identity"),
            password: form.text("password"),
            identity_field: form.text("identityField"),
            mfa_id: form.text("mfaId"),
        })
    }
}

/// `auth-with-otp`: the OTP's id and its code (`password`).
#[derive(Debug, Clone, Default)]
pub struct OtpLoginForm {
    pub otp_id: String,
    pub password: String,
    pub mfa_id: String,
}

impl OtpLoginForm {
    pub fn parse(body: &Map<String, Json>) -> Result<OtpLoginForm> {
        let form = Form::load(body, &["otpId", "password"])?;
        Ok(OtpLoginForm {
            otp_id: form.text("otpId"),
            password: form.text("password"),
            mfa_id: form.text("mfaId"),
        })
    }
}

/// `auth-with-oauth2`. PB-COMPAT: `redirectUrl` is read when `redirectURL` is empty.
#[derive(Debug, Clone, Default)]
pub struct OAuth2LoginForm {
    pub provider: String,
    pub code: String,
    pub code_verifier: String,
    pub redirect_url: String,
    /// Values for a record the login creates (not an object: none).
    pub create_data: Map<String, Json>,
    pub mfa_id: String,
}

impl OAuth2LoginForm {
    pub fn parse(body: &Map<String, Json>) -> Result<OAuth2LoginForm> {
        let form = Form::load(
            body,
            &[
                "provider",
                "code",
                "codeVerifier",
                "redirectURL",
                "redirectUrl",
            ],
        )?;
        let redirect_url = Some(form.text("redirectURL"))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| form.text("redirectUrl"));
        Ok(OAuth2LoginForm {
            provider: form.text("provider"),
            code: form.text("code"),
            code_verifier: form.text("codeVerifier"),
            redirect_url,
            create_data: body
                .get("createData")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default(),
            mfa_id: form.text("mfaId"),
        })
    }
}

/// `confirm-password-reset`.
#[derive(Debug, Clone, Default)]
pub struct PasswordResetForm {
    pub token: String,
    pub password: String,
    pub password_confirm: String,
}

impl PasswordResetForm {
    pub fn parse(body: &Map<String, Json>) -> Result<PasswordResetForm> {
        let form = Form::load(body, &["token", "password", "passwordConfirm"])?;
        Ok(PasswordResetForm {
            token: form.text("token"),
            password: form.text("password"),
            password_confirm: form.text("passwordConfirm"),
        })
    }
}

/// `request-email-change`.
#[derive(Debug, Clone, Default)]
pub struct NewEmailForm {
    pub new_email: String,
}

impl NewEmailForm {
    pub fn parse(body: &Map<String, Json>) -> Result<NewEmailForm> {
        let form = Form::load(body, &["newEmail"])?;
        Ok(NewEmailForm {
            new_email: form.text("newEmail"),
        })
    }
}

/// `confirm-email-change`: the token and the record's current password.
#[derive(Debug, Clone, Default)]
pub struct EmailChangeForm {
    pub token: String,
    pub password: String,
}

impl EmailChangeForm {
    pub fn parse(body: &Map<String, Json>) -> Result<EmailChangeForm> {
        let form = Form::load(body, &["token", "password"])?;
        Ok(EmailChangeForm {
            token: form.text("token"),
            password: form.text("password"),
        })
    }
}

/// `impersonate`: `duration` in seconds, 0 for the collection's auth token duration. It
/// always loads (any value is read as a number).
#[derive(Debug, Clone, Default)]
pub struct ImpersonateForm {
    pub duration: f64,
}

impl ImpersonateForm {
    pub fn parse(body: &Map<String, Json>) -> ImpersonateForm {
        ImpersonateForm {
            duration: body.get("duration").map(to_number).unwrap_or(0.0),
        }
    }
}

/// `POST /api/settings/test/email`: the address, the template's name and the auth
/// collection the mail is rendered for (empty: superusers).
#[derive(Debug, Clone, Default)]
pub struct TestEmailForm {
    pub email: String,
    pub template: String,
    pub collection: String,
}

impl TestEmailForm {
    pub fn parse(body: &Map<String, Json>) -> Result<TestEmailForm> {
        let form = Form::load(body, &["email", "template", "collection"])?;
        Ok(TestEmailForm {
            email: form.text("email"),
            template: form.text("template"),
            collection: form.text("collection"),
        })
    }
}

/// Collects the field errors of one form.
#[derive(Default)]
pub struct Errors(pub FieldErrors);

impl Errors {
    pub fn add(&mut self, field: &str, code: &str, message: &str) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| field_error_json(code, message));
    }
    /// Adds `validation_required` when `value` is empty; true when it is not.
    pub fn required(&mut self, field: &str, value: &str) -> bool {
        if value.is_empty() {
            self.add(field, "validation_required", "Cannot be blank.");
        }
        !value.is_empty()
    }
    /// Required and an email address.
    pub fn email(&mut self, field: &str, value: &str) {
        if self.required(field, value) && !is_email(value) {
            self.add(
                field,
                "validation_is_email",
                "Must be a valid email address.",
            );
        }
    }
    pub fn invalid_token(&mut self, field: &str) {
        self.add(
            field,
            "validation_invalid_token",
            "Invalid or expired token.",
        );
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    /// `Err` with PocketBase's form error when any field failed.
    pub fn check(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::form(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_text_field_of_another_type_does_not_load() {
        let err = PasswordLoginForm::parse(&body(json!({"identity": 123, "password": "x"})));
        assert!(matches!(
            err,
            Err(Error::BadRequest { message, .. })
                if message == "An error occurred while loading the submitted data."
        ));
    }

    #[test]
    fn values_are_read_as_text() {
        let form = OtpLoginForm::parse(&body(json!({"otpId": null, "password": "1", "mfaId": 7})))
            .expect("loads");
        assert_eq!(
            (
                form.otp_id.as_str(),
                form.password.as_str(),
                form.mfa_id.as_str()
            ),
            ("", "1", "7")
        );
    }

    #[test]
    fn oauth2_reads_redirect_url_in_either_spelling() {
        let form = OAuth2LoginForm::parse(&body(json!({"redirectUrl": "u", "createData": 1})))
            .expect("loads");
        assert_eq!(form.redirect_url, "u");
        assert!(form.create_data.is_empty());
    }
}
