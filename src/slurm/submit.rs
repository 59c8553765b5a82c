//! Submitting a plan's jobs as job arrays, and waiting for them: the tasks (cells packed several
//! to a task where asked), each task's resources from the jobs' limits, the arrays split at the
//! cluster's `MaxArraySize`, and while `run` waits, the same progress as a local run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cluster::{self, Cluster};
use super::collect::{self, Collected};
use super::{Array, Spec};
use crate::config::Slurm;
use crate::error::{Error, Result};
use crate::exec::events::Event;
use crate::plan::{Job, Plan};
use crate::remote::ssh::quote;
use crate::store::Store;

/// What gridrun itself needs beside a task's jobs: its own memory, and time to start and finish.
const TASK_MEMORY_MARGIN: u64 = 64 << 20;
const TASK_TIME_MARGIN: Duration = Duration::from_secs(60);
/// How long packed tasks should last when `--pack auto` packs by past durations.
const PACKED_TASK_LENGTH: Duration = Duration::from_secs(60);

/// Cells per task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pack {
    /// This many.
    Cells(u32),
    /// As many as fill about a minute, by the cells' past durations (one each where none is
    /// known).
    Auto,
}

impl std::str::FromStr for Pack {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if text == "auto" {
            return Ok(Self::Auto);
        }
        match text.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Self::Cells(n)),
            _ => Err(format!("`{text}` is not a number of cells per task (1 or more) or `auto`")),
        }
    }
}

/// How a run goes to Slurm, the file's `[slurm]` with the command line's flags over it.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    /// `[slurm]`, flags applied.
    pub slurm: Slurm,
    /// Cells per task.
    pub pack: Option<Pack>,
    /// Tasks at once at most (`%N`).
    pub throttle: Option<u32>,
    /// `--timeout`, overriding the file's.
    pub timeout: Option<Duration>,
}

/// The arrays a plan's jobs would be: the tasks, and sbatch's arguments for each array (without
/// the command it runs).
#[derive(Debug)]
pub struct Arrays {
    /// The slugs each task runs.
    pub tasks: Vec<Vec<String>>,
    /// Each array's first task and its size.
    pub splits: Vec<(usize, usize)>,
    /// The options every array is submitted with.
    pub options: Vec<String>,
    /// The cluster.
    pub cluster: Cluster,
}

/// Cuts `jobs` into tasks and works out each array's options.
pub fn arrays(plan: &Plan, jobs: &[&Job], how: &Submission, store: Option<&Store>) -> Result<Arrays> {
    let cluster = Cluster::detect().map_err(Error::Usage)?;
    let per_task = match how.pack.or(plan.matrix.slurm.pack.map(Pack::Cells)).unwrap_or(Pack::Cells(1)) {
        Pack::Cells(n) => usize::try_from(n).unwrap_or(1),
        Pack::Auto => auto_pack(jobs, store),
    };
    let tasks: Vec<Vec<String>> =
        jobs.chunks(per_task.max(1)).map(|chunk| chunk.iter().map(|j| j.slug.clone()).collect()).collect();
    let limits = &plan.matrix.limits;
    let mut options = vec![
        format!("--job-name=gridrun-{}", plan.matrix.project.name),
        format!("--cpus-per-task={}", limits.cpus.max(1)),
    ];
    if let Some(memory) = limits.memory {
        options.push(format!("--mem={}M", (memory + TASK_MEMORY_MARGIN).div_ceil(1 << 20)));
    }
    if let Some(timeout) = how.timeout.or(limits.timeout) {
        let cells = u32::try_from(per_task).unwrap_or(u32::MAX);
        let total = timeout.saturating_mul(cells) + TASK_TIME_MARGIN;
        options.push(format!("--time={}", total.as_secs().div_ceil(60)));
    }
    let slurm = &how.slurm;
    for (flag, value) in [("--partition", &slurm.partition), ("--account", &slurm.account), ("--qos", &slurm.qos)] {
        if let Some(value) = value {
            options.push(format!("{flag}={value}"));
        }
    }
    options.extend(slurm.options.iter().cloned());
    let size = usize::try_from(cluster.max_array_size).unwrap_or(1001).max(2);
    let splits = (0..tasks.len()).step_by(size).map(|first| (first, size.min(tasks.len() - first))).collect();
    Ok(Arrays { tasks, splits, options, cluster })
}

/// Cells per task to fill about [`PACKED_TASK_LENGTH`], from the median of the cells' last
/// durations that passed; 1 where none is known.
fn auto_pack(jobs: &[&Job], store: Option<&Store>) -> usize {
    let Some(store) = store else { return 1 };
    let slugs: Vec<&str> = jobs.iter().map(|j| j.slug.as_str()).collect();
    let mut known: Vec<Duration> = store.last_durations(&slugs).unwrap_or_default();
    if known.is_empty() {
        return 1;
    }
    known.sort();
    let median = known[known.len() / 2].max(Duration::from_millis(10));
    let cells = PACKED_TASK_LENGTH.as_millis() / median.as_millis().max(1);
    usize::try_from(cells).unwrap_or(1).clamp(1, 100)
}

/// Submits the arrays for run `run`, writes the spec, and marks the run as Slurm's.
pub fn submit(
    store: &mut Store,
    plan: &Plan,
    arrays: &Arrays,
    run: i64,
    how: &Submission,
    retries: Option<u32>,
    keep_workspaces: bool,
) -> Result<Spec> {
    let state_dir = std::path::absolute(&plan.state_dir).map_err(Error::io("cannot resolve the state folder"))?;
    let matrix = std::path::absolute(&plan.matrix.file.path).map_err(Error::io("cannot resolve the matrix file"))?;
    let mut spec = Spec {
        run,
        matrix,
        state_dir,
        tasks: arrays.tasks.clone(),
        arrays: Vec::new(),
        timeout_ms: how.timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        retries,
        keep_workspaces,
    };
    let dir = spec.dir();
    std::fs::create_dir_all(&dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    std::fs::create_dir_all(spec.state_dir.join("runs").join(run.to_string()))
        .map_err(Error::io("cannot create the run's log folder"))?;
    // The spec is in place before any task can start.
    spec.save().map_err(Error::io(format!("cannot write {}", spec.path().display())))?;
    let binary = std::env::current_exe().map_err(Error::io("cannot find gridrun's own binary"))?;
    for (first, count) in &arrays.splits {
        let mut args = arrays.options.clone();
        let range = match how.throttle.or(plan.matrix.limits.jobs) {
            Some(n) => format!("--array=0-{}%{n}", count - 1),
            None => format!("--array=0-{}", count - 1),
        };
        args.push(range);
        args.push(format!("--output={}", dir.join("slurm-%A_%a.out").display()));
        args.push(format!("--chdir={}", dir.display()));
        args.push(format!(
            "--wrap=exec {} __slurm-task {} --offset {first}",
            quote(&binary.display().to_string()),
            quote(&spec.path().display().to_string())
        ));
        let id = match cluster::sbatch(&args) {
            Ok(id) => id,
            Err(why) => {
                // What was submitted is cancelled: a run is all of its arrays or none.
                let _ = cluster::scancel(&spec.arrays.iter().map(|a| a.id.clone()).collect::<Vec<_>>());
                return Err(Error::Usage(why));
            }
        };
        spec.arrays.push(Array { id, offset: *first, count: *count });
        spec.save().map_err(Error::io(format!("cannot write {}", spec.path().display())))?;
    }
    store.set_slurm(run, &spec.path().display().to_string())?;
    Ok(spec)
}

/// Waits for the run's tasks, folding each as it finishes and telling `observe` what a local
/// run would (jobs starting, jobs ending). `stopped` says Ctrl-C or SIGTERM came: the arrays
/// are cancelled and what is left recorded as Slurm ends it.
pub fn wait(
    store: &mut Store,
    spec: &Spec,
    stopped: &dyn Fn() -> bool,
    observe: &mut dyn FnMut(&Event),
) -> Result<crate::outcome::RunStatus> {
    let mut started: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut cancelled = false;
    let mut cancelled_at: Option<std::time::Instant> = None;
    loop {
        if stopped() && !cancelled {
            cancelled = true;
            cancelled_at = Some(std::time::Instant::now());
            observe(&Event::Cancelling { reason: crate::exec::events::CancelReason::Interrupt });
            if let Err(why) = cluster::scancel(&spec.arrays.iter().map(|a| a.id.clone()).collect::<Vec<_>>()) {
                crate::note!("{why}");
            }
        }
        let Collected { finished, running, ended, .. } = collect::collect(store, spec, cancelled)?;
        let newly: Vec<String> = running.into_iter().filter(|s| !started.contains(s)).collect();
        if !newly.is_empty() {
            store.mark_started(spec.run, &newly)?;
        }
        for slug in newly {
            observe(&Event::JobStarted { slug: slug.clone(), place: Some("slurm".into()) });
            started.insert(slug);
        }
        for record in finished {
            if !started.contains(&record.slug) {
                observe(&Event::JobStarted { slug: record.slug.clone(), place: Some("slurm".into()) });
            }
            observe(&Event::JobFinished { record: Box::new(record) });
        }
        if let Some(status) = ended {
            return Ok(status);
        }
        // Cancelled tasks end at once; a run whose arrays Slurm still holds after a while is
        // closed as it stands.
        if cancelled_at.is_some_and(|at| at.elapsed() > Duration::from_secs(60)) {
            store.fold(spec.run, &[], &[], Some(crate::outcome::RunStatus::Interrupted))?;
            return Ok(crate::outcome::RunStatus::Interrupted);
        }
        std::thread::sleep(Duration::from_millis(if cancelled { 300 } else { 1000 }));
    }
}

/// The spec of run `run` in the store at `state_dir`, where it was submitted to Slurm.
pub fn spec_of(store: &Store, run: i64) -> Result<Option<Spec>> {
    match store.slurm_of(run)? {
        Some(path) => Spec::load(Path::new(&path)).map(Some).map_err(Error::io(format!("cannot read {path}"))),
        None => Ok(None),
    }
}

/// `plan --on slurm`: the arrays that would be submitted, for a user to check before spending
/// an allocation.
pub fn describe(plan: &Plan, arrays: &Arrays) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let cells: usize = arrays.tasks.iter().map(Vec::len).sum();
    let _ = writeln!(
        out,
        "{}: {} cells in {} array task(s) on cluster {}, {} array(s) (MaxArraySize {})",
        plan.matrix.project.name,
        cells,
        arrays.tasks.len(),
        arrays.cluster.name,
        arrays.splits.len(),
        arrays.cluster.max_array_size
    );
    let _ = writeln!(out, "each task: sbatch {}", arrays.options.join(" "));
    for (n, task) in arrays.tasks.iter().enumerate().take(20) {
        let _ = writeln!(out, "  task {n}: {}", task.join(", "));
    }
    if arrays.tasks.len() > 20 {
        let _ = writeln!(out, "  … and {} more tasks", arrays.tasks.len() - 20);
    }
    out
}

/// The gridrun binary the nodes will run, for messages.
pub fn binary() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("gridrun"))
}
