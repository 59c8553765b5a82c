//! `gridrun merge STATE_DIR... [--all]`: the runs other machines recorded (the shards of one grid,
//! each run with `--shard K/N`) brought into this state folder with their logs and artifacts, the
//! shards of one grid folded into one run, so `report`, `show` and `compare` see the whole grid.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Context;
use crate::cli::MergeArgs;
use crate::error::{Error, Result};
use crate::store::Store;

pub(super) fn run(ctx: &Context, args: &MergeArgs) -> Result<ExitCode> {
    let matrix = if ctx.state_dir.is_some() { PathBuf::new() } else { crate::locate::matrix(args.matrix.as_deref())? };
    let state_dir = ctx.state_dir(&matrix)?;
    let mut sources = Vec::with_capacity(args.sources.len());
    for given in &args.sources {
        let dir = crate::store::merge_source(given).map_err(Error::Usage)?;
        let same = std::fs::canonicalize(&dir).ok() == std::fs::canonicalize(&state_dir).ok();
        if same {
            return Err(Error::Usage(format!("{}: that is the state folder being merged into", given.display())));
        }
        if !sources.contains(&dir) {
            sources.push(dir);
        }
    }
    let mut store = Store::open(&state_dir)?;
    let outcome = store.merge(&state_dir, &sources, args.all)?;

    let text = crate::report::terminal::merged(&outcome);
    super::print_out(text, "the merge")?;
    Ok(ExitCode::SUCCESS)
}
