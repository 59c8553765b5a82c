//! GNU ld's and LLD's lines (`/usr/bin/ld: …`, `ld.lld: error: …`, `main.cpp:(.text+0x5):
//! undefined reference to …`, `>>> referenced by …`), and the compiler driver's word that the link
//! failed (`collect2: error: ld returned 1 exit status`), which says nothing the linker did not.

use super::compiler::severity_of;
use super::parser::Line;
use super::place::{clean_path, split_number};
use super::programs::{is_gnu_ld, is_lld};
use crate::outcome::{Diagnostic, DiagnosticKind, Severity};

/// `collect2: error: ld returned 1 exit status`, `clang: error: linker command failed …`: the
/// driver's word that the link failed, which says nothing the linker did not.
pub(super) fn is_link_summary(line: &str) -> bool {
    // " ld returned", not "cmake --build returned".
    line.starts_with("ld returned") || line.contains(" ld returned") || line.contains("linker command failed")
}

/// A line from GNU ld or LLD, which start with the linker's own name.
pub(super) fn linker_line(line: &str) -> Option<Line> {
    let (program, rest) = line.split_once(": ")?;
    if program.is_empty() || program.contains(char::is_whitespace) {
        return None;
    }
    if is_lld(program) {
        Some(lld_line(rest))
    } else if is_gnu_ld(program) {
        Some(gnu_ld_line(rest))
    } else {
        None
    }
}

/// `ld.lld: error: undefined symbol: foo()`; the `>>>` lines come after.
fn lld_line(rest: &str) -> Line {
    match severity_of(rest) {
        Some((Severity::Note, _)) => Line::Note,
        Some((severity, message)) => Line::Diagnostic(Diagnostic::new(severity, DiagnosticKind::Link, message)),
        None => Line::Diagnostic(Diagnostic::new(Severity::Error, DiagnosticKind::Link, rest)),
    }
}

/// What follows `/usr/bin/ld: `: `main.o: in function `main':`, `x.o:(.data+0x0): multiple
/// definition of …`, `cannot find -lfoo: …`, `warning: …`.
fn gnu_ld_line(rest: &str) -> Line {
    let (severity, rest) = severity_of(rest).unwrap_or((Severity::Error, rest));
    if rest.ends_with(':') && rest.to_ascii_lowercase().contains("in function `") {
        return Line::Context;
    }
    if severity == Severity::Note || rest.starts_with("NOTE:") {
        return Line::Note;
    }
    if rest.starts_with("skipping incompatible") {
        return Line::Other;
    }
    let diagnostic = match split_link_phrase(rest) {
        Some((place, message)) => {
            let (file, number) = link_place(place);
            Diagnostic::new(severity, DiagnosticKind::Link, message).at(file, number, None)
        }
        None => Diagnostic::new(severity, DiagnosticKind::Link, rest),
    };
    Line::Diagnostic(diagnostic)
}

/// GNU ld's `main.cpp:(.text+0x5): undefined reference to …` on a line of its own, under the
/// `/usr/bin/ld: main.o: in function `main':` that names the function.
pub(super) fn link_phrase_line(line: &str) -> Option<Line> {
    let (place, message) = split_link_phrase(line)?;
    let (file, number) = link_place(place);
    Some(Line::Diagnostic(Diagnostic::new(Severity::Error, DiagnosticKind::Link, message).at(file, number, None)))
}

/// What GNU ld says after a place (`main.cpp:(.text+0x5): undefined reference to …`).
const LINK_PHRASES: [&str; 5] = [
    "undefined reference to ",
    "multiple definition of ",
    "more undefined references to ",
    "relocation ",
    "dangerous relocation",
];

/// The place and message of `place: <link phrase>…`.
fn split_link_phrase(text: &str) -> Option<(&str, &str)> {
    text.match_indices(": ").find_map(|(i, _)| {
        let message = &text[i + 2..];
        let place = &text[..i];
        let fits = !place.is_empty() && !place.starts_with(char::is_whitespace);
        (fits && LINK_PHRASES.iter().any(|p| message.starts_with(p))).then_some((place, message))
    })
}

/// File and line of a place GNU ld names: `main.cpp:(.text+0x5)`, `/tmp/x.o:(.data+0x0)`,
/// `/src/main.cpp:3` (with -g), `b.o:/src/b.cpp:1`, or `(.text+0x1b)` (no file).
fn link_place(place: &str) -> (Option<String>, Option<u32>) {
    if place.starts_with('(') {
        return (None, None);
    }
    if let Some((file, _)) = place.split_once(":(") {
        return (Some(clean_path(file)), None);
    }
    if let Some((path, number)) = split_number(place) {
        let file = path.rsplit_once(':').map_or(path, |(_, source)| source);
        return (Some(clean_path(file)), Some(number));
    }
    (Some(clean_path(place)), None)
}

/// LLD's `>>> referenced by main.cpp:3`, `>>>               main.o:(main)`, `>>> defined at …`
/// under its last diagnostic.
pub(super) fn is_lld_reference(line: &str) -> bool {
    line.trim_start().starts_with(">>> ")
}

/// File and line of LLD's first `>>> referenced by main.cpp:3 (/src/main.cpp:3)` or
/// `>>> defined at a.cpp`.
pub(super) fn lld_place(line: &str) -> Option<(String, Option<u32>)> {
    let rest = line.strip_prefix(">>>")?.trim_start();
    let place = rest.strip_prefix("referenced by ").or_else(|| rest.strip_prefix("defined at "))?;
    let place = place.split(" (").next()?.trim();
    match split_number(place) {
        Some((file, number)) => Some((clean_path(file), Some(number))),
        None => Some((clean_path(place), None)),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnose::classify;
    use crate::diagnose::testing::{assert_each_parses_to, diagnose, fixture, summaries, Expected, Summary};
    use crate::outcome::{FailureKind, StepStatus};

    const GNU_LD_UNDEFINED: &str = fixture!("gnu-ld-undefined");
    const CLANG_GNU_LD_UNDEFINED_COLOR: &str = fixture!("clang-16-gnu-ld-undefined-colour");
    const GNU_LD_UNDEFINED_DEBUG: &str = fixture!("gnu-ld-undefined-debug");
    const GNU_LD_MULTIPLE: &str = fixture!("gnu-ld-multiple-definition");
    const GNU_LD_MULTIPLE_DEBUG: &str = fixture!("gnu-ld-multiple-definition-debug");
    const GNU_LD_MISSING_LIBRARY: &str = fixture!("gnu-ld-missing-library");
    const LLD_UNDEFINED: &str = fixture!("lld-undefined");
    const LLD_UNDEFINED_DEBUG: &str = fixture!("lld-undefined-debug");
    const LLD_DUPLICATE: &str = fixture!("lld-duplicate");

    /// GNU ld's undefined reference, whether g++ or clang (in colour) drove it.
    const UNDEFINED_REFERENCE: &[Summary<'static>] =
        &[("error", "link", Some("main.cpp"), None, None, "undefined reference to `gridlib::missing()'")];

    /// Everything each log gives: severity, kind, file, line, column, message. LLD's undefined
    /// symbol is in the test of its place below, under both of LLD's names.
    #[rustfmt::skip]
    const FOUND: &[Expected] = &[
        (GNU_LD_UNDEFINED, UNDEFINED_REFERENCE),
        (CLANG_GNU_LD_UNDEFINED_COLOR, UNDEFINED_REFERENCE),
        (GNU_LD_UNDEFINED_DEBUG, &[("error", "link", Some("/tmp/diag/link/main.cpp"), Some(3), None, "undefined reference to `gridlib::missing()'")]),
        (GNU_LD_MULTIPLE, &[("error", "link", Some("b.o"), None, None, "multiple definition of `shared'; a.o:(.data+0x0): first defined here")]),
        (GNU_LD_MULTIPLE_DEBUG, &[("error", "link", Some("/tmp/diag/link/b.cpp"), Some(1), None, "multiple definition of `shared'; a.o:/tmp/diag/link/a.cpp:1: first defined here")]),
        (GNU_LD_MISSING_LIBRARY, &[("error", "link", None, None, None, "cannot find -lnosuchlib: No such file or directory")]),
        (LLD_UNDEFINED_DEBUG, &[("error", "link", Some("main.cpp"), Some(3), None, "undefined symbol: gridlib::missing()")]),
        (LLD_DUPLICATE, &[("error", "link", Some("a.cpp"), Some(1), None, "duplicate symbol: shared")]),
    ];

    #[test]
    fn each_log_gives_its_diagnostics() {
        assert_each_parses_to(FOUND);
    }

    #[test]
    fn gnu_ld_undefined_reference() {
        let found = diagnose(GNU_LD_UNDEFINED);
        assert_eq!(found[0].context, ["/usr/bin/ld: main.o: in function `main':"]);
        assert_eq!(classify(StepStatus::Failed, "build", &found, &[]), FailureKind::Link);
    }

    #[test]
    fn a_missing_library_is_a_link_failure() {
        // The linker's "No such file or directory" is about a library, not the toolchain.
        assert_eq!(classify(StepStatus::Failed, "build", &diagnose(GNU_LD_MISSING_LIBRARY), &[]), FailureKind::Link);
    }

    #[test]
    fn lld_undefined_symbol_takes_its_place_from_the_first_reference() {
        for log in [LLD_UNDEFINED.to_string(), LLD_UNDEFINED.replace("rust-lld", "ld.lld")] {
            let found = diagnose(&log);
            assert_eq!(
                summaries(&found),
                [("error", "link", Some("main.cpp"), None, None, "undefined symbol: gridlib::missing()")]
            );
            assert_eq!(found[0].context.len(), 2);
            assert!(found[0].context[0].starts_with(">>> referenced by main.cpp"));
        }
        let duplicate = diagnose(LLD_DUPLICATE);
        assert_eq!(duplicate[0].context.len(), 4);
    }
}
