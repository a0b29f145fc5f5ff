//! `oxbase migrate-db`: an app on SQLite copied to PostgreSQL keeps its collections, records,
//! users (they log in with the same passwords) and settings, and running it again changes
//! nothing. Needs PostgreSQL: runs in the test command's PostgreSQL pass.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_app_moves_from_sqlite_to_postgres_whole_and_a_second_run_changes_nothing() {
    let Some(target) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let source = spawn_sqlite_app_at(dir.path()).await;
    let su = source.superuser_token.clone();
    let authors = source.must_create_collection(json!({"name": "authors", "listRule": "", "viewRule": "", "fields": [{"name": "name", "type": "text"}]})).await;
    source
        .must_create_collection(json!({
            "name": "posts", "listRule": "", "viewRule": "",
            "fields": [
                {"name": "title", "type": "text"}, {"name": "views", "type": "number"}, {"name": "published", "type": "bool"},
                {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
                {"name": "meta", "type": "json"}, {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1}
            ],
            "indexes": ["CREATE INDEX idx_posts_title ON posts (title)"]
        }))
        .await;
    let ann = source
        .create_record("authors", json!({"name": "Ann"}), &su)
        .await
        .str("id")
        .to_owned();
    for i in 0..1203 {
        let body = json!({"title": format!("post {i:04}"), "views": i, "published": i % 2 == 0, "tags": ["a", "c"], "meta": {"n": i}, "author": ann});
        source.create_record("posts", body, &su).await.expect(200);
    }
    source.create_user("moved@example.com").await;
    source
        .update_settings(json!({"meta": {"appName": "Moved"}}), &su)
        .await
        .expect(200);
    source.stop().await;

    oxbase::transfer::migrate_db(dir.path(), &target.url)
        .await
        .expect("the first run");
    oxbase::transfer::migrate_db(dir.path(), &target.url)
        .await
        .expect("a second run (resumed, nothing left to copy)");

    let moved = spawn_app_on_database(target).await;
    let su = moved.superuser_token.clone();
    let list = moved
        .list_records(
            "posts",
            &[
                ("perPage", "5"),
                ("sort", "-views"),
                (
                    "filter",
                    "published = true && tags:each ?= 'c' && author.name = 'Ann'",
                ),
                ("expand", "author"),
            ],
            &su,
        )
        .await;
    list.expect(200);
    assert_eq!(list.body["totalItems"], 602, "every row, once");
    let first = &list.items()[0];
    assert_eq!(first["title"], "post 1202");
    assert_eq!(first["views"], 1202);
    assert_eq!(first["published"], true);
    assert_eq!(first["tags"], json!(["a", "c"]));
    assert_eq!(first["meta"], json!({"n": 1202}));
    assert_eq!(first["expand"]["author"]["name"], "Ann");
    let default_order = moved.list_records("posts", &[], &su).await;
    assert_eq!(default_order.body["totalItems"], 1203);
    assert_eq!(
        default_order.items()[0]["title"],
        "post 0000",
        "rows keep their insertion order"
    );
    moved
        .auth_with_password("users", "moved@example.com", USER_PASSWORD)
        .await
        .expect(200);
    assert_eq!(
        moved.get_settings(&su).await.body["meta"]["appName"],
        "Moved"
    );
    // The new home takes writes as the old one did.
    moved
        .create_record(
            "posts",
            json!({"title": "after the move", "author": ann}),
            &su,
        )
        .await
        .expect(200);
}
