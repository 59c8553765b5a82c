//! A job's step logs as `gridrun log` reads them: the finished steps' logs from the store, the
//! log of the step running now from the job's folder, `--step`'s selection with an error that
//! helps, and the streaming of them, whatever their size, headed as `tail` heads several files.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::config::did_you_mean;
use crate::error::{Error, Result};
use crate::outcome::{JobRecord, JobStatus, RunRecord, StepRecord};

/// One log file of a job.
pub struct Entry {
    /// The step.
    pub name: String,
    /// Which attempt.
    pub attempt: u32,
    /// The log file.
    pub path: PathBuf,
    /// Its step has not finished yet.
    pub running: bool,
}

impl Entry {
    /// A finished step attempt's log.
    pub fn finished(step: &StepRecord) -> Self {
        Self { name: step.name.clone(), attempt: step.attempt, path: step.log.clone(), running: false }
    }
}

/// The logs in the job's folder that no finished step claims: the step running now. A log is
/// `<step>.log`, or `<step>.<attempt>.log` for a retry.
pub fn in_progress(dir: &Path, finished: &[Entry]) -> Vec<Entry> {
    let claimed: Vec<&std::ffi::OsStr> = finished.iter().filter_map(|e| e.path.file_name()).collect();
    let Ok(found) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut running: Vec<(std::time::SystemTime, Entry)> = found
        .flatten()
        .filter(|f| !claimed.contains(&f.file_name().as_os_str()))
        .filter_map(|f| {
            let file_name = f.file_name();
            let stem = file_name.to_str()?.strip_suffix(".log")?;
            let (name, attempt) = match stem.rsplit_once('.') {
                Some((name, n)) if n.parse::<i64>().is_ok_and(|n| n >= 2) => (name, n.parse().ok()?),
                _ => (stem, 1),
            };
            let modified = f.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, Entry { name: name.to_string(), attempt, path: f.path(), running: true }))
        })
        .collect();
    running.sort_by_key(|(modified, _)| *modified);
    running.into_iter().map(|(_, e)| e).collect()
}

/// Every log, or only those of `--step` (all its attempts), with a useful error where there is none.
pub fn select(entries: Vec<Entry>, step: Option<&str>, run: &RunRecord, job: &JobRecord) -> Result<Vec<Entry>> {
    let whose = format!("job `{}` of run {}", job.slug, run.id);
    let Some(step) = step else {
        return if entries.is_empty() {
            Err(Error::Usage(format!("{whose} {}", why_no_log(job))))
        } else {
            Ok(entries)
        };
    };
    let mut names: Vec<String> = Vec::new();
    for entry in &entries {
        if !names.contains(&entry.name) {
            names.push(entry.name.clone());
        }
    }
    let chosen: Vec<Entry> = entries.into_iter().filter(|e| e.name == step).collect();
    if !chosen.is_empty() {
        return Ok(chosen);
    }
    let hint = match did_you_mean(step, names.iter().map(String::as_str)) {
        Some(close) => format!("; did you mean `{close}`?"),
        None if names.is_empty() => format!(": it {}", why_no_log(job)),
        None => format!(" (its steps: {})", names.join(", ")),
    };
    Err(Error::Usage(format!("{whose} has no step `{step}`{hint}")))
}

fn why_no_log(job: &JobRecord) -> String {
    match (job.status, &job.reason) {
        (JobStatus::Queued, _) => "has not started yet".into(),
        (JobStatus::Running, _) => "has no log yet".into(),
        (status, Some(reason)) => format!("did not run: {status}: {reason}"),
        (status, None) => format!("ran no steps ({status})"),
    }
}

/// What a log goes through on its way out.
#[derive(Clone, Copy)]
pub enum Filter {
    /// Byte for byte.
    None,
    /// [`crate::text::plain`], line by line.
    Plain,
    /// [`crate::text::plain_keep_colour`], line by line.
    KeepColour,
}

/// Copies `file` to `out` through `filter`; returns how many bytes were read.
fn copy_one(file: &mut File, out: &mut impl Write, filter: Filter) -> io::Result<u64> {
    use io::BufRead;
    if matches!(filter, Filter::None) {
        return io::copy(file, out);
    }
    // A line at a time, cut at 64 KiB so a log of one endless line still streams.
    let mut reader = io::BufReader::with_capacity(1 << 16, file);
    let mut read = 0u64;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(read);
        }
        let len = chunk.iter().position(|&b| b == b'\n').map_or(chunk.len(), |i| i + 1);
        let text = String::from_utf8_lossy(&chunk[..len]);
        let safe = match filter {
            Filter::KeepColour => crate::text::plain_keep_colour(&text),
            _ => crate::text::plain(&text),
        };
        out.write_all(safe.as_bytes())?;
        reader.consume(len);
        read += len as u64;
    }
}

/// Streams each file to `out`, headed when there are several.
pub fn copy_all(files: Vec<(Entry, File)>, out: &mut impl Write, filter: Filter) -> io::Result<()> {
    let headed = files.len() > 1;
    for (i, (entry, mut file)) in files.into_iter().enumerate() {
        if headed {
            if i > 0 {
                writeln!(out)?;
            }
            let still = if entry.running { ", still running" } else { "" };
            writeln!(out, "==> {} (attempt {}{still}) <==", entry.name, entry.attempt)?;
        }
        let copied = copy_one(&mut file, out, filter)?;
        if headed && copied > 0 && !ends_with_newline(&file, copied)? {
            writeln!(out)?;
        }
    }
    out.flush()
}

/// Whether the `len` bytes copied from `file` ended a line, so the next header starts on its own.
fn ends_with_newline(file: &File, len: u64) -> io::Result<bool> {
    let mut last = [0u8];
    file.read_at(&mut last, len - 1)?;
    Ok(last[0] == b'\n')
}
