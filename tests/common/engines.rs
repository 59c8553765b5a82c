//! The real engines the tests start for themselves: OpenSSH `sshd` on loopback
//! (`tests/engines/ssh/sshd.sh`) and a podman image built from Debian packages
//! (`tests/engines/container/image.sh`), stopped when dropped, even when the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::repo;

/// `sshd` instances on 127.0.0.1, tied to this test process.
pub struct Sshd {
    pub dir: PathBuf,
    /// `(name, port)` of each instance: `h1`, `h2`…
    pub hosts: Vec<(String, u16)>,
}

impl Sshd {
    /// `n` instances in a folder of their own under `under`; `setenv` (`PATH=…` words) goes into
    /// every session's environment.
    pub fn start(under: &Path, n: usize, setenv: Option<&str>) -> Self {
        let dir = under.join(format!("sshd-{}", std::process::id()));
        let mut command = Command::new("bash");
        command.arg(repo().join("tests/engines/ssh/sshd.sh")).arg("start").arg(&dir);
        command.arg(std::process::id().to_string()).arg(n.to_string());
        if let Some(setenv) = setenv {
            command.env("GRIDRUN_SSHD_SETENV", setenv);
        }
        let out = command.output().expect("bash runs sshd.sh (run .ci/install-deps)");
        assert!(out.status.success(), "sshd.sh start: {}", String::from_utf8_lossy(&out.stderr));
        let hosts = parse_hosts(&out.stdout);
        Self { dir, hosts }
    }

    /// A listener that accepts connections and never answers, as a hung host does.
    pub fn blackhole(&self) -> u16 {
        let out = self.script(&["blackhole", &self.dir.display().to_string(), &std::process::id().to_string()]);
        parse_hosts(&out)[0].1
    }

    /// Kills instance `name` (its listener, its sessions and what they started), as a crash would.
    pub fn kill(&self, name: &str) {
        self.script(&["kill", &self.dir.display().to_string(), name]);
    }

    pub fn port(&self, name: &str) -> u16 {
        self.hosts.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no sshd {name}")).1
    }

    /// A `[hosts.NAME]` table for instance `instance`, with `extra` lines.
    pub fn table(&self, name: &str, instance: &str, extra: &str) -> String {
        let dir = self.dir.display();
        format!(
            "[hosts.{name}]\nssh = \"root@127.0.0.1\"\nport = {}\nidentity = \"{dir}/id_ed25519\"\n\
             options = [\"UserKnownHostsFile={dir}/known_hosts\", \"StrictHostKeyChecking=yes\"]\n{extra}\n",
            self.port(instance)
        )
    }

    /// Live processes (zombies excluded) started by this fixture's sessions.
    pub fn session_processes(&self) -> Vec<(u32, String)> {
        let marker = self.dir.display().to_string();
        super::processes_with("GRIDRUN_TEST_SSHD_DIR", &marker)
            .into_iter()
            .map(|pid| {
                (pid, std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default().replace('\0', " "))
            })
            .collect()
    }

    fn script(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("bash").arg(repo().join("tests/engines/ssh/sshd.sh")).args(args).output().unwrap();
        assert!(out.status.success(), "sshd.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(repo().join("tests/engines/ssh/sshd.sh")).arg("stop").arg(&self.dir).output();
    }
}

fn parse_hosts(stdout: &[u8]) -> Vec<(String, u16)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| {
            let (name, port) = l.split_once(' ')?;
            Some((name.to_string(), port.trim().parse().ok()?))
        })
        .collect()
}

/// The test image (Debian bookworm with clang-15, CMake, Ninja, no gcc), built once per machine
/// from Debian packages and shared by every test; its name and ID.
pub fn test_image() -> (String, String) {
    const NAME: &str = "localhost/gridrun-test-clang15:1";
    let cache = std::env::temp_dir().join("gridrun-test-images");
    std::fs::create_dir_all(&cache).unwrap();
    let out = Command::new("bash")
        .arg(repo().join("tests/engines/container/image.sh"))
        .args(["build", NAME])
        .arg(&cache)
        .env("CONTAINERS_CONF", containers_conf())
        .output()
        .expect("bash runs image.sh (run .ci/install-deps)");
    assert!(out.status.success(), "image.sh build: {}", String::from_utf8_lossy(&out.stderr));
    (NAME.to_string(), String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The containers.conf the engine tests use (see tests/engines/container/README.md).
pub fn containers_conf() -> PathBuf {
    repo().join("tests/engines/container/containers.conf")
}

/// A single-node Slurm cluster (`tests/engines/slurm/cluster.sh`) shared by every test of one
/// test binary: started on first use, stopped by its watchdog when the test process ends (and
/// so whether the tests passed or not). `MaxArraySize` is small, so arrays get split.
pub struct Slurm {
    pub dir: PathBuf,
    pub conf: PathBuf,
}

/// The cluster; `MaxArraySize=5` (array indices 0..4).
pub fn slurm() -> &'static Slurm {
    static CLUSTER: std::sync::OnceLock<Slurm> = std::sync::OnceLock::new();
    CLUSTER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gridrun-slurm-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(repo().join("tests/engines/slurm/cluster.sh"))
            .arg("start")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .env("GRIDRUN_SLURM_EXTRA_CONF", "MaxArraySize=5")
            .output()
            .expect("bash runs cluster.sh (run .ci/install-deps)");
        assert!(out.status.success(), "cluster.sh start: {}", String::from_utf8_lossy(&out.stderr));
        Slurm { conf: dir.join("slurm.conf"), dir }
    })
}

impl Slurm {
    /// `scontrol`, `squeue`, `scancel`… against this cluster.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", &self.conf);
        command
    }

    /// Runs `cluster.sh ACTION DIR`.
    pub fn admin(&self, action: &str) {
        let out = Command::new("bash")
            .arg(repo().join("tests/engines/slurm/cluster.sh"))
            .arg(action)
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "cluster.sh {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The states of an array's tasks, `(index, state)`, as `squeue` has them.
    pub fn task_states(&self, array: &str) -> Vec<(u32, String)> {
        let out = self.command("squeue").args(["-h", "-t", "all", "-j", array, "-o", "%K %T"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (index, state) = l.split_once(' ')?;
                Some((index.parse().ok()?, state.to_string()))
            })
            .collect()
    }
}
