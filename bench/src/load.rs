//! The load generator: a fixed number of workers, each replaying its own pre-built requests in a
//! closed loop until a deadline. Only requests that start after the warm-up and finish before the
//! deadline are measured; any non-2xx (or transport error) at any time makes the run a failure.

use std::time::{Duration, Instant};

use crate::client::{Http, Req};

/// A single request may take at most this long; the whole run is bounded by
/// warm-up + duration + this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// 2xx responses inside the measured window.
    pub ok: u64,
    /// Non-2xx responses or transport errors (anywhere in the run).
    pub errors: u64,
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
    first_error: Option<String>,
    latencies_us: Vec<u32>,
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
                    Ok((status, _)) if (200..300).contains(&status) => {
                        if t0 >= measure_from && t1 <= end {
                            out.ok += 1;
                            out.latencies_us
                                .push((t1 - t0).as_micros().min(u32::MAX as u128) as u32);
                        }
                    }
                    Ok((status, body)) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| {
                            format!(
                                "{} {} → {status}: {}",
                                req.method,
                                req.path,
                                String::from_utf8_lossy(&body[..body.len().min(400)])
                            )
                        });
                    }
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
