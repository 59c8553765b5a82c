//! A small builder for running the real `gridrun` binary in a temp dir, after just's test
//! harness: `Test::new().matrix(toml).args(["plan"]).stdout("…").status(0)` runs it and compares
//! exit code, stdout and stderr exactly — after unindenting what the test wrote and redacting
//! what changes from run to run (the temp folder, times, durations, commits) in what gridrun
//! printed. `t.gridrun(&[…])`, `t.ok(&[…])` and `t.fails(&[…])` run it again in the same folder.

#![allow(dead_code, unreachable_pub)]

pub mod engines;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// One test: a temp dir holding a matrix file and a state folder.
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdout: Option<String>,
    stderr: Option<String>,
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: Vec::new(),
            stdout: None,
            stderr: None,
        }
    }

    /// The same folder, run again with other arguments and expectations.
    pub fn again<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args = args.into_iter().map(|a| a.as_ref().to_string()).collect();
        self.stdout = None;
        self.stderr = None;
        self
    }

    /// What stdout must be, exactly (unindented; see [`redact`]).
    pub fn stdout(mut self, expected: &str) -> Self {
        self.stdout = Some(unindent(expected));
        self
    }

    /// What stderr must be, exactly (unindented; see [`redact`]).
    pub fn stderr(mut self, expected: &str) -> Self {
        self.stderr = Some(unindent(expected));
        self
    }

    /// Writes `gridrun.toml`.
    pub fn matrix(self, toml: &str) -> Self {
        self.file("gridrun.toml", toml)
    }

    /// Writes a file relative to the temp dir.
    pub fn file(self, name: &str, contents: &str) -> Self {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join(".gridrun")
    }

    /// gridrun in the test's folder with its environment, and the arguments the builder was given.
    pub fn command(&self) -> Command {
        let mut cmd = self.bare();
        cmd.args(&self.args);
        cmd
    }

    /// gridrun in the test's folder with its environment, no arguments yet.
    fn bare(&self) -> Command {
        let mut cmd = Command::cargo_bin("gridrun").expect("gridrun binary");
        cmd.current_dir(self.dir.path())
            .env_remove("GRIDRUN_STATE_DIR")
            .env_remove("GRIDRUN_HOSTS")
            .env("XDG_CONFIG_HOME", self.dir.path().join(".config"))
            .env("NO_COLOR", "1")
            .env_remove("CI");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The same command as a plain `std::process::Command`, for tests that wire its streams.
    pub fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gridrun"));
        cmd.current_dir(self.dir.path())
            .env_remove("GRIDRUN_STATE_DIR")
            .env_remove("GRIDRUN_HOSTS")
            .env("XDG_CONFIG_HOME", self.dir.path().join(".config"))
            .env("NO_COLOR", "1")
            .env_remove("CI");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(&self.args);
        cmd
    }

    /// Runs and returns the output, whatever the exit code.
    pub fn output(&self) -> Output {
        self.command().output().expect("gridrun runs")
    }

    /// Runs, asserts the exit code and the expected stdout and stderr, returns stdout.
    pub fn status(&self, code: i32) -> String {
        let out = self.output();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "exit code\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(!stderr.contains("panicked"), "gridrun panicked:\n{stderr}");
        for (what, expected, got) in [("stdout", &self.stdout, &stdout), ("stderr", &self.stderr, &stderr)] {
            if let Some(expected) = expected {
                let expected = &tables_unpadded(expected);
                let got = tables_unpadded(&redact(got, self.path()));
                assert!(
                    got == *expected,
                    "{what} differs\n--- expected\n{expected}--- got (redacted)\n{got}--- as printed\n{}",
                    self.args.join(" ")
                );
            }
        }
        stdout
    }

    /// Runs, asserts exit 0, returns stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.status(0)).expect("stdout is JSON")
    }
}

impl Test {
    /// Runs `gridrun ARGS` here, whatever the exit code.
    pub fn gridrun(&self, args: &[&str]) -> Output {
        self.bare().args(args).output().expect("gridrun runs")
    }

    /// Runs, asserts exit 0 and an empty stderr, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.gridrun(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "gridrun {args:?}\nstderr: {stderr}");
        assert!(stderr.is_empty(), "gridrun {args:?} wrote to stderr: {stderr}");
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// As [`Test::ok`], stdout parsed as JSON.
    pub fn ok_json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("stdout is JSON")
    }

    /// Runs, asserts exit 2, no stdout and a one-line `error: …`; returns that line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.gridrun(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "gridrun {args:?}\nstderr: {stderr}");
        assert!(out.stdout.is_empty(), "gridrun {args:?} printed: {}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        stderr.trim_end().to_string()
    }
}

/// Polls `check` every 50 ms until it holds or `limit` passes; returns whether it held.
pub fn eventually(limit: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Polls `done` until it holds, failing the test after `limit`.
pub fn wait_for(what: &str, limit: std::time::Duration, done: impl FnMut() -> bool) {
    assert!(eventually(limit, done), "gave up waiting for {what}");
}

/// Text as a test writes it in a raw string: the first line break dropped, the common
/// indentation of the lines removed.
pub fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent =
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let mut out: String = text.lines().map(|l| l.get(indent..).unwrap_or("").trim_end().to_string() + "\n").collect();
    if !text.ends_with('\n') && out.ends_with('\n') && text.lines().last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out
}

/// Text with its tables' cells unpadded (`| a | b |`, separators `|-|-|`): a redacted value is
/// not as wide as the one it stands for, so the columns are compared by content, not width.
pub fn tables_unpadded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('|') && line.ends_with('|') {
            let cells: Vec<&str> = line[1..line.len() - 1]
                .split('|')
                .map(|c| {
                    let c = c.trim();
                    if !c.is_empty() && c.chars().all(|ch| ch == '-') {
                        "-"
                    } else {
                        c
                    }
                })
                .collect();
            out.push_str(&format!("| {} |", cells.join(" | ")));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// What gridrun printed with what changes from run to run written as placeholders: the test's
/// folder as `[TMP]`, times as `[TIME]`, dates with times as `[WHEN]`, durations as `[DURATION]`,
/// config hashes as `[HASH]`, and trailing spaces dropped.
pub fn redact(text: &str, dir: &Path) -> String {
    let mut text = text.replace(&dir.display().to_string(), "[TMP]");
    if let Ok(real) = dir.canonicalize() {
        text = text.replace(&real.display().to_string(), "[TMP]");
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut line = line.to_string();
        for (pattern, with) in [
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[WHEN]"),
            (r"\b\d{2}:\d{2}:\d{2}\b", "[TIME]"),
            (r"\b\d+h \d{2}m\b|\b\d+m \d{2}s\b|\b\d+\.\ds\b", "[DURATION]"),
            (r"\b[0-9a-f]{16}\b", "[HASH]"),
        ] {
            line = regex_lite::Regex::new(pattern).unwrap().replace_all(&line, with).into_owned();
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Live processes (zombies excluded) whose environment holds `KEY=VALUE`.
pub fn processes_with(key: &str, value: &str) -> Vec<u32> {
    let needle = format!("{key}={value}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
        })
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rfind(')').and_then(|i| s[i + 2..].chars().next()))
                .is_some_and(|state| state != 'Z')
        })
        .collect()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a command is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A tmpfs of a given size mounted on a folder of the test's own (root only; `None` with a note
/// elsewhere), unmounted when dropped: a small or full file system without touching the host's.
pub struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    pub fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status();
        match status {
            Ok(s) if s.success() => Some(Self { path: path.to_path_buf() }),
            _ => {
                assert!(!is_root(), "root could not mount a tmpfs on {}", path.display());
                eprintln!("not root: cannot mount a tmpfs, this test checks nothing here");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file system read-only, as a mounted CD, a snapshot or a read-only bind would be.
    pub fn remount_read_only(&self) {
        let status = std::process::Command::new("mount").args(["-o", "remount,ro"]).arg(&self.path).status().unwrap();
        assert!(status.success(), "remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Whether the tests run as root (as CI does).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// A run as `show RUN --json` gives it: what tests read results through.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct RunDoc {
    #[serde(rename = "run")]
    pub id: i64,
    pub project: String,
    pub status: String,
    pub commit: String,
    pub dirty: bool,
    pub jobs: Vec<JobDoc>,
}

/// A job of [`RunDoc`].
#[derive(Clone, Debug, serde::Deserialize)]
pub struct JobDoc {
    pub slug: String,
    pub cell: serde_json::Value,
    pub status: String,
    pub failure_kind: Option<String>,
    pub exit_code: Option<i64>,
    pub signal: Option<i64>,
    pub duration_ms: Option<i64>,
    pub cpu_ms: Option<i64>,
    pub peak_rss_kb: Option<i64>,
    pub flaky: bool,
    pub steps: Vec<StepDoc>,
    pub reason: Option<String>,
    pub config_hash: String,
    pub work_dir: Option<String>,
    pub reused_from: Option<i64>,
    pub log_tail: Option<String>,
    pub diagnostics: Vec<serde_json::Value>,
    pub test_cases: Vec<serde_json::Value>,
    pub artifacts: Vec<serde_json::Value>,
}

/// A step attempt of [`JobDoc`].
#[derive(Clone, Debug, serde::Deserialize)]
pub struct StepDoc {
    pub name: String,
    pub attempt: i64,
    pub status: String,
    pub exit_code: Option<i64>,
    pub signal: Option<i64>,
    pub duration_ms: i64,
    #[serde(rename = "log")]
    pub log_path: String,
    pub log_bytes: i64,
}

impl RunDoc {
    /// The job with this slug.
    pub fn job(&self, slug: &str) -> &JobDoc {
        self.jobs.iter().find(|j| j.slug == slug).unwrap_or_else(|| panic!("run {} has no job {slug}", self.id))
    }
}

impl Test {
    /// `gridrun show RUN --json` in this test's state folder.
    pub fn show(&self, run: &str) -> RunDoc {
        self.show_in(&self.state_dir(), run)
    }

    /// `gridrun --state-dir STATE show RUN --json`.
    pub fn show_in(&self, state: &Path, run: &str) -> RunDoc {
        let out = self.gridrun(&["--state-dir", state.to_str().unwrap(), "show", run, "--json"]);
        assert_eq!(out.status.code(), Some(0), "show {run}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("show --json prints a run")
    }

    /// Every run's id and status, newest first (`status --json`).
    pub fn runs(&self) -> Vec<(i64, String)> {
        let doc = self.ok_json(&["status", "--json", "-n", "1000"]);
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_i64().unwrap(), r["status"].as_str().unwrap().to_string()))
            .collect()
    }
}
