//! Every file in `tests/malformed/` is a broken matrix file whose first line,
//! `# expect: LINE:COL: message`, is the exact error `gridrun plan` must print for it (after
//! `error: NAME.toml:`). A file whose error has no place in the file writes just the message.
//!
//! All fixtures run before the test fails, so one run lists every mismatch.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The fewest fixtures the folder may hold.
const MIN_FIXTURES: usize = 25;

const EXPECT_PREFIX: &str = "# expect: ";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("malformed")
}

fn fixtures(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "toml"))
        .map(|path| path.file_name().expect("a file name").to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The `# expect:` text of a fixture: its first line, read as bytes so a fixture may hold
/// invalid UTF-8 further down.
fn expectation(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the fixture: {e}"))?;
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let first = first.trim_end_matches('\r');
    match first.strip_prefix(EXPECT_PREFIX) {
        Some(expected) if !expected.trim().is_empty() => Ok(expected.to_string()),
        _ => Err(format!("the first line must be `{EXPECT_PREFIX}LINE:COL: message`, found `{first}`")),
    }
}

/// Whether an expected message starts with `LINE:COL: `.
fn has_location(expected: &str) -> bool {
    let mut parts = expected.splitn(3, ':');
    let is_number = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    is_number(parts.next()) && is_number(parts.next()) && parts.next().is_some_and(|rest| rest.starts_with(' '))
}

/// Runs `gridrun plan NAME` in the fixture folder and returns what is wrong with its output,
/// if anything.
fn check(dir: &Path, name: &str) -> Vec<String> {
    let expected = match expectation(&dir.join(name)) {
        Ok(expected) => expected,
        Err(problem) => return vec![problem],
    };
    let located = has_location(&expected);
    let want_first = if located { format!("error: {name}:{expected}") } else { format!("error: {name}: {expected}") };

    let state = tempfile::tempdir().expect("a temporary state folder");
    let output = Command::cargo_bin("gridrun")
        .expect("the gridrun binary")
        .arg("plan")
        .arg(name)
        .current_dir(dir)
        .env("GRIDRUN_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60))
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => return vec![format!("cannot run gridrun: {e}")],
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();

    if output.status.code() != Some(2) {
        problems.push(format!("exit code: want 2, got {:?}", output.status.code()));
    }
    let first = stderr.lines().next().unwrap_or("");
    if first != want_first {
        problems.push(format!("first line:\n      want: {want_first}\n      got:  {first}"));
    }
    let has_caret = stderr.lines().skip(1).any(|line| line.trim_start().starts_with('|') && line.contains('^'));
    if located && !has_caret {
        problems.push("no caret line (`  | ^^^`) under the source line".into());
    }
    if !located && stderr.lines().count() > 1 {
        problems.push("an error with no place in the file should be one line, without a snippet".into());
    }
    if stderr.contains("panicked") {
        problems.push("gridrun panicked".into());
    }
    if !problems.is_empty() {
        problems.push(format!("full stderr:\n{}", indent(&stderr)));
    }
    problems
}

fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "      (empty)".into();
    }
    text.lines().map(|line| format!("      {line}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn malformed_matrix_files_get_exact_errors() {
    let dir = fixture_dir();
    let names = fixtures(&dir);
    assert!(
        names.len() >= MIN_FIXTURES,
        "{} holds {} fixtures; want at least {MIN_FIXTURES}",
        dir.display(),
        names.len()
    );

    let mut report = String::new();
    let mut failed = 0;
    for name in &names {
        let problems = check(&dir, name);
        if problems.is_empty() {
            continue;
        }
        failed += 1;
        let _ = writeln!(report, "\n{name}:");
        for problem in problems {
            let _ = writeln!(report, "  - {problem}");
        }
    }
    assert!(failed == 0, "{failed} of {} malformed fixtures got the wrong error:\n{report}", names.len());
}

#[test]
fn expectations_are_read_with_and_without_a_location() {
    assert!(has_location("8:2: unknown key `limit` at the top level"));
    assert!(has_location("12:1: missing field `run`"));
    assert!(!has_location("no steps: add [[steps]]"));
    assert!(!has_location("cannot read: stream did not contain valid UTF-8"));
    assert!(!has_location("8:x: nothing"));
}
