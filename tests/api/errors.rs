//! Bad input never makes a 500: malformed bodies, odd content types, invalid UTF-8, NUL bytes,
//! huge query strings and bodies, and filters built to exhaust the parser.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    GUEST, Resp, TestApp, assert_error, assert_standard_shape, public_collection, spawn_app,
};

async fn notes_app() -> (TestApp, String) {
    let app = spawn_app().await;
    app.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text", "required": true}]),
    ))
    .await;
    let id = app
        .must_create_record("notes", json!({"title": "hello"}))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (app, id)
}

/// A client error (4xx) in PocketBase's standard body; never a 5xx.
#[track_caller]
fn assert_client_error(r: &Resp, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx, got {}: {}",
        r.status,
        r.text
    );
    assert_standard_shape(r);
}

/// Anything but a server error; an error must still be in the standard body.
#[track_caller]
fn assert_not_server_error(r: &Resp, what: &str) {
    assert!(r.status < 500, "{what}: got {}: {}", r.status, r.text);
    if r.status >= 400 {
        assert_standard_shape(r);
    }
}

async fn total(app: &TestApp) -> i64 {
    app.list_records("notes", &[], &app.superuser_token)
        .await
        .body["totalItems"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn a_malformed_json_record_body_gives_400_and_creates_nothing() {
    let (app, id) = notes_app().await;
    let su = app.superuser_token.clone();
    for body in [
        "{\"title\": \"x\",",
        "[1,",
        "{bad",
        "\"just a string\"",
        "[]",
        "42",
        "null",
    ] {
        let r = app
            .raw(
                Method::POST,
                "/api/collections/notes/records",
                &su,
                "application/json",
                body,
            )
            .await;
        assert_eq!(r.status, 400, "body {body:?}: {}", r.text);
        assert_standard_shape(&r);
        assert_eq!(r.body["data"], json!({}));
    }
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/collections/notes/records/{id}"),
            &su,
            "application/json",
            "[1,",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(total(&app).await, 1);
    assert_eq!(
        app.view_record("notes", &id, &[], GUEST).await.body["title"],
        "hello"
    );
}

#[tokio::test]
async fn a_malformed_json_body_on_collections_and_settings_gives_400() {
    let app = spawn_app().await;
    let su = app.superuser_token.clone();
    let r = app
        .raw(
            Method::POST,
            "/api/collections",
            &su,
            "application/json",
            "{bad",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_standard_shape(&r);
    assert_eq!(r.body["data"], json!({}));
    let r = app
        .raw(
            Method::PATCH,
            "/api/settings",
            &su,
            "application/json",
            "{\"meta\":",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_standard_shape(&r);
    let r = app
        .raw(
            Method::POST,
            "/api/collections/users/auth-with-password",
            GUEST,
            "application/json",
            "{\"identity\":",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_standard_shape(&r);
}

#[tokio::test]
async fn unusual_content_types_never_give_a_server_error() {
    let (app, _) = notes_app().await;
    let su = app.superuser_token.clone();
    for (ct, body) in [
        ("text/plain", "{\"title\": \"plain\"}"),
        ("application/xml", "<title>x</title>"),
        ("application/octet-stream", "\u{1}\u{2}\u{3}"),
        ("multipart/form-data", "not really multipart"),
        ("multipart/form-data; boundary=XYZ", "--XYZ\r\nbroken"),
        ("application/x-www-form-urlencoded", "title=%ZZ&&=="),
        ("application/json; charset=utf-16", "{}"),
        ("", "{\"title\": \"none\"}"),
        ("garbage/////", "{}"),
    ] {
        let r = app
            .raw(
                Method::POST,
                "/api/collections/notes/records",
                &su,
                ct,
                body,
            )
            .await;
        assert_not_server_error(&r, ct);
    }
    let r = app
        .raw(
            Method::POST,
            "/api/collections/notes/records",
            &su,
            "application/x-www-form-urlencoded",
            "title=from+form",
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["title"], "from form");
}

#[tokio::test]
async fn invalid_utf8_gives_400_in_bodies_and_never_a_server_error_in_urls() {
    let (app, _) = notes_app().await;
    let su = app.superuser_token.clone();
    let body: Vec<u8> = [&b"{\"title\": \""[..], &[0xff, 0xfe, 0xc3][..], &b"\"}"[..]].concat();
    let r = app
        .raw(
            Method::POST,
            "/api/collections/notes/records",
            &su,
            "application/json",
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_standard_shape(&r);
    let r = app
        .raw(
            Method::POST,
            "/api/collections",
            &su,
            "application/json",
            body,
        )
        .await;
    assert_client_error(&r, "collection body");
    for path in [
        "/api/collections/notes/records?filter=title%3D%27%FF%FE%27",
        "/api/collections/notes/records?sort=%FF",
        "/api/collections/notes/records?fields=%C3&expand=%FF",
        "/api/collections/%FF%FE/records",
        "/api/collections/notes/records/%FF%FE",
    ] {
        let r = app.get(path, &su).await;
        assert_not_server_error(&r, path);
    }
    assert_eq!(total(&app).await, 1);
}

#[tokio::test]
async fn nul_bytes_never_give_a_server_error() {
    let (app, _) = notes_app().await;
    let su = app.superuser_token.clone();
    let r = app
        .create_record("notes", json!({"title": "a\u{0}b"}), &su)
        .await;
    assert_not_server_error(&r, "NUL in a text value");
    let r = app
        .list_records("notes", &[("filter", "title = 'a\u{0}b'")], &su)
        .await;
    assert_not_server_error(&r, "NUL in a filter literal");
    let r = app
        .list_records("notes", &[("filter", "ti\u{0}tle = 'x'")], &su)
        .await;
    assert_not_server_error(&r, "NUL in a filter identifier");
    let r = app
        .list_records("notes", &[("sort", "title\u{0}")], &su)
        .await;
    assert_not_server_error(&r, "NUL in a sort");
    let r = app.create_collection(json!({"name": "bad\u{0}name"})).await;
    assert_client_error(&r, "NUL in a collection name");
    let r = app
        .create_collection(json!({"name": "nulrule", "listRule": "id = '\u{0}'"}))
        .await;
    assert_not_server_error(&r, "NUL in a rule");
    let r = app
        .auth_with_password("users", "a\u{0}@example.com", "x\u{0}y")
        .await;
    assert_error(&r, 400, "Failed to authenticate.");
}

#[tokio::test]
async fn a_huge_query_string_gives_a_client_error_and_the_server_keeps_working() {
    let (app, _) = notes_app().await;
    let huge = "x".repeat(1 << 20);
    let path = format!("/api/collections/notes/records?filter=title%3D%27{huge}%27");
    let (status, body) = app.raw_get(&path).await;
    assert!(
        (400..500).contains(&status),
        "a 1 MiB query string gives a 4xx, got {status}: {body}"
    );
    // PB-COMPAT: filters are limited to 3500 bytes (PocketBase's MaxFilterLength).
    let r = app
        .list_records(
            "notes",
            &[("filter", &format!("title = '{}'", "y".repeat(3_000)))],
            GUEST,
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["totalItems"], 0);
    let r = app
        .list_records(
            "notes",
            &[("filter", &format!("title = '{}'", "y".repeat(30_000)))],
            GUEST,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_standard_shape(&r);
    app.health().await.expect(200);
}

#[tokio::test]
async fn an_oversized_body_gives_413_in_the_standard_body() {
    let (app, _) = notes_app().await;
    let big = format!("{{\"title\": \"{}\"}}", "x".repeat(33 << 20));
    let r = app
        .raw(
            Method::POST,
            "/api/collections/notes/records",
            &app.superuser_token,
            "application/json",
            big,
        )
        .await;
    assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(300)]);
    assert_standard_shape(&r);
    assert_eq!(total(&app).await, 1);
    app.health().await.expect(200);
}

#[tokio::test]
async fn an_oversized_multipart_body_gives_413_in_the_standard_body() {
    let (app, _) = notes_app().await;
    let mut body = b"--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 33 << 20));
    body.extend_from_slice(b"\r\n--XYZ--\r\n");
    let r = app
        .raw(
            Method::POST,
            "/api/collections/notes/records",
            &app.superuser_token,
            "multipart/form-data; boundary=XYZ",
            body,
        )
        .await;
    assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(300)]);
    assert_standard_shape(&r);
    assert_eq!(total(&app).await, 1);
}

#[tokio::test]
async fn an_oversized_body_on_other_endpoints_gives_413() {
    let (app, id) = notes_app().await;
    let su = app.superuser_token.clone();
    let big = || format!("{{\"title\": \"{}\"}}", "x".repeat(33 << 20));
    for (method, path) in [
        (
            Method::PATCH,
            format!("/api/collections/notes/records/{id}"),
        ),
        (Method::POST, "/api/collections".to_owned()),
        (Method::PATCH, "/api/settings".to_owned()),
        (
            Method::POST,
            "/api/collections/users/auth-with-password".to_owned(),
        ),
    ] {
        let r = app.raw(method, &path, &su, "application/json", big()).await;
        assert_eq!(
            r.status,
            413,
            "{path}: {}",
            &r.text[..r.text.len().min(300)]
        );
        assert_standard_shape(&r);
    }
    assert_eq!(
        app.view_record("notes", &id, &[], GUEST).await.body["title"],
        "hello"
    );
}

#[tokio::test]
async fn a_10000_term_filter_gives_400() {
    let (app, _) = notes_app().await;
    // Kept short per term so the URL stays below the HTTP layer's 64 KiB URI limit.
    let filter = vec!["id=1"; 10_000].join("||");
    let path = format!("/api/collections/notes/records?filter={filter}");
    assert!(path.len() < 65_000);
    let r = app.get(&path, GUEST).await;
    assert_eq!(r.status, 400, "{}", &r.text[..r.text.len().min(300)]);
    assert_standard_shape(&r);
    app.health().await.expect(200);
}

#[tokio::test]
async fn deeply_nested_parentheses_give_400_not_a_stack_overflow() {
    let (app, _) = notes_app().await;
    // In a filter, as deep as a URL allows.
    let depth = 30_000;
    let filter = format!("{}id=1{}", "(".repeat(depth), ")".repeat(depth));
    let r = app
        .get(
            &format!("/api/collections/notes/records?filter={filter}"),
            GUEST,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_standard_shape(&r);
    // 100k levels in a rule, where no URL limit applies.
    let rule = format!("{}id != ''{}", "(".repeat(100_000), ")".repeat(100_000));
    let r = app
        .create_collection(json!({"name": "deep", "listRule": rule}))
        .await;
    assert_eq!(r.status, 400, "{}", &r.text[..r.text.len().min(300)]);
    assert_standard_shape(&r);
    assert_eq!(
        app.view_collection("deep", &app.superuser_token)
            .await
            .status,
        404
    );
    // 100k levels in a filter: the URL is too long for the HTTP layer, still never a 5xx.
    let filter = format!("{}id=1{}", "(".repeat(100_000), ")".repeat(100_000));
    let (status, body) = app
        .raw_get(&format!("/api/collections/notes/records?filter={filter}"))
        .await;
    assert!((400..500).contains(&status), "got {status}: {body}");
    app.health().await.expect(200);
}

#[tokio::test]
async fn a_10000_term_rule_gives_400_on_collection_create() {
    let app = spawn_app().await;
    let rule = vec!["id = '1'"; 10_000].join(" || ");
    let r = app
        .create_collection(json!({"name": "wide", "listRule": rule}))
        .await;
    assert_eq!(r.status, 400, "{}", &r.text[..r.text.len().min(300)]);
    assert_standard_shape(&r);
}

#[tokio::test]
async fn odd_paging_values_never_give_a_server_error() {
    let (app, _) = notes_app().await;
    for (k, v) in [
        ("page", "-1"),
        ("page", "0"),
        ("perPage", "-5"),
        ("perPage", "100000000"),
        ("page", "99999999999999999999"),
        ("perPage", "abc"),
        ("skipTotal", "maybe"),
    ] {
        let r = app.list_records("notes", &[(k, v)], GUEST).await;
        assert_not_server_error(&r, &format!("{k}={v}"));
    }
}

/// PocketBase 0.40.6: a non-empty body must be JSON, multipart or urlencoded; an empty one is
/// no values whatever its type.
#[tokio::test]
async fn a_body_without_a_supported_content_type_gives_400_unsupported_content_type() {
    let (app, id) = notes_app().await;
    let su = app.superuser_token.clone();
    let create = "/api/collections/notes/records";
    let update = format!("/api/collections/notes/records/{id}");
    for ct in ["", "text/plain", "application/octet-stream", "text/json"] {
        let r = app
            .raw(Method::POST, create, &su, ct, "{\"title\": \"x\"}")
            .await;
        assert_error(&r, 400, "Unsupported Content-Type.");
        assert_eq!(r.body["data"], json!({}));
        let r = app
            .raw(Method::PATCH, &update, &su, ct, "{\"title\": \"x\"}")
            .await;
        assert_error(&r, 400, "Unsupported Content-Type.");
    }
    let before = total(&app).await;
    // No Content-Type header at all.
    let r = crate::helpers::send(
        app.client
            .post(app.url(create))
            .header("Authorization", &su)
            .body("{\"title\": \"x\"}"),
    )
    .await;
    assert_error(&r, 400, "Unsupported Content-Type.");
    assert_eq!(total(&app).await, before);
    // An empty body is an empty record (here refused by the required title, not the type).
    let r = app.raw(Method::POST, create, &su, "text/plain", "").await;
    assert_eq!(
        r.body["data"]["title"]["code"], "validation_required",
        "{}",
        r.text
    );
    let r = app
        .raw(
            Method::POST,
            create,
            &su,
            "application/json; charset=utf-8",
            "{\"title\": \"ok\"}",
        )
        .await;
    r.expect(200);
    // Whitespace is not an empty JSON body.
    let r = app
        .raw(Method::POST, create, &su, "application/json", " ")
        .await;
    assert_error(
        &r,
        400,
        "Something went wrong while processing your request.",
    );
}

/// PocketBase 0.40.6 checks the caller before reading the body, and words an unreadable body
/// per route.
#[tokio::test]
async fn unreadable_collection_and_settings_bodies_are_worded_per_route_after_the_auth_check() {
    let (app, _) = notes_app().await;
    let su = app.superuser_token.clone();
    let load = "An error occurred while loading the submitted data.";
    for (method, path, message) in [
        (Method::PATCH, "/api/settings", load),
        (
            Method::POST,
            "/api/collections",
            "Failed to load the collection type data due to invalid formatting.",
        ),
        (
            Method::PATCH,
            "/api/collections/notes",
            "Failed to load the submitted data due to invalid formatting.",
        ),
        (Method::PUT, "/api/collections/import", load),
        (Method::POST, "/api/settings/test/s3", load),
    ] {
        for (ct, body) in [("application/json", "{bad"), ("text/plain", "{}")] {
            let r = app.raw(method.clone(), path, &su, ct, body).await;
            // Import alone keeps the generic message for a body of another type.
            let expected = if path.ends_with("import") && ct == "text/plain" {
                "Unsupported Content-Type."
            } else {
                message
            };
            assert_error(&r, 400, expected);
            let r = app.raw(method.clone(), path, GUEST, ct, body).await;
            assert_error(
                &r,
                401,
                "The request requires valid record authorization token.",
            );
        }
    }
}
