//! What a build server's polling did, without the server: which branches a run follows, and
//! whether a source moved since its configuration was last built (`run --branch`, `run
//! --if-changed`).

use crate::config::{MatrixFile, Source};
use crate::plan::Plan;
use crate::store::Store;

/// A matrix file per branch it follows: a git source whose `rev` is a glob (or any git source
/// under `--branch`) becomes one file per matching branch of its repository, read with `git
/// ls-remote`; a folder source stays only while its checked-out branch matches `--branch`.
/// What could not be followed comes back as a line to say, the project left out.
pub fn follow_branches(files: Vec<MatrixFile>, globs: &[String]) -> Followed {
    let mut out = Vec::with_capacity(files.len());
    let mut problems = Vec::new();
    let mut unmatched = Vec::new();
    for file in files {
        let project = file.project.name.clone();
        match &file.project.source {
            Source::Git { url, rev, .. } => {
                let patterns: Vec<&str> = if globs.is_empty() {
                    rev.as_deref().filter(|r| crate::config::is_glob(r)).into_iter().collect()
                } else {
                    globs.iter().map(String::as_str).collect()
                };
                if patterns.is_empty() {
                    out.push(file);
                    continue;
                }
                let matchers: Vec<_> = patterns.iter().filter_map(|p| crate::config::branch_glob(p).ok()).collect();
                match crate::vcs::remote_branches(url) {
                    Err(why) => problems.push(format!("{project}: cannot list the branches of {url}: {why}")),
                    Ok(branches) => {
                        let before = out.len();
                        for (branch, _) in branches.iter().filter(|(b, _)| matchers.iter().any(|m| m.is_match(b))) {
                            let mut one = file.clone();
                            if let Source::Git { rev, .. } = &mut one.project.source {
                                *rev = Some(branch.clone());
                            }
                            out.push(one);
                        }
                        if out.len() == before {
                            unmatched.push(format!(
                                "{project}: no branch of {url} matches {}",
                                patterns.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                            ));
                        }
                    }
                }
            }
            Source::Path(dir) if !globs.is_empty() => {
                let branch = crate::vcs::state(dir, None).and_then(|s| s.branch);
                let followed = branch.as_deref().is_some_and(|b| {
                    globs.iter().filter_map(|g| crate::config::branch_glob(g).ok()).any(|m| m.is_match(b))
                });
                if followed {
                    out.push(file);
                } else {
                    let on = branch.map_or_else(|| "no branch".to_string(), |b| format!("branch `{b}`"));
                    crate::note!("{project}: {} is on {on}, which --branch does not follow; skipped", dir.display());
                }
            }
            Source::Path(_) => out.push(file),
        }
    }
    Followed { files: out, unreachable: problems, unmatched }
}

/// The files [`follow_branches`] made, and what it could not follow.
#[derive(Debug)]
pub struct Followed {
    /// A file per branch followed (other files as they were).
    pub files: Vec<MatrixFile>,
    /// A line per repository that could not be read.
    pub unreachable: Vec<String>,
    /// A line per project none of whose branches matched.
    pub unmatched: Vec<String>,
}

/// Whether a plan's source moved since its configuration was last built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Moved {
    /// The last finished run of this configuration built this revision.
    No {
        /// That run.
        run: i64,
        /// The commit both are at.
        commit: String,
    },
    /// Never built, or built at another revision.
    Yes {
        /// The commit last built, where there was a run.
        from: Option<String>,
        /// The commit now.
        to: String,
        /// Whether the source has local changes on top of it.
        changes: bool,
    },
    /// A run of this configuration is building this revision now (cron started gridrun again
    /// before the last one ended).
    Building {
        /// That run.
        run: i64,
        /// The commit it builds.
        commit: String,
    },
    /// The source is a folder outside git: gridrun cannot tell, so it runs.
    Unknown,
}

/// Compares `plan`'s source now (for a git source, its remote's branch head, read without a
/// clone) with the last finished run of its configuration in `store` (`None`: no store yet).
pub fn moved(plan: &Plan, store: Option<&Store>) -> Result<Moved, String> {
    let now = match &plan.matrix.project.source {
        Source::Path(_) if plan.commit.is_empty() => return Ok(Moved::Unknown),
        Source::Path(_) => plan.revision.clone(),
        Source::Git { url, rev, .. } => {
            crate::vcs::remote_commit(url, rev.as_deref()).map_err(|why| format!("cannot read {url}: {why}"))?
        }
    };
    let (commit, changes) = match now.split_once('+') {
        Some((commit, _)) => (commit.to_string(), true),
        None => (now.clone(), false),
    };
    let Some(store) = store else { return Ok(Moved::Yes { from: None, to: commit, changes }) };
    let project = &plan.matrix.project.name;
    if let Some(run) = store.building(project, &plan.config_key, &now).map_err(|e| e.to_string())? {
        return Ok(Moved::Building { run, commit });
    }
    let last = store.last_built(project, &plan.config_key).map_err(|e| e.to_string())?;
    Ok(match last {
        Some(last) if last.revision == now => Moved::No { run: last.run, commit },
        Some(last) => Moved::Yes { from: Some(last.commit), to: commit, changes },
        None => Moved::Yes { from: None, to: commit, changes },
    })
}
