//! `gridrun merge STATE_DIR... [--all]`: the runs other machines recorded (the shards of one grid,
//! each run with `--shard K/N`) brought into this state folder with their logs and artifacts, the
//! shards of one grid folded into one run, so `report`, `show` and `compare` see the whole grid.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Context;
use crate::cli::MergeArgs;
use crate::error::{Error, Result};
use crate::report::terminal::short_commit;
use crate::store::{Store, DB_FILE};

pub(super) fn run(ctx: &Context, args: &MergeArgs) -> Result<ExitCode> {
    let matrix = if ctx.state_dir.is_some() { PathBuf::new() } else { Context::find_matrix(args.matrix.as_deref())? };
    let state_dir = ctx.state_dir(&matrix)?;
    let mut sources = Vec::with_capacity(args.sources.len());
    for given in &args.sources {
        let dir = source_dir(given)?;
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

    let mut text = String::new();
    for (source, run) in &outcome.running {
        let _ = writeln!(text, "{} run {run}: still running; merge it when it has finished", source.display());
    }
    for (source, run, here) in &outcome.already {
        let _ = writeln!(text, "{} run {run}: already merged as run {here}", source.display());
    }
    for merged in &outcome.merged {
        let from: Vec<String> = merged.from.iter().map(|(dir, run)| format!("{} run {run}", dir.display())).collect();
        let commit = short_commit(&merged.commit, false);
        let at = if commit.is_empty() { String::new() } else { format!(" at {commit}") };
        let _ = writeln!(
            text,
            "run {}: {}{at}, {} job{}, {} (from {})",
            merged.run,
            merged.project,
            merged.jobs,
            if merged.jobs == 1 { "" } else { "s" },
            merged.status,
            from.join(", ")
        );
    }
    if outcome.merged.is_empty() && outcome.already.is_empty() && outcome.running.is_empty() {
        text.push_str("nothing to merge: the sources hold no runs\n");
    }
    super::print_out(text, "the merge")?;
    Ok(ExitCode::SUCCESS)
}

/// The state folder `given` names: itself when it holds a store, else its `.gridrun`.
fn source_dir(given: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(given).map_err(Error::io("cannot resolve a source folder"))?;
    if absolute.join(DB_FILE).is_file() {
        return Ok(absolute);
    }
    if absolute.join(".gridrun").join(DB_FILE).is_file() {
        return Ok(absolute.join(".gridrun"));
    }
    Err(Error::Usage(format!("{}: no gridrun store there (no {DB_FILE}, nor .gridrun/{DB_FILE})", given.display())))
}
