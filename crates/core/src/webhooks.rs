//! Webhooks (`webhooks` settings, docs/events.md): each committed record change of a
//! collection an endpoint names is written, in the change's own transaction, as a `webhook`
//! job of the queue (`jobs`: the outbox), then POSTed by the queue's worker, signed the
//! Standard Webhooks way, retried with backoff, and dead-lettered after `maxAttempts`.
//! Superusers list, inspect and replay the dead letters (`/api/webhooks/dead-letters`).
//! Every attempt is an app entry of the logs. What webhooks and brokers share (the hooks in
//! the change's transaction, `viewAs`) is in `outbox`.
//!
//! No endpoint configured: the transaction hook returns at its first look (a read lock and an
//! empty list), and no row is written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use parking_lot::RwLock;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use sha2::Sha256;

use crate::dates::rfc3339_micros;
use crate::error::{FieldErrors, Result, field_error_json};
use crate::events::{Change, Pipeline, SystemChange};
use crate::jobs::{DeadLetters, JobRow, Jobs, NewJob, Retry};
use crate::logs::{Logs, level};
use crate::outbox::{Outbox, RecordView, check_view_as};
use crate::schema::Schema;
use crate::settings::{Settings, WebhookSettings};
use crate::store::Conn;

/// The queue's kind for webhook deliveries.
pub const KIND: &str = "webhook";

/// The webhooks of one app; cloning it is one reference count.
#[derive(Clone)]
pub struct Webhooks {
    /// `/api/webhooks/dead-letters`: deliveries out of attempts.
    dead: DeadLetters<DeadLetter>,
    /// Held for the app's life: the hooks and the worker hold it weakly.
    _inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    /// For the endpoints that show a record as an auth record views it (`viewAs`).
    schema: Schema,
    jobs: Jobs,
    /// The settings' `webhooks`, typed once per change (the write path reads them).
    current: RwLock<Arc<WebhookSettings>>,
}

impl Webhooks {
    /// Hooks the outbox into every write transaction of `events` (and of `schema` and the
    /// settings, for the endpoints that ask for those changes) and delivers the queue's
    /// `webhook` jobs.
    pub fn start(
        settings: Settings,
        jobs: Jobs,
        events: &Pipeline,
        schema: &Schema,
        logs: Logs,
    ) -> Webhooks {
        let inner = Arc::new(Inner {
            current: RwLock::new(Arc::new(settings.webhooks())),
            settings: settings.clone(),
            schema: schema.clone(),
            jobs: jobs.clone(),
        });
        let weak = Arc::downgrade(&inner);
        settings.on_change(Arc::new(move || {
            if let Some(inner) = weak.upgrade() {
                *inner.current.write() = Arc::new(inner.settings.webhooks());
            }
        }));
        let known = schema.clone();
        settings.add_check(Arc::new(move |settings, errors| {
            check(settings, errors, &known)
        }));
        crate::outbox::attach(&inner, events, schema, &settings);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let weak = Arc::downgrade(&inner);
        jobs.handle(KIND, crate::outbox::policy(&inner), move |job| {
            let settings = weak.upgrade().map(|i| i.current.read().clone());
            let (client, logs) = (client.clone(), logs.clone());
            async move {
                let Some(settings) = settings else {
                    return Err("the app is closing".to_owned());
                };
                deliver(&client, &settings, &logs, &job).await
            }
        });
        Webhooks {
            dead: DeadLetters::new(jobs, KIND),
            _inner: inner,
        }
    }

    /// `/api/webhooks/dead-letters` (superusers only): list, view, replay (delivered again,
    /// with the same event id and body and fresh attempts, in its record's order).
    pub fn dead_letters(&self) -> &DeadLetters<DeadLetter> {
        &self.dead
    }
}

/// A dead-lettered delivery as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: String,
    pub url: String,
    pub attempts: i64,
    pub last_error: String,
    /// When the change committed (RFC 3339).
    pub created: String,
    /// The body each attempt POSTed.
    pub payload: Json,
}

impl From<JobRow> for DeadLetter {
    fn from(job: JobRow) -> DeadLetter {
        DeadLetter {
            payload: serde_json::from_str(&job.payload).unwrap_or(Json::Null),
            created: rfc3339_micros(job.created),
            id: job.id,
            url: job.target,
            attempts: job.attempts,
            last_error: job.last_error,
        }
    }
}

/// The in-transaction side: one job per endpoint the change concerns.
impl Outbox for Inner {
    fn record(&self, conn: &mut dyn Conn, change: &Change) -> Result<()> {
        let settings = self.current.read().clone();
        if settings.endpoints.is_empty() {
            return Ok(());
        }
        let record = change.record();
        let action = change.action().as_str();
        let mut view = RecordView::new(record, &self.schema);
        let mut written = None;
        for endpoint in settings.endpoints.iter().filter(|e| {
            e.collection == record.collection.name
                && (e.actions.is_empty() || e.actions.iter().any(|a| a == action))
        }) {
            let (shown, visible) = view.as_seen_by(conn, endpoint.view_as.as_ref())?;
            let timestamp =
                written.get_or_insert_with(|| rfc3339_micros(crate::dates::unix_micros()));
            let key = format!("{}/{}", record.collection.id, record.id());
            let mut body = json!({
                "type": format!("record.{action}"),
                "timestamp": timestamp,
                "action": action,
                "collectionId": record.collection.id,
                "collectionName": record.collection.name,
                "record": shown,
            });
            if let Some(visible) = visible {
                body["visible"] = json!(visible);
            }
            push(&self.jobs, conn, &endpoint.url, key, body)?;
        }
        Ok(())
    }

    /// A change of a definition or of the settings: one job per endpoint asking for it (as the
    /// settings will be once it commits, when they are what changed).
    fn system(
        &self,
        conn: &mut dyn Conn,
        next: Option<&Json>,
        change: &SystemChange,
    ) -> Result<()> {
        let settings = match next {
            Some(next) => Arc::new(WebhookSettings::from_json(&next["webhooks"])),
            None => self.current.read().clone(),
        };
        let (kind, action) = (change.kind(), change.action());
        let timestamp = rfc3339_micros(crate::dates::unix_micros());
        for endpoint in settings
            .endpoints
            .iter()
            .filter(|e| e.wants_system(kind, action))
        {
            let body = match change {
                SystemChange::Collection {
                    id,
                    name,
                    collection,
                    ..
                } => json!({
                    "type": format!("collection.{action}"),
                    "timestamp": timestamp,
                    "action": action,
                    "collectionId": id,
                    "collectionName": name,
                    "collection": collection,
                }),
                SystemChange::Settings { settings } => json!({
                    "type": "settings.update",
                    "timestamp": timestamp,
                    "action": action,
                    "settings": settings,
                }),
            };
            push(&self.jobs, conn, &endpoint.url, change.key(), body)?;
        }
        Ok(())
    }

    fn configured(&self) -> bool {
        !self.current.read().endpoints.is_empty()
    }

    fn retry(&self) -> Retry {
        let w = self.current.read();
        Retry {
            max_attempts: w.max_attempts.max(1),
            base: Duration::from_millis(w.backoff_ms),
        }
    }

    fn jobs(&self) -> &Jobs {
        &self.jobs
    }
}

/// Adds the delivery of `body` (given its event id here, first) to `url`, in `key`'s order.
fn push(jobs: &Jobs, conn: &mut dyn Conn, url: &str, key: String, body: Json) -> Result<()> {
    let id = format!("evt_{}", crate::ids::random_string(24));
    let mut payload = Map::new();
    payload.insert("id".into(), json!(id));
    if let Json::Object(body) = body {
        payload.extend(body);
    }
    jobs.push(
        conn,
        NewJob {
            id,
            kind: KIND.to_owned(),
            target: url.to_owned(),
            key,
            payload: Json::Object(payload).to_string(),
        },
    )
}

/// One attempt: the POST, its signature, and its log entry.
async fn deliver(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    logs: &Logs,
    job: &JobRow,
) -> std::result::Result<(), String> {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = sign(&settings.secret, &job.id, &timestamp, &job.payload);
    let started = Instant::now();
    let sent = client
        .post(&job.target)
        .timeout(Duration::from_millis(settings.timeout_ms))
        .header("content-type", "application/json")
        .header("user-agent", "oxbase-webhooks")
        .header("webhook-id", &job.id)
        .header("webhook-timestamp", &timestamp)
        .header("webhook-signature", signature)
        .body(job.payload.clone())
        .send()
        .await;
    let outcome = match &sent {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!(
            "the receiver answered {}",
            response.status().as_u16()
        )),
        Err(e) => Err(format!("the request failed: {e}")),
    };
    let mut attrs = Map::new();
    attrs.insert("type".into(), json!("webhook"));
    attrs.insert("eventId".into(), json!(job.id));
    attrs.insert("url".into(), json!(job.target));
    attrs.insert("attempt".into(), json!(job.attempts + 1));
    attrs.insert(
        "execTime".into(),
        json!(started.elapsed().as_secs_f64() * 1000.0),
    );
    if let Ok(response) = &sent {
        attrs.insert("status".into(), json!(response.status().as_u16()));
    }
    let (lvl, message) = match &outcome {
        Ok(()) => (level::INFO, "Webhook delivered"),
        Err(e) => {
            attrs.insert("error".into(), json!(e));
            (level::WARN, "Webhook delivery failed")
        }
    };
    logs.app(lvl, message.to_owned(), attrs);
    outcome
}

/// Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed by the
/// secret's bytes (after `whsec_`, base64-decoded) or, for any other secret, its text.
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b64| engine.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", engine.encode(mac.finalize().into_bytes()))
}

/// The settings' own validation of `webhooks` (`schema`: the collections `viewAs` may name).
fn check(settings: &Json, errors: &mut FieldErrors, schema: &Schema) {
    let w = WebhookSettings::from_json(&settings["webhooks"]);
    for (i, e) in w.endpoints.iter().enumerate() {
        if !(e.url.starts_with("http://") || e.url.starts_with("https://")) {
            errors.insert(
                format!("webhooks.endpoints.{i}.url"),
                field_error_json("validation_is_url", "Must be a valid url."),
            );
        }
        if e.collection.is_empty() && e.system_events.is_empty() {
            errors.insert(
                format!("webhooks.endpoints.{i}.collection"),
                field_error_json("validation_required", "Cannot be blank."),
            );
        }
        if let Some(a) = e
            .actions
            .iter()
            .position(|a| !matches!(a.as_str(), "create" | "update" | "delete"))
        {
            errors.insert(
                format!("webhooks.endpoints.{i}.actions.{a}"),
                field_error_json("validation_in_invalid", "Must be a valid value."),
            );
        }
    }
    for (i, e) in w.endpoints.iter().enumerate() {
        if let Some(view_as) = &e.view_as {
            check_view_as(view_as, &format!("webhooks.endpoints.{i}"), schema, errors);
        }
        crate::settings::check_system_events(
            &format!("webhooks.endpoints.{i}"),
            &e.system_events,
            errors,
        );
    }
    if !w.endpoints.is_empty() && w.secret.is_empty() {
        errors.insert(
            "webhooks.secret".into(),
            field_error_json("validation_required", "Cannot be blank."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let timestamp = "1614265330";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, timestamp, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
