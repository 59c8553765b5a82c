//! gridrun: a build matrix runner for C and C++ projects.
//!
//! Data flows one way: [`cli`] → [`config`] (the file as written) → [`matrix`] (cells) →
//! [`plan`] (jobs on this host, with [`toolchain`]) → exec → store → report. [`commands`] is the
//! glue the binary calls.

/// `gridrun: <message>` on stderr, never panicking (see [`term::note`]).
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::term::note(format_args!($($arg)*))
    };
}
pub(crate) use note;

pub mod artifacts;
pub mod boundedread;
pub mod ccache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod exec;
pub mod fanout;
pub mod fspath;
pub mod gc;
pub mod joblog;
pub mod locate;
pub mod matrix;
pub mod moved;
pub mod notify;
pub mod outcome;
pub mod outfile;
pub mod plan;
pub mod progress;
pub mod remote;
pub mod report;
pub mod runner;
pub mod sbom;
pub mod secrets;
pub mod slurm;
pub mod statedir;
pub mod store;
pub mod term;
pub mod testresults;
pub mod text;
pub mod toolchain;
pub mod vcs;
