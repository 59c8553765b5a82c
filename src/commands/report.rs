//! `gridrun report [RUN]`: a recorded run as an HTML page, Markdown, JUnit XML or JSON, against
//! a `--baseline` run where the format can say what changed; to stdout, or to `-o`.

use std::process::ExitCode;

use super::Context;
use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::locate::Recorded;
use crate::outcome::RunReport;
use crate::outfile::{self, Destination};
use crate::report::format::{Export, Json, ReportError};
use crate::report::html::Html;
use crate::report::junit::Junit;
use crate::report::markdown::Markdown;

pub(super) fn run(ctx: &Context, args: &ReportArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    if args.history {
        return history(&recorded, args);
    }
    let report = load(&recorded, &args.run)?;
    let baseline = args.baseline.as_deref().map(|b| load(&recorded, b)).transpose()?;
    let pivot = args.pivot.clone();
    let exporter: Box<dyn Export> = match args.format {
        // A report written once is a snapshot: only `run --report` rewrites its file as it goes.
        ReportFormat::Html => Box::new(Html { live: false, pivot }),
        ReportFormat::Md => Box::new(Markdown { pivot }),
        ReportFormat::Junit => Box::new(Junit),
        ReportFormat::Json => Box::new(Json),
    };
    let bytes = exporter.serialize(&report, baseline.as_ref()).map_err(report_error)?;
    write(args.output.as_ref().unwrap_or(&Destination::Stdout), &bytes, "the report")?;
    Ok(ExitCode::SUCCESS)
}

/// `report --history`: a page per project; with several projects and a file named, one file per
/// project beside it (`history.html` → `history.<project>.html`).
fn history(recorded: &Recorded, args: &ReportArgs) -> Result<ExitCode> {
    if args.format != ReportFormat::Html {
        return Err(Error::Usage("--history writes an HTML page; `gridrun stats --json` has the figures".into()));
    }
    let projects = recorded.stats(args.days, args.project.as_deref())?;
    if projects.is_empty() {
        let whose = args.project.as_ref().map_or_else(String::new, |p| format!(" of {p}"));
        return Err(Error::NoRuns(format!("no runs{whose} in the last {} days", args.days)));
    }
    let destination = args.output.clone().unwrap_or(Destination::Stdout);
    if projects.len() > 1 && matches!(destination, Destination::Stdout) {
        let names: Vec<&str> = projects.iter().map(|p| p.project.as_str()).collect();
        return Err(Error::Usage(format!(
            "{} projects ({}): name one with --project, or a file with -o for a page each",
            names.len(),
            names.join(", ")
        )));
    }
    for project in &projects {
        let page = crate::report::history::page(project, args.days).map_err(|e| Error::Usage(e.to_string()))?;
        let target = match &destination {
            Destination::Path(path) if projects.len() > 1 => {
                Destination::Path(outfile::per_project(path, &project.project))
            }
            other => other.clone(),
        };
        write(&target, page.as_bytes(), "the page")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `bytes` to stdout (a reader that went away is fine) or to a file.
fn write(destination: &Destination, bytes: &[u8], what: &str) -> Result<()> {
    match destination {
        Destination::Stdout => super::written(outfile::write(destination, bytes), what),
        Destination::Path(path) => {
            outfile::write(destination, bytes).map_err(Error::io(format!("cannot write {}", path.display())))
        }
    }
}

/// The run `which` names, read whole.
fn load(recorded: &Recorded, which: &str) -> Result<RunReport> {
    let run = recorded.run(which)?;
    Ok(recorded.store.report(&run)?)
}

/// A pivot the matrix does not have is bad usage; the rest cannot happen with a sound store but
/// still get one line and exit 2.
fn report_error(err: ReportError) -> Error {
    match err {
        ReportError::Xml(source) => Error::Io { context: "cannot write the JUnit report".into(), source },
        other => Error::Usage(other.to_string()),
    }
}
