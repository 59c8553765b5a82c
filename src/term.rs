//! What the terminal can take: colour (off under `NO_COLOR`, when piped, or by `--color`) and
//! its width.

use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// How output to stdout should look.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Whether to colour output.
    pub color: bool,
    /// Whether stdout is a terminal.
    pub tty: bool,
    /// The CI whose job log stdout is, if any.
    pub ci: CiLog,
}

/// A CI job log, which reads some lines of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiLog {
    /// Not a CI's log (or one that reads nothing).
    None,
    /// GitHub Actions, where a line starting `::` is a workflow command.
    Github,
    /// GitLab CI, which folds sections between markers.
    Gitlab,
}

impl Style {
    /// Decides from `--color`, `NO_COLOR` and whether stdout is a terminal.
    pub fn detect(choice: ColorChoice) -> Self {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        let set = |var: &str| std::env::var(var).is_ok_and(|v| v == "true");
        let ci = if set("GITHUB_ACTIONS") {
            CiLog::Github
        } else if set("GITLAB_CI") {
            CiLog::Gitlab
        } else {
            CiLog::None
        };
        Self { color, tty, ci }
    }

    /// Whether stdout is a GitHub Actions log.
    pub fn github(self) -> bool {
        self.ci == CiLog::Github
    }

    /// Job output (a log's last lines), made safe to echo: control characters and escape
    /// sequences gone, and under GitHub Actions fenced with `::stop-commands::` so that nothing a
    /// job printed can act as a workflow command.
    pub fn job_text(self, text: &str) -> String {
        let text = crate::text::plain(text);
        if self.github() {
            fence(&text)
        } else {
            text.into_owned()
        }
    }

    /// A comfy-table table set up for this output: UTF-8 borders and the terminal's width on a
    /// TTY, plain ASCII and no wrapping otherwise.
    pub fn table(self) -> comfy_table::Table {
        let mut table = comfy_table::Table::new();
        if self.tty {
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            // A pseudo-terminal may report no size (or a silly one); wrapping to it would put
            // one character per line.
            if table.width().is_some_and(|w| w >= 40) {
                table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
            }
        } else {
            table.load_style(comfy_table::presets::ASCII_MARKDOWN);
            table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        }
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table
    }
}

/// A table cell holding `value` on one line: control characters shown as escapes, so a value
/// from a matrix file or a job cannot move the cursor or break the table.
pub fn cell(value: impl std::fmt::Display) -> comfy_table::Cell {
    comfy_table::Cell::new(crate::text::one_line(&value.to_string()))
}

/// Writes `gridrun: <message>` on a line of its own to stderr. Unlike `eprintln!` it never panics:
/// a stderr that was closed (`2>&1 | head -1`) must not turn a note into a crash.
pub fn note(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    // Formatted first, then written at once: a line in pieces can be split by another writer.
    let _ = std::io::stderr().lock().write_all(format!("gridrun: {message}\n").as_bytes());
}

/// Writes `text` to stderr as it is, ignoring a stderr that went away.
pub fn to_stderr(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// `text` between `::stop-commands::TOKEN` and `::TOKEN::`, with a token nobody can guess: GitHub
/// Actions runs no workflow command in between. The text ends with a newline.
pub fn fence(text: &str) -> String {
    let token = fence_token();
    let newline = if text.ends_with('\n') || text.is_empty() { "" } else { "\n" };
    format!("::stop-commands::{token}\n{text}{newline}::{token}::\n")
}

/// 128 random bits as hex, from the standard library's per-process random hash keys.
pub fn fence_token() -> String {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let (a, b) = (state.hash_one(std::process::id()), state.hash_one(std::time::SystemTime::now()));
    format!("gridrun-{a:016x}{b:016x}")
}
