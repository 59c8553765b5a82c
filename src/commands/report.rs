//! `gridrun report [RUN]`: a recorded run as an HTML page, Markdown, JUnit XML or JSON, against
//! a `--baseline` run where the format can say what changed; to stdout, or to `-o`.

use std::process::ExitCode;

use super::recorded::{self, Recorded};
use super::Context;
use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::outcome::RunReport;
use crate::outfile::{self, Destination};
use crate::report::format::{Export, Json, ReportError};
use crate::report::html::Html;
use crate::report::junit::Junit;
use crate::report::markdown::Markdown;

pub(super) fn run(ctx: &Context, args: &ReportArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
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
    match args.output.as_ref().unwrap_or(&Destination::Stdout) {
        Destination::Stdout => recorded::written(outfile::write(&Destination::Stdout, &bytes), "the report")?,
        path @ Destination::Path(_) => {
            outfile::write(path, &bytes).map_err(Error::io(format!("cannot write {}", path.display())))?;
        }
    }
    Ok(ExitCode::SUCCESS)
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
