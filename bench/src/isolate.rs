//! `scaleout --instance-cpu F`: the scale-out model on one machine (issue #24). Each oxbase
//! instance gets a CPU budget of its own (a cgroup's CFS quota of `F` of a core) on a CPU set of
//! its own (the machine's last CPU); nginx, PostgreSQL and the load generator are pinned to the
//! other CPUs. So N instances bring N budgets, as N machines would bring their cores, while what
//! they share (the database, the load balancer) runs beside them: whether throughput grows with
//! the instances is then up to oxbase, not to this machine's two cores.
//!
//! Needs root and the cgroup `cpu` controller (v1 at `/sys/fs/cgroup/cpu`, or v2), and `taskset`.
//! PostgreSQL's processes get their CPU set back when the run ends.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The CFS period: short, so an instance at its quota waits milliseconds, not a tenth of a
/// second (the default period), before it runs again.
const PERIOD_US: u64 = 10_000;

pub struct Isolation {
    /// Of one core, per instance.
    fraction: f64,
    /// The CPU list (taskset's syntax) of the instances, and of everything else.
    instance_cpus: String,
    shared_cpus: String,
    all_cpus: String,
    /// The cgroup hierarchy's root, and whether it is v2 (`cpu.max`) or v1.
    root: PathBuf,
    v2: bool,
    groups: Vec<PathBuf>,
}

impl Isolation {
    /// Checks that the machine can isolate `max_instances` instances at `fraction` of a core.
    pub fn new(fraction: f64, max_instances: usize) -> Result<Isolation> {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        if cpus < 2 {
            bail!("--instance-cpu needs at least 2 CPUs: one for the instances, one for the rest");
        }
        if !(fraction > 0.0 && fraction * max_instances as f64 <= 1.0) {
            bail!(
                "--instance-cpu {fraction}: {max_instances} instances must fit on one CPU (at most {:.2} each)",
                1.0 / max_instances as f64
            );
        }
        let (root, v2) = if Path::new("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").exists() {
            (PathBuf::from("/sys/fs/cgroup/cpu"), false)
        } else if fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"))
        {
            // Children of the root get the controller only when the root hands it down.
            let _ = fs::write("/sys/fs/cgroup/cgroup.subtree_control", "+cpu");
            (PathBuf::from("/sys/fs/cgroup"), true)
        } else {
            bail!("--instance-cpu needs the cgroup cpu controller (v1 or v2), writable as root");
        };
        Command::new("taskset")
            .arg("-V")
            .output()
            .context("--instance-cpu needs taskset (util-linux)")?;
        let last = cpus - 1;
        Ok(Isolation {
            fraction,
            instance_cpus: last.to_string(),
            shared_cpus: if last == 1 {
                "0".into()
            } else {
                format!("0-{}", last - 1)
            },
            all_cpus: format!("0-{last}"),
            root,
            v2,
            groups: Vec::new(),
        })
    }

    /// Puts one instance in a cgroup of its own, with its quota, on the instances' CPU.
    pub fn confine_instance(&mut self, pid: u32) -> Result<()> {
        let group = self.root.join(format!("oxbase-bench-{pid}"));
        fs::create_dir_all(&group).with_context(|| format!("creating {}", group.display()))?;
        let quota = (self.fraction * PERIOD_US as f64).round() as u64;
        if self.v2 {
            fs::write(group.join("cpu.max"), format!("{quota} {PERIOD_US}"))?;
        } else {
            fs::write(group.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
            fs::write(group.join("cpu.cfs_quota_us"), quota.to_string())?;
        }
        fs::write(group.join("cgroup.procs"), pid.to_string())
            .with_context(|| format!("moving {pid} into {}", group.display()))?;
        self.groups.push(group);
        pin(pid, &self.instance_cpus)
    }

    /// Pins processes that are not instances (nginx, this load generator) to the shared CPUs.
    pub fn pin_shared(&self, pids: &[u32]) -> Result<()> {
        pids.iter().try_for_each(|&pid| pin(pid, &self.shared_cpus))
    }

    /// Pins PostgreSQL's running processes to the shared CPUs: the postmaster's new backends
    /// inherit its set.
    pub fn pin_postgres(&self) -> Result<()> {
        self.pin_shared(&crate::server::processes_named("postgres"))
    }
}

impl Drop for Isolation {
    fn drop(&mut self) {
        for pid in crate::server::processes_named("postgres") {
            let _ = pin(pid, &self.all_cpus);
        }
        let _ = pin(std::process::id(), &self.all_cpus);
        // A group is removed once its instance has exited (the servers are dropped first).
        for group in &self.groups {
            let _ = fs::remove_dir(group);
        }
    }
}

/// Sets the CPU set of every thread of `pid`.
fn pin(pid: u32, cpus: &str) -> Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("taskset -c {cpus} {pid} failed");
    }
    Ok(())
}
