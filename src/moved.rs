//! What a build server's polling did, without the server: which branches a run follows, and
//! whether a source moved since its configuration was last built (`run --branch`, `run
//! --if-changed`).

use std::path::Path;

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

/// Whether a file's git source names its branches by a glob: one run per branch.
pub fn follows_branches(file: &crate::config::MatrixFile) -> bool {
    matches!(&file.project.source, crate::config::Source::Git { rev: Some(rev), .. } if crate::config::is_glob(rev))
}

/// A plan's name in messages and per-project report files: the project, and its branch where
/// the run follows several.
pub fn plan_name(plan: &crate::plan::Plan) -> String {
    match &plan.branch {
        Some(branch) => format!("{}@{branch}", plan.matrix.project.name),
        None => plan.matrix.project.name.clone(),
    }
}

/// `--if-changed`: the plans whose source moved since their configuration was last built,
/// saying in a line why each other is left out. The store is only read.
pub fn only_moved(
    plans: Vec<crate::plan::Plan>,
    state_dir: &Path,
    unreadable: &mut Vec<String>,
) -> crate::error::Result<Vec<crate::plan::Plan>> {
    let short = |commit: &str| crate::report::terminal::short_commit(commit, false);
    let store = match Store::open_read_only(state_dir) {
        Ok(store) => Some(store),
        // No store yet, or one an older gridrun wrote (the run migrates it): nothing built here.
        Err(_) if !state_dir.join(crate::store::DB_FILE).is_file() => None,
        Err(crate::store::StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let mut kept = Vec::with_capacity(plans.len());
    for plan in plans {
        let name = plan_name(&plan);
        match moved(&plan, store.as_ref()) {
            Err(why) => unreadable.push(format!("{name}: {why}; not run")),
            Ok(Moved::No { run, commit }) => {
                crate::note!("{name}: unchanged since run {run} at {}; nothing to do", short(&commit));
            }
            Ok(Moved::Yes { from, to, changes }) => {
                let to = if changes { format!("{} with local changes", short(&to)) } else { short(&to) };
                match from {
                    Some(from) => crate::note!("{name}: moved from {} to {to}; running", short(&from)),
                    None => crate::note!("{name}: not built at {to} before; running"),
                }
                kept.push(plan);
            }
            Ok(Moved::Building { run, commit }) => {
                crate::note!("{name}: run {run} is building {} now; nothing to do", short(&commit));
            }
            Ok(Moved::Unknown) => {
                crate::note!("{name}: its source is not in git, so whether it changed cannot be told; running");
                kept.push(plan);
            }
        }
    }
    Ok(kept)
}
