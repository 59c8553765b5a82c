//! One array task, on a node: `gridrun __slurm-task SPEC --offset N` runs the cells of task
//! `N + $SLURM_ARRAY_TASK_ID` with the same runner and supervisor as a local run, in a state of
//! its own (`slurm/<run>/task-<n>/`: SQLite is not shared across nodes), its logs straight into
//! the run's `runs/<run>/`, and each job's record left in `result-<slug>.json` as it ends.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::{result_file, Spec};
use crate::error::{Error, Result};
use crate::matrix::CellFilter;
use crate::plan::{Machines, PlanError};
use crate::runner::{AfterJob, Options, Ran, Runner};
use crate::store::Store;
use crate::toolchain::Host;

/// Runs the task; its exit code is the run's (the results are in its folder either way).
pub fn run(spec_path: &Path, offset: usize) -> Result<ExitCode> {
    let spec = Spec::load(spec_path).map_err(Error::io(format!("cannot read {}", spec_path.display())))?;
    let index = std::env::var("SLURM_ARRAY_TASK_ID")
        .ok()
        .and_then(|i| i.parse::<usize>().ok())
        .ok_or_else(|| Error::Usage("SLURM_ARRAY_TASK_ID is not set: this runs as a Slurm array task".into()))?
        + offset;
    let slugs = spec.tasks.get(index).ok_or_else(|| Error::Usage(format!("the submission has no task {index}")))?;
    let dir = spec.task_dir(index);
    std::fs::create_dir_all(&dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    let node = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
    let _ = std::fs::write(dir.join("started"), format!("{node}\n"));

    let file = crate::config::load_file(&spec.matrix)?;
    let filter = CellFilter::new(&[], &[], slugs).map_err(PlanError::from)?;
    // The node's own toolchains, cached per node in the shared state folder.
    let cache = spec.state_dir.join("cache").join(format!("toolchains-{node}.json"));
    let (files, host) = crate::plan::SourceState::of_each(vec![file], &dir, true, |_| Host::detect(Some(cache)));
    let mut machines = Machines::local(host);
    let plans = crate::plan::build_all(files, &mut machines, &filter, &dir, false)?;
    let cpus = std::env::var("SLURM_CPUS_PER_TASK").ok().and_then(|c| c.parse::<u32>().ok());
    let run = spec.run;
    let results = dir.clone();
    let options = Options {
        cpus,
        picked: true,
        timeout: spec.timeout_ms.map(std::time::Duration::from_millis),
        retries: spec.retries,
        keep_workspaces: spec.keep_workspaces,
        logs_dir: Some(spec.state_dir.join("runs").join(run.to_string())),
        artifacts_dir: Some(spec.state_dir.join("artifacts")),
        after_job: Some(AfterJob(Arc::new(move |record| {
            if let Ok(bytes) = serde_json::to_vec(&record.alone(run)) {
                let _ = crate::outfile::write_path(&result_file(&results, &record.slug), &bytes);
            }
        }))),
        ..Options::default()
    };
    let mut runner = Runner::new(Store::open(&dir)?, options)?;
    let mut code = 0;
    for plan in &plans {
        let ran = runner.run(plan, &machines, None, None)?;
        code = code.max(ran.exit_code(true));
        if let Ran::Nothing(why) | Ran::Empty(why) = &ran {
            crate::note!("{why}");
        }
    }
    Ok(ExitCode::from(code))
}
