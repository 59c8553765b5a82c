//! What built a job, as only its run can see it: the binaries its toolchain resolves to on this
//! host and their SHA-256s, CMake's and Ninja's versions where its steps call them, the source's
//! repository, and the environment its steps got (secrets masked). Captured as the job's
//! workspace is prepared and kept with its record ([`BuildFacts`]); its bill of materials
//! (`crate::sbom`) is rendered from that record.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::outcome::{BuildFacts, ToolFact};
use crate::plan::RenderedJob;
use crate::secrets::Masker;

/// Variables a job on this host inherits from gridrun's caller that change what a build makes;
/// the rest of the caller's environment is not the build's business (and may hold anything).
const INHERITED: [&str; 8] = [
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "CMAKE_GENERATOR",
    "CMAKE_PREFIX_PATH",
    "PKG_CONFIG_PATH",
    "SOURCE_DATE_EPOCH",
];

/// What a capture that may not block needed to learn first.
#[derive(Debug)]
struct WouldBlock;

/// Variables that name the job and its run rather than build anything: the document names both
/// itself, and without them the jobs of one toolchain share their facts (one row in the store).
const IDENTIFIERS: [&str; 2] = ["GRIDRUN_JOB", "GRIDRUN_RUN"];

/// Where a job ran, as far as what its run can see of its tools goes.
#[derive(Clone, Debug)]
pub enum Place {
    /// On this host: its binaries are found and hashed here.
    Here,
    /// A build host: what the plan resolved is all that is known here.
    Host(String),
    /// In a container image, with its digest.
    Image {
        /// The image as the cell named it.
        name: String,
        /// Its digest.
        digest: String,
    },
}

/// A toolchain as [`capture`] remembers its facts: C++ and C compiler, their versions, the
/// `llvm-config`, the `PATH` they were found on, and whether on this host.
type ToolKey = (String, String, String, Option<String>, Option<String>, bool);

/// Each toolchain's facts, found and hashed once per process.
static TOOLS: OnceLock<Mutex<HashMap<ToolKey, Vec<ToolFact>>>> = OnceLock::new();

/// Captures what built `job`: blocking (it runs `cmake --version`, hashes compilers), so call
/// it off the runtime's threads. What one process has learned of a binary is not learned again.
pub fn capture(job: &RenderedJob, place: &Place, repository: Option<&str>, masker: Option<&Masker>) -> BuildFacts {
    capture_with(job, place, repository, masker, true).expect("a capture that may block always ends")
}

/// Learns ahead what capturing `job`'s facts on this host needs (its compilers hashed, its
/// source's remote asked), on a thread of its own, so the first jobs of a run find it known
/// rather than wait for it as they start. `repository` is the source's URL where it is a git one.
/// Dropping the value waits for the thread, so nothing it started outlives the run.
pub fn learn_ahead(job: RenderedJob, repository: Option<String>) -> LearningAhead {
    let thread = std::thread::Builder::new().name("gridrun-facts".into()).spawn(move || {
        capture(&job, &Place::Here, repository.as_deref(), None);
    });
    LearningAhead(thread.ok())
}

/// The thread [`learn_ahead`] started.
pub struct LearningAhead(Option<std::thread::JoinHandle<()>>);

impl Drop for LearningAhead {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// Captures what built `job` where earlier jobs have already learned all it needs (no binary to
/// hash, no tool or git to ask): the common case, cheap enough for the runtime's thread. `None`
/// where [`capture`] must do it, off that thread.
pub fn capture_known(
    job: &RenderedJob,
    place: &Place,
    repository: Option<&str>,
    masker: Option<&Masker>,
) -> Option<BuildFacts> {
    capture_with(job, place, repository, masker, false)
}

fn capture_with(
    job: &RenderedJob,
    place: &Place,
    repository: Option<&str>,
    masker: Option<&Masker>,
    may_block: bool,
) -> Option<BuildFacts> {
    let tools = &job.job.tools;
    let path_var = job
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var_os("PATH").map(|p| p.to_string_lossy().into_owned()));
    let here = matches!(place, Place::Here);
    let locate = |name: &str| if here { which(name, path_var.as_deref()) } else { None };
    // The compilers' facts are the same for every job of a toolchain: found and hashed once.
    let key: ToolKey = (
        tools.cxx.clone(),
        tools.cc.clone(),
        format!("{} {}", tools.compiler_version, tools.llvm_version.as_deref().unwrap_or("")),
        tools.llvm_config.clone(),
        path_var.clone(),
        here,
    );
    let known = TOOLS.get_or_init(Mutex::default).lock().ok().and_then(|t| t.get(&key).cloned());
    if known.is_none() && !may_block {
        return None;
    }
    let mut facts = known.unwrap_or_else(|| {
        let mut facts = Vec::new();
        let version = (!tools.compiler_version.is_empty()).then(|| tools.compiler_version.clone());
        for (role, name) in [("cxx", &tools.cxx), ("cc", &tools.cc)] {
            facts.push(tool(role, name, version.clone(), locate(name)));
        }
        if let Some(config) = &tools.llvm_config {
            facts.push(tool("llvm-config", config, tools.llvm_version.clone(), locate(config)));
        }
        if let Ok(mut t) = TOOLS.get_or_init(Mutex::default).lock() {
            t.insert(key, facts.clone());
        }
        facts
    });
    let commands: String = job.steps.iter().map(|s| s.command.as_str()).collect::<Vec<_>>().join("\n");
    // CMake and Ninja where the steps use them: a host's other tools did not build the job.
    let mentions = |word: &str| commands.to_ascii_lowercase().contains(word);
    for (name, used) in [("cmake", mentions("cmake")), ("ninja", mentions("ninja"))] {
        if used && here {
            if let Some(path) = locate(name) {
                let version = build_tool_version(name, &path, may_block).ok()?;
                facts.push(tool(name, name, version, Some(path)));
            }
        }
    }
    match place {
        Place::Image { name, digest } => facts.push(ToolFact {
            role: "image".into(),
            name: name.clone(),
            version: None,
            path: None,
            sha256: Some(digest.strip_prefix("sha256:").unwrap_or(digest).to_string()).filter(|d| is_sha256(d)),
        }),
        Place::Host(_) | Place::Here => {}
    }
    let mask = |text: &str| masker.map_or_else(|| text.to_string(), |m| m.mask(text).into_owned());
    let mut env: Vec<(String, String)> =
        job.env.iter().filter(|(k, _)| !IDENTIFIERS.contains(&k.as_str())).map(|(k, v)| (k.clone(), mask(v))).collect();
    if here {
        for name in INHERITED {
            if env.iter().all(|(k, _)| k != name) {
                if let Ok(value) = std::env::var(name) {
                    env.push((name.to_string(), mask(&value)));
                }
            }
        }
    }
    let repository = match repository {
        Some(url) => Some(without_credentials(url)),
        None if here => origin(&job.source, may_block).ok()?,
        None => None,
    };
    Some(BuildFacts { repository, tools: facts, env })
}

/// A tool's fact, its binary hashed where it was found.
fn tool(role: &str, name: &str, version: Option<String>, path: Option<PathBuf>) -> ToolFact {
    let sha256 = path.as_deref().and_then(sha256_of);
    ToolFact { role: role.into(), name: name.into(), version, path: path.map(|p| p.display().to_string()), sha256 }
}

/// The binary `name` runs as, through `path_var` (the job's `PATH`), symlinks resolved.
fn which(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    let found = if name.contains('/') { which::which(name).ok() } else { which::which_in(name, path_var, "/").ok() }?;
    std::fs::canonicalize(&found).ok()
}

/// The SHA-256 of the file at `path`, remembered by its path, size and time of change.
fn sha256_of(path: &Path) -> Option<String> {
    type Key = (PathBuf, u64, Option<std::time::SystemTime>);
    static SEEN: OnceLock<Mutex<HashMap<Key, String>>> = OnceLock::new();
    let meta = std::fs::metadata(path).ok()?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    let seen = SEEN.get_or_init(Mutex::default);
    if let Some(known) = seen.lock().ok().and_then(|s| s.get(&key).cloned()) {
        return Some(known);
    }
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let sum = crate::text::hex(&hasher.finalize());
    if let Ok(mut s) = seen.lock() {
        s.insert(key, sum.clone());
    }
    Some(sum)
}

/// `cmake --version`'s or `ninja --version`'s version, asked once per binary per process.
fn build_tool_version(name: &str, path: &Path, may_block: bool) -> Result<Option<String>, WouldBlock> {
    static SEEN: Remembered = OnceLock::new();
    remembered(&SEEN, path, may_block, || {
        let output = std::process::Command::new(path)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success());
        output.and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let first = text.lines().next()?.trim().to_string();
            // `cmake version 3.25.1`; `1.11.1`.
            let word = if name == "cmake" { first.rsplit(' ').next()?.to_string() } else { first };
            (!word.is_empty()).then_some(word)
        })
    })
}

/// The `origin` remote of the git work tree at `dir`, asked once per folder per process.
fn origin(dir: &Path, may_block: bool) -> Result<Option<String>, WouldBlock> {
    static SEEN: Remembered = OnceLock::new();
    remembered(&SEEN, dir, may_block, || {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["remote", "get-url", "origin"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|u| !u.is_empty())
            .map(|u| without_credentials(&u))
    })
}

/// What a question asked of a path (a tool's version, a folder's remote) answered, once per
/// process.
type Remembered = OnceLock<Mutex<HashMap<PathBuf, Option<String>>>>;

/// The answer `cache` remembers for `key`, else `ask`'s (remembered), where the caller may wait
/// for it.
fn remembered(
    cache: &'static Remembered,
    key: &Path,
    may_block: bool,
    ask: impl FnOnce() -> Option<String>,
) -> Result<Option<String>, WouldBlock> {
    let seen = cache.get_or_init(Mutex::default);
    if let Some(known) = seen.lock().ok().and_then(|s| s.get(key).cloned()) {
        return Ok(known);
    }
    if !may_block {
        return Err(WouldBlock);
    }
    let answer = ask();
    if let Ok(mut s) = seen.lock() {
        s.insert(key.to_path_buf(), answer.clone());
    }
    Ok(answer)
}

/// A repository URL without `user:password@`, which may hold a token.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if path.is_empty() && !rest.contains('/') {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{path}")
    }
}

/// Whether `text` is a SHA-256 in hex (64 hex digits).
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_repository_urls() {
        assert_eq!(without_credentials("https://user:tok@example.com/a/b.git"), "https://example.com/a/b.git");
        assert_eq!(without_credentials("https://example.com/a.git"), "https://example.com/a.git");
        assert_eq!(without_credentials("git@example.com:a/b.git"), "git@example.com:a/b.git");
    }
}
