//! The one error type of the core. Its kinds mirror PocketBase's API errors; `oxbase-api` is the
//! only place that turns a kind into an HTTP status and body.

use std::collections::BTreeMap;

/// A field-level validation failure, as PocketBase reports it: `{"code": ..., "message": ...}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(code: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Field errors keyed by field name; nested objects (e.g. `fields.2.name`) use nested maps.
pub type FieldErrors = BTreeMap<String, serde_json::Value>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    BadRequest { message: String, data: FieldErrors },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// Details are logged once by the API layer and never sent to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found() -> Error {
        Error::NotFound("The requested resource wasn't found.".into())
    }
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::BadRequest {
            message: message.into(),
            data: FieldErrors::new(),
        }
    }
    /// A 400 with one field error, the shape most validation failures take.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Error {
        let mut data = FieldErrors::new();
        data.insert(field.to_owned(), field_error_json(code, message));
        Error::BadRequest {
            message: "Failed to validate the submitted data.".into(),
            data,
        }
    }
    pub fn validation(data: FieldErrors) -> Error {
        Error::BadRequest {
            message: if data.is_empty() {
                "Something went wrong while processing your request.".into()
            } else {
                "Failed to validate the submitted data.".into()
            },
            data,
        }
    }
    /// A 400 for an invalid form of the auth endpoints (PB-COMPAT: their message differs from
    /// record validation's).
    pub fn form(data: FieldErrors) -> Error {
        Error::BadRequest {
            message: "An error occurred while validating the submitted data.".into(),
            data,
        }
    }
    pub fn forbidden() -> Error {
        Error::Forbidden("Only superusers can perform this action.".into())
    }
    pub fn internal(err: impl std::fmt::Display) -> Error {
        Error::Internal(err.to_string())
    }
}

pub fn field_error_json(code: &str, message: impl Into<String>) -> serde_json::Value {
    serde_json::json!({ "code": code, "message": message.into() })
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::Internal(format!("sqlite: {err}"))
    }
}

impl From<oxbase_sql::CompileError> for Error {
    fn from(err: oxbase_sql::CompileError) -> Self {
        Error::bad_request(format!("Invalid filter or sort expression: {err}"))
    }
}

impl From<oxbase_sql::ParseError> for Error {
    fn from(err: oxbase_sql::ParseError) -> Self {
        Error::bad_request(format!("Invalid filter or sort expression: {err}"))
    }
}
