//! Application settings (`/api/settings`), persisted in `_params` and cached in memory.
//! Secrets (SMTP password, S3 secrets) are stored but never sent back; passwords in broker
//! URLs are sent back masked (`credentials`).

use std::sync::Arc;

use parking_lot::RwLock;

use serde_json::{Map, Value as Json, json};

use crate::error::{Error, FieldErrors, Result, field_error_json};
use crate::store::Db;
use crate::store::tables;

mod credentials;
mod rate_limits;
mod sections;

pub use sections::{
    BackupSettings, BatchSettings, BrokerSettings, BrokerTarget, LogSettings, MailSettings, Meta,
    SYSTEM_EVENTS, TrustedProxy, ViewAs, WebhookEndpoint, WebhookSettings,
};

/// Paths of secret values: accepted on write, omitted on read.
const SECRETS: [&[&str]; 4] = [
    &["smtp", "password"],
    &["webhooks", "secret"],
    &["s3", "secret"],
    &["backups", "s3", "secret"],
];
const PARAMS_ID: &str = "settings";

/// A check that services above the settings add to their validation (a section whose values
/// only they understand, such as `backups.cron`); it reports into the flat, dotted errors.
pub type Check = Arc<dyn Fn(&Json, &mut FieldErrors) + Send + Sync>;
/// Called after the settings changed, here (`patch`) or on another instance (`reload`).
pub type Listener = Arc<dyn Fn() + Send + Sync>;
/// A consumer inside the transaction that stores changed settings (the outbox): it gets the
/// settings as they will be, secrets included ([`Settings::masked`] shows them safely). Rows
/// it writes on `conn` commit or roll back with the change; an error fails the change.
pub type WriteHook = Arc<dyn Fn(&mut dyn crate::store::Conn, &Json) -> Result<()> + Send + Sync>;

#[derive(Clone)]
pub struct Settings {
    db: Db,
    current: Arc<RwLock<Json>>,
    /// `logs` and `trustedProxy`, typed once per change: every request reads them.
    logs: Arc<RwLock<LogSettings>>,
    proxy: Arc<RwLock<Arc<TrustedProxy>>>,
    /// Whether `trustedProxy` names any header: without, a request reads neither lock nor
    /// count (shared by every request's thread, they cost more than the answer's bytes).
    proxy_headers: Arc<std::sync::atomic::AtomicBool>,
    checks: Arc<RwLock<Vec<Check>>>,
    listeners: Arc<RwLock<Vec<Listener>>>,
    writes: Arc<RwLock<Vec<WriteHook>>>,
    /// Held by a change and by a reload for their whole read-modify-write: a reload that read
    /// the stored settings before a change committed must not replace the change in memory
    /// after it (nor two changes lose one another).
    serial: Arc<tokio::sync::Mutex<()>>,
}

fn defaults() -> Json {
    serde_json::from_str(include_str!("defaults.json")).unwrap_or_else(|_| json!({}))
}

impl Settings {
    pub async fn load(db: Db) -> Result<Settings> {
        let current = Self::read(&db).await?;
        let logs = LogSettings::from_json(&current["logs"]);
        let proxy = TrustedProxy::from_json(&current["trustedProxy"]);
        Ok(Settings {
            db,
            current: Arc::new(RwLock::new(current)),
            logs: Arc::new(RwLock::new(logs)),
            proxy_headers: Arc::new((!proxy.headers.is_empty()).into()),
            proxy: Arc::new(RwLock::new(Arc::new(proxy))),
            checks: Arc::default(),
            listeners: Arc::default(),
            writes: Arc::default(),
            serial: Arc::default(),
        })
    }

    /// Replaces the settings in memory.
    fn replace(&self, next: Json) {
        *self.logs.write() = LogSettings::from_json(&next["logs"]);
        let proxy = TrustedProxy::from_json(&next["trustedProxy"]);
        self.proxy_headers.store(
            !proxy.headers.is_empty(),
            std::sync::atomic::Ordering::Relaxed,
        );
        *self.proxy.write() = Arc::new(proxy);
        *self.current.write() = next;
    }

    /// Adds a validation `patch` runs after its own.
    pub fn add_check(&self, check: Check) {
        self.checks.write().push(check);
    }

    /// Calls `listener` after each change of the settings.
    pub fn on_change(&self, listener: Listener) {
        self.listeners.write().push(listener);
    }

    /// Runs `hook` inside the transaction of every later change made here.
    pub fn on_write(&self, hook: WriteHook) {
        self.writes.write().push(hook);
    }

    fn changed(&self) {
        let listeners = self.listeners.read().clone();
        for listener in listeners {
            listener();
        }
    }

    /// Reads the stored settings again (another instance changed them).
    pub async fn reload(&self) -> Result<()> {
        let _serial = self.serial.lock().await;
        let current = Self::read(&self.db).await?;
        self.replace(current);
        self.changed();
        Ok(())
    }

    async fn read(db: &Db) -> Result<Json> {
        let stored = db.read(|conn| tables::params::get(conn, PARAMS_ID)).await?;
        let mut current = defaults();
        if let Some(stored) = stored.and_then(|s| serde_json::from_str::<Json>(&s).ok()) {
            let mut errors = FieldErrors::new();
            merge(&mut current, &stored, "", &mut errors);
        }
        Ok(current)
    }

    /// The settings with secrets removed.
    pub fn public(&self) -> Json {
        Self::masked(&self.current.read())
    }

    /// `settings` as `GET /api/settings` shows them: secrets left out, passwords in broker
    /// URLs masked.
    pub fn masked(settings: &Json) -> Json {
        let mut out = settings.clone();
        for path in SECRETS {
            remove_path(&mut out, path);
        }
        credentials::mask(&mut out);
        out
    }

    /// One value by path, secrets included (for the server's own use). Callers read the
    /// typed sections of `sections` instead.
    pub(crate) fn get(&self, path: &[&str]) -> Json {
        let current = self.current.read();
        let mut v = &*current;
        for p in path {
            v = v.get(p).unwrap_or(&Json::Null);
        }
        v.clone()
    }

    /// What a partial update would make of the settings, before it is validated: the settings
    /// and the update merged over them (secrets included), or `None` when the update does not
    /// load (PocketBase's `BindBody` failing). For `onSettingsUpdateRequest`, whose hooks see
    /// both and whose changed result is then `patch`ed whole.
    pub fn prepare(&self, input: &Json) -> Option<(Json, Json)> {
        let current = self.current.read().clone();
        if !input.is_object() || !rate_limits::loads(input) || !integers_load(&current, input) {
            return None;
        }
        let mut next = current.clone();
        let mut errors = FieldErrors::new();
        merge(&mut next, input, "", &mut errors);
        credentials::restore(&current, &mut next);
        errors.is_empty().then_some((current, next))
    }

    /// Merges a partial update, checking each value against the type of its default.
    pub async fn patch(&self, input: &Json) -> Result<Json> {
        if !input.is_object() {
            return Err(Error::bad_request("Invalid settings body."));
        }
        let _serial = self.serial.lock().await;
        if !rate_limits::loads(input) || !integers_load(&self.current.read(), input) {
            // PB-COMPAT: a value PocketBase cannot decode fails the whole request.
            return Err(Error::bad_request(
                "An error occurred while loading the submitted data.",
            ));
        }
        let mut next = self.current.read().clone();
        let mut errors = FieldErrors::new();
        merge(&mut next, input, "", &mut errors);
        credentials::restore(&self.current.read(), &mut next);
        validate(&next, &mut errors);
        let checks = self.checks.read().clone();
        for check in checks {
            check(&next, &mut errors);
        }
        if !errors.is_empty() {
            // PB-COMPAT: the message PocketBase gives for invalid settings.
            return Err(Error::BadRequest {
                message: "An error occurred while saving the new settings.".into(),
                data: nest(errors),
            });
        }
        let stored = next.to_string();
        let (hooks, written) = (self.writes.read().clone(), next.clone());
        self.db
            .write(move |conn| {
                tables::params::put(conn, PARAMS_ID, stored, crate::dates::now())?;
                hooks.iter().try_for_each(|hook| hook(conn, &written))
            })
            .await?;
        // Inside application code's transaction, its later steps see the change at once;
        // its listeners hear of it once that commits, and a rollback restores what was.
        let previous = self.current.read().clone();
        self.replace(next);
        let settings = self.clone();
        self.db.when_settled(move |committed| match committed {
            true => settings.changed(),
            false => settings.replace(previous),
        });
        Ok(self.public())
    }
}

/// `systemEvents` names only what [`SYSTEM_EVENTS`] lists (`at`: the endpoint's or target's
/// path in the errors).
pub fn check_system_events(at: &str, system_events: &[String], errors: &mut FieldErrors) {
    if let Some(i) = system_events
        .iter()
        .position(|e| !SYSTEM_EVENTS.contains(&e.as_str()))
    {
        errors.insert(
            format!("{at}.systemEvents.{i}"),
            field_error_json("validation_in_invalid", "Must be a valid value."),
        );
    }
}

/// PB-COMPAT: a number where the setting is an integer (`logs.maxDays`, `backups.cronMaxKeep`)
/// must be whole, or PocketBase cannot decode the body (`5.0` would read as 0: logging off).
fn integers_load(current: &Json, input: &Json) -> bool {
    let (Json::Object(current), Json::Object(input)) = (current, input) else {
        return true;
    };
    input
        .iter()
        .all(|(key, value)| match (current.get(key), value) {
            (Some(c @ Json::Object(_)), Json::Object(_)) => integers_load(c, value),
            (Some(Json::Number(c)), Json::Number(v)) if c.is_i64() || c.is_u64() => {
                v.is_i64() || v.is_u64()
            }
            _ => true,
        })
}

/// Deep-merges `input` into `target`, keeping only keys the target knows and values of the
/// same JSON type. Errors are keyed by dotted path.
fn merge(target: &mut Json, input: &Json, path: &str, errors: &mut FieldErrors) {
    let (Json::Object(t), Json::Object(i)) = (&mut *target, input) else {
        return;
    };
    for (k, v) in i {
        let key_path = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let Some(slot) = t.get_mut(k) else { continue };
        match (&*slot, v) {
            (Json::Object(_), Json::Object(_)) => merge(slot, v, &key_path, errors),
            (Json::Bool(_), Json::Bool(_))
            | (Json::String(_), Json::String(_))
            | (Json::Number(_), Json::Number(_))
            | (Json::Array(_), Json::Array(_)) => {
                *slot = v.clone();
            }
            (_, Json::Null) => {}
            _ => {
                errors.insert(
                    key_path,
                    field_error_json("validation_invalid_value", "Invalid value type."),
                );
            }
        }
    }
}

fn validate(s: &Json, errors: &mut FieldErrors) {
    let app_name = s
        .pointer("/meta/appName")
        .and_then(Json::as_str)
        .unwrap_or("");
    if app_name.trim().is_empty() {
        errors.insert(
            "meta.appName".into(),
            field_error_json("validation_required", "Cannot be blank."),
        );
    }
    let url = s
        .pointer("/meta/appURL")
        .and_then(Json::as_str)
        .unwrap_or("");
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        errors.insert(
            "meta.appURL".into(),
            field_error_json("validation_is_url", "Must be a valid url."),
        );
    }
    for (prefix, s3) in [
        ("s3", s.get("s3")),
        ("backups.s3", s.pointer("/backups/s3")),
    ] {
        let Some(s3) = s3.filter(|v| v.get("enabled").and_then(Json::as_bool).unwrap_or(false))
        else {
            continue;
        };
        // PB-COMPAT: an enabled S3 storage needs all of its connection settings.
        for key in ["bucket", "region", "endpoint", "accessKey", "secret"] {
            if s3
                .get(key)
                .and_then(Json::as_str)
                .unwrap_or("")
                .trim()
                .is_empty()
            {
                errors.insert(
                    format!("{prefix}.{key}"),
                    field_error_json("validation_required", "Cannot be blank."),
                );
            }
        }
    }
    for path in ["batch.maxRequests", "logs.maxDays", "logs.maxDataSize"] {
        let pointer = format!("/{}", path.replace('.', "/"));
        if s.pointer(&pointer).and_then(Json::as_i64).unwrap_or(0) < 0 {
            errors.insert(path.into(), json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 0.", "params": {"threshold": 0}}));
        }
    }
    rate_limits::validate(s, errors);
}

/// `{"meta.appName": e}` → `{"meta": {"appName": e}}`, PocketBase's nested error shape.
fn nest(flat: FieldErrors) -> FieldErrors {
    let mut out = Json::Object(Map::new());
    for (path, e) in flat {
        let mut node = &mut out;
        for p in path.split('.') {
            if !node.is_object() {
                *node = json!({});
            }
            node = node
                .as_object_mut()
                .map(|m| m.entry(p.to_owned()).or_insert(Json::Null))
                .unwrap_or_else(|| unreachable!());
        }
        *node = e;
    }
    match out {
        Json::Object(m) => m.into_iter().collect(),
        _ => FieldErrors::new(),
    }
}

fn remove_path(v: &mut Json, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = v;
    for p in parents {
        match node.get_mut(*p) {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Json::Object(m) = node {
        m.remove(*last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_settings_refuse_fractions() {
        let current = defaults();
        assert!(integers_load(&current, &json!({"logs": {"maxDays": 7}})));
        assert!(!integers_load(&current, &json!({"logs": {"maxDays": 5.0}})));
        assert!(!integers_load(
            &current,
            &json!({"backups": {"cronMaxKeep": 2.5}})
        ));
        assert!(integers_load(&current, &json!({"logs": {"logIP": false}})));
    }

    #[test]
    fn merge_keeps_types_and_known_keys() {
        let mut s = defaults();
        let mut errors = FieldErrors::new();
        merge(
            &mut s,
            &json!({"meta": {"appName": "X", "bogus": 1}, "batch": {"enabled": "yes"}}),
            "",
            &mut errors,
        );
        assert_eq!(s["meta"]["appName"], "X");
        assert!(s["meta"].get("bogus").is_none());
        assert!(errors.contains_key("batch.enabled"));
        let nested = nest(errors);
        assert!(nested["batch"]["enabled"].is_object());
    }

    #[test]
    fn secrets_are_removed_from_the_public_view() {
        let mut s = defaults();
        remove_path(&mut s, &["smtp", "password"]);
        assert!(s["smtp"].get("password").is_none());
        assert!(s["smtp"].get("host").is_some());
    }
}
