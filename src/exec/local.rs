//! The executor for this host: each step a process group of its own, supervised by
//! [`super::supervisor`]; the job's folders in the state folder, the source built in place or
//! checked out there ([`super::workspace`]).

use std::io;
use std::path::{Path, PathBuf};

use super::executor::{BoxFuture, Executor, StepEnd, StepSpec};
use super::supervisor;
use super::workspace::{self, PreparedSource};
use crate::plan::RenderedJob;

/// Runs jobs on this host.
#[derive(Debug)]
pub struct LocalExecutor {
    /// The run's source, fetched once.
    pub source: PreparedSource,
    /// `<state>/runs/<run>`: each job logs into a folder of its own here.
    pub logs_dir: PathBuf,
}

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn prepare<'a>(&'a self, job: &'a RenderedJob) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let log_dir = self.logs_dir.join(&job.job.slug);
            let mut dirs: Vec<&Path> = job.make_dirs.iter().map(PathBuf::as_path).collect();
            dirs.push(&log_dir);
            workspace::prepare_job(&self.source, &job.source, &dirs).map_err(|e| io::Error::other(e.to_string()))
        })
    }

    fn run_step<'a>(&'a self, step: StepSpec<'a>) -> BoxFuture<'a, io::Result<StepEnd>> {
        Box::pin(supervisor::run_step(step))
    }

    fn fetch<'a>(&'a self, _job: &'a RenderedJob, path: &'a Path) -> BoxFuture<'a, io::Result<PathBuf>> {
        Box::pin(async move { Ok(path.to_path_buf()) })
    }

    fn finish<'a>(&'a self, job: &'a RenderedJob, keep: bool) -> BoxFuture<'a, Option<PathBuf>> {
        Box::pin(async move {
            if !keep {
                workspace::remove(&job.work_dir);
                return None;
            }
            job.work_dir.exists().then(|| job.work_dir.clone())
        })
    }
}
