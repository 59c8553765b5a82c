//! A run, from a plan to its record: which of the plan's jobs it takes (a shard, the failures of
//! an earlier run, what has not passed at this commit yet), recording it in the store as it goes,
//! running it on the executor within the host's limits, stopping it when asked, and what it came
//! to — the status and exit code. `gridrun run` is this module with arguments parsed and a summary
//! printed after.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::PipelineKind;
use crate::error::{Error, Result};
use crate::exec::container::ContainerExecutor;
use crate::exec::events::{CancelReason, Event};
use crate::exec::executor::Executor;
use crate::exec::job::RunContext;
use crate::exec::local::LocalExecutor;
use crate::exec::reaper::{self, Reaper};
use crate::exec::resources::Capacity;
use crate::exec::scheduler::{self, Observer, Outcome, Place, Queued, SchedulerOptions};
use crate::exec::ssh::SshExecutor;
use crate::exec::workspace;
use crate::matrix::Shard;
use crate::outcome::{JobKind, JobRecord, JobStatus, RunStatus};
use crate::plan::{Job, Machines, PipelineJob, PlaceSpec, Plan, Roots};
use crate::progress::Progress;
use crate::report::format::Export;
use crate::report::grid::Pivot;
use crate::secrets::{Masker, Unmasked};
use crate::store::{AfterCommit, NewJob, NewRun, Store, StoreWriter};
use crate::toolchain::{keys, Availability};

/// How a run goes, as the command line asked.
#[derive(Clone, Debug, Default)]
#[allow(clippy::struct_excessive_bools, reason = "the command line's switches, passed down")]
pub struct Options {
    /// Concurrent jobs at most (`-j`).
    pub jobs: Option<u32>,
    /// CPU slots to share out.
    pub cpus: Option<u32>,
    /// Memory to share out, in bytes.
    pub memory: Option<u64>,
    /// Stop after this many failures (1 for `--fail-fast`).
    pub max_failures: Option<u32>,
    /// A time limit per job, overriding the file's.
    pub timeout: Option<Duration>,
    /// Keep every job's workspace.
    pub keep_workspaces: bool,
    /// Run only this slice of the plan.
    pub shard: Option<Shard>,
    /// Run only what failed (or was cancelled) in this run (`latest` or an id).
    pub rerun_failed: Option<String>,
    /// Do not run a cell whose config already passed at this commit.
    pub skip_passed: bool,
    /// Write the HTML report here, rewritten as jobs finish.
    pub report: Option<PathBuf>,
    /// Write JUnit XML here when the run ends.
    pub junit: Option<PathBuf>,
    /// The grid's keys, for the reports.
    pub pivot: Option<Pivot>,
    /// Colour in the progress display.
    pub color: bool,
    /// Cells were picked outright (`--cell`, or a share of a fan-out by `--shard`): one that
    /// cannot run here fails the run.
    pub picked: bool,
    /// `--strict`: any cell this host cannot serve fails the run.
    pub strict: bool,
    /// Retries for every step, overriding the file's.
    pub retries: Option<u32>,
    /// Where the jobs' logs go, in place of the run's own `runs/<run>` (a Slurm task writes
    /// into the state folder of the run it is part of).
    pub logs_dir: Option<PathBuf>,
    /// Where the jobs' artifacts are stored, in place of the state folder's own.
    pub artifacts_dir: Option<PathBuf>,
    /// Told of each job as it ends, with its record (a Slurm task leaves each for `collect`).
    pub after_job: Option<AfterJob>,
}

/// A hook told of each job's record as it ends.
#[derive(Clone)]
pub struct AfterJob(pub Arc<dyn Fn(&JobRecord) + Send + Sync>);

impl std::fmt::Debug for AfterJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterJob")
    }
}

/// What a run of one plan came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ran {
    /// The run happened and is recorded.
    Run(RunResult),
    /// There was nothing to run, and why (nothing failed in the run to rerun, say).
    Nothing(String),
    /// The share of the cells this run was handed (`--shard`) holds none: an error of its own
    /// unless empty selections are allowed.
    Empty(String),
    /// Ctrl-C or SIGTERM came before the run was recorded.
    Interrupted,
    /// Submitted to Slurm and left there (`--detach`): `collect` folds it in.
    Detached {
        /// The run.
        run: i64,
        /// Slurm's job ids of its arrays.
        arrays: Vec<String>,
        /// How many tasks.
        tasks: usize,
    },
}

/// A recorded run's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunResult {
    /// Its id.
    pub run: i64,
    /// How it ended.
    pub status: RunStatus,
    /// A job's task panicked: a bug in gridrun, which stopped the run.
    pub internal_error: Option<String>,
    /// Cells that had to run (picked, or under `--strict`) but could not here: slug and why.
    pub unrunnable: Vec<(String, String)>,
    /// No job of the selection ran (or was reused): every one could not run here.
    pub ran_nothing: bool,
}

/// The exit code of an interrupted run (128 + SIGINT, as shells have it).
pub const INTERRUPTED: u8 = 130;

impl Ran {
    /// The exit code this comes to: 0, 1 for a failure (or a cell that had to run and could
    /// not), 4 for a run that ran nothing (0 with `allow_empty`), 130 interrupted, 101 a bug.
    pub fn exit_code(&self, allow_empty: bool) -> u8 {
        match self {
            Self::Nothing(_) | Self::Detached { .. } => 0,
            Self::Empty(_) if allow_empty => 0,
            Self::Empty(_) => crate::error::EMPTY,
            Self::Interrupted => INTERRUPTED,
            Self::Run(result) if result.internal_error.is_some() => crate::error::INTERNAL_ERROR,
            Self::Run(result) => match result.status {
                RunStatus::Interrupted => INTERRUPTED,
                RunStatus::Failed => 1,
                _ if result.ran_nothing && !allow_empty => crate::error::EMPTY,
                RunStatus::Passed | RunStatus::Running | RunStatus::Abandoned => 0,
            },
        }
    }
}

/// Runs plans one after another into one store.
pub struct Runner {
    store: Option<Store>,
    options: Options,
    /// Set by Ctrl-C or SIGTERM while no dispatcher listens (between projects, while a source is
    /// fetched): once the first dispatcher has listened, those signals no longer end gridrun.
    stop: Arc<AtomicBool>,
}

impl Runner {
    /// A runner over `store`: runs its gridrun left behind are marked abandoned and what they left
    /// running is ended first.
    pub fn new(mut store: Store, options: Options) -> Result<Self> {
        store.keep_reserve();
        for token in store.mark_abandoned()? {
            reaper::sweep(&token, Duration::from_secs(2));
        }
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(Error::io("cannot handle signals"))?;
        }
        Ok(Self { store: Some(store), options, stop })
    }

    /// The store, between runs.
    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("the store is back between runs")
    }

    /// Whether Ctrl-C or SIGTERM came while no run was going.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The plan's jobs this run takes (its shard, the failures of the run it reruns), or what the
    /// run comes to when they are none.
    fn select<'p>(&self, plan: &'p Plan) -> Result<std::result::Result<Vec<&'p Job>, Ran>> {
        let project = &plan.matrix.project.name;
        let rerun = match &self.options.rerun_failed {
            Some(which) => match failed_in(self.store(), which, project)? {
                Ok(slugs) => Some(slugs),
                Err(why) => return Ok(Err(Ran::Nothing(why))),
            },
            None => None,
        };
        let jobs: Vec<&Job> = plan
            .jobs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.options.shard.is_none_or(|shard| shard.holds(*i)))
            .map(|(_, job)| job)
            .filter(|job| rerun.as_ref().is_none_or(|failed| failed.contains(&job.slug)))
            .collect();
        if !jobs.is_empty() {
            return Ok(Ok(jobs));
        }
        Ok(Err(match self.options.shard {
            Some(shard) if !plan.jobs.is_empty() => Ran::Empty(format!(
                "{project}: shard {shard} holds none of its {} cells; nothing ran (--allow-empty accepts that)",
                plan.jobs.len()
            )),
            _ => Ran::Nothing(format!("{project}: the selection holds none of its cells; nothing recorded")),
        }))
    }

    /// Runs `plan`, writing its HTML report to `report` and its JUnit to `junit` where given.
    pub fn run(
        &mut self,
        plan: &Plan,
        machines: &Machines,
        report: Option<&Path>,
        junit: Option<&Path>,
    ) -> Result<Ran> {
        let jobs = match self.select(plan)? {
            Ok(jobs) => jobs,
            Err(nothing) => return Ok(nothing),
        };
        let source = workspace::prepare_source(plan);
        // A Ctrl-C while the source was fetched (it reaches git too) stops here, before the run is
        // recorded.
        if self.stopped() {
            return Ok(Ran::Interrupted);
        }
        let source = source.map_err(|e| Error::Usage(format!("{}: {e}", plan.matrix.file.path.display())))?;
        let reused = self.reused(&jobs, &source)?;
        let unrunnable = self.unrunnable(&jobs);
        let token = format!("{:x}-{:x}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
        let to_run: Vec<&Job> = jobs
            .iter()
            .copied()
            .filter(|j| j.availability == Availability::Ready && !reused.contains_key(j.slug.as_str()))
            .collect();
        // Only the setups a cell to run needs, then every finally step.
        let mut setups: Vec<usize> = to_run.iter().flat_map(|j| j.setups.iter().copied()).collect();
        setups.sort_unstable();
        setups.dedup();
        let finals: Vec<usize> =
            (0..plan.pipeline.len()).filter(|&i| plan.pipeline[i].kind == PipelineKind::Finally).collect();
        let pipeline: Vec<usize> = setups.iter().chain(&finals).copied().collect();
        let run_id = self.begin(plan, &jobs, &pipeline, &reused, &source, &token)?;
        let run_number = u64::try_from(run_id).unwrap_or(0);
        let ran_nothing = to_run.is_empty() && reused.is_empty();
        let logs_dir =
            self.options.logs_dir.clone().unwrap_or_else(|| plan.state_dir.join("runs").join(run_id.to_string()));
        let options = &self.options;
        let capacity = Capacity::detect(options.cpus, options.memory);
        let per_job = plan.matrix.limits.cpus.max(1);
        let max_jobs = options.jobs.or(plan.matrix.limits.jobs).unwrap_or_else(|| (capacity.cpus / per_job).max(1));
        let mut set_up = PlaceSetUp {
            plan,
            machines,
            source: &source,
            token: &token,
            run: run_number,
            logs_dir: &logs_dir,
            local_capacity: capacity,
            local_jobs: usize::try_from(max_jobs.max(1)).unwrap_or(1),
            places: Vec::new(),
            pools: vec![capacity],
            index: HashMap::new(),
            remote: Vec::new(),
        };
        let run_json = logs_dir.join("run.json");
        let local_roots = plan.local_roots(run_number);
        let render_pipeline = |i: &usize| -> Result<Queued> {
            Ok(Queued::at(
                0,
                plan.render_pipeline(&plan.pipeline[*i], run_number, &source.commit, &local_roots, &run_json)?,
            ))
        };
        let setup_queue = setups.iter().map(render_pipeline).collect::<Result<Vec<_>>>()?;
        let finally_queue = finals.iter().map(render_pipeline).collect::<Result<Vec<_>>>()?;
        let mut queue = Vec::with_capacity(to_run.len());
        // Each cell's slot in the queue, by slug, for the setups it waits on.
        let mut waits: Vec<&[usize]> = Vec::with_capacity(to_run.len());
        let repository = match &plan.matrix.project.source {
            crate::config::Source::Git { url, .. } => Some(url.clone()),
            crate::config::Source::Path(_) => None,
        };
        let mut learning = None;
        for job in &to_run {
            let mut at = Vec::with_capacity(job.places.len());
            for &place in &job.places {
                let Some((index, roots)) = set_up.place(place) else { continue };
                let mut rendered = plan.render_in(job, run_number, &source.commit, &roots)?;
                if let Some(retries) = options.retries {
                    rendered.steps.iter_mut().for_each(|step| step.retries = retries);
                }
                // While the other jobs are rendered, the first local one's build facts are
                // learned: its first jobs need not wait for its compilers to be hashed.
                if learning.is_none() && matches!(plan.places[place], PlaceSpec::Local) {
                    learning = Some(crate::exec::facts::learn_ahead(rendered.clone(), repository.clone()));
                }
                at.push((index, rendered));
            }
            if !at.is_empty() {
                queue.push(Queued { at, moved: false });
                waits.push(&job.setups);
            }
        }
        let PlaceSetUp { places, pools, remote, .. } = set_up;
        let scheduler_options = SchedulerOptions { pools, max_failures: options.max_failures };
        // The run's folders, made once so each job only adds its own; the cache is shared by all
        // runs and named to steps as {{ cache_dir }}.
        for dir in [&logs_dir, &plan.state_dir.join("work").join(run_id.to_string()), &plan.state_dir.join("cache")] {
            std::fs::create_dir_all(dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
        }
        prepare_ccache(plan, &to_run, &local_roots);
        let ctx = Arc::new(RunContext {
            token: token.clone(),
            logs_dir: logs_dir.clone(),
            keep_workspaces: options.keep_workspaces,
            timeout: options.timeout,
            state_dir: plan.state_dir.clone(),
            artifacts_dir: options.artifacts_dir.clone().unwrap_or_else(|| plan.state_dir.join("artifacts")),
            masker: masker(&plan.matrix.secrets),
            repository,
        });

        let reaper = Reaper::spawn(&token, plan.matrix.limits.kill_grace);
        let store = self.store.take().expect("the store is back between runs");
        let live = report.map(|path| live_report(path.to_path_buf(), run_id, options.pivot.clone()));
        let total = setup_queue.len() + queue.len() + finally_queue.len();
        let mut observer = RunObserver {
            writer: StoreWriter::spawn(store, run_id, live),
            progress: Progress::new(total, options.color),
            after_job: options.after_job.clone(),
            run_id,
            logs_dir: logs_dir.clone(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::io("cannot start the runtime"))?;
        // The pipeline's own jobs run on this host, each phase through the same scheduler; a
        // phase's places are used up by it, so each gets this host's anew.
        let local_place = || Place {
            name: "local".into(),
            executor: Arc::new(LocalExecutor { source: source.clone(), logs_dir: logs_dir.clone() }),
            pool: 0,
            max_jobs: usize::try_from(max_jobs.max(1)).unwrap_or(1),
        };
        let local_options = SchedulerOptions { pools: vec![capacity], max_failures: options.max_failures };
        let mut outcome = Outcome { records: Vec::new(), cancelled: None, internal_error: None };
        let interrupted = |o: &Outcome| {
            o.internal_error.is_some() || matches!(o.cancelled, Some(CancelReason::Interrupt | CancelReason::Kill))
        };
        let run_here = |queue: Vec<Queued>, observer: &mut RunObserver| {
            runtime.block_on(scheduler::run(queue, vec![local_place()], Arc::clone(&ctx), &local_options, observer))
        };
        if !setup_queue.is_empty() {
            outcome.absorb(run_here(setup_queue, &mut observer));
        }
        let passed: HashSet<String> =
            outcome.records.iter().filter(|r| r.status.is_pass()).map(|r| r.slug.clone()).collect();
        // A cell whose setup did not pass is skipped, saying which.
        let mut ready = Vec::with_capacity(queue.len());
        for (queued, needs) in queue.into_iter().zip(waits) {
            let failed = needs.iter().map(|&i| &plan.pipeline[i]).find(|p| !passed.contains(p.slug.as_str()));
            match failed {
                None => ready.push(queued),
                Some(setup) if !interrupted(&outcome) && outcome.cancelled.is_none() => {
                    let mut record = JobRecord::new(queued.at[0].1.job.slug.clone());
                    record.status = JobStatus::Skipped;
                    record.reason = Some(format!("{} failed", setup.describe()));
                    observer.event(&Event::JobFinished { record: Box::new(record.clone()) });
                    outcome.records.push(record);
                }
                // Cancelled before its setup ended: the run's end records it cancelled.
                Some(_) => {}
            }
        }
        if !interrupted(&outcome) && !self.stopped() && outcome.cancelled.is_none() {
            let ran =
                runtime.block_on(scheduler::run(ready, places, Arc::clone(&ctx), &scheduler_options, &mut observer));
            outcome.absorb(ran);
        } else {
            drop(places);
        }
        // Finally steps run whatever the grid came to, but not past Ctrl-C.
        if !finally_queue.is_empty() && !interrupted(&outcome) && !self.stopped() {
            let (sent, written) = std::sync::mpsc::channel();
            let path = run_json.clone();
            observer.writer.call(Box::new(move |store: &Store| {
                let _ = sent.send(write_run_json(store, run_id, &path));
            }));
            match written.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => crate::note!("cannot write {}: {e}", run_json.display()),
                Err(_) => crate::note!("cannot write {}: the store writer stopped", run_json.display()),
            }
            outcome.absorb(run_here(finally_queue, &mut observer));
        }
        if !options.keep_workspaces {
            for &i in &setups {
                let _ = std::fs::remove_dir_all(plan.setup_dir(&plan.pipeline[i], &local_roots));
            }
        }
        // Nothing of the run stays on a build host but the folders of the jobs that keep theirs.
        for host in &remote {
            let kept: Vec<String> = outcome
                .records
                .iter()
                .filter(|r| r.host.as_deref() == Some(host.name()) && r.work_dir.is_some())
                .map(|r| r.slug.clone())
                .collect();
            host.clean_up(&kept);
        }
        drop(remote);
        drop(learning);
        // The run's folder under work/ goes once it is empty: its jobs took their workspaces
        // with them, or needed none.
        let _ = std::fs::remove_dir(plan.state_dir.join("work").join(run_id.to_string()));
        drop(runtime);
        observer.progress.finish();

        let status = match outcome.cancelled {
            Some(CancelReason::Interrupt | CancelReason::Kill) => RunStatus::Interrupted,
            _ if outcome.records.iter().any(JobRecord::fails_run) || !unrunnable.is_empty() => RunStatus::Failed,
            _ => RunStatus::Passed,
        };
        let store = observer.writer.finish(status)?;
        if store.reserve_used() {
            crate::note!(
                "the disk holding {} is full: gridrun gave up its reserve to record this run; free some space",
                plan.state_dir.display()
            );
        }
        // A process that left its job's process group (setsid, a daemon) still carries the run's
        // token; nothing of the run outlives it.
        let leftovers = reaper::sweep(&token, plan.matrix.limits.kill_grace);
        if leftovers > 0 {
            crate::note!("ended {leftovers} process(es) the run's jobs left behind");
        }
        reaper.dismiss();
        let store = self.store.insert(store);
        if let Some(path) = junit {
            write_junit(store, run_id, path)?;
        }
        if let Some(message) = &outcome.internal_error {
            crate::note!("the run was stopped by an internal error: {message}");
        }
        Ok(Ran::Run(RunResult { run: run_id, status, internal_error: outcome.internal_error, unrunnable, ran_nothing }))
    }

    /// Runs `plan` on a Slurm cluster: records the run as a local run would, submits its jobs as
    /// job arrays, and unless `detach`, waits for them, folding each task as it finishes and
    /// showing the same progress; Ctrl-C cancels the arrays. Detached, `collect` folds it in.
    pub fn run_on_slurm(
        &mut self,
        plan: &Plan,
        how: &crate::slurm::submit::Submission,
        detach: bool,
        junit: Option<&Path>,
    ) -> Result<Ran> {
        let jobs = match self.select(plan)? {
            Ok(jobs) => jobs,
            Err(nothing) => return Ok(nothing),
        };
        let source = workspace::prepare_source(plan)
            .map_err(|e| Error::Usage(format!("{}: {e}", plan.matrix.file.path.display())))?;
        let reused = self.reused(&jobs, &source)?;
        let unrunnable = self.unrunnable(&jobs);
        let to_run: Vec<&Job> = jobs
            .iter()
            .copied()
            .filter(|j| j.availability == Availability::Ready && !reused.contains_key(j.slug.as_str()))
            .collect();
        if !plan.pipeline.is_empty() {
            return Err(Error::Usage(format!(
                "{}: [[setup]] and [[finally]] run on this host; `run --on slurm` does not run them yet",
                plan.matrix.file.path.display()
            )));
        }
        // Everything Slurm could refuse is asked before the run is recorded.
        let arrays = crate::slurm::submit::arrays(plan, &to_run, how, Some(self.store()))?;
        let token = crate::exec::reaper::new_token("slurm");
        let run_id = self.begin(plan, &jobs, &[], &reused, &source, &token)?;
        let store = self.store.as_mut().expect("the store is back between runs");
        let spec = match crate::slurm::submit::submit(
            store,
            plan,
            &arrays,
            run_id,
            how,
            self.options.retries,
            self.options.keep_workspaces,
        ) {
            Ok(spec) => spec,
            Err(e) => {
                store.fold(run_id, &[], &[], Some(RunStatus::Abandoned))?;
                return Err(e);
            }
        };
        if detach {
            return Ok(Ran::Detached {
                run: run_id,
                arrays: spec.arrays.iter().map(|a| a.id.clone()).collect(),
                tasks: spec.tasks.len(),
            });
        }
        let mut progress = Progress::new(to_run.len(), self.options.color);
        let stop = Arc::clone(&self.stop);
        let status = crate::slurm::submit::wait(store, &spec, &|| stop.load(Ordering::SeqCst), &mut |event| {
            progress.event(event);
        })?;
        progress.finish();
        let status = if status == RunStatus::Passed && !unrunnable.is_empty() { RunStatus::Failed } else { status };
        if status == RunStatus::Failed && !unrunnable.is_empty() {
            store.fold(run_id, &[], &[], Some(RunStatus::Failed))?;
        }
        if let Some(path) = junit {
            write_junit(store, run_id, path)?;
        }
        let ran_nothing = to_run.is_empty() && reused.is_empty();
        Ok(Ran::Run(RunResult { run: run_id, status, internal_error: None, unrunnable, ran_nothing }))
    }

    /// The selected cells that had to run but cannot here: a picked cell that is unavailable or
    /// unsupported, and under `--strict` any unavailable cell.
    fn unrunnable(&self, jobs: &[&Job]) -> Vec<(String, String)> {
        jobs.iter()
            .filter_map(|job| match &job.availability {
                Availability::Unavailable(why) if self.options.picked || self.options.strict => Some((job, why)),
                Availability::Unsupported(why) if self.options.picked => Some((job, why)),
                _ => None,
            })
            .map(|(job, why)| (job.slug.clone(), why.to_string()))
            .collect()
    }

    /// The jobs whose config already passed at this commit (`--skip-passed`), with that run; a
    /// tree with local changes reuses nothing.
    fn reused<'p>(&self, jobs: &[&'p Job], source: &workspace::PreparedSource) -> Result<HashMap<&'p str, i64>> {
        let mut reused = HashMap::new();
        if !self.options.skip_passed {
            return Ok(reused);
        }
        if source.dirty || source.commit.is_empty() {
            crate::note!("--skip-passed reuses nothing: the source has uncommitted changes or is not a git checkout");
            return Ok(reused);
        }
        for job in jobs.iter().filter(|j| j.availability == Availability::Ready) {
            if let Some(run) = self.store().passed_before(&job.config_hash.to_string(), &source.commit)? {
                reused.insert(job.slug.as_str(), run);
            }
        }
        Ok(reused)
    }

    /// Records the run and its jobs, runnable or not, and the pipeline's jobs (`pipeline`, in
    /// [`Plan::pipeline`]) after them; returns its id.
    fn begin(
        &mut self,
        plan: &Plan,
        jobs: &[&Job],
        pipeline: &[usize],
        reused: &HashMap<&str, i64>,
        source: &workspace::PreparedSource,
        token: &str,
    ) -> Result<i64> {
        let position: HashMap<&str, usize> = plan.jobs.iter().enumerate().map(|(i, j)| (j.slug.as_str(), i)).collect();
        let new_run = NewRun {
            project: plan.matrix.project.name.clone(),
            matrix_path: plan.matrix.file.path.display().to_string(),
            commit: source.commit.clone(),
            dirty: source.dirty,
            branch: plan.branch.clone(),
            // A git source's revision is the commit fetched; a path source's carries its changes.
            revision: if source.cache_repo.is_some() { source.commit.clone() } else { plan.revision.clone() },
            config_key: plan.config_key.clone(),
            argv: std::env::args().collect::<Vec<_>>().join(" "),
            token: token.to_string(),
            jobs: jobs
                .iter()
                .map(|job| new_job(job, position[job.slug.as_str()], reused.get(job.slug.as_str()).copied()))
                .chain(pipeline.iter().map(|&i| new_pipeline_job(&plan.pipeline[i], plan.jobs.len() + i)))
                .collect(),
        };
        Ok(self.store.as_mut().expect("the store is back between runs").begin_run(&new_run)?)
    }
}

/// The slugs of the cells that failed in run `which` of `project`, or why there are none.
fn failed_in(store: &Store, which: &str, project: &str) -> Result<Result<HashSet<String>, String>> {
    let run = if which == "latest" {
        store.recent_runs(u32::MAX)?.into_iter().find(|r| r.project == project && r.status != RunStatus::Running)
    } else {
        Some(store.run(which)?).filter(|r| r.project == project)
    };
    let Some(run) = run else {
        return Ok(Err(format!("{project}: no earlier run of this project to rerun the failures of")));
    };
    let failed: HashSet<String> = store
        .jobs(run.id)?
        .into_iter()
        // A cell cancelled by --fail-fast or Ctrl-C never got its answer: it goes again too.
        .filter(|j| j.status.is_failure() || j.status == JobStatus::Cancelled)
        .map(|j| j.slug)
        .collect();
    if failed.is_empty() {
        return Ok(Err(format!("{project}: nothing failed in run {}", run.id)));
    }
    Ok(Ok(failed))
}

fn new_job(job: &Job, position: usize, reused_from: Option<i64>) -> NewJob {
    let (status, reason) = match &job.availability {
        Availability::Ready if reused_from.is_some() => (Some(JobStatus::Reused), None),
        Availability::Ready => (None, None),
        Availability::Unsupported(r) => (Some(JobStatus::Unsupported), Some(r.to_string())),
        Availability::Unavailable(r) => (Some(JobStatus::Unavailable), Some(r.to_string())),
    };
    NewJob {
        position,
        slug: job.slug.clone(),
        cell: serde_json::to_string(&job.cell).expect("a cell serializes"),
        config_hash: job.config_hash.to_string(),
        status,
        reason,
        compiler: job.cell.text(keys::COMPILER).unwrap_or_default().to_string(),
        compiler_version: job.tools.compiler_version.clone(),
        reused_from,
        allow_failure: job.allow_failure,
        kind: JobKind::Cell,
    }
}

/// A setup instance or finally step as the run starts: after every cell of the plan.
fn new_pipeline_job(pipeline: &PipelineJob, position: usize) -> NewJob {
    NewJob {
        position,
        slug: pipeline.slug.clone(),
        cell: serde_json::to_string(&pipeline.per).expect("a cell serializes"),
        config_hash: String::new(),
        status: None,
        reason: None,
        compiler: pipeline.per.text(keys::COMPILER).unwrap_or_default().to_string(),
        compiler_version: pipeline.tools.as_ref().map(|t| t.compiler_version.clone()).unwrap_or_default(),
        reused_from: None,
        allow_failure: false,
        kind: match pipeline.kind {
            PipelineKind::Setup => JobKind::Setup,
            PipelineKind::Finally => JobKind::Finally,
        },
    }
}

/// The run's JUnit XML, to `path` (`run --junit`).
fn write_junit(store: &Store, run_id: i64, path: &Path) -> Result<()> {
    let report = store.report(&store.run(&run_id.to_string())?)?;
    let bytes = crate::report::junit::Junit
        .serialize(&report, None)
        .map_err(|e| Error::Usage(format!("cannot write the report: {e}")))?;
    crate::outfile::write_path(path, &bytes).map_err(Error::io(format!("cannot write {}", path.display())))
}

/// The run's JSON document (`show RUN --json`, as it stands) at `path`, for `[[finally]]`.
fn write_run_json(store: &Store, run: i64, path: &Path) -> std::result::Result<(), String> {
    let report = store.run(&run.to_string()).and_then(|r| store.report(&r)).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
    text.push(b'\n');
    std::fs::write(path, text).map_err(|e| e.to_string())
}

/// The masker of the file's secrets, saying which of them it cannot mask.
fn masker(names: &[String]) -> Option<Arc<Masker>> {
    let (masker, unmasked) = Masker::from_env(names);
    for problem in unmasked {
        let said = match problem {
            Unmasked::NotSet(name) => format!("secret {name} is not set in the environment; the jobs run without it"),
            Unmasked::TooShort(name) => format!(
                "secret {name} is shorter than {} characters; it is passed on but not masked",
                crate::secrets::MIN_LEN
            ),
        };
        crate::note!("{said}");
    }
    masker.map(Arc::new)
}

/// The `--report` page, rewritten (atomically) after the store commits, while the run lasts at
/// most every second or five renderings' time, whichever is longer; once more when it ends.
fn live_report(path: PathBuf, run_id: i64, pivot: Option<Pivot>) -> AfterCommit {
    let mut next_at = Instant::now();
    let mut warned = false;
    // A pipe or device takes the page once, at the end: it cannot be rewritten.
    let streamed = matches!(crate::outfile::resolve(&path), Ok((_, crate::outfile::Kind::Stream)));
    Box::new(move |store: &Store, finished: bool| {
        if !finished && (streamed || Instant::now() < next_at) {
            return (!streamed).then(|| next_at - Instant::now());
        }
        let started = Instant::now();
        let html = crate::report::html::Html { live: true, pivot: pivot.clone() };
        let written = store
            .run(&run_id.to_string())
            .and_then(|run| store.report(&run))
            .map_err(|e| e.to_string())
            .and_then(|report| html.serialize(&report, None).map_err(|e| e.to_string()))
            .and_then(|bytes| {
                crate::outfile::write_path(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
            });
        if let Err(e) = written {
            if !warned {
                crate::note!("cannot write the report: {e}");
                warned = true;
            }
        }
        next_at = Instant::now() + (started.elapsed() * 5).max(Duration::from_secs(1));
        None
    })
}

/// Sends every event to the store writer and the display.
struct RunObserver {
    writer: StoreWriter,
    progress: Progress,
    after_job: Option<AfterJob>,
    run_id: i64,
    /// `<state>/runs/<run>`: each job's bill of materials goes beside its logs.
    logs_dir: PathBuf,
}

impl Observer for RunObserver {
    fn event(&mut self, event: &Event) {
        self.writer.send(event);
        self.progress.event(event);
        if let (Some(hook), Event::JobFinished { record }) = (&self.after_job, event) {
            (hook.0)(record);
        }
        if let Event::JobFinished { record } = event {
            // A job that built files gets its document beside them as it ends; any job's is
            // `gridrun sbom`'s to render from the store (a file per no-op job would cost a run of
            // two thousand of them more than the jobs).
            if crate::sbom::has_bom(record) && !record.artifacts.is_empty() {
                self.write_bom(&record.slug);
            }
        }
    }

    fn tick(&mut self) {
        self.progress.tick();
    }

    fn wants_ticks(&self) -> bool {
        self.progress.wants_ticks()
    }
}

impl RunObserver {
    /// Writes the job's bill of materials beside its logs, from the store once its record is
    /// written there: the file and `gridrun sbom` render the same record.
    fn write_bom(&self, slug: &str) {
        let (run_id, slug, dir) = (self.run_id, slug.to_string(), self.logs_dir.join(slug));
        self.writer.call(Box::new(move |store: &Store| {
            // One job's rows, and the run's without its counts: a grid of a thousand cells writes
            // a thousand files, and each must not read the whole run again.
            let written = store.run_uncounted(run_id).and_then(|run| {
                let Some(run) = run else { return Ok(None) };
                store.job(run_id, &slug)?.map(|job| store.job_report(job).map(|job| (run, job))).transpose()
            });
            match written {
                Ok(Some((run, job))) => {
                    if let Err(e) = crate::sbom::write(&dir, &run, &job) {
                        crate::note!("cannot write the bill of materials of {slug} into {}: {e}", dir.display());
                    }
                }
                Ok(None) => {}
                Err(e) => crate::note!("cannot read job {slug} back for its bill of materials: {e}"),
            }
        }));
    }
}

/// The places a run's jobs go to, made as its jobs first need them: this host's processes, a
/// build host's executor (its folders under the host's work folder, its own pool of slots and
/// memory), an image's (on this host's pool).
struct PlaceSetUp<'a> {
    plan: &'a Plan,
    machines: &'a Machines,
    source: &'a workspace::PreparedSource,
    token: &'a str,
    run: u64,
    logs_dir: &'a Path,
    local_capacity: Capacity,
    local_jobs: usize,
    places: Vec<Place>,
    pools: Vec<Capacity>,
    /// The plan's place → the scheduler's place and where jobs work there.
    index: HashMap<usize, Option<(usize, Roots)>>,
    /// The build hosts' executors, for cleaning up after the run.
    remote: Vec<Arc<SshExecutor>>,
}

impl PlaceSetUp<'_> {
    /// The scheduler's place for the plan's place `place`, and the job folders' roots there;
    /// `None` where it cannot be used (a host lost since the plan).
    fn place(&mut self, place: usize) -> Option<(usize, Roots)> {
        if let Some(known) = self.index.get(&place) {
            return known.clone();
        }
        let made = self.make(place);
        self.index.insert(place, made.clone());
        made
    }

    fn make(&mut self, place: usize) -> Option<(usize, Roots)> {
        let plan = self.plan;
        let local_roots = plan.local_roots(self.run);
        let (name, executor, pool, max_jobs, roots): (
            String,
            Arc<dyn crate::exec::executor::Executor>,
            usize,
            usize,
            Roots,
        ) = match &plan.places[place] {
            PlaceSpec::Local => (
                "local".into(),
                Arc::new(LocalExecutor { source: self.source.clone(), logs_dir: self.logs_dir.to_path_buf() }),
                0,
                self.local_jobs,
                local_roots,
            ),
            PlaceSpec::Image { name, digest, engine } => (
                name.clone(),
                Arc::new(ContainerExecutor {
                    engine: *engine,
                    image: name.clone(),
                    digest: digest.clone(),
                    options: plan.matrix.container.options.clone(),
                    source: self.source.clone(),
                    logs_dir: self.logs_dir.to_path_buf(),
                    cache_dir: local_roots.cache.clone(),
                    mounts: std::sync::Mutex::default(),
                }),
                0,
                self.local_jobs,
                local_roots,
            ),
            PlaceSpec::Host(config) => {
                let host = self.machines.hosts.iter().find(|h| h.config.name == config.name)?;
                let reached = host.state.as_ref().ok()?;
                let root = format!("{}/{}", config.work_dir, self.token);
                let executor = Arc::new(SshExecutor::new(
                    Arc::clone(&reached.connection),
                    root.clone(),
                    self.source.clone(),
                    plan.matrix.project.source.clone(),
                    plan.state_dir.clone(),
                    self.logs_dir.to_path_buf(),
                    plan.state_dir.join("work").join(self.run.to_string()),
                ));
                let roots = Roots {
                    work: PathBuf::from(format!("{root}/work")),
                    source: Some(PathBuf::from(executor.remote_source())),
                    cache: PathBuf::from(format!("{}/cache", config.work_dir)),
                };
                let cpus = config.cpus.unwrap_or(reached.cpus).max(1);
                let memory = config.memory.or((reached.memory > 0).then_some(reached.memory)).unwrap_or(u64::MAX);
                self.pools.push(Capacity { cpus, memory });
                let per_job = plan.matrix.limits.cpus.max(1);
                let jobs = config.jobs.unwrap_or((cpus / per_job).max(1));
                self.remote.push(Arc::clone(&executor));
                (config.name.clone(), executor, self.pools.len() - 1, usize::try_from(jobs).unwrap_or(1), roots)
            }
        };
        let _ = self.local_capacity;
        self.places.push(Place { name, executor, pool, max_jobs });
        Some((self.places.len() - 1, roots))
    }
}

/// `[cache] ccache = true`: says so where this host has no ccache (the cells build without it),
/// and records `max_size` in each local cache the run's jobs use, which `gc` trims to.
fn prepare_ccache(plan: &Plan, jobs: &[&Job], roots: &Roots) {
    if !plan.matrix.cache.ccache {
        return;
    }
    if !plan.ccache {
        crate::note!(
            "{}: [cache] ccache = true, but ccache is not on this host's PATH; the cells build without it",
            plan.matrix.project.name
        );
        return;
    }
    let Some(max_size) = plan.matrix.cache.max_size else { return };
    let mut dirs: Vec<PathBuf> = jobs.iter().map(|j| crate::ccache::dir(&roots.cache, &j.tools)).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        if let Err(e) = crate::ccache::configure(&dir, max_size) {
            crate::note!("cannot record ccache's max_size in {}: {e}", dir.display());
        }
    }
}
