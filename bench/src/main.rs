//! oxbase-bench: the same client, data and workloads against oxbase and PocketBase, side by side.
//!
//! `cargo run --release -p oxbase-bench -- --oxbase target/release/oxbase --write-doc docs/benchmarks.md`

mod check;
mod cli;
mod client;
mod events;
mod fanout;
mod files;
mod isolate;
mod load;
mod report;
mod scaleout;
mod seed;
mod server;
mod workloads;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::cli::Cli;
use crate::client::Http;
use crate::report::{Report, Round, Row, Startup, Summary};
use crate::seed::Fixture;
use crate::server::{Kind, Server};
use crate::workloads::Workload;

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(hooks) = &cli.hooks {
        let _ = server::HOOKS.set(std::fs::canonicalize(hooks)?);
    }
    let runtime = if cli.client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.client_threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(run(cli))
}

/// What a run measures: the request/response workloads, and whether to run the realtime fan-out,
/// the file transfers and the scale-out comparison (only when named: not part of the default run).
struct Selection {
    workloads: Vec<Workload>,
    fanout: bool,
    files: bool,
    scaleout: bool,
}

fn selected(cli: &Cli) -> Result<Selection> {
    let mut sel = Selection {
        workloads: Vec::new(),
        fanout: false,
        files: false,
        scaleout: false,
    };
    if cli.only.is_empty() {
        sel.workloads = workloads::ALL.to_vec();
        return Ok(sel);
    }
    let mut chosen = Vec::new();
    for name in &cli.only {
        match Workload::parse(name) {
            Some(w) => chosen.push(w),
            None if name == fanout::NAME => sel.fanout = true,
            None if name == files::NAME => sel.files = true,
            None if name == scaleout::NAME => sel.scaleout = true,
            None => bail!(
                "unknown workload {name:?}; known: {}, {}, {}, {}",
                workloads::ALL.map(|w| w.name()).join(", "),
                fanout::NAME,
                files::NAME,
                scaleout::NAME
            ),
        }
    }
    if sel.scaleout && chosen.is_empty() {
        chosen = scaleout::DEFAULT.to_vec();
    }
    // The floor is what the others are compared with: always measure it with them.
    if !chosen.is_empty() && !chosen.contains(&Workload::Floor) {
        chosen.insert(0, Workload::Floor);
    }
    sel.workloads = workloads::ALL
        .into_iter()
        .chain([Workload::Route])
        .filter(|w| chosen.contains(w))
        .collect();
    Ok(sel)
}

async fn run(cli: Cli) -> Result<()> {
    let ox_bin = cli.oxbase.clone();
    let (other, pb_bin) = match &cli.baseline {
        Some(bin) => (Kind::Baseline, bin.clone()),
        None => (Kind::PocketBase, cli.pocketbase_path()),
    };
    for (kind, bin) in [(Kind::Oxbase, &ox_bin), (other, &pb_bin)] {
        if bin.components().count() > 1 && !bin.exists() {
            bail!("{} binary not found at {}", kind.name(), bin.display());
        }
    }
    // The servers run in their own data dirs: make the paths absolute.
    let ox_bin = std::fs::canonicalize(&ox_bin).unwrap_or(ox_bin);
    let pb_bin = std::fs::canonicalize(&pb_bin).unwrap_or(pb_bin);
    let sel = selected(&cli)?;
    if sel.scaleout {
        if cli.baseline.is_some() {
            bail!("--baseline does not apply to scaleout");
        }
        return run_scaleout(&cli, &ox_bin, &pb_bin, &sel.workloads).await;
    }
    let (chosen, run_fanout, run_files) = (sel.workloads, sel.fanout, sel.files);
    let fanout_opts = fanout::options(cli.subscribers, cli.connect_concurrency, cli.fanout_writes)?;
    if run_fanout {
        let limit =
            fanout::check_fd_limit(fanout_opts.subscribers, fanout_opts.connect_concurrency)?;
        eprintln!(
            "fanout: {} subscribers; open-files limit {limit} (this process and the servers it spawns)",
            fanout_opts.subscribers
        );
    }
    let bins = [(Kind::Oxbase, ox_bin.as_path()), (other, pb_bin.as_path())];

    let startup = if cli.startup_rounds > 0 && cli.only.is_empty() {
        Some(measure_startup(&bins, cli.startup_rounds).await?)
    } else {
        None
    };

    // Both servers stay up for the whole run; rounds alternate between them so that both see the
    // same machine noise. The idle one costs next to nothing.
    let mut servers = Vec::new();
    let mut fixtures = Vec::new();
    let mut log_settings = Vec::new();
    let mut deliveries = None;
    for (kind, bin) in bins {
        let (server, _) = Server::start(kind, bin, true).await?;
        let http = Http::new(&server.url, 16);
        let t = Instant::now();
        let fixture = seed::seed(&http, cli.messages)
            .await
            .with_context(|| format!("seeding {}", kind.name()))?;
        let logs = match kind {
            Kind::Oxbase => cli.logs,
            _ => cli.baseline_logs.unwrap_or(cli.logs),
        };
        seed::set_request_log(&http, logs)
            .await
            .with_context(|| format!("logs settings of {}", kind.name()))?;
        if cli.events && kind == Kind::Oxbase {
            deliveries = Some(
                events::setup(&http, &cli.nats)
                    .await
                    .context("the --events setup")?,
            );
        }
        if run_fanout {
            fanout::setup(&http)
                .await
                .with_context(|| format!("fan-out setup on {}", kind.name()))?;
        }
        eprintln!(
            "seeded {} in {:.1} s (createRule semantics checked); request log {:?}",
            kind.name(),
            t.elapsed().as_secs_f64(),
            logs
        );
        servers.push(server);
        fixtures.push(fixture);
        log_settings.push(logs);
    }
    // The floor of the machine: nginx answering a copy of a view response, next to the servers'
    // own floor (`/api/health`) in the same rounds.
    let mut nginx = if chosen.contains(&Workload::Floor) {
        start_floor_nginx(&cli.nginx, &servers[0], &fixtures[0]).await?
    } else {
        None
    };

    // Seeding leaves work behind (PocketBase's request log): no run starts before both are
    // quiet. From then on every run waits for its server to go quiet again (`measure`).
    for server in &servers {
        server.settle().await;
    }
    let mut concurrencies = vec![cli.concurrency];
    if !cli.no_latency && cli.concurrency != 1 {
        concurrencies.push(1);
    }
    let warmup = Duration::from_secs_f64(cli.warmup);
    let duration = Duration::from_secs_f64(cli.duration);
    let mut rows = Vec::new();
    for &w in &chosen {
        for &c in &concurrencies {
            // The two servers, and nginx with the floor: rounds alternate between them all.
            let mut targets: Vec<(&mut Server, &Fixture)> =
                servers.iter_mut().zip(&fixtures).collect();
            if let (Some((n, _)), Workload::Floor) = (nginx.as_mut(), w) {
                targets.push((n, &fixtures[0]));
            }
            let mut rounds = vec![Vec::new(); targets.len()];
            let mut failed: Vec<Option<String>> = vec![None; targets.len()];
            for round in 0..cli.rounds {
                for (i, (server, fixture)) in targets.iter_mut().enumerate() {
                    if failed[i].is_some() || !w.runs_on(server.kind) {
                        continue;
                    }
                    match measure(server, fixture, w, c, warmup, duration).await? {
                        Ok(r) => {
                            eprintln!(
                                "{:<10} c={c:<3} round {} {:<10} {:>9.1} req/s  p50 {:.2} ms  p99 {:.2} ms  peak {:.1} MiB  cpu {:.3} ms/req  client {:.3} ms/req",
                                w.name(),
                                round + 1,
                                server.kind.name(),
                                r.rps,
                                r.p50,
                                r.p99,
                                r.peak_mib,
                                r.cpu_ms_per_req,
                                r.client_ms_per_req
                            );
                            rounds[i].push(r);
                        }
                        Err(e) => {
                            eprintln!(
                                "{:<10} c={c:<3} round {} {:<10} FAILED: {e}",
                                w.name(),
                                round + 1,
                                server.kind.name()
                            );
                            failed[i] = Some(e);
                        }
                    }
                }
            }
            let kinds: Vec<Kind> = targets.iter().map(|(s, _)| s.kind).collect();
            let mut summaries = (0..kinds.len()).map(|i| match failed[i].take() {
                Some(e) => Summary::Failed(e),
                None if !w.runs_on(kinds[i]) => Summary::NotRun,
                None => Summary::from_rounds(&rounds[i]),
            });
            rows.push(Row {
                workload: w,
                concurrency: c,
                ox: summaries.next().unwrap_or(Summary::NotRun),
                pb: summaries.next().unwrap_or(Summary::NotRun),
                nginx: summaries.next(),
            });
        }
    }

    let deliveries = match &deliveries {
        Some(d) => Some(d.summary().await),
        None => None,
    };
    // The fan-out last: one server at a time, the other idle (it holds no connections).
    let mut fanout_results = Vec::new();
    if run_fanout {
        for (server, fixture) in servers.iter_mut().zip(&fixtures) {
            let name = server.kind.name();
            let r = fanout::measure(server, fixture, &fanout_opts)
                .await
                .map_err(|e| format!("{e:#}"));
            if let Err(e) = &r {
                eprintln!("fanout     {name:<10} FAILED: {e}");
            }
            fanout_results.push((name, r));
        }
    }
    // File transfers: one server at a time, from one file on disk.
    let mut files_results = Vec::new();
    if run_files {
        let dir = std::env::temp_dir().join(format!("oxbase-bench-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = files::make_file(&dir, cli.file_mib).await?;
        for server in servers.iter_mut() {
            let name = server.kind.name();
            let r = files::measure(server, &file, cli.rounds)
                .await
                .map_err(|e| format!("{e:#}"));
            if let Err(e) = &r {
                eprintln!("files      {name:<10} FAILED: {e}");
            }
            files_results.push((name, r));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let nginx_body = nginx.map(|(server, body)| {
        drop(server);
        body.len()
    });
    drop(servers);
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let machine = machine_info(&ox_bin, &pb_bin);

    if !chosen.is_empty() {
        let report = Report {
            machine: machine.clone(),
            settings: format!(
                "Settings: concurrency {} and 1, {} s measured after {} s warm-up per run, {} rounds per workload and server \
                 (alternating servers), medians reported; client: {} tokio thread(s), HTTP/1.1 keep-alive; seed: {} users, {} rooms, \
                 {} members, {} messages.",
                cli.concurrency,
                cli.duration,
                cli.warmup,
                cli.rounds,
                cli.client_threads.max(1),
                seed::USERS,
                seed::ROOMS,
                seed::USERS * seed::ROOMS_PER_USER,
                cli.messages
            ),
            logs: format!(
                "Request log: oxbase {}, {} {} (PocketBase writes every request to its log by default; oxbase as `--logs` says).",
                log_settings[0].describe(),
                other.name(),
                log_settings[1].describe()
            ),
            nginx: match nginx_body {
                Some(bytes) => format!(
                    "nginx (`{}`, 1 worker process, no access log) answered a fixed {bytes}-byte copy of oxbase's view response to every \
                     request of the floor workload, in the same rounds: the floor of HTTP on this machine.",
                    cli.nginx.display()
                ),
                None => format!(
                    "nginx not measured (no floor workload, or no nginx at `{}`).",
                    cli.nginx.display()
                ),
            },
            rows,
            startup,
            concurrency: cli.concurrency,
            reference: other,
        };
        let mut text = report.markdown();
        if let Some(d) = &deliveries {
            text.push_str(&format!(
                "\n\nWith `--events`, oxbase delivered every message insert to one webhook (a receiver in the \
                 benchmark's process) and to NATS JetStream (PubAck awaited) during the runs; PocketBase ran plain:\n\n{d}\n"
            ));
        }
        println!("{text}");
        if let Some(path) = &cli.write_doc {
            let workloads = chosen
                .iter()
                .map(|w| format!("- `{}`: {}", w.name(), w.describe()))
                .collect::<Vec<_>>()
                .join("\n");
            let body = format!(
                "### Latest run\n\nCommand: `oxbase-bench {command}`\n\nWorkloads:\n\n{workloads}\n\n{text}"
            );
            report::write_doc(path, report::BEGIN, report::END, &body)?;
            eprintln!("wrote the main results to {}", path.display());
        }
    }

    if let Ok([ox, pb]) = <[_; 2]>::try_from(fanout_results) {
        let text = fanout::markdown(&fanout_opts, &[ox, pb]);
        println!("#### Realtime fan-out\n\n{machine}\n\n{text}");
        if let Some(path) = &cli.write_doc {
            let body = format!(
                "### Realtime fan-out (issue #6)\n\nCommand: `oxbase-bench {command}`\n\n{machine}\n\n{text}"
            );
            report::write_doc(path, report::FANOUT_BEGIN, report::FANOUT_END, &body)?;
            eprintln!("wrote the fan-out results to {}", path.display());
        }
    }
    if let Ok(results) = <[_; 2]>::try_from(files_results) {
        let text = files::markdown(cli.file_mib, cli.rounds, &results);
        println!("#### File transfers\n\n{machine}\n\n{text}");
        if let Some(path) = &cli.write_doc {
            let body = format!(
                "### File upload and download (issue #5)\n\nCommand: `oxbase-bench {command}`\n\n{machine}\n\n{text}"
            );
            report::write_doc(path, report::FILES_BEGIN, report::FILES_END, &body)?;
            eprintln!("wrote the file results to {}", path.display());
        }
    }
    Ok(())
}

/// The scale-out comparison (issue #7) on its own: oxbase only, on SQLite and on PostgreSQL with
/// 1..=N instances behind nginx, in its own generated section.
async fn run_scaleout(cli: &Cli, ox_bin: &Path, pb_bin: &Path, chosen: &[Workload]) -> Result<()> {
    let mut concurrencies = vec![cli.concurrency];
    if !cli.no_latency && cli.concurrency != 1 {
        concurrencies.push(1);
    }
    let opts = scaleout::Options {
        pg_url: cli.pg.clone(),
        nginx: cli.nginx.clone(),
        max_instances: cli.max_instances,
        instance_cpu: cli.instance_cpu,
        concurrencies,
        rounds: cli.rounds,
        warmup: Duration::from_secs_f64(cli.warmup),
        duration: Duration::from_secs_f64(cli.duration),
        messages: cli.messages,
    };
    let results = scaleout::run(ox_bin, chosen, &opts).await?;
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let machine = machine_info(ox_bin, pb_bin);
    let versions = scaleout::versions(&opts).await;
    let text = scaleout::markdown(&results);
    let isolation = match cli.instance_cpu {
        Some(f) => format!(
            " Each oxbase instance (every target's) runs in a cgroup of its own limited to {f} of a core \
             (CFS quota), on the last CPU; nginx, PostgreSQL and the load generator are pinned to the other CPUs."
        ),
        None => String::new(),
    };
    let settings = format!(
        "Settings: concurrency {}, {} s measured after {} s warm-up per run, {} rounds per workload and target \
         (alternating targets), medians reported; seed as in the main run ({} messages), one fresh database per target.{isolation}",
        opts.concurrencies
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        cli.duration,
        cli.warmup,
        cli.rounds,
        cli.messages
    );
    println!("#### Scale-out\n\n{machine}\n\n{versions}\n\n{settings}\n\n{text}");
    if let Some(path) = &cli.write_doc {
        let (title, begin, end) = match cli.instance_cpu {
            None => (
                format!(
                    "oxbase on PostgreSQL, 1 to {} instances behind nginx (issue #7)",
                    opts.max_instances
                ),
                report::SCALEOUT_BEGIN,
                report::SCALEOUT_END,
            ),
            Some(f) => (
                format!(
                    "The scale-out model: 1 to {} instances, each with {f} of a core of its own (issue #24)",
                    opts.max_instances
                ),
                report::MODEL_BEGIN,
                report::MODEL_END,
            ),
        };
        let body = format!(
            "### {title}\n\nCommand: `oxbase-bench {command}`\n\n{machine}\n\n{versions}\n\n{settings}\n\n{text}"
        );
        report::write_doc(path, begin, end, &body)?;
        eprintln!("wrote the scale-out results to {}", path.display());
    }
    Ok(())
}

/// One run against one server: the outcome, with the server's CPU and peak RSS over it.
/// The inner `Err` is a failed run (non-2xx or transport error), with the first error.
pub(crate) async fn measure(
    server: &mut Server,
    fixture: &Fixture,
    w: Workload,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<std::result::Result<Round, String>> {
    server.check_alive()?;
    let http = Http::new(&server.url, concurrency);
    let plan = w.plan(fixture, concurrency);
    let peak_reset = server.reset_peak();
    let before = server.stats();
    let client_before = server::ProcStats::read(std::process::id()).cpu_s;
    let outcome = load::run(&http, plan, warmup, duration).await;
    let client_cpu = server::ProcStats::read(std::process::id()).cpu_s - client_before;
    // Work the run left behind (a log written in the background, a checkpoint) is its CPU too,
    // and must be done before the next run, of either server, starts.
    server.settle().await;
    let after = server.stats();
    server.check_alive()?;
    if let Err(e) = outcome.judge() {
        return Ok(Err(e));
    }
    // Requests of the whole run (warm-up included) ≈ measured rate × (warm-up + duration), for CPU/request.
    let total = (outcome.throughput() * (warmup + duration).as_secs_f64()).round() as u64;
    let peak_kib = if peak_reset {
        after.hwm_kib
    } else {
        after.hwm_kib.max(before.rss_kib)
    };
    Ok(Ok(Round::new(
        &outcome,
        after.cpu_s - before.cpu_s,
        total,
        peak_kib as f64 / 1024.0,
        client_cpu,
    )))
}

/// nginx answering the body of oxbase's view of the first seeded message (as its first user
/// sees it), or None when there is no nginx binary.
async fn start_floor_nginx(
    nginx: &Path,
    ox: &Server,
    fixture: &Fixture,
) -> Result<Option<(Server, String)>> {
    if !nginx.exists() {
        eprintln!(
            "note: no nginx at {}: the floor is measured without it (`apt-get install nginx-light`)",
            nginx.display()
        );
        return Ok(None);
    }
    let id = &fixture.messages[0];
    let view = Http::new(&ox.url, 1)
        .json(&client::Req::get(
            format!("/api/collections/messages/records/{id}"),
            Some(&fixture.users[0].token),
        ))
        .await
        .context("the view response nginx serves")?;
    let body = view.to_string();
    let server = Server::start_nginx(nginx, &body).await?;
    eprintln!(
        "nginx floor target at {} ({} bytes)",
        server.url,
        body.len()
    );
    Ok(Some((server, body)))
}

/// Spawn → first 200 on an empty data dir, and RSS one second later; alternating servers.
async fn measure_startup(bins: &[(Kind, &Path); 2], rounds: usize) -> Result<(Startup, Startup)> {
    let mut times = [Vec::new(), Vec::new()];
    let mut idle = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, (kind, bin)) in bins.iter().enumerate() {
            let (server, took) = Server::start(*kind, bin, false).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            times[i].push(took.as_secs_f64() * 1000.0);
            idle[i].push(server.stats().rss_kib as f64 / 1024.0);
            drop(server);
        }
    }
    let s = |i: usize| Startup {
        startup_ms: report::median(times[i].clone()),
        idle_mib: report::median(idle[i].clone()),
    };
    eprintln!(
        "startup: oxbase {:?} ms, {} {:?} ms",
        times[0],
        bins[1].0.name(),
        times[1]
    );
    Ok((s(0), s(1)))
}

fn machine_info(ox: &Path, pb: &Path) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let version = |bin: &Path| {
        std::process::Command::new(bin)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "Machine: {nproc} CPUs ({model}), {mem_gib} RAM, Linux {kernel}; run {date}; servers: `{}` and `{}`. \
         Client and server share these cores, so absolute numbers are noisy: compare the ratios.",
        version(ox),
        version(pb)
    )
}
