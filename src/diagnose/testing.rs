//! What the recognisers' tests share: the captured logs under `tests/fixtures/logs/`, and a short
//! form of what [`parse`] finds in a log, to write down as data.

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
pub(super) type Summary<'a> = (&'a str, &'a str, Option<&'a str>, Option<u32>, Option<u32>, &'a str);

pub(super) fn summaries(found: &[Diagnostic]) -> Vec<Summary<'_>> {
    found
        .iter()
        .map(|d| (d.severity.as_str(), d.kind.as_str(), d.file.as_deref(), d.line, d.col, &*d.message))
        .collect()
}

/// A log and every diagnostic [`parse`] finds in it, in log order.
pub(super) type Expected = (&'static str, &'static [Summary<'static>]);

/// Parses each log and compares all it finds with what is expected of it.
pub(super) fn assert_each_parses_to(logs: &[Expected]) {
    for &(log, expected) in logs {
        assert_eq!(summaries(&diagnose(log)), expected, "in this log:\n{log}");
    }
}
