//! Finding compilers and LLVMs on PATH and learning their versions and accepted standards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cache::ProbeCache;
use super::probe;
use super::{CompilerSpec, Family, Standard};

/// A compiler found on this host.
#[derive(Clone, Debug, Serialize)]
pub struct Compiler {
    /// The name a matrix uses: `gcc-12`, `clang`.
    pub name: String,
    /// The family.
    pub family: Family,
    /// The C driver's path.
    pub cc: PathBuf,
    /// The C++ driver's path.
    pub cxx: PathBuf,
    /// The version it reports (`12.2.0`); empty until learned.
    pub version: String,
    /// `-std=` values probed so far, and whether each was accepted.
    pub standards: BTreeMap<String, bool>,
}

/// An LLVM installation found on this host.
#[derive(Clone, Debug, Serialize)]
pub struct Llvm {
    /// The major version a matrix names: `16`.
    pub major: String,
    /// `llvm-config`'s path.
    pub config: PathBuf,
    /// `llvm-config --version`; empty until learned.
    pub version: String,
    /// `llvm-config --cmakedir`, for `LLVM_DIR`.
    pub cmake_dir: Option<PathBuf>,
}

/// What a machine can build with: this host, a build host, a container image.
#[derive(Debug)]
pub struct Host {
    /// `linux`, `macos`, `windows`…
    pub platform: String,
    /// `x86_64`, `aarch64`…
    pub arch: String,
    /// Compilers, sorted by family and version.
    pub compilers: Vec<Compiler>,
    /// LLVMs, sorted by version.
    pub llvms: Vec<Llvm>,
    cache: ProbeCache,
    /// Elsewhere: how to run the probe there, and each tool's size and time as it said.
    remote: Option<Remote>,
}

/// Runs the probe script on another machine with these arguments and returns its output.
pub type RunProbe = Box<dyn Fn(&[String]) -> std::io::Result<String> + Send + Sync>;

/// Probing a machine other than this one: its tools' size and time from its listing (the
/// cache's key), and how to ask it questions.
pub struct Remote {
    /// Size and modification time (seconds) of each tool, by path, as the listing said.
    pub stats: std::collections::HashMap<PathBuf, (u64, u64)>,
    /// Runs the probe script there with these arguments and returns its output.
    pub run: RunProbe,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("tools", &self.stats.len()).finish_non_exhaustive()
    }
}

impl Host {
    /// Lists the compilers and LLVMs on `PATH`, without running any of them yet. Probe results
    /// are read from and written to `cache_file` where given.
    pub fn detect(cache_file: Option<PathBuf>) -> Self {
        let path = std::env::var_os("PATH").unwrap_or_default();
        Self::detect_in(&std::env::split_paths(&path).collect::<Vec<_>>(), cache_file)
    }

    /// As [`Host::detect`], over these folders instead of `PATH`.
    pub fn detect_in(dirs: &[PathBuf], cache_file: Option<PathBuf>) -> Self {
        use std::os::unix::fs::MetadataExt;
        let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
        // A folder on PATH twice, or through a link (`/bin` is `/usr/bin` on a merged-/usr
        // system), is read once: what it holds was found the first time.
        let mut read: Vec<(u64, u64)> = Vec::new();
        for dir in dirs {
            let Ok(meta) = std::fs::metadata(dir) else { continue };
            if read.contains(&(meta.dev(), meta.ino())) {
                continue;
            }
            read.push((meta.dev(), meta.ino()));
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if is_interesting(name) && !found.contains_key(name) && is_executable(&entry.path()) {
                    found.insert(name.to_string(), entry.path());
                }
            }
        }
        // Debian and Ubuntu keep every LLVM under /usr/lib/llvm-N even when only one is on PATH.
        let mut llvm_dirs: Vec<(u32, PathBuf)> = Vec::new();
        if let Ok(entries) = std::fs::read_dir("/usr/lib") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(major) =
                    name.to_str().and_then(|n| n.strip_prefix("llvm-")).and_then(|m| m.parse::<u32>().ok())
                else {
                    continue;
                };
                let config = entry.path().join("bin/llvm-config");
                if config.is_file() {
                    llvm_dirs.push((major, config));
                }
            }
        }
        let mut host = Self::from_found(&found, llvm_dirs, ProbeCache::load(cache_file));
        host.platform = std::env::consts::OS.to_string();
        host.arch = std::env::consts::ARCH.to_string();
        host
    }

    /// Another machine, from what its probe listed (see `probe.sh`): `platform` and `arch` as
    /// gridrun names them, tools by name with their paths there.
    pub fn remote(
        platform: String,
        arch: String,
        found: &BTreeMap<String, PathBuf>,
        llvm_dirs: Vec<(u32, PathBuf)>,
        cache_file: Option<PathBuf>,
        remote: Remote,
    ) -> Self {
        let mut host = Self::from_found(found, llvm_dirs, ProbeCache::load(cache_file));
        host.platform = platform;
        host.arch = arch;
        host.remote = Some(remote);
        host
    }

    /// Another machine from its probe's listing; `run` runs the probe script there.
    pub fn from_listing(listing: &super::probe::Listing, cache_file: Option<PathBuf>, run: RunProbe) -> Self {
        let found: BTreeMap<String, PathBuf> = listing
            .tools
            .iter()
            .filter(|(name, _)| is_interesting(name))
            .map(|(name, (path, _, _))| (name.clone(), path.clone()))
            .collect();
        let mut stats: std::collections::HashMap<PathBuf, (u64, u64)> =
            listing.tools.values().map(|(path, size, time)| (path.clone(), (*size, *time))).collect();
        stats.extend(listing.llvms.iter().map(|(_, path, size, time)| (path.clone(), (*size, *time))));
        let llvm_dirs = listing.llvms.iter().map(|(major, path, _, _)| (*major, path.clone())).collect();
        Self::remote(
            listing.platform.clone(),
            listing.arch.clone(),
            &found,
            llvm_dirs,
            cache_file,
            Remote { stats, run },
        )
    }

    /// The compilers (a C driver whose C++ driver is there too) and LLVMs among `found`.
    fn from_found(found: &BTreeMap<String, PathBuf>, llvm_dirs: Vec<(u32, PathBuf)>, cache: ProbeCache) -> Self {
        let mut compilers = Vec::new();
        for (name, cc) in found {
            let Some(spec) = CompilerSpec::parse(name) else { continue };
            let Some(cxx) = found.get(&spec.cxx()) else { continue };
            compilers.push(Compiler {
                name: name.clone(),
                family: spec.family,
                cc: cc.clone(),
                cxx: cxx.clone(),
                version: String::new(),
                standards: BTreeMap::new(),
            });
        }
        compilers.sort_by_key(|c| (c.family, version_key(&c.name)));
        let mut llvms: BTreeMap<u32, Llvm> = BTreeMap::new();
        for (name, path) in found {
            if let Some(major) = name.strip_prefix("llvm-config-").and_then(|m| m.parse::<u32>().ok()) {
                llvms.insert(
                    major,
                    Llvm { major: major.to_string(), config: path.clone(), version: String::new(), cmake_dir: None },
                );
            }
        }
        for (major, config) in llvm_dirs {
            llvms.entry(major).or_insert(Llvm {
                major: major.to_string(),
                config,
                version: String::new(),
                cmake_dir: None,
            });
        }
        Self {
            platform: String::new(),
            arch: String::new(),
            compilers,
            llvms: llvms.into_values().collect(),
            cache,
            remote: None,
        }
    }

    /// Whether this is another machine (a build host, an image) rather than this one.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The probe cache's key for a tool: its size and time, here or as the remote listing said.
    fn stat(&self, path: &Path) -> Option<(u64, u128)> {
        match &self.remote {
            Some(remote) => remote.stats.get(path).map(|(size, secs)| (*size, u128::from(*secs) * 1_000_000_000)),
            None => None,
        }
    }

    /// The compiler a matrix names, if this host has it.
    pub fn compiler(&self, name: &str) -> Option<&Compiler> {
        self.compilers.iter().find(|c| c.name == name)
    }

    /// The LLVM of this major version, if this host has it.
    pub fn llvm(&self, major: &str) -> Option<&Llvm> {
        self.llvms.iter().find(|l| l.major == major)
    }

    /// Learns the versions of the named compilers and LLVMs and whether each compiler accepts
    /// each of `standards`, from the cache or by running them (in parallel), then saves the
    /// cache. Names this host lacks are ignored.
    pub fn learn(&mut self, compilers: &[&str], standards: &[Standard], llvms: &[&str]) {
        let mut work = Vec::new();
        let stats: Vec<Option<(u64, u128)>> = self.compilers.iter().map(|c| self.stat(&c.cxx)).collect();
        let llvm_stats: Vec<Option<(u64, u128)>> = self.llvms.iter().map(|l| self.stat(&l.config)).collect();
        for (compiler, stat) in
            self.compilers.iter_mut().zip(&stats).filter(|(c, _)| compilers.contains(&c.name.as_str()))
        {
            let entry = self.cache.compiler(&compiler.cxx, *stat);
            if let Some(entry) = &entry {
                compiler.version.clone_from(&entry.version);
                compiler.standards.clone_from(&entry.standards);
            }
            if compiler.version.is_empty() {
                work.push(probe::Task::Version { cc: compiler.cc.clone(), family: compiler.family });
            }
            for standard in standards {
                if !compiler.standards.contains_key(standard.flag()) {
                    work.push(probe::Task::Standard { cxx: compiler.cxx.clone(), flag: standard.flag().to_string() });
                }
            }
        }
        for (llvm, stat) in self.llvms.iter_mut().zip(&llvm_stats).filter(|(l, _)| llvms.contains(&l.major.as_str())) {
            if let Some(entry) = self.cache.llvm(&llvm.config, *stat) {
                llvm.version = entry.version;
                llvm.cmake_dir = entry.cmake_dir;
            }
            if llvm.version.is_empty() {
                work.push(probe::Task::Llvm { config: llvm.config.clone() });
            }
        }
        if work.is_empty() {
            return;
        }
        let answers = match &self.remote {
            Some(remote) => probe::run_remote(work, &remote.run),
            None => probe::run_all(work),
        };
        for (task, answer) in answers {
            match (task, answer) {
                (probe::Task::Version { cc, .. }, probe::Answer::Text(version)) => {
                    for c in self.compilers.iter_mut().filter(|c| c.cc == cc) {
                        c.version.clone_from(&version);
                    }
                }
                (probe::Task::Standard { cxx, flag }, probe::Answer::Accepted(ok)) => {
                    for c in self.compilers.iter_mut().filter(|c| c.cxx == cxx) {
                        c.standards.insert(flag.clone(), ok);
                    }
                }
                (probe::Task::Llvm { config }, probe::Answer::Llvm { version, cmake_dir }) => {
                    for l in self.llvms.iter_mut().filter(|l| l.config == config) {
                        l.version.clone_from(&version);
                        l.cmake_dir.clone_from(&cmake_dir);
                    }
                }
                _ => {}
            }
        }
        for (c, stat) in self.compilers.iter().zip(&stats) {
            if !c.version.is_empty() {
                self.cache.set_compiler(&c.cxx, *stat, &c.version, &c.standards);
            }
        }
        for (l, stat) in self.llvms.iter().zip(&llvm_stats) {
            if !l.version.is_empty() {
                self.cache.set_llvm(&l.config, *stat, &l.version, l.cmake_dir.as_deref());
            }
        }
        self.cache.save();
    }

    /// Learns everything about every toolchain on the host, for `gridrun toolchains`.
    pub fn learn_all(&mut self) {
        let compilers: Vec<String> = self.compilers.iter().map(|c| c.name.clone()).collect();
        let llvms: Vec<String> = self.llvms.iter().map(|l| l.major.clone()).collect();
        let standards: Vec<Standard> = Standard::KNOWN.iter().filter_map(|s| Standard::parse(s)).collect();
        self.learn(
            &compilers.iter().map(String::as_str).collect::<Vec<_>>(),
            &standards,
            &llvms.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
}

fn is_interesting(name: &str) -> bool {
    name.starts_with("gcc") || name.starts_with("g++") || name.starts_with("clang") || name.starts_with("llvm-config-")
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn version_key(name: &str) -> Vec<u32> {
    name.rsplit('-').next().unwrap_or_default().split('.').filter_map(|p| p.parse().ok()).collect()
}
