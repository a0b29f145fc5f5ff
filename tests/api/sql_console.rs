//! `POST /api/sql`: PocketBase's answer shape, superusers only, read-only unless asked to
//! write, its validation and its raw errors, on both databases.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, Resp, TestApp, assert_error, spawn_app};

async fn sql(app: &TestApp, body: Value) -> Resp {
    app.request(Method::POST, "/api/sql", &app.superuser_token, Some(&body))
        .await
}

#[tokio::test]
async fn a_select_answers_columns_and_rows_as_text() {
    let app = spawn_app().await;
    let r = sql(
        &app,
        json!({"query": "SELECT 1 AS a, NULL AS b, 'x' AS c, 2.5 AS d"}),
    )
    .await;
    r.expect(200);
    let names: Vec<&str> = r.body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    if !app.on_postgres() {
        // SQLite declares no type for an expression; PostgreSQL names every column's.
        assert_eq!(
            r.body["columns"][0],
            json!({"name": "a", "type": "", "nullable": true})
        );
    }
    assert_eq!(r.body["rows"], json!([["1", null, "x", "2.5"]]));
    assert_eq!(r.body["affectedRows"], 0);
    assert!(r.body["execTime"].is_u64());
    let keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4);
    // A table's column carries its declared type on SQLite.
    let r = sql(
        &app,
        json!({"query": "SELECT \"id\", \"verified\" FROM \"users\""}),
    )
    .await;
    r.expect(200);
    let types: Vec<&str> = r.body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    if app.on_postgres() {
        assert_eq!(types, ["TEXT", "BOOL"]);
    } else {
        assert_eq!(types, ["TEXT", "BOOLEAN"]);
    }
    assert_eq!(r.body["rows"], json!([]));
}

#[tokio::test]
async fn writes_run_only_when_asked_for() {
    let app = spawn_app().await;
    let refused = sql(&app, json!({"query": "CREATE TABLE \"t1\" (\"a\" TEXT)"})).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to execute query. Raw error:\n"),
        "{}",
        refused.text
    );
    let created = sql(
        &app,
        json!({"query": "CREATE TABLE \"t1\" (\"a\" TEXT)", "write": true}),
    )
    .await;
    created.expect(200);
    let inserted = sql(
        &app,
        json!({"query": "INSERT INTO \"t1\" (\"a\") VALUES ('1'), ('2')", "write": true}),
    )
    .await;
    inserted.expect(200);
    assert_eq!(inserted.body["affectedRows"], 2);
    assert_eq!(inserted.body["columns"], json!([]));
    let not_asked = sql(&app, json!({"query": "DELETE FROM \"t1\""})).await;
    assert_eq!(not_asked.status, 400);
    let read = sql(
        &app,
        json!({"query": "SELECT \"a\" FROM \"t1\" ORDER BY \"a\""}),
    )
    .await;
    read.expect(200);
    assert_eq!(read.body["rows"], json!([["1"], ["2"]]));
    // Reads run on a connection that refuses writes even after one was refused.
    let again = sql(&app, json!({"query": "SELECT COUNT(*) AS n FROM \"t1\""})).await;
    assert_eq!(again.body["rows"], json!([["2"]]));
}

#[tokio::test]
async fn the_body_is_validated_and_errors_are_the_databases_words() {
    let app = spawn_app().await;
    for body in [json!({}), json!({"query": ""})] {
        let r = sql(&app, body).await;
        assert_error(
            &r,
            400,
            "An error occurred while validating the submitted data.",
        );
        assert_eq!(r.body["data"]["query"]["code"], "validation_required");
    }
    let long = sql(
        &app,
        json!({"query": format!("SELECT {}", "1".repeat(5000))}),
    )
    .await;
    assert_error(
        &long,
        400,
        "An error occurred while validating the submitted data.",
    );
    assert_eq!(
        long.body["data"]["query"]["code"],
        "validation_length_too_long"
    );
    let wrong_type = sql(&app, json!({"query": 5})).await;
    assert_error(
        &wrong_type,
        400,
        "An error occurred while loading the submitted data.",
    );
    let blank = sql(&app, json!({"query": "   "})).await;
    assert_error(
        &blank,
        400,
        "Failed to execute query. Raw error:\nempty query.",
    );
    let bad = sql(&app, json!({"query": "SELEC nonsense"})).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body["message"]
            .as_str()
            .unwrap()
            .contains("syntax error"),
        "{}",
        bad.text
    );
    assert_eq!(bad.body["data"], json!({}));
}

#[tokio::test]
async fn only_superusers_run_sql_and_rows_are_capped() {
    let app = spawn_app().await;
    let body = json!({"query": "SELECT 1"});
    assert_error(
        &app.request(Method::POST, "/api/sql", GUEST, Some(&body))
            .await,
        401,
        "The request requires valid record authorization token.",
    );
    let user = app.create_user("sql@example.com").await;
    let r = app
        .request(Method::POST, "/api/sql", &user.token, Some(&body))
        .await;
    assert_eq!(r.status, 403);
    let series = if app.on_postgres() {
        "SELECT generate_series(1, 1500) AS n"
    } else {
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1500) SELECT n FROM s"
    };
    let many = sql(&app, json!({"query": series})).await;
    many.expect(200);
    assert_eq!(many.body["rows"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn a_read_cannot_write_or_change_the_connection_it_runs_on() {
    let app = spawn_app().await;
    let before = app.list_records("users", &[], &app.superuser_token).await;
    let users = before.body["totalItems"].clone();
    let attempts = if app.on_postgres() {
        vec![
            "COMMIT; DELETE FROM \"users\"",
            "ROLLBACK; DELETE FROM \"users\"",
            "SET TRANSACTION READ WRITE; DELETE FROM \"users\"",
            "DELETE FROM \"users\"",
            "SET search_path TO nowhere",
        ]
    } else {
        vec![
            "PRAGMA query_only = 0; DELETE FROM \"users\"",
            "PRAGMA query_only = 0",
            "BEGIN; SELECT 1",
            "COMMIT",
            "ATTACH DATABASE ':memory:' AS x",
            "PRAGMA case_sensitive_like = 1",
            "DELETE FROM \"users\"",
            "SAVEPOINT s",
        ]
    };
    for attempt in attempts {
        let r = sql(&app, json!({"query": attempt})).await;
        if attempt.starts_with("SET search_path") {
            // A session setting may run; the connection it ran on is not used again.
            assert!(r.status == 200 || r.status == 400, "{attempt}: {}", r.text);
        } else {
            assert_eq!(r.status, 400, "{attempt}: {}", r.text);
        }
        // Every other request still works as before, on whatever connection it gets.
        for _ in 0..6 {
            let listed = app.list_records("users", &[], &app.superuser_token).await;
            assert_eq!(listed.body["totalItems"], users, "after {attempt}");
        }
    }
    // A write asked for still cannot end the transaction it shares with other writes on
    // SQLite's writer (on PostgreSQL it has its own, and one statement runs).
    let r = sql(&app, json!({"query": "COMMIT", "write": true})).await;
    if !app.on_postgres() {
        assert_eq!(r.status, 400, "{}", r.text);
    }
    let created = app.create_user_record("after@example.com").await;
    assert!(!created.is_empty());
}

#[tokio::test]
async fn errors_name_the_real_cause_and_one_statement_runs_on_postgres() {
    let app = spawn_app().await;
    let missing = sql(&app, json!({"query": "SELECT * FROM \"no_such_table\""})).await;
    assert_eq!(missing.status, 400);
    let message = missing.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("no_such_table"), "{message}");
    let two = sql(&app, json!({"query": "SELECT 1; SELECT 2"})).await;
    if app.on_postgres() {
        // PB-COMPAT: PostgreSQL runs one statement per request here.
        assert_eq!(two.status, 400, "{}", two.text);
    } else {
        two.expect(200);
        assert_eq!(two.body["rows"], json!([["2"]]));
    }
}
