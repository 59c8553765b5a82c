//! Collecting a job's artifacts: glob patterns (globset) matched by walking the job's workspace
//! (walkdir), each file copied to `artifacts/<commit>/<job>/` with its size and SHA-256. A pattern
//! or a symlink that would lead outside the workspace is refused, not followed.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use globset::GlobBuilder;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

/// One collected file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Where it was, relative to the workspace root it was found under.
    pub path: String,
    /// Where the copy is.
    pub stored_path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// What collection found: the files, and why some patterns or files were refused.
#[derive(Debug, Default)]
pub struct Collected {
    /// The files copied.
    pub artifacts: Vec<Artifact>,
    /// One line per refused pattern or file.
    pub refused: Vec<String>,
}

/// Collects the files matching `patterns` (absolute, or relative to the first root) under
/// `roots` into `dest`. Files are named by their path relative to the root they are under.
pub fn collect(patterns: &[String], roots: &[&Path], dest: &Path) -> std::io::Result<Collected> {
    let mut out = Collected::default();
    let Some(first) = roots.first() else { return Ok(out) };
    for pattern in patterns {
        let absolute = if Path::new(pattern).is_absolute() { PathBuf::from(pattern) } else { first.join(pattern) };
        let absolute = normalize(&absolute);
        let Some(root) = roots.iter().find(|r| absolute.starts_with(normalize(r))) else {
            out.refused.push(format!("pattern {pattern} leaves the workspace; refused"));
            continue;
        };
        let root = normalize(root);
        let matcher = match GlobBuilder::new(&absolute.to_string_lossy()).literal_separator(true).build() {
            Ok(glob) => glob.compile_matcher(),
            Err(e) => {
                out.refused.push(format!("pattern {pattern}: {e}"));
                continue;
            }
        };
        let base = literal_prefix(&absolute);
        if !base.exists() {
            continue;
        }
        let Ok(real_root) = std::fs::canonicalize(&root) else { continue };
        for entry in WalkDir::new(&base).follow_links(false).into_iter().filter_map(Result::ok) {
            let path = entry.path();
            if !matcher.is_match(path) || entry.file_type().is_dir() {
                continue;
            }
            // A symlink may point anywhere: copy what it names only if that is inside the root.
            let real = match std::fs::canonicalize(path) {
                Ok(real) if real.starts_with(&real_root) => real,
                _ => {
                    out.refused.push(format!("{} leads outside the workspace; refused", path.display()));
                    continue;
                }
            };
            if !real.is_file() {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap_or(path).to_path_buf();
            let relative_text = relative.to_string_lossy().into_owned();
            if out.artifacts.iter().any(|a| a.path == relative_text) {
                continue;
            }
            let stored_path = dest.join(&relative);
            let (size, sha256) = copy_hashing(&real, &stored_path)?;
            out.artifacts.push(Artifact { path: relative_text, stored_path, size, sha256 });
        }
    }
    Ok(out)
}

/// Copies `from` to `to` (making folders) and returns the size and SHA-256 of what was copied.
fn copy_hashing(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut input = std::fs::File::open(from)?;
    let mut output = std::fs::File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, format!("{:x}", hasher.finalize())))
}

/// `a/./b/../c` → `a/c`, without touching the file system (so `..` cannot be smuggled past the
/// workspace check).
fn normalize(path: &Path) -> PathBuf {
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
        let dest = dir.path().join("artifacts");
        let patterns = vec![
            format!("{}/build/lib*.a", work.display()),
            "build/bin/*".to_string(),
            format!("{}/build/../../secret", work.display()),
        ];
        let got = collect(&patterns, &[&work], &dest).unwrap();
        let paths: Vec<&str> = got.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["build/libgrid.a", "build/bin/tool"]);
        assert_eq!(got.artifacts[0].size, 7);
        assert_eq!(got.artifacts[0].sha256, format!("{:x}", Sha256::digest(b"archive")));
        assert_eq!(std::fs::read(dest.join("build/libgrid.a")).unwrap(), b"archive");
        assert_eq!(got.refused.len(), 2, "{:?}", got.refused);
        assert!(got.refused.iter().any(|r| r.contains("sneaky")));
        assert!(got.refused.iter().any(|r| r.contains("leaves the workspace")));
        assert!(!dest.join("secret").exists() && !dest.join("build/bin/sneaky").exists());
    }
}
