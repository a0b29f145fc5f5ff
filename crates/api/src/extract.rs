//! Extractors: the caller's identity, the request context for rules, and bodies in JSON,
//! multipart (with `@jsonPayload`) and urlencoded forms.

use axum::body::Bytes;
use axum::extract::{
    FromRequest, FromRequestParts, MatchedPath, Multipart, RawPathParams, Request,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use oxbase_core::Error;
use oxbase_core::files::Upload;
use oxbase_core::identity::Auth;
use oxbase_core::records::input::BodyKind;
use oxbase_core::records::write::WriteInput;
use oxbase_core::rules::{RequestContext, RequestInfo};
use serde_json::{Map, Value};

use crate::AppState;
use crate::error::ApiError;
use crate::request_log::AuthSlot;

/// The identity behind the request's `Authorization` header (a guest when absent or invalid).
pub struct Caller(pub Auth);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = match parts.extensions.get::<Auth>() {
            Some(auth) => auth.clone(),
            None => {
                let header = parts
                    .headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let auth = state.app.auth().authenticate(header).await;
                parts.extensions.insert(auth.clone());
                auth
            }
        };
        if let Some(slot) = parts.extensions.get::<AuthSlot>() {
            slot.set(&auth);
        }
        Ok(Caller(auth))
    }
}

/// Path parameters in the standard error body. PB-COMPAT: a parameter that does not decode to
/// UTF-8 names no collection or record, so it is a 404 (axum would answer a plain-text 400).
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(ApiError::not_found()),
        }
    }
}

/// The query string as a map of first values.
pub fn query_map(query: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned())
            .or_insert(Value::String(v.into_owned()));
    }
    out
}

/// Headers as `@request.headers` sees them: lower-case (as `http` already keeps header
/// names), `-` as `_`.
pub fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().replace('-', "_"),
                Value::String(v.to_str().ok()?.to_owned()),
            ))
        })
        .collect()
}

/// The request context rules see, without a body.
pub fn request_info(
    auth: Auth,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
) -> RequestInfo {
    RequestInfo {
        auth,
        method: method.as_str().to_owned(),
        context: RequestContext::Default,
        query: query_map(query),
        headers: header_map(headers),
        body: Map::new(),
        url: String::new(),
    }
}

/// Everything about a request that rules and list options read: the caller, `@request.*`
/// (method, headers, query) and the query parameters.
pub struct Context {
    pub info: RequestInfo,
    pub params: Params,
}

impl FromRequestParts<AppState> for Context {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(auth) = Caller::from_request_parts(parts, state).await?;
        let mut info = request_info(auth, &parts.method, &parts.headers, parts.uri.query());
        info.url = parts.uri.path().to_owned();
        let params = Params(info.query.clone());
        Ok(Context { info, params })
    }
}

/// A create/update body in any of the forms PocketBase accepts.
pub struct Body(pub WriteInput);

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyRejection {
    /// Not JSON, multipart or urlencoded.
    Unsupported,
    /// Unparsable, or broken off.
    Malformed,
    /// Past its size limit, or a file part could not be staged.
    Failed(Error),
}

impl From<BodyRejection> for Error {
    fn from(rejection: BodyRejection) -> Error {
        match rejection {
            // PB-COMPAT: PocketBase's message for a body of a type it does not read.
            BodyRejection::Unsupported => Error::bad_request("Unsupported Content-Type."),
            // PB-COMPAT: the message PocketBase gives for an unreadable body.
            BodyRejection::Malformed => {
                Error::bad_request("Something went wrong while processing your request.")
            }
            BodyRejection::Failed(e) => e,
        }
    }
}

impl From<BodyRejection> for ApiError {
    fn from(rejection: BodyRejection) -> ApiError {
        ApiError(rejection.into())
    }
}

impl From<Error> for BodyRejection {
    fn from(e: Error) -> BodyRejection {
        BodyRejection::Failed(e)
    }
}

impl axum::response::IntoResponse for BodyRejection {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}

/// A body that could not be read: 413 when it went past the size limit, else malformed.
/// PB-COMPAT: PocketBase answers a chunked body past the limit with 400; it is a 413 here, as
/// one with a length.
fn unreadable(status: axum::http::StatusCode) -> BodyRejection {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        BodyRejection::Failed(Error::TooLarge("Request entity too large.".into()))
    } else {
        BodyRejection::Malformed
    }
}

fn empty_body() -> Body {
    Body(WriteInput {
        body: Map::new(),
        kind: Some(BodyKind::Json),
        files: Vec::new(),
    })
}

impl FromRequest<AppState> for Body {
    type Rejection = BodyRejection;

    /// PB-COMPAT: an empty body is no values whatever the content type; a body that is not
    /// JSON, multipart or urlencoded is refused (PocketBase matches the type by prefix, as
    /// here, but case-sensitively; oxbase ignores case, as HTTP says media types do).
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
        {
            return Ok(empty_body());
        }
        let req = with_body_limit(req, state).await?;
        if content_type.starts_with("multipart/form-data") {
            let multipart = Multipart::from_request(req, state)
                .await
                .map_err(|e| unreadable(e.status()))?;
            let (body, files) = read_multipart(multipart, state).await?;
            return Ok(Body(WriteInput {
                body,
                kind: Some(BodyKind::Form),
                files,
            }));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| unreadable(e.status()))?;
        if bytes.is_empty() {
            return Ok(empty_body());
        }
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut body = Map::new();
            for (k, v) in form_urlencoded::parse(&bytes) {
                push_form_value(&mut body, k.into_owned(), Value::String(v.into_owned()));
            }
            return Ok(Body(WriteInput {
                body,
                kind: Some(BodyKind::Form),
                files: Vec::new(),
            }));
        }
        if !content_type.starts_with("application/json") {
            return Err(BodyRejection::Unsupported);
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(body)) => Ok(Body(WriteInput {
                body,
                kind: Some(BodyKind::Json),
                files: Vec::new(),
            })),
            _ => Err(BodyRejection::Malformed),
        }
    }
}

/// A JSON body of any shape (collections, settings, import).
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Body(input) = Body::from_request(req, state).await?;
        Ok(JsonBody(Value::Object(input.body)))
    }
}

/// How a route words a body it cannot read. PB-COMPAT: PocketBase's message differs per
/// route, and some routes keep the generic one for an unsupported content type.
#[derive(Clone, Copy)]
pub enum Unreadable {
    /// Every unreadable body gets this message.
    Always(&'static str),
    /// Malformed bodies get this message; an unsupported type keeps its own.
    Malformed(&'static str),
}

impl JsonBody {
    /// The body, or why it could not be read worded as the route words it. Services take it
    /// as it is and look at it only once their own checks have passed (PocketBase reads it
    /// only then, so a guest gets its 401 first).
    pub fn read(
        body: Result<JsonBody, BodyRejection>,
        wording: Unreadable,
    ) -> Result<Value, Error> {
        match (body, wording) {
            (Ok(JsonBody(value)), _) => Ok(value),
            (Err(BodyRejection::Unsupported), Unreadable::Malformed(_)) => {
                Err(BodyRejection::Unsupported.into())
            }
            (
                Err(BodyRejection::Unsupported | BodyRejection::Malformed),
                Unreadable::Always(m) | Unreadable::Malformed(m),
            ) => Err(Error::bad_request(m)),
            (Err(BodyRejection::Failed(e)), _) => Err(e),
        }
    }
}

/// Repeated form keys become arrays.
fn push_form_value(body: &mut Map<String, Value>, key: String, value: Value) {
    match body.get_mut(&key) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            body.insert(key, value);
        }
    }
}

/// A body's limit: the router's (`DefaultBodyLimit`), except on record routes, which may be
/// as large as the collection's file fields allow (PB-COMPAT: the server-wide limit plus each
/// file field's `maxSize` x `maxSelect`; these routes disable the router's limit, so it is set
/// here), and on the batch, which reads its body against its own limit before it gets here. A
/// body declared larger than its limit is refused at once, unread, as PocketBase does, rather
/// than once that much of it has arrived.
async fn with_body_limit(req: Request, state: &AppState) -> Result<Request, BodyRejection> {
    let (mut parts, body) = req.into_parts();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let record_route = matches!(
        route,
        Some(
            "/api/collections/{collection}/records" | "/api/collections/{collection}/records/{id}"
        )
    );
    // PB-COMPAT: a backup upload has no limit, as in PocketBase.
    if matches!(route, Some("/api/batch" | "/api/backups/upload")) {
        return Ok(Request::from_parts(parts, body));
    }
    let mut limit = state.max_body_bytes;
    if record_route
        && let Ok(params) = RawPathParams::from_request_parts(&mut parts, state).await
        && let Some((_, collection)) = params.iter().find(|(k, _)| *k == "collection")
        && let Some(collection) = state.app.schema().get(collection)
    {
        limit = limit.saturating_add(oxbase_core::records::validate::upload_allowance(
            &collection,
        ));
    }
    let declared = axum::body::HttpBody::size_hint(&body).lower();
    if usize::try_from(declared).map_or(true, |declared| declared > limit) {
        return Err(unreadable(axum::http::StatusCode::PAYLOAD_TOO_LARGE));
    }
    if !record_route {
        return Ok(Request::from_parts(parts, body));
    }
    Ok(Request::from_parts(
        parts,
        axum::body::Body::new(http_body_util::Limited::new(body, limit)),
    ))
}

/// The form values, with each file part staged on disk (streamed, never whole in memory) and
/// named in the values by its stored name under the key it came with.
async fn read_multipart(
    mut multipart: Multipart,
    state: &AppState,
) -> Result<(Map<String, Value>, Vec<Upload>), BodyRejection> {
    let mut body = Map::new();
    let mut files = Vec::new();
    // The SDK sends one `@jsonPayload` part per JSON value.
    let mut payload: Vec<Map<String, Value>> = Vec::new();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e.status()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if let Some(original) = field.file_name().map(str::to_owned) {
            let mut staging = state.app.files().stage(&original).await?;
            while let Some(chunk) = field.chunk().await.map_err(|e| unreadable(e.status()))? {
                staging.write(&chunk).await?;
            }
            let upload = staging.finish().await?;
            push_form_value(&mut body, name, Value::String(upload.name.clone()));
            files.push(upload);
            continue;
        }
        let text = field.text().await.map_err(|e| unreadable(e.status()))?;
        if name == "@jsonPayload" {
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => payload.push(m),
                _ => return Err(BodyRejection::Malformed),
            }
        } else {
            push_form_value(&mut body, name, Value::String(text));
        }
    }
    for (k, v) in payload.into_iter().flatten() {
        // PB-COMPAT: JSON values override form values, but files sent under the same key
        // join them (kept names in the payload, new files as parts).
        let uploaded = body.remove(&k).filter(|value| names_uploads(&files, value));
        body.insert(k.clone(), v);
        if let Some(uploaded) = uploaded {
            push_all(&mut body, k, uploaded);
        }
    }
    Ok((body, files))
}

/// Whether a form value names only uploads.
fn names_uploads(files: &[Upload], value: &Value) -> bool {
    let is_upload = |v: &Value| {
        v.as_str()
            .is_some_and(|n| files.iter().any(|f| f.name == n))
    };
    match value {
        Value::Array(items) => items.iter().all(is_upload),
        v => is_upload(v),
    }
}

fn push_all(body: &mut Map<String, Value>, key: String, values: Value) {
    let mut list = match body.remove(&key) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![one],
    };
    match values {
        Value::Array(items) => list.extend(items),
        v => list.push(v),
    }
    body.insert(key, Value::Array(list));
}

/// The query string, parsed leniently (never rejects): first value of each key.
pub struct Params(pub Map<String, Value>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params(query_map(parts.uri.query())))
    }
}

impl Params {
    pub fn str(&self, key: &str) -> &str {
        self.0.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// The query parameters of a list (records or collections), as sent.
    pub fn list(&self) -> oxbase_core::records::list::ListParams<'_> {
        oxbase_core::records::list::ListParams {
            page: self.str("page"),
            per_page: self.str("perPage"),
            sort: self.str("sort"),
            filter: self.str("filter"),
            expand: self.str("expand"),
            fields: self.str("fields"),
            skip_total: self.str("skipTotal"),
        }
    }

    /// How a written or viewed record is shown (`expand`, `fields`).
    pub fn shown(&self) -> oxbase_core::records::actions::Shown<'_> {
        oxbase_core::records::actions::Shown {
            expand: self.str("expand"),
            fields: self.str("fields"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: Result<JsonBody, BodyRejection>, wording: Unreadable) -> String {
        match JsonBody::read(body, wording) {
            Err(Error::BadRequest { message, .. }) => message,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn unreadable_bodies_are_worded_as_the_route_words_them() {
        let always = Unreadable::Always("always");
        let malformed = Unreadable::Malformed("malformed");
        assert_eq!(message(Err(BodyRejection::Malformed), always), "always");
        assert_eq!(message(Err(BodyRejection::Unsupported), always), "always");
        assert_eq!(
            message(Err(BodyRejection::Malformed), malformed),
            "malformed"
        );
        assert_eq!(
            message(Err(BodyRejection::Unsupported), malformed),
            "Unsupported Content-Type."
        );
        let too_large = Err(BodyRejection::Failed(Error::TooLarge("big".into())));
        assert!(matches!(
            JsonBody::read(too_large, always),
            Err(Error::TooLarge(_))
        ));
    }
}
