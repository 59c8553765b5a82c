//! The `gridrun` binary: parse arguments, run the command, map the result to an exit code.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;

fn main() -> ExitCode {
    gridrun::error::install_panic_hook();
    let cli = match gridrun::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage(&err),
    };
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

/// Help and version as clap prints them (exit 0); any other command-line error as one line,
/// `error: --flag value: why`, and exit 2, like every other error gridrun reports.
fn usage(err: &clap::Error) -> ExitCode {
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let line = match (err.kind(), err.get(ContextKind::InvalidArg), err.get(ContextKind::InvalidValue)) {
        (ErrorKind::ValueValidation, Some(ContextValue::String(arg)), Some(ContextValue::String(value))) => {
            // `--older-than <DURATION>`: the flag as the user typed it.
            let flag = arg.split_whitespace().next().unwrap_or(arg);
            let why = std::error::Error::source(err).map_or_else(|| "invalid value".to_string(), ToString::to_string);
            format!("{flag} {value}: {why}")
        }
        _ => {
            // clap's own words, its tips folded onto the one line.
            let rendered = err.render().to_string();
            rendered
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .map(|l| l.strip_prefix("error: ").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    gridrun::term::to_stderr(&format!("error: {}\n", gridrun::text::one_line(&line)));
    ExitCode::from(2)
}
