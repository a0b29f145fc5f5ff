//! API rules as a scenario table: rule × identity × action → status (and, for lists, the
//! rows seen). Rules are those PocketBase documents: null (superusers only), "" (public),
//! `@request.auth.id != ''`, owner rules, `@request.body` in create and update rules, and
//! `@collection` membership rules whose conditions must hold for the same joined row.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, TestUser, spawn_app};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Guest,
    A,
    B,
    Su,
}

/// The record an action targets: a fresh record made for the scenario, owned by someone.
#[derive(Clone, Copy, Debug)]
enum Target {
    OwnedBy(Who),
    Missing,
}

/// What a create or update sends.
#[derive(Clone, Copy, Debug)]
enum Send {
    Title(&'static str),
    /// `{"title": ..., "owner": <id of who>}`
    OwnedBy(Who),
}

#[derive(Clone, Copy, Debug)]
enum Action {
    /// Expected rows, by fixture label.
    List(&'static [&'static str]),
    View(Target),
    Create(Send),
    Update(Target, Send),
    Delete(Target),
}

struct Scenario {
    coll: &'static str,
    who: Who,
    action: Action,
    status: u16,
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {:?} on `{}` expects {}",
            self.who, self.action, self.coll, self.status
        )
    }
}

const fn s(coll: &'static str, who: Who, action: Action, status: u16) -> Scenario {
    Scenario {
        coll,
        who,
        action,
        status,
    }
}

use Action::{Create, Delete, List, Update, View};
use Target::{Missing, OwnedBy};
use Who::{A, B, Guest, Su};

const TITLE: Send = Send::Title("changed");

/// The fixture's collections and their rules.
async fn collections(app: &TestApp) {
    let users = app.collection_id("users").await;
    let owner_field =
        json!({"name": "owner", "type": "relation", "collectionId": users, "maxSelect": 1});
    let title = json!({"name": "title", "type": "text"});
    let all = |rule: Value| json!({"listRule": rule, "viewRule": rule, "createRule": rule, "updateRule": rule, "deleteRule": rule});
    let mut specs = vec![
        ("locked", all(Value::Null)),
        ("open", all(json!(""))),
        ("authonly", all(json!("@request.auth.id != ''"))),
        (
            "owned",
            json!({
                "listRule": "owner = @request.auth.id",
                "viewRule": "owner = @request.auth.id",
                "createRule": "@request.auth.id != '' && @request.body.owner = @request.auth.id",
                "updateRule": "owner = @request.auth.id && @request.body.title != 'forbidden'",
                "deleteRule": "owner = @request.auth.id",
            }),
        ),
        ("members", all(Value::Null)),
    ];
    let admin_row =
        "@collection.members.user ?= @request.auth.id && @collection.members.role ?= 'admin'";
    specs.push((
        "club",
        json!({
            "listRule": "@request.auth.id != '' && @collection.members.user ?= @request.auth.id",
            "viewRule": admin_row, "createRule": admin_row, "updateRule": admin_row, "deleteRule": admin_row,
        }),
    ));
    for (name, rules) in specs {
        let mut body = rules;
        body["name"] = json!(name);
        body["fields"] = match name {
            "owned" => json!([title, owner_field]),
            "members" => {
                json!([{"name": "user", "type": "relation", "collectionId": users, "maxSelect": 1}, {"name": "role", "type": "text"}])
            }
            _ => json!([title]),
        };
        app.must_create_collection(body).await;
    }
}

struct World {
    app: TestApp,
    a: TestUser,
    b: TestUser,
    /// Fixture records by label, for list expectations.
    labels: BTreeMap<String, &'static str>,
}

async fn world() -> World {
    let app = spawn_app().await;
    collections(&app).await;
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let mut labels = BTreeMap::new();
    for (coll, label, owner) in [
        ("locked", "L1", None),
        ("open", "O1", None),
        ("authonly", "X1", None),
        ("owned", "OA", Some(&a.id)),
        ("owned", "OB", Some(&b.id)),
        ("club", "C1", None),
    ] {
        let mut body = json!({"title": label});
        if let Some(owner) = owner {
            body["owner"] = json!(owner);
        }
        let r = app.must_create_record(coll, body).await;
        labels.insert(r["id"].as_str().expect("id").to_owned(), label);
    }
    // A is an admin member; B is a plain member. A row with role admin exists, but not B's.
    app.must_create_record("members", json!({"user": a.id, "role": "admin"}))
        .await;
    app.must_create_record("members", json!({"user": b.id, "role": "member"}))
        .await;
    World { app, a, b, labels }
}

impl World {
    fn token(&self, who: Who) -> &str {
        match who {
            Guest => GUEST,
            A => &self.a.token,
            B => &self.b.token,
            Su => &self.app.superuser_token,
        }
    }
    fn user_id(&self, who: Who) -> &str {
        match who {
            A => &self.a.id,
            B => &self.b.id,
            Guest | Su => "",
        }
    }
    fn body(&self, send: Send) -> Value {
        match send {
            Send::Title(t) => json!({"title": t}),
            Send::OwnedBy(who) => json!({"title": "made", "owner": self.user_id(who)}),
        }
    }
    /// A fresh record for one scenario, made by the superuser.
    async fn target(&self, coll: &str, target: Target) -> String {
        match target {
            Missing => "aaaaaaaaaaaaaaa".to_owned(),
            OwnedBy(who) => {
                let mut body = json!({"title": "original"});
                if coll == "owned" {
                    body["owner"] = json!(self.user_id(who));
                }
                self.app.must_create_record(coll, body).await["id"]
                    .as_str()
                    .expect("id")
                    .to_owned()
            }
        }
    }

    /// Runs one scenario; returns what went wrong, if anything.
    async fn run(&self, sc: &Scenario) -> Option<String> {
        let app = &self.app;
        let token = self.token(sc.who);
        let su = &app.superuser_token;
        let (r, cleanup, unchanged) = match sc.action {
            List(expected) => {
                let r = app
                    .list_records(sc.coll, &[("perPage", "100")], token)
                    .await;
                if r.status == 200 {
                    let mut seen: Vec<&str> = r
                        .ids()
                        .iter()
                        .map(|id| self.labels.get(id).copied().unwrap_or("?"))
                        .collect();
                    seen.sort_unstable();
                    if seen != expected {
                        return Some(format!("{sc}: saw rows {seen:?}, expected {expected:?}"));
                    }
                }
                (r, None, None)
            }
            View(t) => {
                let id = self.target(sc.coll, t).await;
                (
                    app.view_record(sc.coll, &id, &[], token).await,
                    Some(id),
                    None,
                )
            }
            Create(send) => {
                let before = app.list_records(sc.coll, &[], su).await.body["totalItems"].clone();
                let r = app.create_record(sc.coll, self.body(send), token).await;
                let id = r.str("id").to_owned();
                if r.status != 200
                    && app.list_records(sc.coll, &[], su).await.body["totalItems"] != before
                {
                    return Some(format!("{sc}: a rejected create still wrote a record"));
                }
                (r, (!id.is_empty()).then_some(id), None)
            }
            Update(t, send) => {
                let id = self.target(sc.coll, t).await;
                (
                    app.update_record(sc.coll, &id, self.body(send), token)
                        .await,
                    Some(id.clone()),
                    Some(id),
                )
            }
            Delete(t) => {
                let id = self.target(sc.coll, t).await;
                (
                    app.delete_record(sc.coll, &id, token).await,
                    Some(id.clone()),
                    Some(id),
                )
            }
        };
        let mut problem = None;
        if r.status != sc.status {
            problem = Some(format!("{sc}: got {} {}", r.status, r.text));
        } else if let Some(message) = expected_message(sc.status)
            && (r.body["message"] != message || r.body["status"] != sc.status)
        {
            problem = Some(format!("{sc}: wrong error body {}", r.text));
        }
        // A rejected update or delete leaves the record as it was.
        if let (Some(id), true, false) = (
            unchanged,
            r.status >= 400,
            matches!(
                sc.action,
                View(Missing) | Update(Missing, _) | Delete(Missing)
            ),
        ) {
            let after = app.view_record(sc.coll, &id, &[], su).await;
            if after.status != 200 || after.body["title"] != "original" {
                problem = problem.or(Some(format!(
                    "{sc}: the rejected call changed the record: {}",
                    after.text
                )));
            }
        }
        if let Some(id) = cleanup {
            let _ = app.delete_record(sc.coll, &id, su).await;
        }
        problem
    }
}

fn expected_message(status: u16) -> Option<&'static str> {
    match status {
        403 => Some("Only superusers can perform this action."),
        404 => Some("The requested resource wasn't found."),
        400 => Some("Failed to create record."),
        _ => None,
    }
}

async fn run_table(table: &[Scenario]) {
    let w = world().await;
    let mut failures = Vec::new();
    for sc in table {
        if let Some(problem) = w.run(sc).await {
            failures.push(problem);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_null_rule_gives_403_to_everyone_but_superusers() {
    let mut table = Vec::new();
    for who in [Guest, A, B] {
        table.extend([
            s("locked", who, List(&[]), 403),
            s("locked", who, View(OwnedBy(Su)), 403),
            s("locked", who, View(Missing), 403),
            s("locked", who, Create(TITLE), 403),
            s("locked", who, Update(OwnedBy(Su), TITLE), 403),
            s("locked", who, Delete(OwnedBy(Su)), 403),
        ]);
    }
    table.extend([
        s("locked", Su, List(&["L1"]), 200),
        s("locked", Su, View(OwnedBy(Su)), 200),
        s("locked", Su, View(Missing), 404),
        s("locked", Su, Create(TITLE), 200),
        s("locked", Su, Update(OwnedBy(Su), TITLE), 200),
        s("locked", Su, Delete(OwnedBy(Su)), 204),
    ]);
    run_table(&table).await;
}

#[tokio::test]
async fn an_empty_rule_lets_everyone_in() {
    let mut table = Vec::new();
    for who in [Guest, A, B, Su] {
        table.extend([
            s("open", who, List(&["O1"]), 200),
            s("open", who, View(OwnedBy(Su)), 200),
            s("open", who, View(Missing), 404),
            s("open", who, Create(TITLE), 200),
            s("open", who, Update(OwnedBy(Su), TITLE), 200),
            s("open", who, Update(Missing, TITLE), 404),
            s("open", who, Delete(OwnedBy(Su)), 204),
        ]);
    }
    run_table(&table).await;
}

#[tokio::test]
async fn an_auth_id_rule_filters_guests_out_and_lets_users_in() {
    let mut table = vec![
        s("authonly", Guest, List(&[]), 200),
        s("authonly", Guest, View(OwnedBy(Su)), 404),
        s("authonly", Guest, Create(TITLE), 400),
        s("authonly", Guest, Update(OwnedBy(Su), TITLE), 404),
        s("authonly", Guest, Delete(OwnedBy(Su)), 404),
    ];
    for who in [A, B, Su] {
        table.extend([
            s("authonly", who, List(&["X1"]), 200),
            s("authonly", who, View(OwnedBy(Su)), 200),
            s("authonly", who, Create(TITLE), 200),
            s("authonly", who, Update(OwnedBy(Su), TITLE), 200),
            s("authonly", who, Delete(OwnedBy(Su)), 204),
        ]);
    }
    run_table(&table).await;
}

#[tokio::test]
async fn owner_rules_show_and_change_only_the_callers_records() {
    let table = [
        // list: each user sees only their own rows; guests see none (200); superusers all
        s("owned", Guest, List(&[]), 200),
        s("owned", A, List(&["OA"]), 200),
        s("owned", B, List(&["OB"]), 200),
        s("owned", Su, List(&["OA", "OB"]), 200),
        // view
        s("owned", A, View(OwnedBy(A)), 200),
        s("owned", A, View(OwnedBy(B)), 404),
        s("owned", B, View(OwnedBy(A)), 404),
        s("owned", Guest, View(OwnedBy(A)), 404),
        s("owned", Su, View(OwnedBy(A)), 200),
        // create: @request.body.owner must be the caller
        s("owned", A, Create(Send::OwnedBy(A)), 200),
        s("owned", A, Create(TITLE), 400),
        s("owned", A, Create(Send::OwnedBy(B)), 400),
        s("owned", B, Create(Send::OwnedBy(A)), 400),
        s("owned", Guest, Create(Send::OwnedBy(A)), 400),
        s("owned", Guest, Create(TITLE), 400),
        s("owned", Su, Create(Send::OwnedBy(B)), 200),
        // update: owner only, and @request.body.title must not be 'forbidden'
        s("owned", A, Update(OwnedBy(A), TITLE), 200),
        s(
            "owned",
            A,
            Update(OwnedBy(A), Send::Title("forbidden")),
            404,
        ),
        s("owned", A, Update(OwnedBy(B), TITLE), 404),
        s("owned", Guest, Update(OwnedBy(A), TITLE), 404),
        s(
            "owned",
            Su,
            Update(OwnedBy(A), Send::Title("forbidden")),
            200,
        ),
        // delete
        s("owned", A, Delete(OwnedBy(A)), 204),
        s("owned", A, Delete(OwnedBy(B)), 404),
        s("owned", B, Delete(OwnedBy(A)), 404),
        s("owned", Guest, Delete(OwnedBy(A)), 404),
        s("owned", Su, Delete(OwnedBy(B)), 204),
    ];
    run_table(&table).await;
}

#[tokio::test]
async fn collection_membership_rules_need_every_condition_on_the_same_joined_row() {
    let table = [
        // list: any membership row will do
        s("club", Guest, List(&[]), 200),
        s("club", A, List(&["C1"]), 200),
        s("club", B, List(&["C1"]), 200),
        s("club", Su, List(&["C1"]), 200),
        // view/create/update/delete: a row that is both the caller's AND has role admin.
        // B has a row, and an admin row exists (A's), but they are not the same row.
        s("club", A, View(OwnedBy(Su)), 200),
        s("club", B, View(OwnedBy(Su)), 404),
        s("club", Guest, View(OwnedBy(Su)), 404),
        s("club", A, Create(TITLE), 200),
        s("club", B, Create(TITLE), 400),
        s("club", Guest, Create(TITLE), 400),
        s("club", A, Update(OwnedBy(Su), TITLE), 200),
        s("club", B, Update(OwnedBy(Su), TITLE), 404),
        s("club", Guest, Update(OwnedBy(Su), TITLE), 404),
        s("club", A, Delete(OwnedBy(Su)), 204),
        s("club", B, Delete(OwnedBy(Su)), 404),
        s("club", Guest, Delete(OwnedBy(Su)), 404),
        s("club", Su, View(OwnedBy(Su)), 200),
        s("club", Su, Delete(OwnedBy(Su)), 204),
    ];
    run_table(&table).await;
}

#[tokio::test]
async fn a_user_filter_is_anded_with_the_list_rule() {
    let w = world().await;
    let r = w
        .app
        .list_records("owned", &[("filter", "title = 'OB'")], &w.a.token)
        .await;
    r.expect(200);
    assert_eq!(
        r.body["totalItems"], 0,
        "A cannot reach B's row through a filter: {}",
        r.text
    );
    let r = w
        .app
        .list_records(
            "owned",
            &[("filter", "title = 'OB' || title = 'OA'")],
            &w.a.token,
        )
        .await;
    assert_eq!(
        r.body["totalItems"], 1,
        "the filter is parenthesised before AND: {}",
        r.text
    );
}

#[tokio::test]
async fn removing_a_membership_revokes_access() {
    let w = world().await;
    let su = &w.app.superuser_token;
    let m = w
        .app
        .list_records(
            "members",
            &[("filter", &format!("user = '{}'", w.a.id))],
            su,
        )
        .await;
    let club = w.app.list_records("club", &[], &w.a.token).await.ids();
    assert_eq!(club.len(), 1);
    w.app.delete_record("members", &m.ids()[0], su).await;
    assert_eq!(
        w.app.list_records("club", &[], &w.a.token).await.body["totalItems"],
        0
    );
    assert_eq!(
        w.app
            .view_record("club", &club[0], &[], &w.a.token)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_default_users_collection_shows_users_only_themselves() {
    let w = world().await;
    let me = w.app.view_record("users", &w.a.id, &[], &w.a.token).await;
    me.expect(200);
    assert_eq!(me.body["email"], "a@example.com");
    assert_eq!(
        w.app
            .view_record("users", &w.b.id, &[], &w.a.token)
            .await
            .status,
        404
    );
    assert_eq!(
        w.app.list_records("users", &[], &w.a.token).await.ids(),
        std::slice::from_ref(&w.a.id)
    );
    assert_eq!(
        w.app.list_records("users", &[], GUEST).await.body["totalItems"],
        0
    );
    assert_eq!(
        w.app
            .update_record("users", &w.b.id, json!({"name": "x"}), &w.a.token)
            .await
            .status,
        404
    );
    assert_eq!(
        w.app
            .delete_record("users", &w.b.id, &w.a.token)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn email_is_hidden_from_others_unless_email_visibility_is_true() {
    let w = world().await;
    let su = &w.app.superuser_token;
    w.app
        .update_collection("users", json!({"listRule": "", "viewRule": ""}), su)
        .await
        .expect(200);
    let hidden = w.app.view_record("users", &w.b.id, &[], &w.a.token).await;
    assert!(hidden.body.get("email").is_none(), "{}", hidden.text);
    assert_eq!(
        w.app.view_record("users", &w.b.id, &[], su).await.body["email"],
        "b@example.com"
    );
    w.app
        .update_record("users", &w.b.id, json!({"emailVisibility": true}), su)
        .await
        .expect(200);
    assert_eq!(
        w.app
            .view_record("users", &w.b.id, &[], &w.a.token)
            .await
            .body["email"],
        "b@example.com"
    );
}
