//! The native half of the JS API: `__native(op, json)` answers with `{"ok": value}` or
//! `{"err": {status, message, data, noRows}}`. Each op calls one core service as the
//! application (no API rule applies, as PocketBase's `$app`); async services are awaited on
//! the runtime's handle (`invoke::block`).

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use oxbase_api::error::ApiError;
use oxbase_core::Error;
use oxbase_core::auth::{RecordMail, tokens};
use oxbase_core::records::direct::Find;
use oxbase_core::store::app_sql;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

/// What every op may reach. The app is held weakly: the app's pipeline holds the hooks,
/// whose runtimes hold this, and a strong reference would keep a closed app (and its
/// database files) alive.
pub struct Host {
    pub app: oxbase_core::app::WeakApp,
    pub rt: tokio::runtime::Handle,
    pub dev: bool,
    pub data_dir: PathBuf,
    /// The longest a `sleep` may last (the invocation's time limit stops the JS after it).
    pub timeout: Duration,
    /// Files hooks hold (`$filesystem`, uploads), by token.
    pub staged: std::sync::Arc<crate::uploads::Staged>,
}

/// An op's failure: a core error, or one of the bridge itself (bad arguments).
enum Failure {
    Core(Error),
    /// A lookup found nothing: PocketBase's `sql.ErrNoRows`, which an uncaught throw turns
    /// into a 404.
    NoRows,
    Args(String),
    /// A failure JavaScript sees as PocketBase's Go errors (`GoError: <message>`, a 400
    /// "Something went wrong" when uncaught).
    Go(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(_) => Failure::NoRows,
            other => Failure::Core(other),
        }
    }
}

type OpResult = Result<Json, Failure>;

/// Ops that never wait: they run as they are on an event loop (the others may read a file,
/// run a process or wait on the database).
fn never_waits(op: &str) -> bool {
    matches!(
        op,
        "log"
            | "now"
            | "app.isDev"
            | "app.dataDir"
            | "os.getenv"
            | "os.getwd"
            | "os.tempDir"
            | "os.resolve"
            | "settings.get"
            | "request.describe"
    ) || op.starts_with("security.")
}

impl Host {
    pub fn dispatch(&self, op: &str, args: &str) -> String {
        let out = match serde_json::from_str::<Json>(args) {
            // An op that may wait (a file, a process, a database write) first hands the event
            // loop on when the invocation runs inline on one (`invoke::run`).
            Ok(args) if !never_waits(op) => crate::invoke::may_wait(|| self.op(op, args)),
            Ok(args) => self.op(op, args),
            Err(e) => Err(Failure::Args(format!("{op}: {e}"))),
        };
        let body = match out {
            Ok(v) => json!({ "ok": v }),
            Err(Failure::NoRows) => json!({"err": {
                "status": 404, "message": "sql: no rows in result set", "data": {}, "noRows": true
            }}),
            Err(Failure::Args(m)) => json!({"err": {"status": 400, "message": m, "data": {}}}),
            Err(Failure::Go(m)) => {
                json!({"err": {"status": 400, "message": m, "data": {}, "plain": true}})
            }
            Err(Failure::Core(e)) => {
                let (_, body) = ApiError(e).to_body();
                json!({ "err": body })
            }
        };
        body.to_string()
    }

    fn block<T: Send>(
        &self,
        f: impl Future<Output = oxbase_core::error::Result<T>> + Send,
    ) -> Result<T, Failure> {
        crate::invoke::block(&self.rt, f).map_err(Failure::from)
    }

    fn op(&self, op: &str, args: Json) -> OpResult {
        let Some(app) = self.app.upgrade() else {
            return Err(Failure::Args("the app is closed".into()));
        };
        let app = &app;
        match op {
            "next" => {
                let changes = args
                    .get("changes")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default();
                let replace = args.get("replace").cloned();
                let served = args.get("served").map(|s| {
                    let text = |k: &str| s[k].as_str().unwrap_or("").to_owned();
                    (text("path"), text("name"))
                });
                crate::requests::next(&self.rt, &self.staged, changes, replace, served)
                    .map_err(Failure::Args)
            }
            "terminal" => Ok(crate::invoke::run_terminal(args)?),
            "request.describe" => Ok(crate::invoke::describe_request()),
            "collections.find" => {
                let a: NameOrId = parse(args)?;
                let c = self.block(app.records().collection(&a.name_or_id))?;
                Ok(c.to_json())
            }
            "collections.all" => {
                let a: Types = parse(args)?;
                Ok(Json::Array(
                    app.collections()
                        .all()
                        .iter()
                        .filter(|c| {
                            a.types.is_empty() || a.types.iter().any(|t| t == c.kind.as_str())
                        })
                        .map(|c| c.to_json())
                        .collect(),
                ))
            }
            "collections.save" => {
                let a: SaveCollection = parse(args)?;
                let id = a.collection.get("id").and_then(Json::as_str).unwrap_or("");
                let exists = !id.is_empty() && app.schema().get(id).is_some();
                let saved = if exists {
                    self.block(app.collections().update_direct(id, &a.collection))?
                } else {
                    self.block(app.collections().create_direct(&a.collection))?
                };
                Ok(saved.to_json())
            }
            "collections.delete" => {
                let a: NameOrId = parse(args)?;
                self.block(app.collections().delete_direct(&a.name_or_id))?;
                Ok(Json::Null)
            }
            "collections.import" => {
                let a: ImportCollections = parse(args)?;
                self.block(
                    app.collections()
                        .import_direct(&a.collections, a.delete_missing),
                )?;
                Ok(Json::Null)
            }
            "collections.truncate" => {
                let a: NameOrId = parse(args)?;
                let caller = app.records().app_request()?.auth;
                self.block(app.collections().truncate(&caller, &a.name_or_id))?;
                Ok(Json::Null)
            }
            "records.byId" => {
                let a: ById = parse(args)?;
                let (c, record) = self.block(app.records().find_by_id(&a.collection, &a.id))?;
                let record = record.ok_or(Failure::NoRows)?;
                Ok(json!({"collection": c.to_json(), "record": record.data}))
            }
            "records.byIds" => {
                let a: ByIds = parse(args)?;
                let mut params = Map::new();
                let mut parts = Vec::new();
                for (i, id) in a.ids.iter().enumerate() {
                    params.insert(format!("id{i}"), Json::String(id.clone()));
                    parts.push(format!("id = {{:id{i}}}"));
                }
                if parts.is_empty() {
                    let c = self.block(app.records().collection(&a.collection))?;
                    return Ok(json!({"collection": c.to_json(), "records": []}));
                }
                self.find_many(&a.collection, &parts.join(" || "), "", 0, 0, &params)
            }
            "records.byFilter" => {
                let a: ByFilter = parse(args)?;
                self.find_many(
                    &a.collection,
                    &a.filter,
                    &a.sort,
                    a.limit,
                    a.offset,
                    &a.params,
                )
            }
            "records.byData" => {
                let a: ByData = parse(args)?;
                if !a.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(Failure::Args(format!("invalid field name {:?}", a.key)));
                }
                self.find_one(
                    &a.collection,
                    &format!("{} = {{:v}}", a.key),
                    json!({"v": a.value}),
                )
            }
            "records.byEmail" => {
                let a: ByEmail = parse(args)?;
                self.find_one(&a.collection, "email = {:e}", json!({"e": a.email}))
            }
            "records.byToken" => {
                let token = args
                    .get("token")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_owned();
                let kind = args.get("type").and_then(Json::as_str).unwrap_or("auth");
                let auth = if kind == "file" {
                    self.block(async { Ok(app.auth().authenticate_file_token(&token).await) })?
                } else {
                    self.block(async { Ok(app.auth().authenticate(&token).await) })?
                };
                match auth.record() {
                    Some(r) => Ok(json!({"collection": r.collection.to_json(), "record": r.data})),
                    None => Err(Failure::NoRows),
                }
            }
            "records.count" => {
                let a: Count = parse(args)?;
                Ok(json!(self.block(app.records().count(
                    &a.collection,
                    &a.filter,
                    &a.params
                ))?))
            }
            "records.save" => {
                let a: SaveRecord = parse(args)?;
                let r = a.record;
                let (data, files) = self.with_files(save_body(&r))?;
                let saved = self.block(app.records().save_direct_with_files(
                    &r.collection,
                    &r.id,
                    r.is_new,
                    data,
                    files,
                ))?;
                Ok(json!({"collection": saved.collection.to_json(), "record": saved.data}))
            }
            "records.delete" => {
                let a: ById = parse(args)?;
                self.block(app.records().delete_direct(&a.collection, &a.id))?;
                Ok(Json::Null)
            }
            "db.query" => {
                let a: Query = parse(args)?;
                let sql = app_sql::bind(&a.sql, &a.params)?;
                let rows = a.mode != "execute";
                let out = self.block(app.db().app_query(sql, rows))?;
                if rows {
                    Ok(Json::Array(
                        out.rows.into_iter().map(Json::Object).collect(),
                    ))
                } else {
                    Ok(json!({"rowsAffected": out.affected, "lastInsertId": 0}))
                }
            }
            "tx.begin" => Ok(json!(crate::invoke::begin(app.db(), &self.rt))),
            "tx.end" => {
                let commit = args.get("commit").and_then(Json::as_bool).unwrap_or(false);
                crate::invoke::end(commit)?;
                Ok(Json::Null)
            }
            "settings.get" => Ok(app.settings().public()),
            "settings.save" => {
                let settings = args.get("settings").cloned().unwrap_or(Json::Null);
                Ok(self.block(app.settings().patch(&settings))?)
            }
            "password.verify" => {
                let hash = args.get(0).and_then(Json::as_str).unwrap_or("");
                let plain = args.get(1).and_then(Json::as_str).unwrap_or("");
                Ok(json!(oxbase_core::password::verify(plain, hash)))
            }
            "log" => {
                let a: Log = parse(args)?;
                log(&a);
                Ok(Json::Null)
            }
            "sleep" => {
                let ms = first_f64(&args).max(0.0) as u64;
                std::thread::sleep(Duration::from_millis(ms).min(self.timeout));
                Ok(Json::Null)
            }
            "now" => Ok(json!(oxbase_core::dates::now())),
            "app.isDev" => Ok(json!(self.dev)),
            "app.dataDir" => Ok(json!(self.data_dir.to_string_lossy())),
            "os.getenv" => Ok(json!(std::env::var(first_str(&args)).unwrap_or_default())),
            "os.getwd" => Ok(json!(
                std::env::current_dir()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )),
            "os.tempDir" => Ok(json!(std::env::temp_dir().to_string_lossy())),
            "os.resolve" => {
                let path = std::path::absolute(first_str(&args))
                    .map_err(|e| Failure::Args(e.to_string()))?;
                Ok(json!(path.to_string_lossy()))
            }
            "os.readText" => std::fs::read_to_string(first_str(&args))
                .map(Json::String)
                .map_err(|e| Failure::Args(format!("cannot read {}: {e}", first_str(&args)))),
            "http.send" => {
                let a: HttpSend = parse(args)?;
                crate::invoke::block(&self.rt, http_send(a)).map_err(Failure::Args)
            }
            "os.writeFile" => {
                let data = args.get(1).map_or_else(String::new, |d| match d {
                    Json::String(s) => s.clone(),
                    Json::Array(bytes) => bytes
                        .iter()
                        .map(|b| b.as_u64().unwrap_or(0) as u8 as char)
                        .collect(),
                    other => other.to_string(),
                });
                std::fs::write(first_str(&args), data)
                    .map(|()| Json::Null)
                    .map_err(|e| Failure::Args(e.to_string()))
            }
            "os.exec" => {
                let a: Exec = parse(args)?;
                exec(&a).map_err(Failure::Args)
            }
            "request.files" => {
                let token = args["token"].as_str().unwrap_or("");
                let key = args["key"].as_str().unwrap_or("");
                Ok(self.block(self.staged.request_files(app.files(), token, key))?)
            }
            "files.stage" => {
                let a: StageFile = parse(args)?;
                let (name, bytes) = match a.source.as_str() {
                    "path" => {
                        let bytes = std::fs::read(&a.path).map_err(|e| {
                            Failure::Go(format!("stat {}: {}", a.path, io_words(&e)))
                        })?;
                        let name = a.path.rsplit('/').next().unwrap_or("").to_owned();
                        (name, bytes)
                    }
                    "url" => {
                        let bytes = crate::invoke::block(&self.rt, download(&a.url, a.timeout))
                            .map_err(Failure::Go)?;
                        let name = a.url.rsplit('/').next().unwrap_or("").to_owned();
                        (name, bytes)
                    }
                    "copy" => {
                        let upload = self
                            .staged
                            .get(&a.token)
                            .ok_or_else(|| Failure::Go("the file is no longer available".into()))?;
                        let bytes =
                            std::fs::read(upload.path()).map_err(|e| Failure::Go(e.to_string()))?;
                        (upload.original.clone(), bytes)
                    }
                    _ => (a.name, a.bytes),
                };
                if bytes.is_empty() && a.source != "path" {
                    return Err(Failure::Go("cannot create an empty file".into()));
                }
                let upload = self.block(crate::uploads::stage(app.files(), &name, &bytes))?;
                Ok(self.staged.put(upload))
            }
            "template.render" => {
                let a: TemplateArgs = parse(args)?;
                let source = match &a.files {
                    Some(files) => crate::template::Source::Files(files),
                    None => crate::template::Source::Text(&a.text),
                };
                crate::template::render(source, &a.data)
                    .map(Json::String)
                    .map_err(Failure::Go)
            }
            "os.readFile" => match std::fs::read(first_str(&args)) {
                Ok(bytes) => Ok(json!(bytes)),
                Err(e) => Err(Failure::Args(e.to_string())),
            },
            "mail.send" => {
                let a: Mail = parse(args)?;
                let to = a
                    .message
                    .to
                    .iter()
                    .map(|t| t.address.as_str())
                    .collect::<Vec<_>>();
                let html = if a.message.html.is_empty() {
                    a.message.text
                } else {
                    a.message.html
                };
                let message = oxbase_core::mail::Message {
                    to: to.join(", "),
                    subject: a.message.subject,
                    html,
                    about: None,
                };
                self.block(app.auth().mailer().send(message))?;
                Ok(Json::Null)
            }
            "mails.send" => {
                let a: RecordMailArgs = parse(args)?;
                let (_, record) = self.block(app.records().find_by_id(&a.collection, &a.id))?;
                let record = record.ok_or(Failure::NoRows)?;
                let mail = match a.kind.as_str() {
                    "passwordReset" => RecordMail::PasswordReset,
                    "verification" => RecordMail::Verification,
                    "emailChange" => RecordMail::EmailChange { new_email: a.extra },
                    "otp" => RecordMail::Otp { password: a.extra },
                    "authAlert" => RecordMail::AuthAlert { info: a.extra },
                    other => return Err(Failure::Args(format!("unknown mail {other:?}"))),
                };
                app.auth().send_record_mail(&record, mail)?;
                Ok(Json::Null)
            }
            "records.authToken" => {
                let a: Token = parse(args)?;
                let (_, record) = self.block(app.records().find_by_id(&a.collection, &a.id))?;
                let record = record.ok_or(Failure::NoRows)?;
                let token = if a.kind == "file" {
                    tokens::issue_kind(&record, tokens::TokenKind::File, Default::default())?
                } else {
                    tokens::issue(&record)?
                };
                Ok(json!(token))
            }
            other => match crate::security::op(other, &args) {
                Some(out) => out.map_err(Failure::Args),
                None => Err(Failure::Args(format!("unknown native operation {other:?}"))),
            },
        }
    }

    /// The staged files a record's values name (`{"__file": token}`, alone or in a list) as
    /// the uploads of its write, each value the upload's stored name.
    fn with_files(
        &self,
        mut data: Map<String, Json>,
    ) -> Result<(Map<String, Json>, Vec<oxbase_core::files::Upload>), Failure> {
        let mut files = Vec::new();
        let mut take = |v: &mut Json| -> Result<(), Failure> {
            let Some(token) = v.get("__file").and_then(Json::as_str) else {
                return Ok(());
            };
            let upload = self
                .staged
                .get(token)
                .ok_or_else(|| Failure::Go("the file is no longer available".into()))?;
            *v = Json::String(upload.name.clone());
            files.push(upload);
            Ok(())
        };
        for value in data.values_mut() {
            match value {
                Json::Array(items) => items.iter_mut().try_for_each(&mut take)?,
                v => take(v)?,
            }
        }
        Ok((data, files))
    }

    fn find_one(&self, collection: &str, filter: &str, params: Json) -> OpResult {
        let params = params.as_object().cloned().unwrap_or_default();
        let app = self
            .app
            .upgrade()
            .ok_or_else(|| Failure::Args("the app is closed".into()))?;
        let (c, mut records) = self.block(app.records().find(
            collection,
            Find {
                filter,
                limit: 1,
                params: Some(&params),
                ..Find::default()
            },
        ))?;
        match records.pop() {
            Some(r) => Ok(json!({"collection": c.to_json(), "record": r.data})),
            None => Err(Failure::NoRows),
        }
    }

    fn find_many(
        &self,
        collection: &str,
        filter: &str,
        sort: &str,
        limit: i64,
        offset: i64,
        params: &Map<String, Json>,
    ) -> OpResult {
        let app = self
            .app
            .upgrade()
            .ok_or_else(|| Failure::Args("the app is closed".into()))?;
        let (c, records) = self.block(app.records().find(
            collection,
            Find {
                filter,
                sort,
                limit,
                offset,
                params: Some(params),
            },
        ))?;
        let records: Vec<Json> = records.into_iter().map(|r| Json::Object(r.data)).collect();
        Ok(json!({"collection": c.to_json(), "records": records}))
    }
}

/// `$http.send`: one request, the answer read whole (PocketBase's fields).
async fn http_send(a: HttpSend) -> Result<Json, String> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(reqwest::Client::new);
    let method = reqwest::Method::from_bytes(a.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = client
        .request(method, &a.url)
        .timeout(Duration::from_secs_f64(a.timeout.clamp(1.0, 600.0)));
    for (k, v) in &a.headers {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        request = request.header(k.as_str(), v);
    }
    if !a.body.is_empty() {
        request = request.body(a.body);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let mut headers = Map::new();
    let mut cookies = Map::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == reqwest::header::SET_COOKIE
            && let Some((k, v)) = value.split(';').next().and_then(|c| c.split_once('='))
        {
            cookies.insert(k.trim().to_owned(), json!(v.trim()));
        }
        if let Json::Array(list) = headers
            .entry(canonical(name.as_str()))
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            list.push(Json::String(value));
        }
    }
    let raw = response.text().await.map_err(|e| e.to_string())?;
    Ok(json!({"statusCode": status, "headers": headers, "cookies": cookies, "raw": raw}))
}

/// `$filesystem.fileFromURL`: the body of a GET (PocketBase's error for a status outside
/// 200-399).
async fn download(url: &str, timeout: f64) -> Result<Vec<u8>, String> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(reqwest::Client::new);
    let seconds = if timeout > 0.0 { timeout } else { 120.0 };
    let response = client
        .get(url)
        .timeout(Duration::from_secs_f64(seconds.min(3600.0)))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if !(200..=399).contains(&status) {
        return Err(format!("failed to download url {url} ({status})"));
    }
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    Ok(bytes.to_vec())
}

/// An I/O error in Go's words (`no such file or directory`).
fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `$os.cmd(...).output()`: runs the program to its end; its output as text, or an error
/// with its exit status (as Go's `exec.ExitError`).
fn exec(a: &Exec) -> Result<Json, String> {
    let mut cmd = std::process::Command::new(&a.name);
    cmd.args(&a.args);
    if !a.dir.is_empty() {
        cmd.current_dir(&a.dir);
    }
    for pair in &a.env {
        if let Some((k, v)) = pair.split_once('=') {
            cmd.env(k, v);
        }
    }
    let out = cmd
        .output()
        .map_err(|e| format!("exec: {:?}: {e}", a.name))?;
    if !out.status.success() {
        return Err(format!("exit status {}", out.status.code().unwrap_or(-1)));
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    match a.mode.as_str() {
        "combined" => text.push_str(&String::from_utf8_lossy(&out.stderr)),
        "none" => text.clear(),
        _ => {}
    }
    Ok(Json::String(text))
}

/// A header name as Go writes it (`content-type` → `Content-Type`).
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A record's save body: on create every value; on update the values that changed since it
/// was read. A password set from JS arrives as `{"__plain": ...}`; a stored hash is never sent.
fn save_body(r: &RecordPayload) -> Map<String, Json> {
    let mut body = Map::new();
    for (k, v) in &r.data {
        let changed = r.is_new || r.original.as_ref().and_then(|o| o.get(k)) != Some(v);
        if !changed {
            continue;
        }
        match v.get("__plain") {
            Some(plain) => {
                body.insert(k.clone(), plain.clone());
            }
            None if k == "password" || k == "tokenKey" && !r.is_new => {}
            None => {
                body.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

fn log(a: &Log) {
    let data = Json::Object(a.data.clone());
    match a.level.as_str() {
        "error" => tracing::error!(target: "oxbase::hooks", data = %data, "{}", a.message),
        "warn" => tracing::warn!(target: "oxbase::hooks", data = %data, "{}", a.message),
        "debug" => tracing::debug!(target: "oxbase::hooks", data = %data, "{}", a.message),
        _ => tracing::info!(target: "oxbase::hooks", data = %data, "{}", a.message),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(args: Json) -> Result<T, Failure> {
    serde_json::from_value(args).map_err(|e| Failure::Args(e.to_string()))
}

fn first_str(args: &Json) -> String {
    args.get(0).and_then(Json::as_str).unwrap_or("").to_owned()
}

fn first_f64(args: &Json) -> f64 {
    args.get(0).and_then(Json::as_f64).unwrap_or(0.0)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameOrId {
    name_or_id: String,
}

#[derive(Deserialize)]
struct Types {
    #[serde(default)]
    types: Vec<String>,
}

#[derive(Deserialize)]
struct SaveCollection {
    collection: Json,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportCollections {
    collections: Json,
    #[serde(default)]
    delete_missing: bool,
}

#[derive(Deserialize)]
struct ById {
    collection: String,
    id: String,
}

#[derive(Deserialize)]
struct ByIds {
    collection: String,
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct ByFilter {
    collection: String,
    filter: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    limit: i64,
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    params: Map<String, Json>,
}

#[derive(Deserialize)]
struct ByData {
    collection: String,
    key: String,
    value: Json,
}

#[derive(Deserialize)]
struct ByEmail {
    collection: String,
    email: String,
}

#[derive(Deserialize)]
struct Count {
    collection: String,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    params: Map<String, Json>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordPayload {
    collection: String,
    #[serde(default)]
    id: String,
    is_new: bool,
    data: Map<String, Json>,
    #[serde(default)]
    original: Option<Map<String, Json>>,
}

#[derive(Deserialize)]
struct SaveRecord {
    record: RecordPayload,
}

#[derive(Deserialize)]
struct Query {
    sql: String,
    #[serde(default)]
    params: Map<String, Json>,
    mode: String,
}

#[derive(Deserialize)]
struct Log {
    level: String,
    message: String,
    #[serde(default)]
    data: Map<String, Json>,
}

#[derive(Deserialize)]
struct Address {
    #[serde(default)]
    address: String,
}

#[derive(Deserialize)]
struct MailMessage {
    #[serde(default)]
    to: Vec<Address>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    html: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Mail {
    message: MailMessage,
}

#[derive(Deserialize)]
struct RecordMailArgs {
    kind: String,
    collection: String,
    id: String,
    #[serde(default)]
    extra: String,
}

#[derive(Deserialize)]
struct Exec {
    name: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    mode: String,
}

#[derive(Deserialize)]
struct HttpSend {
    url: String,
    method: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    headers: Map<String, Json>,
    #[serde(default)]
    timeout: f64,
}

#[derive(Deserialize)]
struct StageFile {
    /// `bytes`, `path`, `url` or `copy` (of a staged file).
    source: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    bytes: Vec<u8>,
    #[serde(default)]
    path: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    timeout: f64,
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
struct TemplateArgs {
    #[serde(default)]
    files: Option<Vec<String>>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    data: Json,
}

#[derive(Deserialize)]
struct Token {
    collection: String,
    id: String,
    kind: String,
}
