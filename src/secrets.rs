//! Secrets: environment variables a matrix file names in `secrets = [...]`, whose values come from
//! the caller's environment and are masked (`***`) in everything gridrun writes — each step's log
//! as it streams (a value split across two writes included), the commands, test results and
//! diagnostics the store keeps, and so every report and terminal line made from them.
//!
//! Masking needs the output to pass through gridrun, so only a run with secrets pipes its steps'
//! output; every other run keeps writing straight into the log files.

use std::borrow::Cow;
use std::io::{self, Read, Write};

use aho_corasick::{AhoCorasick, MatchKind};

/// What a masked value is replaced with.
pub const MASK: &str = "***";

/// The shortest value masked: shorter ones would mask ordinary words everywhere.
pub const MIN_LEN: usize = 4;

/// The values to mask, compiled.
#[derive(Debug, Clone)]
pub struct Masker {
    matcher: AhoCorasick,
    /// The longest value's length: how much of a stream is held back in case a value continues.
    longest: usize,
}

/// Why a named secret is not masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmasked {
    /// The caller's environment does not set it.
    NotSet(String),
    /// Its value is shorter than [`MIN_LEN`].
    TooShort(String),
}

impl Masker {
    /// The masker of `names`' values in this process's environment; `None` where there is nothing
    /// to mask. Each value is masked whole and, for a value of several lines, line by line.
    pub fn from_env(names: &[String]) -> (Option<Self>, Vec<Unmasked>) {
        let mut values = Vec::new();
        let mut unmasked = Vec::new();
        for name in names {
            match std::env::var(name) {
                Ok(value) if value.chars().count() >= MIN_LEN => values.push(value),
                Ok(_) => unmasked.push(Unmasked::TooShort(name.clone())),
                Err(_) => unmasked.push(Unmasked::NotSet(name.clone())),
            }
        }
        (Self::new(&values), unmasked)
    }

    /// The masker of `values`; `None` where none is long enough to mask.
    pub fn new(values: &[String]) -> Option<Self> {
        let mut patterns: Vec<&str> = Vec::new();
        for value in values {
            for part in std::iter::once(value.as_str()).chain(value.lines()) {
                let part = part.trim_end_matches('\r');
                if part.chars().count() >= MIN_LEN && !patterns.contains(&part) {
                    patterns.push(part);
                }
            }
        }
        if patterns.is_empty() {
            return None;
        }
        let longest = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("a few literal strings make an automaton");
        Some(Self { matcher, longest })
    }

    /// `text` with every value masked.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.matcher.is_match(text) {
            Cow::Owned(self.matcher.replace_all(text, &vec![MASK; self.matcher.patterns_len()]))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// Copies `input` to `output` with every value masked, however the input's reads split a
    /// value: what could be the start of one is held back until it is known not to be.
    pub fn stream(&self, mut input: impl Read, mut output: impl Write) -> io::Result<u64> {
        let mut held: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = match input.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            held.extend_from_slice(&chunk[..n]);
            let done = self.emit(&held, false, &mut output, &mut written)?;
            held.drain(..done);
            output.flush()?;
        }
        self.emit(&held, true, &mut output, &mut written)?;
        output.flush()?;
        Ok(written)
    }

    /// Writes what of `buf` is settled (all of it at the end of the stream) and returns how many
    /// bytes of `buf` that consumed. A match is settled once no longer value could start at it
    /// within the bytes seen; text is settled up to where a value could still begin.
    fn emit(&self, buf: &[u8], end: bool, out: &mut impl Write, written: &mut u64) -> io::Result<usize> {
        let settled_text = if end { buf.len() } else { buf.len().saturating_sub(self.longest - 1) };
        let mut pos = 0;
        for m in self.matcher.find_iter(buf) {
            if !end && m.start() + self.longest > buf.len() {
                break;
            }
            out.write_all(&buf[pos..m.start()])?;
            out.write_all(MASK.as_bytes())?;
            *written += (m.start() - pos + MASK.len()) as u64;
            pos = m.end();
        }
        let upto = settled_text.max(pos);
        // Stop short of a match not yet settled.
        let upto = self.matcher.find_iter(&buf[pos..]).next().map_or(upto, |m| upto.min(pos + m.start()));
        out.write_all(&buf[pos..upto])?;
        *written += (upto - pos) as u64;
        Ok(upto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(values: &[&str]) -> Masker {
        Masker::new(&values.iter().map(|v| (*v).to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn masks_values_in_text() {
        let m = masker(&["hunter2x", "abcd"]);
        assert_eq!(m.mask("user hunter2x pass abcd"), "user *** pass ***");
        assert_eq!(m.mask("nothing here"), "nothing here");
        assert!(Masker::new(&["abc".into()]).is_none(), "too short to mask");
    }

    #[test]
    fn masks_values_split_across_reads() {
        // A reader that hands out one byte at a time splits every value.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let m = masker(&["s3cr3t-t0k3n", "s3cr3t"]);
        let input = b"a s3cr3t-t0k3n b s3cr3t c s3cr3";
        let mut out = Vec::new();
        m.stream(Trickle(input), &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a *** b *** c s3cr3");
    }

    #[test]
    fn masks_each_line_of_a_multi_line_value() {
        let m = masker(&["-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----"]);
        assert_eq!(m.mask("line: MIIEvQIBADANBg"), "line: ***");
    }
}
