//! Backups: every endpoint and its errors as PocketBase answers them, a backup taken while a
//! writer keeps inserting restored into a fresh app, a restore through the API that restarts
//! the server in place, the schedule and its `cronMaxKeep`, and backups kept on S3.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{
    GUEST, Resp, TestApp, TestDatabase, assert_error, eventually, send, spawn_app,
    spawn_sqlite_app_at,
};

impl TestApp {
    async fn backups(&self, token: &str) -> Resp {
        self.get("/api/backups", token).await
    }

    async fn create_backup(&self, body: Option<Value>, token: &str) -> Resp {
        self.request(Method::POST, "/api/backups", token, body.as_ref())
            .await
    }

    async fn upload_backup(&self, name: &str, bytes: Vec<u8>, token: &str) -> Resp {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        let mut rb = self
            .client
            .post(self.url("/api/backups/upload"))
            .multipart(form);
        if !token.is_empty() {
            rb = rb.header("Authorization", token);
        }
        send(rb).await
    }

    async fn file_token_of(&self, token: &str) -> String {
        let r = self
            .request(Method::POST, "/api/files/token", token, None)
            .await;
        r.expect(200);
        r.str("token").to_owned()
    }

    /// The backup's bytes, with a superuser's file token.
    async fn download_backup(&self, key: &str) -> Vec<u8> {
        let token = self.file_token_of(&self.superuser_token).await;
        let r = self
            .client
            .get(self.url(&format!("/api/backups/{key}?token={token}")))
            .send()
            .await
            .expect("download");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/zip");
        r.bytes().await.expect("body").to_vec()
    }

    fn keys(list: &Resp) -> Vec<String> {
        list.body
            .as_array()
            .expect("a list")
            .iter()
            .map(|b| b["key"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

/// Extracts a downloaded backup into `dir` (what a restore into a fresh data dir does).
fn extract(bytes: &[u8], dir: &Path) {
    let zip = dir.with_extension("zip");
    std::fs::write(&zip, bytes).expect("zip");
    oxbase_core::backups::archive::extract(&zip, dir).expect("a valid backup");
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).expect("open the snapshot");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check")
}

#[tokio::test]
async fn backup_endpoints_answer_as_pocketbase() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let user = app.create_user("u@example.com").await;

    assert_error(
        &app.backups(GUEST).await,
        401,
        "The request requires valid record authorization token.",
    );
    assert_error(
        &app.backups(&user.token).await,
        403,
        "The authorized record is not allowed to perform this action.",
    );
    assert_eq!(app.backups(&su).await.body, json!([]));

    let bad = app
        .create_backup(Some(json!({"name": "Bad.zip"})), &su)
        .await;
    assert_error(
        &bad,
        400,
        "An error occurred while validating the submitted data.",
    );
    assert_eq!(bad.body["data"]["name"]["code"], "validation_match_invalid");
    let long = format!("{}.zip", "a".repeat(160));
    let r = app.create_backup(Some(json!({"name": long})), &su).await;
    assert_eq!(
        r.body["data"]["name"]["code"],
        "validation_length_out_of_range"
    );
    assert_eq!(
        r.body["data"]["name"]["params"],
        json!({"max": 150, "min": 1})
    );
    assert_error(
        &app.create_backup(Some(json!({"name": 1})), &su).await,
        400,
        "An error occurred while loading the submitted data.",
    );
    assert_error(
        &app.create_backup(Some(json!({"name": "x.zip"})), &user.token)
            .await,
        403,
        "The authorized record is not allowed to perform this action.",
    );

    app.create_backup(Some(json!({"name": "one.zip"})), &su)
        .await
        .expect(204);
    let dup = app
        .create_backup(Some(json!({"name": "one.zip"})), &su)
        .await;
    assert_eq!(
        dup.body["data"]["name"]["code"],
        "validation_backup_name_exists"
    );
    app.create_backup(None, &su).await.expect(204);
    let list = app.backups(&su).await;
    let keys = TestApp::keys(&list);
    assert_eq!(keys.len(), 2, "{}", list.text);
    assert_eq!(keys[0], "one.zip");
    assert!(keys[1].starts_with("pb_backup_acme_"), "{keys:?}");
    let first = &list.body[0];
    assert!(first["size"].as_u64().unwrap_or(0) > 0);
    assert!(first["modified"].as_str().unwrap_or("").ends_with('Z'));

    // Downloads need a superuser's file token.
    let forbidden = "Insufficient permissions to access the resource.";
    let (status, body) = app.raw_get("/api/backups/one.zip").await;
    assert_eq!((status, body.contains(forbidden)), (403, true));
    let user_file = app.file_token_of(&user.token).await;
    let (status, _) = app
        .raw_get(&format!("/api/backups/one.zip?token={user_file}"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .raw_get(&format!("/api/backups/one.zip?token={su}"))
        .await;
    assert_eq!(status, 403, "an auth token is not a file token");
    let su_file = app.file_token_of(&su).await;
    for missing in ["nope.zip", "..%2Fdata.db", "%2E%2E"] {
        let (status, body) = app
            .raw_get(&format!("/api/backups/{missing}?token={su_file}"))
            .await;
        assert_eq!(status, 404, "{missing}: {body}");
        assert!(!body.contains("/tmp"), "no path leaks: {body}");
    }
    let zip = app.download_backup("one.zip").await;
    let dir = tempfile::tempdir().expect("dir");
    extract(&zip, &dir.path().join("one"));
    assert_eq!(integrity(&dir.path().join("one/data.db")), "ok");

    // Uploads: a zip, under its own name (without any folder part).
    let r = app
        .request(Method::POST, "/api/backups/upload", &su, None)
        .await;
    assert_eq!(
        r.body["data"]["file"]["code"], "validation_required",
        "{}",
        r.text
    );
    let r = app.upload_backup("x.txt", b"hello".to_vec(), &su).await;
    assert_eq!(
        r.body["data"]["file"]["code"],
        "validation_invalid_mime_type"
    );
    assert!(
        r.body["data"]["file"]["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("mime type must be one of: application/zip.")
    );
    assert_error(
        &app.upload_backup("two.zip", zip.clone(), GUEST).await,
        401,
        "The request requires valid record authorization token.",
    );
    app.upload_backup("two.zip", zip.clone(), &su)
        .await
        .expect(204);
    let dup = app.upload_backup("two.zip", zip.clone(), &su).await;
    assert_eq!(
        dup.body["data"]["file"]["code"],
        "validation_backup_name_exists"
    );
    app.upload_backup("../../evil.zip", zip.clone(), &su)
        .await
        .expect(204);
    let keys = TestApp::keys(&app.backups(&su).await);
    assert!(keys.contains(&"two.zip".to_owned()) && keys.contains(&"evil.zip".to_owned()));
    assert!(!app.data_dir.join("evil.zip").exists());

    // Deletes and restores of what is not there.
    let r = app
        .request(Method::DELETE, "/api/backups/nope.zip", &su, None)
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.str("message")
            .starts_with("Invalid or already deleted backup file.")
    );
    assert!(
        !r.text.contains(&app.data_dir.display().to_string()),
        "no path leaks"
    );
    assert_error(
        &app.request(Method::DELETE, "/api/backups/two.zip", &user.token, None)
            .await,
        403,
        "The authorized record is not allowed to perform this action.",
    );
    app.request(Method::DELETE, "/api/backups/two.zip", &su, None)
        .await
        .expect(204);
    assert!(!TestApp::keys(&app.backups(&su).await).contains(&"two.zip".to_owned()));
    assert_error(
        &app.request(Method::POST, "/api/backups/nope.zip/restore", &su, None)
            .await,
        400,
        "Missing or invalid backup file.",
    );
    assert_error(
        &app.request(
            Method::POST,
            "/api/backups/one.zip/restore",
            &user.token,
            None,
        )
        .await,
        403,
        "The authorized record is not allowed to perform this action.",
    );

    let health = app.get("/api/health", &su).await;
    assert_eq!(health.body["data"]["canBackup"], true);

    // A zip whose data.db is no oxbase database (a PocketBase backup, say) is refused when
    // the restore is prepared: the server never stops and serves its own data.
    let foreign = dir.path().join("foreign.zip");
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&foreign).expect("zip"));
        zip.start_file("data.db", zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(b"not a database").expect("write");
        zip.finish().expect("finish");
    }
    app.upload_backup("foreign.zip", std::fs::read(&foreign).expect("read"), &su)
        .await
        .expect(204);
    app.request(Method::POST, "/api/backups/foreign.zip/restore", &su, None)
        .await
        .expect(204);
    eventually("the refused restore to end", RESTART, || async {
        app.get("/api/health", &su).await.body["data"]["canBackup"] == true
    })
    .await;
    assert_eq!(app.backups(&su).await.status, 200, "still serving");
}

/// A backup taken while a writer keeps inserting: everything acknowledged before it started
/// is in it, the snapshot is sound, and the files are there.
#[tokio::test]
async fn a_backup_taken_while_writing_holds_every_acknowledged_record_and_file() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(json!({
        "name": "notes", "type": "base",
        "listRule": "", "viewRule": "", "createRule": "",
        "fields": [{"name": "n", "type": "number"}, {"name": "doc", "type": "file", "maxSelect": 1, "maxSize": 20000000}]
    }))
    .await;
    let form = Form::new().text("n", "-1").part(
        "doc",
        Part::bytes(b"hello backup".to_vec()).file_name("doc.txt"),
    );
    let with_file = send(
        app.client
            .post(app.url("/api/collections/notes/records"))
            .multipart(form),
    )
    .await;
    with_file.expect(200);
    let (file_id, file_name) = (
        with_file.str("id").to_owned(),
        with_file.body["doc"].as_str().unwrap_or("").to_owned(),
    );

    // A large file that does not compress, so the backup takes long enough to watch writes
    // go on meanwhile.
    let mut noise = Vec::with_capacity(8 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < 8 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let form = Form::new()
        .text("n", "-2")
        .part("doc", Part::bytes(noise).file_name("noise.bin"));
    send(
        app.client
            .post(app.url("/api/collections/notes/records"))
            .multipart(form),
    )
    .await
    .expect(200);

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (client, url) = (
            app.client.clone(),
            app.url("/api/collections/notes/records"),
        );
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = send(client.post(&url).json(&json!({"n": n}))).await;
                assert_eq!(r.status, 200, "{}", r.text);
                acknowledged.lock().push(r.str("id").to_owned());
                n += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before: Vec<String> = acknowledged.lock().clone();
    let creating = {
        let request = app
            .client
            .post(app.url("/api/backups"))
            .header("Authorization", &su)
            .json(&json!({"name": "live.zip"}));
        tokio::spawn(send(request))
    };
    // While it runs: health says no backup can start, and none does.
    let mut seen_busy = false;
    while !creating.is_finished() {
        let health = app.get("/api/health", &su).await;
        if health.body["data"]["canBackup"] == false {
            let other = app
                .create_backup(Some(json!({"name": "other.zip"})), &su)
                .await;
            if other.status == 400 {
                assert_error(
                    &other,
                    400,
                    "Try again later - another backup/restore process has already been started",
                );
                seen_busy = true;
                break;
            }
            // Else the backup had just ended: that one went through.
            other.expect(204);
        }
    }
    creating.await.expect("create").expect(204);
    let during = acknowledged.lock().len() - before.len();
    assert!(seen_busy, "the backup was seen running");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.expect("writer");
    // No downtime: writes were acknowledged while the backup ran (zipping the large file
    // above takes a while).
    assert!(
        before.len() > 5 && during > 0,
        "{} writes before the backup, {during} during it",
        before.len()
    );

    let zip = app.download_backup("live.zip").await;
    let dir = tempfile::tempdir().expect("dir");
    let fresh = dir.path().join("fresh");
    extract(&zip, &fresh);
    assert_eq!(integrity(&fresh.join("data.db")), "ok");
    // A fresh app over the extracted data dir (a SQLite one, whatever the source ran on).
    let restored = spawn_sqlite_app_at(&fresh).await;
    let listed = restored
        .list_records("notes", &[("perPage", "1000"), ("fields", "id")], &su)
        .await;
    listed.expect(200);
    let ids: std::collections::HashSet<String> = listed.ids().into_iter().collect();
    let missing: Vec<&String> = before.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but missing: {missing:?}"
    );
    assert!(ids.contains(&file_id));
    let (status, body) = restored
        .raw_get(&format!("/api/files/notes/{file_id}/{file_name}"))
        .await;
    assert_eq!((status, body.as_str()), (200, "hello backup"));
    restored.stop().await;
}

/// How long a restore may take to restart the server.
const RESTART: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_restore_through_the_api_restarts_the_server_in_place_on_the_restored_data() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(
        json!({"name": "notes", "type": "base", "fields": [{"name": "t", "type": "text"}]}),
    )
    .await;
    let kept = app.must_create_record("notes", json!({"t": "kept"})).await;
    app.create_backup(Some(json!({"name": "before.zip"})), &su)
        .await
        .expect(204);
    app.must_create_record("notes", json!({"t": "after"})).await;
    app.update_settings(json!({"meta": {"appName": "Changed"}}), &su)
        .await
        .expect(200);
    app.must_create_collection(json!({"name": "later", "type": "base"}))
        .await;

    app.request(Method::POST, "/api/backups/before.zip/restore", &su, None)
        .await
        .expect(204);
    eventually("the restored settings", RESTART, || async {
        let r = app.get("/api/settings", &su).await;
        r.status == 200 && r.body["meta"]["appName"] == "Acme"
    })
    .await;
    let listed = app.list_records("notes", &[], &su).await;
    listed.expect(200);
    assert_eq!(
        listed.ids(),
        vec![kept["id"].as_str().unwrap_or("").to_owned()]
    );
    assert_eq!(app.view_collection("later", &su).await.status, 404);
    let health = app.get("/api/health", &su).await;
    assert_eq!(health.body["data"]["canBackup"], true);
    // The restored app takes writes and backups again.
    app.must_create_record("notes", json!({"t": "new"})).await;
    app.create_backup(Some(json!({"name": "again.zip"})), &su)
        .await
        .expect(204);
    app.stop().await;
}

#[tokio::test]
async fn scheduled_backups_keep_cron_max_keep_copies() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let r = app
        .update_settings(json!({"backups": {"cron": "* * *"}}), &su)
        .await;
    r.expect(400);
    assert_eq!(
        r.body["data"]["backups"]["cron"]["code"],
        "validation_invalid_cron"
    );
    assert_eq!(
        r.body["data"]["backups"]["cron"]["message"],
        "Invalid cron expression - must be a valid macro or to have exactly 5 space separated segments."
    );
    let r = app
        .update_settings(
            json!({"backups": {"cron": "0 0 * * *", "cronMaxKeep": 0}}),
            &su,
        )
        .await;
    assert_eq!(
        r.body["data"]["backups"]["cronMaxKeep"]["code"],
        "validation_required"
    );

    app.update_settings(
        json!({"backups": {"cron": "0 3 * * *", "cronMaxKeep": 2}}),
        &su,
    )
    .await
    .expect(200);
    let crons = app.get("/api/crons", &su).await;
    assert!(
        crons
            .text
            .contains(r#"{"id":"__pbAutoBackup__","expression":"0 3 * * *"}"#),
        "{}",
        crons.text
    );
    app.create_backup(Some(json!({"name": "manual.zip"})), &su)
        .await
        .expect(204);
    for _ in 0..3 {
        app.core
            .crons()
            .run_and_wait("__pbAutoBackup__")
            .await
            .expect("a scheduled backup");
        // The generated names are to the second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let keys = TestApp::keys(&app.backups(&su).await);
    let auto: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("@auto_pb_backup_acme_"))
        .collect();
    assert_eq!(auto.len(), 2, "{keys:?}");
    assert!(
        keys.contains(&"manual.zip".to_owned()),
        "manual backups are not pruned"
    );

    app.update_settings(json!({"backups": {"cron": ""}}), &su)
        .await
        .expect(200);
    let crons = app.get("/api/crons", &su).await;
    assert!(!crons.text.contains("__pbAutoBackup__"), "{}", crons.text);
}

#[tokio::test]
async fn backups_can_be_kept_on_s3() {
    let moto = crate::files::start_moto().await;
    moto.create_bucket("oxbase-backups").await;
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let s3 = json!({"enabled": true, "bucket": "oxbase-backups", "region": "us-east-1", "endpoint": moto.endpoint, "accessKey": "test", "secret": "test", "forcePathStyle": true});
    app.update_settings(json!({"backups": {"s3": s3}}), &su)
        .await
        .expect(200);
    app.must_create_collection(
        json!({"name": "notes", "type": "base", "fields": [{"name": "t", "type": "text"}]}),
    )
    .await;
    let kept = app.must_create_record("notes", json!({"t": "kept"})).await;
    app.create_backup(Some(json!({"name": "s3.zip"})), &su)
        .await
        .expect(204);
    assert!(
        !app.data_dir.join("backups/s3.zip").exists(),
        "kept in the bucket"
    );
    assert_eq!(
        TestApp::keys(&app.backups(&su).await),
        vec!["s3.zip".to_owned()]
    );
    let zip = app.download_backup("s3.zip").await;
    assert!(zip.starts_with(b"PK"));
    app.must_create_record("notes", json!({"t": "after"})).await;
    app.request(Method::POST, "/api/backups/s3.zip/restore", &su, None)
        .await
        .expect(204);
    eventually("the restored records", RESTART, || async {
        let r = app.list_records("notes", &[], &su).await;
        r.status == 200 && r.ids() == vec![kept["id"].as_str().unwrap_or("").to_owned()]
    })
    .await;
    app.request(Method::DELETE, "/api/backups/s3.zip", &su, None)
        .await
        .expect(204);
    assert_eq!(app.backups(&su).await.body, json!([]));
    app.stop().await;
}

/// A restore that fails part-way (here: a record table of the backup is missing, so its copy
/// fails after the settings and definitions are in) leaves the
/// app on its own data. On PostgreSQL the whole replacement is one transaction, rolled back;
/// SQLite copies the file in one step (and takes this backup as it is), so PostgreSQL only.
#[tokio::test]
async fn a_restore_failing_part_way_leaves_the_app_on_its_data() {
    let app = spawn_app().await;
    if !app.on_postgres() {
        return;
    }
    let su = app.superuser_token.clone();
    app.must_create_collection(
        json!({"name": "notes", "type": "base", "fields": [{"name": "t", "type": "text"}]}),
    )
    .await;
    app.must_create_record("notes", json!({"t": "kept"})).await;
    app.create_backup(Some(json!({"name": "good.zip"})), &su)
        .await
        .expect(204);
    let dir = tempfile::tempdir().expect("temp dir");
    let extracted = dir.path().join("good");
    extract(&app.download_backup("good.zip").await, &extracted);
    {
        let conn = rusqlite::Connection::open(extracted.join("data.db")).expect("open");
        conn.execute_batch("DROP TABLE \"notes\"")
            .expect("break the backup");
    }
    let broken = dir.path().join("broken.zip");
    oxbase_core::backups::archive::write(
        &broken,
        &extracted.join("data.db"),
        &extracted.join("storage"),
    )
    .expect("zip");
    app.upload_backup("broken.zip", std::fs::read(&broken).expect("read"), &su)
        .await
        .expect(204);
    let after = app.must_create_record("notes", json!({"t": "after"})).await;
    app.update_settings(json!({"meta": {"appName": "Changed"}}), &su)
        .await
        .expect(200);

    app.request(Method::POST, "/api/backups/broken.zip/restore", &su, None)
        .await
        .expect(204);
    eventually("the failed restore to end", RESTART, || async {
        let r = app.get("/api/health", &su).await;
        r.status == 200 && r.body["data"]["canBackup"] == true
    })
    .await;
    let settings = app.get("/api/settings", &su).await;
    assert_eq!(settings.body["meta"]["appName"], "Changed");
    let listed = app.list_records("notes", &[], &su).await;
    listed.expect(200);
    assert_eq!(listed.items().len(), 2);
    assert!(
        listed
            .ids()
            .contains(&after["id"].as_str().unwrap_or("").to_owned())
    );
    app.stop().await;
}

/// A PostgreSQL backup reads one snapshot through one connection: when that connection is
/// lost, every later read fails (the backup with it) instead of going on, consistent no
/// more, on a fresh connection.
#[tokio::test]
async fn a_postgres_snapshot_whose_connection_is_lost_fails_its_reads() {
    use oxbase_core::store::Db;
    use oxbase_core::store::snapshot::Snapshot;
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let db = Db::Postgres(
        oxbase_core::store::postgres::PgDb::connect(&database.url, 2)
            .await
            .expect("connect"),
    );
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let Ok(Snapshot::Pinned(pinned)) = db.snapshot(file.path()).await else {
        panic!("a pinned snapshot");
    };
    let pid_sql = || oxbase_sql::Sql::raw("SELECT pg_backend_pid()");
    let pid = pinned
        .read(move |conn| conn.query_scalar(&pid_sql()))
        .await
        .expect("the snapshot reads");
    let mut kill = oxbase_sql::Sql::raw("SELECT pg_terminate_backend(");
    kill.push_param(pid.expect("a pid"));
    kill.push(")");
    db.write(move |conn| conn.query_scalar(&kill))
        .await
        .expect("terminate the snapshot's connection");
    for _ in 0..3 {
        let read = pinned
            .read(|conn| conn.query_scalar(&oxbase_sql::Sql::raw("SELECT 1")))
            .await;
        assert!(read.is_err(), "a read after the connection was lost");
    }
    pinned.close().await;
    db.close().await;
}

/// A backup uploaded under a name with characters storage paths escape (`%`, `#`, …) is
/// listed, downloaded, restorable and deleted under that name, as in PocketBase.
#[tokio::test]
async fn a_backup_named_with_escaped_characters_is_usable() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.create_backup(Some(json!({"name": "plain.zip"})), &su)
        .await
        .expect(204);
    let bytes = app.download_backup("plain.zip").await;
    let name = "Weird Name%#[1]~.zip";
    app.upload_backup(name, bytes.clone(), &su)
        .await
        .expect(204);
    let listed = app.backups(&su).await;
    listed.expect(200);
    assert!(
        TestApp::keys(&listed).contains(&name.to_owned()),
        "{:?}",
        listed.body
    );
    let escaped = "Weird%20Name%25%23%5B1%5D~.zip";
    assert_eq!(app.download_backup(escaped).await, bytes);
    app.request(
        Method::DELETE,
        &format!("/api/backups/{escaped}"),
        &su,
        None,
    )
    .await
    .expect(204);
    assert!(!TestApp::keys(&app.backups(&su).await).contains(&name.to_owned()));
    app.stop().await;
}
