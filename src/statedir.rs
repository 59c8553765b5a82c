//! Where a project's state folder is: `.gridrun/` beside its matrix file, found the same way
//! however the project is named — by its file, by its folder, or from any folder inside it —
//! so one project has one history (DESIGN §5).

use std::path::{Path, PathBuf};

use crate::config::DEFAULT_FILE;
use crate::store::DB_FILE;

/// The state folder's name.
pub const NAME: &str = ".gridrun";

/// How deep below the current folder `below` looks for state folders to suggest.
const SEARCH_DEPTH: usize = 4;

/// The state folder of a matrix file, or of a folder of matrix files: beside it.
pub fn beside(matrix: &Path) -> PathBuf {
    let parent = matrix.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    parent.join(NAME)
}

/// Where commands that read history look when no matrix is named: from `start` up, the first
/// folder that holds a state folder with a store, or that holds `gridrun.toml` (that project's,
/// with or without runs yet). `None` where neither is found up to the root.
pub fn find(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let state = dir.join(NAME);
        (state.join(DB_FILE).is_file() || dir.join(DEFAULT_FILE).is_file()).then_some(state)
    })
}

/// State folders with a store below `start` (a few levels down, hidden folders and build
/// output skipped), nearest first: what to suggest when none was found where one was looked for.
pub fn below(start: &Path) -> Vec<PathBuf> {
    let skip = |name: &str| name.starts_with('.') || matches!(name, "target" | "node_modules" | "build");
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(start)
        .min_depth(1)
        .max_depth(SEARCH_DEPTH)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_dir() && (name == NAME || !skip(&name))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == NAME && e.path().join(DB_FILE).is_file())
        .map(|e| e.path().strip_prefix(start).map_or_else(|_| e.path().to_path_buf(), Path::to_path_buf))
        .collect();
    found.sort_by_key(|p| (p.components().count(), p.clone()));
    found
}

/// Makes a state folder git ignores: a `.gitignore` of `*` inside it, as Python's venv does. Only
/// in a folder gridrun made, or one of its own name, never in a folder `--state-dir` named that
/// holds anything else.
pub fn ignore_for_git(state_dir: &Path, created: bool) {
    let ignore = state_dir.join(".gitignore");
    let ours = created || state_dir.file_name().is_some_and(|n| n == NAME);
    if ours && !ignore.exists() {
        // Best effort: a read-only folder is read by the commands that cannot write here.
        let _ = std::fs::write(ignore, "# Written by gridrun: its state folder is not for version control.\n*\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_a_bare_file_name_is_the_current_folder() {
        assert_eq!(beside(Path::new("gridrun.toml")), Path::new("./.gridrun"));
        assert_eq!(beside(Path::new("proj/ci.toml")), Path::new("proj/.gridrun"));
    }

    #[test]
    fn find_stops_at_the_nearest_project_or_store() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let deep = root.join("proj/src/lib");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find(&deep).filter(|p| p.starts_with(root)), None);
        std::fs::write(root.join("gridrun.toml"), "").unwrap();
        assert_eq!(find(&deep), Some(root.join(NAME)));
        std::fs::write(root.join("proj/gridrun.toml"), "").unwrap();
        assert_eq!(find(&deep), Some(root.join("proj").join(NAME)));
        std::fs::create_dir_all(root.join("proj/src/.gridrun")).unwrap();
        std::fs::write(root.join("proj/src/.gridrun").join(DB_FILE), "").unwrap();
        assert_eq!(find(&deep), Some(root.join("proj/src").join(NAME)));
    }

    #[test]
    fn below_finds_stores_nearest_first_and_skips_build_output() {
        let tmp = tempfile::tempdir().unwrap();
        for dir in ["a/b/.gridrun", "c/.gridrun", "target/x/.gridrun", "d/.gridrun-not"] {
            std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
            std::fs::write(tmp.path().join(dir).join(DB_FILE), "").unwrap();
        }
        std::fs::create_dir_all(tmp.path().join("e/.gridrun")).unwrap();
        assert_eq!(below(tmp.path()), [PathBuf::from("c/.gridrun"), PathBuf::from("a/b/.gridrun")]);
    }

    #[test]
    fn gitignore_only_where_the_folder_is_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let named = tmp.path().join("mine");
        std::fs::create_dir_all(&named).unwrap();
        ignore_for_git(&named, false);
        assert!(!named.join(".gitignore").exists(), "a folder --state-dir named that existed is not ours");
        ignore_for_git(&named, true);
        assert!(std::fs::read_to_string(named.join(".gitignore")).unwrap().ends_with("*\n"));
        let default = tmp.path().join(NAME);
        std::fs::create_dir_all(&default).unwrap();
        ignore_for_git(&default, false);
        assert!(default.join(".gitignore").exists());
    }
}
