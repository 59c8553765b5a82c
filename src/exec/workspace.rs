//! Where jobs work: the source (a folder built in place, or a git repository cloned once into the
//! cache and checked out per job at one commit), each job's build and results folders, and their
//! removal after success.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Source;
use crate::plan::Plan;

/// The source of a run, prepared.
#[derive(Clone, Debug)]
pub struct PreparedSource {
    /// The commit the jobs build (empty where the folder is not a git work tree).
    pub commit: String,
    /// Whether a path source had uncommitted changes.
    pub dirty: bool,
    /// For a git source, the cached repository jobs check out from.
    pub cache_repo: Option<PathBuf>,
    /// For a git source, whether to check out submodules.
    pub submodules: bool,
}

/// A workspace step failed.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct WorkspaceError {
    what: String,
    detail: String,
}

/// Readies `plan`'s source once per run: a path keeps the commit and dirtiness git gave the
/// plan (which its config hashes were made from), a git source's revision is fetched into the
/// cache.
pub fn prepare_source(plan: &Plan) -> Result<PreparedSource, WorkspaceError> {
    let cache_dir = plan.state_dir.join("cache");
    match &plan.matrix.project.source {
        Source::Path(dir) => {
            if !dir.is_dir() {
                return Err(WorkspaceError {
                    what: format!("source {}", dir.display()),
                    detail: "no such folder".into(),
                });
            }
            Ok(PreparedSource { commit: plan.commit.clone(), dirty: plan.dirty, cache_repo: None, submodules: false })
        }
        Source::Git { url, rev, depth, submodules } => {
            let digest = Sha256::digest(url.as_bytes());
            let name = u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"));
            let name = format!("{name:016x}");
            let repo = cache_dir.join("git").join(format!("{name}.git"));
            if !repo.join("HEAD").is_file() {
                std::fs::create_dir_all(&repo).map_err(|e| io_error(&repo, &e))?;
                git(None, &["init", "--quiet", "--bare", &repo.display().to_string()])?;
            }
            let rev = rev.as_deref().unwrap_or("HEAD");
            let mut fetch = vec!["fetch".to_string(), "--quiet".into()];
            if let Some(depth) = depth {
                fetch.push(format!("--depth={depth}"));
            }
            // `--`: what follows are operands, whatever they look like.
            fetch.extend(["--".to_string(), url.clone(), rev.to_string()]);
            git(Some(&repo), &fetch.iter().map(String::as_str).collect::<Vec<_>>())?;
            let commit = git(Some(&repo), &["rev-parse", "FETCH_HEAD^{commit}"])?;
            // A branch keeps the commit from gc and lets `git clone --shared` see a non-empty repo.
            git(Some(&repo), &["update-ref", &format!("refs/heads/gridrun/{commit}"), &commit])?;
            Ok(PreparedSource { commit, dirty: false, cache_repo: Some(repo), submodules: *submodules })
        }
    }
}

/// Creates a job's folders, and for a git source its checkout at the run's commit.
pub fn prepare_job(prepared: &PreparedSource, source: &Path, dirs: &[&Path]) -> Result<(), WorkspaceError> {
    for dir in dirs {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    }
    if let Some(repo) = &prepared.cache_repo {
        if !source.join(".git").exists() {
            git(
                None,
                &[
                    "clone",
                    "--quiet",
                    "--shared",
                    "--no-checkout",
                    "--",
                    &repo.display().to_string(),
                    &source.display().to_string(),
                ],
            )?;
        }
        git(Some(source), &["checkout", "--quiet", "--detach", &prepared.commit, "--"])?;
        if prepared.submodules {
            git(Some(source), &["submodule", "update", "--quiet", "--init", "--recursive"])?;
        }
    }
    Ok(())
}

/// Removes a job's workspace.
pub fn remove(work_dir: &Path) {
    // A job that named no folder of its workspace had none made: one look instead of two
    // failing removals, as a no-op job costs little more than its spawn.
    if std::fs::symlink_metadata(work_dir).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return;
    }
    let _ = std::fs::remove_dir_all(work_dir);
    // Drop the run's folder too once its last job is gone.
    if let Some(parent) = work_dir.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, WorkspaceError> {
    let mut all: Vec<std::ffi::OsString> = Vec::new();
    if let Some(dir) = dir {
        all.extend(["-C".into(), dir.into()]);
    }
    all.extend(args.iter().map(Into::into));
    let out = duct::cmd("git", all)
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .env("GIT_TERMINAL_PROMPT", "0")
        // Only transports that move data: `ext::` and `fd::` (which run commands) are refused,
        // here and for every submodule.
        .env("GIT_ALLOW_PROTOCOL", "file:git:http:https:ssh")
        .unchecked()
        .run()
        .map_err(|e| WorkspaceError { what: "git".into(), detail: e.to_string() })?;
    if !out.status.success() {
        return Err(WorkspaceError {
            what: format!("git {}", args.join(" ")),
            detail: String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("failed").to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn io_error(path: &Path, e: &std::io::Error) -> WorkspaceError {
    WorkspaceError { what: path.display().to_string(), detail: e.to_string() }
}
