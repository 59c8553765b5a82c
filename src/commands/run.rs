//! `gridrun run`: plan, hand each project's plan to the [`Runner`], and print what each came to.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Context;
use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::plan::{PlanError, SourceState};
use crate::report::grid::{self, GridJob};
use crate::runner::{self, Ran, Runner};
use crate::store::Store;

pub(super) fn run(ctx: &Context, args: &RunArgs) -> Result<ExitCode> {
    let (path, files) = ctx.load(args.selection.matrix.as_deref())?;
    let branched = !args.branch.is_empty() || files.iter().any(crate::moved::follows_branches);
    let followed = crate::moved::follow_branches(files, &args.branch);
    let (files, mut unreadable) = (followed.files, followed.unreachable);
    for line in &followed.unmatched {
        crate::note!("{line}");
    }
    let filter = args.selection.filter().map_err(PlanError::from)?;
    // What could only go wrong after an hour of building is said now.
    for (flag, target) in [("--report", &args.report), ("--junit", &args.junit)] {
        if let Some(target) = target {
            crate::outfile::resolve(target).map_err(|e| Error::Usage(format!("{flag} {}: {e}", target.display())))?;
        }
    }
    let state_dir = ctx.state_dir(&path)?;
    // The build hosts' connections carry a token of their own, so a watchdog ends them should
    // gridrun die; they last as long as the command.
    let token = crate::exec::reaper::new_token("hosts");
    let watchdog = crate::exec::reaper::Reaper::spawn(&token, std::time::Duration::from_secs(1));
    let env = vec![(crate::exec::reaper::TOKEN_VAR.to_string(), token)];
    let on_slurm = args.on.on.is_some();
    let folder = files.len() > 1 || path.is_dir();
    let (files, machines) =
        SourceState::of_each(files, &state_dir, true, |files| ctx.machines(files, &state_dir, &args.on, env));
    let mut machines = machines?;
    let mut plans = crate::plan::build_all(files, &mut machines, &filter, &state_dir, folder)?;
    if args.if_changed {
        plans = crate::moved::only_moved(plans, &state_dir, &mut unreadable)?;
    }
    for line in &unreadable {
        crate::note!("{line}");
    }
    if plans.is_empty() {
        return Ok(if !unreadable.is_empty() {
            ExitCode::from(1)
        } else if !followed.unmatched.is_empty() && !args.selection.allow_empty {
            ExitCode::from(crate::error::EMPTY)
        } else {
            ExitCode::SUCCESS
        });
    }
    if let Some(why) = crate::plan::nothing_selected(&plans).filter(|_| !args.selection.allow_empty) {
        return Err(Error::Empty(why));
    }
    if args.dry_run {
        super::print_out(crate::report::terminal::plan_tables(ctx.style, &plans, folder), "the plan")?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(pivot) = &args.pivot {
        for plan in &plans {
            let cells: Vec<GridJob> = plan.jobs.iter().map(|j| GridJob::planned(&j.cell)).collect();
            grid::pivot_keys(&cells, Some((&pivot.row, &pivot.col))).map_err(Error::Usage)?;
        }
    }
    let options = runner::Options {
        jobs: args.jobs,
        cpus: args.cpus,
        memory: args.memory,
        max_failures: if args.fail_fast { Some(1) } else { args.max_failures },
        timeout: args.timeout,
        keep_workspaces: args.keep_workspaces,
        shard: args.shard,
        rerun_failed: args.rerun_failed.clone(),
        skip_passed: args.skip_passed,
        report: args.report.clone(),
        junit: args.junit.clone(),
        pivot: args.pivot.clone(),
        color: ctx.style.color,
        picked: !args.selection.cell.is_empty() || args.shard.is_some(),
        strict: args.strict,
        retries: args.retries,
        logs_dir: None,
        artifacts_dir: None,
        after_job: None,
    };
    if on_slurm && args.report.is_some() {
        crate::note!("--report is written by `gridrun report` once a Slurm run is collected");
    }
    let mut runner = Runner::new(Store::open(&state_dir)?, options)?;
    let mut worst = 0;
    for plan in &plans {
        let project = &plan.matrix.project.name;
        if runner.stopped() {
            crate::note!("interrupted; {project} and the projects after it did not run");
            return Ok(ExitCode::from(runner::INTERRUPTED));
        }
        // Each project is a run of its own, so in a folder each gets report files of its own.
        let own = |p: &Option<PathBuf>| {
            p.as_deref().map(|p| {
                if plans.len() > 1 || branched {
                    crate::outfile::per_project(p, &crate::moved::plan_name(plan).replace('/', "-"))
                } else {
                    p.to_path_buf()
                }
            })
        };
        let ran = if on_slurm {
            let how = super::submission(plan, &args.on, args.timeout, args.jobs);
            runner.run_on_slurm(plan, &how, args.detach, own(&args.junit).as_deref())?
        } else {
            runner.run(plan, &machines, own(&args.report).as_deref(), own(&args.junit).as_deref())?
        };
        match &ran {
            Ran::Nothing(why) | Ran::Empty(why) => crate::note!("{why}"),
            Ran::Detached { run, arrays, tasks } => {
                super::print_out(format!("{run}\n"), "the run's id")?;
                crate::note!(
                    "{project}: run {run} submitted to Slurm as job {} ({tasks} task(s)); `gridrun collect {run}` folds in what has finished",
                    arrays.join(", ")
                );
            }
            Ran::Interrupted => crate::note!("interrupted before {project} started"),
            Ran::Run(result) => {
                let source = match &plan.matrix.project.source {
                    crate::config::Source::Path(dir) => Some(dir.clone()),
                    crate::config::Source::Git { .. } => None,
                };
                say_how_it_went(ctx, runner.store(), result.run, args, source)?;
                crate::notify::after_run(runner.store(), &plan.matrix, result.run);
                for (slug, why) in &result.unrunnable {
                    crate::note!("{project}: {slug} had to run but cannot here: {why}");
                }
                if result.ran_nothing && result.unrunnable.is_empty() && !args.selection.allow_empty {
                    crate::note!(
                        "{project}: the selection ran nothing: no cell of it can run here (--allow-empty accepts that)"
                    );
                }
            }
        }
        let code = ran.exit_code(args.selection.allow_empty);
        if code != 0 {
            worst = code;
            if code == runner::INTERRUPTED {
                break;
            }
        }
    }
    // The hosts' connections close; their watchdog has nothing left to do.
    drop(machines);
    watchdog.dismiss();
    if worst == 0 && !unreadable.is_empty() {
        worst = 1;
    }
    Ok(ExitCode::from(worst))
}

/// The run's summary on stdout; in a CI's log the failed logs folded; under GitHub Actions the
/// annotations too, and the Markdown report appended to the step summary.
fn say_how_it_went(ctx: &Context, store: &Store, run: i64, args: &RunArgs, source: Option<PathBuf>) -> Result<()> {
    let report = store.report(&store.run(&run.to_string())?)?;
    let summary = crate::report::terminal::run_summary(ctx.style, &report, args.pivot.as_ref());
    super::print_out(summary, "the summary")?;
    super::print_out(crate::report::folds::failed_logs(ctx.style, &report), "the failed logs")?;
    if ctx.style.github() {
        let places = crate::report::github::Places::from_env(source);
        super::print_out(crate::report::github::annotations(&report, &places), "the annotations")?;
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            crate::report::github::append_step_summary(Path::new(&path), &report, args.pivot.as_ref())?;
        }
    }
    Ok(())
}
