//! Errors in a matrix file, located by file, line and column, with the offending text under a
//! caret.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A byte range in a matrix file's text.
pub type Span = Range<usize>;

/// A matrix file's path (as the user will recognise it) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path, relative to the current directory where possible.
    pub path: PathBuf,
    /// The file's whole text.
    pub text: Arc<str>,
}

impl SourceFile {
    /// Builds an error located at `span` of this file.
    pub fn error(&self, span: Span, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self, span, message)
    }

    /// The text of `span`, or the empty string where the span is out of range.
    pub fn slice(&self, span: &Span) -> &str {
        self.text.get(span.clone()).unwrap_or("")
    }
}

/// Something wrong with a matrix file. Displays as one line, `file:line:col: message`; the
/// [`ConfigError::snippet`] shows the source line with a caret under the offending text.
#[derive(Debug, Clone)]
pub struct ConfigError {
    path: PathBuf,
    location: Option<Location>,
    message: String,
}

#[derive(Debug, Clone)]
struct Location {
    line: usize,
    col: usize,
    /// The part of the source line the snippet shows.
    source_line: String,
    width: usize,
    /// The caret's column within `source_line`.
    caret_col: usize,
}

impl ConfigError {
    /// An error at `span` of `file`.
    pub fn at(file: &SourceFile, span: Span, message: impl Into<String>) -> Self {
        Self { path: file.path.clone(), location: Some(locate(&file.text, span)), message: message.into() }
    }

    /// An error about a whole file (it cannot be read, say).
    pub fn whole_file(path: &Path, message: impl Into<String>) -> Self {
        Self { path: path.to_path_buf(), location: None, message: message.into() }
    }

    /// The file the error is in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The message without its location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line and column, where the error has one.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        self.location.as_ref().map(|l| (l.line, l.col))
    }

    /// The source line and a caret under the offending text, for a terminal; empty where the
    /// error has no location.
    pub fn snippet(&self) -> String {
        let Some(loc) = &self.location else { return String::new() };
        let number = loc.line.to_string();
        let pad = " ".repeat(number.len());
        format!(
            "{pad} |\n{number} | {}\n{pad} | {}{}",
            loc.source_line,
            " ".repeat(loc.caret_col - 1),
            "^".repeat(loc.width.max(1))
        )
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}:{}:{}: {}", self.path.display(), loc.line, loc.col, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// How many characters of the source line a snippet shows before the caret, and in all.
const SNIPPET_BEFORE: usize = 40;
const SNIPPET_WIDTH: usize = 120;

fn locate(text: &str, span: Span) -> Location {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[..start].matches('\n').count() + 1;
    let col = text[line_start..start].chars().count() + 1;
    // A span over several lines is underlined to the end of its first line.
    let width = text[start..end.min(line_end)].chars().count();
    // A long line is shown around the caret, not whole: a 5 MB line makes no 5 MB message.
    let whole = text[line_start..line_end].trim_end_matches('\r');
    let skip = (col - 1).saturating_sub(SNIPPET_BEFORE);
    let mut shown: String = whole.chars().skip(skip).take(SNIPPET_WIDTH).collect();
    let mut caret_col = col - skip;
    if skip > 0 {
        shown.insert(0, '…');
        caret_col += 1;
    }
    if whole.chars().count() > skip + SNIPPET_WIDTH {
        shown.push('…');
    }
    let width = width.min(SNIPPET_WIDTH.saturating_sub(caret_col - 1)).max(1);
    let source_line = crate::text::plain(&shown).replace('\t', " ");
    Location { line, col, source_line, width, caret_col }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The known word closest to `word`, where one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column_with_a_caret() {
        let file = SourceFile { path: "m.toml".into(), text: "[a]\nkey = 1\n".into() };
        let err = file.error(4..7, "unknown key `key`");
        assert_eq!(err.to_string(), "m.toml:2:1: unknown key `key`");
        assert_eq!(err.snippet(), "  |\n2 | key = 1\n  | ^^^");
    }

    #[test]
    fn a_long_line_is_shown_around_the_caret() {
        let line = format!("{}bad = 1{}", "x".repeat(5_000_000), "y".repeat(5_000_000));
        let file = SourceFile { path: "m.toml".into(), text: line.into() };
        let err = file.error(5_000_000..5_000_003, "unknown key `bad`");
        let snippet = err.snippet();
        assert!(snippet.len() < 500, "{} bytes", snippet.len());
        let lines: Vec<&str> = snippet.lines().collect();
        let caret = lines[2].chars().position(|c| c == '^').unwrap();
        let under: String = lines[1].chars().skip(caret).take(3).collect();
        assert_eq!(under, "bad", "{snippet}");
        assert_eq!(err.line_col(), Some((1, 5_000_001)));
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("cxx_standrd", ["compiler", "cxx_standard"]), Some("cxx_standard"));
        assert_eq!(did_you_mean("zzz", ["compiler", "cxx_standard"]), None);
    }
}
