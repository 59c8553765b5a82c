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

/// How the dispatcher may use the places jobs run.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// What each pool of slots and memory holds; places share a pool where they share a machine
    /// (this host's processes and its containers).
    pub pools: Vec<Capacity>,
    /// Stop after this many failures (1 for `--fail-fast`).
    pub max_failures: Option<u32>,
}

/// Somewhere jobs run: an executor, the pool it draws on, and how many jobs it takes at once.
pub struct Place {
    /// Its name: `local`, a host's, an image's.
    pub name: String,
    /// What runs the jobs.
    pub executor: Arc<dyn Executor>,
    /// Its pool in [`SchedulerOptions::pools`].
    pub pool: usize,
    /// Concurrent jobs at most.
    pub max_jobs: usize,
}

/// A job waiting to start: how it runs at each place that can run it, in order of preference.
pub struct Queued {
    /// The job, rendered for each of its places.
    pub at: Vec<(usize, RenderedJob)>,
    /// Whether it was already moved once from a place that was lost.
    pub moved: bool,
}

impl Queued {
    /// A job that runs at one place.
    pub fn at(place: usize, job: RenderedJob) -> Self {
        Self { at: vec![(place, job)], moved: false }
    }

    fn slug(&self) -> &str {
        &self.at[0].1.job.slug
    }
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

impl Outcome {
    /// Folds a later phase's outcome into this one: its records after these, the more severe
    /// cancellation, the first internal error.
    pub fn absorb(&mut self, later: Self) {
        self.records.extend(later.records);
        self.cancelled = self.cancelled.max(later.cancelled);
        if self.internal_error.is_none() {
            self.internal_error = later.internal_error;
        }
    }
}

/// The dispatcher's state between events.
struct Dispatch<'o> {
    observer: &'o mut dyn Observer,
    pools: Vec<Pool>,
    places: Vec<PlaceState>,
    /// Running jobs: where, and what they hold.
    held: HashMap<String, (usize, Claim)>,
    /// Running jobs' other places, should theirs be lost.
    spare: HashMap<String, Queued>,
    queue: VecDeque<Queued>,
    /// A place was lost since the queue was last swept for jobs left with nowhere to run.
    sweep_stranded: bool,
    records: Vec<JobRecord>,
    failures: u32,
    max_failures: Option<u32>,
}

/// A place as the dispatch sees it.
struct PlaceState {
    name: String,
    executor: Arc<dyn Executor>,
    pool: usize,
    max_jobs: usize,
    running: usize,
    /// Lost mid-run: it takes no more jobs.
    lost: bool,
}

impl Dispatch<'_> {
    /// Passes an event on; a finished job gives its claim back, and one whose place was lost is
    /// moved once to another place that can run it. Returns a reason to stop, where the job's
    /// failure was one too many.
    fn event(&mut self, event: Event) -> Option<CancelReason> {
        let Event::JobFinished { record } = event else {
            self.observer.event(&event);
            return None;
        };
        let mut record = *record;
        let mut spare = self.spare.remove(&record.slug);
        if let Some((place, claim)) = self.held.remove(&record.slug) {
            self.pools[self.places[place].pool].give_back(claim);
            self.places[place].running -= 1;
            if record.failure_kind == Some(FailureKind::HostLost) {
                let lost = &mut self.places[place];
                if !lost.lost {
                    lost.lost = true;
                    self.sweep_stranded = true;
                    crate::note!("{} was lost: it takes no more jobs this run", lost.name);
                }
                let places = &self.places;
                if let Some(mut moved) = spare.take().filter(|q| !q.moved) {
                    moved.at.retain(|(p, _)| !places[*p].lost);
                    if !moved.at.is_empty() {
                        let to = self.places[moved.at[0].0].name.clone();
                        let from = self.places[place].name.clone();
                        let next_attempt = record.steps.iter().map(|s| s.attempt).max().unwrap_or(0) + 1;
                        for (_, job) in &mut moved.at {
                            job.first_attempt = next_attempt;
                            job.notes.extend(record.log_tail.iter().cloned());
                            job.notes.push(format!("gridrun: {from} was lost; the job ran again on {to}"));
                        }
                        moved.moved = true;
                        self.observer.event(&Event::JobMoved { slug: record.slug.clone(), from, to });
                        self.queue.push_front(moved);
                        return None;
                    }
                }
            }
        }
        if record.failure_kind == Some(FailureKind::HostLost) {
            record.log_tail.push("gridrun: no other place could run it".into());
        }
        self.observer.event(&Event::JobFinished { record: Box::new(record.clone()) });
        if record.fails_run() {
            self.failures += 1;
        }
        self.records.push(record);
        self.max_failures.is_some_and(|max| self.failures >= max).then_some(CancelReason::Failures)
    }

    /// Ends the queued jobs every place of which was lost: nothing is left that could run them.
    fn drop_stranded(&mut self) {
        // Only a lost place strands jobs: the queue is swept once per loss, not per start.
        if !std::mem::take(&mut self.sweep_stranded) {
            return;
        }
        let places = &self.places;
        let (stranded, kept): (Vec<Queued>, Vec<Queued>) =
            std::mem::take(&mut self.queue).into_iter().partition(|q| q.at.iter().all(|(p, _)| places[*p].lost));
        self.queue = kept.into();
        for queued in stranded {
            let (place, job) = &queued.at[0];
            let mut record = JobRecord::new(job.job.slug.clone());
            record.status = JobStatus::Failed;
            record.failure_kind = Some(FailureKind::HostLost);
            record.allow_failure = job.job.allow_failure;
            record.log_tail.clone_from(&job.notes);
            record.log_tail.push(format!(
                "gridrun: {} was lost, and no other place that could run it is left",
                self.places[*place].name
            ));
            self.event(Event::JobFinished { record: Box::new(record) });
        }
    }

    /// Starts what fits, in queue order: a job takes the first of its places with room; one that
    /// fits nowhere holds its places for itself, so later jobs do not overtake it there for ever.
    fn start_what_fits(&mut self, mut spawn: impl FnMut(usize, RenderedJob)) {
        self.drop_stranded();
        let mut blocked = vec![false; self.places.len()];
        let mut i = 0;
        while i < self.queue.len() {
            let queued = &self.queue[i];
            let mut chosen = None;
            for (at, (place, job)) in queued.at.iter().enumerate() {
                let state = &self.places[*place];
                if state.lost || blocked[*place] || state.running >= state.max_jobs {
                    continue;
                }
                let pool = &mut self.pools[state.pool];
                let claim = pool.claim_for(job.limits.cpus, job.limits.memory);
                if pool.try_take(claim) {
                    chosen = Some((at, *place, claim));
                    break;
                }
            }
            match chosen {
                Some((at, place, claim)) => {
                    let mut queued = self.queue.remove(i).expect("index in range");
                    let (_, mut job) = queued.at.remove(at);
                    grant_cpus(&mut job.env, claim.cpus);
                    let slug = job.job.slug.clone();
                    self.places[place].running += 1;
                    self.held.insert(slug.clone(), (place, claim));
                    if !queued.at.is_empty() {
                        self.spare.insert(slug, queued);
                    }
                    spawn(place, job);
                }
                None => {
                    for (place, _) in &queued.at {
                        blocked[*place] = true;
                    }
                    if blocked.iter().all(|b| *b) {
                        break;
                    }
                    i += 1;
                }
            }
        }
    }
}

/// Runs the `queue`d jobs (in order, as the places' capacity allows) to the end or until
/// cancelled.
pub async fn run(
    queue: Vec<Queued>,
    places: Vec<Place>,
    ctx: Arc<RunContext>,
    options: &SchedulerOptions,
    observer: &mut dyn Observer,
) -> Outcome {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let (cancel_tx, cancel_rx) = watch::channel::<Option<CancelReason>>(None);
    let ticks = observer.wants_ticks();
    let jobs = queue.len();
    let mut d = Dispatch {
        pools: options.pools.iter().map(|c| Pool::new(*c)).collect(),
        places: places
            .into_iter()
            .map(|p| PlaceState {
                name: p.name,
                executor: p.executor,
                pool: p.pool,
                max_jobs: p.max_jobs.max(1),
                running: 0,
                lost: false,
            })
            .collect(),
        observer,
        held: HashMap::new(),
        spare: HashMap::new(),
        queue: queue.into(),
        sweep_stranded: false,
        records: Vec::with_capacity(jobs),
        failures: 0,
        max_failures: options.max_failures,
    };
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
            let executors: Vec<Arc<dyn Executor>> = d.places.iter().map(|p| Arc::clone(&p.executor)).collect();
            d.start_what_fits(|place, job| {
                let slug = job.job.slug.clone();
                let lent = Lent { cancel: cancel_rx.clone(), suspension: Arc::clone(&suspension), events: tx.clone() };
                let task = tasks.spawn(job::run(job, Arc::clone(&executors[place]), Arc::clone(&ctx), lent));
                task_slugs.insert(task.id(), slug);
            });
        }
        if d.held.is_empty() && tasks.is_empty() && (d.queue.is_empty() || cancelled.is_some()) {
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
    let left: Vec<String> = d.queue.iter().map(|q| q.slug().to_string()).collect();
    for slug in left {
        let mut record = JobRecord::new(slug);
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
