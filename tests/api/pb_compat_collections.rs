//! Collection definitions answered as PocketBase 0.40.6 answers them (each expected body was
//! taken from the reference server): view rules, identity fields, MFA methods, names, views
//! over changed tables, OAuth2 client secrets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, spawn_app};

async fn import(app: &TestApp, collections: Value) -> crate::helpers::Resp {
    let body = json!({"collections": collections, "deleteMissing": false});
    app.request(
        Method::PUT,
        "/api/collections/import",
        &app.superuser_token,
        Some(&body),
    )
    .await
}

/// The stored `oauth2.providers` of a collection (secrets included).
async fn stored_providers(app: &TestApp, name: &str) -> Value {
    let c = app.core.collections().view(name).await.expect("collection");
    c.options["oauth2"]["providers"].clone()
}

#[tokio::test]
async fn view_collections_refuse_create_update_and_delete_rules() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let r = app
        .create_collection(json!({"name": "v1", "type": "view", "viewQuery": "select id from users", "createRule": ""}))
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"createRule": {"code": "validation_nil", "message": "Must be blank."}}, "message": "Failed to create collection.", "status": 400}),
        "{}",
        r.text
    );
    // Each of the three, before any other check of the rule.
    let r = app
        .create_collection(json!({"name": "v1", "type": "view", "viewQuery": "select id from users", "createRule": "", "updateRule": "id = 1", "deleteRule": "(("}))
        .await;
    let nil = json!({"code": "validation_nil", "message": "Must be blank."});
    assert_eq!(
        r.body["data"],
        json!({"createRule": nil, "updateRule": nil, "deleteRule": nil}),
        "{}",
        r.text
    );
    // Null is fine, and the other rules are the view's to set.
    app.create_collection(json!({"name": "v1", "type": "view", "viewQuery": "select id from users", "createRule": null, "listRule": ""}))
        .await
        .expect(200);
    let r = app
        .update_collection("v1", json!({"updateRule": ""}), &su)
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"updateRule": {"code": "validation_nil", "message": "Must be blank."}}, "message": "Failed to update collection.", "status": 400}),
        "{}",
        r.text
    );
    app.update_collection("v1", json!({"deleteRule": null, "viewRule": ""}), &su)
        .await
        .expect(200);
    // The same through an import, in PocketBase's import failure.
    let r = import(
        &app,
        json!([{"id": "pbc_1000000001", "name": "vimp", "type": "view", "viewQuery": "select id from users", "createRule": ""}]),
    )
    .await;
    assert_eq!(
        r.body,
        json!({"data": {"collections": {"code": "validation_collections_import_failure", "message": "Data validations failed for collection \"vimp\" (pbc_1000000001):\n{\n  \"createRule\": \"must be blank\"\n}."}}, "message": "Failed to import collections.", "status": 400}),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_password_identity_field_needs_a_unique_index_of_its_own() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let members = json!({"name": "members", "type": "auth", "passwordAuth": {"enabled": true, "identityFields": ["username"]}, "fields": [{"name": "username", "type": "text"}]});
    let r = app.create_collection(members.clone()).await;
    assert_eq!(
        r.body,
        json!({"data": {"passwordAuth": {"identityFields": {"code": "validation_missing_unique_constraint", "message": "The field username doesn't have a UNIQUE constraint.", "params": {"fieldName": "username"}}}}, "message": "Failed to create collection.", "status": 400}),
        "{}",
        r.text
    );
    // A plain index, or a unique one over more columns, is not enough.
    for index in [
        "CREATE INDEX idx_x ON members (username)",
        "CREATE UNIQUE INDEX idx_x ON members (username, email)",
    ] {
        let mut body = members.clone();
        body["indexes"] = json!([index]);
        let r = app.create_collection(body).await;
        assert_eq!(
            r.body["data"]["passwordAuth"]["identityFields"]["code"],
            "validation_missing_unique_constraint",
            "{index}: {}",
            r.text
        );
    }
    let r = app
        .create_collection(json!({"name": "members", "type": "auth", "passwordAuth": {"enabled": true, "identityFields": ["nope"]}}))
        .await;
    assert_eq!(
        r.body["data"],
        json!({"passwordAuth": {"identityFields": {"code": "validation_missing_field", "message": "Invalid or missing field nope.", "params": {"fieldName": "nope"}}}}),
        "{}",
        r.text
    );
    // Nothing is checked while password auth is off.
    let mut off = members.clone();
    off["name"] = json!("members_off");
    off["passwordAuth"]["enabled"] = json!(false);
    app.create_collection(off).await.expect(200);
    // A unique index on the column alone is what PocketBase accepts; email has its own.
    let mut body = members.clone();
    body["passwordAuth"]["identityFields"] = json!(["email", "username"]);
    body["indexes"] = json!(["CREATE UNIQUE INDEX idx_x ON members (username)"]);
    body["createRule"] = json!("");
    app.create_collection(body).await.expect(200);
    let r = app
        .create_record(
            "members",
            json!({"username": "ann", "email": "ann@example.com", "password": "pass12345", "passwordConfirm": "pass12345"}),
            GUEST,
        )
        .await;
    r.expect(200);
    app.auth_with_password("members", "ann", "pass12345")
        .await
        .expect(200);
    // Taking the index away again is refused.
    let r = app
        .update_collection("members", json!({"indexes": []}), &su)
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"passwordAuth": {"identityFields": {"code": "validation_missing_unique_constraint", "message": "The field username doesn't have a UNIQUE constraint.", "params": {"fieldName": "username"}}}}, "message": "Failed to update collection.", "status": 400}),
        "{}",
        r.text
    );
    let r = app
        .update_collection(
            "members",
            json!({"passwordAuth": {"identityFields": []}}),
            &su,
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"passwordAuth": {"identityFields": {"code": "validation_required", "message": "Cannot be blank."}}}),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn mfa_needs_two_enabled_auth_methods_even_when_a_view_reads_the_collection() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    // The 500 came from here: any change of `users` rebuilt its table, which a view reading
    // it blocked (SQLite refused the rename, PostgreSQL the drop).
    app.create_collection(json!({"name": "v1", "type": "view", "viewQuery": "select id, email from users", "listRule": ""}))
        .await
        .expect(200);
    let one = json!({"mfa": {"enabled": true}, "otp": {"enabled": false}, "passwordAuth": {"enabled": true}, "oauth2": {"enabled": false}});
    let r = app.update_collection("users", one, &su).await;
    assert_eq!(
        r.body,
        json!({"data": {"mfa": {"enabled": {"code": "validation_mfa_not_enough_auths", "message": "MFA requires at least 2 auth methods to be enabled."}}}, "message": "Failed to update collection.", "status": 400}),
        "{}",
        r.text
    );
    // The method count comes before the rule's check.
    let r = app
        .update_collection(
            "users",
            json!({"mfa": {"enabled": true, "rule": "(("}, "otp": {"enabled": false}}),
            &su,
        )
        .await;
    assert_eq!(
        r.body["data"]["mfa"]["enabled"]["code"], "validation_mfa_not_enough_auths",
        "{}",
        r.text
    );
    let two = json!({"mfa": {"enabled": true}, "otp": {"enabled": true}, "passwordAuth": {"enabled": true}});
    let r = app.update_collection("users", two, &su).await;
    r.expect(200);
    assert_eq!(r.body["mfa"]["enabled"], true);
    // A change of the table itself keeps the view, which sees the new column.
    let user = app.create_user_record("ann@example.com").await;
    let mut fields = app.view_collection("users", &su).await.body["fields"].clone();
    fields
        .as_array_mut()
        .expect("fields")
        .push(json!({"name": "nickname", "type": "text"}));
    app.update_collection("users", json!({"fields": fields}), &su)
        .await
        .expect(200);
    let r = app.list_records("v1", &[], GUEST).await;
    r.expect(200);
    assert_eq!(r.ids(), [user]);
}

#[tokio::test]
async fn collection_and_field_names_may_start_with_a_digit_or_an_underscore() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let open = |name: &str, fields: Value| json!({"name": name, "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "", "fields": fields});
    let target = app
        .must_create_collection(open("3f2a9c", json!([{"name": "9f", "type": "text"}])))
        .await;
    let r = app
        .must_create_collection(open(
            "_r",
            json!([
                {"name": "3rel", "type": "relation", "collectionId": target["id"]},
                {"name": "9f", "type": "number"},
                {"name": "_", "type": "text"},
            ]),
        ))
        .await;
    assert_eq!(r["name"], "_r");
    // A SQL keyword is a name too: every identifier is quoted.
    app.must_create_collection(open("select", json!([{"name": "from", "type": "text"}])))
        .await;
    // And through an import.
    let r = import(
        &app,
        json!([{"name": "9imp", "fields": [{"name": "9f", "type": "text"}]}, {"name": "_imp"}]),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.view_collection("9imp", &su).await.expect(200);
    app.view_collection("_imp", &su).await.expect(200);

    // Records: create, view, update, list with filters, sorts, expand, fields; delete.
    let a = app
        .create_record("3f2a9c", json!({"9f": "hello"}), GUEST)
        .await;
    a.expect(200);
    let a_id = a.str("id").to_owned();
    let b = app
        .create_record("3f2a9c", json!({"9f": "world"}), GUEST)
        .await;
    let b_id = b.str("id").to_owned();
    let r1 = app
        .create_record("_r", json!({"3rel": a_id, "9f": 5, "_": "x"}), GUEST)
        .await;
    r1.expect(200);
    assert_eq!(r1.body["9f"], 5);
    let r1_id = r1.str("id").to_owned();
    let r2 = app
        .create_record("_r", json!({"3rel": b_id, "9f": 7}), GUEST)
        .await;
    let r2_id = r2.str("id").to_owned();
    let upd = app
        .update_record("_r", &r2_id, json!({"9f+": 1}), GUEST)
        .await;
    upd.expect(200);
    assert_eq!(upd.body["9f"], 8);
    app.view_record("_r", &r1_id, &[], GUEST).await.expect(200);
    let by = |coll: &str, key: &str, value: &str| {
        let (coll, key, value) = (coll.to_owned(), key.to_owned(), value.to_owned());
        let app = &app;
        let su = su.clone();
        async move {
            let r = app.list_records(&coll, &[(&key, &value)], &su).await;
            assert_eq!(r.status, 200, "{key}={value}: {}", r.text);
            r.ids()
        }
    };
    // The filter syntax lexes no identifier starting with a digit (as PocketBase's), but
    // names after `@collection.`, back-relations and paths reach them.
    let r = app
        .list_records("_r", &[("filter", "3rel.9f = 'hello'")], &su)
        .await;
    assert_eq!(r.status, 400, "as in PocketBase: {}", r.text);
    let mut both = vec![r1_id.clone(), r2_id.clone()];
    both.sort();
    let mut found = by("_r", "filter", "@collection.3f2a9c.9f ?= 'world'").await;
    found.sort();
    assert_eq!(found, both);
    assert!(
        by("_r", "filter", "@collection.3f2a9c:x.9f ?= 'nothing'")
            .await
            .is_empty()
    );
    let mut found = by("_r", "filter", "@collection._r:o.3rel.9f ?= 'world'").await;
    found.sort();
    assert_eq!(found, both);
    assert_eq!(
        by("3f2a9c", "filter", "_r_via_3rel.9f ?> 6").await,
        vec![b_id.clone()]
    );
    assert_eq!(
        by("_r", "sort", "-_").await,
        vec![r1_id.clone(), r2_id.clone()]
    );
    assert_eq!(
        by("_r", "sort", "-9f").await,
        vec![r2_id.clone(), r1_id.clone()]
    );
    assert_eq!(
        by("_r", "sort", "3rel.9f").await,
        vec![r1_id.clone(), r2_id.clone()]
    );
    let r = app
        .list_records(
            "_r",
            &[
                ("expand", "3rel"),
                ("fields", "9f,expand.3rel.9f"),
                ("sort", "9f"),
            ],
            GUEST,
        )
        .await;
    r.expect(200);
    assert_eq!(
        r.body["items"],
        json!([{"9f": 5, "expand": {"3rel": {"9f": "hello"}}}, {"9f": 8, "expand": {"3rel": {"9f": "world"}}}])
    );
    let r = app
        .list_records("select", &[("filter", "from = ''")], GUEST)
        .await;
    r.expect(200);

    // A schema change rebuilds the table under its odd name, keeping the rows.
    let mut fields = app.view_collection("_r", &su).await.body["fields"].clone();
    fields
        .as_array_mut()
        .expect("fields")
        .push(json!({"name": "4x", "type": "bool"}));
    app.update_collection("_r", json!({"fields": fields}), &su)
        .await
        .expect(200);
    app.update_collection("_r", json!({"name": "_r2"}), &su)
        .await
        .expect(200);
    let r = app.list_records("_r2", &[("sort", "9f")], GUEST).await;
    assert_eq!(r.ids(), [r1_id.clone(), r2_id.clone()]);
    assert_eq!(r.items()[0]["4x"], false);
    app.delete_record("_r2", &r1_id, GUEST).await.expect(204);
    app.delete_collection("_r2", &su).await.expect(204);
    app.delete_collection("3f2a9c", &su).await.expect(204);
}

#[tokio::test]
async fn the_names_pocketbase_refuses_stay_refused() {
    let app = spawn_app().await;
    let code = |r: &crate::helpers::Resp| {
        r.body["data"]["name"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    for (name, expected) in [
        ("_superusers", "validation_collection_name_exists"),
        ("USERS", "validation_collection_name_exists"),
        ("_collections", "validation_collection_name_invalid"),
        ("_Params", "validation_collection_name_invalid"),
        ("_migrations", "validation_collection_name_invalid"),
        ("_events", "validation_collection_name_invalid"),
        ("sqlite_x", "validation_collection_name_invalid"),
        ("pg_class", "validation_collection_name_invalid"),
        ("_pb_users_auth_", "validation_collection_name_id_duplicate"),
        ("a_via_b", "validation_found_via"),
        ("has space", "validation_match_invalid"),
        ("é", "validation_match_invalid"),
        ("", "validation_required"),
    ] {
        let r = app.create_collection(json!({"name": name})).await;
        assert_eq!(r.status, 400, "{name}: {}", r.text);
        assert_eq!(code(&r), expected, "{name}: {}", r.text);
    }
    let r = app.create_collection(json!({"name": "_superusers"})).await;
    assert_eq!(
        r.body,
        json!({"data": {"name": {"code": "validation_collection_name_exists", "message": "Collection name must be unique (case insensitive)."}}, "message": "Failed to create collection.", "status": 400})
    );
    let r = app.create_collection(json!({"name": "_params"})).await;
    assert_eq!(
        r.body["data"]["name"],
        json!({"code": "validation_collection_name_invalid", "message": "The name shouldn't match with an existing internal table."})
    );
    // PB-COMPAT: at most 63 bytes (PostgreSQL's identifiers), for collections and fields.
    let r = app.create_collection(json!({"name": "b".repeat(64)})).await;
    assert_eq!(
        r.body["data"]["name"],
        json!({"code": "validation_length_out_of_range", "message": "The length must be between 1 and 63.", "params": {"max": 63, "min": 1}})
    );
    app.create_collection(json!({"name": "b".repeat(63)}))
        .await
        .expect(200);
    for (field, expected) in [
        ("null", "validation_not_in_invalid"),
        ("true", "validation_not_in_invalid"),
        ("_rowid_", "validation_not_in_invalid"),
        ("collectionId", "validation_not_in_invalid"),
        ("collectionName", "validation_not_in_invalid"),
        ("expand", "validation_not_in_invalid"),
        ("a_via_b", "validation_found_via"),
        ("a-b", "validation_match_invalid"),
        ("", "validation_required"),
    ] {
        let r = app
            .create_collection(json!({"name": "f", "fields": [{"name": field, "type": "text"}]}))
            .await;
        assert_eq!(
            r.body["data"]["fields"]["1"]["name"]["code"], expected,
            "{field}: {}",
            r.text
        );
    }
    let r = app
        .create_collection(json!({"name": "f", "fields": [{"name": "null", "type": "text"}]}))
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"fields": {"1": {"name": {"code": "validation_not_in_invalid", "message": "Must not be in list."}}}}, "message": "Failed to create collection.", "status": 400})
    );
    // Case matters in that list, as in PocketBase.
    app.create_collection(json!({"name": "f", "fields": [{"name": "TRUE", "type": "text"}, {"name": "9", "type": "text"}]}))
        .await
        .expect(200);
    for field in ["passwordConfirm", "oldPassword"] {
        let r = app
            .create_collection(
                json!({"name": "acc", "type": "auth", "fields": [{"name": field, "type": "text"}]}),
            )
            .await;
        assert_eq!(
            r.body["data"]["fields"]["1"]["name"],
            json!({"code": "validation_reserved_field_name", "message": "The field name is reserved and cannot be used."}),
            "{field}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn deleting_a_collection_a_view_reads_is_refused_naming_the_view() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(json!({"name": "a", "fields": [{"name": "t", "type": "text"}]}))
        .await;
    app.must_create_collection(
        json!({"name": "v", "type": "view", "viewQuery": "select id, t from a", "listRule": ""}),
    )
    .await;
    let r = app.delete_collection("a", &su).await;
    // PB-COMPAT: PocketBase answers only "Failed to delete collection." (the view's name stays
    // in its log).
    assert_eq!(
        r.body,
        json!({"data": {}, "message": "Failed to delete collection due to existing view dependency in v.", "status": 400}),
        "{}",
        r.text
    );
    let rec = app.must_create_record("a", json!({"t": "kept"})).await;
    // Through a second view, the nearest one is the one named.
    app.must_create_collection(
        json!({"name": "v2", "type": "view", "viewQuery": "select id from v"}),
    )
    .await;
    let r = app.delete_collection("v", &su).await;
    assert_eq!(
        r.body["message"], "Failed to delete collection due to existing view dependency in v2.",
        "{}",
        r.text
    );
    // Changing what the views read keeps them, and their fields follow the query's columns.
    app.update_collection(
        "a",
        json!({"fields": [{"name": "t", "type": "text"}, {"name": "u", "type": "number"}]}),
        &su,
    )
    .await
    .expect(200);
    let r = app
        .update_collection("v", json!({"viewQuery": "select id, t, u from a"}), &su)
        .await;
    r.expect(200);
    let r = app.list_records("v", &[], GUEST).await;
    r.expect(200);
    assert_eq!(r.items()[0]["t"], "kept", "the rows survive: {}", r.text);
    assert_eq!(r.ids(), [rec["id"].as_str().unwrap_or("")]);
    // A change that breaks a view is refused, and changes nothing.
    let r = app
        .update_collection("a", json!({"fields": [{"name": "t", "type": "text"}]}), &su)
        .await;
    assert_eq!(
        r.body,
        json!({"data": {}, "message": "Failed to update collection due to existing view dependency in v, v2.", "status": 400}),
        "{}",
        r.text
    );
    let r = app.update_collection("a", json!({"name": "a2"}), &su).await;
    assert_eq!(r.status, 400, "{}", r.text);
    app.list_records("v2", &[], &su).await.expect(200);
    // Without its readers, the collection goes.
    app.delete_collection("v2", &su).await.expect(204);
    app.delete_collection("v", &su).await.expect(204);
    app.delete_collection("a", &su).await.expect(204);
    // An import that drops a table and the views over it drops the views first.
    app.must_create_collection(json!({"name": "a", "fields": [{"name": "t", "type": "text"}]}))
        .await;
    app.must_create_collection(
        json!({"name": "v", "type": "view", "viewQuery": "select id, t from a"}),
    )
    .await;
    app.must_create_collection(
        json!({"name": "v2", "type": "view", "viewQuery": "select id from v"}),
    )
    .await;
    let body = json!({"collections": [{"name": "kept"}], "deleteMissing": true});
    let r = app
        .request(Method::PUT, "/api/collections/import", &su, Some(&body))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    for gone in ["a", "v", "v2"] {
        assert_eq!(app.view_collection(gone, &su).await.status, 404, "{gone}");
    }
}

#[tokio::test]
async fn oauth2_client_secrets_are_never_serialized_and_kept_when_not_sent_back() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let providers = json!([
        {"name": "google", "clientId": "g", "clientSecret": "google-secret"},
        {"name": "github", "clientId": "h", "clientSecret": "github-secret"},
    ]);
    let no_secret = |body: &Value| {
        let text = body.to_string();
        assert!(!text.contains("clientSecret"), "{text}");
        assert!(!text.contains("-secret"), "{text}");
    };
    let r = app
        .update_collection(
            "users",
            json!({"oauth2": {"enabled": true, "providers": providers}}),
            &su,
        )
        .await;
    r.expect(200);
    no_secret(&r.body);
    assert_eq!(r.body["oauth2"]["providers"][0]["clientId"], "g");
    let r = app
        .create_collection(json!({"name": "members", "type": "auth", "oauth2": {"enabled": true, "providers": [{"name": "gitlab", "clientId": "l", "clientSecret": "gitlab-secret"}]}}))
        .await;
    r.expect(200);
    no_secret(&r.body);
    no_secret(&app.view_collection("users", &su).await.body);
    no_secret(&app.list_collections(&[("perPage", "200")], &su).await.body);

    // Sent back without the key (reordered), each provider keeps its own secret.
    let r = app
        .update_collection(
            "users",
            json!({"oauth2": {"providers": [{"name": "github", "clientId": "h2"}, {"name": "google", "clientId": "g"}]}}),
            &su,
        )
        .await;
    r.expect(200);
    no_secret(&r.body);
    let stored = stored_providers(&app, "users").await;
    assert_eq!(stored[0]["clientId"], "h2");
    assert_eq!(stored[0]["clientSecret"], "github-secret");
    assert_eq!(stored[1]["clientSecret"], "google-secret");
    // Re-importing the exported collections (as the dashboard does) keeps them too.
    let list = app.list_collections(&[("perPage", "200")], &su).await;
    no_secret(&list.body);
    let exported = list.body["items"].clone();
    let r = import(&app, exported).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        stored_providers(&app, "members").await[0]["clientSecret"],
        "gitlab-secret"
    );
    let stored = stored_providers(&app, "users").await;
    assert_eq!(stored[0]["clientSecret"], "github-secret");
    assert_eq!(stored[1]["clientSecret"], "google-secret");
    // An explicit empty secret clears it, which the check refuses; a new provider needs one.
    let r = app
        .update_collection(
            "users",
            json!({"oauth2": {"providers": [{"name": "github", "clientId": "h", "clientSecret": ""}]}}),
            &su,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"oauth2": {"providers": {"0": {"clientSecret": {"code": "validation_required", "message": "Cannot be blank."}}}}}, "message": "Failed to update collection.", "status": 400}),
        "{}",
        r.text
    );
    let r = app
        .update_collection(
            "users",
            json!({"oauth2": {"providers": [{"name": "discord", "clientId": "d"}]}}),
            &su,
        )
        .await;
    assert_eq!(
        r.body["data"]["oauth2"]["providers"]["0"]["clientSecret"]["code"], "validation_required",
        "{}",
        r.text
    );
}
