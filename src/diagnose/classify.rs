//! Why a step failed, in one [`FailureKind`]: from how it ended, the diagnostics found in its log,
//! the log's last lines and, when they say nothing, the step's name. A missing or broken compiler
//! is told apart from a bad project by what CMake, the shell and the driver print about it.

use super::linker::is_link_summary;
use super::programs::{basename, looks_like_compiler};
use crate::outcome::{Diagnostic, DiagnosticKind, FailureKind, StepStatus};
use crate::text::strip_ansi;

/// Step names that mean configuring, testing and building (gridrun's own presets say
/// `configure`, `build` and `test`; users pick their own).
const CONFIGURE_STEP_WORDS: [&str; 4] = ["configure", "cmake", "setup", "config"];
const TEST_STEP_WORDS: [&str; 3] = ["test", "check", "ctest"];
const BUILD_STEP_WORDS: [&str; 3] = ["build", "compile", "make"];

/// Why a step failed, given how it ended.
///
/// In order: the status decides timeouts, memory and cancellation; then a configure failure (a
/// CMake error, or a configure-like step name with no compile or link error) is
/// [`FailureKind::Toolchain`] when the log shows the compiler itself missing or broken, else
/// [`FailureKind::Configure`]; then a missing or broken tool anywhere; then link, compile and
/// test errors; then the step's name; then [`FailureKind::Infra`]. Only errors count: warnings
/// never decide.
pub fn classify(
    step_status: StepStatus,
    step_name: &str,
    diagnostics: &[Diagnostic],
    log_tail: &[String],
) -> FailureKind {
    match step_status {
        StepStatus::TimedOut => return FailureKind::Timeout,
        StepStatus::MemoryExceeded => return FailureKind::Memory,
        StepStatus::Cancelled => return FailureKind::Cancelled,
        StepStatus::Passed | StepStatus::Failed | StepStatus::Skipped => {}
    }
    let step = step_name.to_ascii_lowercase();
    let named = |words: &[&str]| words.iter().any(|w| step.contains(w));
    let has = |kind| diagnostics.iter().any(|d| d.kind == kind && d.severity.is_error());
    let linked = has(DiagnosticKind::Link) || log_tail.iter().any(|l| is_link_summary(l));
    let compiled = has(DiagnosticKind::Compile);
    let toolchain = shows_broken_toolchain(diagnostics, log_tail);
    if has(DiagnosticKind::Configure) || (named(&CONFIGURE_STEP_WORDS) && !linked && !compiled) {
        return if toolchain { FailureKind::Toolchain } else { FailureKind::Configure };
    }
    if toolchain {
        FailureKind::Toolchain
    } else if linked {
        FailureKind::Link
    } else if compiled {
        FailureKind::Compile
    } else if has(DiagnosticKind::Sanitizer) {
        FailureKind::Sanitizer
    } else if has(DiagnosticKind::Test) || named(&TEST_STEP_WORDS) {
        FailureKind::Test
    } else if named(&BUILD_STEP_WORDS) {
        FailureKind::Compile
    } else {
        FailureKind::Infra
    }
}

/// Whether any message, context line or tail line says the toolchain is missing or broken.
fn shows_broken_toolchain(diagnostics: &[Diagnostic], log_tail: &[String]) -> bool {
    let from_diagnostics = diagnostics.iter().flat_map(|d| std::iter::once(&d.message).chain(&d.context));
    from_diagnostics.chain(log_tail).any(|line| says_toolchain_broken(&strip_ansi(line)))
}

/// What CMake, the shell and the compiler driver print when a compiler is missing or cannot run.
const TOOLCHAIN_SIGNS: [&str; 9] = [
    "is not able to compile a simple test program",
    "is not a full path and was not found in the PATH",
    "Could not find compiler set in environment variable",
    "_COMPILER not set, after EnableLanguage",
    "command not found",
    "Command not found",
    "cannot execute binary file",
    "Exec format error",
    // gcc's driver without its cc1plus: "cannot execute 'cc1plus': execvp: No such file…"
    "cannot execute '",
];

fn says_toolchain_broken(line: &str) -> bool {
    let line = line.trim();
    TOOLCHAIN_SIGNS.iter().any(|sign| line.contains(sign))
        || (line.contains("No CMAKE_") && line.contains("_COMPILER could be found"))
        || line.ends_with(": not found")
        || names_missing_compiler(line)
}

/// `make: g++-99: No such file or directory`; not `fatal error: nosuch.h: No such file…`.
fn names_missing_compiler(line: &str) -> bool {
    line.strip_suffix(": No such file or directory")
        .and_then(|before| before.rsplit(": ").next())
        .is_some_and(|name| looks_like_compiler(basename(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{diagnose, fixture};

    const GCC_TYPE_ERROR: &str = fixture!("gcc-12-type-error");
    const GCC_WARNING: &str = fixture!("gcc-12-warning");
    const SH_COMPILER_NOT_FOUND: &str = fixture!("ninja-sh-compiler-not-found");
    const MAKE_COMPILER_MISSING: &str = fixture!("make-compiler-missing");

    fn tail(log: &str) -> Vec<String> {
        log.lines().map(str::to_string).collect()
    }

    #[test]
    fn shell_and_make_missing_compiler_is_a_toolchain_failure() {
        for log in [SH_COMPILER_NOT_FOUND, MAKE_COMPILER_MISSING] {
            assert_eq!(diagnose(log), []);
            assert_eq!(
                classify(StepStatus::Failed, "build", &diagnose(log), &tail(log)),
                FailureKind::Toolchain,
                "{log}"
            );
        }
        let bash = tail("bash: line 1: g++-99: command not found");
        assert_eq!(classify(StepStatus::Failed, "build", &[], &bash), FailureKind::Toolchain);
        let binary = tail("bash: line 1: ./cxx: cannot execute binary file: Exec format error");
        assert_eq!(classify(StepStatus::Failed, "build", &[], &binary), FailureKind::Toolchain);
    }

    #[test]
    fn status_comes_first() {
        let errors = diagnose(GCC_TYPE_ERROR);
        assert_eq!(classify(StepStatus::TimedOut, "build", &errors, &[]), FailureKind::Timeout);
        assert_eq!(classify(StepStatus::MemoryExceeded, "build", &errors, &[]), FailureKind::Memory);
        assert_eq!(classify(StepStatus::Cancelled, "build", &errors, &[]), FailureKind::Cancelled);
    }

    #[test]
    fn link_summary_in_the_tail_alone_means_link() {
        assert_eq!(
            classify(StepStatus::Failed, "build", &[], &tail("collect2: error: ld returned 1 exit status")),
            FailureKind::Link
        );
        let clang = tail("clang++-19: \x1b[0;1;31merror: \x1b[0mlinker command failed with exit code 1");
        assert_eq!(classify(StepStatus::Failed, "build", &[], &clang), FailureKind::Link);
    }

    #[test]
    fn step_names_decide_when_the_log_does_not() {
        assert_eq!(classify(StepStatus::Failed, "Configure", &[], &[]), FailureKind::Configure);
        assert_eq!(classify(StepStatus::Failed, "unit-tests", &[], &[]), FailureKind::Test);
        assert_eq!(classify(StepStatus::Failed, "make-all", &[], &[]), FailureKind::Compile);
        assert_eq!(classify(StepStatus::Failed, "upload", &[], &[]), FailureKind::Infra);
        // A compile error in a step named like configure is still a compile error.
        assert_eq!(
            classify(StepStatus::Failed, "cmake-and-build", &diagnose(GCC_TYPE_ERROR), &[]),
            FailureKind::Compile
        );
        // Warnings alone decide nothing.
        assert_eq!(classify(StepStatus::Failed, "upload", &diagnose(GCC_WARNING), &[]), FailureKind::Infra);
    }
}
