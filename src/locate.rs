//! Where a command's things are: the matrix the command line names (or the default lookup finds),
//! its state folder, and the store of earlier runs with a run, a job or a run's own matrix file
//! found by what the command line calls them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, did_you_mean, MatrixFile};
use crate::error::{Error, Result};
use crate::exec::reaper;
use crate::outcome::{JobRecord, RunRecord};
use crate::statedir;
use crate::store::{ProjectStats, Store, StoreError};

/// How long a sweep of a dead run's processes waits between SIGTERM and SIGKILL.
const SWEEP_GRACE: Duration = Duration::from_secs(2);

/// The matrix file or folder `named`, or the one the default lookup finds from the current
/// folder (named relative to it).
pub fn matrix(named: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = named {
        if !p.exists() {
            return Err(Error::Usage(format!("{}: no such matrix file or folder", p.display())));
        }
        // A project's folder names its `gridrun.toml` (and so its state folder): only a folder
        // without one is a folder of matrix files.
        let file = p.join(config::DEFAULT_FILE);
        return Ok(if p.is_dir() && file.is_file() { file } else { p.to_path_buf() });
    }
    let cwd = current_dir()?;
    let found = config::discover(&cwd).ok_or_else(|| {
        Error::Usage(format!(
            "no {} here or in a parent folder, and no {}/ folder here; name a matrix file",
            config::DEFAULT_FILE,
            config::DEFAULT_FOLDER
        ))
    })?;
    Ok(found.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(found))
}

/// The state folder: `flag` (`--state-dir`), else `.gridrun` beside the matrix file (beside the
/// folder, for a folder of files).
pub fn state_dir(flag: Option<&Path>, matrix: &Path) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return std::path::absolute(dir).map_err(Error::io("cannot resolve --state-dir"));
    }
    let absolute = std::path::absolute(matrix).map_err(Error::io("cannot resolve the matrix path"))?;
    Ok(statedir::beside(&absolute))
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(Error::io("cannot read the current directory"))
}

/// The store of earlier runs and the state folder it lives in.
pub struct Recorded {
    /// The open store.
    pub store: Store,
    /// Its state folder.
    pub state_dir: PathBuf,
}

impl Recorded {
    /// Opens the store earlier runs wrote: in `flag` (`--state-dir`), else beside `matrix`, else
    /// the one in the current folder or the nearest parent (up to the nearest project's), else
    /// beside the matrix the default lookup finds. Before anything is read, runs whose gridrun
    /// has died are marked abandoned and their leftover processes ended (DESIGN §5).
    pub fn open(flag: Option<&Path>, matrix: Option<&Path>) -> Result<Self> {
        let cwd = current_dir()?;
        let (state_dir, looked) = match (flag, matrix) {
            // With --state-dir the matrix does not matter, and need not exist any more.
            (Some(_), _) => (state_dir(flag, Path::new(""))?, false),
            (None, Some(named)) => (state_dir(None, &self::matrix(Some(named))?)?, false),
            (None, None) => match statedir::find(&cwd) {
                Some(found) => (found, false),
                None => match config::discover(&cwd) {
                    Some(found) => (state_dir(None, &found)?, false),
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
        Ok(Self { store, state_dir })
    }

    /// The run `which` names: an id (`42`, or `#42` as `status` prints it) or `latest`.
    pub fn run(&self, which: &str) -> Result<RunRecord> {
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
    pub fn job(&self, run: &RunRecord, slug: &str) -> Result<JobRecord> {
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

    /// Each project's figures over the last `days` days (`project`'s alone, where named: a
    /// project the store has no runs of is bad usage, with a "did you mean").
    pub fn stats(&self, days: u32, project: Option<&str>) -> Result<Vec<ProjectStats>> {
        if let Some(project) = project {
            let known = self.store.projects()?;
            if !known.iter().any(|k| k == project) {
                let hint = match did_you_mean(project, known.iter().map(String::as_str)) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => format!(" (its projects: {})", known.join(", ")),
                };
                return Err(Error::Usage(format!("the store has no runs of project `{project}`{hint}")));
            }
        }
        // A window reaching past the epoch holds every run.
        let since = chrono::Utc::now().checked_sub_signed(chrono::Duration::days(i64::from(days))).unwrap_or_default();
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(self.store.stats(&since, project)?)
    }

    /// The matrix file `run` was made from, with its branch's `[branches."GLOB"]` settings: the
    /// one `named` names (a file, or the file of the run's project in a folder), else the file
    /// the run was made from, found where it was named from or beside the state folder, else the
    /// default lookup's.
    pub fn matrix_file(&self, run: &RunRecord, named: Option<&Path>) -> Result<MatrixFile> {
        let path = match named {
            Some(path) => matrix(Some(path))?,
            None => match self.recorded_file(run) {
                Some(path) => path,
                None => matrix(None).map_err(|_| {
                    Error::Usage(format!(
                        "run {} was made from {}, which is not there any more; name the matrix file with --matrix",
                        run.id, run.matrix_path
                    ))
                })?,
            },
        };
        let files = config::load_path(&path)?;
        let mut file = files.into_iter().find(|f| f.project.name == run.project).ok_or_else(|| {
            Error::Usage(format!("{} holds no project `{}`, which run {} is of", path.display(), run.project, run.id))
        })?;
        if let Some(branch) = &run.branch {
            file.apply_branch(branch);
        }
        Ok(file)
    }

    /// The file a run was made from, as it was named then: from the folder the state folder is
    /// in (the path's tail, for a run started from another folder), else from the current folder.
    fn recorded_file(&self, run: &RunRecord) -> Option<PathBuf> {
        let named = Path::new(&run.matrix_path);
        if named.as_os_str().is_empty() {
            return None;
        }
        if named.is_absolute() {
            return named.is_file().then(|| named.to_path_buf());
        }
        let parts: Vec<_> = named.components().collect();
        let beside_state = self.state_dir.parent().and_then(|base| {
            (0..parts.len())
                .map(|skip| parts[skip..].iter().fold(base.to_path_buf(), |path, part| path.join(part)))
                .find(|candidate| candidate.is_file())
        });
        let found = beside_state.or_else(|| named.is_file().then(|| named.to_path_buf()))?;
        // Named as the user would from here, as the default lookup names it.
        let cwd = std::env::current_dir().ok();
        Some(cwd.and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf)).unwrap_or(found))
    }
}

/// Splits `RUN/JOB` into its parts; `RUN` alone has no job.
pub fn split_target(target: &str) -> Result<(&str, Option<&str>)> {
    match target.split_once('/') {
        None => Ok((target, None)),
        Some(("", _)) => Err(Error::Usage(format!("`{target}`: write RUN/JOB, e.g. latest/{}", &target[1..]))),
        Some((run, "")) => Ok((run, None)),
        Some((run, job)) => Ok((run, Some(job))),
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
