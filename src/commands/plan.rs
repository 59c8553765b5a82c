//! `gridrun plan`: the jobs a matrix expands to on this host, as a table, JSON, or a GitHub
//! Actions matrix.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use super::Context;
use crate::cli::{PlanArgs, PlanFormat};
use crate::error::Result;
use crate::matrix::CellFilter;
use crate::plan::PlanError;
use crate::report::plan;
use crate::toolchain::Host;

pub(super) fn run(ctx: &Context, args: &PlanArgs) -> Result<ExitCode> {
    let (path, files) = ctx.load(args.selection.matrix.as_deref())?;
    let filter = CellFilter::new(&args.selection.filters, args.selection.cell.as_deref()).map_err(PlanError::from)?;
    let state_dir = ctx.state_dir(&path)?;
    let mut host = Host::detect(Some(state_dir.join("cache").join("toolchains.json")));
    let folder = files.len() > 1 || path.is_dir();
    let plans = crate::plan::build_all(files, &mut host, &filter, &state_dir, folder)?;
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = match args.format {
        PlanFormat::Table => out.write_all(crate::report::terminal::plan_tables(ctx.style, &plans, folder).as_bytes()),
        PlanFormat::Json => plan::json(&plans, folder, ctx.style.tty, &mut out),
        PlanFormat::Github => plan::github(&plans, folder, &mut out),
    };
    super::recorded::written(written.and_then(|()| out.flush()), "the plan")?;
    Ok(ExitCode::SUCCESS)
}
