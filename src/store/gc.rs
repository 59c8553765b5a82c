//! What `gridrun gc` needs of the store: the runs past retention that still have something on
//! disk, the artifact copies still held, and a record of what was removed. Nothing is deleted
//! from the store: runs, jobs and steps stay for `stats` and `show`; the run's
//! `logs_removed_at` and `work_removed_at` and each artifact's `removed_at` say what has gone.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

/// A finished run that ended before a cutoff and still holds logs, a workspace or artifacts.
#[derive(Clone, Debug)]
pub struct ExpiredRun {
    /// Its id.
    pub id: i64,
    /// Its project.
    pub project: String,
    /// When it started.
    pub started_at: String,
    /// Whether `gc` has already removed its logs.
    pub logs_removed: bool,
    /// Whether `gc` has already removed its workspace folder.
    pub work_removed: bool,
}

/// An artifact copy no `gc` has released yet.
#[derive(Clone, Debug)]
pub struct HeldArtifact {
    /// Its id.
    pub id: i64,
    /// The run whose job collected it.
    pub run_id: i64,
    /// Where the copy is.
    pub stored_path: String,
    /// Its size when collected.
    pub size: i64,
}

/// What `gc` removed of one run.
#[derive(Clone, Debug, Default)]
pub struct Removal {
    /// Its logs folder went.
    pub logs: bool,
    /// Its workspace folder went.
    pub work: bool,
    /// These artifact rows no longer have a copy of their own.
    pub artifacts: Vec<i64>,
}

impl Store {
    /// The finished runs (not `running`) that ended, or started where they never ended, before
    /// `cutoff` (RFC 3339, UTC), of `project` where given, and still hold something `gc` could
    /// remove; oldest first.
    pub fn expired_runs(&self, cutoff: &str, project: Option<&str>) -> Result<Vec<ExpiredRun>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare(
                "SELECT r.id, r.project, r.started_at, r.logs_removed_at IS NOT NULL, r.work_removed_at IS NOT NULL
                 FROM runs r
                 WHERE r.status <> ?3 AND COALESCE(r.finished_at, r.started_at) < ?1
                   AND (?2 IS NULL OR r.project = ?2)
                   AND (r.logs_removed_at IS NULL OR r.work_removed_at IS NULL
                        OR EXISTS (SELECT 1 FROM jobs j JOIN artifacts a ON a.job_id = j.id
                                   WHERE j.run_id = r.id AND a.removed_at IS NULL))
                 ORDER BY r.id",
            )?;
            let rows = stmt.query_map(params![cutoff, project, crate::outcome::RunStatus::Running], |r| {
                Ok(ExpiredRun {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    started_at: r.get(2)?,
                    logs_removed: r.get(3)?,
                    work_removed: r.get(4)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// Every artifact copy not yet released, of any run. Two runs at one commit collect into the
    /// same folder, so whether a file may go depends on every run that holds it.
    pub fn held_artifacts(&self) -> Result<Vec<HeldArtifact>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare(
                "SELECT a.id, j.run_id, a.stored_path, a.size FROM artifacts a JOIN jobs j ON j.id = a.job_id
                 WHERE a.removed_at IS NULL ORDER BY a.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(HeldArtifact { id: r.get(0)?, run_id: r.get(1)?, stored_path: r.get(2)?, size: r.get(3)? })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    /// Records what `gc` removed of run `run` at `when`, in one transaction.
    pub fn record_removal(&mut self, run: i64, removal: &Removal, when: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        (|| {
            if removal.logs {
                tx.execute(
                    "UPDATE runs SET logs_removed_at = ?2 WHERE id = ?1 AND logs_removed_at IS NULL",
                    params![run, when],
                )?;
            }
            if removal.work {
                tx.execute(
                    "UPDATE runs SET work_removed_at = ?2 WHERE id = ?1 AND work_removed_at IS NULL",
                    params![run, when],
                )?;
            }
            let mut stmt = tx.prepare("UPDATE artifacts SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL")?;
            for id in &removal.artifacts {
                stmt.execute(params![id, when])?;
            }
            Ok(())
        })()
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// When `gc` removed run `run`'s logs, if it has.
    pub fn logs_removed_at(&self, run: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT logs_removed_at FROM runs WHERE id = ?1", [run], |r| r.get::<_, Option<String>>(0))
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }
}
