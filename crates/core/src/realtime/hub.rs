//! The hub: connected clients and the dispatcher of committed changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::{json, Value as Json};
use futures_util::stream::{self, StreamExt};
use tokio::sync::{broadcast, mpsc};

use super::topic::{Topic, MAX_SUBSCRIPTIONS};
use crate::error::{field_error_json, Error, FieldErrors, Result};
use crate::identity::Auth;
use crate::records::{Change, Record, Records};
use crate::rules::{RequestInfo, RuleKind};

/// How many messages may wait for one client; a client further behind is disconnected (it
/// reconnects and resubscribes), so one slow reader never slows the others or grows memory.
const CLIENT_QUEUE: usize = 256;

/// How many distinct visibility questions of one change are answered at once.
const CONCURRENT_CHECKS: usize = 8;

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Message {
    pub event: String,
    pub data: Arc<str>,
}

struct Client {
    auth: RwLock<Auth>,
    topics: RwLock<Vec<Topic>>,
    tx: mpsc::Sender<Message>,
}

#[derive(Clone)]
pub struct Realtime {
    clients: Arc<RwLock<HashMap<String, Arc<Client>>>>,
    records: Records,
}

/// A connected client's end: its id, its message queue, and a guard that removes it from the
/// hub when dropped (when the SSE stream ends).
pub struct Connection {
    pub id: String,
    pub messages: mpsc::Receiver<Message>,
    pub guard: ConnectionGuard,
}

pub struct ConnectionGuard {
    id: String,
    clients: Arc<RwLock<HashMap<String, Arc<Client>>>>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.clients.write().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl Realtime {
    /// Creates the hub and starts its dispatcher on the current runtime.
    pub fn start(records: Records) -> Realtime {
        let hub = Realtime { clients: Arc::default(), records: records.clone() };
        let dispatcher = hub.clone();
        let changes = records.subscribe();
        tokio::spawn(async move { dispatcher.dispatch(changes).await });
        hub
    }

    pub fn client_count(&self) -> usize {
        self.clients.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Registers a new client.
    pub fn connect(&self) -> Connection {
        let id = crate::ids::random_string(40);
        let (tx, messages) = mpsc::channel(CLIENT_QUEUE);
        let client = Arc::new(Client { auth: RwLock::new(Auth::Guest), topics: RwLock::new(Vec::new()), tx });
        self.clients.write().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), client);
        Connection { id: id.clone(), messages, guard: ConnectionGuard { id, clients: self.clients.clone() } }
    }

    /// Sends `data` as event `topic` to the client `client_id` if it is subscribed to exactly
    /// that topic (the `@oauth2` redirect uses it). Whether it was delivered.
    pub fn send_to(&self, client_id: &str, topic: &str, data: &Json) -> bool {
        let Some(client) = self.clients.read().unwrap_or_else(|e| e.into_inner()).get(client_id).cloned() else { return false };
        if !client.topics.read().unwrap_or_else(|e| e.into_inner()).iter().any(|t| t.raw == topic) {
            return false;
        }
        client.tx.try_send(Message { event: topic.to_owned(), data: Arc::from(data.to_string()) }).is_ok()
    }

    /// Replaces a client's subscriptions and binds the caller's auth to it.
    pub fn subscribe(&self, client_id: &str, auth: Auth, topics: &[String]) -> Result<()> {
        let client = self
            .clients
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(client_id)
            .cloned()
            .ok_or_else(|| Error::NotFound("Missing or invalid client id.".into()))?;
        if topics.len() > MAX_SUBSCRIPTIONS {
            let mut d = FieldErrors::new();
            d.insert("subscriptions".into(), field_error_json("validation_length_too_long", format!("The maximum allowed subscriptions is {MAX_SUBSCRIPTIONS}.")));
            return Err(Error::validation(d));
        }
        let mut parsed = Vec::with_capacity(topics.len());
        for (i, raw) in topics.iter().enumerate() {
            let topic = Topic::parse(raw).ok_or_else(|| {
                let mut d = FieldErrors::new();
                d.insert("subscriptions".into(), json!({ i.to_string(): field_error_json("validation_invalid_topic", "Invalid subscription topic.") }));
                Error::validation(d)
            })?;
            parsed.push(topic);
        }
        {
            let mut current = client.auth.write().unwrap_or_else(|e| e.into_inner());
            // PB-COMPAT: once a client is bound to an identity, another one may not take it over.
            let bound = current.record().map(|r| (r.collection.id.clone(), r.id().to_owned()));
            let asking = auth.record().map(|r| (r.collection.id.clone(), r.id().to_owned()));
            if bound.is_some() && bound != asking {
                return Err(Error::Forbidden("The current and the previous request authorization don't match.".into()));
            }
            *current = auth;
        }
        *client.topics.write().unwrap_or_else(|e| e.into_inner()) = parsed;
        Ok(())
    }

    async fn dispatch(&self, mut changes: broadcast::Receiver<Change>) {
        loop {
            match changes.recv().await {
                Ok(change) => self.deliver(change).await,
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(missed = n, "realtime dispatcher lagged behind"),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Sends one change to every subscription allowed to see it. Subscribers asking the same
    /// question (same identity, rule and options) share one check and one JSON.
    async fn deliver(&self, change: Change) {
        let (action, record) = match change {
            Change::Created(r) => ("create", r),
            Change::Updated(r) => ("update", r),
            Change::Deleted(r) => ("delete", r),
        };
        // Subscribers asking the same question share one answer; distinct questions are
        // answered concurrently (each is a read on the reader pool).
        let mut questions: HashMap<String, (Topic, Auth, RuleKind)> = HashMap::new();
        let mut sends = Vec::new();
        for (client_id, client, topic, auth) in self.matching(&record) {
            let kind = if topic.record_id.is_some() { RuleKind::View } else { RuleKind::List };
            // The whole of the options is part of the question: rules may read any
            // `@request.query.*` or `@request.headers.*`.
            let options = serde_json::to_string(&(&topic.query, &topic.headers)).unwrap_or_default();
            let key = format!("{}|{:?}|{}", identity_key(&auth), kind, options);
            sends.push((client_id, client, topic.raw.clone(), key.clone()));
            questions.entry(key).or_insert((topic, auth, kind));
        }
        let record = &record;
        let answers: HashMap<String, Option<Arc<str>>> = stream::iter(questions)
            .map(|(key, (topic, auth, kind))| async move { (key, self.render(action, record, &topic, auth, kind).await) })
            .buffer_unordered(CONCURRENT_CHECKS)
            .collect()
            .await;
        let mut dropped = Vec::new();
        for (client_id, client, event, key) in sends {
            let Some(Some(data)) = answers.get(&key) else { continue };
            if client.tx.try_send(Message { event, data: data.clone() }).is_err() {
                dropped.push(client_id);
            }
        }
        if !dropped.is_empty() {
            let mut clients = self.clients.write().unwrap_or_else(|e| e.into_inner());
            for id in dropped {
                clients.remove(&id);
            }
        }
    }

    /// (client id, client, topic, auth) for every subscription naming the record's collection.
    fn matching(&self, record: &Record) -> Vec<(String, Arc<Client>, Topic, Auth)> {
        let c = &record.collection;
        let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for (id, client) in clients.iter() {
            let topics = client.topics.read().unwrap_or_else(|e| e.into_inner());
            for topic in topics.iter() {
                let names_collection = !topic.collection.is_empty() && (topic.collection == c.name || topic.collection == c.id);
                let names_record = topic.record_id.as_deref().is_none_or(|rid| rid == record.id());
                if names_collection && names_record {
                    let auth = client.auth.read().unwrap_or_else(|e| e.into_inner()).clone();
                    out.push((id.clone(), client.clone(), topic.clone(), auth));
                }
            }
        }
        out
    }

    /// The message data if `auth` may see `record` through `topic`, else `None`.
    async fn render(&self, action: &str, record: &Record, topic: &Topic, auth: Auth, kind: RuleKind) -> Option<Arc<str>> {
        let req = RequestInfo { auth, method: "GET".into(), context: "realtime".into(), query: topic.query.clone(), headers: topic.headers.clone(), body: Default::default() };
        match self.records.visible_to(&req, record, kind, topic.option("filter")).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                tracing::debug!(error = %e, topic = %topic.raw, "realtime check failed");
                return None;
            }
        }
        let shown = self.records.present(&req, vec![record.clone()], topic.option("expand"), topic.option("fields")).await.ok()?;
        let record_json = shown.into_iter().next().unwrap_or(Json::Null);
        Some(Arc::from(json!({"action": action, "record": record_json}).to_string()))
    }
}

fn identity_key(auth: &Auth) -> String {
    match auth.record() {
        Some(r) => format!("{}:{}", r.collection.id, r.id()),
        None => "guest".into(),
    }
}
