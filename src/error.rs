//! gridrun's errors and the exit code each maps to.

use crate::config::ConfigError;
use crate::plan::PlanError;

/// Everything that can stop a command. Each variant maps to a documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A matrix file is wrong. Exit 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A plan could not be made. Exit 2.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The store cannot be read or written. Exit 2.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The command line asks for something that cannot be done. Exit 2.
    #[error("{0}")]
    Usage(String),
    /// No runs are recorded where history was looked for (`status` says so and exits 0). Exit 2.
    #[error("{0}")]
    NoRuns(String),
    /// The selection holds nothing to run (`--allow-empty` makes it exit 0). Exit 4.
    #[error("{0}")]
    Empty(String),
    /// A file or folder could not be read or written. Exit 2.
    #[error("{context}: {source}")]
    Io {
        /// What gridrun was doing.
        context: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code: 4 for a selection that holds nothing to run, 2 for bad input and
    /// anything else gridrun could not do.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Empty(_) => EMPTY,
            _ => 2,
        }
    }

    /// The source line with a caret, where the error points into a matrix file.
    pub fn snippet(&self) -> Option<String> {
        let (Self::Config(config) | Self::Plan(PlanError::Config(config))) = self else { return None };
        let snippet = config.snippet();
        (!snippet.is_empty()).then_some(snippet)
    }

    /// Wraps an I/O error with what gridrun was doing.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// The exit code of a selection that ran nothing (as nextest's for no tests run).
pub const EMPTY: u8 = 4;

/// The exit code of a bug in gridrun (a panic), as Rust programs give it.
pub const INTERNAL_ERROR: u8 = 101;

/// Makes a panic anywhere one line on stderr that says it is a bug, and where it struck. The
/// run's watchdog ends its jobs when the process goes; the next command marks the run
/// abandoned.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        crate::term::note(format_args!("internal error: {message}{place}; this is a bug in gridrun"));
    }));
}

/// A command's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
