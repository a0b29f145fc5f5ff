//! `--events` (issue #21): oxbase runs the workloads with one webhook (a receiver in this
//! process) and NATS JetStream publishing (a stream created here) on every message insert;
//! the delivery lag of each (the event's commit time to its arrival here) is reported, at
//! p50 and p99. PocketBase runs as always: the insert row compares oxbase with events on
//! against PocketBase's plain insert.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::client::{Http, Req};
use crate::seed;
use crate::server::{SU_EMAIL, SU_PASSWORD};

const STREAM: &str = "OXBASE_BENCH_EVENTS";
const SUBJECT: &str = "oxbasebench";

/// The lags seen, in milliseconds, per channel.
#[derive(Clone, Default)]
pub struct Events {
    webhook: Arc<Mutex<Vec<f64>>>,
    nats: Arc<Mutex<Vec<f64>>>,
}

/// Milliseconds from an RFC 3339 time to now.
fn lag_ms(time: &str) -> Option<f64> {
    let at = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    let now = chrono::Utc::now();
    Some((now.timestamp_micros() - at.timestamp_micros()) as f64 / 1000.0)
}

/// Starts the receiver and the NATS subscriber, and configures oxbase (behind `http`) to
/// deliver every `messages` create to both.
pub async fn setup(http: &Http, nats_url: &str) -> Result<Events> {
    let events = Events::default();
    // The webhook receiver: HTTP/1.1 keep-alive, 204 to every POST.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let lags = events.webhook.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let lags = lags.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let lags = lags.clone();
                        async move {
                            let body = req.into_body().collect().await.map(|b| b.to_bytes());
                            if let Ok(body) = body
                                && let Ok(v) = serde_json::from_slice::<Value>(&body)
                                && let Some(lag) = v["timestamp"].as_str().and_then(lag_ms)
                            {
                                lags.lock().await.push(lag);
                            }
                            hyper::Response::builder()
                                .status(204)
                                .body(Full::new(Bytes::new()))
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    // NATS: a stream taking the subjects (so that publishes are acknowledged), and a plain
    // subscriber measuring when each arrives.
    let client = async_nats::connect(nats_url)
        .await
        .with_context(|| format!("NATS at {nats_url}"))?;
    let js = async_nats::jetstream::new(client.clone());
    let _ = js.delete_stream(STREAM).await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![format!("{SUBJECT}.>")],
        max_messages: 1_000_000,
        ..Default::default()
    })
    .await
    .context("creating the bench stream")?;
    let mut sub = client.subscribe(format!("{SUBJECT}.>")).await?;
    let lags = events.nats.clone();
    tokio::spawn(async move {
        while let Some(message) = sub.next().await {
            if let Ok(v) = serde_json::from_slice::<Value>(&message.payload)
                && let Some(lag) = v["time"].as_str().and_then(lag_ms)
            {
                lags.lock().await.push(lag);
            }
        }
    });
    let su = seed::token(http, "_superusers", SU_EMAIL, SU_PASSWORD)
        .await
        .context("superuser login")?;
    let body = json!({
        "webhooks": {
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "endpoints": [{"url": url, "collection": "messages", "actions": ["create"]}]
        },
        "brokers": {"targets": [{
            "name": "bench", "type": "nats", "url": format!("nats://{nats_url}"),
            "collections": ["messages"], "actions": ["create"],
            "subject": format!("{SUBJECT}.{{collection}}.{{action}}")
        }]}
    });
    let v = http
        .json(&Req::json(Method::PATCH, "/api/settings", Some(&su), &body))
        .await?;
    if v["brokers"]["targets"].as_array().map_or(0, Vec::len) != 1 {
        bail!("the events settings were not saved: {v}");
    }
    Ok(events)
}

impl Events {
    /// Waits until deliveries stop coming (the queue drained), then the counts and lags.
    pub async fn summary(&self) -> String {
        let mut last = (usize::MAX, usize::MAX);
        let mut quiet_since = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            let now = (
                self.webhook.lock().await.len(),
                self.nats.lock().await.len(),
            );
            if now != last {
                last = now;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() > Duration::from_secs(3) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let line = |name: &str, lags: &mut Vec<f64>| {
            if lags.is_empty() {
                return format!("- {name}: nothing delivered");
            }
            lags.sort_by(f64::total_cmp);
            let at = |q: f64| lags[((lags.len() - 1) as f64 * q).round() as usize];
            format!(
                "- {name}: {} events; delivery lag (commit to arrival) p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                lags.len(),
                at(0.5),
                at(0.99),
                lags[lags.len() - 1]
            )
        };
        let webhook = line("webhook", &mut *self.webhook.lock().await);
        let nats = line("NATS JetStream", &mut *self.nats.lock().await);
        format!("{webhook}\n{nats}")
    }
}
