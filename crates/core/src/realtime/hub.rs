//! The hub: the connected clients (each a `client::Client`), connecting and subscribing them,
//! and the settings of realtime. Delivery itself is `dispatch`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;
use std::time::Duration;

use serde_json::json;

use super::client::{Client, Clients, Subscription};
use super::outbox::{self, Inbox, Message};
use super::topic::{MAX_SUBSCRIPTIONS, Topic};
use super::watch::Watch;
use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::events::Pipeline;
use crate::identity::Auth;
use crate::records::Records;
use crate::schema::Collection;

/// How realtime behaves; `Realtime::configure` changes it (tests shorten the timers).
#[derive(Debug, Clone, Copy)]
pub struct RealtimeConfig {
    /// PB-COMPAT: a client that received no message for this long is disconnected, as
    /// PocketBase does after 5 minutes (forgotten connections); the SDK reconnects.
    pub idle_timeout: Duration,
    /// How often an SSE stream carries a comment, so proxies do not close a quiet one.
    /// PB-COMPAT: PocketBase sends none; clients (the SDK, `EventSource`) ignore comments.
    pub keep_alive: Duration,
    /// Bytes that may wait in one client's queue; a client further behind is disconnected
    /// (it reconnects and resubscribes), so a slow reader never slows the others.
    /// PB-COMPAT: PocketBase buffers without bound (a goroutine per pending message).
    pub client_queue_bytes: usize,
    /// Committed changes that may wait for the dispatcher (the round it is answering
    /// included). Past this they are dropped, and every client subscribed to what they
    /// touched is disconnected: never a silent gap.
    pub max_backlog: usize,
    /// How many changes one dispatch round answers together (one query per question).
    pub round: usize,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        RealtimeConfig {
            idle_timeout: Duration::from_secs(5 * 60),
            keep_alive: Duration::from_secs(15),
            client_queue_bytes: 4 * 1024 * 1024,
            max_backlog: 64 * 1024,
            round: 1024,
        }
    }
}

/// What the app's hooks do around realtime (the JS hooks' `onRealtimeMessageSend` and
/// `onRecordEnrich`). Called on blocking threads, only when set: a hub without hooks looks at
/// an empty slot.
pub trait RealtimeHooks: Send + Sync {
    /// A message about to be written to client `client` (subscribed to `topics`): what
    /// becomes of it.
    fn message(&self, client: &str, topics: &[String], message: Message) -> Delivery;
    /// Records of `collection` about to go to subscribers bound to `auth`, as they will see
    /// them (the same order and count).
    fn enrich(
        &self,
        auth: &Auth,
        collection: &Arc<Collection>,
        records: Vec<serde_json::Value>,
    ) -> Vec<serde_json::Value>;
    fn wants_messages(&self) -> bool;
    fn wants_enrich(&self) -> bool;
}

/// What the hooks make of a message.
#[derive(Debug)]
pub enum Delivery {
    /// Sent (as the hooks left it).
    Send(Message),
    /// Not sent (a hook did not call `e.next()`).
    Skip,
    /// The hooks failed: the stream ends, as PocketBase ends it on a failed send.
    Close,
}

/// How a connecting client is set up by whoever wraps `GET /api/realtime` (the connect hooks,
/// which see the client's id before it connects and may change its idle timeout).
#[derive(Debug, Clone)]
pub struct ClientSetup {
    pub id: String,
    pub idle_timeout: Option<Duration>,
}

#[derive(Clone)]
pub struct Realtime {
    pub(super) clients: Clients,
    pub(super) records: Records,
    config: Arc<RwLock<RealtimeConfig>>,
    /// Set by `close`: clients that connect later are let go at once.
    closed: Arc<AtomicBool>,
    /// The dispatcher's task, stopped by `close` (with no client left it has no one to
    /// deliver to, and it holds the record service: an app reopened in the same process after
    /// a restore would otherwise leave the old one behind).
    dispatcher: Arc<parking_lot::Mutex<Option<tokio::task::AbortHandle>>>,
    hooks: Arc<RwLock<Option<Arc<dyn RealtimeHooks>>>>,
}

/// A connected client's end: its id, its messages, and a guard that removes it from the hub
/// when dropped (when the SSE stream ends).
pub struct Connection {
    pub id: String,
    /// How often the stream should carry a keep-alive comment.
    pub keep_alive: Duration,
    idle_timeout: Duration,
    inbox: Inbox,
    _guard: ConnectionGuard,
}

struct ConnectionGuard {
    id: String,
    clients: Clients,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.clients.write().remove(&self.id);
    }
}

impl Connection {
    /// The next message. `None` ends the stream: the hub let the client go (it could not
    /// keep up, or changes it was owed were dropped), or nothing came for the idle timeout
    /// (keep-alive comments do not count, as in PocketBase).
    pub async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(self.idle_timeout, self.inbox.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Realtime {
    /// Creates the hub, starts its dispatcher on the current runtime, and has the record
    /// service ask it, inside each delete's transaction, who may see the deletion.
    pub fn start(records: Records, events: &Pipeline) -> Realtime {
        let hub = Realtime {
            clients: Arc::default(),
            records: records.clone(),
            config: Arc::default(),
            closed: Arc::default(),
            dispatcher: Arc::default(),
            hooks: Arc::default(),
        };
        // The watcher holds the clients and the schema, not the record service: no cycle.
        events.watch_deletes(Arc::new(Watch {
            clients: hub.clients.clone(),
            schema: records.schema().clone(),
        }));
        let dispatcher = hub.clone();
        // With no client connected, a change has no one to go to.
        let clients = hub.clients.clone();
        let changes = events.subscribe(move || !clients.read().is_empty());
        let task = tokio::spawn(async move { dispatcher.dispatch(changes).await });
        *hub.dispatcher.lock() = Some(task.abort_handle());
        hub
    }

    /// Sets the hooks around realtime messages.
    pub fn set_hooks(&self, hooks: Arc<dyn RealtimeHooks>) {
        *self.hooks.write() = Some(hooks);
    }

    pub fn hooks(&self) -> Option<Arc<dyn RealtimeHooks>> {
        self.hooks.read().clone()
    }

    /// What the message hooks make of `m` for client `id` (sent as it is when there are
    /// none); run on a blocking thread. Every transport (SSE, GraphQL) passes its messages here.
    pub async fn pass_hooks(
        &self,
        hooks: Option<&Arc<dyn RealtimeHooks>>,
        id: &str,
        m: Message,
    ) -> Delivery {
        let Some(hooks) = hooks else {
            return Delivery::Send(m);
        };
        let (hooks, hub, id) = (hooks.clone(), self.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || hooks.message(&id, &hub.topics(&id), m))
            .await
            .unwrap_or(Delivery::Close)
    }

    /// Whether client `id` is connected.
    pub fn has_client(&self, id: &str) -> bool {
        self.clients.read().contains_key(id)
    }

    /// The topics client `id` is subscribed to.
    pub fn topics(&self, id: &str) -> Vec<String> {
        let client = self.clients.read().get(id).cloned();
        client.map_or_else(Vec::new, |c| {
            c.subscriptions
                .read()
                .iter()
                .map(|s| s.topic.raw.clone())
                .collect()
        })
    }

    pub fn config(&self) -> RealtimeConfig {
        *self.config.read()
    }

    /// Changes the settings; clients connected from now on get the new timers.
    pub fn configure(&self, config: RealtimeConfig) {
        *self.config.write() = config;
    }

    /// Ends every client's stream, and those of clients that connect later: on shutdown, an
    /// open SSE stream would otherwise hold its connection, and so the server, for ever. The
    /// SDK reconnects (to another instance, or to this one once restarted).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.clients.write().clear();
        if let Some(dispatcher) = self.dispatcher.lock().take() {
            dispatcher.abort();
        }
    }

    pub fn client_count(&self) -> usize {
        self.clients.read().len()
    }

    /// Registers a new client (set up as given, or with a new id and the configured timeout).
    pub fn connect(&self, setup: Option<ClientSetup>) -> Connection {
        let config = self.config();
        let (id, idle_timeout) = match setup {
            Some(s) => (s.id, s.idle_timeout.unwrap_or(config.idle_timeout)),
            None => (crate::ids::random_string(40), config.idle_timeout),
        };
        let (outbox, inbox) = outbox::queue(config.client_queue_bytes);
        let client = Arc::new(Client {
            id: id.clone(),
            auth: RwLock::new(Auth::Guest),
            subscriptions: RwLock::default(),
            outbox,
        });
        if !self.closed.load(Ordering::SeqCst) {
            self.clients.write().insert(id.clone(), client);
        }
        // Once closed, the client is dropped here with its queue: its stream ends after its
        // first event.
        Connection {
            id: id.clone(),
            keep_alive: config.keep_alive,
            idle_timeout,
            inbox,
            _guard: ConnectionGuard {
                id,
                clients: self.clients.clone(),
            },
        }
    }

    /// Sends `data` as event `topic` to the client `client_id` if it is subscribed to exactly
    /// that topic (the `@oauth2` redirect uses it). Whether it was delivered.
    pub fn send_to(&self, client_id: &str, topic: &str, data: &serde_json::Value) -> bool {
        let Some(client) = self.clients.read().get(client_id).cloned() else {
            return false;
        };
        let subscribed = client
            .subscriptions
            .read()
            .iter()
            .any(|s| s.topic.raw == topic);
        subscribed
            && client.outbox.push(Message {
                event: topic.to_owned(),
                data: Arc::from(data.to_string()),
            })
    }

    /// Replaces a client's subscriptions and binds the caller's auth to it.
    pub fn subscribe(&self, client_id: &str, auth: Auth, topics: &[String]) -> Result<()> {
        let client = self
            .clients
            .read()
            .get(client_id)
            .cloned()
            .ok_or_else(|| Error::NotFound("Missing or invalid client id.".into()))?;
        if topics.len() > MAX_SUBSCRIPTIONS {
            let mut d = FieldErrors::new();
            d.insert(
                "subscriptions".into(),
                field_error_json(
                    "validation_length_too_long",
                    format!("The maximum allowed subscriptions is {MAX_SUBSCRIPTIONS}."),
                ),
            );
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
            let mut current = client.auth.write();
            // PB-COMPAT: once a client is bound to an identity, another one may not take it over.
            let bound = current
                .record()
                .map(|r| (r.collection.id.clone(), r.id().to_owned()));
            let asking = auth
                .record()
                .map(|r| (r.collection.id.clone(), r.id().to_owned()));
            if bound.is_some() && bound != asking {
                return Err(Error::Forbidden(
                    "The current and the previous request authorization don't match.".into(),
                ));
            }
            *current = auth.clone();
        }
        let subscriptions = parsed
            .into_iter()
            .map(|topic| Arc::new(Subscription::new(topic, auth.clone())))
            .collect();
        *client.subscriptions.write() = Arc::new(subscriptions);
        Ok(())
    }

    /// Removes clients from the hub: their streams end once what is queued is read.
    pub(super) fn disconnect(&self, ids: impl IntoIterator<Item = String>) {
        let mut clients = self.clients.write();
        for id in ids {
            clients.remove(&id);
        }
    }
}
