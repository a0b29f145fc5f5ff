//! `ApiError`: the one place a core error becomes an HTTP status and PocketBase's
//! `{status, message, data}` body. Internal details are logged once, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use oxbase_core::Error;
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
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong while processing your request.".to_owned(),
                    Map::new(),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.to_body();
        let mut response = (status, Json(body)).into_response();
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
