//! The scale-out runs (issue #7): the request workloads against oxbase on its SQLite file and on
//! PostgreSQL, first one instance reached directly, then 1, 2 and 3 instances on one database
//! behind nginx. Every target gets its own fresh data (SQLite dir or PostgreSQL database) and the
//! same seed; rounds alternate between the targets, as in the main run. CPU per request counts
//! everything the request costs on this machine: the oxbase processes, nginx, and PostgreSQL.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::client::Http;
use crate::isolate::Isolation;
use crate::report::{Round, Summary, fmt_num};
use crate::seed::{self, Fixture};
use crate::server::{ClusterSpec, Kind, Server};
use crate::workloads::Workload;

pub const NAME: &str = "scaleout";

/// What runs when only `scaleout` is named: a read, a list, the writes and a login.
pub const DEFAULT: [Workload; 6] = [
    Workload::Floor,
    Workload::View,
    Workload::List,
    Workload::Update,
    Workload::Insert,
    Workload::Auth,
];

pub struct Options {
    pub pg_url: String,
    pub nginx: std::path::PathBuf,
    pub max_instances: usize,
    /// `--instance-cpu`: each instance's share of a core, isolated (see `isolate`).
    pub instance_cpu: Option<f64>,
    pub concurrencies: Vec<usize>,
    pub rounds: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub messages: usize,
}

struct Target {
    label: String,
    /// None: the SQLite baseline.
    cluster: Option<ClusterSpec>,
}

fn targets(opts: &Options) -> Vec<Target> {
    let spec = |instances, nginx: bool| ClusterSpec {
        admin_url: opts.pg_url.clone(),
        instances,
        nginx: nginx.then(|| opts.nginx.clone()),
    };
    let mut t = vec![
        Target {
            label: "SQLite, 1 instance".into(),
            cluster: None,
        },
        Target {
            label: "PostgreSQL, 1 instance".into(),
            cluster: Some(spec(1, false)),
        },
    ];
    for n in 1..=opts.max_instances {
        t.push(Target {
            label: format!(
                "PostgreSQL, {n} instance{} + nginx",
                if n == 1 { "" } else { "s" }
            ),
            cluster: Some(spec(n, true)),
        });
    }
    t
}

pub struct Results {
    labels: Vec<String>,
    /// Per workload and concurrency, one summary per target (in `labels` order).
    rows: Vec<(Workload, usize, Vec<Summary>)>,
}

pub async fn run(bin: &Path, workloads: &[Workload], opts: &Options) -> Result<Results> {
    let targets = targets(opts);
    let mut isolation = match opts.instance_cpu {
        Some(f) => {
            let isolation = Isolation::new(f, opts.max_instances)?;
            isolation.pin_postgres()?;
            isolation.pin_shared(&[std::process::id()])?;
            Some(isolation)
        }
        None => None,
    };
    let mut servers = Vec::new();
    let mut fixtures: Vec<Fixture> = Vec::new();
    for t in &targets {
        let server = match &t.cluster {
            None => Server::start(Kind::Oxbase, bin, true).await?.0,
            Some(spec) => Server::start_cluster(bin, spec)
                .await
                .with_context(|| format!("starting {}", t.label))?,
        };
        if let Some(isolation) = isolation.as_mut() {
            let children = server.child_pids();
            let behind_nginx = t.cluster.as_ref().is_some_and(|c| c.nginx.is_some());
            let instances = &children[..children.len() - usize::from(behind_nginx)];
            for &pid in instances {
                isolation.confine_instance(pid)?;
            }
            let others: Vec<u32> = server
                .pids()
                .into_iter()
                .filter(|pid| !instances.contains(pid))
                .collect();
            isolation.pin_shared(&others)?;
        }
        let started = Instant::now();
        let http = Http::new(&server.url, 16);
        let fixture = seed::seed(&http, opts.messages)
            .await
            .with_context(|| format!("seeding {}; logs:\n{}", t.label, server.log_tail()))?;
        eprintln!(
            "seeded {} in {:.1} s",
            t.label,
            started.elapsed().as_secs_f64()
        );
        servers.push(server);
        fixtures.push(fixture);
    }
    let mut rows = Vec::new();
    for &w in workloads {
        for &c in &opts.concurrencies {
            let mut rounds = vec![Vec::new(); targets.len()];
            let mut failed: Vec<Option<String>> = vec![None; targets.len()];
            for round in 0..opts.rounds {
                for i in 0..targets.len() {
                    if failed[i].is_some() {
                        continue;
                    }
                    let r = crate::measure(
                        &mut servers[i],
                        &fixtures[i],
                        w,
                        c,
                        opts.warmup,
                        opts.duration,
                    )
                    .await?;
                    log_round(w, c, round, &targets[i].label, &r);
                    match r {
                        Ok(r) => rounds[i].push(r),
                        Err(e) => failed[i] = Some(e),
                    }
                }
            }
            let summaries = (0..targets.len())
                .map(|i| match failed[i].take() {
                    Some(e) => Summary::Failed(e),
                    None => Summary::from_rounds(&rounds[i]),
                })
                .collect();
            rows.push((w, c, summaries));
        }
    }
    // The instances exit before their cgroups are removed.
    drop(servers);
    drop(isolation);
    Ok(Results {
        labels: targets.into_iter().map(|t| t.label).collect(),
        rows,
    })
}

fn log_round(w: Workload, c: usize, round: usize, label: &str, r: &Result<Round, String>) {
    match r {
        Ok(r) => eprintln!(
            "{:<10} c={c:<3} round {} {label:<34} {:>9.1} req/s  p50 {:.2} ms  p99 {:.2} ms  cpu {:.3} ms/req",
            w.name(),
            round + 1,
            r.rps,
            r.p50,
            r.p99,
            r.cpu_ms_per_req
        ),
        Err(e) => eprintln!(
            "{:<10} c={c:<3} round {} {label:<34} FAILED: {e}",
            w.name(),
            round + 1
        ),
    }
}

/// The generated section's tables.
pub fn markdown(results: &Results) -> String {
    let mut s = String::new();
    s.push_str(
        "| workload | conc | target | req/s | × SQLite | × 1 instance + nginx | p50 / p99 ms | CPU ms/req (oxbase + nginx + PostgreSQL) | peak RSS MiB (oxbase + nginx) |\n",
    );
    s.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
    // The instances' scaling is read against one instance behind the same nginx.
    let one_behind_nginx = results
        .labels
        .iter()
        .position(|l| l.ends_with(" 1 instance + nginx"));
    let mut failures = Vec::new();
    for (w, c, summaries) in &results.rows {
        let rps = |summary: Option<&Summary>| match summary {
            Some(Summary::Ok(r)) => Some(r.rps),
            _ => None,
        };
        let baseline = rps(summaries.first());
        let one = rps(one_behind_nginx.and_then(|i| summaries.get(i)));
        for (label, summary) in results.labels.iter().zip(summaries) {
            match summary {
                Summary::Ok(r) => {
                    let share = baseline.map_or("–".into(), |b| format!("{:.2}×", r.rps / b));
                    let scaling = match one {
                        Some(one) if label.ends_with("+ nginx") => format!("{:.2}×", r.rps / one),
                        _ => "–".into(),
                    };
                    let _ = writeln!(
                        s,
                        "| {} | {c} | {label} | {} | {share} | {scaling} | {} / {} | {} | {} |",
                        w.name(),
                        fmt_num(r.rps),
                        fmt_num(r.p50),
                        fmt_num(r.p99),
                        fmt_num(r.cpu_ms_per_req),
                        fmt_num(r.peak_mib)
                    );
                }
                Summary::NotRun => {
                    let _ = writeln!(
                        s,
                        "| {} | {c} | {label} | n/a | – | – | – | – | – |",
                        w.name()
                    );
                }
                Summary::Failed(e) => {
                    let _ = writeln!(
                        s,
                        "| {} | {c} | {label} | FAILED | – | – | – | – | – |",
                        w.name()
                    );
                    failures.push(format!(
                        "- {} @{c} on {label}: FAILED — first error: `{}`",
                        w.name(),
                        e.replace('`', "'")
                    ));
                }
            }
        }
    }
    if !failures.is_empty() {
        s.push('\n');
        s.push_str(&failures.join("\n"));
        s.push('\n');
    }
    s
}

/// PostgreSQL's and nginx's versions, for the section's header.
pub async fn versions(opts: &Options) -> String {
    let pg = async {
        let (client, conn) = tokio_postgres::connect(&opts.pg_url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let row = client.query_one("SHOW server_version", &[]).await?;
        anyhow::Ok(row.get::<_, String>(0))
    }
    .await
    .unwrap_or_else(|e| format!("unknown ({e})"));
    let nginx = std::process::Command::new(&opts.nginx)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
        .unwrap_or_default();
    format!(
        "PostgreSQL {pg} on the same machine, {} connections per instance (`--dbConnections`); \
         {nginx} (1 worker process, keep-alive upstreams).",
        crate::server::PG_CONNECTIONS
    )
}
