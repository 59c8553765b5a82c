//! `gridrun completions SHELL`.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

pub(super) fn run(args: &CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "gridrun", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
