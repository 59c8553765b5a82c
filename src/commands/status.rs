//! `gridrun status` (alias `history`): the recent runs, newest first, one line each — id,
//! outcome, project, start, duration, jobs counted by status, commit — or as JSON.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use super::recorded::{self, elapsed, local_time, short_commit};
use super::Context;
use crate::cli::StatusArgs;
use crate::error::Result;
use crate::report::json::SCHEMA;
use crate::store::RunRow;
use crate::term::Style;

/// Job statuses in the order a line counts them, with their words; `passed` and `failed` are
/// always shown, the others where there are any.
const COUNTED: [(&str, &str); 11] = crate::report::grid::STATUS_WORDS;

pub(super) fn run(ctx: &Context, args: &StatusArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let runs = recorded.store.recent_runs(args.limit)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = if args.json { print_json(&runs, &mut out) } else { print_lines(ctx.style, &runs, &mut out) };
    recorded::written(result.and_then(|()| out.flush()), "the runs")?;
    Ok(ExitCode::SUCCESS)
}

fn print_json(runs: &[RunRow], out: &mut impl Write) -> std::io::Result<()> {
    let runs: Vec<serde_json::Value> = runs
        .iter()
        .map(|run| {
            let counts: serde_json::Map<String, serde_json::Value> =
                run.counts.iter().map(|(status, n)| (status.clone(), (*n).into())).collect();
            serde_json::json!({
                "id": run.id,
                "project": run.project,
                "status": run.status,
                "commit": run.commit,
                "dirty": run.dirty,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "duration_ms": run.duration_ms,
                "counts": counts,
                "flaky": run.flaky,
                "matrix_path": run.matrix_path,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "schema": SCHEMA, "runs": runs }))?;
    writeln!(out)
}

/// The columns of one line, before padding.
struct Line {
    id: String,
    status: String,
    project: String,
    started: String,
    took: String,
    counts: String,
    commit: String,
}

fn print_lines(style: Style, runs: &[RunRow], out: &mut impl Write) -> std::io::Result<()> {
    let lines: Vec<Line> = runs.iter().map(line).collect();
    let width = |f: fn(&Line) -> &str| lines.iter().map(|l| f(l).chars().count()).max().unwrap_or(0);
    let (id_w, status_w, project_w, took_w, counts_w) =
        (width(|l| &l.id), width(|l| &l.status), width(|l| &l.project), width(|l| &l.took), width(|l| &l.counts));
    for l in &lines {
        let status = paint(style, &l.status, &format!("{:<status_w$}", l.status));
        let text = format!(
            "{:<id_w$}  {status}  {:<project_w$}  {}  {:>took_w$}  {:<counts_w$}  {}",
            l.id, l.project, l.started, l.took, l.counts, l.commit
        );
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

fn line(run: &RunRow) -> Line {
    Line {
        id: format!("#{}", run.id),
        status: run.status.clone(),
        project: run.project.clone(),
        started: local_time(&run.started_at),
        took: elapsed(run.duration_ms, Some(&run.started_at)),
        counts: counts(&run.counts, run.flaky),
        commit: crate::text::one_line(&short_commit(&run.commit, run.dirty)).into_owned(),
    }
}

/// `2 passed (1 flaky), 1 failed, 1 unsupported`.
fn counts(counts: &[(String, i64)], flaky: i64) -> String {
    let n = |status: &str| counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
    let mut parts: Vec<String> = COUNTED
        .iter()
        .filter(|(status, _)| matches!(*status, "passed" | "failed") || n(status) > 0)
        .map(|(status, word)| match *status {
            "passed" if flaky > 0 => format!("{} {word} ({flaky} flaky)", n(status)),
            _ => format!("{} {word}", n(status)),
        })
        .collect();
    // A status this gridrun does not know (a newer one wrote the store) still counts.
    parts.extend(
        counts.iter().filter(|(s, _)| !COUNTED.iter().any(|(known, _)| known == s)).map(|(s, n)| format!("{n} {s}")),
    );
    parts.join(", ")
}

/// The run's status in its colour, where colour is on.
fn paint(style: Style, status: &str, text: &str) -> String {
    let code = match status {
        "passed" => "32",
        "failed" => "31",
        "running" => "36",
        _ => "33",
    };
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::counts;

    #[test]
    fn counts_show_passed_and_failed_always_and_others_when_present() {
        assert_eq!(counts(&[], 0), "0 passed, 0 failed");
        let found = [("cancelled".into(), 1), ("passed".into(), 3), ("timed_out".into(), 2), ("new_kind".into(), 1)];
        assert_eq!(counts(&found, 0), "3 passed, 0 failed, 2 timed out, 1 cancelled, 1 new_kind");
        assert_eq!(counts(&found, 2), "3 passed (2 flaky), 0 failed, 2 timed out, 1 cancelled, 1 new_kind");
    }
}
