//! The schema, as an ordered list of migrations. `PRAGMA user_version` records how many have been
//! applied; a store from a newer gridrun is refused rather than misread.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Each entry moves the schema one version up. Never edit one that has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: runs, jobs, steps.
    r"
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        project       TEXT NOT NULL,
        matrix_path   TEXT NOT NULL,
        status        TEXT NOT NULL,
        commit_sha    TEXT NOT NULL DEFAULT '',
        dirty         INTEGER NOT NULL DEFAULT 0,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        duration_ms   INTEGER,
        host          TEXT NOT NULL DEFAULT '',
        argv          TEXT NOT NULL DEFAULT '',
        pid           INTEGER NOT NULL,
        pid_start     INTEGER NOT NULL DEFAULT 0,
        token         TEXT NOT NULL
    );
    CREATE INDEX runs_by_status ON runs(status);
    CREATE TABLE jobs (
        id               INTEGER PRIMARY KEY,
        run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position         INTEGER NOT NULL,
        slug             TEXT NOT NULL,
        cell             TEXT NOT NULL,
        config_hash      TEXT NOT NULL,
        status           TEXT NOT NULL,
        reason           TEXT,
        failure_kind     TEXT,
        exit_code        INTEGER,
        signal           INTEGER,
        started_at       TEXT,
        finished_at      TEXT,
        duration_ms      INTEGER,
        cpu_ms           INTEGER,
        peak_rss_kb      INTEGER,
        flaky            INTEGER NOT NULL DEFAULT 0,
        compiler         TEXT NOT NULL DEFAULT '',
        compiler_version TEXT NOT NULL DEFAULT '',
        work_dir         TEXT,
        log_tail         TEXT,
        reused_from      INTEGER,
        UNIQUE (run_id, slug)
    );
    CREATE INDEX jobs_by_hash ON jobs(config_hash, status);
    CREATE TABLE steps (
        id           INTEGER PRIMARY KEY,
        job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        position     INTEGER NOT NULL,
        name         TEXT NOT NULL,
        attempt      INTEGER NOT NULL,
        status       TEXT NOT NULL,
        exit_code    INTEGER,
        signal       INTEGER,
        duration_ms  INTEGER NOT NULL,
        cpu_ms       INTEGER NOT NULL,
        peak_rss_kb  INTEGER NOT NULL,
        log_path     TEXT NOT NULL,
        log_bytes    INTEGER NOT NULL,
        command      TEXT NOT NULL
    );
    CREATE INDEX steps_by_job ON steps(job_id);
    ",
    // 2: what the logs and result files say: diagnostics, test results, artifacts.
    r"
    CREATE TABLE diagnostics (
        id        INTEGER PRIMARY KEY,
        job_id    INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        step      TEXT NOT NULL,
        severity  TEXT NOT NULL,
        kind      TEXT NOT NULL,
        file      TEXT,
        line      INTEGER,
        col       INTEGER,
        message   TEXT NOT NULL,
        context   TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX diagnostics_by_job ON diagnostics(job_id);
    CREATE TABLE tests (
        id           INTEGER PRIMARY KEY,
        job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        step         TEXT NOT NULL,
        suite        TEXT NOT NULL,
        name         TEXT NOT NULL,
        status       TEXT NOT NULL,
        duration_ms  INTEGER,
        message      TEXT
    );
    CREATE INDEX tests_by_job ON tests(job_id);
    CREATE TABLE artifacts (
        id           INTEGER PRIMARY KEY,
        job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        stored_path  TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        removed_at   TEXT
    );
    CREATE INDEX artifacts_by_job ON artifacts(job_id);
    CREATE INDEX jobs_by_run_status ON jobs(run_id, status);
    CREATE INDEX runs_by_started ON runs(started_at);
    ",
    // 3: what `gc` has removed of a run, so `log` can say so rather than fail on a missing file.
    r"
    ALTER TABLE runs ADD COLUMN logs_removed_at TEXT;
    ALTER TABLE runs ADD COLUMN work_removed_at TEXT;
    ",
    // 4: a later run at the same commit replaces an artifact copy; find the earlier records of it.
    r"
    CREATE INDEX artifacts_by_stored_path ON artifacts(stored_path);
    ",
    // 5: runs `merge` brought from other state folders, by their token, so none comes twice.
    r"
    CREATE TABLE merged (
        token       TEXT PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        source      TEXT NOT NULL,
        source_run  INTEGER NOT NULL
    );
    ",
    // 6: cells allowed to fail (`allow_failure = true`), whose failure fails no run.
    r"
    ALTER TABLE jobs ADD COLUMN allow_failure INTEGER NOT NULL DEFAULT 0;
    ",
    // 7: where a job ran: a build host, a container image and its digest (none: this host).
    r"
    ALTER TABLE jobs ADD COLUMN host TEXT;
    ALTER TABLE jobs ADD COLUMN image TEXT;
    ALTER TABLE jobs ADD COLUMN image_digest TEXT;
    ",
    // 8: runs on a Slurm cluster: where their submission is described, and which array tasks
    // `collect` has folded in (so a second `collect` adds nothing twice).
    r"
    ALTER TABLE runs ADD COLUMN slurm TEXT;
    CREATE TABLE slurm_tasks (
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        task    INTEGER NOT NULL,
        state   TEXT NOT NULL,
        PRIMARY KEY (run_id, task)
    );
    ",
    // 9: what `run --if-changed` compares: the configuration a run was of, the source revision it
    // built, and the branch.
    r"
    ALTER TABLE runs ADD COLUMN config_key TEXT;
    ALTER TABLE runs ADD COLUMN revision TEXT;
    ALTER TABLE runs ADD COLUMN branch TEXT;
    CREATE INDEX runs_by_config ON runs(project, config_key);
    ",
    // 10: `[[setup]]` and `[[finally]]` run as jobs of their run beside its cells.
    r"
    ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'cell';
    ",
    // 11: what built a job (its tools' paths and SHA-256s, its environment), as JSON: the part
    // of its bill of materials only its run could see.
    r"
    ALTER TABLE jobs ADD COLUMN build TEXT;
    ",
    // 12: a coverage cell's line, function and branch figures, as JSON.
    r"
    ALTER TABLE jobs ADD COLUMN coverage TEXT;
    ",
    // 13: what ccache did for a job's compiles (`[cache] ccache = true`), NULL where it was off.
    r"
    ALTER TABLE jobs ADD COLUMN ccache_hits INTEGER;
    ALTER TABLE jobs ADD COLUMN ccache_misses INTEGER;
    ALTER TABLE jobs ADD COLUMN ccache_cacheable INTEGER;
    ",
    // 14: what built a job, one row per distinct set of facts (a toolchain's jobs share theirs)
    // instead of half a kilobyte in every job's row, which grew each row as its job ended; and
    // the config-hash index without the status, which every status change of every job moved.
    // A job recorded before keeps its facts in `jobs.build`.
    r"
    CREATE TABLE builds (
        id     INTEGER PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        facts  TEXT NOT NULL
    );
    ALTER TABLE jobs ADD COLUMN build_id INTEGER REFERENCES builds(id);
    DROP INDEX jobs_by_hash;
    CREATE INDEX jobs_by_hash ON jobs(config_hash);
    ",
];

/// The schema version this gridrun writes.
#[allow(clippy::cast_possible_wrap)] // a handful of migrations
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
    // IMMEDIATE: two gridruns opening a new store at once must not both apply migration 1.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
    if found > VERSION {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, known: VERSION });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX)).map_err(err)?;
    }
    tx.commit().map_err(err)
}
