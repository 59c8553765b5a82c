//! The commands: each takes its parsed arguments, calls the library and prints. `main` maps what
//! they return to an exit code.

mod collect;
mod compare;
mod completions;
mod gc;
mod hosts;
mod init;
mod log;
mod merge;
mod notify;
mod plan;
mod report;
mod run;
mod sbom;
mod show;
mod stats;
mod status;
mod toolchains;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::config::{self, MatrixFile};
use crate::error::{Error, Result};
use crate::locate::Recorded;
use crate::term::Style;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let style = Style::detect(cli.color);
    let ctx = Context { state_dir: cli.state_dir, hosts: cli.hosts, style };
    match cli.command {
        Command::Plan(args) => plan::run(&ctx, &args),
        Command::Toolchains(args) => toolchains::run(&ctx, &args),
        Command::Hosts(args) => hosts::run(&ctx, &args),
        Command::Collect(args) => collect::run(&ctx, &args),
        Command::SlurmTask(args) => crate::slurm::task::run(&args.spec, args.offset),
        Command::Init(args) => init::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Run(args) => run::run(&ctx, &args),
        Command::Status(args) => status::run(&ctx, &args),
        Command::Show(args) => show::run(&ctx, &args),
        Command::Log(args) => log::run(&ctx, &args),
        Command::Stats(args) => stats::run(&ctx, &args),
        Command::Gc(args) => gc::run(&ctx, &args),
        Command::Report(args) => report::run(&ctx, &args),
        Command::Notify(args) => notify::run(&ctx, &args),
        Command::Sbom(args) => sbom::run(&ctx, &args),
        Command::Compare(args) => compare::run(&ctx, &args),
        Command::Merge(args) => merge::run(&ctx, &args),
        Command::Reap(args) => {
            crate::exec::reaper::watch(&args.token, std::time::Duration::from_millis(args.grace_ms));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes `text` to stdout; a reader that went away (`| head`) is not an error, nor a panic.
fn print_out(text: impl AsRef<[u8]>, what: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    written(out.write_all(text.as_ref()).and_then(|()| out.flush()), what)
}

/// `doc` as pretty JSON on stdout.
fn print_json(doc: &impl serde::Serialize, what: &str) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc).expect("a document of strings and numbers serializes");
    text.push('\n');
    print_out(text, what)
}

/// Output that ends early because the reader went away (`| head`) is not an error.
fn written(result: std::io::Result<()>, what: &str) -> Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Error::io(format!("cannot write {what}"))),
    }
}

/// What every command shares.
pub(crate) struct Context {
    state_dir: Option<PathBuf>,
    hosts: Option<PathBuf>,
    style: Style,
}

impl Context {
    /// The matrix files named on the command line, or found by the default lookup.
    fn load(&self, matrix: Option<&Path>) -> Result<(PathBuf, Vec<MatrixFile>)> {
        let path = crate::locate::matrix(matrix)?;
        let files = config::load_path(&path)?;
        Ok((path, files))
    }

    /// The state folder: `--state-dir`, else `.gridrun` beside the matrix.
    fn state_dir(&self, matrix_path: &Path) -> Result<PathBuf> {
        crate::locate::state_dir(self.state_dir.as_deref(), matrix_path)
    }

    /// The store of earlier runs (see [`Recorded::open`]).
    fn recorded(&self, matrix: Option<&Path>) -> Result<Recorded> {
        Recorded::open(self.state_dir.as_deref(), matrix)
    }

    /// The build hosts: the hosts file's, with the matrix files' `[hosts.NAME]` added or put in
    /// their place.
    fn hosts(&self, files: &[MatrixFile]) -> Result<config::Hosts> {
        let base = match config::hosts_file(self.hosts.as_deref())? {
            Some(path) => config::load_hosts(&path)?,
            None => config::Hosts::none(),
        };
        Ok(files.iter().fold(base, |hosts, file| hosts.merged(&file.hosts)))
    }

    /// The machines cells may go to: with `--on slurm` the cluster's nodes, else this host (its
    /// probe answers cached in the state folder) and the build hosts, each connected and probed.
    fn machines(
        &self,
        files: &[MatrixFile],
        state_dir: &Path,
        on: &crate::cli::OnArgs,
        env: Vec<(String, String)>,
    ) -> Result<crate::plan::Machines> {
        if on.on.is_some() {
            let slurm = files.first().map(|f| slurm_flags(on, &f.slurm)).unwrap_or_default();
            return crate::slurm::nodes::machines(&slurm, state_dir);
        }
        let cache = state_dir.join("cache");
        let local = crate::toolchain::Host::detect(Some(cache.join("toolchains.json")));
        let hosts = self.hosts(files)?;
        Ok(crate::plan::Machines::connect(local, &hosts, Some(cache), env))
    }
}

/// How a plan goes to Slurm: its file's `[slurm]`, the command line's flags over it.
fn submission(
    plan: &crate::plan::Plan,
    on: &crate::cli::OnArgs,
    timeout: Option<std::time::Duration>,
    jobs: Option<u32>,
) -> crate::slurm::submit::Submission {
    crate::slurm::submit::Submission {
        slurm: slurm_flags(on, &plan.matrix.slurm),
        pack: on.pack,
        throttle: jobs,
        timeout,
    }
}

/// `[slurm]` with `--partition`, `--account` and `--qos` over it.
fn slurm_flags(on: &crate::cli::OnArgs, slurm: &crate::config::Slurm) -> crate::config::Slurm {
    slurm.overridden(on.partition.as_deref(), on.account.as_deref(), on.qos.as_deref())
}
