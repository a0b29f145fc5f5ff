//! The change pipeline's in-transaction phase (`oxbase_core::events::TransactionHook`), the one
//! JS hooks and the outbox will use: what a hook writes commits with the change, a hook that
//! fails rolls the whole write back, and a record a hook changes is validated again.

use std::sync::Arc;

use oxbase_core::Result;
use oxbase_core::events::{Action, Change, TransactionHook};
use oxbase_core::schema::Record;
use oxbase_core::store::Conn;
use oxbase_sql::Sql;
use serde_json::json;

use crate::helpers::*;

/// Writes one `audit` row per change of `posts`, in the change's transaction; refuses titles
/// starting with "reject"; shouts titles starting with "shout", lengthens those starting
/// with "grow".
struct Audit;

impl TransactionHook for Audit {
    fn before_write(
        &self,
        _conn: &mut dyn Conn,
        _action: Action,
        record: &mut Record,
        _previous: Option<&Record>,
    ) -> Result<()> {
        let title = record.get_str("title").to_owned();
        if record.collection.name == "posts" && title.starts_with("shout") {
            record
                .data
                .insert("title".into(), json!(title.to_uppercase()));
        }
        if record.collection.name == "posts" && title.starts_with("orphan") {
            record
                .data
                .insert("parent".into(), json!("missing0000000a"));
        }
        if record.collection.name == "posts" && title.starts_with("grow") {
            record
                .data
                .insert("title".into(), json!(format!("{title} and grow")));
        }
        Ok(())
    }

    fn after_write(&self, conn: &mut dyn Conn, change: &Change) -> Result<()> {
        let record = change.record();
        if record.collection.name != "posts" {
            return Ok(());
        }
        if record.get_str("title").starts_with("reject") {
            return Err(oxbase_core::Error::bad_request("refused by a hook"));
        }
        let mut insert = Sql::raw("INSERT INTO \"audit\" (\"id\", \"what\") VALUES (");
        insert
            .push_param(oxbase_core::ids::random_string(15))
            .push(", ")
            .push_param(format!("{} {}", change.action().as_str(), record.id()))
            .push(")");
        conn.execute(&insert).map(|_| ())
    }
}

async fn app_with_audit() -> TestApp {
    let app = spawn_app().await;
    let posts = app
        .must_create_collection(
            json!({"name": "posts", "type": "base", "listRule": "", "viewRule": "",
            "createRule": "", "updateRule": "", "deleteRule": "",
            "fields": [{"name": "title", "type": "text", "max": 10}]}),
        )
        .await;
    let mut fields = posts["fields"].as_array().expect("fields").clone();
    fields.push(
        json!({"name": "parent", "type": "relation", "collectionId": posts["id"], "maxSelect": 1}),
    );
    app.update_collection("posts", json!({ "fields": fields }), &app.superuser_token)
        .await
        .expect(200);
    app.must_create_collection(json!({"name": "audit", "type": "base", "listRule": "",
        "fields": [{"name": "what", "type": "text"}]}))
        .await;
    app.core.events().on_transaction(Arc::new(Audit));
    app
}

async fn audit(app: &TestApp) -> Vec<String> {
    let mut all: Vec<String> = app
        .list_records("audit", &[("perPage", "100")], "")
        .await
        .expect(200)
        .items()
        .iter()
        .map(|i| {
            i["what"]
                .as_str()
                .and_then(|w| w.split(' ').next())
                .expect("an action")
                .to_owned()
        })
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn what_a_hook_writes_commits_with_the_change() {
    let app = app_with_audit().await;
    let post = app
        .create_record("posts", json!({"title": "hello"}), "")
        .await;
    let id = post.expect(200).str("id").to_owned();
    app.update_record("posts", &id, json!({"title": "again"}), "")
        .await
        .expect(200);
    app.delete_record("posts", &id, "").await.expect(204);
    assert_eq!(audit(&app).await, ["create", "delete", "update"]);
}

#[tokio::test]
async fn a_failing_hook_rolls_the_write_back() {
    let app = app_with_audit().await;
    app.create_record("posts", json!({"title": "rejected"}), "")
        .await
        .expect(400);
    let kept = app
        .create_record("posts", json!({"title": "kept"}), "")
        .await;
    let id = kept.expect(200).str("id").to_owned();
    app.update_record("posts", &id, json!({"title": "reject me"}), "")
        .await
        .expect(400);
    let listed = app.list_records("posts", &[], "").await;
    let titles: Vec<_> = listed
        .expect(200)
        .items()
        .iter()
        .map(|i| i["title"].clone())
        .collect();
    assert_eq!(titles, [json!("kept")]);
    assert_eq!(audit(&app).await, ["create"]);

    // In a batch, the whole batch goes.
    app.enable_batch(10).await;
    let batch = app
        .batch(
            json!([
                {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "first"}},
                {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "reject"}}
            ]),
            &app.superuser_token,
        )
        .await;
    batch.expect(400);
    assert_eq!(
        app.list_records("posts", &[], "")
            .await
            .expect(200)
            .items()
            .len(),
        1
    );
    assert_eq!(audit(&app).await, ["create"]);
}

#[tokio::test]
async fn a_record_a_hook_changes_is_stored_changed_and_validated_again() {
    let app = app_with_audit().await;
    let post = app
        .create_record("posts", json!({"title": "shout"}), "")
        .await;
    assert_eq!(post.expect(200).str("title"), "SHOUT");
    let id = post.str("id").to_owned();
    let viewed = app.view_record("posts", &id, &[], "").await;
    assert_eq!(viewed.expect(200).str("title"), "SHOUT");
    app.update_record("posts", &id, json!({"title": "shout it"}), "")
        .await
        .expect(200);
    assert_eq!(
        app.view_record("posts", &id, &[], "").await.str("title"),
        "SHOUT IT"
    );

    // A value the hook makes invalid (over `max: 10`) is refused like a request's.
    let grown = app
        .create_record("posts", json!({"title": "grow"}), "")
        .await;
    grown.expect(400);
    assert_eq!(
        grown.body["data"]["title"]["code"],
        "validation_max_text_constraint"
    );
    app.update_record("posts", &id, json!({"title": "grow"}), "")
        .await
        .expect(400);
    assert_eq!(
        app.view_record("posts", &id, &[], "").await.str("title"),
        "SHOUT IT"
    );

    // A relation the hook sets is checked as the request's relations are.
    let orphan = app
        .create_record("posts", json!({"title": "orphan"}), "")
        .await;
    orphan.expect(400);
    assert_eq!(
        orphan.body["data"]["parent"]["code"],
        "validation_missing_rel_records"
    );
}
