//! GCC's and Clang's lines: `place: severity: message` diagnostics from the compiler and its
//! driver, and the lines around them that are context (include chains, `In function …:`,
//! `required from here`). `-Werror` needs nothing here: a promoted warning is an `error:` line
//! whose message says so ([`Diagnostic::promoted_by_werror`]).

use super::linker::is_link_summary;
use super::parser::Line;
use super::place::{parse_place, Place};
use crate::outcome::{Diagnostic, DiagnosticKind, Severity};

/// Severity words as GCC and Clang print them after a location.
const SEVERITIES: [(&str, Severity); 6] = [
    ("fatal error:", Severity::Fatal),
    ("internal compiler error:", Severity::Fatal),
    ("error:", Severity::Error),
    ("sorry, unimplemented:", Severity::Error),
    ("warning:", Severity::Warning),
    ("note:", Severity::Note),
];

/// Messages a bare `error:` line (no location, no program) may carry: clang's cc1 complaining
/// about `-Xclang` arguments. Other bare `error:` lines (git's, say) are not the code's.
const BARE_MESSAGES: [&str; 3] = ["unknown argument", "unsupported option", "invalid value"];

/// The severity a message starts with (`error: …`), and the message after it.
pub(super) fn severity_of(text: &str) -> Option<(Severity, &str)> {
    SEVERITIES.iter().find_map(|&(word, severity)| {
        let message = text.strip_prefix(word)?;
        (message.is_empty() || message.starts_with(' ')).then_some((severity, message.trim()))
    })
}

/// The place, severity and message of `place: severity: message`, at the first `: ` that a
/// severity word follows; or of a bare `severity: message`.
fn find_severity(line: &str) -> Option<(&str, Severity, &str)> {
    if let Some((severity, message)) = severity_of(line) {
        return Some(("", severity, message));
    }
    line.match_indices(": ").find_map(|(i, _)| {
        let (severity, message) = severity_of(&line[i + 2..])?;
        Some((&line[..i], severity, message))
    })
}

/// What a line with a severity word in it is; `None` when it has none.
pub(super) fn severity_line(line: &str) -> Option<Line> {
    let (place, severity, message) = find_severity(line)?;
    Some(compiler_line(place, severity, message))
}

fn compiler_line(place: &str, severity: Severity, message: &str) -> Line {
    if place.is_empty() {
        let known = severity.is_error() && BARE_MESSAGES.iter().any(|m| message.starts_with(m));
        return if known {
            Line::Diagnostic(Diagnostic::new(severity, DiagnosticKind::Compile, message))
        } else {
            Line::Other
        };
    }
    match parse_place(place) {
        None => Line::Other,
        Some(_) if severity == Severity::Note => Line::Note,
        Some(Place::Program(_)) if is_link_summary(message) => Line::LinkSummary,
        Some(Place::Program(kind)) => Line::Diagnostic(Diagnostic::new(severity, kind, message)),
        Some(Place::Source { file, line, col }) => {
            Line::Diagnostic(Diagnostic::new(severity, DiagnosticKind::Compile, message).at(Some(file), line, col))
        }
    }
}

/// `In file included from inc/a.h:3,`, as GCC and Clang both begin an include chain.
pub(super) fn starts_include_chain(line: &str) -> bool {
    line.starts_with("In file included from ")
}

/// GCC's `                 from hdr.cpp:2:` under `In file included from inc/a.h:3,`, given the
/// context line before it.
pub(super) fn continues_include_chain(previous: Option<&str>, line: &str) -> bool {
    let chained = previous.is_some_and(|l| l.starts_with("In file included from ") || l.starts_with("from "));
    chained && line.starts_with(char::is_whitespace) && line.trim_start().starts_with("from ")
}

/// GCC's `type.cpp: In function ‘int main()’:`, `In member function …`, `At global scope:`.
pub(super) fn is_scope_line(line: &str) -> bool {
    !line.starts_with(char::is_whitespace)
        && line.ends_with(':')
        && (line.contains(": In ") || line.contains(": At global scope:") || line.contains(": At top level:"))
}

/// GCC's `tmpl.cpp:2:26:   required from here` and its kin, printed before the error.
pub(super) fn is_instantiation_line(line: &str) -> bool {
    line.match_indices(":   ").any(|(i, _)| {
        let what = line[i + 1..].trim_start();
        let kin = ["required from", "required by", "recursively required", "in "].iter().any(|w| what.starts_with(w));
        kin && matches!(parse_place(&line[..i]), Some(Place::Source { .. }))
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnose::classify;
    use crate::diagnose::testing::{assert_each_parses_to, diagnose, fixture, Expected, Summary};
    use crate::outcome::{FailureKind, Severity, StepStatus};

    const GCC_TYPE_ERROR: &str = fixture!("gcc-12-type-error");
    const GCC_TYPE_ERROR_COLOR: &str = fixture!("gcc-12-type-error-colour");
    const CLANG_TYPE_ERROR: &str = fixture!("clang-16-type-error");
    const CLANG_TYPE_ERROR_COLOR: &str = fixture!("clang-16-type-error-colour");
    const CLANG19_TYPE_ERROR: &str = fixture!("clang-19-type-error");
    const GCC_MISSING_HEADER: &str = fixture!("gcc-12-missing-header");
    const GCC_MISSING_HEADER_COLOR: &str = fixture!("gcc-12-missing-header-colour");
    const CLANG_MISSING_HEADER: &str = fixture!("clang-16-missing-header");
    const CLANG_MISSING_HEADER_COLOR: &str = fixture!("clang-16-missing-header-colour");
    const GCC_WERROR: &str = fixture!("gcc-12-werror");
    const GCC_WERROR_COLOR_URLS: &str = fixture!("gcc-12-werror-colour-urls");
    const CLANG_WERROR: &str = fixture!("clang-16-werror");
    const CLANG_WERROR_COLOR: &str = fixture!("clang-16-werror-colour");
    const GCC_WARNING: &str = fixture!("gcc-12-warning");
    const GCC_COMMAND_LINE_WERROR: &str = fixture!("gcc-12-command-line-werror");
    const GCC_NOTES: &str = fixture!("gcc-12-notes");
    const GCC_INSTANTIATION: &str = fixture!("gcc-12-instantiation");
    const CLANG_NOTES: &str = fixture!("clang-16-notes");
    const CLANG_NOTES_COLOR: &str = fixture!("clang-16-notes-colour");
    const CLANG_INSTANTIATION: &str = fixture!("clang-16-instantiation");
    const CLANG_UNKNOWN_ARGUMENT: &str = fixture!("clang-16-unknown-argument");
    const CLANG_CC1_UNKNOWN_ARGUMENT: &str = fixture!("clang-16-cc1-unknown-argument");
    const GCC_UNRECOGNIZED_OPTION: &str = fixture!("gcc-12-unrecognized-option");
    const GCC_MISSING_SOURCE: &str = fixture!("gcc-12-missing-source");
    const NINJA_GCC_BUILD: &str = fixture!("ninja-gcc-12-build");
    const MAKE_CLANG_BUILD: &str = fixture!("make-clang-16-build");
    const CLANG_NOTE_IN_HEADER: &str = fixture!("clang-16-note-in-header");
    const GCC_NOTE_IN_HEADER: &str = fixture!("gcc-12-note-in-header");

    /// Clang 16 echoes the source bare, Clang 19 with line numbers: the diagnostics are the same.
    #[rustfmt::skip]
    const CLANG_TYPE_ERRORS: &[Summary<'static>] = &[
        ("error", "compile", Some("type.cpp"), Some(5), Some(9), "cannot initialize a variable of type 'int' with an lvalue of type 'const char[2]'"),
        ("error", "compile", Some("type.cpp"), Some(6), Some(14), "no member named 'width' in 'Grid'"),
    ];

    /// Everything each log gives: severity, kind, file, line, column, message.
    #[rustfmt::skip]
    const FOUND: &[Expected] = &[
        (GCC_TYPE_ERROR, &[
            ("error", "compile", Some("type.cpp"), Some(5), Some(13), "invalid conversion from ‘const char*’ to ‘int’ [-fpermissive]"),
            ("error", "compile", Some("type.cpp"), Some(6), Some(14), "‘struct Grid’ has no member named ‘width’"),
        ]),
        (CLANG_TYPE_ERROR, CLANG_TYPE_ERRORS),
        (CLANG19_TYPE_ERROR, CLANG_TYPE_ERRORS),
        (GCC_MISSING_HEADER, &[("fatal", "compile", Some("inc/b.h"), Some(2), Some(10), "nosuch.h: No such file or directory")]),
        (CLANG_MISSING_HEADER, &[("fatal", "compile", Some("inc/b.h"), Some(2), Some(10), "'nosuch.h' file not found")]),
        (GCC_WERROR, &[("error", "compile", Some("unused.cpp"), Some(2), Some(9), "unused variable ‘x’ [-Werror=unused-variable]")]),
        (CLANG_WERROR, &[("error", "compile", Some("unused.cpp"), Some(2), Some(9), "unused variable 'x' [-Werror,-Wunused-variable]")]),
        (GCC_COMMAND_LINE_WERROR, &[("error", "compile", Some("<command-line>"), None, None, "\"FOO\" redefined [-Werror]")]),
        // The driver's errors have no file.
        (CLANG_UNKNOWN_ARGUMENT, &[("error", "compile", None, None, None, "unknown argument: '-fnosuch-thing'")]),
        (CLANG_CC1_UNKNOWN_ARGUMENT, &[("error", "compile", None, None, None, "unknown argument: '-nosuch'")]),
        (GCC_UNRECOGNIZED_OPTION, &[("error", "compile", None, None, None, "unrecognized command-line option ‘--nosuch-flag’")]),
        (GCC_MISSING_SOURCE, &[("fatal", "compile", None, None, None, "missing.cpp: No such file or directory")]),
        // Ninja's noise around the error is none of it.
        (NINJA_GCC_BUILD, &[("error", "compile", Some("/src/demo/main.cpp"), Some(1), Some(22), "invalid conversion from ‘const char*’ to ‘int’ [-fpermissive]")]),
    ];

    #[test]
    fn each_log_gives_its_diagnostics() {
        assert_each_parses_to(FOUND);
    }

    /// The same runs with `-fdiagnostics-color=always` (and GCC's hyperlinks) and without.
    const COLOURED_AND_PLAIN: [(&str, &str); 7] = [
        (GCC_TYPE_ERROR_COLOR, GCC_TYPE_ERROR),
        (CLANG_TYPE_ERROR_COLOR, CLANG_TYPE_ERROR),
        (GCC_MISSING_HEADER_COLOR, GCC_MISSING_HEADER),
        (CLANG_MISSING_HEADER_COLOR, CLANG_MISSING_HEADER),
        (GCC_WERROR_COLOR_URLS, GCC_WERROR),
        (CLANG_WERROR_COLOR, CLANG_WERROR),
        (CLANG_NOTES_COLOR, CLANG_NOTES),
    ];

    #[test]
    fn colour_changes_nothing_found() {
        for (coloured, plain) in COLOURED_AND_PLAIN {
            assert_eq!(diagnose(coloured), diagnose(plain), "in this log:\n{coloured}");
        }
    }

    #[test]
    fn gcc_type_error_with_its_function_as_context() {
        let found = diagnose(GCC_TYPE_ERROR);
        assert_eq!(found[0].context, ["type.cpp: In function ‘int main()’:"]);
        assert!(found[1].context.is_empty());
        assert!(!found[0].promoted_by_werror());
    }

    #[test]
    fn a_clang_type_error_is_a_compile_failure() {
        assert_eq!(classify(StepStatus::Failed, "build", &diagnose(CLANG_TYPE_ERROR), &[]), FailureKind::Compile);
    }

    #[test]
    fn missing_header_keeps_the_include_chain() {
        let gcc = diagnose(GCC_MISSING_HEADER);
        assert_eq!(gcc[0].context, ["In file included from inc/a.h:3,", "from hdr.cpp:2:"]);
        let clang = diagnose(CLANG_MISSING_HEADER);
        assert_eq!(clang[0].context, ["In file included from hdr.cpp:2:", "In file included from ./inc/a.h:3:"]);
        // "No such file or directory" names a header, not a compiler: no toolchain problem.
        assert_eq!(classify(StepStatus::Failed, "build", &gcc, &[]), FailureKind::Compile);
    }

    #[test]
    fn werror_promotions_from_both_compilers() {
        let gcc = diagnose(GCC_WERROR);
        assert!(gcc[0].promoted_by_werror());
        let clang = diagnose(CLANG_WERROR);
        assert!(clang[0].promoted_by_werror());

        let plain = diagnose(GCC_WARNING);
        assert_eq!((plain[0].severity, plain[0].promoted_by_werror()), (Severity::Warning, false));
    }

    #[test]
    fn bare_werror_on_the_command_line_with_its_note() {
        let found = diagnose(GCC_COMMAND_LINE_WERROR);
        assert!(found[0].promoted_by_werror());
        assert_eq!(found[0].context, ["<command-line>: note: this is the location of the previous definition"]);
    }

    #[test]
    fn notes_are_context_not_diagnostics() {
        let gcc = diagnose(GCC_NOTES);
        assert_eq!(gcc.len(), 1);
        assert_eq!(
            gcc[0].context,
            [
                "notes.cpp: In function ‘int main()’:",
                "notes.cpp:2:10: note: candidate: ‘void Grid::resize(int, int)’",
                "notes.cpp:2:10: note:   candidate expects 2 arguments, 1 provided",
            ]
        );
        let clang = diagnose(CLANG_NOTES);
        assert_eq!((clang.len(), clang[0].line, clang[0].col), (1, Some(6), Some(15)));
        assert_eq!(clang[0].context, ["notes.cpp:2:10: note: 'resize' declared here"]);
    }

    #[test]
    fn template_instantiation_context_before_gcc_and_after_clang() {
        let gcc = diagnose(GCC_INSTANTIATION);
        assert_eq!((gcc.len(), gcc[0].line, gcc[0].col), (1, Some(1), Some(49)));
        assert_eq!(
            gcc[0].context,
            ["tmpl.cpp: In instantiation of ‘int twice(T) [with T = int]’:", "tmpl.cpp:2:26:   required from here"]
        );
        let clang = diagnose(CLANG_INSTANTIATION);
        assert_eq!(
            clang[0].context,
            ["tmpl.cpp:2:21: note: in instantiation of function template specialization 'twice<int>' requested here"]
        );
    }

    #[test]
    fn a_note_in_a_header_brings_its_include_line() {
        let gcc = diagnose(GCC_NOTE_IN_HEADER);
        assert_eq!(gcc.len(), 2);
        assert_eq!(
            gcc[0].context,
            [
                "main.cpp: In function ‘int main()’:",
                "In file included from main.cpp:1:",
                "grid.h:5:6: note: declared here"
            ]
        );
        assert_eq!(
            gcc[1].context,
            [
                "grid.h:3:10: note: candidate: ‘void Grid::resize(int, int)’",
                "grid.h:3:10: note:   candidate expects 2 arguments, 1 provided"
            ]
        );
        let clang = diagnose(CLANG_NOTE_IN_HEADER);
        assert_eq!(
            clang.iter().map(|d| (d.line, d.col)).collect::<Vec<_>>(),
            [(Some(3), Some(5)), (Some(5), Some(15))]
        );
        assert_eq!(
            clang[0].context,
            ["./grid.h:5:6: note: candidate function not viable: requires 2 arguments, but 1 was provided"]
        );
        assert_eq!(clang[1].context, ["./grid.h:3:10: note: 'resize' declared here"]);
    }

    #[test]
    fn other_programs_errors_are_not_diagnostics() {
        let log = "ninja: error: loading 'build.ninja': No such file or directory\n\
                   error: pathspec 'main' did not match any file(s) known to git\n\
                   make: *** [Makefile:2: all] Error 1\n";
        assert_eq!(diagnose(log), []);
        assert_eq!(classify(StepStatus::Failed, "fetch", &[], &[]), FailureKind::Infra);
    }

    #[test]
    fn make_noise_around_a_compile_error() {
        let make = diagnose(MAKE_CLANG_BUILD);
        assert_eq!(make.len(), 1);
        assert_eq!(
            (make[0].file.as_deref(), make[0].line, make[0].col),
            (Some("/tmp/diag/w/main.cpp"), Some(1), Some(18))
        );
    }
}
