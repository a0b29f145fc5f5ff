//! `expand`: single, multiple, nested, back-relations, and the related collection's view rule.

use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, spawn_app};

/// teams <- authors <- posts <- comments, plus a superusers-only `private_notes`.
struct Fixture {
    app: TestApp,
    team: Value,
    ann: Value,
    post: String,
    post2: String,
    note: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let teams = app.must_create_collection(json!({"name": "teams", "listRule": "", "viewRule": "", "fields": [{"name": "name", "type": "text"}]})).await;
    let authors = app
        .must_create_collection(json!({
            "name": "authors", "listRule": "", "viewRule": "",
            "fields": [{"name": "name", "type": "text"}, {"name": "team", "type": "relation", "collectionId": teams["id"], "maxSelect": 1}],
        }))
        .await;
    let notes = app
        .must_create_collection(
            json!({"name": "private_notes", "fields": [{"name": "text", "type": "text"}]}),
        )
        .await;
    let posts = app
        .must_create_collection(json!({
            "name": "posts", "listRule": "", "viewRule": "",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1},
                {"name": "editors", "type": "relation", "collectionId": authors["id"], "maxSelect": 5},
                {"name": "note", "type": "relation", "collectionId": notes["id"], "maxSelect": 1},
            ],
        }))
        .await;
    app.must_create_collection(json!({
        "name": "comments", "listRule": "", "viewRule": "",
        "fields": [{"name": "text", "type": "text"}, {"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1}],
    }))
    .await;
    let team = app
        .must_create_record("teams", json!({"name": "Red"}))
        .await;
    let ann = app
        .must_create_record("authors", json!({"name": "Ann", "team": team["id"]}))
        .await;
    let bob = app
        .must_create_record("authors", json!({"name": "Bob"}))
        .await;
    let note = app
        .must_create_record("private_notes", json!({"text": "top secret"}))
        .await;
    let post = app
        .must_create_record("posts", json!({"title": "P1", "author": ann["id"], "editors": [bob["id"], ann["id"]], "note": note["id"]}))
        .await;
    let post2 = app
        .must_create_record("posts", json!({"title": "P2", "author": bob["id"]}))
        .await;
    app.must_create_record("comments", json!({"text": "first", "post": post["id"]}))
        .await;
    app.must_create_record("comments", json!({"text": "second", "post": post["id"]}))
        .await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
    Fixture {
        post: id(&post),
        post2: id(&post2),
        note: id(&note),
        team,
        ann,
        app,
    }
}

impl Fixture {
    async fn view(&self, id: &str, expand: &str) -> Value {
        let r = self
            .app
            .view_record("posts", id, &[("expand", expand)], GUEST)
            .await;
        r.expect(200);
        r.body
    }
}

#[tokio::test]
async fn without_expand_there_is_no_expand_key() {
    let f = fixture().await;
    let r = f.app.view_record("posts", &f.post, &[], GUEST).await;
    assert!(r.body.get("expand").is_none(), "{}", r.text);
    assert_eq!(r.body["author"], f.ann["id"]);
}

#[tokio::test]
async fn a_single_relation_expands_to_the_full_record() {
    let f = fixture().await;
    let r = f.view(&f.post, "author").await;
    assert_eq!(
        r["expand"]["author"],
        json!({"collectionId": f.ann["collectionId"], "collectionName": "authors", "id": f.ann["id"], "name": "Ann", "team": f.team["id"]})
    );
    assert_eq!(r["author"], f.ann["id"], "the relation keeps its id");
}

#[tokio::test]
async fn a_multiple_relation_expands_to_an_array_in_stored_order() {
    let f = fixture().await;
    let r = f.view(&f.post, "editors").await;
    let names: Vec<&str> = r["expand"]["editors"]
        .as_array()
        .expect("array")
        .iter()
        .map(|x| x["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["Bob", "Ann"]);
}

#[tokio::test]
async fn nested_and_several_relations_expand_together() {
    let f = fixture().await;
    let r = f.view(&f.post, "author.team,editors").await;
    assert_eq!(r["expand"]["author"]["name"], "Ann");
    assert_eq!(
        r["expand"]["author"]["expand"],
        json!({"team": {"collectionId": f.team["collectionId"], "collectionName": "teams", "id": f.team["id"], "name": "Red"}})
    );
    assert_eq!(r["expand"]["editors"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn expand_is_an_empty_object_when_nothing_resolves() {
    let f = fixture().await;
    let r = f.view(&f.post2, "editors,author.team").await;
    let keys: Vec<&String> = r["expand"]
        .as_object()
        .expect("expand object")
        .keys()
        .collect();
    assert_eq!(keys, ["author"]);
    assert_eq!(
        r["expand"]["author"]["expand"],
        json!({}),
        "Bob has no team"
    );
    let bare = f
        .app
        .must_create_record("posts", json!({"title": "bare"}))
        .await;
    let b = f
        .view(bare["id"].as_str().expect("id"), "author,editors")
        .await;
    assert_eq!(b["expand"], json!({}));
}

#[tokio::test]
async fn a_back_relation_expands_to_an_array() {
    let f = fixture().await;
    let r = f.view(&f.post, "comments_via_post").await;
    let mut texts: Vec<&str> = r["expand"]["comments_via_post"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["text"].as_str().unwrap_or(""))
        .collect();
    texts.sort_unstable();
    assert_eq!(texts, ["first", "second"]);
    assert_eq!(
        r["expand"]["comments_via_post"][0]["collectionName"],
        "comments"
    );
    let r2 = f.view(&f.post2, "comments_via_post").await;
    assert!(r2["expand"].get("comments_via_post").is_none(), "{r2}");
}

/// PocketBase 0.40.6: a back-relation through a field with a single-column unique index
/// holds one record at most, so it expands to an object.
#[tokio::test]
async fn a_back_relation_through_a_unique_field_expands_to_one_record() {
    let f = fixture().await;
    let posts_id = f.app.collection_id("posts").await;
    f.app
        .must_create_collection(json!({
            "name": "summaries", "listRule": "", "viewRule": "",
            "fields": [{"name": "text", "type": "text"}, {"name": "post", "type": "relation", "collectionId": posts_id, "maxSelect": 1}],
            "indexes": ["CREATE UNIQUE INDEX idx_summaries_post ON summaries (post)"],
        }))
        .await;
    f.app
        .must_create_record("summaries", json!({"text": "short", "post": f.post2}))
        .await;
    let r = f.view(&f.post2, "summaries_via_post").await;
    assert_eq!(r["expand"]["summaries_via_post"]["text"], "short", "{r}");
}

#[tokio::test]
async fn expand_works_on_every_list_item_and_from_comment_to_post_author() {
    let f = fixture().await;
    let list = f
        .app
        .list_records(
            "posts",
            &[("expand", "author.team"), ("sort", "title")],
            GUEST,
        )
        .await;
    let names: Vec<Value> = list
        .items()
        .iter()
        .map(|p| p["expand"]["author"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("Ann"), json!("Bob")]);
    assert_eq!(
        list.items()[0]["expand"]["author"]["expand"]["team"]["name"],
        "Red"
    );
    let c = f
        .app
        .list_records(
            "comments",
            &[("filter", "text = 'first'"), ("expand", "post.author")],
            GUEST,
        )
        .await;
    let first = &c.items()[0];
    assert_eq!(first["expand"]["post"]["title"], "P1");
    assert_eq!(first["expand"]["post"]["expand"]["author"]["name"], "Ann");
}

#[tokio::test]
async fn expand_respects_the_related_view_rule() {
    let f = fixture().await;
    let g = f.view(&f.post, "note,author").await;
    assert_eq!(
        g["note"],
        f.note.as_str(),
        "the relation id itself is still returned"
    );
    assert!(
        g["expand"].get("note").is_none(),
        "a non-viewable relation is left out: {g}"
    );
    assert_eq!(g["expand"]["author"]["name"], "Ann");
    let s = f
        .app
        .view_record(
            "posts",
            &f.post,
            &[("expand", "note")],
            &f.app.superuser_token,
        )
        .await;
    assert_eq!(s.body["expand"]["note"]["text"], "top secret");
}

#[tokio::test]
async fn an_unknown_expand_path_is_ignored_and_leaves_no_expand_key() {
    let f = fixture().await;
    let r = f.view(&f.post, "nosuchfield").await;
    assert_eq!(r["title"], "P1");
    assert!(r.get("expand").is_none(), "{r}");
    let r = f.view(&f.post, "author,nosuchfield").await;
    assert_eq!(r["expand"]["author"]["name"], "Ann");
}

/// PocketBase 0.40.6 expands path by path, each all or nothing: a segment naming no relation
/// drops its whole path, and a path that a longer one continues goes with the longer one.
#[tokio::test]
async fn a_path_with_an_unknown_segment_expands_nothing_of_that_path() {
    let f = fixture().await;
    for expand in [
        "author.nope",
        "author,author.nope",
        "author.name",
        "title",
        "comments_via_post.nope",
        "nope_via_post",
        "comments_via_nope",
    ] {
        let r = f.view(&f.post, expand).await;
        assert!(r.get("expand").is_none(), "expand={expand}: {r}");
    }
    let r = f.view(&f.post, "editors,author.nope").await;
    let keys: Vec<&String> = r["expand"]
        .as_object()
        .expect("expand object")
        .keys()
        .collect();
    assert_eq!(keys, ["editors"]);
    let r = f
        .view(&f.post, "comments_via_post.post,comments_via_post.nope")
        .await;
    assert_eq!(
        r["expand"]["comments_via_post"][0]["expand"]["post"]["title"],
        "P1"
    );
    assert!(
        r["expand"]["comments_via_post"][0]["expand"]
            .get("nope")
            .is_none()
    );
    // Spaces go and stray dots are trimmed, as in PocketBase.
    let r = f.view(&f.post, " au thor. ").await;
    assert_eq!(r["expand"]["author"]["name"], "Ann");
    // Nothing to expand at a level means nothing to check there.
    let r = f.view(&f.post2, "editors.nope").await;
    assert_eq!(r["expand"], json!({}), "{r}");
}

#[tokio::test]
async fn create_and_update_responses_honour_expand() {
    let f = fixture().await;
    let su = &f.app.superuser_token;
    let c = f
        .app
        .request(
            reqwest::Method::POST,
            "/api/collections/posts/records?expand=author",
            su,
            Some(&json!({"title": "P3", "author": f.ann["id"]})),
        )
        .await;
    c.expect(200);
    assert_eq!(c.body["expand"]["author"]["name"], "Ann");
    let path = format!(
        "/api/collections/posts/records/{}?expand=author.team",
        c.str("id")
    );
    let u = f
        .app
        .request(
            reqwest::Method::PATCH,
            &path,
            su,
            Some(&json!({"title": "P3b"})),
        )
        .await;
    assert_eq!(u.body["expand"]["author"]["expand"]["team"]["name"], "Red");
}
