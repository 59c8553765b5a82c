//! The store: one SQLite file (WAL) per state folder holding every run, job and step, written as
//! the run goes so a crash loses nothing that finished. Versioned with migrations; safe for
//! several gridrun processes at once.

mod gc;
mod liveness;
mod migrations;
mod read;
mod stats;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use gc::{ExpiredRun, HeldArtifact, Removal};
pub use liveness::ProcessIdentity;
pub use read::{ArtifactRow, JobRow, RunRow, StepRow, TestRow};
pub use stats::{CellStats, DayStats, FlakyCell, ProjectStats};
pub use write::{AfterCommit, NewJob, NewRun, RunStatus, StoreWriter};

/// The store's file name inside the state folder.
pub const DB_FILE: &str = "gridrun.db";

/// Something went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The state folder cannot be made.
    #[error("cannot create the state folder {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The store was written by a newer gridrun.
    #[error("store {path} has schema version {found}; this gridrun knows up to {known}: upgrade gridrun")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// A run or job named on the command line is not in the store.
    #[error("{0}")]
    NotFound(String),
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating where needed) the store in `state_dir`, migrated to the current schema.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(state_dir)
            .map_err(|source| StoreError::Io { path: state_dir.to_path_buf(), source })?;
        let path = state_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Sqlite { path: path.clone(), source })?;
        let mut store = Self { conn, path };
        store.configure().map_err(|e| store.err(e))?;
        migrations::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    /// Opens the store in `state_dir` only if one exists.
    pub fn open_existing(state_dir: &Path) -> Result<Option<Self>, StoreError> {
        if state_dir.join(DB_FILE).is_file() {
            Self::open(state_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&mut self) -> rusqlite::Result<()> {
        // Another gridrun may hold the write lock for a moment; wait for it rather than fail.
        self.conn.busy_timeout(Duration::from_secs(60))?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL is durable against a crash of gridrun (not of the OS), and it keeps a
        // commit per finished job cheap.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }
}

/// The current time as the store writes it: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// `PRAGMA integrity_check`: `ok`, or what SQLite found wrong.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| self.err(e))
    }
}
