//! `gc`: which runs are past their retention (`--older-than`, or each project's
//! `[artifacts] retention_days`), and removing what they left on disk — logs (`runs/<run>/`),
//! workspaces (`work/<run>/`) and artifact copies nobody else holds — with each removal recorded
//! in the store, whose rows stay for `stats` and `show`; then the ccache caches under `cache/`
//! are trimmed (see [`crate::ccache::trim`]). A run still `running` is never touched:
//! opening the store has already marked those whose gridrun died as abandoned, so one still
//! running has a live gridrun.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytesize::ByteSize;

use crate::config::MatrixFile;
use crate::report::terminal::local_time;
use crate::store::{ExpiredRun, HeldArtifact, Removal, Store, StoreError};

/// Which runs are past retention: those of `project` (every project where `None`) that ended
/// before `cutoff`.
pub struct Retention {
    project: Option<String>,
    cutoff: chrono::DateTime<chrono::Utc>,
    /// How the user would say it: `older than 14d`, `retention_days = 7`.
    said: String,
}

/// What went, or would go, of one run.
#[derive(Default)]
struct Freed {
    logs: Option<u64>,
    work: Option<u64>,
    artifacts: u64,
    artifact_bytes: u64,
    /// Artifact rows released whose file another run holds too (one commit, one folder): kept
    /// for a run that stays, or counted with the run that removed it.
    shared: u64,
}

/// Removes (or with `dry_run` only counts) what the runs past `retentions` left in `state_dir`,
/// records each removal in `store`, and says what it did, a line per run and a total.
pub fn collect(
    store: &mut Store,
    state_dir: &Path,
    retentions: &[Retention],
    dry_run: bool,
) -> Result<String, StoreError> {
    let recorded_store = store;

    let mut expired: BTreeMap<i64, ExpiredRun> = BTreeMap::new();
    for r in retentions {
        let cutoff = r.cutoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for run in recorded_store.expired_runs(&cutoff, r.project.as_deref())? {
            expired.entry(run.id).or_insert(run);
        }
    }
    let said: Vec<&str> = retentions.iter().map(|r| r.said.as_str()).collect();
    let mut lines = vec![format!("retention: {}", said.join("; "))];

    let held = recorded_store.held_artifacts()?;
    // A file a kept run holds stays, whichever expired run collected it first.
    let kept_paths: HashSet<&str> =
        held.iter().filter(|a| !expired.contains_key(&a.run_id)).map(|a| a.stored_path.as_str()).collect();
    let mut by_run: HashMap<i64, Vec<&HeldArtifact>> = HashMap::new();
    for artifact in held.iter().filter(|a| expired.contains_key(&a.run_id)) {
        by_run.entry(artifact.run_id).or_default().push(artifact);
    }
    let artifacts_root = state_dir.join("artifacts");
    let now = crate::store::now();
    let mut total = Freed::default();
    // Files already removed (or that would be) for an earlier expired run at the same commit.
    let mut gone: HashSet<&str> = HashSet::new();
    for run in expired.values() {
        let mut removal = Removal::default();
        let mut freed = Freed::default();
        if !run.logs_removed {
            freed.logs = remove_dir(&state_dir.join("runs").join(run.id.to_string()), dry_run);
            removal.logs = freed.logs.is_some();
        }
        if !run.work_removed {
            freed.work = remove_dir(&state_dir.join("work").join(run.id.to_string()), dry_run);
            removal.work = freed.work.is_some();
        }
        for artifact in by_run.remove(&run.id).unwrap_or_default() {
            if kept_paths.contains(artifact.stored_path.as_str()) || !gone.insert(artifact.stored_path.as_str()) {
                freed.shared += 1;
                removal.artifacts.push(artifact.id);
            } else if let Some(bytes) = remove_artifact(artifact, &artifacts_root, dry_run) {
                freed.artifacts += 1;
                freed.artifact_bytes += bytes;
                removal.artifacts.push(artifact.id);
            }
        }
        if !dry_run {
            recorded_store.record_removal(run.id, &removal, &now)?;
        }
        lines.push(format!(
            "run #{} ({}, {}): {}",
            run.id,
            run.project,
            local_time(&run.started_at),
            freed.describe(false)
        ));
        total.add(&freed);
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    if expired.is_empty() {
        lines.push("nothing past retention".into());
    } else {
        let plural = if expired.len() == 1 { "" } else { "s" };
        lines.push(format!(
            "{verb} from {} run{plural}: {}; {} in all",
            expired.len(),
            total.describe(true),
            size(total.bytes())
        ));
    }
    // The caches are shared by every project's runs: an entry goes once the longest retention
    // has passed it by, and each cache is trimmed to its max size.
    let oldest = retentions.iter().map(|r| r.cutoff).min();
    let age = oldest.and_then(|cutoff| (chrono::Utc::now() - cutoff).to_std().ok());
    lines.extend(crate::ccache::trim(&state_dir.join("cache"), age, dry_run));
    Ok(lines.join("\n") + "\n")
}

/// When a run of that age ended: an age beyond the epoch keeps nothing back.
fn cutoff(age: Duration) -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::Duration::from_std(age).ok().and_then(|age| now.checked_sub_signed(age)).unwrap_or_default()
}

impl Retention {
    /// Every project's runs older than `age`, said as the user wrote it.
    pub fn older_than(age: Duration, said: &str) -> Self {
        Self { project: None, cutoff: cutoff(age), said: format!("older than {said}") }
    }

    /// Each file's `[artifacts] retention_days` for the runs of its project; `Err` says why
    /// there is none (found names the matrix file or folder read).
    pub fn of_files(files: &[MatrixFile], found: &Path) -> Result<Vec<Self>, String> {
        let before = cutoff;
        let no_retention = |why: String| {
            format!("{why}: nothing says how long to keep runs; pass --older-than (e.g. --older-than 14d)")
        };
        let mut retentions = Vec::new();
        let mut keeping = Vec::new();
        for file in files {
            let name = &file.project.name;
            match file.artifacts.retention_days {
                Some(days) => retentions.push(Self {
                    project: Some(name.clone()),
                    cutoff: before(Duration::from_secs(u64::from(days) * 86_400)),
                    said: format!("{days} days for project {name} ([artifacts] retention_days)"),
                }),
                None => keeping.push(name.as_str()),
            }
        }
        if retentions.is_empty() {
            return Err(no_retention(format!("{} sets no [artifacts] retention_days", found.display())));
        }
        if !keeping.is_empty() {
            // Said alongside the others so nobody wonders why those runs stayed.
            let last = retentions.last_mut().expect("one retention at least");
            last.said.push_str(&format!("; project {} keeps its runs (no retention_days)", keeping.join(", ")));
        }
        Ok(retentions)
    }
}

/// The error when no matrix file says how long to keep runs.
pub fn no_matrix() -> String {
    "no matrix file here to read [artifacts] retention_days from: nothing says how long to keep runs; pass --older-than (e.g. --older-than 14d)".into()
}

/// Removes a folder (unless `dry_run`) and returns its size, or `None` where there was nothing
/// to remove or it could not be removed (said on stderr: the store keeps saying it is there).
fn remove_dir(dir: &Path, dry_run: bool) -> Option<u64> {
    let Ok(meta) = std::fs::symlink_metadata(dir) else { return Some(0) };
    if !meta.is_dir() {
        return Some(0);
    }
    let bytes = dir_size(dir);
    if dry_run {
        return Some(bytes);
    }
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(0),
        Err(e) => {
            crate::note!("cannot remove {}: {e}", dir.display());
            None
        }
    }
}

/// Removes one artifact copy (unless `dry_run`) and the folders it leaves empty under
/// `artifacts/`; returns its size. A copy recorded outside `artifacts/` (a store moved by hand)
/// is not gridrun's to delete: it is released but left where it is.
fn remove_artifact(artifact: &HeldArtifact, root: &Path, dry_run: bool) -> Option<u64> {
    let path = PathBuf::from(&artifact.stored_path);
    let Ok(meta) = std::fs::symlink_metadata(&path) else { return Some(0) };
    if !path.starts_with(root) || path.components().any(|c| c == std::path::Component::ParentDir) {
        return Some(0);
    }
    if dry_run {
        return Some(meta.len());
    }
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Some(0),
        Err(e) => {
            crate::note!("cannot remove {}: {e}", path.display());
            return None;
        }
    }
    // `artifacts/<commit>/<job>/…`: drop each folder the file leaves empty, never the root.
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| d.starts_with(root) && *d != root) {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Some(meta.len())
}

/// The bytes of the files under `dir`, symlinks counted as themselves and not followed.
fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

impl Freed {
    fn add(&mut self, other: &Self) {
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.logs = sum(self.logs, other.logs);
        self.work = sum(self.work, other.work);
        self.artifacts += other.artifacts;
        self.artifact_bytes += other.artifact_bytes;
        self.shared += other.shared;
    }

    fn bytes(&self) -> u64 {
        self.logs.unwrap_or(0) + self.work.unwrap_or(0) + self.artifact_bytes
    }

    /// `logs 1.2 KiB, workspace 0 B, 1 artifact 6 B` (`workspaces` in a total), leaving out
    /// what was removed before.
    fn describe(&self, total: bool) -> String {
        let mut parts = Vec::new();
        if let Some(bytes) = self.logs {
            parts.push(format!("logs {}", size(bytes)));
        }
        if let Some(bytes) = self.work {
            parts.push(format!("{} {}", if total { "workspaces" } else { "workspace" }, size(bytes)));
        }
        if self.artifacts > 0 {
            let plural = if self.artifacts == 1 { "" } else { "s" };
            parts.push(format!("{} artifact{plural} {}", self.artifacts, size(self.artifact_bytes)));
        }
        if self.shared > 0 {
            let (plural, whose) = if self.shared == 1 { ("", "its file") } else { ("s", "their files") };
            parts.push(format!("{} artifact{plural} released, {whose} shared with another run", self.shared));
        }
        if parts.is_empty() {
            "nothing left to remove".into()
        } else {
            parts.join(", ")
        }
    }
}

fn size(bytes: u64) -> String {
    ByteSize(bytes).display().iec().to_string()
}
