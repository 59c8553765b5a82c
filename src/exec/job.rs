//! One job, the same whatever executor runs it: its steps in order, each retried as the file
//! allows, under the job's time limit; then its test results, the diagnostics and failure kind
//! of a step that failed, its artifacts, secrets masked out of everything it recorded, and its
//! workspace kept or removed. What it does it says as events; the dispatcher does the rest.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::events::{CancelReason, Event};
use super::executor::{host_lost, Executor, StepSpec};
use super::facts;
use super::reaper::TOKEN_VAR;
use super::suspend::Suspension;
use crate::diagnose;
use crate::outcome::{BuildFacts, Diagnostic, FailureKind, JobRecord, JobStatus, StepRecord, StepStatus};
use crate::plan::RenderedJob;
use crate::secrets::Masker;

/// What every job of a run shares.
#[derive(Debug)]
pub struct RunContext {
    /// The run's token, set in every job's environment.
    pub token: String,
    /// `<state>/runs/<run>`: each job logs into a folder of its own here.
    pub logs_dir: PathBuf,
    /// Keep workspaces of passing jobs too.
    pub keep_workspaces: bool,
    /// `--timeout`, overriding the file's.
    pub timeout: Option<Duration>,
    /// The state folder: never walked for artifacts.
    pub state_dir: PathBuf,
    /// `<state>/artifacts`: the content-addressed store every job's artifacts go to.
    pub artifacts_dir: PathBuf,
    /// The secrets' values, masked in every log and record; `None` where there are none.
    pub masker: Option<Arc<Masker>>,
    /// A git source's URL, for each job's bill of materials.
    pub repository: Option<String>,
}

/// What the dispatcher lends a job: the run's cancellation, Ctrl-Z, and where events go.
pub struct Lent {
    /// The most severe cancellation so far.
    pub cancel: watch::Receiver<Option<CancelReason>>,
    /// Ctrl-Z.
    pub suspension: Arc<Suspension>,
    /// Where the job's events go.
    pub events: mpsc::UnboundedSender<Event>,
}

/// The log path of a step attempt: `<dir>/<step>.log`, or `<step>.<attempt>.log` for retries.
pub fn log_path(dir: &Path, step: &str, attempt: u32) -> PathBuf {
    if attempt <= 1 {
        dir.join(format!("{step}.log"))
    } else {
        dir.join(format!("{step}.{attempt}.log"))
    }
}

/// Runs `job` on `executor` to its end and says so: `JobStarted`, each step's events, then
/// `JobFinished` with its record.
pub async fn run(job: RenderedJob, executor: Arc<dyn Executor>, ctx: Arc<RunContext>, lent: Lent) {
    let started = Instant::now();
    let slug = job.job.slug.clone();
    let image = executor.image(&job);
    let place = executor.host().map(str::to_string).or_else(|| image.as_ref().map(|(name, _)| name.clone()));
    let _ = lent.events.send(Event::JobStarted { slug: slug.clone(), place });
    // A debug build can be told to panic in one job, so the tests can check that gridrun stops
    // the run and leaves nothing behind when a bug strikes.
    #[cfg(debug_assertions)]
    assert!(
        !std::env::var("GRIDRUN_DEBUG_PANIC_IN_JOB").is_ok_and(|wanted| wanted == slug),
        "GRIDRUN_DEBUG_PANIC_IN_JOB={slug}"
    );
    let mut record = JobRecord::new(slug.clone());
    let facts = build_facts(&job, executor.as_ref(), image.clone(), &ctx);
    record.status = JobStatus::Passed;
    record.allow_failure = job.job.allow_failure;
    record.host = executor.host().map(str::to_string);
    (record.image, record.image_digest) = image.map(|(name, digest)| (Some(name), Some(digest))).unwrap_or_default();
    record.log_tail.clone_from(&job.notes);
    match executor.prepare(&job).await {
        Err(err) if host_lost(&err) => {
            lost(&mut record, format!("gridrun: lost {} while preparing the workspace: {err}", executor.name()));
        }
        Err(err) => infra(&mut record, format!("gridrun: cannot prepare the workspace: {err}")),
        Ok(()) => {
            record.build = match facts {
                Facts::Known(facts) => Some(Arc::from(facts)),
                Facts::Coming(handle) => handle.await.ok().map(Arc::new),
            };
            run_steps(&job, executor.as_ref(), &ctx, &lent, started, &mut record).await;
            if let (Some((summary, min_line)), JobStatus::Passed) = (&job.coverage, record.status) {
                read_coverage(&job, executor.as_ref(), summary, *min_line, &mut record).await;
            }
            if let Some(log) = &job.ccache_stats {
                record.ccache = read_ccache_stats(&job, executor.as_ref(), log, &mut record.log_tail).await;
            }
            if !job.artifacts.is_empty() && record.status != JobStatus::Cancelled {
                collect_artifacts(&job, executor.as_ref(), &ctx, &mut record).await;
            }
        }
    }
    if let Some(masker) = ctx.masker.as_deref() {
        mask_record(&mut record, masker);
    }
    let keep = record.status != JobStatus::Passed || ctx.keep_workspaces;
    record.work_dir = executor.finish(&job, keep).await;
    record.duration = Some(started.elapsed());
    let _ = lent.events.send(Event::JobFinished { record: Box::new(record) });
}

/// A job's build facts: known at once, or being found.
enum Facts {
    Known(Box<BuildFacts>),
    Coming(tokio::task::JoinHandle<BuildFacts>),
}

/// What built the job: the tools it runs as this host (or its image) has them, and its
/// environment. Where an earlier job has learned what that needs, at once; else off the
/// runtime's threads while its workspace is prepared (hashing a compiler takes a while).
fn build_facts(job: &RenderedJob, executor: &dyn Executor, image: Option<(String, String)>, ctx: &RunContext) -> Facts {
    let place = match (image, executor.host()) {
        (Some((name, digest)), _) => facts::Place::Image { name, digest },
        (None, Some(host)) => facts::Place::Host(host.to_string()),
        (None, None) => facts::Place::Here,
    };
    if let Some(known) = facts::capture_known(job, &place, ctx.repository.as_deref(), ctx.masker.as_deref()) {
        return Facts::Known(Box::new(known));
    }
    let (job, repository, masker) = (job.clone(), ctx.repository.clone(), ctx.masker.clone());
    Facts::Coming(tokio::task::spawn_blocking(move || {
        facts::capture(&job, &place, repository.as_deref(), masker.as_deref())
    }))
}

/// Marks the job an infrastructure failure, saying why.
fn infra(record: &mut JobRecord, why: String) {
    record.status = JobStatus::Failed;
    record.failure_kind = Some(FailureKind::Infra);
    record.log_tail.push(why);
}

/// Marks the job failed because the place it ran was lost, saying why: the dispatcher may run it
/// again elsewhere.
fn lost(record: &mut JobRecord, why: String) {
    record.status = JobStatus::Failed;
    record.failure_kind = Some(FailureKind::HostLost);
    record.log_tail.push(why);
}

/// The steps in order, each retried as the file allows; the record says how they went.
async fn run_steps(
    job: &RenderedJob,
    executor: &dyn Executor,
    ctx: &RunContext,
    lent: &Lent,
    started: Instant,
    record: &mut JobRecord,
) {
    let slug = &job.job.slug;
    let log_dir = ctx.logs_dir.join(slug);
    let deadline = ctx.timeout.or(job.limits.timeout).and_then(|t| started.checked_add(t));
    let paused_at_start = lent.suspension.total();
    let mut job_env = job.env.clone();
    job_env.push((TOKEN_VAR.into(), ctx.token.clone()));
    let mut retried = false;
    // The end of the last attempt that failed and was retried: what a flaky job shows.
    let mut retried_tail: Vec<String> = Vec::new();
    let (mut cpu, mut peak) = (Duration::ZERO, 0u64);
    'steps: for (position, step) in job.steps.iter().enumerate() {
        // A job run again after its place was lost numbers its attempts on from the lost ones.
        let first = job.first_attempt.max(1);
        let mut attempt = first;
        loop {
            if lent.cancel.borrow().is_some() {
                record.status = JobStatus::Cancelled;
                record.failure_kind = Some(FailureKind::Cancelled);
                break 'steps;
            }
            let log = log_path(&log_dir, &step.name, attempt);
            let _ = lent.events.send(Event::StepStarted {
                slug: slug.clone(),
                step: step.name.clone(),
                attempt,
                log: log.clone(),
            });
            let mut env = job_env.clone();
            env.extend(step.env.iter().cloned());
            // Time suspended with Ctrl-Z before this step pushes the job's deadline back.
            let paused = lent.suspension.total().saturating_sub(paused_at_start);
            let deadline = deadline.and_then(|d| d.checked_add(paused));
            let step_deadline = match (deadline, step.timeout.and_then(|t| Instant::now().checked_add(t))) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let spec = StepSpec {
                job: slug,
                name: &step.name,
                position,
                attempt,
                command: &step.command,
                cwd: &job.source,
                env: &env,
                log: &log,
                deadline: step_deadline,
                kill_grace: job.limits.kill_grace,
                memory_limit: job.limits.memory,
                token: &ctx.token,
                cancel: lent.cancel.clone(),
                suspension: &lent.suspension,
                masker: ctx.masker.as_ref(),
            };
            let attempt_started = Instant::now();
            let (mut outcome, tail) = match executor.run_step(spec).await {
                Ok(end) => (end.record, end.tail),
                Err(err) if host_lost(&err) => {
                    // The attempt is recorded as far as it went: its log holds what came back.
                    let failed = StepRecord {
                        name: step.name.clone(),
                        position,
                        attempt,
                        status: StepStatus::Failed,
                        exit_code: None,
                        signal: None,
                        duration: attempt_started.elapsed(),
                        cpu: Duration::ZERO,
                        peak_rss_kb: 0,
                        log_bytes: std::fs::metadata(&log).map_or(0, |m| m.len()),
                        log,
                        command: step.command.clone(),
                    };
                    let _ = lent.events.send(Event::StepFinished { slug: slug.clone(), record: failed.clone() });
                    record.steps.push(failed);
                    lost(record, format!("gridrun: lost {} during step {}: {err}", executor.name(), step.name));
                    break 'steps;
                }
                Err(err) => {
                    infra(record, format!("gridrun: cannot run step {}: {err}", step.name));
                    break 'steps;
                }
            };
            if let Some(masker) = ctx.masker.as_deref() {
                outcome.command = masker.mask(&outcome.command).into_owned();
            }
            cpu += outcome.cpu;
            peak = peak.max(outcome.peak_rss_kb);
            let _ = lent.events.send(Event::StepFinished { slug: slug.clone(), record: outcome.clone() });
            let (status, exit_code, signal) = (outcome.status, outcome.exit_code, outcome.signal);
            record.steps.push(outcome);
            if let Some(junit) = &step.junit {
                read_tests(job, executor, &step.name, junit, record).await;
            }
            match status {
                StepStatus::Passed => {
                    retried |= attempt > first;
                    record.exit_code = exit_code;
                    break;
                }
                StepStatus::Failed if attempt - first < step.retries && lent.cancel.borrow().is_none() => {
                    retried_tail = tail;
                    attempt += 1;
                }
                status => {
                    record.status = status.into();
                    record.exit_code = exit_code;
                    record.signal = signal;
                    let (diagnostics, kind) = diagnose_step(&step.name, status, &log, &tail).await;
                    record.diagnostics = diagnostics;
                    record.failure_kind = Some(kind);
                    record.log_tail.splice(0..0, tail);
                    break 'steps;
                }
            }
        }
    }
    record.cpu = Some(cpu);
    record.peak_rss_kb = Some(peak);
    // Flaky: it passed, but only because a step was retried.
    record.flaky = retried && record.status == JobStatus::Passed;
    if record.flaky {
        record.log_tail = retried_tail;
    }
}

/// A coverage cell's figures from the summary its `coverage` step (gcovr) wrote; under `[coverage]
/// min_line`, the job fails as kind `coverage`.
async fn read_coverage(
    job: &RenderedJob,
    executor: &dyn Executor,
    summary: &Path,
    min_line: Option<f64>,
    record: &mut JobRecord,
) {
    let read = match executor.fetch(job, summary).await {
        Ok(here) => crate::boundedread::read(&here, 64 << 20).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let figures = read.and_then(|bytes| {
        let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        crate::outcome::Coverage::from_gcovr(&doc).ok_or_else(|| "not a gcovr JSON summary".to_string())
    });
    match figures {
        Ok(coverage) => {
            record.coverage = Some(coverage);
            let line = coverage.line_percent().unwrap_or(0.0);
            if let Some(min) = min_line.filter(|min| line < *min) {
                record.status = JobStatus::Failed;
                record.failure_kind = Some(FailureKind::Coverage);
                record.log_tail.push(format!(
                    "gridrun: line coverage {line:.1} % is under [coverage] min_line {min} % ({})",
                    coverage.describe()
                ));
            }
        }
        Err(why) => {
            record.status = JobStatus::Failed;
            record.failure_kind = Some(FailureKind::Coverage);
            record.log_tail.push(format!("gridrun: cannot read the coverage summary {}: {why}", summary.display()));
        }
    }
}

/// The test results of the JUnit file `step` wrote; each attempt rewrites the file, so the last
/// attempt's results stand.
async fn read_tests(job: &RenderedJob, executor: &dyn Executor, step: &str, junit: &Path, record: &mut JobRecord) {
    record.tests.retain(|t| t.step != step);
    let Ok(here) = executor.fetch(job, junit).await else { return };
    // A file brought back from where the job ran is read where it came to.
    let came_to = if here == junit { None } else { here.parent().map(Path::to_path_buf) };
    let mut roots: Vec<&Path> = vec![&job.work_dir, &job.source];
    roots.extend(came_to.as_deref());
    match crate::testresults::read_junit(&here, &roots, step) {
        Ok(cases) => record.tests.extend(cases),
        Err(e) if here.exists() => record.log_tail.push(format!("gridrun: cannot read test results: {e}")),
        Err(_) => {}
    }
}

/// What ccache did for the job's compiles, from the statistics log only they wrote. No log is no
/// compile through ccache: zero calls, which says the wiring missed (a step that ignores `CC`).
async fn read_ccache_stats(
    job: &RenderedJob,
    executor: &dyn Executor,
    log: &Path,
    notes: &mut Vec<String>,
) -> Option<crate::outcome::CcacheStats> {
    let here = match executor.fetch(job, log).await {
        Ok(here) => here,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(crate::outcome::CcacheStats::default()),
        Err(e) => {
            notes.push(format!("gridrun: cannot bring ccache's statistics back: {e}"));
            return None;
        }
    };
    let read = tokio::task::spawn_blocking(move || crate::ccache::read_stats(&here)).await;
    match read {
        Ok(Ok(stats)) => Some(stats),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Some(crate::outcome::CcacheStats::default()),
        Ok(Err(e)) => {
            notes.push(format!("gridrun: cannot read ccache's statistics: {e}"));
            None
        }
        Err(_) => None,
    }
}

/// The job's artifacts, into the run's store. What the job built but cannot be kept fails it:
/// the job did not do what it was asked.
async fn collect_artifacts(job: &RenderedJob, executor: &dyn Executor, ctx: &RunContext, record: &mut JobRecord) {
    let work = match executor.fetch_workspace(job, &job.artifacts).await {
        Ok(work) => work,
        Err(e) => {
            infra(record, format!("gridrun: cannot bring the job's artifacts back: {e}"));
            return;
        }
    };
    // A workspace brought back from elsewhere is read where it came to; patterns name it as it
    // was where the job ran.
    let moved = work != job.work_dir;
    let patterns: Vec<String> = if moved {
        let from = job.work_dir.display().to_string();
        let to = work.display().to_string();
        job.artifacts
            .iter()
            .map(|p| p.strip_prefix(&from).map_or_else(|| p.clone(), |rest| format!("{to}{rest}")))
            .collect()
    } else {
        job.artifacts.clone()
    };
    let (source, base) = if moved { (work.clone(), work.clone()) } else { (job.source.clone(), job.base_dir.clone()) };
    let (state, store) = (ctx.state_dir.clone(), ctx.artifacts_dir.clone());
    let collected = tokio::task::spawn_blocking(move || {
        let roots = [work.as_path(), source.as_path(), base.as_path()];
        crate::artifacts::Collection { base: &base, roots: &roots, exclude: &state, store: &store }.collect(&patterns)
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))
    .and_then(|collected| collected);
    match collected {
        Ok(collected) => {
            record.artifacts = collected.artifacts;
            record.log_tail.extend(collected.refused.into_iter().map(|r| format!("gridrun: artifact {r}")));
        }
        Err(e) if record.status == JobStatus::Passed => {
            infra(record, format!("gridrun: cannot collect artifacts: {e}"));
        }
        Err(e) => record.log_tail.push(format!("gridrun: cannot collect artifacts: {e}")),
    }
}

/// Masks the secrets in everything of a job's record that came from the job: test results read
/// from its files, artifact names, what its logs said (masked as written, but a JUnit file is not).
fn mask_record(record: &mut JobRecord, masker: &Masker) {
    let mask = |text: &mut String| {
        if let std::borrow::Cow::Owned(m) = masker.mask(text) {
            *text = m;
        }
    };
    record.log_tail.iter_mut().for_each(mask);
    for case in &mut record.tests {
        mask(&mut case.suite);
        mask(&mut case.name);
        if let Some(message) = &mut case.message {
            mask(message);
        }
    }
    for d in &mut record.diagnostics {
        mask(&mut d.message);
        d.context.iter_mut().for_each(mask);
        if let Some(file) = &mut d.file {
            mask(file);
        }
    }
    for a in &mut record.artifacts {
        mask(&mut a.path);
    }
}

/// The diagnostics in a failed step's log and what kind of failure they make it. The log is
/// streamed off the dispatcher's thread: it may be large.
async fn diagnose_step(step: &str, status: StepStatus, log: &Path, tail: &[String]) -> (Vec<Diagnostic>, FailureKind) {
    let path = log.to_path_buf();
    let found = tokio::task::spawn_blocking(move || diagnose::parse_file(&path)).await;
    let mut diagnostics = match found {
        Ok(Ok(diagnostics)) => diagnostics,
        _ => Vec::new(),
    };
    let kind = diagnose::classify(status, step, &diagnostics, tail);
    for d in &mut diagnostics {
        d.step = step.to_string();
    }
    (diagnostics, kind)
}
