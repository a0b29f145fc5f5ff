//! `/api/collections`: superuser-only schema management.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, assert_error, field_code, spawn_app};

fn names(r: &crate::helpers::Resp) -> Vec<String> {
    r.items()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_fresh_server_has_superusers_and_the_default_users_collection() {
    let app = spawn_app().await;
    let r = app
        .list_collections(&[("perPage", "200")], &app.superuser_token)
        .await;
    r.expect(200);
    let all = r.items();
    let su = all
        .iter()
        .find(|c| c["name"] == "_superusers")
        .expect("_superusers exists");
    assert_eq!(su["type"], "auth");
    assert_eq!(su["system"], true);
    assert_eq!(su["id"], "pbc_3142635823");
    let users = all
        .iter()
        .find(|c| c["name"] == "users")
        .expect("users exists");
    assert_eq!(users["type"], "auth");
    assert_eq!(users["system"], false);
}

#[tokio::test]
async fn create_returns_the_collection_model_with_a_pbc_id_and_the_given_fields() {
    let app = spawn_app().await;
    let c = app
        .must_create_collection(json!({
            "name": "posts", "type": "base",
            "fields": [
                {"name": "title", "type": "text", "required": true, "max": 20},
                {"name": "count", "type": "number"},
            ],
        }))
        .await;
    assert!(
        c["id"].as_str().unwrap_or("").starts_with("pbc_"),
        "collection id: {}",
        c["id"]
    );
    assert_eq!(c["name"], "posts");
    assert_eq!(c["type"], "base");
    assert_eq!(c["system"], false);
    assert_eq!(
        c["listRule"],
        Value::Null,
        "rules default to null (superusers only)"
    );
    let fields: Vec<&str> = c["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["id", "title", "count"]);
}

#[tokio::test]
async fn create_with_omitted_type_defaults_to_a_base_collection_with_only_an_id() {
    let app = spawn_app().await;
    let c = app.must_create_collection(json!({"name": "untyped"})).await;
    assert_eq!(c["type"], "base");
    let fields: Vec<&str> = c["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["id"]);
}

#[tokio::test]
async fn a_duplicate_collection_name_gives_400_validation_collection_name_exists() {
    let app = spawn_app().await;
    app.must_create_collection(json!({"name": "posts"})).await;
    let r = app
        .create_collection(json!({"name": "posts", "type": "base"}))
        .await;
    assert_error(&r, 400, "Failed to create collection.");
    assert_eq!(
        r.body["data"],
        json!({"name": {"code": "validation_collection_name_exists", "message": "Collection name must be unique (case insensitive)."}})
    );
    let r = app.create_collection(json!({"name": "POSTS"})).await;
    assert_eq!(
        field_code(&r, "name"),
        "validation_collection_name_exists",
        "the check is case insensitive: {}",
        r.text
    );
}

#[tokio::test]
async fn a_missing_or_malformed_name_or_unknown_type_gives_field_errors() {
    let app = spawn_app().await;
    let r = app.create_collection(json!({"type": "base"})).await;
    r.expect(400);
    assert_eq!(field_code(&r, "name"), "validation_required");
    let r = app.create_collection(json!({"name": "has space"})).await;
    assert_eq!(
        field_code(&r, "name"),
        "validation_match_invalid",
        "{}",
        r.text
    );
    let r = app
        .create_collection(json!({"name": "weird_type", "type": "weird"}))
        .await;
    assert_eq!(
        field_code(&r, "type"),
        "validation_in_invalid",
        "{}",
        r.text
    );
}

#[tokio::test]
async fn list_collections_pages_filters_and_sorts() {
    let app = spawn_app().await;
    for name in ["alpha", "beta", "gamma"] {
        app.must_create_collection(json!({"name": name})).await;
    }
    let r = app
        .list_collections(
            &[
                ("filter", "system = false && type = 'base'"),
                ("sort", "-name"),
            ],
            &app.superuser_token,
        )
        .await;
    r.expect(200);
    assert_eq!(names(&r), ["gamma", "beta", "alpha"]);
    assert_eq!(r.body["totalItems"], 3);
    let r = app
        .list_collections(&[("page", "1"), ("perPage", "2")], &app.superuser_token)
        .await;
    let mut keys: Vec<&String> = r.body.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["items", "page", "perPage", "totalItems", "totalPages"]
    );
    assert_eq!(r.items().len(), 2);
    assert_eq!(r.body["perPage"], 2);
}

#[tokio::test]
async fn view_finds_a_collection_by_name_and_by_id() {
    let app = spawn_app().await;
    let c = app.must_create_collection(json!({"name": "authors"})).await;
    let id = c["id"].as_str().expect("id");
    assert_eq!(
        app.view_collection("authors", &app.superuser_token)
            .await
            .body["id"],
        id
    );
    assert_eq!(
        app.view_collection(id, &app.superuser_token).await.body["name"],
        "authors"
    );
}

#[tokio::test]
async fn an_unknown_collection_gives_404_not_found_for_view_update_and_delete() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    assert_error(
        &app.view_collection("nope", su).await,
        404,
        "The requested resource wasn't found.",
    );
    assert_eq!(
        app.update_collection("nope", json!({"listRule": ""}), su)
            .await
            .status,
        404
    );
    assert_eq!(app.delete_collection("nope", su).await.status, 404);
}

#[tokio::test]
async fn update_changes_rules_and_renames_fields_keeping_data() {
    let app = spawn_app().await;
    let c = app
        .must_create_collection(
            json!({"name": "notes", "fields": [{"name": "title", "type": "text"}]}),
        )
        .await;
    let rec = app
        .must_create_record("notes", json!({"title": "keep me"}))
        .await;
    let mut fields = c["fields"].as_array().expect("fields").clone();
    for f in fields.iter_mut() {
        if f["name"] == "title" {
            f["name"] = json!("heading");
        }
    }
    fields.push(json!({"name": "extra", "type": "number"}));
    let r = app
        .update_collection(
            "notes",
            json!({"fields": fields, "listRule": ""}),
            &app.superuser_token,
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["listRule"], "");
    assert_eq!(r.body["createRule"], Value::Null);
    let after = app
        .view_record(
            "notes",
            rec["id"].as_str().expect("id"),
            &[],
            &app.superuser_token,
        )
        .await;
    assert_eq!(after.body["heading"], "keep me");
    assert_eq!(after.body["extra"], 0);
    assert!(after.body.get("title").is_none());
    // the new listRule is public
    assert_eq!(
        app.list_records("notes", &[], GUEST).await.body["totalItems"],
        1
    );
}

#[tokio::test]
async fn truncate_empties_a_collection_and_delete_removes_it() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    app.must_create_collection(json!({"name": "memos", "fields": [{"name": "t", "type": "text"}]}))
        .await;
    app.must_create_record("memos", json!({"t": "a"})).await;
    app.must_create_record("memos", json!({"t": "b"})).await;
    assert_eq!(app.truncate_collection("memos", su).await.status, 204);
    let list = app.list_records("memos", &[], su).await;
    assert_eq!(
        list.body,
        json!({"items": [], "page": 1, "perPage": 30, "totalItems": 0, "totalPages": 0})
    );
    assert_eq!(app.delete_collection("memos", su).await.status, 204);
    assert_eq!(app.view_collection("memos", su).await.status, 404);
    assert_eq!(app.list_records("memos", &[], su).await.status, 404);
}

#[tokio::test]
async fn deleting_a_system_or_referenced_collection_gives_400() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    let authors = app.must_create_collection(json!({"name": "authors"})).await;
    app.must_create_collection(json!({
        "name": "books",
        "fields": [{"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1}],
    }))
    .await;
    let r = app.delete_collection("authors", su).await;
    r.expect(400);
    assert_eq!(r.body["data"], json!({}));
    assert_eq!(app.view_collection("authors", su).await.status, 200);
    assert_eq!(app.delete_collection("_superusers", su).await.status, 400);
}

#[tokio::test]
async fn guests_get_401_and_users_get_403_on_every_collections_endpoint() {
    let app = spawn_app().await;
    app.must_create_collection(json!({"name": "posts"})).await;
    let user = app.create_user("plain@example.com").await;
    for (token, status, message) in [
        (
            GUEST,
            401,
            "The request requires valid record authorization token.",
        ),
        (
            user.token.as_str(),
            403,
            "The authorized record is not allowed to perform this action.",
        ),
    ] {
        assert_error(&app.list_collections(&[], token).await, status, message);
        assert_error(&app.view_collection("posts", token).await, status, message);
        assert_error(
            &app.create_collection_as(json!({"name": "sneaky"}), token)
                .await,
            status,
            message,
        );
        assert_error(
            &app.update_collection("posts", json!({"listRule": ""}), token)
                .await,
            status,
            message,
        );
        assert_error(
            &app.truncate_collection("posts", token).await,
            status,
            message,
        );
        assert_error(
            &app.delete_collection("posts", token).await,
            status,
            message,
        );
        assert_error(
            &app.get("/api/collections/meta/scaffolds", token).await,
            status,
            message,
        );
        assert_error(
            &app.get("/api/collections/meta/oauth2-providers", token)
                .await,
            status,
            message,
        );
        assert_error(
            &app.request(
                Method::POST,
                "/api/collections/meta/validate",
                token,
                Some(&json!({"name": "sneaky"})),
            )
            .await,
            status,
            message,
        );
        assert_error(
            &app.get("/api/collections/meta/field-defaults", token).await,
            status,
            message,
        );
        let import = json!({"collections": [{"name": "x_imp"}], "deleteMissing": false});
        assert_error(
            &app.request(Method::PUT, "/api/collections/import", token, Some(&import))
                .await,
            status,
            message,
        );
    }
    let posts = app.view_collection("posts", &app.superuser_token).await;
    assert_eq!(posts.body["listRule"], Value::Null, "nothing was changed");
    assert_eq!(
        app.view_collection("sneaky", &app.superuser_token)
            .await
            .status,
        404
    );
}

/// PocketBase 0.40.6 lists the same 32 providers (its order differs) with their display names.
#[tokio::test]
async fn oauth2_providers_lists_every_named_provider_for_the_dashboard() {
    let app = spawn_app().await;
    let r = app
        .get(
            "/api/collections/meta/oauth2-providers",
            &app.superuser_token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body.as_array().expect("an array");
    assert_eq!(list.len(), 32);
    let find = |name: &str| list.iter().find(|p| p["name"] == name).cloned();
    assert_eq!(find("google").unwrap()["displayName"], "Google");
    assert_eq!(find("gitea").unwrap()["displayName"], "Gitea/Forgejo");
    assert_eq!(find("oidc3").unwrap()["displayName"], "OIDC");
    assert!(list.iter().all(|p| p["logo"].is_string()));
}

#[tokio::test]
async fn import_creates_new_collections() {
    let app = spawn_app().await;
    let body = json!({"collections": [
        {"name": "imp1", "type": "base", "fields": [{"name": "a", "type": "text"}]},
        {"name": "imp2", "type": "base", "fields": [{"name": "b", "type": "bool"}]},
    ], "deleteMissing": false});
    let r = app
        .request(
            Method::PUT,
            "/api/collections/import",
            &app.superuser_token,
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let rec = app.must_create_record("imp2", json!({"b": true})).await;
    assert_eq!(rec["b"], true);
}

#[tokio::test]
async fn the_rules_of_system_collections_cannot_change() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let r = app
        .update_collection("_superusers", json!({"createRule": ""}), &su)
        .await;
    r.expect(400);
    assert_eq!(
        r.body["data"]["createRule"]["code"],
        "validation_collection_system_rule_change"
    );
    let r = app
        .update_collection("_otps", json!({"listRule": "", "viewRule": ""}), &su)
        .await;
    assert_eq!(
        r.body["data"]["listRule"]["code"],
        "validation_collection_system_rule_change"
    );
    assert_eq!(
        r.body["data"]["viewRule"]["code"],
        "validation_collection_system_rule_change"
    );
    let r = app
        .update_collection("_superusers", json!({"authRule": "id != ''"}), &su)
        .await;
    assert_eq!(
        r.body["data"]["authRule"]["code"],
        "validation_collection_system_rule_change"
    );
    // So no guest can make itself a superuser.
    let body = json!({"email": "intruder@example.com", "password": "1234567890", "passwordConfirm": "1234567890"});
    app.create_record("_superusers", body, GUEST)
        .await
        .expect(403);
    // The default users collection is not a system one: its rules are the app's to set.
    app.update_collection("users", json!({"createRule": null}), &su)
        .await
        .expect(200);
}

#[tokio::test]
async fn import_with_delete_missing_deletes_collections_that_reference_each_other() {
    let app = spawn_app().await;
    let authors = app
        .must_create_collection(
            json!({"name": "authors", "fields": [{"name": "name", "type": "text"}]}),
        )
        .await;
    app.must_create_collection(json!({"name": "books", "fields": [{"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1}]})).await;
    let body = json!({"collections": [{"name": "kept", "type": "base", "fields": [{"name": "a", "type": "text"}]}], "deleteMissing": true});
    let r = app
        .request(
            Method::PUT,
            "/api/collections/import",
            &app.superuser_token,
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.view_collection("authors", &app.superuser_token)
            .await
            .status,
        404
    );
    assert_eq!(
        app.view_collection("books", &app.superuser_token)
            .await
            .status,
        404
    );
    app.view_collection("kept", &app.superuser_token)
        .await
        .expect(200);
    app.view_collection("_superusers", &app.superuser_token)
        .await
        .expect(200);
}

/// Codes, messages and positions as PocketBase 0.40.6 answers them for the same requests.
#[tokio::test]
async fn bad_indexes_give_validation_invalid_index_expression_at_their_position() {
    let app = spawn_app().await;
    let r = app
        .create_collection(json!({
            "name": "idx", "fields": [{"name": "s", "type": "text"}], "indexes": ["garbage"],
        }))
        .await;
    assert_error(&r, 400, "Failed to create collection.");
    assert_eq!(
        r.body["data"],
        json!({"indexes": {"0": {"code": "validation_invalid_index_expression", "message": "Invalid CREATE INDEX expression."}}})
    );
    let r = app
        .create_collection(json!({
            "name": "idx", "fields": [{"name": "s", "type": "text"}],
            "indexes": ["CREATE INDEX idx_x ON idx (nope)"],
        }))
        .await;
    assert_error(&r, 400, "Failed to create collection.");
    assert_eq!(
        r.body["data"]["indexes"]["0"]["code"],
        "validation_invalid_index_expression"
    );
    assert_eq!(
        r.body["data"]["indexes"]["0"]["message"],
        "Failed to create index idx_x - SQL logic error: no such column: nope (1)."
    );
}

#[tokio::test]
async fn changing_a_field_type_is_reported_at_the_field_position() {
    let app = spawn_app().await;
    let c = app
        .must_create_collection(
            json!({"name": "typed", "fields": [{"name": "ed", "type": "editor"}]}),
        )
        .await;
    let mut fields = c["fields"].as_array().cloned().unwrap_or_default();
    fields[1]["type"] = json!("text");
    let r = app
        .update_collection("typed", json!({ "fields": fields }), &app.superuser_token)
        .await;
    assert_error(&r, 400, "Failed to update collection.");
    assert_eq!(
        r.body["data"],
        json!({"fields": {"1": {"code": "validation_field_type_change", "message": "Field type cannot be changed."}}})
    );
}

#[tokio::test]
async fn a_select_max_select_above_its_number_of_values_is_refused() {
    let app = spawn_app().await;
    // Without `id` in the list, the field is at position 1 of the saved list, as PocketBase says.
    let r = app
        .create_collection(json!({
            "name": "sel", "fields": [{"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 3}],
        }))
        .await;
    assert_error(&r, 400, "Failed to create collection.");
    assert_eq!(
        r.body["data"],
        json!({"fields": {"1": {"maxSelect": {"code": "validation_max_less_equal_than_required", "message": "Must be no greater than 2.", "params": {"threshold": 2}}}}})
    );
    // An auth collection adds its other system fields after the given ones.
    let r = app
        .create_collection(json!({
            "name": "members", "type": "auth",
            "fields": [{"name": "s", "type": "select", "values": ["a"], "maxSelect": 2}],
        }))
        .await;
    assert_eq!(
        r.body["data"]["fields"]["1"]["maxSelect"]["params"],
        json!({"threshold": 1}),
        "{}",
        r.text
    );
    let ok = app
        .must_create_collection(json!({
            "name": "members", "type": "auth",
            "fields": [{"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 2}],
        }))
        .await;
    let names: Vec<&str> = ok["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "s",
            "password",
            "tokenKey",
            "email",
            "emailVisibility",
            "verified"
        ]
    );
}

/// On PostgreSQL every pooled connection caches its prepared statements: once a definition
/// changes, a statement reading the table must be prepared again (PostgreSQL refuses a cached
/// plan whose result columns changed).
#[tokio::test]
async fn lists_read_a_table_whose_columns_just_changed() {
    let app = spawn_app().await;
    app.must_create_collection(json!({
        "name": "shifting", "type": "base", "listRule": "", "viewRule": "",
        "fields": [{"name": "title", "type": "text"}],
    }))
    .await;
    let su = app.superuser_token.clone();
    app.create_record("shifting", json!({"title": "a"}), &su)
        .await
        .expect(200);
    // Concurrent lists, so that several pooled connections prepare the statements.
    let lists = || async {
        let all = (0..12).map(|_| app.list_records("shifting", &[], GUEST));
        futures_util::future::join_all(all).await
    };
    for r in lists().await {
        r.expect(200);
    }
    for (i, field) in ["extra", "more"].iter().enumerate() {
        let mut fields = vec![json!({"name": "title", "type": "text"})];
        fields.extend(
            ["extra", "more"][..=i]
                .iter()
                .map(|f| json!({"name": f, "type": "text"})),
        );
        app.update_collection("shifting", json!({"fields": fields}), &su)
            .await
            .expect(200);
        for r in lists().await {
            r.expect(200);
            assert!(r.items()[0].get(*field).is_some(), "{}", r.text);
        }
        let one = app
            .list_records("shifting", &[("sort", field)], GUEST)
            .await;
        one.expect(200);
    }
}

/// `POST /api/collections/meta/validate` answers what the save of the same body would (the
/// dashboard's check before saving), and saves nothing: every body below is sent to both.
#[tokio::test]
async fn validate_answers_as_the_save_would_without_saving() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let base = |extra: Value| {
        let mut body = json!({"name": "drafts", "type": "base", "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        ]});
        for (k, v) in extra.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        body
    };
    let creates = [
        base(json!({})),
        base(json!({"listRule": "title != ''", "viewRule": "owner = @request.auth.id"})),
        base(json!({"listRule": "nope = 1"})),
        base(json!({"viewRule": "title ="})),
        base(json!({"deleteRule": "@collection.missing.id ?= id"})),
        base(json!({"name": ""})),
        base(json!({"name": "users"})),
        base(json!({"type": "nonsense"})),
        base(json!({"indexes": ["CREATE INDEX `idx_x` ON `drafts` (`title`)"]})),
        base(json!({"indexes": ["not an index"]})),
        base(json!({"fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "text"}]})),
        json!({"name": "v_drafts", "type": "view", "viewQuery": "SELECT id, email FROM users"}),
        json!({"name": "v_bad", "type": "view", "viewQuery": "DELETE FROM users"}),
        json!(["not", "an", "object"]),
    ];
    for body in &creates {
        let before = names(&app.list_collections(&[("perPage", "500")], &su).await);
        let checked = app
            .request(
                Method::POST,
                "/api/collections/meta/validate",
                &su,
                Some(body),
            )
            .await;
        let after = names(&app.list_collections(&[("perPage", "500")], &su).await);
        assert_eq!(before, after, "validating {body} saved nothing");
        let saved = app.create_collection_as(body.clone(), &su).await;
        if saved.status == 200 {
            assert_eq!(checked.status, 204, "{body}: {}", checked.body);
            let id = saved.body["id"].as_str().unwrap_or_default().to_owned();
            app.delete_collection(&id, &su).await.expect(204);
        } else {
            assert_eq!(
                (checked.status, &checked.body),
                (saved.status, &saved.body),
                "{body}"
            );
        }
    }
    // As an update: the existing collection's id.
    let posts = app
        .create_collection_as(base(json!({"name": "posts"})), &su)
        .await;
    posts.expect(200);
    let id = posts.body["id"].as_str().unwrap_or_default().to_owned();
    let updates = [
        json!({"listRule": "title != ''"}),
        json!({"listRule": "nope = 1"}),
        json!({"name": "users"}),
        json!({"fields": [{"name": "id", "type": "text"}]}),
    ];
    for change in &updates {
        let mut body = change.clone();
        body["id"] = json!(id);
        let checked = app
            .request(
                Method::POST,
                "/api/collections/meta/validate",
                &su,
                Some(&body),
            )
            .await;
        let saved = app.update_collection(&id, change.clone(), &su).await;
        if saved.status == 200 {
            assert_eq!(checked.status, 204, "{body}: {}", checked.body);
        } else {
            assert_eq!(
                (checked.status, &checked.body),
                (saved.status, &saved.body),
                "{body}"
            );
        }
    }
    let all = names(&app.list_collections(&[("perPage", "500")], &su).await);
    assert!(
        !all.iter().any(|n| n == "drafts" || n == "v_bad"),
        "{all:?}"
    );
}

/// `GET /api/collections/meta/field-defaults`: the dashboard's field templates are what the
/// server saves for a new field of each type given only its name and type.
#[tokio::test]
async fn field_defaults_are_what_a_new_field_of_each_type_saves_as() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let r = app.get("/api/collections/meta/field-defaults", &su).await;
    r.expect(200);
    let templates = r.body.as_object().expect("an object").clone();
    let users = app.collection_id("users").await;
    // What a type needs to be valid at all.
    let needs = |kind: &str| match kind {
        "select" => json!({"values": ["a"]}),
        "relation" => json!({"collectionId": users}),
        _ => json!({}),
    };
    let mut fields = Vec::new();
    for kind in templates.keys().filter(|k| *k != "password") {
        let mut field = json!({"name": format!("f_{kind}"), "type": kind});
        for (k, v) in needs(kind).as_object().into_iter().flatten() {
            field[k] = v.clone();
        }
        fields.push(field);
    }
    assert!(fields.len() >= 12, "{templates:?}");
    let saved = app
        .create_collection_as(json!({"name": "templates", "fields": fields}), &su)
        .await;
    saved.expect(200);
    for (kind, template) in &templates {
        let name = format!("f_{kind}");
        let Some(field) = saved.body["fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == name.as_str()))
        else {
            assert_eq!(kind, "password", "no field {name}");
            continue;
        };
        let mut field = field.clone();
        let mut expected = template.clone();
        for (k, v) in needs(kind).as_object().into_iter().flatten() {
            expected[k] = v.clone();
        }
        let fields = field.as_object_mut().expect("an object");
        fields.remove("id");
        fields.remove("name");
        assert_eq!(field, expected, "{kind}");
    }
}
