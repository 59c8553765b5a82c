//! Files gridrun writes where the user said (`report -o`, `run --report`, `--junit`): a regular
//! file (or a path not there yet) is replaced atomically, so a browser reloading a live report or
//! a CI step reading it never sees half a file; a pipe, a terminal or another device is written
//! to as a stream, never replaced; `-` is standard output. A symbolic link is followed, as a
//! shell's `>` follows it, and what it leads to gets the same treatment.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output (`-o -`).
    Stdout,
    /// A path as the user gave it.
    Path(PathBuf),
}

impl From<std::ffi::OsString> for Destination {
    /// `-` is standard output; anything else a path.
    fn from(text: std::ffi::OsString) -> Self {
        if text == "-" {
            Self::Stdout
        } else {
            Self::Path(PathBuf::from(text))
        }
    }
}

impl Destination {
    /// How the path is shown in messages.
    pub fn display(&self) -> String {
        match self {
            Self::Stdout => "standard output".into(),
            Self::Path(path) => path.display().to_string(),
        }
    }
}

/// What is at a destination path now, links followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Nothing yet, or a regular file: replaced atomically.
    File,
    /// A pipe, socket or character device (a terminal): written to as a stream.
    Stream,
}

/// Follows `path` through symbolic links to what finally stands there (which may not exist yet),
/// and says what it is; a folder or a block device is an error.
pub fn resolve(path: &Path) -> io::Result<(PathBuf, Kind)> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        let meta = match fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((current, Kind::File)),
            Err(e) => return Err(e),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = fs::read_link(&current)?;
            current = match current.parent() {
                Some(dir) if target.is_relative() => dir.join(target),
                _ => target,
            };
            continue;
        }
        if kind.is_file() {
            return Ok((current, Kind::File));
        }
        if kind.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "is a folder; name a file in it"));
        }
        if kind.is_block_device() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a block device; gridrun will not write a report onto it",
            ));
        }
        return Ok((current, Kind::Stream));
    }
    Err(io::Error::new(io::ErrorKind::InvalidInput, "has too many levels of symbolic links"))
}

/// Writes `bytes` to `destination`: atomically over a regular file or a new path (making its
/// folder), streamed into a pipe or device, or to standard output.
pub fn write(destination: &Destination, bytes: &[u8]) -> io::Result<()> {
    match destination {
        Destination::Stdout => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Destination::Path(path) => write_path(path, bytes),
    }
}

/// As [`write`], for a path.
pub fn write_path(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (target, kind) = resolve(path)?;
    match kind {
        Kind::Stream => {
            // Opened as it is: no create, no truncate, so a device or pipe stays what it was.
            let mut stream = OpenOptions::new().write(true).open(&target)?;
            stream.write_all(bytes)?;
            stream.flush()
        }
        Kind::File => replace(&target, bytes),
    }
}

/// Writes a temporary file beside `target` and renames it over `target`, keeping the old file's
/// permissions where there was one.
fn replace(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match target.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => {
            // `-o reports/grid.html` makes `reports/` as needed.
            fs::create_dir_all(dir)?;
            dir.to_path_buf()
        }
        None => PathBuf::from("."),
    };
    let name = target.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "names no file"))?;
    let mut temp =
        tempfile::Builder::new().prefix(&format!(".{}.", name.to_string_lossy())).suffix(".tmp").tempfile_in(&dir)?;
    let mode = fs::metadata(target).map_or(0o644, |m| m.permissions().mode());
    temp.as_file().set_permissions(fs::Permissions::from_mode(mode & 0o7777))?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// Opens `path` for appending (a CI's step summary): created where missing, links followed, a
/// pipe or device opened as it is.
pub fn append(path: &Path) -> io::Result<File> {
    let (target, kind) = resolve(path)?;
    match kind {
        Kind::Stream => OpenOptions::new().write(true).open(target),
        Kind::File => OpenOptions::new().create(true).append(true).open(target),
    }
}

/// The file of project `project` where one path names the files of several: `out/grid.html` for
/// project `heimdall` is `out/grid.heimdall.html`.
pub fn per_project(path: &Path, project: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{project}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{project}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.html");
        write_path(&path, b"one").unwrap();
        write_path(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp file is left behind");
        // A missing folder is made; a path through a file cannot be written.
        write_path(&dir.path().join("new/r.html"), b"x").unwrap();
        assert!(write_path(&path.join("r.html"), b"x").is_err());
        assert!(write_path(dir.path(), b"x").is_err(), "a folder is not replaced");
    }

    #[test]
    fn a_link_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.html");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.html");
        std::os::unix::fs::symlink("real.html", &link).unwrap();
        write_path(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
