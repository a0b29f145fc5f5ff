//! GraphQL (`/api/graphql`): the same records, hidden fields and errors as REST for the same
//! caller (guest, owner, other user, superuser), relations and back-relations nested,
//! mutations, auth mutations, the depth limit, and a page with nested relations costing a
//! constant number of SQL statements.

use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, TestApp, TestUser, spawn_app};

/// `POST /api/graphql` as `token`: the status and the body.
pub(crate) async fn gql(app: &TestApp, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let r = app
        .request(
            Method::POST,
            "/api/graphql",
            token,
            Some(&json!({"query": query, "variables": variables})),
        )
        .await;
    (r.status, r.body)
}

/// teams <- posts (owner: users, a hidden `secret`, rule: public or own) <- comments.
pub(crate) struct Fixture {
    pub app: TestApp,
    pub ann: TestUser,
    pub bob: TestUser,
    pub posts: Vec<String>,
}

impl Fixture {
    /// The four callers the parity tests compare: guest, owner, other user, superuser.
    pub fn callers(&self) -> [(&'static str, String); 4] {
        [
            ("guest", GUEST.to_owned()),
            ("owner", self.ann.token.clone()),
            ("other", self.bob.token.clone()),
            ("superuser", self.app.superuser_token.clone()),
        ]
    }
}

pub(crate) async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let users = app.collection_id("users").await;
    let teams = app
        .must_create_collection(json!({"name": "teams", "listRule": "", "viewRule": "",
            "fields": [{"name": "name", "type": "text"}]}))
        .await;
    let rule = "public = true || owner = @request.auth.id";
    let posts = app
        .must_create_collection(json!({
            "name": "posts", "listRule": rule, "viewRule": rule,
            "createRule": "@request.auth.id != ''",
            "updateRule": "owner = @request.auth.id", "deleteRule": "owner = @request.auth.id",
            "fields": [
                {"name": "title", "type": "text", "required": true, "max": 20},
                {"name": "rank", "type": "number"},
                {"name": "public", "type": "bool"},
                {"name": "secret", "type": "text", "hidden": true},
                {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
                {"name": "meta", "type": "json"},
                {"name": "owner", "type": "relation", "collectionId": users, "maxSelect": 1},
                {"name": "team", "type": "relation", "collectionId": teams["id"], "maxSelect": 1},
            ],
        }))
        .await;
    app.must_create_collection(json!({
        "name": "comments", "listRule": "", "viewRule": "",
        "fields": [{"name": "text", "type": "text"},
                   {"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1}],
    }))
    .await;
    let ann = app.create_user("ann@example.com").await;
    let bob = app.create_user("bob@example.com").await;
    let red = app
        .must_create_record("teams", json!({"name": "Red"}))
        .await;
    let mut ids = Vec::new();
    for (i, (owner, public)) in [(&ann, true), (&ann, false), (&bob, true), (&bob, false)]
        .iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        let p = app
            .must_create_record(
                "posts",
                json!({"title": format!("post {i}"), "rank": i % 3, "public": public,
                       "secret": format!("s{i}"), "tags": ["a", "b"], "meta": {"i": i},
                       "owner": owner.id, "team": red["id"]}),
            )
            .await;
        ids.push(p["id"].as_str().expect("id").to_owned());
    }
    for (i, text) in ["first", "second", "third"].iter().enumerate() {
        app.must_create_record("comments", json!({"text": text, "post": ids[i % 2]}))
            .await;
    }
    Fixture {
        app,
        ann,
        bob,
        posts: ids,
    }
}

const FIELDS: [&str; 7] = ["id", "title", "rank", "public", "secret", "tags", "meta"];

#[tokio::test]
async fn lists_and_views_equal_rest_for_every_caller() {
    let f = fixture().await;
    let app = &f.app;
    let callers = f.callers();
    let cases: [(&str, &str, i64, i64); 6] = [
        ("", "-nope", 1, 30),
        ("", "", 1, 30),
        ("rank > 0", "-rank,title", 1, 30),
        ("title ~ 'post'", "title", 2, 3),
        ("public = false", "-title", 1, 2),
        ("owner.email = 'ann@example.com'", "", 1, 5),
    ];
    let query = "query($f: String, $s: String, $p: Int, $pp: Int) {
        postsList(filter: $f, sort: $s, page: $p, perPage: $pp) {
            page perPage totalItems totalPages items { id title rank public secret tags meta } } }";
    let mut refused = 0;
    for (who, token) in &callers {
        for (filter, sort, page, per_page) in cases {
            let rest = app
                .list_records(
                    "posts",
                    &[
                        ("filter", filter),
                        ("sort", sort),
                        ("page", &page.to_string()),
                        ("perPage", &per_page.to_string()),
                    ],
                    token,
                )
                .await;
            let (status, body) = gql(
                app,
                token,
                query,
                json!({"f": filter, "s": sort, "p": page, "pp": per_page}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            if rest.status != 200 {
                // A refusal is REST's, status and message.
                let e = &body["errors"][0];
                assert_eq!(
                    e["extensions"]["status"], rest.status,
                    "{who} {filter}: {body}"
                );
                assert_eq!(e["message"], rest.body["message"], "{who} {filter}");
                refused += 1;
                continue;
            }
            let list = &body["data"]["postsList"];
            for key in ["page", "perPage", "totalItems", "totalPages"] {
                assert_eq!(list[key], rest.body[key], "{who} {filter}: {key}");
            }
            let items = list["items"].as_array().expect("items");
            let rest_items = rest.items();
            assert_eq!(items.len(), rest_items.len(), "{who} {filter}");
            for (g, r) in items.iter().zip(&rest_items) {
                for key in FIELDS {
                    // A field REST leaves out (hidden) is null in GraphQL.
                    assert_eq!(g[key], r[key], "{who} {filter}: {key}");
                }
            }
        }
        // A view by id: the rule-hidden record is REST's 404 in `extensions`.
        for id in &f.posts[..4] {
            let rest = app.view_record("posts", id, &[], token).await;
            let (_, body) = gql(
                app,
                token,
                "query($id: String!) { posts(id: $id) { id title secret } }",
                json!({"id": id}),
            )
            .await;
            if rest.status == 200 {
                assert_eq!(body["data"]["posts"]["title"], rest.body["title"], "{who}");
                assert_eq!(
                    body["data"]["posts"]["secret"], rest.body["secret"],
                    "{who}"
                );
            } else {
                let e = &body["errors"][0];
                assert_eq!(e["extensions"]["status"], rest.status, "{who}: {body}");
                assert_eq!(e["message"], rest.body["message"], "{who}");
            }
        }
    }
    assert_eq!(
        refused,
        callers.len(),
        "only the unknown sort field is refused"
    );
    // The superuser sees the hidden field, a user never does.
    let (_, body) = gql(
        app,
        &app.superuser_token,
        "{ postsList { items { secret } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["postsList"]["items"][0]["secret"], "s0");
    let (_, body) = gql(
        app,
        &f.ann.token,
        "{ postsList { items { secret } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["postsList"]["items"][0]["secret"], Value::Null);
    // A malformed filter is REST's 400.
    let (_, body) = gql(
        app,
        GUEST,
        "{ postsList(filter: \"title ~\") { totalItems } }",
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["status"], 400, "{body}");
}

#[tokio::test]
async fn relations_and_back_relations_nest_as_rest_expands_them() {
    let f = fixture().await;
    let app = &f.app;
    for token in [GUEST, &f.ann.token, &f.bob.token, &app.superuser_token] {
        let rest = app
            .list_records(
                "posts",
                &[
                    ("expand", "owner,team,comments_via_post"),
                    ("sort", "title"),
                ],
                token,
            )
            .await;
        rest.expect(200);
        let (_, body) = gql(
            app,
            token,
            "{ postsList(sort: \"title\") { items { id owner owner_rel { id email } team_rel { name }
                comments_via_post { text } } } }",
            json!({}),
        )
        .await;
        let items = body["data"]["postsList"]["items"]
            .as_array()
            .expect("items")
            .clone();
        assert_eq!(items.len(), rest.items().len(), "{body}");
        for (g, r) in items.iter().zip(rest.items()) {
            assert_eq!(g["owner"], r["owner"]);
            // A user hidden by users' view rule is null, as REST leaves it out of `expand`.
            assert_eq!(g["owner_rel"]["id"], r["expand"]["owner"]["id"]);
            assert_eq!(g["owner_rel"]["email"], r["expand"]["owner"]["email"]);
            assert_eq!(g["team_rel"]["name"], r["expand"]["team"]["name"]);
            let texts = |v: &Value| -> Vec<Value> {
                v.as_array()
                    .map(|a| a.iter().map(|c| c["text"].clone()).collect())
                    .unwrap_or_default()
            };
            assert_eq!(
                texts(&g["comments_via_post"]),
                texts(&r["expand"]["comments_via_post"])
            );
        }
    }
    // A null filter and sort are none: the back-relation as expanded.
    let (_, plain) = gql(
        app,
        GUEST,
        "query($id: String!) { posts(id: $id) { comments_via_post { text } } }",
        json!({"id": f.posts[0]}),
    )
    .await;
    let (_, nulls) = gql(
        app,
        GUEST,
        "query($id: String!, $s: String) { posts(id: $id) { comments_via_post(filter: null, sort: $s) { text } } }",
        json!({"id": f.posts[0]}),
    )
    .await;
    assert_eq!(nulls, plain);
    assert_eq!(
        plain["data"]["posts"]["comments_via_post"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{plain}"
    );
    // A back-relation with its own filter, sort and limit.
    let (_, body) = gql(
        app,
        GUEST,
        "query($id: String!) { posts(id: $id) {
            comments_via_post(filter: \"text != 'second'\", sort: \"-text\", limit: 1) { text post_rel { title } } } }",
        json!({"id": f.posts[0]}),
    )
    .await;
    assert_eq!(
        body["data"]["posts"]["comments_via_post"],
        json!([{"text": "third", "post_rel": {"title": "post 0"}}]),
        "{body}"
    );
}

#[tokio::test]
async fn mutations_run_the_rest_rules_and_validation() {
    let f = fixture().await;
    let app = &f.app;
    let create = "mutation($d: JSON) { createPosts(data: $d) { id title owner_rel { email } } }";
    // A guest may not create (REST: 400 from the create rule).
    let data = json!({"title": "mine", "owner": f.ann.id});
    let rest = app.create_record("posts", data.clone(), GUEST).await;
    let (_, body) = gql(app, GUEST, create, json!({"d": data})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["status"], rest.status,
        "{body}"
    );
    // Validation errors carry REST's data.
    let bad = json!({"title": "x".repeat(30), "owner": f.ann.id});
    let rest = app.create_record("posts", bad.clone(), &f.ann.token).await;
    rest.expect(400);
    let (_, body) = gql(app, &f.ann.token, create, json!({"d": bad})).await;
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["status"], 400, "{body}");
    assert_eq!(e["message"], rest.body["message"]);
    assert_eq!(e["extensions"]["data"], rest.body["data"]);
    // Created, with its relation nested.
    let (_, body) = gql(app, &f.ann.token, create, json!({"d": data})).await;
    let created = &body["data"]["createPosts"];
    assert_eq!(created["owner_rel"]["email"], "ann@example.com", "{body}");
    let id = created["id"].as_str().expect("id").to_owned();
    // Bob may not update or delete Ann's record: REST's 404.
    let update = "mutation($id: String!, $d: JSON) { updatePosts(id: $id, data: $d) { title } }";
    let (_, body) = gql(
        app,
        &f.bob.token,
        update,
        json!({"id": id, "d": {"title": "his"}}),
    )
    .await;
    let rest = app
        .update_record("posts", &id, json!({"title": "his"}), &f.bob.token)
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["status"], rest.status,
        "{body}"
    );
    let (_, body) = gql(
        app,
        &f.ann.token,
        update,
        json!({"id": id, "d": {"title": "renamed"}}),
    )
    .await;
    assert_eq!(body["data"]["updatePosts"]["title"], "renamed", "{body}");
    let delete = "mutation($id: String!) { deletePosts(id: $id) }";
    let (_, body) = gql(app, &f.bob.token, delete, json!({"id": id})).await;
    assert_eq!(body["errors"][0]["extensions"]["status"], 404, "{body}");
    let (_, body) = gql(app, &f.ann.token, delete, json!({"id": id})).await;
    assert_eq!(body["data"]["deletePosts"], true, "{body}");
    app.view_record("posts", &id, &[], &app.superuser_token)
        .await
        .expect(404);
}

#[tokio::test]
async fn auth_mutations_log_in_and_refresh() {
    let f = fixture().await;
    let app = &f.app;
    let login = "mutation($i: String!, $p: String!) {
        authWithPasswordUsers(identity: $i, password: $p) { token record { id email } } }";
    let (_, body) = gql(
        app,
        GUEST,
        login,
        json!({"i": "ann@example.com", "p": crate::helpers::USER_PASSWORD}),
    )
    .await;
    let auth = &body["data"]["authWithPasswordUsers"];
    assert_eq!(auth["record"]["id"], f.ann.id.as_str(), "{body}");
    let token = auth["token"].as_str().expect("token").to_owned();
    app.auth_refresh("users", &token).await.expect(200);
    // A wrong password: REST's 400 and message.
    let rest = app
        .auth_with_password("users", "ann@example.com", "wrong")
        .await;
    let (_, body) = gql(
        app,
        GUEST,
        login,
        json!({"i": "ann@example.com", "p": "wrong"}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["status"], rest.status,
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], rest.body["message"]);
    // Refresh with the token in the header.
    let (_, body) = gql(
        app,
        &token,
        "mutation { authRefreshUsers { token record { email } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["authRefreshUsers"]["record"]["email"], "ann@example.com",
        "{body}"
    );
    let (_, body) = gql(
        app,
        GUEST,
        "mutation { authRefreshUsers { token } }",
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["status"], 401, "{body}");
    // The superuser collection logs in too.
    let (_, body) = gql(
        app,
        GUEST,
        "mutation($i: String!, $p: String!) { authWithPassword_superusers(identity: $i, password: $p) { token } }",
        json!({"i": SUPERUSER_EMAIL, "p": SUPERUSER_PASSWORD}),
    )
    .await;
    assert!(
        body["data"]["authWithPassword_superusers"]["token"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn too_deep_a_query_is_refused_and_the_page_is_served() {
    let f = fixture().await;
    let app = &f.app;
    let mut inner = "id".to_owned();
    for _ in 0..8 {
        inner = format!("post_rel {{ comments_via_post {{ {inner} }} }}");
    }
    let query = format!("{{ commentsList {{ items {{ {inner} }} }} }}");
    let (status, body) = gql(app, GUEST, &query, json!({})).await;
    assert_eq!(status, 200);
    assert!(body["data"].is_null(), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("deep"), "{body}");
    // The playground is a page of its own, and queries work over GET.
    let (status, html) = app.raw_get("/api/graphql").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<textarea") && !html.contains("cdn"),
        "{html}"
    );
    let r = app
        .get("/api/graphql?query=%7BteamsList%7BtotalItems%7D%7D", GUEST)
        .await;
    assert_eq!(r.body["data"]["teamsList"]["totalItems"], 1, "{}", r.text);
    // Mutations only over POST.
    let r = app
        .get(
            &format!(
                "/api/graphql?query={}",
                crate::helpers::encode("mutation { deletePosts(id: \"x\") }")
            ),
            &app.superuser_token,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

/// A page of 50 posts with two nested relations and a back-relation costs as many SQL
/// statements as a page of 5: the statement spans of each request's trace, counted.
#[tokio::test]
async fn nested_relations_cost_a_constant_number_of_statements() {
    use crate::cli::{database, serve_in, superuser};
    use crate::otel::Collector;
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database().await;
    superuser(
        &dir.path().join("data"),
        db.as_deref(),
        &["upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD],
    )
    .await;
    let server = serve_in(dir.path(), db.as_deref(), &["--otlpEndpoint", &endpoint]).await;
    let token = server.login(SUPERUSER_EMAIL).await.expect("superuser");
    let post = |path: &str, body: Value| {
        let r = server
            .client
            .post(server.url(path))
            .header("Authorization", &token)
            .json(&body);
        async move {
            let r = r.send().await.expect("request");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        }
    };
    let teams = post(
        "/api/collections",
        json!({"name": "teams", "listRule": "", "viewRule": "",
        "fields": [{"name": "name", "type": "text"}]}),
    )
    .await;
    let authors = post("/api/collections", json!({"name": "authors", "listRule": "", "viewRule": "",
        "fields": [{"name": "name", "type": "text"},
                   {"name": "team", "type": "relation", "collectionId": teams["id"], "maxSelect": 1}]})).await;
    let posts = post("/api/collections", json!({"name": "posts", "listRule": "", "viewRule": "",
        "fields": [{"name": "title", "type": "text"},
                   {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1}]})).await;
    post("/api/collections", json!({"name": "comments", "listRule": "", "viewRule": "",
        "fields": [{"name": "text", "type": "text"},
                   {"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1}]})).await;
    let team = post("/api/collections/teams/records", json!({"name": "Red"})).await;
    for i in 0..50 {
        let author = post(
            "/api/collections/authors/records",
            json!({"name": format!("a{i}"), "team": team["id"]}),
        )
        .await;
        let p = post(
            "/api/collections/posts/records",
            json!({"title": format!("p{i}"), "author": author["id"]}),
        )
        .await;
        post(
            "/api/collections/comments/records",
            json!({"text": format!("c{i}"), "post": p["id"]}),
        )
        .await;
    }
    let traces = [
        "4bf92f3577b34da6a3ce929d0e0e0005",
        "4bf92f3577b34da6a3ce929d0e0e0050",
    ];
    for (trace, per_page) in traces.iter().zip([5, 50]) {
        // A write first, so that neither page's total comes from the totals kept since the
        // last write (`records::totals`): both pages pay the same statements.
        post(
            "/api/collections/teams/records",
            json!({"name": format!("t{per_page}")}),
        )
        .await;
        let query = format!(
            "{{ postsList(perPage: {per_page}) {{ items {{ title author_rel {{ name team_rel {{ name }} }} comments_via_post {{ text }} }} }} }}"
        );
        let r = server
            .client
            .post(server.url("/api/graphql"))
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
            .json(&json!({"query": query}))
            .send()
            .await
            .expect("graphql");
        let body: Value = r.json().await.expect("json");
        let items = body["data"]["postsList"]["items"]
            .as_array()
            .expect("items")
            .clone();
        assert_eq!(items.len(), per_page, "{body}");
        assert!(
            items
                .iter()
                .all(|p| p["author_rel"]["team_rel"]["name"] == "Red"),
            "{body}"
        );
        assert!(
            items
                .iter()
                .all(|p| p["comments_via_post"][0]["text"].is_string()),
            "{body}"
        );
    }
    assert!(server.stop("TERM", Duration::from_secs(20)).await);
    let spans = collector.spans.lock().clone();
    let count = |trace: &str| {
        spans
            .iter()
            .filter(|s| {
                s.kind == SpanKind::Client as i32
                    && s.trace_id
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                        == trace
            })
            .count()
    };
    let (few, many) = (count(traces[0]), count(traces[1]));
    assert!(few > 0, "no statement traced");
    assert_eq!(few, many, "5 posts: {few} statements, 50 posts: {many}");
    // The page and one query per relation and level: the author, their team, the comments
    // (no total is selected, so nothing is counted).
    assert_eq!(many, 4, "{many} statements");
}

/// The schema follows the collections: a collection created (or a field added) after a query
/// is there at the next one; names GraphQL refuses are mapped.
#[tokio::test]
async fn the_schema_is_rebuilt_when_the_collections_change() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let fields = "{ __type(name: \"NotesRecord\") { fields { name } } }";
    let names = |body: &Value| -> Vec<String> {
        body["data"]["__type"]["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (_, body) = gql(&app, &su, fields, json!({})).await;
    assert!(body["data"]["__type"].is_null(), "{body}");
    app.must_create_collection(json!({"name": "notes", "listRule": "", "viewRule": "",
        "fields": [{"name": "text", "type": "text"}]}))
        .await;
    app.must_create_record("notes", json!({"text": "hi"})).await;
    let (_, body) = gql(&app, &su, fields, json!({})).await;
    assert!(names(&body).contains(&"text".to_owned()), "{body}");
    assert!(!names(&body).contains(&"_2nd".to_owned()), "{body}");
    // Listed only after the change: a PostgreSQL connection that ran `SELECT *` on the table
    // before an ALTER fails its cached plan ("cached plan must not change result type"), a
    // store matter REST shares (reported), not this test's.
    app.update_collection(
        "notes",
        json!({"fields": [{"name": "text", "type": "text"}, {"name": "2nd", "type": "number"}]}),
        &su,
    )
    .await
    .expect(200);
    let (_, body) = gql(
        &app,
        &su,
        "{ notesList { items { text _2nd } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["notesList"]["items"][0]["text"], "hi",
        "{body}"
    );
    assert_eq!(body["data"]["notesList"]["items"][0]["_2nd"], 0, "{body}");
}

/// Instances on one PostgreSQL database: a collection created through one is queried through
/// the other at once (the refused query reloads the definitions and runs again).
#[tokio::test]
async fn a_collection_created_on_a_peer_is_queried_at_once() {
    let app = spawn_app().await;
    let Some(peer) = app.spawn_peer().await else {
        return; // SQLite: one file, one server.
    };
    let su = app.superuser_token.clone();
    // The schema of `app` is built (and cached) before the collection exists.
    let (_, body) = gql(&app, &su, "{ teamsList { totalItems } }", json!({})).await;
    assert!(body["errors"].is_array(), "{body}");
    peer.must_create_collection(json!({"name": "teams", "listRule": "", "viewRule": "",
        "fields": [{"name": "name", "type": "text"}]}))
        .await;
    let (_, body) = gql(&app, &su, "{ teamsList { totalItems } }", json!({})).await;
    assert_eq!(body["data"]["teamsList"]["totalItems"], 0, "{body}");
}

#[tokio::test]
async fn cursor_pages_walk_rest_s_order_for_every_caller() {
    let f = fixture().await;
    let app = &f.app;
    let query = "query($f: String, $s: String, $n: Int, $a: String) {
        postsList(filter: $f, sort: $s, first: $n, after: $a) {
            hasNextPage endCursor items { id } } }";
    // Each sort as the cursor orders it (id breaks ties).
    let sorts = [
        ("", "id"),
        ("-rank", "-rank,id"),
        ("title", "title,id"),
        ("-rank,-title", "-rank,-title,id"),
        ("-public,title", "-public,title,id"),
    ];
    for (who, token) in f.callers() {
        for filter in ["", "rank > 0"] {
            for (sort, full) in sorts {
                let rest = app
                    .list_records(
                        "posts",
                        &[("filter", filter), ("sort", full), ("perPage", "100")],
                        &token,
                    )
                    .await;
                let mut walked = Vec::new();
                let mut after = Value::Null;
                for _ in 0..20 {
                    let (status, body) = gql(
                        app,
                        &token,
                        query,
                        json!({"f": filter, "s": sort, "n": 3, "a": after}),
                    )
                    .await;
                    assert_eq!(status, 200);
                    let list = &body["data"]["postsList"];
                    assert!(body["errors"].is_null(), "{who} {sort}: {body}");
                    let items = list["items"].as_array().expect("items");
                    assert!(items.len() <= 3);
                    walked.extend(items.iter().map(|r| r["id"].clone()));
                    if list["hasNextPage"] != true {
                        break;
                    }
                    after = list["endCursor"].clone();
                    assert!(after.is_string(), "{body}");
                }
                let expected: Vec<Value> = rest.items().iter().map(|r| r["id"].clone()).collect();
                assert_eq!(walked, expected, "{who}, filter {filter:?}, sort {sort:?}");
            }
        }
    }
    // A date key (users' `created`), as the superuser.
    let users_query = "query($a: String) {
        usersList(sort: \"-created\", first: 1, after: $a) { hasNextPage endCursor items { id } } }";
    let rest = app
        .list_records("users", &[("sort", "-created,id")], &app.superuser_token)
        .await;
    let mut walked = Vec::new();
    let mut after = Value::Null;
    for _ in 0..10 {
        let (_, body) = gql(app, &app.superuser_token, users_query, json!({"a": after})).await;
        let list = &body["data"]["usersList"];
        assert!(body["errors"].is_null(), "{body}");
        walked.extend(
            list["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|r| r["id"].clone()),
        );
        if list["hasNextPage"] != true {
            break;
        }
        after = list["endCursor"].clone();
    }
    let expected: Vec<Value> = rest.items().iter().map(|r| r["id"].clone()).collect();
    assert_eq!(walked, expected, "users by -created");
    // A cursor of another sort, a forged one and a sort by a relation path are refused.
    let (_, body) = gql(app, GUEST, query, json!({"s": "title", "n": 1})).await;
    let cursor = body["data"]["postsList"]["endCursor"].clone();
    for (sort, after) in [
        ("-rank", cursor),
        ("title", json!("zz")),
        ("owner.email", Value::Null),
    ] {
        let (_, body) = gql(app, GUEST, query, json!({"s": sort, "n": 2, "a": after})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["status"], 400,
            "{sort}: {body}"
        );
    }
}

/// Parsed and validated queries are kept per schema version (`graphql/prepared.rs`): a query
/// text seen before is still checked against its variables, and against the collections as
/// they are now.
#[tokio::test]
async fn a_query_seen_before_is_checked_again_for_new_variables_and_a_changed_schema() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(json!({"name": "notes", "listRule": "", "viewRule": "",
        "fields": [{"name": "text", "type": "text"}, {"name": "n", "type": "number"}]}))
        .await;
    for i in 0..3 {
        app.must_create_record("notes", json!({"text": format!("t{i}"), "n": i}))
            .await;
    }
    let query = "query($per: Int) { notesList(perPage: $per, sort: \"n\") { items { text } } }";
    // The same text with a space more is a query never seen: the reference answer.
    let fresh = |q: &str| format!("{q} ");
    for vars in [
        json!({"per": 2}),
        json!({"per": "x"}),
        json!({"per": 1}),
        json!({}),
    ] {
        for _ in 0..2 {
            let seen = gql(&app, &su, query, vars.clone()).await;
            let reference = gql(&app, &su, &fresh(query), vars.clone()).await;
            assert_eq!(seen, reference, "{vars}");
        }
    }
    let (_, refused) = gql(&app, &su, query, json!({"per": "x"})).await;
    assert!(refused["data"].is_null(), "{refused}");
    let (_, two) = gql(&app, &su, query, json!({"per": 2})).await;
    assert_eq!(
        two["data"]["notesList"]["items"],
        json!([{"text": "t0"}, {"text": "t1"}])
    );
    // A field removed: the query that was valid is refused now.
    app.update_collection(
        "notes",
        json!({"fields": [{"name": "n", "type": "number"}]}),
        &su,
    )
    .await
    .expect(200);
    let (_, gone) = gql(&app, &su, query, json!({"per": 2})).await;
    assert!(gone["data"].is_null(), "{gone}");
    assert_eq!(
        gone,
        gql(&app, &su, &fresh(query), json!({"per": 2})).await.1
    );
}

/// `POST /api/graphql` as `token`: the status and the body as sent (key order included).
async fn gql_text(app: &TestApp, token: &str, query: &str, variables: &Value) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url("/api/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if !token.is_empty() {
        request = request.header("Authorization", token);
    }
    let response = request.send().await.expect("graphql answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// A small deterministic generator (no seed file to keep: the cases are the same every run).
struct Cases(u64);

impl Cases {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    /// Some of `items` (at least one), in a shuffled order, some under an alias.
    fn pick(&mut self, items: &[String]) -> Vec<String> {
        let mut picked: Vec<String> = items.iter().filter(|_| self.chance(55)).cloned().collect();
        if picked.is_empty() {
            picked.push(items[self.below(items.len())].clone());
        }
        for i in (1..picked.len()).rev() {
            let j = self.below(i + 1);
            picked.swap(i, j);
        }
        for (n, item) in picked.iter_mut().enumerate() {
            if self.chance(15) {
                *item = format!("a{n}: {item}");
            }
        }
        picked
    }
}

/// Fields of a comment, then of a post, a team and a user, each with its relations nested to
/// `depth` more levels.
fn comment_fields(c: &mut Cases, depth: usize) -> String {
    let mut fields: Vec<String> = ["id", "text", "post", "created", "__typename"]
        .map(String::from)
        .to_vec();
    if depth > 0 {
        fields.push(format!("post_rel {{ {} }}", post_fields(c, depth - 1)));
    }
    c.pick(&fields).join(" ")
}

fn post_fields(c: &mut Cases, depth: usize) -> String {
    let mut fields: Vec<String> = [
        "id",
        "title",
        "rank",
        "public",
        "secret",
        "tags",
        "meta",
        "owner",
        "team",
        "updated",
        "__typename",
    ]
    .map(String::from)
    .to_vec();
    if depth > 0 {
        fields.push("owner_rel { id email name __typename }".into());
        fields.push(format!(
            "team_rel {{ id name {} }}",
            if c.chance(30) { "__typename" } else { "" }
        ));
        let limit = if c.chance(40) { "(limit: 1)" } else { "" };
        fields.push(format!(
            "comments_via_post{limit} {{ {} }}",
            comment_fields(c, depth - 1)
        ));
    }
    c.pick(&fields).join(" ")
}

/// A root field of a generated query, with its variables.
fn root_field(
    c: &mut Cases,
    posts: &[String],
    vars: &mut serde_json::Map<String, Value>,
) -> String {
    let n = vars.len();
    match c.below(4) {
        0 => {
            let id = posts[c.below(posts.len())].clone();
            if c.chance(50) {
                vars.insert(format!("id{n}"), json!(id));
                format!("posts(id: $id{n}) {{ {} }}", post_fields(c, 2))
            } else {
                format!("posts(id: \"{id}\") {{ {} }}", post_fields(c, 2))
            }
        }
        1 => format!(
            "commentsList(sort: \"text\") {{ items {{ {} }} }}",
            comment_fields(c, 3)
        ),
        _ => {
            let mut args = Vec::new();
            let sort = ["-rank,id", "title", "-created", "rank,-title"][c.below(4)];
            if c.chance(60) {
                args.push(format!("sort: \"{sort}\""));
            }
            if c.chance(40) {
                let filter = [
                    "rank > 0",
                    "title ~ 'post'",
                    "public = true",
                    "owner.email ~ 'ann'",
                ][c.below(4)];
                if c.chance(50) {
                    vars.insert(format!("f{n}"), json!(filter));
                    args.push(format!("filter: $f{n}"));
                } else {
                    args.push(format!("filter: \"{filter}\""));
                }
            }
            if c.chance(40) {
                args.push(format!(
                    "page: {}, perPage: {}",
                    1 + c.below(2),
                    2 + c.below(3)
                ));
            } else if c.chance(25) {
                args.push(format!("first: {}", 1 + c.below(3)));
            }
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            let page: Vec<String> = [
                "page",
                "perPage",
                "totalItems",
                "totalPages",
                "hasNextPage",
                "endCursor",
                "__typename",
            ]
            .map(String::from)
            .to_vec();
            let mut fields = c.pick(&page);
            fields.push(format!("items {{ {} }}", post_fields(c, 2)));
            format!("postsList{args} {{ {} }}", fields.join(" "))
        }
    }
}

/// The query variables' declarations for `vars`.
fn declarations(vars: &serde_json::Map<String, Value>) -> String {
    let list: Vec<String> = vars
        .keys()
        .map(|k| format!("${k}: String{}", if k.starts_with("id") { "!" } else { "" }))
        .collect();
    if list.is_empty() {
        String::new()
    } else {
        format!("({})", list.join(", "))
    }
}

/// A query seen before is answered without the executor when its selection is plain: generated
/// queries (aliases, `__typename`, variables, nested and back-relations, a relation left empty,
/// several roots, plus shapes the executor keeps: fragments, directives, a back-relation's own
/// filter) answer, byte for byte, what the executor answers the same text seen for the first
/// time, for every caller.
#[tokio::test]
async fn a_query_seen_before_answers_byte_for_byte_what_the_executor_answers() {
    let f = fixture().await;
    let app = &f.app;
    // A post without a team: its `team_rel` is null, not an object of nulls.
    let lone = app
        .must_create_record(
            "posts",
            json!({"title": "lone", "public": true, "owner": f.ann.id, "tags": []}),
        )
        .await;
    let mut posts = f.posts.clone();
    posts.push(lone["id"].as_str().expect("id").to_owned());
    posts.push("missing00000000".into());
    let mut cases = Cases(0x0b5e);
    let mut queries: Vec<(String, Value)> = Vec::new();
    for _ in 0..40 {
        let mut vars = serde_json::Map::new();
        let roots: Vec<String> = (0..1 + cases.below(2))
            .map(|_| root_field(&mut cases, &posts, &mut vars))
            .enumerate()
            .map(|(i, root)| if i > 0 { format!("r{i}: {root}") } else { root })
            .collect();
        let typename = if cases.chance(20) { "__typename " } else { "" };
        let query = format!(
            "query{} {{ {typename}{} }}",
            declarations(&vars),
            roots.join(" ")
        );
        queries.push((query, Value::Object(vars)));
    }
    for kept in [
        "{ postsList { items { ...P } } } fragment P on PostsRecord { id title }",
        "{ postsList { items { id title @include(if: true) } } }",
        "{ postsList(sort: \"title\") { items { id comments_via_post(filter: \"text != ''\") { text } } } }",
        "query A { teamsList { items { name } } } query B { postsList { totalItems } }",
        "{ __schema { queryType { name } } }",
        "{ postsList(perPage: \"x\") { items { id } } }",
        "{ posts(id: \"missing00000000\") { id } }",
    ] {
        queries.push((kept.to_owned(), json!({})));
    }
    for (i, (query, vars)) in queries.iter().enumerate() {
        for (who, token) in f.callers() {
            // Sent before: validated and planned; then answered directly when plain.
            gql_text(app, &token, query, vars).await;
            let seen = gql_text(app, &token, query, vars).await;
            // The same query with a comment more is a text never seen: the executor's answer.
            let reference = gql_text(app, &token, &format!("{query}\n# {i} {who}"), vars).await;
            assert_eq!(seen, reference, "{who}: {query} {vars}");
        }
    }
    // Values never sent before, of the same kinds: the validation and the plan are reused
    // (prepared.rs), the answer is still the executor's for these values.
    let filters: Vec<Value> = queries
        .iter()
        .flat_map(|(_, vars)| vars.as_object().into_iter().flatten())
        .filter(|(name, _)| name.starts_with('f'))
        .map(|(_, value)| value.clone())
        .chain([Value::Null])
        .collect();
    for (i, (query, vars)) in queries.iter().enumerate() {
        let Some(given) = vars.as_object().filter(|v| !v.is_empty()) else {
            continue;
        };
        let fresh: serde_json::Map<String, Value> = given
            .keys()
            .map(|name| {
                let value = if name.starts_with("id") {
                    json!(posts[cases.below(posts.len())])
                } else {
                    filters[cases.below(filters.len())].clone()
                };
                (name.clone(), value)
            })
            .collect();
        let fresh = Value::Object(fresh);
        for (who, token) in f.callers() {
            let seen = gql_text(app, &token, query, &fresh).await;
            let reference =
                gql_text(app, &token, &format!("{query}\n# new {i} {who}"), &fresh).await;
            assert_eq!(seen, reference, "{who}: {query} {fresh}");
        }
    }
}
