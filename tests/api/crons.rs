//! `/api/crons`: PocketBase's job list and run-now, the scheduler's ticks (a job runs once per
//! tick, on one instance), and the built-in cleanup jobs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{GUEST, TestApp, assert_error, spawn_app};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a time")
        .with_timezone(&Utc)
}

/// Adds job `id` to `app`, counting its runs in `runs`.
fn counting_job(app: &TestApp, id: &str, expression: &str, runs: &Arc<AtomicUsize>) {
    let runs = runs.clone();
    app.core
        .crons()
        .add(
            id,
            expression,
            oxbase_core::crons::job(move || {
                let runs = runs.clone();
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            }),
        )
        .expect("a valid job");
}

#[tokio::test]
async fn superusers_list_the_jobs_with_the_apps_own_last() {
    let app = spawn_app().await;
    let runs = Arc::new(AtomicUsize::new(0));
    counting_job(&app, "zeta", "@hourly", &runs);
    counting_job(&app, "alpha", "*/5 * * * *", &runs);
    let r = app.get("/api/crons", &app.superuser_token).await;
    r.expect(200);
    assert_eq!(
        r.body,
        json!([
            {"id": "alpha", "expression": "*/5 * * * *"},
            {"id": "zeta", "expression": "@hourly"},
            {"id": "__pbDBOptimize__", "expression": "0 0 * * *"},
            {"id": "__pbMFACleanup__", "expression": "0 * * * *"},
            {"id": "__pbOTPCleanup__", "expression": "0 * * * *"},
            {"id": "__pbLogsCleanup__", "expression": "0 */6 * * *"}
        ])
    );
    assert_error(
        &app.get("/api/crons", GUEST).await,
        401,
        "The request requires valid record authorization token.",
    );
    let user = app.create_user("cron@example.com").await;
    assert_eq!(app.get("/api/crons", &user.token).await.status, 403);
    let run = app
        .request(Method::POST, "/api/crons/alpha", &user.token, None)
        .await;
    assert_eq!(run.status, 403);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_job_runs_now_on_request_and_an_unknown_one_is_404() {
    let app = spawn_app().await;
    let runs = Arc::new(AtomicUsize::new(0));
    counting_job(&app, "report", "0 0 1 1 *", &runs);
    let r = app
        .request(
            Method::POST,
            "/api/crons/report",
            &app.superuser_token,
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    for _ in 0..100 {
        if runs.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let missing = app
        .request(Method::POST, "/api/crons/nope", &app.superuser_token, None)
        .await;
    assert_error(&missing, 404, "Missing or invalid cron job.");
}

#[tokio::test]
async fn a_tick_runs_the_jobs_due_once() {
    let app = spawn_app().await;
    let (quarter, hourly) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    counting_job(&app, "quarter", "*/15 * * * *", &quarter);
    counting_job(&app, "hourly", "@hourly", &hourly);
    let crons = app.core.crons();
    crons.tick(at("2030-01-01T10:15:00Z")).await;
    crons.tick(at("2030-01-01T10:15:40Z")).await; // the same minute: already run
    crons.tick(at("2030-01-01T10:16:00Z")).await; // nothing due
    crons.tick(at("2030-01-01T11:00:00Z")).await;
    assert_eq!(quarter.load(Ordering::SeqCst), 2);
    assert_eq!(hourly.load(Ordering::SeqCst), 1);
    // A removed job no longer runs; an expression that does not parse is refused.
    crons.remove("quarter");
    crons.tick(at("2030-01-01T11:30:00Z")).await;
    assert_eq!(quarter.load(Ordering::SeqCst), 2);
    let runs = Arc::new(AtomicUsize::new(0));
    let bad = crons.add("bad", "* * *", oxbase_core::crons::job(|| async { Ok(()) }));
    assert!(bad.is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn instances_on_one_database_run_a_job_once_per_tick() {
    let app = spawn_app().await;
    let Some(peer) = app.spawn_peer().await else {
        return; // SQLite: one instance per data file.
    };
    let runs = Arc::new(AtomicUsize::new(0));
    counting_job(&app, "shared", "* * * * *", &runs);
    counting_job(&peer, "shared", "* * * * *", &runs);
    for minute in 0..5 {
        let tick = at("2030-02-01T08:00:00Z") + chrono::TimeDelta::minutes(minute);
        let (a, b) = (app.core.crons().clone(), peer.core.crons().clone());
        tokio::join!(a.tick(tick), b.tick(tick));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 5);
}

/// Three instances on one PostgreSQL tick the same minutes at once (one with its clock 20 s
/// ahead): each tick of each job runs exactly once across them, whichever instance claims it
/// (a row in `_cronRuns`).
#[tokio::test]
async fn three_instances_run_each_job_exactly_once_per_tick() {
    let app = spawn_app().await;
    let Some(second) = app.spawn_peer().await else {
        return; // SQLite: one instance per data file.
    };
    let third = app.spawn_peer().await.expect("a third instance");
    let instances = [&app, &second, &third];
    let counters = || -> Vec<Arc<AtomicUsize>> {
        (0..instances.len())
            .map(|_| Arc::new(AtomicUsize::new(0)))
            .collect()
    };
    let (every, quarter) = (counters(), counters());
    for (i, instance) in instances.iter().enumerate() {
        counting_job(instance, "every-minute", "* * * * *", &every[i]);
        counting_job(instance, "quarter", "*/15 * * * *", &quarter[i]);
    }
    let total =
        |runs: &[Arc<AtomicUsize>]| runs.iter().map(|r| r.load(Ordering::SeqCst)).sum::<usize>();
    let start = at("2030-02-02T09:10:00Z");
    for minute in 0..8 {
        let tick = start + chrono::TimeDelta::minutes(minute);
        let [a, b, c] = instances.map(|i| i.core.crons().clone());
        tokio::join!(
            a.tick(tick),
            b.tick(tick),
            c.tick(tick + chrono::TimeDelta::seconds(20))
        );
        let expected = usize::try_from(minute).expect("a small count") + 1;
        assert_eq!(total(&every), expected, "after the tick of {tick}");
        // 09:15 is the only quarter hour among these minutes.
        assert_eq!(
            total(&quarter),
            usize::from(minute >= 5),
            "after the tick of {tick}"
        );
    }
}

#[tokio::test]
async fn the_otp_cleanup_removes_expired_codes_only() {
    let app = spawn_app().await;
    app.update_collection(
        "users",
        json!({"otp": {"enabled": true, "duration": 300}}),
        &app.superuser_token,
    )
    .await
    .expect(200);
    app.create_user_record("otp@example.com").await;
    let body = json!({"email": "otp@example.com"});
    app.request(
        Method::POST,
        "/api/collections/users/request-otp",
        GUEST,
        Some(&body),
    )
    .await
    .expect(200);
    let count = || async {
        app.list_records("_otps", &[], &app.superuser_token)
            .await
            .body["totalItems"]
            .as_i64()
    };
    assert_eq!(count().await, Some(1));
    app.core.crons().tick(at("2030-03-01T10:00:00Z")).await;
    assert_eq!(count().await, Some(1), "a fresh code stays");
    app.core.clock().advance(Duration::from_secs(301));
    let run = app
        .request(
            Method::POST,
            "/api/crons/__pbOTPCleanup__",
            &app.superuser_token,
            None,
        )
        .await;
    assert_eq!(run.status, 204);
    for _ in 0..100 {
        if count().await == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count().await, Some(0), "an expired code goes");
}

#[tokio::test]
async fn the_built_in_jobs_succeed() {
    let app = spawn_app().await;
    for id in ["__pbDBOptimize__", "__pbMFACleanup__", "__pbOTPCleanup__"] {
        app.core.crons().run_and_wait(id).await.expect(id);
    }
    assert!(app.core.crons().run_and_wait("nope").await.is_err());
}

#[tokio::test]
async fn a_job_that_panics_does_not_stop_the_others() {
    let app = spawn_app().await;
    let runs = Arc::new(AtomicUsize::new(0));
    app.core
        .crons()
        .add(
            "boom",
            "* * * * *",
            oxbase_core::crons::job(|| async { panic!("a job's bug") }),
        )
        .expect("a valid job");
    counting_job(&app, "steady", "* * * * *", &runs);
    app.core.crons().tick(at("2030-04-01T10:00:00Z")).await;
    app.core.crons().tick(at("2030-04-01T10:01:00Z")).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
