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
mod recorded;
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

    /// The machines of a Slurm cluster: its nodes, probed by a short task (through `srun`), which
    /// also checks that they see the state folder and gridrun's binary where this host does.
    fn slurm_machines(
        &self,
        files: &[MatrixFile],
        state_dir: &Path,
        on: &crate::cli::OnArgs,
    ) -> Result<crate::plan::Machines> {
        let cluster = crate::slurm::cluster::Cluster::detect().map_err(Error::Usage)?;
        let slurm = files.first().map(|f| f.slurm.clone()).unwrap_or_default();
        let mut options = vec!["--time=5".to_string(), "--mem=256M".to_string()];
        let partition = on.partition.clone().or(slurm.partition);
        for (flag, value) in [
            ("--partition", &partition),
            ("--account", &on.account.clone().or(slurm.account)),
            ("--qos", &on.qos.clone().or(slurm.qos)),
        ] {
            if let Some(value) = value {
                options.push(format!("{flag}={value}"));
            }
        }
        let state_dir = std::path::absolute(state_dir).map_err(Error::io("cannot resolve the state folder"))?;
        let name = format!("slurm-{}-{}", cluster.name, partition.as_deref().unwrap_or("default"));
        let cache = state_dir.join("cache").join(format!("{name}.json"));
        // What a node said of itself is kept a day: a busy cluster need not run a probe task
        // before every run (and a drained one could not).
        let listing_file = state_dir.join("cache").join(format!("{name}.listing"));
        let fresh = std::fs::metadata(&listing_file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age < std::time::Duration::from_secs(24 * 3600));
        if fresh {
            if let Some(listing) =
                std::fs::read_to_string(&listing_file).ok().as_deref().and_then(crate::toolchain::Listing::parse)
            {
                let run = Box::new(move |args: &[String]| {
                    crate::slurm::cluster::srun_script(&options, crate::toolchain::PROBE_SCRIPT, args)
                });
                return Ok(crate::plan::Machines::local(crate::toolchain::Host::from_listing(
                    &listing,
                    Some(cache),
                    run,
                )));
            }
        }
        let probe_dir = state_dir.join("slurm");
        std::fs::create_dir_all(&probe_dir).map_err(Error::io(format!("cannot create {}", probe_dir.display())))?;
        let marker = tempfile::Builder::new()
            .prefix("probe-")
            .tempfile_in(&probe_dir)
            .map_err(Error::io(format!("cannot write into {}", probe_dir.display())))?;
        let binary = crate::slurm::submit::binary();
        let quote = crate::remote::ssh::quote;
        let preamble = format!(
            "[ -e {marker} ] && printf 'shared\\tyes\\n'\n[ -x {binary} ] && printf 'binary\\tyes\\n'\nhostname | sed 's/^/node\\t/'\n",
            marker = quote(&marker.path().display().to_string()),
            binary = quote(&binary.display().to_string())
        );
        let script = format!("{preamble}{}", crate::toolchain::PROBE_SCRIPT);
        let listing = crate::slurm::cluster::srun_script(&options, &script, &["list".into()])
            .map_err(|e| Error::Usage(format!("cannot probe a node of cluster {}: {e}", cluster.name)))?;
        let node = listing.lines().find_map(|l| l.strip_prefix("node\t")).unwrap_or("a node").to_string();
        if !listing.lines().any(|l| l == "shared\tyes") {
            return Err(Error::Usage(format!(
                "the state folder {} is not on a file system the nodes share ({node} cannot see it); put it on one \
                 (--state-dir or GRIDRUN_STATE_DIR)",
                state_dir.display()
            )));
        }
        if !listing.lines().any(|l| l == "binary\tyes") {
            return Err(Error::Usage(format!(
                "{node} cannot run gridrun at {}; install it at the same path on the nodes (or on a shared file system)",
                binary.display()
            )));
        }
        let _ = std::fs::create_dir_all(state_dir.join("cache"));
        let _ = crate::outfile::write_path(&listing_file, listing.as_bytes());
        let listing = crate::toolchain::Listing::parse(&listing)
            .ok_or_else(|| Error::Usage(format!("{node} has no POSIX sh to probe its toolchains with")))?;
        let run = Box::new(move |args: &[String]| {
            crate::slurm::cluster::srun_script(&options, crate::toolchain::PROBE_SCRIPT, args)
        });
        Ok(crate::plan::Machines::local(crate::toolchain::Host::from_listing(&listing, Some(cache), run)))
    }
}

/// How a plan goes to Slurm: its file's `[slurm]`, the command line's flags over it.
fn submission(
    plan: &crate::plan::Plan,
    on: &crate::cli::OnArgs,
    timeout: Option<std::time::Duration>,
    jobs: Option<u32>,
) -> crate::slurm::submit::Submission {
    let mut slurm = plan.matrix.slurm.clone();
    for (value, flag) in
        [(&mut slurm.partition, &on.partition), (&mut slurm.account, &on.account), (&mut slurm.qos, &on.qos)]
    {
        if flag.is_some() {
            value.clone_from(flag);
        }
    }
    crate::slurm::submit::Submission { slurm, pack: on.pack, throttle: jobs, timeout }
}
