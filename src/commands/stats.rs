//! `gridrun stats [--days N] [--project P] [--json]`: how the grid has fared over the last N days,
//! per project — runs and jobs per day, success rate, failure kinds, the slowest cells, flaky and
//! unstable cells. The store does the arithmetic (see `store::stats`); this prints it, as compact
//! tables or as the JSON document `{"schema":1, "days":N, "projects":[…]}`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use comfy_table::Cell;

use super::recorded::{self, duration};
use super::Context;
use crate::cli::StatsArgs;
use crate::config::did_you_mean;
use crate::error::{Error, Result};
use crate::report::json::SCHEMA;
use crate::store::{CellStats, ProjectStats};
use crate::term::Style;

/// How many flaky cells the text lists, the flakiest first.
const FLAKY_SHOWN: usize = 10;

pub(super) fn run(ctx: &Context, args: &StatsArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    if let Some(project) = &args.project {
        let known = recorded.store.projects()?;
        if !known.contains(project) {
            let hint = match did_you_mean(project, known.iter().map(String::as_str)) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => format!(" (its projects: {})", known.join(", ")),
            };
            return Err(Error::Usage(format!("the store has no runs of project `{project}`{hint}")));
        }
    }
    // A window reaching past the epoch holds every run.
    let since = chrono::Utc::now().checked_sub_signed(chrono::Duration::days(i64::from(args.days))).unwrap_or_default();
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let projects = recorded.store.stats(&since, args.project.as_deref())?;
    let text = if args.json { json(args.days, &projects) } else { text(ctx.style, args.days, &projects) };
    let mut out = BufWriter::new(std::io::stdout().lock());
    recorded::written(out.write_all(text.as_bytes()).and_then(|()| out.flush()), "the statistics")?;
    Ok(ExitCode::SUCCESS)
}

fn json(days: u32, projects: &[ProjectStats]) -> String {
    let doc = serde_json::json!({ "schema": SCHEMA, "days": days, "projects": projects });
    let mut text = serde_json::to_string_pretty(&doc).expect("a document of strings and numbers serializes");
    text.push('\n');
    text
}

fn text(style: Style, days: u32, projects: &[ProjectStats]) -> String {
    let span = if days == 1 { "the last day".to_string() } else { format!("the last {days} days") };
    if projects.is_empty() {
        return format!("no runs in {span}\n");
    }
    let mut sections = Vec::new();
    for p in projects {
        sections.push(project_text(style, &span, p));
    }
    sections.join("\n")
}

/// One project: a headline, then a table per section that has anything to show.
fn project_text(style: Style, span: &str, p: &ProjectStats) -> String {
    let rate = p.success_rate.map_or_else(|| "no verdicts".to_string(), |r| format!("{} passed", percent(r)));
    let mut text = format!("{}: {} runs, {} jobs in {span}, {rate}\n", p.project, p.runs, p.jobs);

    let mut table = style.table();
    table.set_header(["day (UTC)", "runs", "jobs", "passed", "failed"]);
    for d in &p.per_day {
        table.add_row([
            crate::term::cell(&d.day),
            crate::term::cell(d.runs),
            crate::term::cell(d.jobs),
            crate::term::cell(d.passed),
            crate::term::cell(d.failed),
        ]);
    }
    text.push_str(&format!("\n{table}\n"));

    if !p.failure_kinds.is_empty() {
        let mut table = style.table();
        table.set_header(["failure kind", "jobs"]);
        for (kind, n) in &p.failure_kinds {
            table.add_row([crate::term::cell(kind), crate::term::cell(n)]);
        }
        text.push_str(&format!("\n{table}\n"));
    }

    if !p.slowest.is_empty() {
        let mut table = style.table();
        table.set_header(["slowest cells", "runs", "mean", "p90", "passed", "failed", "flaky"]);
        for c in &p.slowest {
            table.add_row(cell_row(c));
        }
        text.push_str(&format!("\n{table}\n"));
        if p.cells.len() > p.slowest.len() {
            text.push_str(&format!("({} cells in all; --json lists every one)\n", p.cells.len()));
        }
    }

    if !p.flaky.is_empty() {
        let mut table = style.table();
        table.set_header(["flaky cells", "passed on a retry", "passed and failed at one config"]);
        for f in p.flaky.iter().take(FLAKY_SHOWN) {
            table.add_row([
                crate::term::cell(&f.slug),
                crate::term::cell(f.flaky),
                crate::term::cell(if f.unstable { "yes" } else { "no" }),
            ]);
        }
        text.push_str(&format!("\n{table}\n"));
        if p.flaky.len() > FLAKY_SHOWN {
            text.push_str(&format!("({} flaky cells in all; --json lists every one)\n", p.flaky.len()));
        }
    }
    text
}

fn cell_row(c: &CellStats) -> [Cell; 7] {
    [
        crate::term::cell(&c.slug),
        crate::term::cell(c.runs),
        crate::term::cell(duration(c.mean_ms)),
        crate::term::cell(duration(c.p90_ms)),
        crate::term::cell(c.passed),
        crate::term::cell(c.failed),
        crate::term::cell(c.flaky),
    ]
}

/// `83.3 %`.
fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_to_one_decimal() {
        assert_eq!(percent(2.0 / 3.0), "66.7 %");
        assert_eq!(percent(1.0), "100.0 %");
    }
}
