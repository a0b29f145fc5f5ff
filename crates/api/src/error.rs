//! `ApiError`: the one place a core error becomes an HTTP status and PocketBase's
//! `{status, message, data}` body. Internal details are logged once, never sent. `Refusal`:
//! the same for the requests HTTP itself refuses before any route sees them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use oxbase_core::Error;
use oxbase_core::error::StoreErrorKind;
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(message: &str) -> ApiError {
        ApiError(Error::bad_request(message))
    }
    pub fn not_found() -> ApiError {
        ApiError(Error::not_found())
    }
}

/// The standard error body.
pub fn body(status: StatusCode, message: &str, data: Value) -> Response {
    (
        status,
        Json(json!({"status": status.as_u16(), "message": message, "data": data})),
    )
        .into_response()
}

impl ApiError {
    /// The status and the JSON body this error answers with.
    pub fn to_body(self) -> (StatusCode, Value) {
        let (status, message, data) = self.parts();
        (
            status,
            json!({"status": status.as_u16(), "message": message, "data": Value::Object(data)}),
        )
    }

    fn parts(self) -> (StatusCode, String, Map<String, Value>) {
        match self.0 {
            Error::NotFound(m) => (StatusCode::NOT_FOUND, m, Map::new()),
            Error::Forbidden(m) => (StatusCode::FORBIDDEN, m, Map::new()),
            Error::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m, Map::new()),
            Error::BadRequest { message, data } => {
                (StatusCode::BAD_REQUEST, message, data.into_iter().collect())
            }
            Error::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m, Map::new()),
            Error::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, m, Map::new()),
            Error::Store(e) => match e.kind {
                // PB-COMPAT: a constraint no validation caught is PocketBase's 400 with the
                // database's words.
                StoreErrorKind::Unique { .. }
                | StoreErrorKind::ForeignKey
                | StoreErrorKind::Constraint => (StatusCode::BAD_REQUEST, e.message(), Map::new()),
                // PB-COMPAT: SQLite stores what PostgreSQL cannot (NUL in text): a 400.
                StoreErrorKind::Unstorable => {
                    (StatusCode::BAD_REQUEST, something_wrong(), Map::new())
                }
                StoreErrorKind::Busy | StoreErrorKind::NotFound => {
                    tracing::error!(kind = ?e.kind, detail = %e.detail, "database error");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        something_wrong(),
                        Map::new(),
                    )
                }
            },
            Error::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m, Map::new()),
            Error::TimedOut => {
                tracing::error!("transaction timed out");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    something_wrong(),
                    Map::new(),
                )
            }
            Error::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    something_wrong(),
                    Map::new(),
                )
            }
        }
    }
}

fn something_wrong() -> String {
    "Something went wrong while processing your request.".to_owned()
}

/// A request refused by the HTTP layer before any route sees it: by hyper's parser, whose own
/// bodiless answer `serve` rewrites into this body, or by the head size limit over HTTP/2
/// (`middleware::HeadLimit`). These have no kind in the core's `Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A request line or header that does not parse. PB-COMPAT: also an unknown HTTP version,
    /// which PocketBase answers with 505.
    Malformed,
    /// A URI longer than the `http` crate holds (64 KiB). PB-COMPAT: PocketBase takes URIs up
    /// to its head limit (a filter over 3500 bytes in one is a 400 there).
    UriTooLong,
    /// A request head (request line and headers) over `serve::MAX_HEAD_BYTES`, or more than
    /// 100 header fields over HTTP/1. PB-COMPAT: PocketBase takes more fields; hyper keeps 100
    /// on the stack, and more would cost an allocation per request.
    HeadTooLarge,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::Malformed => StatusCode::BAD_REQUEST,
            Refusal::UriTooLong => StatusCode::URI_TOO_LONG,
            Refusal::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }

    /// PB-COMPAT: PocketBase (Go's net/http) answers these in plain text; the messages are
    /// worded as its own JSON errors are.
    fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => "Something went wrong while processing your request.",
            Refusal::UriTooLong => "Request URI too long.",
            Refusal::HeadTooLarge => "Request header fields too large.",
        }
    }

    /// The standard body, serialized.
    pub fn json(self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "status": self.status().as_u16(),
            "message": self.message(),
            "data": {},
        }))
        .unwrap_or_default()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        body(self.status(), self.message(), json!({}))
    }
}

/// An error answer's message and details, left in the response for the request log.
#[derive(Debug, Clone)]
pub struct LoggedError {
    pub message: String,
    pub details: Value,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.to_body();
        let logged = LoggedError {
            message: body["message"].as_str().unwrap_or_default().to_owned(),
            details: body["data"].clone(),
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(logged);
        // The rest of a body too large is never read, so the connection cannot carry another
        // request: the client must not reuse it.
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}
