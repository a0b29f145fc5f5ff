//! The writer: takes entries off the queue and stores them in batches, one transaction each.
//! After a batch's first entry it sleeps for a moment without listening to the queue, so that
//! requests enqueue without waking it (a wake-up per entry cost more than the entry); it is
//! woken early only when the queue fills up or someone waits for a flush.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use tokio::sync::{Notify, mpsc, oneshot};

use super::{Data, Entry, Msg, RequestLog};
use crate::store::{Db, tables};

/// Entries per transaction at most.
const BATCH: usize = 5_000;
/// How long a batch gathers after its first entry.
const GATHER: Duration = Duration::from_millis(100);

pub(super) async fn run(db: Db, mut queue: mpsc::Receiver<Msg>, hurry: Arc<Notify>) {
    let mut work = Work::default();
    while let Some(first) = queue.recv().await {
        work.take(first);
        if work.waits_for_nothing() {
            tokio::select! {
                () = tokio::time::sleep(GATHER) => {}
                () = hurry.notified() => {}
            }
        }
        loop {
            while work.entries.len() < BATCH {
                match queue.try_recv() {
                    Ok(msg) => work.take(msg),
                    Err(_) => break,
                }
            }
            if work.is_empty() {
                break;
            }
            store(&db, std::mem::take(&mut work.entries)).await;
            for (before, below_level, done) in work.deletes.drain(..) {
                let deleted = db
                    .write(move |conn| {
                        tables::logs::delete_old(conn, before, below_level).map(|_| ())
                    })
                    .await;
                let _ = done.send(deleted);
            }
            for done in work.flushes.drain(..) {
                let _ = done.send(());
            }
            if work.stop {
                return;
            }
        }
    }
}

/// What the writer took off the queue and has still to do.
#[derive(Default)]
struct Work {
    entries: Vec<Entry>,
    flushes: Vec<oneshot::Sender<()>>,
    deletes: Vec<(String, i64, oneshot::Sender<crate::error::Result<()>>)>,
    stop: bool,
}

impl Work {
    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Entry(entry) => self.entries.push(entry),
            Msg::Flush(done) => self.flushes.push(done),
            Msg::Delete {
                before,
                below_level,
                done,
            } => self.deletes.push((before, below_level, done)),
            Msg::Stop => self.stop = true,
        }
    }

    /// Nobody waits: the batch may gather.
    fn waits_for_nothing(&self) -> bool {
        self.flushes.is_empty() && self.deletes.is_empty() && !self.stop
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.waits_for_nothing()
    }
}

async fn store(db: &Db, entries: Vec<Entry>) {
    if entries.is_empty() {
        return;
    }
    let count = entries.len();
    let rows = entries.into_iter().map(row).collect();
    if let Err(e) = db.write(move |conn| tables::logs::insert(conn, rows)).await {
        // This module's own events are never logged to the store (see the app log layer).
        tracing::warn!(error = %e, count, "log entries could not be stored");
    }
}

fn row(entry: Entry) -> tables::logs::Row {
    let (message, data) = match entry.data {
        Data::Request {
            log,
            keep_ip,
            keep_auth_id,
        } => {
            let mut log = log.into_log();
            for text in [
                &mut log.method,
                &mut log.url,
                &mut log.referer,
                &mut log.user_agent,
                &mut log.user_ip,
                &mut log.remote_ip,
            ] {
                without_nul(text);
            }
            if let Some((message, details)) = log.error.as_mut() {
                without_nul(message);
                json_without_nul(details);
            }
            // PocketBase's message: the method and the URL, percent-decoded where it decodes.
            let mut message = format!("{} {}", log.method, unescape(&log.url));
            without_nul(&mut message);
            (message, request_data(&log, keep_ip, keep_auth_id))
        }
        Data::Attrs(attrs) => {
            let mut message = entry.message;
            without_nul(&mut message);
            let mut attrs = Json::Object(attrs);
            json_without_nul(&mut attrs);
            (message, attrs.to_string())
        }
    };
    tables::logs::Row {
        id: crate::ids::sortable_id(),
        level: entry.level,
        message,
        data,
        created: crate::dates::format(entry.created),
    }
}

/// The `data` of a request entry, with PocketBase's keys.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestData<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    exec_time: f64,
    url: &'a str,
    method: &'a str,
    status: u16,
    referer: &'a str,
    user_agent: &'a str,
    /// The caller's collection, "" for a guest.
    auth: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_id: Option<&'a str>,
    #[serde(rename = "userIP", skip_serializing_if = "Option::is_none")]
    user_ip: Option<&'a str>,
    #[serde(rename = "remoteIP", skip_serializing_if = "Option::is_none")]
    remote_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Json>,
}

/// The JSON text of a request entry's `data`, with what the settings keep.
fn request_data(log: &RequestLog, keep_ip: bool, keep_auth_id: bool) -> String {
    let data = RequestData {
        kind: "request",
        exec_time: log.exec_time,
        url: &log.url,
        method: &log.method,
        status: log.status,
        referer: &log.referer,
        user_agent: &log.user_agent,
        auth: log.auth.as_ref().map_or("", |(collection, _)| collection),
        auth_id: log
            .auth
            .as_ref()
            .filter(|_| keep_auth_id)
            .map(|(_, id)| id.as_str()),
        user_ip: keep_ip.then_some(log.user_ip.as_str()),
        remote_ip: keep_ip.then_some(log.remote_ip.as_str()),
        error: log.error.as_ref().map(|(message, _)| message.as_str()),
        details: log.error.as_ref().map(|(_, details)| details),
    };
    serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_owned())
}

/// PostgreSQL's text and JSON hold no NUL character: a request for `/%00` must not cost its
/// whole batch there, so NUL becomes U+FFFD on both databases.
fn without_nul(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
}

fn json_without_nul(value: &mut Json) {
    match value {
        Json::String(text) => without_nul(text),
        Json::Array(items) => items.iter_mut().for_each(json_without_nul),
        Json::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', "\u{FFFD}"), v))
                    .collect();
            }
            map.values_mut().for_each(json_without_nul);
        }
        _ => {}
    }
}

/// The URL percent-decoded (not `+`), or as it is when it does not decode to UTF-8.
fn unescape(url: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(url)
        .decode_utf8()
        .unwrap_or(std::borrow::Cow::Borrowed(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_never_reaches_the_database() {
        let mut text = String::from("a\0b");
        without_nul(&mut text);
        assert_eq!(text, "a\u{FFFD}b");
        let mut json = serde_json::json!({"k\0": ["x\0", {"y": "\0"}]});
        json_without_nul(&mut json);
        assert!(!json.to_string().contains("\\u0000"), "{json}");
    }

    #[test]
    fn urls_are_decoded_where_they_decode() {
        assert_eq!(unescape("/api/health?x=%20y+z"), "/api/health?x= y+z");
        assert_eq!(unescape("/a%ff"), "/a%ff");
    }

    #[test]
    fn request_data_keeps_what_the_settings_say() {
        let log = RequestLog {
            method: "GET".into(),
            url: "/x".into(),
            status: 404,
            exec_time: 1.5,
            auth: Some(("users".into(), "u1".into())),
            user_ip: "10.0.0.1".into(),
            remote_ip: "127.0.0.1".into(),
            referer: String::new(),
            user_agent: "ua".into(),
            error: Some(("Missing.".into(), Json::Object(serde_json::Map::new()))),
        };
        let parse = |text: String| serde_json::from_str::<Json>(&text).unwrap_or_default();
        let kept = parse(request_data(&log, true, true));
        assert_eq!(kept["authId"], "u1");
        assert_eq!(kept["userIP"], "10.0.0.1");
        assert_eq!(kept["error"], "Missing.");
        let bare = parse(request_data(&log, false, false));
        assert_eq!(bare["auth"], "users");
        assert!(bare.get("authId").is_none() && bare.get("userIP").is_none());
        assert!(bare.get("remoteIP").is_none());
    }
}
