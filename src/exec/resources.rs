//! What the host has to share out (CPU slots, memory) and what running jobs hold, and how much
//! memory a step's process group uses right now.
//!
//! A step's memory cap is the kernel's to enforce where gridrun can give the step a cgroup
//! ([`super::cgroup`]); elsewhere the supervisor samples the step's process tree with
//! [`tree_rss_kb`] and kills the group when it passes the cap.

use std::num::NonZero;

/// What the scheduler may hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// CPU slots.
    pub cpus: u32,
    /// Memory in bytes; `u64::MAX` where unknown.
    pub memory: u64,
}

impl Capacity {
    /// The host's CPUs and available memory, or the given overrides.
    pub fn detect(cpus: Option<u32>, memory: Option<u64>) -> Self {
        let host_cpus = std::thread::available_parallelism().map_or(1, NonZero::get);
        Self {
            cpus: cpus.unwrap_or_else(|| u32::try_from(host_cpus).unwrap_or(u32::MAX)).max(1),
            memory: memory.or_else(available_memory).unwrap_or(u64::MAX),
        }
    }
}

/// A job's claim on the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    /// CPU slots.
    pub cpus: u32,
    /// Memory in bytes.
    pub memory: u64,
}

/// Free slots and memory.
#[derive(Debug)]
pub struct Pool {
    total: Capacity,
    free: Capacity,
}

impl Pool {
    /// A pool holding all of `total`.
    pub fn new(total: Capacity) -> Self {
        Self { total, free: total }
    }

    /// What a job asking for `cpus` and `memory` holds: never more than the whole host, so a job
    /// bigger than the host runs alone rather than never.
    pub fn claim_for(&self, cpus: u32, memory: Option<u64>) -> Claim {
        Claim { cpus: cpus.min(self.total.cpus), memory: memory.unwrap_or(0).min(self.total.memory) }
    }

    /// Takes `claim` if it fits in what is free.
    pub fn try_take(&mut self, claim: Claim) -> bool {
        if claim.cpus <= self.free.cpus && claim.memory <= self.free.memory {
            self.free.cpus -= claim.cpus;
            self.free.memory -= claim.memory;
            true
        } else {
            false
        }
    }

    /// Gives `claim` back.
    pub fn give_back(&mut self, claim: Claim) {
        self.free.cpus = (self.free.cpus + claim.cpus).min(self.total.cpus);
        self.free.memory = self.free.memory.saturating_add(claim.memory).min(self.total.memory);
    }
}

/// `MemAvailable` from /proc/meminfo, in bytes.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The summed resident memory, in KiB, of `root` and its descendants that are still in process
/// group `group`. The tree is walked through /proc/PID/task/TID/children, which costs a few reads
/// for a build rather than a scan of every process on the host.
pub fn tree_rss_kb(root: i32, group: i32) -> u64 {
    // /proc/PID/stat counts pages: 4 KiB on x86-64, up to 64 KiB on some aarch64 and ppc64 kernels.
    let page_kb = rustix::param::page_size() as u64 / 1024;
    let mut total = 0;
    let mut pending = vec![root];
    let mut seen = 0;
    while let Some(pid) = pending.pop() {
        seen += 1;
        if seen > 100_000 {
            break;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        // Fields after the command: state(3) ppid(4) pgrp(5) … rss(24).
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        if fields.get(2).and_then(|p| p.parse::<i32>().ok()) == Some(group) {
            total += fields.get(21).and_then(|r| r.parse::<u64>().ok()).unwrap_or(0) * page_kb;
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                pending.extend(children.split_whitespace().filter_map(|c| c.parse::<i32>().ok()));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_bigger_than_the_host_runs_alone() {
        let mut pool = Pool::new(Capacity { cpus: 2, memory: 1000 });
        let big = pool.claim_for(8, Some(5000));
        assert_eq!(big, Claim { cpus: 2, memory: 1000 });
        let small = pool.claim_for(1, None);
        assert!(pool.try_take(small));
        assert!(!pool.try_take(big), "the big job waits for the host to empty");
        pool.give_back(small);
        assert!(pool.try_take(big));
        assert!(!pool.try_take(small), "nothing else runs beside it");
    }

    #[test]
    fn memory_reservations_limit_concurrency() {
        let mut pool = Pool::new(Capacity { cpus: 8, memory: 10 });
        let claim = pool.claim_for(1, Some(4));
        assert!(pool.try_take(claim));
        assert!(pool.try_take(claim));
        assert!(!pool.try_take(claim));
    }
}
