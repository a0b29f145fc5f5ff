//! The realtime hooks of the hook files: `onRealtimeConnectRequest` (before the SSE stream
//! opens), `onRealtimeSubscribeRequest` (around `POST /api/realtime`, whose `e.next()` sets
//! `e.subscriptions`), `onRealtimeMessageSend` (each message a client is about to be sent,
//! `PB_CONNECT` included) and `onRecordEnrich` over the records of realtime messages.
//!
//! The connect hook wraps the whole stream, as PocketBase's does: code after `e.next()` runs
//! when the client goes. The `e.idleTimeout` the hooks leave (nanoseconds, at least a
//! millisecond) applies to the stream.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Method;
use axum::response::Response;
use oxbase_api::custom::{BoxResponse, CustomRequest};
use oxbase_core::App;
use oxbase_core::identity::Auth;
use oxbase_core::realtime::{ClientSetup, Delivery, Message, RealtimeHooks};
use oxbase_core::schema::Collection;
use serde_json::{Map, Value as Json, json};

use crate::Hooks;
use crate::answer::{HookOutcome, Watched};
use crate::invoke;

const PATH: &str = "/api/realtime";

/// The realtime routes the hook files wrap.
#[derive(Clone)]
pub struct RealtimeRequests {
    hooks: Arc<Hooks>,
    app: App,
    connect: Vec<usize>,
    subscribe: Vec<usize>,
}

impl RealtimeRequests {
    pub fn new(hooks: Arc<Hooks>, app: App) -> Option<RealtimeRequests> {
        let connect = hooks.by_name.untagged("onRealtimeConnectRequest");
        let subscribe = hooks.by_name.untagged("onRealtimeSubscribeRequest");
        if connect.is_empty() && subscribe.is_empty() {
            return None;
        }
        Some(RealtimeRequests {
            hooks,
            app,
            connect,
            subscribe,
        })
    }

    pub fn matches(&self, method: &Method, path: &str) -> bool {
        path == PATH
            && ((method == Method::GET && !self.connect.is_empty())
                || (method == Method::POST && !self.subscribe.is_empty()))
    }

    pub fn call(&self, request: CustomRequest) -> BoxResponse {
        let this = self.clone();
        if request.parts.method == Method::GET {
            Box::pin(async move { this.connect(request).await })
        } else {
            Box::pin(async move { this.subscribe(request).await })
        }
    }

    /// The connect hooks run first; their last `e.next()` opens the stream, for the client id
    /// they saw, and returns once the client is gone, as PocketBase's does: the chain holds a
    /// runtime and a thread of its own (made for it: PocketBase keeps a VM per connected client
    /// too) for the life of the connection, with its time limit paused meanwhile.
    async fn connect(&self, request: CustomRequest) -> Response {
        let id = oxbase_core::ids::random_string(40);
        let http = crate::routes::describe(&self.hooks, &request, Map::new());
        // `e.idleTimeout` in nanoseconds, as Go's `time.Duration`.
        let idle = self.app.realtime().config().idle_timeout.as_nanos();
        let spec = json!({
            "chain": self.connect,
            "terminal": "native",
            "carry": ["idleTimeout"],
            "event": {"client": {"id": id, "topics": []}, "fields": {"idleTimeout": idle as u64}},
            "http": http,
        });
        let hooks = self.hooks.clone();
        // `opened`: the hooks' `e.next()` with the fields they left; `gone`: the stream ended.
        let (opened_tx, opened) = tokio::sync::oneshot::channel::<Json>();
        let (gone_tx, gone) = std::sync::mpsc::channel::<()>();
        let (ran_tx, ran) = tokio::sync::oneshot::channel();
        let chain = move || {
            let mut opened_tx = Some(opened_tx);
            let terminal: invoke::Terminal = Box::new(move |state: Json| {
                if let Some(open) = opened_tx.take()
                    && open.send(state).is_ok()
                {
                    // Returns when the stream's body is dropped: the client went.
                    crate::engine::paused(|| gone.recv().ok());
                }
                Ok(Json::Null)
            });
            let out = invoke::blocking(|| {
                invoke::with_terminal(terminal, || {
                    crate::engine::nested(|| hooks.run_hook_raw(&spec))
                })
            });
            if let Err(unheard) = ran_tx.send(out) {
                // The stream was open: what the hooks did after it is only logged.
                log_after_stream(unheard);
            }
        };
        if let Err(e) = std::thread::Builder::new()
            .name("oxbase-realtime-hook".into())
            .spawn(chain)
        {
            tracing::error!(target: "oxbase::hooks", error = %e, "cannot start a connect hook");
            return crate::error_response(500, "");
        }
        let Ok(fields) = opened.await else {
            // The chain ended without opening the stream: its answer (an error, or none).
            return match ran.await {
                Ok(Ok(raw)) => crate::answer::respond(&raw, "", false),
                Ok(Err(e)) => crate::engine_failure(&e),
                Err(_) => crate::error_response(500, ""),
            };
        };
        let idle_timeout = fields
            .get("idleTimeout")
            .and_then(Json::as_f64)
            .filter(|ns| *ns >= 1e6)
            .map(|ns| std::time::Duration::from_nanos(ns.min(1e18) as u64));
        let mut forwarded = crate::requests::rebuild(&request.parts, request.body.clone());
        forwarded
            .extensions_mut()
            .insert(ClientSetup { id, idle_timeout });
        let (parts, body) = crate::requests::send(request.next, forwarded)
            .await
            .into_parts();
        let body = Body::new(Watched::new(body, gone_tx));
        Response::from_parts(parts, body)
    }

    /// The subscribe hooks around the built-in route: `e.next()` sends it `e.subscriptions`.
    /// As in PocketBase, a request for no connected client is answered before any hook.
    async fn subscribe(&self, request: CustomRequest) -> Response {
        let body: Json = serde_json::from_slice(&request.body).unwrap_or(Json::Null);
        let client_id = body["clientId"].as_str().unwrap_or("").to_owned();
        let subscriptions = match &body["subscriptions"] {
            Json::Array(items) => items.clone(),
            _ => Vec::new(),
        };
        if !self.app.realtime().has_client(&client_id) {
            let forwarded = crate::requests::rebuild(&request.parts, request.body.clone());
            return crate::requests::send(request.next, forwarded).await;
        }
        let topics = self.app.realtime().topics(&client_id);
        let http = crate::routes::describe(&self.hooks, &request, Map::new());
        let spec = json!({
            "chain": self.subscribe,
            "terminal": "innerSubscriptions",
            "carry": ["subscriptions"],
            "event": {
                "client": {"id": client_id, "topics": topics},
                "fields": {"subscriptions": subscriptions},
            },
            "http": http,
        });
        let wrapped = invoke::Wrapped {
            parts: request.parts,
            body: request.body,
            next: request.next,
            answer: None,
            file: None,
            early: None,
        };
        let hooks = self.hooks.clone();
        let ran = crate::invoke::run(None, move || {
            invoke::wrapping(wrapped, || hooks.run_hook_raw(&spec))
        })
        .await;
        match ran {
            Ok((Ok(raw), answer)) => crate::answer::respond_wrapped(&raw, answer, "", false),
            Ok((Err(e), _)) => crate::engine_failure(&e),
            Err(_) => crate::error_response(500, ""),
        }
    }
}

/// A connect chain's failure after its stream was open (its `e.next()` returned).
fn log_after_stream(out: Result<String, crate::engine::JsError>) {
    let thrown = match out {
        Ok(raw) => serde_json::from_str::<HookOutcome>(&raw)
            .ok()
            .and_then(|o| o.error)
            .map(|e| e.message),
        Err(e) => Some(e.to_string()),
    };
    if let Some(error) = thrown {
        tracing::error!(target: "oxbase::hooks", %error, "onRealtimeConnectRequest failed after its stream ended");
    }
}

/// What a realtime message's hooks see of the request: the stream's (PocketBase's message
/// event carries the connect request), reduced to the subscriber's auth.
fn stream_request(hooks: &Hooks, auth: Option<&Auth>) -> Json {
    json!({
        "method": "GET", "uri": PATH, "path": PATH, "rawQuery": "", "host": "", "scheme": "http",
        "headers": {}, "query": {}, "cookies": {}, "pathParams": {},
        "remoteIP": "", "realIP": "", "remoteAddr": "", "bodySize": 0,
        "info": {"query": {}, "headers": {}, "body": {}, "bodyError": false},
        "auth": auth.map_or(Json::Null, |a| crate::routes::auth_json(hooks, a)),
    })
}

/// `onRealtimeMessageSend` and `onRecordEnrich` for the hub.
pub struct MessageHooks {
    pub hooks: Arc<Hooks>,
}

impl RealtimeHooks for MessageHooks {
    fn message(&self, client: &str, topics: &[String], message: Message) -> Delivery {
        let chain = self.hooks.by_name.untagged("onRealtimeMessageSend");
        if chain.is_empty() {
            return Delivery::Send(message);
        }
        let spec = json!({
            "chain": chain,
            "terminal": "proceed",
            "carry": ["message"],
            "event": {
                "client": {"id": client, "topics": topics},
                "fields": {"message": {"name": message.event, "data": message.data.as_bytes()}},
            },
            "http": stream_request(&self.hooks, None),
        });
        let outcome = match invoke::blocking(|| self.hooks.run_hook(&spec)) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(target: "oxbase::hooks", error = %e, "onRealtimeMessageSend failed");
                return Delivery::Close;
            }
        };
        if let Some(e) = &outcome.error {
            tracing::debug!(target: "oxbase::hooks", error = %e.message, detail = %e.detail, "realtime connection closed (failed to deliver a message)");
            return Delivery::Close;
        }
        if !outcome.proceeded {
            return Delivery::Skip;
        }
        let changed = outcome.fields.as_ref().and_then(|f| f.get("message"));
        let Some(changed) = changed else {
            return Delivery::Send(message);
        };
        let event = changed["name"]
            .as_str()
            .unwrap_or(&message.event)
            .to_owned();
        let data = match &changed["data"] {
            Json::String(s) => s.clone(),
            Json::Array(bytes) => {
                let bytes: Vec<u8> = bytes
                    .iter()
                    .map(|b| b.as_u64().unwrap_or(0) as u8)
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => message.data.to_string(),
        };
        Delivery::Send(Message {
            event,
            data: Arc::from(data),
        })
    }

    fn enrich(&self, auth: &Auth, collection: &Arc<Collection>, records: Vec<Json>) -> Vec<Json> {
        let chain = self.hooks.by_name.chain(&["onRecordEnrich"], collection);
        if chain.is_empty() {
            return records;
        }
        let spec = json!({
            "chain": chain,
            "collection": self.hooks.collection_ref(collection),
            "records": records,
            "http": stream_request(&self.hooks, Some(auth)),
        });
        let out = invoke::blocking(|| self.hooks.run_global("__runEnrich", &spec));
        let parsed = out
            .ok()
            .and_then(|raw| serde_json::from_str::<Json>(&raw).ok());
        match parsed.as_ref().and_then(|p| p["records"].as_array()) {
            Some(list) => list.clone(),
            None => {
                tracing::error!(target: "oxbase::hooks", "onRecordEnrich failed on a realtime message");
                Vec::new()
            }
        }
    }

    fn wants_messages(&self) -> bool {
        self.hooks.by_name.has_any(&["onRealtimeMessageSend"])
    }

    fn wants_enrich(&self) -> bool {
        self.hooks.by_name.has_any(&["onRecordEnrich"])
    }
}

impl Hooks {
    pub(crate) fn bind_realtime(self: &Arc<Self>, app: &App) {
        if self
            .by_name
            .has_any(&["onRealtimeMessageSend", "onRecordEnrich"])
        {
            app.realtime().set_hooks(Arc::new(MessageHooks {
                hooks: self.clone(),
            }));
        }
    }
}
