//! `gridrun merge`: runs recorded in other state folders (the shards of one grid, run on several
//! CI machines with `--shard K/N`, or just another machine's history) copied into this store, with
//! their logs and artifacts, so that one `report` covers the whole grid.
//!
//! Each source store is read from a consistent snapshot (SQLite's backup API), migrated to this
//! gridrun's schema on the side, so a source written by an older gridrun reads the same. Runs of
//! one project at one commit whose jobs do not overlap are shards of one grid and become one run
//! here, its jobs in plan order (dirty if any shard's tree was). A run merged once is recorded by its token and never again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::read::{run_row, RUN_COLUMNS, RUN_COLUMN_COUNT as N};
use super::write::hostname;
use super::{now, ProcessIdentity, Store, StoreError, DB_FILE};
use crate::outcome::{JobStatus, RunRecord, RunStatus};

/// A source run as merge reads it.
#[derive(Clone, Debug)]
struct SourceRun {
    /// Which source (index into the sources given).
    source: usize,
    /// The run as the source recorded it.
    row: RunRecord,
    host: String,
    token: String,
    logs_removed_at: Option<String>,
    slugs: BTreeSet<String>,
    /// Whether its gridrun is still at work on this host: such a run is left to finish.
    live: bool,
}

/// One run made here by `merge`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedRun {
    /// Its id in this store.
    pub run: i64,
    /// Its project.
    pub project: String,
    /// Its commit.
    pub commit: String,
    /// Its status, from its jobs and the runs it was made of.
    pub status: RunStatus,
    /// The source runs it was made of: (source folder, run id there).
    pub from: Vec<(PathBuf, i64)>,
    /// How many jobs it holds.
    pub jobs: usize,
}

/// The state folder `given` names as a source to merge: itself when it holds a store, else its
/// `.gridrun`; absolute.
pub fn merge_source(given: &Path) -> Result<PathBuf, String> {
    let absolute = std::path::absolute(given).map_err(|e| format!("{}: {e}", given.display()))?;
    if absolute.join(DB_FILE).is_file() {
        return Ok(absolute);
    }
    let state = absolute.join(crate::statedir::NAME);
    if state.join(DB_FILE).is_file() {
        return Ok(state);
    }
    Err(format!("{}: no gridrun store there (no {DB_FILE}, nor .gridrun/{DB_FILE})", given.display()))
}

/// What `merge` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The runs it made.
    pub merged: Vec<MergedRun>,
    /// Source runs already merged before: (source folder, run id there, run here).
    pub already: Vec<(PathBuf, i64, i64)>,
    /// Source runs still running on this host, left to finish: (source folder, run id there).
    pub running: Vec<(PathBuf, i64)>,
}

/// A source store, snapshotted and migrated into a temporary folder.
struct Snapshot {
    /// The source's state folder (where its logs and artifacts are).
    dir: PathBuf,
    store: Store,
    _temp: tempfile::TempDir,
}

impl Snapshot {
    fn take(dir: &Path) -> Result<Self, StoreError> {
        let db = dir.join(DB_FILE);
        let err = |source| StoreError::Sqlite { path: db.clone(), source };
        let io = |source| StoreError::Io { path: db.clone(), source };
        let temp = tempfile::tempdir().map_err(io)?;
        let source = Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        source.busy_timeout(std::time::Duration::from_secs(60)).map_err(err)?;
        // Read it once first: the backup API reports a file that is not a database poorly.
        source.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(err)?;
        source
            .backup(rusqlite::MAIN_DB, temp.path().join(DB_FILE), None::<fn(rusqlite::backup::Progress)>)
            .map_err(err)?;
        // Migrating the copy also refuses a store from a newer gridrun.
        let store = Store::open(temp.path())?;
        Ok(Self { dir: dir.to_path_buf(), store, _temp: temp })
    }

    fn runs(&self, source: usize, all: bool) -> Result<Vec<SourceRun>, StoreError> {
        let limit = if all { -1 } else { 1 };
        let conn = &self.store.conn;
        (|| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {RUN_COLUMNS}, host, token, logs_removed_at, pid, pid_start FROM runs ORDER BY id DESC LIMIT ?1"
            ))?;
            let mut runs = stmt
                .query_map([limit], |r| {
                    let row = run_row(r)?;
                    let host: String = r.get(N)?;
                    let gridrun = ProcessIdentity {
                        pid: r.get(N + 3)?,
                        start: u64::try_from(r.get::<_, i64>(N + 4)?).unwrap_or(0),
                    };
                    Ok(SourceRun {
                        source,
                        live: row.status == RunStatus::Running && host == hostname() && gridrun.is_alive(),
                        row,
                        host,
                        token: r.get(N + 1)?,
                        logs_removed_at: r.get(N + 2)?,
                        slugs: BTreeSet::new(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            runs.reverse();
            let mut slugs = conn.prepare("SELECT slug FROM jobs WHERE run_id = ?1")?;
            for run in &mut runs {
                run.slugs = slugs.query_map([run.row.id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            }
            Ok(runs)
        })()
        .map_err(|e| self.store.err(e))
    }
}

impl Store {
    /// Merges the latest run (every run with `all`) of each state folder in `sources` into this
    /// store, whose state folder is `state_dir`; copies their logs and artifacts there.
    pub fn merge(&mut self, state_dir: &Path, sources: &[PathBuf], all: bool) -> Result<MergeOutcome, StoreError> {
        let snapshots = sources.iter().map(|dir| Snapshot::take(dir)).collect::<Result<Vec<_>, _>>()?;
        let mut outcome = MergeOutcome::default();
        // Shards of one grid: one project, one commit, jobs that do not overlap.
        let mut groups: Vec<Vec<SourceRun>> = Vec::new();
        for (i, snapshot) in snapshots.iter().enumerate() {
            for run in snapshot.runs(i, all)? {
                if run.live {
                    outcome.running.push((snapshot.dir.clone(), run.row.id));
                    continue;
                }
                if let Some(here) = self.merged_as(&run.token)? {
                    outcome.already.push((snapshot.dir.clone(), run.row.id, here));
                    continue;
                }
                let fits = |group: &Vec<SourceRun>| {
                    let first = &group[0];
                    first.row.project == run.row.project
                        && first.row.commit == run.row.commit
                        && group.iter().all(|g| g.slugs.is_disjoint(&run.slugs))
                };
                match groups.iter_mut().find(|g| fits(g)) {
                    Some(group) => group.push(run),
                    None => groups.push(vec![run]),
                }
            }
        }
        for group in groups {
            outcome.merged.push(self.merge_group(state_dir, &snapshots, &group)?);
        }
        Ok(outcome)
    }

    /// The run here a source run with `token` was merged into, if it was.
    fn merged_as(&self, token: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT run_id FROM merged WHERE token = ?1", [token], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn merge_group(
        &mut self,
        state_dir: &Path,
        snapshots: &[Snapshot],
        group: &[SourceRun],
    ) -> Result<MergedRun, StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let merged = copy_group(&tx, state_dir, snapshots, group).map_err(|e| match e {
            CopyError::Sqlite(source) => StoreError::Sqlite { path: path.clone(), source },
            CopyError::Io(path, source) => StoreError::Io { path, source },
        })?;
        tx.commit().map_err(err)?;
        Ok(merged)
    }
}

enum CopyError {
    Sqlite(rusqlite::Error),
    Io(PathBuf, std::io::Error),
}

impl From<rusqlite::Error> for CopyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// The status of a run made of `group`: what the runs say where one did not end (interrupted,
/// abandoned, or still running elsewhere, which here can only be abandoned), else what the jobs
/// say.
fn merged_status(group: &[SourceRun], any_job_failed: bool) -> RunStatus {
    if group.iter().any(|r| r.row.status == RunStatus::Interrupted) {
        RunStatus::Interrupted
    } else if group.iter().any(|r| matches!(r.row.status, RunStatus::Abandoned | RunStatus::Running)) {
        RunStatus::Abandoned
    } else if any_job_failed || group.iter().any(|r| r.row.status == RunStatus::Failed) {
        // A share fails for more than its jobs: a cell it was handed could not run there.
        RunStatus::Failed
    } else {
        RunStatus::Passed
    }
}

#[allow(clippy::too_many_lines)]
fn copy_group(
    tx: &Transaction<'_>,
    state_dir: &Path,
    snapshots: &[Snapshot],
    group: &[SourceRun],
) -> Result<MergedRun, CopyError> {
    let first = &group[0];
    let started = group.iter().map(|r| r.row.started_at.as_str()).min().unwrap_or_default().to_string();
    let finished: Option<String> =
        group.iter().map(|r| r.row.finished_at.clone()).collect::<Option<Vec<_>>>().and_then(|f| f.into_iter().max());
    let duration_ms = finished.as_deref().and_then(|end| {
        let start = chrono::DateTime::parse_from_rfc3339(&started).ok()?;
        let end = chrono::DateTime::parse_from_rfc3339(end).ok()?;
        Some((end - start).num_milliseconds().max(0))
    });
    let mut hosts: Vec<&str> = group.iter().map(|r| r.host.as_str()).collect();
    hosts.dedup();
    let me = ProcessIdentity::current();
    let token = format!("merge-{:x}-{:x}", me.pid, chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let argv = std::env::args().collect::<Vec<_>>().join(" ");
    tx.execute(
        "INSERT INTO runs (project, matrix_path, status, commit_sha, dirty, started_at, finished_at, duration_ms, host,
                           argv, pid, pid_start, token, logs_removed_at, branch, revision, config_key)
         VALUES (?1, ?2, ?14, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?16, ?17)",
        params![
            first.row.project,
            first.row.matrix_path,
            first.row.commit,
            group.iter().any(|r| r.row.dirty),
            started,
            finished,
            duration_ms,
            hosts.join(","),
            argv,
            me.pid,
            i64::try_from(me.start).unwrap_or(0),
            token,
            group.iter().find_map(|r| r.logs_removed_at.clone()),
            RunStatus::Running,
            first.row.branch,
            first.row.revision,
            first.row.config_key,
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    let mut jobs = 0;
    let mut any_job_failed = false;
    for run in group {
        let snapshot = &snapshots[run.source];
        let src = &snapshot.store.conn;
        let mut job_stmt = src.prepare(concat!(
            "SELECT id, position, slug, cell, config_hash, status, reason, failure_kind, exit_code, signal, started_at,
                    finished_at, duration_ms, cpu_ms, peak_rss_kb, flaky, compiler, compiler_version, log_tail,
                    allow_failure, host, image, image_digest, kind, ",
            build_facts!(),
            ", coverage, ccache_hits, ccache_misses, ccache_cacheable
             FROM jobs WHERE run_id = ?1 ORDER BY position"
        ))?;
        let mut rows = job_stmt.query([run.row.id])?;
        while let Some(r) = rows.next()? {
            let old_id: i64 = r.get(0)?;
            let slug: String = r.get(2)?;
            let status: JobStatus = r.get(5)?;
            let allow_failure: bool = r.get(19)?;
            any_job_failed |= status.is_failure() && !allow_failure;
            tx.prepare_cached(
                "INSERT INTO jobs (run_id, position, slug, cell, config_hash, status, reason, failure_kind, exit_code,
                                   signal, started_at, finished_at, duration_ms, cpu_ms, peak_rss_kb, flaky, compiler,
                                   compiler_version, log_tail, allow_failure, host, image, image_digest, kind,
                                   build_id, coverage, ccache_hits, ccache_misses, ccache_cacheable)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                         ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
            )?
            .execute(params![
                run_id,
                r.get::<_, i64>(1)?,
                slug,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                // A job a dead gridrun left unfinished did not run to its end.
                if status.is_pending() { JobStatus::Cancelled } else { status },
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<i64>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
                r.get::<_, Option<i64>>(12)?,
                r.get::<_, Option<i64>>(13)?,
                r.get::<_, Option<i64>>(14)?,
                r.get::<_, bool>(15)?,
                r.get::<_, String>(16)?,
                r.get::<_, String>(17)?,
                r.get::<_, Option<String>>(18)?,
                allow_failure,
                r.get::<_, Option<String>>(20)?,
                r.get::<_, Option<String>>(21)?,
                r.get::<_, Option<String>>(22)?,
                r.get::<_, crate::outcome::JobKind>(23)?,
                r.get::<_, Option<String>>(24)?.map(|facts| super::write::build_id(tx, &facts)).transpose()?,
                r.get::<_, Option<String>>(25)?,
                r.get::<_, Option<i64>>(26)?,
                r.get::<_, Option<i64>>(27)?,
                r.get::<_, Option<i64>>(28)?,
            ])?;
            let new_id = tx.last_insert_rowid();
            jobs += 1;
            copy_job_rows(tx, src, old_id, new_id)?;
            copy_logs(tx, src, &snapshot.dir, run.row.id, old_id, new_id, state_dir, run_id, &slug)?;
            copy_artifacts(tx, src, &snapshot.dir, old_id, new_id, state_dir, &slug)?;
        }
        tx.execute(
            "INSERT INTO merged (token, run_id, source, source_run) VALUES (?1, ?2, ?3, ?4)",
            params![run.token, run_id, snapshot.dir.display().to_string(), run.row.id],
        )?;
    }
    let status = merged_status(group, any_job_failed);
    tx.execute("UPDATE runs SET status = ?1 WHERE id = ?2", params![status, run_id])?;
    Ok(MergedRun {
        run: run_id,
        project: first.row.project.clone(),
        commit: first.row.commit.clone(),
        status,
        from: group.iter().map(|r| (snapshots[r.source].dir.clone(), r.row.id)).collect(),
        jobs,
    })
}

/// Diagnostics and test results, as they are.
fn copy_job_rows(tx: &Transaction<'_>, src: &Connection, old: i64, new: i64) -> Result<(), CopyError> {
    let mut diagnostics = src
        .prepare("SELECT step, severity, kind, file, line, col, message, context FROM diagnostics WHERE job_id = ?1")?;
    let mut rows = diagnostics.query([old])?;
    while let Some(r) = rows.next()? {
        tx.prepare_cached(
            "INSERT INTO diagnostics (job_id, step, severity, kind, file, line, col, message, context)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            new,
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
        ])?;
    }
    let mut tests =
        src.prepare("SELECT step, suite, name, status, duration_ms, message FROM tests WHERE job_id = ?1")?;
    let mut rows = tests.query([old])?;
    while let Some(r) = rows.next()? {
        tx.prepare_cached(
            "INSERT INTO tests (job_id, step, suite, name, status, duration_ms, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            new,
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ])?;
    }
    Ok(())
}

/// Steps, with each log copied from `<source>/runs/<run>/<job>/` to this state folder's
/// `runs/<run>/<job>/` and its path pointed there.
#[allow(clippy::too_many_arguments)]
fn copy_logs(
    tx: &Transaction<'_>,
    src: &Connection,
    source_dir: &Path,
    source_run: i64,
    old: i64,
    new: i64,
    state_dir: &Path,
    run_id: i64,
    slug: &str,
) -> Result<(), CopyError> {
    let to_dir = state_dir.join("runs").join(run_id.to_string()).join(slug);
    let from_dir = source_dir.join("runs").join(source_run.to_string()).join(slug);
    let mut steps = src.prepare(
        "SELECT position, name, attempt, status, exit_code, signal, duration_ms, cpu_ms, peak_rss_kb, log_path,
                log_bytes, command
         FROM steps WHERE job_id = ?1 ORDER BY position, attempt",
    )?;
    let mut rows = steps.query([old])?;
    while let Some(r) = rows.next()? {
        let recorded: String = r.get(9)?;
        let name = Path::new(&recorded).file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
        let to = to_dir.join(&name);
        let from = from_dir.join(&name);
        if from.is_file() {
            std::fs::create_dir_all(&to_dir).map_err(|e| CopyError::Io(to_dir.clone(), e))?;
            std::fs::copy(&from, &to).map_err(|e| CopyError::Io(to.clone(), e))?;
        }
        tx.prepare_cached(
            "INSERT INTO steps (job_id, position, name, attempt, status, exit_code, signal, duration_ms, cpu_ms,
                                peak_rss_kb, log_path, log_bytes, command)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            new,
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
            to.display().to_string(),
            r.get::<_, i64>(10)?,
            r.get::<_, String>(11)?,
        ])?;
    }
    Ok(())
}

/// Whether a stored path is a content-addressed object (`…/artifacts/sha256/ab/cdef…`) rather than
/// a copy in the per-commit folders older gridruns kept.
fn is_object(stored: &str, sha256: &str) -> bool {
    sha256.len() > 2 && stored.ends_with(&format!("/artifacts/sha256/{}/{}", &sha256[..2], &sha256[2..]))
}

/// Copies `from` to `to` through a temporary file beside `to`, so a reader never sees half of it.
fn copy_atomically(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to.parent().ok_or_else(|| std::io::Error::other("an object path has a folder"))?;
    std::fs::create_dir_all(dir)?;
    let temp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::copy(from, temp.path())?;
    temp.persist(to).map_err(|e| e.error)?;
    Ok(())
}

/// Artifacts: objects stored by content come into this store's object folder; copies an older
/// gridrun kept at `<source>/artifacts/<commit>/<job>/` come to the same place here (one that
/// `gc` removed there stays removed).
fn copy_artifacts(
    tx: &Transaction<'_>,
    src: &Connection,
    source_dir: &Path,
    old: i64,
    new: i64,
    state_dir: &Path,
    slug: &str,
) -> Result<(), CopyError> {
    let mut artifacts =
        src.prepare("SELECT path, stored_path, size, sha256, created_at, removed_at FROM artifacts WHERE job_id = ?1")?;
    let mut rows = artifacts.query([old])?;
    while let Some(r) = rows.next()? {
        let relative: String = r.get(0)?;
        let stored: String = r.get(1)?;
        let sha256: String = r.get(3)?;
        let mut removed_at: Option<String> = r.get(5)?;
        let to = if is_object(&stored, &sha256) {
            // Stored by content: the object moves to this store's own place for that content.
            let to = crate::artifacts::object_path(&state_dir.join("artifacts"), &sha256);
            let from = crate::artifacts::object_path(&source_dir.join("artifacts"), &sha256);
            if removed_at.is_none() && !to.is_file() {
                if from.is_file() {
                    copy_atomically(&from, &to).map_err(|e| CopyError::Io(to.clone(), e))?;
                } else {
                    removed_at = Some(now());
                }
            }
            to
        } else {
            // `<state>/artifacts/<commit>/<job>/<path>`: the part from `artifacts/` on is the same here.
            let tail: PathBuf = Path::new(&stored)
                .components()
                .rev()
                .take(Path::new(&relative).components().count() + 3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let from = source_dir.join(&tail);
            let to = state_dir.join(&tail);
            let belongs =
                tail.starts_with("artifacts") && tail.components().nth(2).is_some_and(|c| c.as_os_str() == slug);
            if removed_at.is_none() && belongs && from.is_file() {
                copy_atomically(&from, &to).map_err(|e| CopyError::Io(to.clone(), e))?;
                tx.prepare_cached(
                    "UPDATE artifacts SET removed_at = ?1 WHERE stored_path = ?2 AND sha256 != ?3 AND removed_at IS NULL",
                )?
                .execute(params![now(), to.display().to_string(), sha256])?;
            } else if removed_at.is_none() {
                // Not found where the source should hold it: it is not here either.
                removed_at = Some(now());
            }
            to
        };
        tx.prepare_cached(
            "INSERT INTO artifacts (job_id, path, stored_path, size, sha256, created_at, removed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            new,
            relative,
            to.display().to_string(),
            r.get::<_, i64>(2)?,
            sha256,
            r.get::<_, String>(4)?,
            removed_at
        ])?;
    }
    Ok(())
}
