//! `gridrun collect [RUN]`: folds what a Slurm run's tasks have finished into the run, and says
//! what is still queued or running; once every task is in, the run's summary, as `run` ends with.
//! Nothing of gridrun's has to stay alive between `run --detach` and this.

use std::process::ExitCode;

use super::Context;
use crate::cli::CollectArgs;
use crate::error::{Error, Result};
use crate::outcome::RunStatus;
use crate::slurm::collect;

pub(super) fn run(ctx: &Context, args: &CollectArgs) -> Result<ExitCode> {
    let mut recorded = ctx.recorded(args.matrix.as_deref())?;
    let run = match &args.run {
        Some(which) => recorded.run(which)?.id,
        None => recorded.store.latest_slurm_run()?.ok_or_else(|| {
            Error::Usage(format!("no run in {} was submitted to Slurm", recorded.state_dir.display()))
        })?,
    };
    let spec = crate::slurm::submit::spec_of(&recorded.store, run)?
        .ok_or_else(|| Error::Usage(format!("run {run} was not submitted to Slurm")))?;
    let before = recorded.store.run(&run.to_string())?;
    if before.status != RunStatus::Running {
        crate::note!("run {run} is over ({}); nothing to collect", before.status);
        return Ok(ExitCode::SUCCESS);
    }
    let got = collect::collect(&mut recorded.store, &spec, false)?;
    match got.ended {
        Some(status) => {
            let report = recorded.store.report(&recorded.store.run(&run.to_string())?)?;
            super::print_out(crate::report::terminal::run_summary(ctx.style, &report, None), "the summary")?;
            Ok(ExitCode::from(u8::from(status == RunStatus::Failed)))
        }
        None => {
            let left = collect::unfolded(&recorded.store, &spec)?.len();
            super::print_out(got.progress(run, left), "the progress")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
