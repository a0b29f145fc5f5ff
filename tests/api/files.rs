//! Files: multipart uploads into file fields, stored names, limits, modifiers, cleanup after
//! commit, downloads (types, ranges, conditional requests, thumbnails), protected files with
//! file tokens, and S3-compatible storage against a real local S3 server (moto).

use std::path::{Path, PathBuf};

use object_store::ObjectStoreExt;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::*;

/// A PNG of `w`x`h`: the top half red, the bottom half blue.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |_, y| {
        if y < h / 2 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn file(name: &str, bytes: impl Into<Vec<u8>>) -> Part {
    Part::bytes(bytes.into()).file_name(name.to_owned())
}

/// `docs`: public rules, a single small file, a multi-file image field with thumbs, and a
/// protected file.
async fn docs(app: &TestApp, view_rule: &str) -> String {
    let c = app
        .must_create_collection(json!({
            "name": "docs", "type": "base",
            "listRule": "", "viewRule": view_rule, "createRule": "", "updateRule": "", "deleteRule": "",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "one", "type": "file", "maxSelect": 1, "maxSize": 1000},
                {"name": "many", "type": "file", "maxSelect": 3, "thumbs": ["50x50", "20x0", "40x40t"], "mimeTypes": ["image/png", "text/plain"]},
                {"name": "secret", "type": "file", "protected": true}
            ]
        }))
        .await;
    c["id"].as_str().unwrap_or_default().to_owned()
}

impl TestApp {
    async fn multipart(&self, method: Method, path: &str, token: &str, form: Form) -> Resp {
        let mut rb = self.client.request(method, self.url(path)).multipart(form);
        if !token.is_empty() {
            rb = rb.header("Authorization", token);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        Resp {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    async fn download(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut rb = self.client.get(self.url(path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.send().await.expect("download")
    }

    async fn file_token(&self, auth_token: &str) -> String {
        self.request(Method::POST, "/api/files/token", auth_token, None)
            .await
            .str("token")
            .to_owned()
    }

    async fn test_s3(&self, body: Value) -> Resp {
        self.request(
            Method::POST,
            "/api/settings/test/s3",
            &self.superuser_token,
            Some(&body),
        )
        .await
    }

    fn stored(&self, collection_id: &str, record_id: &str) -> Vec<String> {
        list_dir(
            &self
                .data_dir
                .join("storage")
                .join(collection_id)
                .join(record_id),
        )
    }
}

fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        _ => vec![],
    }
}

#[tokio::test]
async fn uploads_are_stored_under_sanitised_names_and_served_back() {
    let app = spawn_app().await;
    let cid = docs(&app, "").await;
    let form = Form::new()
        .text("title", "hello")
        .part("one", file("../../My Fancy File!!.TXT", "hello world"))
        .part("many", file("img.png", png(200, 100)))
        .part("many", file("b.txt", "bee"));
    let r = app
        .multipart(Method::POST, "/api/collections/docs/records", GUEST, form)
        .await;
    r.expect(200);
    let one = r.str("one").to_owned();
    assert!(
        one.starts_with("my_fancy_file_")
            && one.ends_with(".TXT")
            && one.len() == "my_fancy_file_".len() + 10 + 4,
        "{one}"
    );
    let many = names(&r.body["many"]);
    assert_eq!(many.len(), 2);
    assert!(many[0].starts_with("img_") && many[0].ends_with(".png"));
    let id = r.str("id").to_owned();
    let mut expected = vec![one.clone(), many[0].clone(), many[1].clone()];
    expected.sort();
    assert_eq!(
        app.stored(&cid, &id),
        expected,
        "files sit in <collectionId>/<recordId>/"
    );

    let d = app
        .download(&format!("/api/files/docs/{id}/{one}"), &[])
        .await;
    assert_eq!(d.status(), 200);
    assert_eq!(header(&d, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(header(&d, "content-length"), "11");
    // Text could be a page: it is downloaded, never rendered in the app's origin.
    assert!(header(&d, "content-disposition").starts_with("attachment;"));
    assert!(header(&d, "content-security-policy").contains("sandbox"));
    assert_eq!(header(&d, "x-content-type-options"), "nosniff");
    assert!(header(&d, "cache-control").contains("max-age"));
    assert_eq!(d.text().await.expect("body"), "hello world");

    // By collection id too (the SDK builds URLs with it), inline for images, forced download.
    let img = app
        .download(&format!("/api/files/{cid}/{id}/{}", many[0]), &[])
        .await;
    assert_eq!(header(&img, "content-type"), "image/png");
    assert!(header(&img, "content-disposition").starts_with("inline;"));
    let forced = app
        .download(&format!("/api/files/docs/{id}/{}?download=1", many[0]), &[])
        .await;
    assert!(header(&forced, "content-disposition").starts_with("attachment;"));

    for missing in [
        format!("/api/files/docs/{id}/nope.txt"),
        format!("/api/files/docs/nope/{one}"),
        format!("/api/files/nope/{id}/{one}"),
        format!("/api/files/docs/{id}/..%2F..%2Fdata.db"),
    ] {
        let r = app.download(&missing, &[]).await;
        assert_eq!(r.status(), 404, "{missing}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["message"], "The requested resource wasn't found.");
    }
}

#[tokio::test]
async fn limits_give_field_errors_and_store_nothing() {
    let app = spawn_app().await;
    let cid = docs(&app, "").await;
    let form = Form::new()
        .part("one", file("big.bin", vec![7u8; 2000]))
        .part("many", file("data.bin", vec![0u8, 1, 2, 0xff]));
    let r = app
        .multipart(Method::POST, "/api/collections/docs/records", GUEST, form)
        .await;
    r.expect(400);
    assert_eq!(field_code(&r, "one"), "validation_file_size_limit");
    assert_eq!(
        r.body["data"]["one"]["params"],
        json!({"file": "big.bin", "maxSize": 1000})
    );
    assert_eq!(field_code(&r, "many"), "validation_invalid_mime_type");
    let four = (0..4).fold(Form::new(), |f, i| {
        f.part("many", file(&format!("f{i}.png"), png(2, 2)))
    });
    let r = app
        .multipart(Method::POST, "/api/collections/docs/records", GUEST, four)
        .await;
    assert_eq!(field_code(&r, "many"), "validation_too_many_files");
    // Names not uploaded with the request are refused on create.
    let r = app
        .create_record("docs", json!({"many": ["bogus.png"]}), GUEST)
        .await;
    assert_eq!(field_code(&r, "many"), "validation_invalid_file");
    assert!(
        list_dir(&app.data_dir.join("storage").join(&cid)).is_empty(),
        "a failed write stores nothing"
    );
    assert!(
        list_dir(&app.data_dir.join(".uploads")).is_empty(),
        "staged uploads are removed"
    );
}

#[tokio::test]
async fn a_body_past_the_collections_file_allowance_is_413() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with_body_limit(dir.path(), 64 << 10).await;
    app.must_create_collection(json!({"name": "small", "type": "base", "createRule": "", "fields": [{"name": "f", "type": "file", "maxSize": 100000}]})).await;
    // The server-wide 64 KiB plus the field's 100 000 bytes: a 150 KB file fits the body...
    let ok = app
        .multipart(
            Method::POST,
            "/api/collections/small/records",
            GUEST,
            Form::new().part("f", file("a.bin", vec![1u8; 150_000])),
        )
        .await;
    assert_eq!(
        field_code(&ok, "f"),
        "validation_file_size_limit",
        "{}",
        ok.text
    );
    // ...a 400 KB one does not.
    let big = app
        .multipart(
            Method::POST,
            "/api/collections/small/records",
            GUEST,
            Form::new().part("f", file("a.bin", vec![1u8; 400_000])),
        )
        .await;
    assert_error(&big, 413, "Request entity too large.");
}

#[tokio::test]
async fn modifiers_keep_append_remove_and_replaced_files_are_deleted_after_commit() {
    let app = spawn_app().await;
    let cid = docs(&app, "").await;
    let form = Form::new()
        .part("many", file("a.png", png(4, 4)))
        .part("many", file("b.txt", "bee"));
    let r = app
        .multipart(Method::POST, "/api/collections/docs/records", GUEST, form)
        .await;
    r.expect(200);
    let id = r.str("id").to_owned();
    let first = names(&r.body["many"]);
    // The thumbnail of a.png exists, and must go with its file.
    let thumb = app
        .download(
            &format!("/api/files/docs/{id}/{}?thumb=50x50", first[0]),
            &[],
        )
        .await;
    assert_eq!(thumb.status(), 200);

    let r = app
        .multipart(
            Method::PATCH,
            &format!("/api/collections/docs/records/{id}"),
            GUEST,
            Form::new().part("many+", file("c.txt", "sea")),
        )
        .await;
    r.expect(200);
    let appended = names(&r.body["many"]);
    assert_eq!(appended.len(), 3);
    assert_eq!(appended[..2], first[..]);

    let r = app
        .update_record("docs", &id, json!({"many-": [first[0]]}), GUEST)
        .await;
    r.expect(200);
    assert_eq!(names(&r.body["many"]), appended[1..].to_vec());
    let stored = app.stored(&cid, &id);
    assert!(
        !stored.contains(&first[0]) && !stored.iter().any(|n| n.starts_with("thumbs_")),
        "removed file and its thumbs are deleted: {stored:?}"
    );

    // Kept names as form values plus a new part under the same key: exactly those stay.
    let form = Form::new()
        .text("many", appended[1].clone())
        .part("many", file("d.png", png(3, 3)));
    let r = app
        .multipart(
            Method::PATCH,
            &format!("/api/collections/docs/records/{id}"),
            GUEST,
            form,
        )
        .await;
    r.expect(200);
    let now = names(&r.body["many"]);
    assert_eq!(now.len(), 2);
    assert_eq!(now[0], appended[1]);
    let mut expected = now.clone();
    expected.sort();
    assert_eq!(app.stored(&cid, &id), expected, "the replaced file is gone");

    // A failing update (too many files) keeps the old files and stores none of the new.
    let form = (0..2).fold(Form::new(), |f, i| {
        f.part("many+", file(&format!("x{i}.png"), png(2, 2)))
    });
    let r = app
        .multipart(
            Method::PATCH,
            &format!("/api/collections/docs/records/{id}"),
            GUEST,
            form,
        )
        .await;
    assert_eq!(field_code(&r, "many"), "validation_too_many_files");
    assert_eq!(app.stored(&cid, &id), expected);

    // Clearing the field deletes the files; deleting the record deletes its folder.
    app.update_record("docs", &id, json!({"many": []}), GUEST)
        .await
        .expect(200);
    assert!(app.stored(&cid, &id).is_empty());
    let r = app
        .multipart(
            Method::PATCH,
            &format!("/api/collections/docs/records/{id}"),
            GUEST,
            Form::new().part("one", file("e.txt", "e")),
        )
        .await;
    r.expect(200);
    assert_eq!(app.stored(&cid, &id).len(), 1);
    app.delete_record("docs", &id, GUEST).await.expect(204);
    assert!(!app.data_dir.join("storage").join(&cid).join(&id).exists());
}

#[tokio::test]
async fn json_payload_and_batch_carry_files() {
    let app = spawn_app().await;
    let cid = docs(&app, "").await;
    let form = Form::new()
        .text("@jsonPayload", json!({"title": "via payload"}).to_string())
        .part("one", file("p.txt", "payload"));
    let r = app
        .multipart(Method::POST, "/api/collections/docs/records", GUEST, form)
        .await;
    r.expect(200);
    assert_eq!(r.str("title"), "via payload");
    assert!(r.str("one").starts_with("p"));

    app.enable_batch(10).await;
    let payload = json!({"requests": [
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "b1"}},
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "b2"}}
    ]});
    let form = Form::new()
        .text("@jsonPayload", payload.to_string())
        .part("requests.0.one", file("first.txt", "1"))
        .part("requests.1.many", file("second.png", png(2, 2)));
    let r = app.multipart(Method::POST, "/api/batch", GUEST, form).await;
    r.expect(200);
    let first = &r.body[0]["body"];
    let second = &r.body[1]["body"];
    assert!(
        first["one"].as_str().unwrap_or("").starts_with("first_"),
        "{}",
        r.text
    );
    assert_eq!(names(&second["many"]).len(), 1);
    assert_eq!(
        app.stored(&cid, first["id"].as_str().unwrap_or("")).len(),
        1
    );

    // A batch that fails stores none of its files.
    let payload = json!({"requests": [
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "ok"}},
        {"method": "POST", "url": "/api/collections/docs/records", "body": {"many": ["bogus.png"]}}
    ]});
    let before = list_dir(&app.data_dir.join("storage").join(&cid)).len();
    let form = Form::new()
        .text("@jsonPayload", payload.to_string())
        .part("requests.0.one", file("lost.txt", "x"));
    let r = app.multipart(Method::POST, "/api/batch", GUEST, form).await;
    r.expect(400);
    assert_eq!(
        list_dir(&app.data_dir.join("storage").join(&cid)).len(),
        before
    );
}

#[tokio::test]
async fn ranges_and_conditional_requests() {
    let app = spawn_app().await;
    docs(&app, "").await;
    let r = app
        .multipart(
            Method::POST,
            "/api/collections/docs/records",
            GUEST,
            Form::new().part("one", file("r.txt", "0123456789")),
        )
        .await;
    let path = format!("/api/files/docs/{}/{}", r.str("id"), r.str("one"));

    let part = app.download(&path, &[("Range", "bytes=2-4")]).await;
    assert_eq!(part.status(), 206);
    assert_eq!(header(&part, "content-range"), "bytes 2-4/10");
    assert_eq!(header(&part, "content-length"), "3");
    assert_eq!(part.text().await.expect("body"), "234");
    let tail = app.download(&path, &[("Range", "bytes=-3")]).await;
    assert_eq!(tail.text().await.expect("body"), "789");
    let open = app.download(&path, &[("Range", "bytes=7-")]).await;
    assert_eq!(open.text().await.expect("body"), "789");
    let beyond = app.download(&path, &[("Range", "bytes=50-60")]).await;
    assert_eq!(beyond.status(), 416);
    assert_eq!(header(&beyond, "content-range"), "bytes */10");

    let full = app.download(&path, &[]).await;
    let etag = header(&full, "etag");
    let modified = header(&full, "last-modified");
    assert!(etag.starts_with('"') && etag.len() > 2, "{etag}");
    assert_eq!(
        app.download(&path, &[("If-None-Match", &etag)])
            .await
            .status(),
        304
    );
    assert_eq!(
        app.download(&path, &[("If-None-Match", "\"other\"")])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.download(&path, &[("If-Modified-Since", &modified)])
            .await
            .status(),
        304
    );
    assert_eq!(
        app.download(
            &path,
            &[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")]
        )
        .await
        .status(),
        200
    );
    // A stale If-Range gets the whole file.
    let stale = app
        .download(&path, &[("Range", "bytes=0-0"), ("If-Range", "\"stale\"")])
        .await;
    assert_eq!(stale.status(), 200);
    assert_eq!(header(&stale, "content-length"), "10");
}

#[tokio::test]
async fn thumbnails_are_made_for_declared_sizes_once() {
    let app = spawn_app().await;
    let cid = docs(&app, "").await;
    let r = app
        .multipart(
            Method::POST,
            "/api/collections/docs/records",
            GUEST,
            Form::new().part("many", file("pic.png", png(200, 100))),
        )
        .await;
    let id = r.str("id").to_owned();
    let name = names(&r.body["many"])[0].clone();
    let path = format!("/api/files/docs/{id}/{name}");
    for (thumb, want) in [
        ("50x50", (50, 50)),
        ("20x0", (20, 10)),
        ("40x40t", (40, 40)),
        ("100x100", (100, 100)),
        ("30x30", (200, 100)),
    ] {
        let d = app.download(&format!("{path}?thumb={thumb}"), &[]).await;
        assert_eq!(d.status(), 200);
        let served = header(&d, "content-disposition");
        let img = image::load_from_memory(&d.bytes().await.expect("body")).expect("an image");
        assert_eq!((img.width(), img.height()), want, "{thumb}");
        if want != (200, 100) {
            assert!(served.contains(&format!("{thumb}_{name}")), "{served}");
        }
    }
    let thumbs = list_dir(
        &app.data_dir
            .join("storage")
            .join(&cid)
            .join(&id)
            .join(format!("thumbs_{name}")),
    );
    assert_eq!(thumbs.len(), 4, "undeclared sizes are not made: {thumbs:?}");
    // A thumbnail of something that is not an image is the original.
    let r = app
        .multipart(
            Method::POST,
            "/api/collections/docs/records",
            GUEST,
            Form::new().part("many", file("t.txt", "text")),
        )
        .await;
    let d = app
        .download(
            &format!(
                "/api/files/docs/{}/{}?thumb=50x50",
                r.str("id"),
                names(&r.body["many"])[0]
            ),
            &[],
        )
        .await;
    assert_eq!(d.text().await.expect("body"), "text");
}

#[tokio::test]
async fn protected_files_need_a_file_token_that_passes_the_view_rule() {
    let app = spawn_app().await;
    docs(&app, "@request.auth.id != ''").await;
    let user = app.create_user("reader@example.com").await;
    let r = app
        .multipart(
            Method::POST,
            "/api/collections/docs/records",
            GUEST,
            Form::new()
                .part("secret", file("s.txt", "secret"))
                .part("one", file("o.txt", "open")),
        )
        .await;
    r.expect(200);
    let (id, secret, open) = (
        r.str("id").to_owned(),
        r.str("secret").to_owned(),
        r.str("one").to_owned(),
    );

    assert_eq!(
        app.download(&format!("/api/files/docs/{id}/{open}"), &[])
            .await
            .status(),
        200,
        "unprotected files are public"
    );
    assert_eq!(
        app.download(&format!("/api/files/docs/{id}/{secret}"), &[])
            .await
            .status(),
        404
    );

    let guest = app
        .request(Method::POST, "/api/files/token", GUEST, None)
        .await;
    assert_error(
        &guest,
        401,
        "The request requires valid record authorization token.",
    );
    let token = app
        .request(Method::POST, "/api/files/token", &user.token, None)
        .await;
    token.expect(200);
    let file_token = token.str("token").to_owned();
    let d = app
        .download(
            &format!("/api/files/docs/{id}/{secret}?token={file_token}"),
            &[],
        )
        .await;
    assert_eq!(d.status(), 200);
    assert!(header(&d, "cache-control").starts_with("private"));
    assert_eq!(d.text().await.expect("body"), "secret");
    // An auth token is not a file token, and a tampered file token is nobody's.
    assert_eq!(
        app.download(
            &format!("/api/files/docs/{id}/{secret}?token={}", user.token),
            &[]
        )
        .await
        .status(),
        404
    );
    let tampered = format!("{}x", &file_token[..file_token.len() - 1]);
    assert_eq!(
        app.download(
            &format!("/api/files/docs/{id}/{secret}?token={tampered}"),
            &[]
        )
        .await
        .status(),
        404
    );
    let su_token = app
        .request(Method::POST, "/api/files/token", &app.superuser_token, None)
        .await;
    let d = app
        .download(
            &format!(
                "/api/files/docs/{id}/{secret}?token={}",
                su_token.str("token")
            ),
            &[],
        )
        .await;
    assert_eq!(d.status(), 200);

    // A public view rule needs no token.
    app.update_collection("docs", json!({"viewRule": ""}), &app.superuser_token)
        .await
        .expect(200);
    assert_eq!(
        app.download(&format!("/api/files/docs/{id}/{secret}"), &[])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_file_token_expires_and_dies_with_a_password_change() {
    let app = spawn_app().await;
    let users = app.view_collection("users", &app.superuser_token).await;
    let mut options = users.body.clone();
    options["fileToken"]["duration"] = json!(60);
    app.update_collection(
        "users",
        json!({"fileToken": options["fileToken"]}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    docs(&app, "@request.auth.id != ''").await;
    let user = app.create_user("short@example.com").await;
    let r = app
        .multipart(
            Method::POST,
            "/api/collections/docs/records",
            GUEST,
            Form::new().part("secret", file("s.txt", "s")),
        )
        .await;
    let path = format!("/api/files/docs/{}/{}", r.str("id"), r.str("secret"));
    let before_change = app.file_token(&user.token).await;
    assert_eq!(
        app.download(&format!("{path}?token={before_change}"), &[])
            .await
            .status(),
        200
    );
    let change = json!({"oldPassword": USER_PASSWORD, "password": "another-pass-1", "passwordConfirm": "another-pass-1"});
    app.update_record("users", &user.id, change, &user.token)
        .await
        .expect(200);
    assert_eq!(
        app.download(&format!("{path}?token={before_change}"), &[])
            .await
            .status(),
        404,
        "a new password ends older file tokens"
    );

    let auth = app
        .auth_with_password("users", &user.email, "another-pass-1")
        .await;
    let fresh = app.file_token(auth.str("token")).await;
    assert_eq!(
        app.download(&format!("{path}?token={fresh}"), &[])
            .await
            .status(),
        200
    );
    app.core.clock().advance(std::time::Duration::from_secs(61));
    assert_eq!(
        app.download(&format!("{path}?token={fresh}"), &[])
            .await
            .status(),
        404,
        "expired"
    );
}

/// A started moto S3 server, killed when dropped.
pub(crate) struct Moto {
    child: std::process::Child,
    pub(crate) endpoint: String,
}

impl Moto {
    /// Creates the bucket `name`.
    pub(crate) async fn create_bucket(&self, name: &str) {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let created = client
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(created.status().is_success(), "bucket {name} created");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto's S3 server on a free port: `OXBASE_TEST_MOTO` names its `moto_server`
/// (`scripts/test-all.sh` installs it), else `moto_server` on the PATH. Never skipped: a
/// machine without it fails here with the way to get it.
pub(crate) async fn start_moto() -> Moto {
    let bin = std::env::var("OXBASE_TEST_MOTO")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("moto_server"));
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let (child, port) = crate::helpers::start_on_free_port(
        "moto",
        |port| {
            std::process::Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {} ({e}): run scripts/test-all.sh, or pip install 'moto[server]' and set OXBASE_TEST_MOTO", bin.display()))
        },
        |port| {
            let client = client.clone();
            async move {
                client
                    .get(format!("http://127.0.0.1:{port}/moto-api/"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        },
    )
    .await;
    // Dropping the guard kills and waits for the child.
    Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    }
}

/// A client of the test bucket, independent of oxbase's own.
fn bucket_client(endpoint: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("oxbase-test")
        .with_region("us-east-1")
        .with_endpoint(endpoint)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_allow_http(true)
        .build()
        .expect("bucket client")
}

#[tokio::test]
async fn s3_storage_serves_the_same_api_and_the_settings_test_checks_it() {
    let moto = start_moto().await;
    moto.create_bucket("oxbase-test").await;
    let app = spawn_app().await;

    assert_eq!(
        field_code(&app.test_s3(json!({})).await, "filesystem"),
        "validation_required"
    );
    assert_error(
        &app.test_s3(json!({"filesystem": "storage"})).await,
        400,
        "Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled.",
    );
    let incomplete = app
        .update_settings(json!({"s3": {"enabled": true}}), &app.superuser_token)
        .await;
    incomplete.expect(400);
    assert_eq!(
        incomplete.body["data"]["s3"]["bucket"]["code"],
        "validation_required"
    );

    let s3 = json!({"enabled": true, "bucket": "oxbase-test", "region": "us-east-1", "endpoint": moto.endpoint, "accessKey": "test", "secret": "test", "forcePathStyle": true});
    app.update_settings(json!({"s3": s3}), &app.superuser_token)
        .await
        .expect(200);
    app.test_s3(json!({"filesystem": "storage"}))
        .await
        .expect(204);

    let cid = docs(&app, "").await;
    let big: Vec<u8> = (0..(9u32 << 20)).map(|i| (i % 253) as u8).collect();
    let form = Form::new()
        .part("many", file("pic.png", png(80, 40)))
        .part("secret", Part::bytes(big.clone()).file_name("big.bin"));
    app.update_collection(
        "docs",
        json!({"fields": [
            {"name": "title", "type": "text"},
            {"name": "many", "type": "file", "maxSelect": 3, "thumbs": ["10x10"]},
            {"name": "secret", "type": "file", "maxSize": 20 << 20}
        ]}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    let r = app
        .multipart(Method::POST, "/api/collections/docs/records", GUEST, form)
        .await;
    r.expect(200);
    let id = r.str("id").to_owned();
    let pic = names(&r.body["many"])[0].clone();
    let big_name = r.str("secret").to_owned();
    assert!(
        app.stored(&cid, &id).is_empty(),
        "nothing goes to the local folder"
    );

    // The bytes are in the bucket, under PocketBase's layout.
    let bucket = bucket_client(&moto.endpoint);
    let key = object_store::path::Path::from(format!("{cid}/{id}/{big_name}"));
    let in_bucket = bucket
        .get(&key)
        .await
        .expect("the object")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(in_bucket.len(), big.len(), "a multipart upload of 9 MiB");

    let d = app
        .download(
            &format!("/api/files/docs/{id}/{big_name}"),
            &[("Range", "bytes=1000-1009")],
        )
        .await;
    assert_eq!(d.status(), 206);
    assert_eq!(
        d.bytes().await.expect("body").to_vec(),
        big[1000..1010].to_vec()
    );
    let whole = app
        .download(&format!("/api/files/docs/{id}/{big_name}"), &[])
        .await;
    let etag = header(&whole, "etag");
    assert_eq!(whole.bytes().await.expect("body").len(), big.len());
    assert_eq!(
        app.download(
            &format!("/api/files/docs/{id}/{big_name}"),
            &[("If-None-Match", &etag)]
        )
        .await
        .status(),
        304
    );
    let thumb = app
        .download(&format!("/api/files/docs/{id}/{pic}?thumb=10x10"), &[])
        .await;
    let img = image::load_from_memory(&thumb.bytes().await.expect("thumb")).expect("image");
    assert_eq!((img.width(), img.height()), (10, 10));
    let thumb_key = object_store::path::Path::from(format!("{cid}/{id}/thumbs_{pic}/10x10_{pic}"));
    assert!(
        bucket.head(&thumb_key).await.is_ok(),
        "the thumbnail is cached in the bucket"
    );

    app.delete_record("docs", &id, GUEST).await.expect(204);
    assert!(
        matches!(
            bucket.head(&key).await,
            Err(object_store::Error::NotFound { .. })
        ),
        "deleted with its record"
    );
    assert!(matches!(
        bucket.head(&thumb_key).await,
        Err(object_store::Error::NotFound { .. })
    ));

    // Wrong credentials or bucket fail the test with the storage's own error.
    let mut wrong = s3.clone();
    wrong["bucket"] = json!("missing-bucket");
    app.update_settings(json!({"s3": wrong}), &app.superuser_token)
        .await
        .expect(200);
    let failed = app.test_s3(json!({"filesystem": "storage"})).await;
    failed.expect(400);
    assert!(
        failed
            .str("message")
            .starts_with("Failed to test the S3 filesystem. Raw error: "),
        "{}",
        failed.text
    );
}

#[tokio::test]
async fn deleting_or_truncating_a_collection_deletes_its_files() {
    let app = spawn_app().await;
    let cid = docs(&app, "").await;
    for name in ["a.txt", "b.txt"] {
        app.multipart(
            Method::POST,
            "/api/collections/docs/records",
            GUEST,
            Form::new().part("one", file(name, "x")),
        )
        .await
        .expect(200);
    }
    let folder = app.data_dir.join("storage").join(&cid);
    assert_eq!(list_dir(&folder).len(), 2);
    app.truncate_collection("docs", &app.superuser_token)
        .await
        .expect(204);
    assert!(
        list_dir(&folder).is_empty(),
        "truncate deletes every record's files"
    );
    app.multipart(
        Method::POST,
        "/api/collections/docs/records",
        GUEST,
        Form::new().part("one", file("c.txt", "x")),
    )
    .await
    .expect(200);
    app.delete_collection("docs", &app.superuser_token)
        .await
        .expect(204);
    assert!(!folder.exists(), "the collection's folder goes with it");
}
