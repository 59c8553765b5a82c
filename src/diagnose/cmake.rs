//! CMake's and CTest's lines: `CMake Error at CMakeLists.txt:12 (add_library):` and its kin,
//! whose message and call stack are the indented lines after them, and the lines under CTest's
//! `The following tests FAILED:`. The parser keeps which block it is in.

use super::place::split_number;
use crate::outcome::{Diagnostic, DiagnosticKind, Severity};

/// `CMake Error at CMakeLists.txt:12 (add_library):`, `CMake Error in CMakeLists.txt:`,
/// `CMake Error: message`, `CMake Warning (dev) at …:`. The indented lines after it are the
/// message.
pub(super) fn cmake_header(line: &str) -> Option<Diagnostic> {
    let rest = line.strip_prefix("CMake ")?;
    let levels = [
        ("Deprecation Error", Severity::Error),
        ("Deprecation Warning", Severity::Warning),
        ("Error", Severity::Error),
        ("Warning", Severity::Warning),
    ];
    let (severity, rest) = levels.iter().find_map(|&(word, severity)| Some((severity, rest.strip_prefix(word)?)))?;
    let rest = rest.strip_prefix(" (dev)").unwrap_or(rest);
    if let Some(message) = rest.strip_prefix(": ") {
        return Some(Diagnostic::new(severity, DiagnosticKind::Configure, message));
    }
    if rest == ":" {
        return Some(Diagnostic::new(severity, DiagnosticKind::Configure, ""));
    }
    let place = rest.strip_prefix(" at ").or_else(|| rest.strip_prefix(" in "))?.strip_suffix(':')?;
    let place = place.rsplit_once(" (").map_or(place, |(place, _command)| place);
    let (file, number) = match split_number(place) {
        Some((file, number)) => (file, Some(number)),
        None => (place, None),
    };
    Some(Diagnostic::new(severity, DiagnosticKind::Configure, "").at(Some(file.to_string()), number, None))
}

/// `Call Stack (most recent call first):` under a CMake message: the indented lines after it are
/// the message's context.
pub(super) fn is_call_stack_header(line: &str) -> bool {
    line.trim_end() == "Call Stack (most recent call first):"
}

/// CTest's `The following tests FAILED:`, before one line per failed test.
pub(super) fn is_ctest_failures_header(line: &str) -> bool {
    line.trim() == "The following tests FAILED:"
}

/// `\t  2 - grid (Failed)` under CTest's `The following tests FAILED:`.
pub(super) fn ctest_failure(line: &str) -> Option<Diagnostic> {
    let (number, rest) = line.trim().split_once(" - ")?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (name, status) = rest.strip_suffix(')')?.rsplit_once(" (")?;
    let message = format!("test {name} failed ({status})");
    Some(Diagnostic::new(Severity::Error, DiagnosticKind::Test, &message))
}

#[cfg(test)]
mod tests {
    use crate::diagnose::classify;
    use crate::diagnose::testing::{assert_each_parses_to, diagnose, fixture, summaries, Expected};
    use crate::outcome::{DiagnosticKind, FailureKind, Severity, StepStatus};

    const CMAKE_UNKNOWN_COMMAND: &str = fixture!("cmake-unknown-command");
    const CMAKE_NO_SOURCE: &str = fixture!("cmake-no-source");
    const CMAKE_COMPILER_NOT_FOUND: &str = fixture!("cmake-compiler-not-found");
    const CMAKE_BROKEN_COMPILER: &str = fixture!("cmake-broken-compiler");
    const CTEST_FAILURES: &str = fixture!("ctest-failures");

    /// Everything each log gives: severity, kind, file, line, column, message.
    #[rustfmt::skip]
    const FOUND: &[Expected] = &[
        (CMAKE_UNKNOWN_COMMAND, &[("error", "configure", Some("CMakeLists.txt"), Some(5), None, "Unknown CMake command \"add_libary\".")]),
        // A CMake error without a place.
        (CMAKE_NO_SOURCE, &[("error", "configure", None, None, None, "The source directory \"/src/nosuch\" does not exist.")]),
    ];

    #[test]
    fn each_log_gives_its_diagnostics() {
        assert_each_parses_to(FOUND);
    }

    #[test]
    fn cmake_unknown_command() {
        let found = diagnose(CMAKE_UNKNOWN_COMMAND);
        assert_eq!(classify(StepStatus::Failed, "configure", &found, &[]), FailureKind::Configure);
    }

    #[test]
    fn cmake_missing_compiler_is_a_toolchain_failure() {
        let found = diagnose(CMAKE_COMPILER_NOT_FOUND);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].file.as_deref(), found[0].line), (Some("CMakeLists.txt"), Some(2)));
        assert!(found[0].message.starts_with(
            "The CMAKE_CXX_COMPILER: g++-99 is not a full path and was not found in the PATH. Tell CMake"
        ));
        assert_eq!(classify(StepStatus::Failed, "configure", &found, &[]), FailureKind::Toolchain);
    }

    #[test]
    fn cmake_broken_compiler_quotes_its_output_inside_one_message() {
        let found = diagnose(CMAKE_BROKEN_COMPILER);
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = &found[0];
        assert_eq!(d.file.as_deref(), Some("/usr/share/cmake-3.25/Modules/CMakeTestCXXCompiler.cmake"));
        assert_eq!(d.line, Some(63));
        assert!(d
            .message
            .starts_with("The C++ compiler \"/tmp/diag/badcxx\" is not able to compile a simple test program."));
        assert!(d.message.ends_with("CMake will not be able to correctly generate this project."));
        assert_eq!(d.context, ["CMakeLists.txt:2 (project)"]);
        assert_eq!(classify(StepStatus::Failed, "configure", &found, &[]), FailureKind::Toolchain);
    }

    #[test]
    fn no_cmake_cxx_compiler_could_be_found() {
        let log = "CMake Error at CMakeLists.txt:2 (project):\n  No CMAKE_CXX_COMPILER could be found.\n\n  Tell CMake where to find the compiler.\n";
        let found = diagnose(log);
        assert_eq!(found[0].message, "No CMAKE_CXX_COMPILER could be found. Tell CMake where to find the compiler.");
        assert_eq!(classify(StepStatus::Failed, "configure", &found, &[]), FailureKind::Toolchain);
    }

    #[test]
    fn cmake_warnings_do_not_decide() {
        let log =
            "CMake Warning (dev) at CMakeLists.txt:3 (project):\n  Policy CMP0048 is not set.\n\n-- Configuring done\n";
        let found = diagnose(log);
        assert_eq!(
            summaries(&found),
            [("warning", "configure", Some("CMakeLists.txt"), Some(3), None, "Policy CMP0048 is not set.")]
        );
        assert_eq!(classify(StepStatus::Failed, "build", &found, &[]), FailureKind::Compile);
    }

    #[test]
    fn ctest_failed_list() {
        let found = diagnose(CTEST_FAILURES);
        let messages: Vec<_> = found.iter().map(|d| (d.kind, d.severity, d.file.clone(), d.message.as_str())).collect();
        assert_eq!(
            messages,
            [
                (DiagnosticKind::Test, Severity::Error, None, "test grid failed (Failed)"),
                (DiagnosticKind::Test, Severity::Error, None, "test slow failed (Timeout)"),
                (DiagnosticKind::Test, Severity::Error, None, "test crash failed (SEGFAULT)"),
                (DiagnosticKind::Test, Severity::Error, None, "test nosuch failed (Not Run)"),
            ]
        );
        assert_eq!(classify(StepStatus::Failed, "run", &found, &[]), FailureKind::Test);
    }
}
