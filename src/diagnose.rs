//! Diagnostics out of a failed step's log, and one word on why the step failed.
//!
//! [`parse`] streams a log line by line and pulls out what GCC, Clang, GNU ld, LLD, CMake and
//! CTest print when something goes wrong, as they really print it: colour codes stripped, the
//! `ninja`/`make` noise around them skipped, notes and include chains kept as context of the
//! diagnostic they belong to. [`classify`] turns a step's status and name, those diagnostics and
//! the log's tail into one [`FailureKind`](crate::outcome::FailureKind).
//!
//! The shapes are few and fixed (`file:line:col: severity: message`, `CMake Error at …:`, `>>>`
//! lines), so this is plain string matching, no regex. Memory stays bounded whatever the size of
//! the log: one line at a time, each cut at 4 KiB, at most [`MAX_DIAGNOSTICS`] kept, each with a
//! bounded message and context.
//!
//! One file per concern:
//!
//! - `parser.rs`: reading a log line by line within those bounds, and the state between lines
//!   (a diagnostic collecting its notes, context waiting for the next one, a CMake message);
//! - `compiler.rs`: GCC's and Clang's `place: severity: message` lines, include chains, scope and
//!   instantiation lines;
//! - `linker.rs`: GNU ld, LLD and the drivers' word that the link failed;
//! - `cmake.rs`: CMake's `CMake Error at …:` headers and CTest's list of failed tests;
//! - `place.rs`: where a line points, `file:line:col` as each tool writes it;
//! - `programs.rs`: which compiler or linker a program's name is;
//! - `sanitizer.rs`: the sanitizers' reports: headline, stack frames, the project's own frame;
//! - `classify.rs`: the failure kind, and the signs of a missing or broken toolchain.

mod classify;
mod cmake;
mod compiler;
mod linker;
mod parser;
mod place;
mod programs;
mod sanitizer;
#[cfg(test)]
mod testing;

pub use classify::classify;
pub use parser::{parse, parse_file, MAX_DIAGNOSTICS};
