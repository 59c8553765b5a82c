//! Text that came from somewhere gridrun does not control — a job's output, a matrix file's
//! values — made safe for where gridrun puts it: a terminal, a one-line message, a document, or a
//! CI's command stream. Also the one home of cutting text at a character boundary.
//!
//! A job can print anything: colour, cursor moves, OSC sequences that retitle the terminal or
//! write its clipboard, NUL, BEL, carriage returns that overwrite what came before, and Unicode
//! direction overrides that make text read other than it is. None of that may reach a reader
//! through gridrun.

use std::borrow::Cow;

/// Whether `c` reorders the text around it (bidirectional embeddings, overrides and isolates):
/// shown, such characters make a line read differently from what it holds.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Whether `c` can be shown as it is in multi-line text.
fn is_plain(c: char) -> bool {
    (!c.is_control() || c == '\n' || c == '\t') && !is_bidi_control(c)
}

/// Text fit for a document or a terminal: escape sequences (colour, cursor, OSC) dropped,
/// carriage returns dropped, other control and direction-override characters shown as `�`.
/// Newlines and tabs stay. Escaping for a format (HTML, XML, Markdown) is left to the format.
pub fn plain(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\r' => {}
            c if is_plain(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
    Cow::Owned(out)
}

/// As [`plain`], but colour and emphasis (`ESC [ … m`, SGR) are kept: what a terminal that shows
/// colour may be given of a job's output. Every other sequence goes.
pub fn plain_keep_colour(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| !is_plain(c)) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let sgr_len = rest
            .strip_prefix("\u{1b}[")
            .and_then(|params| params.find(|c: char| !(c.is_ascii_digit() || c == ';')).map(|n| (params, n)))
            .filter(|(params, n)| params[*n..].starts_with('m'))
            .map(|(_, n)| 2 + n + 1);
        if let Some(len) = sgr_len {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let c = rest.chars().next().expect("found above");
        let mut chars = rest.chars().peekable();
        chars.next();
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\r' => {}
            _ => out.push('\u{fffd}'),
        }
        rest = &rest[rest.len() - chars.map(char::len_utf8).sum::<usize>()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Text with its terminal escape sequences removed and nothing else changed: what a log line
/// says, for parsing.
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            skip_escape(&mut chars);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Skips the rest of an escape sequence: `ESC [ … final` (CSI), `ESC ] … BEL|ESC \` (OSC), or
/// `ESC x` for any other single character.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']' | 'P' | '_' | '^') => {
            // OSC, DCS, APC, PM: a string up to BEL or ST (`ESC \`).
            while let Some(c) = chars.next() {
                if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {}
    }
}

/// A value on one line: as [`plain`], with newlines, carriage returns, tabs and every other
/// control character written as escapes (`\n`, `\r`, `\t`, `\u{1b}`), so a value cannot break
/// the line it stands in or hide what it holds.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| !c.is_control() && !is_bidi_control(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// What a command said on stderr, in one line.
pub fn said(stderr: &[u8]) -> String {
    one_line(String::from_utf8_lossy(stderr).trim()).into_owned()
}

/// Bytes as lowercase hexadecimal, two digits each: how digests are written.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Each line with `prefix` before it and a newline after it.
pub fn indent<'a>(lines: impl IntoIterator<Item = &'a str>, prefix: &str) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` cut to at most `max` characters, with `…` in place of what was cut.
pub fn ellipsize(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().nth(max).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

/// The last `lines` lines of `text`, and no more than `bytes` of its end (cut at a character).
pub fn tail(text: &str, lines: usize, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let text = &text[start..];
    // A final newline ends the last line rather than starting an empty one.
    let end = text.strip_suffix('\n').map_or(text.len(), str::len);
    match text[..end].rmatch_indices('\n').nth(lines.saturating_sub(1)) {
        Some((i, _)) => &text[i + 1..],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_drops_terminal_sequences_and_marks_control_characters() {
        assert_eq!(plain("ok\tfine\n"), "ok\tfine\n");
        assert_eq!(plain("\u{1b}[1;31merror\u{1b}[0m: x\r\n"), "error: x\n");
        assert_eq!(plain("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\"), "link");
        assert_eq!(plain("\u{1b}]52;c;cHduZWQ=\u{7}copied"), "copied");
        assert_eq!(plain("nul\0bell\u{7}"), "nul\u{fffd}bell\u{fffd}");
        assert_eq!(plain("a\u{202e}txt.exe"), "a\u{fffd}txt.exe");
    }

    #[test]
    fn colour_may_stay_and_nothing_else() {
        assert_eq!(plain_keep_colour("\u{1b}[1;31merror\u{1b}[0m: x\r\n"), "\u{1b}[1;31merror\u{1b}[0m: x\n");
        assert_eq!(plain_keep_colour("\u{1b}]52;c;eA==\u{7}a\u{1b}[2Jb\u{7}"), "ab\u{fffd}");
        assert_eq!(plain_keep_colour("\u{1b}[31"), "");
    }

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
    fn one_line_values_cannot_break_their_line() {
        assert_eq!(one_line("gcc-12"), "gcc-12");
        assert_eq!(one_line("a\nb\rc\td"), "a\\nb\\rc\\td");
        assert_eq!(one_line("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(one_line("x\u{2066}y"), "x\\u{2066}y");
    }

    #[test]
    fn cuts_keep_whole_characters() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abc", 3), "abc");
    }

    #[test]
    fn tails_keep_the_last_lines_within_the_byte_limit() {
        assert_eq!(tail("a\nb\nc", 2, 100), "b\nc");
        assert_eq!(tail("a\nb\nc\n", 1, 100), "c\n");
        assert_eq!(tail("abc", 5, 2), "bc");
        assert_eq!(tail("aé", 5, 1), "");
    }
}
