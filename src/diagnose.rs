//! Diagnostics out of a failed step's log, and one word on why the step failed.
//!
//! [`parse`] streams a log line by line and pulls out what GCC, Clang, GNU ld, LLD, CMake and
//! CTest print when something goes wrong, as they really print it: colour codes stripped, the
//! `ninja`/`make` noise around them skipped, notes and include chains kept as context of the
//! diagnostic they belong to. [`classify`] turns a step's status and name, those diagnostics and
//! the log's tail into one [`FailureKind`].
//!
//! The shapes are few and fixed (`file:line:col: severity: message`, `CMake Error at …:`, `>>>`
//! lines), so this is plain string matching, no regex. Memory stays bounded whatever the size of
//! the log: one line at a time, each cut at 4 KiB, at most [`MAX_DIAGNOSTICS`] kept, each with a
//! bounded message and context.

use crate::outcome::{Diagnostic, DiagnosticKind, FailureKind, Severity, StepStatus};
use crate::text::{cut, strip_ansi};
use std::io::{self, BufRead};
use std::path::Path;

impl Diagnostic {
    /// A diagnostic the parser found; the job that reads the log names its step.
    pub(crate) fn new(severity: Severity, kind: DiagnosticKind, message: &str) -> Self {
        let message = cut(message.trim(), MAX_MESSAGE_BYTES).to_string();
        Self { step: String::new(), severity, kind, file: None, line: None, col: None, message, context: Vec::new() }
    }

    fn at(mut self, file: Option<String>, line: Option<u32>, col: Option<u32>) -> Self {
        self.file = file;
        self.line = line;
        self.col = col;
        self
    }
}

/// [`parse`] returns at most this many diagnostics.
pub const MAX_DIAGNOSTICS: usize = 200;

/// Longer lines are cut: a minified one-line source file echoed back must not cost megabytes.
const MAX_LINE_BYTES: usize = 4096;

/// At most this many context lines per diagnostic (a deep template instantiation prints hundreds).
const MAX_CONTEXT_LINES: usize = 32;

/// At most this many bytes of message per diagnostic (CMake quotes a whole failed try-compile).
const MAX_MESSAGE_BYTES: usize = 4096;

/// Reads a log line by line (memory bounded: never the whole log; lines longer than 4 KiB are
/// cut) and returns at most [`MAX_DIAGNOSTICS`] diagnostics in log order, errors first kept when
/// over the limit. A read error ends the log where it happened.
pub fn parse(mut reader: impl BufRead) -> Vec<Diagnostic> {
    let mut parser = Parser::default();
    let mut buf = Vec::with_capacity(256);
    while let Ok(true) = read_capped_line(&mut reader, &mut buf, MAX_LINE_BYTES) {
        let text = String::from_utf8_lossy(&buf);
        parser.line(&strip_ansi(&text));
    }
    parser.finish()
}

/// [`parse`] on a file.
pub fn parse_file(path: &Path) -> io::Result<Vec<Diagnostic>> {
    let file = std::fs::File::open(path)?;
    Ok(parse(io::BufReader::new(file)))
}

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
    } else if has(DiagnosticKind::Test) || named(&TEST_STEP_WORDS) {
        FailureKind::Test
    } else if named(&BUILD_STEP_WORDS) {
        FailureKind::Compile
    } else {
        FailureKind::Infra
    }
}

/// `collect2: error: ld returned 1 exit status`, `clang: error: linker command failed …`: the
/// driver's word that the link failed, which says nothing the linker did not.
fn is_link_summary(line: &str) -> bool {
    // " ld returned", not "cmake --build returned".
    line.starts_with("ld returned") || line.contains(" ld returned") || line.contains("linker command failed")
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

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `g++-12` → `g++`, `ld.lld-19` → `ld.lld`, `clang++-16` → `clang++`.
fn without_version(name: &str) -> &str {
    name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
}

/// A compiler driver's or linker's name, bare or with a version or a cross prefix.
fn looks_like_compiler(name: &str) -> bool {
    let name = without_version(name);
    let exact = ["cc", "c++", "gcc", "g++", "clang", "clang++", "ld", "ld.lld", "lld", "icx", "icpx", "nvcc"];
    let suffixes = ["-cc", "-c++", "-gcc", "-g++", "-clang", "-clang++", "-ld"];
    exact.contains(&name) || suffixes.iter().any(|s| name.ends_with(s))
}

fn is_lld(program: &str) -> bool {
    basename(program).contains("lld")
}

/// `/usr/bin/ld`, `ld.bfd`, `ld.gold`, `x86_64-linux-gnu-ld`, `ld.mold`.
fn is_gnu_ld(program: &str) -> bool {
    let name = basename(program);
    !is_lld(name) && (name == "ld" || name.starts_with("ld.") || name.ends_with("-ld") || name.contains("-ld."))
}

/// Which kind of diagnostic a program prefix (`clang: error: …`) gives, if it is a toolchain
/// program at all: `ninja: error: …` is not a diagnostic of the code.
fn program_kind(program: &str) -> Option<DiagnosticKind> {
    let name = without_version(basename(program));
    if is_lld(name) || is_gnu_ld(name) || matches!(name, "collect2" | "lto-wrapper" | "lto1") {
        Some(DiagnosticKind::Link)
    } else if looks_like_compiler(name) || name.starts_with("cc1") {
        Some(DiagnosticKind::Compile)
    } else {
        None
    }
}

/// Reads one line into `buf` without its newline, keeping at most `cap` bytes of it and skipping
/// the rest. Returns `false` at the end of the input.
fn read_capped_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<bool> {
    buf.clear();
    let mut read_any = false;
    loop {
        let (used, done) = {
            let chunk = match reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(read_any);
            }
            let (part, used, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            let room = cap.saturating_sub(buf.len());
            buf.extend_from_slice(&part[..part.len().min(room)]);
            (used, done)
        };
        reader.consume(used);
        read_any = true;
        if done {
            return Ok(true);
        }
    }
}

/// Clang prints the path it opened (`./inc/b.h`), GCC the one it was given (`inc/b.h`).
fn clean_path(path: &str) -> String {
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_string()
}

fn push_bounded(lines: &mut Vec<String>, line: &str) {
    if lines.len() < MAX_CONTEXT_LINES {
        lines.push(line.to_string());
    }
}

/// What one line of a log is.
enum Line {
    /// Goes with the next diagnostic: an include chain, `In function …:`, `required from here`,
    /// ld's `in function` line.
    Context,
    /// Goes with the last diagnostic: `note:`.
    Note,
    /// LLD's `>>> referenced by …` under its last diagnostic.
    LinkerReference,
    /// A diagnostic of its own.
    Diagnostic(Diagnostic),
    /// The driver's word that the link failed: not a diagnostic.
    LinkSummary,
    /// Anything else: source echoed back, build tool noise.
    Other,
}

/// What the parser is in the middle of.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Lines,
    /// The indented lines after `CMake Error at …:` are its message.
    CMakeMessage,
    /// The indented lines after `Call Stack (most recent call first):` are its context.
    CMakeCallStack,
    /// The lines after `The following tests FAILED:`.
    CTestFailures,
}

/// The state between lines: a diagnostic still collecting notes, context waiting for the next one.
#[derive(Default)]
struct Parser {
    mode: Mode,
    current: Option<Diagnostic>,
    pending: Vec<String>,
    kept: Kept,
}

impl Parser {
    fn line(&mut self, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.continues_block(line) || line.trim().is_empty() {
            return;
        }
        if let Some(diagnostic) = cmake_header(line) {
            self.pending.clear();
            self.begin(diagnostic);
            self.mode = Mode::CMakeMessage;
            return;
        }
        if line.trim() == "The following tests FAILED:" {
            self.pending.clear();
            self.mode = Mode::CTestFailures;
            return;
        }
        if self.continues_include_chain(line) {
            push_bounded(&mut self.pending, line.trim());
            return;
        }
        match line_kind(line) {
            Line::Context => push_bounded(&mut self.pending, line.trim()),
            Line::Note => self.note(line.trim()),
            Line::LinkerReference => self.linker_reference(line.trim()),
            Line::Diagnostic(diagnostic) => self.begin(diagnostic),
            Line::LinkSummary => {}
            Line::Other => self.pending.clear(),
        }
    }

    /// Takes a line that belongs to a CMake message or CTest's list; ends the block otherwise.
    fn continues_block(&mut self, line: &str) -> bool {
        match self.mode {
            Mode::Lines => false,
            Mode::CMakeMessage | Mode::CMakeCallStack => {
                if line.trim().is_empty() {
                    return true;
                }
                if line.starts_with([' ', '\t']) {
                    self.cmake_body(line.trim());
                    return true;
                }
                if line.trim_end() == "Call Stack (most recent call first):" {
                    self.mode = Mode::CMakeCallStack;
                    return true;
                }
                self.mode = Mode::Lines;
                false
            }
            Mode::CTestFailures => match ctest_failure(line) {
                Some(diagnostic) => {
                    self.begin(diagnostic);
                    true
                }
                None => {
                    self.mode = Mode::Lines;
                    false
                }
            },
        }
    }

    fn cmake_body(&mut self, text: &str) {
        let Some(current) = self.current.as_mut() else { return };
        if self.mode == Mode::CMakeCallStack {
            push_bounded(&mut current.context, text);
        } else if current.message.len() < MAX_MESSAGE_BYTES {
            if !current.message.is_empty() {
                current.message.push(' ');
            }
            current.message.push_str(text);
            current.message = cut(&current.message, MAX_MESSAGE_BYTES).to_string();
        }
    }

    /// GCC's `                 from hdr.cpp:2:` under `In file included from inc/a.h:3,`.
    fn continues_include_chain(&self, line: &str) -> bool {
        let chained =
            self.pending.last().is_some_and(|l| l.starts_with("In file included from ") || l.starts_with("from "));
        chained && line.starts_with(char::is_whitespace) && line.trim_start().starts_with("from ")
    }

    fn begin(&mut self, mut diagnostic: Diagnostic) {
        self.commit();
        let mut context = std::mem::take(&mut self.pending);
        context.append(&mut diagnostic.context);
        diagnostic.context = context;
        self.current = Some(diagnostic);
    }

    fn note(&mut self, line: &str) {
        let pending = std::mem::take(&mut self.pending);
        if let Some(current) = self.current.as_mut() {
            for context in pending.iter().map(String::as_str).chain([line]) {
                push_bounded(&mut current.context, context);
            }
        }
    }

    fn linker_reference(&mut self, line: &str) {
        let Some(current) = self.current.as_mut().filter(|d| d.kind == DiagnosticKind::Link) else { return };
        if current.file.is_none() {
            if let Some((file, number)) = lld_place(line) {
                current.file = Some(file);
                current.line = number;
            }
        }
        push_bounded(&mut current.context, line);
    }

    fn commit(&mut self) {
        if let Some(diagnostic) = self.current.take() {
            self.kept.push(diagnostic);
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        self.commit();
        self.kept.finish()
    }
}

/// Up to [`MAX_DIAGNOSTICS`] errors and as many others, each numbered in log order; the first
/// ones win, since later errors are so often fallout of earlier ones.
#[derive(Default)]
struct Kept {
    seen: usize,
    errors: Vec<(usize, Diagnostic)>,
    others: Vec<(usize, Diagnostic)>,
}

impl Kept {
    fn push(&mut self, diagnostic: Diagnostic) {
        let bucket = if diagnostic.severity.is_error() { &mut self.errors } else { &mut self.others };
        if bucket.len() < MAX_DIAGNOSTICS {
            bucket.push((self.seen, diagnostic));
        }
        self.seen += 1;
    }

    fn finish(self) -> Vec<Diagnostic> {
        let room = MAX_DIAGNOSTICS - self.errors.len();
        let mut all = self.errors;
        all.extend(self.others.into_iter().take(room));
        all.sort_by_key(|(seen, _)| *seen);
        all.into_iter().map(|(_, diagnostic)| diagnostic).collect()
    }
}

/// What one line outside a CMake message or CTest list is.
fn line_kind(line: &str) -> Line {
    if line.starts_with("In file included from ") {
        return Line::Context;
    }
    if line.trim_start().starts_with(">>> ") {
        return Line::LinkerReference;
    }
    if let Some(kind) = linker_line(line) {
        return kind;
    }
    if let Some((place, severity, message)) = find_severity(line) {
        return compiler_line(place, severity, message);
    }
    if let Some((place, message)) = split_link_phrase(line) {
        let (file, number) = link_place(place);
        return Line::Diagnostic(
            Diagnostic::new(Severity::Error, DiagnosticKind::Link, message).at(file, number, None),
        );
    }
    if is_scope_line(line) || is_instantiation_line(line) {
        return Line::Context;
    }
    Line::Other
}

/// `file:line:col`, `file:line`, `<command-line>`, or a program (`clang`, `collect2`), as found
/// before a severity.
enum Place {
    Source { file: String, line: Option<u32>, col: Option<u32> },
    Program(DiagnosticKind),
}

/// `foo:12` → (`foo`, 12).
fn split_number(text: &str) -> Option<(&str, u32)> {
    let (head, tail) = text.rsplit_once(':')?;
    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head, tail.parse().ok()?))
}

fn parse_place(place: &str) -> Option<Place> {
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

fn severity_of(text: &str) -> Option<(Severity, &str)> {
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

/// A line from GNU ld or LLD, which start with the linker's own name.
fn linker_line(line: &str) -> Option<Line> {
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

/// File and line of LLD's first `>>> referenced by main.cpp:3 (/src/main.cpp:3)` or
/// `>>> defined at a.cpp`.
fn lld_place(line: &str) -> Option<(String, Option<u32>)> {
    let rest = line.strip_prefix(">>>")?.trim_start();
    let place = rest.strip_prefix("referenced by ").or_else(|| rest.strip_prefix("defined at "))?;
    let place = place.split(" (").next()?.trim();
    match split_number(place) {
        Some((file, number)) => Some((clean_path(file), Some(number))),
        None => Some((clean_path(place), None)),
    }
}

/// GCC's `type.cpp: In function ‘int main()’:`, `In member function …`, `At global scope:`.
fn is_scope_line(line: &str) -> bool {
    !line.starts_with(char::is_whitespace)
        && line.ends_with(':')
        && (line.contains(": In ") || line.contains(": At global scope:") || line.contains(": At top level:"))
}

/// GCC's `tmpl.cpp:2:26:   required from here` and its kin, printed before the error.
fn is_instantiation_line(line: &str) -> bool {
    line.match_indices(":   ").any(|(i, _)| {
        let what = line[i + 1..].trim_start();
        let kin = ["required from", "required by", "recursively required", "in "].iter().any(|w| what.starts_with(w));
        kin && matches!(parse_place(&line[..i]), Some(Place::Source { .. }))
    })
}

/// `CMake Error at CMakeLists.txt:12 (add_library):`, `CMake Error in CMakeLists.txt:`,
/// `CMake Error: message`, `CMake Warning (dev) at …:`. The indented lines after it are the
/// message.
fn cmake_header(line: &str) -> Option<Diagnostic> {
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

/// `\t  2 - grid (Failed)` under CTest's `The following tests FAILED:`.
fn ctest_failure(line: &str) -> Option<Diagnostic> {
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
    use super::*;

    fn diagnose(log: &str) -> Vec<Diagnostic> {
        parse(log.as_bytes())
    }

    /// Severity, kind, file, line, column and message of a diagnostic, for one-line asserts.
    type Summary = (&'static str, &'static str, Option<String>, Option<u32>, Option<u32>, String);

    fn summary(log: &str) -> Vec<Summary> {
        diagnose(log)
            .into_iter()
            .map(|d| (d.severity.as_str(), d.kind.as_str(), d.file, d.line, d.col, d.message))
            .collect()
    }

    fn file(name: &str) -> Option<String> {
        Some(name.to_string())
    }

    /// A captured log, `tests/fixtures/logs/<name>.log`, byte for byte; the folder's README says
    /// how each was made.
    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/logs/", $name, ".log"))
        };
    }

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
    const GNU_LD_UNDEFINED: &str = fixture!("gnu-ld-undefined");
    const CLANG_GNU_LD_UNDEFINED_COLOR: &str = fixture!("clang-16-gnu-ld-undefined-colour");
    const GNU_LD_UNDEFINED_DEBUG: &str = fixture!("gnu-ld-undefined-debug");
    const GNU_LD_MULTIPLE: &str = fixture!("gnu-ld-multiple-definition");
    const GNU_LD_MULTIPLE_DEBUG: &str = fixture!("gnu-ld-multiple-definition-debug");
    const GNU_LD_MISSING_LIBRARY: &str = fixture!("gnu-ld-missing-library");
    const LLD_UNDEFINED: &str = fixture!("lld-undefined");
    const LLD_UNDEFINED_DEBUG: &str = fixture!("lld-undefined-debug");
    const LLD_DUPLICATE: &str = fixture!("lld-duplicate");
    const CLANG_UNKNOWN_ARGUMENT: &str = fixture!("clang-16-unknown-argument");
    const CLANG_CC1_UNKNOWN_ARGUMENT: &str = fixture!("clang-16-cc1-unknown-argument");
    const GCC_UNRECOGNIZED_OPTION: &str = fixture!("gcc-12-unrecognized-option");
    const GCC_MISSING_SOURCE: &str = fixture!("gcc-12-missing-source");
    const CMAKE_UNKNOWN_COMMAND: &str = fixture!("cmake-unknown-command");
    const CMAKE_NO_SOURCE: &str = fixture!("cmake-no-source");
    const CMAKE_COMPILER_NOT_FOUND: &str = fixture!("cmake-compiler-not-found");
    const CMAKE_BROKEN_COMPILER: &str = fixture!("cmake-broken-compiler");
    const NINJA_GCC_BUILD: &str = fixture!("ninja-gcc-12-build");
    const MAKE_CLANG_BUILD: &str = fixture!("make-clang-16-build");
    const CTEST_FAILURES: &str = fixture!("ctest-failures");
    const SH_COMPILER_NOT_FOUND: &str = fixture!("ninja-sh-compiler-not-found");
    const MAKE_COMPILER_MISSING: &str = fixture!("make-compiler-missing");

    #[test]
    fn strips_gcc_and_clang_colours_and_gcc_hyperlinks() {
        let gcc = "\x1b[01m\x1b[Ktype.cpp:5:13:\x1b[m\x1b[K \x1b[01;31m\x1b[Kerror: \x1b[m\x1b[Kx";
        assert_eq!(strip_ansi(gcc), "type.cpp:5:13: error: x");
        let clang = "\x1b[0m\x1b[1mtype.cpp:6:14: \x1b[0m\x1b[0;1;31merror: \x1b[0m\x1b[1mno member\x1b[0m";
        assert_eq!(strip_ansi(clang), "type.cpp:6:14: error: no member");
        let link = "[\x1b]8;;https://gcc.gnu.org/x\x07-Werror=unused-variable\x1b]8;;\x07]";
        assert_eq!(strip_ansi(link), "[-Werror=unused-variable]");
        let st = "\x1b]8;;https://example.org/\x1b\\text\x1b]8;;\x1b\\";
        assert_eq!(strip_ansi(st), "text");
    }

    #[test]
    fn gcc_type_error_with_its_function_as_context() {
        assert_eq!(
            summary(GCC_TYPE_ERROR),
            [
                (
                    "error",
                    "compile",
                    file("type.cpp"),
                    Some(5),
                    Some(13),
                    "invalid conversion from ‘const char*’ to ‘int’ [-fpermissive]".into()
                ),
                (
                    "error",
                    "compile",
                    file("type.cpp"),
                    Some(6),
                    Some(14),
                    "‘struct Grid’ has no member named ‘width’".into()
                ),
            ]
        );
        let found = diagnose(GCC_TYPE_ERROR);
        assert_eq!(found[0].context, ["type.cpp: In function ‘int main()’:"]);
        assert!(found[1].context.is_empty());
        assert!(!found[0].promoted_by_werror());
        assert_eq!(diagnose(GCC_TYPE_ERROR_COLOR), found);
    }

    #[test]
    fn clang_type_error_old_and_new_source_echo() {
        let expected = [
            (
                "error",
                "compile",
                file("type.cpp"),
                Some(5),
                Some(9),
                "cannot initialize a variable of type 'int' with an lvalue of type 'const char[2]'".into(),
            ),
            ("error", "compile", file("type.cpp"), Some(6), Some(14), "no member named 'width' in 'Grid'".into()),
        ];
        assert_eq!(summary(CLANG_TYPE_ERROR), expected);
        assert_eq!(summary(CLANG19_TYPE_ERROR), expected);
        assert_eq!(diagnose(CLANG_TYPE_ERROR_COLOR), diagnose(CLANG_TYPE_ERROR));
        assert_eq!(classify(StepStatus::Failed, "build", &diagnose(CLANG_TYPE_ERROR), &[]), FailureKind::Compile);
    }

    #[test]
    fn missing_header_keeps_the_include_chain() {
        assert_eq!(
            summary(GCC_MISSING_HEADER),
            [("fatal", "compile", file("inc/b.h"), Some(2), Some(10), "nosuch.h: No such file or directory".into())]
        );
        let gcc = diagnose(GCC_MISSING_HEADER);
        assert_eq!(gcc[0].context, ["In file included from inc/a.h:3,", "from hdr.cpp:2:"]);
        assert_eq!(diagnose(GCC_MISSING_HEADER_COLOR), gcc);

        assert_eq!(
            summary(CLANG_MISSING_HEADER),
            [("fatal", "compile", file("inc/b.h"), Some(2), Some(10), "'nosuch.h' file not found".into())]
        );
        let clang = diagnose(CLANG_MISSING_HEADER);
        assert_eq!(clang[0].context, ["In file included from hdr.cpp:2:", "In file included from ./inc/a.h:3:"]);
        assert_eq!(diagnose(CLANG_MISSING_HEADER_COLOR), clang);
        // "No such file or directory" names a header, not a compiler: no toolchain problem.
        assert_eq!(classify(StepStatus::Failed, "build", &gcc, &[]), FailureKind::Compile);
    }

    #[test]
    fn werror_promotions_from_both_compilers() {
        let gcc = diagnose(GCC_WERROR);
        assert_eq!(
            summary(GCC_WERROR),
            [(
                "error",
                "compile",
                file("unused.cpp"),
                Some(2),
                Some(9),
                "unused variable ‘x’ [-Werror=unused-variable]".into()
            )]
        );
        assert!(gcc[0].promoted_by_werror());
        assert_eq!(diagnose(GCC_WERROR_COLOR_URLS), gcc);

        let clang = diagnose(CLANG_WERROR);
        assert_eq!(
            summary(CLANG_WERROR),
            [(
                "error",
                "compile",
                file("unused.cpp"),
                Some(2),
                Some(9),
                "unused variable 'x' [-Werror,-Wunused-variable]".into()
            )]
        );
        assert!(clang[0].promoted_by_werror());
        assert_eq!(diagnose(CLANG_WERROR_COLOR), clang);

        let plain = diagnose(GCC_WARNING);
        assert_eq!((plain[0].severity, plain[0].promoted_by_werror()), (Severity::Warning, false));
    }

    #[test]
    fn bare_werror_on_the_command_line_with_its_note() {
        let found = diagnose(GCC_COMMAND_LINE_WERROR);
        assert_eq!(
            summary(GCC_COMMAND_LINE_WERROR),
            [("error", "compile", file("<command-line>"), None, None, "\"FOO\" redefined [-Werror]".into())]
        );
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
        assert_eq!(diagnose(CLANG_NOTES_COLOR), clang);
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

    const CLANG_NOTE_IN_HEADER: &str = fixture!("clang-16-note-in-header");
    const GCC_NOTE_IN_HEADER: &str = fixture!("gcc-12-note-in-header");

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
    fn gnu_ld_undefined_reference() {
        let expected =
            [("error", "link", file("main.cpp"), None, None, "undefined reference to `gridlib::missing()'".into())];
        assert_eq!(summary(GNU_LD_UNDEFINED), expected);
        assert_eq!(summary(CLANG_GNU_LD_UNDEFINED_COLOR), expected);
        let found = diagnose(GNU_LD_UNDEFINED);
        assert_eq!(found[0].context, ["/usr/bin/ld: main.o: in function `main':"]);
        assert_eq!(classify(StepStatus::Failed, "build", &found, &[]), FailureKind::Link);
        assert_eq!(
            summary(GNU_LD_UNDEFINED_DEBUG),
            [(
                "error",
                "link",
                file("/tmp/diag/link/main.cpp"),
                Some(3),
                None,
                "undefined reference to `gridlib::missing()'".into()
            )]
        );
    }

    #[test]
    fn gnu_ld_multiple_definition_and_missing_library() {
        assert_eq!(
            summary(GNU_LD_MULTIPLE),
            [(
                "error",
                "link",
                file("b.o"),
                None,
                None,
                "multiple definition of `shared'; a.o:(.data+0x0): first defined here".into()
            )]
        );
        assert_eq!(
            summary(GNU_LD_MULTIPLE_DEBUG),
            [(
                "error",
                "link",
                file("/tmp/diag/link/b.cpp"),
                Some(1),
                None,
                "multiple definition of `shared'; a.o:/tmp/diag/link/a.cpp:1: first defined here".into()
            )]
        );
        assert_eq!(
            summary(GNU_LD_MISSING_LIBRARY),
            [("error", "link", None, None, None, "cannot find -lnosuchlib: No such file or directory".into())]
        );
        // The linker's "No such file or directory" is about a library, not the toolchain.
        assert_eq!(classify(StepStatus::Failed, "build", &diagnose(GNU_LD_MISSING_LIBRARY), &[]), FailureKind::Link);
    }

    #[test]
    fn lld_undefined_symbol_takes_its_place_from_the_first_reference() {
        for log in [LLD_UNDEFINED.to_string(), LLD_UNDEFINED.replace("rust-lld", "ld.lld")] {
            let found = diagnose(&log);
            assert_eq!(
                summary(&log),
                [("error", "link", file("main.cpp"), None, None, "undefined symbol: gridlib::missing()".into())]
            );
            assert_eq!(found[0].context.len(), 2);
            assert!(found[0].context[0].starts_with(">>> referenced by main.cpp"));
        }
        assert_eq!(
            summary(LLD_UNDEFINED_DEBUG),
            [("error", "link", file("main.cpp"), Some(3), None, "undefined symbol: gridlib::missing()".into())]
        );
        let duplicate = diagnose(LLD_DUPLICATE);
        assert_eq!(
            summary(LLD_DUPLICATE),
            [("error", "link", file("a.cpp"), Some(1), None, "duplicate symbol: shared".into())]
        );
        assert_eq!(duplicate[0].context.len(), 4);
    }

    #[test]
    fn driver_errors_have_no_file() {
        assert_eq!(
            summary(CLANG_UNKNOWN_ARGUMENT),
            [("error", "compile", None, None, None, "unknown argument: '-fnosuch-thing'".into())]
        );
        assert_eq!(
            summary(CLANG_CC1_UNKNOWN_ARGUMENT),
            [("error", "compile", None, None, None, "unknown argument: '-nosuch'".into())]
        );
        assert_eq!(
            summary(GCC_UNRECOGNIZED_OPTION),
            [("error", "compile", None, None, None, "unrecognized command-line option ‘--nosuch-flag’".into())]
        );
        assert_eq!(
            summary(GCC_MISSING_SOURCE),
            [("fatal", "compile", None, None, None, "missing.cpp: No such file or directory".into())]
        );
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
    fn cmake_unknown_command() {
        let found = diagnose(CMAKE_UNKNOWN_COMMAND);
        assert_eq!(
            summary(CMAKE_UNKNOWN_COMMAND),
            [(
                "error",
                "configure",
                file("CMakeLists.txt"),
                Some(5),
                None,
                "Unknown CMake command \"add_libary\".".into()
            )]
        );
        assert_eq!(classify(StepStatus::Failed, "configure", &found, &[]), FailureKind::Configure);
    }

    #[test]
    fn cmake_error_without_a_place() {
        assert_eq!(
            summary(CMAKE_NO_SOURCE),
            [("error", "configure", None, None, None, "The source directory \"/src/nosuch\" does not exist.".into())]
        );
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
            summary(log),
            [("warning", "configure", file("CMakeLists.txt"), Some(3), None, "Policy CMP0048 is not set.".into())]
        );
        assert_eq!(classify(StepStatus::Failed, "build", &found, &[]), FailureKind::Compile);
    }

    #[test]
    fn ninja_and_make_noise_around_a_compile_error() {
        assert_eq!(
            summary(NINJA_GCC_BUILD),
            [(
                "error",
                "compile",
                file("/src/demo/main.cpp"),
                Some(1),
                Some(22),
                "invalid conversion from ‘const char*’ to ‘int’ [-fpermissive]".into()
            )]
        );
        let make = diagnose(MAKE_CLANG_BUILD);
        assert_eq!(make.len(), 1);
        assert_eq!(
            (make[0].file.as_deref(), make[0].line, make[0].col),
            (Some("/tmp/diag/w/main.cpp"), Some(1), Some(18))
        );
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

    #[test]
    fn failure_kind_names_are_distinct() {
        let names: std::collections::HashSet<_> = FailureKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), FailureKind::ALL.len());
        assert_eq!(FailureKind::Toolchain.as_str(), "toolchain");
    }

    #[test]
    fn errors_are_kept_first_when_over_the_limit() {
        let mut log = String::new();
        for i in 1..=250 {
            log.push_str(&format!("w.cpp:{i}:1: warning: w{i}\n"));
        }
        for i in 1..=10 {
            log.push_str(&format!("e.cpp:{i}:1: error: e{i}\n"));
        }
        let found = diagnose(&log);
        assert_eq!(found.len(), MAX_DIAGNOSTICS);
        assert_eq!(found.iter().filter(|d| d.severity == Severity::Error).count(), 10);
        assert_eq!(found[0].message, "w1");
        assert_eq!(found[189].message, "w190");
        assert_eq!(found[190].message, "e1");

        let mut many = String::new();
        for i in 1..=300 {
            many.push_str(&format!("e.cpp:{i}:1: error: e{i}\n"));
        }
        let found = diagnose(&many);
        assert_eq!((found.len(), found[199].line), (MAX_DIAGNOSTICS, Some(200)));
    }

    #[test]
    fn long_lines_are_cut() {
        let log = format!("a.cpp:1:2: error: {}\nb.cpp:3:4: error: after\n", "x".repeat(10 << 20));
        let found = diagnose(&log);
        assert_eq!(found.len(), 2);
        assert!(found[0].message.len() < MAX_LINE_BYTES);
        assert_eq!(found[1].message, "after");
    }

    /// The noise line a [`NoisyLog`] repeats.
    const NOISE: &[u8] = b"[12/345] Building CXX object CMakeFiles/grid.dir/src/cell.cpp.o\n";

    /// 50 MB of build noise, then a link error: made up as it is read, so the log never exists
    /// as a whole.
    struct NoisyLog {
        noise_left: usize,
        tail: std::io::Cursor<&'static [u8]>,
    }

    impl std::io::Read for NoisyLog {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.noise_left == 0 {
                return self.tail.read(buf);
            }
            let mut n = 0;
            while self.noise_left > 0 && buf.len() - n >= NOISE.len() {
                buf[n..n + NOISE.len()].copy_from_slice(NOISE);
                n += NOISE.len();
                self.noise_left -= 1;
            }
            Ok(n)
        }
    }

    #[test]
    fn a_50_mb_log_streams_to_its_last_diagnostic() {
        let log =
            NoisyLog { noise_left: 50_000_000 / NOISE.len(), tail: std::io::Cursor::new(GNU_LD_UNDEFINED.as_bytes()) };
        assert_eq!(parse(std::io::BufReader::new(log)), diagnose(GNU_LD_UNDEFINED));
    }

    #[test]
    fn crlf_and_invalid_utf8_are_tolerated() {
        let mut log = b"a.cpp:1:2: error: bad \xff byte\r\n".to_vec();
        log.extend_from_slice(b"b.cpp:3:4: warning: fine\r\n");
        let found = parse(&log[..]);
        assert_eq!(found[0].message, "bad \u{fffd} byte");
        assert_eq!((found[1].severity, found[1].message.as_str()), (Severity::Warning, "fine"));
    }
}
