//! Runs made up in memory for the report modules' unit tests.

use crate::outcome::{
    Diagnostic, DiagnosticKind, JobRecord, JobStatus, RunRecord, RunReport, RunStats, RunStatus, Severity,
};

/// A job of `status` in the cell `values`, with nothing recorded about it.
pub(crate) fn job(slug: &str, values: &[(&str, &str)], status: &str) -> JobRecord {
    let cell: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| ((*k).to_string(), serde_json::Value::from(*v))).collect();
    JobRecord {
        slug: slug.into(),
        cell: cell.into(),
        status: status.parse().expect("a status word"),
        duration: Some(std::time::Duration::from_secs(1)),
        config_hash: "0123456789abcdef".into(),
        ..JobRecord::default()
    }
}

/// An error diagnostic at `file:line`.
pub(crate) fn error(file: &str, line: u32, message: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: Some(file.into()),
        line: Some(line),
        col: Some(1),
        message: message.into(),
        kind: DiagnosticKind::Compile,
        step: "build".into(),
        context: Vec::new(),
    }
}

/// A finished run of `jobs`.
pub(crate) fn run(id: i64, jobs: Vec<JobRecord>) -> RunReport {
    let failed = jobs.iter().any(|j| j.status == JobStatus::Failed);
    RunReport {
        run: RunRecord {
            id,
            project: "demo".into(),
            status: if failed { RunStatus::Failed } else { RunStatus::Passed },
            commit: "abc".into(),
            started_at: "2024-05-01T10:00:00Z".into(),
            dirty: false,
            finished_at: Some("2024-05-01T10:01:00Z".into()),
            duration: Some(std::time::Duration::from_secs(60)),
            matrix_path: "gridrun.toml".into(),
            branch: None,
            revision: "abc".into(),
            config_key: String::new(),
            stats: RunStats::of(jobs.iter().map(|j| (j.status, j.flaky, j.allow_failure))),
        },
        jobs,
    }
}
