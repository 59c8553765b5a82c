//! The dispatcher: one loop that starts jobs when their CPU slots and memory fit, hears every
//! job's events, passes them to the observer (store, display) in order, and decides on
//! cancellation (fail-fast, max-failures, SIGINT/SIGTERM, a second signal, a job's task that
//! panicked). Each job runs as its own task ([`super::job::run`]) on its executor and talks to
//! the dispatcher only through the event channel.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::events::{CancelReason, Event};
use super::executor::Executor;
use super::job::{self, Lent, RunContext};
use super::resources::{Capacity, Claim, Pool};
use super::suspend::Suspension;
use crate::outcome::{FailureKind, JobRecord, JobStatus};
use crate::plan::RenderedJob;

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

/// The dispatcher's state between events.
struct Dispatch<'o> {
    observer: &'o mut dyn Observer,
    pool: Pool,
    held: HashMap<String, Claim>,
    records: Vec<JobRecord>,
    failures: u32,
    max_failures: Option<u32>,
}

impl Dispatch<'_> {
    /// Passes an event on; a finished job gives its claim back. Returns a reason to stop, where
    /// the job's failure was one too many.
    fn event(&mut self, event: Event) -> Option<CancelReason> {
        self.observer.event(&event);
        let Event::JobFinished { record } = event else { return None };
        if let Some(claim) = self.held.remove(&record.slug) {
            self.pool.give_back(claim);
        }
        if record.fails_run() {
            self.failures += 1;
        }
        self.records.push(*record);
        self.max_failures.is_some_and(|max| self.failures >= max).then_some(CancelReason::Failures)
    }
}

/// Runs `jobs` (in order, as capacity allows) on `executor` to the end or until cancelled.
pub async fn run(
    jobs: Vec<RenderedJob>,
    executor: Arc<dyn Executor>,
    ctx: Arc<RunContext>,
    options: &SchedulerOptions,
    observer: &mut dyn Observer,
) -> Outcome {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let (cancel_tx, cancel_rx) = watch::channel::<Option<CancelReason>>(None);
    let ticks = observer.wants_ticks();
    let mut d = Dispatch {
        pool: Pool::new(options.capacity),
        observer,
        held: HashMap::new(),
        records: Vec::with_capacity(jobs.len()),
        failures: 0,
        max_failures: options.max_failures,
    };
    let mut queue: VecDeque<(RenderedJob, Claim)> = jobs
        .into_iter()
        .map(|job| {
            let claim = d.pool.claim_for(job.limits.cpus, job.limits.memory);
            (job, claim)
        })
        .collect();
    // Each job's task, so one that panics is noticed: its job is recorded and the run stopped,
    // rather than waited for forever.
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut task_slugs: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut internal_error: Option<String> = None;
    let mut cancelled: Option<CancelReason> = None;
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP)).ok();
    let suspension = Arc::new(Suspension::default());
    let mut ticker = tokio::time::interval(Duration::from_millis(150));

    loop {
        if cancelled.is_none() {
            // Jobs start in plan order; the first that does not fit waits, and so does the rest,
            // so a big job is not overtaken for ever.
            while d.held.len() < options.max_jobs {
                let Some((_, claim)) = queue.front() else { break };
                if !d.pool.try_take(*claim) {
                    break;
                }
                let (mut job, claim) = queue.pop_front().expect("front exists");
                grant_cpus(&mut job.env, claim.cpus);
                let slug = job.job.slug.clone();
                d.held.insert(slug.clone(), claim);
                let lent = Lent { cancel: cancel_rx.clone(), suspension: Arc::clone(&suspension), events: tx.clone() };
                let task = tasks.spawn(job::run(job, Arc::clone(&executor), Arc::clone(&ctx), lent));
                task_slugs.insert(task.id(), slug);
            }
        }
        if d.held.is_empty() && tasks.is_empty() && (queue.is_empty() || cancelled.is_some()) {
            break;
        }
        let escalate = |current: Option<CancelReason>| {
            Some(if current >= Some(CancelReason::Interrupt) { CancelReason::Kill } else { CancelReason::Interrupt })
        };
        let stop = tokio::select! {
            Some(event) = rx.recv() => d.event(event),
            Some(joined) = tasks.join_next_with_id() => {
                let panicked = match joined {
                    Ok((id, ())) => {
                        task_slugs.remove(&id);
                        None
                    }
                    Err(err) => task_slugs.remove(&err.id()).filter(|_| err.is_panic()).map(|slug| (slug, panic_message(err))),
                };
                panicked.map(|(slug, message)| {
                    // What the task said before it died comes first.
                    while let Ok(event) = rx.try_recv() {
                        d.event(event);
                    }
                    if d.held.contains_key(&slug) {
                        // It died before it said it finished: record it, free its claim.
                        let mut record = JobRecord::new(slug);
                        record.status = JobStatus::Failed;
                        record.failure_kind = Some(FailureKind::Infra);
                        record.log_tail = vec![format!("gridrun: internal error: {message}")];
                        d.event(Event::JobFinished { record: Box::new(record) });
                    }
                    internal_error.get_or_insert(message);
                    CancelReason::Interrupt
                })
            }
            Some(()) = recv(&mut sigint) => escalate(cancelled),
            Some(()) = recv(&mut sigterm) => escalate(cancelled),
            Some(()) = recv(&mut sigtstp) => {
                suspension.suspend();
                None
            }
            _ = ticker.tick(), if ticks => {
                d.observer.tick();
                None
            }
        };
        if let Some(reason) = stop {
            if cancelled.is_none_or(|current| reason > current) {
                cancelled = Some(reason);
                d.observer.event(&Event::Cancelling { reason });
                let _ = cancel_tx.send(Some(reason));
            }
        }
    }
    for (job, _) in queue {
        let mut record = JobRecord::new(job.job.slug.clone());
        record.status = JobStatus::Cancelled;
        record.failure_kind = Some(FailureKind::Cancelled);
        d.event(Event::JobFinished { record: Box::new(record) });
    }
    Outcome { records: d.records, cancelled, internal_error }
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
