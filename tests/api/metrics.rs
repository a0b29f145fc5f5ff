//! `GET /metrics` (`--metrics`): Prometheus's text format, checked with Prometheus's own
//! Python parser (`prometheus_client`, installed by scripts/test-all.sh, named by
//! `OXBASE_TEST_PYTHON`). The recorder is one per process, shared by the apps the tests run at
//! once, so counters are compared as "moved at least by".

use std::path::Path;

use oxbase_api::HttpConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{GUEST, TestApp, spawn_app_with};

/// The samples of a scrape, parsed by `prometheus_client`: `{name, labels, value}` each.
fn parse(text: &str) -> Vec<Value> {
    let python = std::env::var("OXBASE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = [{'name': s.name, 'labels': s.labels, 'value': s.value}\n\
               for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]\n\
        print(json.dumps(out))";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}): run scripts/test-all.sh, or pip install prometheus_client and set OXBASE_TEST_PYTHON"));
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("parser output");
    assert!(
        out.status.success(),
        "prometheus_client refused the exposition (or is missing: run scripts/test-all.sh):\n{text}"
    );
    serde_json::from_slice(&out.stdout).expect("the parser's JSON")
}

fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s["name"] == name)
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][k] == *v))
        .map(|s| s["value"].as_f64().unwrap_or(0.0))
        .sum()
}

async fn app_with_metrics(dir: &Path, token: Option<&str>) -> TestApp {
    spawn_app_with(
        dir,
        HttpConfig {
            public_dir: dir.join("public"),
            metrics: true,
            metrics_token: token.map(str::to_owned),
            ..HttpConfig::default()
        },
    )
    .await
}

async fn scrape(app: &TestApp, token: &str) -> (u16, String) {
    let mut request = app.client.get(app.url("/metrics"));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("scrape");
    (
        response.status().as_u16(),
        response.text().await.expect("text"),
    )
}

#[tokio::test]
async fn requests_move_the_counters_and_histograms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_metrics(dir.path(), None).await;
    let (_, before) = scrape(&app, "").await;
    let before = parse(&before);
    for _ in 0..5 {
        app.get("/api/health", GUEST).await.expect(200);
    }
    app.get("/api/collections/nope/records", GUEST).await;
    let login = app
        .request(
            Method::POST,
            "/api/collections/users/auth-with-password",
            GUEST,
            Some(&json!({"identity": "nobody@example.com", "password": "wrong-password"})),
        )
        .await;
    assert_eq!(login.status, 400);
    let (status, text) = scrape(&app, "").await;
    assert_eq!(status, 200);
    let after = parse(&text);
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let health = [
        ("method", "GET"),
        ("route", "/api/health"),
        ("status", "200"),
    ];
    assert!(
        moved("oxbase_http_requests_total", &health) >= 5.0,
        "{text}"
    );
    let missing = [
        ("route", "/api/collections/{collection}/records"),
        ("status", "404"),
    ];
    assert!(
        moved("oxbase_http_requests_total", &missing) >= 1.0,
        "{text}"
    );
    let timed = [("method", "GET"), ("route", "/api/health")];
    assert!(
        moved("oxbase_http_request_duration_seconds_count", &timed) >= 5.0,
        "{text}"
    );
    assert!(
        value(
            &after,
            "oxbase_http_request_duration_seconds_bucket",
            &[("route", "/api/health"), ("le", "+Inf")]
        ) >= 5.0
    );
    assert!(
        moved("oxbase_auth_failures_total", &[("method", "password")]) >= 1.0,
        "{text}"
    );
    assert!(
        after
            .iter()
            .any(|s| s["name"] == "oxbase_http_requests_in_flight"),
        "{text}"
    );
    assert!(
        after.iter().any(|s| s["name"] == "oxbase_realtime_clients"),
        "{text}"
    );
    // Read at each scrape: the process (from the OS) and the database's load.
    let present = |name: &str| after.iter().any(|s| s["name"] == name);
    assert!(
        value(&after, "process_resident_memory_bytes", &[]) > 0.0,
        "{text}"
    );
    assert!(present("process_cpu_seconds_total"), "{text}");
    if app.on_postgres() {
        assert!(value(&after, "oxbase_db_connections", &[]) >= 1.0, "{text}");
        assert!(present("oxbase_db_waiting_for_connection"), "{text}");
    } else {
        assert!(present("oxbase_db_queued_writes"), "{text}");
    }
}

#[tokio::test]
async fn a_cron_run_is_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_metrics(dir.path(), None).await;
    let runs = |text: &str| {
        value(
            &parse(text),
            "oxbase_cron_runs_total",
            &[("job", "__pbOTPCleanup__")],
        )
    };
    let before = runs(&scrape(&app, "").await.1);
    let r = app
        .request(
            Method::POST,
            "/api/crons/__pbOTPCleanup__",
            &app.superuser_token,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let mut after = before;
    for _ in 0..100 {
        after = runs(&scrape(&app, "").await.1);
        if after > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(after >= before + 1.0);
}

#[tokio::test]
async fn the_token_guards_the_scrape_and_metrics_are_off_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_metrics(dir.path(), Some("s3cret")).await;
    assert_eq!(scrape(&app, "").await.0, 401);
    assert_eq!(scrape(&app, "wrong").await.0, 401);
    let (status, text) = scrape(&app, "s3cret").await;
    assert_eq!(status, 200);
    parse(&text);
    let plain = crate::helpers::spawn_app().await;
    assert_eq!(scrape(&plain, "").await.0, 404);
}

/// Every SQL statement is timed, by database and by kind: `read` on the readers, `write` in a
/// write transaction.
#[tokio::test]
async fn sql_statements_move_the_query_latency_histogram() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_metrics(dir.path(), None).await;
    let database = if app.on_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    let count = |samples: &[Value], kind: &str| {
        value(
            samples,
            "oxbase_db_query_duration_seconds_count",
            &[("database", database), ("kind", kind)],
        )
    };
    let before = parse(&scrape(&app, "").await.1);
    app.get("/api/collections/users/records", GUEST)
        .await
        .expect(200);
    let created = app
        .request(
            Method::POST,
            "/api/collections/users/records",
            GUEST,
            Some(&json!({
                "email": "timed@example.com",
                "password": "1234567890",
                "passwordConfirm": "1234567890"
            })),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let (_, text) = scrape(&app, "").await;
    let after = parse(&text);
    for kind in ["read", "write"] {
        assert!(
            count(&after, kind) > count(&before, kind),
            "no {kind} statement timed: {text}"
        );
    }
    // Buckets fit statements, from 50 microseconds up.
    let buckets: Vec<&str> = after
        .iter()
        .filter(|s| {
            s["name"] == "oxbase_db_query_duration_seconds_bucket"
                && s["labels"]["database"] == database
                && s["labels"]["kind"] == "read"
        })
        .filter_map(|s| s["labels"]["le"].as_str())
        .collect();
    assert_eq!(
        buckets.first().and_then(|le| le.parse::<f64>().ok()),
        Some(0.00005),
        "{text}"
    );
    assert_eq!(buckets.last(), Some(&"+Inf"), "{text}");
    assert!(
        value(
            &after,
            "oxbase_db_query_duration_seconds_sum",
            &[("database", database)]
        ) > 0.0,
        "{text}"
    );
}

#[tokio::test]
async fn a_backup_is_timed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_metrics(dir.path(), None).await;
    let count = |text: &str| {
        value(
            &parse(text),
            "oxbase_backup_duration_seconds_count",
            &[("outcome", "ok")],
        )
    };
    let before = count(&scrape(&app, "").await.1);
    app.request(
        Method::POST,
        "/api/backups",
        &app.superuser_token,
        Some(&json!({"name": "timed.zip"})),
    )
    .await
    .expect(204);
    let (_, text) = scrape(&app, "").await;
    assert!(count(&text) >= before + 1.0, "{text}");
    assert!(value(&parse(&text), "oxbase_backup_duration_seconds_sum", &[]) > 0.0);
}
