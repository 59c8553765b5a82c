//! The dispatcher: one loop that starts jobs when their CPU slots and memory fit, hears every
//! job's events, passes them to the observer (store, display) in order, and decides on
//! cancellation (fail-fast, max-failures, SIGINT/SIGTERM, a second signal). Each job runs as its
//! own task ([`run_job`]) and talks to the dispatcher only through the event channel.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::events::{CancelReason, Event, Finding, JobRecord, Status, StepRecord};
use super::reaper::TOKEN_VAR;
use super::resources::{Capacity, Claim, Pool};
use super::supervisor::{self, log_path, StepSpec};
use super::suspend::Suspension;
use super::workspace::{self, PreparedSource};
use crate::diagnose;
use crate::plan::RenderedJob;

/// What every job of a run shares.
#[derive(Debug)]
pub struct RunContext {
    /// The run's token, set in every job's environment.
    pub token: String,
    /// `<state>/runs/<run>`: each job logs into a folder of its own here.
    pub logs_dir: PathBuf,
    /// The prepared source.
    pub source: PreparedSource,
    /// Keep workspaces of passing jobs too.
    pub keep_workspaces: bool,
    /// `--timeout`, overriding the file's.
    pub timeout: Option<Duration>,
    /// The secrets' values, masked in every log and record; `None` where there are none.
    pub masker: Option<Arc<crate::secrets::Masker>>,
    /// The state folder: never walked for artifacts.
    pub state_dir: PathBuf,
    /// `<state>/artifacts`: the content-addressed store every job's artifacts go to.
    pub artifacts_dir: PathBuf,
}

/// How the dispatcher may use the host.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// Concurrent jobs at most.
    pub max_jobs: usize,
    /// Slots and memory to share out.
    pub capacity: Capacity,
    /// Stop after this many failures (1 for `--fail-fast`).
    pub max_failures: Option<u32>,
}

/// Who hears about the run: the store writer and the display.
pub trait Observer {
    /// An event, in the order the dispatcher saw it.
    fn event(&mut self, event: &Event);
    /// A periodic chance to redraw.
    fn tick(&mut self) {}
    /// Whether `tick` does anything (it is not called otherwise).
    fn wants_ticks(&self) -> bool {
        false
    }
}

/// What a run came to.
#[derive(Debug)]
pub struct Outcome {
    /// Every job's record, in the order they ended.
    pub records: Vec<JobRecord>,
    /// The most severe cancellation, if any.
    pub cancelled: Option<CancelReason>,
    /// A job's task panicked: a bug in gridrun, which stopped the run as an interrupt would.
    pub internal_error: Option<String>,
}

/// Runs `jobs` (in order, as capacity allows) to the end or until cancelled.
pub async fn run(
    jobs: Vec<RenderedJob>,
    ctx: Arc<RunContext>,
    options: &SchedulerOptions,
    observer: &mut dyn Observer,
) -> Outcome {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let (cancel_tx, cancel_rx) = watch::channel::<Option<CancelReason>>(None);
    let mut pool = Pool::new(options.capacity);
    let mut queue: VecDeque<(RenderedJob, Claim)> = jobs
        .into_iter()
        .map(|job| {
            let claim = pool.claim_for(job.limits.cpus, job.limits.memory);
            (job, claim)
        })
        .collect();
    let mut held: HashMap<String, Claim> = HashMap::new();
    // Each job's task, so one that panics is noticed: its job is recorded and the run stopped,
    // rather than waited for forever.
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut task_slugs: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut internal_error: Option<String> = None;
    let mut records = Vec::with_capacity(queue.len());
    let mut failures = 0u32;
    let mut cancelled: Option<CancelReason> = None;
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP)).ok();
    let suspension = Arc::new(Suspension::default());
    let mut ticker = tokio::time::interval(Duration::from_millis(150));
    let ticks = observer.wants_ticks();

    loop {
        if cancelled.is_none() {
            // Jobs start in plan order; the first that does not fit waits, and so does the rest,
            // so a big job is not overtaken for ever.
            while held.len() < options.max_jobs {
                let Some((_, claim)) = queue.front() else { break };
                if !pool.try_take(*claim) {
                    break;
                }
                let (mut job, claim) = queue.pop_front().expect("front exists");
                grant_cpus(&mut job.env, claim.cpus);
                held.insert(job.job.slug.clone(), claim);
                let slug = job.job.slug.clone();
                let task = tasks.spawn(run_job(job, ctx.clone(), cancel_rx.clone(), tx.clone(), suspension.clone()));
                task_slugs.insert(task.id(), slug);
            }
        }
        if held.is_empty() && tasks.is_empty() && (queue.is_empty() || cancelled.is_some()) {
            break;
        }
        let escalate = tokio::select! {
            Some(event) = rx.recv() => {
                observer.event(&event);
                if let Event::JobFinished { record } = event {
                    if let Some(claim) = held.remove(&record.slug) {
                        pool.give_back(claim);
                    }
                    if record.status.is_failure() {
                        failures += 1;
                    }
                    let too_many = options.max_failures.is_some_and(|max| failures >= max);
                    records.push(record);
                    too_many.then_some(CancelReason::Failures)
                } else {
                    None
                }
            }
            Some(joined) = tasks.join_next_with_id() => {
                let panic = match joined {
                    Ok((id, ())) => {
                        task_slugs.remove(&id);
                        None
                    }
                    Err(err) => task_slugs.remove(&err.id()).filter(|_| err.is_panic()).map(|slug| (slug, panic_message(err))),
                };
                if panic.is_some() {
                    // What the task said before it died comes first.
                    while let Ok(event) = rx.try_recv() {
                        observer.event(&event);
                        if let Event::JobFinished { record } = event {
                            if let Some(claim) = held.remove(&record.slug) {
                                pool.give_back(claim);
                            }
                            failures += u32::from(record.status.is_failure());
                            records.push(record);
                        }
                    }
                }
                match panic {
                    // A job whose task died before it said it finished: record it, free its claim.
                    Some((slug, message)) if held.contains_key(&slug) => {
                        let claim = held.remove(&slug).expect("held above");
                        pool.give_back(claim);
                        let record = JobRecord {
                            status: Status::Failed,
                            failure_kind: Some("infra".into()),
                            log_tail: vec![format!("gridrun: internal error: {message}")],
                            ..JobRecord::empty(slug)
                        };
                        failures += 1;
                        internal_error.get_or_insert(message);
                        let event = Event::JobFinished { record };
                        observer.event(&event);
                        if let Event::JobFinished { record } = event {
                            records.push(record);
                        }
                        Some(CancelReason::Interrupt)
                    }
                    Some((_, message)) => {
                        internal_error.get_or_insert(message);
                        Some(CancelReason::Interrupt)
                    }
                    None => None,
                }
            }
            Some(()) = recv(&mut sigint) => Some(if cancelled >= Some(CancelReason::Interrupt) { CancelReason::Kill } else { CancelReason::Interrupt }),
            Some(()) = recv(&mut sigterm) => Some(if cancelled >= Some(CancelReason::Interrupt) { CancelReason::Kill } else { CancelReason::Interrupt }),
            Some(()) = recv(&mut sigtstp) => {
                suspension.suspend();
                None
            }
            _ = ticker.tick(), if ticks => {
                observer.tick();
                None
            }
        };
        if let Some(reason) = escalate {
            if cancelled.is_none_or(|current| reason > current) {
                cancelled = Some(reason);
                observer.event(&Event::Cancelling { reason });
                let _ = cancel_tx.send(Some(reason));
            }
        }
    }
    for (job, _) in queue {
        let record =
            JobRecord { status: Status::Cancelled, failure_kind: Some("cancelled".into()), ..empty_record(&job) };
        let event = Event::JobFinished { record };
        observer.event(&event);
        if let Event::JobFinished { record } = event {
            records.push(record);
        }
    }
    Outcome { records, cancelled, internal_error }
}

/// What a panicking task said.
fn panic_message(err: tokio::task::JoinError) -> String {
    let payload = err.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job's task panicked".into())
}

async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

fn empty_record(job: &RenderedJob) -> JobRecord {
    JobRecord::empty(job.job.slug.clone())
}

impl JobRecord {
    /// A record of `slug` with nothing run yet.
    fn empty(slug: String) -> Self {
        Self {
            slug,
            status: Status::Passed,
            failure_kind: None,
            exit_code: None,
            signal: None,
            duration: Duration::ZERO,
            cpu: Duration::ZERO,
            peak_rss_kb: 0,
            flaky: false,
            steps: Vec::new(),
            log_tail: Vec::new(),
            work_dir: None,
            diagnostics: Vec::new(),
            tests: Vec::new(),
            artifacts: Vec::new(),
        }
    }
}

/// One job: its steps in order, each retried as the file allows, under the job's time limit.
async fn run_job(
    job: RenderedJob,
    ctx: Arc<RunContext>,
    cancel: watch::Receiver<Option<CancelReason>>,
    tx: mpsc::UnboundedSender<Event>,
    suspension: Arc<Suspension>,
) {
    let started = Instant::now();
    let slug = job.job.slug.clone();
    let _ = tx.send(Event::JobStarted { slug: slug.clone() });
    // A debug build can be told to panic in one job, so the tests can check that gridrun stops
    // the run and leaves nothing behind when a bug strikes.
    #[cfg(debug_assertions)]
    assert!(
        !std::env::var("GRIDRUN_DEBUG_PANIC_IN_JOB").is_ok_and(|wanted| wanted == slug),
        "GRIDRUN_DEBUG_PANIC_IN_JOB={slug}"
    );
    let mut record = empty_record(&job);
    let log_dir = ctx.logs_dir.join(&slug);
    let mut dirs: Vec<&std::path::Path> = job.make_dirs.iter().map(PathBuf::as_path).collect();
    dirs.push(&log_dir);
    let prepared = workspace::prepare_job(&ctx.source, &job.source, &dirs);

    if let Err(err) = prepared {
        record.status = Status::Failed;
        record.failure_kind = Some("infra".into());
        record.log_tail = vec![format!("gridrun: cannot prepare the workspace: {err}")];
    } else {
        let deadline = ctx.timeout.or(job.limits.timeout).and_then(|t| started.checked_add(t));
        let paused_at_start = suspension.total();
        let mut job_env = job.env.clone();
        job_env.push((TOKEN_VAR.into(), ctx.token.clone()));
        let mut retried = false;
        // The end of the last attempt that failed and was retried: what a flaky job shows.
        let mut retried_tail: Vec<String> = Vec::new();
        'steps: for (index, step) in job.steps.iter().enumerate() {
            let mut attempt = 1;
            loop {
                if cancel.borrow().is_some() {
                    record.status = Status::Cancelled;
                    record.failure_kind = Some("cancelled".into());
                    break 'steps;
                }
                let log = log_path(&log_dir, &step.name, attempt);
                let _ = tx.send(Event::StepStarted {
                    slug: slug.clone(),
                    step: step.name.clone(),
                    attempt,
                    log: log.clone(),
                });
                let mut env = job_env.clone();
                env.extend(step.env.iter().cloned());
                // Time suspended with Ctrl-Z before this step pushes the job's deadline back.
                let deadline = deadline.and_then(|d| d.checked_add(suspension.total().saturating_sub(paused_at_start)));
                let step_deadline = match (deadline, step.timeout.and_then(|t| Instant::now().checked_add(t))) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let spec = StepSpec {
                    command: &step.command,
                    cwd: &job.source,
                    env: &env,
                    log: &log,
                    deadline: step_deadline,
                    kill_grace: job.limits.kill_grace,
                    memory_limit: job.limits.memory,
                    token: &ctx.token,
                    cancel: cancel.clone(),
                    suspension: &suspension,
                    masker: ctx.masker.as_ref(),
                };
                let outcome = match supervisor::run_step(spec).await {
                    Ok(outcome) => outcome,
                    Err(err) => {
                        record.status = Status::Failed;
                        record.failure_kind = Some("infra".into());
                        record.log_tail = vec![format!("gridrun: cannot run step {}: {err}", step.name)];
                        break 'steps;
                    }
                };
                let step_record = StepRecord {
                    name: step.name.clone(),
                    index,
                    attempt,
                    status: outcome.status,
                    exit_code: outcome.exit_code,
                    signal: outcome.signal,
                    duration: outcome.duration,
                    cpu: outcome.cpu,
                    peak_rss_kb: outcome.peak_rss_kb,
                    log: log.clone(),
                    log_bytes: outcome.log_bytes,
                    command: masked(ctx.masker.as_deref(), &step.command),
                };
                record.cpu += outcome.cpu;
                record.peak_rss_kb = record.peak_rss_kb.max(outcome.peak_rss_kb);
                let _ = tx.send(Event::StepFinished { slug: slug.clone(), record: step_record.clone() });
                record.steps.push(step_record);
                if let Some(junit) = &step.junit {
                    // Each attempt rewrites the file; the last attempt's results stand.
                    record.tests.retain(|(name, _)| *name != step.name);
                    match crate::testresults::read_junit(junit, &[&job.work_dir, &job.source]) {
                        Ok(cases) => record.tests.extend(cases.into_iter().map(|c| (step.name.clone(), c))),
                        Err(e) if junit.exists() => {
                            record.log_tail.push(format!("gridrun: cannot read test results: {e}"));
                        }
                        Err(_) => {}
                    }
                }
                match outcome.status {
                    Status::Passed => {
                        retried |= attempt > 1;
                        record.exit_code = outcome.exit_code;
                        break;
                    }
                    Status::Failed if attempt <= step.retries && cancel.borrow().is_none() => {
                        retried_tail = outcome.tail;
                        attempt += 1;
                    }
                    status => {
                        record.status = status;
                        record.exit_code = outcome.exit_code;
                        record.signal = outcome.signal;
                        let (findings, kind) = diagnose_step(&step.name, status, &log, &outcome.tail).await;
                        record.diagnostics = findings;
                        record.failure_kind = Some(kind);
                        record.log_tail.splice(0..0, outcome.tail);
                        break 'steps;
                    }
                }
            }
        }
        // Flaky: it passed, but only because a step was retried.
        record.flaky = retried && record.status == Status::Passed;
        if record.flaky {
            record.log_tail = retried_tail;
        }
        if !job.artifacts.is_empty() && record.status != Status::Cancelled {
            let patterns = job.artifacts.clone();
            let (work, source, base) = (job.work_dir.clone(), job.source.clone(), job.base_dir.clone());
            let (state, store) = (ctx.state_dir.clone(), ctx.artifacts_dir.clone());
            let collected = tokio::task::spawn_blocking(move || {
                let roots = [work.as_path(), source.as_path(), base.as_path()];
                crate::artifacts::Collection { base: &base, roots: &roots, exclude: &state, store: &store }
                    .collect(&patterns)
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|collected| collected);
            match collected {
                Ok(collected) => {
                    record.artifacts = collected.artifacts;
                    record.log_tail.extend(collected.refused.into_iter().map(|r| format!("gridrun: artifact {r}")));
                }
                // What the job built could not be kept: the job did not do what it was asked.
                Err(e) => {
                    if record.status == Status::Passed {
                        record.status = Status::Failed;
                        record.failure_kind = Some("infra".into());
                    }
                    record.log_tail.push(format!("gridrun: cannot collect artifacts: {e}"));
                }
            }
        }
    }
    if let Some(masker) = ctx.masker.as_deref() {
        mask_record(&mut record, masker);
    }
    record.duration = started.elapsed();
    if record.status == Status::Passed && !ctx.keep_workspaces {
        workspace::remove(&job.work_dir);
    } else if job.work_dir.exists() {
        record.work_dir = Some(job.work_dir.clone());
    }
    let _ = tx.send(Event::JobFinished { record });
}

/// `text` with the run's secrets masked.
fn masked(masker: Option<&crate::secrets::Masker>, text: &str) -> String {
    masker.map_or_else(|| text.to_string(), |m| m.mask(text).into_owned())
}

/// Masks the secrets in everything of a job's record that came from the job: test results read
/// from its files, artifact names, what its logs said (already masked as written, but a log
/// read before masking began, or a JUnit file, is not).
fn mask_record(record: &mut JobRecord, masker: &crate::secrets::Masker) {
    let mask = |text: &mut String| {
        if let std::borrow::Cow::Owned(m) = masker.mask(text) {
            *text = m;
        }
    };
    record.log_tail.iter_mut().for_each(mask);
    for (_, case) in &mut record.tests {
        mask(&mut case.suite);
        mask(&mut case.name);
        if let Some(message) = &mut case.message {
            mask(message);
        }
    }
    for d in &mut record.diagnostics {
        mask(&mut d.message);
        mask(&mut d.context);
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
async fn diagnose_step(step: &str, status: Status, log: &std::path::Path, tail: &[String]) -> (Vec<Finding>, String) {
    let path = log.to_path_buf();
    let found = tokio::task::spawn_blocking(move || diagnose::parse_file(&path)).await;
    let diagnostics = match found {
        Ok(Ok(diagnostics)) => diagnostics,
        _ => Vec::new(),
    };
    let kind = diagnose::classify(status.as_str(), step, &diagnostics, tail);
    let findings = diagnostics
        .into_iter()
        .map(|d| Finding {
            step: step.to_string(),
            severity: d.severity.as_str().to_string(),
            kind: d.kind.as_str().to_string(),
            file: d.file,
            line: d.line,
            col: d.col,
            message: d.message,
            context: d.context.join("\n"),
        })
        .collect();
    (findings, kind.as_str().to_string())
}

/// Sets the CPU variables gridrun gives a job to the slots it was granted, which are fewer than
/// `limits.cpus` on a host with fewer CPUs. Only gridrun's own entries change (they come first);
/// a value the file's `[env]` sets later still wins.
fn grant_cpus(env: &mut [(String, String)], cpus: u32) {
    const VARS: [&str; 4] = ["GRIDRUN_CPUS", "CMAKE_BUILD_PARALLEL_LEVEL", "CTEST_PARALLEL_LEVEL", "MAKEFLAGS"];
    let mut set = [false; VARS.len()];
    for (key, value) in env.iter_mut() {
        let Some(i) = VARS.iter().position(|var| var == key) else { continue };
        if !std::mem::replace(&mut set[i], true) {
            *value = if key == "MAKEFLAGS" { format!("-j{cpus}") } else { cpus.to_string() };
        }
    }
}
