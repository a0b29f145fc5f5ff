//! The binary itself (`target/debug/oxbase`, built with the tests): `serve` configured by flags
//! or by the `OXBASE_*` variables, CORS with `--origins`, the `superuser` commands, and a
//! graceful stop (SIGTERM, SIGINT) under load. Servers listen on `127.0.0.1:0` and the test
//! reads the address they got from their banner, so no port is ever guessed. With
//! `OXBASE_TEST_DATABASE_URL` set, every server runs on a fresh PostgreSQL database.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{SUPERUSER_EMAIL, SUPERUSER_PASSWORD, TestDatabase};

/// The variables README.md documents, one per flag.
const VARIABLES: [&str; 19] = [
    "OXBASE_HTTP",
    "OXBASE_DIR",
    "OXBASE_PUBLIC_DIR",
    "OXBASE_ORIGINS",
    "OXBASE_MAX_BODY_SIZE",
    "OXBASE_DATABASE_URL",
    "OXBASE_DATABASE_CONNECTIONS",
    "OXBASE_PUBSUB",
    "OXBASE_BUSY_POLL",
    "OXBASE_LOG_FORMAT",
    "OXBASE_METRICS",
    "OXBASE_METRICS_TOKEN",
    "OXBASE_OTLP_ENDPOINT",
    "OXBASE_HOOKS_DIR",
    "OXBASE_HOOKS_POOL",
    "OXBASE_HOOKS_TIMEOUT",
    "OXBASE_HOOKS_MEMORY",
    "OXBASE_MIGRATIONS_DIR",
    "OXBASE_AUTOMIGRATE",
];

/// `oxbase` with none of its variables inherited from the test's environment.
pub(crate) fn oxbase() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxbase"));
    for v in VARIABLES {
        cmd.env_remove(v);
    }
    cmd.kill_on_drop(true);
    cmd
}

/// A command's exit status and output.
pub(crate) struct Output {
    pub(crate) ok: bool,
    stdout: String,
    pub(crate) stderr: String,
}

async fn run(mut cmd: Command) -> Output {
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the command ends within 60 s")
        .expect("run oxbase");
    Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `oxbase superuser ARGS` on `dir` (and `database`).
pub(crate) async fn superuser(
    dir: &Path,
    database: Option<&TestDatabase>,
    args: &[&str],
) -> Output {
    command(dir, database, "superuser", args).await
}

/// `oxbase <command> <args> --dir dir [--db url]`.
pub(crate) async fn command(
    dir: &Path,
    database: Option<&TestDatabase>,
    command: &str,
    args: &[&str],
) -> Output {
    let mut cmd = oxbase();
    cmd.arg(command).args(args).arg("--dir").arg(dir);
    if let Some(db) = database {
        cmd.arg("--db").arg(&db.url);
    }
    run(cmd).await
}

/// A running `oxbase serve`.
pub(crate) struct Server {
    pub(crate) child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    /// The first lines it printed after its banner.
    pub(crate) output: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Starts `cmd` (an `oxbase ... serve` listening on port 0) and waits for its banner, which
/// it prints once it listens, with the address it got.
pub(crate) async fn serve(mut cmd: Command) -> Server {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start oxbase serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // Log lines may come first (stdout is the log too).
    let find = async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("read its stdout")
                .expect("a banner before the end of stdout");
            if let Some(base) = line.strip_prefix("Server started at ") {
                return base.to_owned();
            }
        }
    };
    let base = tokio::time::timeout(Duration::from_secs(30), find)
        .await
        .expect("the server starts within 30 s");
    // The rest of stdout is read (the first lines kept in `output`), so the server never
    // blocks on a full pipe.
    let output = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = output.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() < 200 {
                kept.push(line);
            }
        }
    });
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    Server {
        child,
        base,
        client,
        output,
    }
}

/// `oxbase serve --http 127.0.0.1:0 --dir <dir>/data --publicDir <dir>/public [--db] EXTRA`.
pub(crate) async fn serve_in(
    dir: &Path,
    database: Option<&TestDatabase>,
    extra: &[&str],
) -> Server {
    let mut cmd = oxbase();
    cmd.arg("serve")
        .args(["--http", "127.0.0.1:0", "--dir"])
        .arg(dir.join("data"))
        .arg("--publicDir")
        .arg(dir.join("public"))
        .args(extra);
    if let Some(db) = database {
        cmd.arg("--db").arg(&db.url);
    }
    serve(cmd).await
}

impl Server {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with `token`: the status and the JSON body (`null` when there is none).
    pub(crate) async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(self.url(path))
            .header("Authorization", token)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A superuser's token (`None` when the login fails).
    pub(crate) async fn login(&self, email: &str) -> Option<String> {
        let r = self
            .client
            .post(self.url("/api/collections/_superusers/auth-with-password"))
            .json(&json!({"identity": email, "password": SUPERUSER_PASSWORD}))
            .send()
            .await
            .expect("login request");
        if r.status() != 200 {
            return None;
        }
        let body: Value = r.json().await.expect("json");
        body["token"].as_str().map(str::to_owned)
    }

    /// Sends `signal` (`TERM`, `INT`) and waits, at most `within`, for the exit; whether it
    /// exited with status 0.
    pub(crate) async fn stop(mut self, signal: &str, within: Duration) -> bool {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{signal} {pid}");
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("oxbase did not exit within {within:?} of SIG{signal}"))
            .expect("wait");
        status.success()
    }
}

/// A fresh PostgreSQL database when the tests run on PostgreSQL.
pub(crate) async fn database() -> Option<Arc<TestDatabase>> {
    TestDatabase::create().await
}

#[tokio::test]
async fn origins_narrow_cors_and_a_preflight_answers_204() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let server = serve_in(
        dir.path(),
        db.as_deref(),
        &["--origins", "https://a.example,https://b.example"],
    )
    .await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/api/health"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_owned())
    };
    for origin in ["https://a.example", "https://b.example"] {
        let r = preflight(origin).await.expect("preflight");
        // PB-COMPAT: PocketBase answers a preflight with 204.
        assert_eq!(r.status(), 204, "{origin}");
        assert_eq!(
            header(&r, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        let methods = header(&r, "access-control-allow-methods").unwrap_or_default();
        assert!(
            methods.contains("POST") && methods.contains("DELETE"),
            "{methods}"
        );
        assert!(header(&r, "access-control-allow-headers").is_some());
        let get = server
            .client
            .get(server.url("/api/health"))
            .header("Origin", origin)
            .send()
            .await
            .expect("get");
        assert_eq!(get.status(), 200);
        assert_eq!(
            header(&get, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert!(header(&get, "vary").is_some_and(|v| v.to_ascii_lowercase().contains("origin")));
    }
    // Another origin gets no CORS grant (the browser then refuses the response), as in
    // PocketBase; the request itself is still served.
    let r = preflight("https://evil.example").await.expect("preflight");
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let get = server
        .client
        .get(server.url("/api/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert_eq!(get.status(), 200);
    assert_eq!(header(&get, "access-control-allow-origin"), None);
    assert!(server.stop("TERM", Duration::from_secs(20)).await);

    // Without --origins, every origin is allowed.
    let open = serve_in(dir.path(), db.as_deref(), &[]).await;
    let r = open
        .client
        .request(reqwest::Method::OPTIONS, open.url("/api/health"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .expect("preflight");
    assert_eq!(r.status(), 204);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(open.stop("TERM", Duration::from_secs(20)).await);
}

#[tokio::test]
async fn every_oxbase_variable_configures_the_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let (cwd, data, public) = (
        dir.path().join("cwd"),
        dir.path().join("env-data"),
        dir.path().join("env-public"),
    );
    std::fs::create_dir_all(&cwd).expect("cwd");
    std::fs::create_dir_all(&public).expect("public");
    std::fs::write(public.join("index.html"), "served from OXBASE_PUBLIC_DIR").expect("index");
    let with_env = |args: &[&str]| {
        let mut cmd = oxbase();
        cmd.args(args)
            .current_dir(&cwd)
            .env("OXBASE_DIR", &data)
            .env("OXBASE_HTTP", "127.0.0.1:0")
            .env("OXBASE_PUBLIC_DIR", &public)
            .env("OXBASE_ORIGINS", "https://a.example,https://b.example")
            .env("OXBASE_MAX_BODY_SIZE", "4096")
            .env("OXBASE_DATABASE_CONNECTIONS", "3")
            .env("OXBASE_BUSY_POLL", "0");
        if let Some(db) = &db {
            cmd.env("OXBASE_DATABASE_URL", &db.url);
        }
        cmd
    };
    let upsert = run(with_env(&[
        "superuser",
        "upsert",
        SUPERUSER_EMAIL,
        SUPERUSER_PASSWORD,
    ]))
    .await;
    assert!(upsert.ok, "{}", upsert.stderr);
    let server = serve(with_env(&["serve"])).await;

    // OXBASE_HTTP: port 0 gave some port, not the default 8090.
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    assert!(!server.base.ends_with(":8090"));
    // OXBASE_DIR (and OXBASE_DATABASE_URL): the superuser upserted there logs in, and the
    // defaults in the working directory were never made.
    let token = server.login(SUPERUSER_EMAIL).await.expect("the superuser");
    assert!(data.is_dir());
    assert_eq!(
        data.join("data.db").exists(),
        db.is_none(),
        "SQLite only without a URL"
    );
    assert!(!cwd.join("ox_data").exists() && !cwd.join("ox_public").exists());
    // OXBASE_PUBLIC_DIR.
    let index = server
        .client
        .get(server.url("/"))
        .send()
        .await
        .expect("get /");
    assert_eq!(index.status(), 200);
    assert_eq!(
        index.text().await.expect("text"),
        "served from OXBASE_PUBLIC_DIR"
    );
    // OXBASE_ORIGINS, a comma-separated list.
    for (origin, allowed) in [
        ("https://a.example", true),
        ("https://b.example", true),
        ("https://c.example", false),
    ] {
        let r = server
            .client
            .get(server.url("/api/health"))
            .header("Origin", origin)
            .send()
            .await
            .expect("health");
        let granted = r.headers().get("access-control-allow-origin");
        assert_eq!(granted.is_some(), allowed, "{origin}");
    }
    // OXBASE_MAX_BODY_SIZE: 4096 bytes.
    let post = |fill: usize| {
        let body = json!({"name": "notes", "type": "base", "fields": [{"name": "x".repeat(fill), "type": "text"}]});
        server
            .client
            .post(server.url("/api/collections"))
            .header("Authorization", &token)
            .json(&body)
            .send()
    };
    assert_eq!(post(8000).await.expect("big").status(), 413);
    assert_ne!(post(10).await.expect("small").status(), 413);
    assert!(server.stop("TERM", Duration::from_secs(20)).await);

    // The other variables are read too: a value that cannot work stops the start, and says so.
    for (variable, value, says) in [
        ("OXBASE_DATABASE_CONNECTIONS", "many", "'many'"),
        ("OXBASE_BUSY_POLL", "soon", "'soon'"),
        ("OXBASE_MAX_BODY_SIZE", "big", "'big'"),
        ("OXBASE_HTTP", "300.1.1.1:1", "cannot listen on 300.1.1.1:1"),
        ("OXBASE_PUBSUB", "bogus://nowhere", "pubsub"),
    ] {
        let mut cmd = with_env(&["serve"]);
        cmd.env(variable, value);
        let out = run(cmd).await;
        assert!(!out.ok, "{variable}={value} started");
        assert!(
            out.stderr.to_ascii_lowercase().contains(says),
            "{variable}={value}: {}",
            out.stderr
        );
    }
    // OXBASE_DATABASE_URL without --db: a database nobody listens on is tried, not SQLite.
    let mut cmd = with_env(&["superuser", "upsert", "x@example.com", SUPERUSER_PASSWORD]);
    cmd.env("OXBASE_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
    let out = run(cmd).await;
    assert!(!out.ok, "{}", out.stdout);

    // `--help` names every variable README.md documents.
    let help = run({
        let mut cmd = oxbase();
        cmd.args(["serve", "--help"]);
        cmd
    })
    .await;
    for v in VARIABLES {
        assert!(
            help.stdout.contains(&format!("env: {v}")),
            "{v} in: {}",
            help.stdout
        );
    }
}

#[tokio::test]
async fn superuser_delete_removes_one_but_never_the_only_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let data = dir.path().join("data");
    let db = db.as_deref();
    for email in [SUPERUSER_EMAIL, "second@example.com"] {
        let out = superuser(&data, db, &["upsert", email, SUPERUSER_PASSWORD]).await;
        assert!(out.ok, "{}", out.stderr);
    }
    let out = superuser(&data, db, &["delete", "second@example.com"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().last(),
        Some("Successfully deleted superuser \"second@example.com\"!")
    );
    // PB-COMPAT: deleting nobody is no failure, as in PocketBase.
    let out = superuser(&data, db, &["delete", "nobody@example.com"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().last(),
        Some("superuser \"nobody@example.com\" is missing or already deleted")
    );
    // PB-COMPAT: the only superuser stays (the dashboard would be locked for good).
    let out = superuser(&data, db, &["delete", SUPERUSER_EMAIL]).await;
    assert!(!out.ok, "the only superuser was deleted");
    assert!(
        out.stderr
            .contains("You can't delete the only existing superuser."),
        "{}",
        out.stderr
    );
    let server = serve_in(dir.path(), db, &[]).await;
    assert!(server.login(SUPERUSER_EMAIL).await.is_some());
    assert!(
        server.login("second@example.com").await.is_none(),
        "deleted"
    );
    assert!(server.stop("TERM", Duration::from_secs(20)).await);
}

/// Writers hammering the server when the signal comes; one request is mid-body at that moment.
/// It must finish, every acknowledged write must be there after a restart, and the process
/// must exit 0 in bounded time.
async fn stop_under_load(signal: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let db = db.as_deref();
    let data = dir.path().join("data");
    let out = superuser(&data, db, &["upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD]).await;
    assert!(out.ok, "{}", out.stderr);
    let server = serve_in(dir.path(), db, &[]).await;
    let token = server.login(SUPERUSER_EMAIL).await.expect("login");
    let created = server
        .client
        .post(server.url("/api/collections"))
        .header("Authorization", &token)
        .json(&json!({"name": "notes", "createRule": "", "listRule": "", "fields": [{"name": "n", "type": "number"}, {"name": "by", "type": "text"}]}))
        .send()
        .await
        .expect("create notes");
    assert_eq!(created.status(), 200);

    // A request in flight: the server has taken its head (and said so with 100 Continue) and
    // waits for the rest of its body when the signal comes.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let body = json!({"n": -1, "by": "in flight"}).to_string();
    let head = format!(
        "POST /api/collections/notes/records HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    let mut continued = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(10), slow.read_exact(&mut continued))
        .await
        .expect("100 Continue in time")
        .expect("read 100 Continue");
    assert!(continued.starts_with(b"HTTP/1.1 100"), "{continued:?}");
    let (first, rest) = body.split_at(body.len() / 2);
    slow.write_all(first.as_bytes()).await.expect("half a body");

    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let statuses = Arc::new(std::sync::Mutex::new(Vec::<u16>::new()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (client, url) = (
                server.client.clone(),
                server.url("/api/collections/notes/records"),
            );
            let (acknowledged, statuses) = (acknowledged.clone(), statuses.clone());
            tokio::spawn(async move {
                for i in 0..400 {
                    if tokio::time::Instant::now() > deadline {
                        break;
                    }
                    let sent = client
                        .post(&url)
                        .json(&json!({"n": i, "by": format!("writer {w}")}))
                        .timeout(Duration::from_secs(15))
                        .send()
                        .await;
                    // Once the server stops accepting, requests fail: the writer is done.
                    let Ok(response) = sent else { break };
                    let status = response.status().as_u16();
                    let Ok(body) = response.json::<Value>().await else {
                        break;
                    };
                    statuses.lock().expect("statuses").push(status);
                    if status == 200 {
                        let id = body["id"].as_str().expect("an id").to_owned();
                        acknowledged.lock().expect("acks").push(id);
                    }
                }
            })
        })
        .collect();
    // The signal comes in the middle of the load.
    while acknowledged.lock().expect("acks").len() < 150 {
        assert!(tokio::time::Instant::now() < deadline, "no load");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = server.child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    // The in-flight request gets the rest of its body after the signal, and its answer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    slow.write_all(rest.as_bytes())
        .await
        .expect("the rest of the body");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_string(&mut answer))
        .await
        .expect("the in-flight request is answered")
        .expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let in_flight: Value =
        serde_json::from_str(answer.split_once("\r\n\r\n").map_or("", |(_, b)| b))
            .expect("a JSON record");
    acknowledged
        .lock()
        .expect("acks")
        .push(in_flight["id"].as_str().expect("id").to_owned());
    for w in writers {
        w.await.expect("writer");
    }
    let mut child = server.child;
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap_or_else(|_| panic!("oxbase did not exit within 20 s of SIG{signal}"))
        .expect("wait");
    assert!(status.success(), "SIG{signal}: exit {status}");
    let statuses = statuses.lock().expect("statuses").clone();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every answer during the stop was a success: {statuses:?}"
    );

    // Every acknowledged write is there after a restart.
    let again = serve_in(dir.path(), db, &[]).await;
    let token = again.login(SUPERUSER_EMAIL).await.expect("login");
    let mut stored = std::collections::HashSet::new();
    for page in 1.. {
        let list: Value = again
            .client
            .get(again.url(&format!(
                "/api/collections/notes/records?perPage=500&page={page}&fields=id&skipTotal=1"
            )))
            .header("Authorization", &token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        stored.extend(
            items
                .iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned)),
        );
        if items.len() < 500 {
            break;
        }
    }
    let acknowledged = acknowledged.lock().expect("acks").clone();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "SIG{signal}: {} acknowledged writes lost",
        lost.len()
    );
    assert!(again.stop("TERM", Duration::from_secs(20)).await);
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_requests_and_keeps_every_acknowledged_write() {
    stop_under_load("TERM").await;
}

#[tokio::test]
async fn sigint_under_load_finishes_in_flight_requests_and_keeps_every_acknowledged_write() {
    stop_under_load("INT").await;
}

/// Realtime streams never end by themselves: a stop ends them rather than wait for them.
#[tokio::test]
async fn a_stop_ends_open_realtime_streams() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let server = serve_in(dir.path(), db.as_deref(), &[]).await;
    let mut stream = server
        .client
        .get(server.url("/api/realtime"))
        .send()
        .await
        .expect("realtime");
    let first = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
        .await
        .expect("PB_CONNECT in time")
        .expect("a chunk")
        .expect("not the end");
    assert!(String::from_utf8_lossy(&first).contains("PB_CONNECT"));
    let reader = tokio::spawn(async move {
        // Drains to the end of the stream (or an error when the connection closes).
        while let Ok(Some(_)) = stream.chunk().await {}
    });
    assert!(server.stop("TERM", Duration::from_secs(8)).await, "exit 0");
    tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("the stream ended")
        .expect("reader");
}

/// `--logFormat json` (or `OXBASE_LOG_FORMAT=json`): one JSON object per log line on stdout.
#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    for by_env in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = oxbase();
        cmd.arg("serve")
            .args(["--http", "127.0.0.1:0", "--dir"])
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if by_env {
            cmd.env("OXBASE_LOG_FORMAT", "json");
        } else {
            cmd.args(["--logFormat", "json"]);
        }
        let mut child = cmd.spawn().expect("start oxbase serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let read = async {
            let mut base = None;
            let mut logged = Vec::new();
            while let Some(line) = lines.next_line().await.expect("stdout") {
                if let Some(b) = line.strip_prefix("Server started at ") {
                    base = Some(b.to_owned());
                    // A refused filter logs why at debug level.
                    let url = format!("{b}/api/collections/users/records?filter=bad((");
                    let _ = reqwest::get(url).await;
                } else if line.starts_with('{') {
                    let entry: Value = serde_json::from_str(&line).expect("a JSON log line");
                    logged.push(entry);
                    if logged
                        .iter()
                        .any(|e| e["message"] == "invalid filter or sort")
                    {
                        break;
                    }
                }
            }
            (base, logged)
        };
        let (base, logged) = tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("a log line within 30 s");
        assert!(base.is_some());
        let entry = logged
            .iter()
            .find(|e| e["message"] == "invalid filter or sort")
            .expect("the refused filter's log line");
        assert_eq!(entry["level"], "DEBUG");
        assert!(entry["timestamp"].is_string());
        assert!(entry["error"].is_string(), "fields are flattened: {entry}");
        let _ = child.kill().await;
    }
}

async fn backup(dir: &Path, database: Option<&TestDatabase>, args: &[&str]) -> Output {
    command(dir, database, "backup", args).await
}

#[tokio::test]
async fn backup_create_list_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    let data = dir.path().join("data");
    let db = db.as_deref();
    let out = superuser(&data, db, &["upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = backup(&data, db, &["create", "nightly.zip"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("Backup \"nightly.zip\" created."),
        "{}",
        out.stdout
    );
    let out = backup(&data, db, &["create"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = backup(&data, db, &["list"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("nightly.zip") && out.stdout.contains("pb_backup_acme_"),
        "{}",
        out.stdout
    );

    // A superuser added after the backup is gone once it is restored.
    let out = superuser(
        &data,
        db,
        &["upsert", "later@example.com", SUPERUSER_PASSWORD],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let out = backup(&data, db, &["restore", "nightly.zip"]).await;
    assert!(out.ok, "{}", out.stderr);
    let out = superuser(&data, db, &["delete", "later@example.com"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("missing or already deleted"),
        "{}",
        out.stdout
    );
    let out = backup(&data, db, &["restore", "../nightly.zip"]).await;
    assert!(
        !out.ok && out.stderr.contains("Missing or invalid backup file."),
        "{}",
        out.stderr
    );

    if db.is_none() {
        // SQLite: the server holds the data dir; the command refuses to run beside it.
        let server = serve_in(dir.path(), None, &[]).await;
        let out = backup(&data, None, &["restore", "nightly.zip"]).await;
        assert!(
            !out.ok && out.stderr.contains("in use by another process"),
            "{}",
            out.stderr
        );
        drop(server);
    }
}
