//! Command-line options.

use std::path::PathBuf;

use clap::Parser;

/// Side-by-side benchmark of oxbase and PocketBase: starts each server from its binary on a fresh
/// data dir, seeds the same chat schema and data, runs the same workloads with the same client,
/// and prints medians and oxbase/PocketBase ratios.
#[derive(Debug, Parser)]
#[command(name = "oxbase-bench")]
pub struct Cli {
    /// The oxbase binary.
    #[arg(long, default_value = "target/release/oxbase")]
    pub oxbase: PathBuf,
    /// The PocketBase binary (default: what `/work/shared/tools/pocketbase-ref --path` prints,
    /// or `pocketbase` on the PATH).
    #[arg(long)]
    pub pocketbase: Option<PathBuf>,
    /// Compare against another oxbase build instead of PocketBase (before/after a change): its
    /// figures take PocketBase's columns, labelled "baseline"; the targets are not judged and
    /// `--write-doc` is refused.
    #[arg(long, conflicts_with_all = ["pocketbase", "write_doc"])]
    pub baseline: Option<PathBuf>,
    /// Run only these workloads (repeatable, or comma-separated): floor, view, list, list_total,
    /// expand, graphql, graphql_rest, update, insert, auth, fanout, files, scaleout. `fanout` (realtime, issue #6),
    /// `files` (uploads and downloads, issue #5) and `scaleout` (PostgreSQL and nginx, issue #7;
    /// with workloads named alongside, it runs those) are not part of the default run: name them.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Concurrent workers for the throughput runs (every workload also runs at 1 for latency).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Warm-up seconds per run, not measured.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Rounds per workload and server; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Startup measurements (spawn → first 200 on /api/health, empty data dir) per server.
    #[arg(long, default_value_t = 5)]
    pub startup_rounds: usize,
    /// Seed size: messages (users 100, rooms 20, members 1000 are fixed).
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Worker threads of the load generator's runtime (it shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Skip the concurrency-1 (latency) runs.
    #[arg(long)]
    pub no_latency: bool,
    /// fanout: concurrent SSE subscribers.
    #[arg(long, default_value_t = 10_000)]
    pub subscribers: usize,
    /// fanout: subscribers opening their connection (and subscribing) at once.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// fanout: single writes per topic (medians are reported).
    #[arg(long, default_value_t = 3)]
    pub fanout_writes: usize,
    /// files: size of the uploaded and downloaded file, MiB.
    #[arg(long, default_value_t = 100)]
    pub file_mib: usize,
    /// scaleout: the PostgreSQL server, as a URL naming an existing database to connect to; each
    /// target gets a fresh database created from it (and dropped afterwards).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub pg: String,
    /// The nginx binary: the floor target of the main run (a fixed JSON body, measured with the
    /// `floor` workload; skipped when absent), and the load balancer of scaleout.
    #[arg(long, default_value = "/usr/sbin/nginx")]
    pub nginx: PathBuf,
    /// scaleout: the largest number of instances behind nginx (runs 1..=N).
    #[arg(long, default_value_t = 3)]
    pub max_instances: usize,
    /// scaleout: the scale-out model. Each oxbase instance runs in a cgroup of its own limited
    /// to this fraction of a core, on the machine's last CPU; nginx, PostgreSQL and the load
    /// generator are pinned to the other CPUs (needs root, the cgroup cpu controller, taskset).
    /// The instances must fit on one CPU: at most 1 / --max-instances each.
    #[arg(long)]
    pub instance_cpu: Option<f64>,
    /// The request log of the server under test, set after seeding: `on` (the default 5
    /// days), `errors` (only error answers are written: `logs.minLevel` 8), `off`
    /// (`logs.maxDays` 0).
    #[arg(long, value_enum, default_value_t = Logs::On)]
    pub logs: Logs,
    /// The request log of the other server (PocketBase or `--baseline`); default: as `--logs`.
    /// `--baseline <same binary> --logs on --baseline-logs off` measures what logging costs.
    #[arg(long, value_enum)]
    pub baseline_logs: Option<Logs>,
    /// Replace the generated section of this Markdown file with the results.
    #[arg(long)]
    pub write_doc: Option<PathBuf>,
    /// oxbase only: one webhook (a receiver in this process) and NATS JetStream publishing on
    /// every message insert while the workloads run; reports their delivery lag (issue #21).
    #[arg(long)]
    pub events: bool,
    /// `--events`: the NATS server (host:port) with JetStream.
    #[arg(long, default_value = "127.0.0.1:4222")]
    pub nats: String,
    /// A folder of JS hook files (`*.pb.js`) that every server loads, oxbase and PocketBase
    /// alike (`bench/hooks` has the ones the `route` workload needs).
    #[arg(long)]
    pub hooks: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Logs {
    On,
    /// Errors only (`logs.minLevel` 8): what a request pays before its entry is written.
    Errors,
    Off,
}

impl Logs {
    /// For the report.
    pub fn describe(self) -> &'static str {
        match self {
            Logs::On => "on (every request, 5 days)",
            Logs::Errors => "errors only (`logs.minLevel` 8)",
            Logs::Off => "off (`logs.maxDays` 0)",
        }
    }
}

impl Cli {
    pub fn pocketbase_path(&self) -> PathBuf {
        if let Some(p) = &self.pocketbase {
            return p.clone();
        }
        let tool = std::path::Path::new("/work/shared/tools/pocketbase-ref");
        if tool.exists()
            && let Ok(out) = std::process::Command::new(tool).arg("--path").output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
        PathBuf::from("pocketbase")
    }
}
