//! The chat schema and data every server gets, identical down to the record ids.
//!
//! users (the default auth collection) — 100; rooms — 20; members (user, room) — 1000, each user
//! in the 10 rooms of its own parity; messages (room, author, text, created) — `--messages`, each
//! written by a member of its room. Record ids are fixed here so that every server holds the same
//! rows and every workload asks for the same ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use hyper::Method;
use serde_json::{Value, json};

use crate::client::{Http, Req};
use crate::server::{SU_EMAIL, SU_PASSWORD};

pub const USERS: usize = 100;
pub const ROOMS: usize = 20;
pub const ROOMS_PER_USER: usize = 10;
pub const USER_PASSWORD: &str = "user-password-123";

/// The createRule under test: the author must be the caller and a member of the message's room,
/// both conditions on the same `members` row.
pub const MEMBERSHIP_RULE: &str = "@request.auth.id != '' && author = @request.auth.id && @collection.members.user ?= @request.auth.id && @collection.members.room ?= room";
pub const AUTHED_RULE: &str = "@request.auth.id != ''";
pub const AUTHOR_RULE: &str = "@request.auth.id != '' && author = @request.auth.id";

pub struct User {
    pub id: String,
    pub email: String,
    pub token: String,
    /// Rooms this user is a member of.
    pub rooms: Vec<String>,
    /// Seeded messages this user wrote.
    pub messages: Vec<String>,
}

/// What the workloads need to know about the seeded data.
pub struct Fixture {
    pub users: Vec<User>,
    pub rooms: Vec<String>,
    pub messages: Vec<String>,
    /// Messages in each room (same order as `rooms`) before the write workloads run: what the
    /// list workloads' pages and totals are checked against.
    pub room_counts: Vec<usize>,
}

impl Fixture {
    /// The messages of room `room` the read workloads see.
    pub fn room_messages(&self, room: &str) -> usize {
        self.rooms
            .iter()
            .position(|r| r == room)
            .map_or(0, |i| self.room_counts[i])
    }
}

pub fn user_id(i: usize) -> String {
    format!("u{i:014}")
}
pub fn room_id(i: usize) -> String {
    format!("r{i:014}")
}
fn member_id(i: usize) -> String {
    format!("m{i:014}")
}
fn message_id(i: usize) -> String {
    format!("x{i:014}")
}
fn user_rooms(u: usize) -> Vec<usize> {
    (0..ROOMS_PER_USER).map(|k| (u + 2 * k) % ROOMS).collect()
}

/// Sends every request with `concurrency` in flight; fails on the first non-2xx.
pub async fn send_all(http: &Http, reqs: Vec<Req>, concurrency: usize) -> Result<Vec<Value>> {
    let reqs = Arc::new(reqs);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (http, reqs, next) = (http.clone(), reqs.clone(), next.clone());
        tasks.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(req) = reqs.get(i) else {
                    return Ok::<_, anyhow::Error>(out);
                };
                out.push((i, http.json(req).await?));
            }
        });
    }
    let mut all = Vec::with_capacity(reqs.len());
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

pub async fn token(
    http: &Http,
    collection: &str,
    identity: &str,
    password: &str,
) -> Result<String> {
    let body = json!({"identity": identity, "password": password});
    let path = format!("/api/collections/{collection}/auth-with-password");
    let v = http
        .json(&Req::json(Method::POST, path, None, &body))
        .await?;
    v["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no token in auth response: {v}"))
}

/// Turns the request log on (PocketBase's default, 5 days), to errors only (`minLevel` 8) or
/// off (`maxDays` 0).
pub async fn set_request_log(http: &Http, logs: crate::cli::Logs) -> Result<()> {
    let su = token(http, "_superusers", SU_EMAIL, SU_PASSWORD)
        .await
        .context("superuser login")?;
    let (days, min_level) = match logs {
        crate::cli::Logs::On => (5, 0),
        crate::cli::Logs::Errors => (5, 8),
        crate::cli::Logs::Off => (0, 0),
    };
    let body = json!({"logs": {"maxDays": days, "minLevel": min_level}});
    let v = http
        .json(&Req::json(Method::PATCH, "/api/settings", Some(&su), &body))
        .await?;
    if v["logs"]["maxDays"] != days {
        bail!("the logs settings were not saved: {v}");
    }
    Ok(())
}

async fn create_collection(http: &Http, su: &str, body: Value) -> Result<String> {
    let v = http
        .json(&Req::json(
            Method::POST,
            "/api/collections",
            Some(su),
            &body,
        ))
        .await?;
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no id in collection response: {v}"))
}

fn relation(name: &str, collection_id: &str) -> Value {
    json!({"name": name, "type": "relation", "collectionId": collection_id, "maxSelect": 1, "required": true})
}

/// Creates the schema and data, fetches a token per user and checks the membership rule.
pub async fn seed(http: &Http, messages: usize) -> Result<Fixture> {
    let su = token(http, "_superusers", SU_EMAIL, SU_PASSWORD)
        .await
        .context("superuser login")?;
    let users_col = http
        .json(&Req::get("/api/collections/users", Some(&su)))
        .await?;
    let users_id = users_col["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no users collection"))?
        .to_owned();

    let rooms_id = create_collection(
        http,
        &su,
        json!({"name": "rooms", "type": "base", "listRule": AUTHED_RULE, "viewRule": AUTHED_RULE,
               "fields": [{"name": "name", "type": "text"}]}),
    )
    .await?;
    create_collection(
        http,
        &su,
        json!({"name": "members", "type": "base", "listRule": AUTHED_RULE, "viewRule": AUTHED_RULE,
               "fields": [relation("user", &users_id), relation("room", &rooms_id)],
               "indexes": ["CREATE UNIQUE INDEX idx_members_user_room ON members (user, room)",
                           "CREATE INDEX idx_members_room ON members (room)"]}),
    )
    .await?;
    create_collection(
        http,
        &su,
        json!({"name": "messages", "type": "base",
               "listRule": AUTHED_RULE, "viewRule": AUTHED_RULE,
               "createRule": MEMBERSHIP_RULE, "updateRule": AUTHOR_RULE, "deleteRule": AUTHOR_RULE,
               "fields": [relation("room", &rooms_id), relation("author", &users_id),
                          {"name": "text", "type": "text"},
                          {"name": "created", "type": "autodate", "onCreate": true, "onUpdate": false},
                          {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}],
               "indexes": ["CREATE INDEX idx_messages_room_created ON messages (room, created)",
                           "CREATE INDEX idx_messages_author ON messages (author)"]}),
    )
    .await?;

    let post = |coll: &str, body: Value| {
        Req::json(
            Method::POST,
            format!("/api/collections/{coll}/records"),
            Some(&su),
            &body,
        )
    };
    let users: Vec<Req> = (0..USERS)
        .map(|u| {
            post("users", json!({"id": user_id(u), "email": format!("user{u}@example.com"), "name": format!("User {u}"),
                                 "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD}))
        })
        .collect();
    send_all(http, users, 4).await.context("seeding users")?;
    let rooms: Vec<Req> = (0..ROOMS)
        .map(|r| {
            post(
                "rooms",
                json!({"id": room_id(r), "name": format!("Room {r}")}),
            )
        })
        .collect();
    send_all(http, rooms, 8).await.context("seeding rooms")?;
    let members: Vec<Req> = (0..USERS)
        .flat_map(|u| user_rooms(u).into_iter().map(move |r| (u, r)))
        .enumerate()
        .map(|(i, (u, r))| {
            post(
                "members",
                json!({"id": member_id(i), "user": user_id(u), "room": room_id(r)}),
            )
        })
        .collect();
    send_all(http, members, 16)
        .await
        .context("seeding members")?;
    let msgs: Vec<Req> = (0..messages)
        .map(|j| {
            let u = j % USERS;
            let r = user_rooms(u)[(j / USERS) % ROOMS_PER_USER];
            post("messages", json!({"id": message_id(j), "room": room_id(r), "author": user_id(u),
                                    "text": format!("seeded message {j} with a few words of text")}))
        })
        .collect();
    send_all(http, msgs, 16).await.context("seeding messages")?;

    let mut fixture = Fixture {
        users: Vec::new(),
        rooms: (0..ROOMS).map(room_id).collect(),
        messages: (0..messages).map(message_id).collect(),
        room_counts: vec![0; ROOMS],
    };
    for j in 0..messages {
        fixture.room_counts[user_rooms(j % USERS)[(j / USERS) % ROOMS_PER_USER]] += 1;
    }
    for u in 0..USERS {
        let email = format!("user{u}@example.com");
        fixture.users.push(User {
            id: user_id(u),
            token: String::new(),
            rooms: user_rooms(u).into_iter().map(room_id).collect(),
            messages: (u..messages).step_by(USERS).map(message_id).collect(),
            email,
        });
    }
    let logins: Vec<Req> = fixture
        .users
        .iter()
        .map(|u| {
            let body = json!({"identity": u.email, "password": USER_PASSWORD});
            Req::json(
                Method::POST,
                "/api/collections/users/auth-with-password",
                None,
                &body,
            )
        })
        .collect();
    let tokens = send_all(http, logins, 4).await.context("user logins")?;
    for (user, t) in fixture.users.iter_mut().zip(tokens) {
        user.token = t["token"]
            .as_str()
            .ok_or_else(|| anyhow!("no token: {t}"))?
            .to_owned();
    }
    check_membership_rule(http, &fixture).await?;
    // The rule check's one allowed post, to room 0.
    fixture.room_counts[0] += 1;
    Ok(fixture)
}

/// The createRule must mean "a `members` row with this user AND this room", not two independent
/// rows: user 0 is a member of the even rooms only, room 1 has (odd) members, so user 0 posting
/// to room 1 must be refused.
async fn check_membership_rule(http: &Http, f: &Fixture) -> Result<()> {
    let (u0, u1) = (&f.users[0], &f.users[1]);
    let try_create = |token: Option<&str>, room: &str, author: &str| {
        let body = json!({"room": room, "author": author, "text": "rule check"});
        Req::json(
            Method::POST,
            "/api/collections/messages/records",
            token,
            &body,
        )
    };
    let cases = [
        (
            "member posts to own room",
            try_create(Some(&u0.token), &f.rooms[0], &u0.id),
            true,
        ),
        (
            "member of other rooms posts to a room it is not in",
            try_create(Some(&u0.token), &f.rooms[1], &u0.id),
            false,
        ),
        (
            "member posts as another author",
            try_create(Some(&u0.token), &f.rooms[0], &u1.id),
            false,
        ),
        (
            "anonymous post",
            try_create(None, &f.rooms[0], &u0.id),
            false,
        ),
    ];
    for (what, req, allowed) in cases {
        let (status, body) = http.send(&req, std::time::Duration::from_secs(30)).await?;
        let ok = (200..300).contains(&status);
        if ok != allowed {
            bail!(
                "createRule semantics: {what}: expected {}, got {status}: {}",
                if allowed { "2xx" } else { "a refusal" },
                String::from_utf8_lossy(&body)
            );
        }
    }
    Ok(())
}
