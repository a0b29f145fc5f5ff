//! Record CRUD: output shape, validation codes, hidden fields, auth records.

use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, TestUser, assert_error, public_collection, spawn_app};

/// `authors` (public read) and `posts` (public everything) with one field of each kind.
async fn blog(app: &TestApp) -> (Value, Value) {
    let authors = app
        .must_create_collection(json!({
            "name": "authors", "listRule": "", "viewRule": "",
            "fields": [{"name": "name", "type": "text", "required": true}],
        }))
        .await;
    let posts = app
        .must_create_collection(public_collection(
            "posts",
            json!([
                {"name": "title", "type": "text", "required": true, "min": 3, "max": 20, "pattern": "^[A-Za-z0-9 ]+$"},
                {"name": "count", "type": "number", "min": 0, "max": 100, "onlyInt": true},
                {"name": "active", "type": "bool"},
                {"name": "contact", "type": "email"},
                {"name": "status", "type": "select", "values": ["draft", "published"], "maxSelect": 1},
                {"name": "tags", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 3},
                {"name": "meta", "type": "json"},
                {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1},
                {"name": "secret", "type": "text", "hidden": true},
                {"name": "created", "type": "autodate", "onCreate": true, "onUpdate": false},
                {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
            ]),
        ))
        .await;
    (authors, posts)
}

fn is_record_id(s: &str) -> bool {
    s.len() == 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `YYYY-MM-DD HH:MM:SS.sssZ`
fn is_pb_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[tokio::test]
async fn create_returns_the_record_with_id_collection_and_pocketbase_dates() {
    let app = spawn_app().await;
    let (_, posts) = blog(&app).await;
    let r = app
        .create_record("posts", json!({"title": "Hello"}), GUEST)
        .await;
    r.expect(200);
    assert!(is_record_id(r.str("id")), "id: {}", r.str("id"));
    assert_eq!(r.body["collectionId"], posts["id"]);
    assert_eq!(r.body["collectionName"], "posts");
    assert!(
        is_pb_date(r.str("created")),
        "created: {}",
        r.str("created")
    );
    assert!(
        is_pb_date(r.str("updated")),
        "updated: {}",
        r.str("updated")
    );
    assert_eq!(r.body["created"], r.body["updated"]);
}

#[tokio::test]
async fn record_keys_are_alphabetical_and_unset_fields_have_zero_values() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record("posts", json!({"title": "Defaults"}), GUEST)
        .await;
    r.expect(200);
    let keys: Vec<&str> = r
        .body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        keys, sorted,
        "keys come in alphabetical order in the JSON text"
    );
    let text_keys: Vec<usize> = sorted
        .iter()
        .map(|k| r.text.find(&format!("\"{k}\":")).expect("key in text"))
        .collect();
    assert!(
        text_keys.windows(2).all(|w| w[0] < w[1]),
        "keys in the raw body are alphabetical: {}",
        r.text
    );
    assert_eq!(r.body["count"], 0);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["contact"], "");
    assert_eq!(r.body["status"], "");
    assert_eq!(r.body["tags"], json!([]));
    assert_eq!(r.body["meta"], Value::Null);
    assert_eq!(r.body["author"], "");
}

#[tokio::test]
async fn view_returns_the_same_record_as_create() {
    let app = spawn_app().await;
    blog(&app).await;
    let created = app
        .create_record(
            "posts",
            json!({"title": "Same", "tags": ["a", "c"], "meta": {"k": [1, 2]}}),
            GUEST,
        )
        .await;
    let viewed = app
        .view_record("posts", created.str("id"), &[], GUEST)
        .await;
    viewed.expect(200);
    assert_eq!(viewed.body, created.body);
}

#[tokio::test]
async fn update_changes_only_sent_fields_and_keeps_created() {
    let app = spawn_app().await;
    blog(&app).await;
    let created = app
        .create_record("posts", json!({"title": "Before", "count": 5}), GUEST)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let u = app
        .update_record("posts", created.str("id"), json!({"title": "After"}), GUEST)
        .await;
    u.expect(200);
    assert_eq!(u.body["title"], "After");
    assert_eq!(u.body["count"], 5);
    assert_eq!(u.body["created"], created.body["created"]);
    assert_ne!(u.body["updated"], created.body["updated"]);
}

#[tokio::test]
async fn delete_answers_204_and_the_record_is_gone() {
    let app = spawn_app().await;
    blog(&app).await;
    let created = app
        .create_record("posts", json!({"title": "Bye"}), GUEST)
        .await;
    let r = app.delete_record("posts", created.str("id"), GUEST).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_error(
        &app.view_record("posts", created.str("id"), &[], GUEST)
            .await,
        404,
        "The requested resource wasn't found.",
    );
}

#[tokio::test]
async fn a_custom_15_char_id_can_be_supplied_on_create() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record(
            "posts",
            json!({"id": "abcdefghij12345", "title": "Custom"}),
            GUEST,
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["id"], "abcdefghij12345");
}

#[tokio::test]
async fn a_missing_required_field_gives_400_validation_required() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app.create_record("posts", json!({}), GUEST).await;
    assert_error(&r, 400, "Failed to create record.");
    assert_eq!(
        r.body["data"],
        json!({"title": {"code": "validation_required", "message": "Cannot be blank."}})
    );
}

#[tokio::test]
async fn constraint_violations_report_one_pocketbase_code_per_field() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record(
            "posts",
            json!({"title": "ab", "count": 1.5, "contact": "not-an-email", "status": "zzz",
                   "tags": ["a", "b", "c", "d"], "author": "missingid123456"}),
            GUEST,
        )
        .await;
    assert_error(&r, 400, "Failed to create record.");
    let d = &r.body["data"];
    assert_eq!(
        d["title"],
        json!({"code": "validation_min_text_constraint", "message": "Must be at least 3 character(s).", "params": {"min": 3}})
    );
    assert_eq!(
        d["count"],
        json!({"code": "validation_only_int_constraint", "message": "Decimal numbers are not allowed."})
    );
    assert_eq!(d["contact"]["code"], "validation_is_email");
    assert_eq!(
        d["status"],
        json!({"code": "validation_invalid_value", "message": "Invalid value zzz.", "params": {"value": "zzz"}})
    );
    assert_eq!(
        d["tags"],
        json!({"code": "validation_too_many_values", "message": "Select no more than 3.", "params": {"maxSelect": 3}})
    );
    assert_eq!(d["author"]["code"], "validation_missing_rel_records");
    let mut keys: Vec<&String> = d.as_object().expect("data").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["author", "contact", "count", "status", "tags", "title"]
    );
}

#[tokio::test]
async fn max_text_max_number_and_min_number_have_their_own_codes() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record(
            "posts",
            json!({"title": "x".repeat(21), "count": 101}),
            GUEST,
        )
        .await;
    r.expect(400);
    assert_eq!(
        r.body["data"]["title"]["code"],
        "validation_max_text_constraint"
    );
    assert_eq!(
        r.body["data"]["count"],
        json!({"code": "validation_max_number_constraint", "message": "Must be less or equal than 100.", "params": {"max": 100}})
    );
    let r = app
        .create_record("posts", json!({"title": "Fine", "count": -1}), GUEST)
        .await;
    assert_eq!(
        r.body["data"],
        json!({"count": {"code": "validation_min_number_constraint", "message": "Must be greater or equal than 0.", "params": {"min": 0}}})
    );
}

#[tokio::test]
async fn a_pattern_mismatch_gives_validation_invalid_format() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record("posts", json!({"title": "Bad!!"}), GUEST)
        .await;
    r.expect(400);
    assert_eq!(r.body["data"]["title"]["code"], "validation_invalid_format");
    assert_eq!(r.body["data"].as_object().map(|o| o.len()), Some(1));
}

#[tokio::test]
async fn an_unknown_value_in_a_multi_select_gives_validation_invalid_value() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record(
            "posts",
            json!({"title": "Tags bad", "tags": ["a", "zz"]}),
            GUEST,
        )
        .await;
    r.expect(400);
    assert_eq!(r.body["data"]["tags"]["code"], "validation_invalid_value");
}

#[tokio::test]
async fn a_failed_update_says_failed_to_update_record_and_changes_nothing() {
    let app = spawn_app().await;
    blog(&app).await;
    let created = app
        .create_record("posts", json!({"title": "Stable"}), GUEST)
        .await;
    let r = app
        .update_record(
            "posts",
            created.str("id"),
            json!({"title": "no", "count": 5}),
            GUEST,
        )
        .await;
    assert_error(&r, 400, "Failed to update record.");
    assert_eq!(
        r.body["data"]["title"]["code"],
        "validation_min_text_constraint"
    );
    let after = app
        .view_record("posts", created.str("id"), &[], GUEST)
        .await;
    assert_eq!(after.body["title"], "Stable");
    assert_eq!(after.body["count"], 0);
}

#[tokio::test]
async fn unknown_fields_in_the_body_are_ignored() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record(
            "posts",
            json!({"title": "Extra", "nosuchfield": "x"}),
            GUEST,
        )
        .await;
    r.expect(200);
    assert!(r.body.get("nosuchfield").is_none());
}

#[tokio::test]
async fn hidden_fields_are_shown_to_superusers_only_and_refused_in_guest_filters() {
    let app = spawn_app().await;
    blog(&app).await;
    let created = app
        .must_create_record("posts", json!({"title": "Hidden", "secret": "sshh"}))
        .await;
    assert_eq!(created["secret"], "sshh");
    let id = created["id"].as_str().expect("id");
    let g = app.view_record("posts", id, &[], GUEST).await;
    g.expect(200);
    assert!(g.body.get("secret").is_none(), "{}", g.text);
    let list = app.list_records("posts", &[], GUEST).await;
    assert!(list.items().iter().all(|x| x.get("secret").is_none()));
    let r = app
        .list_records("posts", &[("filter", "secret = 'sshh'")], GUEST)
        .await;
    r.expect(400);
    let su = app
        .list_records(
            "posts",
            &[("filter", "secret = 'sshh'")],
            &app.superuser_token,
        )
        .await;
    assert_eq!(su.body["totalItems"], 1);
}

#[tokio::test]
async fn request_and_collection_references_in_client_filters_are_403_for_non_superusers() {
    let app = spawn_app().await;
    blog(&app).await;
    let user = app.create_user("filterer@example.com").await;
    for (query, message) in [
        (
            ("filter", "@request.auth.id != ''"),
            "Only superusers can filter by @request.",
        ),
        (
            ("sort", "@request.auth.id"),
            "Only superusers can filter by @request.",
        ),
        (
            ("filter", "@collection.posts.title != ''"),
            "Only superusers can filter by @collection.",
        ),
    ] {
        for token in [GUEST, user.token.as_str()] {
            let r = app.list_records("posts", &[query], token).await;
            assert_error(&r, 403, message);
        }
        app.list_records("posts", &[query], &app.superuser_token)
            .await
            .expect(200);
    }
    assert_error(
        &app.list_records("posts", &[("filter", "nope = 1")], GUEST)
            .await,
        400,
        "Something went wrong while processing your request.",
    );
}

#[tokio::test]
async fn a_guest_create_drops_values_for_hidden_fields() {
    let app = spawn_app().await;
    blog(&app).await;
    let r = app
        .create_record(
            "posts",
            json!({"title": "Guest post", "secret": "guest secret"}),
            GUEST,
        )
        .await;
    r.expect(200);
    assert!(r.body.get("secret").is_none());
    let su = app
        .view_record("posts", r.str("id"), &[], &app.superuser_token)
        .await;
    assert_eq!(su.body["secret"], "");
}

#[tokio::test]
async fn an_unknown_collection_gives_404_missing_collection_context() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    assert_error(
        &app.list_records("nope", &[], su).await,
        404,
        "Missing collection context.",
    );
    assert_error(
        &app.view_record("nope", "aaaaaaaaaaaaaaa", &[], GUEST).await,
        404,
        "Missing collection context.",
    );
    assert_eq!(
        app.create_record("nope", json!({"a": 1}), su).await.status,
        404
    );
    assert_eq!(
        app.update_record("nope", "aaaaaaaaaaaaaaa", json!({"a": 1}), su)
            .await
            .status,
        404
    );
    assert_eq!(
        app.delete_record("nope", "aaaaaaaaaaaaaaa", su)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_unknown_record_gives_404_for_view_update_and_delete() {
    let app = spawn_app().await;
    blog(&app).await;
    let su = &app.superuser_token;
    let nf = "The requested resource wasn't found.";
    assert_error(
        &app.view_record("posts", "aaaaaaaaaaaaaaa", &[], GUEST)
            .await,
        404,
        nf,
    );
    assert_error(
        &app.view_record("posts", "doesnotexist", &[], su).await,
        404,
        nf,
    );
    assert_error(
        &app.update_record("posts", "aaaaaaaaaaaaaaa", json!({"title": "xyz"}), su)
            .await,
        404,
        nf,
    );
    assert_error(
        &app.delete_record("posts", "aaaaaaaaaaaaaaa", su).await,
        404,
        nf,
    );
}

#[tokio::test]
async fn auth_records_never_expose_password_or_token_key() {
    let app = spawn_app().await;
    let r = app
        .create_record(
            "users",
            json!({"email": "someone@example.com", "password": "pass12345", "passwordConfirm": "pass12345", "name": "Some One"}),
            &app.superuser_token,
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["email"], "someone@example.com");
    assert_eq!(r.body["emailVisibility"], false);
    assert_eq!(r.body["verified"], false);
    assert_eq!(r.body["name"], "Some One");
    for key in ["password", "tokenKey", "passwordConfirm"] {
        assert!(r.body.get(key).is_none(), "{key} leaked: {}", r.text);
    }
}

#[tokio::test]
async fn a_guest_sign_up_does_not_see_its_own_email_unless_visible() {
    let app = spawn_app().await;
    let r = app.create_record("users", json!({"email": "new@example.com", "password": "pass12345", "passwordConfirm": "pass12345"}), GUEST).await;
    r.expect(200);
    assert!(r.body.get("email").is_none(), "{}", r.text);
    let su = app
        .view_record("users", r.str("id"), &[], &app.superuser_token)
        .await;
    assert_eq!(su.body["email"], "new@example.com");
}

#[tokio::test]
async fn auth_record_create_checks_password_confirm_unique_email_and_password_length() {
    let app = spawn_app().await;
    let su = &app.superuser_token;
    app.create_user("someone@example.com").await;
    let r = app
        .create_record(
            "users",
            json!({"email": "x1@example.com", "password": "pass12345"}),
            su,
        )
        .await;
    assert_eq!(
        r.body["data"]["passwordConfirm"]["code"], "validation_required",
        "{}",
        r.text
    );
    let r = app.create_record("users", json!({"email": "x1@example.com", "password": "pass12345", "passwordConfirm": "other12345"}), su).await;
    assert_eq!(
        r.body["data"]["passwordConfirm"]["code"], "validation_values_mismatch",
        "{}",
        r.text
    );
    let r = app.create_record("users", json!({"email": "someone@example.com", "password": "pass12345", "passwordConfirm": "pass12345"}), su).await;
    assert_eq!(
        r.body["data"]["email"]["code"], "validation_not_unique",
        "{}",
        r.text
    );
    let r = app
        .create_record(
            "users",
            json!({"email": "x2@example.com", "password": "short", "passwordConfirm": "short"}),
            su,
        )
        .await;
    assert_eq!(
        r.body["data"]["password"]["code"], "validation_min_text_constraint",
        "{}",
        r.text
    );
    let r = app.create_record("users", json!({"email": "not-an-email", "password": "pass12345", "passwordConfirm": "pass12345"}), su).await;
    assert_eq!(
        r.body["data"]["email"]["code"], "validation_is_email",
        "{}",
        r.text
    );
}

#[tokio::test]
async fn password_fields_of_base_collections_are_checked_hashed_and_never_shown() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(json!({
        "name": "vaults", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
        "fields": [{"name": "pin", "type": "password", "min": 8, "required": true}, {"name": "label", "type": "text"}]
    }))
    .await;
    let short = app
        .create_record("vaults", json!({"pin": "123"}), GUEST)
        .await;
    assert_eq!(
        crate::helpers::field_code(&short, "pin"),
        "validation_min_text_constraint"
    );
    let missing = app
        .create_record("vaults", json!({"label": "x"}), GUEST)
        .await;
    assert_eq!(
        crate::helpers::field_code(&missing, "pin"),
        "validation_required"
    );
    let r = app
        .create_record("vaults", json!({"pin": "12345678", "label": "a"}), GUEST)
        .await;
    r.expect(200);
    assert_eq!(r.body["pin"], "", "a password is never shown");
    let id = r.str("id").to_owned();
    let stored = || async {
        let rows = app
            .list_records("vaults", &[("filter", "pin != ''")], &su)
            .await;
        rows.body["totalItems"].clone()
    };
    assert_eq!(stored().await, 1, "a hash is stored");
    let plain = app
        .list_records("vaults", &[("filter", "pin = '12345678'")], &su)
        .await;
    assert_eq!(
        plain.body["totalItems"], 0,
        "the plain value is not what is stored"
    );
    app.update_record("vaults", &id, json!({"label": "b"}), GUEST)
        .await
        .expect(200);
    assert_eq!(stored().await, 1, "other changes keep the hash");
    let bad = app
        .update_record("vaults", &id, json!({"pin": "1"}), GUEST)
        .await;
    assert_eq!(
        crate::helpers::field_code(&bad, "pin"),
        "validation_min_text_constraint"
    );
    app.update_record("vaults", &id, json!({"pin": "another-pin"}), GUEST)
        .await
        .expect(200);
    assert_eq!(
        app.view_record("vaults", &id, &[], &su).await.body["pin"],
        ""
    );
}

#[tokio::test]
async fn concurrent_increments_are_never_lost() {
    let app = spawn_app().await;
    app.must_create_collection(json!({"name": "counters", "viewRule": "", "createRule": "", "updateRule": "", "fields": [{"name": "n", "type": "number"}]})).await;
    let r = app.create_record("counters", json!({"n": 0}), GUEST).await;
    let id = r.str("id").to_owned();
    let updates = (0..40).map(|_| app.update_record("counters", &id, json!({"n+": 1}), GUEST));
    for r in futures_util::future::join_all(updates).await {
        r.expect(200);
    }
    // PB-COMPAT: PocketBase can lose some of these; on both databases none is lost here.
    assert_eq!(
        app.view_record("counters", &id, &[], GUEST).await.body["n"],
        40
    );
}

/// Codes, messages and params as PocketBase 0.40.6 answers them for the same requests.
#[tokio::test]
async fn editor_date_and_geo_point_limits_give_the_pocketbase_codes_and_params() {
    let app = spawn_app().await;
    app.must_create_collection(public_collection(
        "limits",
        json!([
            {"name": "ed", "type": "editor", "maxSize": 10},
            {"name": "d", "type": "date", "min": "2024-01-01 10:20:30.123Z", "max": "2024-12-31 00:00:00.000Z"},
            {"name": "g", "type": "geoPoint"},
        ]),
    ))
    .await;
    let cases = [
        (
            json!({"ed": "<p>hello world long</p>"}),
            "ed",
            json!({"code": "validation_content_size_limit", "message": "The maximum allowed content size is 10 bytes.", "params": {"maxSize": 10}}),
        ),
        (
            json!({"d": "2023-01-01 00:00:00.000Z"}),
            "d",
            json!({"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 2024-01-01 10:20:30.123 +0000 UTC.", "params": {"threshold": "2024-01-01T10:20:30.123Z"}}),
        ),
        (
            json!({"d": "2025-01-01 00:00:00.000Z"}),
            "d",
            json!({"code": "validation_max_less_equal_than_required", "message": "Must be no greater than 2024-12-31 00:00:00 +0000 UTC.", "params": {"threshold": "2024-12-31T00:00:00Z"}}),
        ),
        (
            json!({"g": {"lon": 200, "lat": 0}}),
            "g",
            json!({"code": "validation_invalid_longitude", "message": "Longitude must be between -180 and 180 degrees."}),
        ),
        (
            json!({"g": {"lon": -181, "lat": -91}}),
            "g",
            json!({"code": "validation_invalid_latitude", "message": "Latitude must be between -90 and 90 degrees."}),
        ),
    ];
    for (body, field, expected) in cases {
        let r = app.create_record("limits", body.clone(), GUEST).await;
        assert_error(&r, 400, "Failed to create record.");
        assert_eq!(r.body["data"], json!({ field: expected }), "body {body}");
    }
}

/// PocketBase 0.40.6 reads a DELETE body for `@request.body` (404 when the rule fails).
#[tokio::test]
async fn the_delete_rule_sees_the_request_body() {
    let app = spawn_app().await;
    let mut c = public_collection("notes", json!([{"name": "t", "type": "text"}]));
    c["deleteRule"] = json!("@request.body.x:isset = false");
    app.must_create_collection(c).await;
    let new_note = || async {
        app.must_create_record("notes", json!({"t": "a"})).await["id"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let path = |id: &str| format!("/api/collections/notes/records/{id}");
    let id = new_note().await;
    let r = app
        .raw(
            reqwest::Method::DELETE,
            &path(&id),
            GUEST,
            "application/json",
            r#"{"x":1}"#,
        )
        .await;
    assert_error(&r, 404, "The requested resource wasn't found.");
    let mp = "--XX\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--XX--\r\n";
    let r = app
        .raw(
            reqwest::Method::DELETE,
            &path(&id),
            GUEST,
            "multipart/form-data; boundary=XX",
            mp,
        )
        .await;
    assert_error(&r, 404, "The requested resource wasn't found.");
    let r = app
        .raw(
            reqwest::Method::DELETE,
            &path(&id),
            GUEST,
            "application/json",
            "{bad",
        )
        .await;
    assert_error(
        &r,
        400,
        "Something went wrong while processing your request.",
    );
    let r = app
        .raw(
            reqwest::Method::DELETE,
            &path(&id),
            GUEST,
            "text/plain",
            "x",
        )
        .await;
    assert_error(&r, 400, "Unsupported Content-Type.");
    // Without the key, or with no body at all, the rule holds.
    app.raw(
        reqwest::Method::DELETE,
        &path(&id),
        GUEST,
        "application/json",
        r#"{"y":1}"#,
    )
    .await
    .expect(204);
    let id = new_note().await;
    app.delete_record("notes", &id, GUEST).await.expect(204);
}

/// A create checks its relations and its createRule in one query after the insert: each
/// failure must still say what it says when they are checked apart, and a duplicate value
/// comes after a missing relation.
#[tokio::test]
async fn relation_rule_and_unique_failures_of_a_create_keep_their_errors() {
    let app = spawn_app().await;
    let authors = app
        .must_create_collection(json!({
            "name": "authors", "listRule": "", "viewRule": "", "createRule": "",
            "fields": [{"name": "name", "type": "text"}],
        }))
        .await;
    app.must_create_collection(json!({
        "name": "notes", "listRule": "", "viewRule": "",
        "createRule": "title != 'forbidden'",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1},
        ],
        "indexes": ["CREATE UNIQUE INDEX idx_notes_title ON notes (title)"],
    }))
    .await;
    let author = app
        .create_record("authors", json!({"name": "a"}), GUEST)
        .await;
    author.expect(200);
    let author_id = author.str("id").to_owned();

    let ok = app
        .create_record("notes", json!({"title": "one", "author": author_id}), GUEST)
        .await;
    ok.expect(200);

    let missing = app
        .create_record(
            "notes",
            json!({"title": "two", "author": "missingid123456"}),
            GUEST,
        )
        .await;
    assert_error(&missing, 400, "Failed to create record.");
    assert_eq!(
        missing.body["data"]["author"]["code"],
        "validation_missing_rel_records"
    );

    let refused = app
        .create_record(
            "notes",
            json!({"title": "forbidden", "author": author_id}),
            GUEST,
        )
        .await;
    assert_error(&refused, 400, "Failed to create record.");
    assert_eq!(refused.body["data"], json!({}));

    let both = app
        .create_record(
            "notes",
            json!({"title": "forbidden", "author": "missingid123456"}),
            GUEST,
        )
        .await;
    // As in PocketBase: the rule is judged first, and a caller it refuses learns nothing of
    // the fields.
    assert_error(&both, 400, "Failed to create record.");
    assert_eq!(both.body["data"], json!({}));

    let duplicate = app
        .create_record(
            "notes",
            json!({"title": "one", "author": "missingid123456"}),
            GUEST,
        )
        .await;
    assert_error(&duplicate, 400, "Failed to create record.");
    assert_eq!(
        duplicate.body["data"]["author"]["code"],
        "validation_missing_rel_records"
    );
    let duplicate = app
        .create_record("notes", json!({"title": "one", "author": author_id}), GUEST)
        .await;
    assert_eq!(
        duplicate.body["data"]["title"]["code"],
        "validation_not_unique"
    );

    let rows = app.list_records("notes", &[], GUEST).await;
    assert_eq!(rows.body["totalItems"], 1);
}

/// A record cannot name itself in a relation to its own collection when it is created.
#[tokio::test]
async fn a_created_record_cannot_relate_to_itself() {
    let app = spawn_app().await;
    let nodes = app
        .must_create_collection(json!({
            "name": "nodes", "listRule": "", "viewRule": "", "createRule": "",
            "fields": [{"name": "name", "type": "text"}],
        }))
        .await;
    app.update_collection(
        "nodes",
        json!({"fields": [{"name": "name", "type": "text"},
                          {"name": "parent", "type": "relation", "collectionId": nodes["id"], "maxSelect": 1}]}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let r = app
        .create_record(
            "nodes",
            json!({"id": "selfreference01", "parent": "selfreference01"}),
            GUEST,
        )
        .await;
    assert_error(&r, 400, "Failed to create record.");
    assert_eq!(
        r.body["data"]["parent"]["code"],
        "validation_missing_rel_records"
    );
}

/// Compiled rules are kept (`rules/memo.rs`), so every input a rule reads must still count:
/// the caller, the caller's fields as they are now, the request's query and the rule itself.
#[tokio::test]
async fn a_kept_compiled_rule_follows_its_caller_the_request_and_the_definitions() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(json!({
        "name": "notes", "type": "base",
        "viewRule": "@request.auth.name = 'editor' && owner = @request.auth.id",
        "fields": [{"name": "owner", "type": "text"}, {"name": "tag", "type": "text"}],
    }))
    .await;
    let alice = app.create_user("alice@example.com").await;
    let bob = app.create_user("bob@example.com").await;
    let set_name = |user: &TestUser, name: &'static str| {
        let id = user.id.clone();
        let su = su.clone();
        let app = &app;
        async move {
            app.update_record("users", &id, json!({"name": name}), &su)
                .await
                .expect(200);
        }
    };
    set_name(&alice, "editor").await;
    set_name(&bob, "editor").await;
    let alices = app
        .create_record("notes", json!({"owner": alice.id, "tag": "a"}), &su)
        .await;
    alices.expect(200);
    let note = alices.str("id").to_owned();
    let view = |token: &str, query: &'static [(&'static str, &'static str)]| {
        let token = token.to_owned();
        let note = note.clone();
        let app = &app;
        async move { app.view_record("notes", &note, query, &token).await.status }
    };

    // The caller: the same rule compiled for alice must not serve bob, and back.
    for _ in 0..2 {
        assert_eq!(view(&alice.token, &[]).await, 200);
        assert_eq!(view(&bob.token, &[]).await, 404);
    }
    // The caller's fields as they are now, with the same token.
    set_name(&alice, "reader").await;
    assert_eq!(
        view(&alice.token, &[]).await,
        404,
        "the old name still passed"
    );
    set_name(&alice, "editor").await;
    assert_eq!(view(&alice.token, &[]).await, 200);

    // The rule itself.
    app.update_collection(
        "notes",
        json!({"viewRule": "owner = @request.auth.id && @request.query.k = 'yes'"}),
        &su,
    )
    .await
    .expect(200);
    // The request: a rule reading the query compiles for each request.
    for _ in 0..2 {
        assert_eq!(view(&alice.token, &[("k", "yes")]).await, 200);
        assert_eq!(view(&alice.token, &[("k", "no")]).await, 404);
    }

    app.stop().await;
}

/// A rule naming another collection's field breaks when that field is renamed (neither
/// PocketBase nor oxbase checks other collections' rules on save); the request then gets
/// PocketBase's generic 400, never a 500.
#[tokio::test]
async fn a_rule_broken_by_another_collections_rename_is_a_400() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    app.must_create_collection(public_collection(
        "members",
        json!([{"name": "tag", "type": "text"}]),
    ))
    .await;
    app.must_create_collection(json!({
        "name": "notes", "type": "base",
        "listRule": "@collection.members.tag ?= tag", "viewRule": "@collection.members.tag ?= tag",
        "fields": [{"name": "tag", "type": "text"}],
    }))
    .await;
    app.list_records("notes", &[], GUEST).await.expect(200);
    let members = app.view_collection("members", &su).await;
    let mut fields = members.body["fields"].clone();
    for f in fields.as_array_mut().expect("fields") {
        if f["name"] == "tag" {
            f["name"] = json!("label");
        }
    }
    app.update_collection("members", json!({"fields": fields}), &su)
        .await
        .expect(200);
    let r = app.list_records("notes", &[], GUEST).await;
    assert_error(
        &r,
        400,
        "Something went wrong while processing your request.",
    );
    app.stop().await;
}

#[tokio::test]
async fn record_routes_find_the_collection_by_id_or_by_name_in_any_case() {
    let app = spawn_app().await;
    let (_, posts) = blog(&app).await;
    let created = app
        .create_record("posts", json!({"title": "Cased"}), GUEST)
        .await;
    created.expect(200);
    let id = created.str("id");
    let by = |collection: String| {
        let app = &app;
        let path = format!("/api/collections/{collection}/records/{id}");
        async move { app.get(&path, GUEST).await }
    };
    for collection in [
        "posts".to_owned(),
        "POSTS".to_owned(),
        "Posts".to_owned(),
        posts["id"].as_str().expect("id").to_owned(),
    ] {
        let r = by(collection.clone()).await;
        r.expect(200);
        assert_eq!(r.body["collectionName"], "posts", "via {collection}");
        assert_eq!(r.body["id"], id, "via {collection}");
    }
    by("postz".to_owned()).await.expect(404);
}
