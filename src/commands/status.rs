//! `gridrun status` (alias `history`): the recent runs, newest first, one line each, or as JSON.

use std::process::ExitCode;

use super::Context;
use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::report::terminal;

pub(super) fn run(ctx: &Context, args: &StatusArgs) -> Result<ExitCode> {
    let recorded = match ctx.recorded(args.matrix.as_deref()) {
        // No history is an answer, not a failure: a CI step or a cron job asking is fine.
        Err(Error::NoRuns(message)) => {
            crate::note!("{message}");
            if args.json {
                super::print_out("[]\n", "the runs")?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        other => other?,
    };
    let runs = recorded.store.recent_runs(args.limit)?;
    if args.json {
        super::print_json(&terminal::status_json(&runs), "the runs")?;
    } else {
        super::print_out(terminal::status_lines(ctx.style, &runs), "the runs")?;
    }
    Ok(ExitCode::SUCCESS)
}
