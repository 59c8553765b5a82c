//! The store: one SQLite file (WAL) per state folder holding every run, job and step, written as
//! the run goes so a crash loses nothing that finished. Versioned with migrations; safe for
//! several gridrun processes at once.

/// The SQL expression of a job's build facts (JSON) in a query over `jobs`: the shared row of
/// `builds` it names, or for a job recorded before there was that table, its own column.
macro_rules! build_facts {
    () => {
        "COALESCE((SELECT facts FROM builds WHERE builds.id = jobs.build_id), jobs.build)"
    };
}

mod gc;
mod liveness;
mod merge;
mod migrations;
mod read;
mod stats;
mod write;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;

pub use gc::{ExpiredRun, HeldArtifact, Removal};
pub use liveness::ProcessIdentity;
pub use merge::{merge_source, MergeOutcome, MergedRun};
pub use write::LastBuilt;

pub use stats::{CellStats, DayStats, FlakyCell, ProjectStats};
pub use write::{AfterCommit, NewJob, NewRun, StoreWriter};

/// The store's file name inside the state folder.
pub const DB_FILE: &str = "gridrun.db";

/// The reserve's file, beside the store.
const RESERVE_FILE: &str = "reserve";
/// The reserve's size: room for the records of a few thousand jobs.
const RESERVE_BYTES: u64 = 4 << 20;

/// How long a store operation waits for another gridrun's write lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// Opened for reading only (the state folder is on read-only media): nothing is written, not
    /// even the marking of abandoned runs.
    read_only: bool,
    /// The reserve was given up to write what a full disk would have lost.
    reserve_used: bool,
}

impl Store {
    /// Opens (creating where needed) the store in `state_dir`, migrated to the current schema.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let created = !state_dir.exists();
        std::fs::create_dir_all(state_dir)
            .map_err(|source| StoreError::Io { path: state_dir.to_path_buf(), source })?;
        crate::statedir::ignore_for_git(state_dir, created);
        let path = state_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Sqlite { path: path.clone(), source })?;
        let mut store = Self { conn, path, read_only: false, reserve_used: false };
        store.configure().map_err(|e| store.err(e))?;
        migrations::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    /// Opens the store in `state_dir` only if one exists: for writing where it can be written,
    /// else for reading (a state folder on read-only media, or a file gridrun may not write).
    pub fn open_existing(state_dir: &Path) -> Result<Option<Self>, StoreError> {
        if !state_dir.join(DB_FILE).is_file() {
            return Ok(None);
        }
        match Self::open(state_dir) {
            Err(StoreError::Sqlite { source, .. }) if is_read_only(&source) => {
                Self::open_read_only(state_dir).map(Some)
            }
            other => other.map(Some),
        }
    }

    /// Opens the store in `state_dir` for reading only. It must already be at this gridrun's
    /// schema: a store that needs migrating cannot be migrated where it cannot be written.
    pub fn open_read_only(state_dir: &Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let path = state_dir.join(DB_FILE);
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // A WAL store needs its shared-memory file, which a read-only folder may lack and cannot
        // get; immutable=1 reads the file as it stands, which it does on read-only media.
        let conn = Connection::open_with_flags(&path, flags)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map(|_| c))
            .or_else(|_| {
                let uri = format!("file:{}?immutable=1", path.display());
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
            })
            .map_err(err)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        if version > migrations::VERSION {
            return Err(StoreError::TooNew { path, found: version, known: migrations::VERSION });
        }
        if version < migrations::VERSION {
            return Err(StoreError::NotFound(format!(
                "store {} is read-only and was written by an older gridrun; open it once where it can be written",
                path.display()
            )));
        }
        Ok(Self { conn, path, read_only: true, reserve_used: false })
    }

    /// Makes sure the state folder holds its reserve: a file of [`RESERVE_BYTES`] that is given
    /// up when the disk fills, so the records of jobs that finished can still be written. A
    /// reserve that cannot be made (the disk is already full) is no reason not to run.
    pub fn keep_reserve(&self) {
        let path = self.reserve_path();
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == RESERVE_BYTES) {
            return;
        }
        let made = std::fs::File::create(&path).and_then(|mut file| {
            use std::io::Write;
            // Written, not sparse: the blocks must really be taken to be given back.
            let zeros = vec![0u8; 64 * 1024];
            for _ in 0..RESERVE_BYTES / zeros.len() as u64 {
                file.write_all(&zeros)?;
            }
            file.sync_all()
        });
        if made.is_err() {
            let _ = std::fs::remove_file(&path);
        }
    }

    /// Gives the reserve's room back to the disk; `false` where there was none to give.
    pub fn release_reserve(&mut self) -> bool {
        let released = std::fs::remove_file(self.reserve_path()).is_ok();
        self.reserve_used |= released;
        released
    }

    /// Whether this store had to use its reserve: the disk was full and should be cleared.
    pub fn reserve_used(&self) -> bool {
        self.reserve_used
    }

    fn reserve_path(&self) -> PathBuf {
        self.path.with_file_name(RESERVE_FILE)
    }

    /// Whether the store was opened for reading only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&mut self) -> rusqlite::Result<()> {
        // Another gridrun may hold the write lock for a moment; wait for it rather than fail.
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // Every transaction here writes. A deferred one that reads first and then writes cannot
        // wait for another process's commit (SQLite answers SQLITE_BUSY at once rather than risk a
        // deadlock), so take the write lock at BEGIN, where the busy timeout applies.
        self.conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        self.use_wal()?;
        // In WAL mode NORMAL is durable against a crash of gridrun (not of the OS), and it keeps a
        // commit per finished job cheap.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    /// Puts the database in WAL mode (a setting kept in the file, so usually there is nothing to do).
    /// Switching needs an exclusive lock, and SQLite answers SQLITE_BUSY at once there instead of
    /// calling the busy handler, so when two gridruns create the store together one of them waits
    /// here, as the busy timeout would have it wait elsewhere.
    fn use_wal(&self) -> rusqlite::Result<()> {
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            let mode: String = self.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            if mode.eq_ignore_ascii_case("wal") || Instant::now() >= deadline {
                // Past the deadline the store still works, in its rollback-journal mode.
                return Ok(());
            }
            match self.conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e),
                Ok(()) => {}
            }
        }
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }
}

/// Whether SQLite refused because the store cannot be written.
fn is_read_only(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _)
        if matches!(e.code, rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied))
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
