//! Runs made up in memory for the report modules' unit tests.

use super::json::{DiagnosticDoc, JobDoc, RunDoc, TestCounts, SCHEMA};

/// A job of `status` in the cell `values`, with nothing recorded about it.
pub(crate) fn job(slug: &str, values: &[(&str, &str)], status: &str) -> JobDoc {
    let cell: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| ((*k).to_string(), serde_json::Value::from(*v))).collect();
    JobDoc {
        schema: None,
        run: None,
        slug: slug.into(),
        cell: cell.into(),
        status: status.into(),
        failure_kind: None,
        exit_code: None,
        signal: None,
        duration_ms: Some(1000),
        cpu_ms: None,
        peak_rss_kb: None,
        flaky: false,
        steps: Vec::new(),
        diagnostics: Vec::new(),
        tests: TestCounts::default(),
        reason: None,
        config_hash: "0123456789abcdef".into(),
        compiler: String::new(),
        compiler_version: String::new(),
        started_at: None,
        work_dir: None,
        reused_from: None,
        test_cases: Vec::new(),
        artifacts: Vec::new(),
        log_tail: None,
    }
}

/// An error diagnostic at `file:line`.
pub(crate) fn error(file: &str, line: u32, message: &str) -> DiagnosticDoc {
    DiagnosticDoc {
        severity: "error".into(),
        file: Some(file.into()),
        line: Some(line),
        col: Some(1),
        message: message.into(),
        kind: "compile".into(),
        step: "build".into(),
        context: String::new(),
    }
}

/// A finished run of `jobs`.
pub(crate) fn run(id: i64, jobs: Vec<JobDoc>) -> RunDoc {
    let failed = jobs.iter().any(|j| j.status == "failed");
    RunDoc {
        schema: SCHEMA,
        run: id,
        project: "demo".into(),
        status: if failed { "failed" } else { "passed" }.into(),
        commit: "abc".into(),
        started_at: "2024-05-01T10:00:00Z".into(),
        dirty: false,
        finished_at: Some("2024-05-01T10:01:00Z".into()),
        duration_ms: Some(60_000),
        matrix_path: "gridrun.toml".into(),
        jobs,
    }
}
