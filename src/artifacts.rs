//! Collecting a job's artifacts: glob patterns (globset) matched by walking the folders a job may
//! leave files in (walkdir), each file stored once by its content, `artifacts/sha256/ab/cdef…`,
//! with its size and SHA-256 recorded per job. Two runs that build different bytes under one name
//! keep both; the same bytes collected twice are stored once. A pattern or a symlink that would
//! lead outside those folders is refused, not followed, and gridrun's own state folder is never
//! walked: a pattern like `{{ source }}/**` cannot copy the store into itself.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::fspath::normalize;
use crate::outcome::Artifact;

use globset::GlobBuilder;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

/// What collection found: the files, and why some patterns or files were refused.
#[derive(Debug, Default)]
pub struct Collected {
    /// The files stored.
    pub artifacts: Vec<Artifact>,
    /// One line per refused pattern or file.
    pub refused: Vec<String>,
}

/// Where one job's artifacts are looked for and kept.
#[derive(Clone, Debug)]
pub struct Collection<'a> {
    /// Relative patterns are relative to this folder (the matrix file's, DESIGN §1).
    pub base: &'a Path,
    /// The folders files may come from: the job's workspace, its source, the matrix's folder.
    pub roots: &'a [&'a Path],
    /// Never walked: gridrun's state folder, but for a root inside it (the job's workspace).
    pub exclude: &'a Path,
    /// The content-addressed store: `<state>/artifacts`.
    pub store: &'a Path,
}

impl Collection<'_> {
    /// Collects the files matching `patterns` into the store. Files are named by their path
    /// relative to the root they are under. An I/O error (a full disk, say) ends collection.
    pub fn collect(&self, patterns: &[String]) -> std::io::Result<Collected> {
        let mut out = Collected::default();
        let exclude = normalize(self.exclude);
        let real_exclude = std::fs::canonicalize(self.exclude).unwrap_or_else(|_| exclude.clone());
        // The roots that live inside the state folder stay open: the job's own workspace.
        let mut open: Vec<PathBuf> = Vec::new();
        for root in self.roots {
            let root = normalize(root);
            if root.starts_with(&exclude) {
                open.extend(std::fs::canonicalize(&root).ok());
                open.push(root);
            }
        }
        let excluded = |path: &Path| {
            (path.starts_with(&exclude) || path.starts_with(&real_exclude)) && !open.iter().any(|o| path.starts_with(o))
        };
        for pattern in patterns {
            let absolute = if Path::new(pattern).is_absolute() {
                normalize(Path::new(pattern))
            } else {
                normalize(&self.base.join(pattern))
            };
            // The deepest root that holds the pattern names the files it finds.
            let Some(root) = self
                .roots
                .iter()
                .map(|r| normalize(r))
                .filter(|r| absolute.starts_with(r))
                .max_by_key(|r| r.components().count())
            else {
                out.refused.push(format!("pattern {pattern} leaves the workspace; refused"));
                continue;
            };
            let matcher = match GlobBuilder::new(&absolute.to_string_lossy()).literal_separator(true).build() {
                Ok(glob) => glob.compile_matcher(),
                Err(e) => {
                    out.refused.push(format!("pattern {pattern}: {e}"));
                    continue;
                }
            };
            let base = literal_prefix(&absolute);
            if !base.exists() || excluded(&base) {
                continue;
            }
            let Ok(real_root) = std::fs::canonicalize(&root) else { continue };
            let walk = WalkDir::new(&base).follow_links(false).into_iter().filter_entry(|e| !excluded(e.path()));
            for entry in walk.filter_map(Result::ok) {
                let path = entry.path();
                if !matcher.is_match(path) || entry.file_type().is_dir() {
                    continue;
                }
                // A symlink may point anywhere: store what it names only if that is inside the root.
                let real = match std::fs::canonicalize(path) {
                    Ok(real) if real.starts_with(&real_root) && !excluded(&real) => real,
                    _ => {
                        out.refused.push(format!("{} leads outside the workspace; refused", path.display()));
                        continue;
                    }
                };
                if !real.is_file() {
                    continue;
                }
                let relative = path.strip_prefix(&root).unwrap_or(path).to_string_lossy().into_owned();
                if out.artifacts.iter().any(|a| a.path == relative) {
                    continue;
                }
                let (stored_path, size, sha256) = store(&real, self.store)?;
                out.artifacts.push(Artifact { path: relative, stored_path, size, sha256, removed_at: None });
            }
        }
        Ok(out)
    }
}

/// The path of the object with this SHA-256 in the store at `store`.
pub fn object_path(store: &Path, sha256: &str) -> PathBuf {
    let (fan, rest) = sha256.split_at(2.min(sha256.len()));
    store.join("sha256").join(fan).join(rest)
}

/// Copies `from` into the store while hashing it, then moves it to its content's name; the same
/// content already there is kept as it is.
fn store(from: &Path, store: &Path) -> std::io::Result<(PathBuf, u64, String)> {
    let incoming = store.join("incoming");
    std::fs::create_dir_all(&incoming)?;
    let mut temp = tempfile::NamedTempFile::new_in(&incoming)?;
    let mut input = std::fs::File::open(from)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        temp.write_all(&buf[..n])?;
        size += n as u64;
    }
    let sha256 = crate::text::hex(&hasher.finalize());
    let object = object_path(store, &sha256);
    if !object.is_file() {
        if let Some(dir) = object.parent() {
            std::fs::create_dir_all(dir)?;
        }
        temp.as_file().sync_all()?;
        temp.persist(&object).map_err(|e| e.error)?;
    }
    Ok((object, size, sha256))
}

/// The folder part of a pattern before its first glob character.
fn literal_prefix(pattern: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in pattern.components() {
        if part.as_os_str().to_string_lossy().contains(['*', '?', '[', '{']) {
            break;
        }
        out.push(part);
    }
    if out == pattern && !pattern.is_dir() {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_matches_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("build/bin")).unwrap();
        std::fs::write(work.join("build/libgrid.a"), b"archive").unwrap();
        std::fs::write(work.join("build/bin/tool"), b"tool").unwrap();
        std::fs::write(work.join("build/notes.txt"), b"no").unwrap();
        std::fs::write(dir.path().join("secret"), b"outside").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), work.join("build/bin/sneaky")).unwrap();
        let store_dir = dir.path().join("state/artifacts");
        let patterns = vec![
            format!("{}/build/lib*.a", work.display()),
            "build/bin/*".to_string(),
            format!("{}/build/../../secret", work.display()),
        ];
        let collection =
            Collection { base: &work, roots: &[&work], exclude: &dir.path().join("state"), store: &store_dir };
        let got = collection.collect(&patterns).unwrap();
        let paths: Vec<&str> = got.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["build/libgrid.a", "build/bin/tool"]);
        assert_eq!(got.artifacts[0].size, 7);
        let sha = crate::text::hex(&Sha256::digest(b"archive"));
        assert_eq!(got.artifacts[0].sha256, sha);
        assert_eq!(got.artifacts[0].stored_path, object_path(&store_dir, &sha));
        assert_eq!(std::fs::read(&got.artifacts[0].stored_path).unwrap(), b"archive");
        assert_eq!(got.refused.len(), 2, "{:?}", got.refused);
        assert!(got.refused.iter().any(|r| r.contains("sneaky")));
        assert!(got.refused.iter().any(|r| r.contains("leaves the workspace")));
    }

    #[test]
    fn the_state_folder_is_never_walked() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path();
        std::fs::write(project.join("main.cpp"), b"int main(){}").unwrap();
        let state = project.join(".gridrun");
        std::fs::create_dir_all(state.join("artifacts")).unwrap();
        std::fs::write(state.join("gridrun.db"), b"db").unwrap();
        let store_dir = state.join("artifacts");
        let collection = Collection { base: project, roots: &[project], exclude: &state, store: &store_dir };
        let got = collection.collect(&["**".to_string()]).unwrap();
        let paths: Vec<&str> = got.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["main.cpp"]);
        // Collecting again finds the same one file: the store did not fold into itself.
        assert_eq!(collection.collect(&["**".to_string()]).unwrap().artifacts.len(), 1);
    }
}
