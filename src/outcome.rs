//! The result types every stage shares, at the bottom of the crate: statuses and failure kinds
//! as enums ([`words`]), the records of steps, jobs and runs ([`record`]), and the counts every
//! summary reads ([`stats`]). They go into SQLite and JSON as themselves, so nothing compares a
//! status as a string.

mod record;
mod stats;
mod words;

pub use record::{
    from_millis, millis, Alone, Artifact, CcacheStats, Diagnostic, JobRecord, RunRecord, RunReport, StepRecord,
    TestCase, TestCounts, SCHEMA,
};
pub use stats::RunStats;
pub use words::{
    DiagnosticKind, FailureKind, JobKind, JobStatus, RunStatus, Severity, StepStatus, TestStatus, Tone, UnknownWord,
};
