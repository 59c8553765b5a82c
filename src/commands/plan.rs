//! `gridrun plan`: the jobs a matrix expands to on this host, as a table, JSON, or a GitHub
//! Actions matrix.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use super::Context;
use crate::cli::{PlanArgs, PlanFormat};
use crate::error::{Error, Result};
use crate::fanout::{Ci, FanOut};
use crate::plan::{PlanError, SourceState};
use crate::report::plan;

pub(super) fn run(ctx: &Context, args: &PlanArgs) -> Result<ExitCode> {
    let (path, files) = ctx.load(args.selection.matrix.as_deref())?;
    let filter = args.selection.filter().map_err(PlanError::from)?;
    let state_dir = ctx.state_dir(&path)?;
    let on_slurm = args.on.on.is_some();
    let folder = files.len() > 1 || path.is_dir();
    // The table shows nothing git says of a folder: git is asked where something shown depends
    // on it (config hashes, fan-outs, Slurm scripts, `[branches]` rules).
    let ask_git = args.format != PlanFormat::Table || on_slurm || files.iter().any(|f| !f.branches.is_empty());
    let (files, machines) =
        SourceState::of_each(files, &state_dir, ask_git, |files| ctx.machines(files, &state_dir, &args.on, Vec::new()));
    let mut machines = machines?;
    let plans = crate::plan::build_all(files, &mut machines, &filter, &state_dir, folder)?;
    if let Some(why) = crate::plan::nothing_selected(&plans).filter(|_| !args.selection.allow_empty) {
        return Err(crate::error::Error::Empty(why));
    }
    if on_slurm {
        let mut text = String::new();
        for plan in &plans {
            let jobs: Vec<&crate::plan::Job> = plan.ready_jobs().collect();
            let how = super::submission(plan, &args.on, None, None);
            let arrays = crate::slurm::submit::arrays(plan, &jobs, &how, None)?;
            text.push_str(&crate::slurm::submit::describe(plan, &arrays));
        }
        text.push_str(&crate::report::terminal::plan_tables(ctx.style, &plans, folder));
        super::print_out(text, "the plan")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = match args.format {
        PlanFormat::Table => out.write_all(crate::report::terminal::plan_tables(ctx.style, &plans, folder).as_bytes()),
        PlanFormat::Json => plan::json(&plans, folder, ctx.style.tty, &mut out),
        PlanFormat::Github => plan::github(&fan_out(&plans, Ci::Github)?, &mut out),
        PlanFormat::Gitlab => {
            let fan = fan_out(&plans, Ci::Gitlab)?;
            if let Some(why) = plan::gitlab_refuses(&fan) {
                return Err(Error::Usage(why));
            }
            let template =
                plans.iter().find_map(|p| p.matrix.ci.gitlab_template.as_deref()).unwrap_or(DEFAULT_GITLAB_TEMPLATE);
            plan::gitlab(&fan, template, &mut out)
        }
    };
    super::written(written.and_then(|()| out.flush()), "the plan")?;
    Ok(ExitCode::SUCCESS)
}

/// What the GitLab child pipeline includes where `[ci] gitlab_template` does not say.
const DEFAULT_GITLAB_TEMPLATE: &str = ".gitlab/gridrun.yml";

/// The fan-out for `ci`, saying on stderr what it left out or packed.
fn fan_out(plans: &[crate::plan::Plan], ci: Ci) -> Result<FanOut> {
    let fan = crate::fanout::plan(plans, ci).map_err(|e| Error::Usage(e.to_string()))?;
    for note in fan.notes(ci) {
        crate::note!("{note}");
    }
    Ok(fan)
}
