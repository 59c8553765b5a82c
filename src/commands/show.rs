//! `gridrun show RUN[/JOB]`: a run (a header, its grid, a line per job) or one job (where and how
//! it ran, each step attempt with its exit, duration and log, and the end of the deciding log).
//! `--json` prints the DESIGN §4 document instead.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::ExitCode;

use super::recorded::{self, duration, elapsed, local_time, mib, short_commit, split_target, Recorded};
use super::Context;
use crate::cli::ShowArgs;
use crate::error::{Error, Result};
use crate::report::grid::{self, GridJob};
use crate::report::json::{JobDoc, RunDoc};
use crate::store::{JobRow, RunRow, StepRow};
use crate::term::Style;
use crate::text::one_line;

/// How many lines of a log `show RUN/JOB` ends with, and how far back it reads to find them.
const TAIL_LINES: usize = 10;
const TAIL_BYTES: u64 = 16 * 1024;

pub(super) fn run(ctx: &Context, args: &ShowArgs) -> Result<ExitCode> {
    let pivot = args.pivot.as_deref().map(parse_pivot).transpose()?;
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let (run_part, slug) = split_target(&args.target)?;
    let run = recorded.run(run_part)?;
    let text = match (slug, args.json) {
        (None, true) => json(&RunDoc::load(&recorded.store, &run)?),
        (None, false) => run_text(ctx.style, &recorded, &run, pivot.as_ref())?,
        (Some(slug), json_wanted) => {
            let job = recorded.job(&run, slug)?;
            if json_wanted {
                json(&JobDoc::load(&recorded.store, run.id, &job)?.alone(run.id))
            } else {
                job_text(ctx.style, &recorded, &run, &job)?
            }
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    recorded::written(out.write_all(text.as_bytes()).and_then(|()| out.flush()), "the run")?;
    Ok(ExitCode::SUCCESS)
}

/// `ROW,COL` from `--pivot`.
pub(super) fn parse_pivot(text: &str) -> Result<(String, String)> {
    match text.split_once(',') {
        Some((row, col)) if !row.trim().is_empty() && !col.trim().is_empty() => {
            Ok((row.trim().to_string(), col.trim().to_string()))
        }
        _ => Err(Error::Usage(format!("--pivot {text}: write ROW,COL, e.g. compiler,cxx_standard"))),
    }
}

fn json(doc: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(doc).expect("a document of strings and numbers serializes");
    text.push('\n');
    text
}

/// The header, the grid and the job table.
fn run_text(style: Style, recorded: &Recorded, run: &RunRow, pivot: Option<&(String, String)>) -> Result<String> {
    let jobs = recorded.store.jobs(run.id)?;
    let grid_jobs: Vec<GridJob> = jobs.iter().map(|j| GridJob::from_json(&j.cell, &j.status, j.flaky)).collect();
    let (row, col) =
        grid::pivot_keys(&grid_jobs, pivot.map(|(r, c)| (r.as_str(), c.as_str()))).map_err(Error::Usage)?;
    let mut text = run_header(run);
    if !grid_jobs.is_empty() {
        text.push_str(&format!("\n{}\n", grid::table(style, &grid_jobs, &row, col.as_deref())));
        text.push_str(&format!("\n{}\n", job_table(style, &jobs)));
    }
    Ok(text)
}

/// `run #3  heimdall  failed  commit 1a2b3c4d5e6f  started 2024-05-01 10:00:00  took 3m 07s`.
fn run_header(run: &RunRow) -> String {
    let mut parts = vec![format!("run #{}", run.id), run.project.clone(), run.status.clone()];
    let commit = short_commit(&run.commit, run.dirty);
    if !commit.is_empty() {
        parts.push(format!("commit {commit}"));
    }
    parts.push(format!("started {}", local_time(&run.started_at)));
    parts.push(format!("took {}", elapsed(run.duration_ms, Some(&run.started_at))));
    parts.join("  ") + "\n"
}

fn job_table(style: Style, jobs: &[JobRow]) -> comfy_table::Table {
    let mut table = style.table();
    table.set_header(["job", "status", "duration", "peak MiB", "failure", "reason"]);
    for job in jobs {
        table.add_row([
            crate::term::cell(&job.slug),
            status_cell(&job.status, job.flaky),
            crate::term::cell(job_duration(job)),
            crate::term::cell(mib(job.peak_rss_kb)),
            crate::term::cell(job.failure_kind.as_deref().unwrap_or_default()),
            crate::term::cell(
                job.reason.clone().or_else(|| how_it_ended(job.exit_code, job.signal, &job.status)).unwrap_or_default(),
            ),
        ]);
    }
    table
}

/// How long the job took, or has taken so far while it runs; `-` for one that never ran or was
/// cut short with its run.
fn job_duration(job: &JobRow) -> String {
    match (job.duration_ms, job.status.as_str()) {
        (Some(ms), _) => duration(ms),
        (None, "running") => elapsed(None, job.started_at.as_deref()),
        (None, _) => "-".into(),
    }
}

fn status_cell(status: &str, flaky: bool) -> comfy_table::Cell {
    let text = if flaky && status == "passed" { "passed (flaky)".to_string() } else { status.to_string() };
    crate::term::cell(text).fg(grid::color(status, flaky))
}

/// `exit 3` or `signal 9` for what did not pass; nothing for a pass.
fn how_it_ended(exit_code: Option<i64>, signal: Option<i64>, status: &str) -> Option<String> {
    match (signal, exit_code) {
        _ if status == "passed" => None,
        (Some(signal), _) => Some(format!("signal {signal}")),
        (None, Some(code)) => Some(format!("exit {code}")),
        (None, None) => None,
    }
}

/// Where and how the job ran, its step attempts, and the end of the deciding log.
fn job_text(style: Style, recorded: &Recorded, run: &RunRow, job: &JobRow) -> Result<String> {
    let steps = recorded.store.steps(job.id)?;
    let flaky = if job.flaky && job.status == "passed" { " (flaky)" } else { "" };
    let mut text = format!("job {} of run #{} ({}): {}{flaky}\n", job.slug, run.id, run.project, job.status);
    for (label, value) in job_facts(job) {
        text.push_str(&format!("  {label:<12} {}\n", one_line(&value)));
    }
    if !steps.is_empty() {
        text.push_str(&format!("\n{}\n", step_table(style, &steps)));
    }
    let doc = JobDoc::load(&recorded.store, run.id, job)?;
    findings_text(&doc, &mut text);
    if let Some(when) = recorded.store.logs_removed_at(run.id)? {
        // The paths above name files gc has deleted; say so rather than let them mislead.
        text.push_str(&format!(
            "\nlogs and workspace of run {} were removed by gc on {}\n",
            run.id,
            super::recorded::local_time(&when)
        ));
    }
    if let Some((from, lines)) = log_tail(job, &steps) {
        text.push_str(&format!("\nlast lines of {}:\n", one_line(&from)));
        let lines = crate::text::indent(lines.iter().map(String::as_str), "    ");
        text.push_str(&style.job_text(&lines));
    }
    Ok(text)
}

/// Diagnostics, failed tests and artifacts, each section only where there is something to say.
fn findings_text(doc: &JobDoc, text: &mut String) {
    if !doc.diagnostics.is_empty() {
        text.push_str("\ndiagnostics:\n");
        for d in &doc.diagnostics {
            let place = match (&d.file, d.line, d.col) {
                (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: "),
                (Some(f), Some(l), None) => format!("{f}:{l}: "),
                (Some(f), None, _) => format!("{f}: "),
                _ => String::new(),
            };
            text.push_str(&format!(
                "  {}{}: {} [{}, step {}]\n",
                one_line(&place),
                d.severity,
                one_line(&d.message),
                d.kind,
                d.step
            ));
        }
    }
    let failed: Vec<_> = doc.test_cases.iter().filter(|t| t.status == "failed").collect();
    if doc.tests.passed + doc.tests.failed + doc.tests.skipped > 0 {
        text.push_str(&format!(
            "\ntests: {} passed, {} failed, {} skipped\n",
            doc.tests.passed, doc.tests.failed, doc.tests.skipped
        ));
        for t in failed {
            let message = t.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("");
            text.push_str(&format!("  FAIL {}.{} {}\n", one_line(&t.suite), one_line(&t.name), one_line(message)));
        }
    }
    if !doc.artifacts.is_empty() {
        text.push_str("\nartifacts:\n");
        for a in &doc.artifacts {
            let gone = if a.removed_at.is_some() { " (removed by gc)" } else { "" };
            text.push_str(&format!(
                "  {} {} bytes sha256:{} -> {}{gone}\n",
                one_line(&a.path),
                a.size,
                a.sha256,
                one_line(&a.stored_path)
            ));
        }
    }
}

/// The job's facts as label and value, leaving out what does not apply.
fn job_facts(job: &JobRow) -> Vec<(&'static str, String)> {
    let values = GridJob::from_json(&job.cell, &job.status, job.flaky).values;
    let cell = values.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    let mut facts = vec![("cell", cell)];
    if !job.compiler.is_empty() {
        facts.push(("compiler", format!("{} {}", job.compiler, job.compiler_version).trim_end().to_string()));
    }
    facts.push(("config hash", job.config_hash.clone()));
    if let Some(started) = &job.started_at {
        facts.push(("started", local_time(started)));
    }
    facts.push(("duration", job_duration(job)));
    facts.push(("cpu", job.cpu_ms.map_or_else(|| "-".into(), duration)));
    let rss = mib(job.peak_rss_kb);
    facts.push(("peak RSS", if rss == "-" { rss } else { format!("{rss} MiB") }));
    facts.push(("flaky", if job.flaky { "yes" } else { "no" }.into()));
    if let Some(kind) = &job.failure_kind {
        let how = how_it_ended(job.exit_code, job.signal, &job.status).map(|h| format!(" ({h})")).unwrap_or_default();
        facts.push(("failure", format!("{kind}{how}")));
    }
    let optional = [("reason", job.reason.clone()), ("reused from", job.reused_from.map(|r| format!("run #{r}")))];
    facts.extend(optional.into_iter().filter_map(|(label, value)| value.map(|v| (label, v))));
    match (&job.work_dir, &job.started_at) {
        (Some(dir), _) => facts.push(("work dir", dir.clone())),
        (None, Some(_)) => facts.push(("work dir", "(removed)".into())),
        (None, None) => {}
    }
    facts
}

fn step_table(style: Style, steps: &[StepRow]) -> comfy_table::Table {
    let mut table = style.table();
    table.set_header(["step", "attempt", "status", "exit", "duration", "log", "command"]);
    for step in steps {
        let exit = match (step.signal, step.exit_code) {
            (Some(signal), _) => format!("signal {signal}"),
            (None, Some(code)) => code.to_string(),
            (None, None) => "-".into(),
        };
        table.add_row([
            crate::term::cell(&step.name),
            crate::term::cell(step.attempt),
            crate::term::cell(&step.status).fg(grid::color(&step.status, false)),
            crate::term::cell(exit),
            crate::term::cell(duration(step.duration_ms)),
            crate::term::cell(&step.log_path),
            crate::term::cell(&step.command),
        ]);
    }
    table
}

/// The failure excerpt the run kept, else the last lines of the last step's log.
fn log_tail(job: &JobRow, steps: &[StepRow]) -> Option<(String, Vec<String>)> {
    let last = steps.last();
    let from = last.map_or_else(|| "the job's log".to_string(), |s| s.log_path.clone());
    if let Some(tail) = job.log_tail.as_deref().filter(|t| !t.is_empty()) {
        return Some((from, tail.lines().map(str::to_string).collect()));
    }
    let lines = read_tail(Path::new(&last?.log_path)).ok()?;
    (!lines.is_empty()).then_some((from, lines))
}

/// The last [`TAIL_LINES`] lines of a file, reading no more than [`TAIL_BYTES`] of its end.
fn read_tail(path: &Path) -> std::io::Result<Vec<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        // The first line read is most likely the end of a longer one.
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(TAIL_LINES);
    Ok(lines[skip..].iter().map(|l| (*l).to_string()).collect())
}
