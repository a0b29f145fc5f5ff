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
    /// A statement the database refused; `StoreError::kind` says why, from either driver.
    /// Boxed, as `Internal`'s source is: every `Result` of the core carries an `Error`, so it
    /// stays as small as the common kinds.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// The app cannot serve now (a readiness check failed).
    #[error("{0}")]
    Unavailable(String),
    /// A transaction still running when its deadline passed (batch requests).
    #[error("batch transaction timeout")]
    TimedOut,
    /// Details (and their source chain) are logged once by the API layer and never sent to
    /// clients.
    #[error("internal error: {0}")]
    Internal(#[from] Internal),
}

/// An internal failure: what was being done, and the error that stopped it. It displays as
/// the whole chain (`context: cause: its cause`), so any log or message of it tells why.
#[derive(Debug)]
pub struct Internal {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(source) => Some(source.as_ref()),
            None => None,
        };
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for Internal {}

/// Why the database refused a statement, read from the driver's codes (SQLite names the columns
/// of a unique violation only in its message, which `store::sqlite` reads there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// A unique index was violated: the table, the columns it covers and, when the driver
    /// names it (PostgreSQL), the index.
    Unique {
        table: String,
        columns: Vec<String>,
        index: Option<String>,
    },
    ForeignKey,
    /// Another constraint (NOT NULL, CHECK).
    Constraint,
    /// A value the database cannot store (PostgreSQL: a NUL character in text).
    Unstorable,
    /// The database was busy or locked past the wait.
    Busy,
    /// A row a statement required was not there.
    NotFound,
}

impl StoreErrorKind {
    /// A constraint of the schema refused the statement (unique, foreign key, other).
    pub fn is_constraint(&self) -> bool {
        matches!(
            self,
            StoreErrorKind::Unique { .. } | StoreErrorKind::ForeignKey | StoreErrorKind::Constraint
        )
    }
}

/// A statement the database refused. It displays as PocketBase words it
/// (`constraint failed: UNIQUE constraint failed: t.a`).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub struct StoreError {
    pub kind: StoreErrorKind,
    /// The database's words, SQLite's for a constraint on either database (`UNIQUE constraint
    /// failed: t.a`), as PocketBase shows them.
    pub detail: String,
}

impl StoreError {
    /// What the error says: a constraint as PocketBase (SQLite) reports it, anything else in the
    /// database's words.
    pub fn message(&self) -> String {
        if self.kind.is_constraint() {
            format!("constraint failed: {}", self.detail)
        } else {
            self.detail.clone()
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A copy of this error for application code that caused it while the original goes on
    /// to the caller (a hook whose `e.next()` failed): its kind, message and field errors.
    pub fn echo(&self) -> Error {
        match self {
            Error::BadRequest { message, data } => Error::BadRequest {
                message: message.clone(),
                data: data.clone(),
            },
            Error::NotFound(m) => Error::NotFound(m.clone()),
            Error::Forbidden(m) => Error::Forbidden(m.clone()),
            Error::Unauthorized(m) => Error::Unauthorized(m.clone()),
            Error::TooLarge(m) => Error::TooLarge(m.clone()),
            Error::TooManyRequests(m) => Error::TooManyRequests(m.clone()),
            other => Error::bad_request(other.to_string()),
        }
    }

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
    /// An internal failure described by a message only.
    pub fn internal(message: impl std::fmt::Display) -> Error {
        Error::Internal(Internal {
            message: message.to_string(),
            source: None,
        })
    }
    /// An internal failure, keeping the error that caused it as its source.
    pub fn internal_from(
        context: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Internal(Internal {
            message: context.to_string(),
            source: Some(Box::new(source)),
        })
    }
    pub fn store(kind: StoreErrorKind, detail: impl Into<String>) -> Error {
        Error::Store(Box::new(StoreError {
            kind,
            detail: detail.into(),
        }))
    }
    /// The columns of the unique index a statement violated, if that is why it failed.
    pub fn unique_violation(&self) -> Option<&[String]> {
        match self {
            Error::Store(e) => match &e.kind {
                StoreErrorKind::Unique { columns, .. } => Some(columns),
                _ => None,
            },
            _ => None,
        }
    }
}

pub fn field_error_json(code: &str, message: impl Into<String>) -> serde_json::Value {
    serde_json::json!({ "code": code, "message": message.into() })
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::internal_from("sqlite", err)
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
