//! Paths reasoned about without touching the file system: `..` folded away, so a path can be
//! checked against the folders it must stay in before anything is read or written there.

use std::path::{Component, Path, PathBuf};

/// `a/./b/../c` → `a/c`. A `..` above the root stays at the root, as the kernel has it.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether `path`, made absolute against `base` and normalized, lies inside one of `roots`.
pub fn is_inside(path: &Path, base: &Path, roots: &[&Path]) -> bool {
    let path = normalize(&base.join(path));
    roots.iter().any(|root| path.starts_with(normalize(root)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_cannot_leave_a_root_unnoticed() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/../../etc")), Path::new("/etc"));
        let work = Path::new("/state/work/1/job");
        assert!(is_inside(Path::new("results/ctest.xml"), work, &[work]));
        assert!(!is_inside(Path::new("../../../../etc/passwd"), work, &[work]));
        assert!(!is_inside(Path::new("/etc/passwd"), work, &[work]));
    }
}
