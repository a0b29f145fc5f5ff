//! The load generator: a fixed number of workers, each replaying its own pre-built requests in a
//! closed loop until a deadline. Only requests that start after the warm-up and finish before the
//! deadline are measured; any non-2xx, transport error or 2xx whose body fails its request's
//! check (`crate::check`) at any time makes the run a failure.

use std::time::{Duration, Instant};

use crate::check;
use crate::client::{Http, Req};

/// A single request may take at most this long; the whole run is bounded by
/// warm-up + duration + this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// 2xx responses inside the measured window.
    pub ok: u64,
    /// Non-2xx responses, transport errors and wrong bodies (anywhere in the run).
    pub errors: u64,
    /// Of `errors`: 2xx responses whose body failed the request's check.
    pub wrong_bodies: u64,
    pub first_error: Option<String>,
    /// Latencies of the measured requests, microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// The measured window, seconds.
    pub secs: f64,
}

impl Outcome {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.secs
    }

    /// Whether the run counts: no error of any kind, and at least one measured request.
    pub fn judge(&self) -> Result<(), String> {
        if self.errors > 0 {
            let first = self.first_error.as_deref().unwrap_or_default();
            return Err(format!(
                "{} errors ({} wrong bodies); first: {first}",
                self.errors, self.wrong_bodies
            ));
        }
        if self.ok == 0 {
            return Err("no request completed inside the measured window".into());
        }
        Ok(())
    }

    /// The q-quantile latency (0 < q ≤ 1), milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let v = &self.latencies_us;
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1] as f64 / 1000.0
    }
}

#[derive(Default)]
struct WorkerOutcome {
    ok: u64,
    errors: u64,
    wrong_bodies: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
}

impl WorkerOutcome {
    /// Counts an error answer, keeping the first one's text.
    fn fail(&mut self, req: &Req, what: &str, body: &[u8]) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| {
            format!(
                "{} {} → {what}: {}",
                req.method,
                req.path,
                String::from_utf8_lossy(&body[..body.len().min(400)])
            )
        });
    }
}

/// Runs one worker per entry of `plan` (so the concurrency is `plan.len()`).
pub async fn run(
    http: &Http,
    plan: Vec<Vec<Req>>,
    warmup: Duration,
    duration: Duration,
) -> Outcome {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (w, reqs) in plan.into_iter().enumerate() {
        let http = http.clone();
        tasks.spawn(async move {
            let mut out = WorkerOutcome {
                latencies_us: Vec::with_capacity(16 * 1024),
                ..Default::default()
            };
            if reqs.is_empty() {
                return out;
            }
            let mut i = w;
            let mut answered: u64 = 0;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    return out;
                }
                let req = &reqs[i % reqs.len()];
                i += 1;
                let result = http.send(req, REQUEST_TIMEOUT).await;
                let t1 = Instant::now();
                match result {
                    Ok((status, body)) if (200..300).contains(&status) => {
                        let full = answered.is_multiple_of(check::FULL_EVERY);
                        answered += 1;
                        if let Err(e) = req.check.verify(&body, full) {
                            out.wrong_bodies += 1;
                            out.fail(req, &format!("{status} with a wrong body: {e}"), &body);
                        } else if t0 >= measure_from && t1 <= end {
                            out.ok += 1;
                            out.latencies_us
                                .push((t1 - t0).as_micros().min(u32::MAX as u128) as u32);
                        }
                    }
                    Ok((status, body)) => out.fail(req, &status.to_string(), &body),
                    Err(e) => {
                        out.errors += 1;
                        out.first_error
                            .get_or_insert_with(|| format!("{} {}: {e:#}", req.method, req.path));
                    }
                }
            }
        });
    }
    let mut total = Outcome {
        secs: duration.as_secs_f64(),
        ..Default::default()
    };
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(w) => {
                total.ok += w.ok;
                total.errors += w.errors;
                total.wrong_bodies += w.wrong_bodies;
                if total.first_error.is_none() {
                    total.first_error = w.first_error;
                }
                total.latencies_us.extend(w.latencies_us);
            }
            Err(e) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert_with(|| format!("worker panicked: {e}"));
            }
        }
    }
    total.latencies_us.sort_unstable();
    total
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::Full;

    use crate::client::Http;
    use crate::report::{Report, Row, Summary};
    use crate::seed::{Fixture, User, room_id};
    use crate::server::Kind;
    use crate::workloads::Workload;

    /// A server answering `body` with a 200 to every request.
    async fn fake_server(body: String) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let body = Bytes::from(body);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| {
                        let body = body.clone();
                        async move {
                            hyper::Response::builder()
                                .status(200)
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        url
    }

    /// One user, one room of 500 messages.
    fn fixture() -> Fixture {
        Fixture {
            users: vec![User {
                id: "u00000000000000".into(),
                email: "user0@example.com".into(),
                token: "token".into(),
                rooms: vec![room_id(0)],
                messages: vec![],
            }],
            rooms: vec![room_id(0)],
            messages: vec!["x00000000000000".into()],
            room_counts: vec![500],
        }
    }

    async fn run_list(body: String) -> super::Outcome {
        let url = fake_server(body).await;
        let plan = Workload::List.plan(&fixture(), 2);
        super::run(
            &Http::new(&url, 2),
            plan,
            Duration::ZERO,
            Duration::from_millis(200),
        )
        .await
    }

    fn page(items: usize) -> String {
        let items: Vec<String> = (0..items)
            .map(|i| {
                format!(
                    r#"{{"collectionName":"messages","id":"x{i:014}","room":"{}","text":"t"}}"#,
                    room_id(0)
                )
            })
            .collect();
        format!(
            r#"{{"items":[{}],"page":1,"perPage":50,"totalItems":-1,"totalPages":-1}}"#,
            items.join(",")
        )
    }

    #[tokio::test]
    async fn a_200_with_an_empty_list_is_a_failed_run() {
        let outcome = run_list(page(0)).await;
        assert!(outcome.ok == 0 && outcome.wrong_bodies > 0, "{outcome:?}");
        let err = outcome.judge().unwrap_err();
        assert!(
            err.contains("wrong bodies") && err.contains("0 items of room"),
            "{err}"
        );
        let report = Report {
            machine: String::new(),
            settings: String::new(),
            logs: String::new(),
            nginx: String::new(),
            rows: vec![Row {
                workload: Workload::List,
                concurrency: 2,
                ox: Summary::Failed(err),
                pb: Summary::NotRun,
                nginx: None,
            }],
            startup: None,
            concurrency: 2,
            reference: Kind::PocketBase,
        };
        let text = report.markdown();
        assert!(text.contains("| list | 2 | FAILED |"), "{text}");
        assert!(text.contains("list @2 on oxbase: FAILED"), "{text}");
    }

    #[tokio::test]
    async fn a_short_page_is_a_failed_run() {
        let outcome = run_list(page(49)).await;
        assert!(outcome.ok == 0 && outcome.wrong_bodies > 0, "{outcome:?}");
    }

    #[tokio::test]
    async fn a_full_page_counts() {
        let outcome = run_list(page(50)).await;
        assert!(outcome.judge().is_ok(), "{:?}", outcome.first_error);
        assert!(outcome.ok > 0 && outcome.wrong_bodies == 0);
    }
}
