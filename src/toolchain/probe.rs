//! Running compilers to learn about them: versions, and whether `-std=X` compiles an empty
//! translation unit. Probes run in parallel, one thread per CPU.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Family;

/// One question for one tool.
#[derive(Clone, Debug)]
pub(super) enum Task {
    Version { cc: PathBuf, family: Family },
    Standard { cxx: PathBuf, flag: String },
    Llvm { config: PathBuf },
}

/// Its answer.
#[derive(Clone, Debug)]
pub(super) enum Answer {
    Text(String),
    Accepted(bool),
    Llvm { version: String, cmake_dir: Option<PathBuf> },
    Failed,
}

pub(super) fn run_all(tasks: Vec<Task>) -> Vec<(Task, Answer)> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).min(tasks.len()).max(1);
    let queue = Mutex::new(tasks.into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let Some(task) = queue.lock().expect("probe queue").next() else { break };
                let answer = run(&task);
                results.lock().expect("probe results").push((task, answer));
            });
        }
    });
    results.into_inner().expect("probe results")
}

fn run(task: &Task) -> Answer {
    match task {
        Task::Version { cc, family } => {
            let flag = match family {
                Family::Gcc => "-dumpfullversion",
                Family::Clang => "-dumpversion",
            };
            output(cc, &[flag]).map_or(Answer::Failed, Answer::Text)
        }
        Task::Standard { cxx, flag } => Answer::Accepted(
            duct::cmd(cxx, [format!("-std={flag}").as_str(), "-fsyntax-only", "-x", "c++", "/dev/null"])
                .stdin_null()
                .stdout_null()
                .stderr_null()
                .unchecked()
                .run()
                .is_ok_and(|out| out.status.success()),
        ),
        Task::Llvm { config } => match output(config, &["--version"]) {
            Some(version) => Answer::Llvm { version, cmake_dir: output(config, &["--cmakedir"]).map(PathBuf::from) },
            None => Answer::Failed,
        },
    }
}

fn output(program: &Path, args: &[&str]) -> Option<String> {
    let out = duct::cmd(program, args).stdin_null().stdout_capture().stderr_null().unchecked().run().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The probe script: what [`run_remote`] runs on a build host or in an image (`sh -s`).
pub const SCRIPT: &str = include_str!("probe.sh");

/// Asks another machine `tasks` in one go, through `run` (which runs [`SCRIPT`] there with the
/// arguments given and returns its output). A task it does not answer failed.
pub(super) fn run_remote(
    tasks: Vec<Task>,
    run: &(dyn Fn(&[String]) -> std::io::Result<String> + Send + Sync),
) -> Vec<(Task, Answer)> {
    let mut args = vec!["probe".to_string()];
    for task in &tasks {
        match task {
            Task::Version { cc, family } => {
                args.extend(["v".into(), family.as_str().into(), cc.display().to_string()]);
            }
            Task::Standard { cxx, flag } => args.extend(["s".into(), cxx.display().to_string(), flag.clone()]),
            Task::Llvm { config } => args.extend(["l".into(), config.display().to_string()]),
        }
    }
    let output = run(&args).unwrap_or_default();
    let lines: Vec<Vec<&str>> = output.lines().map(|l| l.split('\t').collect()).collect();
    tasks
        .into_iter()
        .map(|task| {
            let answer = match &task {
                Task::Version { cc, .. } => lines
                    .iter()
                    .find(|l| l.len() == 3 && l[0] == "v" && Path::new(l[1]) == cc)
                    .map_or(Answer::Failed, |l| Answer::Text(l[2].trim().to_string())),
                Task::Standard { cxx, flag } => lines
                    .iter()
                    .find(|l| l.len() == 4 && l[0] == "s" && Path::new(l[1]) == cxx && l[2] == flag)
                    .map_or(Answer::Failed, |l| Answer::Accepted(l[3].trim() == "1")),
                Task::Llvm { config } => lines
                    .iter()
                    .find(|l| l.len() == 4 && l[0] == "l" && Path::new(l[1]) == config)
                    .map_or(Answer::Failed, |l| Answer::Llvm {
                        version: l[2].trim().to_string(),
                        cmake_dir: Some(l[3].trim()).filter(|d| !d.is_empty()).map(PathBuf::from),
                    }),
            };
            (task, answer)
        })
        .collect()
}

/// What another machine's probe listed: its platform and architecture as gridrun names them,
/// CPUs, available memory, and its tools by name with their size and time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// `linux`, `macos`…
    pub platform: String,
    /// `x86_64`, `aarch64`…
    pub arch: String,
    /// CPUs online.
    pub cpus: u32,
    /// Available memory, bytes (0: unknown).
    pub memory: u64,
    /// Tools on its PATH by name: path, size, modification time (seconds).
    pub tools: std::collections::BTreeMap<String, (PathBuf, u64, u64)>,
    /// LLVMs under /usr/lib/llvm-N: major, `llvm-config`, size, time.
    pub llvms: Vec<(u32, PathBuf, u64, u64)>,
}

impl Listing {
    /// Reads `probe.sh list`'s output; `None` where it is not that (no platform line).
    pub fn parse(output: &str) -> Option<Self> {
        let mut listing = Self::default();
        let mut platform_seen = false;
        for line in output.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let number = |i: usize| fields.get(i).and_then(|f| f.trim().parse::<u64>().ok()).unwrap_or(0);
            match fields.as_slice() {
                ["platform", os, arch] => {
                    platform_seen = true;
                    listing.platform = match os.trim() {
                        "Linux" => "linux".into(),
                        "Darwin" => "macos".into(),
                        "FreeBSD" => "freebsd".into(),
                        other => other.to_ascii_lowercase(),
                    };
                    listing.arch = match arch.trim() {
                        "arm64" => "aarch64".into(),
                        "amd64" => "x86_64".into(),
                        other => other.to_string(),
                    };
                }
                ["cpus", _] => listing.cpus = u32::try_from(number(1)).unwrap_or(1).max(1),
                ["memory_kb", _] => listing.memory = number(1).saturating_mul(1024),
                ["tool", name, _, _, path] => {
                    listing.tools.insert((*name).to_string(), (PathBuf::from(path), number(2), number(3)));
                }
                ["llvm", major, _, _, path] => {
                    if let Ok(major) = major.parse() {
                        listing.llvms.push((major, PathBuf::from(path), number(2), number(3)));
                    }
                }
                _ => {}
            }
        }
        platform_seen.then_some(listing)
    }
}

/// Runs `program ARGS…`, a command that ends in `sh -s …` somewhere else (a Slurm node, a
/// container image), with `script` on its stdin and both its outputs captured, its exit status
/// left to the caller.
pub fn feed(program: &str, args: &[String], script: &str) -> std::io::Result<std::process::Output> {
    duct::cmd(program, args).stdin_bytes(script.as_bytes().to_vec()).stdout_capture().stderr_capture().unchecked().run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_lists_itself_as_a_remote_would() {
        let out = duct::cmd("sh", ["-s", "list"]).stdin_bytes(SCRIPT).read().unwrap();
        let listing = Listing::parse(&out).unwrap();
        assert_eq!(listing.platform, std::env::consts::OS);
        assert_eq!(listing.arch, std::env::consts::ARCH);
        assert!(listing.cpus >= 1 && listing.memory > 0, "{listing:?}");
        if let Some((path, size, _)) = listing.tools.get("gcc") {
            assert_eq!(std::fs::metadata(path).unwrap().len(), *size);
        }
    }

    #[test]
    fn remote_answers_are_read_back_per_task() {
        let tasks = vec![
            Task::Version { cc: "/usr/bin/gcc-12".into(), family: Family::Gcc },
            Task::Standard { cxx: "/opt/x y/g++".into(), flag: "c++2b".into() },
            Task::Standard { cxx: "/opt/x y/g++".into(), flag: "c++23".into() },
            Task::Llvm { config: "/usr/bin/llvm-config-16".into() },
        ];
        let run = |args: &[String]| {
            assert_eq!(args[..4], ["probe", "v", "gcc", "/usr/bin/gcc-12"]);
            Ok("v\t/usr/bin/gcc-12\t12.2.0\ns\t/opt/x y/g++\tc++2b\t1\ns\t/opt/x y/g++\tc++23\t0\n".to_string())
        };
        let answers = run_remote(tasks, &run);
        assert!(matches!(&answers[0].1, Answer::Text(v) if v == "12.2.0"));
        assert!(matches!(answers[1].1, Answer::Accepted(true)));
        assert!(matches!(answers[2].1, Answer::Accepted(false)));
        assert!(matches!(answers[3].1, Answer::Failed));
    }
}
