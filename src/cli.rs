//! The command line: clap definitions only.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Run a C/C++ build matrix (platform × compiler × standard × anything) in parallel on this
/// machine, record every run, and report on it.
#[derive(Debug, Parser)]
#[command(name = "gridrun", version, about, max_term_width = 100)]
pub struct Cli {
    /// The state folder (default: `.gridrun` beside the matrix file).
    #[arg(long, global = true, env = "GRIDRUN_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists).
    #[arg(long, global = true, env = "GRIDRUN_HOSTS", value_name = "FILE")]
    pub hosts: Option<PathBuf>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// gridrun's commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once; boxing would only add noise to every command")]
pub enum Command {
    /// Expand the matrix and print its jobs, with the cells this host cannot run and why.
    Plan(PlanArgs),
    /// Run the jobs in parallel within CPU, memory and time limits, and record them.
    Run(RunArgs),
    /// Recent runs, one line each.
    #[command(visible_alias = "history")]
    Status(StatusArgs),
    /// A run (its grid and jobs) or a job (steps, durations, memory, log paths).
    Show(ShowArgs),
    /// Print a job's log.
    Log(LogArgs),
    /// Write a run as an HTML page, Markdown, JUnit XML or JSON.
    Report(ReportArgs),
    /// A job's bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment,
    /// artifacts with their SHA-256.
    Sbom(SbomArgs),
    /// Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`.
    Notify(NotifyArgs),
    /// What newly fails, what was fixed, what got slower between two runs.
    Compare(CompareArgs),
    /// Success rates, durations, failure kinds and flaky cells over recent days.
    Stats(StatsArgs),
    /// Drop logs, workspaces and artifacts past their retention.
    Gc(GcArgs),
    /// Bring runs recorded in other state folders (shards run on other machines) into this one.
    Merge(MergeArgs),
    /// List the compilers, LLVMs and C++ standards found on this host.
    Toolchains(ToolchainsArgs),
    /// The build hosts: what each serves, its capacity, and whether it answers.
    Hosts(HostsArgs),
    /// Fold what a Slurm run's tasks have finished into its run; say what is still queued.
    Collect(CollectArgs),
    /// Write a starter gridrun.toml from the compilers found on this host.
    Init(InitArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Runs one Slurm array task (started by Slurm for `run --on slurm`).
    #[command(name = "__slurm-task", hide = true)]
    SlurmTask(SlurmTaskArgs),
    /// Kills what a run left behind once its gridrun is gone (started by `run` itself).
    #[command(name = "__reap", hide = true)]
    Reap(ReapArgs),
}

/// `gridrun run`.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools, reason = "a command line's switches")]
pub struct RunArgs {
    /// The matrix and cells.
    #[command(flatten)]
    pub selection: Selection,

    /// Concurrent jobs at most (default: `limits.jobs`, else host CPUs / `limits.cpus`).
    #[arg(short = 'j', long, value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<u32>,

    /// CPU slots to share out (default: this host's CPUs).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub cpus: Option<u32>,

    /// Memory to share out, e.g. `16GiB` (default: the host's available memory).
    #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_size)]
    pub memory: Option<u64>,

    /// Stop at the first failure: queued jobs are cancelled, running ones terminated.
    #[arg(long, overrides_with = "no_fail_fast")]
    pub fail_fast: bool,

    /// Run every job whatever fails (the default; undoes an earlier `--fail-fast`).
    #[arg(long, overrides_with = "fail_fast")]
    pub no_fail_fast: bool,

    /// Retry every step up to N times on failure, whatever the file says.
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Fail the run for any cell this host cannot serve, not only for cells picked with `--cell`
    /// or `--shard`.
    #[arg(long)]
    pub strict: bool,

    /// Print the plan of what would run, and run nothing.
    #[arg(long, visible_alias = "list")]
    pub dry_run: bool,

    /// Stop after N failures.
    #[arg(long, value_name = "N", conflicts_with = "fail_fast", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures: Option<u32>,

    /// Time limit per job, overriding `limits.timeout`, e.g. `10m`.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// Keep every job's workspace (by default only failed jobs keep theirs).
    #[arg(long)]
    pub keep_workspaces: bool,

    /// Run only slice K of N (1-based), e.g. `--shard 2/4`; the slices of 1..N cover every job once.
    #[arg(long, value_name = "K/N", value_parser = clap::value_parser!(crate::matrix::Shard))]
    pub shard: Option<crate::matrix::Shard>,

    /// The grid's rows and columns: two keys of the matrix (default: compiler,cxx_standard).
    #[arg(long, value_name = "ROW,COL", value_parser = clap::value_parser!(crate::report::grid::Pivot))]
    pub pivot: Option<crate::report::grid::Pivot>,

    /// Run only the cells that failed in RUN, or were cancelled before they finished (default: the
    /// latest run).
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "latest")]
    pub rerun_failed: Option<String>,

    /// Do not run a cell whose config already passed at this commit; record it as `reused`.
    #[arg(long)]
    pub skip_passed: bool,

    /// Write JUnit XML here when the run ends.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write the HTML report here, rewritten as jobs finish (it reloads itself while the run lasts).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Where the jobs run: here (with the build hosts), or on a Slurm cluster.
    #[command(flatten)]
    pub on: OnArgs,

    /// With `--on slurm`: submit, print the run's id, and exit; `gridrun collect` folds it in.
    #[arg(long, requires = "on")]
    pub detach: bool,

    /// Run only where the source moved since the last finished run of this configuration
    /// (a git source's remote branch, read without cloning; a folder's commit and local
    /// changes); say so and exit 0 where it did not. For cron.
    #[arg(long)]
    pub if_changed: bool,

    /// Follow the branches matching GLOB (repeatable): a git source is built once per matching
    /// branch of its repository; a folder only while its checked-out branch matches.
    #[arg(long, value_name = "GLOB", value_parser = branch_glob_arg)]
    pub branch: Vec<String>,
}

/// Where jobs run, and how they go to Slurm.
#[derive(Debug, Clone, clap::Args)]
pub struct OnArgs {
    /// `slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub on: Option<OnEngine>,

    /// Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations).
    #[arg(long, value_name = "N|auto", value_parser = clap::value_parser!(crate::slurm::submit::Pack), requires = "on")]
    pub pack: Option<crate::slurm::submit::Pack>,

    /// Slurm partition (over `[slurm] partition`).
    #[arg(long, value_name = "NAME", requires = "on")]
    pub partition: Option<String>,

    /// Slurm account (over `[slurm] account`).
    #[arg(long, value_name = "NAME", requires = "on")]
    pub account: Option<String>,

    /// Slurm QoS (over `[slurm] qos`).
    #[arg(long, value_name = "NAME", requires = "on")]
    pub qos: Option<String>,
}

/// An engine jobs can run on beyond this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnEngine {
    /// A Slurm cluster.
    Slurm,
}

/// `gridrun report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The run (default: the latest).
    #[arg(value_name = "RUN", default_value = "latest")]
    pub run: String,

    /// The format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,

    /// Where to write it: a file (replaced atomically), a pipe or device, or `-` for stdout
    /// (the default).
    #[arg(short = 'o', long, value_name = "FILE",
          value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), crate::outfile::Destination::from))]
    pub output: Option<crate::outfile::Destination>,

    /// A run to compare against: newly failing and fixed cells are marked.
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<String>,

    /// Not one run: a page of trends per project (success rate, cells and durations per day,
    /// the slowest, flakiest and most failing cells) over the last `--days`.
    #[arg(long, conflicts_with_all = ["baseline", "pivot"])]
    pub history: bool,

    /// With --history: how many days back.
    #[arg(long, value_name = "N", default_value_t = 30, requires = "history", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,

    /// With --history: only this project.
    #[arg(long, value_name = "NAME", requires = "history")]
    pub project: Option<String>,

    /// The grid's rows and columns (default: compiler,cxx_standard).
    #[arg(long, value_name = "ROW,COL", value_parser = clap::value_parser!(crate::report::grid::Pivot))]
    pub pivot: Option<crate::report::grid::Pivot>,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// `gridrun sbom`.
#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// `RUN/JOB`, or `RUN` for every job of the run that ran; `latest` is the newest run.
    #[arg(value_name = "RUN[/JOB]", default_value = "latest")]
    pub target: String,

    /// The document's format.
    #[arg(long, value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,

    /// Where to write it: for a job, a file (or a folder to write `JOB.cdx.json` into); for a
    /// run, a folder that gets one `JOB.cdx.json` per job. Default: stdout (a run's documents
    /// as one JSON array).
    #[arg(short = 'o', long, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// Bill of materials formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.5 JSON.
    Cyclonedx,
}

/// `gridrun notify`.
#[derive(Debug, clap::Args)]
pub struct NotifyArgs {
    /// The run (default: the latest).
    #[arg(value_name = "RUN", default_value = "latest")]
    pub run: String,

    /// Show what would be sent, and to whom; send nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// The matrix file (or folder) whose `[[notify]]` entries apply, and its state folder
    /// (default: the file the run was made from).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// GitHub-flavoured Markdown.
    Md,
    /// JUnit XML: a testsuite per cell.
    Junit,
    /// DESIGN's `show --json` shape.
    Json,
}

/// `gridrun merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// State folders to merge from (each holds a gridrun.db), or folders holding a `.gridrun`.
    #[arg(value_name = "STATE_DIR", required = true, value_hint = clap::ValueHint::DirPath)]
    pub sources: Vec<PathBuf>,

    /// Every run of each source, not only its latest.
    #[arg(long)]
    pub all: bool,

    /// A matrix file or folder, to find the state folder to merge into (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// `gridrun compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The earlier run.
    #[arg(value_name = "A")]
    pub a: String,

    /// The later run (default: the latest).
    #[arg(value_name = "B", default_value = "latest")]
    pub b: String,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gridrun stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Over the last N days.
    #[arg(long, default_value_t = 30)]
    pub days: u32,

    /// Only this project.
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gridrun gc`.
#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// Drop what is older than this (e.g. `14d`), whatever the file's retention says.
    #[arg(long, value_name = "DURATION", value_parser = clap::value_parser!(crate::config::Age))]
    pub older_than: Option<crate::config::Age>,

    /// Show what would go, remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// A matrix file or folder: its state folder, and its `artifacts.retention_days`.
    #[arg(value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// `gridrun status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,

    /// How many runs to list.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub limit: u32,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gridrun show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// `RUN` or `RUN/JOB`; `latest` (the default) is the newest run.
    #[arg(value_name = "RUN[/JOB]", default_value = "latest")]
    pub target: String,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,

    /// The grid's rows and columns (default: compiler,cxx_standard).
    #[arg(long, value_name = "ROW,COL", value_parser = clap::value_parser!(crate::report::grid::Pivot))]
    pub pivot: Option<crate::report::grid::Pivot>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gridrun log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// `RUN/JOB`, or `JOB` for the latest run.
    #[arg(value_name = "RUN/JOB")]
    pub target: String,

    /// Only this step (default: every step, in order).
    #[arg(long, value_name = "STEP")]
    pub step: Option<String>,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// `gridrun __reap`.
#[derive(Debug, clap::Args)]
pub struct ReapArgs {
    /// The run's token, in the environment of each of its processes.
    pub token: String,

    /// Time between SIGTERM and SIGKILL, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub grace_ms: u64,
}

/// Which matrix and which of its cells.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// A matrix file or a folder of them (default: `gridrun.toml` here or above, else `matrices/`).
    #[arg(value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,

    /// Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again
    /// adds globs (OR), different keys must all match (AND).
    #[arg(short = 'f', long = "filter", value_name = "KEY=GLOB[,GLOB…]")]
    pub filters: Vec<String>,

    /// Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`).
    #[arg(long, value_name = "KEY=GLOB[,GLOB…]")]
    pub exclude: Vec<String>,

    /// Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so
    /// that cannot run here fails the run.
    #[arg(long, value_name = "SLUG", value_delimiter = ',')]
    pub cell: Vec<String>,

    /// Exit 0 where the selection holds nothing to run (default: exit 4).
    #[arg(long)]
    pub allow_empty: bool,
}

impl Selection {
    /// The compiled filter.
    pub fn filter(&self) -> Result<crate::matrix::CellFilter, crate::matrix::FilterError> {
        crate::matrix::CellFilter::new(&self.filters, &self.exclude, &self.cell)
    }
}

/// `gridrun plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The matrix and cells.
    #[command(flatten)]
    pub selection: Selection,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,

    /// With `--on slurm`, the arrays that would be submitted.
    #[command(flatten)]
    pub on: OnArgs,
}

/// How `plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A table for people.
    Table,
    /// `{"schema":1, "project", "jobs":[…]}`.
    Json,
    /// `{"include":[…]}`: the fan-out for a GitHub Actions matrix's `fromJSON`, every cell a
    /// runner could build, packed under GitHub's 256 jobs.
    Github,
    /// A child pipeline whose `parallel:matrix` runs every cell a runner could build, packed
    /// under GitLab's 200 jobs.
    Gitlab,
}

/// `gridrun collect`.
#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// The run (default: the latest run on Slurm).
    #[arg(value_name = "RUN")]
    pub run: Option<String>,

    /// A matrix file or folder, to find its state folder (default lookup otherwise).
    #[arg(long, value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
}

/// `gridrun __slurm-task`.
#[derive(Debug, clap::Args)]
pub struct SlurmTaskArgs {
    /// The submission's spec.
    pub spec: PathBuf,

    /// The task number of the array's index 0.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
}

/// `gridrun hosts`.
#[derive(Debug, clap::Args)]
pub struct HostsArgs {
    /// A matrix file or folder whose `[hosts.NAME]` tables add to the hosts file's.
    #[arg(value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,

    /// Connect to each host and list its toolchains (otherwise only the files are read).
    #[arg(long)]
    pub probe: bool,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gridrun toolchains`.
#[derive(Debug, clap::Args)]
pub struct ToolchainsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `gridrun init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Replace an existing gridrun.toml.
    #[arg(long)]
    pub force: bool,
}

/// `gridrun completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A count that must be at least 1 (`-j`, `--cpus`).
fn at_least_one(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--branch GLOB`: a glob git could be handed, never an option.
fn branch_glob_arg(text: &str) -> Result<String, String> {
    if text.trim().is_empty() || text.starts_with('-') || text.chars().any(char::is_control) {
        return Err("a branch name or glob, like `main` or `release/*`".into());
    }
    crate::config::branch_glob(text).map(|_| text.to_string()).map_err(|why| format!("not a valid glob: {why}"))
}
