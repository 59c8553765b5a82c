//! The result types every stage shares, at the bottom of the crate: statuses and failure kinds
//! as enums ([`words`]), the records of steps, jobs and runs ([`record`]), and the counts every
//! summary reads ([`stats`]), and which axis values a run's failures follow ([`patterns`]). They go into SQLite and JSON as themselves, so nothing compares a
//! status as a string.

pub mod patterns;
mod record;
mod stats;
mod words;

pub use record::{
    from_millis, millis, Alone, Artifact, BuildFacts, CcacheStats, Coverage, Diagnostic, JobRecord, RunRecord,
    RunReport, StepRecord, TestCase, TestCounts, ToolFact, SCHEMA,
};
pub use stats::RunStats;
pub use words::{
    DiagnosticKind, FailureKind, JobKind, JobStatus, RunStatus, Severity, StepStatus, TestStatus, Tone, UnknownWord,
};
