//! The probe cache: what each compiler and LLVM answered, keyed by the resolved driver's path,
//! size and modification time, so a second `plan` runs no compiler at all and an upgraded
//! compiler is probed again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default)]
pub(super) struct ProbeCache {
    file: Option<PathBuf>,
    entries: HashMap<String, Entry>,
    dirty: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(super) struct Entry {
    size: u64,
    mtime_ns: u128,
    pub(super) version: String,
    #[serde(default)]
    pub(super) standards: BTreeMap<String, bool>,
    #[serde(default)]
    pub(super) cmake_dir: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    schema: u32,
    entries: HashMap<String, Entry>,
}

const SCHEMA: u32 = 1;

impl ProbeCache {
    pub(super) fn load(file: Option<PathBuf>) -> Self {
        let entries = file
            .as_deref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .filter(|c| c.schema == SCHEMA)
            .map(|c| c.entries)
            .unwrap_or_default();
        Self { file, entries, dirty: false }
    }

    /// A compiler's entry; `stat` is its size and time where it is not on this machine.
    pub(super) fn compiler(&self, driver: &Path, stat: Option<(u64, u128)>) -> Option<Entry> {
        self.get(driver, stat)
    }

    pub(super) fn llvm(&self, config: &Path, stat: Option<(u64, u128)>) -> Option<Entry> {
        self.get(config, stat)
    }

    pub(super) fn set_compiler(
        &mut self,
        driver: &Path,
        stat: Option<(u64, u128)>,
        version: &str,
        standards: &BTreeMap<String, bool>,
    ) {
        self.set(driver, stat, version, standards.clone(), None);
    }

    pub(super) fn set_llvm(
        &mut self,
        config: &Path,
        stat: Option<(u64, u128)>,
        version: &str,
        cmake_dir: Option<&Path>,
    ) {
        self.set(config, stat, version, BTreeMap::new(), cmake_dir.map(Path::to_path_buf));
    }

    fn get(&self, path: &Path, stat: Option<(u64, u128)>) -> Option<Entry> {
        let (key, size, mtime_ns) = key_of(path, stat)?;
        self.entries.get(&key).filter(|e| e.size == size && e.mtime_ns == mtime_ns).cloned()
    }

    fn set(
        &mut self,
        path: &Path,
        stat: Option<(u64, u128)>,
        version: &str,
        standards: BTreeMap<String, bool>,
        cmake_dir: Option<PathBuf>,
    ) {
        let Some((key, size, mtime_ns)) = key_of(path, stat) else { return };
        let entry = Entry { size, mtime_ns, version: version.to_string(), standards, cmake_dir };
        if self.entries.get(&key) != Some(&entry) {
            self.entries.insert(key, entry);
            self.dirty = true;
        }
    }

    /// Writes the cache where it changed; a cache that cannot be written is only slower.
    pub(super) fn save(&mut self) {
        let Some(file) = &self.file else { return };
        if !self.dirty {
            return;
        }
        let body = CacheFile { schema: SCHEMA, entries: std::mem::take(&mut self.entries) };
        if let (Some(dir), Ok(json)) = (file.parent(), serde_json::to_vec_pretty(&body)) {
            if std::fs::create_dir_all(dir).is_ok() {
                let tmp = file.with_extension(format!("tmp.{}", std::process::id()));
                if std::fs::write(&tmp, json).is_ok() {
                    let _ = std::fs::rename(&tmp, file);
                }
            }
        }
        self.entries = body.entries;
        self.dirty = false;
    }
}

/// The cache's key for a tool: given (another machine's size and time), or read here.
fn key_of(path: &Path, stat: Option<(u64, u128)>) -> Option<(String, u64, u128)> {
    match stat {
        Some((size, mtime_ns)) => Some((path.display().to_string(), size, mtime_ns)),
        None => identity(path),
    }
}

/// The resolved path (symlinks followed: `g++-12` is a link on Debian), size and mtime.
fn identity(path: &Path) -> Option<(String, u64, u128)> {
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some((format!("{}|{}", path.display(), real.display()), meta.len(), mtime))
}
