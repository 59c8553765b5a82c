//! The `gridrun` binary: parse arguments, run the command, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gridrun::error::install_panic_hook();
    let cli = gridrun::cli::Cli::parse();
    match gridrun::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(snippet) = err.snippet() {
                eprintln!("{snippet}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}
