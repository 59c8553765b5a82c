//! `gridrun show RUN[/JOB]`: a run (a header, its grid, a line per job) or one job; `--json`
//! prints the DESIGN §4 document instead.

use std::process::ExitCode;

use super::Context;
use crate::cli::ShowArgs;
use crate::error::{Error, Result};
use crate::locate::split_target;
use crate::report::terminal;

pub(super) fn run(ctx: &Context, args: &ShowArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let (run_part, slug) = split_target(&args.target)?;
    let run = recorded.run(run_part)?;
    let store = &recorded.store;
    let text = match slug {
        None if args.json => return json(&store.report(&run)?),
        None => terminal::show_run(ctx.style, &store.report(&run)?, args.pivot.as_ref()).map_err(Error::Usage)?,
        Some(slug) => {
            let job = store.job_report(recorded.job(&run, slug)?)?;
            if args.json {
                return json(&job.alone(run.id));
            }
            let removed = store.logs_removed_at(run.id)?;
            terminal::show_job(ctx.style, &run, &job, removed.as_deref())
        }
    };
    super::print_out(text, "the run")?;
    Ok(ExitCode::SUCCESS)
}

fn json(doc: &impl serde::Serialize) -> Result<ExitCode> {
    super::print_json(doc, "the run")?;
    Ok(ExitCode::SUCCESS)
}
