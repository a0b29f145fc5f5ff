//! The forms of the auth endpoints: reading their values and PocketBase's validation errors.

use serde_json::{Map, Value as Json};

use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::records::input::to_text;
use crate::records::validate::is_email;

/// A request body read as a form: every value as text.
pub struct Form<'a>(pub &'a Map<String, Json>);

impl<'a> Form<'a> {
    /// `body` as the form of an action whose `fields` are text. PB-COMPAT: a field holding
    /// another JSON type (`"identity": 123`) is PocketBase's 400: its body does not load into
    /// the form.
    pub fn load(body: &'a Map<String, Json>, fields: &[&str]) -> Result<Form<'a>> {
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

    pub fn text(&self, key: &str) -> String {
        self.0.get(key).map(to_text).unwrap_or_default()
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
