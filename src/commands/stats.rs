//! `gridrun stats [--days N] [--project P] [--json]`: how the grid has fared over the last N days,
//! per project; the store does the arithmetic (`store::stats`), this prints it.

use std::process::ExitCode;

use super::Context;
use crate::cli::StatsArgs;
use crate::error::Result;

pub(super) fn run(ctx: &Context, args: &StatsArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let projects = recorded.stats(args.days, args.project.as_deref())?;
    if args.json {
        let doc = serde_json::json!({ "schema": crate::outcome::SCHEMA, "days": args.days, "projects": projects });
        super::print_json(&doc, "the statistics")?;
    } else {
        super::print_out(crate::report::terminal::stats(ctx.style, args.days, &projects), "the statistics")?;
    }
    Ok(ExitCode::SUCCESS)
}
