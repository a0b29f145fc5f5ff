//! Starting and stopping a server under test, and reading its memory and CPU from /proc.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::client::{Http, Req};

pub const SU_EMAIL: &str = "bench@example.com";
pub const SU_PASSWORD: &str = "bench-password-123";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Oxbase,
    PocketBase,
    /// Another oxbase build standing in for PocketBase (`--baseline`, A/B of a change).
    Baseline,
    /// nginx answering one fixed JSON body to every request: the HTTP floor of this machine.
    Nginx,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Oxbase => "oxbase",
            Kind::PocketBase => "PocketBase",
            Kind::Baseline => "baseline",
            Kind::Nginx => "nginx",
        }
    }
}

/// A running server under test, reached at `url`: one process, or (scale-out) several oxbase
/// instances on one PostgreSQL database behind nginx. Killed, its data dir and database removed,
/// on drop.
pub struct Server {
    pub kind: Kind,
    pub url: String,
    /// The server processes, nginx last.
    children: Vec<Child>,
    root: PathBuf,
    /// The PostgreSQL database the instances share: its CPU is counted with theirs.
    database: Option<Database>,
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

fn fresh_root(kind: Kind) -> Result<PathBuf> {
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!(
        "oxbase-bench-{}-{}-{n}",
        std::process::id(),
        kind.name().to_lowercase()
    ));
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    fs::create_dir_all(&root)?;
    if let Some(hooks) = HOOKS.get() {
        // Both servers load the same hook files: oxbase from `ox_hooks` (its default, relative
        // to the working directory, which is `root`), PocketBase from `h` (its `--hooksDir`).
        for dir in ["ox_hooks", "h"] {
            fs::create_dir_all(root.join(dir))?;
            for entry in fs::read_dir(hooks)? {
                let path = entry?.path();
                if let Some(name) = path.file_name() {
                    fs::copy(&path, root.join(dir).join(name))?;
                }
            }
        }
    }
    Ok(root)
}

/// The hook files every server of the run loads (`--hooks`), if any.
pub static HOOKS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The data dir passed with `--dir`.
fn data_dir(kind: Kind, root: &Path) -> PathBuf {
    match kind {
        Kind::Oxbase | Kind::Baseline => root.join("ox_data"),
        Kind::PocketBase => root.join("pb_data"),
        Kind::Nginx => root.join("nginx"),
    }
}

/// Creates the superuser with the binary's own CLI (before `serve`).
fn upsert_superuser(kind: Kind, bin: &Path, root: &Path, db: Option<&str>) -> Result<()> {
    let mut cmd = Command::new(bin);
    cmd.args(["superuser", "upsert", SU_EMAIL, SU_PASSWORD, "--dir"])
        .arg(data_dir(kind, root));
    if let Some(url) = db {
        cmd.arg("--db").arg(url);
    }
    let out = cmd
        .current_dir(root)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} superuser upsert failed: {}{}",
            kind.name(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Spawns `bin serve` on `port`, logging to `log`.
fn spawn_serve(
    kind: Kind,
    bin: &Path,
    root: &Path,
    port: u16,
    db: Option<&str>,
    log: &str,
) -> Result<Child> {
    let log = fs::File::create(root.join(log))?;
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--http")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dir")
        .arg(data_dir(kind, root));
    match kind {
        Kind::Oxbase | Kind::Baseline => {
            cmd.arg("--publicDir").arg(root.join("public"));
            if let Some(url) = db {
                cmd.arg("--db")
                    .arg(url)
                    .arg("--dbConnections")
                    .arg(PG_CONNECTIONS.to_string());
            }
        }
        Kind::Nginx => bail!("nginx is started by `Server::start_nginx`"),
        Kind::PocketBase => {
            cmd.arg("--automigrate=false")
                .arg("--migrationsDir")
                .arg(root.join("m"))
                .arg("--hooksDir")
                .arg(root.join("h"))
                .arg("--publicDir")
                .arg(root.join("p"));
        }
    }
    cmd.current_dir(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))
}

/// A server using less CPU than this (cores) over `QUIET_WINDOW` is quiet. /proc counts CPU in
/// 10 ms ticks, hence the window's length.
const QUIET_CPU: f64 = 0.04;
const QUIET_WINDOW: Duration = Duration::from_millis(500);
/// The longest wait for a server to go quiet.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

/// PostgreSQL connections per instance: every scale-out target stays up for the whole run (the
/// rounds alternate between them), 7 instances in all, and PostgreSQL allows 100 clients.
pub const PG_CONNECTIONS: usize = 8;

/// Where the scale-out targets run: PostgreSQL (a fresh database per target, created from the
/// `admin_url` connection) and nginx.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub admin_url: String,
    pub instances: usize,
    /// With nginx in front (always when more than one instance).
    pub nginx: Option<PathBuf>,
}

impl Server {
    /// Starts `bin` on a fresh data dir and a free port; returns once `/api/health` answers 200,
    /// with the time from spawn to that first 200.
    pub async fn start(kind: Kind, bin: &Path, with_superuser: bool) -> Result<(Server, Duration)> {
        let root = fresh_root(kind)?;
        if with_superuser {
            upsert_superuser(kind, bin, &root, None)?;
        }
        let port = free_port()?;
        let started = Instant::now();
        let child = spawn_serve(kind, bin, &root, port, None, "server.log")?;
        let mut server = Server {
            kind,
            url: format!("http://127.0.0.1:{port}"),
            children: vec![child],
            root,
            database: None,
        };
        server.wait_healthy(&server.url.clone(), started).await?;
        Ok((server, started.elapsed()))
    }

    /// Starts `spec.instances` oxbase processes on one fresh PostgreSQL database, one after the
    /// other (the first migrates it), and nginx in front of them when `spec.nginx` is set.
    pub async fn start_cluster(bin: &Path, spec: &ClusterSpec) -> Result<Server> {
        let root = fresh_root(Kind::Oxbase)?;
        let database = Database::create(&spec.admin_url).await?;
        let url = database.url.clone();
        let mut server = Server {
            kind: Kind::Oxbase,
            url: String::new(),
            children: Vec::new(),
            root,
            database: Some(database),
        };
        upsert_superuser(Kind::Oxbase, bin, &server.root, Some(&url))?;
        let mut ports = Vec::new();
        for i in 0..spec.instances.max(1) {
            let port = free_port()?;
            let child = spawn_serve(
                Kind::Oxbase,
                bin,
                &server.root,
                port,
                Some(&url),
                &format!("server-{i}.log"),
            )?;
            server.children.push(child);
            server
                .wait_healthy(&format!("http://127.0.0.1:{port}"), Instant::now())
                .await?;
            ports.push(port);
        }
        server.url = match &spec.nginx {
            None => format!("http://127.0.0.1:{}", ports[0]),
            Some(nginx) => {
                let port = free_port()?;
                let conf = server.root.join("nginx.conf");
                fs::write(&conf, nginx_conf(&server.root, port, &ports))?;
                server
                    .children
                    .push(spawn_nginx(nginx, &server.root, &conf)?);
                let lb = format!("http://127.0.0.1:{port}");
                server.wait_healthy(&lb, Instant::now()).await?;
                lb
            }
        };
        Ok(server)
    }

    /// Starts nginx answering `body` (JSON) with a 200 to every request: the floor target.
    pub async fn start_nginx(nginx: &Path, body: &str) -> Result<Server> {
        let root = fresh_root(Kind::Nginx)?;
        let port = free_port()?;
        let conf = root.join("nginx.conf");
        fs::write(&conf, nginx_fixed_conf(&root, port, body)?)?;
        let mut server = Server {
            kind: Kind::Nginx,
            url: format!("http://127.0.0.1:{port}"),
            children: Vec::new(),
            root,
            database: None,
        };
        server
            .children
            .push(spawn_nginx(nginx, &server.root, &conf)?);
        server
            .wait_healthy(&server.url.clone(), Instant::now())
            .await?;
        Ok(server)
    }

    async fn wait_healthy(&mut self, url: &str, started: Instant) -> Result<()> {
        let http = Http::new(url, 1);
        let health = Req::get("/api/health", None);
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http.send(&health, Duration::from_secs(2)).await {
                return Ok(());
            }
            self.check_alive()
                .with_context(|| format!("during startup of {url}"))?;
            if Instant::now() > deadline {
                bail!(
                    "{} not healthy after 30 s; log:\n{}",
                    self.kind.name(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The last lines of every log in the data dir's root.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        let mut logs: Vec<PathBuf> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        logs.sort();
        for log in logs {
            let text = fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let name = log.file_name().unwrap_or_default().to_string_lossy();
            out.push_str(&format!("--- {name}\n"));
            out.push_str(&lines[lines.len().saturating_sub(20)..].join("\n"));
            out.push('\n');
        }
        out
    }

    /// Fails if a process has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        for child in &mut self.children {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{} exited with {status}; log:\n{}",
                    self.kind.name(),
                    self.log_tail()
                );
            }
        }
        Ok(())
    }

    /// CPU and memory of the server's processes together, plus the CPU of PostgreSQL's
    /// processes when the server runs on it (its memory is mostly shared buffers: not counted).
    pub fn stats(&self) -> ProcStats {
        let mut total = ProcStats::default();
        for pid in self.pids() {
            total.add(ProcStats::read(pid));
        }
        if self.database.is_some() {
            for pid in processes_named("postgres") {
                total.cpu_s += ProcStats::read(pid).cpu_s;
            }
        }
        total
    }

    /// Waits, at most `SETTLE_LIMIT`, until the server has gone quiet: less than `QUIET_CPU` of
    /// a core over one `QUIET_WINDOW`. A server keeps working after its load ends (PocketBase
    /// writes its request log in the background: about half a core for 5 s after a view run
    /// here), and that work must neither slow the next run of the other server nor go missing
    /// from this server's CPU. Says so when it stays busy.
    pub async fn settle(&self) {
        let started = Instant::now();
        let mut last = self.stats().cpu_s;
        while started.elapsed() < SETTLE_LIMIT {
            tokio::time::sleep(QUIET_WINDOW).await;
            let now = self.stats().cpu_s;
            if now - last <= QUIET_CPU * QUIET_WINDOW.as_secs_f64() {
                return;
            }
            last = now;
        }
        eprintln!(
            "note: {} still busy after {} s",
            self.kind.name(),
            SETTLE_LIMIT.as_secs()
        );
    }

    /// Resets the peak-RSS high-water mark (VmHWM) to the current RSS, so the next reading is the
    /// peak of what follows. Returns false where the kernel does not allow it.
    pub fn reset_peak(&self) -> bool {
        self.pids()
            .into_iter()
            .all(|pid| fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok())
    }

    /// The processes this server started, in order (scale-out: the instances, then nginx).
    pub fn child_pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// The server's processes and theirs (nginx serves from a worker process it forks).
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.children.iter().map(Child::id).collect();
        if self.children.len() > 1 || self.kind == Kind::Nginx {
            let parents = parent_pids();
            let mut i = 0;
            while i < pids.len() {
                let parent = pids[i];
                pids.extend(
                    parents
                        .iter()
                        .filter(|(_, p)| *p == parent)
                        .map(|(c, _)| *c),
                );
                i += 1;
            }
        }
        pids
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // nginx first, then the instances. SIGTERM first, so a server can close its database;
        // SIGKILL after 3 s.
        for child in self.children.iter_mut().rev() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(db) = self.database.take() {
            db.drop_blocking();
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Spawns nginx in the foreground on `conf`, its prefix and log in `root`.
fn spawn_nginx(nginx: &Path, root: &Path, conf: &Path) -> Result<Child> {
    let log = fs::File::create(root.join("nginx.log"))?;
    Command::new(nginx)
        .arg("-p")
        .arg(root)
        .arg("-c")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", nginx.display()))
}

/// The settings every nginx of the benchmark shares: one worker, no access log, temp paths in
/// `root`, then `http` (the `http` block's own directives).
fn nginx_conf_with(root: &Path, http: &str) -> String {
    let root = root.display();
    format!(
        r#"pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
daemon off;
worker_processes 1;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
{http}}}
"#
    )
}

/// nginx answering `body` to every request, as `application/json`, over keep-alive connections.
fn nginx_fixed_conf(root: &Path, port: u16, body: &str) -> Result<String> {
    if body.contains(['$', '\\', '\'', '\n']) {
        bail!("the floor body must not need escaping in nginx's configuration: {body}");
    }
    Ok(nginx_conf_with(
        root,
        &format!(
            r#"  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      default_type application/json;
      return 200 '{body}';
    }}
  }}
"#
        ),
    ))
}

/// The nginx configuration of docs/deploy.md (keep-alive upstream connections), on local ports.
fn nginx_conf(root: &Path, port: u16, upstreams: &[u16]) -> String {
    let servers: String = upstreams
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p};\n"))
        .collect();
    nginx_conf_with(
        root,
        &format!(
            r#"  upstream oxbase {{
{servers}    keepalive 128;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 64m;
    location / {{
      proxy_pass http://oxbase;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
"#
        ),
    )
}

/// A fresh PostgreSQL database for one target, dropped afterwards.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

impl Database {
    async fn create(admin_url: &str) -> Result<Database> {
        let name = format!(
            "oxbase_bench_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        let (base, _) = admin_url
            .rsplit_once('/')
            .filter(|(b, _)| b.contains("://"))
            .context("--pg URL must name a database: postgres://user@host:5432/db")?;
        let client = admin(admin_url).await?;
        // One statement each: DROP and CREATE DATABASE cannot share a transaction.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            client
                .batch_execute(&statement)
                .await
                .with_context(|| format!("creating database {name}"))?;
        }
        Ok(Database {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// Called from `Drop` inside the async runtime: runs on its own thread and runtime.
    fn drop_blocking(self) {
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let client = admin(&self.admin_url).await?;
                client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                    .await?;
                anyhow::Ok(())
            })
        })
        .join();
    }
}

async fn admin(url: &str) -> Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    tokio::spawn(conn);
    Ok(client)
}

/// Every process's pid, from /proc.
fn all_pids() -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
}

/// (pid, parent pid) of every process.
fn parent_pids() -> Vec<(u32, u32)> {
    all_pids()
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the parenthesised name: state, then the parent pid.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// The pids of the processes whose command name is `name`.
pub fn processes_named(name: &str) -> Vec<u32> {
    all_pids()
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .collect()
}

/// What /proc says about a process at one instant.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcStats {
    /// user + system CPU seconds since start (all threads).
    pub cpu_s: f64,
    /// Current resident set, KiB (VmRSS).
    pub rss_kib: u64,
    /// Peak resident set since start or the last reset, KiB (VmHWM).
    pub hwm_kib: u64,
}

impl ProcStats {
    fn add(&mut self, other: ProcStats) {
        self.cpu_s += other.cpu_s;
        self.rss_kib += other.rss_kib;
        self.hwm_kib += other.hwm_kib;
    }

    pub fn read(pid: u32) -> ProcStats {
        let mut s = ProcStats::default();
        if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) {
            // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
            if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                s.cpu_s = (ticks(11) + ticks(12)) as f64 / clock_ticks() as f64;
            }
        }
        if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
            for line in status.lines() {
                let kib = || {
                    line.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                };
                if line.starts_with("VmRSS:") {
                    s.rss_kib = kib();
                } else if line.starts_with("VmHWM:") {
                    s.hwm_kib = kib();
                }
            }
        }
        s
    }
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}
