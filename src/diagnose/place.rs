//! Where a line points, as each tool writes it: `file:line:col`, `file:line`, `<command-line>`,
//! or the name of the program that complains, before a severity word; `./` prefixes dropped so
//! that GCC's and Clang's paths to one file agree.

use super::programs::{basename, program_kind};
use crate::outcome::DiagnosticKind;

/// `file:line:col`, `file:line`, `<command-line>`, or a program (`clang`, `collect2`), as found
/// before a severity.
pub(super) enum Place {
    Source { file: String, line: Option<u32>, col: Option<u32> },
    Program(DiagnosticKind),
}

/// `foo:12` → (`foo`, 12).
pub(super) fn split_number(text: &str) -> Option<(&str, u32)> {
    let (head, tail) = text.rsplit_once(':')?;
    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head, tail.parse().ok()?))
}

/// The place before `: severity:` in a line; `None` when it is not one (indented source echoed
/// back, another program's name, prose).
pub(super) fn parse_place(place: &str) -> Option<Place> {
    if place.is_empty() || place.starts_with(char::is_whitespace) {
        return None;
    }
    if let Some((rest, last)) = split_number(place) {
        let (file, line, col) = match split_number(rest) {
            Some((file, line)) => (file, line, Some(last)),
            None => (rest, last, None),
        };
        return (!file.is_empty()).then(|| Place::Source { file: clean_path(file), line: Some(line), col });
    }
    if place.starts_with('<') && place.ends_with('>') {
        return Some(Place::Source { file: place.to_string(), line: None, col: None });
    }
    if place.contains(char::is_whitespace) {
        return None;
    }
    if let Some(kind) = program_kind(place) {
        return Some(Place::Program(kind));
    }
    // `ninja: error: …`, `git: error: …` are not the code's diagnostics; `foo.cpp: error: …` is.
    basename(place).contains('.').then(|| Place::Source { file: clean_path(place), line: None, col: None })
}

/// Clang prints the path it opened (`./inc/b.h`), GCC the one it was given (`inc/b.h`).
pub(super) fn clean_path(path: &str) -> String {
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_string()
}

/// `file:line:col` or `file:line` as one token (a sanitizer's frame, UBSan's place), with a file.
pub(super) fn split_place(text: &str) -> Option<(String, u32, Option<u32>)> {
    let (rest, last) = split_number(text)?;
    let (file, line, col) = match split_number(rest) {
        Some((file, line)) => (file, line, Some(last)),
        None => (rest, last, None),
    };
    (!file.is_empty() && !file.contains(char::is_whitespace)).then(|| (clean_path(file), line, col))
}
