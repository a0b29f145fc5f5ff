//! Brokers (`brokers` settings, docs/events.md): each committed record change that a broker
//! target wants is written, in the change's own transaction, as a `broker` job of the queue
//! (`jobs`: the outbox shared with webhooks), then published by the queue's worker as a
//! CloudEvents 1.0 JSON message (structured mode) to NATS JetStream, RabbitMQ or a Redis
//! stream. A publish counts only once the broker confirmed it (a JetStream PubAck, a RabbitMQ
//! publisher confirm for a routed message, the entry id of `XADD`); otherwise it is retried
//! with the queue's backoff and dead-lettered after `maxAttempts`. Superusers list, inspect
//! and replay the dead letters (`/api/brokers/dead-letters`). Every attempt is an app entry of
//! the logs. A target may show records as a chosen auth record views them (`viewAs`, with
//! webhooks in `outbox`).
//!
//! No target configured: the transaction hook returns at its first look, no row is written.

mod clients;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::dates::rfc3339_micros;
use crate::error::{FieldErrors, Result, field_error_json};
use crate::events::{Change, Pipeline, SystemChange};
use crate::jobs::{DeadLetters, JobRow, Jobs, NewJob, Retry};
use crate::logs::{Logs, level};
use crate::outbox::{Outbox, RecordView, check_view_as};
use crate::schema::Schema;
use crate::settings::{BrokerSettings, Settings};
use crate::store::Conn;

use clients::Clients;

/// The queue's kind for broker publishing.
pub const KIND: &str = "broker";
/// The broker kinds a target may name.
const KINDS: [&str; 3] = ["nats", "rabbitmq", "redis"];

/// The brokers of one app; cloning it is one reference count.
#[derive(Clone)]
pub struct Brokers {
    /// `/api/brokers/dead-letters`: events out of attempts.
    dead: DeadLetters<DeadLetter>,
    /// Held for the app's life: the hooks and the worker hold it weakly.
    _inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    /// For the targets that show a record as an auth record views it (`viewAs`).
    schema: Schema,
    jobs: Jobs,
    /// The settings' `brokers`, typed once per change (the write path reads them).
    current: RwLock<Arc<BrokerSettings>>,
    /// One connection per target, opened at its first publish and again after a failure.
    clients: Clients,
}

impl Brokers {
    /// Hooks the outbox into every write transaction of `events` (and of `schema` and the
    /// settings, for the targets that ask for those changes) and publishes the queue's
    /// `broker` jobs.
    pub fn start(
        settings: Settings,
        jobs: Jobs,
        events: &Pipeline,
        schema: &Schema,
        logs: Logs,
    ) -> Brokers {
        let inner = Arc::new(Inner {
            current: RwLock::new(Arc::new(settings.brokers())),
            settings: settings.clone(),
            schema: schema.clone(),
            jobs: jobs.clone(),
            clients: Clients::default(),
        });
        let weak = Arc::downgrade(&inner);
        settings.on_change(Arc::new(move || {
            if let Some(inner) = weak.upgrade() {
                let next = Arc::new(inner.settings.brokers());
                inner
                    .clients
                    .keep_only(next.targets.iter().map(|t| t.name.as_str()));
                *inner.current.write() = next;
            }
        }));
        let known = schema.clone();
        settings.add_check(Arc::new(move |settings, errors| {
            check(settings, errors, &known)
        }));
        crate::outbox::attach(&inner, events, schema, &settings);
        let weak = Arc::downgrade(&inner);
        jobs.handle(KIND, crate::outbox::policy(&inner), move |job| {
            let inner = weak.upgrade();
            let logs = logs.clone();
            async move {
                let Some(inner) = inner else {
                    return Err("the app is closing".to_owned());
                };
                publish(&inner, &logs, &job).await
            }
        });
        Brokers {
            dead: DeadLetters::new(jobs, KIND),
            _inner: inner,
        }
    }

    /// `/api/brokers/dead-letters` (superusers only): list, view, replay (published again,
    /// with the same event id and body and fresh attempts, in its record's order).
    pub fn dead_letters(&self) -> &DeadLetters<DeadLetter> {
        &self.dead
    }
}

/// A dead-lettered event as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: String,
    /// The target's name.
    pub target: String,
    pub attempts: i64,
    pub last_error: String,
    /// When the change committed (RFC 3339).
    pub created: String,
    /// The CloudEvent each attempt published.
    pub payload: Json,
}

impl From<JobRow> for DeadLetter {
    fn from(job: JobRow) -> DeadLetter {
        DeadLetter {
            payload: serde_json::from_str(&job.payload).unwrap_or(Json::Null),
            created: rfc3339_micros(job.created),
            id: job.id,
            target: job.target,
            attempts: job.attempts,
            last_error: job.last_error,
        }
    }
}

/// The CloudEvents `type` of an action on a record (`oxbase.record.created`, `...updated`,
/// `...deleted`), a collection (`oxbase.collection.…`) or the settings
/// (`oxbase.settings.updated`).
fn event_type(subject: &str, action: &str) -> String {
    format!("oxbase.{subject}.{action}d")
}

/// The pseudo collection names a subject template's `{collection}` reads for the changes of
/// definitions and of the settings (no collection may take them: `_collections` is a table,
/// and names starting with `_` are the system's).
const DEFINITIONS: &str = "_collections";
const SETTINGS: &str = "_settings";

/// The in-transaction side: one job per target the change concerns, carrying the CloudEvent
/// as it will be published.
impl Outbox for Inner {
    fn record(&self, conn: &mut dyn Conn, change: &Change) -> Result<()> {
        let settings = self.current.read().clone();
        if settings.targets.is_empty() {
            return Ok(());
        }
        let record = change.record();
        let action = change.action().as_str();
        let mut view = RecordView::new(record, &self.schema);
        let mut written = None;
        for target in settings
            .targets
            .iter()
            .filter(|t| t.wants(&record.collection.name, action))
        {
            let (data, visible) = view.as_seen_by(conn, target.view_as.as_ref())?;
            let time = written.get_or_insert_with(|| rfc3339_micros(crate::dates::unix_micros()));
            let event = Event {
                source: format!("{}/collections/{}", settings.source, record.collection.name),
                kind: event_type("record", action),
                subject: Some(record.id()),
                time,
                data: &data,
                visible,
            };
            let key = format!("{}/{}", record.collection.id, record.id());
            event.push(&self.jobs, conn, &target.name, key)?;
        }
        Ok(())
    }

    /// A change of a definition or of the settings: one job per target asking for it (as the
    /// settings will be once it commits, when they are what changed).
    fn system(
        &self,
        conn: &mut dyn Conn,
        next: Option<&Json>,
        change: &SystemChange,
    ) -> Result<()> {
        let settings = match next {
            Some(next) => Arc::new(BrokerSettings::from_json(&next["brokers"])),
            None => self.current.read().clone(),
        };
        let (kind, action) = (change.kind(), change.action());
        let time = rfc3339_micros(crate::dates::unix_micros());
        for target in settings
            .targets
            .iter()
            .filter(|t| t.wants_system(kind, action))
        {
            let event = match change {
                SystemChange::Collection {
                    name, collection, ..
                } => Event {
                    source: format!("{}/collections", settings.source),
                    kind: event_type("collection", action),
                    subject: Some(name),
                    time: &time,
                    data: collection,
                    visible: None,
                },
                SystemChange::Settings { settings: shown } => Event {
                    source: format!("{}/settings", settings.source),
                    kind: event_type("settings", action),
                    subject: None,
                    time: &time,
                    data: shown,
                    visible: None,
                },
            };
            event.push(&self.jobs, conn, &target.name, change.key())?;
        }
        Ok(())
    }

    fn configured(&self) -> bool {
        !self.current.read().targets.is_empty()
    }

    fn retry(&self) -> Retry {
        let b = self.current.read();
        Retry {
            max_attempts: b.max_attempts.max(1),
            base: Duration::from_millis(b.backoff_ms),
        }
    }

    fn jobs(&self) -> &Jobs {
        &self.jobs
    }
}

/// A CloudEvent about to be queued for a target.
struct Event<'a> {
    source: String,
    kind: String,
    subject: Option<&'a str>,
    time: &'a str,
    data: &'a Json,
    /// For a target with `viewAs`: whether its auth record may view the record (the
    /// CloudEvents extension attribute `visible`); `None`: not shown.
    visible: Option<bool>,
}

impl Event<'_> {
    /// Queues it for `target` (given its event id here), in `key`'s order.
    fn push(self, jobs: &Jobs, conn: &mut dyn Conn, target: &str, key: String) -> Result<()> {
        let id = format!("evt_{}", crate::ids::random_string(24));
        let mut event = json!({
            "specversion": "1.0",
            "id": id,
            "source": self.source,
            "type": self.kind,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            "data": self.data,
        });
        if let Some(e) = event.as_object_mut() {
            if self.subject.is_none() {
                e.remove("subject");
            }
            if let Some(visible) = self.visible {
                e.insert("visible".into(), json!(visible));
            }
        }
        jobs.push(
            conn,
            NewJob {
                id,
                kind: KIND.to_owned(),
                target: target.to_owned(),
                key,
                payload: event.to_string(),
            },
        )
    }
}

/// What a target's subject template names, read back from the stored event.
struct Route {
    collection: String,
    action: &'static str,
}

impl Route {
    fn of(event: &Json) -> Route {
        let kind = event["type"].as_str().unwrap_or("");
        let (subject, action) = ["record", "collection", "settings"]
            .into_iter()
            .flat_map(|s| ["create", "update", "delete"].map(|a| (s, a)))
            .find(|(s, a)| kind == event_type(s, a))
            .unwrap_or(("", ""));
        let collection = match subject {
            "collection" => DEFINITIONS,
            "settings" => SETTINGS,
            _ => event["data"]["collectionName"].as_str().unwrap_or(""),
        };
        Route {
            collection: collection.to_owned(),
            action,
        }
    }

    fn subject(&self, template: &str) -> String {
        template
            .replace("{collection}", &self.collection)
            .replace("{action}", self.action)
    }
}

/// One attempt: the publish (within `timeoutMs`, connecting included) and its log entry.
async fn publish(inner: &Inner, logs: &Logs, job: &JobRow) -> std::result::Result<(), String> {
    let settings = inner.current.read().clone();
    let started = Instant::now();
    let target = settings.targets.iter().find(|t| t.name == job.target);
    let event: Json = serde_json::from_str(&job.payload).unwrap_or(Json::Null);
    let subject = target.map(|t| Route::of(&event).subject(&t.subject));
    let outcome = match (target, &subject) {
        (Some(target), Some(subject)) => {
            let message = clients::Message {
                id: &job.id,
                kind: event["type"].as_str().unwrap_or(""),
                subject,
                body: &job.payload,
            };
            let attempt = inner.clients.publish(target, &message);
            match tokio::time::timeout(Duration::from_millis(settings.timeout_ms), attempt).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    inner.clients.forget(&target.name);
                    Err(format!("no confirmation within {} ms", settings.timeout_ms))
                }
            }
        }
        _ => Err(format!("no broker target named {:?}", job.target)),
    };
    let mut attrs = Map::new();
    attrs.insert("type".into(), json!("broker"));
    attrs.insert("eventId".into(), json!(job.id));
    attrs.insert("target".into(), json!(job.target));
    if let Some(target) = target {
        attrs.insert("broker".into(), json!(target.kind));
    }
    attrs.insert("subject".into(), json!(subject.unwrap_or_default()));
    attrs.insert("attempt".into(), json!(job.attempts + 1));
    attrs.insert(
        "execTime".into(),
        json!(started.elapsed().as_secs_f64() * 1000.0),
    );
    let (lvl, message) = match &outcome {
        Ok(()) => (level::INFO, "Broker event published"),
        Err(e) => {
            attrs.insert("error".into(), json!(e));
            (level::WARN, "Broker publish failed")
        }
    };
    logs.app(lvl, message.to_owned(), attrs);
    outcome
}

/// The settings' own validation of `brokers` (`schema`: the collections `viewAs` may name).
fn check(settings: &Json, errors: &mut FieldErrors, schema: &Schema) {
    let b = BrokerSettings::from_json(&settings["brokers"]);
    let mut names = std::collections::HashSet::new();
    for (i, t) in b.targets.iter().enumerate() {
        let at = |field: &str| format!("brokers.targets.{i}.{field}");
        let valid_name = !t.name.is_empty()
            && t.name.len() <= 100
            && t.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid_name {
            errors.insert(
                at("name"),
                field_error_json("validation_invalid_name", "Invalid name."),
            );
        } else if !names.insert(t.name.as_str()) {
            errors.insert(
                at("name"),
                field_error_json("validation_not_unique", "Value must be unique."),
            );
        }
        if !KINDS.contains(&t.kind.as_str()) {
            errors.insert(
                at("type"),
                field_error_json("validation_in_invalid", "Must be a valid value."),
            );
        } else if !clients::url_fits(&t.kind, &t.url) {
            errors.insert(
                at("url"),
                field_error_json("validation_is_url", "Must be a valid url."),
            );
        }
        crate::settings::check_system_events(
            &format!("brokers.targets.{i}"),
            &t.system_events,
            errors,
        );
        if let Some(view_as) = &t.view_as {
            check_view_as(view_as, &format!("brokers.targets.{i}"), schema, errors);
        }
        if let Some(a) = t
            .actions
            .iter()
            .position(|a| !matches!(a.as_str(), "create" | "update" | "delete"))
        {
            errors.insert(
                at(&format!("actions.{a}")),
                field_error_json("validation_in_invalid", "Must be a valid value."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::BrokerTarget;

    #[test]
    fn a_subject_template_names_the_collection_and_the_action() {
        let event = json!({"type": "oxbase.record.updated", "data": {"collectionName": "posts"}});
        let route = Route::of(&event);
        assert_eq!(
            route.subject("oxbase.{collection}.{action}"),
            "oxbase.posts.update"
        );
        assert_eq!(route.subject("stream:{collection}"), "stream:posts");
        let definition = json!({"type": "oxbase.collection.deleted", "data": {"name": "posts"}});
        assert_eq!(
            Route::of(&definition).subject("oxbase.{collection}.{action}"),
            "oxbase._collections.delete"
        );
        let settings = json!({"type": "oxbase.settings.updated", "data": {}});
        assert_eq!(
            Route::of(&settings).subject("{collection}.{action}"),
            "_settings.update"
        );
    }

    #[test]
    fn a_target_wants_its_collections_or_every_non_system_one() {
        let target = BrokerTarget {
            collections: vec![],
            actions: vec!["create".into()],
            ..BrokerTarget::default()
        };
        assert!(target.wants("posts", "create"));
        assert!(!target.wants("posts", "delete"));
        assert!(!target.wants("_superusers", "create"));
        let named = BrokerTarget {
            collections: vec!["_superusers".into()],
            ..BrokerTarget::default()
        };
        assert!(named.wants("_superusers", "delete"));
        assert!(!named.wants("posts", "delete"));
    }
}
