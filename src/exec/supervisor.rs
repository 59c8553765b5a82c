//! One step: its shell command spawned in a process group of its own with stdout and stderr
//! both writing straight into the step's log file (no pipe, so no copy through gridrun, no
//! deadlock on a full pipe, and flat memory whatever the output's size), its time limit enforced
//! on the whole group (SIGTERM, then SIGKILL after the grace), its memory cap by a cgroup of its
//! own where the host allows one and by sampling the process tree where not, and its exit status,
//! CPU time and peak memory taken from `wait4`. The failure excerpt is read back from the end of
//! the log.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::sync::oneshot;

use super::cgroup::MemoryCgroup;
use super::events::CancelReason;
use super::executor::{StepEnd, StepSpec};
use super::process::{own_peak_rss_kb, signal_group, spawn_shell, wait4, Exit, Signal};
use super::resources::tree_rss_kb;
use crate::outcome::{StepRecord, StepStatus};

/// How many lines of a log the failure excerpt shows.
pub const TAIL_LINES: usize = 20;
/// How many bytes of the end of a log are read back for the excerpt.
const TAIL_BYTES: u64 = 16 * 1024;
/// How long a step's masked output may take to drain into its log after the step ends.
const MASK_DRAIN: Duration = Duration::from_secs(2);
/// How often a step's processes have their memory measured (for the peak, and the cap).
const MEMORY_SAMPLE: Duration = Duration::from_millis(200);

/// Starts the step's shell in `cgroup`: the child joins it before exec, so nothing the step runs
/// is ever outside. A hook before exec needs std's fork path.
fn spawn_in(
    cgroup: &MemoryCgroup,
    spec: &StepSpec<'_>,
    stdout: BorrowedFd<'_>,
    stderr: BorrowedFd<'_>,
) -> io::Result<i32> {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(spec.command)
        .current_dir(spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout.try_clone_to_owned()?)
        .stderr(stderr.try_clone_to_owned()?)
        // Its own process group, so a signal reaches the step's whole tree and a Ctrl-C at the
        // terminal reaches gridrun alone, which decides what the jobs get.
        .process_group(0);
    let joiner = cgroup.joiner()?;
    // SAFETY: the hook runs in the forked child before exec and only makes one write(2) to a
    // descriptor opened beforehand: no allocation, no lock, async-signal-safe.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || joiner.enter());
    }
    let child = command.spawn()?;
    Ok(i32::try_from(child.id()).expect("pids fit in i32"))
}

/// Runs one step to its end.
pub async fn run_step(mut spec: StepSpec<'_>) -> io::Result<StepEnd> {
    let started = Instant::now();
    let log = File::options().create(true).truncate(true).read(true).write(true).open(spec.log)?;
    // Both streams share one open file description, so they interleave as written; gridrun keeps
    // a third handle to measure the log and read its end afterwards.
    let log_after = log.try_clone()?;
    // With secrets, the output passes through a masking thread on its way to the log.
    let (stdout, stderr, masking): (OwnedFd, OwnedFd, _) = match spec.masker {
        None => {
            let log_for_stderr = log.try_clone()?;
            (log.into(), log_for_stderr.into(), None)
        }
        Some(masker) => {
            let (reader, writer) = std::io::pipe()?;
            let writer_for_stderr = writer.try_clone()?;
            let masker = Arc::clone(masker);
            let (done_tx, done_rx) = oneshot::channel();
            std::thread::Builder::new().name("gridrun-mask".into()).spawn(move || {
                let _ = done_tx.send(masker.stream(reader, log));
            })?;
            (writer.into(), writer_for_stderr.into(), Some(done_rx))
        }
    };
    // The kernel holds the step to its cap where gridrun can give it a cgroup.
    let cgroup = spec.memory_limit.and_then(|limit| MemoryCgroup::create(spec.token, limit));
    let pid = match &cgroup {
        None => spawn_shell(spec.command, spec.cwd, spec.env, stdout.as_fd(), stderr.as_fd())?,
        Some(cgroup) => spawn_in(cgroup, &spec, stdout.as_fd(), stderr.as_fd())?,
    };
    // A forked child's ru_maxrss starts at gridrun's resident size when it forked; below that it
    // says nothing. Read after the fork (spawn returns once the child has exec'd), as another
    // thread may have grown gridrun since any earlier reading.
    let own_peak_kb = own_peak_rss_kb();
    // gridrun's copies of the step's output descriptors close now.
    drop((stdout, stderr));
    let group = pid;
    spec.suspension.register(group);
    let mut paused = spec.suspension.watch();
    let mut paused_seen = *paused.borrow();
    let exit = wait_for_exit(pid);
    tokio::pin!(exit);

    let mut verdict: Option<StepStatus> = None;
    let mut kill_at: Option<tokio::time::Instant> = None;
    let mut sampled_peak_kb = 0u64;
    let mut sampler = tokio::time::interval_at(tokio::time::Instant::now() + MEMORY_SAMPLE, MEMORY_SAMPLE);
    sampler.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut deadline = spec.deadline.map(tokio::time::Instant::from_std);
    let mut cancel_seen = spec.cancel.borrow().is_some();

    let exited = loop {
        // A cancellation that came before this step started applies at once.
        if cancel_seen {
            cancel_seen = false;
            let reason = *spec.cancel.borrow();
            match reason {
                Some(CancelReason::Kill) => {
                    verdict.get_or_insert(StepStatus::Cancelled);
                    signal_group(group, Signal::KILL);
                }
                Some(_) if kill_at.is_none() => {
                    verdict.get_or_insert(StepStatus::Cancelled);
                    signal_group(group, Signal::TERM);
                    kill_at = Some(grace_end(spec.kill_grace));
                }
                _ => {}
            }
        }
        tokio::select! {
            // First: after a Ctrl-Z, deadlines move before any timer that passed meanwhile fires.
            biased;
            Ok(()) = paused.changed() => {
                let total = *paused.borrow();
                let stopped = total.saturating_sub(paused_seen);
                paused_seen = total;
                deadline = deadline.and_then(|d| d.checked_add(stopped));
                kill_at = kill_at.map(|k| k.checked_add(stopped).unwrap_or(k));
            }
            exited = &mut exit => break exited,
            () = sleep_until(deadline), if verdict.is_none() => {
                verdict = Some(StepStatus::TimedOut);
                signal_group(group, Signal::TERM);
                kill_at = Some(grace_end(spec.kill_grace));
            }
            () = sleep_until(kill_at), if kill_at.is_some() => {
                signal_group(group, Signal::KILL);
                kill_at = None;
            }
            changed = spec.cancel.changed() => {
                if changed.is_ok() {
                    cancel_seen = true;
                } else {
                    // The run is gone; nobody will cancel any more.
                    std::future::pending::<()>().await;
                }
            }
            _ = sampler.tick() => {
                let rss_kb = tree_rss_kb(pid, group);
                sampled_peak_kb = sampled_peak_kb.max(rss_kb);
                let over = match &cgroup {
                    // The kernel kept the step under its cap by OOM-killing one of its processes;
                    // what is left of the step is not what the user asked for.
                    Some(cgroup) => cgroup.oom_kills() > 0,
                    None => spec.memory_limit.is_some_and(|limit| rss_kb.saturating_mul(1024) > limit),
                };
                if over && verdict.is_none() {
                    verdict = Some(StepStatus::MemoryExceeded);
                    signal_group(group, Signal::KILL);
                }
            }
        }
    };
    // Whatever the step left running in its group (or its cgroup) goes with it.
    signal_group(group, Signal::KILL);
    spec.suspension.unregister(pid);
    if let Some(cgroup) = cgroup.as_ref().filter(|c| c.oom_kills() > 0) {
        verdict.get_or_insert(StepStatus::MemoryExceeded);
        // The process the kernel killed at the cap may have died between two samples and
        // unreaped by its parent, so neither saw its size: the cgroup's own peak says it.
        sampled_peak_kb = sampled_peak_kb.max(cgroup.peak_bytes().unwrap_or(0) / 1024);
    }
    drop(cgroup);
    let (raw_status, usage) = exited?;
    if let Some(done) = masking {
        // The masking thread ends when the last writer of the pipe is gone; a process that left
        // the step's group keeps it open, so the log is taken as it stands after a while.
        let _ = tokio::time::timeout(MASK_DRAIN, done).await;
    }

    let (exit_code, signal) = match Exit::from_raw(raw_status) {
        Some(Exit::Code(code)) => (Some(code), None),
        Some(Exit::Signal(sig)) => (None, Some(sig)),
        None => (None, None),
    };
    let status = verdict.unwrap_or(if exit_code == Some(0) { StepStatus::Passed } else { StepStatus::Failed });
    let log_bytes = log_after.metadata()?.len();
    // Only a failure's excerpt is ever shown.
    let tail = if status == StepStatus::Passed { Vec::new() } else { tail_lines(&log_after, log_bytes)? };
    let record = StepRecord {
        name: spec.name.to_string(),
        position: spec.position,
        attempt: spec.attempt,
        status,
        exit_code,
        signal,
        duration: started.elapsed(),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        peak_rss_kb: {
            let maxrss = u64::try_from(usage.ru_maxrss).unwrap_or(0);
            sampled_peak_kb.max(if maxrss > own_peak_kb { maxrss } else { 0 })
        },
        log: spec.log.to_path_buf(),
        log_bytes,
        command: spec.command.to_string(),
    };
    Ok(StepEnd { record, tail })
}

/// When the grace after a SIGTERM ends; at once where the grace is past what the clock can hold.
fn grace_end(grace: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(grace).unwrap_or(now)
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The last [`TAIL_LINES`] lines of the log, from its last [`TAIL_BYTES`].
fn tail_lines(log: &File, len: u64) -> io::Result<Vec<String>> {
    use std::os::unix::fs::FileExt;
    let start = len.saturating_sub(TAIL_BYTES);
    let mut buf = vec![0u8; usize::try_from(len - start).unwrap_or(0)];
    let n = log.read_at(&mut buf, start)?;
    buf.truncate(n);
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // The first line of a cut tail is likely partial; a tail of whole lines keeps it.
    if start > 0 && lines.len() > 1 {
        lines.remove(0);
    }
    let first = lines.len().saturating_sub(TAIL_LINES);
    Ok(lines.split_off(first))
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(tv.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(tv.tv_usec).unwrap_or(0))
}

/// Waits for `pid` to exit without a thread: its pidfd becomes readable when it does, then
/// `wait4` reaps it. Where pidfds are missing (Linux before 5.3), a thread waits instead.
async fn wait_for_exit(pid: i32) -> io::Result<(i32, libc::rusage)> {
    let pidfd = rustix::process::Pid::from_raw(pid)
        .ok_or_else(|| io::Error::other("bad pid"))
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::NONBLOCK).map_err(io::Error::from))
        .and_then(register);
    match pidfd {
        Ok(pidfd) => loop {
            let mut ready = pidfd.readable().await?;
            if let Some(exited) = wait4(pid, libc::WNOHANG)? {
                return Ok(exited);
            }
            ready.clear_ready();
        },
        Err(_) => {
            let (tx, rx) = oneshot::channel();
            std::thread::spawn(move || {
                let _ = tx.send(wait4(pid, 0).and_then(|r| r.ok_or_else(|| io::Error::other("wait4 returned early"))));
            });
            rx.await.unwrap_or_else(|_| Err(io::Error::other("the wait thread died")))
        }
    }
}

/// Registers a pidfd with the runtime.
#[allow(unsafe_code)]
fn register(pidfd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the AsyncFd owns the descriptor, so it stays open (and is not reused) for as long as
    // it is registered, and it is closed only after deregistration when the AsyncFd drops.
    unsafe { AsyncFd::register(pidfd) }.map_err(|e| e.into_parts().1)
}
