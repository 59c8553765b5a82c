//! The commands: each takes its parsed arguments, calls the library and prints. `main` maps what
//! they return to an exit code.

mod compare;
mod completions;
mod gc;
mod hosts;
mod init;
mod log;
mod merge;
mod plan;
mod recorded;
mod report;
mod run;
mod show;
mod stats;
mod status;
mod toolchains;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::config::{self, MatrixFile};
use crate::error::{Error, Result};
use crate::term::Style;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let style = Style::detect(cli.color);
    let ctx = Context { state_dir: cli.state_dir, hosts: cli.hosts, style };
    match cli.command {
        Command::Plan(args) => plan::run(&ctx, &args),
        Command::Toolchains(args) => toolchains::run(&ctx, &args),
        Command::Hosts(args) => hosts::run(&ctx, &args),
        Command::Init(args) => init::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Run(args) => run::run(&ctx, &args),
        Command::Status(args) => status::run(&ctx, &args),
        Command::Show(args) => show::run(&ctx, &args),
        Command::Log(args) => log::run(&ctx, &args),
        Command::Stats(args) => stats::run(&ctx, &args),
        Command::Gc(args) => gc::run(&ctx, &args),
        Command::Report(args) => report::run(&ctx, &args),
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
    recorded::written(out.write_all(text.as_ref()).and_then(|()| out.flush()), what)
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
        let path = Self::find_matrix(matrix)?;
        let files = config::load_path(&path)?;
        Ok((path, files))
    }

    /// The matrix file or folder named on the command line, or found by the default lookup.
    fn find_matrix(matrix: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = matrix {
            if !p.exists() {
                return Err(Error::Usage(format!("{}: no such matrix file or folder", p.display())));
            }
            // A project's folder names its `gridrun.toml` (and so its state folder): only a
            // folder without one is a folder of matrix files.
            let file = p.join(config::DEFAULT_FILE);
            return Ok(if p.is_dir() && file.is_file() { file } else { p.to_path_buf() });
        }
        let cwd = std::env::current_dir().map_err(Error::io("cannot read the current directory"))?;
        let found = config::discover(&cwd).ok_or_else(|| {
            Error::Usage(format!(
                "no {} here or in a parent folder, and no {}/ folder here; name a matrix file",
                config::DEFAULT_FILE,
                config::DEFAULT_FOLDER
            ))
        })?;
        Ok(found.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(found))
    }

    /// The state folder: `--state-dir`, else `.gridrun` beside the matrix file (beside the folder,
    /// for a folder of files).
    fn state_dir(&self, matrix_path: &Path) -> Result<PathBuf> {
        if let Some(dir) = &self.state_dir {
            return std::path::absolute(dir).map_err(Error::io("cannot resolve --state-dir"));
        }
        let absolute = std::path::absolute(matrix_path).map_err(Error::io("cannot resolve the matrix path"))?;
        Ok(crate::statedir::beside(&absolute))
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

    /// The machines cells may go to: this host (its probe answers cached in the state folder)
    /// and the build hosts, each connected and probed.
    fn machines(
        &self,
        files: &[MatrixFile],
        state_dir: &Path,
        env: Vec<(String, String)>,
    ) -> Result<crate::plan::Machines> {
        let cache = state_dir.join("cache");
        let local = crate::toolchain::Host::detect(Some(cache.join("toolchains.json")));
        let hosts = self.hosts(files)?;
        Ok(crate::plan::Machines::connect(local, &hosts, Some(cache), env))
    }
}
