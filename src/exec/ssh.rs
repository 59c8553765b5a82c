//! The executor for a build host over SSH. The run's source is sent once per host (the files
//! of the work tree as they are, uncommitted changes included) into `<work_dir>/<token>/src`;
//! each step is one session on the host's shared connection, running [`STEP`]: the command in a
//! process group of its own with its output streamed back into the step's log here as it comes,
//! its peak memory sampled (and its cap enforced) there, and its exit, CPU time and peak said on
//! the session's stderr at the end. The session's stdin is the step's lifeline: when it closes
//! (a timeout or a cancel ends the ssh client here; gridrun or the connection dies) the step's
//! whole process group on the host gets SIGTERM, then SIGKILL after the grace. At the run's end
//! whatever is left of the run's groups on the host is killed and its folders removed.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{oneshot, OnceCell};

use super::events::CancelReason;
use super::executor::{BoxFuture, Executor, StepEnd, StepSpec, LOST};
use super::workspace::PreparedSource;
use crate::config::Source;
use crate::outcome::{StepRecord, StepStatus};
use crate::plan::RenderedJob;
use crate::remote::ssh::{quote, sh_command, Connection};

/// The step wrapper, run by `sh -c` on the host. Arguments: the run's folder on the host (for its
/// process-group files), the folders to make, the step's folder, its memory cap in KiB (0: none),
/// the grace in seconds, the command, then the environment as `NAME=value` words.
const STEP: &str = include_str!("ssh_step.sh");

/// How long a step's masked output may take to drain into its log after the step ends.
const DRAIN: Duration = Duration::from_secs(2);

/// Runs jobs on one build host.
pub struct SshExecutor {
    inner: Arc<Inner>,
    /// The source, sent once.
    sent: OnceCell<Result<(), (io::ErrorKind, String)>>,
    /// Each job's folders to make, from its `prepare` until its first step makes them.
    dirs: std::sync::Mutex<std::collections::HashMap<String, Vec<PathBuf>>>,
}

/// What the executor's blocking work shares.
struct Inner {
    /// The connection.
    connection: Arc<Connection>,
    /// The run's folder on the host: `<work_dir>/<token>`.
    root: String,
    /// The run's source, here.
    source: PreparedSource,
    /// How the matrix names the source.
    source_spec: Source,
    /// The state folder here (its own files are never sent).
    state_dir: PathBuf,
    /// `<state>/runs/<run>`: the jobs' logs, here.
    logs_dir: PathBuf,
    /// `<state>/work/<run>`: where files brought back from the host go, here.
    mirror: PathBuf,
}

impl SshExecutor {
    /// An executor for `connection`'s host; nothing is sent until a job needs it.
    pub fn new(
        connection: Arc<Connection>,
        root: String,
        source: PreparedSource,
        source_spec: Source,
        state_dir: PathBuf,
        logs_dir: PathBuf,
        mirror: PathBuf,
    ) -> Self {
        Self {
            inner: Arc::new(Inner { connection, root, source, source_spec, state_dir, logs_dir, mirror }),
            sent: OnceCell::new(),
            dirs: std::sync::Mutex::default(),
        }
    }

    /// The run's source folder on the host.
    pub fn remote_source(&self) -> String {
        self.inner.remote_source()
    }

    /// Ends what is left of the run on the host (its process groups) and removes its folders,
    /// keeping the folders of the jobs in `keep`.
    pub fn clean_up(&self, keep: &[String]) {
        self.inner.clean_up(keep);
    }
}

impl Inner {
    fn remote_source(&self) -> String {
        format!("{}/src", self.root)
    }

    /// Sends the source: the tree's files (git's list of what is tracked and what is new and not
    /// ignored, as they are now; every file of a folder that is not a git work tree), or a git
    /// source's revision. An error of the kind [`LOST`] where the host stopped answering.
    fn send_source(&self) -> io::Result<()> {
        let remote = self.remote_source();
        let unpack = format!("mkdir -p {dest} && tar -xf - -C {dest}", dest = quote(&remote));
        let mut ssh = self.connection.args();
        ssh.push(unpack.into());
        let sent = match &self.source_spec {
            Source::Path(dir) => {
                let list = source_files(dir, &self.state_dir)
                    .map_err(|e| io::Error::other(format!("cannot list the source: {e}")))?;
                // A file written while it is read (a log) is sent as it was: not an error.
                duct::cmd("tar", ["-cf", "-", "--warning=no-file-changed", "--ignore-failed-read", "--null", "-T", "-"])
                    .dir(dir)
                    .stdin_bytes(list)
                    .pipe(duct::cmd("ssh", ssh))
                    .stdout_null()
                    .stderr_capture()
                    .unchecked()
                    .run()
            }
            Source::Git { .. } => {
                let repo = self
                    .source
                    .cache_repo
                    .as_ref()
                    .ok_or_else(|| io::Error::other("the git source was not fetched"))?;
                duct::cmd(
                    "git",
                    ["--git-dir", &repo.display().to_string(), "archive", "--format=tar", &self.source.commit],
                )
                .pipe(duct::cmd("ssh", ssh))
                .stdout_null()
                .stderr_capture()
                .unchecked()
                .run()
            }
        };
        let said = |out: &std::process::Output| crate::text::said(&out.stderr);
        match sent {
            Ok(out) if out.status.success() => Ok(()),
            // ssh's own failure: the connection, not the files.
            Ok(out) if out.status.code() == Some(255) => Err(io::Error::new(
                LOST,
                format!("cannot send the source to {}: {}", self.connection.name(), said(&out)),
            )),
            Ok(out) => {
                Err(io::Error::other(format!("cannot send the source to {}: {}", self.connection.name(), said(&out))))
            }
            Err(e) => Err(io::Error::other(format!("cannot send the source to {}: {e}", self.connection.name()))),
        }
    }

    /// Where `remote` (a path under the run's folder on the host) is kept here.
    fn mirrored(&self, job: &RenderedJob, remote: &Path) -> PathBuf {
        let rest = remote.strip_prefix(&job.work_dir).map_or_else(|_| remote.to_path_buf(), Path::to_path_buf);
        self.mirror.join(&job.job.slug).join(rest.strip_prefix("/").unwrap_or(&rest))
    }

    fn clean_up(&self, keep: &[String]) {
        let script = r#"root=$1; shift
for f in "$root"/pgids/*; do [ -e "$f" ] || continue; case $f in *.*) continue;; esac
  kill -KILL -- "-${f##*/}" 2>/dev/null; done
if [ $# -eq 0 ]; then rm -rf "$root"; else
  rm -rf "$root/src" "$root/pgids"
  for d in "$root"/work/*; do keep=0; for k do [ "${d##*/}" = "$k" ] && keep=1; done; [ $keep = 1 ] || rm -rf "$d"; done
fi"#;
        let mut args = vec![self.root.clone()];
        args.extend(keep.iter().cloned());
        if let Err(e) = self.connection.run_script(script, &args, None) {
            crate::note!("cannot clean up after the run on {}: {e}", self.connection.name());
        }
    }
}

impl Executor for SshExecutor {
    fn name(&self) -> &str {
        self.inner.connection.name()
    }

    fn host(&self) -> Option<&str> {
        Some(self.inner.connection.name())
    }

    fn prepare<'a>(&'a self, job: &'a RenderedJob) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            std::fs::create_dir_all(self.inner.logs_dir.join(&job.job.slug))?;
            let mut dirs = job.make_dirs.clone();
            dirs.push(job.work_dir.clone());
            self.dirs.lock().expect("dirs lock").insert(job.job.slug.clone(), dirs);
            let sent = self
                .sent
                .get_or_init(|| async {
                    let inner = Arc::clone(&self.inner);
                    tokio::task::spawn_blocking(move || inner.send_source())
                        .await
                        .unwrap_or_else(|e| Err(io::Error::other(e.to_string())))
                        .map_err(|e| (e.kind(), e.to_string()))
                })
                .await;
            sent.clone().map_err(|(kind, why)| io::Error::new(kind, why))
        })
    }

    fn run_step<'a>(&'a self, spec: StepSpec<'a>) -> BoxFuture<'a, io::Result<StepEnd>> {
        let dirs = self.dirs.lock().expect("dirs lock").remove(spec.job).unwrap_or_default();
        Box::pin(run_step(&self.inner, spec, dirs))
    }

    fn fetch<'a>(&'a self, job: &'a RenderedJob, path: &'a Path) -> BoxFuture<'a, io::Result<PathBuf>> {
        Box::pin(async move {
            let here = self.inner.mirrored(job, path);
            if let Some(parent) = here.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut ssh = self.inner.connection.args();
            ssh.push(format!("cat -- {}", quote(&path.display().to_string())).into());
            let target = here.clone();
            let out = tokio::task::spawn_blocking(move || {
                duct::cmd("ssh", ssh).stdout_path(&target).stderr_null().stdin_null().unchecked().run()
            })
            .await
            .map_err(io::Error::other)??;
            if out.status.code() == Some(255) {
                return Err(io::Error::new(LOST, format!("{} did not answer", self.name())));
            }
            if !out.status.success() {
                let _ = std::fs::remove_file(&here);
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no {} on {}", path.display(), self.name()),
                ));
            }
            Ok(here)
        })
    }

    fn fetch_workspace<'a>(
        &'a self,
        job: &'a RenderedJob,
        patterns: &'a [String],
    ) -> BoxFuture<'a, io::Result<PathBuf>> {
        Box::pin(async move {
            let here = self.inner.mirror.join(&job.job.slug);
            std::fs::create_dir_all(&here)?;
            let mut set = globset::GlobSetBuilder::new();
            for pattern in patterns {
                if let Ok(glob) = globset::GlobBuilder::new(pattern).literal_separator(true).build() {
                    set.add(glob);
                }
            }
            let set = set.build().map_err(io::Error::other)?;
            let root = job.work_dir.display().to_string();
            // What the job's folder holds there, matched here; only what matches comes back.
            let inner = Arc::clone(&self.inner);
            let listed = root.clone();
            let listing = tokio::task::spawn_blocking(move || {
                inner.connection.run_script(r#"cd "$1" 2>/dev/null && find . -type f"#, &[listed], None)
            })
            .await
            .map_err(io::Error::other)??;
            let wanted: Vec<String> = listing
                .lines()
                .filter_map(|l| l.strip_prefix("./"))
                .filter(|rel| set.is_match(job.work_dir.join(rel)))
                .map(str::to_string)
                .collect();
            if wanted.is_empty() {
                return Ok(here);
            }
            let mut ssh = self.inner.connection.args();
            // BSD tar (macOS) and GNU tar both read a NUL-separated list with --null -T -.
            ssh.push(format!("cd {} && tar -cf - --null -T -", quote(&root)).into());
            let list: Vec<u8> = wanted.iter().flat_map(|w| w.bytes().chain([0])).collect();
            let into = here.display().to_string();
            let out = tokio::task::spawn_blocking(move || {
                duct::cmd("ssh", ssh)
                    .stdin_bytes(list)
                    .pipe(duct::cmd("tar", ["-xf", "-", "-C", &into]))
                    .stderr_capture()
                    .unchecked()
                    .run()
            })
            .await
            .map_err(io::Error::other)??;
            if !out.status.success() {
                return Err(io::Error::other(format!(
                    "cannot bring files back from {}: {}",
                    self.name(),
                    crate::text::said(&out.stderr)
                )));
            }
            Ok(here)
        })
    }

    fn finish<'a>(&'a self, job: &'a RenderedJob, keep: bool) -> BoxFuture<'a, Option<PathBuf>> {
        // The host's folders go at the run's end ([`SshExecutor::clean_up`]); a kept one is named
        // as `host:path`.
        Box::pin(async move { keep.then(|| PathBuf::from(format!("{}:{}", self.name(), job.work_dir.display()))) })
    }
}

/// The files of a source folder to send, NUL-separated, relative to it: git's tracked and new
/// files (as they are in the tree) in a work tree, every file elsewhere; never the state folder.
fn source_files(dir: &Path, state_dir: &Path) -> io::Result<Vec<u8>> {
    let own = state_dir.strip_prefix(dir).ok().map(Path::to_path_buf);
    let listed = duct::cmd(
        "git",
        ["-C", &dir.display().to_string(), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    )
    .stdout_capture()
    .stderr_null()
    .unchecked()
    .run()?;
    let mut names: Vec<PathBuf> = if listed.status.success() {
        listed
            .stdout
            .split(|b| *b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| PathBuf::from(String::from_utf8_lossy(n).into_owned()))
            .collect()
    } else {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_entry(|e| Some(e.path()) != Some(state_dir))
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() || e.file_type().is_symlink())
            .filter_map(|e| e.path().strip_prefix(dir).ok().map(Path::to_path_buf))
            .collect()
    };
    // A tracked file deleted in the tree is not sent (tar would stop at it), nor gridrun's own.
    names.retain(|n| own.as_ref().is_none_or(|own| !n.starts_with(own)) && dir.join(n).symlink_metadata().is_ok());
    Ok(names.iter().flat_map(|n| n.to_string_lossy().into_owned().into_bytes().into_iter().chain([0])).collect())
}

/// One step on the host; `dirs` are the job's folders to make first (its first step's).
async fn run_step(executor: &Inner, mut spec: StepSpec<'_>, dirs: Vec<PathBuf>) -> io::Result<StepEnd> {
    let started = Instant::now();
    let log = std::fs::File::options().create(true).truncate(true).read(true).write(true).open(spec.log)?;
    let log_after = log.try_clone()?;
    let (stdout, masking) = match spec.masker {
        None => (Stdio::from(log), None),
        Some(masker) => {
            let (reader, writer) = std::io::pipe()?;
            let masker = Arc::clone(masker);
            let (done_tx, done_rx) = oneshot::channel();
            std::thread::Builder::new().name("gridrun-mask".into()).spawn(move || {
                let _ = done_tx.send(masker.stream(reader, log));
            })?;
            (Stdio::from(writer), Some(done_rx))
        }
    };
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut args = vec![
        executor.root.clone(),
        dirs.join("\n"),
        spec.cwd.display().to_string(),
        spec.memory_limit.map_or(0, |b| b / 1024).to_string(),
        spec.kill_grace.as_secs().max(1).to_string(),
        spec.command.to_string(),
    ];
    args.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
    let mut command = tokio::process::Command::new("ssh");
    command
        .args(executor.connection.args())
        .arg(sh_command(STEP, &args))
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .env(super::reaper::TOKEN_VAR, spec.token)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    // Held open for as long as the step runs: its closing ends the step's group on the host. (The
    // connection's master holds the session's descriptors, not the ssh client: to end a step is
    // to close this, not only to kill the client.)
    let mut lifeline = child.stdin.take();
    // Once ended here, how long the host has to say how the step ended before it is taken as gone.
    let mut give_up: Option<tokio::time::Instant> = None;
    let mut said = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    let mut end: Option<Vec<String>> = None;
    let mut other: Vec<String> = Vec::new();
    let mut verdict: Option<StepStatus> = None;
    let mut deadline = spec.deadline.map(tokio::time::Instant::from_std);
    let mut paused = spec.suspension.watch();
    let mut paused_seen = *paused.borrow();
    let mut cancel_seen = spec.cancel.borrow().is_some();
    let mut stderr_open = true;
    let give_up_after = spec.kill_grace + Duration::from_secs(5);
    let status = loop {
        if cancel_seen && verdict.is_none() {
            verdict = Some(StepStatus::Cancelled);
        }
        if verdict.is_some() && lifeline.is_some() {
            drop(lifeline.take());
            give_up = Some(tokio::time::Instant::now() + give_up_after);
        }
        tokio::select! {
            biased;
            Ok(()) = paused.changed() => {
                let total = *paused.borrow();
                deadline = deadline.and_then(|d| d.checked_add(total.saturating_sub(paused_seen)));
                paused_seen = total;
            }
            line = said.next_line(), if stderr_open => match line {
                Ok(Some(line)) => match line.strip_prefix("gridrun-end ") {
                    Some(rest) => end = Some(rest.split_whitespace().map(str::to_string).collect()),
                    None => other.push(line),
                },
                _ => stderr_open = false,
            },
            status = child.wait(), if !stderr_open => break Some(status?),
            () = sleep_until(deadline), if verdict.is_none() => verdict = Some(StepStatus::TimedOut),
            () = sleep_until(give_up), if give_up.is_some() => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                break None;
            }
            changed = spec.cancel.changed() => {
                if changed.is_ok() {
                    cancel_seen = matches!(*spec.cancel.borrow(), Some(CancelReason::Interrupt | CancelReason::Kill | CancelReason::Failures));
                } else {
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    drop(lifeline);
    if let Some(done) = masking {
        let _ = tokio::time::timeout(DRAIN, done).await;
    }
    let (exit_code, signal, cpu, peak_kb, over) = match (&end, verdict) {
        (Some(fields), _) => parse_end(fields),
        // Ended here on purpose: the host ends the group as its lifeline closes.
        (None, Some(_)) => (None, None, Duration::ZERO, 0, false),
        (None, None) => {
            let why = other.last().cloned().unwrap_or_else(|| match status {
                Some(status) => format!("ssh exited with {status}"),
                None => "no answer".into(),
            });
            return Err(io::Error::new(LOST, crate::text::one_line(&why).into_owned()));
        }
    };
    let status = match verdict {
        Some(v) => v,
        None if over => StepStatus::MemoryExceeded,
        None if exit_code == Some(0) => StepStatus::Passed,
        None => StepStatus::Failed,
    };
    let log_bytes = log_after.metadata()?.len();
    let tail = if status == StepStatus::Passed { Vec::new() } else { tail_of(spec.log) };
    Ok(StepEnd {
        record: StepRecord {
            name: spec.name.to_string(),
            position: spec.position,
            attempt: spec.attempt,
            status,
            exit_code,
            signal,
            duration: started.elapsed(),
            cpu,
            peak_rss_kb: peak_kb,
            log: spec.log.to_path_buf(),
            log_bytes,
            command: spec.command.to_string(),
        },
        tail,
    })
}

/// `gridrun-end CODE USER SYS PEAK OVER`: how the step ended on the host. A shell reports a
/// signal as 128 + its number.
fn parse_end(fields: &[String]) -> (Option<i32>, Option<i32>, Duration, u64, bool) {
    let code: i32 = fields.first().and_then(|c| c.parse().ok()).unwrap_or(-1);
    let cpu = fields.get(1..3).map_or(Duration::ZERO, |t| t.iter().map(|v| shell_time(v)).sum());
    let peak = fields.get(3).and_then(|p| p.parse().ok()).unwrap_or(0);
    let over = fields.get(4).is_some_and(|o| o == "1");
    let (exit, signal) = if code > 128 && code < 128 + 65 { (None, Some(code - 128)) } else { (Some(code), None) };
    (exit, signal, cpu, peak, over)
}

/// A time as a shell's `times` prints it: `0m1.250s`.
fn shell_time(text: &str) -> Duration {
    let text = text.trim_end_matches('s');
    let (minutes, seconds) = text.split_once('m').unwrap_or(("0", text));
    let minutes: f64 = minutes.parse().unwrap_or(0.0);
    let seconds: f64 = seconds.parse().unwrap_or(0.0);
    Duration::try_from_secs_f64(minutes * 60.0 + seconds).unwrap_or_default()
}

/// The last lines of a step's log, for its failure's excerpt.
fn tail_of(log: &Path) -> Vec<String> {
    crate::boundedread::tail(log, 16 * 1024)
        .map(|(text, _)| {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let first = lines.len().saturating_sub(super::supervisor::TAIL_LINES);
            lines[first..].to_vec()
        })
        .unwrap_or_default()
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_line_says_exit_signal_cpu_and_peak() {
        let fields: Vec<String> = "3 0m1.250s 0m0.750s 2048 0".split(' ').map(String::from).collect();
        assert_eq!(parse_end(&fields), (Some(3), None, Duration::from_secs(2), 2048, false));
        let fields: Vec<String> = "137 0m0.00s 0m0.00s 0 1".split(' ').map(String::from).collect();
        assert_eq!(parse_end(&fields), (None, Some(9), Duration::ZERO, 0, true));
    }
}
