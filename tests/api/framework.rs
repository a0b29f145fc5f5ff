//! oxbase as a Rust library (`oxbase::framework`): record hooks, routes and cron jobs
//! registered on an `Oxbase`, checked over HTTP on the real server; beside JS hooks; after a
//! restore reopens the app.

use std::sync::Arc;
use std::time::Duration;

use oxbase::framework::axum::Json;
use oxbase::framework::axum::extract::{Path, Request, State};
use oxbase::framework::axum::http::{HeaderValue, Method};
use oxbase::framework::axum::response::Response;
use oxbase::framework::{
    ApiError, App, BuiltIn, Caller, Error, JsonBody, Oxbase, RecordDeleteEvent, RecordEvent,
};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::helpers::{
    GUEST, assert_error, assert_standard_shape, eventually, field_code, public_collection,
    spawn_rust_app,
};

fn posts() -> Value {
    public_collection(
        "posts",
        json!([
            {"name": "title", "type": "text"},
            {"name": "slug", "type": "text"},
            {"name": "edits", "type": "number"},
            {"name": "pinned", "type": "bool"},
        ]),
    )
}

fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Posts get a slug and refuse spam on create; an update counts its edits; a pinned post
/// cannot be deleted.
fn post_hooks(app: &mut Oxbase) {
    app.on_record_create(["posts"], |e: &mut RecordEvent| {
        let title = e.record.get_str("title").to_owned();
        if title.contains("spam") {
            return Err(Error::field("title", "validation_spam", "Looks like spam."));
        }
        e.record.set("slug", slug(&title));
        Ok(())
    })
    .on_record_update(["posts"], |e: &mut RecordEvent| {
        let before = e
            .original
            .map_or(0, |o| o.get("edits").as_i64().unwrap_or(0));
        let title = e.record.get_str("title").to_owned();
        e.record.set("edits", before + 1);
        e.record.set("slug", slug(&title));
        Ok(())
    })
    .on_record_delete(["posts"], |e: &mut RecordDeleteEvent| {
        match e.record.get("pinned").as_bool() {
            Some(true) => Err(Error::Forbidden("Pinned posts stay.".into())),
            _ => Ok(()),
        }
    });
}

#[tokio::test]
async fn a_rust_apps_record_hooks_change_reject_and_follow_writes() {
    let saved = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let deleted = Arc::new(Mutex::new(Vec::<String>::new()));
    let created_in = Arc::new(Mutex::new(Vec::<String>::new()));
    let app = spawn_rust_app(|config| {
        let mut app = Oxbase::new(config);
        post_hooks(&mut app);
        let (saved, deleted) = (saved.clone(), deleted.clone());
        let created_in = created_in.clone();
        // No tags: every collection's records.
        app.on_record_create([], move |e| {
            created_in.lock().push(e.record.collection.name.clone());
            Ok(())
        })
        .on_record_after_create_success(["posts"], move |e| {
            let record = e.record;
            saved
                .lock()
                .push((record.id().to_owned(), record.get_str("slug").to_owned()));
            Ok(())
        })
        .on_record_after_delete_success(["posts"], move |e| {
            deleted.lock().push(e.record.id().to_owned());
            Ok(())
        });
        app
    })
    .await;
    app.must_create_collection(posts()).await;
    let posts_id = app.collection_id("posts").await;
    app.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}]),
    ))
    .await;

    let post = app
        .must_create_record("posts", json!({"title": "Hello, Rust World!"}))
        .await;
    assert_eq!(post["slug"], "hello-rust-world");
    // The after-success hook ran before the response.
    assert_eq!(
        *saved.lock(),
        vec![(
            post["id"].as_str().unwrap_or("").to_owned(),
            "hello-rust-world".to_owned()
        )]
    );

    let refused = app
        .create_record("posts", json!({"title": "cheap spam"}), GUEST)
        .await;
    refused.expect(400);
    assert_standard_shape(&refused);
    assert_eq!(field_code(&refused, "title"), "validation_spam");
    assert_eq!(refused.body["data"]["title"]["message"], "Looks like spam.");
    let listed = app.list_records("posts", &[], GUEST).await;
    assert_eq!(listed.body["totalItems"], 1, "a refused write rolls back");
    assert_eq!(
        saved.lock().len(),
        1,
        "no after-success for a refused write"
    );

    let id = post["id"].as_str().unwrap_or("");
    let updated = app
        .update_record("posts", id, json!({"title": "Renamed"}), GUEST)
        .await;
    updated.expect(200);
    assert_eq!(
        (updated.body["slug"].clone(), updated.body["edits"].clone()),
        (json!("renamed"), json!(1))
    );
    let again = app
        .update_record("posts", id, json!({"pinned": true}), GUEST)
        .await;
    assert_eq!(again.body["edits"], 2, "the hook saw the stored record");

    assert_error(
        &app.delete_record("posts", id, GUEST).await,
        403,
        "Pinned posts stay.",
    );
    app.update_record("posts", id, json!({"pinned": false}), GUEST)
        .await
        .expect(200);
    app.delete_record("posts", id, GUEST).await.expect(204);
    assert_eq!(*deleted.lock(), vec![id.to_owned()]);

    // Tags name collections by name or id; the untagged hook saw every create.
    let note = app
        .must_create_record("notes", json!({"title": "A note"}))
        .await;
    assert!(note.get("slug").is_none());
    let created_in: Vec<String> = created_in
        .lock()
        .iter()
        .filter(|c| !c.starts_with('_'))
        .cloned()
        .collect();
    // Hooks run in registration order: the refused post stopped at the first one.
    assert_eq!(created_in, ["posts", "notes"]);
    let by_id = spawn_rust_app(|config| {
        let mut app = Oxbase::new(config);
        app.on_record_create([posts_id.as_str()], |e: &mut RecordEvent| {
            e.record.set("slug", "by-id");
            Ok(())
        });
        app
    })
    .await;
    // A collection's id derives from its name (as in PocketBase): the same in both apps.
    by_id.must_create_collection(posts()).await;
    assert_eq!(by_id.collection_id("posts").await, posts_id);
    let tagged = by_id
        .must_create_record("posts", json!({"title": "x"}))
        .await;
    assert_eq!(tagged["slug"], "by-id");
    by_id
        .must_create_collection(public_collection(
            "notes",
            json!([{"name": "slug", "type": "text"}]),
        ))
        .await;
    let untagged = by_id.must_create_record("notes", json!({})).await;
    assert_eq!(untagged["slug"], "");
    by_id.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_panicking_hook_fails_its_write_and_the_app_goes_on() {
    let app = spawn_rust_app(|config| {
        let mut app = Oxbase::new(config);
        app.on_record_create(["posts"], |e: &mut RecordEvent| {
            assert_ne!(e.record.get_str("title"), "boom", "a hook's own bug");
            Ok(())
        });
        app
    })
    .await;
    app.must_create_collection(posts()).await;
    let failed = app
        .create_record("posts", json!({"title": "boom"}), GUEST)
        .await;
    assert_error(
        &failed,
        500,
        "Something went wrong while processing your request.",
    );
    assert_eq!(
        app.list_records("posts", &[], GUEST).await.body["totalItems"],
        0
    );
    // The database's writer survived it.
    app.must_create_record("posts", json!({"title": "fine"}))
        .await;
    app.stop().await;
}

#[derive(serde::Deserialize)]
struct Echo {
    text: String,
}

/// `GET /api/hello/{name}`: the caller, and the app's post count.
async fn hello(
    Path(name): Path<String>,
    Caller(auth): Caller,
    State(app): State<App>,
) -> Result<Json<Value>, ApiError> {
    let posts = app
        .records()
        .count("posts", "", &Default::default())
        .await?;
    Ok(Json(json!({
        "message": format!("Hello, {name}!"),
        "superuser": auth.is_superuser(),
        "posts": posts,
    })))
}

/// `GET /api/health` wrapped: the built-in answer with a header of the app's.
async fn wrapped_health(built_in: BuiltIn, request: Request) -> Response {
    let mut response = built_in.send(request).await;
    response
        .headers_mut()
        .insert("x-wrapped", HeaderValue::from_static("yes"));
    response
}

#[tokio::test]
async fn a_rust_apps_routes_answer_before_the_built_in_ones() {
    let app =
        spawn_rust_app(|config| {
            let mut app = Oxbase::new(config);
            app.route(Method::GET, "/api/hello/{name}", hello)
            .route(Method::POST, "/api/echo", |JsonBody(body): JsonBody<Echo>| async move {
                Json(json!({"text": body.text}))
            })
            .route(Method::GET, "/api/refuse", || async {
                Err::<Json<Value>, ApiError>(Error::Forbidden("Not for you.".into()).into())
            })
            .route(Method::GET, "/api/health", wrapped_health);
            app
        })
        .await;
    app.must_create_collection(posts()).await;
    app.must_create_record("posts", json!({"title": "one"}))
        .await;

    let guest = app.get("/api/hello/ada", GUEST).await;
    guest.expect(200);
    assert_eq!(
        guest.body,
        json!({"message": "Hello, ada!", "superuser": false, "posts": 1})
    );
    let superuser = app.get("/api/hello/ada", &app.superuser_token).await;
    assert_eq!(superuser.body["superuser"], true);

    let echoed = app
        .request(
            Method::POST,
            "/api/echo",
            GUEST,
            Some(&json!({"text": "hi"})),
        )
        .await;
    assert_eq!(echoed.body, json!({"text": "hi"}));
    let bad = app
        .raw(
            Method::POST,
            "/api/echo",
            GUEST,
            "application/json",
            "{not json",
        )
        .await;
    assert_error(
        &bad,
        400,
        "Failed to load the submitted data due to invalid formatting.",
    );
    assert_error(&app.get("/api/refuse", GUEST).await, 403, "Not for you.");

    let health = app
        .client
        .get(app.url("/api/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(
        health.headers().get("x-wrapped").map(|v| v.as_bytes()),
        Some(&b"yes"[..])
    );
    let health: Value = health.json().await.expect("json");
    assert_eq!(health["message"], "API is healthy.");

    // A method no route takes on the path goes on to the built-in routes.
    assert_error(
        &app.request(Method::POST, "/api/hello/ada", GUEST, None)
            .await,
        404,
        "The requested resource wasn't found.",
    );
    app.get("/api/collections/posts/records", GUEST)
        .await
        .expect(200);
    app.stop().await;
}

#[tokio::test]
async fn a_rust_apps_cron_job_is_listed_and_runs_with_the_app() {
    let app = spawn_rust_app(|config| {
        let mut app = Oxbase::new(config);
        app.cron("rust_digest", "*/5 * * * *", |app: App| async move {
            let posts = app
                .records()
                .count("posts", "", &Default::default())
                .await?;
            let mut data = serde_json::Map::new();
            data.insert("title".into(), json!(format!("{posts} posts")));
            app.records().save_direct("digests", "", true, data).await?;
            Ok(())
        });
        app
    })
    .await;
    app.must_create_collection(posts()).await;
    app.must_create_collection(public_collection(
        "digests",
        json!([{"name": "title", "type": "text"}]),
    ))
    .await;
    app.must_create_record("posts", json!({"title": "one"}))
        .await;

    let su = app.superuser_token.clone();
    let jobs = app.get("/api/crons", &su).await;
    jobs.expect(200);
    assert_eq!(
        jobs.body[0],
        json!({"id": "rust_digest", "expression": "*/5 * * * *"})
    );
    app.request(Method::POST, "/api/crons/rust_digest", &su, None)
        .await
        .expect(204);
    eventually("the job's record", Duration::from_secs(10), || async {
        let r = app.list_records("digests", &[], GUEST).await;
        r.items().first().map(|d| d["title"].clone()) == Some(json!("1 posts"))
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn rust_routes_and_js_routes_answer_side_by_side_rust_first() {
    let app = spawn_rust_app(|mut config| {
        let dir = config.data_dir.join("hooks");
        std::fs::create_dir_all(&dir).expect("hooks dir");
        std::fs::write(
            dir.join("main.pb.js"),
            r#"
routerAdd("GET", "/api/js", (e) => e.json(200, {from: "js"}))
routerAdd("GET", "/api/both", (e) => e.json(200, {from: "js"}))
// PB-COMPAT: global middlewares wrap every route, a Rust app's too.
routerUse((e) => {
  if (e.request.header.get("X-Block") === "yes") throw new ForbiddenError("blocked")
  return e.next()
})
onRecordCreate((e) => { e.record.set("title", e.record.get("title") + " (js)"); e.next() }, "posts")
"#,
        )
        .expect("hook file");
        config.hooks = Some(oxbase_js::HooksConfig {
            dir,
            pool: 1,
            timeout: Duration::from_secs(5),
            memory_bytes: 64 << 20,
            dev: false,
            data_dir: config.data_dir.clone(),
        });
        let mut app = Oxbase::new(config);
        post_hooks(&mut app);
        app.route(Method::GET, "/api/rust", || async {
            Json(json!({"from": "rust"}))
        })
        .route(Method::GET, "/api/both", || async {
            Json(json!({"from": "rust"}))
        });
        app
    })
    .await;
    assert_eq!(app.get("/api/js", GUEST).await.body, json!({"from": "js"}));
    assert_eq!(
        app.get("/api/rust", GUEST).await.body,
        json!({"from": "rust"})
    );
    assert_eq!(
        app.get("/api/both", GUEST).await.body,
        json!({"from": "rust"})
    );
    for path in ["/api/rust", "/api/both", "/api/js", "/api/health"] {
        let blocked = reqwest::Client::new()
            .get(app.url(path))
            .header("X-Block", "yes")
            .send()
            .await
            .expect("request");
        assert_eq!(blocked.status().as_u16(), 403, "{path}");
        let body: Value = blocked.json().await.expect("json");
        assert_eq!(body["message"], json!("Blocked."), "{path}");
    }
    // The Rust hook runs first: the slug is made before JS changes the title.
    app.must_create_collection(posts()).await;
    let post = app
        .must_create_record("posts", json!({"title": "Both"}))
        .await;
    assert_eq!(
        (post["title"].clone(), post["slug"].clone()),
        (json!("Both (js)"), json!("both"))
    );
    app.stop().await;
}

/// What a test registers on an `Oxbase`.
type Registration = Box<dyn Fn(&mut Oxbase)>;

#[tokio::test]
async fn registration_mistakes_fail_the_build_with_their_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = || {
        let mut config = oxbase::ServeConfig::new(dir.path());
        config.http = "127.0.0.1:0".into();
        config
    };
    let mistakes: [(&str, Registration); 5] = [
        (
            "a path starts with `/`",
            Box::new(|app| {
                app.route(Method::GET, "api/x", || async {});
            }),
        ),
        (
            "parameters are written `{name}`",
            Box::new(|app| {
                app.route(Method::GET, "/api/x/:id", || async {});
            }),
        ),
        (
            "route GET /api/x is registered twice",
            Box::new(|app| {
                app.route(Method::GET, "/api/x", || async {})
                    .route(Method::POST, "/api/x", || async {})
                    .route(Method::GET, "/api/x", || async {});
            }),
        ),
        (
            "invalid expression",
            Box::new(|app| {
                app.cron("job", "every minute", |_| async { Ok(()) });
            }),
        ),
        (
            "a cron job needs an id",
            Box::new(|app| {
                app.cron(" ", "* * * * *", |_| async { Ok(()) });
            }),
        ),
    ];
    for (reason, register) in mistakes {
        let mut app = Oxbase::new(config());
        register(&mut app);
        match app.build().await {
            Ok(_) => panic!("built despite: {reason}"),
            Err(e) => assert!(e.contains(reason), "{e:?} names {reason:?}"),
        }
    }
    assert!(
        !dir.path().join("data.db").exists(),
        "a mistake is found before the app opens"
    );
}

#[tokio::test]
async fn a_restored_app_gets_the_rust_apps_hooks_routes_and_jobs_again() {
    let app = spawn_rust_app(|config| {
        let mut app = Oxbase::new(config);
        post_hooks(&mut app);
        app.route(Method::GET, "/api/hello/{name}", hello).cron(
            "rust_noop",
            "0 * * * *",
            |_| async { Ok(()) },
        );
        app
    })
    .await;
    let su = app.superuser_token.clone();
    app.must_create_collection(posts()).await;
    app.must_create_record("posts", json!({"title": "kept"}))
        .await;
    app.request(
        Method::POST,
        "/api/backups",
        &su,
        Some(&json!({"name": "b.zip"})),
    )
    .await
    .expect(204);
    app.must_create_record("posts", json!({"title": "dropped"}))
        .await;
    app.request(Method::POST, "/api/backups/b.zip/restore", &su, None)
        .await
        .expect(204);
    // The route answers from the reopened app (its count is the backup's).
    eventually("the restored app", Duration::from_secs(30), || async {
        let r = app.get("/api/hello/x", GUEST).await;
        r.status == 200 && r.body["posts"] == 1
    })
    .await;
    let post = app
        .must_create_record("posts", json!({"title": "After Restore"}))
        .await;
    assert_eq!(post["slug"], "after-restore");
    let jobs = app.get("/api/crons", &su).await;
    assert_eq!(jobs.body[0]["id"], "rust_noop", "jobs: {}", jobs.text);
    app.stop().await;
}
