//! Medians over rounds, the side-by-side tables, the targets, and the generated doc section.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::load::Outcome;
use crate::server::Kind;
use crate::workloads::Workload;

/// One measured run of one server.
#[derive(Clone, Debug)]
pub struct Round {
    pub rps: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// Server CPU seconds (user + system) over the whole run, warm-up included.
    pub cpu_s: f64,
    /// Server requests over the whole run (for CPU per request).
    pub cpu_ms_per_req: f64,
    /// Peak RSS during the run, MiB.
    pub peak_mib: f64,
    /// The benchmark's own CPU per request (sending, reading, checking the bodies).
    pub client_ms_per_req: f64,
}

impl Round {
    pub fn new(
        o: &Outcome,
        cpu_s: f64,
        total_requests: u64,
        peak_mib: f64,
        client_cpu_s: f64,
    ) -> Round {
        let per_req = |cpu: f64| {
            if total_requests == 0 {
                f64::NAN
            } else {
                cpu * 1000.0 / total_requests as f64
            }
        };
        Round {
            rps: o.throughput(),
            p50: o.quantile_ms(0.50),
            p90: o.quantile_ms(0.90),
            p99: o.quantile_ms(0.99),
            cpu_s,
            cpu_ms_per_req: per_req(cpu_s),
            peak_mib,
            client_ms_per_req: per_req(client_cpu_s),
        }
    }
}

/// A server's figures for one workload at one concurrency: medians of the rounds, or a failure.
#[derive(Clone, Debug)]
pub enum Summary {
    Ok(Round),
    Failed(String),
    /// The server cannot answer the workload (GraphQL on PocketBase).
    NotRun,
}

impl Summary {
    pub fn from_rounds(rounds: &[Round]) -> Summary {
        let med = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
        Summary::Ok(Round {
            rps: med(|r| r.rps),
            p50: med(|r| r.p50),
            p90: med(|r| r.p90),
            p99: med(|r| r.p99),
            cpu_s: med(|r| r.cpu_s),
            cpu_ms_per_req: med(|r| r.cpu_ms_per_req),
            peak_mib: med(|r| r.peak_mib),
            client_ms_per_req: med(|r| r.client_ms_per_req),
        })
    }

    pub fn ok(&self) -> Option<&Round> {
        match self {
            Summary::Ok(r) => Some(r),
            Summary::Failed(_) | Summary::NotRun => None,
        }
    }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub struct Row {
    pub workload: Workload,
    pub concurrency: usize,
    pub ox: Summary,
    pub pb: Summary,
    /// nginx's fixed JSON body, on the floor rows when nginx was measured.
    pub nginx: Option<Summary>,
}

/// Startup figures per server (medians).
#[derive(Clone, Copy, Debug)]
pub struct Startup {
    pub startup_ms: f64,
    pub idle_mib: f64,
}

pub struct Report {
    pub machine: String,
    pub settings: String,
    /// Both servers' request-log settings.
    pub logs: String,
    /// What the nginx floor target was.
    pub nginx: String,
    pub rows: Vec<Row>,
    pub startup: Option<(Startup, Startup)>,
    pub concurrency: usize,
    /// What oxbase is compared with: PocketBase, or another oxbase build (`--baseline`).
    pub reference: Kind,
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn fmt_ratio(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        "–".into()
    } else {
        format!("{v:.2}×")
    }
}

impl Report {
    fn floor(&self, concurrency: usize, pick: fn(&Row) -> &Summary) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.workload == Workload::Floor && r.concurrency == concurrency)
            .and_then(|r| pick(r).ok())
            .map(|r| r.rps)
    }

    /// nginx's fixed-JSON throughput at `concurrency`.
    fn nginx_floor(&self, concurrency: usize) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.workload == Workload::Floor && r.concurrency == concurrency)
            .and_then(|r| r.nginx.as_ref()?.ok())
            .map(|r| r.rps)
    }

    fn ox(&self, w: Workload, c: usize) -> Option<&Round> {
        self.rows
            .iter()
            .find(|r| r.workload == w && r.concurrency == c)?
            .ox
            .ok()
    }

    fn row(&self, w: Workload, c: usize) -> Option<(&Round, &Round)> {
        let r = self
            .rows
            .iter()
            .find(|r| r.workload == w && r.concurrency == c)?;
        Some((r.ox.ok()?, r.pb.ok()?))
    }

    /// The whole report as Markdown (also what is printed on the terminal).
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}\n", self.machine);
        let _ = writeln!(s, "{}\n", self.settings);
        let _ = writeln!(s, "{}\n", self.logs);
        let _ = writeln!(s, "{}\n", self.nginx);
        let other = self.reference.name();
        let _ = writeln!(
            s,
            "#### Throughput and latency (medians over rounds; × = oxbase / {other})\n"
        );
        let _ = writeln!(
            s,
            "| workload | conc | oxbase req/s | {other} req/s | req/s × | oxbase p50 / p90 / p99 ms | {other} p50 / p90 / p99 ms | p50 × | oxbase % of floor | {other} % of floor | nginx req/s | oxbase % of nginx | {other} % of nginx |"
        );
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let mut failures = Vec::new();
        for r in &self.rows {
            let cell = |x: &Summary| match x {
                Summary::Ok(v) => (
                    fmt_num(v.rps),
                    format!(
                        "{} / {} / {}",
                        fmt_num(v.p50),
                        fmt_num(v.p90),
                        fmt_num(v.p99)
                    ),
                ),
                Summary::Failed(_) => ("FAILED".into(), "FAILED".into()),
                Summary::NotRun => ("n/a".into(), "n/a".into()),
            };
            let (ox_rps, ox_lat) = cell(&r.ox);
            let (pb_rps, pb_lat) = cell(&r.pb);
            let (rps_x, p50_x) = match (r.ox.ok(), r.pb.ok()) {
                (Some(o), Some(p)) => (
                    fmt_ratio(ratio(o.rps, p.rps)),
                    fmt_ratio(ratio(o.p50, p.p50)),
                ),
                _ => ("–".into(), "–".into()),
            };
            let pct = |x: &Summary, floor: Option<f64>| match (x.ok(), floor) {
                (Some(v), Some(f)) => format!("{:.0}%", 100.0 * v.rps / f),
                _ => "–".into(),
            };
            let ox_pct = pct(&r.ox, self.floor(r.concurrency, |r| &r.ox));
            let pb_pct = pct(&r.pb, self.floor(r.concurrency, |r| &r.pb));
            let nginx = self.nginx_floor(r.concurrency);
            let (ox_ng, pb_ng) = (pct(&r.ox, nginx), pct(&r.pb, nginx));
            let nginx_rps = match &r.nginx {
                Some(Summary::Failed(_)) => "FAILED".into(),
                _ => nginx.map_or("–".into(), fmt_num),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {ox_rps} | {pb_rps} | {rps_x} | {ox_lat} | {pb_lat} | {p50_x} | {ox_pct} | {pb_pct} | {nginx_rps} | {ox_ng} | {pb_ng} |",
                r.workload.name(),
                r.concurrency
            );
            let nginx_summary = r.nginx.as_ref().unwrap_or(&Summary::NotRun);
            for (name, x) in [("oxbase", &r.ox), (other, &r.pb), ("nginx", nginx_summary)] {
                if let Summary::Failed(e) = x {
                    failures.push(format!(
                        "- {} @{} on {name}: FAILED — first error: `{}`",
                        r.workload.name(),
                        r.concurrency,
                        e.replace('`', "'")
                    ));
                }
            }
        }
        if !failures.is_empty() {
            s.push('\n');
            s.push_str(&failures.join("\n"));
            s.push('\n');
        }
        s.push_str("\n#### Server resources during each run (peak RSS; CPU = user+system of the server process, warm-up included)\n\n");
        let _ = writeln!(
            s,
            "| workload | conc | oxbase peak MiB | {other} peak MiB | peak × | oxbase CPU s | {other} CPU s | oxbase CPU ms/req | {other} CPU ms/req | CPU/req × | client CPU ms/req (oxbase run) |"
        );
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let (o, p) = (r.ox.ok(), r.pb.ok());
            let f =
                |x: Option<&Round>, g: fn(&Round) -> f64| x.map_or("–".into(), |v| fmt_num(g(v)));
            let x = |g: fn(&Round) -> f64| match (o, p) {
                (Some(o), Some(p)) => fmt_ratio(ratio(g(o), g(p))),
                _ => "–".into(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.workload.name(),
                r.concurrency,
                f(o, |v| v.peak_mib),
                f(p, |v| v.peak_mib),
                x(|v| v.peak_mib),
                f(o, |v| v.cpu_s),
                f(p, |v| v.cpu_s),
                f(o, |v| v.cpu_ms_per_req),
                f(p, |v| v.cpu_ms_per_req),
                x(|v| v.cpu_ms_per_req),
                f(o, |v| v.client_ms_per_req),
            );
        }
        let nginx_rows: Vec<(usize, &Round)> = self
            .rows
            .iter()
            .filter_map(|r| Some((r.concurrency, r.nginx.as_ref()?.ok()?)))
            .collect();
        if !nginx_rows.is_empty() {
            s.push_str("\n#### The floor of HTTP: nginx answering a fixed JSON body (same rounds as `floor`)\n\n");
            s.push_str("| conc | req/s | p50 / p90 / p99 ms | peak MiB | CPU ms/req | oxbase `floor` % of nginx | oxbase `view` % of nginx |\n");
            s.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
            for (c, n) in nginx_rows {
                let share = |w: Workload| {
                    self.ox(w, c)
                        .map_or("–".into(), |o| format!("{:.0}%", 100.0 * o.rps / n.rps))
                };
                let _ = writeln!(
                    s,
                    "| {c} | {} | {} / {} / {} | {} | {} | {} | {} |",
                    fmt_num(n.rps),
                    fmt_num(n.p50),
                    fmt_num(n.p90),
                    fmt_num(n.p99),
                    fmt_num(n.peak_mib),
                    fmt_num(n.cpu_ms_per_req),
                    share(Workload::Floor),
                    share(Workload::View),
                );
            }
        }
        if let (Some(g), Some(r)) = (
            self.ox(Workload::Graphql, self.concurrency),
            self.ox(Workload::GraphqlRest, self.concurrency),
        ) {
            let _ = writeln!(
                s,
                "\n#### GraphQL against REST (issue #22), oxbase @{}: the same list of 50 with each message's room nested\n\n\
                 | | GraphQL | REST `expand=room` | GraphQL / REST |\n|---|---:|---:|---:|\n\
                 | req/s | {} | {} | {} |\n| CPU ms/req | {} | {} | {} |\n| p50 ms | {} | {} | {} |",
                self.concurrency,
                fmt_num(g.rps),
                fmt_num(r.rps),
                fmt_ratio(g.rps / r.rps),
                fmt_num(g.cpu_ms_per_req),
                fmt_num(r.cpu_ms_per_req),
                fmt_ratio(g.cpu_ms_per_req / r.cpu_ms_per_req),
                fmt_num(g.p50),
                fmt_num(r.p50),
                fmt_ratio(g.p50 / r.p50),
            );
        }
        if let Some((o, p)) = self.startup {
            s.push_str("\n#### Startup (empty data dir, spawn → first 200 on `/api/health`) and idle memory (RSS 1 s after that), medians\n\n");
            let _ = writeln!(s, "| | oxbase | {other} | × |\n|---|---:|---:|---:|");
            let _ = writeln!(
                s,
                "| startup ms | {} | {} | {} |",
                fmt_num(o.startup_ms),
                fmt_num(p.startup_ms),
                fmt_ratio(o.startup_ms / p.startup_ms)
            );
            let _ = writeln!(
                s,
                "| idle RSS MiB | {} | {} | {} |",
                fmt_num(o.idle_mib),
                fmt_num(p.idle_mib),
                fmt_ratio(o.idle_mib / p.idle_mib)
            );
        }
        if self.reference != Kind::PocketBase {
            return s;
        }
        s.push_str("\n#### Targets (issues #3, #22, #24)\n\n| target | measured | met |\n|---|---:|:---:|\n");
        for (what, measured, met) in self.targets() {
            let _ = writeln!(
                s,
                "| {what} | {measured} | {} |",
                match met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "not measured",
                }
            );
        }
        s
    }

    fn targets(&self) -> Vec<(String, String, Option<bool>)> {
        let c = self.concurrency;
        let mut t = Vec::new();
        let mut ratio_target = |what: String,
                                w: Workload,
                                conc: usize,
                                g: fn(&Round) -> f64,
                                want_ge: bool,
                                bound: f64| {
            match self.row(w, conc) {
                Some((o, p)) => {
                    let v = g(o) / g(p);
                    t.push((
                        what,
                        fmt_ratio(v),
                        Some(if want_ge { v >= bound } else { v <= bound }),
                    ));
                }
                None => t.push((what, "–".into(), None)),
            }
        };
        ratio_target(
            format!("insert @{c}: throughput ≥ 5× PocketBase"),
            Workload::Insert,
            c,
            |r| r.rps,
            true,
            5.0,
        );
        ratio_target(
            format!("insert @{c}: p50 ≤ 1/5 of PocketBase"),
            Workload::Insert,
            c,
            |r| r.p50,
            false,
            0.2,
        );
        ratio_target(
            "insert @1: p50 ≤ 1/5 of PocketBase".into(),
            Workload::Insert,
            1,
            |r| r.p50,
            false,
            0.2,
        );
        ratio_target(
            format!("view @{c}: throughput ≥ 4× PocketBase"),
            Workload::View,
            c,
            |r| r.rps,
            true,
            4.0,
        );
        ratio_target(
            format!("list @{c}: throughput ≥ 4× PocketBase"),
            Workload::List,
            c,
            |r| r.rps,
            true,
            4.0,
        );
        ratio_target(
            format!("insert @{c}: peak RSS ≤ ½ of PocketBase"),
            Workload::Insert,
            c,
            |r| r.peak_mib,
            false,
            0.5,
        );
        let view = self
            .rows
            .iter()
            .find(|r| r.workload == Workload::View && r.concurrency == c)
            .and_then(|r| r.ox.ok());
        match (view, self.floor(c, |r| &r.ox)) {
            (Some(v), Some(f)) => t.push((
                format!("view @{c}: ≥ ½ of oxbase's floor"),
                format!("{:.0}%", 100.0 * v.rps / f),
                Some(v.rps >= f / 2.0),
            )),
            _ => t.push((
                format!("view @{c}: ≥ ½ of oxbase's floor"),
                "–".into(),
                None,
            )),
        }
        let view_nginx = format!("view @{c}: ≥ 60% of nginx's fixed-JSON floor (#24)");
        match (view, self.nginx_floor(c)) {
            (Some(v), Some(n)) => t.push((
                view_nginx,
                format!("{:.0}%", 100.0 * v.rps / n),
                Some(v.rps >= 0.6 * n),
            )),
            _ => t.push((view_nginx, "–".into(), None)),
        }
        let gql = format!("graphql @{c}: CPU per request ≤ 1.5× REST's `expand` (#22)");
        match (
            self.ox(Workload::Graphql, c),
            self.ox(Workload::GraphqlRest, c),
        ) {
            (Some(g), Some(r)) => {
                let x = g.cpu_ms_per_req / r.cpu_ms_per_req;
                t.push((gql, fmt_ratio(x), Some(x <= 1.5)));
            }
            _ => t.push((gql, "–".into(), None)),
        }
        match self.startup {
            Some((o, _)) => {
                t.push((
                    "oxbase idle RSS < 20 MiB".into(),
                    format!("{} MiB", fmt_num(o.idle_mib)),
                    Some(o.idle_mib < 20.0),
                ));
                t.push((
                    "oxbase startup < 50 ms".into(),
                    format!("{} ms", fmt_num(o.startup_ms)),
                    Some(o.startup_ms < 50.0),
                ));
            }
            None => {
                t.push(("oxbase idle RSS < 20 MiB".into(), "–".into(), None));
                t.push(("oxbase startup < 50 ms".into(), "–".into(), None));
            }
        }
        t
    }
}

pub const BEGIN: &str = "<!-- BEGIN GENERATED BY oxbase-bench (do not edit by hand) -->";
pub const END: &str = "<!-- END GENERATED BY oxbase-bench -->";

/// The fan-out results have their own section (after the main one), so that a run of either
/// leaves the other's figures in place.
pub const FANOUT_BEGIN: &str =
    "<!-- BEGIN GENERATED BY oxbase-bench: fanout (do not edit by hand) -->";
pub const FANOUT_END: &str = "<!-- END GENERATED BY oxbase-bench: fanout -->";
pub const FILES_BEGIN: &str =
    "<!-- BEGIN GENERATED BY oxbase-bench: files (do not edit by hand) -->";
pub const FILES_END: &str = "<!-- END GENERATED BY oxbase-bench: files -->";
pub const SCALEOUT_BEGIN: &str =
    "<!-- BEGIN GENERATED BY oxbase-bench: scaleout (do not edit by hand) -->";
pub const SCALEOUT_END: &str = "<!-- END GENERATED BY oxbase-bench: scaleout -->";
pub const MODEL_BEGIN: &str =
    "<!-- BEGIN GENERATED BY oxbase-bench: scaleout model (do not edit by hand) -->";
pub const MODEL_END: &str = "<!-- END GENERATED BY oxbase-bench: scaleout model -->";

/// Replaces the text between the `begin` and `end` markers in `path` (appending a marked section
/// if there is none).
pub fn write_doc(path: &Path, begin: &str, end: &str, body: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{begin}\n{body}\n{end}");
    let new = match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if e > b => format!("{}{section}{}", &old[..b], &old[e + end.len()..]),
        _ => format!(
            "{old}{}{section}\n",
            if old.is_empty() {
                ""
            } else if old.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            }
        ),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}
