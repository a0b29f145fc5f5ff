//! What the server acknowledged survives a graceful shutdown and a reopen of the data dir.

use serde_json::json;

use crate::helpers::{USER_PASSWORD, public_collection, spawn_app, spawn_app_at};

#[tokio::test]
async fn acknowledged_records_survive_a_graceful_shutdown_and_reopen() {
    let app = spawn_app().await;
    app.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]),
    ))
    .await;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(
            app.must_create_record("notes", json!({"title": format!("note {n}"), "n": n}))
                .await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let updated = app
        .update_record(
            "notes",
            &ids[0],
            json!({"title": "edited"}),
            &app.superuser_token,
        )
        .await;
    updated.expect(200);
    assert_eq!(
        app.delete_record("notes", &ids[1], &app.superuser_token)
            .await
            .status,
        204
    );
    app.create_user("keep@example.com").await;

    assert!(
        app.on_postgres() || app.data_dir.join("data.db").exists(),
        "the SQLite file lives in the data dir"
    );
    let dir = app.stop().await.expect("the temp dir comes back");
    let again = spawn_app_at(dir.path()).await;
    let list = again
        .list_records(
            "notes",
            &[("perPage", "100"), ("sort", "n")],
            &again.superuser_token,
        )
        .await;
    list.expect(200);
    assert_eq!(list.body["totalItems"], 49);
    let mut expected = ids.clone();
    expected.remove(1);
    assert_eq!(list.ids(), expected);
    assert_eq!(list.items()[0]["title"], "edited");
    again
        .auth_with_password("users", "keep@example.com", USER_PASSWORD)
        .await
        .expect(200);
    again.stop().await;
}

#[tokio::test]
async fn collections_survive_a_reopen_with_their_rules() {
    let app = spawn_app().await;
    app.must_create_collection(
        json!({"name": "kept", "listRule": "", "fields": [{"name": "title", "type": "text"}]}),
    )
    .await;
    let dir = app.stop().await.expect("temp dir");
    let again = spawn_app_at(dir.path()).await;
    let c = again.view_collection("kept", &again.superuser_token).await;
    c.expect(200);
    assert_eq!(c.body["listRule"], "");
    assert_eq!(c.body["viewRule"], serde_json::Value::Null);
    again.stop().await;
}
