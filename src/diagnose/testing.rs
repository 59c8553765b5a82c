//! What the recognisers' tests share: the captured logs under `tests/fixtures/logs/`, and short
//! forms of what [`parse`] finds in a log.

use super::parse;
use crate::outcome::Diagnostic;

/// A captured log, `tests/fixtures/logs/<name>.log`, byte for byte; the folder's README says how
/// each was made.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/logs/", $name, ".log"))
    };
}
pub(super) use fixture;

pub(super) fn diagnose(log: &str) -> Vec<Diagnostic> {
    parse(log.as_bytes())
}

/// Severity, kind, file, line, column and message of a diagnostic, for one-line asserts.
pub(super) type Summary = (&'static str, &'static str, Option<String>, Option<u32>, Option<u32>, String);

pub(super) fn summary(log: &str) -> Vec<Summary> {
    diagnose(log)
        .into_iter()
        .map(|d| (d.severity.as_str(), d.kind.as_str(), d.file, d.line, d.col, d.message))
        .collect()
}

pub(super) fn file(name: &str) -> Option<String> {
    Some(name.to_string())
}
