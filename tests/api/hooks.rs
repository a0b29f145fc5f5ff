//! JS hooks under their limits: a runaway hook (time or memory) fails its own request with a
//! 500 and harms no other; a thrown error keeps its JS stack in the logs; a file that throws
//! stops the start; `cronAdd` jobs run through the crons API; hooks writing inside a
//! transaction neither deadlock nor leave it open past their limits. (The PocketBase-compatible
//! corpus of the JS API itself is `tests/sdk/hooks.test.mjs`, run against both servers.)

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{GUEST, TestApp, spawn_app_with_hooks};

fn hooks_config(dir: &Path, timeout: Duration, memory_mib: usize) -> oxbase_js::HooksConfig {
    oxbase_js::HooksConfig {
        dir: dir.to_path_buf(),
        pool: 2,
        timeout,
        memory_bytes: memory_mib << 20,
        dev: false,
        data_dir: dir.to_path_buf(),
    }
}

async fn app_with(
    files: &[(&str, &str)],
    timeout: Duration,
    memory_mib: usize,
) -> (TestApp, tempfile::TempDir) {
    app_with_pool(files, timeout, memory_mib, 2).await
}

/// The same, with `pool` runtimes kept.
async fn app_with_pool(
    files: &[(&str, &str)],
    timeout: Duration,
    memory_mib: usize,
    pool: usize,
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    for (name, source) in files {
        std::fs::write(hooks.join(name), source).expect("hook file");
    }
    let data = dir.path().join("data");
    let mut config = hooks_config(&hooks, timeout, memory_mib);
    config.pool = pool;
    let app = spawn_app_with_hooks(&data, config).await;
    (app, dir)
}

const LIMITS: &str = r#"
routerAdd("GET", "/ok", (e) => e.json(200, { ok: true }))
routerAdd("GET", "/spin", (e) => { while (true) {} })
routerAdd("GET", "/spin-caught", (e) => { try { while (true) {} } catch (err) { return e.json(200, { escaped: true }) } })
routerAdd("GET", "/hog", (e) => { const all = []; while (true) { all.push("x".repeat(4096) + all.length) } })
routerAdd("GET", "/nested", (e) => {
  function innerMostFunction() { throw new Error("deep failure") }
  function middleFunction() { innerMostFunction() }
  middleFunction()
})
"#;

#[tokio::test]
async fn a_runaway_hook_fails_its_own_request_within_the_time_limit() {
    a_runaway_hook_fails_its_own_request_within_the_time_limit_body().await
}

/// The same with the handlers inline on the event loop (a multi-threaded runtime), which
/// has one worker: the runaway hands the loop on.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_runaway_hook_inline_on_the_only_worker_fails_alone() {
    a_runaway_hook_fails_its_own_request_within_the_time_limit_body().await
}

async fn a_runaway_hook_fails_its_own_request_within_the_time_limit_body() {
    let (app, _dir) = app_with(&[("limits.pb.js", LIMITS)], Duration::from_secs(1), 64).await;
    let started = Instant::now();
    let spin = app.get("/spin", GUEST);
    let others = async {
        // While one request spins, others are answered at once.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = Instant::now();
        let ok = app.get("/ok", GUEST).await;
        (ok, t.elapsed())
    };
    let (spun, (ok, ok_took)) = tokio::join!(spin, others);
    ok.expect(200);
    assert!(ok_took < Duration::from_millis(500), "took {ok_took:?}");
    spun.expect(500);
    assert_eq!(
        spun.body,
        json!({"status": 500, "message": "Something went wrong while processing your request.", "data": {}})
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    // The limit cannot be caught by the hook itself, and the next call runs normally.
    app.get("/spin-caught", GUEST).await.expect(500);
    app.get("/ok", GUEST).await.expect(200);
}

#[tokio::test]
async fn a_hook_over_its_memory_limit_fails_alone() {
    let (app, _dir) = app_with(&[("limits.pb.js", LIMITS)], Duration::from_secs(20), 32).await;
    let hog = app.get("/hog", GUEST).await;
    hog.expect(500);
    assert_eq!(
        hog.body["message"],
        "Something went wrong while processing your request."
    );
    for _ in 0..3 {
        app.get("/ok", GUEST).await.expect(200);
    }
}

/// Through the real binary: app log entries come from its tracing subscriber.
#[tokio::test]
async fn a_thrown_error_keeps_its_js_stack_in_the_logs() {
    use crate::cli::{database, serve_in, superuser};
    use crate::helpers::{SUPERUSER_EMAIL, SUPERUSER_PASSWORD};
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    std::fs::write(hooks.join("limits.pb.js"), LIMITS).expect("hook file");
    let db = database().await;
    let made = superuser(
        &dir.path().join("data"),
        db.as_deref(),
        &["upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD],
    )
    .await;
    assert!(made.ok, "{}", made.stderr);
    let hooks_arg = hooks.to_string_lossy().into_owned();
    let server = serve_in(dir.path(), db.as_deref(), &["--hooksDir", &hooks_arg]).await;
    let token = server
        .login(SUPERUSER_EMAIL)
        .await
        .expect("a superuser token");
    let nested = server
        .client
        .get(server.url("/nested"))
        .send()
        .await
        .expect("nested");
    assert_eq!(nested.status(), 400);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs: serde_json::Value = server
            .client
            .get(server.url("/api/logs?perPage=200"))
            .header("Authorization", &token)
            .send()
            .await
            .expect("logs")
            .json()
            .await
            .expect("json");
        let found = logs["items"].as_array().into_iter().flatten().any(|item| {
            let text = item.to_string();
            text.contains("deep failure")
                && text.contains("innerMostFunction")
                && text.contains("middleFunction")
        });
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no log entry with the stack: {logs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Why the app over `data` with the hook files of `hooks` does not start (SQLite).
async fn failed_start(data: &Path, hooks: &Path) -> String {
    let config = oxbase::ServeConfig {
        http: "127.0.0.1:0".into(),
        data_dir: data.to_path_buf(),
        database_url: None,
        db_connections: 4,
        pubsub: None,
        http_config: oxbase_api::HttpConfig::default(),
        hooks: Some(hooks_config(hooks, Duration::from_secs(5), 64)),
        migrations: None,
    };
    oxbase::Application::build(config)
        .await
        .err()
        .expect("the start fails")
}

#[tokio::test]
async fn a_file_that_throws_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    std::fs::write(
        hooks.join("a_ok.pb.js"),
        "routerAdd('GET', '/a', (e) => e.string(200, 'a'))",
    )
    .unwrap();
    std::fs::write(
        hooks.join("b_broken.pb.js"),
        "function setup() { throw new Error('broken setup') }\nsetup()",
    )
    .unwrap();
    let err = failed_start(&dir.path().join("data"), &hooks).await;
    assert!(err.contains("b_broken.pb.js"), "{err}");
    assert!(err.contains("broken setup"), "{err}");
    assert!(err.contains("setup"), "{err}");
}

#[tokio::test]
async fn cron_jobs_of_hook_files_run_through_the_crons_api() {
    let cron = r#"
cronAdd("hooks_tick", "0 0 1 1 *", () => {
  const record = new Record($app.findCollectionByNameOrId("ticks"))
  record.set("note", "ticked")
  $app.save(record)
})
cronAdd("removed_job", "* * * * *", () => {})
cronRemove("removed_job")
"#;
    let (app, _dir) = app_with(&[("cron.pb.js", cron)], Duration::from_secs(5), 64).await;
    app.must_create_collection(json!({
        "name": "ticks", "type": "base", "listRule": "", "fields": [{"name": "note", "type": "text"}]
    }))
    .await;
    let crons = app.get("/api/crons", &app.superuser_token).await;
    let ids: Vec<&str> = crons
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(ids.contains(&"hooks_tick"), "{ids:?}");
    assert!(!ids.contains(&"removed_job"), "{ids:?}");
    app.request(
        Method::POST,
        "/api/crons/hooks_tick",
        &app.superuser_token,
        None,
    )
    .await
    .expect(204);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = app.get("/api/collections/ticks/records", GUEST).await;
        if list.items().iter().any(|r| r["note"] == "ticked") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cron did not run: {}",
            list.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn lifecycle_hooks_run_at_start_and_at_close() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marks = dir.path().join("marks");
    std::fs::create_dir_all(&marks).expect("marks dir");
    let source = format!(
        r#"
onBootstrap((e) => {{ e.next(); $os.writeFile("{m}/bootstrap", "yes") }})
onServe((e) => {{ $os.writeFile("{m}/serve", "yes"); e.next() }})
onTerminate((e) => {{ $os.writeFile("{m}/terminate", "yes"); e.next() }})
"#,
        m = marks.display()
    );
    let (app, _dir) = app_with(&[("life.pb.js", &source)], Duration::from_secs(5), 64).await;
    assert!(marks.join("bootstrap").exists());
    assert!(marks.join("serve").exists());
    assert!(!marks.join("terminate").exists());
    app.stop().await;
    assert!(marks.join("terminate").exists());

    // A bootstrap hook that throws stops the start.
    let hooks = dir.path().join("failing");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    std::fs::write(
        hooks.join("boot.pb.js"),
        "onBootstrap((e) => { throw new Error('no boot') })",
    )
    .unwrap();
    let err = failed_start(&dir.path().join("data2"), &hooks).await;
    assert!(err.contains("no boot"), "{err}");
}

/// `--dev`: editing a hook file restarts the server with it (the same process, re-executed).
#[tokio::test]
async fn dev_mode_reloads_changed_hook_files() {
    use crate::cli::database;
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    let file = hooks.join("version.pb.js");
    std::fs::write(
        &file,
        r#"routerAdd("GET", "/version", (e) => e.string(200, "one"))"#,
    )
    .unwrap();
    // A fixed port: the restarted process listens where the first one did.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let db = database().await;
    let http = format!("127.0.0.1:{port}");
    let hooks_arg = hooks.to_string_lossy().into_owned();
    let mut cmd = crate::cli::oxbase();
    cmd.args([
        "serve",
        "--dev",
        "--http",
        &http,
        "--hooksDir",
        &hooks_arg,
        "--dir",
    ])
    .arg(dir.path().join("data"))
    .arg("--publicDir")
    .arg(dir.path().join("public"));
    if let Some(db) = db.as_deref() {
        cmd.arg("--db").arg(&db.url);
    }
    let server = crate::cli::serve(cmd).await;
    let version = || async {
        match server
            .client
            .get(format!("http://{http}/version"))
            .send()
            .await
        {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    };
    assert_eq!(version().await, "one");
    std::fs::write(
        &file,
        r#"routerAdd("GET", "/version", (e) => e.string(200, "two"))"#,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while version().await != "two" {
        assert!(
            Instant::now() < deadline,
            "the server did not reload its hooks"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const TRANSACTIONAL: &str = r#"
onRecordCreate((e) => {
  e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "created " + e.record.get("title") }))
  if (e.record.get("title") === "spin") { while (true) {} }
  e.next()
}, "posts")
routerAdd("POST", "/tx-spin", (e) => {
  $app.runInTransaction((txApp) => {
    txApp.save(new Record(txApp.findCollectionByNameOrId("audit"), { msg: "tx spin" }))
    while (true) {}
  })
})
"#;

/// The audit messages, sorted.
async fn audit_messages(app: &TestApp) -> Vec<String> {
    let list = app
        .list_records("audit", &[("perPage", "500")], &app.superuser_token)
        .await;
    let mut msgs: Vec<String> = list
        .items()
        .iter()
        .map(|a| a["msg"].as_str().unwrap_or_default().to_owned())
        .collect();
    msgs.sort();
    msgs
}

#[tokio::test]
async fn transactional_hooks_neither_deadlock_nor_outlive_their_limits() {
    transactional_hooks_neither_deadlock_nor_outlive_their_limits_body().await
}

/// The same with the request hooks inline on the event loop, which has one worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn transactional_hooks_inline_on_the_only_worker() {
    transactional_hooks_neither_deadlock_nor_outlive_their_limits_body().await
}

async fn transactional_hooks_neither_deadlock_nor_outlive_their_limits_body() {
    let (app, _dir) = app_with(&[("tx.pb.js", TRANSACTIONAL)], Duration::from_secs(1), 64).await;
    app.must_create_collection(json!({"name": "audit", "type": "base",
        "fields": [{"name": "msg", "type": "text"}]}))
        .await;
    app.must_create_collection(json!({"name": "posts", "type": "base", "createRule": "",
        "fields": [{"name": "title", "type": "text"}]}))
        .await;

    // Concurrent writes, each with a nested write in its transaction (on SQLite they share the
    // one writer, grouped): all land, promptly.
    let started = Instant::now();
    let creates =
        (0..16).map(|i| app.create_record("posts", json!({"title": format!("p{i:02}")}), GUEST));
    for created in futures_util::future::join_all(creates).await {
        created.expect(200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let expected: Vec<String> = (0..16).map(|i| format!("created p{i:02}")).collect();
    assert_eq!(audit_messages(&app).await, expected);

    // A model hook past its time limit fails its write, and its nested write goes with it.
    app.create_record("posts", json!({"title": "spin"}), GUEST)
        .await
        .expect(500);
    // So does a runInTransaction callback: its transaction is rolled back, not left open.
    app.request(Method::POST, "/tx-spin", GUEST, None)
        .await
        .expect(500);
    let t = Instant::now();
    app.create_record("posts", json!({"title": "after"}), GUEST)
        .await
        .expect(200);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    let msgs = audit_messages(&app).await;
    assert!(msgs.contains(&"created after".to_owned()), "{msgs:?}");
    assert!(!msgs.iter().any(|m| m.contains("spin")), "{msgs:?}");
}

const BUSY_ROUTES: &str = r#"
onRecordCreate((e) => {
  e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "created " + e.record.get("title") }))
  e.next()
}, "posts")
routerAdd("POST", "/make/{title}", (e) => {
  sleep(50)
  $app.save(new Record($app.findCollectionByNameOrId("posts"), { title: e.request.pathValue("title") }))
  return e.json(200, { ok: true })
})
"#;

#[tokio::test]
async fn routes_holding_every_runtime_still_get_their_writes_hooks_run() {
    routes_holding_every_runtime_still_get_their_writes_hooks_run_body().await
}

/// The same with the routes inline on the event loop, which has one worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn routes_inline_on_the_only_worker_get_their_writes_hooks_run() {
    routes_holding_every_runtime_still_get_their_writes_hooks_run_body().await
}

async fn routes_holding_every_runtime_still_get_their_writes_hooks_run_body() {
    // One runtime kept (four at most): more routes wait on saves than there are runtimes,
    // and each save's model hook needs one.
    let files = [("busy.pb.js", BUSY_ROUTES)];
    let (app, _dir) = app_with_pool(&files, Duration::from_secs(10), 64, 1).await;
    app.must_create_collection(json!({"name": "audit", "type": "base",
        "fields": [{"name": "msg", "type": "text"}]}))
        .await;
    app.must_create_collection(json!({"name": "posts", "type": "base",
        "fields": [{"name": "title", "type": "text"}]}))
        .await;
    let paths: Vec<String> = (0..8).map(|i| format!("/make/p{i}")).collect();
    let makes = paths
        .iter()
        .map(|path| app.request(Method::POST, path, GUEST, None));
    let all = tokio::time::timeout(
        Duration::from_secs(30),
        futures_util::future::join_all(makes),
    )
    .await
    .expect("no deadlock");
    for made in all {
        made.expect(200);
    }
    assert_eq!(audit_messages(&app).await.len(), 8);
}

const CONNECT_HELD: &str = r#"
onRealtimeConnectRequest((e) => {
  const id = e.client.id()
  e.next()
  const r = new Record($app.findCollectionByNameOrId("audit"))
  r.set("msg", "gone " + id)
  $app.save(r)
})
routerAdd("GET", "/ok", (e) => e.json(200, { ok: true }))
"#;

#[tokio::test]
async fn a_connect_hook_holds_its_stream_and_runs_on_after_the_client_goes() {
    // One pooled runtime and a 1 s limit: each held connection has a runtime of its own, and
    // the time it waits in `e.next()` is not the hook's.
    let (app, _dir) = app_with_pool(
        &[("connect.pb.js", CONNECT_HELD)],
        Duration::from_secs(1),
        64,
        1,
    )
    .await;
    app.must_create_collection(json!({
        "name": "audit", "type": "base", "listRule": "",
        "fields": [{"name": "msg", "type": "text"}],
    }))
    .await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(app.connect_realtime().await);
    }
    let started = Instant::now();
    let ok = app.get("/ok", GUEST).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(started.elapsed() < Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(audit_messages(&app).await.is_empty());

    let ids: Vec<String> = clients.iter().map(|c| c.client_id.clone()).collect();
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let messages = audit_messages(&app).await;
        if ids
            .iter()
            .all(|id| messages.contains(&format!("gone {id}")))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the clients went: {messages:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const STREAM_MIDDLEWARE: &str = r#"
routerUse((e) => {
  if (e.request.url.path !== "/api/realtime") return e.next()
  if (e.request.header.get("X-Block") === "1") throw new ForbiddenError("blocked stream")
  const log = (msg) => {
    const r = new Record($app.findCollectionByNameOrId("audit"))
    r.set("msg", msg)
    $app.save(r)
  }
  log("before " + e.request.method)
  e.next()
  log("after " + e.request.method)
})
"#;

#[tokio::test]
async fn router_use_wraps_the_realtime_stream_until_the_client_goes() {
    let (app, _dir) = app_with_pool(
        &[("stream.pb.js", STREAM_MIDDLEWARE)],
        Duration::from_secs(1),
        64,
        1,
    )
    .await;
    app.must_create_collection(json!({
        "name": "audit", "type": "base", "listRule": "",
        "fields": [{"name": "msg", "type": "text"}],
    }))
    .await;
    let blocked = app
        .client
        .get(app.url("/api/realtime"))
        .header("X-Block", "1")
        .send()
        .await
        .expect("request");
    assert_eq!(blocked.status().as_u16(), 403);

    let mut clients = Vec::new();
    for _ in 0..2 {
        clients.push(app.connect_realtime().await);
    }
    // Past the time limit, the middlewares still wait in `e.next()`.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(audit_messages(&app).await, vec!["before GET", "before GET"]);
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let messages = audit_messages(&app).await;
        if messages == ["after GET", "after GET", "before GET", "before GET"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the clients went: {messages:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const BUSY: &str = r#"
routerAdd("GET", "/ok", (e) => e.json(200, { ok: true }))
routerAdd("GET", "/busy/{ms}", (e) => {
  const until = Date.now() + Number(e.request.pathValue("ms"))
  let n = 0
  while (Date.now() < until) { n++ }
  return e.json(200, { n })
})
onRecordCreateRequest((e) => {
  const until = Date.now() + 1500
  while (Date.now() < until) {}
  e.next()
}, "posts")
"#;

/// Handlers run inline on the event loop's worker; one that runs long (a busy loop, no
/// native call) hands the loop to another thread, so the server's other connections are
/// answered meanwhile, with a single worker thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_long_handler_does_not_hold_the_event_loop() {
    let (app, _dir) = app_with(&[("busy.pb.js", BUSY)], Duration::from_secs(10), 64).await;
    app.must_create_collection(json!({"name": "posts", "type": "base", "createRule": "",
        "fields": [{"name": "title", "type": "text"}]}))
        .await;
    app.get("/ok", GUEST).await.expect(200);
    let started = Instant::now();
    let busy = app.get("/busy/2000", GUEST);
    let busy_create = app.create_record("posts", json!({"title": "slow"}), GUEST);
    let others = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut took = Vec::new();
        for path in ["/api/health", "/ok", "/busy/1", "/api/health"] {
            let t = Instant::now();
            app.get(path, GUEST).await.expect(200);
            took.push((path, t.elapsed()));
        }
        (took, started.elapsed())
    };
    let (busy, created, (took, others_done)) = tokio::join!(busy, busy_create, others);
    busy.expect(200);
    created.expect(200);
    assert!(
        started.elapsed() >= Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
    // The timers run on the loop too: measured from the start, the other requests were
    // answered long before the busy ones ended (a held loop would delay them past 2 s).
    assert!(
        others_done < Duration::from_millis(1200),
        "the others were answered after {others_done:?}"
    );
    // Each answered at once (the bound is loose: both busy handlers keep a core busy, and
    // the tests run side by side on small machines).
    for (path, t) in took {
        assert!(t < Duration::from_millis(300), "{path} took {t:?}");
    }
    // Short handlers keep running inline afterwards.
    for _ in 0..20 {
        app.get("/ok", GUEST).await.expect(200);
    }
}
