//! `/api/logs`: request entries as PocketBase 0.40.6 writes them (checked against it), the
//! `logs` settings, filter/sort/paging over `data.*`, hourly stats, retention, and access.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, assert_error, spawn_app};

/// Stores what is queued, then lists entries as the superuser.
async fn logs(app: &TestApp, query: &str) -> Value {
    app.core.logs().flush().await;
    let r = app
        .get(&format!("/api/logs{query}"), &app.superuser_token)
        .await;
    r.expect(200);
    r.body
}

async fn patch_logs_settings(app: &TestApp, logs: Value) {
    app.request(
        Method::PATCH,
        "/api/settings",
        &app.superuser_token,
        Some(&json!({ "logs": logs })),
    )
    .await
    .expect(200);
}

/// The entries whose URL is `url`.
async fn entries_for(app: &TestApp, url: &str) -> Vec<Value> {
    let filter = format!("data.url='{url}'");
    let body = logs(app, &format!("?perPage=500&filter={}", urlencode(&filter))).await;
    body["items"].as_array().cloned().unwrap_or_default()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_request_leaves_pocketbases_entry() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/health?x=%20y"))
        .header("Referer", "http://r.example/")
        .header("User-Agent", "UA1")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let items = entries_for(&app, "/api/health?x=%20y").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let entry = &items[0];
    assert_eq!(entry["message"], "GET /api/health?x= y");
    assert_eq!(entry["level"], 0);
    assert_eq!(entry["id"].as_str().map(str::len), Some(15));
    assert!(oxbase_core::dates::parse(entry["created"].as_str().unwrap_or("")).is_some());
    let data = &entry["data"];
    assert!(
        data["execTime"].as_f64().is_some_and(|t| t >= 0.0),
        "{data}"
    );
    let mut keys: Vec<&str> = data
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    // PocketBase's keys with its default settings (logIP on, logAuthId off).
    assert_eq!(
        keys,
        [
            "auth",
            "execTime",
            "method",
            "referer",
            "remoteIP",
            "status",
            "type",
            "url",
            "userAgent",
            "userIP"
        ]
    );
    assert_eq!(data["type"], "request");
    assert_eq!(data["method"], "GET");
    assert_eq!(data["status"], 200);
    assert_eq!(data["auth"], "");
    assert_eq!(data["referer"], "http://r.example/");
    assert_eq!(data["userAgent"], "UA1");
    assert_eq!(data["userIP"], "127.0.0.1");
    assert_eq!(data["remoteIP"], "127.0.0.1");
}

#[tokio::test]
async fn an_error_is_logged_at_the_error_level_with_its_message_and_details() {
    let app = spawn_app().await;
    app.get("/api/collections/users/records/nope", &app.superuser_token)
        .await
        .expect(404);
    let bad = app
        .request(
            Method::POST,
            "/api/collections/users/records",
            GUEST,
            Some(&json!({"email": "bad"})),
        )
        .await;
    bad.expect(400);
    let missing = entries_for(&app, "/api/collections/users/records/nope").await;
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["level"], 8);
    assert_eq!(missing[0]["data"]["status"], 404);
    assert_eq!(missing[0]["data"]["auth"], "_superusers");
    assert_eq!(
        missing[0]["data"]["error"],
        "The requested resource wasn't found."
    );
    let created = entries_for(&app, "/api/collections/users/records").await;
    let failed = created
        .iter()
        .find(|e| e["data"]["method"] == "POST")
        .expect("the failed create");
    assert_eq!(failed["level"], 8);
    assert_eq!(failed["message"], "POST /api/collections/users/records");
    assert_eq!(failed["data"]["error"], "Failed to create record.");
    // PB-COMPAT: the details are the answer's `data`, as the client saw it.
    assert_eq!(failed["data"]["details"], bad.body["data"]);
}

#[tokio::test]
async fn the_settings_decide_what_is_kept() {
    let app = spawn_app().await;
    let user = app.create_user("logged@example.com").await;
    patch_logs_settings(&app, json!({"logAuthId": true, "logIP": false})).await;
    app.get("/api/collections/users/records", &user.token)
        .await
        .expect(200);
    let items = entries_for(&app, "/api/collections/users/records").await;
    let listed = items
        .iter()
        .find(|e| e["data"]["method"] == "GET")
        .expect("the list");
    assert_eq!(listed["data"]["auth"], "users");
    assert_eq!(listed["data"]["authId"], user.id.as_str());
    assert!(listed["data"].get("userIP").is_none());
    assert!(listed["data"].get("remoteIP").is_none());

    // Errors only: the successful requests logged so far go too.
    patch_logs_settings(&app, json!({"minLevel": 8})).await;
    app.health().await.expect(200);
    app.get("/api/collections/nope/records", GUEST)
        .await
        .expect(404);
    let body = logs(&app, "?perPage=500").await;
    let levels: Vec<&Value> = body["items"]
        .as_array()
        .map(|items| items.iter().map(|e| &e["level"]).collect())
        .unwrap_or_default();
    assert!(!levels.is_empty());
    assert!(levels.iter().all(|l| **l == json!(8)), "{levels:?}");

    // No logs at all.
    patch_logs_settings(&app, json!({"maxDays": 0, "minLevel": 0})).await;
    let before = logs(&app, "?perPage=1").await["totalItems"].clone();
    app.get("/api/collections/nope2/records", GUEST)
        .await
        .expect(404);
    assert_eq!(logs(&app, "?perPage=1").await["totalItems"], before);
}

#[tokio::test]
async fn logs_are_for_superusers_and_reading_them_is_not_logged() {
    let app = spawn_app().await;
    let user = app.create_user("nosy@example.com").await;
    for path in ["/api/logs", "/api/logs/stats", "/api/logs/abc"] {
        assert_error(
            &app.get(path, GUEST).await,
            401,
            "The request requires valid record authorization token.",
        );
        assert_error(
            &app.get(path, &user.token).await,
            403,
            "The authorized record is not allowed to perform this action.",
        );
    }
    let body = logs(&app, "?perPage=500").await;
    let read: Vec<&Value> = body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| {
                    e["data"]["url"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("/api/logs")
                })
                .collect()
        })
        .unwrap_or_default();
    // The refused reads are logged (errors); the superuser's successful ones are not.
    assert_eq!(read.len(), 6, "{read:?}");
    assert!(read.iter().all(|e| e["level"] == 8));
    logs(&app, "").await;
    let again = logs(
        &app,
        "?perPage=500&filter=data.status%3D200%26%26data.url~'/api/logs'",
    )
    .await;
    assert_eq!(again["totalItems"], 0);
}

#[tokio::test]
async fn entries_filter_sort_page_and_view_like_pocketbase() {
    let app = spawn_app().await;
    for status_path in ["/api/collections/a/records", "/api/collections/b/records"] {
        app.get(status_path, GUEST).await.expect(404);
    }
    for _ in 0..3 {
        app.health().await.expect(200);
    }
    let errors = logs(
        &app,
        "?filter=level%3D8%26%26data.status%3E%3D400&sort=-message",
    )
    .await;
    let messages: Vec<&str> = errors["items"]
        .as_array()
        .map(|i| i.iter().filter_map(|e| e["message"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        messages,
        [
            "GET /api/collections/b/records",
            "GET /api/collections/a/records"
        ]
    );
    assert_eq!(errors["totalItems"], 2);

    // Insertion order by default; paging; skipTotal; fields.
    let page = logs(&app, "?filter=data.url%3D'/api/health'&perPage=2&page=2").await;
    assert_eq!(page["page"], 2);
    assert_eq!(page["perPage"], 2);
    assert_eq!(page["totalItems"], 3);
    assert_eq!(page["totalPages"], 2);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let all = logs(&app, "?perPage=500").await;
    let created: Vec<&str> = all["items"]
        .as_array()
        .map(|i| i.iter().filter_map(|e| e["created"].as_str()).collect())
        .unwrap_or_default();
    assert!(created.windows(2).all(|w| w[0] <= w[1]), "{created:?}");
    let cut = logs(&app, "?skipTotal=1&fields=id,data.status&perPage=1").await;
    assert_eq!(cut["totalItems"], -1);
    assert_eq!(cut["totalPages"], -1);
    let item = &cut["items"][0];
    assert_eq!(item.as_object().map(|m| m.len()), Some(2), "{item}");
    assert!(item["data"]["status"].is_number());
    let by_time = logs(&app, "?sort=-data.execTime,id&perPage=500").await;
    let times: Vec<f64> = by_time["items"]
        .as_array()
        .map(|i| {
            i.iter()
                .filter_map(|e| e["data"]["execTime"].as_f64())
                .collect()
        })
        .unwrap_or_default();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // One entry by id; a missing one.
    let id = all["items"][0]["id"].as_str().unwrap_or("").to_owned();
    let one = app
        .get(&format!("/api/logs/{id}"), &app.superuser_token)
        .await;
    one.expect(200);
    assert_eq!(one.body, all["items"][0]);
    assert_error(
        &app.get("/api/logs/missing", &app.superuser_token).await,
        404,
        "The requested resource wasn't found.",
    );

    // PocketBase's answers to bad filters and sorts.
    for query in [
        "?filter=bad%3D%3D",
        "?filter=nofield%3D1",
        "?filter=data.%3D1",
        "?sort=nofield",
        "?perPage=x",
    ] {
        assert_error(
            &app.get(&format!("/api/logs{query}"), &app.superuser_token)
                .await,
            400,
            "Something went wrong while processing your request.",
        );
    }
}

#[tokio::test]
async fn stats_count_entries_per_hour() {
    let app = spawn_app().await;
    app.get("/api/collections/a/records", GUEST)
        .await
        .expect(404);
    app.health().await.expect(200);
    app.core.logs().flush().await;
    let all = app.get("/api/logs/stats", &app.superuser_token).await;
    all.expect(200);
    let buckets = all.body.as_array().cloned().unwrap_or_default();
    assert_eq!(buckets.len(), 1, "{buckets:?}");
    let date = buckets[0]["date"].as_str().unwrap_or("");
    assert!(date.ends_with(":00:00.000Z"), "{date}");
    let total = buckets[0]["total"].as_i64().unwrap_or(0);
    assert!(total >= 2, "{total}");
    let errors = app
        .get(
            "/api/logs/stats?filter=data.status%3E%3D400",
            &app.superuser_token,
        )
        .await;
    assert_eq!(errors.body, json!([{"date": date, "total": 1}]));
    assert_error(
        &app.get("/api/logs/stats?filter=bad%3D%3D", &app.superuser_token)
            .await,
        400,
        "Invalid filter format.",
    );
}

#[tokio::test]
async fn retention_deletes_entries_older_than_max_days() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.health().await.expect(200);
    }
    // One more entry, written 6 days ago (maxDays is 5 by default).
    let old = "oldentry0000001".to_owned();
    let created = (chrono::Utc::now() - chrono::Duration::days(6)).timestamp_micros();
    let mut batch = oxbase_core::store::log_entries::Batch::default();
    batch
        .push(&old, 0, created, "GET /api/health")
        .text("url", "/api/health");
    app.core
        .logs()
        .db()
        .write(move |conn| oxbase_core::store::tables::logs::append(conn, &batch))
        .await
        .expect("an old entry");
    let before = logs(&app, "?perPage=500&filter=data.url%3D'/api/health'").await;
    assert_eq!(before["totalItems"], 4);
    app.core
        .crons()
        .run_and_wait("__pbLogsCleanup__")
        .await
        .expect("the cleanup job");
    let after = logs(&app, "?perPage=500&filter=data.url%3D'/api/health'").await;
    assert_eq!(after["totalItems"], 3);
    assert!(
        after["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|e| e["id"] != old.as_str()))
    );
    let jobs = app.get("/api/crons", &app.superuser_token).await;
    assert!(jobs.body.as_array().is_some_and(|j| {
        j.contains(&json!({"id": "__pbLogsCleanup__", "expression": "0 */6 * * *"}))
    }));
}

#[tokio::test]
async fn entries_survive_a_restart() {
    let app = spawn_app().await;
    app.get("/api/collections/kept/records", GUEST)
        .await
        .expect(404);
    // No flush: closing the app stores what is queued.
    let dir = app.stop().await;
    let Some(dir) = dir else { return };
    let again = crate::helpers::spawn_app_at(dir.path()).await;
    let items = entries_for(&again, "/api/collections/kept/records").await;
    assert_eq!(items.len(), 1);
    again.stop().await;
}

/// The server's own events (`tracing`) at or above `logs.minLevel` are app entries.
#[tokio::test]
async fn the_servers_own_events_are_app_entries() {
    use crate::cli::{database, serve_in, superuser};
    use crate::helpers::SUPERUSER_EMAIL;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let data = dir.path().join("data");
    let made = superuser(
        &data,
        db.as_deref(),
        &[
            "upsert",
            SUPERUSER_EMAIL,
            crate::helpers::SUPERUSER_PASSWORD,
        ],
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let server = serve_in(dir.path(), db.as_deref(), &[]).await;
    let token = server
        .login(SUPERUSER_EMAIL)
        .await
        .expect("a superuser token");
    let patched = server
        .client
        .patch(server.url("/api/settings"))
        .header("Authorization", &token)
        .json(&json!({"logs": {"minLevel": -4}}))
        .send()
        .await
        .expect("settings");
    assert_eq!(patched.status(), 200);
    // A refused filter is a debug event of the server.
    let refused = server
        .client
        .get(server.url("/api/collections/users/records?filter=bad(("))
        .send()
        .await
        .expect("list");
    assert_eq!(refused.status(), 400);
    let mut found = Value::Null;
    // Polled for 60 s at most: entries are stored within 0.1 s, but a loaded machine is slow.
    for _ in 0..300 {
        let r: Value = server
            .client
            // Unfiltered: under the whole suite on PostgreSQL a filtered read once found
            // nothing for 30 s while an unfiltered one right after found the entry (being
            // looked into); this test is about app entries, the filters have their own.
            .get(server.url("/api/logs?perPage=200"))
            .header("Authorization", &token)
            .send()
            .await
            .expect("logs")
            .json()
            .await
            .expect("json");
        let entry = r["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|e| e["level"] == -4 && e["message"] == "invalid filter or sort")
                .cloned()
        });
        if let Some(entry) = entry {
            found = entry;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    if found.is_null() {
        let get = |path: &str| {
            server
                .client
                .get(server.url(path))
                .header("Authorization", &token)
                .send()
        };
        let all: Value = get("/api/logs?perPage=100")
            .await
            .expect("logs")
            .json()
            .await
            .expect("json");
        let settings: Value = get("/api/settings")
            .await
            .expect("settings")
            .json()
            .await
            .expect("json");
        panic!(
            "no app entry; logs settings {}; entries {all}",
            settings["logs"]
        );
    }
    assert_eq!(found["level"], -4, "no app entry: {found}");
    assert!(found["data"]["error"].is_string(), "{found}");
    assert!(found["data"].get("type").is_none(), "{found}");
    let mut child = server.child;
    let _ = child.kill().await;
}

/// PostgreSQL's text holds no NUL: a `%00` in a URL must cost neither its entry nor the others
/// of its batch.
#[tokio::test]
async fn a_nul_in_a_request_is_logged_and_spoils_nothing() {
    let app = spawn_app().await;
    let (status, _) = app.raw_get("/api/collections/a%00b/records").await;
    assert_eq!(status, 404);
    app.get("/api/collections/after_nul/records", GUEST)
        .await
        .expect(404);
    let nul = entries_for(&app, "/api/collections/a%00b/records").await;
    assert_eq!(nul.len(), 1, "{nul:?}");
    assert_eq!(nul[0]["message"], "GET /api/collections/a\u{FFFD}b/records");
    assert_eq!(
        entries_for(&app, "/api/collections/after_nul/records")
            .await
            .len(),
        1
    );
}

/// PocketBase logs the caller of every request, on routes that never ask who calls too.
#[tokio::test]
async fn the_caller_is_logged_on_routes_without_rules() {
    let app = spawn_app().await;
    let user = app.create_user("files@example.com").await;
    app.get("/api/files/nope/nope/nope.txt", &user.token)
        .await
        .expect(404);
    let items = entries_for(&app, "/api/files/nope/nope/nope.txt").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["data"]["auth"], "users");
}

/// PB-COMPAT: a fraction where the setting is whole is PocketBase's undecodable body (it
/// would read as 0 days: logging off, every entry deleted).
#[tokio::test]
async fn a_fractional_max_days_is_refused() {
    let app = spawn_app().await;
    let r = app
        .request(
            Method::PATCH,
            "/api/settings",
            &app.superuser_token,
            Some(&json!({"logs": {"maxDays": 5.5}})),
        )
        .await;
    assert_error(
        &r,
        400,
        "An error occurred while loading the submitted data.",
    );
    let settings = app.get("/api/settings", &app.superuser_token).await;
    assert_eq!(settings.body["logs"]["maxDays"], 5);
}
