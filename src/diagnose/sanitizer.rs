//! The reports of the sanitizers (AddressSanitizer, UndefinedBehaviorSanitizer, ThreadSanitizer,
//! MemorySanitizer, LeakSanitizer) as GCC's and Clang's runtimes print them: a headline
//! (`==123==ERROR: AddressSanitizer: heap-use-after-free on address …`, `WARNING:
//! ThreadSanitizer: data race (pid=…)`, UBSan's `file:line:col: runtime error: …`), then stack
//! frames (`#0 0x… in main /src/a.cpp:5:10`, TSan's `#0 main /src/a.cpp:5:10 (bin+0x…)`), then a
//! `SUMMARY:` line.

use crate::outcome::{Diagnostic, DiagnosticKind, Severity};

/// The sanitizers' names as their runtimes print them.
const TOOLS: [&str; 5] =
    ["AddressSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer", "MemorySanitizer", "LeakSanitizer"];

/// A sanitizer report's first line, as a diagnostic of kind sanitizer whose message starts with
/// the report's headline (`heap-use-after-free`, `signed-integer-overflow`, `data-race`).
pub(super) fn headline(line: &str) -> Option<Diagnostic> {
    if let Some((place, rest)) = line.split_once(": runtime error: ") {
        let (file, number, col) = super::place::split_place(place)?;
        let (phrase, detail) = rest.split_once(": ").map_or((rest, ""), |(p, d)| (p, d));
        let name = ubsan_check(phrase);
        let message = if detail.is_empty() || name == phrase {
            format!("{name}: {rest} [UndefinedBehaviorSanitizer]")
        } else {
            format!("{name}: {detail} [UndefinedBehaviorSanitizer]")
        };
        return Some(Diagnostic::new(Severity::Error, DiagnosticKind::Sanitizer, &message).at(
            Some(file),
            Some(number),
            col,
        ));
    }
    let text = line.trim_start_matches(|c: char| c == '=' || c.is_ascii_digit());
    let rest = text.strip_prefix("ERROR: ").or_else(|| text.strip_prefix("WARNING: "))?;
    let (tool, what) = rest.split_once(": ")?;
    if !TOOLS.contains(&tool) {
        return None;
    }
    let phrase = what.split([' ', '(']).take_while(|w| !matches!(*w, "on" | "at" | "")).collect::<Vec<_>>().join("-");
    let name = match phrase.as_str() {
        "detected-memory-leaks" => "memory-leak".to_string(),
        "" => "finding".to_string(),
        _ => phrase,
    };
    Some(Diagnostic::new(Severity::Error, DiagnosticKind::Sanitizer, &format!("{name} [{tool}]")))
}

/// UBSan's check name for its phrase, as `-fsanitize=` and the issue trackers call it.
fn ubsan_check(phrase: &str) -> String {
    let known = [
        ("signed integer overflow", "signed-integer-overflow"),
        ("division by zero", "integer-divide-by-zero"),
        ("load of null pointer", "null-pointer-dereference"),
        ("member access within null pointer", "null-pointer-dereference"),
        ("member call on null pointer", "null-pointer-dereference"),
        ("shift exponent", "shift-exponent"),
        ("left shift of", "shift-base"),
        ("load of misaligned address", "misaligned-access"),
        ("store to misaligned address", "misaligned-access"),
        ("execution reached an unreachable program point", "unreachable"),
        ("execution reached the end of a value-returning function", "missing-return"),
        ("load of value", "invalid-value"),
        ("applying non-zero offset", "pointer-overflow"),
        ("pointer index expression", "pointer-overflow"),
    ];
    if let Some((_, name)) = known.iter().find(|(p, _)| phrase.starts_with(p)) {
        return (*name).to_string();
    }
    if phrase.starts_with("index ") && phrase.contains("out of bounds") {
        return "array-bounds".into();
    }
    phrase.split_whitespace().take(5).collect::<Vec<_>>().join("-")
}

/// Whether a line ends a report: its `SUMMARY:` line.
pub(super) fn is_summary(line: &str) -> bool {
    line.trim_start().strip_prefix("SUMMARY: ").is_some_and(|rest| TOOLS.iter().any(|t| rest.starts_with(t)))
}

/// A stack frame's `file:line[:col]` (`#3 0x… in f(int) /src/a.cpp:5:10`, TSan's `#0 f
/// /src/a.cpp:5:10 (bin+0x…)`), where it names one.
pub(super) fn frame_place(line: &str) -> Option<(String, u32, Option<u32>)> {
    let frame = line.trim_start().strip_prefix('#')?;
    let (index, rest) = frame.split_once(' ')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Drop `(module+0x…)` and `(BuildId: …)` after the place.
    let mut rest = rest.trim_end();
    while rest.ends_with(')') {
        let open = rest.rfind(" (")?;
        rest = rest[..open].trim_end();
    }
    let last = rest.rsplit(' ').next()?;
    super::place::split_place(last)
}

/// Whether a frame's file is the project's own: an absolute path outside the system's folders,
/// the compiler's headers and the sanitizer runtimes (glibc's frames are relative paths).
pub(super) fn is_own_source(file: &str) -> bool {
    file.starts_with('/')
        && !["/usr/", "/lib/", "/lib64/", "/opt/", "/nix/", "/build/"].iter().any(|p| file.starts_with(p))
        && !["/libsanitizer/", "/compiler-rt/", "/include/c++/"].iter().any(|p| file.contains(p))
}

/// Whether a line can be part of a report: indented (frames, TSan's sections, shadow bytes), the
/// runtime's own `==PID==` lines, or one of the lines ASan and LSan print unindented between
/// their stacks.
pub(super) fn is_report_line(line: &str) -> bool {
    const UNINDENTED: [&str; 13] = [
        "READ of size",
        "WRITE of size",
        "freed by thread",
        "previously allocated by thread",
        "allocated by thread",
        "Shadow byte",
        "Direct leak",
        "Indirect leak",
        "Thread T",
        "HINT:",
        "Address 0x",
        "This frame has",
        "Uninitialized value was",
    ];
    line.starts_with([' ', '\t', '#', '=']) || line.starts_with("0x") || UNINDENTED.iter().any(|p| line.starts_with(p))
}

/// Whether a line is a stack frame of a report.
pub(super) fn is_frame(line: &str) -> bool {
    let t = line.trim_start();
    t.strip_prefix('#').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use crate::diagnose::classify;
    use crate::diagnose::testing::{assert_each_parses_to, diagnose, fixture, Expected};
    use crate::outcome::{FailureKind, StepStatus};

    const GCC_ASAN: &str = fixture!("gcc-12-asan-use-after-free");
    const CLANG_ASAN: &str = fixture!("clang-19-asan-use-after-free");
    const GCC_UBSAN: &str = fixture!("gcc-12-ubsan-signed-overflow");
    const CLANG_TSAN: &str = fixture!("clang-19-tsan-data-race");
    const GCC_LSAN: &str = fixture!("gcc-12-lsan-leak");

    #[test]
    fn each_report_is_one_diagnostic_at_the_projects_own_frame() {
        let logs: &[Expected] = &[
            (
                GCC_ASAN,
                &[("error", "sanitizer", Some("/tmp/san/src/uaf.cpp"), Some(2), None, "heap-use-after-free [AddressSanitizer]")],
            ),
            (
                CLANG_ASAN,
                &[("error", "sanitizer", Some("/tmp/san/src/uaf.cpp"), Some(2), Some(54), "heap-use-after-free [AddressSanitizer]")],
            ),
            (
                GCC_UBSAN,
                &[(
                    "error",
                    "sanitizer",
                    Some("/tmp/san/src/overflow.cpp"),
                    Some(3),
                    Some(49),
                    "signed-integer-overflow: 2147483647 + 1 cannot be represented in type 'int' [UndefinedBehaviorSanitizer]",
                )],
            ),
            (
                CLANG_TSAN,
                &[("error", "sanitizer", Some("/tmp/san/src/race.cpp"), Some(3), Some(53), "data-race [ThreadSanitizer]")],
            ),
            (GCC_LSAN, &[("error", "sanitizer", Some("/tmp/san/src/leak.cpp"), Some(3), None, "memory-leak [LeakSanitizer]")]),
        ];
        assert_each_parses_to(logs);
    }

    #[test]
    fn the_frames_are_its_context_and_the_failure_is_the_sanitizers() {
        let found = diagnose(CLANG_ASAN);
        assert!(found[0].context.iter().any(|l| l.starts_with("READ of size 4")), "{:?}", found[0].context);
        assert!(found[0].context.iter().any(|l| l.contains("freed by thread T0 here:")));
        assert!(found[0].context.len() <= 32);
        let tail = vec!["Errors while running CTest".to_string()];
        assert_eq!(classify(StepStatus::Failed, "test", &found, &tail), FailureKind::Sanitizer);
    }

    #[test]
    fn a_report_among_test_output_leaves_the_rest_to_the_other_recognisers() {
        let log = format!(
            "1/2 Test #1: uaf ......***Failed    0.01 sec\n{GCC_UBSAN}\nThe following tests FAILED:\n\t  1 - uaf (Failed)\n"
        );
        let found = diagnose(&log);
        let kinds: Vec<&str> = found.iter().map(|d| d.kind.as_str()).collect();
        assert_eq!(kinds, ["sanitizer", "test"]);
    }

    #[test]
    fn frames_name_their_place_whatever_their_shape() {
        use super::{frame_place, headline, is_own_source};
        assert_eq!(
            frame_place("    #0 0x55 in f(int, char) /src/a.cpp:5:10"),
            Some(("/src/a.cpp".into(), 5, Some(10)))
        );
        assert_eq!(
            frame_place("    #1 main /src/b.cpp:7 (bin+0x1) (BuildId: ab)"),
            Some(("/src/b.cpp".into(), 7, None))
        );
        assert_eq!(frame_place("    #3 0x55 in _start (/tmp/uaf+0x10b0)"), None);
        assert_eq!(frame_place("    #6 <null> <null> (libstdc++.so.6+0xd44a2)"), None);
        assert!(!is_own_source("../sysdeps/nptl/libc_start_call_main.h"));
        assert!(!is_own_source("/usr/lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/bits/invoke.h"));
        assert_eq!(
            headline("==1==ERROR: AddressSanitizer: SEGV on unknown address 0x0").unwrap().message,
            "SEGV [AddressSanitizer]"
        );
        assert_eq!(
            headline("==7==WARNING: MemorySanitizer: use-of-uninitialized-value").unwrap().message,
            "use-of-uninitialized-value [MemorySanitizer]"
        );
        assert!(headline("WARNING: something else: entirely").is_none());
        assert!(headline("a.cpp:3: runtime error: division by zero")
            .unwrap()
            .message
            .starts_with("integer-divide-by-zero"));
    }
}
