//! `spawn_app()`: the real oxbase server, in-process on `127.0.0.1:0`, over a fresh data
//! directory, with a superuser and one helper per endpoint. Every test starts its own app, so
//! tests never share state and can run in parallel.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use oxbase::framework::Oxbase;
use oxbase::{Application, ServeConfig};
use oxbase_api::HttpConfig;
use oxbase_js::migrations::MigrationsConfig;
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SUPERUSER_EMAIL: &str = "admin@example.com";
pub const SUPERUSER_PASSWORD: &str = "1234567890abc";
pub const USER_PASSWORD: &str = "pass12345";
/// The token of a guest: no `Authorization` header at all.
pub const GUEST: &str = "";

/// A running server and what tests need to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub client: reqwest::Client,
    /// A token of the superuser created at start.
    pub superuser_token: String,
    /// The data directory the server runs on.
    pub data_dir: PathBuf,
    /// The application behind the server, for the few checks HTTP cannot make (forging tokens).
    pub core: oxbase_core::App,
    /// Owns the temp directory so it lives as long as the app (None for `spawn_app_at`).
    temp_dir: Option<TempDir>,
    /// The PostgreSQL database of this app, dropped with it (runs on PostgreSQL only).
    _database: Option<std::sync::Arc<TestDatabase>>,
    /// The bus its instances relay over, when not PostgreSQL's.
    pubsub: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// A user of the default `users` collection, authenticated.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// A response reduced to what tests assert on.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// The JSON body, or `Value::Null` when the body is empty or not JSON.
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// `body[key]` as a string ("" when missing).
    pub fn str(&self, key: &str) -> &str {
        self.body[key].as_str().unwrap_or("")
    }
    /// The `id`s of a list response's items, in order.
    pub fn ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|r| r["id"].as_str().unwrap_or("").to_owned())
            .collect()
    }
    pub fn items(&self) -> Vec<Value> {
        self.body["items"].as_array().cloned().unwrap_or_default()
    }
    /// Panics with the body when the status is not the expected one.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// Starts the real server over a fresh temporary data directory.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_at(dir.path()).await;
    app.temp_dir = Some(dir);
    app
}

/// Starts the real server over `data_dir` (created when missing), as `oxbase serve --dir` would.
pub async fn spawn_app_at(data_dir: &Path) -> TestApp {
    spawn_app_with(
        data_dir,
        HttpConfig {
            public_dir: data_dir.join("public"),
            ..HttpConfig::default()
        },
    )
    .await
}

/// Starts the real server over `data_dir` with a server-wide body limit of `max_body_bytes`.
pub async fn spawn_app_with_body_limit(data_dir: &Path, max_body_bytes: usize) -> TestApp {
    spawn_app_with(
        data_dir,
        HttpConfig {
            public_dir: data_dir.join("public"),
            max_body_bytes,
            ..HttpConfig::default()
        },
    )
    .await
}

/// The real server over `data_dir` with `/metrics` on (no token).
pub async fn spawn_app_with_metrics(data_dir: &Path) -> TestApp {
    spawn_app_with(
        data_dir,
        HttpConfig {
            public_dir: data_dir.join("public"),
            metrics: true,
            ..HttpConfig::default()
        },
    )
    .await
}

pub async fn spawn_app_with(data_dir: &Path, http_config: HttpConfig) -> TestApp {
    let database = TestDatabase::for_data_dir(data_dir).await;
    spawn_app_on(data_dir, http_config, database, true).await
}

/// The real server on SQLite whatever `OXBASE_TEST_DATABASE_URL` says (the source of a
/// `migrate-db`), over `data_dir`.
pub async fn spawn_sqlite_app_at(data_dir: &Path) -> TestApp {
    spawn_app_on(
        data_dir,
        HttpConfig {
            public_dir: data_dir.join("public"),
            ..HttpConfig::default()
        },
        None,
        true,
    )
    .await
}

/// The real server on a fresh PostgreSQL database whatever `OXBASE_TEST_DATABASE_URL` says
/// (`TestDatabase::create_required`), with the superuser, over a fresh data dir.
pub async fn spawn_postgres_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_on(
        dir.path(),
        HttpConfig {
            public_dir: dir.path().join("public"),
            ..HttpConfig::default()
        },
        Some(TestDatabase::create_required().await),
        true,
    )
    .await;
    app.temp_dir = Some(dir);
    app
}

/// The real server on `database`, as `oxbase serve --db` would run it (its local files in a
/// fresh data dir).
pub async fn spawn_app_on_database(database: std::sync::Arc<TestDatabase>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_on_database_at(dir.path(), database).await;
    app.temp_dir = Some(dir);
    app
}

/// `oxbase serve --dir data_dir --db <database>`.
pub async fn spawn_app_on_database_at(
    data_dir: &Path,
    database: std::sync::Arc<TestDatabase>,
) -> TestApp {
    spawn_app_on(
        data_dir,
        HttpConfig {
            public_dir: data_dir.join("public"),
            ..HttpConfig::default()
        },
        Some(database),
        false,
    )
    .await
}

impl TestApp {
    /// Another instance on this app's PostgreSQL database (its own data dir and port), as a
    /// second server behind a load balancer would be. `None` on SQLite: one file, one server.
    pub async fn spawn_peer(&self) -> Option<TestApp> {
        self.spawn_peer_with(None).await
    }

    /// `spawn_peer`, applying the JS migrations of `migrations` at start.
    pub async fn spawn_peer_with(&self, migrations: Option<MigrationsConfig>) -> Option<TestApp> {
        let database = self._database.clone()?;
        let dir = tempfile::tempdir().expect("temp dir");
        // The superuser exists already: saving it again would end this app's tokens.
        let mut peer = spawn_app_bus(
            dir.path(),
            HttpConfig {
                public_dir: dir.path().join("public"),
                ..HttpConfig::default()
            },
            Some(database),
            false,
            self.pubsub.as_deref(),
            move |mut config: ServeConfig| {
                config.migrations = migrations;
                Oxbase::new(config)
            },
        )
        .await;
        peer.temp_dir = Some(dir);
        Some(peer)
    }
}

async fn spawn_app_on(
    data_dir: &Path,
    http_config: HttpConfig,
    database: Option<std::sync::Arc<TestDatabase>>,
    upsert_superuser: bool,
) -> TestApp {
    spawn_app_bus(
        data_dir,
        http_config,
        database,
        upsert_superuser,
        None,
        Oxbase::new,
    )
    .await
}

/// The real server over `data_dir` with the JS hook files of `hooks.dir` loaded.
pub async fn spawn_app_with_hooks(data_dir: &Path, hooks: oxbase_js::HooksConfig) -> TestApp {
    spawn_app_with_js(data_dir, Some(hooks), None).await
}

/// The real server over `data_dir` applying the JS migrations of `migrations` at start (a
/// data dir opened again gets its PostgreSQL database back).
pub async fn spawn_app_with_migrations(data_dir: &Path, migrations: MigrationsConfig) -> TestApp {
    spawn_app_with_js(data_dir, None, Some(migrations)).await
}

/// The real server over `data_dir` with JS hook files and migrations (if any).
pub async fn spawn_app_with_js(
    data_dir: &Path,
    hooks: Option<oxbase_js::HooksConfig>,
    migrations: Option<MigrationsConfig>,
) -> TestApp {
    let database = TestDatabase::for_data_dir(data_dir).await;
    let http = HttpConfig {
        public_dir: data_dir.join("public"),
        ..HttpConfig::default()
    };
    let build = move |mut config: ServeConfig| {
        config.hooks = hooks;
        config.migrations = migrations;
        Oxbase::new(config)
    };
    spawn_app_bus(data_dir, http, database, true, None, build).await
}

/// Why the application over `data_dir` with `migrations` does not build (its start fails).
pub async fn build_error_with_migrations(data_dir: &Path, migrations: MigrationsConfig) -> String {
    build_error_with_js(data_dir, None, migrations).await
}

/// The same, with JS hook files (if any) too.
pub async fn build_error_with_js(
    data_dir: &Path,
    hooks: Option<oxbase_js::HooksConfig>,
    migrations: MigrationsConfig,
) -> String {
    let database = TestDatabase::for_data_dir(data_dir).await;
    let mut config = ServeConfig::new(data_dir);
    config.http = "127.0.0.1:0".into();
    config.database_url = database.as_ref().map(|d| d.url.clone());
    config.hooks = hooks;
    config.migrations = Some(migrations);
    let built = Application::build(config).await;
    if let Some(db) = database {
        // Kept for the app a test starts on this data dir next.
        STOPPED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((data_dir.to_path_buf(), db));
    }
    match built {
        Ok(_) => panic!("the application built"),
        Err(e) => e,
    }
}

/// The database the next app over `data_dir` runs on (`None` on SQLite), for a command to
/// work on first.
pub async fn database_for(data_dir: &Path) -> Option<std::sync::Arc<TestDatabase>> {
    let database = TestDatabase::for_data_dir(data_dir).await?;
    STOPPED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((data_dir.to_path_buf(), database.clone()));
    Some(database)
}

/// Starts the real server as a Rust app does (`oxbase::framework`): `build` makes the
/// `Oxbase` from the config (over a fresh data dir, on PostgreSQL when the tests run there)
/// and registers its hooks, routes and jobs.
pub async fn spawn_rust_app(build: impl FnOnce(ServeConfig) -> Oxbase) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::for_data_dir(dir.path()).await;
    let http_config = HttpConfig {
        public_dir: dir.path().join("public"),
        ..HttpConfig::default()
    };
    let mut app = spawn_app_bus(dir.path(), http_config, database, true, None, build).await;
    app.temp_dir = Some(dir);
    app
}

/// A fresh app whose instances relay over `pubsub` (`redis://...`) instead of PostgreSQL;
/// `None` on SQLite.
pub async fn spawn_app_with_pubsub(pubsub: &str) -> Option<TestApp> {
    let database = TestDatabase::create().await?;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_bus(
        dir.path(),
        HttpConfig {
            public_dir: dir.path().join("public"),
            ..HttpConfig::default()
        },
        Some(database),
        true,
        Some(pubsub),
        Oxbase::new,
    )
    .await;
    app.temp_dir = Some(dir);
    Some(app)
}

async fn spawn_app_bus(
    data_dir: &Path,
    http_config: HttpConfig,
    database: Option<std::sync::Arc<TestDatabase>>,
    upsert_superuser: bool,
    pubsub: Option<&str>,
    build: impl FnOnce(ServeConfig) -> Oxbase,
) -> TestApp {
    if let Ok(filter) = std::env::var("OXBASE_TEST_LOG") {
        // Server logs in the test output (e.g. `OXBASE_TEST_LOG=error` shows internal errors).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    let config = ServeConfig {
        http: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        database_url: database.as_ref().map(|d| d.url.clone()),
        db_connections: 16,
        pubsub: pubsub.map(str::to_owned),
        http_config,
        hooks: None,
        migrations: None,
    };
    let application = build(config).build().await.expect("the application builds");
    let addr = application.local_addr();
    let core = application.app().clone();
    if upsert_superuser {
        core.auth()
            .upsert_superuser(core.records(), SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
            .await
            .expect("superuser upsert");
    }
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    let mut app = TestApp {
        addr,
        base: format!("http://{addr}"),
        client,
        superuser_token: String::new(),
        data_dir: data_dir.to_path_buf(),
        core,
        temp_dir: None,
        _database: database,
        pubsub: pubsub.map(str::to_owned),
        shutdown: Some(tx),
        server: Some(server),
    };
    let auth = app
        .auth_with_password("_superusers", SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
        .await;
    auth.expect(200);
    app.superuser_token = auth.str("token").to_owned();
    app
}

impl TestApp {
    /// Graceful shutdown: waits until `run_until_stopped` has returned (queued writes
    /// committed). Gives back the temp dir so a new app can reopen it.
    pub async fn stop(mut self) -> Option<TempDir> {
        if let Some(db) = self._database.take() {
            STOPPED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((self.data_dir.clone(), db));
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        self.temp_dir.take()
    }

    /// Whether this app runs on PostgreSQL (`OXBASE_TEST_DATABASE_URL`).
    pub fn on_postgres(&self) -> bool {
        self._database.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any request with a JSON body (or none) and an optional token ("" = guest).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self.client.request(method, self.url(path));
        if !token.is_empty() {
            rb = rb.header("Authorization", token);
        }
        if let Some(body) = body {
            rb = rb.json(body);
        }
        send(rb).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, self.url(path))
            .header("Content-Type", content_type)
            .body(body);
        if !token.is_empty() {
            rb = rb.header("Authorization", token);
        }
        send(rb).await
    }

    /// A GET written straight to the socket, for request targets an HTTP client refuses to
    /// build (over 64 KiB). Returns the status and the body text.
    pub async fn raw_get(&self, target: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        // The server may answer and close before it has read the whole request.
        let _ = stream.write_all(request.as_bytes()).await;
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// How many log entries match `filter` (URL-encoded), once at least `wanted` do or 10 s
    /// have passed. An entry written after an event left (a delivery attempt, logged once its
    /// receiver answered) may come after the receiver saw the event.
    pub async fn logged_at_least(&self, filter: &str, wanted: i64) -> i64 {
        let mut logged = 0;
        for _ in 0..100 {
            self.core.logs().flush().await;
            let logs = self
                .get(
                    &format!("/api/logs?filter={filter}&perPage=1"),
                    &self.superuser_token,
                )
                .await;
            logged = logs.expect(200).body["totalItems"].as_i64().unwrap_or(0);
            if logged >= wanted {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        logged
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    // ---- health -------------------------------------------------------------------------

    pub async fn health(&self) -> Resp {
        self.get("/api/health", GUEST).await
    }

    // ---- collections --------------------------------------------------------------------

    /// Creates a collection as the superuser.
    pub async fn create_collection(&self, body: Value) -> Resp {
        self.create_collection_as(body, &self.superuser_token).await
    }
    pub async fn create_collection_as(&self, body: Value, token: &str) -> Resp {
        self.request(Method::POST, "/api/collections", token, Some(&body))
            .await
    }
    /// Creates a collection and panics unless it worked; returns the collection.
    pub async fn must_create_collection(&self, body: Value) -> Value {
        let r = self.create_collection(body).await;
        r.expect(200);
        r.body
    }
    pub async fn list_collections(&self, query: &[(&str, &str)], token: &str) -> Resp {
        self.get(&format!("/api/collections{}", query_string(query)), token)
            .await
    }
    pub async fn view_collection(&self, name: &str, token: &str) -> Resp {
        self.get(&format!("/api/collections/{name}"), token).await
    }
    pub async fn update_collection(&self, name: &str, body: Value, token: &str) -> Resp {
        self.request(
            Method::PATCH,
            &format!("/api/collections/{name}"),
            token,
            Some(&body),
        )
        .await
    }
    pub async fn delete_collection(&self, name: &str, token: &str) -> Resp {
        self.request(
            Method::DELETE,
            &format!("/api/collections/{name}"),
            token,
            None,
        )
        .await
    }
    pub async fn truncate_collection(&self, name: &str, token: &str) -> Resp {
        self.request(
            Method::DELETE,
            &format!("/api/collections/{name}/truncate"),
            token,
            None,
        )
        .await
    }

    // ---- records ------------------------------------------------------------------------

    pub async fn create_record(&self, coll: &str, body: Value, token: &str) -> Resp {
        self.request(
            Method::POST,
            &format!("/api/collections/{coll}/records"),
            token,
            Some(&body),
        )
        .await
    }
    /// Creates a record as the superuser and panics unless it worked; returns the record.
    pub async fn must_create_record(&self, coll: &str, body: Value) -> Value {
        let r = self.create_record(coll, body, &self.superuser_token).await;
        r.expect(200);
        r.body
    }
    pub async fn list_records(&self, coll: &str, query: &[(&str, &str)], token: &str) -> Resp {
        self.get(
            &format!("/api/collections/{coll}/records{}", query_string(query)),
            token,
        )
        .await
    }
    pub async fn view_record(
        &self,
        coll: &str,
        id: &str,
        query: &[(&str, &str)],
        token: &str,
    ) -> Resp {
        self.get(
            &format!(
                "/api/collections/{coll}/records/{id}{}",
                query_string(query)
            ),
            token,
        )
        .await
    }
    pub async fn update_record(&self, coll: &str, id: &str, body: Value, token: &str) -> Resp {
        self.request(
            Method::PATCH,
            &format!("/api/collections/{coll}/records/{id}"),
            token,
            Some(&body),
        )
        .await
    }
    pub async fn delete_record(&self, coll: &str, id: &str, token: &str) -> Resp {
        self.request(
            Method::DELETE,
            &format!("/api/collections/{coll}/records/{id}"),
            token,
            None,
        )
        .await
    }

    // ---- auth ---------------------------------------------------------------------------

    pub async fn auth_with_password(&self, coll: &str, identity: &str, password: &str) -> Resp {
        let body = json!({"identity": identity, "password": password});
        self.request(
            Method::POST,
            &format!("/api/collections/{coll}/auth-with-password"),
            GUEST,
            Some(&body),
        )
        .await
    }
    pub async fn auth_refresh(&self, coll: &str, token: &str) -> Resp {
        self.request(
            Method::POST,
            &format!("/api/collections/{coll}/auth-refresh"),
            token,
            None,
        )
        .await
    }
    pub async fn auth_with_oauth2(&self, coll: &str, body: &Value, token: &str) -> Resp {
        let path = format!("/api/collections/{coll}/auth-with-oauth2");
        self.request(Method::POST, &path, token, Some(body)).await
    }

    pub async fn auth_methods(&self, coll: &str) -> Resp {
        self.get(&format!("/api/collections/{coll}/auth-methods"), GUEST)
            .await
    }

    /// Creates a user in the default `users` collection (as the superuser), with
    /// `USER_PASSWORD`, without logging it in; returns its id.
    pub async fn create_user_record(&self, email: &str) -> String {
        let body =
            json!({"email": email, "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD});
        let created = self
            .create_record("users", body, &self.superuser_token)
            .await;
        created.expect(200);
        created.str("id").to_owned()
    }

    /// Creates a user in the default `users` collection (as the superuser) and logs it in.
    pub async fn create_user(&self, email: &str) -> TestUser {
        let id = self.create_user_record(email).await;
        let auth = self.auth_with_password("users", email, USER_PASSWORD).await;
        auth.expect(200);
        TestUser {
            id,
            email: email.to_owned(),
            token: auth.str("token").to_owned(),
        }
    }

    /// The id of a collection, by name.
    pub async fn collection_id(&self, name: &str) -> String {
        let r = self.view_collection(name, &self.superuser_token).await;
        r.expect(200);
        r.str("id").to_owned()
    }

    // ---- settings -----------------------------------------------------------------------

    pub async fn get_settings(&self, token: &str) -> Resp {
        self.get("/api/settings", token).await
    }
    /// The text of `/metrics` (an app started with them on, without a token).
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text")
    }

    pub async fn update_settings(&self, body: Value, token: &str) -> Resp {
        self.request(Method::PATCH, "/api/settings", token, Some(&body))
            .await
    }
}

/// `?k=v&...`, percent-encoded; "" for no pairs.
pub fn query_string(query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut s = String::from("?");
    for (i, (k, v)) in query.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&encode(k));
        s.push('=');
        s.push_str(&encode(v));
    }
    s
}

pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Polls `check` until it holds, for at most `within`; panics naming `what` after that.
pub async fn eventually<F, Fut>(what: &str, within: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + within;
    while std::time::Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what}: not seen within {within:?}");
}

/// Sends a request built by a test and reduces the response to a `Resp`.
pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let response = rb.send().await.expect("the request reaches the server");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, body, text }
}

/// Asserts the PocketBase error body: exactly `{data, message, status}` with these values.
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, message: &str) {
    assert_eq!(r.status, status, "status; body: {}", r.text);
    assert_standard_shape(r);
    assert_eq!(r.body["message"], message, "message; body: {}", r.text);
}

/// Asserts a body has exactly the keys `data`, `message`, `status`, with `status` matching.
#[track_caller]
pub fn assert_standard_shape(r: &Resp) {
    let obj = r
        .body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not a JSON object: {:?}", r.text));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["data", "message", "status"], "body: {}", r.text);
    assert_eq!(r.body["status"], r.status, "body: {}", r.text);
    assert!(
        r.body["data"].is_object(),
        "data is an object; body: {}",
        r.text
    );
}

/// A field error's code at `data.<field>.code`.
pub fn field_code<'a>(r: &'a Resp, field: &str) -> &'a str {
    r.body["data"][field]["code"].as_str().unwrap_or("")
}

/// A base collection with public rules and these fields.
pub fn public_collection(name: &str, fields: Value) -> Value {
    json!({
        "name": name, "type": "base",
        "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
        "fields": fields,
    })
}

/// A base collection whose records only their `owner` (a `users` record) may view, with a
/// `title` and a hidden `secret`; only superusers write it (the `viewAs` tests of webhooks and
/// brokers).
pub fn owner_only_collection(name: &str) -> Value {
    json!({
        "name": name, "type": "base", "listRule": null, "createRule": null,
        "viewRule": "owner = @request.auth.id", "updateRule": null, "deleteRule": null,
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "secret", "type": "text", "hidden": true},
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}
        ]
    })
}

// ---- realtime (SSE) and batch ---------------------------------------------------------------

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
    /// `data.record.id` of a record event.
    pub fn record_id(&self) -> String {
        self.json()["record"]["id"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
    pub fn action(&self) -> String {
        self.json()["action"].as_str().unwrap_or("").to_owned()
    }
}

/// What waiting for the next event gave.
#[derive(Debug)]
pub enum SseNext {
    Event(SseEvent),
    /// Nothing within the wait.
    Timeout,
    /// The server ended the stream.
    Closed,
}

/// An open `GET /api/realtime` stream, read with `Response::chunk` and parsed into events.
pub struct SseClient {
    response: reqwest::Response,
    buf: String,
    /// The client id from `PB_CONNECT`.
    pub client_id: String,
    /// The `PB_CONNECT` event itself.
    pub connect: SseEvent,
}

/// The default bound on any single wait for an event.
pub const SSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl SseClient {
    /// The next event (comments and keep-alives skipped), waiting at most `wait`.
    pub async fn next(&mut self, wait: std::time::Duration) -> SseNext {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.take_buffered() {
                return SseNext::Event(event);
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return SseNext::Timeout,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) => return SseNext::Closed,
            }
        }
    }

    /// The next event; panics on timeout or end of stream.
    pub async fn expect_event(&mut self) -> SseEvent {
        match self.next(SSE_WAIT).await {
            SseNext::Event(e) => e,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Reads events until one satisfies `pred`; returns all events read before it (not it).
    /// Panics when it does not come within `SSE_WAIT`.
    pub async fn until(&mut self, mut pred: impl FnMut(&SseEvent) -> bool) -> Vec<SseEvent> {
        let deadline = tokio::time::Instant::now() + SSE_WAIT;
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                SseNext::Event(e) if pred(&e) => return before,
                SseNext::Event(e) => before.push(e),
                other => panic!("expected an event, got {other:?}; read before: {before:?}"),
            }
        }
    }

    fn take_buffered(&mut self) -> Option<SseEvent> {
        loop {
            let normalized = self.buf.replace("\r\n", "\n");
            if normalized.len() != self.buf.len() {
                self.buf = normalized;
            }
            let end = self.buf.find("\n\n")?;
            let block: String = self.buf[..end].to_owned();
            self.buf.drain(..end + 2);
            let mut event = SseEvent {
                id: None,
                event: String::new(),
                data: String::new(),
            };
            let mut any = false;
            for line in block.lines() {
                if line.starts_with(':') {
                    continue;
                }
                let (key, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match key {
                    "id" => event.id = Some(value.to_owned()),
                    "event" => event.event = value.to_owned(),
                    "data" => {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(value);
                    }
                    _ => continue,
                }
                any = true;
            }
            if any {
                return Some(event);
            }
        }
    }
}

impl TestApp {
    /// Opens `GET /api/realtime` and reads its first event, which must be `PB_CONNECT`.
    pub async fn connect_realtime(&self) -> SseClient {
        let response =
            tokio::time::timeout(SSE_WAIT, self.client.get(self.url("/api/realtime")).send())
                .await
                .expect("the SSE response starts in time")
                .expect("the SSE request reaches the server");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "content type {content_type}"
        );
        let mut sse = SseClient {
            response,
            buf: String::new(),
            client_id: String::new(),
            connect: SseEvent {
                id: None,
                event: String::new(),
                data: String::new(),
            },
        };
        let first = sse.expect_event().await;
        assert_eq!(first.event, "PB_CONNECT", "the first event: {first:?}");
        sse.client_id = first.json()["clientId"].as_str().unwrap_or("").to_owned();
        sse.connect = first;
        sse
    }

    /// `POST /api/realtime {clientId, subscriptions}` as `token`.
    pub async fn set_subscriptions(&self, client_id: &str, topics: &[&str], token: &str) -> Resp {
        let body = json!({"clientId": client_id, "subscriptions": topics});
        self.request(Method::POST, "/api/realtime", token, Some(&body))
            .await
    }

    /// Opens a realtime client and subscribes it to `topics` as `token`.
    pub async fn subscribed(&self, topics: &[&str], token: &str) -> SseClient {
        let sse = self.connect_realtime().await;
        self.set_subscriptions(&sse.client_id, topics, token)
            .await
            .expect(204);
        sse
    }

    /// `POST /api/batch` with `{requests}` as `token`.
    pub async fn batch(&self, requests: Value, token: &str) -> Resp {
        let body = json!({ "requests": requests });
        self.request(Method::POST, "/api/batch", token, Some(&body))
            .await
    }

    /// Enables batch requests (with `maxRequests`).
    pub async fn enable_batch(&self, max_requests: u64) {
        self.update_settings(
            json!({"batch": {"enabled": true, "maxRequests": max_requests}}),
            &self.superuser_token,
        )
        .await
        .expect(200);
    }
}

/// With `OXBASE_TEST_DATABASE_URL` set (`postgres://postgres@127.0.0.1:5432/test`), every app
/// runs on a fresh PostgreSQL database of its own, created here and dropped with the app.
/// A data dir opened again (restart tests) gets the same database back.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

/// Databases of stopped apps, kept for the restart that reopens their data dir.
static STOPPED: std::sync::Mutex<Vec<(PathBuf, std::sync::Arc<TestDatabase>)>> =
    std::sync::Mutex::new(Vec::new());

impl TestDatabase {
    async fn for_data_dir(data_dir: &Path) -> Option<std::sync::Arc<TestDatabase>> {
        {
            let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = stopped.iter().position(|(d, _)| d == data_dir) {
                return Some(stopped.swap_remove(i).1);
            }
        }
        Self::create().await
    }

    /// A fresh, empty database (`None` without `OXBASE_TEST_DATABASE_URL`).
    pub async fn create() -> Option<std::sync::Arc<TestDatabase>> {
        let admin_url = std::env::var("OXBASE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        Some(Self::create_on(admin_url).await)
    }

    /// A fresh, empty database in either pass, for tests that compare both databases: on
    /// `OXBASE_TEST_DATABASE_URL`, else `OXBASE_TEST_PG`, else the README's
    /// `postgres://postgres@127.0.0.1:5432/test`. A missing server is a failure, never a skip.
    pub async fn create_required() -> std::sync::Arc<TestDatabase> {
        let admin_url = ["OXBASE_TEST_DATABASE_URL", "OXBASE_TEST_PG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        Self::create_on(admin_url).await
    }

    async fn create_on(admin_url: String) -> std::sync::Arc<TestDatabase> {
        let name = format!("oxt_{}", oxbase_core::ids::record_id());
        let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url}: cannot connect ({e})"));
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create the test database");
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("a database URL ends with /<database>");
        std::sync::Arc::new(TestDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: a thread of its own does the async work.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
            })
        });
        if let Ok(Err(e)) = dropped.join() {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A port for a server process that cannot listen on port 0 and say which port it got (moto,
/// PocketBase): free now, and below the kernel's ephemeral range (32768 and up), so that no
/// socket bound to port 0 (every other server of these tests, every outgoing connection) can
/// take it before the process binds it. Callers still start again on another port when their
/// process exits early (another test chose the same one).
pub fn free_fixed_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let port = 20_000 + (h.finish() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts a server process on a free port (`free_fixed_port`): `spawn(port)` starts it,
/// `ready(port)` tells when it serves. A process that exits before it is ready (its port was
/// taken meanwhile) is started again on another port, up to 5 times.
pub async fn start_on_free_port<R: std::future::Future<Output = bool>>(
    what: &str,
    mut spawn: impl FnMut(u16) -> std::process::Child,
    ready: impl Fn(u16) -> R,
) -> (std::process::Child, u16) {
    for _ in 0..5 {
        let port = free_fixed_port();
        let mut child = spawn(port);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if ready(port).await {
                return (child, port);
            }
            if tokio::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not start on port {port} within 20 s");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    panic!("{what} exited at start 5 times");
}

/// Decodes base64 in either alphabet (`+/` or the URL-safe `-_`), padding or not.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let vals: Vec<u8> = s.bytes().filter_map(val).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, v)| acc | (u32::from(*v) << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The JSON payload of a JWT (unverified: for assertions only).
pub fn jwt_claims(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&base64_decode(part)).expect("the payload is JSON")
}
