//! Looking back at recorded runs, for `status`, `show` and `log`: the store to read (runs whose
//! gridrun died are marked abandoned first, and what they left running is ended), a run or job
//! named on the command line, and the few formats those commands share.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Context;
use crate::config::{self, did_you_mean};
use crate::error::{Error, Result};
use crate::exec::reaper;
use crate::outcome::{JobRecord, RunRecord};
use crate::statedir;
use crate::store::{Store, StoreError};

/// How long a sweep of a dead run's processes waits between SIGTERM and SIGKILL.
const SWEEP_GRACE: Duration = Duration::from_secs(2);

/// The store of earlier runs and the state folder it lives in.
pub(super) struct Recorded {
    /// The open store.
    pub(super) store: Store,
    /// Its state folder.
    pub(super) state_dir: PathBuf,
}

impl Context {
    /// Opens the store earlier runs wrote: in `--state-dir`, else beside `matrix`, else the one
    /// in the current folder or the nearest parent (up to the nearest project's), else beside the
    /// matrix the default lookup finds. Before anything is read, runs whose gridrun has died are
    /// marked abandoned and their leftover processes ended (DESIGN §5).
    pub(super) fn recorded(&self, matrix: Option<&Path>) -> Result<Recorded> {
        let cwd = std::env::current_dir().map_err(Error::io("cannot read the current directory"))?;
        let (state_dir, looked) = match (&self.state_dir, matrix) {
            // With --state-dir the matrix does not matter, and need not exist any more.
            (Some(_), _) => (self.state_dir(Path::new(""))?, false),
            (None, Some(matrix)) => (self.state_dir(&Self::find_matrix(Some(matrix))?)?, false),
            (None, None) => match statedir::find(&cwd) {
                Some(found) => (found, false),
                None => match config::discover(&cwd) {
                    Some(matrix) => (self.state_dir(&matrix)?, false),
                    None => (cwd.join(statedir::NAME), true),
                },
            },
        };
        let none_yet = || {
            let mut message = if looked {
                format!("no runs recorded: no {}/ in {} or its parents", statedir::NAME, cwd.display())
            } else {
                format!("no runs recorded yet in {}", state_dir.display())
            };
            let below = statedir::below(&cwd);
            if let Some(first) = below.first() {
                let project = first.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let more = match below.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                message.push_str(&format!(
                    "; runs are recorded in {}{more}: `cd {}` or name its matrix",
                    first.display(),
                    project.display()
                ));
            }
            Error::NoRuns(message)
        };
        let mut store = Store::open_existing(&state_dir)?.ok_or_else(none_yet)?;
        for token in store.mark_abandoned()? {
            reaper::sweep(&token, SWEEP_GRACE);
        }
        if store.recent_runs(1)?.is_empty() {
            return Err(none_yet());
        }
        Ok(Recorded { store, state_dir })
    }
}

impl Recorded {
    /// The run `which` names: an id (`42`, or `#42` as `status` prints it) or `latest`.
    pub(super) fn run(&self, which: &str) -> Result<RunRecord> {
        let which = which.strip_prefix('#').unwrap_or(which);
        match self.store.run(which) {
            Err(StoreError::NotFound(message)) => {
                let newest = self.store.recent_runs(1)?.first().map(|r| r.id);
                Err(Error::Usage(match newest {
                    Some(id) if which.parse::<i64>().is_ok() => format!("{message} (the newest is run {id})"),
                    _ => message,
                }))
            }
            found => Ok(found?),
        }
    }

    /// The job `slug` of `run`, with a "did you mean" for a near miss.
    pub(super) fn job(&self, run: &RunRecord, slug: &str) -> Result<JobRecord> {
        let jobs = self.store.jobs(run.id)?;
        if let Some(job) = jobs.iter().find(|j| j.slug == slug) {
            return Ok(job.clone());
        }
        let hint = match did_you_mean(slug, jobs.iter().map(|j| j.slug.as_str())) {
            Some(close) => format!("; did you mean `{close}`?"),
            None => format!("; `gridrun show {}` lists its jobs", run.id),
        };
        Err(Error::Usage(format!("run {} has no job `{slug}`{hint}", run.id)))
    }
}

/// Splits `RUN/JOB` into its parts; `RUN` alone has no job.
pub(super) fn split_target(target: &str) -> Result<(&str, Option<&str>)> {
    match target.split_once('/') {
        None => Ok((target, None)),
        Some(("", _)) => Err(Error::Usage(format!("`{target}`: write RUN/JOB, e.g. latest/{}", &target[1..]))),
        Some((run, "")) => Ok((run, None)),
        Some((run, job)) => Ok((run, Some(job))),
    }
}

/// Output that ends early because the reader went away (`| head`) is not an error.
pub(super) fn written(result: io::Result<()>, what: &str) -> Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Error::io(format!("cannot write {what}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_at_the_first_slash() {
        assert_eq!(split_target("3").unwrap(), ("3", None));
        assert_eq!(split_target("latest/gcc-12-17").unwrap(), ("latest", Some("gcc-12-17")));
        assert_eq!(split_target("3/").unwrap(), ("3", None));
        assert!(split_target("/gcc-12-17").is_err());
    }
}
