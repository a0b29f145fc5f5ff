//! Record history (`history: true`, docs/history.md): a version per create, update and delete,
//! with who made it and from which request, in the change's transaction (a failed batch
//! leaves none); `GET .../records/{id}/history` under the view rule, hidden fields hidden;
//! restore (superusers), a deleted record brought back; nothing for collections without it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, Resp, TestApp, TestUser, USER_PASSWORD, spawn_app};

/// `notes`: anyone may create; a user views and updates only their own notes (`owner`);
/// `secret` is hidden.
async fn notes(app: &TestApp) {
    let users = app.collection_id("users").await;
    let r = app
        .create_collection(json!({
            "name": "notes", "type": "base", "history": true,
            "listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
            "createRule": "", "updateRule": "owner = @request.auth.id",
            "deleteRule": "owner = @request.auth.id",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "secret", "type": "text", "hidden": true},
                {"name": "owner", "type": "relation", "collectionId": users, "maxSelect": 1},
            ],
        }))
        .await;
    r.expect(200);
    assert_eq!(r.body["history"], true);
}

async fn history(app: &TestApp, coll: &str, id: &str, token: &str) -> Resp {
    app.get(
        &format!("/api/collections/{coll}/records/{id}/history"),
        token,
    )
    .await
}

async fn restore(app: &TestApp, coll: &str, id: &str, version: i64, token: &str) -> Resp {
    app.request(
        Method::POST,
        &format!("/api/collections/{coll}/records/{id}/history/{version}/restore"),
        token,
        None,
    )
    .await
}

fn actions(r: &Resp) -> Vec<(i64, String)> {
    r.items()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().expect("present in the answer"),
                v["action"]
                    .as_str()
                    .expect("present in the answer")
                    .to_owned(),
            )
        })
        .collect()
}

async fn superuser_id(app: &TestApp) -> String {
    let r = app.auth_refresh("_superusers", &app.superuser_token).await;
    r.expect(200);
    r.body["record"]["id"]
        .as_str()
        .expect("present in the answer")
        .to_owned()
}

#[tokio::test]
async fn versions_record_create_update_and_delete_with_who_and_which_request() {
    let app = spawn_app().await;
    notes(&app).await;
    let user: TestUser = app.create_user("writer@example.com").await;
    let users = app.collection_id("users").await;
    let created = app
        .client
        .post(app.url("/api/collections/notes/records"))
        .header("Authorization", &user.token)
        .header("X-Request-Id", "req-create-1")
        .json(&json!({"title": "v1", "secret": "s1", "owner": user.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.update_record("notes", &id, json!({"title": "v2"}), &user.token)
        .await
        .expect(200);
    app.update_record(
        "notes",
        &id,
        json!({"title": "v3", "secret": "s3"}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    app.delete_record("notes", &id, &user.token)
        .await
        .expect(204);

    let r = history(&app, "notes", &id, &app.superuser_token).await;
    r.expect(200);
    assert_eq!(r.body["totalItems"], 4);
    assert_eq!(r.body["page"], 1);
    assert_eq!(
        actions(&r),
        [
            (4, "delete".to_owned()),
            (3, "update".to_owned()),
            (2, "update".to_owned()),
            (1, "create".to_owned()),
        ]
    );
    let items = r.items();
    let first = &items[3];
    assert_eq!(first["authCollection"], users);
    assert_eq!(first["authId"], user.id);
    assert_eq!(first["request"], "POST /api/collections/notes/records");
    assert_eq!(first["requestId"], "req-create-1");
    assert_eq!(first["recordId"], id);
    assert_eq!(first["record"]["title"], "v1");
    assert_eq!(items[2]["record"]["title"], "v2");
    assert_eq!(
        items[2]["request"],
        format!("PATCH /api/collections/notes/records/{id}")
    );
    assert_eq!(items[1]["authId"], superuser_id(&app).await);
    // A superuser sees hidden fields in the history as in the record.
    assert_eq!(items[1]["record"]["secret"], "s3");
    assert_eq!(
        items[1]["authCollection"],
        app.collection_id("_superusers").await
    );
    assert_eq!(items[0]["record"]["title"], "v3");
    assert_eq!(items[0]["authId"], user.id);

    // Paging: newest first.
    let page = app
        .get(
            &format!("/api/collections/notes/records/{id}/history?page=2&perPage=3"),
            &app.superuser_token,
        )
        .await;
    page.expect(200);
    assert_eq!(actions(&page), [(1, "create".to_owned())]);
    assert_eq!(page.body["totalPages"], 2);
}

#[tokio::test]
async fn the_view_rule_guards_the_history_and_hidden_fields_stay_hidden() {
    let app = spawn_app().await;
    notes(&app).await;
    let owner = app.create_user("owner@example.com").await;
    let other = app.create_user("other@example.com").await;
    let r = app
        .create_record(
            "notes",
            json!({"title": "mine", "secret": "hush", "owner": owner.id}),
            &owner.token,
        )
        .await;
    r.expect(200);
    let id = r.str("id").to_owned();
    // Only superusers set a hidden field.
    app.update_record(
        "notes",
        &id,
        json!({"secret": "hush"}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    app.update_record("notes", &id, json!({"title": "mine 2"}), &owner.token)
        .await
        .expect(200);
    let all = history(&app, "notes", &id, &app.superuser_token).await;
    assert_eq!(all.items()[0]["record"]["secret"], "hush");

    let own = history(&app, "notes", &id, &owner.token).await;
    own.expect(200);
    assert_eq!(own.body["totalItems"], 3);
    for item in own.items() {
        assert!(item["record"].get("secret").is_none(), "{item}");
        assert!(item.get("request").is_none(), "{item}");
        assert_eq!(item["record"]["owner"], owner.id);
    }
    // Who made a change is shown to its author only: the superuser's update is anonymous here.
    let authors: Vec<String> = own
        .items()
        .iter()
        .map(|i| i["authId"].as_str().unwrap_or("?").to_owned())
        .collect();
    assert_eq!(authors, [owner.id.as_str(), "", owner.id.as_str()]);
    assert_eq!(own.items()[1]["authCollection"], "");
    // `fields` picks from each version's record.
    let picked = app
        .get(
            &format!("/api/collections/notes/records/{id}/history?fields=title"),
            &owner.token,
        )
        .await;
    picked.expect(200);
    assert_eq!(picked.items()[0]["record"], json!({"title": "mine 2"}));

    // Who cannot view the record gets the record view's 404.
    let view = app.view_record("notes", &id, &[], &other.token).await;
    view.expect(404);
    history(&app, "notes", &id, &other.token).await.expect(404);
    history(&app, "notes", &id, GUEST).await.expect(404);
    history(&app, "notes", "nosuchrecord000", &app.superuser_token)
        .await
        .expect(404);

    // A deleted record's history is judged on its last version.
    app.delete_record("notes", &id, &owner.token)
        .await
        .expect(204);
    let gone = history(&app, "notes", &id, &owner.token).await;
    gone.expect(200);
    assert_eq!(actions(&gone)[0], (4, "delete".to_owned()));
    assert!(gone.items()[0]["record"].get("secret").is_none());
    history(&app, "notes", &id, &other.token).await.expect(404);
    history(&app, "notes", &id, &app.superuser_token)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_failed_batch_leaves_no_version() {
    let app = spawn_app().await;
    notes(&app).await;
    app.enable_batch(10).await;
    let existing = app
        .must_create_record("notes", json!({"title": "kept"}))
        .await;
    let id = existing["id"].as_str().unwrap();
    let r = app
        .batch(
            json!([
                {"method": "PATCH", "url": format!("/api/collections/notes/records/{id}"), "body": {"title": "changed"}},
                {"method": "POST", "url": "/api/collections/notes/records", "body": {"id": "fresh0000000001", "title": "new"}},
                {"method": "PATCH", "url": "/api/collections/notes/records/nosuchrecord000", "body": {"title": "x"}},
            ]),
            &app.superuser_token,
        )
        .await;
    r.expect(400);
    let h = history(&app, "notes", id, &app.superuser_token).await;
    h.expect(200);
    assert_eq!(actions(&h), [(1, "create".to_owned())]);
    history(&app, "notes", "fresh0000000001", &app.superuser_token)
        .await
        .expect(404);

    // The same batch without its failing request commits, versions included.
    let r = app
        .batch(
            json!([
                {"method": "PATCH", "url": format!("/api/collections/notes/records/{id}"), "body": {"title": "changed"}},
                {"method": "POST", "url": "/api/collections/notes/records", "body": {"id": "fresh0000000001", "title": "new"}},
            ]),
            &app.superuser_token,
        )
        .await;
    r.expect(200);
    let h = history(&app, "notes", id, &app.superuser_token).await;
    assert_eq!(actions(&h)[0], (2, "update".to_owned()));
    assert_eq!(h.items()[0]["request"], "POST /api/batch");
    let fresh = history(&app, "notes", "fresh0000000001", &app.superuser_token).await;
    fresh.expect(200);
    assert_eq!(actions(&fresh), [(1, "create".to_owned())]);
}

#[tokio::test]
async fn a_restore_writes_a_version_back_and_brings_a_deleted_record_back() {
    let app = spawn_app().await;
    notes(&app).await;
    let owner = app.create_user("restorer@example.com").await;
    let r = app
        .must_create_record(
            "notes",
            json!({"title": "first", "secret": "s1", "owner": owner.id}),
        )
        .await;
    let id = r["id"].as_str().unwrap().to_owned();
    app.update_record("notes", &id, json!({"title": "second"}), &owner.token)
        .await
        .expect(200);

    // Superusers only.
    restore(&app, "notes", &id, 1, &owner.token)
        .await
        .expect(403);
    restore(&app, "notes", &id, 9, &app.superuser_token)
        .await
        .expect(404);

    let back = restore(&app, "notes", &id, 1, &app.superuser_token).await;
    back.expect(200);
    assert_eq!(back.body["title"], "first");
    assert_eq!(back.body["secret"], "s1");
    let view = app
        .view_record("notes", &id, &[], &app.superuser_token)
        .await;
    assert_eq!(view.body["title"], "first");
    assert_eq!(view.body["owner"], owner.id);
    let h = history(&app, "notes", &id, &app.superuser_token).await;
    assert_eq!(actions(&h)[0], (3, "update".to_owned()));
    assert_eq!(
        h.items()[0]["request"],
        format!("POST /api/collections/notes/records/{id}/history/1/restore")
    );

    // A deleted record comes back with its id.
    app.delete_record("notes", &id, &owner.token)
        .await
        .expect(204);
    app.view_record("notes", &id, &[], &app.superuser_token)
        .await
        .expect(404);
    let again = restore(&app, "notes", &id, 2, &app.superuser_token).await;
    again.expect(200);
    assert_eq!(again.body["id"], id);
    assert_eq!(again.body["title"], "second");
    let view = app.view_record("notes", &id, &[], &owner.token).await;
    view.expect(200);
    assert_eq!(view.body["title"], "second");
    let h = history(&app, "notes", &id, &app.superuser_token).await;
    assert_eq!(
        actions(&h)[..2],
        [(5, "create".to_owned()), (4, "delete".to_owned())]
    );
}

#[tokio::test]
async fn a_restored_auth_record_keeps_its_credentials() {
    let app = spawn_app().await;
    app.update_collection("users", json!({"history": true}), &app.superuser_token)
        .await
        .expect(200);
    let user = app.create_user("comeback@example.com").await;
    app.update_record("users", &user.id, json!({"name": "Renamed"}), &user.token)
        .await
        .expect(200);
    // An update restore changes no password; a deleted account comes back able to log in.
    restore(&app, "users", &user.id, 1, &app.superuser_token)
        .await
        .expect(200);
    let h = history(&app, "users", &user.id, &user.token).await;
    h.expect(200);
    for item in h.items() {
        assert!(item["record"].get("password").is_none(), "{item}");
        assert!(item["record"].get("tokenKey").is_none(), "{item}");
    }
    app.delete_record("users", &user.id, &app.superuser_token)
        .await
        .expect(204);
    restore(&app, "users", &user.id, 2, &app.superuser_token)
        .await
        .expect(200);
    app.auth_with_password("users", &user.email, USER_PASSWORD)
        .await
        .expect(200);
    // The token issued before the deletion works again: the same token key came back.
    app.view_record("users", &user.id, &[], &user.token)
        .await
        .expect(200);
}

#[tokio::test]
async fn collections_without_history_keep_no_versions_and_pocketbases_shape() {
    let app = spawn_app().await;
    let r = app
        .create_collection(crate::helpers::public_collection(
            "plain",
            json!([{"name": "title", "type": "text"}]),
        ))
        .await;
    r.expect(200);
    assert!(r.body.get("history").is_none(), "{}", r.text);
    let rec = app.must_create_record("plain", json!({"title": "a"})).await;
    let id = rec["id"].as_str().unwrap();
    app.update_record("plain", id, json!({"title": "b"}), GUEST)
        .await
        .expect(200);
    history(&app, "plain", id, GUEST).await.expect(404);
    let h = history(&app, "plain", id, &app.superuser_token).await;
    h.expect(200);
    assert_eq!(h.body["totalItems"], 0);

    // Turned on, then off again: the key goes away; a bad value is refused.
    let on = app
        .update_collection(
            "plain",
            json!({"history": true, "historyMaxVersions": 2}),
            &app.superuser_token,
        )
        .await;
    on.expect(200);
    assert_eq!(on.body["historyMaxVersions"], 2);
    for title in ["c", "d", "e"] {
        app.update_record("plain", id, json!({"title": title}), GUEST)
            .await
            .expect(200);
    }
    // Retention: the two newest versions only.
    let h = history(&app, "plain", id, &app.superuser_token).await;
    assert_eq!(
        actions(&h),
        [(3, "update".to_owned()), (2, "update".to_owned())]
    );
    let off = app
        .update_collection(
            "plain",
            json!({"history": false, "historyMaxVersions": 0}),
            &app.superuser_token,
        )
        .await;
    off.expect(200);
    assert!(off.body.get("history").is_none(), "{}", off.text);
    assert!(off.body.get("historyMaxVersions").is_none(), "{}", off.text);
    let bad = app
        .update_collection("plain", json!({"history": "yes"}), &app.superuser_token)
        .await;
    bad.expect(400);
    assert_eq!(
        crate::helpers::field_code(&bad, "history"),
        "validation_invalid_value"
    );
}

#[tokio::test]
async fn the_history_survives_a_backup_and_its_restore() {
    let app = spawn_app().await;
    notes(&app).await;
    let su = app.superuser_token.clone();
    let note = app
        .must_create_record("notes", json!({"title": "one"}))
        .await;
    let id = note["id"].as_str().unwrap().to_owned();
    app.update_record("notes", &id, json!({"title": "two"}), &su)
        .await
        .expect(200);
    app.request(
        Method::POST,
        "/api/backups",
        &su,
        Some(&json!({"name": "history.zip"})),
    )
    .await
    .expect(204);
    app.update_record("notes", &id, json!({"title": "three"}), &su)
        .await
        .expect(200);

    app.request(Method::POST, "/api/backups/history.zip/restore", &su, None)
        .await
        .expect(204);
    crate::helpers::eventually(
        "the restored record",
        std::time::Duration::from_secs(30),
        || async {
            let r = app.view_record("notes", &id, &[], &su).await;
            r.status == 200 && r.body["title"] == "two"
        },
    )
    .await;
    let h = history(&app, "notes", &id, &su).await;
    h.expect(200);
    assert_eq!(
        actions(&h),
        [(2, "update".to_owned()), (1, "create".to_owned())]
    );
    // Numbering goes on from the restored versions.
    app.update_record("notes", &id, json!({"title": "four"}), &su)
        .await
        .expect(200);
    let h = history(&app, "notes", &id, &su).await;
    assert_eq!(actions(&h)[0], (3, "update".to_owned()));
    app.stop().await;
}

const AUDIT_HOOK: &str = r#"
onRecordCreate((e) => {
  e.next()
  e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "created " + e.record.get("title") }))
}, "posts")
"#;

#[tokio::test]
async fn the_applications_own_writes_and_cascades_are_versioned_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    std::fs::write(hooks.join("audit.pb.js"), AUDIT_HOOK).expect("hook file");
    let app = crate::helpers::spawn_app_with_hooks(
        &dir.path().join("data"),
        oxbase_js::HooksConfig {
            dir: hooks.clone(),
            pool: 1,
            timeout: std::time::Duration::from_secs(10),
            memory_bytes: 64 << 20,
            dev: false,
            data_dir: hooks,
        },
    )
    .await;
    app.must_create_collection(json!({"name": "audit", "type": "base", "history": true,
        "fields": [{"name": "msg", "type": "text"}]}))
        .await;
    let posts = app
        .must_create_collection(json!({"name": "posts", "type": "base", "history": true,
            "createRule": "", "fields": [{"name": "title", "type": "text"}]}))
        .await;
    app.must_create_collection(json!({"name": "comments", "type": "base", "history": true,
    "fields": [
        {"name": "body", "type": "text"},
        {"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1,
         "cascadeDelete": true},
    ]}))
    .await;

    let post = app
        .create_record("posts", json!({"title": "hello"}), GUEST)
        .await;
    post.expect(200);
    let post_id = post.str("id").to_owned();
    // The guest's create: no author, but its request.
    let h = history(&app, "posts", &post_id, &app.superuser_token).await;
    let item = &h.items()[0];
    assert_eq!(item["authId"], "");
    assert_eq!(item["request"], "POST /api/collections/posts/records");
    // The hook's own write: neither author nor request.
    let audit = app.list_records("audit", &[], &app.superuser_token).await;
    let audit_id = audit.ids()[0].clone();
    let h = history(&app, "audit", &audit_id, &app.superuser_token).await;
    h.expect(200);
    assert_eq!(actions(&h), [(1, "create".to_owned())]);
    assert_eq!(h.items()[0]["authId"], "");
    assert_eq!(h.items()[0]["request"], "");
    assert_eq!(h.items()[0]["record"]["msg"], "created hello");

    // A delete's cascade versions every record it removes, with the delete's origin.
    let comment = app
        .must_create_record("comments", json!({"body": "hi", "post": post_id}))
        .await;
    let comment_id = comment["id"].as_str().unwrap();
    app.delete_record("posts", &post_id, &app.superuser_token)
        .await
        .expect(204);
    let h = history(&app, "comments", comment_id, &app.superuser_token).await;
    assert_eq!(
        actions(&h),
        [(2, "delete".to_owned()), (1, "create".to_owned())]
    );
    assert_eq!(
        h.items()[0]["request"],
        format!("DELETE /api/collections/posts/records/{post_id}")
    );
    assert_eq!(h.items()[0]["record"]["body"], "hi");
}
