//! The realtime fan-out workload (issue #6): N concurrent SSE subscribers on one server, one
//! write fanned out to all of them.
//!
//! Every subscriber is one TCP connection speaking raw HTTP/1.1 (`GET /api/realtime`), read by
//! its own small task with a streaming parser (chunked transfer decoding + SSE lines; a 512-byte
//! read buffer and the current event's lines are all it keeps). After `PB_CONNECT` it sets its
//! subscriptions with `POST /api/realtime` on a shared keep-alive pool, authenticated as one of
//! the seeded users (round-robin), so the server holds N authenticated clients over 100 distinct
//! identities. Then, for each topic, a few single writes: the send instant is recorded just
//! before the create request, every subscriber stamps the arrival of the event carrying that
//! record's id, and the latencies over all subscribers are reported.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use hyper::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::client::{Http, Req};
use crate::report::median;
use crate::seed::{self, AUTHED_RULE, Fixture};
use crate::server::{SU_EMAIL, SU_PASSWORD, Server};

pub const NAME: &str = "fanout";

/// The public collection of the first topic (listRule "", so the rule check is trivial).
const FEED: &str = "feed";

/// What one fan-out measurement is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub subscribers: usize,
    pub connect_concurrency: usize,
    pub writes: usize,
    pub connect_timeout: Duration,
    pub delivery_timeout: Duration,
}

/// The two topics every subscriber holds; one series of writes goes to each.
#[derive(Clone, Copy, Debug)]
pub enum Topic {
    /// `feed/*`, listRule `""`: every subscriber may see every record.
    Public,
    /// `messages/*`, listRule `@request.auth.id != ''`: checked per subscriber (PocketBase runs
    /// one query per client; oxbase one per distinct identity).
    Authed,
}

impl Topic {
    const ALL: [Topic; 2] = [Topic::Public, Topic::Authed];

    fn label(self) -> &'static str {
        match self {
            Topic::Public => "`feed/*` (listRule `\"\"`)",
            Topic::Authed => "`messages/*` (listRule `@request.auth.id != ''`, 100 users)",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Topic::Public => "feed",
            Topic::Authed => "messages",
        }
    }
}

/// One single write and its deliveries.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Subscribers that got the event within the delivery timeout.
    pub received: usize,
    /// Quantiles over the received events, ms from the send instant.
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// The create request's own response time, ms.
    pub write_ms: f64,
    /// Server CPU seconds from the send until the last delivery (or the timeout).
    pub cpu_s: f64,
}

/// One server's fan-out figures.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub target: usize,
    pub subscribed: usize,
    /// Seconds from the first connect to the last `204` of the subscriptions (NaN if not all).
    pub connect_s: f64,
    /// Server CPU seconds over the connect phase.
    pub connect_cpu_s: f64,
    pub rss_before_mib: f64,
    pub rss_after_mib: f64,
    /// (RSS after - RSS before) / subscribed, KiB.
    pub per_client_kib: f64,
    /// The bench process's own RSS with every subscriber connected, MiB (the client side's cost).
    pub client_rss_mib: f64,
    pub deliveries: Vec<(Topic, Vec<Delivery>)>,
    /// Events that matched no write (should be none), and the same write seen twice by one client.
    pub unexpected: usize,
    pub duplicates: usize,
    /// Subscribers that failed or were disconnected, with the first error.
    pub lost: usize,
    pub first_error: Option<String>,
}

impl Outcome {
    /// A delivery figure's median over the writes of one topic.
    fn med(&self, t: usize, g: fn(&Delivery) -> f64) -> f64 {
        median(
            self.deliveries
                .get(t)
                .map(|(_, d)| d.iter().map(g).collect())
                .unwrap_or_default(),
        )
    }

    fn min_received(&self, t: usize) -> usize {
        self.deliveries
            .get(t)
            .and_then(|(_, d)| d.iter().map(|d| d.received).min())
            .unwrap_or(0)
    }

    /// Every write reached every one of the N subscribers.
    pub fn all_received(&self) -> bool {
        self.subscribed == self.target
            && self.deliveries.len() == Topic::ALL.len()
            && self
                .deliveries
                .iter()
                .all(|(_, d)| !d.is_empty() && d.iter().all(|d| d.received == self.target))
    }

    /// The worst p99 of any single write, ms.
    pub fn worst_p99(&self) -> f64 {
        self.deliveries
            .iter()
            .flat_map(|(_, d)| d.iter().map(|d| d.p99))
            .fold(f64::NAN, f64::max)
    }
}

/// Fails early (with what to do) when the open-files limit cannot hold N sockets. The servers
/// are spawned by this process and inherit the same limit.
pub fn check_fd_limit(subscribers: usize, connect_concurrency: usize) -> Result<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let need = (subscribers + connect_concurrency + 256) as u64;
    if soft < need {
        bail!(
            "--subscribers {subscribers} needs about {need} open files in this process (and the server), but `ulimit -n` is {soft}: raise it or lower --subscribers"
        );
    }
    Ok(soft)
}

/// Creates the public `feed` collection the first topic listens to.
pub async fn setup(http: &Http) -> Result<()> {
    let su = seed::token(http, "_superusers", SU_EMAIL, SU_PASSWORD)
        .await
        .context("superuser login")?;
    let body = json!({"name": FEED, "type": "base", "listRule": "", "viewRule": "", "createRule": AUTHED_RULE,
                      "fields": [{"name": "text", "type": "text"}]});
    http.json(&Req::json(
        Method::POST,
        "/api/collections",
        Some(&su),
        &body,
    ))
    .await
    .context("creating the feed collection")?;
    Ok(())
}

/// State shared by the subscriber tasks and the measuring loop.
struct Ctx {
    addr: SocketAddr,
    request: String,
    http: Http,
    gate: Arc<Semaphore>,
    /// Tokens, one per seeded user; subscriber i uses `tokens[i % len]`.
    tokens: Vec<String>,
    subscriptions: serde_json::Value,
    target: usize,
    subscribed: AtomicUsize,
    all_subscribed: OnceLock<Instant>,
    lost: AtomicUsize,
    first_error: Mutex<Option<String>>,
    /// `"id":"<record id>"` of the write being measured (empty between writes).
    needle: RwLock<Arc<[u8]>>,
    base: Instant,
    /// Arrival of the current write's event per subscriber: ns since `base` + 1; 0 = not yet.
    arrivals: Vec<AtomicU64>,
    received: AtomicUsize,
    unexpected: AtomicUsize,
    duplicates: AtomicUsize,
}

impl Ctx {
    fn fail(&self, e: String) {
        self.lost.fetch_add(1, Ordering::Relaxed);
        self.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(e);
    }

    fn arrived(&self, i: usize, data: &[u8], at: Instant) {
        let needle = self
            .needle
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if needle.is_empty() || !data.windows(needle.len()).any(|w| w == &needle[..]) {
            self.unexpected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let t = (at - self.base).as_nanos() as u64 + 1;
        if self.arrivals[i].swap(t, Ordering::Relaxed) == 0 {
            self.received.fetch_add(1, Ordering::Relaxed);
        } else {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Connects N subscribers to `server`, measures memory, then the deliveries of single writes.
pub async fn measure(server: &mut Server, fixture: &Fixture, opts: &Options) -> Result<Outcome> {
    server.check_alive()?;
    let addr: SocketAddr = server
        .url
        .trim_start_matches("http://")
        .parse()
        .context("server address")?;
    let http = Http::new(&server.url, opts.connect_concurrency);
    let request = format!(
        "GET /api/realtime HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    );
    let ctx = Arc::new(Ctx {
        addr,
        request,
        http: http.clone(),
        gate: Arc::new(Semaphore::new(opts.connect_concurrency.max(1))),
        tokens: fixture.users.iter().map(|u| u.token.clone()).collect(),
        subscriptions: json!([format!("{FEED}/*"), "messages/*"]),
        target: opts.subscribers,
        subscribed: AtomicUsize::new(0),
        all_subscribed: OnceLock::new(),
        lost: AtomicUsize::new(0),
        first_error: Mutex::new(None),
        needle: RwLock::new(Arc::from(&b""[..])),
        base: Instant::now(),
        arrivals: (0..opts.subscribers).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicUsize::new(0),
        unexpected: AtomicUsize::new(0),
        duplicates: AtomicUsize::new(0),
    });

    // Idle baseline: the server after seeding, settled.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.stats();

    let mut tasks = tokio::task::JoinSet::new();
    let t0 = Instant::now();
    for i in 0..opts.subscribers {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            if let Err(e) = subscriber(i, &ctx).await {
                ctx.fail(e);
            }
        });
    }
    let deadline = t0 + opts.connect_timeout;
    loop {
        let done = ctx.subscribed.load(Ordering::Relaxed) + ctx.lost.load(Ordering::Relaxed);
        if done >= opts.subscribers || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let subscribed = ctx.subscribed.load(Ordering::Relaxed);
    let connect_s = ctx
        .all_subscribed
        .get()
        .map_or(f64::NAN, |t| (*t - t0).as_secs_f64());
    let connected = server.stats();
    eprintln!(
        "fanout     {:<10} {subscribed}/{} subscribed in {:.2} s ({} lost{})",
        server.kind.name(),
        opts.subscribers,
        if connect_s.is_nan() {
            t0.elapsed().as_secs_f64()
        } else {
            connect_s
        },
        ctx.lost.load(Ordering::Relaxed),
        ctx.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default()
    );

    // Idle with everyone subscribed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.check_alive()?;
    let after = server.stats();
    let client_after = crate::server::ProcStats::read(std::process::id()).rss_kib;
    let per_client_kib = if subscribed == 0 {
        f64::NAN
    } else {
        (after.rss_kib as f64 - before.rss_kib as f64) / subscribed as f64
    };
    eprintln!(
        "fanout     {:<10} RSS {:.1} → {:.1} MiB: {per_client_kib:.1} KiB per idle client",
        server.kind.name(),
        before.rss_kib as f64 / 1024.0,
        after.rss_kib as f64 / 1024.0
    );

    let mut deliveries = Vec::new();
    if subscribed > 0 {
        let user = &fixture.users[0];
        let mut seq = 0usize;
        for topic in Topic::ALL {
            let mut writes = Vec::new();
            for _ in 0..opts.writes {
                seq += 1;
                let (path, id, body) = match topic {
                    Topic::Public => {
                        let id = format!("f{seq:014}");
                        (
                            format!("/api/collections/{FEED}/records"),
                            id.clone(),
                            json!({"id": id, "text": format!("fan-out write {seq}")}),
                        )
                    }
                    Topic::Authed => {
                        let id = format!("y{seq:014}");
                        let body = json!({"id": id, "room": user.rooms[0], "author": user.id, "text": format!("fan-out write {seq}")});
                        ("/api/collections/messages/records".to_owned(), id, body)
                    }
                };
                let req = Req::json(Method::POST, path, Some(&user.token), &body);
                let d = deliver(server, &ctx, &http, &req, &id, opts.delivery_timeout).await?;
                eprintln!(
                    "fanout     {:<10} {:<8} write {seq}: {}/{} received  first {:.1} ms  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (create {:.1} ms, server cpu {:.2} s)",
                    server.kind.name(),
                    topic.short(),
                    d.received,
                    opts.subscribers,
                    d.min,
                    d.p50,
                    d.p99,
                    d.max,
                    d.write_ms,
                    d.cpu_s
                );
                writes.push(d);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            deliveries.push((topic, writes));
        }
    }
    server.check_alive()?;

    // Disconnect everyone (aborting the tasks closes the sockets) and let the server notice.
    tasks.shutdown().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first_error = ctx
        .first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(Outcome {
        target: opts.subscribers,
        subscribed,
        connect_s,
        connect_cpu_s: connected.cpu_s - before.cpu_s,
        rss_before_mib: before.rss_kib as f64 / 1024.0,
        rss_after_mib: after.rss_kib as f64 / 1024.0,
        per_client_kib,
        client_rss_mib: client_after as f64 / 1024.0,
        deliveries,
        unexpected: ctx.unexpected.load(Ordering::Relaxed),
        duplicates: ctx.duplicates.load(Ordering::Relaxed),
        lost: ctx.lost.load(Ordering::Relaxed),
        first_error,
    })
}

/// One write: arm the needle, send, wait for every subscriber (or the timeout), collect.
async fn deliver(
    server: &Server,
    ctx: &Ctx,
    http: &Http,
    req: &Req,
    id: &str,
    timeout: Duration,
) -> Result<Delivery> {
    for a in &ctx.arrivals {
        a.store(0, Ordering::Relaxed);
    }
    ctx.received.store(0, Ordering::Relaxed);
    *ctx.needle.write().unwrap_or_else(|e| e.into_inner()) =
        Arc::from(format!("\"id\":\"{id}\"").into_bytes());
    let expected = ctx.subscribed.load(Ordering::Relaxed);
    let cpu_before = server.stats().cpu_s;

    let sent = Instant::now();
    let (status, body) = http.send(req, timeout).await?;
    let write_ms = sent.elapsed().as_secs_f64() * 1000.0;
    if !(200..300).contains(&status) {
        bail!(
            "{} {} → {status}: {}",
            req.method,
            req.path,
            String::from_utf8_lossy(&body)
        );
    }
    let deadline = sent + timeout;
    while ctx.received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cpu_s = server.stats().cpu_s - cpu_before;
    // Stop counting this write before reading the stamps.
    *ctx.needle.write().unwrap_or_else(|e| e.into_inner()) = Arc::from(&b""[..]);

    let origin = (sent - ctx.base).as_nanos() as u64 + 1;
    let mut lat_us: Vec<u64> = ctx
        .arrivals
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .filter(|&t| t != 0)
        .map(|t| t.saturating_sub(origin) / 1000)
        .collect();
    lat_us.sort_unstable();
    let q = |q: f64| {
        if lat_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * lat_us.len() as f64).ceil() as usize).clamp(1, lat_us.len());
        lat_us[rank - 1] as f64 / 1000.0
    };
    Ok(Delivery {
        received: lat_us.len(),
        min: q(0.0),
        p50: q(0.50),
        p90: q(0.90),
        p99: q(0.99),
        max: q(1.0),
        write_ms,
        cpu_s,
    })
}

/// One subscriber: connect, `PB_CONNECT`, subscribe, then stamp every event until aborted.
async fn subscriber(i: usize, ctx: &Ctx) -> std::result::Result<(), String> {
    let permit = ctx
        .gate
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(ctx.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = sock.set_nodelay(true);
    sock.write_all(ctx.request.as_bytes())
        .await
        .map_err(|e| format!("sending GET /api/realtime: {e}"))?;
    let mut parser = SseStream::default();
    let mut buf = [0u8; 512];
    let mut client_id: Option<String> = None;
    while client_id.is_none() {
        let n = sock
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading before PB_CONNECT: {e}"))?;
        if n == 0 {
            return Err("stream closed before PB_CONNECT".into());
        }
        parser.feed(&buf[..n], &mut |name, data| {
            if name == b"PB_CONNECT" {
                client_id = serde_json::from_slice::<serde_json::Value>(data)
                    .ok()
                    .and_then(|v| v["clientId"].as_str().map(str::to_owned));
            }
        })?;
    }
    let token = &ctx.tokens[i % ctx.tokens.len()];
    let body = json!({"clientId": client_id, "subscriptions": ctx.subscriptions});
    let req = Req::json(Method::POST, "/api/realtime", Some(token), &body);
    let (status, resp) = ctx
        .http
        .send(&req, Duration::from_secs(30))
        .await
        .map_err(|e| format!("POST /api/realtime: {e:#}"))?;
    if status != 204 {
        return Err(format!(
            "POST /api/realtime → {status}: {}",
            String::from_utf8_lossy(&resp)
        ));
    }
    drop(permit);
    if ctx.subscribed.fetch_add(1, Ordering::Relaxed) + 1 == ctx.target {
        let _ = ctx.all_subscribed.set(Instant::now());
    }
    loop {
        let n = sock
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading the stream: {e}"))?;
        let at = Instant::now();
        if n == 0 {
            return Err("the server closed the stream".into());
        }
        parser.feed(&buf[..n], &mut |_, data| ctx.arrived(i, data, at))?;
    }
}

/// A streaming reader of one SSE response: status line and headers, then the body (chunked or
/// not), split into SSE lines and events. Keeps only the current line and event.
#[derive(Default)]
struct SseStream {
    in_body: bool,
    status_seen: bool,
    chunked: bool,
    chunk: Chunk,
    line: Vec<u8>,
    name: Vec<u8>,
    data: Vec<u8>,
}

#[derive(Default, Clone, Copy)]
enum Chunk {
    /// Reading the hex size line (`ext` once a `;` extension started).
    #[default]
    Size,
    SizeValue(usize, bool),
    Data(usize),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// The zero-size chunk: the stream is over.
    Done,
}

const MAX_LINE: usize = 64 * 1024;

impl SseStream {
    fn feed(
        &mut self,
        input: &[u8],
        on_event: &mut impl FnMut(&[u8], &[u8]),
    ) -> std::result::Result<(), String> {
        for &b in input {
            if !self.in_body {
                self.header_byte(b)?;
                continue;
            }
            if !self.chunked {
                self.sse_byte(b, on_event)?;
                continue;
            }
            self.chunk = match self.chunk {
                Chunk::Size | Chunk::SizeValue(..) => {
                    let (n, ext) = match self.chunk {
                        Chunk::SizeValue(n, ext) => (n, ext),
                        _ => (0, false),
                    };
                    match b {
                        b'\n' if n == 0 => Chunk::Done,
                        b'\n' => Chunk::Data(n),
                        b'\r' => Chunk::SizeValue(n, ext),
                        _ if ext => Chunk::SizeValue(n, true),
                        b';' | b' ' | b'\t' => Chunk::SizeValue(n, true),
                        _ => {
                            let d = (b as char)
                                .to_digit(16)
                                .ok_or_else(|| format!("bad chunk size byte {b:#04x}"))?
                                as usize;
                            Chunk::SizeValue(
                                n.checked_mul(16)
                                    .and_then(|v| v.checked_add(d))
                                    .ok_or("chunk size overflow")?,
                                false,
                            )
                        }
                    }
                }
                Chunk::Data(left) => {
                    self.sse_byte(b, on_event)?;
                    if left == 1 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - 1)
                    }
                }
                Chunk::DataEnd => match b {
                    b'\r' => Chunk::DataEnd,
                    b'\n' => Chunk::Size,
                    _ => return Err(format!("expected CRLF after a chunk, got {b:#04x}")),
                },
                Chunk::Done => return Err("data after the last chunk".into()),
            };
        }
        Ok(())
    }

    fn push(&mut self, b: u8) -> std::result::Result<(), String> {
        if self.line.len() >= MAX_LINE {
            return Err("line longer than 64 KiB".into());
        }
        self.line.push(b);
        Ok(())
    }

    fn header_byte(&mut self, b: u8) -> std::result::Result<(), String> {
        if b != b'\n' {
            return self.push(b);
        }
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if !self.status_seen {
            self.status_seen = true;
            let status = String::from_utf8_lossy(&line);
            if status.split_whitespace().nth(1) != Some("200") {
                return Err(format!("GET /api/realtime answered `{status}`"));
            }
        } else if line.is_empty() {
            self.in_body = true;
        } else {
            let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
            if let Some(v) = text.strip_prefix("transfer-encoding:")
                && v.contains("chunked")
            {
                self.chunked = true;
            }
        }
        line.clear();
        self.line = line;
        Ok(())
    }

    fn sse_byte(
        &mut self,
        b: u8,
        on_event: &mut impl FnMut(&[u8], &[u8]),
    ) -> std::result::Result<(), String> {
        if b != b'\n' {
            return self.push(b);
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        if self.line.is_empty() {
            if !self.name.is_empty() || !self.data.is_empty() {
                on_event(&self.name, &self.data);
            }
            self.name.clear();
            self.data.clear();
        } else if self.line[0] != b':' {
            let (field, value) = match self.line.iter().position(|&c| c == b':') {
                Some(p) => {
                    let v = &self.line[p + 1..];
                    (&self.line[..p], v.strip_prefix(b" ").unwrap_or(v))
                }
                None => (&self.line[..], &b""[..]),
            };
            match field {
                b"event" => {
                    self.name.clear();
                    self.name.extend_from_slice(value);
                }
                b"data" => {
                    if !self.data.is_empty() {
                        self.data.push(b'\n');
                    }
                    self.data.extend_from_slice(value);
                }
                _ => {}
            }
        }
        self.line.clear();
        Ok(())
    }
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r.is_nan() || r.is_infinite() {
        "–".into()
    } else {
        format!("{r:.2}×")
    }
}

/// The fan-out tables (oxbase, PocketBase), Markdown; `Err` = that server's run failed outright.
pub fn markdown(
    opts: &Options,
    results: &[(&str, std::result::Result<Outcome, String>); 2],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Settings: {} subscribers, one TCP connection each (raw HTTP/1.1 `GET /api/realtime`, at most {} opening at once), \
         each subscribed to `{FEED}/*` and `messages/*` with the token of one of the {} seeded users (round-robin); \
         {} single writes per topic, 1 s apart, medians over the writes reported (received: the worst write); \
         latency = send instant of the create request → the event parsed by the subscriber's task; \
         memory per idle client = (server VmRSS 2 s after all subscribed − VmRSS before connecting) / subscribers.\n",
        opts.subscribers,
        opts.connect_concurrency,
        seed::USERS,
        opts.writes
    );
    s.push_str("| | oxbase | PocketBase | × |\n|---|---:|---:|---:|\n");
    let ok = |i: usize| results[i].1.as_ref().ok();
    let (o, p) = (ok(0), ok(1));
    let mut row =
        |label: String, f: &dyn Fn(&Outcome) -> String, x: Option<&dyn Fn(&Outcome) -> f64>| {
            let cell = |v: Option<&Outcome>| v.map_or("FAILED".into(), f);
            let r = match (o, p, x) {
                (Some(o), Some(p), Some(g)) => ratio(g(o), g(p)),
                _ => "–".into(),
            };
            let _ = writeln!(s, "| {label} | {} | {} | {r} |", cell(o), cell(p));
        };
    row(
        "subscribed (of N)".into(),
        &|v| format!("{} / {}", v.subscribed, v.target),
        None,
    );
    row(
        "connect + subscribe all, s".into(),
        &|v| fmt(v.connect_s),
        Some(&|v| v.connect_s),
    );
    row(
        "server CPU while connecting, s".into(),
        &|v| fmt(v.connect_cpu_s),
        Some(&|v| v.connect_cpu_s),
    );
    row(
        "server RSS before → all subscribed, MiB".into(),
        &|v| format!("{} → {}", fmt(v.rss_before_mib), fmt(v.rss_after_mib)),
        None,
    );
    row(
        "**memory per idle client, KiB**".into(),
        &|v| format!("**{}**", fmt(v.per_client_kib)),
        Some(&|v| v.per_client_kib),
    );
    for (t, topic) in Topic::ALL.iter().enumerate() {
        row(
            format!("{}: received (worst write)", topic.label()),
            &|v| format!("{} / {}", v.min_received(t), v.target),
            None,
        );
        row(
            format!(
                "{}: delivery first / p50 / p90 / p99 / max ms",
                topic.short()
            ),
            &|v| {
                format!(
                    "{} / {} / {} / {} / {}",
                    fmt(v.med(t, |d| d.min)),
                    fmt(v.med(t, |d| d.p50)),
                    fmt(v.med(t, |d| d.p90)),
                    fmt(v.med(t, |d| d.p99)),
                    fmt(v.med(t, |d| d.max))
                )
            },
            Some(&|v| v.med(t, |d| d.p99)),
        );
        row(
            format!(
                "{}: create request ms / server CPU per write s",
                topic.short()
            ),
            &|v| {
                format!(
                    "{} / {}",
                    fmt(v.med(t, |d| d.write_ms)),
                    fmt(v.med(t, |d| d.cpu_s))
                )
            },
            None,
        );
    }
    row(
        "bench client's own RSS, all subscribed, MiB".into(),
        &|v| fmt(v.client_rss_mib),
        None,
    );
    s.push_str(
        "\nThe × column is oxbase / PocketBase (below 1 is better); the delivery × compares p99.\n",
    );

    let mut notes = Vec::new();
    for (name, r) in results {
        match r {
            Err(e) => notes.push(format!("- {name}: FAILED — `{}`", e.replace('`', "'"))),
            Ok(v) => {
                if !v.all_received() {
                    notes.push(format!(
                        "- {name}: FAILED — not every subscriber received every write"
                    ));
                }
                if v.lost > 0 || v.unexpected > 0 || v.duplicates > 0 {
                    notes.push(format!(
                        "- {name}: {} subscriber(s) lost, {} unexpected event(s), {} duplicate(s){}",
                        v.lost,
                        v.unexpected,
                        v.duplicates,
                        v.first_error.as_ref().map(|e| format!("; first error: `{}`", e.replace('`', "'"))).unwrap_or_default()
                    ));
                }
            }
        }
    }
    if !notes.is_empty() {
        s.push('\n');
        s.push_str(&notes.join("\n"));
        s.push('\n');
    }

    s.push_str("\n#### Targets (issue #6)\n\n| target | oxbase | PocketBase |\n|---|---:|---:|\n");
    let cell = |v: Option<&Outcome>, text: String, met: bool| {
        v.map_or("FAILED".into(), |_| {
            if met {
                format!("{text} yes")
            } else {
                format!("{text} **no**")
            }
        })
    };
    let n = opts.subscribers;
    let _ = writeln!(
        s,
        "| all {n} subscribers receive every write | {} | {} |",
        cell(o, String::new(), o.is_some_and(Outcome::all_received)).trim(),
        cell(p, String::new(), p.is_some_and(Outcome::all_received)).trim()
    );
    let p99 = |v: Option<&Outcome>| {
        cell(
            v,
            format!("{} ms", fmt(v.map_or(f64::NAN, Outcome::worst_p99))),
            v.is_some_and(|v| v.worst_p99() < 1000.0),
        )
    };
    let _ = writeln!(
        s,
        "| delivery p99 < 1 s (worst single write) | {} | {} |",
        p99(o),
        p99(p)
    );
    let mem = |v: Option<&Outcome>| {
        cell(
            v,
            format!("{} KiB", fmt(v.map_or(f64::NAN, |v| v.per_client_kib))),
            v.is_some_and(|v| v.per_client_kib < 50.0),
        )
    };
    let _ = writeln!(
        s,
        "| < 50 KiB of server memory per idle client | {} | {} |",
        mem(o),
        mem(p)
    );
    s
}

/// The fan-out options from the CLI's, with the fixed time bounds (60 s to connect, 10 s per delivery).
pub fn options(subscribers: usize, connect_concurrency: usize, writes: usize) -> Result<Options> {
    if subscribers == 0 {
        return Err(anyhow!("--subscribers must be at least 1"));
    }
    Ok(Options {
        subscribers,
        connect_concurrency: connect_concurrency.max(1),
        writes: writes.max(1),
        connect_timeout: Duration::from_secs(60),
        delivery_timeout: Duration::from_secs(10),
    })
}
