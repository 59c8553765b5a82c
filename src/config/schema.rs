//! The validated contents of a matrix file, still as the user wrote them (templates unrendered,
//! compilers unresolved), each piece carrying its span for later errors.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Scalar, Span};

/// Text from the file (a template, a name) with where it stands.
#[derive(Clone, Debug)]
pub struct Text {
    /// The text, escapes resolved.
    pub value: String,
    /// Where the value (quotes included) stands in the file.
    pub span: Span,
}

/// `[project]`.
#[derive(Clone, Debug)]
pub struct Project {
    /// The project's name; the file's stem where `name` is not given.
    pub name: String,
    /// Where the sources come from.
    pub source: Source,
}

/// `project.source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A folder on this machine, built in place.
    Path(PathBuf),
    /// A git repository cloned into the cache, checked out per job.
    Git {
        /// The clone URL.
        url: String,
        /// Branch, tag or commit; `HEAD` of the default branch where not given.
        rev: Option<String>,
        /// Shallow clone depth.
        depth: Option<u32>,
        /// Whether to check out submodules.
        submodules: bool,
    },
}

/// One matrix axis: a key and its values, in file order.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The axis name.
    pub name: Arc<str>,
    /// Where the name stands.
    pub span: Span,
    /// The values, in file order.
    pub values: Vec<Scalar>,
}

/// One `[[matrix.include]]` or `[[matrix.exclude]]` entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key/value pairs, in file order.
    pub pairs: Vec<(Arc<str>, Scalar)>,
    /// Where each key stands, in the order of `pairs`.
    pub key_spans: Vec<Span>,
    /// Where the entry stands.
    pub span: Span,
}

/// `[limits]`, with defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Concurrent jobs; `None` means host CPUs / `cpus`.
    pub jobs: Option<u32>,
    /// CPU slots a job holds.
    pub cpus: u32,
    /// Memory a job may use, in bytes; `None` means unlimited.
    pub memory: Option<u64>,
    /// Wall time a job may take.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { jobs: None, cpus: 1, memory: None, timeout: None, kill_grace: Duration::from_secs(5) }
    }
}

/// One `[[steps]]` entry, or a step a preset stands for.
#[derive(Clone, Debug)]
pub struct Step {
    /// The step's name, unique within the file.
    pub name: Text,
    /// The shell command, a template.
    pub run: Text,
    /// A JUnit XML file the step writes, a template.
    pub junit: Option<Text>,
    /// How many times a failing step is run again.
    pub retries: u32,
    /// Wall time the step may take.
    pub timeout: Option<Duration>,
    /// Extra environment for this step, values are templates.
    pub env: Vec<(String, Text)>,
}

/// `[artifacts]`.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    /// Glob patterns, templates, relative to the job's workspace.
    pub patterns: Vec<Text>,
    /// Days to keep collected artifacts; `None` keeps them.
    pub retention_days: Option<u32>,
}
