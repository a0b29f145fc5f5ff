//! A connected client: the identity it is bound to, its subscriptions, its queue.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::outbox::Outbox;
use super::topic::Topic;
use crate::identity::Auth;
use crate::rules::RuleKind;

/// One subscription, with everything its visibility question needs, fixed when it is set.
pub(super) struct Subscription {
    pub topic: Topic,
    pub auth: Auth,
    pub kind: RuleKind,
    /// Subscriptions with the same key ask the same question and share one answer.
    pub key: String,
}

pub(super) struct Client {
    pub id: String,
    /// The identity the client is bound to.
    pub auth: RwLock<Auth>,
    /// Replaced whole on each `POST /api/realtime`; readers take the `Arc`, not the lock.
    pub subscriptions: RwLock<Arc<Vec<Arc<Subscription>>>>,
    pub outbox: Outbox,
}

pub(super) type Clients = Arc<RwLock<HashMap<String, Arc<Client>>>>;

impl Subscription {
    pub fn new(topic: Topic, auth: Auth) -> Subscription {
        let kind = if topic.record_id.is_some() {
            RuleKind::View
        } else {
            RuleKind::List
        };
        // The whole of the options is part of the question: rules may read any
        // `@request.query.*` or `@request.headers.*`.
        let options = serde_json::to_string(&(&topic.query, &topic.headers)).unwrap_or_default();
        let identity = match auth.record() {
            Some(r) => format!("{}:{}", r.collection.id, r.id()),
            None => "guest".into(),
        };
        let key = format!("{}|{identity}|{kind:?}|{options}", topic.collection);
        Subscription {
            topic,
            auth,
            kind,
            key,
        }
    }
}
