//! Reading a file gridrun is pointed at, within a bound: only a regular file (never a device such
//! as `/dev/zero`, a pipe, or a folder), and no more than a given size, so no input can make
//! gridrun read forever or fill its memory.

use std::io::{self, Read};
use std::path::Path;

/// Reads `path` as UTF-8 text, refusing anything but a regular file of at most `limit` bytes.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

/// Reads `path`, refusing anything but a regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "is a folder, not a file"));
    }
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is not a regular file"));
    }
    if meta.len() > limit {
        return Err(too_big(limit));
    }
    // The file may grow while it is read: the bound holds whatever its size said.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(limit));
    }
    Ok(bytes)
}

/// The last `bytes` bytes of the regular file `path`, as text (invalid UTF-8 replaced), from the
/// first whole line where the file was cut; and whether it was.
pub fn tail(path: &Path, bytes: u64) -> io::Result<(String, bool)> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is not a regular file"));
    }
    let start = meta.len().saturating_sub(bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity(usize::try_from(bytes.min(meta.len())).unwrap_or(0));
    file.take(bytes).read_to_end(&mut buf)?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if start > 0 {
        let first = text.find('\n').map_or(text.len(), |i| i + 1);
        text.drain(..first);
    }
    Ok((text, start > 0))
}

fn too_big(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::FileTooLarge, format!("is larger than {}", bytesize::ByteSize(limit).display().iec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_bound_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "hello").unwrap();
        assert_eq!(read_to_string(&file, 5).unwrap(), "hello");
        assert!(read_to_string(&file, 4).unwrap_err().to_string().starts_with("is larger than"));
        assert_eq!(read(dir.path(), 10).unwrap_err().to_string(), "is a folder, not a file");
        // A device reads forever; it is refused before a byte is read.
        assert_eq!(read(Path::new("/dev/zero"), 10).unwrap_err().to_string(), "is not a regular file");
    }
}
