//! What the terminal shows: a run's closing summary, `status`'s lines, `show`'s run and job,
//! `compare`, `stats`, `plan`'s tables and `toolchains`. Every value that came from a matrix file
//! or a job is made safe for a terminal here ([`crate::text`]), and job output echoed under GitHub
//! Actions is fenced ([`Style::job_text`]).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use comfy_table::Color;

use super::compare::{Comparison, Flip, Lone, SLOWER_MIN_MS, SLOWER_RATIO};
use super::format::human_duration;
use super::grid::{self, GridJob, Pivot};
use crate::outcome::{
    millis, CcacheStats, JobKind, JobRecord, JobStatus, RunRecord, RunReport, RunStatus, StepRecord, TestStatus,
};
use crate::plan::Plan;
use crate::store::{CellStats, ProjectStats};
use crate::term::{cell, Style};
use crate::text::{indent, one_line};
use crate::toolchain::{Availability, Host, Standard};

/// How many lines of a log `show RUN/JOB` ends with, and how far back it reads to find them.
const TAIL_LINES: usize = 10;
const TAIL_BYTES: u64 = 16 * 1024;
/// How many flaky cells `stats` lists, the flakiest first.
const FLAKY_SHOWN: usize = 10;

/// A duration for people: `0.4s`, `12.3s`, `3m 07s`, `1h 02m`.
pub fn duration(d: Duration) -> String {
    human_duration(millis(d))
}

/// How long something took, or has taken so far while it still runs.
pub fn elapsed(took: Option<Duration>, started_at: Option<&str>) -> String {
    match (took, started_at.and_then(parse_time)) {
        (Some(d), _) => duration(d),
        (None, Some(started)) => {
            format!("{}…", human_duration((chrono::Utc::now() - started).num_milliseconds()))
        }
        (None, None) => "-".into(),
    }
}

/// A stored time (RFC 3339, UTC) in the local time zone, to the second.
pub fn local_time(stored: &str) -> String {
    parse_time(stored)
        .map_or_else(|| stored.to_string(), |t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string())
}

fn parse_time(stored: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(stored).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// Memory in MiB with one decimal; `-` where unknown (a process smaller than gridrun itself
/// records 0: its peak could not be told apart).
pub fn mib(kb: Option<u64>) -> String {
    super::format::mib(kb).map_or_else(|| "-".into(), |m| m.trim_end_matches(" MiB").to_string())
}

/// A commit as lines show it: its first 12 characters, ` dirty` with local changes.
pub fn short_commit(commit: &str, dirty: bool) -> String {
    let short: String = one_line(commit).chars().take(12).collect();
    match (short.is_empty(), dirty) {
        (true, _) => String::new(),
        (false, true) => format!("{short} dirty"),
        (false, false) => short,
    }
}

/// `exit 3` or `signal 9` for a step that did not pass; nothing for a pass.
fn how_a_step_ended(step: &StepRecord) -> String {
    match (step.signal, step.exit_code) {
        (Some(signal), _) => format!("signal {signal}"),
        (None, Some(code)) => code.to_string(),
        (None, None) => "-".into(),
    }
}

/// The grid of a run's jobs, pivoted by `pivot` (default: compiler × cxx_standard); `Err` names a
/// pivot key the matrix lacks.
fn grid_table(style: Style, jobs: &[JobRecord], pivot: Option<&Pivot>) -> Result<Option<String>, String> {
    // Setup and finally jobs are no cells of the grid: they are listed beside it.
    let cells: Vec<GridJob> = jobs.iter().filter(|j| j.kind == JobKind::Cell).map(GridJob::of).collect();
    let (row, col) = grid::pivot_keys(&cells, pivot.map(|p| (p.row.as_str(), p.col.as_str())))?;
    Ok((!cells.is_empty()).then(|| grid::table(style, &cells, &row, col.as_deref()).to_string()))
}

/// Cells that are every combination of some values, said so: `clang-16 × 11, 17, 20` (the
/// values they share, then each varying key's values); `None` where they are not a product.
fn cells_in_short(jobs: &[&JobRecord]) -> Option<String> {
    let rows: Vec<Vec<(String, String)>> = jobs.iter().map(|j| j.values()).collect();
    let keys: Vec<String> = rows.first()?.iter().map(|(k, _)| k.clone()).collect();
    if rows.iter().any(|r| r.iter().map(|(k, _)| k).ne(keys.iter())) {
        return None;
    }
    let mut fixed: Vec<String> = Vec::new();
    let mut varying: Vec<Vec<String>> = Vec::new();
    for i in 0..keys.len() {
        let mut values: Vec<String> = Vec::new();
        for row in &rows {
            if !values.contains(&row[i].1) {
                values.push(row[i].1.clone());
            }
        }
        if values.len() == 1 {
            fixed.extend(values);
        } else {
            varying.push(values);
        }
    }
    // A product has as many cells as its varying values multiply to (the cells are distinct).
    let product: usize = varying.iter().map(Vec::len).product();
    if varying.is_empty() || product != rows.len() {
        return None;
    }
    let mut parts = vec![];
    if !fixed.is_empty() {
        parts.push(fixed.join(" "));
    }
    parts.extend(varying.iter().map(|v| v.join(", ")));
    Some(parts.join(" × "))
}

/// How a failed job ended, in a few words.
fn how_it_ended(job: &JobRecord) -> String {
    match (job.status, job.exit_code, job.signal) {
        (JobStatus::TimedOut, _, _) => "timed out".to_string(),
        (JobStatus::MemoryExceeded, _, _) => "went over its memory limit".to_string(),
        (_, Some(code), _) => format!("exit {code}"),
        (_, None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "failed".to_string(),
    }
}

/// A failed job's first errors (at most three), one indented line each, places relative to the
/// project's folder: what the closing summary says of it, and how failures are told alike.
fn first_errors(job: &JobRecord, base: Option<&Path>) -> String {
    let mut out = String::new();
    let mut seen: Vec<String> = Vec::new();
    for d in job.diagnostics.iter().filter(|d| d.severity.is_error()) {
        let mut shown = d.clone();
        if let (Some(file), Some(base)) = (&d.file, base) {
            if let Ok(rest) = Path::new(file).strip_prefix(base) {
                shown.file = Some(rest.display().to_string());
            }
        }
        let place = shown.place();
        let line = if place.is_empty() {
            format!("{}: {}", d.severity, d.message)
        } else {
            format!("{place}: {}: {}", d.severity, d.message)
        };
        if seen.contains(&line) {
            continue;
        }
        let _ = writeln!(out, "    {}", one_line(&line));
        seen.push(line);
        if seen.len() == 3 {
            break;
        }
    }
    out
}

/// The run's closing lines: its grid, each failure with its last lines and log, and a count.
pub fn run_summary(style: Style, report: &RunReport, pivot: Option<&Pivot>) -> String {
    let mut out = String::new();
    if let Ok(Some(grid)) = grid_table(style, &report.jobs, pivot) {
        out.push_str(&grid);
        out.push('\n');
    }
    // A failure with a diagnostic is told by it, once for every cell that failed the same way;
    // the log's tail only where no diagnostic was found.
    let base = std::path::absolute(&report.run.matrix_path).ok().and_then(|p| p.parent().map(Path::to_path_buf));
    let mut groups: Vec<(String, Vec<&JobRecord>)> = Vec::new();
    for job in report.jobs.iter().filter(|j| j.status.is_failure()) {
        let said = first_errors(job, base.as_deref());
        match groups.iter_mut().find(|(key, _)| !said.is_empty() && *key == said) {
            Some((_, jobs)) => jobs.push(job),
            None => groups.push((said, vec![job])),
        }
    }
    for (said, jobs) in &groups {
        out.push('\n');
        if let [job] = jobs.as_slice() {
            let last = job.steps.last();
            let allowed = if job.allow_failure { " (allowed to fail)" } else { "" };
            match last {
                Some(step) => {
                    let _ =
                        writeln!(out, "--- {} failed in step {}: {}{allowed}", job.slug, step.name, how_it_ended(job));
                }
                None => {
                    let _ =
                        writeln!(out, "--- {} failed before its first step: {}{allowed}", job.slug, how_it_ended(job));
                }
            }
            let lines =
                if said.is_empty() { indent(job.log_tail.iter().map(String::as_str), "    ") } else { said.clone() };
            if !lines.is_empty() {
                out.push_str(&style.job_text(&lines));
            }
            if let Some(step) = last {
                let _ = writeln!(out, "    log: {}", one_line(&step.log.to_string_lossy()));
            }
            continue;
        }
        let shown = cells_in_short(jobs).unwrap_or_else(|| {
            let slugs: Vec<&str> = jobs.iter().map(|j| j.slug.as_str()).collect();
            if slugs.len() > 8 {
                format!("{} and {} more", slugs[..8].join(", "), slugs.len() - 8)
            } else {
                slugs.join(", ")
            }
        });
        let _ = writeln!(out, "--- {} cells failed the same way: {}", jobs.len(), one_line(&shown));
        out.push_str(&style.job_text(said));
        if let Some(step) = jobs[0].steps.last() {
            let more = if jobs.len() > 1 {
                format!(" (and the same step of the other {})", jobs.len() - 1)
            } else {
                String::new()
            };
            let _ = writeln!(out, "    log: {}{more}", one_line(&step.log.to_string_lossy()));
        }
    }
    let run = &report.run;
    let stats = &run.stats;
    let flaky = if stats.flaky > 0 { format!(" ({} flaky)", stats.flaky) } else { String::new() };
    let mut line = format!(
        "run {}: {} passed{flaky}, {} failed{}",
        run.id,
        stats.count(JobStatus::Passed),
        stats.failures(),
        stats.allowed_note()
    );
    for status in [JobStatus::Cancelled, JobStatus::Unsupported, JobStatus::Unavailable, JobStatus::Reused] {
        let n = stats.count(status);
        if n > 0 {
            let _ = write!(line, ", {n} {}", status.word());
        }
    }
    if let Some(d) = run.duration {
        let _ = write!(line, " in {:.1}s", d.as_secs_f64());
    }
    if let Some(pattern) = crate::outcome::patterns::explain(&report.jobs) {
        let _ = write!(out, "\n{}\n", one_line(&pattern.to_string()));
    }
    for (kind, word) in [(JobKind::Setup, "setup"), (JobKind::Finally, "finally")] {
        let of_kind: Vec<&JobRecord> = report.jobs.iter().filter(|j| j.kind == kind).collect();
        if !of_kind.is_empty() {
            let passed = of_kind.iter().filter(|j| j.status == JobStatus::Passed).count();
            let _ = write!(line, "; {word} {passed} of {} passed", of_kind.len());
        }
    }
    let _ = write!(out, "\n{line}\n");
    out
}

/// A run's status in its colour, where colour is on.
fn paint(style: Style, status: RunStatus, text: &str) -> String {
    let code = match status {
        RunStatus::Passed => "32",
        RunStatus::Failed => "31",
        RunStatus::Running => "36",
        RunStatus::Interrupted | RunStatus::Abandoned => "33",
    };
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `status`: the runs, newest first, one line each, columns aligned.
pub fn status_lines(style: Style, runs: &[RunRecord]) -> String {
    struct Line {
        id: String,
        status: RunStatus,
        project: String,
        started: String,
        took: String,
        counts: String,
        commit: String,
    }
    let lines: Vec<Line> = runs
        .iter()
        .map(|run| Line {
            id: format!("#{}", run.id),
            status: run.status,
            project: one_line(&run.project).into_owned(),
            started: local_time(&run.started_at),
            took: elapsed(run.duration, Some(&run.started_at)),
            counts: run.stats.describe(),
            commit: match &run.branch {
                Some(branch) => format!("{} {}", one_line(branch), short_commit(&run.commit, run.dirty)),
                None => short_commit(&run.commit, run.dirty),
            },
        })
        .collect();
    let width = |f: &dyn Fn(&Line) -> usize| lines.iter().map(f).max().unwrap_or(0);
    let id_w = width(&|l| l.id.chars().count());
    let status_w = width(&|l| l.status.as_str().len());
    let project_w = width(&|l| l.project.chars().count());
    let took_w = width(&|l| l.took.chars().count());
    let counts_w = width(&|l| l.counts.chars().count());
    let mut out = String::new();
    for l in &lines {
        let status = paint(style, l.status, &format!("{:<status_w$}", l.status.as_str()));
        let text = format!(
            "{:<id_w$}  {status}  {:<project_w$}  {}  {:>took_w$}  {:<counts_w$}  {}",
            l.id, l.project, l.started, l.took, l.counts, l.commit
        );
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// `status --json`: `{"schema":1, "runs":[…]}`.
pub fn status_json(runs: &[RunRecord]) -> serde_json::Value {
    let runs: Vec<serde_json::Value> = runs
        .iter()
        .map(|run| {
            let mut counts: serde_json::Map<String, serde_json::Value> =
                run.stats.iter().map(|(status, n)| (status.to_string(), n.into())).collect();
            counts.extend(run.stats.unknown.iter().map(|(s, n)| (s.clone(), (*n).into())));
            serde_json::json!({
                "id": run.id,
                "project": run.project,
                "status": run.status,
                "commit": run.commit,
                "dirty": run.dirty,
                "branch": run.branch,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "duration_ms": run.duration.map(millis),
                "counts": counts,
                "flaky": run.stats.flaky,
                "matrix_path": run.matrix_path,
            })
        })
        .collect();
    serde_json::json!({ "schema": crate::outcome::SCHEMA, "runs": runs })
}

/// `show RUN`: a header, the grid and a line per job; `Err` names a pivot key the matrix lacks.
pub fn show_run(style: Style, report: &RunReport, pivot: Option<&Pivot>) -> Result<String, String> {
    let run = &report.run;
    let mut parts = vec![format!("run #{}", run.id), one_line(&run.project).into_owned(), run.status.to_string()];
    let commit = short_commit(&run.commit, run.dirty);
    if !commit.is_empty() {
        parts.push(format!("commit {commit}"));
    }
    if let Some(branch) = &run.branch {
        parts.push(format!("branch {}", one_line(branch)));
    }
    parts.push(format!("started {}", local_time(&run.started_at)));
    parts.push(format!("took {}", elapsed(run.duration, Some(&run.started_at))));
    let mut text = parts.join("  ") + "\n";
    if let Some(pattern) = crate::outcome::patterns::explain(&report.jobs) {
        text.push_str(&one_line(&pattern.to_string()));
        text.push('\n');
    }
    let ccache = CcacheStats::sum(report.jobs.iter().filter_map(|j| j.ccache.as_ref()));
    if let Some(sum) = &ccache {
        let _ = writeln!(text, "ccache: {}", sum.describe());
    }
    if let Some(grid) = grid_table(style, &report.jobs, pivot)? {
        let mut table = style.table();
        let mut header = vec!["job", "status", "duration", "peak MiB", "failure", "reason"];
        // A column only for runs that went through ccache: other runs' tables stay as they were.
        if ccache.is_some() {
            header.insert(4, "ccache hits");
        }
        table.set_header(header);
        for job in &report.jobs {
            let mut row = vec![
                cell(&job.slug),
                status_cell(job),
                cell(job_duration(job)),
                cell(mib(job.peak_rss_kb)),
                cell(job.failure_kind.map(crate::outcome::FailureKind::as_str).unwrap_or_default()),
                cell(job.reason.clone().or_else(|| job.how_it_ended()).unwrap_or_default()),
            ];
            if ccache.is_some() {
                row.insert(4, cell(job.ccache.map(|c| c.describe()).unwrap_or_default()));
            }
            table.add_row(row);
        }
        let _ = write!(text, "\n{grid}\n\n{table}\n");
    }
    Ok(text)
}

/// How long the job took, or has taken so far while it runs; `-` for one that never ran or was
/// cut short with its run.
fn job_duration(job: &JobRecord) -> String {
    match (job.duration, job.status) {
        (Some(d), _) => duration(d),
        (None, JobStatus::Running) => elapsed(None, job.started_at.as_deref()),
        (None, _) => "-".into(),
    }
}

fn status_cell(job: &JobRecord) -> comfy_table::Cell {
    let text = if job.flaky && job.status == JobStatus::Passed {
        "passed (flaky)".to_string()
    } else {
        job.status.to_string()
    };
    cell(text).fg(grid::color(job.tone()))
}

/// `show RUN/JOB`: where and how the job ran, its step attempts, what its logs and results said,
/// and the end of the deciding log. `logs_removed` says when `gc` took the logs, if it did.
pub fn show_job(style: Style, run: &RunRecord, job: &JobRecord, logs_removed: Option<&str>) -> String {
    let flaky = if job.flaky && job.status == JobStatus::Passed { " (flaky)" } else { "" };
    let mut text = format!("job {} of run #{} ({}): {}{flaky}\n", job.slug, run.id, one_line(&run.project), job.status);
    for (label, value) in job_facts(job) {
        let _ = writeln!(text, "  {label:<12} {}", one_line(&value));
    }
    if !job.steps.is_empty() {
        let mut table = style.table();
        table.set_header(["step", "attempt", "status", "exit", "duration", "log", "command"]);
        for step in &job.steps {
            table.add_row([
                cell(&step.name),
                cell(step.attempt),
                cell(step.status).fg(grid::color(JobStatus::from(step.status).tone(false))),
                cell(how_a_step_ended(step)),
                cell(duration(step.duration)),
                cell(step.log.display()),
                cell(&step.command),
            ]);
        }
        let _ = write!(text, "\n{table}\n");
    }
    findings(job, &mut text);
    if let Some(when) = logs_removed {
        // The paths above name files gc has deleted; say so rather than let them mislead.
        let _ = write!(text, "\nlogs and workspace of run {} were removed by gc on {}\n", run.id, local_time(when));
    }
    if let Some((from, lines)) = log_tail(job) {
        let _ = write!(text, "\nlast lines of {}:\n", one_line(&from));
        text.push_str(&style.job_text(&indent(lines.iter().map(String::as_str), "    ")));
    }
    text
}

/// Diagnostics, failed tests and artifacts, each section only where there is something to say.
fn findings(job: &JobRecord, text: &mut String) {
    if !job.diagnostics.is_empty() {
        text.push_str("\ndiagnostics:\n");
        for d in &job.diagnostics {
            let place = d.place();
            let place = if place.is_empty() { place } else { format!("{place}: ") };
            let _ = writeln!(
                text,
                "  {}{}: {} [{}, step {}]",
                one_line(&place),
                d.severity,
                one_line(&d.message),
                d.kind,
                d.step
            );
        }
    }
    let counts = job.test_counts();
    if counts.passed + counts.failed + counts.skipped > 0 {
        let _ =
            write!(text, "\ntests: {} passed, {} failed, {} skipped\n", counts.passed, counts.failed, counts.skipped);
        for t in job.tests.iter().filter(|t| t.status == TestStatus::Failed) {
            let message = t.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("");
            let _ = writeln!(text, "  FAIL {}.{} {}", one_line(&t.suite), one_line(&t.name), one_line(message));
        }
    }
    if !job.artifacts.is_empty() {
        text.push_str("\nartifacts:\n");
        for a in &job.artifacts {
            let gone = if a.removed_at.is_some() { " (removed by gc)" } else { "" };
            let _ = writeln!(
                text,
                "  {} {} bytes sha256:{} -> {}{gone}",
                one_line(&a.path),
                a.size,
                a.sha256,
                one_line(&a.stored_path.to_string_lossy())
            );
        }
    }
}

/// The job's facts as label and value, leaving out what does not apply.
fn job_facts(job: &JobRecord) -> Vec<(&'static str, String)> {
    let cell_text = job.values().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    let mut facts = vec![("cell", cell_text)];
    if !job.compiler.is_empty() {
        facts.push(("compiler", format!("{} {}", job.compiler, job.compiler_version).trim_end().to_string()));
    }
    if let Some(host) = &job.host {
        facts.push(("host", host.clone()));
    }
    if let Some(image) = &job.image {
        let digest = job.image_digest.as_deref().unwrap_or("");
        facts.push(("image", format!("{image} ({digest})").replace(" ()", "")));
    }
    facts.push(("config hash", job.config_hash.clone()));
    if let Some(started) = &job.started_at {
        facts.push(("started", local_time(started)));
    }
    facts.push(("duration", job_duration(job)));
    facts.push(("cpu", job.cpu.map_or_else(|| "-".into(), duration)));
    let rss = mib(job.peak_rss_kb);
    facts.push(("peak RSS", if rss == "-" { rss } else { format!("{rss} MiB") }));
    facts.push(("flaky", if job.flaky { "yes" } else { "no" }.into()));
    if let Some(coverage) = &job.coverage {
        facts.push(("coverage", coverage.describe()));
    }
    if let Some(ccache) = &job.ccache {
        facts.push(("ccache", format!("{}, {} misses", ccache.describe(), ccache.misses)));
    }
    if let Some(kind) = job.failure_kind {
        let how = job.how_it_ended().map(|h| format!(" ({h})")).unwrap_or_default();
        facts.push(("failure", format!("{kind}{how}")));
    }
    let optional = [("reason", job.reason.clone()), ("reused from", job.reused_from.map(|r| format!("run #{r}")))];
    facts.extend(optional.into_iter().filter_map(|(label, value)| value.map(|v| (label, v))));
    match (&job.work_dir, &job.started_at) {
        (Some(dir), _) => facts.push(("work dir", dir.display().to_string())),
        (None, Some(_)) => facts.push(("work dir", "(removed)".into())),
        (None, None) => {}
    }
    facts
}

/// The failure excerpt the run kept, else the last lines of the last step's log.
fn log_tail(job: &JobRecord) -> Option<(String, Vec<String>)> {
    let last = job.steps.last();
    let from = last.map_or_else(|| "the job's log".to_string(), |s| s.log.display().to_string());
    if !job.log_tail.is_empty() {
        return Some((from, job.log_tail.clone()));
    }
    let lines = read_tail(&last?.log).ok()?;
    (!lines.is_empty()).then_some((from, lines))
}

/// The last [`TAIL_LINES`] lines of a file, reading no more than [`TAIL_BYTES`] of its end.
fn read_tail(path: &std::path::Path) -> std::io::Result<Vec<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
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

/// `compare A B`: a title line, then each section with its count and a line per job.
pub fn comparison(a: &RunReport, b: &RunReport, cmp: &Comparison) -> String {
    let (ra, rb) = (&a.run, &b.run);
    let mut text = format!(
        "run {} ({}, {}) → run {} ({}, {})\n",
        ra.id,
        one_line(&ra.project),
        ra.status,
        rb.id,
        one_line(&rb.project),
        rb.status
    );
    let flips = |list: &[Flip]| -> Vec<(String, String)> {
        list.iter()
            .map(|f| {
                let kind = f.failure_kind.map(|k| format!(" ({k})")).unwrap_or_default();
                (f.slug.clone(), format!("{} → {}{kind}", f.before, f.after))
            })
            .collect()
    };
    let lone = |list: &[Lone]| -> Vec<(String, String)> {
        list.iter().map(|l| (l.slug.clone(), l.status.to_string())).collect()
    };
    section(&mut text, "newly failing", &flips(&cmp.newly_failing));
    section(&mut text, "fixed", &flips(&cmp.fixed));
    section(&mut text, "still failing", &flips(&cmp.still_failing));
    let slower: Vec<(String, String)> = cmp
        .slower
        .iter()
        .map(|s| (s.slug.clone(), format!("{} → {}", human_duration(s.before_ms), human_duration(s.after_ms))))
        .collect();
    #[allow(clippy::cast_precision_loss)] // a handful of milliseconds
    let title = format!("slower (> {SLOWER_RATIO}× and ≥ {}s)", SLOWER_MIN_MS as f64 / 1000.0);
    section(&mut text, &title, &slower);
    section(&mut text, &format!("only in run {}", ra.id), &lone(&cmp.only_in_a));
    section(&mut text, &format!("only in run {}", rb.id), &lone(&cmp.only_in_b));
    if !cmp.coverage.is_empty() {
        let rows: Vec<(String, String)> = cmp
            .coverage
            .iter()
            .map(|c| (c.slug.clone(), format!("{:.1} % → {:.1} % ({:+.1})", c.before, c.after, c.after - c.before)))
            .collect();
        section(&mut text, "line coverage changed", &rows);
    }
    text
}

/// `\nnewly failing: 2` and the jobs, slugs aligned.
fn section(text: &mut String, title: &str, rows: &[(String, String)]) {
    let _ = writeln!(text, "\n{title}: {}", rows.len());
    let width = rows.iter().map(|(slug, _)| slug.chars().count()).max().unwrap_or(0);
    for (slug, note) in rows {
        let _ = writeln!(text, "  {slug:<width$}  {note}");
    }
}

/// `stats`: per project a headline, then a table per section that has anything to show.
pub fn stats(style: Style, days: u32, projects: &[ProjectStats]) -> String {
    let span = if days == 1 { "the last day".to_string() } else { format!("the last {days} days") };
    if projects.is_empty() {
        return format!("no runs in {span}\n");
    }
    projects.iter().map(|p| project_stats(style, &span, p)).collect::<Vec<_>>().join("\n")
}

fn project_stats(style: Style, span: &str, p: &ProjectStats) -> String {
    let rate = p.success_rate.map_or_else(|| "no verdicts".to_string(), |r| format!("{} passed", percent(r)));
    let mut text = format!("{}: {} runs, {} jobs in {span}, {rate}\n", one_line(&p.project), p.runs, p.jobs);

    let mut table = style.table();
    table.set_header(["day (UTC)", "runs", "jobs", "passed", "failed"]);
    for d in &p.per_day {
        table.add_row([cell(&d.day), cell(d.runs), cell(d.jobs), cell(d.passed), cell(d.failed)]);
    }
    let _ = write!(text, "\n{table}\n");

    if !p.failure_kinds.is_empty() {
        let mut table = style.table();
        table.set_header(["failure kind", "jobs"]);
        for (kind, n) in &p.failure_kinds {
            table.add_row([cell(kind), cell(n)]);
        }
        let _ = write!(text, "\n{table}\n");
    }

    if let Some(pattern) = &p.failure_pattern {
        let _ = writeln!(text, "\nover these days, {}", one_line(pattern));
    }

    if !p.slowest.is_empty() {
        let mut table = style.table();
        table.set_header(["slowest cells", "runs", "mean", "p90", "passed", "failed", "flaky"]);
        for c in &p.slowest {
            table.add_row(cell_row(c));
        }
        let _ = write!(text, "\n{table}\n");
        if p.cells.len() > p.slowest.len() {
            let _ = writeln!(text, "({} cells in all; --json lists every one)", p.cells.len());
        }
    }

    if let Some(c) = &p.ccache {
        let rate = c.hit_rate.map_or_else(|| "no cacheable compiles".into(), |r| format!("{} hits", percent(r)));
        let _ =
            write!(text, "\nccache: {rate}: {} of {} cacheable compiles over {} jobs\n", c.hits, c.cacheable, c.jobs);
    }

    if !p.flaky.is_empty() {
        let mut table = style.table();
        table.set_header(["flaky cells", "passed on a retry", "passed and failed at one config"]);
        for f in p.flaky.iter().take(FLAKY_SHOWN) {
            table.add_row([cell(&f.slug), cell(f.flaky), cell(if f.unstable { "yes" } else { "no" })]);
        }
        let _ = write!(text, "\n{table}\n");
        if p.flaky.len() > FLAKY_SHOWN {
            let _ = writeln!(text, "({} flaky cells in all; --json lists every one)", p.flaky.len());
        }
    }
    text
}

fn cell_row(c: &CellStats) -> [comfy_table::Cell; 7] {
    [
        cell(&c.slug),
        cell(c.runs),
        cell(human_duration(c.mean_ms)),
        cell(human_duration(c.p90_ms)),
        cell(c.passed),
        cell(c.failed),
        cell(c.flaky),
    ]
}

/// `83.3 %`.
pub fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// `plan`: per project its jobs in a table (a column per key), with what cannot run here and
/// why, and a line of counts.
pub fn plan_tables(style: Style, plans: &[Plan], folder: bool) -> String {
    let mut out = String::new();
    for (i, plan) in plans.iter().enumerate() {
        if folder {
            if i > 0 {
                out.push('\n');
            }
            let _ =
                writeln!(out, "{} ({})", plan.matrix.project.name, one_line(&plan.matrix.file.path.to_string_lossy()));
        }
        let mut keys: Vec<&str> = Vec::new();
        for job in &plan.jobs {
            for (k, _) in job.cell.iter() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let mut table = style.table();
        let mut header = vec!["slug"];
        header.extend(keys.iter().copied());
        header.push("state");
        // Where cells may go beyond this host, each ready cell says where.
        let routed = plan.places.len() > 1;
        if routed {
            header.push("runs on");
        }
        header.push("reason");
        table.set_header(header.into_iter().map(cell));
        for job in &plan.jobs {
            let mut row = vec![cell(&job.slug)];
            row.extend(keys.iter().map(|k| cell(job.cell.text(k).unwrap_or(""))));
            row.push(cell(job.availability.state()).fg(match job.availability {
                Availability::Ready => Color::Green,
                Availability::Unsupported(_) => Color::Yellow,
                Availability::Unavailable(_) => Color::DarkGrey,
            }));
            if routed {
                let places: Vec<&str> = job.places.iter().map(|p| plan.places[*p].name()).collect();
                row.push(cell(places.join(", ")));
            }
            row.push(cell(
                job.availability.reason().map(str::to_string).or_else(|| job.tools.note()).unwrap_or_default(),
            ));
            table.add_row(row);
        }
        if !plan.jobs.is_empty() {
            let _ = writeln!(out, "{table}");
        }
        let _ = writeln!(out, "{}", plan_summary(plan));
        for (kind, word) in
            [(crate::config::PipelineKind::Setup, "before"), (crate::config::PipelineKind::Finally, "after")]
        {
            let of_kind: Vec<String> = plan
                .pipeline
                .iter()
                .filter(|p| p.kind == kind)
                .map(|p| {
                    let values = p.per.describe();
                    if values.is_empty() {
                        p.slug.clone()
                    } else {
                        format!("{} ({values})", p.slug)
                    }
                })
                .collect();
            if !of_kind.is_empty() {
                let _ = writeln!(out, "{word} the cells, on this host: {}", one_line(&of_kind.join(", ")));
            }
        }
    }
    out
}

/// `12 jobs: 8 ready, 2 unsupported, 2 unavailable (of 20 cells; filters left out 8)`.
fn plan_summary(plan: &Plan) -> String {
    let count = |state: &str| plan.jobs.iter().filter(|j| j.availability.state() == state).count();
    let mut line = format!(
        "{} job{}: {} ready, {} unsupported, {} unavailable",
        plan.jobs.len(),
        if plan.jobs.len() == 1 { "" } else { "s" },
        count("ready"),
        count("unsupported"),
        count("unavailable"),
    );
    let left_out = plan.total_cells - plan.jobs.len();
    if left_out > 0 {
        let _ = write!(line, " (of {} cells; filters left out {left_out})", plan.total_cells);
    }
    line
}

/// `toolchains`: the platform, each compiler with the standards it accepts, each LLVM.
pub fn toolchains(style: Style, host: &Host) -> String {
    let mut text = format!("platform: {} ({})\n", host.platform, host.arch);
    let mut table = style.table();
    table.set_header(["compiler", "version", "C++ standards accepted", "C", "C++"]);
    for c in &host.compilers {
        let accepted: Vec<&str> = Standard::KNOWN
            .iter()
            .copied()
            .filter(|s| Standard::parse(s).is_some_and(|std| c.standards.get(std.flag()) == Some(&true)))
            .collect();
        table.add_row([
            cell(&c.name),
            cell(&c.version),
            cell(accepted.join(" ")),
            cell(c.cc.display()),
            cell(c.cxx.display()),
        ]);
    }
    if host.compilers.is_empty() {
        text.push_str("no gcc or clang found on PATH\n");
    } else {
        let _ = writeln!(text, "{table}");
    }
    if !host.llvms.is_empty() {
        let mut table = style.table();
        table.set_header(["llvm", "version", "llvm-config", "cmake dir (LLVM_DIR)"]);
        for l in &host.llvms {
            table.add_row([
                cell(&l.major),
                cell(&l.version),
                cell(l.config.display()),
                cell(l.cmake_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default()),
            ]);
        }
        let _ = writeln!(text, "{table}");
    }
    text
}

/// The build hosts `gridrun hosts` lists, with what each said where they were probed, and whether
/// this host takes cells too.
pub fn hosts(style: Style, rows: &[crate::plan::HostListing], local: bool, probed: bool) -> String {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut table = style.table();
    let mut header = vec!["host", "ssh", "platform", "arch", "cpus", "memory", "jobs", "work_dir"];
    if probed {
        header.extend(["answered", "compilers"]);
    }
    table.set_header(header.into_iter().map(cell));
    for row in rows {
        let host = &row.host;
        let mut line = vec![
            cell(&host.name),
            cell(&host.target),
            cell(or_dash(host.platform.clone())),
            cell(or_dash(host.arch.clone())),
            cell(or_dash(host.cpus.map(|c| c.to_string()))),
            cell(host.memory.map_or_else(|| "-".into(), |m| mib(Some(m / 1024)))),
            cell(or_dash(host.jobs.map(|j| j.to_string()))),
            cell(&host.work_dir),
        ];
        if let Some(probe) = row.probed.as_ref().filter(|_| probed) {
            let answered = match &probe.error {
                None => "yes".to_string(),
                Some(why) => format!("no: {why}"),
            };
            let compilers: Vec<String> =
                probe.compilers.iter().flatten().map(|c| format!("{} {}", c.name, c.version)).collect();
            line.push(cell(answered));
            line.push(cell(compilers.join(", ")));
        }
        table.add_row(line);
    }
    let mut out = String::new();
    if !rows.is_empty() {
        let _ = writeln!(out, "{table}");
    }
    out.push_str(if local { "this host takes cells too\n" } else { "this host takes no cells (local = false)\n" });
    out
}

/// What `gridrun merge` did: a line per run it made, and per source run it left alone.
pub fn merged(outcome: &crate::store::MergeOutcome) -> String {
    let mut text = String::new();
    for (source, run) in &outcome.running {
        let _ = writeln!(text, "{} run {run}: still running; merge it when it has finished", source.display());
    }
    for (source, run, here) in &outcome.already {
        let _ = writeln!(text, "{} run {run}: already merged as run {here}", source.display());
    }
    for merged in &outcome.merged {
        let from: Vec<String> = merged.from.iter().map(|(dir, run)| format!("{} run {run}", dir.display())).collect();
        let commit = short_commit(&merged.commit, false);
        let at = if commit.is_empty() { String::new() } else { format!(" at {commit}") };
        let _ = writeln!(
            text,
            "run {}: {}{at}, {} job{}, {} (from {})",
            merged.run,
            merged.project,
            merged.jobs,
            if merged.jobs == 1 { "" } else { "s" },
            merged.status,
            from.join(", ")
        );
    }
    if outcome.merged.is_empty() && outcome.already.is_empty() && outcome.running.is_empty() {
        text.push_str("nothing to merge: the sources hold no runs\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_memory_read_naturally() {
        assert_eq!(duration(Duration::ZERO), "0.0s");
        assert_eq!(duration(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(duration(Duration::from_secs(187)), "3m 07s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h 02m");
        assert_eq!(mib(Some(10_788)), "10.5");
        assert_eq!(mib(Some(0)), "-");
        assert_eq!(mib(None), "-");
    }

    #[test]
    fn rates_print_to_one_decimal() {
        assert_eq!(percent(0.833_33), "83.3 %");
        assert_eq!(percent(1.0), "100.0 %");
    }
}
