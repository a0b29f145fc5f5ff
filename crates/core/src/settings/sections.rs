//! Typed views of the settings sections the server itself reads, so that no caller spells a
//! JSON path. Values are read as leniently as before: a missing or mistyped one is absent (or
//! its default), never an error; the stored JSON and the API's output keep their shape.

use serde_json::Value as Json;

use super::Settings;

/// `batch`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchSettings {
    pub enabled: bool,
    pub max_requests: Option<i64>,
    /// Seconds.
    pub timeout: Option<u64>,
    /// Bytes.
    pub max_body_size: Option<i64>,
}

/// `trustedProxy`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxy {
    /// The headers that may carry the client's IP, in order of preference.
    pub headers: Vec<String>,
    pub use_leftmost_ip: bool,
}

/// `meta`: the application's name and address, and the sender of its mails.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub app_name: String,
    pub app_url: String,
    pub sender_name: String,
    pub sender_address: String,
}

/// `webhooks`: where record changes are POSTed, and how deliveries are retried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookSettings {
    /// The signing secret (Standard Webhooks: `whsec_` and base64 bytes, or any text).
    pub secret: String,
    /// Attempts per event before it is dead-lettered.
    pub max_attempts: i64,
    /// Milliseconds before the first retry (doubling after each).
    pub backoff_ms: u64,
    /// Milliseconds an attempt may take.
    pub timeout_ms: u64,
    pub endpoints: Vec<WebhookEndpoint>,
}

/// One receiver: the changes of `collection` (a name; may be empty when `system_events` is
/// not) whose action is in `actions` (all when empty), and the changes of definitions or
/// settings `system_events` asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookEndpoint {
    pub url: String,
    pub collection: String,
    pub actions: Vec<String>,
    /// `collections` (definitions created, updated, deleted: filtered by `actions` too) and
    /// `settings` (settings updated); none by default.
    pub system_events: Vec<String>,
    /// Whose view of a record the body shows; `None`: a superuser's.
    pub view_as: Option<ViewAs>,
}

/// `viewAs` of a webhook endpoint or a broker target: the auth record (its collection's name
/// or id, and its id) whose view of a record an event shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewAs {
    pub collection: String,
    pub id: String,
}

impl ViewAs {
    /// `{"collection", "id"}`, when `value` is an object.
    fn from_json(value: &Json) -> Option<ViewAs> {
        let text = |v: &Json| v.as_str().unwrap_or("").to_owned();
        value.is_object().then(|| ViewAs {
            collection: text(&value["collection"]),
            id: text(&value["id"]),
        })
    }
}

/// What `systemEvents` may name: the changes of collection definitions, of the settings.
pub const SYSTEM_EVENTS: [&str; 2] = ["collections", "settings"];

/// Whether a consumer with `system_events` and `actions` wants a change of `kind` (one of
/// [`SYSTEM_EVENTS`]) with `action`.
pub fn wants_system(
    system_events: &[String],
    actions: &[String],
    kind: &str,
    action: &str,
) -> bool {
    system_events.iter().any(|e| e == kind)
        && (kind == "settings" || actions.is_empty() || actions.iter().any(|a| a == action))
}

/// `brokers`: the message brokers record changes are published to (as CloudEvents), and how
/// publishing is retried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerSettings {
    /// The CloudEvents `source` prefix (`{source}/collections/{name}`).
    pub source: String,
    /// Attempts per event before it is dead-lettered.
    pub max_attempts: i64,
    /// Milliseconds before the first retry (doubling after each).
    pub backoff_ms: u64,
    /// Milliseconds an attempt may take (connecting included).
    pub timeout_ms: u64,
    pub targets: Vec<BrokerTarget>,
}

/// One broker target: the changes of `collections` (every non-system collection when empty)
/// whose action is in `actions` (all when empty), published to `url`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerTarget {
    /// Unique among the targets: the queue's ordering is per record and target name.
    pub name: String,
    /// `nats` (JetStream), `rabbitmq` or `redis` (Streams).
    pub kind: String,
    pub url: String,
    pub collections: Vec<String>,
    pub actions: Vec<String>,
    /// NATS: the subject; RabbitMQ: the routing key; Redis: the stream's key. A template over
    /// `{collection}` and `{action}`.
    pub subject: String,
    /// RabbitMQ: the exchange published to (`""`: the default exchange).
    pub exchange: String,
    /// Redis: the stream's approximate maximum length (`MAXLEN ~`).
    pub max_len: u64,
    /// As for webhook endpoints: `collections`, `settings`, or none (the default).
    pub system_events: Vec<String>,
    /// As for webhook endpoints: whose view of a record `data` shows; `None`: a superuser's.
    pub view_as: Option<ViewAs>,
}

/// `mail`: how queued mail (the auth flows') is retried while SMTP fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailSettings {
    /// Attempts per message before it is kept as dead.
    pub max_attempts: i64,
    /// Milliseconds before the first retry (doubling after each).
    pub backoff_ms: u64,
}

/// `logs`: what the request and app logs keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// Days an entry is kept; 0 turns logging off.
    pub max_days: i64,
    /// The lowest level stored (`-4` debug, `0` info, `4` warn, `8` error).
    pub min_level: i64,
    /// Whether request entries keep the client's IPs.
    pub log_ip: bool,
    /// Whether request entries keep the caller's record id.
    pub log_auth_id: bool,
}

impl TrustedProxy {
    pub(super) fn from_json(proxy: &Json) -> TrustedProxy {
        TrustedProxy {
            headers: strings(&proxy["headers"]),
            use_leftmost_ip: proxy["useLeftmostIP"].as_bool().unwrap_or(false),
        }
    }
}

impl LogSettings {
    pub(super) fn from_json(logs: &Json) -> LogSettings {
        LogSettings {
            max_days: logs["maxDays"].as_i64().unwrap_or(0),
            min_level: logs["minLevel"].as_i64().unwrap_or(0),
            log_ip: logs["logIP"].as_bool().unwrap_or(false),
            log_auth_id: logs["logAuthId"].as_bool().unwrap_or(false),
        }
    }
}

/// `backups` (its `s3` part is read by `backups_s3`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupSettings {
    /// The automatic backups' cron expression; empty when off.
    pub cron: String,
    /// How many automatic backups are kept.
    pub cron_max_keep: usize,
}

impl Settings {
    /// `logs`, without copying JSON (read on every request).
    pub fn logs(&self) -> LogSettings {
        *self.logs.read()
    }

    pub fn batch(&self) -> BatchSettings {
        let batch = self.get(&["batch"]);
        BatchSettings {
            enabled: batch["enabled"].as_bool().unwrap_or(false),
            max_requests: batch["maxRequests"].as_i64(),
            timeout: batch["timeout"].as_u64(),
            max_body_size: batch["maxBodySize"].as_i64(),
        }
    }

    /// `trustedProxy` (read on every request: kept typed).
    pub fn trusted_proxy(&self) -> std::sync::Arc<TrustedProxy> {
        self.proxy.read().clone()
    }

    /// `trustedProxy` when it names a header to read the client's IP from.
    pub fn trusted_proxy_headers(&self) -> Option<std::sync::Arc<TrustedProxy>> {
        self.proxy_headers
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| self.trusted_proxy())
    }

    pub fn webhooks(&self) -> WebhookSettings {
        WebhookSettings::from_json(&self.get(&["webhooks"]))
    }

    pub fn brokers(&self) -> BrokerSettings {
        BrokerSettings::from_json(&self.get(&["brokers"]))
    }

    /// `mail` (read at each failed attempt).
    pub fn mail(&self) -> MailSettings {
        let mail = self.get(&["mail"]);
        MailSettings {
            max_attempts: mail["maxAttempts"].as_i64().unwrap_or(10).max(1),
            backoff_ms: mail["backoffMs"].as_u64().unwrap_or(2000),
        }
    }

    pub fn meta(&self) -> Meta {
        let meta = self.get(&["meta"]);
        let text = |key: &str| meta[key].as_str().unwrap_or("").to_owned();
        Meta {
            app_name: text("appName"),
            app_url: text("appURL"),
            sender_name: text("senderName"),
            sender_address: text("senderAddress"),
        }
    }

    /// `smtp`, as the mailer's transport reads it.
    pub fn smtp(&self) -> Json {
        self.get(&["smtp"])
    }

    /// `s3`: the storage of uploaded files, as the file storage reads it.
    pub fn s3(&self) -> Json {
        self.get(&["s3"])
    }

    /// `backups.s3`.
    pub fn backups_s3(&self) -> Json {
        self.get(&["backups", "s3"])
    }

    /// `backups`: the automatic backups' schedule and how many of them are kept.
    pub fn backups(&self) -> BackupSettings {
        let backups = self.get(&["backups"]);
        BackupSettings {
            cron: backups["cron"].as_str().unwrap_or("").to_owned(),
            cron_max_keep: backups["cronMaxKeep"].as_u64().unwrap_or(0) as usize,
        }
    }

    /// `rateLimits`, as the rate limiter reads it.
    pub fn rate_limits(&self) -> Json {
        self.get(&["rateLimits"])
    }

    /// `rateLimits.enabled`, without copying the rules.
    pub fn rate_limits_enabled(&self) -> bool {
        self.get(&["rateLimits", "enabled"]) == Json::Bool(true)
    }
}

/// The strings of a JSON array (other values are skipped).
fn strings(value: &Json) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_owned)
        .collect()
}

impl WebhookSettings {
    pub fn from_json(w: &Json) -> WebhookSettings {
        let text = |v: &Json| v.as_str().unwrap_or("").to_owned();
        let endpoints = w["endpoints"].as_array().map_or(Vec::new(), |all| {
            all.iter()
                .map(|e| WebhookEndpoint {
                    url: text(&e["url"]),
                    collection: text(&e["collection"]),
                    actions: e["actions"]
                        .as_array()
                        .map_or(Vec::new(), |a| a.iter().map(text).collect()),
                    system_events: strings(&e["systemEvents"]),
                    view_as: ViewAs::from_json(&e["viewAs"]),
                })
                .collect()
        });
        WebhookSettings {
            secret: text(&w["secret"]),
            max_attempts: w["maxAttempts"].as_i64().unwrap_or(8).max(1),
            backoff_ms: w["backoffMs"].as_u64().unwrap_or(1000),
            timeout_ms: w["timeoutMs"].as_u64().unwrap_or(10_000).max(1),
            endpoints,
        }
    }
}

impl BrokerSettings {
    pub fn from_json(b: &Json) -> BrokerSettings {
        let text = |v: &Json| v.as_str().unwrap_or("").to_owned();
        let targets = b["targets"].as_array().map_or(Vec::new(), |all| {
            all.iter()
                .map(|t| {
                    let kind = text(&t["type"]);
                    let subject = match t["subject"].as_str() {
                        Some(s) if !s.is_empty() => s.to_owned(),
                        _ => BrokerTarget::default_subject(&kind).to_owned(),
                    };
                    BrokerTarget {
                        name: text(&t["name"]),
                        url: text(&t["url"]),
                        collections: strings(&t["collections"]),
                        actions: strings(&t["actions"]),
                        subject,
                        exchange: text(&t["exchange"]),
                        max_len: t["maxLen"].as_u64().unwrap_or(100_000),
                        system_events: strings(&t["systemEvents"]),
                        view_as: ViewAs::from_json(&t["viewAs"]),
                        kind,
                    }
                })
                .collect()
        });
        BrokerSettings {
            source: match b["source"].as_str() {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => "oxbase".to_owned(),
            },
            max_attempts: b["maxAttempts"].as_i64().unwrap_or(8).max(1),
            backoff_ms: b["backoffMs"].as_u64().unwrap_or(1000),
            timeout_ms: b["timeoutMs"].as_u64().unwrap_or(10_000).max(1),
            targets,
        }
    }
}

impl BrokerTarget {
    /// The subject (routing key, stream key) when none is given.
    pub fn default_subject(kind: &str) -> &'static str {
        match kind {
            "redis" => "oxbase:{collection}",
            "rabbitmq" => "{collection}.{action}",
            _ => "oxbase.{collection}.{action}",
        }
    }

    /// Whether the changes of `collection` with `action` go to this target.
    pub fn wants(&self, collection: &str, action: &str) -> bool {
        let collection_ok = if self.collections.is_empty() {
            !collection.starts_with('_')
        } else {
            self.collections.iter().any(|c| c == collection)
        };
        collection_ok && (self.actions.is_empty() || self.actions.iter().any(|a| a == action))
    }

    /// Whether this target wants a change of `kind` (`collections`, `settings`) with `action`.
    pub fn wants_system(&self, kind: &str, action: &str) -> bool {
        wants_system(&self.system_events, &self.actions, kind, action)
    }
}

impl WebhookEndpoint {
    /// Whether this endpoint wants a change of `kind` (`collections`, `settings`) with
    /// `action`.
    pub fn wants_system(&self, kind: &str, action: &str) -> bool {
        wants_system(&self.system_events, &self.actions, kind, action)
    }
}
