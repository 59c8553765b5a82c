//! Git facts about a source tree: the commit it is at and whether it has local changes.

use std::path::Path;

/// `git -C dir ARGS…`, its output captured, its stdin closed. Without git's optional locks: these
/// only read, and `git status` would otherwise refresh a stale index under `index.lock`, where the
/// user's own git command of that moment would find it taken.
fn git(dir: &Path, args: &[&str]) -> duct::Expression {
    let mut all: Vec<std::ffi::OsString> = vec!["--no-optional-locks".into(), "-C".into(), dir.into()];
    all.extend(args.iter().map(Into::into));
    duct::cmd("git", all).stdin_null().stdout_capture().stderr_null().unchecked()
}

/// The top folder of the git work tree `dir` is in, or `None` where it is in none.
pub fn toplevel(dir: &Path) -> Option<std::path::PathBuf> {
    let out = git(dir, &["rev-parse", "--show-toplevel"]).run().ok()?;
    let top = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !top.is_empty()).then(|| top.into())
}

/// A work tree's commit and whether it has uncommitted changes, from one `git status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeState {
    /// The commit checked out; empty where there is none yet.
    pub commit: String,
    /// Whether anything differs from it (untracked files included), `ignore` not counted.
    pub dirty: bool,
    /// The branch checked out; `None` on a detached `HEAD`.
    pub branch: Option<String>,
}

/// The state of the work tree at `dir` (one git process), or `None` where it is not one; `ignore`
/// (gridrun's own state folder, when it lives inside the tree) does not count.
pub fn state(dir: &Path, ignore: Option<&Path>) -> Option<TreeState> {
    let exclude = ignore.and_then(|i| i.strip_prefix(dir).ok()).map(|r| format!(":(exclude){}", r.display()));
    let mut args = vec!["status", "--porcelain=v2", "--branch", "--untracked-files=normal", "--", "."];
    args.extend(exclude.as_deref());
    let out = git(dir, &args).run().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut state = TreeState::default();
    for line in text.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            if oid != "(initial)" {
                state.commit = oid.trim().to_string();
            }
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            state.branch = (head != "(detached)").then(|| head.trim().to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            state.dirty = true;
        }
    }
    Some(state)
}

/// How many bytes of untracked files [`changes_digest`] reads; past that, a file counts by its
/// name, size and modification time (a build folder nobody ignored should not cost a minute).
const UNTRACKED_READ_LIMIT: u64 = 64 << 20;

/// A digest of the uncommitted changes of the work tree at `dir` (the diff against `HEAD`, and
/// untracked files by name and content), not counting `ignore`: two dirty trees at one commit
/// hash alike only if their changes are the same. `None` for a clean tree or no git work tree.
pub fn changes_digest(dir: &Path, ignore: Option<&Path>) -> Option<String> {
    use sha2::{Digest, Sha256};
    let exclude = ignore.and_then(|i| i.strip_prefix(dir).ok()).map(|r| format!(":(exclude){}", r.display()));
    let mut diff_args = vec!["diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", "--", "."];
    diff_args.extend(exclude.as_deref());
    let diff = git(dir, &diff_args).run().ok().filter(|o| o.status.success())?.stdout;
    let mut list_args = vec!["ls-files", "-z", "--others", "--exclude-standard", "--", "."];
    list_args.extend(exclude.as_deref());
    let untracked = git(dir, &list_args).run().ok().filter(|o| o.status.success())?.stdout;
    if diff.is_empty() && untracked.is_empty() {
        return None;
    }
    let mut digest = Sha256::new();
    digest.update(&diff);
    let mut budget = UNTRACKED_READ_LIMIT;
    for name in untracked.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        digest.update(b"\0untracked\0");
        digest.update(name);
        let path = dir.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name));
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_file() && meta.len() <= budget {
            budget -= meta.len();
            if let Ok(bytes) = std::fs::read(&path) {
                digest.update(&bytes);
                continue;
            }
        }
        let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        digest.update(format!("{}:{:?}", meta.len(), modified).as_bytes());
    }
    let bytes = digest.finalize();
    Some(crate::text::hex(&bytes[..8]))
}

/// `git ls-remote` of `url` (read without cloning it): each ref's name and commit, branches
/// named without `refs/heads/`. `heads` lists only branches; `pattern` narrows to refs ending in
/// it. `Err` carries git's own words.
fn ls_remote(url: &str, heads: bool, pattern: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut args = vec!["ls-remote", "--quiet"];
    if heads {
        args.push("--heads");
    }
    // `--`: the URL and pattern are operands, whatever they look like (both are checked at load).
    args.extend(["--", url]);
    args.extend(pattern);
    let out = duct::cmd("git", &args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("git ls-remote failed");
        return Err(crate::text::one_line(said).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(commit, name)| (name.strip_prefix("refs/heads/").unwrap_or(name).to_string(), commit.to_string()))
        .collect())
}

/// The branches of the remote repository `url` and the commit each is at.
pub fn remote_branches(url: &str) -> Result<Vec<(String, String)>, String> {
    ls_remote(url, true, None)
}

/// The commit `rev` (a branch, a tag, `HEAD`, or a commit id) names in the remote repository
/// `url`, read without cloning it.
pub fn remote_commit(url: &str, rev: Option<&str>) -> Result<String, String> {
    let rev = rev.unwrap_or("HEAD");
    if is_commit_id(rev) {
        return Ok(rev.to_string());
    }
    let refs = ls_remote(url, false, Some(rev))?;
    let wanted = rev.strip_prefix("refs/heads/").unwrap_or(rev);
    // A branch first, then an annotated tag's commit, then the tag, then the ref as written.
    let tag = format!("refs/tags/{rev}");
    [wanted.to_string(), format!("{tag}^{{}}"), tag, rev.to_string()]
        .iter()
        .find_map(|name| refs.iter().find(|(n, _)| n == name))
        .map(|(_, commit)| commit.clone())
        .ok_or_else(|| format!("the repository has no branch or tag `{rev}`"))
}

/// Whether `rev` is a whole commit id (40 or 64 hex digits): it never moves.
pub fn is_commit_id(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}
