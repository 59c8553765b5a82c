//! A job's bill of materials: what it was built from and what it made, as a CycloneDX 1.5 JSON
//! document — the source (repository, commit, local changes), the toolchain (each compiler, LLVM,
//! CMake and Ninja, with the path and SHA-256 of the binary that ran), the cell, the environment
//! the steps got (secrets masked), and every artifact with its SHA-256.
//!
//! One source of truth: what only the job's run could know (which binaries, with which bytes,
//! and the environment) is captured when the job runs ([`capture`]) and kept with its record in
//! the store; the document is rendered from the store's run and job ([`cyclonedx`]), both into
//! `sbom.cdx.json` beside the job's logs as soon as a job that collected artifacts is recorded,
//! and by `gridrun sbom` for any job, so the two never disagree and a store merged from
//! elsewhere still has its jobs' documents.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::outcome::{JobRecord, RunRecord};
use crate::plan::RenderedJob;
use crate::secrets::Masker;

/// The file each job's document is written to, beside its logs.
pub const FILE_NAME: &str = "sbom.cdx.json";

/// What a job's run knew of what built it, kept with its record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildFacts {
    /// The source's repository: a git source's URL, a folder's `origin` (credentials removed).
    #[serde(default)]
    pub repository: Option<String>,
    /// The tools the job's steps ran, in a fixed order: compilers, LLVM, CMake, Ninja, image.
    #[serde(default)]
    pub tools: Vec<ToolFact>,
    /// The environment every step got, secrets masked.
    #[serde(default)]
    pub env: Vec<(String, String)>,
}

/// One tool as the job found it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFact {
    /// What it is to the job: `cxx`, `cc`, `llvm-config`, `cmake`, `ninja`, `image`.
    pub role: String,
    /// The command (or image) as the job named it.
    pub name: String,
    /// Its version, where known.
    #[serde(default)]
    pub version: Option<String>,
    /// The binary that ran, symlinks resolved; `None` where it ran elsewhere (a build host, an
    /// image) or was not found.
    #[serde(default)]
    pub path: Option<String>,
    /// That binary's SHA-256 (hex).
    #[serde(default)]
    pub sha256: Option<String>,
}

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
                let version = build_tool_version(name, &path);
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
    let mut env: Vec<(String, String)> = job.env.iter().map(|(k, v)| (k.clone(), mask(v))).collect();
    if here {
        for name in INHERITED {
            if env.iter().all(|(k, _)| k != name) {
                if let Ok(value) = std::env::var(name) {
                    env.push((name.to_string(), mask(&value)));
                }
            }
        }
    }
    BuildFacts {
        repository: repository.map(without_credentials).or_else(|| if here { origin(&job.source) } else { None }),
        tools: facts,
        env,
    }
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
fn build_tool_version(name: &str, path: &Path) -> Option<String> {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Option<String>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Mutex::default);
    if let Some(known) = seen.lock().ok().and_then(|s| s.get(path).cloned()) {
        return known;
    }
    let output = std::process::Command::new(path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success());
    let version = output.and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let first = text.lines().next()?.trim().to_string();
        // `cmake version 3.25.1`; `1.11.1`.
        let word = if name == "cmake" { first.rsplit(' ').next()?.to_string() } else { first };
        (!word.is_empty()).then_some(word)
    });
    if let Ok(mut s) = seen.lock() {
        s.insert(path.to_path_buf(), version.clone());
    }
    version
}

/// The `origin` remote of the git work tree at `dir`, asked once per folder per process.
fn origin(dir: &Path) -> Option<String> {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Option<String>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Mutex::default);
    if let Some(known) = seen.lock().ok().and_then(|s| s.get(dir).cloned()) {
        return known;
    }
    let url = std::process::Command::new("git")
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
        .map(|u| without_credentials(&u));
    if let Ok(mut s) = seen.lock() {
        s.insert(dir.to_path_buf(), url.clone());
    }
    url
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

/// Whether `job` ran, so that it has a bill of materials.
pub fn has_bom(job: &JobRecord) -> bool {
    job.build.is_some() || !job.steps.is_empty()
}

/// The job's CycloneDX 1.5 document.
pub fn cyclonedx(run: &RunRecord, job: &JobRecord) -> Value {
    let job_ref = format!("job:{}", job.slug);
    let mut props = vec![
        prop("gridrun:run", run.id.to_string()),
        prop("gridrun:job", job.slug.clone()),
        prop("gridrun:kind", job.kind.to_string()),
        prop("gridrun:status", job.status.to_string()),
    ];
    if !job.config_hash.is_empty() {
        props.push(prop("gridrun:config_hash", job.config_hash.clone()));
    }
    props.extend(job.values().into_iter().map(|(k, v)| prop(&format!("gridrun:cell:{k}"), v)));
    if let Some(host) = &job.host {
        props.push(prop("gridrun:host", host.clone()));
    }
    let facts = job.build.clone().unwrap_or_default();
    props.extend(facts.env.iter().map(|(k, v)| prop(&format!("gridrun:env:{k}"), v.clone())));
    let mut metadata = json!({
        "timestamp": finished_at(run, job),
        "tools": { "components": [{
            "type": "application",
            "author": "gridrun",
            "name": "gridrun",
            "version": env!("CARGO_PKG_VERSION"),
        }]},
        "component": {
            "type": "application",
            "bom-ref": job_ref,
            "name": format!("{}/{}", run.project, job.slug),
            "properties": props,
        },
    });
    if !run.commit.is_empty() {
        metadata["component"]["version"] = json!(run.commit);
    }

    let mut components = Vec::new();
    let mut refs = Vec::new();
    let source_ref = "source".to_string();
    let mut source = json!({
        "type": "application",
        "bom-ref": source_ref,
        "name": run.project,
        "properties": [prop("gridrun:source:dirty", run.dirty.to_string())],
    });
    if !run.commit.is_empty() {
        source["version"] = json!(run.commit);
        push_prop(&mut source, "gridrun:source:commit", run.commit.clone());
    }
    if let Some(branch) = &run.branch {
        push_prop(&mut source, "gridrun:source:branch", branch.clone());
    }
    if let Some(url) = facts.repository.as_deref().filter(|u| !u.is_empty()) {
        source["externalReferences"] = json!([{ "type": "vcs", "url": url }]);
    }
    components.push(source);
    refs.push(source_ref);

    for t in &facts.tools {
        let bom_ref = format!("tool:{}", t.role);
        let kind = if t.role == "image" { "container" } else { "application" };
        let mut c = json!({ "type": kind, "bom-ref": bom_ref, "name": t.name, "properties": [prop("gridrun:role", t.role.clone())] });
        if let Some(version) = &t.version {
            c["version"] = json!(version);
        }
        if let Some(sum) = t.sha256.as_deref().filter(|s| is_sha256(s)) {
            c["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
        }
        if let Some(path) = &t.path {
            push_prop(&mut c, "gridrun:path", path.clone());
        }
        components.push(c);
        refs.push(bom_ref);
    }
    if job.build.is_none() && !job.compiler.is_empty() {
        // A job recorded before its build facts were kept: its compiler as the plan named it.
        let mut c = json!({ "type": "application", "bom-ref": "tool:cxx", "name": job.compiler });
        if !job.compiler_version.is_empty() {
            c["version"] = json!(job.compiler_version);
        }
        components.push(c);
        refs.push("tool:cxx".into());
    }

    for (i, a) in job.artifacts.iter().enumerate() {
        let bom_ref = format!("artifact:{i}:{}", a.path);
        let mut c = json!({
            "type": "file",
            "bom-ref": bom_ref,
            "name": a.path,
            "properties": [
                prop("gridrun:size", a.size.to_string()),
                prop("gridrun:stored_path", a.stored_path.display().to_string()),
            ],
        });
        if is_sha256(&a.sha256) {
            c["hashes"] = json!([{ "alg": "SHA-256", "content": a.sha256 }]);
        }
        if let Some(when) = &a.removed_at {
            push_prop(&mut c, "gridrun:removed_at", when.clone());
        }
        components.push(c);
        refs.push(bom_ref);
    }

    let mut dependencies = vec![json!({ "ref": job_ref, "dependsOn": refs })];
    dependencies.extend(refs.iter().map(|r| json!({ "ref": r })));
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial_number(run, job),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    })
}

/// The document as text, as it is written and printed.
pub fn to_text(doc: &Value) -> String {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes the document of `run`'s job `job` into `dir` (the job's log folder), replacing it.
pub fn write(dir: &Path, run: &RunRecord, job: &JobRecord) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(FILE_NAME);
    // Derived from the store, which `gridrun sbom` renders it from again: replaced whole (a
    // reader never sees half of it), not synced — a sync per job would cost a run of no-op jobs
    // more than the jobs.
    let mut temp = tempfile::Builder::new().prefix(".sbom.").suffix(".tmp").tempfile_in(dir)?;
    std::io::Write::write_all(&mut temp, to_text(&cyclonedx(run, job)).as_bytes())?;
    temp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

fn prop(name: &str, value: String) -> Value {
    let mut entry = serde_json::Map::new();
    entry.insert("name".into(), Value::String(name.to_string()));
    entry.insert("value".into(), Value::String(value));
    Value::Object(entry)
}

fn push_prop(component: &mut Value, name: &str, value: String) {
    match component.get_mut("properties").and_then(Value::as_array_mut) {
        Some(props) => props.push(prop(name, value)),
        None => component["properties"] = json!([prop(name, value)]),
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// When the job ended (its start plus its duration), else when the run started: the document
/// says when what it describes was made, not when it was printed, so it reads the same twice.
fn finished_at(run: &RunRecord, job: &JobRecord) -> String {
    let start = job.started_at.as_deref().unwrap_or(&run.started_at);
    let Ok(start) = chrono::DateTime::parse_from_rfc3339(start) else { return run.started_at.clone() };
    let elapsed = job.duration.and_then(|d| chrono::Duration::from_std(d).ok()).unwrap_or_default();
    (start + elapsed).with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A UUID-shaped serial number, the same for the same project, run, job and commit.
fn serial_number(run: &RunRecord, job: &JobRecord) -> String {
    let digest = Sha256::digest(format!("{}\0{}\0{}\0{}", run.project, run.id, job.slug, run.commit).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    // Version 5 (name-based) and the RFC 4122 variant, as the schema's pattern wants.
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::text::hex(&b);
    format!("urn:uuid:{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
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

    #[test]
    fn serial_numbers_are_stable_uuids() {
        let run = RunRecord {
            id: 3,
            project: "p".into(),
            matrix_path: String::new(),
            status: crate::outcome::RunStatus::Passed,
            commit: "abc".into(),
            dirty: false,
            started_at: "2026-01-01T00:00:00.000Z".into(),
            finished_at: None,
            duration: None,
            branch: None,
            revision: String::new(),
            config_key: String::new(),
            stats: crate::outcome::RunStats::default(),
        };
        let job = JobRecord::new("gcc-12-17");
        let a = serial_number(&run, &job);
        assert_eq!(a, serial_number(&run, &job));
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[9 + 14..9 + 15], "5");
        assert_ne!(a, serial_number(&run, &JobRecord::new("gcc-12-20")));
    }
}
