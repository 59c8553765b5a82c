//! The enums gridrun stores and prints as words (`passed`, `timed_out`, `compile`…), each word
//! written once, in its enum's [`as_str`](JobStatus::as_str): serde, SQLite (`ToSql`/`FromSql`)
//! and every report go through it, so a new variant is a compile error wherever it must be
//! handled.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// A word this gridrun does not know for an enum (a newer gridrun wrote it, say).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{word}` is not a {what} this gridrun knows")]
pub struct UnknownWord {
    /// The word.
    pub word: String,
    /// What it should have been (`job status`).
    pub what: &'static str,
}

/// Declares an enum of words, with `ALL`, `as_str`, `FromStr`, `Display`, serde and SQLite.
macro_rules! words {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The word the store, JSON and reports use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(word: &str) -> Result<Self, UnknownWord> {
                match word {
                    $($word => Ok(Self::$variant),)+
                    _ => Err(UnknownWord { word: word.to_string(), what: $what }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                word.parse().map_err(serde::de::Error::custom)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

words! {
    /// Where a job stands, or how it ended.
    JobStatus, "job status" {
        /// Every step exited 0.
        Passed => "passed",
        /// A step exited non-zero or was killed by a signal.
        Failed => "failed",
        /// Killed at its time limit.
        TimedOut => "timed_out",
        /// Killed for using more memory than `limits.memory`.
        MemoryExceeded => "memory_exceeded",
        /// Stopped by `--fail-fast`, `--max-failures` or an interrupt, or never started because of one.
        Cancelled => "cancelled",
        /// Not run: a shard or a failed setup left it out.
        Skipped => "skipped",
        /// The compiler cannot compile the cell's standard: no host could run it.
        Unsupported => "unsupported",
        /// This host lacks the cell's platform, compiler or LLVM.
        Unavailable => "unavailable",
        /// Not run because the same config already passed at this commit (`--skip-passed`).
        Reused => "reused",
        /// Running now.
        Running => "running",
        /// Waiting for its turn.
        Queued => "queued",
    }
}

words! {
    /// What a job of a run is: a cell of the grid, or a step of the pipeline around it.
    JobKind, "job kind" {
        /// A cell of the matrix.
        Cell => "cell",
        /// A `[[setup]]` instance, run before the cells that need it.
        Setup => "setup",
        /// A `[[finally]]` step, run after the grid.
        Finally => "finally",
    }
}

#[allow(clippy::derivable_impls)]
impl Default for JobKind {
    /// A cell: every job before `[[setup]]` existed.
    fn default() -> Self {
        Self::Cell
    }
}

// The words! macro derives no Default (most of its enums have none), so clippy's "derive it"
// cannot apply.
#[allow(clippy::derivable_impls)]
impl Default for JobStatus {
    /// A job not started yet.
    fn default() -> Self {
        Self::Queued
    }
}

impl JobStatus {
    /// The statuses that are a verdict on a cell: it ran to an end that says how it fares.
    pub const VERDICTS: [Self; 4] = [Self::Passed, Self::Failed, Self::TimedOut, Self::MemoryExceeded];

    /// Whether this counts against the run (exit code 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::MemoryExceeded)
    }

    /// Whether the job ran to a verdict.
    pub fn is_verdict(self) -> bool {
        Self::VERDICTS.contains(&self)
    }

    /// Whether the job has not ended yet.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }

    /// Whether the job did not run at all: it was left out or could not run here.
    pub fn is_not_run(self) -> bool {
        matches!(self, Self::Skipped | Self::Unsupported | Self::Unavailable)
    }

    /// The words people read: `timed out`, `over memory`.
    pub fn word(self) -> &'static str {
        match self {
            Self::TimedOut => "timed out",
            Self::MemoryExceeded => "over memory",
            other => other.as_str(),
        }
    }

    /// A short mark for a grid cell.
    pub fn mark(self, flaky: bool) -> &'static str {
        match self {
            Self::Passed if flaky => "flaky",
            Self::Passed => "pass",
            Self::Failed => "FAIL",
            Self::TimedOut => "timeout",
            Self::MemoryExceeded => "memory",
            Self::Cancelled => "cancel",
            Self::Skipped => "skip",
            Self::Unsupported => "unsup",
            Self::Unavailable => "n/a",
            Self::Reused => "reused",
            Self::Running => "run",
            Self::Queued => "queued",
        }
    }

    /// Whether the job ran and passed (a reused pass counts).
    pub fn is_pass(self) -> bool {
        matches!(self, Self::Passed | Self::Reused)
    }

    /// How a status reads at a glance, for any format's colours (always beside its word, never
    /// alone).
    pub fn tone(self, flaky: bool) -> Tone {
        match self {
            Self::Passed if flaky => Tone::Flaky,
            s if s.is_pass() => Tone::Ok,
            s if s.is_failure() => Tone::Bad,
            Self::Running | Self::Queued => Tone::Live,
            _ => Tone::None,
        }
    }
}

/// How a status reads at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Passed.
    Ok,
    /// Passed, but only on a retry.
    Flaky,
    /// Failed.
    Bad,
    /// Still going or waiting.
    Live,
    /// Did not run, or was stopped.
    None,
}

impl Tone {
    /// The word a page's style sheet knows it by.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Flaky => "flaky",
            Self::Bad => "bad",
            Self::Live => "live",
            Self::None => "none",
        }
    }
}

impl serde::Serialize for Tone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

words! {
    /// How one step attempt ended.
    StepStatus, "step status" {
        /// It exited 0.
        Passed => "passed",
        /// It exited non-zero or a signal ended it.
        Failed => "failed",
        /// Killed at its time limit.
        TimedOut => "timed_out",
        /// Killed for using more memory than its cap.
        MemoryExceeded => "memory_exceeded",
        /// Stopped by a cancellation of the run.
        Cancelled => "cancelled",
        /// Not run: an earlier step failed.
        Skipped => "skipped",
    }
}

impl StepStatus {
    /// Whether the step did not pass.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::MemoryExceeded)
    }
}

impl From<StepStatus> for JobStatus {
    fn from(step: StepStatus) -> Self {
        match step {
            StepStatus::Passed => Self::Passed,
            StepStatus::Failed => Self::Failed,
            StepStatus::TimedOut => Self::TimedOut,
            StepStatus::MemoryExceeded => Self::MemoryExceeded,
            StepStatus::Cancelled => Self::Cancelled,
            StepStatus::Skipped => Self::Skipped,
        }
    }
}

words! {
    /// Where a run stands, or how it ended.
    RunStatus, "run status" {
        /// Still going (or its gridrun died and no command has noticed yet).
        Running => "running",
        /// Every job that ran passed.
        Passed => "passed",
        /// A job failed, timed out or ran out of memory.
        Failed => "failed",
        /// Stopped by Ctrl-C or SIGTERM.
        Interrupted => "interrupted",
        /// Its gridrun died; found by a later command.
        Abandoned => "abandoned",
    }
}

words! {
    /// Why a job failed, in one word.
    FailureKind, "failure kind" {
        /// CMake (or another configure step) gave up.
        Configure => "configure",
        /// The compiler reported an error.
        Compile => "compile",
        /// The linker reported an error.
        Link => "link",
        /// A test failed.
        Test => "test",
        /// A sanitizer (ASan, UBSan, TSan, MSan, LSan) reported a finding.
        Sanitizer => "sanitizer",
        /// Its coverage is under `[coverage] min_line`.
        Coverage => "coverage",
        /// The job ran out of time.
        Timeout => "timeout",
        /// The job went over its memory limit.
        Memory => "memory",
        /// The compiler or another tool is missing or cannot run.
        Toolchain => "toolchain",
        /// The run was cancelled.
        Cancelled => "cancelled",
        /// Nothing in the log says; the machine or gridrun itself failed.
        Infra => "infra",
        /// The build host (or its connection) was lost while the job ran there.
        HostLost => "host_lost",
    }
}

words! {
    /// How bad a diagnostic is.
    Severity, "severity" {
        /// Compilation stopped there (`fatal error:`, an internal compiler error).
        Fatal => "fatal",
        /// An error, including a warning that `-Werror` promoted.
        Error => "error",
        /// A warning.
        Warning => "warning",
        /// A note.
        Note => "note",
    }
}

impl Severity {
    /// Whether it fails the build: fatal or error.
    pub fn is_error(self) -> bool {
        matches!(self, Self::Fatal | Self::Error)
    }
}

words! {
    /// Which tool reported a diagnostic.
    DiagnosticKind, "diagnostic kind" {
        /// The compiler, or its driver.
        Compile => "compile",
        /// The linker (GNU ld, LLD, `collect2`).
        Link => "link",
        /// CMake.
        Configure => "configure",
        /// A failed test in CTest's summary.
        Test => "test",
        /// A sanitizer's report: its headline, and where in the project's sources it points.
        Sanitizer => "sanitizer",
    }
}

words! {
    /// How a test case ended.
    TestStatus, "test status" {
        /// It passed.
        Passed => "passed",
        /// It failed or errored.
        Failed => "failed",
        /// It was skipped or disabled.
        Skipped => "skipped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_its_variant() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>(), Ok(*status));
        }
        for kind in FailureKind::ALL {
            assert_eq!(kind.as_str().parse::<FailureKind>(), Ok(*kind));
        }
        assert_eq!(
            "later".parse::<RunStatus>().unwrap_err().to_string(),
            "`later` is not a run status this gridrun knows"
        );
        assert_eq!(serde_json::to_string(&JobStatus::TimedOut).unwrap(), "\"timed_out\"");
        assert_eq!(serde_json::from_str::<StepStatus>("\"skipped\"").unwrap(), StepStatus::Skipped);
    }

    #[test]
    fn failure_kind_names_are_distinct() {
        let names: std::collections::HashSet<_> = FailureKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), FailureKind::ALL.len());
        assert_eq!(FailureKind::Toolchain.as_str(), "toolchain");
    }

    #[test]
    fn statuses_go_into_sqlite_and_come_back() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let back: JobStatus = db.query_row("SELECT ?1", [JobStatus::MemoryExceeded], |r| r.get(0)).unwrap();
        assert_eq!(back, JobStatus::MemoryExceeded);
        let bad: rusqlite::Result<JobStatus> = db.query_row("SELECT 'sideways'", [], |r| r.get(0));
        assert!(bad.is_err());
    }
}
