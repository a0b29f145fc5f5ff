//! GraphQL mutations with files (the GraphQL multipart request spec at `POST /api/graphql`):
//! an uploaded file is stored as over REST and downloadable from `/api/files`, and a bad file
//! gets the same validation codes as the same file sent to REST as multipart.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{GUEST, Resp, TestApp, spawn_app};

fn part(name: &str, content: &'static [u8]) -> Part {
    Part::bytes(content).file_name(name.to_owned())
}

async fn send_form(app: &TestApp, path: &str, token: &str, form: Form) -> Resp {
    let mut rb = app.client.post(app.url(path)).multipart(form);
    if !token.is_empty() {
        rb = rb.header("Authorization", token);
    }
    crate::helpers::send(rb).await
}

/// A GraphQL multipart request: `operations`, `map`, then the files as parts `0`, `1`...
async fn gql_upload(
    app: &TestApp,
    query: &str,
    variables: Value,
    files: Vec<(&str, &str, &'static [u8])>,
) -> Resp {
    let map: serde_json::Map<String, Value> = files
        .iter()
        .enumerate()
        .map(|(i, (path, _, _))| (i.to_string(), json!([path])))
        .collect();
    let mut form = Form::new()
        .text(
            "operations",
            json!({"query": query, "variables": variables}).to_string(),
        )
        .text("map", Value::Object(map).to_string());
    for (i, (_, name, content)) in files.into_iter().enumerate() {
        form = form.part(i.to_string(), part(name, content));
    }
    send_form(app, "/api/graphql", GUEST, form).await
}

/// `GET path`: the status and the body.
async fn download(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).send().await.expect("answer");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

async fn docs(app: &TestApp) {
    app.must_create_collection(json!({
        "name": "docs", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 100,
             "mimeTypes": ["text/plain"]},
            {"name": "many", "type": "file", "maxSelect": 2},
        ],
    }))
    .await;
}

const CREATE: &str = "mutation($data: JSON) { createDocs(data: $data) { id title cover many } }";

#[tokio::test]
async fn uploaded_files_are_stored_and_served_as_over_rest() {
    let app = spawn_app().await;
    docs(&app).await;
    let r = gql_upload(
        &app,
        CREATE,
        json!({"data": {"title": "t", "cover": null, "many": [null, null]}}),
        vec![
            ("variables.data.cover", "hello.txt", b"hello world"),
            ("variables.data.many.0", "a.txt", b"aaa"),
            ("variables.data.many.1", "b.txt", b"bbb"),
        ],
    )
    .await;
    r.expect(200);
    let doc = &r.body["data"]["createDocs"];
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let id = doc["id"].as_str().expect("id");
    let cover = doc["cover"].as_str().expect("cover");
    assert!(
        cover.starts_with("hello_") && cover.ends_with(".txt"),
        "{cover}"
    );
    let (status, text) = download(&app, &format!("/api/files/docs/{id}/{cover}")).await;
    assert_eq!((status, text.as_str()), (200, "hello world"));
    let many = doc["many"].as_array().expect("many");
    assert_eq!(many.len(), 2);
    let (_, b) = app
        .raw_get(&format!(
            "/api/files/docs/{id}/{}",
            many[1].as_str().unwrap_or("")
        ))
        .await;
    assert_eq!(b, "bbb");
    // REST shows the same record.
    let rest = app.view_record("docs", id, &[], GUEST).await;
    assert_eq!(rest.body["cover"], doc["cover"]);
    assert_eq!(rest.body["many"], doc["many"]);

    // An update replaces the file, and `many+` appends, as over REST.
    let r = gql_upload(
        &app,
        "mutation($id: String!, $data: JSON) { updateDocs(id: $id, data: $data) { cover many } }",
        json!({"id": id, "data": {"cover": null, "many-": [many[0]]}}),
        vec![("variables.data.cover", "new.txt", b"new")],
    )
    .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let updated = &r.body["data"]["updateDocs"];
    assert_ne!(updated["cover"], doc["cover"]);
    assert_eq!(updated["many"], json!([many[1]]));
    let (_, text) = app
        .raw_get(&format!(
            "/api/files/docs/{id}/{}",
            updated["cover"].as_str().unwrap_or("")
        ))
        .await;
    assert_eq!(text, "new");
}

#[tokio::test]
async fn bad_files_get_rest_s_validation_codes() {
    let app = spawn_app().await;
    docs(&app).await;
    let cases: [(&str, &'static [u8]); 2] = [
        // Not text/plain.
        (
            "x.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
        ),
        // Past maxSize.
        ("big.txt", &[b'a'; 300]),
    ];
    for (name, content) in cases {
        let rest = send_form(
            &app,
            "/api/collections/docs/records",
            GUEST,
            Form::new().part("cover", part(name, content)),
        )
        .await;
        assert_eq!(rest.status, 400, "{name}: {}", rest.body);
        let code = rest.body["data"]["cover"]["code"].clone();
        assert!(code.is_string(), "{name}: {}", rest.body);
        let r = gql_upload(
            &app,
            CREATE,
            json!({"data": {"cover": null}}),
            vec![("variables.data.cover", name, content)],
        )
        .await;
        let error = &r.body["errors"][0];
        assert_eq!(error["message"], rest.body["message"], "{name}: {}", r.body);
        assert_eq!(error["extensions"]["status"], 400, "{name}");
        assert_eq!(error["extensions"]["data"]["cover"]["code"], code, "{name}");
    }
    // A malformed multipart request is a 400 with the standard body.
    let r = send_form(
        &app,
        "/api/graphql",
        GUEST,
        Form::new().text("operations", "{nope"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body["message"].is_string());
}
