//! Several instances on one PostgreSQL database behave as one server (issue #7): a write on
//! one reaches realtime subscribers of another, and collection and settings changes made on
//! one are seen by the others. These tests need PostgreSQL: the test command runs them in its
//! PostgreSQL pass (`OXBASE_TEST_DATABASE_URL`); on SQLite there is one server and nothing
//! to relay.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

/// Polls `check` until it holds, for at most 5 s (the relay is asynchronous, but fast).
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    crate::helpers::eventually(what, Duration::from_secs(5), check).await;
}

#[tokio::test]
async fn a_write_on_one_instance_reaches_subscribers_of_another() {
    let a = spawn_app().await;
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    a.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}]),
    ))
    .await;
    eventually("the collection on b", || async {
        b.view_collection("notes", &b.superuser_token).await.status == 200
    })
    .await;

    let mut sse = b.subscribed(&["notes/*"], GUEST).await;
    let created = a
        .create_record("notes", json!({"title": "from a"}), GUEST)
        .await;
    created.expect(200);
    let event = sse.expect_event().await;
    assert_eq!(event.event, "notes/*");
    assert_eq!(event.json()["action"], "create");
    assert_eq!(event.json()["record"]["title"], "from a");
    assert_eq!(event.record_id(), created.str("id"));

    let id = created.str("id").to_owned();
    a.update_record("notes", &id, json!({"title": "changed on a"}), GUEST)
        .await
        .expect(200);
    let event = sse.expect_event().await;
    assert_eq!(event.json()["action"], "update");
    assert_eq!(event.json()["record"]["title"], "changed on a");
    a.delete_record("notes", &id, GUEST).await.expect(204);
    assert_eq!(sse.expect_event().await.json()["action"], "delete");
}

#[tokio::test]
async fn rules_are_checked_on_the_delivering_instance_and_large_records_travel_too() {
    let a = spawn_app().await;
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    a.must_create_collection(json!({"name": "private", "listRule": "@request.auth.id != ''", "viewRule": "@request.auth.id != ''", "createRule": "", "fields": [{"name": "body", "type": "editor"}]})).await;
    eventually("the collection on b", || async {
        b.view_collection("private", &b.superuser_token)
            .await
            .status
            == 200
    })
    .await;
    let user = b.create_user("reader@example.com").await;
    let mut guest = b.subscribed(&["private/*"], GUEST).await;
    let mut member = b.subscribed(&["private/*"], &user.token).await;
    // Over PostgreSQL's 8000-byte NOTIFY limit: it travels through `_events`.
    let body = "x".repeat(20_000);
    let created = a
        .create_record("private", json!({"body": body}), GUEST)
        .await;
    created.expect(200);
    let event = member.expect_event().await;
    assert_eq!(
        event.json()["record"]["body"].as_str().map(str::len),
        Some(20_000)
    );
    // The guest gets nothing: the next thing it sees is nothing at all.
    if let SseNext::Event(e) = guest.next(Duration::from_millis(500)).await {
        panic!("a guest received {e:?}");
    }
}

#[tokio::test]
async fn collection_and_settings_changes_on_one_instance_are_seen_by_the_others() {
    let a = spawn_app().await;
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    let Some(c) = a.spawn_peer().await else {
        return;
    };
    a.must_create_collection(public_collection(
        "items",
        json!([{"name": "name", "type": "text"}]),
    ))
    .await;
    for peer in [&b, &c] {
        eventually("the new collection", || async {
            peer.create_record("items", json!({"name": "x"}), GUEST)
                .await
                .status
                == 200
        })
        .await;
    }
    a.update_collection("items", json!({"createRule": null}), &a.superuser_token)
        .await
        .expect(200);
    eventually("the changed rule", || async {
        c.create_record("items", json!({"name": "y"}), GUEST)
            .await
            .status
            == 403
    })
    .await;

    a.update_settings(json!({"meta": {"appName": "Shared"}}), &a.superuser_token)
        .await
        .expect(200);
    eventually("the settings", || async {
        let s = b.get_settings(&b.superuser_token).await;
        s.body["meta"]["appName"] == "Shared"
    })
    .await;

    // A password change on one instance ends the old token on the others at once.
    let user = a.create_user("moving@example.com").await;
    b.auth_refresh("users", &user.token).await.expect(200);
    let change = json!({"oldPassword": USER_PASSWORD, "password": "another-pass-1", "passwordConfirm": "another-pass-1"});
    a.update_record("users", &user.id, change, &user.token)
        .await
        .expect(200);
    eventually("the old token refused on b", || async {
        b.auth_refresh("users", &user.token).await.status == 401
    })
    .await;
}

/// Behind a load balancer, consecutive requests of one client reach different instances: a
/// collection created through one is usable through the next at once, before the relay tells
/// it (which takes milliseconds): a miss there reloads the definitions from the database.
#[tokio::test]
async fn a_collection_created_through_one_instance_is_usable_through_another_at_once() {
    let a = spawn_app().await;
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    for i in 0..10 {
        let parent = a
            .must_create_collection(public_collection(
                &format!("parents{i}"),
                json!([{"name": "name", "type": "text"}]),
            ))
            .await;
        // Straight away on the other instance: a relation to it, then a record of each.
        b.must_create_collection(public_collection(
            &format!("children{i}"),
            json!([{"name": "parent", "type": "relation", "collectionId": parent["id"], "maxSelect": 1}]),
        ))
        .await;
        let p = a
            .create_record(&format!("children{i}"), json!({}), GUEST)
            .await;
        p.expect(200);
        let made = b
            .create_record(&format!("parents{i}"), json!({"name": "p"}), GUEST)
            .await;
        made.expect(200);
    }
}

#[tokio::test]
async fn instances_relaying_over_redis_share_their_rate_limit_counters() {
    let url =
        std::env::var("OXBASE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let Some(a) = spawn_app_with_pubsub(&url).await else {
        return;
    };
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    let limits = json!({"rateLimits": {"enabled": true, "rules": [{"label": "/api/health", "audience": "", "maxRequests": 3, "duration": 60}]}});
    a.update_settings(limits, &a.superuser_token)
        .await
        .expect(200);
    eventually("the limits on b", || async {
        b.get_settings(&b.superuser_token).await.body["rateLimits"]["enabled"] == Value::Bool(true)
    })
    .await;
    a.health().await.expect(200);
    a.health().await.expect(200);
    b.health().await.expect(200);
    // The fourth request within the window, whichever instance gets it, is over the budget.
    assert_error(&b.health().await, 429, "Too Many Requests.");
    assert_error(&a.health().await, 429, "Too Many Requests.");
}

/// Two instances relaying over the bus at `url`: a collection made on one appears on the
/// other, and a write on one reaches a subscriber of the other.
async fn relays_over(url: &str) {
    let Some(a) = spawn_app_with_pubsub(url).await else {
        return;
    };
    let Some(b) = a.spawn_peer().await else {
        return;
    };
    a.must_create_collection(public_collection(
        "notes",
        json!([{"name": "title", "type": "text"}]),
    ))
    .await;
    eventually("the collection on b", || async {
        b.view_collection("notes", &b.superuser_token).await.status == 200
    })
    .await;
    let mut sse = b.subscribed(&["notes/*"], GUEST).await;
    let created = a
        .create_record("notes", json!({"title": format!("over {url}")}), GUEST)
        .await;
    created.expect(200);
    assert_eq!(
        sse.expect_event().await.json()["record"]["title"],
        format!("over {url}")
    );
}

#[tokio::test]
async fn instances_can_relay_over_redis_instead() {
    relays_over(
        &std::env::var("OXBASE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
    )
    .await;
}

#[tokio::test]
async fn instances_can_relay_over_nats_instead() {
    relays_over(
        &std::env::var("OXBASE_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
    )
    .await;
}
