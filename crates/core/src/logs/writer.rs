//! The writer: takes entries off the queue and stores them in batches, one transaction each.
//! A batch gathers for a moment after its first entry (or until it is full), so a busy server
//! writes a few large transactions a second rather than one per request.

use std::time::Duration;

use serde_json::{Map, Value as Json};
use tokio::sync::{mpsc, oneshot};

use super::{Data, Entry, Msg, RequestLog};
use crate::store::{Db, tables};

/// Entries per transaction at most.
const BATCH: usize = 2_000;
/// How long a batch gathers after its first entry.
const GATHER: Duration = Duration::from_millis(200);

pub(super) async fn run(db: Db, mut queue: mpsc::Receiver<Msg>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = queue.recv().await {
        take(first, &mut entries, &mut flushes);
        let gather = tokio::time::sleep(GATHER);
        tokio::pin!(gather);
        while entries.len() < BATCH && flushes.is_empty() {
            tokio::select! {
                msg = queue.recv() => match msg {
                    Some(msg) => take(msg, &mut entries, &mut flushes),
                    None => break,
                },
                () = &mut gather => break,
            }
        }
        // What else is queued already goes in this batch too.
        while entries.len() < BATCH {
            match queue.try_recv() {
                Ok(msg) => take(msg, &mut entries, &mut flushes),
                Err(_) => break,
            }
        }
        store(&db, std::mem::take(&mut entries)).await;
        for done in flushes.drain(..) {
            let _ = done.send(());
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
    let data = match entry.data {
        Data::Request {
            log,
            keep_ip,
            keep_auth_id,
        } => request_data(*log, keep_ip, keep_auth_id),
        Data::Attrs(attrs) => attrs,
    };
    tables::logs::Row {
        id: crate::ids::record_id(),
        level: entry.level,
        message: entry.message,
        data: Json::Object(data).to_string(),
        created: entry.created,
    }
}

/// The `data` of a request entry, with PocketBase's keys.
fn request_data(log: RequestLog, keep_ip: bool, keep_auth_id: bool) -> Map<String, Json> {
    let mut data = Map::new();
    data.insert("type".into(), "request".into());
    data.insert("execTime".into(), log.exec_time.into());
    data.insert("url".into(), log.url.into());
    data.insert("method".into(), log.method.into());
    data.insert("status".into(), log.status.into());
    data.insert("referer".into(), log.referer.into());
    data.insert("userAgent".into(), log.user_agent.into());
    match log.auth {
        Some((collection, id)) => {
            data.insert("auth".into(), collection.into());
            if keep_auth_id {
                data.insert("authId".into(), id.into());
            }
        }
        None => {
            data.insert("auth".into(), "".into());
        }
    }
    if keep_ip {
        data.insert("userIP".into(), log.user_ip.into());
        data.insert("remoteIP".into(), log.remote_ip.into());
    }
    if let Some((message, details)) = log.error {
        data.insert("error".into(), message.into());
        data.insert("details".into(), details);
    }
    data
}

/// The URL percent-decoded (not `+`), or as it is when it does not decode to UTF-8.
pub(super) fn unescape(url: &str) -> std::borrow::Cow<'_, str> {
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
            error: Some(("Missing.".into(), Json::Object(Map::new()))),
        };
        let kept = request_data(log.clone(), true, true);
        assert_eq!(kept["authId"], "u1");
        assert_eq!(kept["userIP"], "10.0.0.1");
        assert_eq!(kept["error"], "Missing.");
        let bare = request_data(log, false, false);
        assert_eq!(bare["auth"], "users");
        assert!(bare.get("authId").is_none() && bare.get("userIP").is_none());
        assert!(bare.get("remoteIP").is_none());
    }
}
