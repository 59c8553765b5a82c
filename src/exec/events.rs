//! What the executor tells everyone else: one event enum, consumed by the store writer and the
//! progress display alike. Each consumer matches every variant, so a new one forces a review.

use std::path::PathBuf;
use std::time::Duration;

use crate::artifacts::Artifact;
use crate::testresults::TestCase;

/// How a step or a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Exit code 0 (every step, for a job).
    Passed,
    /// A non-zero exit code or a signal.
    Failed,
    /// Killed at its time limit.
    TimedOut,
    /// Killed for using more memory than `limits.memory`.
    MemoryExceeded,
    /// Stopped by `--fail-fast`, `--max-failures` or an interrupt, or never started because of one.
    Cancelled,
    /// Not run: an earlier step failed (steps), or filtered out by a shard (jobs).
    Skipped,
    /// The compiler cannot compile the cell's standard.
    Unsupported,
    /// This host lacks the cell's platform, compiler or LLVM.
    Unavailable,
    /// Not run because the same config already passed at this commit (`--skip-passed`).
    Reused,
}

impl Status {
    /// Every status, for parsing.
    pub const ALL: [Self; 9] = [
        Self::Passed,
        Self::Failed,
        Self::TimedOut,
        Self::MemoryExceeded,
        Self::Cancelled,
        Self::Skipped,
        Self::Unsupported,
        Self::Unavailable,
        Self::Reused,
    ];

    /// The name the store and JSON use: `passed`, `timed_out`…
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::MemoryExceeded => "memory_exceeded",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
            Self::Unsupported => "unsupported",
            Self::Unavailable => "unavailable",
            Self::Reused => "reused",
        }
    }

    /// The status of this name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether this counts against the run (exit code 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::MemoryExceeded)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt of one step, as it ended.
#[derive(Clone, Debug)]
pub struct StepRecord {
    /// The step's name.
    pub name: String,
    /// Its position in the job, from 0.
    pub index: usize,
    /// Which attempt, from 1 (retries add more).
    pub attempt: u32,
    /// How it ended.
    pub status: Status,
    /// The exit code, where it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, where one did.
    pub signal: Option<i32>,
    /// Wall time.
    pub duration: Duration,
    /// User + system CPU time of the step's processes.
    pub cpu: Duration,
    /// Peak resident memory, KiB.
    pub peak_rss_kb: u64,
    /// The log file (stdout and stderr, interleaved as they came).
    pub log: PathBuf,
    /// Bytes written to the log.
    pub log_bytes: u64,
    /// The command that ran.
    pub command: String,
}

/// One job, as it ended.
#[derive(Clone, Debug)]
pub struct JobRecord {
    /// The job's slug.
    pub slug: String,
    /// How it ended.
    pub status: Status,
    /// Why, in a word, where it did not pass: `timeout`, `memory`, `cancelled`, or the failed
    /// step's name (refined by diagnostics later).
    pub failure_kind: Option<String>,
    /// The exit code of the step that decided the outcome.
    pub exit_code: Option<i32>,
    /// The signal that ended that step, where one did.
    pub signal: Option<i32>,
    /// Wall time.
    pub duration: Duration,
    /// CPU time of every step.
    pub cpu: Duration,
    /// The largest peak RSS of any step, KiB.
    pub peak_rss_kb: u64,
    /// Passed only on a retry.
    pub flaky: bool,
    /// Every step attempt, in order.
    pub steps: Vec<StepRecord>,
    /// The last lines of the failing step's log.
    pub log_tail: Vec<String>,
    /// Where the job worked; kept after failure or with `--keep-workspaces`.
    pub work_dir: Option<PathBuf>,
    /// Compiler, linker, CMake and CTest diagnostics from its failed step's log.
    pub diagnostics: Vec<Finding>,
    /// Test results from the JUnit files its steps wrote.
    pub tests: Vec<(String, TestCase)>,
    /// The files its artifact patterns collected.
    pub artifacts: Vec<Artifact>,
}

/// One diagnostic found in a step's log, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The step whose log it is in.
    pub step: String,
    /// `fatal`, `error`, `warning`, `note`.
    pub severity: String,
    /// `compile`, `link`, `configure`, `test`.
    pub kind: String,
    /// The file it points at.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
    /// Its column.
    pub col: Option<u32>,
    /// What it says.
    pub message: String,
    /// The include chain, the function, and attached notes, one per line.
    pub context: String,
}

/// What the executor reports, in order, for one run.
#[derive(Clone, Debug)]
pub enum Event {
    /// A job began (its first step is about to start).
    JobStarted {
        /// The job's slug.
        slug: String,
    },
    /// A step attempt began.
    StepStarted {
        /// The job's slug.
        slug: String,
        /// The step's name.
        step: String,
        /// Which attempt, from 1.
        attempt: u32,
        /// Its log file, written as the step runs.
        log: PathBuf,
    },
    /// A step attempt ended.
    StepFinished {
        /// The job's slug.
        slug: String,
        /// The step.
        record: StepRecord,
    },
    /// A job ended, every step recorded.
    JobFinished {
        /// The job.
        record: JobRecord,
    },
    /// The run is being cancelled; queued jobs will be recorded `cancelled`.
    Cancelling {
        /// Why.
        reason: CancelReason,
    },
}

/// Why a run stops early, in increasing severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CancelReason {
    /// `--fail-fast` or `--max-failures` was reached.
    Failures,
    /// SIGTERM or the first Ctrl-C: jobs get SIGTERM and their grace.
    Interrupt,
    /// A second signal: jobs are killed at once.
    Kill,
}

/// How long something took, in whole milliseconds, for the store and JSON.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
