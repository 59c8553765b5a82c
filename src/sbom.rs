//! A job's bill of materials: what it was built from and what it made, as a CycloneDX 1.5 JSON
//! document — the source (repository, commit, local changes), the toolchain (each compiler, LLVM,
//! CMake and Ninja, with the path and SHA-256 of the binary that ran), the cell, the environment
//! the steps got (secrets masked), and every artifact with its SHA-256.
//!
//! One source of truth: what only the job's run could know (which binaries, with which bytes,
//! and the environment) is captured when the job runs ([`crate::exec::facts::capture`]) and kept with its record in
//! the store; the document is rendered from the store's run and job ([`cyclonedx`]), both into
//! `sbom.cdx.json` beside the job's logs as soon as a job that collected artifacts is recorded,
//! and by `gridrun sbom` for any job, so the two never disagree and a store merged from
//! elsewhere still has its jobs' documents.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::outcome::{BuildFacts, JobRecord, RunRecord};

/// The file each job's document is written to, beside its logs.
pub const FILE_NAME: &str = "sbom.cdx.json";

/// Whether `job` ran, so that it has a bill of materials.
pub fn has_bom(job: &JobRecord) -> bool {
    job.build.is_some() || !job.steps.is_empty()
}

/// The document of a job that ran, or why the job has none (it did not run, or reused another
/// run's pass: the document is that run's).
pub fn of_job(run: &RunRecord, job: &JobRecord) -> Result<Value, String> {
    if has_bom(job) {
        return Ok(cyclonedx(run, job));
    }
    Err(match job.reused_from {
        Some(from) => format!(
            "job `{}` of run {} reused the pass of run {from}: its bill of materials is that run's \
             (gridrun sbom {from}/{})",
            job.slug, run.id, job.slug
        ),
        None => {
            format!("job `{}` of run {} did not run ({}): it has no bill of materials", job.slug, run.id, job.status)
        }
    })
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
    let unknown = BuildFacts::default();
    let facts = job.build.as_deref().unwrap_or(&unknown);
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
        if let Some(sum) = t.sha256.as_deref().filter(|s| crate::exec::facts::is_sha256(s)) {
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
        if crate::exec::facts::is_sha256(&a.sha256) {
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
