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

// Every error is JSON: what the HTTP layer itself refuses (hyper's parser, the size limits, a
// wrong method) answers in the standard body too, over raw TCP where a client would refuse to
// send the request.

/// One response read off a raw connection.
struct Raw {
    status: u16,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The responses in `bytes`, in order (each framed by its `content-length`).
fn parse_responses(mut bytes: &[u8]) -> Vec<Raw> {
    let mut out = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let rest = &bytes[end + 4..];
        let length = length.min(rest.len());
        out.push(Raw {
            status,
            headers,
            body: rest[..length].to_vec(),
        });
        bytes = &rest[length..];
    }
    out
}

/// Writes `request` on a new connection and reads every response until the server closes it.
/// The server may answer and close before it has read the whole request: a failed write is
/// not an error, a missing answer is.
async fn exchange(app: &TestApp, request: &[u8]) -> Vec<Raw> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let (mut read, mut write) = stream.split();
    let mut response = Vec::new();
    let exchange = async {
        let writing = async {
            let _ = write.write_all(request).await;
        };
        let reading = async {
            let _ = read.read_to_end(&mut response).await;
        };
        tokio::join!(writing, reading);
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), exchange)
        .await
        .expect("the server answers and closes the connection");
    parse_responses(&response)
}

/// The one response to `request`.
async fn one(app: &TestApp, request: &[u8]) -> Raw {
    let mut responses = exchange(app, request).await;
    assert_eq!(responses.len(), 1, "one response");
    responses.remove(0)
}

/// `GET target` with `extra` header lines, on a connection that closes after it.
fn get_request(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n")
        .into_bytes()
}

/// The standard body with this status and message, as JSON.
#[track_caller]
fn assert_json_error(r: &Raw, status: u16, message: &str) {
    let body = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, status, "status; body: {body}");
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "content type; body: {body}"
    );
    let json: serde_json::Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("the body is JSON ({e}): {body}"));
    assert_eq!(
        json,
        json!({"status": status, "message": message, "data": {}}),
        "body"
    );
}

const MALFORMED: &str = "Something went wrong while processing your request.";
const NOT_FOUND: &str = "The requested resource wasn't found.";

/// PB-COMPAT: PocketBase takes URIs up to its 1 MiB head limit; the `http` crate holds 64 KiB
/// at most, so a longer one is 414, in the standard body (PocketBase refuses a 100 KiB filter
/// with 400 anyway: filters are limited to 3500 bytes).
#[tokio::test]
async fn a_uri_over_64_kib_gives_414_in_the_standard_body() {
    let (app, _) = notes_app().await;
    let long = format!(
        "/api/collections/notes/records?filter={}",
        "x".repeat(70_000)
    );
    let r = one(&app, &get_request(&long, "")).await;
    assert_json_error(&r, 414, "Request URI too long.");
    // A 100 KiB filter literal.
    let literal = format!(
        "/api/collections/notes/records?filter=title%3D%27{}%27",
        "y".repeat(100 << 10)
    );
    let r = one(&app, &get_request(&literal, "")).await;
    assert_json_error(&r, 414, "Request URI too long.");
    // Thousands of repeated parameters past 64 KiB.
    let repeated = vec!["filter=id%3D%271%27"; 5_000].join("&");
    let r = one(
        &app,
        &get_request(&format!("/api/collections/notes/records?{repeated}"), ""),
    )
    .await;
    assert_json_error(&r, 414, "Request URI too long.");
    // Just below the limit the request is served (and its filter refused as a filter).
    let below = format!(
        "/api/collections/notes/records?filter=title%3D%27{}%27",
        "y".repeat(60_000)
    );
    let r = one(&app, &get_request(&below, "")).await;
    assert_json_error(&r, 400, MALFORMED);
    app.health().await.expect(200);
}

/// Repeated query parameters below the URI limit are served as PocketBase serves them (the
/// first value counts), a 10k-term filter and a 50 KiB literal get a JSON 400.
#[tokio::test]
async fn thousands_of_query_parameters_and_huge_filters_get_json_or_are_served() {
    let (app, _) = notes_app().await;
    for query in [
        vec!["filter=id%3D1"; 3_000].join("&"),
        (0..3_000)
            .map(|i| format!("a{i}={i}"))
            .collect::<Vec<_>>()
            .join("&"),
        vec!["sort=title"; 3_000].join("&"),
        vec!["expand=x"; 3_000].join("&"),
        vec!["fields=id"; 3_000].join("&"),
    ] {
        let r = one(
            &app,
            &get_request(&format!("/api/collections/notes/records?{query}"), ""),
        )
        .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let ten_thousand_terms = vec!["id=1"; 10_000].join("||");
    let literal = format!("title%3D%27{}%27", "y".repeat(50 << 10));
    for filter in [ten_thousand_terms, literal] {
        let r = one(
            &app,
            &get_request(
                &format!("/api/collections/notes/records?filter={filter}"),
                "",
            ),
        )
        .await;
        assert_json_error(&r, 400, MALFORMED);
    }
}

/// PB-COMPAT: the head limit is PocketBase's (Go's 1 MiB and 4 KiB), to the byte; over it, 431
/// in the standard body where PocketBase answers in plain text. More than 100 header fields
/// are also 431 (PocketBase takes them: hyper keeps 100 on the stack, more would allocate per
/// request).
#[tokio::test]
async fn request_headers_over_the_limit_give_431_in_the_standard_body() {
    let app = spawn_app().await;
    // `get_request("/api/health", "X-Big: ...\r\n")` is 73 bytes and the value.
    let limit = (1 << 20) + 4096;
    let big = |n: usize| format!("X-Big: {}\r\n", "a".repeat(n));
    let many_large: String = (0..40)
        .map(|i| format!("X-H{i}: {}\r\n", "b".repeat(30_000)))
        .collect();
    let many_small: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    for (headers, accepted) in [
        (big(1_000_000), true),
        (big(limit - 73), true),
        (big(limit - 72), false),
        (big(1_100_000), false),
        (big(3_000_000), false),
        // Each under the limit, together over it.
        (many_large, false),
        (many_small, false),
    ] {
        let r = one(&app, &get_request("/api/health", &headers)).await;
        if accepted {
            assert_eq!(r.status, 200, "{} bytes of headers", headers.len());
        } else {
            assert_json_error(&r, 431, "Request header fields too large.");
        }
    }
    app.health().await.expect(200);
}

/// PB-COMPAT: PocketBase answers these in plain text (and an unknown version with 505).
#[tokio::test]
async fn a_request_that_does_not_parse_gives_400_in_the_standard_body() {
    let app = spawn_app().await;
    for request in [
        &b"G(T /api/health HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
        b"GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /api/he\x01alth HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/health HTTP/1.0\r\nHost: x\r\nX: \x01\r\n\r\n",
    ] {
        let r = one(&app, request).await;
        assert_json_error(&r, 400, MALFORMED);
    }
}

/// A refusal after requests already served on the same keep-alive connection: each served,
/// then the refusal in the standard body, then the connection closes.
#[tokio::test]
async fn a_refusal_on_a_keep_alive_connection_follows_the_requests_served_before_it() {
    let app = spawn_app().await;
    let mut request = Vec::new();
    for _ in 0..3 {
        request.extend_from_slice(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    // A wrong method is an answer, not a refusal: the connection goes on.
    request.extend_from_slice(b"DELETE /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    request.extend_from_slice(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    request.extend_from_slice(
        format!(
            "GET /api/health?{} HTTP/1.1\r\nHost: x\r\n\r\n",
            "q".repeat(70_000)
        )
        .as_bytes(),
    );
    request.extend_from_slice(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    let responses = exchange(&app, &request).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 404, 200, 414],
        "nothing after the refusal"
    );
    assert_json_error(&responses[3], 404, NOT_FOUND);
    assert_json_error(&responses[5], 414, "Request URI too long.");
    assert_eq!(responses[5].header("connection"), Some("close"));
}

/// PocketBase 0.40.6 answers a method no route takes with 404, "File not found." for GET and
/// HEAD (its public-files route takes those), and never 405.
#[tokio::test]
async fn a_wrong_method_on_a_known_path_gives_404_in_the_standard_body() {
    let (app, id) = notes_app().await;
    let su = app.superuser_token.clone();
    let record = format!("/api/collections/notes/records/{id}");
    for (method, path, message) in [
        (Method::DELETE, "/api/health", NOT_FOUND),
        (Method::PUT, "/api/collections", NOT_FOUND),
        (Method::PUT, "/api/collections/notes/records", NOT_FOUND),
        (Method::POST, record.as_str(), NOT_FOUND),
        (Method::PATCH, "/api/files/token", NOT_FOUND),
        (Method::DELETE, "/_/", NOT_FOUND),
        (Method::POST, "/api/nope", NOT_FOUND),
        (Method::GET, "/api/batch", "File not found."),
        (Method::GET, "/api/files/token", "File not found."),
        (Method::GET, "/api/nope", "File not found."),
        // The public directory: a missing file, and a method it does not serve.
        (Method::GET, "/missing.txt", "File not found."),
        (Method::POST, "/missing.txt", NOT_FOUND),
        (
            Method::from_bytes(b"BREW").expect("method"),
            "/api/health",
            NOT_FOUND,
        ),
    ] {
        let r = app
            .raw(method.clone(), path, &su, "application/json", "")
            .await;
        assert_error(&r, 404, message);
        assert_eq!(r.body["data"], json!({}), "{method} {path}");
    }
    // HEAD keeps the headers of the error, without its body.
    let r = crate::helpers::send(app.client.head(app.url("/api/files/token"))).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, "");
    // The route still answers its own method.
    app.health().await.expect(200);
}

/// A body declared larger than the limit is refused at once, before it is sent (PocketBase
/// does the same), in the standard body; the connection is closed.
#[tokio::test]
async fn a_body_declared_too_large_gives_413_before_it_is_sent() {
    let (app, id) = notes_app().await;
    let su = app.superuser_token.clone();
    let too_large = (32 << 20) + 1;
    for (method, path, token) in [
        ("POST", "/api/collections/notes/records".to_owned(), ""),
        ("PATCH", format!("/api/collections/notes/records/{id}"), ""),
        (
            "POST",
            "/api/collections/users/auth-with-password".to_owned(),
            "",
        ),
        ("POST", "/api/realtime".to_owned(), ""),
        ("PATCH", "/api/settings".to_owned(), su.as_str()),
        ("POST", "/api/collections".to_owned(), su.as_str()),
    ] {
        let auth = if token.is_empty() {
            String::new()
        } else {
            format!("Authorization: {token}\r\n")
        };
        // No body follows the head: the answer cannot wait for it.
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {too_large}\r\n\r\n"
        );
        let r = one(&app, request.as_bytes()).await;
        assert_json_error(&r, 413, "Request entity too large.");
        assert_eq!(r.header("connection"), Some("close"), "{path}");
    }
    // Chunked, with no length declared: refused once past the limit.
    let mut chunked = b"POST /api/collections/notes/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..33 {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = one(&app, &chunked).await;
    assert_json_error(&r, 413, "Request entity too large.");
    assert_eq!(total(&app).await, 1);
}

/// Over HTTP/2 the same limits hold, in the same body, and the connection goes on serving.
#[tokio::test]
async fn over_http2_errors_are_json_and_the_connection_goes_on() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    for _ in 0..2 {
        let r = client
            .get(app.url("/api/health"))
            .header("x-big", "a".repeat(1_100_000))
            .send()
            .await
            .expect("the 431 arrives");
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        assert_eq!(r.status(), 431);
        assert_eq!(r.headers()["content-type"], "application/json");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(
            body,
            json!({"status": 431, "message": "Request header fields too large.", "data": {}})
        );
        let r = client
            .delete(app.url("/api/health"))
            .send()
            .await
            .expect("served");
        assert_eq!(r.status(), 404);
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["message"], NOT_FOUND);
        let r = client
            .get(app.url("/api/health"))
            .header("x-big", "a".repeat(1_000_000))
            .send()
            .await
            .expect("served");
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        assert_eq!(r.status(), 200);
    }
}
