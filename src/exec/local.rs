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
        let mut dirs = job.make_dirs.clone();
        dirs.push(self.logs_dir.join(&job.job.slug));
        let (prepared, source) = (self.source.clone(), job.source.clone());
        let prepare = move || {
            let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
            workspace::prepare_job(&prepared, &source, &dirs).map_err(|e| io::Error::other(e.to_string()))
        };
        Box::pin(async move {
            // A checkout takes seconds: on the blocking pool, so the runtime's thread goes on
            // supervising the other jobs. A few folders take less than the hand-over would.
            if self.source.cache_repo.is_some() {
                tokio::task::spawn_blocking(prepare).await.map_err(io::Error::other)?
            } else {
                prepare()
            }
        })
    }

    fn run_step<'a>(&'a self, step: StepSpec<'a>) -> BoxFuture<'a, io::Result<StepEnd>> {
        Box::pin(supervisor::run_step(step))
    }
}
