//! Git facts about a source tree: the commit it is at and whether it has local changes.

use std::path::Path;
use std::process::{Command, Stdio};

/// The commit `dir` is checked out at, or `None` where it is not a git work tree.
pub fn head(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// Whether the work tree at `dir` has uncommitted changes (untracked files included), not
/// counting `ignore` (gridrun's own state folder, when it lives inside the tree).
pub fn is_dirty(dir: &Path, ignore: Option<&Path>) -> bool {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).args(["status", "--porcelain", "--untracked-files=normal", "--", "."]);
    if let Some(relative) = ignore.and_then(|i| i.strip_prefix(dir).ok()) {
        command.arg(format!(":(exclude){}", relative.display()));
    }
    command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && !out.stdout.is_empty())
}
