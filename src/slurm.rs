//! The grid on a Slurm cluster, with no scheduler or server of gridrun's own (DESIGN §7): the
//! selected jobs become one job array (split where the cluster's `MaxArraySize` is smaller), each
//! task runs its cells with the same runner and supervisor as a local run, writing a state of its
//! own into the shared state folder, and `collect` (or `run` while it waits) folds what has
//! finished into the one run that was recorded at submission, with Slurm's own verdicts for tasks
//! it ended (time, memory, a cancel, a node failure).
//!
//! Layout, under the state folder: `slurm/<run>/spec.json` (the submission), and per task
//! `slurm/<run>/task-<n>/` (its own store and workspace, and `result-<slug>.json` for each job
//! as it ends); the jobs' logs go straight into `runs/<run>/`, their artifacts into the state
//! folder's store.

pub mod cluster;
pub mod collect;
pub mod nodes;
pub mod submit;
pub mod task;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A submission: what each task runs and where everything is.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Spec {
    /// The run the tasks are part of.
    pub run: i64,
    /// The matrix file, absolute.
    pub matrix: PathBuf,
    /// The state folder, absolute (on a file system the nodes share).
    pub state_dir: PathBuf,
    /// The slugs each task runs, by task number.
    pub tasks: Vec<Vec<String>>,
    /// The arrays submitted: Slurm's job id and the task number of its index 0.
    pub arrays: Vec<Array>,
    /// `--timeout`, overriding the file's, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `--retries`, overriding the file's.
    pub retries: Option<u32>,
    /// `--keep-workspaces`.
    pub keep_workspaces: bool,
}

/// One submitted array.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Array {
    /// Slurm's job id for it.
    pub id: String,
    /// The task number its index 0 runs.
    pub offset: usize,
    /// How many tasks it has.
    pub count: usize,
}

impl Spec {
    /// The run's Slurm folder.
    pub fn dir(&self) -> PathBuf {
        run_dir(&self.state_dir, self.run)
    }

    /// Task `n`'s folder.
    pub fn task_dir(&self, n: usize) -> PathBuf {
        self.dir().join(format!("task-{n}"))
    }

    /// Where the spec is kept.
    pub fn path(&self) -> PathBuf {
        self.dir().join("spec.json")
    }

    /// Reads a spec back.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let bytes = crate::boundedread::read(path, 256 << 20)?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }

    /// Writes the spec (whole, or not at all).
    pub fn save(&self) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::outfile::write_path(&self.path(), &bytes)
    }

    /// The task a global task number `n` is in Slurm's terms: its array's job id and index.
    pub fn slurm_task(&self, n: usize) -> Option<(&str, usize)> {
        self.arrays.iter().find(|a| n >= a.offset && n < a.offset + a.count).map(|a| (a.id.as_str(), n - a.offset))
    }
}

/// A run's Slurm folder.
pub fn run_dir(state_dir: &Path, run: i64) -> PathBuf {
    state_dir.join("slurm").join(run.to_string())
}

/// The file a task leaves for a job: its record as `show RUN/JOB --json` writes one.
pub fn result_file(task_dir: &Path, slug: &str) -> PathBuf {
    task_dir.join(format!("result-{slug}.json"))
}
