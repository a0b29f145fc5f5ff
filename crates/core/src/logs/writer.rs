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
    let mut entries: Vec<Entry> = Vec::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = queue.recv().await {
        take(first, &mut entries, &mut flushes);
        if flushes.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(GATHER) => {}
                () = hurry.notified() => {}
            }
        }
        loop {
            while entries.len() < BATCH {
                match queue.try_recv() {
                    Ok(msg) => take(msg, &mut entries, &mut flushes),
                    Err(_) => break,
                }
            }
            if entries.is_empty() && flushes.is_empty() {
                break;
            }
            store(&db, std::mem::take(&mut entries)).await;
            for done in flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

fn take(msg: Msg, entries: &mut Vec<Entry>, flushes: &mut Vec<oneshot::Sender<()>>) {
    match msg {
        Msg::Entry(entry) => entries.push(entry),
        Msg::Flush(done) => flushes.push(done),
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
            let log = log.into_log();
            // PocketBase's message: the method and the URL, percent-decoded where it decodes.
            let message = format!("{} {}", log.method, unescape(&log.url));
            (message, request_data(&log, keep_ip, keep_auth_id))
        }
        Data::Attrs(attrs) => (entry.message, Json::Object(attrs).to_string()),
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
