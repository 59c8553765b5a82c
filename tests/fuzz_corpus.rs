//! The fuzz targets' inputs (`fuzz/corpus/<target>/`, seeds and every crash ever found), replayed
//! on each `cargo test`, then mutated a few thousand times with a fixed seed: a regression that
//! panics on any input a fuzzer once reached fails here, without a fuzzer. `cargo fuzz run
//! <target>` (see `fuzz/`) searches further.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

/// A fuzz target: its name (its corpus folder) and what it does with an input.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 4] = [
    ("matrix", harness::matrix),
    ("template", harness::template),
    ("diagnostics", harness::diagnostics),
    ("junit", harness::junit),
];

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_corpus_input_is_handled() {
    for (target, run) in TARGETS {
        let inputs = corpus(target);
        assert!(inputs.len() >= 3, "{target}: the corpus has {} inputs", inputs.len());
        for (path, bytes) in inputs {
            let result = std::panic::catch_unwind(|| run(&bytes));
            assert!(result.is_ok(), "{target} panicked on {}", path.display());
        }
    }
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Bytes that mean something to the inputs' languages, so mutations reach past the first parse.
const TOKENS: &[&[u8]] = &[
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"[[",
    b"]]",
    b"\"",
    b"'",
    b"\\",
    b"\n",
    b"=",
    b",",
    b"-",
    b"\x1b[31m",
    b"error:",
    b": note:",
    b"<testcase",
    b"/>",
    b"</",
    b"&#",
    b"\xff",
    b"\0",
    b"[matrix]",
    b"[[steps]]",
    b"include",
    b"exclude",
    b"cell.",
    b"range(",
    b"In file included from ",
];

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(64)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let start = at.min(out.len());
                let end = (start + rng.below(8)).min(out.len());
                let copy: Vec<u8> = out[start..end].to_vec();
                out.splice(start..start, copy);
            }
        }
    }
    out
}

#[test]
fn mutations_of_the_corpus_are_handled() {
    const ROUNDS: usize = 20_000;
    for (target, run) in TARGETS {
        let inputs = corpus(target);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
        for round in 0..ROUNDS {
            let (path, input) = &inputs[round % inputs.len()];
            let (_, other) = &inputs[rng.below(inputs.len())];
            let mutated = mutate(&mut rng, input, other);
            if std::panic::catch_unwind(|| run(&mutated)).is_err() {
                let keep = std::env::temp_dir().join(format!("gridrun-fuzz-{target}-{round}"));
                std::fs::write(&keep, &mutated).unwrap();
                panic!("{target} panicked on a mutation of {} (kept at {})", path.display(), keep.display());
            }
        }
    }
}
