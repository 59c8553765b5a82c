//! `gridrun gc [MATRIX] [--older-than 14d] [--dry-run]`: removes what runs past their retention
//! left on disk (see [`crate::gc`]) and says what went.

use std::process::ExitCode;

use super::Context;
use crate::cli::GcArgs;
use crate::error::{Error, Result};
use crate::gc::{self, Retention};

pub(super) fn run(ctx: &Context, args: &GcArgs) -> Result<ExitCode> {
    let retentions = match &args.older_than {
        Some(age) => vec![Retention::older_than(age.duration, &age.text)],
        None => {
            let found = crate::locate::matrix(args.matrix.as_deref()).map_err(|_| Error::Usage(gc::no_matrix()))?;
            let files = crate::config::load_path(&found)?;
            Retention::of_files(&files, &found).map_err(Error::Usage)?
        }
    };
    let mut recorded = ctx.recorded(args.matrix.as_deref())?;
    let state_dir = recorded.state_dir.clone();
    let text = gc::collect(&mut recorded.store, &state_dir, &retentions, args.dry_run)?;
    super::print_out(text, "what gc removed")?;
    Ok(ExitCode::SUCCESS)
}
