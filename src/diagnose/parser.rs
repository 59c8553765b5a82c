//! Reading a log line by line, and the state between lines.
//!
//! [`parse`] reads one line at a time, each cut at [`MAX_LINE_BYTES`], strips its colour codes
//! and hands it to the [`Parser`], which asks the recognisers what the line is ([`line_kind`]) and
//! keeps what spans lines: the diagnostic still collecting its notes, the context waiting for the
//! next diagnostic, a CMake message or CTest list being read. Every bound on memory is here: line
//! length, message length, context lines per diagnostic, diagnostics kept.

use super::{cmake, compiler, linker, sanitizer};
use crate::outcome::{Diagnostic, DiagnosticKind, Severity};
use crate::text::{cut, strip_ansi};
use std::io::{self, BufRead};
use std::path::Path;

impl Diagnostic {
    /// A diagnostic the parser found; the job that reads the log names its step.
    pub(crate) fn new(severity: Severity, kind: DiagnosticKind, message: &str) -> Self {
        let message = cut(message.trim(), MAX_MESSAGE_BYTES).to_string();
        Self { step: String::new(), severity, kind, file: None, line: None, col: None, message, context: Vec::new() }
    }

    pub(super) fn at(mut self, file: Option<String>, line: Option<u32>, col: Option<u32>) -> Self {
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

fn push_bounded(lines: &mut Vec<String>, line: &str) {
    if lines.len() < MAX_CONTEXT_LINES {
        lines.push(line.to_string());
    }
}

/// What one line of a log is.
pub(super) enum Line {
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

/// What one line outside a CMake message or CTest list is.
fn line_kind(line: &str) -> Line {
    if compiler::starts_include_chain(line) {
        return Line::Context;
    }
    if linker::is_lld_reference(line) {
        return Line::LinkerReference;
    }
    if let Some(kind) = linker::linker_line(line) {
        return kind;
    }
    if let Some(kind) = compiler::severity_line(line) {
        return kind;
    }
    if let Some(kind) = linker::link_phrase_line(line) {
        return kind;
    }
    if compiler::is_scope_line(line) || compiler::is_instantiation_line(line) {
        return Line::Context;
    }
    Line::Other
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
    /// The lines of a sanitizer's report, up to its `SUMMARY:`.
    Sanitizer,
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
        if let Some(diagnostic) = cmake::cmake_header(line) {
            self.pending.clear();
            self.begin(diagnostic);
            self.mode = Mode::CMakeMessage;
            return;
        }
        if let Some(diagnostic) = sanitizer::headline(line) {
            self.pending.clear();
            self.begin(diagnostic);
            self.mode = Mode::Sanitizer;
            return;
        }
        if cmake::is_ctest_failures_header(line) {
            self.pending.clear();
            self.mode = Mode::CTestFailures;
            return;
        }
        if compiler::continues_include_chain(self.pending.last().map(String::as_str), line) {
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
                if cmake::is_call_stack_header(line) {
                    self.mode = Mode::CMakeCallStack;
                    return true;
                }
                self.mode = Mode::Lines;
                false
            }
            Mode::Sanitizer => self.sanitizer_line(line),
            Mode::CTestFailures => match cmake::ctest_failure(line) {
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

    /// A line inside a sanitizer's report: its frames and lines are its context, the first frame
    /// in the project's own sources is where it points; `SUMMARY:` ends it, and so does a line
    /// that is a diagnostic of its own.
    fn sanitizer_line(&mut self, line: &str) -> bool {
        if sanitizer::is_summary(line) {
            self.mode = Mode::Lines;
            return true;
        }
        if line.trim().is_empty() {
            return true;
        }
        if !sanitizer::is_report_line(line) || sanitizer::headline(line).is_some() {
            self.mode = Mode::Lines;
            return false;
        }
        let Some(current) = self.current.as_mut() else {
            self.mode = Mode::Lines;
            return false;
        };
        if sanitizer::is_frame(line) {
            if let Some((file, number, col)) = sanitizer::frame_place(line) {
                if current.file.is_none() && sanitizer::is_own_source(&file) {
                    current.file = Some(file);
                    current.line = Some(number);
                    current.col = col;
                }
            }
        }
        push_bounded(&mut current.context, line.trim());
        true
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
            if let Some((file, number)) = linker::lld_place(line) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{diagnose, fixture};

    const GNU_LD_UNDEFINED: &str = fixture!("gnu-ld-undefined");

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
