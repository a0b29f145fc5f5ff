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
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Oxbase => "oxbase",
            Kind::PocketBase => "PocketBase",
        }
    }
}

/// A running server; killed (and its data dir removed) on drop.
pub struct Server {
    pub kind: Kind,
    pub url: String,
    child: Child,
    root: PathBuf,
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
    Ok(root)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The data dir passed with `--dir`.
fn data_dir(kind: Kind, root: &Path) -> PathBuf {
    match kind {
        Kind::Oxbase => root.join("ox_data"),
        Kind::PocketBase => root.join("pb_data"),
    }
}

/// Creates the superuser with the binary's own CLI (before `serve`).
fn upsert_superuser(kind: Kind, bin: &Path, root: &Path) -> Result<()> {
    let out = Command::new(bin)
        .args(["superuser", "upsert", SU_EMAIL, SU_PASSWORD, "--dir"])
        .arg(data_dir(kind, root))
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

impl Server {
    /// Starts `bin` on a fresh data dir and a free port; returns once `/api/health` answers 200,
    /// with the time from spawn to that first 200.
    pub async fn start(kind: Kind, bin: &Path, with_superuser: bool) -> Result<(Server, Duration)> {
        let root = fresh_root(kind)?;
        if with_superuser {
            upsert_superuser(kind, bin, &root)?;
        }
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let log = fs::File::create(root.join("server.log"))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--http")
            .arg(&addr)
            .arg("--dir")
            .arg(data_dir(kind, &root));
        match kind {
            Kind::Oxbase => {
                cmd.arg("--publicDir").arg(root.join("public"));
            }
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
        cmd.current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let mut server = Server {
            kind,
            url: format!("http://{addr}"),
            child,
            root,
        };
        let http = Http::new(&server.url, 1);
        let health = Req::get("/api/health", None);
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http.send(&health, Duration::from_secs(2)).await {
                return Ok((server, started.elapsed()));
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "{} exited with {status} during startup; log:\n{}",
                    kind.name(),
                    server.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} not healthy after 30 s; log:\n{}",
                    kind.name(),
                    server.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Fails if the process has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited with {status}; log:\n{}",
                self.kind.name(),
                self.log_tail()
            );
        }
        Ok(())
    }

    pub fn stats(&self) -> ProcStats {
        ProcStats::read(self.pid())
    }

    /// Resets the peak-RSS high-water mark (VmHWM) to the current RSS, so the next reading is the
    /// peak of what follows. Returns false where the kernel does not allow it.
    pub fn reset_peak(&self) -> bool {
        fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first, so the server can close its database; SIGKILL after 3 s.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
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
