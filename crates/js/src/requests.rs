//! Request hooks wrap the built-in routes: records (`onRecordsListRequest`...`onRecordDeleteRequest`,
//! `onRecordAuthRequest` and the auth flows' own), collections (`onCollection*Request`), with
//! the after-error hooks of record writes and the after-success/error hooks of collection
//! changes made through the API.
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

use crate::answer::Watched;
use crate::invoke::{self, Answer, Wrapped};

/// What the hooks of a route see before its action runs (their `e.next()` runs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    /// A record create, update or delete: `e.record` from the stored record and the body.
    Record(Action),
    /// A collection create, update or delete: `e.collection` from the stored definition and
    /// the body; the changed definition is sent on whole.
    Collection(Action),
    /// Any other route (auth flows): the request and its collection.
    Plain,
    /// `PATCH /api/settings`: `e.oldSettings`, `e.newSettings` (saved whole by `e.next()`).
    Settings,
    /// `POST /api/batch`: `e.batch` (run as the hooks leave it).
    Batch,
    /// A file download: `e.record`, `e.fileField`, `e.servedPath`, `e.servedName` (served).
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Delete,
}

/// The hooks a route may have: one before its action, one after its answer (which may change
/// it), one on its failure.
#[derive(Debug, Clone, Default)]
struct Plan {
    before: Option<(&'static str, Before)>,
    after: Option<&'static str>,
    failed: Option<&'static str>,
    /// `onRecordEnrich`, on the records the route answers with.
    enrich: Option<&'static str>,
    /// The collection named in the path (records and auth routes; collection routes).
    collection: Option<String>,
    /// The record or collection the path names.
    id: Option<String>,
}

/// The hooks of `method path`, if it is a route that has some.
fn plan(method: &Method, path: &str) -> Option<Plan> {
    let m = method.as_str();
    let mut plan = Plan::default();
    match (m, path) {
        ("GET", "/api/settings") => {
            plan.after = Some("onSettingsListRequest");
            return Some(plan);
        }
        ("PATCH", "/api/settings") => {
            plan.before = Some(("onSettingsUpdateRequest", Before::Settings));
            return Some(plan);
        }
        ("POST", "/api/batch") => {
            plan.before = Some(("onBatchRequest", Before::Batch));
            return Some(plan);
        }
        ("POST", "/api/files/token") => {
            plan.after = Some("onFileTokenRequest");
            return Some(plan);
        }
        ("GET" | "HEAD", _) if path.starts_with("/api/files/") => {
            let mut parts = path["/api/files/".len()..].split('/');
            plan.collection = Some(parts.next().filter(|c| !c.is_empty())?.to_owned());
            plan.before = Some(("onFileDownloadRequest", Before::File));
            return Some(plan);
        }
        _ => {}
    }
    let rest = path.strip_prefix("/api/collections")?;
    let parts: Vec<&str> = rest.split('/').skip(1).collect();
    match parts.as_slice() {
        [] | [""] => match m {
            "GET" => plan.after = Some("onCollectionsListRequest"),
            "POST" => {
                plan.before = Some((
                    "onCollectionCreateRequest",
                    Before::Collection(Action::Create),
                ));
            }
            _ => return None,
        },
        ["import"] if m == "PUT" => {
            plan.before = Some(("onCollectionsImportRequest", Before::Plain))
        }
        [c] => {
            plan.id = Some((*c).to_owned());
            match m {
                "GET" => plan.after = Some("onCollectionViewRequest"),
                "PATCH" => {
                    plan.before = Some((
                        "onCollectionUpdateRequest",
                        Before::Collection(Action::Update),
                    ));
                }
                "DELETE" => {
                    plan.before = Some((
                        "onCollectionDeleteRequest",
                        Before::Collection(Action::Delete),
                    ));
                }
                _ => return None,
            }
        }
        [c, "records"] => {
            plan.collection = Some((*c).to_owned());
            plan.enrich = Some("onRecordEnrich");
            match m {
                "GET" => plan.after = Some("onRecordsListRequest"),
                "POST" => {
                    plan.before = Some(("onRecordCreateRequest", Before::Record(Action::Create)));
                    plan.failed = Some("onRecordAfterCreateError");
                }
                _ => return None,
            }
        }
        [c, "records", id] => {
            plan.collection = Some((*c).to_owned());
            plan.enrich = Some("onRecordEnrich");
            plan.id = Some((*id).to_owned());
            match m {
                "GET" => plan.after = Some("onRecordViewRequest"),
                "PATCH" => {
                    plan.before = Some(("onRecordUpdateRequest", Before::Record(Action::Update)));
                    plan.failed = Some("onRecordAfterUpdateError");
                }
                "DELETE" => {
                    plan.before = Some(("onRecordDeleteRequest", Before::Record(Action::Delete)));
                    plan.failed = Some("onRecordAfterDeleteError");
                }
                _ => return None,
            }
        }
        [c, action] if m == "POST" || (m == "GET" && *action == "auth-methods") => {
            plan.collection = Some((*c).to_owned());
            let before = match *action {
                "auth-with-password" => "onRecordAuthWithPasswordRequest",
                "auth-with-otp" => "onRecordAuthWithOTPRequest",
                "auth-with-oauth2" => "onRecordAuthWithOAuth2Request",
                "auth-refresh" => "onRecordAuthRefreshRequest",
                "auth-methods" => "onRecordAuthMethodsRequest",
                "request-otp" => "onRecordRequestOTPRequest",
                "request-password-reset" => "onRecordRequestPasswordResetRequest",
                "confirm-password-reset" => "onRecordConfirmPasswordResetRequest",
                "request-verification" => "onRecordRequestVerificationRequest",
                "confirm-verification" => "onRecordConfirmVerificationRequest",
                "request-email-change" => "onRecordRequestEmailChangeRequest",
                "confirm-email-change" => "onRecordConfirmEmailChangeRequest",
                _ => return None,
            };
            plan.before = Some((before, Before::Plain));
            if action.starts_with("auth-with") || *action == "auth-refresh" {
                plan.after = Some("onRecordAuthRequest");
                plan.enrich = Some("onRecordEnrich");
            }
        }
        _ => return None,
    }
    Some(plan)
}

/// The request hooks of the files.
#[derive(Clone)]
pub struct RequestHooks {
    hooks: Arc<Hooks>,
    app: App,
    learned: Arc<Learned>,
}

/// Whether each kind of chain waits (`invoke::run`).
#[derive(Default)]
struct Learned {
    before: invoke::Learned,
    after: invoke::Learned,
    failed: invoke::Learned,
    enrich: invoke::Learned,
}

/// A plan's hooks that the files registered, for one request.
struct Chains {
    collection: Option<Arc<Collection>>,
    before: Vec<usize>,
    after: Vec<usize>,
    failed: Vec<usize>,
    enrich: Vec<usize>,
}

impl Chains {
    fn is_empty(&self) -> bool {
        self.before.is_empty()
            && self.after.is_empty()
            && self.failed.is_empty()
            && self.enrich.is_empty()
    }
}

impl RequestHooks {
    pub fn new(hooks: Arc<Hooks>, app: App) -> Option<RequestHooks> {
        let any = hooks.registry().iter().any(|r| {
            matches!(r, crate::registry::Registration::Hook { name, .. }
                if name.ends_with("Request")
                    || (name.starts_with("onRecordAfter") && name.ends_with("Error"))
                    || name == "onRecordEnrich")
        });
        any.then_some(RequestHooks {
            hooks,
            app,
            learned: Arc::default(),
        })
    }

    /// The chains `plan` names that apply: record hooks are tagged by the record's
    /// collection, collection hooks by the collection itself.
    fn chains(&self, plan: &Plan) -> Chains {
        let named = plan
            .collection
            .as_deref()
            .or(plan.id.as_deref().filter(|_| plan.collection.is_none()));
        let collection = named.and_then(|c| self.app.schema().get(c));
        let chain = |name: Option<&'static str>| -> Vec<usize> {
            let Some(name) = name else { return Vec::new() };
            match &collection {
                Some(c) => self.hooks.by_name.chain(&[name], c),
                // A route without a collection (a list of collections, a create): its
                // untagged hooks.
                None => self.hooks.by_name.untagged(name),
            }
        };
        Chains {
            before: chain(plan.before.map(|(n, _)| n)),
            after: chain(plan.after),
            failed: chain(plan.failed),
            enrich: chain(plan.enrich),
            collection,
        }
    }

    pub fn matches(&self, method: &Method, path: &str) -> bool {
        plan(method, path).is_some_and(|p| !self.chains(&p).is_empty())
    }

    pub async fn call(&self, request: CustomRequest) -> Response {
        let Some(plan) = plan(&request.parts.method, request.parts.uri.path()) else {
            return send(request.next, rebuild(&request.parts, request.body.clone())).await;
        };
        let chains = self.chains(&plan);
        let (http, _held) =
            crate::routes::describe_with_uploads(&self.hooks, &request, Map::new()).await;
        let response = self.wrap(&plan, &chains, &http, request).await;
        if chains.enrich.is_empty() || !response.status().is_success() {
            return response;
        }
        self.enrich(&chains, response, &http).await
    }

    /// `onRecordEnrich` on each record of a successful answer (a list's items, a record, an
    /// auth's record), as the caller will see it.
    async fn enrich(&self, chains: &Chains, response: Response, http: &Json) -> Response {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let Ok(Json::Object(mut answer)) = serde_json::from_slice::<Json>(&bytes) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let key = if answer.contains_key("items") {
            "items"
        } else if answer.contains_key("token") {
            "record"
        } else {
            ""
        };
        let records = match key {
            "" => Json::Array(vec![Json::Object(answer.clone())]),
            "items" => answer["items"].clone(),
            k => Json::Array(vec![answer[k].clone()]),
        };
        let Some(c) = &chains.collection else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let spec = json!({
            "chain": chains.enrich, "collection": self.hooks.collection_ref(c), "records": records,
            "http": http,
        });
        let hooks = self.hooks.clone();
        let learned = self.learned.clone();
        let out = crate::invoke::run(Some(&learned.enrich), move || {
            hooks.run_global("__runEnrich", &spec)
        })
        .await;
        let enriched = match out {
            Ok(Ok(raw)) => serde_json::from_str::<Json>(&raw).unwrap_or(Json::Null),
            Ok(Err(e)) => return crate::engine_failure(&e),
            Err(_) => return crate::error_response(500, ""),
        };
        if let Some(e) = enriched.get("error").filter(|e| !e.is_null()) {
            let thrown: Option<crate::answer::ThrownError> = serde_json::from_value(e.clone()).ok();
            return match thrown {
                Some(t) => crate::thrown_response(&t),
                None => crate::error_response(500, ""),
            };
        }
        let list = enriched["records"].as_array().cloned().unwrap_or_default();
        match key {
            "" => {
                if let Some(Json::Object(one)) = list.into_iter().next() {
                    answer = one;
                }
            }
            "items" => {
                answer.insert("items".into(), Json::Array(list));
            }
            k => {
                if let Some(one) = list.into_iter().next() {
                    answer.insert(k.into(), one);
                }
            }
        }
        let mut response =
            Response::from_parts(parts, Body::from(Json::Object(answer).to_string()));
        response.headers_mut().remove(header::CONTENT_LENGTH);
        response
    }

    /// The route with its before, after, failure and success hooks.
    async fn wrap(
        &self,
        plan: &Plan,
        chains: &Chains,
        http: &Json,
        request: CustomRequest,
    ) -> Response {
        let plan = plan.clone();
        let http = http.clone();
        let mut served = None;
        let subject = match plan.before {
            Some((_, Before::Record(action))) => self.stored_record(chains, &plan, action).await,
            Some((_, Before::Collection(action))) => {
                self.stored_collection(&plan, action, &http).await
            }
            // The three below read what their action will use: only when a hook will see it.
            _ if chains.before.is_empty() => None,
            Some((_, Before::Settings)) => {
                crate::prepared::settings(&self.app, &request.auth, &request.body)
            }
            Some((_, Before::Batch)) => {
                crate::prepared::batch(&self.app, &request.parts, &request.body, &http)
            }
            Some((_, Before::File)) => {
                crate::prepared::file(&self.app, &request.parts)
                    .await
                    .map(|(event, file)| {
                        served = Some(file);
                        event
                    })
            }
            _ => None,
        };
        let query = request.parts.uri.query().unwrap_or("").to_owned();
        let (response, event) = match (&plan.before, chains.before.is_empty()) {
            (Some((_, kind)), false) if subject.is_some() || *kind == Before::Plain => {
                let mut event = subject.clone().unwrap_or_default();
                if *kind == Before::Plain {
                    for k in ["identity", "password"] {
                        if let Some(v) = http["info"]["body"].get(k) {
                            event.insert(k.into(), v.clone());
                        }
                    }
                }
                if let Some(c) = &chains.collection {
                    event
                        .entry("collection")
                        .or_insert_with(|| self.hooks.collection_ref(c));
                }
                self.before(
                    chains.before.clone(),
                    (*kind, served),
                    event.clone(),
                    http.clone(),
                    request,
                    &query,
                )
                .await
            }
            _ => (
                send(
                    request.next.clone(),
                    rebuild(&request.parts, request.body.clone()),
                )
                .await,
                subject.unwrap_or_default(),
            ),
        };
        let status = response.status();
        if status.is_success() && !chains.after.is_empty() {
            return self.after(chains, response, http, &query).await;
        }
        let outcome = &chains.failed;
        if status.is_success() || outcome.is_empty() {
            return response;
        }
        // The error body read whole, for the hook.
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let answer = serde_json::from_slice::<Json>(&bytes).unwrap_or(Json::Null);
        let mut event = event;
        event.insert("error".into(), answer);
        let spec = json!({"chain": outcome, "terminal": "proceed", "event": event, "http": http});
        let hooks = self.hooks.clone();
        let learned = self.learned.clone();
        let ran = crate::invoke::run(Some(&learned.failed), move || hooks.run_hook(&spec)).await;
        if let Ok(Err(e)) = ran {
            tracing::error!(target: "oxbase::hooks", error = %e, "an after-error hook failed");
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    /// The record a record route acts on, as the hooks see it before the action.
    async fn stored_record(
        &self,
        chains: &Chains,
        plan: &Plan,
        action: Action,
    ) -> Option<Map<String, Json>> {
        let c = chains.collection.as_ref()?;
        let mut event = Map::new();
        event.insert("collection".into(), self.hooks.collection_ref(c));
        event.insert("isNew".into(), json!(action == Action::Create));
        if action == Action::Create {
            event.insert("record".into(), json!({}));
            return Some(event);
        }
        let id = plan.id.as_deref().unwrap_or_default();
        let stored = self.app.records().find_by_id(&c.id, id).await.ok()?.1?;
        event.insert("record".into(), Json::Object(stored.data.clone()));
        event.insert("original".into(), Json::Object(stored.data));
        Some(event)
    }

    /// The collection a collection route acts on: the body over the stored definition.
    async fn stored_collection(
        &self,
        plan: &Plan,
        action: Action,
        http: &Json,
    ) -> Option<Map<String, Json>> {
        let mut definition = match action {
            Action::Create => Map::new(),
            _ => self
                .app
                .schema()
                .get(plan.id.as_deref()?)?
                .to_json()
                .as_object()?
                .clone(),
        };
        if let Some(body) = http["info"]["body"]
            .as_object()
            .filter(|_| action != Action::Delete)
        {
            definition.extend(body.clone());
        }
        let mut event = Map::new();
        event.insert("collection".into(), Json::Object(definition));
        event.insert("collectionAction".into(), json!(format!("{action:?}")));
        Some(event)
    }

    /// The hooks first; `e.next()` sends the request on (with a record's changes, or a
    /// collection's definition).
    async fn before(
        &self,
        chain: Vec<usize>,
        (kind, file): (Before, Option<oxbase_api::routes::files::ServedFile>),
        mut event: Map<String, Json>,
        http: Json,
        request: CustomRequest,
        query: &str,
    ) -> (Response, Map<String, Json>) {
        if let Before::Record(action) = kind {
            let body = http["info"]["body"].clone();
            event.insert(
                "body".into(),
                if action == Action::Delete {
                    json!({})
                } else {
                    body
                },
            );
        }
        let terminal = match kind {
            Before::Collection(_) => "innerCollection",
            Before::Settings => "innerSettings",
            Before::Batch => "innerBatch",
            Before::File => "innerFile",
            _ => "inner",
        };
        let spec = json!({"chain": chain, "terminal": terminal, "event": event, "http": http});
        let wrapped = Wrapped {
            parts: request.parts,
            body: request.body,
            next: request.next,
            answer: None,
            file,
            early: None,
        };
        let hooks = self.hooks.clone();
        let out = crate::invoke::run(Some(&self.learned.before), move || {
            invoke::wrapping(wrapped, || hooks.run_hook_raw(&spec))
        })
        .await;
        let response = match out {
            Ok((Ok(raw), answer)) => {
                // The event as the hooks left it (the record they changed), for the after hooks.
                if let Ok(done) = serde_json::from_str::<Json>(&raw)
                    && let Some(r) = done.get("record").filter(|r| r.is_object())
                {
                    event.insert("record".into(), r.clone());
                }
                crate::answer::respond_wrapped(&raw, answer, query, false)
            }
            Ok((Err(e), _)) => crate::engine_failure(&e),
            Err(_) => crate::error_response(500, ""),
        };
        (response, event)
    }

    /// The hooks see the action's answer (a list, a record, an auth, collections) and may
    /// change it; `e.next()` answers with it.
    async fn after(&self, chains: &Chains, inner: Response, http: Json, query: &str) -> Response {
        let (parts, body) = inner.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return crate::error_response(500, "");
        };
        let Ok(Json::Object(answer)) = serde_json::from_slice::<Json>(&bytes) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let mut event = Map::new();
        if let Some(c) = &chains.collection {
            event.insert("collection".into(), self.hooks.collection_ref(c));
        }
        let path = http["path"].as_str().unwrap_or("").to_owned();
        let collections_route = !path.contains("/records") && !path.contains("/auth-");
        if path == "/api/settings" {
            event.insert("settings".into(), Json::Object(answer));
        } else if answer.contains_key("token") {
            for k in ["token", "record", "meta"] {
                if let Some(v) = answer.get(k) {
                    event.insert(k.into(), v.clone());
                }
            }
            event.insert("authMethod".into(), json!(auth_method(&path)));
        } else if let Some(items) = answer.get("items") {
            let key = if collections_route {
                "collections"
            } else {
                "records"
            };
            event.insert(key.into(), items.clone());
            let mut result = answer.clone();
            result.remove("items");
            event.insert("result".into(), Json::Object(result));
        } else if collections_route {
            event.insert("collection".into(), Json::Object(answer));
        } else {
            event.insert("record".into(), Json::Object(answer));
        }
        let spec =
            json!({"chain": chains.after, "terminal": "respond", "event": event, "http": http});
        let hooks = self.hooks.clone();
        let learned = self.learned.clone();
        let out = crate::invoke::run(Some(&learned.after), move || hooks.run_hook_raw(&spec)).await;
        match out {
            Ok(Ok(out)) => crate::answer::respond(&out, query, false),
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

pub(crate) async fn send(next: oxbase_api::custom::Next, request: Request) -> Response {
    match next.oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// `e.next()` of a create, update or delete hook: the wrapped request with the record's
/// changes, answered by the built-in route; the answer is kept for the response.
pub(crate) fn next(
    rt: &tokio::runtime::Handle,
    staged: &crate::uploads::Staged,
    mut changes: Map<String, Json>,
    replace: Option<Json>,
    served: Option<(String, String)>,
) -> Result<Json, String> {
    let Some(mut wrapped) = invoke::take_wrapped() else {
        return Err("e.next() has no request to send on".into());
    };
    // Files the hooks set (`$filesystem`, `e.findUploadedFiles()`) go as file parts.
    let files = crate::uploads::split_files(staged, &mut changes)?;
    let (body, content_type) = match replace {
        Some(whole) => (
            Bytes::from(whole.to_string()),
            Some("application/json".to_owned()),
        ),
        None if !files.is_empty() => with_files(&wrapped.parts, &wrapped.body, &changes, &files)?,
        None => match with_changes(&wrapped.parts, &wrapped.body, &changes) {
            (body, true) => (body, Some("application/json".to_owned())),
            (body, false) => (body, None),
        },
    };
    let mut request = rebuild(&wrapped.parts, body);
    // A download serves the file the hooks left in `e.servedPath`, named `e.servedName`.
    if let (Some(mut file), Some((path, name))) = (wrapped.file.clone(), served) {
        (file.path, file.name) = (path, name);
        request.extensions_mut().insert(file);
    }
    if let Some(content_type) = content_type
        && let Ok(value) = header::HeaderValue::from_str(&content_type)
    {
        request.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    let next = wrapped.next.clone();
    let early = wrapped.early.take();
    let (answer, gone) = invoke::block(rt, async move {
        let response = send(next, request).await;
        let (parts, body) = response.into_parts();
        let streamed = early.filter(|_| is_event_stream(&parts.headers));
        let answer = |body| Answer {
            status: parts.status.as_u16(),
            headers: parts.headers.clone(),
            body,
        };
        let Some(early) = streamed else {
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            return (answer(body), None);
        };
        // A stream goes to the client now, and `e.next()` returns when the client goes.
        let (gone_tx, gone) = std::sync::mpsc::channel::<()>();
        let live = Response::from_parts(parts.clone(), Body::new(Watched::new(body, gone_tx)));
        let sent = early.send(live).is_ok();
        (answer(Bytes::new()), sent.then_some(gone))
    });
    if let Some(gone) = gone {
        crate::engine::paused(|| gone.recv().ok());
    }
    let json = serde_json::from_slice::<Json>(&answer.body).unwrap_or(Json::Null);
    let status = answer.status;
    wrapped.answer = Some(answer);
    invoke::put_back(wrapped);
    Ok(json!({"status": status, "json": json}))
}

/// Whether an answer is a stream (the realtime route's).
fn is_event_stream(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
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
    let mut fields = plain_fields(&content_type, body);
    fields.extend(changes.clone());
    (Bytes::from(Json::Object(fields).to_string()), true)
}

/// The fields of a JSON or urlencoded body.
fn plain_fields(content_type: &str, body: &Bytes) -> Map<String, Json> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
            .collect()
    } else {
        serde_json::from_slice::<Json>(body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    }
}

/// The body with `changes` and `files`, as multipart: an original multipart body keeps its
/// parts; a JSON or urlencoded one becomes a `@jsonPayload` part with the changes over it.
fn with_files(
    parts: &axum::http::request::Parts,
    body: &Bytes,
    changes: &Map<String, Json>,
    files: &[(String, oxbase_core::files::Upload)],
) -> Result<(Bytes, Option<String>), String> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned());
    let (body, content_type) = match &boundary {
        Some(boundary) => {
            let closing = format!("--{boundary}--");
            let end = find(body, closing.as_bytes()).unwrap_or(body.len());
            crate::uploads::multipart_body(Some(boundary), &body[..end], changes, files)?
        }
        None => {
            let mut fields = plain_fields(content_type, body);
            fields.extend(changes.clone());
            crate::uploads::multipart_body(None, &[], &fields, files)?
        }
    };
    Ok((body, Some(content_type)))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
