//! What a handler's outcome answers: `__runRoute`/`__runHook` outcomes (as JSON from
//! `events.js`) become responses, with the built-in route's answer when `e.next()` ran it.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use oxbase_core::records::output::{parse_fields, pick};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::invoke::Answer;

/// What `__runRoute` answered.
#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    status: u16,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    json: bool,
    #[serde(default)]
    headers: HashMap<String, Vec<String>>,
    #[serde(default)]
    error: Option<ThrownError>,
    /// `$apis.gzip()` ran in the chain.
    #[serde(default)]
    gzip: bool,
}

#[derive(Deserialize)]
pub(crate) struct ThrownError {
    pub status: u16,
    pub message: String,
    #[serde(default)]
    pub data: Json,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub stack: String,
}

/// `accepts_gzip`: the request's `Accept-Encoding` names gzip.
pub(crate) fn respond(out: &str, query: &str, accepts_gzip: bool) -> Response {
    let outcome: Outcome = match serde_json::from_str(out) {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(target: "oxbase::hooks", error = %e, "a route answered something unreadable");
            return crate::error_response(500, "");
        }
    };
    let mut response = match (&outcome.error, outcome.body) {
        (Some(e), _) => crate::thrown_response(e),
        (None, Some(body)) => {
            let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::OK);
            let body = if outcome.json {
                json_body(&body, status, query)
            } else {
                body.into_bytes()
            };
            let mut r = Response::new(Body::empty());
            *r.status_mut() = status;
            set_body(&mut r, body, outcome.gzip && accepts_gzip);
            r
        }
        // Nothing written: Go answers an empty 200.
        (None, None) => Response::new(Body::empty()),
    };
    if outcome.gzip {
        vary_on_encoding(&mut response);
    }
    if outcome.error.is_none() {
        for (name, values) in outcome.headers {
            let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
                continue;
            };
            response.headers_mut().remove(&name);
            for v in values {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    response.headers_mut().append(name.clone(), v);
                }
            }
        }
    }
    response
}

/// A JSON answer as the handler serialized it (PocketBase's encoder keeps the object's key
/// order and does not escape HTML), with `?fields=` applied to a success, as `e.json` does.
fn json_body(text: &str, status: StatusCode, query: &str) -> Vec<u8> {
    let fields = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .filter(|f| !f.is_empty() && status.is_success());
    let picked = fields.and_then(|fields| {
        let picks = parse_fields(&fields).ok()?;
        let value = serde_json::from_str::<Json>(text).ok()?;
        Some(pick(&value, &picks).to_string())
    });
    picked.unwrap_or_else(|| text.to_owned()).into_bytes()
}

/// What `__runHook` answered.
#[derive(Deserialize)]
pub(crate) struct HookOutcome {
    #[serde(default)]
    pub error: Option<ThrownError>,
    #[serde(default)]
    pub record: Option<Map<String, Json>>,
    #[serde(default)]
    pub inner: bool,
    /// Response headers the hooks set (`e.response.header().set`).
    #[serde(default)]
    pub headers: HashMap<String, Vec<String>>,
    /// Whether the chain ran to its end (every handler called `e.next()`).
    #[serde(default)]
    pub proceeded: bool,
    /// A mail hook's message as the hooks left it.
    #[serde(default)]
    pub message: Option<Json>,
    /// `$apis.gzip()` ran in the chain.
    #[serde(default)]
    pub gzip: bool,
    /// The event's carried fields as the hooks left them (`spec.carry`).
    #[serde(default)]
    pub fields: Option<Map<String, Json>>,
}

/// What the hooks of a create, update or delete answered: the route's answer when `e.next()`
/// ran it, or else the hook's own response or error.
pub(crate) fn respond_wrapped(
    raw: &str,
    answer: Option<Answer>,
    query: &str,
    accepts_gzip: bool,
) -> Response {
    let outcome = serde_json::from_str::<HookOutcome>(raw).ok();
    let inner = outcome.as_ref().filter(|o| o.inner && o.error.is_none());
    match (answer, inner) {
        (Some(answer), Some(outcome)) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = axum::http::StatusCode::from_u16(answer.status)
                .unwrap_or(axum::http::StatusCode::OK);
            *r.headers_mut() = answer.headers;
            let encoded = r.headers().contains_key(header::CONTENT_ENCODING);
            set_body(
                &mut r,
                answer.body.to_vec(),
                outcome.gzip && accepts_gzip && !encoded,
            );
            if outcome.gzip {
                vary_on_encoding(&mut r);
            }
            // Headers a hook set before `e.next()` go out with the route's answer.
            for (name, values) in &outcome.headers {
                let Ok(name) = header::HeaderName::from_bytes(name.as_bytes()) else {
                    continue;
                };
                r.headers_mut().remove(&name);
                for v in values {
                    if let Ok(v) = header::HeaderValue::from_str(v) {
                        r.headers_mut().append(name.clone(), v);
                    }
                }
            }
            r
        }
        _ => respond(raw, query, accepts_gzip),
    }
}

/// Whether a request's `Accept-Encoding` names gzip (PB-COMPAT: Go's middleware looks for
/// the substring, ignoring q-values).
pub(crate) fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .any(|v| v.as_bytes().windows(4).any(|w| w == b"gzip"))
}

/// `body` into `r`, gzip-compressed when `gzip` (as PocketBase's middleware: only a written
/// body is compressed; an empty one goes out as it is, without `Content-Encoding`).
fn set_body(r: &mut Response, body: Vec<u8>, gzip: bool) {
    use std::io::Write as _;
    if !gzip || body.is_empty() {
        *r.body_mut() = Body::from(body);
        return;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder.write_all(&body).and_then(|()| encoder.finish());
    match compressed {
        Ok(bytes) => {
            r.headers_mut().remove(header::CONTENT_LENGTH);
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            *r.body_mut() = Body::from(bytes);
        }
        // Writing to memory cannot fail; were it to, the body goes out as it is.
        Err(_) => *r.body_mut() = Body::from(body),
    }
}

/// PocketBase's gzip middleware adds `Vary: Accept-Encoding` to every response it wraps.
fn vary_on_encoding(r: &mut Response) {
    r.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_its_order_and_picks_fields_of_a_success() {
        let out = json_body(r#"{"b":"<b>&","a":1}"#, StatusCode::OK, "");
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"b":"<b>&","a":1}"#);
        let picked = json_body(r#"{"a":1,"b":2}"#, StatusCode::OK, "fields=a");
        assert_eq!(String::from_utf8(picked).unwrap(), r#"{"a":1}"#);
        let error = json_body(r#"{"a":1,"b":2}"#, StatusCode::BAD_REQUEST, "fields=a");
        assert_eq!(String::from_utf8(error).unwrap(), r#"{"a":1,"b":2}"#);
    }
}

/// A stream's body that tells the hooks holding it when it is dropped (the client went):
/// `_gone`'s receiver ends.
pub(crate) struct Watched {
    inner: Body,
    _gone: std::sync::mpsc::Sender<()>,
}

impl Watched {
    pub(crate) fn new(inner: Body, gone: std::sync::mpsc::Sender<()>) -> Watched {
        Watched { inner, _gone: gone }
    }
}

impl axum::body::HttpBody for Watched {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
