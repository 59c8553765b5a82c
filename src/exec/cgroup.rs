//! A kernel-enforced memory cap for a step: a memory cgroup of its own under gridrun's, created
//! where the host lets gridrun create one (cgroup v2 with the memory controller delegated to
//! gridrun's cgroup, or a writable cgroup v1 memory hierarchy, as root in a container or VM has).
//! The kernel then never lets the step's processes use more than the cap: at the cap it reclaims
//! page cache and, failing that, OOM-kills inside the cgroup, which gridrun reads back from the
//! cgroup's event counters and records as `memory_exceeded`. Where no cgroup can be made, the
//! supervisor falls back to sampling the step's process tree (see `supervisor.rs`).
//!
//! Each step's cgroup is named `gridrun-<run token>-<n>`, so the sweep after a dead gridrun can
//! remove what it left behind.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::process::{signal_process, Signal};

/// Set to `0` to never use cgroups (the cap is then enforced by sampling).
pub const DISABLE_VAR: &str = "GRIDRUN_CGROUPS";

/// Which cgroup interface a hierarchy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The unified hierarchy: `memory.max`, `memory.events`, `cgroup.kill`.
    V2,
    /// The legacy memory hierarchy: `memory.limit_in_bytes`, `memory.oom_control`.
    V1,
}

/// Where gridrun may create memory cgroups: its own memory cgroup, and the interface it speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// gridrun's own cgroup folder in the memory hierarchy.
    pub dir: PathBuf,
    /// v1 or v2.
    pub flavor: Flavor,
}

/// The parent under which this process can make memory cgroups, found once. `None` where the host
/// does not let it (no memory controller it may use, no write access) or `GRIDRUN_CGROUPS=0`.
pub fn parent() -> Option<&'static Parent> {
    static PARENT: OnceLock<Option<Parent>> = OnceLock::new();
    PARENT
        .get_or_init(|| {
            if std::env::var_os(DISABLE_VAR).is_some_and(|v| v == "0") {
                return None;
            }
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
            locate(&mountinfo, &cgroups).into_iter().find(usable)
        })
        .as_ref()
}

/// The candidate parents, v2 first: gridrun's cgroup in each hierarchy that has (or may have) the
/// memory controller.
fn locate(mountinfo: &str, cgroups: &str) -> Vec<Parent> {
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        // `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS`
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(mount), Some(fstype)) = (left.get(3), left.get(4), right.first()) else { continue };
        let flavor = match *fstype {
            "cgroup2" => Flavor::V2,
            "cgroup" if right.get(2).is_some_and(|opts| opts.split(',').any(|o| o == "memory")) => Flavor::V1,
            _ => continue,
        };
        // This process's path in that hierarchy, from /proc/self/cgroup (`ID:CONTROLLERS:PATH`).
        let path = cgroups.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let ours = match flavor {
                Flavor::V2 => controllers.is_empty(),
                Flavor::V1 => controllers.split(',').any(|c| c == "memory"),
            };
            ours.then_some(path)
        });
        let Some(path) = path else { continue };
        // A mount of a sub-tree (its ROOT) shows the paths below it.
        let relative = path.strip_prefix(root.trim_end_matches('/')).unwrap_or(path);
        let dir = Path::new(&unescape(mount)).join(relative.trim_start_matches('/'));
        found.push(Parent { dir, flavor });
    }
    found.sort_by_key(|p| p.flavor != Flavor::V2);
    found
}

/// Mountinfo escapes spaces, tabs, newlines and backslashes as octal.
fn unescape(field: &str) -> String {
    field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// Whether a child cgroup of `parent` would get the memory controller, and gridrun may make one.
fn usable(parent: &Parent) -> bool {
    match parent.flavor {
        Flavor::V1 => parent.dir.join("memory.limit_in_bytes").is_file() && probe(parent),
        Flavor::V2 => {
            let enabled = |p: &Path| {
                std::fs::read_to_string(p.join("cgroup.subtree_control"))
                    .is_ok_and(|s| s.split_whitespace().any(|c| c == "memory"))
            };
            // Delegated to us already, or ours to enable (possible only where no process sits in
            // our cgroup itself besides the root's, so usually it is already on or impossible).
            (enabled(&parent.dir)
                || (std::fs::write(parent.dir.join("cgroup.subtree_control"), "+memory").is_ok()
                    && enabled(&parent.dir)))
                && probe(parent)
        }
    }
}

/// Makes and removes a cgroup, to learn that gridrun may.
fn probe(parent: &Parent) -> bool {
    let dir = parent.dir.join(format!("gridrun-probe-{}", std::process::id()));
    let made = std::fs::create_dir(&dir).is_ok() && dir.join(limit_file(parent.flavor)).is_file();
    let _ = std::fs::remove_dir(&dir);
    made
}

fn limit_file(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::V2 => "memory.max",
        Flavor::V1 => "memory.limit_in_bytes",
    }
}

/// A handle on a cgroup's `cgroup.procs`, opened beforehand.
#[derive(Debug)]
pub struct Joiner(File);

impl Joiner {
    /// Moves the calling process into the cgroup (`0` means "the writer"). One write(2) to an open
    /// descriptor: async-signal-safe, so fit for a forked child before `exec`.
    pub fn enter(&self) -> io::Result<()> {
        rustix::io::write(self.0.as_fd(), b"0").map(drop).map_err(io::Error::from)
    }
}

/// One step's memory cgroup. Dropping it kills whatever still runs in it and removes it.
#[derive(Debug)]
pub struct MemoryCgroup {
    dir: PathBuf,
    flavor: Flavor,
    /// `cgroup.procs`, open for the child to write itself into between fork and exec.
    procs: File,
}

impl MemoryCgroup {
    /// A new cgroup capped at `limit` bytes (swap included) for a step of run `token`, or `None`
    /// where the host does not let gridrun make one.
    pub fn create(token: &str, limit: u64) -> Option<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let parent = parent()?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = parent.dir.join(format!("gridrun-{token}-{n}"));
        std::fs::create_dir(&dir).ok()?;
        let made = Self::configure(&dir, parent.flavor, limit);
        match made {
            Ok(procs) => Some(Self { dir, flavor: parent.flavor, procs }),
            Err(_) => {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }

    fn configure(dir: &Path, flavor: Flavor, limit: u64) -> io::Result<File> {
        match flavor {
            Flavor::V2 => {
                std::fs::write(dir.join("memory.max"), limit.to_string())?;
                // Swapping out is not a way past the cap (the file is absent without swap).
                let _ = std::fs::write(dir.join("memory.swap.max"), "0");
            }
            Flavor::V1 => {
                std::fs::write(dir.join("memory.limit_in_bytes"), limit.to_string())?;
                // memory + swap, which must not be below the memory limit; absent without swap.
                let _ = std::fs::write(dir.join("memory.memsw.limit_in_bytes"), limit.to_string());
            }
        }
        File::options().write(true).open(dir.join("cgroup.procs"))
    }

    /// The folder, for tests and messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What a child process uses to join the cgroup between `fork` and `exec`.
    pub fn joiner(&self) -> io::Result<Joiner> {
        self.procs.try_clone().map(Joiner)
    }

    /// How many times the kernel OOM-killed a process in the cgroup because of its cap.
    pub fn oom_kills(&self) -> u64 {
        let file = match self.flavor {
            Flavor::V2 => "memory.events",
            Flavor::V1 => "memory.oom_control",
        };
        std::fs::read_to_string(self.dir.join(file)).ok().as_deref().and_then(|s| counter(s, "oom_kill")).unwrap_or(0)
    }

    /// The most memory the cgroup has been charged, in bytes (page cache included), where the
    /// kernel says (`memory.peak` needs Linux 5.19 on v2).
    pub fn peak_bytes(&self) -> Option<u64> {
        let file = match self.flavor {
            Flavor::V2 => "memory.peak",
            Flavor::V1 => "memory.max_usage_in_bytes",
        };
        std::fs::read_to_string(self.dir.join(file)).ok()?.trim().parse().ok()
    }

    fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse::<i32>().ok())
            .collect()
    }

    /// Kills every process in the cgroup, the ones that left the step's process group included.
    pub fn kill_all(&self) {
        if self.flavor == Flavor::V2 && std::fs::write(self.dir.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        // Processes may fork meanwhile; go round until none is left.
        for _ in 0..20 {
            let pids = self.pids();
            if pids.is_empty() {
                return;
            }
            for pid in pids {
                signal_process(pid, Signal::KILL);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        self.kill_all();
        remove(&self.dir);
    }
}

/// Removes an emptied cgroup; killed processes take a moment to leave it. One that will not go
/// within a moment is left for the run's closing sweep, rather than hold up the dispatcher.
fn remove(dir: &Path) {
    let until = Instant::now() + Duration::from_millis(200);
    while std::fs::remove_dir(dir).is_err() && dir.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The value of `key` in a flat-keyed cgroup file (`key value` lines).
fn counter(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Kills what is left in, and removes, the cgroups of run `token` (after its gridrun died).
pub fn sweep(token: &str) {
    let Some(parent) = parent() else { return };
    let prefix = format!("gridrun-{token}-");
    let Ok(entries) = std::fs::read_dir(&parent.dir) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
            let dir = entry.path();
            if let Ok(procs) = File::options().write(true).open(dir.join("cgroup.procs")) {
                drop(MemoryCgroup { dir, flavor: parent.flavor, procs });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO_V1: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const CGROUP_V1: &str = "\
9:name=systemd:/
4:memory:/process_api/777e
1:cpu:/
0::/
";

    #[test]
    fn finds_our_cgroup_in_each_hierarchy_v2_first() {
        let found = locate(MOUNTINFO_V1, CGROUP_V1);
        assert_eq!(
            found,
            vec![
                Parent { dir: "/sys/fs/cgroup/unified".into(), flavor: Flavor::V2 },
                Parent { dir: "/sys/fs/cgroup/memory/process_api/777e".into(), flavor: Flavor::V1 },
            ]
        );
    }

    #[test]
    fn a_pure_v2_host_and_a_mounted_sub_tree() {
        let mountinfo = "25 1 0:22 /user.slice /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        let cgroups = "0::/user.slice/user-1000.slice/session-3.scope\n";
        assert_eq!(
            locate(mountinfo, cgroups),
            vec![Parent { dir: "/sys/fs/cgroup/user-1000.slice/session-3.scope".into(), flavor: Flavor::V2 }]
        );
    }

    #[test]
    fn reads_the_oom_kill_counter_of_either_flavor() {
        assert_eq!(counter("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill"), Some(3));
        assert_eq!(counter("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n", "oom_kill"), Some(1));
        assert_eq!(counter("oom_kill_disable 0\n", "oom_kill"), None);
    }
}
