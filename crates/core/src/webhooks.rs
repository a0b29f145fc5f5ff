//! Webhooks (`webhooks` settings, docs/events.md): each committed record change of a
//! collection an endpoint names is written, in the change's own transaction, as a `webhook`
//! job of the queue (`jobs`: the outbox), then POSTed by the queue's worker, signed the
//! Standard Webhooks way, retried with backoff, and dead-lettered after `maxAttempts`.
//! Superusers list, inspect and replay the dead letters (`/api/webhooks/dead-letters`).
//! Every attempt is an app entry of the logs.
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

use crate::error::{FieldErrors, Result, field_error_json};
use crate::events::{
    Change, Pipeline, SystemChange, TransactionHook, after_system_commit, on_system_change,
};
use crate::identity::Auth;
use crate::jobs::{JobRow, Jobs, NewJob, Retry};
use crate::logs::{Logs, level};
use crate::rules::superusers_only;
use crate::schema::Schema;
use crate::settings::{Settings, WebhookSettings};
use crate::store::Conn;

/// The queue's kind for webhook deliveries.
pub const KIND: &str = "webhook";
/// Dead letters listed at most.
const LIST_LIMIT: i64 = 500;

/// The webhooks of one app; cloning it is one reference count.
#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
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
        events.on_transaction(Arc::new(Outbox(Arc::downgrade(&inner))));
        let outbox = Outbox(Arc::downgrade(&inner));
        on_system_change(
            schema,
            &settings,
            Arc::new(move |conn, next, change| outbox.system(conn, next, change)),
        );
        // The worker may have looked before the commit (PostgreSQL): it looks again now.
        let committed = Arc::downgrade(&inner);
        events.on_local_change(Arc::new(move |_| {
            if let Some(inner) = committed.upgrade()
                && !inner.current.read().endpoints.is_empty()
            {
                inner.jobs.wake();
            }
        }));
        let committed = Arc::downgrade(&inner);
        let wake = Arc::new(move || {
            if let Some(inner) = committed.upgrade() {
                inner.jobs.wake();
            }
        });
        after_system_commit(schema, &settings, wake);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let weak = Arc::downgrade(&inner);
        let policy_of = weak.clone();
        jobs.handle(
            KIND,
            Arc::new(move || {
                let w = policy_of
                    .upgrade()
                    .map(|i| i.current.read().clone())
                    .unwrap_or_default();
                Retry {
                    max_attempts: w.max_attempts.max(1),
                    base: Duration::from_millis(w.backoff_ms),
                }
            }),
            move |job| {
                let settings = weak.upgrade().map(|i| i.current.read().clone());
                let (client, logs) = (client.clone(), logs.clone());
                async move {
                    let Some(settings) = settings else {
                        return Err("the app is closing".to_owned());
                    };
                    deliver(&client, &settings, &logs, &job).await
                }
            },
        );
        Webhooks { inner }
    }

    /// `GET /api/webhooks/dead-letters` (superusers only): deliveries out of attempts.
    pub async fn dead_letters(&self, caller: &Auth) -> Result<Vec<DeadLetter>> {
        superusers_only(caller)?;
        let rows = self.inner.jobs.dead(KIND, LIST_LIMIT).await?;
        Ok(rows.into_iter().map(DeadLetter::from).collect())
    }

    /// `GET /api/webhooks/dead-letters/{id}` (superusers only).
    pub async fn dead_letter(&self, caller: &Auth, id: &str) -> Result<DeadLetter> {
        superusers_only(caller)?;
        self.inner
            .jobs
            .find_dead(KIND, id)
            .await
            .map(DeadLetter::from)
    }

    /// `POST /api/webhooks/dead-letters/{id}/replay` (superusers only): delivered again, with
    /// the same event id and body and fresh attempts, in its record's order.
    pub async fn replay(&self, caller: &Auth, id: &str) -> Result<()> {
        superusers_only(caller)?;
        self.inner.jobs.replay_dead(KIND, id).await
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
            created: micros_rfc3339(job.created),
            id: job.id,
            url: job.target,
            attempts: job.attempts,
            last_error: job.last_error,
        }
    }
}

fn micros_rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The in-transaction side: one job per endpoint the change concerns. Holds the webhooks
/// weakly (the pipeline outlives nothing, but must not keep a closed app's parts).
struct Outbox(std::sync::Weak<Inner>);

impl TransactionHook for Outbox {
    fn after_write(&self, conn: &mut dyn Conn, change: &Change) -> Result<()> {
        let Some(inner) = self.0.upgrade() else {
            return Ok(());
        };
        let settings = inner.current.read().clone();
        if settings.endpoints.is_empty() {
            return Ok(());
        }
        let record = change.record();
        let action = change.action().as_str();
        let mut body = None;
        for endpoint in settings.endpoints.iter().filter(|e| {
            e.collection == record.collection.name
                && (e.actions.is_empty() || e.actions.iter().any(|a| a == action))
        }) {
            let (shown, at) = body.get_or_insert_with(|| {
                (
                    crate::records::output::as_superuser_sees(record.clone()),
                    crate::dates::unix_micros(),
                )
            });
            let key = format!("{}/{}", record.collection.id, record.id());
            let mut body = json!({
                "type": format!("record.{action}"),
                "timestamp": micros_rfc3339(*at),
                "action": action,
                "collectionId": record.collection.id,
                "collectionName": record.collection.name,
                "record": shown,
            });
            if let Some((collection, id)) = &endpoint.view_as {
                // As that auth record views it; when its viewRule refuses it (or the auth
                // record is gone), only what identifies the change, and `visible: false`.
                let viewed = crate::records::visibility::viewed_by(
                    conn,
                    &inner.schema,
                    (collection, id),
                    record,
                )?;
                body["visible"] = json!(viewed.is_some());
                body["record"] = viewed.unwrap_or_else(|| {
                    json!({"collectionId": record.collection.id,
                           "collectionName": record.collection.name, "id": record.id()})
                });
            }
            push(&inner.jobs, conn, &endpoint.url, key, body)?;
        }
        Ok(())
    }
}

impl Outbox {
    /// A change of a definition or of the settings: one job per endpoint asking for it (as the
    /// settings will be once it commits, when they are what changed).
    fn system(
        &self,
        conn: &mut dyn Conn,
        next: Option<&Json>,
        change: &SystemChange,
    ) -> Result<()> {
        let Some(inner) = self.0.upgrade() else {
            return Ok(());
        };
        let settings = match next {
            Some(next) => Arc::new(WebhookSettings::from_json(&next["webhooks"])),
            None => inner.current.read().clone(),
        };
        let (kind, action) = (change.kind(), change.action());
        let timestamp = micros_rfc3339(crate::dates::unix_micros());
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
            push(&inner.jobs, conn, &endpoint.url, change.key(), body)?;
        }
        Ok(())
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
        if let Some((collection, id)) = &e.view_as {
            if !schema.get(collection).is_some_and(|c| c.is_auth()) {
                errors.insert(
                    format!("webhooks.endpoints.{i}.viewAs.collection"),
                    field_error_json(
                        "validation_invalid_auth_collection",
                        "Must be an auth collection.",
                    ),
                );
            }
            if id.is_empty() {
                errors.insert(
                    format!("webhooks.endpoints.{i}.viewAs.id"),
                    field_error_json("validation_required", "Cannot be blank."),
                );
            }
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
