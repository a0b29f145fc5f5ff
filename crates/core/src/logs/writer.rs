//! The writer: takes the entries off the queue and stores them in batches, one transaction
//! each. Woken by the first entry to arrive, it gathers for a moment, so that requests queue
//! without waking it (a wake-up per entry cost more than the entry); it is woken early when a
//! shard of the queue fills up or a message (a flush, a deletion, a stop) waits for it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use tokio::sync::{mpsc, oneshot};

use super::queue::EntryQueue;
use super::{Data, Entry, Msg, RequestLog};
use crate::store::log_entries::{Batch, Fields};
use crate::store::{Db, tables};

/// Entries per transaction at most.
const BATCH: usize = 5_000;
/// How long a batch gathers after its first entry.
const GATHER: Duration = Duration::from_millis(100);

pub(super) async fn run(db: Db, queue: Arc<EntryQueue>, mut messages: mpsc::Receiver<Msg>) {
    let mut work = Work::default();
    let mut entries = Vec::new();
    loop {
        let gather = tokio::select! {
            msg = messages.recv() => {
                work.take(msg);
                false
            }
            () = queue.arrived.notified() => true,
        };
        if gather && work.waits_for_nothing() {
            tokio::select! {
                () = tokio::time::sleep(GATHER) => {}
                () = queue.hurry.notified() => {}
                msg = messages.recv() => work.take(msg),
            }
        }
        while let Ok(msg) = messages.try_recv() {
            work.take(Some(msg));
        }
        // Everything queued before a message was sent is in the queue now.
        queue.drain_into(&mut entries);
        while !entries.is_empty() {
            let count = entries.len().min(BATCH);
            store(&db, entries.drain(..count)).await;
        }
        for (before, below_level, done) in work.deletes.drain(..) {
            let deleted = db
                .write(move |conn| tables::logs::delete_old(conn, before, below_level).map(|_| ()))
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

/// The messages the writer took and has still to answer.
#[derive(Default)]
struct Work {
    flushes: Vec<oneshot::Sender<()>>,
    deletes: Vec<(String, i64, oneshot::Sender<crate::error::Result<()>>)>,
    stop: bool,
}

impl Work {
    /// Takes a message; `None` (every sender gone) is a stop.
    fn take(&mut self, msg: Option<Msg>) {
        match msg {
            Some(Msg::Flush(done)) => self.flushes.push(done),
            Some(Msg::Delete {
                before,
                below_level,
                done,
            }) => self.deletes.push((before, below_level, done)),
            Some(Msg::Stop) | None => self.stop = true,
        }
    }

    /// Nobody waits: the batch may gather.
    fn waits_for_nothing(&self) -> bool {
        self.flushes.is_empty() && self.deletes.is_empty() && !self.stop
    }
}

/// Encodes the entries into one batch and stores it in one transaction.
async fn store(db: &Db, entries: impl Iterator<Item = Entry>) {
    let mut batch = Batch::default();
    let mut scratch = Scratch::default();
    for entry in entries {
        encode(entry, &mut batch, &mut scratch);
    }
    let count = batch.len();
    if count == 0 {
        return;
    }
    let stored = db
        .write(move |conn| tables::logs::append(conn, &batch))
        .await;
    if let Err(e) = stored {
        // This module's own events are never logged to the store (see the app log layer).
        tracing::warn!(error = %e, count, "log entries could not be stored");
    }
}

/// Buffers reused from entry to entry.
#[derive(Default)]
struct Scratch {
    id: String,
    message: String,
    text: String,
}

/// Appends `entry` to the batch: its `data` as fields, never as JSON text (a request's
/// fields are the request's own strings, copied once).
fn encode(entry: Entry, batch: &mut Batch, scratch: &mut Scratch) {
    let Scratch { id, message, text } = scratch;
    id.clear();
    crate::ids::push_sortable_id(id);
    message.clear();
    let created = entry.created;
    match entry.data {
        Data::Request {
            log,
            keep_ip,
            keep_auth_id,
        } => {
            let log = log.log();
            // PocketBase's message: the method and the URL, percent-decoded where it decodes.
            message.push_str(log.method);
            message.push(' ');
            if log.url.as_bytes().contains(&b'%') {
                message.push_str(&unescape(log.url));
            } else {
                message.push_str(log.url);
            }
            without_nul(message);
            let mut fields = batch.push(id, entry.level, created, message);
            request_fields(&log, keep_ip, keep_auth_id, &mut fields, text);
        }
        Data::Attrs(attrs) => {
            message.push_str(&entry.message);
            without_nul(message);
            let mut attrs = Json::Object(attrs);
            json_without_nul(&mut attrs);
            let json = serde_json::to_string(&attrs).unwrap_or_else(|_| "{}".into());
            batch.push(id, entry.level, created, message).object(&json);
        }
    }
}

/// The `data` of a request entry, with PocketBase's keys and what the settings keep. `text`
/// is a buffer for an IP written out.
fn request_fields(
    log: &RequestLog<'_>,
    keep_ip: bool,
    keep_auth_id: bool,
    fields: &mut Fields<'_>,
    text: &mut String,
) {
    fields
        .text("type", "request")
        .float("execTime", log.exec_time)
        .text("url", log.url)
        .text("method", log.method)
        .int("status", i64::from(log.status))
        .text("referer", log.referer)
        .text("userAgent", log.user_agent)
        // The caller's collection, "" for a guest.
        .text("auth", log.auth.map_or("", |(collection, _)| collection));
    if let Some((_, id)) = log.auth.filter(|_| keep_auth_id) {
        fields.text("authId", id);
    }
    if keep_ip {
        // An IP as a header gave it, or the peer's address written out ("" when unknown).
        text.clear();
        if let Some(peer) = log.remote_ip {
            use std::fmt::Write;
            let _ = write!(text, "{peer}");
        }
        fields.text("userIP", log.proxied_ip.unwrap_or(text));
        fields.text("remoteIP", text);
    }
    if let Some((error, details)) = log.error {
        // An error's message and details may carry the caller's input.
        if has_nul(error) || json_has_nul(details) {
            let mut error = error.to_owned();
            without_nul(&mut error);
            let mut details = details.clone();
            json_without_nul(&mut details);
            fields
                .text("error", &error)
                .json("details", &details.to_string());
        } else {
            fields
                .text("error", error)
                .json("details", &details.to_string());
        }
    }
}

/// PostgreSQL's text and JSON hold no NUL character: a request for `/%00` must not cost its
/// whole batch there, so NUL becomes U+FFFD on both databases.
fn without_nul(text: &mut String) {
    if has_nul(text) {
        *text = text.replace('\0', "\u{FFFD}");
    }
}

fn has_nul(text: &str) -> bool {
    text.as_bytes().contains(&0)
}

fn json_has_nul(value: &Json) -> bool {
    match value {
        Json::String(text) => has_nul(text),
        Json::Array(items) => items.iter().any(json_has_nul),
        Json::Object(map) => map.iter().any(|(k, v)| has_nul(k) || json_has_nul(v)),
        _ => false,
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
    use super::super::{RequestFacts, level};
    use super::*;
    use crate::store::log_entries;

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

    /// A request's `data` as the logs' reader sees it.
    fn request_data(log: &RequestLog<'_>, keep_ip: bool, keep_auth_id: bool) -> Json {
        let mut batch = Batch::default();
        request_fields(
            log,
            keep_ip,
            keep_auth_id,
            &mut batch.push("a", 0, 0, ""),
            &mut String::new(),
        );
        let mut data = Vec::new();
        if let Some(entry) = log_entries::entries(batch.body()).next() {
            entry.push_data(&mut data);
        }
        serde_json::from_slice(&data).unwrap_or_default()
    }

    #[test]
    fn request_data_keeps_what_the_settings_say() {
        let details = Json::Object(serde_json::Map::new());
        let log = RequestLog {
            method: "GET",
            url: "/x",
            status: 404,
            exec_time: 1.5,
            auth: Some(("users", "u1")),
            proxied_ip: Some("10.0.0.1"),
            remote_ip: Some([127, 0, 0, 1].into()),
            referer: "",
            user_agent: "ua",
            error: Some(("Missing.", &details)),
        };
        let kept = request_data(&log, true, true);
        assert_eq!(
            kept,
            serde_json::json!({"type": "request", "execTime": 1.5, "url": "/x", "method": "GET",
                "status": 404, "referer": "", "userAgent": "ua", "auth": "users", "authId": "u1",
                "userIP": "10.0.0.1", "remoteIP": "127.0.0.1", "error": "Missing.", "details": {}})
        );
        let bare = request_data(&log, false, false);
        assert_eq!(bare["auth"], "users");
        assert!(bare.get("authId").is_none() && bare.get("userIP").is_none());
        assert!(bare.get("remoteIP").is_none());
        let peer = request_data(
            &RequestLog {
                proxied_ip: None,
                ..log
            },
            true,
            true,
        );
        assert_eq!(peer["userIP"], "127.0.0.1");
        let unknown = RequestLog {
            proxied_ip: None,
            remote_ip: None,
            error: None,
            ..log
        };
        let unknown = request_data(&unknown, true, true);
        assert_eq!(
            (&unknown["userIP"], &unknown["remoteIP"]),
            (&"".into(), &"".into())
        );
        assert!(unknown.get("error").is_none() && unknown.get("details").is_none());
    }

    struct Facts(RequestLog<'static>);

    impl RequestFacts for Facts {
        fn failed(&self) -> bool {
            self.0.status >= 400
        }
        fn log(&self) -> RequestLog<'_> {
            self.0
        }
    }

    /// Encodes one entry as the writer does, after another, and reads it back: `(id, level,
    /// message, data, created)`.
    fn encoded(entry: Entry) -> (String, i64, String, Json, String) {
        let mut batch = Batch::default();
        let mut scratch = Scratch::default();
        // The buffers of an earlier, longer entry leave nothing behind.
        for entry in [
            Entry {
                level: 0,
                message: "an earlier, longer message".into(),
                data: Data::Attrs(serde_json::Map::from_iter([(
                    "k".into(),
                    "v".repeat(300).into(),
                )])),
                created: 0,
            },
            entry,
        ] {
            encode(entry, &mut batch, &mut scratch);
        }
        let entries: Vec<_> = log_entries::entries(batch.body()).collect();
        assert_eq!(entries.len(), 2);
        let (first, entry) = (entries[0], entries[1]);
        assert!(first.id < entry.id, "ids grow");
        let mut data = Vec::new();
        entry.push_data(&mut data);
        let mut created = String::new();
        entry.push_created(&mut created);
        (
            entry.id.to_owned(),
            entry.level,
            entry.message.to_owned(),
            serde_json::from_slice(&data).unwrap_or_default(),
            created,
        )
    }

    #[test]
    fn a_request_entry_has_no_nul_and_pocketbases_message() {
        let details: &'static Json =
            Box::leak(Box::new(serde_json::json!({"f\0": {"code": "x\0"}})));
        let entry = Entry {
            level: level::ERROR,
            message: String::new(),
            data: Data::Request {
                log: Box::new(Facts(RequestLog {
                    method: "GET",
                    url: "/api/a%00b%20c?x=%2F",
                    status: 400,
                    exec_time: 0.25,
                    auth: None,
                    proxied_ip: None,
                    remote_ip: None,
                    referer: "",
                    user_agent: "",
                    error: Some(("bad\0", details)),
                })),
                keep_ip: false,
                keep_auth_id: false,
            },
            created: 1_700_000_000_005_000,
        };
        let (id, level, message, data, created) = encoded(entry);
        assert_eq!(id.len(), 15);
        assert_eq!(level, level::ERROR);
        assert_eq!(message, "GET /api/a\u{FFFD}b c?x=/");
        assert_eq!(created, "2023-11-14 22:13:20.005Z");
        assert_eq!(data["url"], "/api/a%00b%20c?x=%2F");
        assert_eq!(data["error"], "bad\u{FFFD}");
        assert_eq!(data["details"]["f\u{FFFD}"]["code"], "x\u{FFFD}");
        assert_eq!(data["type"], "request");
        assert!(!data.to_string().contains("\\u0000"));
    }
}
