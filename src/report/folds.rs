//! The failed cells' logs, folded in a CI's job log: `::group::`…`::endgroup::` on GitHub
//! Actions (the log fenced so none of its lines acts as a workflow command), collapsed sections
//! on GitLab CI. Each fold holds the end of the log of the step that decided the job.

use std::fmt::Write as _;

use crate::outcome::{JobRecord, RunReport};
use crate::term::{CiLog, Style};

/// How much of the end of a failed step's log a fold shows.
const FOLD_BYTES: u64 = 256 << 10;

/// The folds of every failed job of `run` (a job allowed to fail included, said so), for the CI
/// `style` says stdout is; empty elsewhere.
pub fn failed_logs(style: Style, run: &RunReport) -> String {
    if style.ci == CiLog::None {
        return String::new();
    }
    let mut out = String::new();
    for (i, job) in run.jobs.iter().filter(|j| j.status.is_failure()).enumerate() {
        let Some(step) = job.steps.last() else { continue };
        let how = job.how_it_ended().unwrap_or_else(|| job.status.word().to_string());
        let allowed = if job.allow_failure { ", allowed to fail" } else { "" };
        let title = crate::text::one_line(&format!("{}: step {} ({how}{allowed})", job.slug, step.name)).into_owned();
        let body = match crate::boundedread::tail(&step.log, FOLD_BYTES) {
            Ok((text, cut)) => {
                let text = crate::text::plain(&text).into_owned();
                if cut {
                    format!("[the last {} KiB of {}]\n{text}", FOLD_BYTES >> 10, step.log.display())
                } else {
                    text
                }
            }
            Err(e) => format!("[cannot read {}: {e}]\n", step.log.display()),
        };
        fold(&mut out, style, i, job, &title, &body);
    }
    out
}

fn fold(out: &mut String, style: Style, index: usize, job: &JobRecord, title: &str, body: &str) {
    let newline = if body.ends_with('\n') || body.is_empty() { "" } else { "\n" };
    if style.github() {
        let _ = writeln!(out, "::group::{title}");
        out.push_str(&crate::term::fence(body));
        let _ = writeln!(out, "::endgroup::");
    } else {
        // GitLab's section markers: a name of letters, digits and `_`, a time, and the header.
        let name = format!("gridrun_{index}_{}", job.slug.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        let now = chrono::Utc::now().timestamp();
        let _ = writeln!(out, "\x1b[0Ksection_start:{now}:{name}[collapsed=true]\r\x1b[0K{title}");
        let _ = write!(out, "{body}{newline}");
        let _ = writeln!(out, "\x1b[0Ksection_end:{now}:{name}\r\x1b[0K");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::StepRecord;
    use crate::report::testdata::{job, run};

    fn failed_with_log(dir: &std::path::Path, log: &str) -> RunReport {
        let path = dir.join("build.log");
        std::fs::write(&path, log).unwrap();
        let mut j = job("gcc-12-17", &[], "failed");
        j.exit_code = Some(2);
        j.steps = vec![StepRecord {
            name: "build".into(),
            position: 0,
            attempt: 1,
            status: crate::outcome::StepStatus::Failed,
            exit_code: Some(2),
            signal: None,
            duration: std::time::Duration::ZERO,
            cpu: std::time::Duration::ZERO,
            peak_rss_kb: 0,
            log: path,
            log_bytes: 0,
            command: String::new(),
        }];
        run(1, vec![j, job("ok", &[], "passed")])
    }

    #[test]
    fn github_groups_fence_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let report = failed_with_log(dir.path(), "ninja: build stopped\n::error::injected\n");
        let style = Style { color: false, tty: false, ci: CiLog::Github };
        let text = failed_logs(style, &report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "::group::gcc-12-17: step build (exit 2)");
        assert!(lines[1].starts_with("::stop-commands::gridrun-"));
        assert_eq!(&lines[2..4], ["ninja: build stopped", "::error::injected"]);
        assert_eq!(lines[4], format!("::{}::", &lines[1]["::stop-commands::".len()..]));
        assert_eq!(lines[5], "::endgroup::");
        assert_eq!(lines.len(), 6, "only the failed job");
    }

    #[test]
    fn gitlab_sections_collapse_and_elsewhere_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let report = failed_with_log(dir.path(), "line\n");
        let style = Style { color: false, tty: false, ci: CiLog::Gitlab };
        let text = failed_logs(style, &report);
        assert!(text.starts_with("\x1b[0Ksection_start:"), "{text:?}");
        assert!(text.contains(
            ":gridrun_0_gcc_12_17[collapsed=true]\r\x1b[0Kgcc-12-17: step build (exit 2)\nline\n\x1b[0Ksection_end:"
        ));
        assert_eq!(failed_logs(Style { ci: CiLog::None, ..style }, &report), "");
    }
}
