//! Folding what a Slurm run's tasks have finished into its one run: each job's record as its task
//! left it, or, for a job whose task Slurm ended (time, memory, a cancel, a node failure) or that
//! left nothing, Slurm's own verdict. Tasks already folded are not looked at again, so the cost
//! follows what finished since the last `collect`; Slurm is asked only about tasks that have not
//! left every result.

use std::collections::{HashMap, HashSet};

use super::cluster::{self, TaskState};
use super::{result_file, Spec};
use crate::error::Result;
use crate::outcome::{FailureKind, JobRecord, JobStatus, RunStatus};
use crate::store::Store;

/// What a `collect` found.
#[derive(Debug, Default)]
pub struct Collected {
    /// The jobs folded in now.
    pub finished: Vec<JobRecord>,
    /// Jobs whose task is running, not folded yet.
    pub running: Vec<String>,
    /// Tasks Slurm has yet to start.
    pub queued_tasks: usize,
    /// Tasks running.
    pub running_tasks: usize,
    /// Tasks folded in now.
    pub folded_tasks: usize,
    /// The run's end, where every task is now folded in.
    pub ended: Option<RunStatus>,
}

impl Collected {
    /// What a `collect` that did not end `run` says: what it folded in now, and what is to come
    /// (`left` jobs).
    pub fn progress(&self, run: i64, left: usize) -> String {
        format!(
            "run {run}: {} task(s) ({} job(s)) folded in now; {} task(s) queued, {} running; {left} job(s) to come\n",
            self.folded_tasks,
            self.finished.len(),
            self.queued_tasks,
            self.running_tasks
        )
    }
}

/// Folds in what has finished of the Slurm run `spec` describes. `cancelled` says the run was
/// cancelled here (Ctrl-C while waiting): it ends `interrupted`.
pub fn collect(store: &mut Store, spec: &Spec, cancelled: bool) -> Result<Collected> {
    let folded = store.folded_tasks(spec.run)?;
    let mut out = Collected::default();
    let mut done: Vec<(u32, String)> = Vec::new();
    // The tasks not folded yet, with what each has left.
    let open: Vec<(usize, Vec<Option<JobRecord>>)> = spec
        .tasks
        .iter()
        .enumerate()
        .filter(|(n, _)| !folded.contains(&u32::try_from(*n).unwrap_or(u32::MAX)))
        .map(|(n, slugs)| {
            let dir = spec.task_dir(n);
            (n, slugs.iter().map(|slug| read_result(&result_file(&dir, slug))).collect())
        })
        .collect();
    // Slurm is asked once per array, and only where some task is still to fold: its state
    // says how a task ended (a job a task recorded may be Slurm's to judge: killed at the
    // memory cap, say), or that it has yet to.
    let states = if open.is_empty() { HashMap::new() } else { states(spec) };
    for (n, results) in open {
        let state = spec.slurm_task(n).and_then(|(id, index)| states.get(&(id.to_string(), index)));
        let task = u32::try_from(n).unwrap_or(u32::MAX);
        let complete = results.iter().all(Option::is_some);
        match state {
            Some(state) if !state.is_final() && !complete => {
                if state.is_running() {
                    out.running_tasks += 1;
                    out.running.extend(spec.tasks[n].iter().cloned());
                } else {
                    out.queued_tasks += 1;
                }
            }
            // Every result left, Slurm not done with the task yet (it is ending): as left.
            Some(state) if !state.is_final() => {
                out.finished.extend(results.into_iter().flatten());
                done.push((task, state.state.clone()));
            }
            _ => {
                let verdict = match state {
                    None if complete => Verdict::none(),
                    state => Verdict::of(state, spec, n),
                };
                for (slug, result) in spec.tasks[n].iter().zip(results) {
                    out.finished.push(match result {
                        Some(record) => verdict.over(record),
                        None => verdict.record(slug),
                    });
                }
                done.push((task, state.map_or_else(|| "COMPLETED".to_string(), |s| s.state.clone())));
            }
        }
    }
    out.folded_tasks = done.len();
    store.fold(spec.run, &out.finished, &done, None)?;
    if folded.len() + done.len() == spec.tasks.len() {
        let jobs = store.jobs(spec.run)?;
        let end = if cancelled {
            RunStatus::Interrupted
        } else if jobs.iter().any(JobRecord::fails_run) {
            RunStatus::Failed
        } else {
            RunStatus::Passed
        };
        store.fold(spec.run, &[], &[], Some(end))?;
        out.ended = Some(end);
    }
    Ok(out)
}

/// Every task of the run's arrays Slurm knows, by array job id and index. An array Slurm cannot
/// be asked about counts as forgotten.
fn states(spec: &Spec) -> HashMap<(String, usize), TaskState> {
    let mut states = HashMap::new();
    for array in &spec.arrays {
        match cluster::task_states(&array.id) {
            Ok(tasks) => {
                for task in tasks {
                    states.insert((array.id.clone(), usize::try_from(task.task).unwrap_or(usize::MAX)), task);
                }
            }
            Err(why) => crate::note!("cannot ask Slurm about job {}: {why}", array.id),
        }
    }
    states
}

fn read_result(path: &std::path::Path) -> Option<JobRecord> {
    let bytes = std::fs::read(path).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    JobRecord::from_json(&doc)
}

/// What Slurm's end of a task says of its jobs.
struct Verdict {
    status: JobStatus,
    kind: FailureKind,
    why: String,
    /// Requeues, each a retry.
    restarts: u32,
    /// Whether Slurm ended the task itself (time, memory, a cancel), which stands over a job the
    /// task recorded as cancelled because it was being ended.
    ended_by_slurm: bool,
}

/// What the verdict overrides of a job its task recorded: a job cancelled because Slurm ended
/// the task; at the memory cap, a job that failed too (its process was what the kernel killed).
fn overridden(verdict: &Verdict, status: JobStatus) -> bool {
    verdict.ended_by_slurm
        && (status == JobStatus::Cancelled
            || (verdict.status == JobStatus::MemoryExceeded && status == JobStatus::Failed))
}

impl Verdict {
    /// No word from Slurm (a task that left every result, and that Slurm has forgotten).
    fn none() -> Self {
        Self {
            status: JobStatus::Passed,
            kind: FailureKind::Infra,
            why: String::new(),
            restarts: 0,
            ended_by_slurm: false,
        }
    }

    fn of(state: Option<&TaskState>, spec: &Spec, n: usize) -> Self {
        let Some(state) = state else {
            let started = spec.task_dir(n).join("started").exists();
            let why = if started {
                format!("gridrun: Slurm task {n} ended without leaving its result, and Slurm no longer knows it")
            } else {
                format!(
                    "gridrun: Slurm task {n} never started here and Slurm no longer knows it (is the state folder {} on a \
                     file system the nodes share?)",
                    spec.state_dir.display()
                )
            };
            return Self {
                status: JobStatus::Failed,
                kind: FailureKind::Infra,
                why,
                restarts: 0,
                ended_by_slurm: false,
            };
        };
        let (status, kind, ended_by_slurm) = match state.state.as_str() {
            "TIMEOUT" | "DEADLINE" => (JobStatus::TimedOut, FailureKind::Timeout, true),
            "OUT_OF_MEMORY" => (JobStatus::MemoryExceeded, FailureKind::Memory, true),
            "CANCELLED" => (JobStatus::Cancelled, FailureKind::Cancelled, true),
            _ => (JobStatus::Failed, FailureKind::Infra, false),
        };
        let (id, index) = spec.slurm_task(n).unwrap_or(("?", n));
        let node =
            if state.node.is_empty() || state.node == "(null)" { String::new() } else { format!(" on {}", state.node) };
        let why = format!(
            "slurm: task {id}_{index} ended {} (reason {}, exit {}){node}",
            state.state,
            if state.reason.is_empty() { "None" } else { &state.reason },
            if state.exit.is_empty() { "?" } else { &state.exit }
        );
        Self { status, kind, why, restarts: state.restarts, ended_by_slurm }
    }

    /// The record of a job its task left nothing for.
    fn record(&self, slug: &str) -> JobRecord {
        let mut record = JobRecord::new(slug);
        record.status = self.status;
        record.failure_kind = Some(self.kind);
        record.log_tail = vec![self.why.clone()];
        self.note_restarts(&mut record);
        record
    }

    /// A job's record as its task left it, with what Slurm adds: its verdict where Slurm ended
    /// the task while the job ran, its requeues.
    fn over(&self, mut record: JobRecord) -> JobRecord {
        if overridden(self, record.status) {
            record.status = self.status;
            record.failure_kind = Some(self.kind);
            record.log_tail.push(self.why.clone());
        }
        self.note_restarts(&mut record);
        record
    }

    fn note_restarts(&self, record: &mut JobRecord) {
        if self.restarts > 0 {
            // A requeue is a retry: a pass after one is a flaky pass.
            record.flaky = record.status == JobStatus::Passed;
            record.log_tail.push(format!("slurm: requeued {} time(s)", self.restarts));
        }
    }
}

/// The slugs of `spec` whose jobs have yet to be folded in, for a summary.
pub fn unfolded(store: &Store, spec: &Spec) -> Result<HashSet<String>> {
    let folded = store.folded_tasks(spec.run)?;
    Ok(spec
        .tasks
        .iter()
        .enumerate()
        .filter(|(n, _)| !folded.contains(&u32::try_from(*n).unwrap_or(u32::MAX)))
        .flat_map(|(_, slugs)| slugs.iter().cloned())
        .collect())
}
