//! `gridrun status` (alias `history`): the recent runs, newest first, one line each, or as JSON.

use std::process::ExitCode;

use super::Context;
use crate::cli::StatusArgs;
use crate::error::Result;
use crate::report::terminal;

pub(super) fn run(ctx: &Context, args: &StatusArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let runs = recorded.store.recent_runs(args.limit)?;
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&terminal::status_json(&runs)).expect("JSON of plain values");
        text.push('\n');
        text
    } else {
        terminal::status_lines(ctx.style, &runs)
    };
    super::print_out(text, "the runs")?;
    Ok(ExitCode::SUCCESS)
}
