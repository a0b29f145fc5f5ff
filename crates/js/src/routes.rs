//! `routerAdd` and `routerUse`: the hook files' routes, matched before the built-in ones
//! (`oxbase_api::custom`), each answered by its middlewares and handler on a pooled engine.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, header};
use oxbase_api::custom::{BoxResponse, CustomRequest};
use oxbase_core::identity::Auth;
use serde_json::{Map, Value as Json, json};

use crate::Hooks;
use crate::engine::JsError;
use crate::registry::{Registration, Step};

/// The routes of the hook files.
pub struct Routes {
    hooks: Arc<Hooks>,
    by_method: HashMap<Method, matchit::Router<usize>>,
    any_method: matchit::Router<usize>,
    /// Each route's chain: the `routerUse` middlewares, its own, then its handler.
    chains: Vec<Vec<Step>>,
    /// The `routerUse` middlewares, by priority: they also wrap the built-in routes.
    global: Vec<Step>,
    /// Whether each chain waits, then the global chain's (`invoke::run`).
    learned: Vec<Arc<crate::invoke::Learned>>,
    learned_global: Arc<crate::invoke::Learned>,
}

impl Routes {
    pub fn new(hooks: Arc<Hooks>) -> Result<Option<Routes>, String> {
        let registry = hooks.registry();
        let mut global: Vec<Step> = registry
            .iter()
            .filter_map(|r| match r {
                Registration::Use { middlewares } => Some(middlewares.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        // PB-COMPAT: lower priority first (hook.Hook's order); registration order among equals.
        global.sort_by_key(|s| s.priority());
        let mut routes = Routes {
            hooks: hooks.clone(),
            by_method: HashMap::new(),
            any_method: matchit::Router::new(),
            chains: Vec::new(),
            global: global.clone(),
            learned: Vec::new(),
            learned_global: Arc::default(),
        };
        for r in registry {
            let Registration::Route {
                method,
                path,
                handler,
                middlewares,
            } = r
            else {
                continue;
            };
            let mut chain: Vec<Step> = global.iter().chain(middlewares).cloned().collect();
            // Lower priority first; registration order among equals (a stable sort).
            chain.sort_by_key(|s| s.priority());
            chain.push(Step::Handler { index: *handler });
            let index = routes.chains.len();
            routes.chains.push(chain);
            routes.learned.push(Arc::default());
            let table = match method.as_str() {
                "" | "*" | "ANY" => &mut routes.any_method,
                m => {
                    let method = Method::from_bytes(m.as_bytes())
                        .map_err(|_| format!("routerAdd: invalid method {m:?}"))?;
                    routes.by_method.entry(method).or_default()
                }
            };
            for pattern in patterns(path) {
                table
                    .insert(pattern.clone(), index)
                    .map_err(|e| format!("routerAdd {method} {path}: {e}"))?;
            }
        }
        Ok((!routes.chains.is_empty() || !routes.global.is_empty()).then_some(routes))
    }

    fn find(&self, method: &Method, path: &str) -> Option<(usize, Map<String, Json>)> {
        let lookup = |table: &matchit::Router<usize>| {
            table.at(path).ok().map(|m| {
                // Go's mux hands handlers the decoded segment (`a%2Fb` is `a/b`).
                let params = m
                    .params
                    .iter()
                    .map(|(k, v)| {
                        let decoded = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                        (k.to_owned(), Json::String(decoded.into_owned()))
                    })
                    .collect();
                (*m.value, params)
            })
        };
        let by_method = |m: &Method| self.by_method.get(m).and_then(lookup);
        by_method(method)
            // Go's mux: a GET pattern also answers HEAD.
            .or_else(|| {
                (method == Method::HEAD)
                    .then(|| by_method(&Method::GET))
                    .flatten()
            })
            .or_else(|| lookup(&self.any_method))
    }
}

/// A Go `ServeMux` pattern as matchit patterns: `{name...}` is a catch-all, `{$}` ends the
/// path, and a pattern ending in `/` matches everything under it.
fn patterns(path: &str) -> Vec<String> {
    let path = path.trim();
    // "GET /x" inside the path argument is not PocketBase's form; the method is separate.
    let mut p = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('{') {
        p.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        let name = &rest[at + 1..at + end];
        if name == "$" {
            p.push_str("");
        } else if let Some(n) = name.strip_suffix("...") {
            p.push_str(&format!("{{*{n}}}"));
        } else {
            p.push_str(&format!("{{{name}}}"));
        }
        rest = &rest[at + end + 1..];
    }
    p.push_str(rest);
    if path.ends_with("{$}") || !p.ends_with('/') {
        return vec![p];
    }
    vec![p.clone(), format!("{p}{{*__rest}}")]
}

/// PocketBase's `DefaultBodyLimitMiddlewarePriority`.
const BODY_LIMIT_PRIORITY: i64 = -990;

impl Routes {
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        self.find(method, path).is_some()
    }

    /// Whether the `routerUse` middlewares wrap the route at `method path`: every one, the
    /// realtime stream too (as in PocketBase; see [`held`]).
    pub fn wraps(&self, _method: &Method, _path: &str) -> bool {
        !self.global.is_empty()
    }

    /// Whether PocketBase's body-limit middleware (priority -990) of a record create or
    /// update refuses the request before the later middlewares: the collection is unknown
    /// (404 "Missing or invalid collection context.", which the built-in route answers).
    fn refused_early(&self, method: &Method, path: &str) -> bool {
        let Some(rest) = path.strip_prefix("/api/collections/") else {
            return false;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let body_route = match parts.as_slice() {
            [_, "records"] => method == Method::POST,
            [_, "records", _] => method == Method::PATCH,
            _ => false,
        };
        body_route && self.hooks.schema.get(parts[0]).is_none()
    }

    /// A built-in route wrapped by the `routerUse` middlewares: their `e.next()` at the end
    /// of the chain sends the request on to it.
    pub fn call_wrapped(&self, request: CustomRequest) -> BoxResponse {
        let mut chain = if self.refused_early(&request.parts.method, request.parts.uri.path()) {
            self.global
                .iter()
                .filter(|s| s.priority() < BODY_LIMIT_PRIORITY)
                .cloned()
                .collect()
        } else {
            self.global.clone()
        };
        chain.push(Step::Inner { inner: true });
        let hooks = self.hooks.clone();
        let learned = self.learned_global.clone();
        let query = request.parts.uri.query().unwrap_or("").to_owned();
        let gzip = crate::answer::accepts_gzip(&request.parts.headers);
        let stream = is_stream(&request.parts.method, request.parts.uri.path());
        Box::pin(async move {
            let (described, _held) = describe_with_uploads(&hooks, &request, Map::new()).await;
            let spec = json!({ "chain": chain, "request": described });
            // The stream's answer goes out while the middlewares wait in `e.next()`.
            let (early, live) = match stream {
                true => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    (Some(tx), Some(rx))
                }
                false => (None, None),
            };
            let wrapped = crate::invoke::Wrapped {
                parts: request.parts,
                body: request.body,
                next: request.next,
                answer: None,
                file: None,
                early,
            };
            let out = match live {
                None => crate::invoke::run(Some(&learned), move || {
                    crate::invoke::wrapping(wrapped, || hooks.run_route(&spec.to_string()))
                })
                .await
                .ok(),
                Some(live) => {
                    let run = move || {
                        crate::invoke::blocking(|| {
                            crate::invoke::wrapping(wrapped, || hooks.run_route(&spec.to_string()))
                        })
                    };
                    match held(run, live).await {
                        Held::Live(response) => return response,
                        Held::Done(out) => out,
                    }
                }
            };
            match out {
                Some((Ok(raw), answer)) => {
                    crate::answer::respond_wrapped(&raw, answer, &query, gzip)
                }
                Some((Err(e), _)) => crate::engine_failure(&e),
                None => crate::error_response(500, ""),
            }
        })
    }

    pub fn call(&self, request: CustomRequest) -> BoxResponse {
        let Some((index, params)) = self.find(&request.parts.method, request.parts.uri.path())
        else {
            return Box::pin(async { crate::error_response(404, "Not Found.") });
        };
        let chain = self.chains[index].clone();
        let hooks = self.hooks.clone();
        let learned = self.learned[index].clone();
        let head = request.parts.method == Method::HEAD;
        let query = request.parts.uri.query().unwrap_or("").to_owned();
        let gzip = crate::answer::accepts_gzip(&request.parts.headers);
        Box::pin(async move {
            let out = if is_multipart(&request.parts.headers) {
                let (request, _held) = describe_with_uploads(&hooks, &request, params).await;
                let spec = json!({ "chain": chain, "request": request });
                crate::invoke::run(Some(&learned), move || hooks.run_route(&spec.to_string())).await
            } else {
                // The request is described when the handler first reads more of it than its
                // path values (most read little: describing it cost more than the handler).
                let spec =
                    json!({ "chain": chain, "request": {"lazy": true, "pathParams": params} });
                crate::invoke::run(Some(&learned), move || {
                    let describer = {
                        let hooks = hooks.clone();
                        Box::new(move || describe(&hooks, &request, Map::new()))
                    };
                    crate::invoke::describing(describer, || hooks.run_route(&spec.to_string()))
                })
                .await
            };
            let mut response = match out {
                Ok(Ok(out)) => crate::answer::respond(&out, &query, gzip),
                Ok(Err(e)) => crate::engine_failure(&e),
                Err(_) => crate::error_response(500, ""),
            };
            if head {
                *response.body_mut() = Body::empty();
            }
            response
        })
    }
}

/// The realtime stream, whose answer lasts as long as the connection.
fn is_stream(method: &Method, path: &str) -> bool {
    method == Method::GET && path == "/api/realtime"
}

/// How a chain around a stream ended for its caller.
enum Held<T> {
    /// The stream is open: its answer (the chain runs on until the client goes).
    Live(axum::response::Response),
    /// The chain ended without opening it: what it returned.
    Done(Option<T>),
}

/// Runs `run`, a middleware chain around the realtime stream, on a thread of its own with a
/// runtime made for it (it holds both for the connection's life, as PocketBase holds a VM);
/// answers the stream as soon as its `e.next()` opened it.
async fn held<T: Send + 'static>(
    run: impl FnOnce() -> T + Send + 'static,
    live: tokio::sync::oneshot::Receiver<axum::response::Response>,
) -> Held<T> {
    let (done_tx, done) = tokio::sync::oneshot::channel();
    let started = std::thread::Builder::new()
        .name("oxbase-stream-hook".into())
        .spawn(move || {
            let _ = done_tx.send(crate::engine::nested(run));
        });
    if started.is_err() {
        return Held::Done(None);
    }
    match live.await {
        Ok(response) => Held::Live(response),
        Err(_) => Held::Done(done.await.ok()),
    }
}

/// Whether the body is a multipart form (whose values are read before the handler runs).
fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// What a handler sees of the request, with a multipart body's values in
/// `e.requestInfo().body` and the body held for `e.findUploadedFiles()` (whose files are
/// staged when a hook asks) as long as the guard lives.
pub(crate) async fn describe_with_uploads(
    hooks: &Hooks,
    r: &CustomRequest,
    params: Map<String, Json>,
) -> (Json, Option<crate::uploads::Held>) {
    let mut out = describe(hooks, r, params);
    let Some((values, has_files)) =
        crate::uploads::form_values(&r.parts.headers, r.body.clone()).await
    else {
        return (out, None);
    };
    out["info"]["body"] = Json::Object(values);
    out["info"]["bodyError"] = Json::Bool(false);
    if !has_files {
        return (out, None);
    }
    let content_type = r
        .parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let held = hooks.staged.hold(content_type, r.body.clone());
    out["uploads"] = Json::String(held.token().to_owned());
    (out, Some(held))
}

/// What a handler sees of the request (`events.js` builds `e.request` and `e.requestInfo()`).
pub(crate) fn describe(hooks: &Hooks, r: &CustomRequest, params: Map<String, Json>) -> Json {
    let parts = &r.parts;
    let mut headers: Map<String, Json> = Map::new();
    let mut info_headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if let Json::Array(list) = headers
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            list.push(Json::String(value.clone()));
        }
        info_headers
            .entry(name.as_str().replace('-', "_"))
            .or_insert(Json::String(value));
    }
    let raw_query = parts.uri.query().unwrap_or("");
    let mut query: Map<String, Json> = Map::new();
    let mut info_query = Map::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        if let Json::Array(list) = query
            .entry(k.clone().into_owned())
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            list.push(Json::String(v.clone().into_owned()));
        }
        info_query
            .entry(k.into_owned())
            .or_insert(Json::String(v.into_owned()));
    }
    let cookies: Map<String, Json> = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .map(|(k, v)| (k.to_owned(), Json::String(v.to_owned())))
        .collect();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body = body_fields(content_type, &r.body);
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.host())
        .unwrap_or("")
        .to_owned();
    let auth = auth_json(hooks, &r.auth);
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    json!({
        "method": parts.method.as_str(),
        "uri": uri,
        "path": parts.uri.path(),
        "rawQuery": raw_query,
        "host": host,
        "scheme": "http",
        "headers": headers,
        "query": query,
        "cookies": cookies,
        "pathParams": params,
        "remoteIP": r.remote_ip,
        "realIP": r.real_ip,
        "remoteAddr": r.remote_ip,
        "bodySize": r.body.len(),
        "info": {
            "query": info_query,
            "headers": info_headers,
            "body": body.clone().unwrap_or_else(|| json!({})),
            "bodyError": body.is_none(),
        },
        "auth": auth,
    })
}

/// The caller's record with its collection, for `e.auth`.
pub fn auth_json(hooks: &Hooks, auth: &Auth) -> Json {
    match auth.record() {
        Some(r) => json!({"collection": hooks.collection_ref(&r.collection), "record": r.data}),
        None => Json::Null,
    }
}

/// The body's fields, as `e.requestInfo().body` shows them: a form, or JSON when the content
/// type says so (`None`: a JSON body that is not an object or `null`, which PocketBase
/// refuses when a handler reads it).
fn body_fields(content_type: &str, body: &[u8]) -> Option<Json> {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let mut out = Map::new();
        for (k, v) in form_urlencoded::parse(body) {
            out.entry(k.into_owned())
                .or_insert(Json::String(v.into_owned()));
        }
        return Some(Json::Object(out));
    }
    let json = mime.eq_ignore_ascii_case("application/json");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(json!({}));
    }
    match serde_json::from_slice::<Json>(body) {
        Ok(v @ (Json::Object(_) | Json::Null)) => Some(v),
        _ if json => None,
        _ => Some(json!({})),
    }
}

impl Hooks {
    fn run_route(&self, spec: &str) -> Result<String, JsError> {
        self.with_engine(|engine| {
            engine.run(|ctx| {
                let run: rquickjs::Function = ctx.globals().get("__runRoute")?;
                let fns: rquickjs::Value = ctx.globals().get("__fns")?;
                run.call((fns, spec))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_patterns_become_matchit_patterns() {
        assert_eq!(patterns("/hello/{name}"), vec!["/hello/{name}"]);
        assert_eq!(patterns("/files/{path...}"), vec!["/files/{*path}"]);
        assert_eq!(patterns("/static/"), vec!["/static/", "/static/{*__rest}"]);
        assert_eq!(patterns("/exact/{$}"), vec!["/exact/"]);
    }
}
