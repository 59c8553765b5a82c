//! Reading runs back as the records they were written as: recent runs, one run whole (its jobs
//! with their steps, diagnostics, tests and artifacts, in a handful of queries), one job.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Row};

use super::{Store, StoreError};
use crate::outcome::{
    from_millis, Artifact, BuildFacts, Diagnostic, JobRecord, JobStatus, RunRecord, RunReport, RunStats, RunStatus,
    StepRecord, TestCase,
};

pub(super) const RUN_COLUMNS: &str =
    "id, project, matrix_path, status, commit_sha, dirty, started_at, finished_at, duration_ms, branch, revision, config_key";
/// How many columns [`RUN_COLUMNS`] names: a query may select more after them.
pub(super) const RUN_COLUMN_COUNT: usize = 12;
const JOB_COLUMNS: &str = concat!(
    "id, slug, cell, config_hash, status, reason, failure_kind, exit_code, signal, started_at, duration_ms, cpu_ms, ",
    "peak_rss_kb, flaky, compiler, compiler_version, work_dir, log_tail, reused_from, allow_failure, host, image, ",
    "image_digest, kind, build_id, build, coverage, ccache_hits, ccache_misses, ccache_cacheable"
);

impl Store {
    /// The newest runs first.
    pub fn recent_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let mut runs: Vec<RunRecord> = (|| {
            let mut stmt = self.conn.prepare(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"))?;
            let rows = stmt.query_map([limit], run_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))?;
        for run in &mut runs {
            run.stats = self.run_stats(run.id)?;
        }
        Ok(runs)
    }

    /// A run by id, its jobs not counted (`stats` left empty): for work done per job, where
    /// counting the run's jobs each time would cost the square of them.
    pub fn run_uncounted(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.conn
            .query_row(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"), [id], run_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A run by id, or the newest for `latest`.
    pub fn run(&self, which: &str) -> Result<RunRecord, StoreError> {
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
        run.stats = self.run_stats(run.id)?;
        Ok(run)
    }

    /// The run of the same project (and branch) before `run` that finished with a verdict (passed
    /// or failed; not interrupted, abandoned or still running): what "fixed" and "changed"
    /// compare with.
    pub fn previous_finished(&self, run: &RunRecord) -> Result<Option<RunRecord>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE project = ?1 AND id < ?2 AND status IN (?3, ?4)
                     AND branch IS ?5 ORDER BY id DESC LIMIT 1"
                ),
                rusqlite::params![run.project, run.id, RunStatus::Passed, RunStatus::Failed, run.branch],
                run_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A run's jobs in plan order, as their rows say (no steps, diagnostics, tests or artifacts).
    pub fn jobs(&self, run: i64) -> Result<Vec<JobRecord>, StoreError> {
        (|| {
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE run_id = ?1 ORDER BY position"))?;
            let mut facts = SharedFacts::new(&self.conn);
            let rows = stmt.query_map([run], |r| job_row(r, &mut facts))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// The job `slug` of a run, as its row says; `None` where the run has none of that slug.
    pub fn job(&self, run: i64, slug: &str) -> Result<Option<JobRecord>, StoreError> {
        (|| {
            let mut stmt =
                self.conn.prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE run_id = ?1 AND slug = ?2"))?;
            let mut facts = SharedFacts::new(&self.conn);
            let mut rows = stmt.query_map(rusqlite::params![run, slug], |r| job_row(r, &mut facts))?;
            rows.next().transpose()
        })()
        .map_err(|e| self.err(e))
    }

    /// A run and every job of it, whole: the document every report is made from.
    pub fn report(&self, run: &RunRecord) -> Result<RunReport, StoreError> {
        let mut parts = Parts::of_run(self, run.id)?;
        let jobs = self.jobs(run.id)?.into_iter().map(|job| parts.complete(job)).collect();
        Ok(RunReport { run: run.clone(), jobs })
    }

    /// One job of a run, whole.
    pub fn job_report(&self, job: JobRecord) -> Result<JobRecord, StoreError> {
        let mut parts = Parts::of_job(self, job.id)?;
        Ok(parts.complete(job))
    }

    /// A job's step attempts, in order.
    pub fn steps(&self, job_id: i64) -> Result<Vec<StepRecord>, StoreError> {
        Ok(Parts::of_job(self, job_id)?.steps.remove(&job_id).unwrap_or_default())
    }

    /// The run's jobs counted by status, and how many were flaky.
    fn run_stats(&self, run: i64) -> Result<RunStats, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT status, COUNT(*), SUM(flaky), SUM(allow_failure) FROM jobs WHERE run_id = ?1 AND kind = ?2
                 GROUP BY status ORDER BY status",
            )?;
            let rows = stmt.query_map(rusqlite::params![run, crate::outcome::JobKind::Cell], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })?;
            let mut totals = RunStats::default();
            for row in rows {
                let (word, count, flaky, allowed) = row?;
                let count = u64::try_from(count).unwrap_or(0);
                match word.parse::<JobStatus>() {
                    Ok(status) => {
                        totals.add(status, count);
                        if status.is_failure() {
                            totals.allowed += u64::try_from(allowed).unwrap_or(0);
                        }
                    }
                    // A status a newer gridrun wrote still counts.
                    Err(_) => totals.unknown.push((word, count)),
                }
                totals.flaky += u64::try_from(flaky).unwrap_or(0);
            }
            Ok(totals)
        })()
        .map_err(|e| self.err(e))
    }
}

pub(super) fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        project: r.get(1)?,
        matrix_path: r.get(2)?,
        status: r.get(3)?,
        commit: r.get(4)?,
        dirty: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        duration: r.get::<_, Option<i64>>(8)?.map(from_millis),
        branch: r.get(9)?,
        revision: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
        config_key: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
        stats: RunStats::default(),
    })
}

fn job_row(r: &Row<'_>, facts: &mut SharedFacts<'_>) -> rusqlite::Result<JobRecord> {
    let cell: String = r.get(2)?;
    let unsigned = |v: Option<i64>| v.map(|n| u64::try_from(n).unwrap_or(0));
    Ok(JobRecord {
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
        duration: r.get::<_, Option<i64>>(10)?.map(from_millis),
        cpu: r.get::<_, Option<i64>>(11)?.map(from_millis),
        peak_rss_kb: unsigned(r.get(12)?),
        flaky: r.get(13)?,
        compiler: r.get(14)?,
        compiler_version: r.get(15)?,
        work_dir: r.get::<_, Option<String>>(16)?.map(PathBuf::from),
        log_tail: r.get::<_, Option<String>>(17)?.map(|t| t.lines().map(str::to_string).collect()).unwrap_or_default(),
        reused_from: r.get(18)?,
        allow_failure: r.get(19)?,
        host: r.get(20)?,
        image: r.get(21)?,
        image_digest: r.get(22)?,
        kind: r.get(23)?,
        build: facts.of(r.get(24)?, r.get_ref(25)?.as_str_or_null()?)?,
        coverage: r.get::<_, Option<String>>(26)?.and_then(|text| serde_json::from_str(&text).ok()),
        ccache: match (unsigned(r.get(27)?), unsigned(r.get(28)?), unsigned(r.get(29)?)) {
            (Some(hits), Some(misses), Some(cacheable)) => {
                Some(crate::outcome::CcacheStats { hits, misses, cacheable })
            }
            _ => None,
        },
        steps: Vec::new(),
        diagnostics: Vec::new(),
        tests: Vec::new(),
        artifacts: Vec::new(),
    })
}

/// The build facts of the jobs one query reads, each `builds` row parsed once: a run's jobs
/// mostly share a few, and share one copy of each.
struct SharedFacts<'c> {
    conn: &'c Connection,
    parsed: HashMap<i64, Option<Arc<BuildFacts>>>,
}

impl<'c> SharedFacts<'c> {
    fn new(conn: &'c Connection) -> Self {
        Self { conn, parsed: HashMap::new() }
    }

    /// A job's facts: its `builds` row's, or where it has none (recorded before migration 14),
    /// those its own row holds.
    fn of(&mut self, build_id: Option<i64>, own: Option<&str>) -> rusqlite::Result<Option<Arc<BuildFacts>>> {
        let parse = |text: &str| serde_json::from_str::<BuildFacts>(text).ok().map(Arc::new);
        let shared = match build_id {
            Some(id) => match self.parsed.get(&id) {
                Some(known) => known.clone(),
                None => {
                    let text: Option<String> = self
                        .conn
                        .prepare_cached("SELECT facts FROM builds WHERE id = ?1")?
                        .query_row([id], |r| r.get(0))
                        .optional()?;
                    let facts = text.as_deref().and_then(parse);
                    self.parsed.insert(id, facts.clone());
                    facts
                }
            },
            None => None,
        };
        Ok(shared.or_else(|| own.and_then(parse)))
    }
}

/// The steps, diagnostics, tests and artifacts of a run's (or one job's) jobs, by job id.
#[derive(Default)]
struct Parts {
    steps: HashMap<i64, Vec<StepRecord>>,
    diagnostics: HashMap<i64, Vec<Diagnostic>>,
    tests: HashMap<i64, Vec<TestCase>>,
    artifacts: HashMap<i64, Vec<Artifact>>,
}

/// Which jobs' parts to read: `WHERE` and its parameter.
enum Of {
    Run(i64),
    Job(i64),
}

impl Of {
    /// What follows `FROM table alias` to pick the rows, and its one parameter.
    fn filter(&self, alias: &str) -> (String, i64) {
        match self {
            Self::Run(run) => (format!("JOIN jobs j ON j.id = {alias}.job_id WHERE j.run_id = ?1"), *run),
            Self::Job(job) => (format!("WHERE {alias}.job_id = ?1"), *job),
        }
    }
}

impl Parts {
    fn of_run(store: &Store, run: i64) -> Result<Self, StoreError> {
        Self::read(store, &Of::Run(run)).map_err(|e| store.err(e))
    }

    fn of_job(store: &Store, job: i64) -> Result<Self, StoreError> {
        Self::read(store, &Of::Job(job)).map_err(|e| store.err(e))
    }

    fn read(store: &Store, of: &Of) -> rusqlite::Result<Self> {
        let mut parts = Self::default();
        let unsigned = |n: i64| u64::try_from(n).unwrap_or(0);
        let (filter, id) = of.filter("s");
        let mut stmt = store.conn.prepare_cached(&format!(
            "SELECT s.job_id, s.position, s.name, s.attempt, s.status, s.exit_code, s.signal, s.duration_ms, s.cpu_ms,
                    s.peak_rss_kb, s.log_path, s.log_bytes, s.command
             FROM steps s {filter} ORDER BY s.job_id, s.position, s.attempt"
        ))?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            parts.steps.entry(r.get(0)?).or_default().push(StepRecord {
                position: usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                name: r.get(2)?,
                attempt: r.get(3)?,
                status: r.get(4)?,
                exit_code: r.get(5)?,
                signal: r.get(6)?,
                duration: from_millis(r.get(7)?),
                cpu: from_millis(r.get(8)?),
                peak_rss_kb: unsigned(r.get(9)?),
                log: PathBuf::from(r.get::<_, String>(10)?),
                log_bytes: unsigned(r.get(11)?),
                command: r.get(12)?,
            });
        }
        let (filter, id) = of.filter("d");
        let mut stmt = store.conn.prepare_cached(&format!(
            "SELECT d.job_id, d.step, d.severity, d.kind, d.file, d.line, d.col, d.message, d.context
             FROM diagnostics d {filter} ORDER BY d.job_id, d.id"
        ))?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let context: String = r.get(8)?;
            parts.diagnostics.entry(r.get(0)?).or_default().push(Diagnostic {
                step: r.get(1)?,
                severity: r.get(2)?,
                kind: r.get(3)?,
                file: r.get(4)?,
                line: r.get(5)?,
                col: r.get(6)?,
                message: r.get(7)?,
                context: context.lines().map(str::to_string).collect(),
            });
        }
        let (filter, id) = of.filter("t");
        let mut stmt = store.conn.prepare_cached(&format!(
            "SELECT t.job_id, t.step, t.suite, t.name, t.status, t.duration_ms, t.message
             FROM tests t {filter} ORDER BY t.job_id, t.id"
        ))?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            parts.tests.entry(r.get(0)?).or_default().push(TestCase {
                step: r.get(1)?,
                suite: r.get(2)?,
                name: r.get(3)?,
                status: r.get(4)?,
                duration_ms: r.get(5)?,
                message: r.get(6)?,
            });
        }
        let (filter, id) = of.filter("a");
        let mut stmt = store.conn.prepare_cached(&format!(
            "SELECT a.job_id, a.path, a.stored_path, a.size, a.sha256, a.removed_at
             FROM artifacts a {filter} ORDER BY a.job_id, a.id"
        ))?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            parts.artifacts.entry(r.get(0)?).or_default().push(Artifact {
                path: r.get(1)?,
                stored_path: PathBuf::from(r.get::<_, String>(2)?),
                size: unsigned(r.get(3)?),
                sha256: r.get(4)?,
                removed_at: r.get(5)?,
            });
        }
        Ok(parts)
    }

    /// `job` with its parts.
    fn complete(&mut self, mut job: JobRecord) -> JobRecord {
        job.steps = self.steps.remove(&job.id).unwrap_or_default();
        job.diagnostics = self.diagnostics.remove(&job.id).unwrap_or_default();
        job.tests = self.tests.remove(&job.id).unwrap_or_default();
        job.artifacts = self.artifacts.remove(&job.id).unwrap_or_default();
        // A pass is decided by its last step, which exited 0; the store keeps codes for failures.
        if job.exit_code.is_none() && job.status == JobStatus::Passed {
            job.exit_code = job.steps.last().and_then(|s| s.exit_code);
        }
        job
    }
}
