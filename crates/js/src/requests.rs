//! Record request hooks: `onRecordsListRequest`, `onRecordViewRequest`,
//! `onRecordCreateRequest`, `onRecordUpdateRequest`, `onRecordDeleteRequest` and
//! `onRecordAuthRequest` wrap the built-in record routes of the collections they name.
//!
//! As in PocketBase, a create, update or delete hook runs before the action, with `e.record`
//! loaded from the stored record and the request body: what it changes is sent on to the
//! action when it calls `e.next()`, and `e.record` is then the record as saved. A list, view or
//! auth hook runs after the action found what to answer (its rule passed): it sees
//! `e.records`/`e.result`, `e.record`, or `e.record`/`e.token`/`e.meta`, and `e.next()` answers
//! with them as they are then.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::Response;
use oxbase_api::custom::CustomRequest;
use oxbase_core::App;
use oxbase_core::schema::Collection;
use serde_json::{Map, Value as Json, json};
use tower::ServiceExt;

use crate::Hooks;
use oxbase_core::records::direct::Find;

use crate::invoke::{self, Answer, Wrapped};

/// Which record route a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    List,
    View,
    Create,
    Update,
    Delete,
    Auth,
}

impl Kind {
    fn hook(self) -> &'static str {
        match self {
            Kind::List => "onRecordsListRequest",
            Kind::View => "onRecordViewRequest",
            Kind::Create => "onRecordCreateRequest",
            Kind::Update => "onRecordUpdateRequest",
            Kind::Delete => "onRecordDeleteRequest",
            Kind::Auth => "onRecordAuthRequest",
        }
    }

    /// Whether the hook runs before the action (and `e.next()` runs it).
    fn before(self) -> bool {
        matches!(self, Kind::Create | Kind::Update | Kind::Delete)
    }
}

const ALL: [Kind; 6] = [
    Kind::List,
    Kind::View,
    Kind::Create,
    Kind::Update,
    Kind::Delete,
    Kind::Auth,
];

/// The record route `method path` names: its kind, collection and record id.
pub fn route(method: &Method, path: &str) -> Option<(Kind, String, Option<String>)> {
    let rest = path.strip_prefix("/api/collections/")?;
    let mut parts = rest.split('/');
    let collection = parts.next().filter(|c| !c.is_empty())?.to_owned();
    let second = parts.next()?;
    let third = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let kind = match (method.as_str(), second, third) {
        ("GET", "records", None) => Kind::List,
        ("POST", "records", None) => Kind::Create,
        ("GET", "records", Some(_)) => Kind::View,
        ("PATCH", "records", Some(_)) => Kind::Update,
        ("DELETE", "records", Some(_)) => Kind::Delete,
        (
            "POST",
            "auth-with-password" | "auth-with-otp" | "auth-with-oauth2" | "auth-refresh",
            None,
        ) => Kind::Auth,
        _ => return None,
    };
    let id = third.filter(|_| second == "records").map(str::to_owned);
    Some((kind, collection, id))
}

/// The request hooks of the files.
#[derive(Clone)]
pub struct RequestHooks {
    hooks: Arc<Hooks>,
    app: App,
}

impl RequestHooks {
    pub fn new(hooks: Arc<Hooks>, app: App) -> Option<RequestHooks> {
        let names: Vec<&str> = ALL.iter().map(|k| k.hook()).collect();
        hooks
            .by_name
            .has_any(&names)
            .then_some(RequestHooks { hooks, app })
    }

    fn chain(&self, kind: Kind, collection: &str) -> Option<(Arc<Collection>, Vec<usize>)> {
        let c = self.app.schema().get(collection)?;
        let chain = self.hooks.by_name.chain(&[kind.hook()], &c);
        (!chain.is_empty()).then_some((c, chain))
    }

    pub fn matches(&self, method: &Method, path: &str) -> bool {
        route(method, path).is_some_and(|(kind, c, _)| self.chain(kind, &c).is_some())
    }

    pub async fn call(&self, request: CustomRequest) -> Response {
        let Some((kind, collection, id)) = route(&request.parts.method, request.parts.uri.path())
        else {
            return crate::error_response(404, "");
        };
        let Some((c, chain)) = self.chain(kind, &collection) else {
            return send(request.next, rebuild(&request.parts, request.body.clone())).await;
        };
        if kind.before() {
            self.before(kind, c, chain, id, request).await
        } else {
            self.after(c, chain, request).await
        }
    }

    /// Create, update, delete: the hooks first; `e.next()` sends the request on.
    async fn before(
        &self,
        kind: Kind,
        c: Arc<Collection>,
        chain: Vec<usize>,
        id: Option<String>,
        request: CustomRequest,
    ) -> Response {
        let stored = match &id {
            Some(id) => {
                let params = json!({ "id": id });
                let find = Find {
                    filter: "id = {:id}",
                    params: params.as_object(),
                    ..Find::default()
                };
                let found = self.app.records().find(&c.id, find).await;
                found.ok().and_then(|(_, mut r)| r.pop())
            }
            None => None,
        };
        if kind != Kind::Create && stored.is_none() {
            // Nothing to hook: the route answers its own 404.
            return send(request.next, rebuild(&request.parts, request.body.clone())).await;
        }
        let http = crate::routes::describe(&request, Map::new());
        let body = http["info"]["body"].clone();
        let event = json!({
            "collection": c.to_json(),
            "record": stored.as_ref().map_or_else(|| json!({}), |r| Json::Object(r.data.clone())),
            "isNew": kind == Kind::Create,
            "original": stored.as_ref().map(|r| &r.data),
            "body": if kind == Kind::Delete { json!({}) } else { body },
        });
        let spec = json!({"chain": chain, "terminal": "inner", "event": event, "http": http});
        let wrapped = Wrapped {
            parts: request.parts,
            body: request.body,
            next: request.next,
            answer: None,
        };
        let hooks = self.hooks.clone();
        let query = wrapped.parts.uri.query().unwrap_or("").to_owned();
        let out = tokio::task::spawn_blocking(move || {
            invoke::blocking(|| invoke::wrapping(wrapped, || hooks.run_hook_raw(&spec)))
        })
        .await;
        match out {
            Ok((Ok(raw), answer)) => crate::answer::respond_wrapped(&raw, answer, &query),
            Ok((Err(e), _)) => crate::engine_failure(&e),
            Err(_) => crate::error_response(500, ""),
        }
    }

    /// List, view, auth: the route answers first; the hooks see its answer.
    async fn after(
        &self,
        c: Arc<Collection>,
        chain: Vec<usize>,
        request: CustomRequest,
    ) -> Response {
        let inner = send(
            request.next.clone(),
            rebuild(&request.parts, request.body.clone()),
        )
        .await;
        if !inner.status().is_success() {
            return inner;
        }
        let (parts, body) = inner.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return crate::error_response(500, "");
        };
        let Ok(Json::Object(answer)) = serde_json::from_slice::<Json>(&bytes) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let mut event = Map::new();
        event.insert("collection".into(), c.to_json());
        if answer.contains_key("token") {
            for k in ["token", "record", "meta"] {
                if let Some(v) = answer.get(k) {
                    event.insert(k.into(), v.clone());
                }
            }
            event.insert(
                "authMethod".into(),
                json!(auth_method(request.parts.uri.path())),
            );
        } else if let Some(items) = answer.get("items") {
            event.insert("records".into(), items.clone());
            let mut result = answer.clone();
            result.remove("items");
            event.insert("result".into(), Json::Object(result));
        } else {
            event.insert("record".into(), Json::Object(answer));
        }
        let http = crate::routes::describe(&request, Map::new());
        let spec = json!({"chain": chain, "terminal": "respond", "event": event, "http": http});
        let hooks = self.hooks.clone();
        let query = request.parts.uri.query().unwrap_or("").to_owned();
        let out =
            tokio::task::spawn_blocking(move || invoke::blocking(|| hooks.run_hook_raw(&spec)))
                .await;
        match out {
            Ok(Ok(out)) => crate::answer::respond(&out, &query),
            Ok(Err(e)) => crate::engine_failure(&e),
            Err(_) => crate::error_response(500, ""),
        }
    }
}

fn auth_method(path: &str) -> &'static str {
    if path.ends_with("auth-with-password") {
        "password"
    } else if path.ends_with("auth-with-otp") {
        "otp"
    } else if path.ends_with("auth-with-oauth2") {
        "oauth2"
    } else {
        ""
    }
}

/// The request again, with `body`.
pub fn rebuild(parts: &axum::http::request::Parts, body: Bytes) -> Request {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    request.headers_mut().remove(header::CONTENT_LENGTH);
    request
}

async fn send(next: oxbase_api::custom::Next, request: Request) -> Response {
    match next.oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// `e.next()` of a create, update or delete hook: the wrapped request with the record's
/// changes, answered by the built-in route; the answer is kept for the response.
pub(crate) fn next(
    rt: &tokio::runtime::Handle,
    changes: Map<String, Json>,
) -> Result<Json, String> {
    let Some(mut wrapped) = invoke::take_wrapped() else {
        return Err("e.next() has no request to send on".into());
    };
    let (body, json_now) = with_changes(&wrapped.parts, &wrapped.body, &changes);
    let mut request = rebuild(&wrapped.parts, body);
    if json_now {
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
    }
    let next = wrapped.next.clone();
    let answer = invoke::block(rt, async move {
        let response = send(next, request).await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    });
    let json = serde_json::from_slice::<Json>(&answer.body).unwrap_or(Json::Null);
    let status = answer.status;
    wrapped.answer = Some(answer);
    invoke::put_back(wrapped);
    Ok(json!({"status": status, "json": json}))
}

/// The body with `changes` over it: a JSON or urlencoded body becomes JSON (`true`: the
/// content type changes to it); a multipart body gets them as a `@jsonPayload` part (which
/// the API merges over its fields).
fn with_changes(
    parts: &axum::http::request::Parts,
    body: &Bytes,
    changes: &Map<String, Json>,
) -> (Bytes, bool) {
    if changes.is_empty() {
        return (body.clone(), false);
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
    {
        let closing = format!("--{boundary}--");
        let text = body.as_ref();
        let end = find(text, closing.as_bytes()).unwrap_or(text.len());
        let mut out = text[..end].to_vec();
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n{}\r\n--{boundary}--\r\n",
                Json::Object(changes.clone())
            )
            .as_bytes(),
        );
        return (Bytes::from(out), false);
    }
    let mut fields: Map<String, Json> =
        if content_type.starts_with("application/x-www-form-urlencoded") {
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
                .collect()
        } else {
            serde_json::from_slice::<Json>(body)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default()
        };
    fields.extend(changes.clone());
    (Bytes::from(Json::Object(fields).to_string()), true)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
