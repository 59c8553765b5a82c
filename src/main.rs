//! The `gridrun` binary: parse arguments, run the command, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gridrun::error::install_panic_hook();
    let cli = gridrun::cli::Cli::parse();
    match gridrun::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let mut text = format!("error: {}\n", gridrun::text::one_line(&err.to_string()));
            if let Some(snippet) = err.snippet() {
                text.push_str(&snippet);
                text.push('\n');
            }
            gridrun::term::to_stderr(&text);
            ExitCode::from(err.exit_code())
        }
    }
}
