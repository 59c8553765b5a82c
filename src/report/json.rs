//! A run as JSON, in the shape DESIGN §4 fixes (`"schema": 1`): read from the store, for
//! `show --json` and any report that wants the same document. Fields may be added, never
//! renamed; the ones §4 names keep its order.

use serde::Serialize;

use std::collections::HashMap;

use crate::exec::events::Finding;
use crate::store::{ArtifactRow, JobRow, RunRow, StepRow, Store, StoreError, TestRow};

/// The version of these shapes.
pub const SCHEMA: u32 = 1;

/// One run and every job of it.
#[derive(Clone, Debug, Serialize)]
pub struct RunDoc {
    /// Always [`SCHEMA`].
    pub schema: u32,
    /// The run id.
    pub run: i64,
    /// The project.
    pub project: String,
    /// `running`, `passed`, `failed`, `interrupted` or `abandoned`.
    pub status: String,
    /// The source's commit (empty outside a repository).
    pub commit: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// Whether the source had local changes.
    pub dirty: bool,
    /// When it ended; null while it runs.
    pub finished_at: Option<String>,
    /// How long it took; null while it runs.
    pub duration_ms: Option<i64>,
    /// The matrix file, as it was named.
    pub matrix_path: String,
    /// Its jobs, in plan order.
    pub jobs: Vec<JobDoc>,
}

/// One job. Alone (`show RUN/JOB --json`) it carries `schema` and `run` too.
#[derive(Clone, Debug, Serialize)]
pub struct JobDoc {
    /// [`SCHEMA`] when the job is the whole document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
    /// The run, when the job is the whole document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<i64>,
    /// Its slug.
    pub slug: String,
    /// The values the matrix file gave its cell.
    pub cell: serde_json::Value,
    /// `passed`, `failed`, `timed_out`…, or `queued`/`running` while the run goes.
    pub status: String,
    /// Why, in a word, where it did not pass.
    pub failure_kind: Option<String>,
    /// The deciding step's exit code (the last step's, for a pass).
    pub exit_code: Option<i64>,
    /// The signal that ended the deciding step.
    pub signal: Option<i64>,
    /// Wall time; null until it ends.
    pub duration_ms: Option<i64>,
    /// CPU time of all its steps.
    pub cpu_ms: Option<i64>,
    /// The largest peak resident memory of any step, KiB (0: below what could be measured).
    pub peak_rss_kb: Option<i64>,
    /// Passed only on a retry.
    pub flaky: bool,
    /// Every step attempt, in order.
    pub steps: Vec<StepDoc>,
    /// Compiler, linker and test failure lines found in its logs.
    pub diagnostics: Vec<DiagnosticDoc>,
    /// Test results read from its JUnit files.
    pub tests: TestCounts,
    /// Why it did not run (`unsupported`, `unavailable`).
    pub reason: Option<String>,
    /// Its config hash.
    pub config_hash: String,
    /// The compiler its cell names.
    pub compiler: String,
    /// That compiler's version.
    pub compiler_version: String,
    /// When it started.
    pub started_at: Option<String>,
    /// Its workspace, where one was kept.
    pub work_dir: Option<String>,
    /// For a reused job, the run whose pass it stands on.
    pub reused_from: Option<i64>,
    /// Every test result, in the order the JUnit files listed them.
    pub test_cases: Vec<TestDoc>,
    /// The files collected by `[artifacts]`.
    pub artifacts: Vec<ArtifactDoc>,
    /// The last lines of the failing step's log.
    pub log_tail: Option<String>,
}

/// One test result.
#[derive(Clone, Debug, Serialize)]
pub struct TestDoc {
    /// The step whose JUnit file listed it.
    pub step: String,
    /// The suite.
    pub suite: String,
    /// The test.
    pub name: String,
    /// `passed`, `failed`, `skipped`.
    pub status: String,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// The failure message.
    pub message: Option<String>,
}

/// One collected artifact.
#[derive(Clone, Debug, Serialize)]
pub struct ArtifactDoc {
    /// Its path in the workspace.
    pub path: String,
    /// Where the copy is (gone once `removed_at` is set).
    pub stored_path: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its SHA-256.
    pub sha256: String,
    /// When `gc` removed the copy.
    pub removed_at: Option<String>,
}

/// One step attempt.
#[derive(Clone, Debug, Serialize)]
pub struct StepDoc {
    /// The step's name.
    pub name: String,
    /// How it ended.
    pub status: String,
    /// Its exit code, where it exited.
    pub exit_code: Option<i64>,
    /// Wall time.
    pub duration_ms: i64,
    /// Its log file.
    pub log: String,
    /// Which attempt, from 1.
    pub attempt: i64,
    /// The signal that ended it, where one did.
    pub signal: Option<i64>,
    /// CPU time.
    pub cpu_ms: i64,
    /// Peak resident memory, KiB.
    pub peak_rss_kb: i64,
    /// The log's size in bytes.
    pub log_bytes: i64,
    /// The command that ran.
    pub command: String,
}

/// One diagnostic found in a log.
#[derive(Clone, Debug, Serialize)]
pub struct DiagnosticDoc {
    /// `fatal`, `error`, `warning`, `note`.
    pub severity: String,
    /// The file it points at.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
    /// Its column.
    pub col: Option<u32>,
    /// What it says.
    pub message: String,
    /// `compile`, `link`, `configure`, `test`.
    pub kind: String,
    /// The step whose log it is in.
    pub step: String,
    /// The include chain, the function, and attached notes, one per line.
    pub context: String,
}

/// A job's tests, counted.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct TestCounts {
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

impl RunDoc {
    /// Reads `run`, its jobs and everything recorded about them, in a handful of queries.
    pub fn load(store: &Store, run: &RunRow) -> Result<Self, StoreError> {
        let mut parts = Parts::of_run(store, run.id)?;
        let jobs = store.jobs(run.id)?.iter().map(|job| JobDoc::build(job, &mut parts)).collect();
        Ok(Self {
            schema: SCHEMA,
            run: run.id,
            project: run.project.clone(),
            status: run.status.clone(),
            commit: run.commit.clone(),
            started_at: run.started_at.clone(),
            dirty: run.dirty,
            finished_at: run.finished_at.clone(),
            duration_ms: run.duration_ms,
            matrix_path: run.matrix_path.clone(),
            jobs,
        })
    }
}

/// A run's steps, diagnostics, tests and artifacts, grouped by job id.
#[derive(Default)]
struct Parts {
    steps: HashMap<i64, Vec<StepRow>>,
    diagnostics: HashMap<i64, Vec<Finding>>,
    tests: HashMap<i64, Vec<TestRow>>,
    artifacts: HashMap<i64, Vec<ArtifactRow>>,
}

impl Parts {
    fn of_run(store: &Store, run: i64) -> Result<Self, StoreError> {
        let mut parts = Self::default();
        for (job, step) in store.run_steps(run)? {
            parts.steps.entry(job).or_default().push(step);
        }
        for (job, d) in store.run_diagnostics(run)? {
            parts.diagnostics.entry(job).or_default().push(d);
        }
        for t in store.run_tests(run)? {
            parts.tests.entry(t.job_id).or_default().push(t);
        }
        for a in store.run_artifacts(run)? {
            parts.artifacts.entry(a.job_id).or_default().push(a);
        }
        Ok(parts)
    }
}

impl JobDoc {
    /// Reads one job of `run` and everything recorded about it.
    pub fn load(store: &Store, run: i64, job: &JobRow) -> Result<Self, StoreError> {
        let mut parts = Parts::of_run(store, run)?;
        Ok(Self::build(job, &mut parts))
    }

    fn build(job: &JobRow, parts: &mut Parts) -> Self {
        let steps = parts.steps.remove(&job.id).unwrap_or_default();
        let tests = parts.tests.remove(&job.id).unwrap_or_default();
        // A pass is decided by its last step, which exited 0; the store keeps codes for failures.
        let exit_code = match (job.exit_code, job.status.as_str()) {
            (None, "passed") => steps.last().and_then(|s| s.exit_code),
            (code, _) => code,
        };
        let count = |status: &str| tests.iter().filter(|t| t.status == status).count() as u64;
        Self {
            schema: None,
            run: None,
            slug: job.slug.clone(),
            cell: job.cell.clone(),
            status: job.status.clone(),
            failure_kind: job.failure_kind.clone(),
            exit_code,
            signal: job.signal,
            duration_ms: job.duration_ms,
            cpu_ms: job.cpu_ms,
            peak_rss_kb: job.peak_rss_kb,
            flaky: job.flaky,
            steps: steps.iter().map(StepDoc::from).collect(),
            diagnostics: parts
                .diagnostics
                .remove(&job.id)
                .unwrap_or_default()
                .into_iter()
                .map(|d| DiagnosticDoc {
                    severity: d.severity,
                    file: d.file,
                    line: d.line,
                    col: d.col,
                    message: d.message,
                    kind: d.kind,
                    step: d.step,
                    context: d.context,
                })
                .collect(),
            tests: TestCounts { passed: count("passed"), failed: count("failed"), skipped: count("skipped") },
            reason: job.reason.clone(),
            config_hash: job.config_hash.clone(),
            compiler: job.compiler.clone(),
            compiler_version: job.compiler_version.clone(),
            started_at: job.started_at.clone(),
            work_dir: job.work_dir.clone(),
            reused_from: job.reused_from,
            test_cases: tests
                .into_iter()
                .map(|t| TestDoc {
                    step: t.step,
                    suite: t.suite,
                    name: t.name,
                    status: t.status,
                    duration_ms: t.duration_ms,
                    message: t.message,
                })
                .collect(),
            artifacts: parts
                .artifacts
                .remove(&job.id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| ArtifactDoc {
                    path: a.path,
                    stored_path: a.stored_path,
                    size: a.size,
                    sha256: a.sha256,
                    removed_at: a.removed_at,
                })
                .collect(),
            log_tail: job.log_tail.clone(),
        }
    }

    /// This job as a document of its own: with `schema` and its `run`.
    #[must_use]
    pub fn alone(mut self, run: i64) -> Self {
        self.schema = Some(SCHEMA);
        self.run = Some(run);
        self
    }
}

impl From<&StepRow> for StepDoc {
    fn from(step: &StepRow) -> Self {
        Self {
            name: step.name.clone(),
            status: step.status.clone(),
            exit_code: step.exit_code,
            duration_ms: step.duration_ms,
            log: step.log_path.clone(),
            attempt: step.attempt,
            signal: step.signal,
            cpu_ms: step.cpu_ms,
            peak_rss_kb: step.peak_rss_kb,
            log_bytes: step.log_bytes,
            command: step.command.clone(),
        }
    }
}
