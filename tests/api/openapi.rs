//! The API describing itself: `/api/openapi.json` (every route of the router in it, each
//! collection's fields as JSON Schemas, what guests see), `/api/docs`, `/api/typegen.ts` and
//! each collection's `schema.json`.

use serde_json::json;

use crate::helpers::{GUEST, spawn_app};

/// The routes of `crates/api/src/lib.rs` as (method, OpenAPI path): each `.route("path", …)`
/// call, read up to its closing parenthesis, and the method routers named inside it.
fn router_routes() -> Vec<(String, String)> {
    let source = include_str!("../../crates/api/src/lib.rs");
    let mut routes = Vec::new();
    for (start, _) in source.match_indices(".route(") {
        let rest = &source[start + ".route(".len()..];
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("a closed .route(");
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("a path literal");
        // The dashboard and the 404 of unknown API paths are no API.
        if path.starts_with("/_") || path == "/api/{*rest}" {
            continue;
        }
        let path = path.replace("{*", "{");
        for method in ["get", "post", "put", "patch", "delete", "head"] {
            let called = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0 || {
                    let before = call.as_bytes()[i - 1];
                    !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
                }
            });
            if called {
                routes.push((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_of_the_router_is_in_the_document() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", &app.superuser_token).await;
    doc.expect(200);
    let routes = router_routes();
    assert!(routes.len() > 50, "the router was read: {routes:?}");
    let missing: Vec<_> = routes
        .iter()
        .filter(|(method, path)| doc.body["paths"][path][method].is_null())
        .collect();
    assert!(missing.is_empty(), "undocumented routes: {missing:?}");
    // And the document lists no route the router lacks.
    let extra: Vec<_> = oxbase_core::describe::SYSTEM_PATHS
        .iter()
        .filter(|e| !routes.contains(&(e.method.to_owned(), e.path.to_owned())))
        .map(|e| (e.method, e.path))
        .collect();
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
    assert_eq!(doc.body["openapi"], "3.1.0");
    let scheme = &doc.body["components"]["securitySchemes"]["pbAuth"];
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "Authorization");
    let error = &doc.body["components"]["schemas"]["Error"];
    assert_eq!(error["required"], json!(["status", "message", "data"]));
    let filter = doc.body["components"]["parameters"]["filter"]["description"]
        .as_str()
        .unwrap();
    for needle in ["?!=", "!~", "@request.auth", "@collection.", "@now", "&&"] {
        assert!(
            filter.contains(needle),
            "the filter language names {needle}"
        );
    }
}

/// `posts` (public list and view, hidden `secret`), `drafts` (superusers only), relations to
/// `users`.
async fn fixture(app: &crate::helpers::TestApp) {
    let users = app.collection_id("users").await;
    app.must_create_collection(json!({
        "name": "posts",
        "type": "base",
        "listRule": "",
        "viewRule": "",
        "fields": [
            {"name": "title", "type": "text", "required": true, "min": 3, "max": 100},
            {"name": "status", "type": "select", "values": ["draft", "published"]},
            {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
            {"name": "views", "type": "number", "min": 0, "max": 1000, "onlyInt": true},
            {"name": "secret", "type": "text", "hidden": true},
            {"name": "author", "type": "relation", "collectionId": users, "maxSelect": 1},
            {"name": "readers", "type": "relation", "collectionId": users, "maxSelect": 5},
            {"name": "meta", "type": "json"},
            {"name": "cover", "type": "file", "maxSelect": 1},
            {"name": "created", "type": "autodate", "onCreate": true},
        ],
    }))
    .await;
    app.must_create_collection(json!({
        "name": "drafts",
        "type": "base",
        "fields": [{"name": "body", "type": "text"}],
    }))
    .await;
}

#[tokio::test]
async fn collection_fields_become_json_schemas() {
    let app = spawn_app().await;
    fixture(&app).await;
    let doc = app.get("/api/openapi.json", &app.superuser_token).await;
    doc.expect(200);
    let schemas = &doc.body["components"]["schemas"];
    let post = &schemas["postsRecord"]["properties"];
    assert_eq!(post["status"]["enum"], json!(["draft", "published", ""]));
    assert_eq!(post["tags"]["type"], "array");
    assert_eq!(post["tags"]["items"]["enum"], json!(["a", "b", "c"]));
    assert_eq!(post["tags"]["maxItems"], 3);
    assert_eq!(post["views"]["type"], "integer");
    assert_eq!(post["author"]["type"], "string");
    assert_eq!(post["readers"]["type"], "array");
    assert_eq!(post["readers"]["maxItems"], 5);
    assert_eq!(post["created"]["readOnly"], true);
    assert_eq!(post["cover"]["type"], "string");
    assert!(post["secret"].is_object(), "superusers see hidden fields");
    assert_eq!(
        post["expand"]["$ref"], "#/components/schemas/postsExpand",
        "the record links its expand shape"
    );
    let expand = &schemas["postsExpand"]["properties"];
    assert_eq!(expand["author"]["$ref"], "#/components/schemas/usersRecord");
    assert_eq!(
        expand["readers"]["items"]["$ref"],
        "#/components/schemas/usersRecord"
    );
    let create = &schemas["postsCreate"];
    assert_eq!(create["required"], json!(["title"]));
    assert_eq!(create["properties"]["title"]["minLength"], 3);
    assert_eq!(create["properties"]["title"]["maxLength"], 100);
    assert!(
        create["properties"]["created"].is_null(),
        "autodate is read-only"
    );
    assert!(
        create["properties"]["cover"].is_null(),
        "files go in multipart"
    );
    assert_eq!(
        schemas["postsCreateForm"]["properties"]["cover"]["format"],
        "binary"
    );
    assert!(!doc.body["paths"]["/api/collections/drafts/records"]["get"].is_null());
    assert!(!doc.body["paths"]["/api/collections/users/auth-with-password"]["post"].is_null());
}

#[tokio::test]
async fn guests_and_users_see_public_collections_without_hidden_fields() {
    let app = spawn_app().await;
    fixture(&app).await;
    let user = app.create_user("reader@example.com").await;
    for token in [GUEST, user.token.as_str()] {
        let doc = app.get("/api/openapi.json", token).await;
        doc.expect(200);
        let paths = &doc.body["paths"];
        let schemas = &doc.body["components"]["schemas"];
        assert!(!paths["/api/collections/posts/records"]["get"].is_null());
        assert!(
            paths["/api/collections/posts/records"]["post"].is_null(),
            "the create rule is superuser-only"
        );
        assert!(paths["/api/collections/drafts/records"].is_null());
        assert!(schemas["draftsRecord"].is_null());
        let post = &schemas["postsRecord"];
        assert!(post["properties"]["secret"].is_null(), "hidden field shown");
        assert!(post["properties"]["title"].is_object());
    }
}

#[tokio::test]
async fn the_document_follows_schema_changes() {
    let app = spawn_app().await;
    fixture(&app).await;
    let before = app.get("/api/openapi.json", GUEST).await;
    assert!(
        before.body["components"]["schemas"]["postsRecord"]["properties"]["subtitle"].is_null()
    );
    let fields = app
        .view_collection("posts", &app.superuser_token)
        .await
        .body["fields"]
        .clone();
    let mut fields = fields.as_array().unwrap().clone();
    fields.push(json!({"name": "subtitle", "type": "text"}));
    app.update_collection("posts", json!({"fields": fields}), &app.superuser_token)
        .await
        .expect(200);
    app.update_collection("drafts", json!({"listRule": ""}), &app.superuser_token)
        .await
        .expect(200);
    let after = app.get("/api/openapi.json", GUEST).await;
    let schemas = &after.body["components"]["schemas"];
    assert_eq!(
        schemas["postsRecord"]["properties"]["subtitle"]["type"],
        "string"
    );
    assert!(
        schemas["draftsRecord"].is_object(),
        "a public list rule shows it"
    );
}

#[tokio::test]
async fn each_collection_has_a_json_schema() {
    let app = spawn_app().await;
    fixture(&app).await;
    let guest = app.get("/api/collections/posts/schema.json", GUEST).await;
    guest.expect(200);
    assert_eq!(
        guest.body["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        guest.body["properties"]["status"]["enum"],
        json!(["draft", "published", ""])
    );
    assert!(guest.body["properties"]["secret"].is_null());
    app.get("/api/collections/drafts/schema.json", GUEST)
        .await
        .expect(404);
    let superuser = app
        .get("/api/collections/drafts/schema.json", &app.superuser_token)
        .await;
    superuser.expect(200);
    assert_eq!(superuser.body["properties"]["body"]["type"], "string");
}

#[tokio::test]
async fn typegen_is_for_superusers() {
    let app = spawn_app().await;
    fixture(&app).await;
    let user = app.create_user("reader@example.com").await;
    app.get("/api/typegen.ts", GUEST).await.expect(401);
    app.get("/api/typegen.ts", &user.token).await.expect(403);
    let ts = app.get("/api/typegen.ts", &app.superuser_token).await;
    ts.expect(200);
    for needle in [
        "export enum Collections {",
        "\tPosts = \"posts\",",
        "export enum PostsStatusOptions {",
        "\ttags?: PostsTagsOptions[]",
        "\treaders?: RecordIdString[]",
        "\ttitle: string",
        "export type PostsResponse<TPostsMeta = unknown, Texpand = unknown>",
        "export interface TypedPocketBase extends PocketBase {",
        "\tcollection(idOrName: \"posts\"): RecordService<PostsResponse>",
    ] {
        assert!(ts.text.contains(needle), "{needle} in\n{}", ts.text);
    }
}

#[tokio::test]
async fn the_viewer_serves_its_own_assets() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    // Every asset the page names is local: relative, under /api/docs/.
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| [".js", ".css", ".png"].iter().any(|ext| s.ends_with(ext)))
        .collect();
    assert!(assets.len() >= 3, "{html}");
    for asset in &assets {
        assert!(!asset.contains("//"), "{asset} leaves the machine");
        let file = asset.trim_start_matches("./");
        let got = app
            .client
            .get(app.url(&format!("/api/docs/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{file}");
        let body = got.text().await.unwrap();
        assert!(
            !body.contains("https://unpkg") && !body.contains("cdn.jsdelivr"),
            "{file}"
        );
        if file == "swagger-initializer.js" {
            assert!(body.contains("/api/openapi.json"), "{body}");
            // Swagger UI's default sends the document's address to validator.swagger.io.
            assert!(body.contains("\"validatorUrl\": \"none\""), "{body}");
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".css")));
    assert!(assets.iter().any(|a| a.ends_with("swagger-initializer.js")));
    app.get("/api/docs/nothing.js", GUEST).await.expect(404);
}

#[tokio::test]
async fn typegen_writes_the_types_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::cli::database().await;
    let data = dir.path().join("data");
    let out = dir.path().join("types.ts");
    let out_arg = out.to_str().unwrap();
    let ran = crate::cli::command(&data, db.as_deref(), "typegen", &["--out", out_arg]).await;
    assert!(ran.ok, "{}", ran.stderr);
    let ts = std::fs::read_to_string(&out).expect("the file");
    assert!(ts.contains("\tUsers = \"users\","), "{ts}");
    assert!(ts.contains("export type UsersResponse<Texpand = unknown> = Required<Omit<UsersRecord, \"password\">> & AuthSystemFields<Texpand>"), "{ts}");
    assert!(ts.contains("export interface TypedPocketBase extends PocketBase {"));
}

/// The generated documents of the fixture schema, byte for byte (insta snapshots under
/// `tests/api/snapshots/`; `INSTA_UPDATE=always cargo test --test api -- snapshots_` rewrites
/// them after an intended change, then review the diff). What differs from one run to the next
/// is replaced before comparing: the server's URL and each collection's generated id.
#[tokio::test]
async fn snapshots_of_the_generated_documents() {
    let app = spawn_app().await;
    fixture(&app).await;
    let mut stable = vec![(app.base.clone(), "http://127.0.0.1:PORT".to_owned())];
    for name in ["posts", "drafts"] {
        stable.push((app.collection_id(name).await, format!("<id of {name}>")));
    }
    let normalise = |text: &str| {
        stable.iter().fold(text.to_owned(), |t, (from, to)| {
            t.replace(from.as_str(), to)
        })
    };
    let get = |path: &'static str| {
        let app = &app;
        async move {
            let r = app.get(path, &app.superuser_token).await;
            r.expect(200);
            r.text
        }
    };
    // Twice: the same schema must give the same bytes (no map-order or clock in them).
    let openapi = get("/api/openapi.json").await;
    assert_eq!(openapi, get("/api/openapi.json").await);
    let mut doc: serde_json::Value = serde_json::from_str(&normalise(&openapi)).unwrap();
    // The build's version changes with each release, not with the schema.
    doc["info"]["version"] = json!("<version>");
    insta::assert_snapshot!("openapi.json", serde_json::to_string_pretty(&doc).unwrap());
    let ts = get("/api/typegen.ts").await;
    assert_eq!(ts, get("/api/typegen.ts").await);
    insta::assert_snapshot!("typegen.ts", normalise(&ts));
    let sdl = get("/api/graphql/schema.graphql").await;
    assert_eq!(sdl, get("/api/graphql/schema.graphql").await);
    insta::assert_snapshot!("schema.graphql", normalise(&sdl));
}

#[tokio::test]
async fn the_graphql_sdl_is_for_superusers() {
    let app = spawn_app().await;
    let user = app.create_user("reader@example.com").await;
    app.get("/api/graphql/schema.graphql", GUEST)
        .await
        .expect(401);
    app.get("/api/graphql/schema.graphql", &user.token)
        .await
        .expect(403);
    let sdl = app
        .get("/api/graphql/schema.graphql", &app.superuser_token)
        .await;
    sdl.expect(200);
    assert!(sdl.text.contains("type Query"), "{}", sdl.text);
}
