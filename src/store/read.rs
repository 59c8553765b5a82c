//! Reading runs back: recent runs, one run's jobs and steps, one job.

use rusqlite::{params, OptionalExtension, Row};

use super::{Store, StoreError};
use crate::exec::events::Finding;

/// One run, as `status` lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunRow {
    /// Its id.
    pub id: i64,
    /// The project.
    pub project: String,
    /// The matrix file.
    pub matrix_path: String,
    /// `running`, `passed`, `failed`, `interrupted`, `abandoned`.
    pub status: String,
    /// The source's commit.
    pub commit: String,
    /// Whether the source had local changes.
    pub dirty: bool,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Its jobs, counted by status.
    pub counts: Vec<(String, i64)>,
    /// How many of its jobs passed only on a retry.
    pub flaky: i64,
}

/// One job of a run.
#[derive(Clone, Debug)]
pub struct JobRow {
    /// Its id in the store.
    pub id: i64,
    /// Its slug.
    pub slug: String,
    /// Its cell, as JSON.
    pub cell: serde_json::Value,
    /// Its config hash.
    pub config_hash: String,
    /// Its status.
    pub status: String,
    /// Why it did not run, for unsupported and unavailable cells.
    pub reason: Option<String>,
    /// What kind of failure.
    pub failure_kind: Option<String>,
    /// The deciding step's exit code.
    pub exit_code: Option<i64>,
    /// The deciding step's signal.
    pub signal: Option<i64>,
    /// When it started.
    pub started_at: Option<String>,
    /// Wall time.
    pub duration_ms: Option<i64>,
    /// CPU time.
    pub cpu_ms: Option<i64>,
    /// Peak resident memory, KiB.
    pub peak_rss_kb: Option<i64>,
    /// Passed only on a retry.
    pub flaky: bool,
    /// The compiler.
    pub compiler: String,
    /// Its version.
    pub compiler_version: String,
    /// Where it worked, if the workspace was kept.
    pub work_dir: Option<String>,
    /// The last lines of the failing step's log.
    pub log_tail: Option<String>,
    /// For a reused job, the run that passed.
    pub reused_from: Option<i64>,
}

/// One step attempt of a job.
#[derive(Clone, Debug)]
pub struct StepRow {
    /// Its position in the job.
    pub position: i64,
    /// Its name.
    pub name: String,
    /// Which attempt, from 1.
    pub attempt: i64,
    /// Its status.
    pub status: String,
    /// Its exit code.
    pub exit_code: Option<i64>,
    /// The signal that ended it.
    pub signal: Option<i64>,
    /// Wall time.
    pub duration_ms: i64,
    /// CPU time.
    pub cpu_ms: i64,
    /// Peak resident memory, KiB.
    pub peak_rss_kb: i64,
    /// Its log file.
    pub log_path: String,
    /// The log's size.
    pub log_bytes: i64,
    /// The command.
    pub command: String,
}

pub(super) const RUN_COLUMNS: &str =
    "id, project, matrix_path, status, commit_sha, dirty, started_at, finished_at, duration_ms";
const JOB_COLUMNS: &str = "id, slug, cell, config_hash, status, reason, failure_kind, exit_code, signal, started_at, duration_ms, cpu_ms, peak_rss_kb, flaky, compiler, compiler_version, work_dir, log_tail, reused_from";

impl Store {
    /// The newest runs first.
    pub fn recent_runs(&self, limit: u32) -> Result<Vec<RunRow>, StoreError> {
        let mut runs: Vec<RunRow> = (|| {
            let mut stmt = self.conn.prepare(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"))?;
            let rows = stmt.query_map([limit], run_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))?;
        for run in &mut runs {
            (run.counts, run.flaky) = self.counts(run.id)?;
        }
        Ok(runs)
    }

    /// A run by id, or the newest for `latest`.
    pub fn run(&self, which: &str) -> Result<RunRow, StoreError> {
        let found = if which == "latest" {
            self.conn
                .query_row(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT 1"), [], run_row)
                .optional()
        } else {
            let id: i64 = which
                .parse()
                .map_err(|_| StoreError::NotFound(format!("`{which}` is not a run id (a number, or `latest`)")))?;
            self.conn.query_row(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"), [id], run_row).optional()
        }
        .map_err(|e| self.err(e))?;
        let mut run = found.ok_or_else(|| {
            StoreError::NotFound(if which == "latest" {
                "no runs recorded yet".into()
            } else {
                format!("no run {which}")
            })
        })?;
        (run.counts, run.flaky) = self.counts(run.id)?;
        Ok(run)
    }

    /// A run's jobs, in plan order.
    pub fn jobs(&self, run: i64) -> Result<Vec<JobRow>, StoreError> {
        (|| {
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE run_id = ?1 ORDER BY position"))?;
            let rows = stmt.query_map([run], job_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// One job of a run, by slug.
    pub fn job(&self, run: i64, slug: &str) -> Result<JobRow, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE run_id = ?1 AND slug = ?2"),
                params![run, slug],
                job_row,
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("run {run} has no job `{slug}`")))
    }

    /// A job's step attempts, in order.
    pub fn steps(&self, job_id: i64) -> Result<Vec<StepRow>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT position, name, attempt, status, exit_code, signal, duration_ms, cpu_ms, peak_rss_kb, log_path, log_bytes, command
                 FROM steps WHERE job_id = ?1 ORDER BY position, attempt",
            )?;
            let rows = stmt.query_map([job_id], |r| {
                Ok(StepRow {
                    position: r.get(0)?,
                    name: r.get(1)?,
                    attempt: r.get(2)?,
                    status: r.get(3)?,
                    exit_code: r.get(4)?,
                    signal: r.get(5)?,
                    duration_ms: r.get(6)?,
                    cpu_ms: r.get(7)?,
                    peak_rss_kb: r.get(8)?,
                    log_path: r.get(9)?,
                    log_bytes: r.get(10)?,
                    command: r.get(11)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// The run's jobs counted by status, and how many were flaky.
    fn counts(&self, run: i64) -> Result<(Vec<(String, i64)>, i64), StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT status, COUNT(*), SUM(flaky) FROM jobs WHERE run_id = ?1 GROUP BY status ORDER BY status",
            )?;
            let rows =
                stmt.query_map([run], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?;
            let mut counts = Vec::new();
            let mut flaky = 0;
            for row in rows {
                let (status, n, f) = row?;
                counts.push((status, n));
                flaky += f;
            }
            Ok((counts, flaky))
        })()
        .map_err(|e| self.err(e))
    }
}

pub(super) fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        project: r.get(1)?,
        matrix_path: r.get(2)?,
        status: r.get(3)?,
        commit: r.get(4)?,
        dirty: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        duration_ms: r.get(8)?,
        counts: Vec::new(),
        flaky: 0,
    })
}

fn job_row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    let cell: String = r.get(2)?;
    Ok(JobRow {
        id: r.get(0)?,
        slug: r.get(1)?,
        cell: serde_json::from_str(&cell).unwrap_or(serde_json::Value::Null),
        config_hash: r.get(3)?,
        status: r.get(4)?,
        reason: r.get(5)?,
        failure_kind: r.get(6)?,
        exit_code: r.get(7)?,
        signal: r.get(8)?,
        started_at: r.get(9)?,
        duration_ms: r.get(10)?,
        cpu_ms: r.get(11)?,
        peak_rss_kb: r.get(12)?,
        flaky: r.get(13)?,
        compiler: r.get(14)?,
        compiler_version: r.get(15)?,
        work_dir: r.get(16)?,
        log_tail: r.get(17)?,
        reused_from: r.get(18)?,
    })
}

/// A test result as stored.
#[derive(Clone, Debug)]
pub struct TestRow {
    /// The job it belongs to.
    pub job_id: i64,
    /// The step that wrote the JUnit file.
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

/// An artifact as stored.
#[derive(Clone, Debug)]
pub struct ArtifactRow {
    /// Its id.
    pub id: i64,
    /// The job it belongs to.
    pub job_id: i64,
    /// Its path in the workspace.
    pub path: String,
    /// Where the copy is.
    pub stored_path: String,
    /// Its size.
    pub size: i64,
    /// Its SHA-256.
    pub sha256: String,
    /// When it was collected.
    pub created_at: String,
    /// When `gc` removed the copy, if it has.
    pub removed_at: Option<String>,
}

impl Store {
    /// Every diagnostic of a run's jobs, with its job's id, by job then in log order.
    pub fn run_diagnostics(&self, run: i64) -> Result<Vec<(i64, Finding)>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT d.job_id, d.step, d.severity, d.kind, d.file, d.line, d.col, d.message, d.context
                 FROM diagnostics d JOIN jobs j ON j.id = d.job_id WHERE j.run_id = ?1 ORDER BY d.job_id, d.id",
            )?;
            let rows = stmt.query_map([run], |r| {
                Ok((
                    r.get(0)?,
                    Finding {
                        step: r.get(1)?,
                        severity: r.get(2)?,
                        kind: r.get(3)?,
                        file: r.get(4)?,
                        line: r.get(5)?,
                        col: r.get(6)?,
                        message: r.get(7)?,
                        context: r.get(8)?,
                    },
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// Every test result of a run's jobs.
    pub fn run_tests(&self, run: i64) -> Result<Vec<TestRow>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT t.job_id, t.step, t.suite, t.name, t.status, t.duration_ms, t.message
                 FROM tests t JOIN jobs j ON j.id = t.job_id WHERE j.run_id = ?1 ORDER BY t.job_id, t.id",
            )?;
            let rows = stmt.query_map([run], |r| {
                Ok(TestRow {
                    job_id: r.get(0)?,
                    step: r.get(1)?,
                    suite: r.get(2)?,
                    name: r.get(3)?,
                    status: r.get(4)?,
                    duration_ms: r.get(5)?,
                    message: r.get(6)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// Every artifact of a run's jobs.
    pub fn run_artifacts(&self, run: i64) -> Result<Vec<ArtifactRow>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT a.id, a.job_id, a.path, a.stored_path, a.size, a.sha256, a.created_at, a.removed_at
                 FROM artifacts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?1 ORDER BY a.job_id, a.id",
            )?;
            let rows = stmt.query_map([run], |r| {
                Ok(ArtifactRow {
                    id: r.get(0)?,
                    job_id: r.get(1)?,
                    path: r.get(2)?,
                    stored_path: r.get(3)?,
                    size: r.get(4)?,
                    sha256: r.get(5)?,
                    created_at: r.get(6)?,
                    removed_at: r.get(7)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// Every step attempt of a run's jobs, by job then in order.
    pub fn run_steps(&self, run: i64) -> Result<Vec<(i64, StepRow)>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT s.job_id, s.position, s.name, s.attempt, s.status, s.exit_code, s.signal, s.duration_ms, s.cpu_ms,
                        s.peak_rss_kb, s.log_path, s.log_bytes, s.command
                 FROM steps s JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ?1 ORDER BY s.job_id, s.position, s.attempt",
            )?;
            let rows = stmt.query_map([run], |r| {
                Ok((
                    r.get(0)?,
                    StepRow {
                        position: r.get(1)?,
                        name: r.get(2)?,
                        attempt: r.get(3)?,
                        status: r.get(4)?,
                        exit_code: r.get(5)?,
                        signal: r.get(6)?,
                        duration_ms: r.get(7)?,
                        cpu_ms: r.get(8)?,
                        peak_rss_kb: r.get(9)?,
                        log_path: r.get(10)?,
                        log_bytes: r.get(11)?,
                        command: r.get(12)?,
                    },
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }
}
