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
    let stored = db
        .write(move |conn| {
            let mut entries = entries.into_iter();
            let mut scratch = Vec::new();
            tables::logs::append(conn, count, &mut |row| {
                if let Some(entry) = entries.next() {
                    fill(entry, row, &mut scratch);
                }
            })
        })
        .await;
    if let Err(e) = stored {
        // This module's own events are never logged to the store (see the app log layer).
        tracing::warn!(error = %e, count, "log entries could not be stored");
    }
}

/// Writes `entry` into the row's buffers; `scratch` is a buffer for the JSON text. Nothing is
/// allocated per entry once the buffers have grown.
fn fill(entry: Entry, row: &mut tables::logs::RowSlots<'_>, scratch: &mut Vec<u8>) {
    crate::ids::push_sortable_id(row.id());
    row.set_level(entry.level);
    crate::dates::push_formatted(row.created(), entry.created);
    scratch.clear();
    match entry.data {
        Data::Request {
            log,
            keep_ip,
            keep_auth_id,
        } => {
            let log = log.log();
            // PocketBase's message: the method and the URL, percent-decoded where it decodes.
            let message = row.message();
            message.push_str(log.method);
            message.push(' ');
            if log.url.as_bytes().contains(&b'%') {
                message.push_str(&unescape(log.url));
            } else {
                message.push_str(log.url);
            }
            without_nul(message);
            let written = match log.error {
                // An error's message and details may carry the caller's input.
                Some((error, details)) if has_nul(error) || json_has_nul(details) => {
                    let mut error = error.to_owned();
                    without_nul(&mut error);
                    let mut details = details.clone();
                    json_without_nul(&mut details);
                    let log = RequestLog {
                        error: Some((&error, &details)),
                        ..log
                    };
                    serde_json::to_writer(&mut *scratch, &request_data(&log, keep_ip, keep_auth_id))
                }
                _ => {
                    serde_json::to_writer(&mut *scratch, &request_data(&log, keep_ip, keep_auth_id))
                }
            };
            if written.is_err() {
                scratch.clear();
            }
        }
        Data::Attrs(attrs) => {
            let message = row.message();
            message.push_str(&entry.message);
            without_nul(message);
            let mut attrs = Json::Object(attrs);
            json_without_nul(&mut attrs);
            if serde_json::to_writer(&mut *scratch, &attrs).is_err() {
                scratch.clear();
            }
        }
    }
    // serde_json writes UTF-8.
    row.data().push_str(
        std::str::from_utf8(scratch)
            .ok()
            .filter(|t| !t.is_empty())
            .unwrap_or("{}"),
    );
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
    user_ip: Option<Ip<'a>>,
    #[serde(rename = "remoteIP", skip_serializing_if = "Option::is_none")]
    remote_ip: Option<Ip<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Json>,
}

/// An IP as text: as a header gave it, or the peer's address written out ("" when unknown).
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Ip<'a> {
    Text(&'a str),
    Addr(std::net::IpAddr),
    Unknown(&'static str),
}

impl<'a> Ip<'a> {
    fn peer(addr: Option<std::net::IpAddr>) -> Ip<'a> {
        addr.map_or(Ip::Unknown(""), Ip::Addr)
    }
}

/// The `data` of a request entry, with what the settings keep.
fn request_data<'a>(log: &RequestLog<'a>, keep_ip: bool, keep_auth_id: bool) -> RequestData<'a> {
    RequestData {
        kind: "request",
        exec_time: log.exec_time,
        url: log.url,
        method: log.method,
        status: log.status,
        referer: log.referer,
        user_agent: log.user_agent,
        auth: log.auth.map_or("", |(collection, _)| collection),
        auth_id: log.auth.filter(|_| keep_auth_id).map(|(_, id)| id),
        user_ip: keep_ip.then(|| log.proxied_ip.map_or(Ip::peer(log.remote_ip), Ip::Text)),
        remote_ip: keep_ip.then(|| Ip::peer(log.remote_ip)),
        error: log.error.map(|(message, _)| message),
        details: log.error.map(|(_, details)| details),
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
    use chrono::DateTime;
    use oxbase_sql as sql;

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
        let parse = |data: RequestData<'_>| serde_json::to_value(&data).unwrap_or_default();
        let kept = parse(request_data(&log, true, true));
        assert_eq!(kept["authId"], "u1");
        assert_eq!(kept["userIP"], "10.0.0.1");
        assert_eq!(kept["remoteIP"], "127.0.0.1");
        assert_eq!(kept["error"], "Missing.");
        let bare = parse(request_data(&log, false, false));
        assert_eq!(bare["auth"], "users");
        assert!(bare.get("authId").is_none() && bare.get("userIP").is_none());
        assert!(bare.get("remoteIP").is_none());
        let peer = parse(request_data(
            &RequestLog {
                proxied_ip: None,
                ..log
            },
            true,
            true,
        ));
        assert_eq!(peer["userIP"], "127.0.0.1");
        let unknown = RequestLog {
            proxied_ip: None,
            remote_ip: None,
            ..log
        };
        assert_eq!(parse(request_data(&unknown, true, true))["userIP"], "");
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

    /// Fills one row as the writer does and reads its columns back.
    fn filled(entry: Entry) -> Vec<sql::Value> {
        let mut slots = vec![sql::Value::Null; 5];
        let mut scratch = Vec::new();
        // A second fill over the first's buffers leaves nothing of the first.
        for entry in [
            Entry {
                level: 0,
                message: "an earlier, longer message".into(),
                data: Data::Attrs(serde_json::Map::from_iter([(
                    "k".into(),
                    "v".repeat(300).into(),
                )])),
                created: chrono::Utc::now(),
            },
            entry,
        ] {
            fill(
                entry,
                &mut tables::logs::RowSlots::new(&mut slots),
                &mut scratch,
            );
        }
        slots
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
            created: DateTime::from_timestamp(1_700_000_000, 5_000_000).unwrap_or_default(),
        };
        let row = filled(entry);
        let text = |i: usize| match &row[i] {
            sql::Value::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(0).len(), 15);
        assert_eq!(row[1], sql::Value::Int(level::ERROR));
        assert_eq!(text(2), "GET /api/a\u{FFFD}b c?x=/");
        assert_eq!(text(4), "2023-11-14 22:13:20.005Z");
        let data: Json = serde_json::from_str(&text(3)).unwrap_or_default();
        assert_eq!(data["url"], "/api/a%00b%20c?x=%2F");
        assert_eq!(data["error"], "bad\u{FFFD}");
        assert_eq!(data["details"]["f\u{FFFD}"]["code"], "x\u{FFFD}");
        assert_eq!(data["type"], "request");
        assert!(!text(3).contains("\\u0000"));
    }
}
