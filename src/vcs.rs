//! Git facts about a source tree: the commit it is at and whether it has local changes.

use std::path::Path;

/// `git -C dir ARGS…`, its output captured, its stdin closed.
fn git(dir: &Path, args: &[&str]) -> duct::Expression {
    let mut all: Vec<std::ffi::OsString> = vec!["-C".into(), dir.into()];
    all.extend(args.iter().map(Into::into));
    duct::cmd("git", all).stdin_null().stdout_capture().stderr_null().unchecked()
}

/// The commit `dir` is checked out at, or `None` where it is not a git work tree.
pub fn head(dir: &Path) -> Option<String> {
    let out = git(dir, &["rev-parse", "--verify", "--quiet", "HEAD"]).run().ok()?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// Whether the work tree at `dir` has uncommitted changes (untracked files included), not
/// counting `ignore` (gridrun's own state folder, when it lives inside the tree).
pub fn is_dirty(dir: &Path, ignore: Option<&Path>) -> bool {
    let exclude = ignore.and_then(|i| i.strip_prefix(dir).ok()).map(|r| format!(":(exclude){}", r.display()));
    let mut args = vec!["status", "--porcelain", "--untracked-files=normal", "--", "."];
    args.extend(exclude.as_deref());
    git(dir, &args).run().is_ok_and(|out| out.status.success() && !out.stdout.is_empty())
}
