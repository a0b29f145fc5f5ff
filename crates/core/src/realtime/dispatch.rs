//! The dispatcher: turns committed changes into messages for exactly the subscribers allowed
//! to see them, a round of changes at a time.
//!
//! A round takes every change waiting (up to `RealtimeConfig::round`), groups the
//! subscriptions concerned by question (same collection, identity, rule kind and options),
//! answers each question for all its changes with one query per chunk of records
//! (`Records::passing`), renders each visible record once per question, then queues the
//! messages in commit order. A burst of N changes to C distinct questions thus costs about
//! C queries per round, not N x C.
//!
//! Nothing is lost silently: when more changes wait than `max_backlog`, they are dropped and
//! every client subscribed to what they touched is disconnected, so the SDK reconnects and
//! resyncs; a client whose own queue overflows is disconnected the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;

use super::client::Subscription;
use super::hub::Realtime;
use super::index::Index;
use super::outbox::Message;
use crate::events::{Change, Committed};
use crate::records::visibility;
use crate::schema::Record;

/// How many distinct questions of one round are answered at once (each is a read on the
/// reader pool).
const CONCURRENT_CHECKS: usize = 8;

/// One question of a round: the changes it is asked of, by position in the round.
struct Question {
    subscription: Arc<Subscription>,
    /// Deletions already decided visible inside their transaction.
    known: Vec<usize>,
    /// Changes to check now.
    asked: Vec<usize>,
    last: Option<usize>,
}

impl Question {
    fn new(subscription: Arc<Subscription>) -> Question {
        Question {
            subscription,
            known: Vec::new(),
            asked: Vec::new(),
            last: None,
        }
    }

    fn add(&mut self, change: usize, known: bool) {
        // Several subscribers may share the question: each change is asked once.
        if self.last == Some(change) {
            return;
        }
        self.last = Some(change);
        if known {
            self.known.push(change)
        } else {
            self.asked.push(change)
        }
    }
}

impl Realtime {
    pub(super) async fn dispatch(&self, mut changes: mpsc::UnboundedReceiver<Committed>) {
        let mut round = Vec::new();
        loop {
            if changes
                .recv_many(&mut round, self.config().round.max(1))
                .await
                == 0
            {
                return;
            }
            // The round counts: it waits too until it is answered.
            if round.len() + changes.len() > self.config().max_backlog {
                round.extend(std::iter::from_fn(|| changes.try_recv().ok()));
                self.overflow(std::mem::take(&mut round));
                continue;
            }
            self.deliver(std::mem::take(&mut round)).await;
        }
    }

    /// Drops `changes` and disconnects every client that may have been owed one of them.
    fn overflow(&self, changes: Vec<Committed>) {
        let index = Index::snapshot(&self.clients);
        // Per collection id: the collection and the ids of its dropped records.
        let mut touched: HashMap<&str, (&Record, HashSet<&str>)> = HashMap::new();
        for c in &changes {
            let record = c.change.record();
            touched
                .entry(record.collection.id.as_str())
                .or_insert((record, HashSet::new()))
                .1
                .insert(record.id());
        }
        let mut gone = HashSet::new();
        for (record, ids) in touched.values() {
            for (client, s) in index.naming(&record.collection) {
                if s.topic
                    .record_id
                    .as_deref()
                    .is_none_or(|id| ids.contains(id))
                {
                    gone.insert(client.id.clone());
                }
            }
        }
        tracing::warn!(
            dropped = changes.len(),
            disconnected = gone.len(),
            "realtime fell behind: changes dropped, their subscribers disconnected"
        );
        metrics::counter!("oxbase_realtime_changes_dropped_total").increment(changes.len() as u64);
        metrics::counter!("oxbase_realtime_clients_dropped_total").increment(gone.len() as u64);
        self.disconnect(gone);
    }

    /// Queues the messages of one round, in commit order.
    async fn deliver(&self, round: Vec<Committed>) {
        let index = Index::snapshot(&self.clients);
        if index.is_empty() {
            return;
        }
        let mut questions: HashMap<String, Question> = HashMap::new();
        let mut sends = Vec::new();
        for (i, committed) in round.iter().enumerate() {
            let record = committed.change.record();
            for (client, subscription) in index.matching(record) {
                let decided = committed
                    .foreseen
                    .as_ref()
                    .and_then(|f| f.decided(&subscription.key, record.id()));
                if decided == Some(false) {
                    continue;
                }
                if !questions.contains_key(&subscription.key) {
                    questions.insert(
                        subscription.key.clone(),
                        Question::new(subscription.clone()),
                    );
                }
                if let Some(q) = questions.get_mut(&subscription.key) {
                    q.add(i, decided.is_some());
                }
                sends.push((i, client, subscription));
            }
        }
        let round = &round;
        let answers: HashMap<String, HashMap<usize, Arc<str>>> = stream::iter(questions)
            .map(|(key, q)| async move { (key, self.answer(round, q).await) })
            .buffer_unordered(CONCURRENT_CHECKS)
            .collect()
            .await;
        let mut gone: HashSet<&str> = HashSet::new();
        let mut delivered = 0u64;
        for (i, client, subscription) in sends {
            let Some(data) = answers
                .get(subscription.key.as_str())
                .and_then(|a| a.get(&i))
            else {
                continue;
            };
            if gone.contains(client.id.as_str()) {
                continue;
            }
            if client.outbox.push(Message {
                event: subscription.topic.raw.clone(),
                data: data.clone(),
            }) {
                delivered += 1;
            } else {
                gone.insert(&client.id);
            }
        }
        metrics::counter!("oxbase_realtime_messages_total").increment(delivered);
        metrics::counter!("oxbase_realtime_clients_dropped_total").increment(gone.len() as u64);
        if !gone.is_empty() {
            self.disconnect(gone.into_iter().map(str::to_owned));
        }
    }

    /// The message data of each change of the round `q` may see, by position.
    async fn answer(&self, round: &[Committed], q: Question) -> HashMap<usize, Arc<str>> {
        let s = &q.subscription;
        let req = s.request();
        let mut visible = q.known;
        if !q.asked.is_empty() {
            let records: Vec<&Record> = q.asked.iter().map(|&i| round[i].change.record()).collect();
            let passed = match visibility::verdict(
                self.records.schema(),
                &req,
                &records[0].collection,
                s.kind,
                s.topic.option("filter"),
            ) {
                Ok(verdict) => self.records.passing(&verdict, &records).await,
                Err(e) => Err(e),
            };
            match passed {
                Ok(passed) => visible.extend(
                    q.asked
                        .iter()
                        .zip(passed)
                        .filter(|(_, p)| *p)
                        .map(|(i, _)| *i),
                ),
                Err(e) => {
                    tracing::debug!(error = %e, topic = %s.topic.raw, "realtime check failed")
                }
            }
            visible.sort_unstable();
        }
        if visible.is_empty() {
            return HashMap::new();
        }
        let records = visible
            .iter()
            .map(|&i| round[i].change.record().clone())
            .collect();
        let shown = match self
            .records
            .present(
                &req,
                records,
                s.topic.option("expand"),
                s.topic.option("fields"),
            )
            .await
        {
            Ok(shown) => shown,
            Err(e) => {
                tracing::debug!(error = %e, topic = %s.topic.raw, "realtime record could not be shown");
                return HashMap::new();
            }
        };
        // PB-COMPAT: `onRecordEnrich` applies to what a subscriber is sent, as to an answer.
        let shown = match self.hooks().filter(|h| h.wants_enrich()) {
            Some(hooks) => {
                let collection = round[visible[0]].change.record().collection.clone();
                let auth = req.auth.clone();
                let count = shown.len();
                let enriched =
                    tokio::task::spawn_blocking(move || hooks.enrich(&auth, &collection, shown))
                        .await;
                match enriched {
                    Ok(list) if list.len() == count => list,
                    _ => return HashMap::new(),
                }
            }
            None => shown,
        };
        visible
            .into_iter()
            .zip(shown)
            .map(|(i, record)| {
                (
                    i,
                    Arc::from(
                        json!({"action": action(&round[i].change), "record": record}).to_string(),
                    ),
                )
            })
            .collect()
    }
}

fn action(change: &Change) -> &'static str {
    match change {
        Change::Created(_) => "create",
        Change::Updated(_) => "update",
        Change::Deleted(_) => "delete",
    }
}
