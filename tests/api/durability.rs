//! What the server acknowledged survives a graceful shutdown and a reopen of the data dir.

use serde_json::json;

use crate::helpers::{USER_PASSWORD, public_collection, spawn_app, spawn_app_at};

#[tokio::test]
async fn acknowledged_records_survive_a_graceful_shutdown_and_reopen() {
    let app = spawn_app().await;
    app.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]),
    ))
    .await;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(
            app.must_create_record("notes", json!({"title": format!("note {n}"), "n": n}))
                .await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let updated = app
        .update_record(
            "notes",
            &ids[0],
            json!({"title": "edited"}),
            &app.superuser_token,
        )
        .await;
    updated.expect(200);
    assert_eq!(
        app.delete_record("notes", &ids[1], &app.superuser_token)
            .await
            .status,
        204
    );
    app.create_user("keep@example.com").await;

    assert!(
        app.on_postgres() || app.data_dir.join("data.db").exists(),
        "the SQLite file lives in the data dir"
    );
    let dir = app.stop().await.expect("the temp dir comes back");
    let again = spawn_app_at(dir.path()).await;
    let list = again
        .list_records(
            "notes",
            &[("perPage", "100"), ("sort", "n")],
            &again.superuser_token,
        )
        .await;
    list.expect(200);
    assert_eq!(list.body["totalItems"], 49);
    let mut expected = ids.clone();
    expected.remove(1);
    assert_eq!(list.ids(), expected);
    assert_eq!(list.items()[0]["title"], "edited");
    again
        .auth_with_password("users", "keep@example.com", USER_PASSWORD)
        .await
        .expect(200);
    again.stop().await;
}

#[tokio::test]
async fn collections_survive_a_reopen_with_their_rules() {
    let app = spawn_app().await;
    app.must_create_collection(
        json!({"name": "kept", "listRule": "", "fields": [{"name": "title", "type": "text"}]}),
    )
    .await;
    let dir = app.stop().await.expect("temp dir");
    let again = spawn_app_at(dir.path()).await;
    let c = again.view_collection("kept", &again.superuser_token).await;
    c.expect(200);
    assert_eq!(c.body["listRule"], "");
    assert_eq!(c.body["viewRule"], serde_json::Value::Null);
    again.stop().await;
}

/// A running server holds its SQLite file: its caches see every write only because every
/// write is its own. Another process on the same data dir fails fast and says why; once the
/// server's process is gone (even killed), the file is free again.
#[tokio::test]
async fn a_second_process_cannot_open_a_running_servers_sqlite_file() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let oxbase = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oxbase"));
        cmd.args(args).arg("--dir").arg(dir.path());
        cmd.env_remove("OXBASE_DATABASE_URL");
        cmd
    };
    let upsert = || {
        oxbase(&["superuser", "upsert", "second@example.com", "1234567890abc"])
            .output()
            .expect("run oxbase")
    };
    // Port 0: the server says in its banner which port it got.
    let mut serve = crate::cli::oxbase();
    serve
        .args(["serve", "--http", "127.0.0.1:0", "--dir"])
        .arg(dir.path());
    let mut server = crate::cli::serve(serve).await;
    let (client, health) = (server.client.clone(), server.url("/api/health"));

    let started = std::time::Instant::now();
    let refused = upsert();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "a second process opened the file"
    );
    assert!(
        stderr.contains("in use by another process"),
        "the error says why: {stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "it fails after the startup wait, not after a write's busy timeout"
    );
    let still = client
        .get(&health)
        .send()
        .await
        .expect("the server still answers");
    assert_eq!(still.status(), 200);

    server
        .child
        .kill()
        .await
        .expect("kill -9 the server and reap it");
    let accepted = upsert();
    assert!(
        accepted.status.success(),
        "the file is free once the server is gone: {}",
        String::from_utf8_lossy(&accepted.stderr)
    );
}
