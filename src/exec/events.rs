//! What the executor tells everyone else: one event enum, consumed by the store writer and the
//! progress display alike. Each consumer matches every variant, so a new one forces a review.

use std::path::PathBuf;

use crate::outcome::{JobRecord, StepRecord};

/// What the executor reports, in order, for one run.
#[derive(Clone, Debug)]
pub enum Event {
    /// A job began (its first step is about to start).
    JobStarted {
        /// The job's slug.
        slug: String,
        /// Where it runs, where that is not this host's own processes: a host, an image.
        place: Option<String>,
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
        record: Box<JobRecord>,
    },
    /// The place a job ran was lost; the job runs again at another.
    JobMoved {
        /// The job's slug.
        slug: String,
        /// Where it ran.
        from: String,
        /// Where it runs now.
        to: String,
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
