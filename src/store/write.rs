//! Writing a run as it goes: the run and its jobs at the start, each step as it ends, each job as
//! it ends, the run's outcome at the end. A writer thread owns the connection and commits what
//! has arrived in one transaction at a time, so finished work is on disk within milliseconds and
//! the executor never waits for SQLite.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, OptionalExtension, Transaction};

use super::{now, ProcessIdentity, Store, StoreError};
use crate::exec::events::Event;
use crate::outcome::{millis, BuildFacts, JobRecord, JobStatus, RunStatus, StepRecord};

/// A run about to start.
#[derive(Clone, Debug)]
pub struct NewRun {
    /// The project's name.
    pub project: String,
    /// The matrix file.
    pub matrix_path: String,
    /// The source's commit.
    pub commit: String,
    /// Whether the source had uncommitted changes.
    pub dirty: bool,
    /// The branch built, where there is one.
    pub branch: Option<String>,
    /// The source revision `--if-changed` compares (the commit, and a digest of local changes).
    pub revision: String,
    /// The configuration `--if-changed` compares within ([`crate::plan::Plan::config_key`]).
    pub config_key: String,
    /// The command line.
    pub argv: String,
    /// The token every job process carries in `GRIDRUN_TOKEN`.
    pub token: String,
    /// Every job of the plan, runnable or not, in order.
    pub jobs: Vec<NewJob>,
}

/// The last run `--if-changed` compares with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastBuilt {
    /// Its id.
    pub run: i64,
    /// The revision it built.
    pub revision: String,
    /// Its commit.
    pub commit: String,
}

/// A job as the run starts.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Its place in the plan: shards of one plan keep their jobs' plan order, so runs merged
    /// from several machines read in the order of the whole grid.
    pub position: usize,
    /// Its slug.
    pub slug: String,
    /// Its cell as JSON.
    pub cell: String,
    /// Its config hash.
    pub config_hash: String,
    /// `None` while it is to run; otherwise already decided (`unsupported`, `reused`…).
    pub status: Option<JobStatus>,
    /// Why it will not run.
    pub reason: Option<String>,
    /// The compiler the cell names.
    pub compiler: String,
    /// That compiler's version.
    pub compiler_version: String,
    /// For `reused`: the run whose pass it stands on.
    pub reused_from: Option<i64>,
    /// `allow_failure = true`: its failure fails no run.
    pub allow_failure: bool,
    /// A cell, a setup or a finally step.
    pub kind: crate::outcome::JobKind,
}

impl Store {
    /// Records a new run and its jobs; returns the run id.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<i64, StoreError> {
        let me = ProcessIdentity::current();
        let host = hostname();
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let id = (|| {
            tx.execute(
                "INSERT INTO runs (project, matrix_path, status, commit_sha, dirty, started_at, host, argv, pid, pid_start, token,
                                   branch, revision, config_key)
                 VALUES (?1, ?2, ?11, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?13, ?14)",
                params![
                    run.project,
                    run.matrix_path,
                    run.commit,
                    run.dirty,
                    now(),
                    host,
                    run.argv,
                    me.pid,
                    i64::try_from(me.start).unwrap_or(0),
                    run.token,
                    RunStatus::Running,
                    run.branch,
                    run.revision,
                    run.config_key,
                ],
            )?;
            let id = tx.last_insert_rowid();
            let mut insert = tx.prepare(
                "INSERT INTO jobs (run_id, position, slug, cell, config_hash, status, reason, compiler, compiler_version, reused_from,
                                   allow_failure, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for job in &run.jobs {
                insert.execute(params![
                    id,
                    i64::try_from(job.position).unwrap_or(i64::MAX),
                    job.slug,
                    job.cell,
                    job.config_hash,
                    job.status.unwrap_or(JobStatus::Queued),
                    job.reason,
                    job.compiler,
                    job.compiler_version,
                    job.reused_from,
                    job.allow_failure,
                    job.kind
                ])?;
            }
            Ok(id)
        })()
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// The newest finished run (passed or failed) of `project` in configuration `config_key`:
    /// its id, the revision it built, and its commit.
    pub fn last_built(&self, project: &str, config_key: &str) -> Result<Option<LastBuilt>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, COALESCE(revision, ''), commit_sha FROM runs
                 WHERE project = ?1 AND config_key = ?2 AND status IN (?3, ?4)
                 ORDER BY id DESC LIMIT 1",
                params![project, config_key, RunStatus::Passed, RunStatus::Failed],
                |r| Ok(LastBuilt { run: r.get(0)?, revision: r.get(1)?, commit: r.get(2)? }),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A run of `project` in configuration `config_key` building `revision` now: one whose gridrun
    /// is alive (on another host, or on a Slurm cluster, one not yet found dead).
    pub fn building(&self, project: &str, config_key: &str, revision: &str) -> Result<Option<i64>, StoreError> {
        let here = hostname();
        let running: Vec<(i64, String, u32, i64, bool)> = (|| {
            let mut stmt = self.conn.prepare(
                "SELECT id, host, pid, pid_start, slurm IS NOT NULL FROM runs
                 WHERE project = ?1 AND config_key = ?2 AND revision = ?3 AND status = ?4 ORDER BY id DESC",
            )?;
            let rows = stmt.query_map(params![project, config_key, revision, RunStatus::Running], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))?;
        Ok(running
            .into_iter()
            .find(|(_, host, pid, start, slurm)| {
                *slurm
                    || *host != here
                    || (ProcessIdentity { pid: *pid, start: u64::try_from(*start).unwrap_or(0) }).is_alive()
            })
            .map(|(id, ..)| id))
    }

    /// Marks runs whose gridrun has died as abandoned, and their unfinished jobs as cancelled.
    /// Returns the tokens of those runs, so their leftover processes can be found.
    pub fn mark_abandoned(&mut self) -> Result<Vec<String>, StoreError> {
        if self.read_only {
            return Ok(Vec::new());
        }
        // A state folder on a shared file system may hold another host's live run: only this
        // host's processes can be looked up here.
        let host = hostname();
        let running: Vec<(i64, u32, u64, String)> = (|| {
            let mut stmt =
                // A run on Slurm lives on in the cluster, not in a process here: `collect` ends it.
                self.conn.prepare(
                    "SELECT id, pid, pid_start, token FROM runs WHERE status = ?2 AND host = ?1 AND slurm IS NULL",
                )?;
            let rows = stmt.query_map(params![&host, RunStatus::Running], |r| {
                Ok((r.get(0)?, r.get::<_, u32>(1)?, u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0), r.get(3)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))?;
        let mut tokens = Vec::new();
        for (id, pid, start, token) in running {
            if (ProcessIdentity { pid, start }).is_alive() {
                continue;
            }
            let path = self.path.clone();
            let err = |source| StoreError::Sqlite { path: path.clone(), source };
            let tx = self.conn.transaction().map_err(err)?;
            close_run(&tx, id, RunStatus::Abandoned).map_err(err)?;
            tx.commit().map_err(err)?;
            tokens.push(token);
        }
        Ok(tokens)
    }

    /// The latest run of `config_hash` that passed at `commit`, for `--skip-passed`.
    pub fn passed_before(&self, config_hash: &str, commit: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT runs.id FROM jobs JOIN runs ON runs.id = jobs.run_id
                 WHERE jobs.config_hash = ?1 AND jobs.status = ?3 AND runs.commit_sha = ?2 AND runs.dirty = 0
                 ORDER BY runs.id DESC LIMIT 1",
                params![config_hash, commit, JobStatus::Passed],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

impl Store {
    /// Marks run `run` as submitted to Slurm, described by the file `spec`: from now on it is
    /// `collect`'s to end, whatever becomes of this process.
    pub fn set_slurm(&mut self, run: i64, spec: &str) -> Result<(), StoreError> {
        self.conn.execute("UPDATE runs SET slurm = ?2 WHERE id = ?1", params![run, spec]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The Slurm description of run `run`, where it was submitted to Slurm.
    pub fn slurm_of(&self, run: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT slurm FROM runs WHERE id = ?1", [run], |r| r.get(0))
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// The newest run on Slurm, where there is one.
    pub fn latest_slurm_run(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT id FROM runs WHERE slurm IS NOT NULL ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The array tasks of run `run` already folded in.
    pub fn folded_tasks(&self, run: i64) -> Result<std::collections::HashSet<u32>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare("SELECT task FROM slurm_tasks WHERE run_id = ?1")?;
            let rows = stmt.query_map([run], |r| r.get::<_, u32>(0))?;
            rows.collect::<rusqlite::Result<_>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// Folds finished jobs into run `run` in one transaction, as a local run records them
    /// (their steps, then their records), marks `tasks` folded with their Slurm state, and where
    /// `end` says the run is over, closes it with that status.
    pub fn fold(
        &mut self,
        run: i64,
        jobs: &[JobRecord],
        tasks: &[(u32, String)],
        end: Option<RunStatus>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        (|| {
            let mut builds = Builds::default();
            for job in jobs {
                for step in &job.steps {
                    insert_step(&tx, run, &job.slug, step)?;
                }
                update_job(&tx, run, job, &mut builds, false)?;
            }
            for (task, state) in tasks {
                tx.prepare_cached("INSERT OR REPLACE INTO slurm_tasks (run_id, task, state) VALUES (?1, ?2, ?3)")?
                    .execute(params![run, task, state])?;
            }
            if let Some(status) = end {
                close_run(&tx, run, status)?;
            }
            Ok(())
        })()
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// The last duration of each of `slugs` that passed, where there is one.
    pub fn last_durations(&self, slugs: &[&str]) -> Result<Vec<Duration>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT duration_ms FROM jobs WHERE slug = ?1 AND status = ?2 AND duration_ms IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
            )?;
            let mut out = Vec::new();
            for slug in slugs {
                if let Some(ms) = stmt.query_row(params![slug, JobStatus::Passed], |r| r.get::<_, i64>(0)).optional()? {
                    out.push(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
                }
            }
            Ok(out)
        })()
        .map_err(|e| self.err(e))
    }

    /// Marks the jobs `slugs` of run `run` running (their Slurm task started).
    pub fn mark_started(&mut self, run: i64, slugs: &[String]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        for slug in slugs {
            tx.prepare_cached(
                "UPDATE jobs SET status = ?4, started_at = ?3 WHERE run_id = ?1 AND slug = ?2 AND status = ?5",
            )
            .and_then(|mut s| s.execute(params![run, slug, now(), JobStatus::Running, JobStatus::Queued]))
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

fn close_run(tx: &Transaction<'_>, run: i64, status: RunStatus) -> rusqlite::Result<()> {
    let finished = now();
    tx.execute(
        "UPDATE jobs SET status = ?3, finished_at = COALESCE(finished_at, ?2)
         WHERE run_id = ?1 AND status IN (?4, ?5)",
        params![run, finished, JobStatus::Cancelled, JobStatus::Queued, JobStatus::Running],
    )?;
    tx.execute(
        "UPDATE runs SET status = ?2, finished_at = ?3,
             duration_ms = CAST(ROUND((julianday(?3) - julianday(started_at)) * 86400000) AS INTEGER)
         WHERE id = ?1",
        params![run, status, finished],
    )?;
    Ok(())
}

fn record(tx: &Transaction<'_>, run: i64, event: &Event, batch: &mut Batch<'_>) -> rusqlite::Result<()> {
    match event {
        // Its end, later in this transaction, writes its start too.
        Event::JobStarted { slug, .. } if batch.finished.contains(slug.as_str()) => {}
        Event::JobStarted { slug, .. } => {
            tx.prepare_cached("UPDATE jobs SET status = ?4, started_at = ?3 WHERE run_id = ?1 AND slug = ?2")?
                .execute(params![run, slug, now(), JobStatus::Running])?;
        }
        Event::StepFinished { slug, record } => insert_step(tx, run, slug, record)?,
        Event::JobFinished { record } => {
            let started_here = batch.started.contains(record.slug.as_str());
            update_job(tx, run, record, &mut batch.builds, started_here)?;
        }
        Event::StepStarted { .. } | Event::Cancelling { .. } | Event::JobMoved { .. } => {}
    }
    Ok(())
}

fn insert_step(tx: &Transaction<'_>, run: i64, slug: &str, step: &StepRecord) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO steps (job_id, position, name, attempt, status, exit_code, signal, duration_ms, cpu_ms, peak_rss_kb, log_path, log_bytes, command)
         VALUES ((SELECT id FROM jobs WHERE run_id = ?1 AND slug = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        run,
        slug,
        i64::try_from(step.position).unwrap_or(i64::MAX),
        step.name,
        step.attempt,
        step.status,
        step.exit_code,
        step.signal,
        millis(step.duration),
        millis(step.cpu),
        i64::try_from(step.peak_rss_kb).unwrap_or(i64::MAX),
        step.log.display().to_string(),
        i64::try_from(step.log_bytes).unwrap_or(i64::MAX),
        step.command,
    ])?;
    Ok(())
}

/// Writes a job's end. `started_here`: it (re)started in this same transaction, whose start was
/// not written, so its start time is now; otherwise an earlier start stands.
fn update_job(
    tx: &Transaction<'_>,
    run: i64,
    job: &JobRecord,
    builds: &mut Builds,
    started_here: bool,
) -> rusqlite::Result<()> {
    let job_id: i64 = tx
        .prepare_cached("SELECT id FROM jobs WHERE run_id = ?1 AND slug = ?2")?
        .query_row(params![run, job.slug], |r| r.get(0))?;
    for d in &job.diagnostics {
        tx.prepare_cached(
            "INSERT INTO diagnostics (job_id, step, severity, kind, file, line, col, message, context)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            job_id,
            d.step,
            d.severity,
            d.kind,
            d.file,
            d.line,
            d.col,
            d.message,
            d.context.join("\n")
        ])?;
    }
    for t in &job.tests {
        tx.prepare_cached(
            "INSERT INTO tests (job_id, step, suite, name, status, duration_ms, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![job_id, t.step, t.suite, t.name, t.status, t.duration_ms, t.message])?;
    }
    for a in &job.artifacts {
        tx.prepare_cached(
            "INSERT INTO artifacts (job_id, path, stored_path, size, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            job_id,
            a.path,
            a.stored_path.display().to_string(),
            i64::try_from(a.size).unwrap_or(i64::MAX),
            a.sha256,
            now()
        ])?;
    }
    let build = match &job.build {
        Some(facts) => builds.id(tx, facts)?,
        None => None,
    };
    tx.prepare_cached(
        "UPDATE jobs SET status = ?3, failure_kind = ?4, exit_code = ?5, signal = ?6, finished_at = ?7, duration_ms = ?8,
             cpu_ms = ?9, peak_rss_kb = ?10, flaky = ?11, work_dir = ?12, log_tail = ?13,
             host = ?14, image = ?15, image_digest = ?16, started_at = IIF(?23, ?7, COALESCE(started_at, ?7)),
             reason = COALESCE(?17, reason), build_id = COALESCE(?18, build_id), coverage = ?19,
             ccache_hits = ?20, ccache_misses = ?21, ccache_cacheable = ?22
         WHERE run_id = ?1 AND slug = ?2",
    )?
    .execute(params![
        run,
        job.slug,
        job.status,
        job.failure_kind,
        job.exit_code,
        job.signal,
        now(),
        job.duration.map(millis),
        job.cpu.map(millis),
        job.peak_rss_kb.map(|kb| i64::try_from(kb).unwrap_or(i64::MAX)),
        job.flaky,
        job.work_dir.as_ref().map(|d| d.display().to_string()),
        (!job.log_tail.is_empty()).then(|| job.log_tail.join("\n")),
        job.host,
        job.image,
        job.image_digest,
        job.reason,
        build,
        job.coverage.as_ref().and_then(|c| serde_json::to_string(c).ok()),
        job.ccache.map(|c| i64::try_from(c.hits).unwrap_or(i64::MAX)),
        job.ccache.map(|c| i64::try_from(c.misses).unwrap_or(i64::MAX)),
        job.ccache.map(|c| i64::try_from(c.cacheable).unwrap_or(i64::MAX)),
        started_here,
    ])?;
    Ok(())
}

/// The `builds` rows one transaction has found or added, with their facts. A grid's jobs share a
/// few, so each is serialized, hashed and looked up once per transaction rather than per job;
/// the memo ends with the transaction, whose rollback could take a row it added.
#[derive(Default)]
struct Builds(Vec<(Arc<BuildFacts>, i64)>);

impl Builds {
    /// The row holding `facts`; `None` for facts that cannot be serialized.
    fn id(&mut self, tx: &Transaction<'_>, facts: &Arc<BuildFacts>) -> rusqlite::Result<Option<i64>> {
        if let Some((_, id)) = self.0.iter().find(|(known, _)| Arc::ptr_eq(known, facts) || known == facts) {
            return Ok(Some(*id));
        }
        let Ok(json) = serde_json::to_string(facts) else { return Ok(None) };
        let id = build_id(tx, &json)?;
        self.0.push((Arc::clone(facts), id));
        Ok(Some(id))
    }
}

/// What one transaction of events shares: the jobs that start and that finish in it, and its
/// builds.
struct Batch<'m> {
    started: std::collections::HashSet<&'m str>,
    finished: std::collections::HashSet<&'m str>,
    builds: Builds,
}

/// The row of `builds` that holds `facts` (a job's build facts as JSON), added where no job
/// had them before: the jobs of a toolchain share one.
pub(super) fn build_id(tx: &Transaction<'_>, facts: &str) -> rusqlite::Result<i64> {
    use sha2::Digest;
    let digest = crate::text::hex(&sha2::Sha256::digest(facts.as_bytes()));
    tx.prepare_cached("INSERT INTO builds (digest, facts) VALUES (?1, ?2) ON CONFLICT (digest) DO NOTHING")?
        .execute(params![digest, facts])?;
    tx.prepare_cached("SELECT id FROM builds WHERE digest = ?1")?.query_row([digest], |r| r.get(0))
}

/// How long the writer waits after an event for more to write in the same transaction.
const BATCH_WAIT: Duration = Duration::from_millis(15);

enum Message {
    Event(Box<Event>),
    Finish(RunStatus),
    /// Work to do with the store once everything sent before it is written.
    Call(Box<dyn FnOnce(&Store) + Send>),
}

/// Called on the writer thread after each commit with the store and whether the run has ended:
/// how a live report follows the run without a second connection racing the writer. It returns
/// `Some(delay)` when it put its work off, to be called again after `delay` if nothing else
/// is committed meanwhile.
pub type AfterCommit = Box<dyn FnMut(&Store, bool) -> Option<Duration> + Send>;

/// The writer thread of one run: events go in without waiting; `finish` records the outcome and
/// hands the store back.
pub struct StoreWriter {
    sender: mpsc::Sender<Message>,
    thread: JoinHandle<Result<Store, StoreError>>,
    /// Set with an unpark where what was sent must not wait for the batch to fill.
    urgent: Arc<AtomicBool>,
}

impl StoreWriter {
    /// Starts the writer for run `run`; `after_commit` (if any) runs after every commit.
    pub fn spawn(mut store: Store, run: i64, mut after_commit: Option<AfterCommit>) -> Self {
        let (sender, receiver) = mpsc::channel::<Message>();
        let urgent = Arc::new(AtomicBool::new(false));
        let urgent_here = Arc::clone(&urgent);
        let thread = std::thread::Builder::new()
            .name("gridrun-store".into())
            .spawn(move || {
                let mut failure: Option<StoreError> = None;
                let mut pending: Vec<Message> = Vec::new();
                // When the hook put its work off, it is called again after the time it asked for,
                // even if no event comes: the last change before a quiet spell must show too.
                let mut call_again: Option<Instant> = None;
                loop {
                    let next = match call_again {
                        Some(at) => receiver.recv_timeout(at.saturating_duration_since(Instant::now())),
                        None => receiver.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                    };
                    let first = match next {
                        Ok(message) => message,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            call_again =
                                after_commit.as_mut().and_then(|hook| hook(&store, false)).map(|d| Instant::now() + d);
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    // Everything that has arrived goes into one transaction, after what a full
                    // disk kept from being written before; a short wait first lets a burst of
                    // quick jobs share one (the run's end is written at once).
                    let ending = matches!(first, Message::Finish(_));
                    pending.push(first);
                    if !ending {
                        // Parked rather than waiting on the channel, so each event of the burst
                        // costs its sender no wake-up; the run's end and a call unpark it.
                        let until = Instant::now() + BATCH_WAIT;
                        while !urgent_here.swap(false, Ordering::AcqRel) {
                            let left = until.saturating_duration_since(Instant::now());
                            if left.is_zero() {
                                break;
                            }
                            std::thread::park_timeout(left);
                        }
                    }
                    pending.extend(receiver.try_iter());
                    let finish = pending.iter().find_map(|m| match m {
                        Message::Finish(status) => Some(*status),
                        Message::Event(_) | Message::Call(_) => None,
                    });
                    let (calls, events): (Vec<Message>, Vec<Message>) =
                        std::mem::take(&mut pending).into_iter().partition(|m| matches!(m, Message::Call(_)));
                    pending = events;
                    let mut result = commit(&mut store, run, &pending, finish);
                    if result.as_ref().is_err_and(is_disk_full) && store.release_reserve() {
                        // The reserve's room is what this commit needed.
                        result = commit(&mut store, run, &pending, finish);
                    }
                    match result {
                        Ok(()) => {
                            pending.clear();
                            failure = None;
                            call_again = after_commit
                                .as_mut()
                                .and_then(|hook| hook(&store, finish.is_some()))
                                .map(|d| Instant::now() + d);
                        }
                        Err(source) => {
                            // Kept, to go with the next commit: space may come back.
                            failure = Some(StoreError::Sqlite { path: store.path.clone(), source });
                        }
                    }
                    for call in calls {
                        if let Message::Call(call) = call {
                            call(&store);
                        }
                    }
                    if finish.is_some() {
                        break;
                    }
                }
                match failure {
                    Some(e) => Err(e),
                    None => Ok(store),
                }
            })
            .expect("spawn the store writer thread");
        Self { sender, thread, urgent }
    }

    /// Queues an event to be written (one the store keeps nothing of is not sent at all: each
    /// send may wake the writer thread).
    pub fn send(&self, event: &Event) {
        if matches!(event, Event::StepStarted { .. } | Event::Cancelling { .. } | Event::JobMoved { .. }) {
            return;
        }
        // A send fails only when the thread has already stopped on an error, which `finish` reports.
        let _ = self.sender.send(Message::Event(Box::new(event.clone())));
    }

    /// Runs `work` with the store on the writer thread, once every event sent before is written
    /// (or could not be: a full disk); the run's JSON for `[[finally]]` is read this way.
    pub fn call(&self, work: Box<dyn FnOnce(&Store) + Send>) {
        let _ = self.sender.send(Message::Call(work));
        self.hurry();
    }

    /// Has the writer write what it has now.
    fn hurry(&self) {
        self.urgent.store(true, Ordering::Release);
        self.thread.thread().unpark();
    }

    /// Records the run's outcome, waits for everything to be written, and returns the store.
    pub fn finish(self, status: RunStatus) -> Result<Store, StoreError> {
        let _ = self.sender.send(Message::Finish(status));
        self.hurry();
        self.thread.join().expect("store writer thread")
    }
}

/// Writes `messages` (and the run's end, where it has come) in one transaction.
fn commit(store: &mut Store, run: i64, messages: &[Message], finish: Option<RunStatus>) -> rusqlite::Result<()> {
    let tx = store.conn.transaction()?;
    let events = || messages.iter().filter_map(|m| if let Message::Event(event) = m { Some(&**event) } else { None });
    let started =
        events().filter_map(|e| if let Event::JobStarted { slug, .. } = e { Some(slug.as_str()) } else { None });
    let finished =
        events().filter_map(|e| if let Event::JobFinished { record } = e { Some(record.slug.as_str()) } else { None });
    let mut batch = Batch { started: started.collect(), finished: finished.collect(), builds: Builds::default() };
    for event in events() {
        record(&tx, run, event, &mut batch)?;
    }
    if let Some(status) = finish {
        close_run(&tx, run, status)?;
    }
    tx.commit()
}

/// Whether SQLite failed for want of space.
fn is_disk_full(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DiskFull)
}

/// This host's name, as runs record it.
pub(super) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::BuildFacts;

    /// A store holding run 1, running, with `slugs` queued in that order.
    fn run_of(slugs: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO runs (id, project, matrix_path, status, started_at, pid, token)
                 VALUES (1, 'p', 'gridrun.toml', 'running', '2030-01-01T00:00:00.000Z', 1, 't')",
                [],
            )
            .unwrap();
        for (position, slug) in slugs.iter().enumerate() {
            store
                .conn
                .execute(
                    "INSERT INTO jobs (run_id, position, slug, cell, config_hash, status) VALUES (1, ?1, ?2, '{}', 'h', 'queued')",
                    params![i64::try_from(position).unwrap(), slug],
                )
                .unwrap();
        }
        (dir, store)
    }

    #[test]
    fn jobs_share_their_build_facts_and_older_rows_keep_their_own() {
        let (_dir, mut store) = run_of(&["a", "b", "c", "old"]);
        let facts = |cxx: &str| BuildFacts {
            repository: Some("https://example.com/p.git".into()),
            tools: Vec::new(),
            env: vec![("CXX".into(), cxx.into())],
        };
        // a and b in one transaction (its memo), c in the next (a lookup by digest).
        for batch in [&[("a", "g++-12"), ("b", "g++-12"), ("c", "clang++-19")][..2], &[("c", "clang++-19")]] {
            let tx = store.conn.transaction().unwrap();
            let mut builds = Builds::default();
            for (slug, cxx) in batch {
                let mut job = JobRecord::new((*slug).to_string());
                job.status = JobStatus::Passed;
                job.build = Some(Arc::new(facts(cxx)));
                update_job(&tx, 1, &job, &mut builds, false).unwrap();
            }
            tx.commit().unwrap();
        }
        // A job recorded before migration 14 holds its facts in its own row.
        let legacy = serde_json::to_string(&facts("g++-11")).unwrap();
        store.conn.execute("UPDATE jobs SET build = ?1 WHERE slug = 'old'", [legacy]).unwrap();

        let shared: i64 = store.conn.query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0)).unwrap();
        assert_eq!(shared, 2, "a and b share one row, c has its own");
        let jobs = store.jobs(1).unwrap();
        let (a, b) = (jobs[0].build.as_ref().unwrap(), jobs[1].build.as_ref().unwrap());
        assert!(Arc::ptr_eq(a, b), "read back, jobs of one build share one copy of its facts");
        let read: Vec<(String, Option<BuildFacts>)> =
            jobs.into_iter().map(|j| (j.slug, j.build.map(Arc::unwrap_or_clone))).collect();
        assert_eq!(
            read,
            [
                ("a".to_string(), Some(facts("g++-12"))),
                ("b".to_string(), Some(facts("g++-12"))),
                ("c".to_string(), Some(facts("clang++-19"))),
                ("old".to_string(), Some(facts("g++-11"))),
            ]
        );
    }

    #[test]
    fn a_job_that_starts_and_ends_in_one_batch_is_written_once_and_others_show_running() {
        let (_dir, mut store) = run_of(&["quick", "long"]);
        let started = |slug: &str| Message::Event(Box::new(Event::JobStarted { slug: slug.into(), place: None }));
        let mut quick = JobRecord::new("quick".to_string());
        quick.status = JobStatus::Passed;
        let batch = [
            started("quick"),
            started("long"),
            Message::Event(Box::new(Event::JobFinished { record: Box::new(quick) })),
        ];
        commit(&mut store, 1, &batch, None).unwrap();
        let rows: Vec<(String, String, bool)> = store
            .conn
            .prepare("SELECT slug, status, started_at IS NOT NULL FROM jobs ORDER BY position")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [("quick".into(), "passed".into(), true), ("long".into(), "running".into(), true)]);
    }

    #[test]
    fn a_job_started_again_in_a_later_batch_takes_that_start() {
        // A job whose build host was lost starts again elsewhere: its row says when it did, as
        // it did when each start was written.
        let (_dir, mut store) = run_of(&["moved"]);
        let started = || Message::Event(Box::new(Event::JobStarted { slug: "moved".into(), place: None }));
        let started_at = |store: &Store| -> String {
            store.conn.query_row("SELECT started_at FROM jobs WHERE slug = 'moved'", [], |r| r.get(0)).unwrap()
        };
        commit(&mut store, 1, &[started()], None).unwrap();
        let first = started_at(&store);
        // The times are to the millisecond.
        std::thread::sleep(Duration::from_millis(20));
        let mut moved = JobRecord::new("moved".to_string());
        moved.status = JobStatus::Passed;
        commit(
            &mut store,
            1,
            &[started(), Message::Event(Box::new(Event::JobFinished { record: Box::new(moved) }))],
            None,
        )
        .unwrap();
        assert!(started_at(&store) > first, "{} is not after {first}", started_at(&store));
    }
}
