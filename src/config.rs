//! The matrix file as the user wrote it: TOML parsed into typed values that keep their source
//! spans, validated, with errors that point at the offending text.
//!
//! This is the low level of the two-stage configuration (see `plan` for the resolved level):
//! nothing here knows about hosts, compilers or runs.

mod branches;
mod cache;
mod ci;
mod container;
mod coverage;
mod duration;
mod error;
mod hosts;
mod load;
mod notify;
mod preset;
mod scalar;
mod schema;
mod setup;
mod size;
mod slurm;
mod starter;

pub use branches::{branch_glob, is_glob, BranchSettings, LimitsOverride};
pub use cache::Cache;
pub use ci::{Ci, Runner as CiRunner};
pub use container::{Container, Engine};
pub use coverage::CoverageSettings;
pub use duration::{parse_duration, Age, DurationValue, MAX_DURATION};
pub use error::{did_you_mean, ConfigError, SourceFile, Span};
pub use hosts::{hosts_file, load_hosts, HostConfig, Hosts, DEFAULT_WORK_DIR};
pub use load::{discover, load_file, load_path, load_text, template_span, MatrixFile, DEFAULT_FILE, DEFAULT_FOLDER};
pub use notify::{
    check_url, Email, Login, Notify, Security, Target, Trigger, Webhook, WebhookUrl, DEFAULT_RETRIES, DEFAULT_TIMEOUT,
    TEMPLATE_FUEL, TEMPLATE_VARIABLES,
};
pub use preset::Preset;
pub use scalar::Scalar;
pub use schema::{Artifacts, Axis, Entry, Limits, Project, Source, Step, Text};
pub use setup::{PipelineKind, PipelineStep};
pub use size::{parse_size, SizeValue, MAX_SIZE};
pub use slurm::Slurm;
pub use starter::starter;
