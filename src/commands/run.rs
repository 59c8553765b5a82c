//! `gridrun run`: plan, record the run, run the jobs within the host's limits, and print the grid
//! and each failure's last lines.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::show::parse_pivot;
use super::Context;
use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::exec::events::{CancelReason, Event, Status};
use crate::exec::reaper::{self, Reaper};
use crate::exec::resources::Capacity;
use crate::exec::scheduler::{self, Observer, RunContext, SchedulerOptions};
use crate::exec::workspace;
use crate::matrix::CellFilter;
use crate::outfile;
use crate::plan::{Job, Plan, PlanError};
use crate::progress::Progress;
use crate::report::format::Export;
use crate::report::grid::{self, GridJob};
use crate::report::html::Html;
use crate::report::json::RunDoc;
use crate::report::junit::Junit;
use crate::report::markdown::{github_annotations, Markdown};
use crate::store::{AfterCommit, NewJob, NewRun, RunStatus, Store, StoreWriter};
use crate::toolchain::{keys, Availability, Host};

pub(super) fn run(ctx: &Context, args: &RunArgs) -> Result<ExitCode> {
    let (path, files) = ctx.load(args.selection.matrix.as_deref())?;
    let filter = CellFilter::new(&args.selection.filters, args.selection.cell.as_deref()).map_err(PlanError::from)?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let pivot = args.pivot.as_deref().map(parse_pivot).transpose()?;
    let (timeout, memory) = (args.timeout, args.memory);
    // A report path that cannot be written is said now, not after an hour of building.
    for (flag, target) in [("--report", &args.report), ("--junit", &args.junit)] {
        if let Some(target) = target {
            outfile::resolve(target).map_err(|e| Error::Usage(format!("{flag} {}: {e}", target.display())))?;
        }
    }
    let state_dir = ctx.state_dir(&path)?;
    let mut host = Host::detect(Some(state_dir.join("cache").join("toolchains.json")));
    let folder = files.len() > 1 || path.is_dir();
    let plans = crate::plan::build_all(files, &mut host, &filter, &state_dir, folder)?;
    if let Some((row, col)) = &pivot {
        // A wrong pivot is a usage error now, not a missing grid after an hour of building.
        for plan in &plans {
            let cells: Vec<GridJob> =
                plan.jobs.iter().map(|j| GridJob::from_json(&j.cell.to_json(), "", false)).collect();
            grid::pivot_keys(&cells, Some((row, col))).map_err(Error::Usage)?;
        }
    }

    let mut store = Store::open(&state_dir)?;
    store.keep_reserve();
    for token in store.mark_abandoned()? {
        reaper::sweep(&token, Duration::from_secs(2));
    }

    // While a project runs, its dispatcher handles Ctrl-C and SIGTERM. Between projects (and while
    // one fetches its source) nothing would: once the first dispatcher has listened, the signals
    // no longer end gridrun by default. This flag catches them there, so the next project does
    // not start.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(Error::io("cannot handle signals"))?;
    }
    let mut worst = ExitCode::SUCCESS;
    let several = plans.len() > 1;
    for plan in &plans {
        if stop.load(Ordering::SeqCst) {
            crate::note!("interrupted; {} and the projects after it did not run", plan.matrix.project.name);
            return Ok(ExitCode::from(130));
        }
        // Each project is a run of its own, so in a folder each gets report files of its own.
        let name = &plan.matrix.project.name;
        let report = args.report.as_deref().map(|p| if several { per_project(p, name) } else { p.to_path_buf() });
        let junit = args.junit.as_deref().map(|p| if several { per_project(p, name) } else { p.to_path_buf() });
        let options = RunOptions { args, shard, pivot: pivot.clone(), timeout, memory, report, junit, stop: &stop };
        let (code, back) = run_plan(ctx, plan, store, &options)?;
        store = back;
        if code != ExitCode::SUCCESS {
            worst = code;
            if code == ExitCode::from(130) {
                break;
            }
        }
    }
    Ok(worst)
}

struct RunOptions<'a> {
    args: &'a RunArgs,
    shard: Option<(usize, usize)>,
    pivot: Option<(String, String)>,
    timeout: Option<Duration>,
    memory: Option<u64>,
    /// Where this project's HTML report goes (`--report`).
    report: Option<PathBuf>,
    /// Where this project's JUnit report goes (`--junit`).
    junit: Option<PathBuf>,
    /// Set by Ctrl-C or SIGTERM outside a dispatcher.
    stop: &'a AtomicBool,
}

/// `out/grid.html` for project `heimdall` in a folder run: `out/grid.heimdall.html`.
fn per_project(path: &Path, project: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{project}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{project}"),
    };
    path.with_file_name(name)
}

fn run_plan(ctx: &Context, plan: &Plan, mut store: Store, options: &RunOptions<'_>) -> Result<(ExitCode, Store)> {
    let args = options.args;
    let project = &plan.matrix.project.name;
    let rerun = match &args.rerun_failed {
        Some(which) => match failed_in(&store, which, project)? {
            Some(slugs) => Some(slugs),
            None => return Ok((ExitCode::SUCCESS, store)),
        },
        None => None,
    };
    let jobs: Vec<&Job> = plan
        .jobs
        .iter()
        .enumerate()
        .filter(|(i, _)| options.shard.is_none_or(|(k, n)| i % n == k - 1))
        .map(|(_, job)| job)
        .filter(|job| rerun.as_ref().is_none_or(|failed| failed.contains(&job.slug)))
        .collect();
    let source = workspace::prepare_source(&plan.matrix.project.source, &plan.state_dir);
    // A Ctrl-C while the source was fetched (it reaches git too) stops here, before the run is
    // recorded.
    if options.stop.load(Ordering::SeqCst) {
        crate::note!("interrupted before {project} started");
        return Ok((ExitCode::from(130), store));
    }
    let source = source.map_err(|e| Error::Usage(format!("{}: {e}", plan.matrix.file.path.display())))?;
    let commit = source.commit.clone();
    // A pass at this commit with this config hash stands, unless the tree has local changes.
    let mut reused: HashMap<&str, i64> = HashMap::new();
    if args.skip_passed && !source.dirty && !commit.is_empty() {
        for job in jobs.iter().filter(|j| j.availability == Availability::Ready) {
            if let Some(run) = store.passed_before(&job.config_hash.to_string(), &commit)? {
                reused.insert(&job.slug, run);
            }
        }
    } else if args.skip_passed {
        crate::note!("--skip-passed reuses nothing: the source has uncommitted changes or is not a git checkout");
    }
    let token = format!("{:x}-{:x}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0));
    let new_run = NewRun {
        project: plan.matrix.project.name.clone(),
        matrix_path: plan.matrix.file.path.display().to_string(),
        commit: source.commit.clone(),
        dirty: source.dirty,
        argv: std::env::args().collect::<Vec<_>>().join(" "),
        token: token.clone(),
        jobs: {
            let position: HashMap<&str, usize> =
                plan.jobs.iter().enumerate().map(|(i, j)| (j.slug.as_str(), i)).collect();
            jobs.iter()
                .map(|job| new_job(job, position[job.slug.as_str()], reused.get(job.slug.as_str()).copied()))
                .collect()
        },
    };
    let run_id = store.begin_run(&new_run)?;
    let run_number = u64::try_from(run_id).unwrap_or(0);
    let rendered = jobs
        .iter()
        .filter(|j| j.availability == Availability::Ready && !reused.contains_key(j.slug.as_str()))
        .map(|job| plan.render(job, run_number, &source.commit))
        .collect::<Result<Vec<_>, _>>()?;

    let capacity = Capacity::detect(args.cpus, options.memory);
    let per_job = plan.matrix.limits.cpus.max(1);
    let max_jobs = args.jobs.or(plan.matrix.limits.jobs).unwrap_or_else(|| (capacity.cpus / per_job).max(1));
    let scheduler_options = SchedulerOptions {
        max_jobs: usize::try_from(max_jobs.max(1)).unwrap_or(1),
        capacity,
        max_failures: if args.fail_fast { Some(1) } else { args.max_failures },
    };
    let run_ctx = Arc::new(RunContext {
        token: token.clone(),
        logs_dir: plan.state_dir.join("runs").join(run_id.to_string()),
        source,
        keep_workspaces: args.keep_workspaces,
        timeout: options.timeout,
        masker: masker(&plan.matrix.secrets),
        state_dir: plan.state_dir.clone(),
        artifacts_dir: plan.state_dir.join("artifacts"),
    });

    // The run's folders, made once so each job only adds its own; the cache is shared by all runs
    // and named to steps as {{ cache_dir }}.
    for dir in
        [run_ctx.logs_dir.clone(), plan.state_dir.join("work").join(run_id.to_string()), plan.state_dir.join("cache")]
    {
        std::fs::create_dir_all(&dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    }
    let reaper = Reaper::spawn(&token, plan.matrix.limits.kill_grace);
    let mut observer = RunObserver {
        writer: StoreWriter::spawn(
            store,
            run_id,
            options.report.clone().map(|path| live_report(path, run_id, options.pivot.clone())),
        ),
        progress: Progress::new(rendered.len(), ctx.style.color),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::io("cannot start the runtime"))?;
    let outcome = runtime.block_on(scheduler::run(rendered, run_ctx, &scheduler_options, &mut observer));
    drop(runtime);
    observer.progress.finish();

    let failed = outcome.records.iter().any(|r| r.status.is_failure());
    let status = match outcome.cancelled {
        Some(CancelReason::Interrupt | CancelReason::Kill) => RunStatus::Interrupted,
        _ if failed => RunStatus::Failed,
        _ => RunStatus::Passed,
    };
    let store = observer.writer.finish(status)?;
    if store.reserve_used() {
        crate::note!(
            "the disk holding {} is full: gridrun gave up its reserve to record this run; free some space",
            plan.state_dir.display()
        );
    }
    // A process that left its job's process group (setsid, a daemon) still carries the run's
    // token; nothing of the run outlives it.
    let leftovers = reaper::sweep(&token, plan.matrix.limits.kill_grace);
    if leftovers > 0 {
        crate::note!("ended {leftovers} process(es) the run's jobs left behind");
    }
    reaper.dismiss();

    // The reports are written even when the summary cannot be (`gridrun run | head`).
    let summary = super::recorded::written(print_summary(ctx, &store, run_id, options.pivot.as_ref()), "the summary");
    finish_reports(&store, run_id, options.junit.as_deref(), options.pivot.as_ref())?;
    summary?;
    if let Some(message) = &outcome.internal_error {
        crate::note!("the run was stopped by an internal error: {message}");
        return Ok((ExitCode::from(crate::error::INTERNAL_ERROR), store));
    }
    let code = match status {
        RunStatus::Interrupted => ExitCode::from(130),
        RunStatus::Failed => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    };
    Ok((code, store))
}

/// The masker of the file's secrets, saying which of them it cannot mask.
fn masker(names: &[String]) -> Option<Arc<crate::secrets::Masker>> {
    let (masker, unmasked) = crate::secrets::Masker::from_env(names);
    for problem in unmasked {
        match problem {
            crate::secrets::Unmasked::NotSet(name) => {
                crate::note!("secret {name} is not set in the environment; the jobs run without it");
            }
            crate::secrets::Unmasked::TooShort(name) => crate::note!(
                "secret {name} is shorter than {} characters; it is passed on but not masked",
                crate::secrets::MIN_LEN
            ),
        }
    }
    masker.map(Arc::new)
}

/// The slugs of the cells that failed in run `which` of `project`; `None` (said on stderr) where
/// that run failed nowhere or belongs to another project.
fn failed_in(store: &Store, which: &str, project: &str) -> Result<Option<HashSet<String>>> {
    let run = if which == "latest" {
        store.recent_runs(u32::MAX)?.into_iter().find(|r| r.project == project && r.status != "running")
    } else {
        Some(store.run(which)?).filter(|r| r.project == project)
    };
    let Some(run) = run else {
        crate::note!("{project}: no earlier run of this project to rerun the failures of");
        return Ok(None);
    };
    let failed: HashSet<String> = store
        .jobs(run.id)?
        .into_iter()
        // A cell cancelled by --fail-fast or Ctrl-C never got its answer: it goes again too.
        .filter(|j| matches!(j.status.as_str(), "failed" | "timed_out" | "memory_exceeded" | "cancelled"))
        .map(|j| j.slug)
        .collect();
    if failed.is_empty() {
        crate::note!("{project}: nothing failed in run {}", run.id);
        return Ok(None);
    }
    Ok(Some(failed))
}

fn new_job(job: &Job, position: usize, reused_from: Option<i64>) -> NewJob {
    let (status, reason) = match &job.availability {
        Availability::Ready if reused_from.is_some() => (Some(Status::Reused), None),
        Availability::Ready => (None, None),
        Availability::Unsupported(r) => (Some(Status::Unsupported), Some(r.to_string())),
        Availability::Unavailable(r) => (Some(Status::Unavailable), Some(r.to_string())),
    };
    NewJob {
        position,
        slug: job.slug.clone(),
        cell: serde_json::to_string(&job.cell).expect("a cell serializes"),
        config_hash: job.config_hash.to_string(),
        status,
        reason,
        compiler: job.cell.text(keys::COMPILER).unwrap_or_default().to_string(),
        compiler_version: job.tools.compiler_version.clone(),
        reused_from,
    }
}

/// The grid, each failure's last lines and log, and a closing count.
fn print_summary(ctx: &Context, store: &Store, run_id: i64, pivot: Option<&(String, String)>) -> std::io::Result<()> {
    let Ok(jobs) = store.jobs(run_id) else { return Ok(()) };
    let run = store.run(&run_id.to_string()).ok();
    let grid_jobs: Vec<GridJob> = jobs.iter().map(|j| GridJob::from_json(&j.cell, &j.status, j.flaky)).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Ok((row, col)) = grid::pivot_keys(&grid_jobs, pivot.map(|(r, c)| (r.as_str(), c.as_str()))) {
        if !grid_jobs.is_empty() {
            writeln!(out, "{}", grid::table(ctx.style, &grid_jobs, &row, col.as_deref()))?;
        }
    }
    for job in jobs.iter().filter(|j| matches!(j.status.as_str(), "failed" | "timed_out" | "memory_exceeded")) {
        let steps = store.steps(job.id).unwrap_or_default();
        let last = steps.last();
        let how = match (job.exit_code, job.signal, job.status.as_str()) {
            (_, _, "timed_out") => "timed out".to_string(),
            (_, _, "memory_exceeded") => "went over its memory limit".to_string(),
            (Some(code), _, _) => format!("exit {code}"),
            (None, Some(sig), _) => format!("killed by signal {sig}"),
            _ => "failed".to_string(),
        };
        writeln!(out)?;
        match last {
            Some(step) => writeln!(out, "--- {} failed in step {}: {how}", job.slug, step.name)?,
            None => writeln!(out, "--- {} failed before its first step: {how}", job.slug)?,
        }
        let tail = crate::text::indent(job.log_tail.as_deref().unwrap_or_default().lines(), "    ");
        if !tail.is_empty() {
            out.write_all(ctx.style.job_text(&tail).as_bytes())?;
        }
        if let Some(step) = last {
            writeln!(out, "    log: {}", crate::text::one_line(&step.log_path))?;
        }
    }
    if let Some(run) = run {
        let count = |s: &str| run.counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
        let failed = count("failed") + count("timed_out") + count("memory_exceeded");
        let flaky = if run.flaky > 0 { format!(" ({} flaky)", run.flaky) } else { String::new() };
        let mut line = format!("run {}: {} passed{flaky}, {failed} failed", run.id, count("passed"));
        for (label, key) in [
            ("cancelled", "cancelled"),
            ("unsupported", "unsupported"),
            ("unavailable", "unavailable"),
            ("reused", "reused"),
        ] {
            let n = count(key);
            if n > 0 {
                line.push_str(&format!(", {n} {label}"));
            }
        }
        if let Some(ms) = run.duration_ms {
            line.push_str(&format!(" in {:.1}s", Duration::from_millis(u64::try_from(ms).unwrap_or(0)).as_secs_f64()));
        }
        writeln!(out)?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The `--report` page, rewritten (atomically) after the store commits, while the run lasts at
/// most every second or five renderings' time, whichever is longer; once more when it ends.
fn live_report(path: PathBuf, run_id: i64, pivot: Option<(String, String)>) -> AfterCommit {
    let mut next_at = Instant::now();
    let mut warned = false;
    // A pipe or device takes the page once, at the end: it cannot be rewritten.
    let streamed = matches!(outfile::resolve(&path), Ok((_, outfile::Kind::Stream)));
    Box::new(move |store: &Store, finished: bool| {
        if !finished && (streamed || Instant::now() < next_at) {
            if streamed {
                return None;
            }
            return Some(next_at - Instant::now());
        }
        let started = Instant::now();
        let written = store
            .run(&run_id.to_string())
            .and_then(|run| RunDoc::load(store, &run))
            .map_err(|e| e.to_string())
            .and_then(|doc| Html { live: true, pivot: pivot.clone() }.serialize(&doc, None).map_err(|e| e.to_string()))
            .and_then(|bytes| outfile::write_path(&path, &bytes).map_err(|e| format!("{}: {e}", path.display())));
        if let Err(e) = written {
            if !warned {
                crate::note!("cannot write the report: {e}");
                warned = true;
            }
        }
        next_at = Instant::now() + (started.elapsed() * 5).max(Duration::from_secs(1));
        None
    })
}

/// `--junit`, and under GitHub Actions the step summary and annotations.
fn finish_reports(store: &Store, run_id: i64, junit: Option<&Path>, pivot: Option<&(String, String)>) -> Result<()> {
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if junit.is_none() && !github {
        return Ok(());
    }
    let run = store.run(&run_id.to_string())?;
    let doc = RunDoc::load(store, &run)?;
    let report_error = |e: crate::report::format::ReportError| Error::Usage(format!("cannot write the report: {e}"));
    if let Some(path) = junit {
        let bytes = Junit.serialize(&doc, None).map_err(report_error)?;
        outfile::write_path(path, &bytes).map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    if github {
        super::print_out(github_annotations(&doc), "the annotations")?;
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            let markdown = Markdown { pivot: pivot.cloned() }.serialize(&doc, None).map_err(report_error)?;
            let mut file = outfile::append(std::path::Path::new(&summary))
                .map_err(Error::io("cannot open $GITHUB_STEP_SUMMARY"))?;
            file.write_all(&markdown).map_err(Error::io("cannot write $GITHUB_STEP_SUMMARY"))?;
        }
    }
    Ok(())
}

fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let bad = || Error::Usage(format!("--shard {text}: write K/N with 1 <= K <= N, e.g. 2/4"));
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Sends every event to the store writer and the display.
struct RunObserver {
    writer: StoreWriter,
    progress: Progress,
}

impl Observer for RunObserver {
    fn event(&mut self, event: &Event) {
        self.writer.send(event);
        self.progress.event(event);
    }

    fn tick(&mut self) {
        self.progress.tick();
    }

    fn wants_ticks(&self) -> bool {
        self.progress.wants_ticks()
    }
}
