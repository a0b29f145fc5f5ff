//! A snapshot of every client's subscriptions, indexed by the collection they name: which
//! subscriptions a change concerns, without walking every client for every change.

use std::collections::HashMap;
use std::sync::Arc;

use super::client::{Client, Clients, Subscription};
use crate::records::Record;
use crate::rules::{RequestContext, RequestInfo};
use crate::schema::Collection;

pub(super) type Subscriber = (Arc<Client>, Arc<Subscription>);

pub(super) struct Index {
    /// By the collection as the topic names it (its name or its id).
    by_collection: HashMap<String, Vec<Subscriber>>,
}

impl Index {
    pub fn snapshot(clients: &Clients) -> Index {
        // Copy the client list and release the hub's lock before reading each client.
        let clients: Vec<Arc<Client>> = clients.read().values().cloned().collect();
        let mut by_collection: HashMap<String, Vec<Subscriber>> = HashMap::new();
        for client in clients {
            let subscriptions = client.subscriptions.read().clone();
            for s in subscriptions
                .iter()
                .filter(|s| !s.topic.collection.is_empty())
            {
                by_collection
                    .entry(s.topic.collection.clone())
                    .or_default()
                    .push((client.clone(), s.clone()));
            }
        }
        Index { by_collection }
    }

    pub fn is_empty(&self) -> bool {
        self.by_collection.is_empty()
    }

    /// Every subscription naming `c`, by name or by id.
    pub fn naming<'a>(&'a self, c: &Collection) -> impl Iterator<Item = &'a Subscriber> + 'a {
        let by_name = self.by_collection.get(&c.name);
        let by_id = if c.id != c.name {
            self.by_collection.get(&c.id)
        } else {
            None
        };
        by_name.into_iter().chain(by_id).flatten()
    }

    /// The subscriptions a change of `record` concerns: `collection/*`, or `collection/id`
    /// of this very record.
    pub fn matching<'a>(&'a self, record: &'a Record) -> impl Iterator<Item = &'a Subscriber> + 'a {
        self.naming(&record.collection).filter(move |(_, s)| {
            s.topic
                .record_id
                .as_deref()
                .is_none_or(|id| id == record.id())
        })
    }
}

impl Subscription {
    /// The request a subscription's rule sees: its identity, and the query and headers of
    /// its options.
    pub fn request(&self) -> RequestInfo {
        RequestInfo {
            auth: self.auth.clone(),
            method: "GET".into(),
            context: RequestContext::Realtime,
            query: self.topic.query.clone(),
            headers: self.topic.headers.clone(),
            body: Default::default(),
            url: String::new(),
        }
    }
}
