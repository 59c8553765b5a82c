//! The seam between the dispatcher and where a job's steps run. The dispatcher hands a prepared
//! job to an [`Executor`] and hears back events; it never knows which kind of executor it drives.
//!
//! The contract, for every executor (this host's processes today; an SSH build host, a container
//! image or a Slurm allocation are each one more beside it):
//!
//! - [`Executor::prepare`] readies the job's folders where its steps run (the source at the run's
//!   commit, the build and results folders the job's templates named), before its first step.
//! - [`Executor::run_step`] runs one step attempt to its end with the environment given, its
//!   output (stdout and stderr, interleaved) written to the step's log file *on this host* as it
//!   comes, so `run`'s progress, `gridrun log` and the live report follow it. The step's whole
//!   process tree is held to its deadline (SIGTERM, then SIGKILL after the grace), its memory cap
//!   and the run's cancellation (`Interrupt` terminates, `Kill` kills at once); nothing it started
//!   outlives it. Time the run spent suspended (Ctrl-Z) does not count against the deadline. The
//!   outcome says how it ended, with wall and CPU time and peak memory where they can be known.
//!   An `Err` means the executor itself failed (the step could not be started, the host was
//!   lost): the job is recorded as an infrastructure failure.
//! - [`Executor::fetch`] makes a file the job wrote (a JUnit file, an artifact) readable on this
//!   host and says where; the job's record is then built the same way whatever ran it.
//! - [`Executor::finish`] removes the job's workspace (after a pass, unless kept) and says where
//!   a kept one is.
//!
//! Retries, JUnit, diagnostics, artifacts and the job's record are not an executor's business:
//! [`super::job`] does them the same way for every executor.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::events::CancelReason;
use super::suspend::Suspension;
use crate::outcome::StepRecord;
use crate::plan::RenderedJob;
use crate::secrets::Masker;

/// A future an executor returns, boxed so the trait can be used as `dyn Executor`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a job's steps run.
pub trait Executor: Send + Sync {
    /// A name for messages and records: `local`, a host's name.
    fn name(&self) -> &str;

    /// The build host it runs jobs on, where that is not this host.
    fn host(&self) -> Option<&str> {
        None
    }

    /// The container image `job` runs in, and its digest, where it runs in one.
    fn image(&self, _job: &RenderedJob) -> Option<(String, String)> {
        None
    }

    /// Readies the job's folders where its steps run; `Err` says why it cannot (of the kind
    /// [`host_lost`] knows where the place itself was lost).
    fn prepare<'a>(&'a self, job: &'a RenderedJob) -> BoxFuture<'a, io::Result<()>>;

    /// Runs one step attempt to its end (see the module's contract).
    fn run_step<'a>(&'a self, step: StepSpec<'a>) -> BoxFuture<'a, io::Result<StepEnd>>;

    /// Makes `path`, written by the job where it ran, readable here, and returns where: the path
    /// itself, for a job that ran on this host's file system.
    fn fetch<'a>(&'a self, _job: &'a RenderedJob, path: &'a Path) -> BoxFuture<'a, io::Result<PathBuf>> {
        Box::pin(async move { Ok(path.to_path_buf()) })
    }

    /// Makes the files of the job's workspace that `patterns` (absolute globs, as rendered for
    /// where the job ran) match readable here, and returns where its workspace can be read here:
    /// `job.work_dir` itself for a job that ran on this host's file system.
    fn fetch_workspace<'a>(
        &'a self,
        job: &'a RenderedJob,
        _patterns: &'a [String],
    ) -> BoxFuture<'a, io::Result<PathBuf>> {
        Box::pin(async move { Ok(job.work_dir.clone()) })
    }

    /// Cleans up after the job: its workspace goes unless `keep`; returns where a kept one is.
    /// The workspace is `job.work_dir` on this host's file system unless the executor says.
    fn finish<'a>(&'a self, job: &'a RenderedJob, keep: bool) -> BoxFuture<'a, Option<PathBuf>> {
        Box::pin(async move {
            if !keep {
                super::workspace::remove(&job.work_dir);
                return None;
            }
            job.work_dir.exists().then(|| job.work_dir.clone())
        })
    }
}

/// The kind of error an executor returns where the place it runs jobs was lost (a build host
/// that stopped answering): the job may run again elsewhere.
pub const LOST: io::ErrorKind = crate::remote::ssh::LOST;

/// Whether `err` says the place a job ran was lost.
pub fn host_lost(err: &io::Error) -> bool {
    err.kind() == LOST
}

/// One step attempt, as the job hands it to its executor.
pub struct StepSpec<'a> {
    /// The job's slug.
    pub job: &'a str,
    /// The step's name.
    pub name: &'a str,
    /// Its position in the job, from 0.
    pub position: usize,
    /// Which attempt, from 1.
    pub attempt: u32,
    /// The shell command (run with `/bin/sh -c`).
    pub command: &'a str,
    /// Its working folder, where the step runs.
    pub cwd: &'a Path,
    /// Environment on top of the executor's own.
    pub env: &'a [(String, String)],
    /// Where its output goes, on this host.
    pub log: &'a Path,
    /// When it must have finished.
    pub deadline: Option<Instant>,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Memory cap for the step's whole process tree, in bytes.
    pub memory_limit: Option<u64>,
    /// The run's token, which every process of the run carries.
    pub token: &'a str,
    /// The run's cancellation: the most severe reason so far.
    pub cancel: watch::Receiver<Option<CancelReason>>,
    /// Ctrl-Z: where the step's processes are registered, and how long the run was suspended.
    pub suspension: &'a Suspension,
    /// The secrets to mask in the log; with none, output may go straight to the log file.
    pub masker: Option<&'a Arc<Masker>>,
}

/// How a step attempt ended: its record, and the last lines of its output where it did not pass.
#[derive(Debug)]
pub struct StepEnd {
    /// The attempt, as the store keeps it.
    pub record: StepRecord,
    /// The last lines of output, where the step did not pass.
    pub tail: Vec<String>,
}
