//! `oxbase import-pocketbase`: a real PocketBase 0.40.6 app (made through its own API: a
//! collection with a relation and a file, a user) is imported, then served by oxbase: the
//! records, the users with their PocketBase passwords, and the files. On SQLite, and on
//! PostgreSQL in the test command's PostgreSQL pass.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::*;

/// The reference PocketBase binary (`../shared/tools/pocketbase-ref --path` installs it).
pub(crate) fn pocketbase_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("PB_BIN") {
        return PathBuf::from(bin);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tool = [
        repo.join("../shared/tools/pocketbase-ref"),
        PathBuf::from("/work/shared/tools/pocketbase-ref"),
    ]
    .into_iter()
    .find(|t| t.exists())
    .expect("the reference PocketBase tool (../shared/tools/pocketbase-ref), or PB_BIN");
    let out = Command::new(tool)
        .arg("--path")
        .output()
        .expect("pocketbase-ref --path");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

struct Pocketbase(Child);

impl Drop for Pocketbase {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Makes a small PocketBase app in `root/pb_data` through PocketBase itself.
async fn make_pocketbase_app(root: &Path) -> (PathBuf, String) {
    let bin = pocketbase_bin();
    let pb_data = root.join("pb_data");
    let status = Command::new(&bin)
        .args([
            "superuser",
            "upsert",
            SUPERUSER_EMAIL,
            SUPERUSER_PASSWORD,
            "--dir",
        ])
        .arg(&pb_data)
        .stdout(Stdio::null())
        .status()
        .expect("pocketbase superuser upsert");
    assert!(status.success());
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let (child, port) = crate::helpers::start_on_free_port(
        "PocketBase",
        |port| {
            Command::new(&bin)
                .args([
                    "serve",
                    "--http",
                    &format!("127.0.0.1:{port}"),
                    "--automigrate=false",
                    "--dir",
                ])
                .arg(&pb_data)
                .arg("--migrationsDir")
                .arg(root.join("pb_migrations"))
                .arg("--hooksDir")
                .arg(root.join("pb_hooks"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("pocketbase serve")
        },
        |port| {
            let http = http.clone();
            async move {
                http.get(format!("http://127.0.0.1:{port}/api/health"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        },
    )
    .await;
    let server = Pocketbase(child);
    let base = format!("http://127.0.0.1:{port}");
    let post = |path: &str, token: &str, body: Value| {
        let mut rb = http.post(format!("{base}{path}")).json(&body);
        if !token.is_empty() {
            rb = rb.header("Authorization", token);
        }
        rb.send()
    };
    let login: Value = post(
        "/api/collections/_superusers/auth-with-password",
        "",
        json!({"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD}),
    )
    .await
    .expect("login")
    .json()
    .await
    .expect("json");
    let su = login["token"]
        .as_str()
        .expect("a superuser token")
        .to_owned();
    let user: Value = post("/api/collections/users/records", &su, json!({"email": "pb-user@example.com", "password": "pb-password-1", "passwordConfirm": "pb-password-1", "name": "From PB"})).await.expect("user").json().await.expect("json");
    let users_id: Value = http
        .get(format!("{base}/api/collections/users"))
        .header("Authorization", &su)
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("json");
    post("/api/collections", &su, json!({
        "name": "notes", "type": "base", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "title", "type": "text"}, {"name": "rank", "type": "number"}, {"name": "done", "type": "bool"},
            {"name": "meta", "type": "json"}, {"name": "owner", "type": "relation", "collectionId": users_id["id"], "maxSelect": 1},
            {"name": "doc", "type": "file", "maxSelect": 1}
        ]
    }))
    .await
    .expect("collection");
    for i in 0..25 {
        let form = Form::new()
            .text("title", format!("note {i:02}"))
            .text("rank", i.to_string())
            .text("done", (i % 2 == 0).to_string())
            .text("meta", json!({"i": i}).to_string())
            .text("owner", user["id"].as_str().unwrap_or("").to_owned())
            .part(
                "doc",
                Part::bytes(format!("file of note {i}").into_bytes())
                    .file_name(format!("note{i}.txt")),
            );
        let r = http
            .post(format!("{base}/api/collections/notes/records"))
            .header("Authorization", &su)
            .multipart(form)
            .send()
            .await
            .expect("record");
        assert!(
            r.status().is_success(),
            "{}",
            r.text().await.unwrap_or_default()
        );
    }
    drop(server);
    (pb_data, user["id"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn a_pocketbase_app_is_imported_with_its_records_users_and_files() {
    let root = tempfile::tempdir().expect("temp dir");
    let (pb_data, user_id) = make_pocketbase_app(root.path()).await;
    let dir = root.path().join("ox_data");
    let database = TestDatabase::create().await;
    oxbase::transfer::import_pocketbase(&pb_data, &dir, database.as_ref().map(|d| d.url.as_str()))
        .await
        .expect("import");

    // On PostgreSQL the app starts on the imported superuser as it is (its bcrypt hash).
    let app = match database {
        Some(db) => spawn_app_on_database_at(&dir, db).await,
        None => spawn_app_at(&dir).await,
    };
    let list = app
        .list_records("notes", &[("sort", "rank"), ("expand", "owner")], GUEST)
        .await;
    list.expect(200);
    assert_eq!(list.body["totalItems"], 25);
    let first = &list.items()[0];
    assert_eq!(first["title"], "note 00");
    assert_eq!(first["rank"], 0);
    assert_eq!(first["done"], true);
    assert_eq!(first["meta"], json!({"i": 0}));
    assert_eq!(first["owner"], user_id);
    let file = first["doc"].as_str().expect("a file name");
    let download = app
        .client
        .get(app.url(&format!(
            "/api/files/notes/{}/{file}",
            first["id"].as_str().unwrap_or("")
        )))
        .send()
        .await
        .expect("download");
    assert_eq!(download.status(), 200);
    assert_eq!(download.text().await.expect("body"), "file of note 0");
    let login = app
        .auth_with_password("users", "pb-user@example.com", "pb-password-1")
        .await;
    login.expect(200);
    assert_eq!(login.body["record"]["name"], "From PB");
    // And the imported app takes new writes.
    app.create_record(
        "notes",
        json!({"title": "after import"}),
        &app.superuser_token,
    )
    .await
    .expect(200);
}
