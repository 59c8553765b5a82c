//! ccache, built in (`[cache] ccache = true`): one cache per compiler and version under the state
//! folder's `cache/ccache/`, the environment that sends a job's compiles through it, what one job's
//! compiles did (read from the statistics log that job alone writes), and trimming the caches for
//! `gc`.
//!
//! The rule a matrix file relies on: CMake steps get `CMAKE_C_COMPILER_LAUNCHER` and
//! `CMAKE_CXX_COMPILER_LAUNCHER` in their environment; `CC` and `CXX` stay the bare compiler; the
//! `make` and `meson` presets put `{{ ccache }}` before the compiler in `CC`/`CXX`, and a
//! hand-written step does the same (`{{ ccache }}` is `ccache`, or empty where it is off).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bytesize::ByteSize;

use crate::outcome::CcacheStats;
use crate::toolchain::ResolvedToolchain;

/// The program, looked up on `PATH` where a job runs.
pub const PROGRAM: &str = "ccache";

/// The statistics log a job's compiles append to, in its workspace.
pub const STATS_LOG: &str = "ccache-stats.log";

/// Whether ccache is on this host's `PATH`.
pub fn installed() -> bool {
    which::which(PROGRAM).is_ok()
}

/// The folder holding every compiler's cache: `<cache_dir>/ccache`.
pub fn root(cache_dir: &Path) -> PathBuf {
    cache_dir.join("ccache")
}

/// The cache of one compiler and version: `<cache_dir>/ccache/gcc-12.3.0`. Two versions never
/// share one (ccache would keep them apart anyway; apart, each is trimmed and sized on its own).
pub fn dir(cache_dir: &Path, tools: &ResolvedToolchain) -> PathBuf {
    let name = match (tools.compiler_family.as_str(), tools.compiler_version.as_str()) {
        ("", "") => tools.cc.clone(),
        ("", version) => format!("{}-{version}", tools.cc),
        (family, "") => format!("{family}-{}", tools.cc),
        (family, version) => format!("{family}-{version}"),
    };
    // A compiler named by path (`/opt/gcc/bin/gcc`) still makes one folder name.
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let name = name.trim_start_matches('.');
    root(cache_dir).join(if name.is_empty() { "compiler" } else { name })
}

/// The environment that sends a job's compiles through its compiler's cache: ccache's settings,
/// CMake's launchers, and the job's own statistics log (`stats_log`, in its workspace).
pub fn env(cache: &Path, source: &Path, stats_log: &Path, max_size: Option<u64>) -> Vec<(String, String)> {
    let mut env = vec![
        ("CCACHE_DIR".to_string(), cache.display().to_string()),
        // Absolute paths under the source hash alike whatever folder a job builds in, and the
        // build folder (new for every job) is kept out of the hash.
        ("CCACHE_BASEDIR".into(), source.display().to_string()),
        ("CCACHE_NOHASHDIR".into(), "1".into()),
        ("CCACHE_STATSLOG".into(), stats_log.display().to_string()),
        ("CMAKE_C_COMPILER_LAUNCHER".into(), PROGRAM.into()),
        ("CMAKE_CXX_COMPILER_LAUNCHER".into(), PROGRAM.into()),
    ];
    if let Some(bytes) = max_size {
        env.push(("CCACHE_MAXSIZE".into(), size_setting(bytes)));
    }
    env
}

/// A size as ccache reads it: a bare number would be gigabytes, so it is given in KiB.
fn size_setting(bytes: u64) -> String {
    format!("{}Ki", bytes.div_ceil(1024))
}

/// Records `max_size` in a cache's own `ccache.conf`, so `gc` (which reads no matrix file) trims
/// it to the size the file asked for. The folder is made where missing.
pub fn configure(cache: &Path, max_size: u64) -> io::Result<()> {
    std::fs::create_dir_all(cache)?;
    let conf = cache.join("ccache.conf");
    let wanted = format!("max_size = {}\n", size_setting(max_size));
    if std::fs::read_to_string(&conf).is_ok_and(|t| t == wanted) {
        return Ok(());
    }
    crate::outfile::write_path(&conf, wanted.as_bytes())
}

/// What one job's compiles did, from the statistics log its compiles appended to: a `# file`
/// line per ccache call, then one counter name a line.
pub fn read_stats(log: &Path) -> io::Result<CcacheStats> {
    let text = std::fs::read_to_string(log)?;
    Ok(parse_stats(&text))
}

/// [`read_stats`] of a log's text.
pub fn parse_stats(text: &str) -> CcacheStats {
    let mut stats = CcacheStats::default();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        match line {
            "direct_cache_hit" | "preprocessed_cache_hit" => stats.hits += 1,
            "cache_miss" => stats.misses += 1,
            _ => {}
        }
    }
    stats.cacheable = stats.hits + stats.misses;
    stats
}

/// Each compiler's cache under `cache_dir`, by name.
pub fn caches(cache_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root(cache_dir)) else { return Vec::new() };
    let mut found: Vec<PathBuf> =
        entries.filter_map(Result::ok).filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect();
    found.sort();
    found
}

/// Trims (or with `dry_run` only measures) every cache under `cache_dir`: entries older than
/// `older_than` go first where it is given, then each cache is cleaned down to its own
/// `max_size`. A line per cache says what it held and holds.
pub fn trim(cache_dir: &Path, older_than: Option<std::time::Duration>, dry_run: bool) -> Vec<String> {
    let caches = caches(cache_dir);
    if caches.is_empty() {
        return Vec::new();
    }
    if !installed() {
        return vec![format!(
            "ccache caches: {} in {}; ccache is not installed here to trim them",
            size(caches.iter().map(|c| dir_size(c)).sum()),
            root(cache_dir).display()
        )];
    }
    let mut lines = Vec::new();
    for cache in caches {
        let name = cache.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let before = dir_size(&cache);
        let max = max_size_of(&cache);
        let evict = older_than.map(|age| format!("entries unused for {}s, then ", age.as_secs())).unwrap_or_default();
        if dry_run {
            lines.push(format!(
                "ccache {name}: {} (max {}); would remove {evict}what is over its max size",
                size(before),
                max.map_or_else(|| "ccache's default".into(), size)
            ));
            continue;
        }
        let mut failed = None;
        if let Some(age) = older_than {
            failed = run(&cache, &["--evict-older-than", &format!("{}s", age.as_secs())]).err();
        }
        if failed.is_none() {
            failed = run(&cache, &["--cleanup"]).err();
        }
        let after = dir_size(&cache);
        match failed {
            None => lines.push(format!("ccache {name}: {} -> {}", size(before), size(after))),
            Some(why) => lines.push(format!("ccache {name}: cannot trim: {why}")),
        }
    }
    lines
}

/// Runs ccache on one cache, its own configuration deciding (not this shell's `CCACHE_*`).
fn run(cache: &Path, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new(PROGRAM);
    command.arg("--dir").arg(cache).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CCACHE_") {
            command.env_remove(key);
        }
    }
    let out = command.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(crate::text::said(&out.stderr))
    }
}

/// The `max_size` a cache's `ccache.conf` records, in bytes, where it records one.
fn max_size_of(cache: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(cache.join("ccache.conf")).ok()?;
    let value =
        text.lines().find_map(|l| l.trim().strip_prefix("max_size")?.trim().strip_prefix('=').map(str::trim))?;
    let value = value.strip_suffix("Ki").and_then(|kib| kib.parse::<u64>().ok()).map(|kib| kib * 1024);
    value
}

fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn size(bytes: u64) -> String {
    ByteSize(bytes).display().iec().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stats_log_counts_hits_misses_and_uncacheable_calls_apart() {
        // As ccache 4.7 writes it: a `# file` line per call, then its counters.
        let log = "# a.cpp\ncache_miss\ndirect_cache_miss\nlocal_storage_miss\npreprocessed_cache_miss\n\
                   # b.cpp\ndirect_cache_hit\nlocal_storage_hit\n# c.cpp\npreprocessed_cache_hit\n\
                   # a.o\ncalled_for_link\n# \nno_input_file\n";
        assert_eq!(parse_stats(log), CcacheStats { hits: 2, misses: 1, cacheable: 3 });
        assert_eq!(parse_stats(""), CcacheStats::default());
    }

    #[test]
    fn each_compiler_and_version_has_a_folder_of_its_own() {
        let tools = |family: &str, version: &str, cc: &str| ResolvedToolchain {
            cc: cc.into(),
            compiler_family: family.into(),
            compiler_version: version.into(),
            ..ResolvedToolchain::default()
        };
        let root = Path::new("/s/cache");
        assert_eq!(dir(root, &tools("gcc", "12.3.0", "gcc-12")), Path::new("/s/cache/ccache/gcc-12.3.0"));
        assert_eq!(dir(root, &tools("", "", "cc")), Path::new("/s/cache/ccache/cc"));
        assert_eq!(dir(root, &tools("", "1", "/opt/x/cc")), Path::new("/s/cache/ccache/_opt_x_cc-1"));
        assert_eq!(dir(root, &tools("", "", "..")), Path::new("/s/cache/ccache/compiler"));
    }

    #[test]
    fn sizes_are_written_in_kibibytes_so_ccache_does_not_read_gigabytes() {
        assert_eq!(size_setting(5 << 30), "5242880Ki");
        assert_eq!(size_setting(1), "1Ki");
    }
}
